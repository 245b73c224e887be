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
    // The first scan's parts: each moves on, and the last ends at the end of the input.
    let (mut from, min_bytes) = (0, data.len() % 97);
    while from < data.len() {
        let (_, next) = capture::html::parse_part(data, from, min_bytes);
        assert!(next > from && next <= data.len());
        from = next;
    }
});
