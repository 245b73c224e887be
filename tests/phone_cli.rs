//! The `crmsync phone` harness, run as the built binary: the match table covering every
//! WhatsApp quirk (and the near misses that must not match), and `phone e164`.
use std::io::Write;
use std::process::{Command, Stdio};

fn run(sub: &str, input: &str) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmsync"))
        .args(["phone", sub])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn crmsync");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("crmsync output");
    assert!(out.status.success(), "crmsync phone {sub} exited with {:?}", out.status);
    String::from_utf8(out.stdout).expect("utf-8 output").lines().map(str::to_string).collect()
}

/// (crm value, default region, WhatsApp id, must match)
const MATCH_TABLE: &[(&str, &str, &str, bool)] = &[
    // Exact, every spelling.
    ("+55 11 98765-4321", "BR", "5511987654321@c.us", true),
    ("(11) 98765-4321", "BR", "5511987654321@s.whatsapp.net", true),
    ("+1 (202) 555-0173 ext. 12", "US", "12025550173:4@s.whatsapp.net", true),
    ("202.555.0173 x7", "US", "12025550173_1:3@s.whatsapp.net", true),
    ("202 555 0173 ramal 9", "US", "12025550173@hosted", true),
    ("202 555 0173 / 202 555 0199", "US", "12025550199@c.us", true),
    ("202 555 0173; 202 555 0199", "US", "12025550173@c.us", true),
    ("＋１ ２０２ ５５５ ０１７３", "ZZ", "12025550173@c.us", true),
    ("0044 20 7946 0958", "DE", "442079460958@c.us", true),
    ("011 44 20 7946 0958", "US", "442079460958@c.us", true),
    ("+44 (0)20 7946 0958", "US", "442079460958@c.us", true),
    ("44 20 7946 0958", "US", "442079460958@c.us", true),
    ("06 1234 5678", "IT", "390612345678@c.us", true),
    ("1-800-FLOWERS", "US", "18003569377@c.us", true),
    // Brazil: 9th mobile digit, both directions, any area code.
    ("(11) 98765-4321", "BR", "551187654321@c.us", true),
    ("(11) 8765-4321", "BR", "5511987654321@c.us", true),
    ("+55 21 98765-4321", "ZZ", "552187654321@c.us", true),
    ("+55 (84) 9 9876-5432", "ZZ", "558498765432@c.us", true),
    // Mexico: 521/52 and the old 044/045/01 prefixes.
    ("+52 55 1234 5678", "ZZ", "5215512345678@c.us", true),
    ("+52 1 55 1234 5678", "ZZ", "525512345678@c.us", true),
    ("044 55 1234 5678", "MX", "5215512345678@c.us", true),
    ("045 33 1234 5678", "MX", "523312345678@c.us", true),
    ("01 55 1234 5678", "MX", "525512345678@c.us", true),
    // Argentina: 549/54 and the domestic 15.
    ("+54 11 2345-6789", "ZZ", "5491123456789@c.us", true),
    ("+54 9 11 2345 6789", "ZZ", "541123456789@c.us", true),
    ("011 15 2345-6789", "AR", "5491123456789@c.us", true),
    ("011 15 2345-6789", "AR", "541123456789@c.us", true),
    ("(0351) 15 512-3456", "AR", "5493515123456@c.us", true),
    ("(0351) 15 512-3456", "AR", "543515123456@c.us", true),
    // Russia/Kazakhstan trunk 8.
    ("8 (912) 345-67-89", "RU", "79123456789@c.us", true),
    ("8 (912) 345-67-89", "US", "79123456789@c.us", true),
    ("8 701 234 56 78", "US", "77012345678@c.us", true),
    // Near misses: never another valid number.
    ("020 7946 0958", "US", "442079460958@c.us", false),
    ("06 1234 5678", "IT", "39612345678@c.us", false),
    ("+39 06 1234 5678", "ZZ", "3961234567@c.us", false),
    ("+55 11 3456-7890", "ZZ", "5511934567890@c.us", false),
    ("+55 11 93456-7890", "ZZ", "551134567890@c.us", false),
    ("+55 11 98765-4321", "ZZ", "5511987654322@c.us", false),
    ("(11) 98765-4321", "BR", "5521987654321@c.us", false),
    ("+52 55 1234 5678", "ZZ", "5215512345679@c.us", false),
    ("+52 55 1234 5678", "ZZ", "5415512345678@c.us", false),
    ("+54 9 11 2345 6789", "ZZ", "5491123456780@c.us", false),
    ("+7 912 345 67 89", "ZZ", "89123456789@c.us", false),
    ("8 912 345 67 89", "DE", "79123456789@c.us", false),
    ("+886 2 2123 4567", "ZZ", "788622123456@c.us", false),
    ("+1 312 555 0173", "ZZ", "12025550173@c.us", false),
    ("+33 6 12 34 56 78", "ZZ", "3361234567@c.us", false),
    // Not phone numbers, or nothing to match.
    ("+1 202 555 0173", "ZZ", "12025550173@lid", false),
    ("+1 202 555 0173", "ZZ", "120363040000000000@g.us", false),
    ("+1 202 555 0173", "ZZ", "status@broadcast", false),
    ("", "US", "12025550173@c.us", false),
    ("n/a", "US", "12025550173@c.us", false),
    ("202 555 0173", "XX", "12025550173@c.us", false),
    ("202 555 0173", "ZZ", "12025550173@c.us", false),
];

#[test]
fn match_table_through_the_cli() {
    let input: String = MATCH_TABLE.iter().map(|(v, r, w, _)| format!("{v}\t{r}\t{w}\n")).collect();
    let out = run("match", &input);
    assert_eq!(out.len(), MATCH_TABLE.len());
    let mut wrong = Vec::new();
    for ((v, r, w, want), line) in MATCH_TABLE.iter().zip(&out) {
        let verdict = line.split('\t').next().unwrap_or("");
        assert!(verdict == "yes" || verdict == "no", "bad output line {line:?}");
        if (verdict == "yes") != *want {
            wrong.push(format!("{v:?} {r} {w}: want {want}, got {line:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn bad_match_lines_answer_no_with_a_reason() {
    let out = run("match", "just one column\n\t\t\na\tb\tc\td\n");
    assert_eq!(out.len(), 3);
    for line in out {
        let (verdict, why) = line.split_once('\t').expect("reason after tab");
        assert_eq!(verdict, "no");
        assert!(!why.is_empty());
    }
}

#[test]
fn e164_lines() {
    let input = "(202) 555-0173\tUS\n+44 20 7946 0958\tZZ\n020 7946 0958\tUS\n020 7946 0958\tZZ\nno tab here\n\tUS\n12\tUS\n\u{FF10}\u{FF12}\u{FF10} \u{FF17}\u{FF19}\u{FF14}\u{FF16} \u{FF10}\u{FF19}\u{FF15}\u{FF18}\tgb\n";
    let out = run("e164", input);
    assert_eq!(out[0], "+12025550173");
    assert_eq!(out[1], "+442079460958");
    assert!(out[2].starts_with("invalid\t"), "{}", out[2]);
    assert!(out[3].starts_with("invalid\t"), "{}", out[3]);
    assert!(out[4].starts_with("invalid\t"), "{}", out[4]);
    assert!(out[5].starts_with("invalid\t"), "{}", out[5]);
    assert!(out[6].starts_with("invalid\t"), "{}", out[6]);
    assert_eq!(out[7], "+442079460958");
    assert_eq!(out.len(), 8);
}
