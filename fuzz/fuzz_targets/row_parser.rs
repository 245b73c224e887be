#![no_main]
// Any serialized HTML (as rows arrive from WhatsApp's DOM or the strict-CSP relay): the
// scraper returns messages or counted skips, never a panic.
use crmsync::capture::{self, Counters, ScanContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let mut ctx = ScanContext { chat: "c".into(), locale: "en-GB".into(), ..Default::default() };
    let mut counters = Counters::default();
    let ms = capture::scan(data, &mut ctx, &mut counters);
    assert!(ms.len() as u64 <= counters.rows_seen);
    let _ = capture::parse_header(data);
});
