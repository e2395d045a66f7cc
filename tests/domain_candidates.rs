use care_ledger::domain::candidate::{CandidateKind, Level};
use care_ledger::domain::{DomainId, Finess, Money, Percent};
use care_ledger::import::{read_candidates_csv, read_candidates_xlsx, ImportError};
use chrono::NaiveDate;
use rust_decimal_macros::dec;

const CSV: &str = include_str!("../fixtures/candidates.csv");

fn cell_error(
    result: Result<Vec<care_ledger::domain::candidate::Candidate>, ImportError>,
) -> (usize, String, String) {
    match result {
        Err(ImportError::Cell {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected a cell error, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_sample_base_reads_four_candidates_of_every_kind() {
    let candidates = read_candidates_csv("candidates.csv", CSV).unwrap();
    let kinds: Vec<CandidateKind> = candidates.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![
            CandidateKind::Ght,
            CandidateKind::EsPrive,
            CandidateKind::EjPublic,
            CandidateKind::CentreDialyse
        ]
    );
    let ght = &candidates[0];
    assert_eq!(ght.support().unwrap().finess, ght.finess);
    assert_eq!(ght.pmsi_establishments().count(), 3);
    assert_eq!(
        ght.domain(DomainId::D1bis).unwrap().ceiling,
        Money::from_cents(18_000_000)
    );
    assert_eq!(
        ght.domain(DomainId::D1bis).unwrap().phase_start,
        Some(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap())
    );
    let private = &candidates[1];
    let shares: Vec<Percent> = private
        .pmsi_establishments()
        .map(|e| e.activity_share)
        .collect();
    assert_eq!(
        shares,
        [60, 15, 10, 5, 10]
            .iter()
            .map(|s| Percent::new((*s).into()))
            .collect::<Vec<_>>()
    );
    assert!(private.pmsi_establishments().all(|e| e.level == Level::Eg));
    let public = &candidates[2];
    assert!(public.domain(DomainId::D2).is_none());
    assert_eq!(public.pmsi_establishments().count(), 1);
    let dialysis = &candidates[3];
    assert_eq!(
        dialysis
            .pmsi_establishments()
            .next()
            .unwrap()
            .activity_share,
        Percent::new(dec!(100))
    );
}

#[test]
fn a_wrong_luhn_digit_names_the_line_and_column() {
    let text = CSV.replace(";130781024;", ";130781025;");
    let (line, column, message) = cell_error(read_candidates_csv("candidates.csv", &text));
    assert_eq!(line, line_of(&text, "130781025"));
    assert_eq!(column, "establishment_finess");
    assert!(message.contains("clé de contrôle"), "{message}");
}

#[test]
fn shares_that_do_not_sum_to_100_are_refused_on_the_share_column() {
    let text = CSV.replace(
        "site Saint-Just;EG;130004526;non;10",
        "site Saint-Just;EG;130004526;non;11",
    );
    let err = read_candidates_csv("candidates.csv", &text).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "candidates.csv ligne {}, colonne share : candidat 130004526 : les parts d'activité des EG totalisent 101 %, 100 % attendus",
            line_of(&text, "SAS Clinique du Parc")
        )
    );
}

#[test]
fn a_missing_column_is_named() {
    let text = CSV.replace(";share\n", "\n");
    assert_eq!(
        read_candidates_csv("candidates.csv", &text),
        Err(ImportError::MissingColumn {
            file: "candidates.csv".into(),
            column: "share".into()
        })
    );
}

#[test]
fn an_unknown_kind_is_refused_on_the_kind_column() {
    let text = CSV.replace(";centre_dialyse;", ";ehpad;");
    let (line, column, message) = cell_error(read_candidates_csv("candidates.csv", &text));
    assert_eq!(line, line_of(&text, ";ehpad;"));
    assert_eq!(column, "kind");
    assert!(message.contains("ehpad"));
}

#[test]
fn a_ght_without_support_is_refused() {
    let text = CSV.replace(
        "Brévenne-les-Monts;EJ;;oui;55",
        "Brévenne-les-Monts;EJ;;non;55",
    );
    let (_, column, message) = cell_error(read_candidates_csv("candidates.csv", &text));
    assert_eq!(column, "support");
    assert!(
        message.contains("exactement un établissement support (trouvé 0)"),
        "{message}"
    );
}

#[test]
fn a_candidate_column_that_differs_on_a_later_row_is_refused() {
    let text = CSV.replace(
        "130004526;;;;;;;130781024",
        "130004526;Autre nom;;;;;;130781024",
    );
    let (line, column, _) = cell_error(read_candidates_csv("candidates.csv", &text));
    assert_eq!(line, line_of(&text, "Autre nom"));
    assert_eq!(column, "candidate_name");
}

#[test]
fn the_xlsx_form_of_the_base_reads_the_same_candidates() {
    let bytes = csv_to_xlsx(CSV);
    let from_xlsx = read_candidates_xlsx("candidates.xlsx", &bytes).unwrap();
    let from_csv = read_candidates_csv("candidates.csv", CSV).unwrap();
    assert_eq!(from_xlsx, from_csv);
    let committed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/candidates.xlsx"
    ))
    .unwrap();
    assert_eq!(
        read_candidates_xlsx("candidates.xlsx", &committed).unwrap(),
        from_csv
    );
}

#[test]
fn an_xlsx_with_a_bad_share_names_the_sheet_row() {
    let text = CSV.replace(
        "site Prado;EG;130004526;non;60",
        "site Prado;EG;130004526;non;soixante",
    );
    let bytes = csv_to_xlsx(&text);
    let (line, column, _) = cell_error(read_candidates_xlsx("candidates.xlsx", &bytes));
    assert_eq!(column, "share");
    // Comment lines are not written to the workbook: header on row 1, Prado is the 6th establishment.
    assert_eq!(line, 7);
}

/// Writes the CSV's header and rows (comments dropped) as text cells, ceilings and shares as numbers.
fn csv_to_xlsx(csv_text: &str) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let lines = csv_text.lines().filter(|l| !l.starts_with('#'));
    for (r, line) in lines.enumerate() {
        for (c, value) in line.split(';').enumerate() {
            let numeric = r > 0
                && c == 12
                && !value.is_empty()
                && value.chars().all(|ch| ch.is_ascii_digit());
            if numeric {
                sheet
                    .write_number(r as u32, c as u16, value.parse::<u32>().unwrap())
                    .unwrap();
            } else if !value.is_empty() {
                sheet.write_string(r as u32, c as u16, value).unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

#[test]
fn candidate_finess_must_check() {
    assert!(Finess::parse("130004526").is_ok());
}
