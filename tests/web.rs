//! wasm-bindgen-test suite: runs the wasm build in headless Chromium.
#![cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn core_runs_in_the_browser() {
    // The pure core gives the same answers compiled to wasm.
    assert!(crmsync::core::status::product_line().starts_with("crmsync "));
    let sf = br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
    assert_eq!(crmsync::crm::http::error_code(sf).as_deref(), Some("INVALID_SESSION_ID"));
}

#[wasm_bindgen_test]
fn phone_parsing_and_folding_run_in_the_browser() {
    use crmsync::core::phone::{match_key, parse_crm_phone, parse_wa_id};
    // libphonenumber's metadata works in wasm: national, IDD and full-width forms.
    assert_eq!(parse_crm_phone("(11) 98765-4321", "BR").as_deref(), Ok(&["+5511987654321".to_string()][..]));
    assert_eq!(parse_crm_phone("011 44 20 7946 0958", "US").as_deref(), Ok(&["+442079460958".to_string()][..]));
    assert_eq!(parse_crm_phone("０２０ ７９４６ ０９５８", "GB").as_deref(), Ok(&["+442079460958".to_string()][..]));
    assert!(parse_crm_phone("020 7946 0958", "US").is_err());
    let wa = parse_wa_id("551187654321@c.us");
    assert_eq!(wa.phone().map(match_key).as_deref(), Some("+5511987654321"));
}
