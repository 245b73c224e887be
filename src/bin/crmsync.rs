//! Native command-line harness over the pure core. Never links web-only code.
use std::process::ExitCode;

fn usage() -> &'static str {
    "usage: crmsync <command>\n\ncommands:\n  version    print the version\n"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("version") => {
            println!("{}", crmsync::core::status::product_line());
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
    }
}
