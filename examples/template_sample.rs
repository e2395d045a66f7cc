//! Writes the sample statement's workbook: `cargo run --example template_sample -- out.xlsx`.
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "template_sample.xlsx".to_string());
    let model = care_ledger::template::TemplateModel::sample();
    let bytes = care_ledger::template::export_workbook(&model).expect("export");
    std::fs::write(&path, bytes).expect("write");
    println!("{path}");
}
