#![no_main]
// Any answer from Zoho CRM or Zoho Accounts: every parser returns a value or a Failure,
// never a panic (no unwrap on CRM data, no overflow on huge numbers).
use crmsync::crm::auth::ZohoDc;
use crmsync::crm::http::HttpRequest;
use crmsync::crm::zoho::{self, Zoho};
use crmsync::crm::{Connector, CreateKind};
use libfuzzer_sys::fuzz_target;

mod resp;

fuzz_target!(|data: &[u8]| {
    let r = resp::response(data);
    let z = Zoho {
        dc: ZohoDc::Us,
        api_domain: "https://www.zohoapis.com".into(),
        access_token: "t".into(),
        org_domain: None,
        lead_sources: Default::default(),
    };
    let _ = zoho::classify(&r);
    let _ = zoho::budget(&r);
    let _ = zoho::parse_token(&r, 1_795_000_000_000);
    let _ = zoho::parse_write_results(&r);
    let _ = Zoho::parse_org(&r);
    let _ = Zoho::parse_deals(&r);
    let _ = Zoho::find_note(&r, "[wa-20261121-0123456789abcdef#0]");
    let _ = Zoho::parse_attachment(&r);
    let _ = z.parse_search(&r);
    let _ = z.parse_create(&r);
    let req: HttpRequest =
        z.search_page(crmsync::core::model::RecordKind::Contact, "+5511987654321", 1);
    let _ = z.next_search_page(&req, &r);
    let _ =
        z.create_request(CreateKind::Lead, &crmsync::crm::NewRecord::new("Ana", "+5511987654321"));
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body) {
        let _ = zoho::item_result(&v);
    }
});
