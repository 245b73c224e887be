#![no_main]
// Any CRM error body, however malformed, yields a code or None: never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = crmsync::crm::http::error_code(data);
});
