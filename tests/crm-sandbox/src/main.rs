//! `crm-sandbox --listen 127.0.0.1:PORT --data DIR [--seed demo] [--www DIR]`
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match crm_sandbox::Options::from_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("crm-sandbox: {e}\n{}", crm_sandbox::USAGE);
            return ExitCode::from(2);
        }
    };
    match crm_sandbox::run(opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crm-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}
