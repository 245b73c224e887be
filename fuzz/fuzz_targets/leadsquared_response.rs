#![no_main]
// Any answer from LeadSquared (errors may come with HTTP 200): parsed or a Failure.
use crmsync::crm::leadsquared::{self, LeadSquared};
use crmsync::crm::Connector;
use libfuzzer_sys::fuzz_target;

mod resp;

fuzz_target!(|data: &[u8]| {
    let r = resp::response(data);
    let lsq = LeadSquared {
        access_key: "u$k".into(),
        secret_key: "s".into(),
        api_host: "api-in21.leadsquared.com".into(),
        app_host: "in21.leadsquared.com".into(),
        activity_event: Some(201),
    };
    let _ = leadsquared::classify(&r);
    let _ = leadsquared::parse_discovery(&r);
    let _ = LeadSquared::parse_id(&r);
    let _ = LeadSquared::parse_bulk(&r);
    let _ = LeadSquared::find_activity(&r, "wa-20261121-0123456789abcdef#0|activity");
    let _ = LeadSquared::parse_opportunities(&r);
    let _ = LeadSquared::parse_activity_types(&r);
    let _ = lsq.parse_search(&r);
    let _ = lsq.parse_create(&r);
});
