//! `cargo bench` entry point: runs the same benchmarks as `care-ledger bench …` (each prints its figures
//! and its target). `cargo bench` runs all four; `cargo bench -- store` (or `payroll`, `template`, `http`)
//! runs the ones named. Under `cargo test --all-targets` this target is built and only prints how to run it,
//! so the test suite never spends minutes measuring.

use clap::Parser;
use std::process::ExitCode;

const ALL: [&str; 4] = ["store", "payroll", "template", "http"];

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("benchmarks run with `cargo bench [-- store|payroll|template|http]`");
        return ExitCode::SUCCESS;
    }
    let named: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(unknown) = named.iter().find(|n| !ALL.contains(n)) {
        eprintln!(
            "unknown benchmark {unknown:?}: expected one of {}",
            ALL.join(", ")
        );
        return ExitCode::FAILURE;
    }
    // Relative paths (fixtures, the Python virtual environments under target/) from the package root.
    if let Err(err) = std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")) {
        eprintln!("cannot enter the package directory: {err}");
        return ExitCode::FAILURE;
    }
    let mut code = ExitCode::SUCCESS;
    for what in ALL.iter().filter(|w| named.is_empty() || named.contains(w)) {
        println!("== bench {what}");
        let cli = care_ledger::cli::Cli::parse_from(["care-ledger", "bench", what]);
        match care_ledger::cli::run(cli).await {
            Ok(_) => {}
            Err(err) => {
                eprintln!("bench {what}: {err:#}");
                code = ExitCode::FAILURE;
            }
        }
    }
    code
}
