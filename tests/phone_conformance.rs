//! Conformance with libphonenumber on its own example numbers for every region, rendered the
//! ways people type them (tests/data/phone/cases.tsv, made by tests/data/phone/generate.py).
use crmsync::core::phone::parse_first;

#[test]
fn agrees_with_libphonenumber_on_every_generated_case() {
    let corpus = include_str!("data/phone/cases.tsv");
    let mut total = 0usize;
    let mut disagreements = Vec::new();
    for line in corpus.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "malformed corpus line {line:?}");
        let (raw, region, expected, kind) = (cols[0], cols[1], cols[2], cols[3]);
        total += 1;
        let got = parse_first(raw, region).unwrap_or_else(|_| "invalid".to_string());
        if got != expected {
            disagreements.push(format!("{kind}: {raw:?} {region}: expected {expected}, got {got}"));
        }
    }
    assert!(total > 20_000, "corpus too small: {total}");
    let agree = total - disagreements.len();
    println!("phone conformance: {agree}/{total} agree ({:.3}%)", 100.0 * agree as f64 / total as f64);
    assert!(disagreements.is_empty(), "{} disagreements, first 40:\n{}", disagreements.len(), disagreements[..disagreements.len().min(40)].join("\n"));
}
