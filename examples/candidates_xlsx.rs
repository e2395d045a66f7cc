//! Writes `fixtures/candidates.xlsx` from `fixtures/candidates.csv`: the same base as a workbook, with
//! ceilings and shares as number cells and phase starts as date cells, so the XLSX reader meets the cell
//! types a user's spreadsheet has. Run: `cargo run --example candidates_xlsx`.

use chrono::NaiveDate;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

fn main() -> Result<(), XlsxError> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let csv = std::fs::read_to_string(format!("{dir}/fixtures/candidates.csv"))?;
    let mut workbook = Workbook::new();
    // A pinned creation date keeps the committed file byte-stable across runs.
    let created = ExcelDateTime::from_ymd(2026, 1, 30)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("care-ledger"),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name("Candidats")?;
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let money_format = Format::new().set_num_format("#,##0.00");
    let lines = csv.lines().filter(|l| !l.starts_with('#'));
    for (r, line) in lines.enumerate() {
        let row = r as u32;
        for (c, value) in line.split(';').enumerate() {
            let col = c as u16;
            if value.is_empty() {
                continue;
            }
            if r == 0 {
                sheet.write_string(row, col, value)?;
                continue;
            }
            match c {
                // Ceilings: the rule "floating point only in a spreadsheet cell" (STYLE.md habit 2); the
                // reader parses the cell's shortest decimal back to exact cents.
                3 | 5 => {
                    let cents: i64 = value
                        .replace([' ', ','], "")
                        .parse()
                        .expect("ceiling in cents");
                    sheet.write_number_with_format(
                        row,
                        col,
                        cents as f64 / 100.0,
                        &money_format,
                    )?;
                }
                4 | 6 => {
                    let d = NaiveDate::parse_from_str(value, "%Y-%m-%d").expect("ISO date");
                    sheet.write_datetime_with_format(row, col, d, &date_format)?;
                }
                12 => {
                    sheet.write_number(row, col, value.parse::<u32>().expect("integer share"))?;
                }
                _ => {
                    sheet.write_string(row, col, value)?;
                }
            }
        }
    }
    workbook.save(format!("{dir}/fixtures/candidates.xlsx"))?;
    println!("fixtures/candidates.xlsx written");
    Ok(())
}
