#![no_main]
// Runtime messages reach the worker from content scripts beside an untrusted page:
// parsing and authorizing any JSON must never panic.
use crmsync::core::protocol::{authorize, Request, Sender};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<Request>(data) {
        for s in [Sender::WhatsAppTab, Sender::ExtensionPage, Sender::Foreign] {
            let _ = authorize(&req, &s);
        }
    }
});
