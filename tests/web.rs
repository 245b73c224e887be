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
