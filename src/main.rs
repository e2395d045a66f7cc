//! Thin binary over the library: parse the command line, set up logs, run.

use clap::Parser;
use std::process::ExitCode;

/// `care-ledger statement show … | head`: once the reader has gone, the next print to stdout fails
/// with a broken pipe, and `println!` panics on it (exit 101 with a panic message). Whatever printed
/// it, that is not an error of ours: the output is no longer wanted, so exit quietly (status 0, as
/// `head` expects of a well-behaved producer). Any other panic keeps the default report.
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout")
            && (message.contains("Broken pipe") || message.contains("os error 32"))
        {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Files the service creates (the SQLite ledger and its -wal/-shm, backups, exported workbooks,
/// reports, checkpoints) hold salaries or token hashes: readable by their owner only, whatever the
/// shell's umask.
fn owner_only_files() {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        rustix::process::umask(Mode::from_raw_mode(0o077));
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    exit_quietly_on_broken_pipe();
    owner_only_files();
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
