#![no_main]
// Any CRM phone field and WhatsApp id: parsing, folding and matching never panic, and a
// number always matches itself.
use crmsync::core::phone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let (raw, wa) = data.split_once('\t').unwrap_or((data, "5511987654321@c.us"));
    for region in ["BR", "US", "MX", "AR", "ZZ"] {
        if let Ok(numbers) = phone::parse_crm_phone(raw, region) {
            for n in &numbers {
                assert!(n.starts_with('+'));
                assert_eq!(phone::same_line(n, n), Some(true));
                let _ = phone::search_variants(n);
            }
        }
    }
    if let phone::WaId::Phone(p) = phone::parse_wa_id(wa) {
        let _ = phone::match_keys(&p);
    }
});
