//! Thin binary over the library: parse the command line, set up logs, run.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CARE_LEDGER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = care_ledger::cli::Cli::parse();
    match care_ledger::cli::run(cli).await {
        Ok(code) => code,
        Err(err) => {
            // The whole cause chain, without repeating a cause its parent already quotes.
            let mut message = err.to_string();
            for cause in err.chain().skip(1) {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(" : ");
                    message.push_str(&text);
                }
            }
            eprintln!("erreur : {message}");
            ExitCode::FAILURE
        }
    }
}
