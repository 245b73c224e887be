#![no_main]
// Any answer from the Salesforce REST API or its OAuth endpoints: parsed or a Failure.
use crmsync::crm::salesforce::{self, Salesforce};
use crmsync::crm::Connector;
use libfuzzer_sys::fuzz_target;

mod resp;

fuzz_target!(|data: &[u8]| {
    let r = resp::response(data);
    let sf = Salesforce {
        instance_url: "https://crmsync-dev.my.salesforce.com".into(),
        access_token: "t".into(),
        multi_currency: false,
    };
    let _ = salesforce::classify(&r);
    let _ = salesforce::budget(&r);
    let _ = salesforce::parse_token(&r, 1_795_000_000_000);
    let _ = Salesforce::parse_collection(&r);
    let _ = Salesforce::parse_single(&r);
    let _ = sf.parse_search(&r);
    let _ = sf.parse_create(&r);
});
