//! Regenerates the payroll recap fixtures of `fixtures/payroll/` (reproducible: no dates, no randomness).
//!
//!     cargo run --example make_payroll_fixtures
//!
//! The seed's recap (`seed_003_recap_source.txt`, copied verbatim from seed 003) becomes `.xlsx` (numeric
//! cells, merged title), `.csv` (UTF-8, `;`, the seed's own text) and `.ods` (written by hand: no ODS
//! writer crate is used, the archive is small). The other layouts are made up, realistic, documented in
//! `fixtures/payroll/README.md`.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

const SEED: &str = include_str!("../fixtures/payroll/seed_003_recap_source.txt");

/// A workbook with a fixed creation date, so that regenerated fixtures are byte-identical.
fn new_workbook() -> Result<Workbook, XlsxError> {
    let mut wb = Workbook::new();
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 1, 15)?;
    let props = rust_xlsxwriter::DocProperties::new()
        .set_author("care-ledger fixtures")
        .set_creation_datetime(&created);
    wb.set_properties(&props);
    Ok(wb)
}

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/payroll")
}

/// A French figure of the seed ("54 031,25", "6,90000", "1") as f64, for writing a numeric cell.
fn seed_number(text: &str) -> Option<f64> {
    let t: String = text.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '-')
    {
        return None;
    }
    t.replace(',', ".").parse().ok()
}

fn seed_rows() -> Vec<Vec<String>> {
    SEED.lines()
        .map(|l| l.split('\t').map(|s| s.to_string()).collect())
        .collect()
}

fn write_seed_xlsx(path: &Path) -> Result<(), XlsxError> {
    let mut wb = new_workbook()?;
    let ws = wb.add_worksheet().set_name("Feuil1")?;
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_align(FormatAlign::Center);
    let amount = Format::new().set_num_format("#,##0.00");
    let rate = Format::new().set_num_format("0.00000");
    for (r, row) in seed_rows().iter().enumerate() {
        let r = r as u32;
        if r == 0 {
            // Merged title cells, as payroll exports print them.
            ws.merge_range(r, 0, r, 7, row[0].trim(), &title)?;
            continue;
        }
        for (c, text) in row.iter().enumerate() {
            let c = c as u16;
            if text.trim().is_empty() {
                continue;
            }
            match seed_number(text) {
                Some(v) if r > 5 => {
                    let f = if text.contains(",00000")
                        || text.matches(',').count() == 1
                            && text.split(',').nth(1).is_some_and(|d| d.len() == 5)
                    {
                        &rate
                    } else {
                        &amount
                    };
                    ws.write_number_with_format(r, c, v, f)?;
                }
                _ => {
                    if r == 6 {
                        ws.write_string_with_format(r, c, text.trim(), &bold)?;
                    } else {
                        ws.write_string(r, c, text.trim())?;
                    }
                }
            }
        }
    }
    ws.set_column_width(0, 36)?;
    wb.save(path)
}

fn write_seed_csv(path: &Path) -> std::io::Result<()> {
    let mut out = String::new();
    for row in seed_rows() {
        let fields: Vec<String> = row
            .iter()
            .map(|f| {
                if f.contains(';') || f.contains('"') {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect();
        out.push_str(&fields.join(";"));
        out.push_str("\r\n");
    }
    std::fs::write(path, out)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A minimal OpenDocument spreadsheet: mimetype (stored, first), manifest, content.
fn write_seed_ods(path: &Path) -> std::io::Result<()> {
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Feuil1">"#,
    );
    for (r, row) in seed_rows().iter().enumerate() {
        content.push_str("<table:table-row>");
        for text in row {
            let t = text.trim();
            if t.is_empty() {
                content.push_str("<table:table-cell/>");
            } else if let (Some(v), true) = (seed_number(t), r > 5) {
                let _ = write!(
                    content,
                    r#"<table:table-cell office:value-type="float" office:value="{v}"><text:p>{}</text:p></table:table-cell>"#,
                    xml_escape(t)
                );
            } else {
                let _ = write!(
                    content,
                    r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                    xml_escape(t)
                );
            }
        }
        content.push_str("</table:table-row>");
    }
    content.push_str("</table:table></office:spreadsheet></office:body></office:document-content>");
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(file);
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("mimetype", stored)?;
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
    zip.start_file("META-INF/manifest.xml", deflated)?;
    zip.write_all(manifest.as_bytes())?;
    zip.start_file("content.xml", deflated)?;
    zip.write_all(content.as_bytes())?;
    zip.finish()?;
    Ok(())
}

/// A recap block written at `row` of `ws` (header in A:H, with RUBRIQUES merged over A:B when
/// `split_code` is true: code in A, label in B). Returns the next free row.
struct Line<'a> {
    text: &'a str,
    number: Option<f64>,
    remuneration: Option<f64>,
    base: Option<f64>,
    tx_sal: Option<f64>,
    sal: Option<f64>,
    tx_pat: Option<f64>,
    pat: Option<f64>,
}

fn gross<'a>(text: &'a str, amount: f64, base: Option<f64>) -> Line<'a> {
    Line {
        text,
        number: Some(1.0),
        remuneration: Some(amount),
        base,
        tx_sal: None,
        sal: None,
        tx_pat: None,
        pat: None,
    }
}

fn contribution<'a>(
    text: &'a str,
    base: f64,
    tx_sal: Option<f64>,
    tx_pat: Option<f64>,
) -> Line<'a> {
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Line {
        text,
        number: Some(1.0),
        remuneration: None,
        base: Some(base),
        tx_sal,
        sal: tx_sal.map(|t| round(base * t / 100.0)),
        tx_pat,
        pat: tx_pat.map(|t| round(base * t / 100.0)),
    }
}

const HEADER: [&str; 8] = [
    "RUBRIQUES",
    "NB SALARIE",
    "REMUNERATION",
    "BASE",
    "TX SAL.",
    "SALARIAL",
    "TX PAT.",
    "PATRONAL",
];

/// Writes a block with codes in A and labels in B (RUBRIQUES merged over A:B), figures in C:I.
fn write_split_block(
    ws: &mut Worksheet,
    mut row: u32,
    titles: &[&str],
    lines: &[Line<'_>],
    repeat_header_after: Option<usize>,
) -> Result<(u32, f64, f64), XlsxError> {
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold();
    let amount = Format::new().set_num_format("#,##0.00");
    for t in titles {
        ws.merge_range(row, 0, row, 8, t, &title)?;
        row += 1;
    }
    row += 1;
    let header = |ws: &mut Worksheet, row: u32| -> Result<(), XlsxError> {
        ws.merge_range(row, 0, row, 1, HEADER[0], &bold)?;
        for (i, h) in HEADER.iter().enumerate().skip(1) {
            ws.write_string_with_format(row, i as u16 + 1, *h, &bold)?;
        }
        Ok(())
    };
    header(ws, row)?;
    row += 1;
    let mut total_gross = 0.0;
    let mut total_pat = 0.0;
    let mut total_sal = 0.0;
    let mut wrote_gross_total = false;
    for (i, line) in lines.iter().enumerate() {
        if !wrote_gross_total && line.remuneration.is_none() {
            ws.write_string(row, 0, "Total Heure / Brut")?;
            ws.write_number_with_format(
                row,
                3,
                (total_gross * 100.0_f64).round() / 100.0,
                &amount,
            )?;
            row += 1;
            wrote_gross_total = true;
        }
        let (code, label) = line.text.split_once(' ').unwrap_or(("", line.text));
        ws.write_string(row, 0, code)?;
        ws.write_string(row, 1, label)?;
        let cells = [
            line.number,
            line.remuneration,
            line.base,
            line.tx_sal,
            line.sal,
            line.tx_pat,
            line.pat,
        ];
        for (j, v) in cells.iter().enumerate() {
            if let Some(v) = v {
                ws.write_number_with_format(row, j as u16 + 2, *v, &amount)?;
            }
        }
        total_gross += line.remuneration.unwrap_or(0.0);
        total_pat += line.pat.unwrap_or(0.0);
        total_sal += line.sal.unwrap_or(0.0);
        row += 1;
        if repeat_header_after == Some(i) {
            // A page break as printed: a blank row and the header again.
            row += 1;
            header(ws, row)?;
            row += 1;
        }
    }
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    ws.write_string(row, 0, "Total Retenus")?;
    ws.write_number_with_format(row, 6, r2(total_sal), &amount)?;
    ws.write_number_with_format(row, 8, r2(total_pat), &amount)?;
    row += 2;
    Ok((row, r2(total_gross), r2(total_pat)))
}

fn write_one_employee_per_sheet(path: &Path) -> Result<(), XlsxError> {
    let mut wb = new_workbook()?;
    // E1001: full year 2024, no warning.
    let ws = wb.add_worksheet().set_name("Salarié E1001")?;
    write_split_block(
        ws,
        0,
        &[
            "Récapitulatif de paie",
            "Période du 01/01/2024 au 31/12/2024",
            "Salarié(s) de E1001",
            "Etablissement(s) <<Tous>>",
        ],
        &[
            gross("0005 Salaire de base", 36000.0, Some(1820.04)),
            gross("1010 Prime d'ancienneté", 1200.0, None),
            contribution("2030 Ass. Vieillesse TA", 37200.0, Some(6.9), Some(8.55)),
            contribution("7020 Assurance Chômage", 37200.0, None, Some(4.05)),
            contribution("8125 RET. IRCANTEC TA", 37200.0, Some(2.8), Some(4.2)),
        ],
        None,
    )?;
    // E1002: entry on 01/04/2024, a page break (repeated header) inside the contributions.
    let ws = wb.add_worksheet().set_name("Salarié E1002")?;
    write_split_block(
        ws,
        0,
        &[
            "Récapitulatif de paie",
            "Période du 01/01/2024 au 31/12/2024",
            "Salarié(s) de E1002",
            "Date d'entrée : 01/04/2024",
        ],
        &[
            gross("0005 Salaire de base", 27000.0, Some(1365.0)),
            contribution("2030 Ass. Vieillesse TA", 27000.0, Some(6.9), Some(8.55)),
            contribution("7020 Assurance Chômage", 27000.0, None, Some(4.05)),
            contribution("8125 RET. IRCANTEC TA", 27000.0, Some(2.8), Some(4.2)),
            contribution("2090 Allocations familiales", 27000.0, None, Some(3.45)),
        ],
        Some(2),
    )?;
    // E1003: exit on 30/09/2024 with departure payments (non-eligible).
    let ws = wb.add_worksheet().set_name("Salarié E1003")?;
    write_split_block(
        ws,
        0,
        &[
            "Récapitulatif de paie",
            "Période du 01/01/2024 au 31/12/2024",
            "Salarié(s) de E1003",
            "Date d'entrée : 01/09/2015",
            "Date de sortie : 30/09/2024",
        ],
        &[
            gross("0005 Salaire de base", 30000.0, Some(1213.0)),
            gross("4800 Indemnité de départ à la retraite", 5000.0, None),
            gross(
                "4810 Indemnité compensatrice de congés payés",
                1250.5,
                Some(12.0),
            ),
            contribution("2030 Ass. Vieillesse TA", 36250.5, Some(6.9), Some(8.55)),
            contribution("7020 Assurance Chômage", 36250.5, None, Some(4.05)),
        ],
        None,
    )?;
    let ws = wb.add_worksheet().set_name("Notes")?;
    ws.write_string(
        0,
        0,
        "Export du logiciel de paie, 15/01/2025 ; un salarié par feuille.",
    )?;
    wb.save(path)
}

/// Deterministic figures of the livre de paie's employee `i` (1-based).
pub struct LivreEmployee {
    pub matricule: String,
    pub base: f64,
    pub seniority: f64,
    pub departure: f64,
    pub gross: f64,
    pub printed_gross: f64,
    pub vieillesse_sal: f64,
    pub vieillesse_pat: f64,
    pub chomage_pat: f64,
    pub ircantec_sal: f64,
    pub ircantec_pat: f64,
}

fn livre_employee(i: u32) -> LivreEmployee {
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    let base = 30000.0 + 750.0 * i as f64;
    let seniority = r2(25.5 * i as f64);
    let departure = if i == 7 { 4500.0 } else { 0.0 };
    let gross = r2(base + seniority + departure);
    LivreEmployee {
        matricule: format!("E{i:04}"),
        base,
        seniority,
        departure,
        gross,
        // Employee 33's printed total differs from its rubriques by 100 € (a warning, not an error).
        printed_gross: if i == 33 { gross + 100.0 } else { gross },
        vieillesse_sal: r2(gross * 0.069),
        vieillesse_pat: r2(gross * 0.0855),
        chomage_pat: r2(gross * 0.0405),
        ircantec_sal: r2(gross * 0.028),
        ircantec_pat: r2(gross * 0.042),
    }
}

fn write_livre(path: &Path) -> Result<(), XlsxError> {
    let mut wb = new_workbook()?;
    let ws = wb.add_worksheet().set_name("Livre de paie 2024")?;
    let bold = Format::new().set_bold();
    let amount = Format::new().set_num_format("#,##0.00");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    ws.write_string(0, 0, "Livre de paie")?;
    ws.write_string(1, 0, "Période du 01/01/2024 au 31/12/2024")?;
    let header = [
        "MATRICULE",
        "NOM",
        "PRENOM",
        "DATE ENTREE",
        "DATE SORTIE",
        "0005 Salaire de base",
        "1010 Prime d'ancienneté",
        "4800 Indemnité de départ à la retraite",
        "TOTAL BRUT",
        "2030 Ass. Vieillesse TA SAL",
        "2030 Ass. Vieillesse TA PAT",
        "7020 Assurance Chômage PAT",
        "8125 RET. IRCANTEC SAL",
        "8125 RET. IRCANTEC PAT",
        "TOTAL SALARIAL",
        "TOTAL PATRONAL",
        "NET A PAYER",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    let mut row = 4u32;
    for i in 1..=50u32 {
        let e = livre_employee(i);
        ws.write_string(row, 0, &e.matricule)?;
        ws.write_string(row, 1, format!("NOM{i:02}"))?;
        ws.write_string(row, 2, format!("Prénom{i:02}"))?;
        if i == 13 {
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 1)?;
            ws.write_datetime_with_format(row, 3, &d, &date)?;
        }
        if i == 7 || i == 21 {
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 6, 30)?;
            ws.write_datetime_with_format(row, 4, &d, &date)?;
        }
        ws.write_number_with_format(row, 5, e.base, &amount)?;
        ws.write_number_with_format(row, 6, e.seniority, &amount)?;
        if e.departure > 0.0 {
            ws.write_number_with_format(row, 7, e.departure, &amount)?;
        }
        ws.write_number_with_format(row, 8, e.printed_gross, &amount)?;
        ws.write_number_with_format(row, 9, e.vieillesse_sal, &amount)?;
        ws.write_number_with_format(row, 10, e.vieillesse_pat, &amount)?;
        ws.write_number_with_format(row, 11, e.chomage_pat, &amount)?;
        ws.write_number_with_format(row, 12, e.ircantec_sal, &amount)?;
        ws.write_number_with_format(row, 13, e.ircantec_pat, &amount)?;
        let sal = r2(e.vieillesse_sal + e.ircantec_sal);
        let pat = r2(e.vieillesse_pat + e.chomage_pat + e.ircantec_pat);
        ws.write_number_with_format(row, 14, sal, &amount)?;
        ws.write_number_with_format(row, 15, pat, &amount)?;
        ws.write_number_with_format(row, 16, r2(e.gross - sal), &amount)?;
        row += 1;
        if i == 25 {
            // Page break: the header printed again.
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(row, c as u16, *h, &bold)?;
            }
            row += 1;
        }
    }
    ws.write_string(row, 0, "TOTAL")?;
    ws.write_formula(row, 8, format!("=SUM(I5:I{row})").as_str())?;
    wb.save(path)
}

fn cp1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable, "text not representable in Windows-1252");
    bytes.into_owned()
}

/// Two employees, one block each, `;`, Windows-1252, euro signs and non-breaking spaces; the second
/// block has no period line (it inherits the first one's) and an entry date.
fn windows1252_csv() -> String {
    let nb = '\u{a0}';
    let lines = [
        "Récapitulatif de paie".to_string(),
        "Période du 01/01/2024 au 31/12/2024".into(),
        "Salarié(s) de B2001".into(),
        "Etablissement(s) Hôpital Saint-Éloi".into(),
        "".into(),
        "Rubriques;Nb salarié;Rémunération;Base;Taux sal.;Salarial;Taux pat.;Patronal".into(),
        format!("0005 Salaire de base;1;42{nb}000,00{nb}€;1{nb}820,04;;;;"),
        "1010 Prime d'ancienneté;1;1.250,00 €;;;;;".into(),
        "2065 Prime exceptionnelle;1;-300,00 €;;;;;".into(),
        "Total Brut;;42950,00;;;;;".into(),
        format!("2030 Ass. Vieillesse TA;1;;42{nb}950,00;6,90000;2{nb}963,55;8,55000;3{nb}672,23"),
        "7020 Assurance Chômage;1;;42 950,00;;;4,05000;1 739,48".into(),
        "2090 Allocations familiales;1;;42 950,00;;3,45000;;1 481,78".into(),
        "Total cotisations;;;;;2963,55;;6893,49".into(),
        "".into(),
        "Récapitulatif de paie".into(),
        "Salarié(s) de B2002".into(),
        "Date d'entrée : 01/07/2024".into(),
        "".into(),
        "Rubriques;Nb salarié;Rémunération;Base;Taux sal.;Salarial;Taux pat.;Patronal".into(),
        "0005 Salaire de base;1;18 400,00 €;910,00;;;;".into(),
        "Total Brut;;18 400,00;;;;;".into(),
        "2030 Ass. Vieillesse TA;1;;18 400,00;6,90000;1 269,60;8,55000;1 573,20".into(),
        "7020 Assurance Chômage;1;;18 400,00;;;4,05000;745,20".into(),
        "Total cotisations;;;;;1 269,60;;2 318,40".into(),
    ];
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

fn small_csv(replace_remuneration: Option<&str>, second_block: bool, with_total: bool) -> String {
    let mut lines = vec![
        "Récapitulatif de paie".to_string(),
        "Période de 01/01/2024 au 31/12/2024".into(),
        "Salarié(s) de C3001".into(),
        "".into(),
        "RUBRIQUES;NB SALARIE;REMUNERATION;BASE;TX SAL.;SALARIAL;TX PAT.;PATRONAL".into(),
        format!(
            "0005 Salaires Mensuel;1;{};1 820,04;;;;",
            replace_remuneration.unwrap_or("30 000,00")
        ),
        "Total Heure / Brut;1820,04;30000,00;;;;;".into(),
        "2030 Ass. Vieillesse TA;1;;30 000,00;6,90000;2 070,00;8,55000;2 565,00".into(),
    ];
    if with_total {
        lines.push("Total Retenus;;;;;2070,00;;2565,00".into());
    }
    if second_block {
        lines.push("".into());
        lines.push("Récapitulatif de paie".into());
        lines.push("Période de 01/01/2024 au 31/12/2024".into());
        lines.push("Salarié(s) de C3001".into());
        lines.push(
            "RUBRIQUES;NB SALARIE;REMUNERATION;BASE;TX SAL.;SALARIAL;TX PAT.;PATRONAL".into(),
        );
        lines.push("0005 Salaires Mensuel;1;1 000,00;;;;;".into());
        lines.push("Total Heure / Brut;;1000,00;;;;;".into());
        lines.push("Total Retenus;;;;;;;0,00".into());
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn write_zip_bomb(path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("[Content_Types].xml", opts)?;
    zip.write_all(b"<?xml version=\"1.0\"?><Types/>")?;
    zip.start_file("xl/workbook.xml", opts)?;
    zip.write_all(b"<?xml version=\"1.0\"?><workbook/>")?;
    zip.start_file("xl/worksheets/sheet1.xml", opts.large_file(false))?;
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..200 {
        zip.write_all(&zeros)?;
    }
    zip.finish()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    write_seed_xlsx(&dir.join("seed_003_recap.xlsx"))?;
    write_seed_csv(&dir.join("seed_003_recap.csv"))?;
    write_seed_ods(&dir.join("seed_003_recap.ods"))?;
    write_one_employee_per_sheet(&dir.join("one_employee_per_sheet.xlsx"))?;
    write_livre(&dir.join("livre_de_paie_50.xlsx"))?;
    std::fs::write(
        dir.join("windows1252_two_employees.csv"),
        cp1252(&windows1252_csv()),
    )?;
    std::fs::write(
        dir.join("anonymisation_key.csv"),
        "Pseudonyme;Matricule;Commentaire\r\nSAL-001;44A567;seed 003\r\nSAL-002;E1001;\r\nSAL-003;E1002;\r\nSAL-004;E1003;\r\n",
    )?;
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken)?;
    std::fs::write(
        broken.join("ambiguous_amount.csv"),
        small_csv(Some("1.234"), false, true),
    )?;
    std::fs::write(
        broken.join("duplicate_employee_year.csv"),
        small_csv(None, true, true),
    )?;
    std::fs::write(
        broken.join("missing_employer_total.csv"),
        small_csv(None, false, false),
    )?;
    std::fs::write(
        broken.join("three_decimals_amount.csv"),
        small_csv(Some("30 000,125"), false, true),
    )?;
    let seed_xlsx = std::fs::read(dir.join("seed_003_recap.xlsx"))?;
    std::fs::write(
        broken.join("truncated.xlsx"),
        &seed_xlsx[..seed_xlsx.len() / 2],
    )?;
    std::fs::write(
        broken.join("not_a_workbook.xlsx"),
        "Ceci n'est pas un classeur.\n",
    )?;
    write_zip_bomb(&broken.join("zip_bomb.xlsx"))?;
    println!("fixtures written to {}", dir.display());
    Ok(())
}
