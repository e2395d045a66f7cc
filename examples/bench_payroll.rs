//! Payroll import benchmark: `cargo run --release --example bench_payroll [employees] [rubriques]`.
//! Run `scripts/bench-venv.sh` first for the openpyxl comparison.

use care_ledger::payroll::bench::{run_bench, BenchParams};
use std::path::Path;

fn main() {
    let mut params = BenchParams::standard(Path::new(env!("CARGO_MANIFEST_DIR")));
    let mut args = std::env::args().skip(1);
    if let Some(n) = args.next().and_then(|a| a.parse().ok()) {
        params.employees = n;
    }
    if let Some(n) = args.next().and_then(|a| a.parse().ok()) {
        params.rubriques = n;
    }
    match run_bench(&params) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
