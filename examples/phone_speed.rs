//! Native parsing speed over the conformance corpus: `cargo run --release --example phone_speed`.
use crmsync::core::phone::{fold, parse_one};
use std::time::Instant;

fn main() {
    let corpus = include_str!("../tests/data/phone/corpus.tsv");
    let rows: Vec<(&str, &str)> = corpus
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut c = l.split('\t');
            Some((c.next()?, c.next()?))
        })
        .collect();
    // The first call builds libphonenumber's tables.
    let t0 = Instant::now();
    let _ = parse_one("+1 202 555 0173", "US");
    println!("first call: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    let rounds = 3;
    let t = Instant::now();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for (raw, region) in &rows {
            if let Ok(e) = parse_one(raw, region) {
                ok += fold(&e).len().min(1);
            }
        }
    }
    let n = rows.len() * rounds;
    let secs = t.elapsed().as_secs_f64();
    println!("{n} parses ({ok} numbers) in {secs:.2} s: {:.0} numbers/s", n as f64 / secs);
}
