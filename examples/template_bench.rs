//! Runs the template bench: `cargo run --release --example template_bench -- [statements] [lines]`.
//! (The CLI will expose the same as `care-ledger bench template`.)
fn main() {
    let mut args = std::env::args().skip(1);
    let statements = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000);
    let lines = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let figures = care_ledger::template::bench::run_bench(statements, lines).expect("bench");
    println!("{}", serde_json::to_string_pretty(&figures).expect("json"));
    match figures.speedup {
        Some(s) => println!(
            "Rust {:.1} workbooks/s, Python XlsxWriter {:.1} workbooks/s: {s:.1}x (target {}x)",
            figures.rust_workbooks_per_s,
            figures.python_workbooks_per_s.unwrap_or_default(),
            care_ledger::template::bench::TARGET_SPEEDUP
        ),
        None => println!("Python side not run: {}", figures.python_note),
    }
}
