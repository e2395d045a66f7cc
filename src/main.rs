//! Thin binary over the library: parse the command line, set up logs, run.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs on stderr: one line per HTTP request by default (request id, method, path, status, time),
    // warnings otherwise; `CARE_LEDGER_LOG` overrides the filter, `CARE_LEDGER_LOG_FORMAT=json` writes
    // one JSON object per line for a log collector.
    // A benchmark prints its figures; the in-process server it measures logs only warnings unless
    // `CARE_LEDGER_LOG` asks for the request lines (e.g. `care_ledger::http=info` to measure with them).
    use std::io::IsTerminal;
    let cli = care_ledger::cli::Cli::parse();
    let default_filter = match cli.command {
        care_ledger::cli::Command::Bench { .. } => "warn,sqlx=error",
        _ => "warn,sqlx=error,care_ledger::http=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CARE_LEDGER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("CARE_LEDGER_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
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
