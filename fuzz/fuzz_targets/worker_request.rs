#![no_main]
// Runtime messages reach the worker from content scripts beside an untrusted page:
// parsing, capping and authorizing any JSON must never panic.
use crmsync::core::model::WaIdentity;
use crmsync::protocol::{authorize, Request, Sender, TabRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<Request>(data) {
        let _ = crmsync::protocol::limits::check(&req);
        let mut tab = TabRecord::register("fuzz-nonce-0123456789");
        tab.open(WaIdentity {
            phone: Some("+5511987654321".into()),
            lid: None,
            name: "Ana".into(),
            is_group: false,
        });
        let _ = tab.claim(4, "fuzz-nonce-0123456789");
        let senders = [
            Sender::WhatsAppTab { tab: 1, frame: 0 },
            Sender::PanelFrame { tab: 1, frame: 4 },
            Sender::PanelFrame { tab: 1, frame: 5 },
            Sender::ExtensionPage,
            Sender::Foreign,
        ];
        for s in senders {
            let _ = authorize(&req, &s, Some(&tab));
            let _ = authorize(&req, &s, None);
        }
    }
});
