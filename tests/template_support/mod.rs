//! Helpers shared by the template tests: reading a workbook back with calamine, and LibreOffice.
#![allow(dead_code)]

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("workbook opens with calamine")
}

pub fn values(bytes: &[u8], sheet: &str) -> Range<Data> {
    open(bytes).worksheet_range(sheet).expect("sheet exists")
}

pub fn formulas(bytes: &[u8], sheet: &str) -> Range<String> {
    open(bytes).worksheet_formula(sheet).expect("sheet exists")
}

/// Value at an A1 reference.
pub fn at<'a>(range: &'a Range<Data>, cell: &str) -> &'a Data {
    let (row, col) = parse_a1(cell);
    range.get_value((row, col)).unwrap_or(&Data::Empty)
}

pub fn formula_at(range: &Range<String>, cell: &str) -> String {
    let (row, col) = parse_a1(cell);
    range.get_value((row, col)).cloned().unwrap_or_default()
}

pub fn parse_a1(cell: &str) -> (u32, u32) {
    let letters: String = cell
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digits: String = cell.chars().skip(letters.len()).collect();
    let col = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1))
        - 1;
    (digits.parse::<u32>().expect("row") - 1, col)
}

pub fn a1(row: u32, col: u32) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    format!("{}{}", String::from_utf8(out).unwrap(), row + 1)
}

pub fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        Data::Empty => 0.0,
        other => panic!("not a number: {other:?}"),
    }
}

/// Finds the row whose column A holds `label` and returns the value in column B.
pub fn summary_value(range: &Range<Data>, label: &str) -> f64 {
    let (h, _) = range.get_size();
    for row in 0..h as u32 {
        if let Some(Data::String(s)) = range.get_value((row, 0)) {
            if s == label {
                return number(range.get_value((row, 1)).unwrap_or(&Data::Empty));
            }
        }
    }
    panic!("label {label:?} not found in Synthèse");
}

/// `soffice` or `libreoffice` if installed.
pub fn libreoffice() -> Option<String> {
    for name in ["soffice", "libreoffice"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(name.to_string());
        }
    }
    None
}

/// Opens the workbook in LibreOffice headless with a throwaway profile that forces the
/// recalculation of every formula on load (OOXMLRecalcMode = 0, "always"), saves it back as .xlsx
/// and returns the bytes, whose cached results are now LibreOffice's.
pub fn recalculate_with_libreoffice(soffice: &str, bytes: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile");
    std::fs::create_dir_all(profile.join("user")).expect("profile dir");
    std::fs::write(
        profile.join("user/registrymodifications.xcu"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#,
    )
    .expect("registry");
    let input_dir = dir.path().join("in");
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&input_dir).expect("in dir");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let input = input_dir.join("etat.xlsx");
    std::fs::write(&input, bytes).expect("write input");
    let status = Command::new(soffice)
        .arg(format!("-env:UserInstallation={}", file_url(&profile)))
        .args([
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "xlsx",
            "--outdir",
        ])
        .arg(&out_dir)
        .arg(&input)
        .output()
        .expect("LibreOffice runs");
    let output: PathBuf = out_dir.join("etat.xlsx");
    assert!(
        output.exists(),
        "LibreOffice produced no file: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read(output).expect("read LibreOffice output")
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

use care_ledger::template::plan::{CellPlan, Style, Value, WorkbookPlan};

/// Simulates a hand edit: sets the value of one cell of the plan (keeping its style if it exists).
pub fn edit(plan: &mut WorkbookPlan, sheet: &str, cell: &str, value: Value) {
    let (row, col) = parse_a1(cell);
    let s = plan
        .sheets
        .iter_mut()
        .find(|s| s.name == sheet)
        .expect("sheet in plan");
    match s
        .cells
        .iter_mut()
        .find(|c| c.row == row && u32::from(c.col) == col)
    {
        Some(c) => c.value = value,
        None => s.cells.push(CellPlan {
            row,
            col: col as u16,
            value,
            style: Style::TextInput,
        }),
    }
}

pub fn text(t: &str) -> Value {
    Value::Text(t.to_string())
}

/// One file of the workbook's package, as text.
pub fn zip_text(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an xlsx package");
    let mut file = archive.by_name(name).expect("entry in the package");
    let mut out = String::new();
    file.read_to_string(&mut out).expect("text entry");
    out
}
