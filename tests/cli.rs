//! The native harness's stable line interfaces, run as a real process.
use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], input: &str) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmsync"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("crmsync binary runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("crmsync exits");
    assert!(out.status.success(), "exit {:?}", out.status);
    String::from_utf8(out.stdout).expect("utf-8").lines().map(str::to_string).collect()
}

#[test]
fn phone_e164_answers_every_line() {
    let out = run(
        &["phone", "e164"],
        "(11) 98765-4321\tBR\n020 7946 0958\tZZ\n\tBR\nno tab here\n+1 (415) 555-2671\tZZ\n",
    );
    assert_eq!(out.len(), 5);
    assert_eq!(out[0], "+5511987654321");
    assert!(out[1].starts_with("invalid\t"), "{}", out[1]);
    assert!(out[2].starts_with("invalid\t"));
    assert!(out[3].starts_with("invalid\t"));
    assert_eq!(out[4], "+14155552671");
}

#[test]
fn phone_match_table() {
    // (crm value, region, WhatsApp id, should match)
    let table = [
        ("(11) 98765-4321", "BR", "5511987654321@c.us", true),
        ("(11) 98765-4321", "BR", "551187654321@c.us", true), // WhatsApp id without the 9th digit
        ("+55 11 8765-4321", "US", "5511987654321@s.whatsapp.net", true),
        ("(21) 98765-4321", "BR", "552187654321:4@s.whatsapp.net", true),
        ("(11) 3456-7890", "BR", "5511934567890@c.us", false), // landline gains no 9
        ("55 1234 5678", "MX", "5215512345678@c.us", true),
        ("+52 1 55 1234 5678", "ZZ", "525512345678@c.us", true),
        ("044 55 1234 5678", "MX", "5215512345678@c.us", true),
        ("+54 9 11 2345-6789", "ZZ", "541123456789@c.us", true),
        ("011 15 2345-6789", "AR", "5491123456789@c.us", true),
        ("8 (912) 345-67-89", "RU", "79123456789@c.us", true),
        ("+1 (415) 555-2671", "US", "14155552671@c.us", true),
        ("(415) 555-2671 ext. 7", "US", "14155552671_2@s.whatsapp.net", true),
        ("+91-9876543210", "IN", "919876543210@c.us", true),
        ("9876543210 / 080 2222 3333", "IN", "918022223333@c.us", true),
        // Near misses.
        ("(11) 98765-4322", "BR", "5511987654321@c.us", false),
        ("(11) 98765-4321", "BR", "5521987654321@c.us", false),
        ("020 7946 0958", "US", "442079460958@c.us", false), // wrong default region: no guess
        ("020 7946 0958", "GB", "442079460958@c.us", true),
        ("333 123 4567", "IT", "39333123456@c.us", false),
        ("+1 415 555 2671", "US", "196271432331425@lid", false),
        ("+1 415 555 2671", "US", "120363025246125486@g.us", false),
        ("n/a", "US", "14155552671@c.us", false),
    ];
    let input: String = table.iter().map(|(c, r, w, _)| format!("{c}\t{r}\t{w}\n")).collect();
    let out = run(&["phone", "match"], &input);
    assert_eq!(out.len(), table.len());
    for ((c, r, w, want), got) in table.iter().zip(&out) {
        let yes = got.starts_with("yes");
        assert!(got.starts_with("yes") || got.starts_with("no"), "{got}");
        assert_eq!(yes, *want, "{c} ({r}) vs {w}: {got}");
    }
}

#[test]
fn unknown_command_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_crmsync")).arg("nope").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn timestamp_lines_become_json() {
    let input = "[10:54 PM, 12/9/2025] NAME: \n[10:00, 31/02/2026] Bad: \n[20:15, 20.11.2026] Jörg \"J\": \n";
    let out = run(&["timestamp", "--locale", "en-US"], input);
    assert_eq!(out[0], r#"{"sender":"NAME","time":"2025-12-09T22:54"}"#);
    assert!(out[1].starts_with(r#"{"error":"#), "{}", out[1]);
    assert_eq!(out[2], r#"{"sender":"Jörg \"J\"","time":"2026-11-20T20:15"}"#);
    let pt = run(&["timestamp", "--locale", "pt-BR"], "[09:00, 3/4/2026] A: \n");
    assert_eq!(pt[0], r#"{"sender":"A","time":"2026-04-03T09:00"}"#);
}
