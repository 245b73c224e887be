//! Where does a full scan of ~2,000 rows spend its time? natively.
//! `cargo run --release --example scan_profile [long]`: `long` uses the benchmark's
//! long-chat rows (www/wa.js), the default repeats every kind of the saved-contact fixture.
use crmsync::capture::{self, html, Counters, ScanContext};
use std::time::Instant;

/// The fake WhatsApp Web's long-chat row (www/wa.js `rowHtml`), day-first 24-hour stamps.
fn long_row(i: usize) -> String {
    let (h, m) = (8 + i / 60 % 16, i % 60);
    let (out, who) =
        if i.is_multiple_of(3) { ("message-out", "You") } else { ("message-in", "Long chat") };
    format!(
        r#"<div role="row"><div data-id="3EB0L{i:015}" data-virtualized="false" class="_amjv"><div class="{out} focusable-list-item"><div class="copyable-text" data-pre-plain-text="[{h:02}:{m:02}, 18/11/2026] {who}: "><div><span dir="ltr" class="selectable-text copyable-text" data-testid="selectable-text"><span>Message number {i} about the order #{}</span></span></div></div><div data-testid="msg-meta"><span>{h:02}:{m:02}</span></div></div></div></div>"#,
        1000 + i
    )
}

fn main() {
    let mut big = String::new();
    if std::env::args().nth(1).as_deref() == Some("long") {
        for i in 0..2000 {
            big.push_str(&long_row(i));
        }
    } else {
        // Date tokens filled in (see www/wa.js); the profile needs parseable rows, not a real day.
        let rows = include_str!("../www/fixtures/ana.html").replace("{{dmy:-1}}", "20/11/2026");
        for i in 0..143 {
            big.push_str(&rows.replace("3EB0A1B2C3D4E5F607", &format!("X{i:04}")));
        }
    }
    println!("{} bytes", big.len());
    for _ in 0..5 {
        let t = Instant::now();
        let doc = html::parse(&big);
        let parse = t.elapsed();
        let t = Instant::now();
        let mut ctx =
            ScanContext { chat: "c".into(), locale: "pt-BR".into(), ..Default::default() };
        let mut c = Counters::default();
        let mut n = 0;
        for e in doc.top() {
            if capture::parse_row(e, &mut ctx, &mut c).is_some() {
                n += 1;
            }
        }
        let rows_t = t.elapsed();
        let t = Instant::now();
        let all = capture::scan(
            &big,
            &mut ScanContext { chat: "c".into(), locale: "pt-BR".into(), ..Default::default() },
            &mut c,
        );
        println!(
            "tree {parse:?}  rows {rows_t:?}  messages {n}  scan {:?} ({})",
            t.elapsed(),
            all.len()
        );
    }
}
