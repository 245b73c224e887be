//! Native command-line harness over the pure core. Never links web-only code.
use std::process::ExitCode;

fn usage() -> &'static str {
    "usage: crmsync <command>\n\ncommands:\n  version    print the version\n  phone e164   stdin `raw<TAB>region` lines -> E.164 or `invalid<TAB>reason`\n  phone match  stdin `crm_value<TAB>region<TAB>whatsapp_id` lines -> `yes`/`no<TAB>why`\n"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("version") => {
            println!("{}", crmsync::core::status::product_line());
            ExitCode::SUCCESS
        }
        Some("phone") => phone_command(args.get(1).map(String::as_str)),
        _ => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
    }
}

/// `crmsync phone e164|match`: one output line per stdin line; bad lines answer, never abort.
fn phone_command(sub: Option<&str>) -> ExitCode {
    use std::io::{BufRead, Write};
    let per_line: fn(&str) -> String = match sub {
        Some("e164") => crmsync::core::phone::e164_line,
        Some("match") => crmsync::core::matching::match_line,
        _ => {
            eprint!("{}", usage());
            return ExitCode::from(2);
        }
    };
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().split(b'\n') {
        let Ok(bytes) = line else { return ExitCode::FAILURE };
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        if writeln!(out, "{}", per_line(text)).is_err() {
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
