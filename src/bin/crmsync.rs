//! Native command-line harness over the pure core. Never links web-only code.
//! Every subcommand reads stdin line by line and answers one line per input line; a bad
//! line gets an error answer, never a crash, so tools can stream through it.
use crmsync::core::phone::{self, WaId};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: crmsync <command>

commands:
  version                      print the version
  phone e164                   stdin: raw<TAB>region (ZZ = none); stdout: E.164 or `invalid<TAB>reason`
  phone match                  stdin: crm_value<TAB>default_region<TAB>whatsapp_id; stdout: yes|no<TAB>why
  timestamp --locale xx-YY     stdin: data-pre-plain-text values; stdout: {\"time\",\"sender\"} or {\"error\"} JSON
";

/// Apply `f` to every stdin line, writing its answer line to stdout.
fn each_line(mut f: impl FnMut(&str) -> String) -> ExitCode {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            eprintln!("crmsync: stdin is not UTF-8 text");
            return ExitCode::FAILURE;
        };
        if writeln!(out, "{}", f(line.trim_end_matches('\r'))).is_err() {
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn phone_e164(line: &str) -> String {
    let (raw, region) = line.split_once('\t').unwrap_or((line, "ZZ"));
    match phone::parse_one(raw, region) {
        Ok(e) => e,
        Err(e) => format!("invalid\t{e}"),
    }
}

fn phone_match(line: &str) -> String {
    let mut cols = line.split('\t');
    let (Some(crm), Some(region), Some(wa)) = (cols.next(), cols.next(), cols.next()) else {
        return "no\texpected crm_value<TAB>default_region<TAB>whatsapp_id".into();
    };
    let wa_phone = match phone::parse_wa_id(wa) {
        WaId::Phone(p) => p,
        WaId::Lid(_) => return "no\t@lid ids are not phone numbers".into(),
        WaId::Group(_) => return "no\t@g.us ids are groups".into(),
        WaId::Invalid(why) => return format!("no\tWhatsApp id: {why}"),
    };
    let numbers = match phone::parse_crm_phone(crm, region) {
        Ok(n) => n,
        Err(e) => return format!("no\tCRM value: {e}"),
    };
    for n in &numbers {
        match phone::same_line(&wa_phone, n) {
            Some(true) => return format!("yes\texact {n}"),
            Some(false) => return format!("yes\tfolded {n} ~ {wa_phone} ({})", phone::fold(n)),
            None => {}
        }
    }
    format!("no\t{} vs {wa_phone}", numbers.join(","))
}

fn timestamp(line: &str, locale: &str) -> String {
    let v = match crmsync::core::timestamp::parse_pre_plain(line, locale) {
        Ok(p) => serde_json::json!({"time": p.time.iso(), "sender": p.sender}),
        Err(e) => serde_json::json!({"error": e}),
    };
    v.to_string()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["version"] => {
            println!("{}", crmsync::core::status::product_line());
            ExitCode::SUCCESS
        }
        ["phone", "e164"] => each_line(phone_e164),
        ["phone", "match"] => each_line(phone_match),
        ["timestamp", "--locale", locale] => {
            let locale = locale.to_string();
            each_line(|l| timestamp(l, &locale))
        }
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
