//! Payroll recaps as payroll software exports them: an annual cumulative livre de paie with only a
//! year in its title or sheet name, periods in words, the products' own column wording
//! (`fixtures/payroll/entetes.toml`), columns that are not pay, Excel 2003 XML spreadsheets, and the
//! year-to-date export refused with a question.

use care_ledger::domain::Money;
use care_ledger::payroll::{import_bytes, Limits, PayrollError, PayrollImport, RubriqueRules};
use chrono::NaiveDate;

fn import(name: &str, bytes: &[u8]) -> Result<PayrollImport, PayrollError> {
    import_bytes(
        name,
        bytes,
        &RubriqueRules::load_default(),
        &Limits::default(),
    )
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A Silae/Cegid-like annual cumulative livre: no period line, the year in the title only; contract,
/// hours, a month and RTT columns before the gross; an unknown column; abbreviated totals.
fn annual_livre(title: &str) -> Vec<Vec<String>> {
    let rows: Vec<Vec<&str>> = vec![
        vec![title],
        vec![],
        vec![
            "Matricule",
            "Nom",
            "Date début contrat",
            "Date fin contrat",
            "N° contrat",
            "Nb heures",
            "11/2024",
            "Jours RTT acquis",
            "Salaire de base",
            "Prime d'ancienneté",
            "Divers XYZ",
            "Brut",
            "Cot. Pat.",
        ],
        vec![
            "A001",
            "DUPONT",
            "01/01/2015",
            "",
            "C-778",
            "1607",
            "12",
            "10",
            "36 000,00",
            "1 200,00",
            "999,00",
            "37 200,00",
            "15 624,00",
        ],
        vec![
            "A002",
            "MARTIN",
            "01/07/2024",
            "",
            "C-779",
            "800",
            "12",
            "5",
            "18 000,00",
            "",
            "",
            "18 000,00",
            "7 560,00",
        ],
        vec![
            "A003",
            "DURAND",
            "01/01/2010",
            "30/09/2024",
            "C-780",
            "1200",
            "",
            "8",
            "27 000,00",
            "900,00",
            "",
            "27 900,00",
            "11 718,00",
        ],
    ];
    rows.into_iter()
        .map(|r| r.into_iter().map(str::to_string).collect())
        .collect()
}

fn xlsx(sheet: &str, rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name(sheet).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn spreadsheetml(sheet: &str, rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n<Workbook \
         xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" \
         xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\">",
    );
    out.push_str(&format!("<Worksheet ss:Name=\"{sheet}\"><Table>"));
    for row in rows {
        out.push_str("<Row>");
        for v in row {
            if v.is_empty() {
                out.push_str("<Cell/>");
            } else {
                out.push_str(&format!(
                    "<Cell><Data ss:Type=\"String\">{}</Data></Cell>",
                    v.replace('&', "&amp;").replace('<', "&lt;")
                ));
            }
        }
        out.push_str("</Row>");
    }
    out.push_str("</Table></Worksheet></Workbook>");
    out.into_bytes()
}

fn warning_codes(import: &PayrollImport) -> Vec<&str> {
    import.warnings.iter().map(|w| w.code.as_str()).collect()
}

#[test]
fn an_annual_livre_with_only_a_year_in_its_title_is_read_and_says_which_clue_it_used() {
    let got = import(
        "livre.xlsx",
        &xlsx("Feuil1", &annual_livre("Livre de paie cumulé 2024")),
    )
    .unwrap();
    assert_eq!(got.recaps.len(), 3);
    let a1 = &got.recaps[0];
    assert_eq!(
        (a1.period_start, a1.period_end),
        (date(2024, 1, 1), date(2024, 12, 31))
    );
    let clue = got
        .warnings
        .iter()
        .find(|w| w.code == "PERIODE_DEDUITE")
        .unwrap();
    assert!(
        clue.values["indice"].contains("Livre de paie cumulé 2024"),
        "{clue:?}"
    );
    // Only pay is summed: contract number, hours, the month, RTT and the unknown column are not.
    assert_eq!(a1.total_gross, Money::from_cents(3_720_000));
    assert_eq!(a1.sum_gross_rubriques, Money::from_cents(3_720_000));
    let labels: Vec<&str> = a1.rubriques.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["Salaire de base", "Prime d'ancienneté"]);
    let unknown = got
        .warnings
        .iter()
        .find(|w| w.code == "COLONNE_NON_RECONNUE")
        .unwrap();
    assert!(
        unknown.values["colonnes"].contains("Divers XYZ"),
        "{unknown:?}"
    );
    assert!(!unknown.values["colonnes"].contains("11/2024"));
    // « Date début contrat » is the entry date, « Cot. Pat. » the employer total.
    let a2 = &got.recaps[1];
    assert_eq!(a2.entry_date, Some(date(2024, 7, 1)));
    assert_eq!(a2.total_employer_charges, Money::from_cents(756_000));
    assert_eq!(a2.full_year_equivalent().unwrap().days_in_period, 184);
    // A leaver counted up to the exit date.
    let a3 = &got.recaps[2];
    assert_eq!(a3.exit_date, Some(date(2024, 9, 30)));
    assert_eq!(
        a3.full_year_equivalent().unwrap().counted_to,
        date(2024, 9, 30)
    );
    // An employer total and no employer rubrique: nothing to compare, no gap per employee; no
    // non-eligible element, no warning about them.
    for recap in &got.recaps {
        let codes: Vec<&str> = recap.warnings.iter().map(|w| w.code.as_str()).collect();
        assert!(!codes.contains(&"ECART_TOTAL_PATRONAL"), "{codes:?}");
        assert!(!codes.contains(&"ELEMENTS_NON_ELIGIBLES"), "{codes:?}");
        assert!(!codes.contains(&"ECART_TOTAL_BRUT"), "{codes:?}");
    }
}

#[test]
fn the_year_may_come_from_the_sheet_name_and_the_joined_up_header_is_read() {
    let mut rows = annual_livre("Livre de paie");
    rows[2][12] = "ChargesPatronales".into();
    let got = import("livre.xlsx", &xlsx("Paie 2023", &rows)).unwrap();
    assert_eq!(got.recaps[0].year, 2023);
    assert_eq!(
        got.recaps[0].total_employer_charges,
        Money::from_cents(1_562_400)
    );
    let clue = got
        .warnings
        .iter()
        .find(|w| w.code == "PERIODE_DEDUITE")
        .unwrap();
    assert!(
        clue.values["indice"].contains("nom de la feuille « Paie 2023 »"),
        "{clue:?}"
    );
}

#[test]
fn a_period_written_in_words_is_read() {
    let got = import(
        "livre.xlsx",
        &xlsx("Feuil1", &annual_livre("De novembre 2024 à décembre 2024")),
    )
    .unwrap();
    assert_eq!(
        (got.recaps[0].period_start, got.recaps[0].period_end),
        (date(2024, 11, 1), date(2024, 12, 31))
    );
    // A period line (in words): no clue to report.
    assert!(!warning_codes(&got).contains(&"PERIODE_DEDUITE"));
    // The block layout reads it too.
    let text = "De novembre 2024 à décembre 2024\nSalarié(s) de 44A567\n\
        RUBRIQUES;NB SALARIE;REMUNERATION;BASE;PATRONAL\n0005 Salaire;1;6 000,00;;\n\
        Total Brut;;6 000,00;;\nTotal Retenus;;;;2 520,00\n";
    let got = import("bloc.csv", text.as_bytes()).unwrap();
    assert_eq!(got.recaps[0].period_start, date(2024, 11, 1));
}

#[test]
fn a_year_to_date_export_without_a_period_is_refused_with_a_question() {
    let err = import(
        "cumul.xlsx",
        &xlsx("Feuil1", &annual_livre("Cumuls au 30/09/2024")),
    )
    .unwrap_err();
    assert!(matches!(err, PayrollError::YearToDate { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with("Feuil1!A1 : « Cumuls au 30/09/2024 »"),
        "{message}"
    );
    assert!(message.contains("Sur quelle période"), "{message}");
}

#[test]
fn nothing_giving_the_period_is_refused_naming_what_was_looked_for() {
    let err = import(
        "livre.xlsx",
        &xlsx("Feuil1", &annual_livre("Livre de paie")),
    )
    .unwrap_err();
    assert!(matches!(err, PayrollError::MissingPeriod { .. }), "{err}");
    assert!(err.to_string().contains("nom de la feuille"), "{err}");
}

#[test]
fn an_excel_2003_xml_export_reads_as_its_xlsx_twin() {
    let rows = annual_livre("Livre de paie cumulé 2024");
    let from_xml = import("livre.xml", &spreadsheetml("Feuil1", &rows)).unwrap();
    let from_xlsx = import("livre.xlsx", &xlsx("Feuil1", &rows)).unwrap();
    assert_eq!(from_xml.format, "xml");
    assert_eq!(from_xml.recaps, from_xlsx.recaps);
}
