//! Property-based fuzzing of every parser that reads user input in the readers: amounts, dates, FINESS,
//! objective codes, matricules, the payroll reader (mutated and truncated fixtures, random sheets and
//! CSV), the template importer (mutated exports), the candidate base (random CSV, mutated xlsx), and
//! the scans of hostile ods and xls files. Each case must end without a panic, with either a value or
//! a typed French error.
//!
//! `cargo test` runs a short campaign (`CARE_LEDGER_FUZZ_CASES`, default 24 cases per property);
//! `scripts/fuzz.sh MINUTES` runs long ones under an address-space cap, with a time limit per case
//! (`CARE_LEDGER_FUZZ_CASE_SECONDS`), and prints the cases tried, the crashes and the peak memory.
//! Every crash found becomes a regression test below (`regression_*`).

mod hostile;

use care_ledger::domain::{Finess, Matricule, Money, ObjectiveCode};
use care_ledger::payroll::{import_bytes, Limits, PayrollError, RubriqueRules};
use proptest::prelude::*;
use std::io::{Cursor, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Instant;

static CASES: AtomicU64 = AtomicU64::new(0);

fn cases() -> u32 {
    std::env::var("CARE_LEDGER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs one case, counting it and, in a long campaign, holding it to the per-case time limit.
fn case<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let n = CASES.fetch_add(1, Ordering::Relaxed) + 1;
    if let Some(limit) = std::env::var("CARE_LEDGER_FUZZ_CASE_SECONDS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        let spent = started.elapsed().as_secs_f64();
        assert!(
            spent <= limit,
            "{what}: one case took {spent:.1} s (limit {limit} s)"
        );
    }
    // `scripts/fuzz.sh` reads the number of cases tried from this file.
    if n.is_multiple_of(50) {
        if let Ok(path) = std::env::var("CARE_LEDGER_FUZZ_COUNT_FILE") {
            let _ = std::fs::write(path, n.to_string());
        }
    }
    out
}

/// A French error: not empty, no English reason leaking from a library (the input it quotes aside).
fn assert_french(message: &str) {
    assert!(!message.trim().is_empty());
    let outside_quotes: String = message.split('"').step_by(2).collect::<Vec<_>>().join(" ");
    for word in outside_quotes.split(|c: char| !c.is_alphabetic()) {
        assert!(
            !matches!(
                word,
                "invalid" | "error" | "failed" | "unexpected" | "expected" | "missing" | "found"
            ),
            "English in a user's message: {message}"
        );
    }
}

fn rules() -> &'static RubriqueRules {
    static RULES: LazyLock<RubriqueRules> = LazyLock::new(RubriqueRules::load_default);
    &RULES
}

/// A payroll import that must not panic; its error, if any, French, naming the cell when it is about
/// a value.
fn payroll(name: &str, bytes: &[u8]) {
    let limits = Limits {
        // A small cap so that a case never costs much, whatever it holds.
        max_cells: 2_000_000,
        ..Limits::default()
    };
    if let Err(err) = import_bytes(name, bytes, rules(), &limits) {
        let message = err.to_string();
        if let PayrollError::Cell { at, .. } = &err {
            assert!(message.starts_with(&at.to_string()), "{message}");
        }
        assert_french(&message);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

static FIXTURES: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(|| {
    [
        "fixtures/payroll/seed_003_recap.xlsx",
        "fixtures/payroll/seed_003_recap.ods",
        "fixtures/payroll/seed_003_recap.csv",
        "fixtures/payroll/livre_de_paie_50.xlsx",
        "fixtures/payroll/one_employee_per_sheet.xlsx",
        "fixtures/payroll/windows1252_two_employees.csv",
        "fixtures/payroll/clinique_parc_44A567_2026.csv",
    ]
    .into_iter()
    .map(|p| (p, fixture(p)))
    .collect()
});

/// The entries of a zip archive, each one's bytes.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut e = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            e.read_to_end(&mut content).unwrap();
            (e.name().to_string(), content)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let method = if name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        out.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        out.write_all(content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// One change to a byte string: a byte replaced, a run cut out, a run repeated, a number or a reference
/// rewritten (`r="A1"` → a far cell).
#[derive(Debug, Clone)]
enum Mutation {
    Byte(usize, u8),
    Cut(usize, usize),
    Repeat(usize, usize, usize),
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"r=\"XFD1048576\"".to_vec(),
        b"r=\"BXX1048576\"".to_vec(),
        b"<dimension ref=\"A1:XFD1048576\"/>".to_vec(),
        b"table:number-rows-repeated=\"1048576\"".to_vec(),
        b"table:number-columns-repeated=\"16384\"".to_vec(),
        b"<v>1e308</v>".to_vec(),
        b"<v>NaN</v>".to_vec(),
        b"&#0;".to_vec(),
        b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>".to_vec(),
        "é\u{0}\u{feff}".as_bytes().to_vec(),
        b"-1".to_vec(),
        b"99999999999999999999999999999".to_vec(),
        b";;;;;;;;".to_vec(),
        b"\"".to_vec(),
        b"31/02/2024".to_vec(),
        b"Total Brut".to_vec(),
        b"Total Retenus".to_vec(),
        "Période du 01/01/2024 au 31/12/2024".as_bytes().to_vec(),
        "Salarié(s) de aé1234567".as_bytes().to_vec(),
    ]);
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>())
            .prop_map(|(i, b)| Mutation::Byte(i.index(1 << 30), b)),
        (any::<prop::sample::Index>(), 1usize..64)
            .prop_map(|(i, n)| Mutation::Cut(i.index(1 << 30), n)),
        (any::<prop::sample::Index>(), 1usize..32, 1usize..8)
            .prop_map(|(i, n, k)| Mutation::Repeat(i.index(1 << 30), n, k)),
        (any::<prop::sample::Index>(), tokens)
            .prop_map(|(i, t)| Mutation::Insert(i.index(1 << 30), t)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Byte(i, b) => {
            let i = i % bytes.len();
            bytes[i] = *b;
        }
        Mutation::Cut(i, n) => {
            let i = i % bytes.len();
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Repeat(i, n, k) => {
            let i = i % bytes.len();
            let end = (i + n).min(bytes.len());
            let run = bytes[i..end].to_vec();
            for _ in 0..*k {
                bytes.splice(end..end, run.iter().copied());
            }
        }
        Mutation::Insert(i, t) => {
            let i = i % (bytes.len() + 1);
            bytes.splice(i..i, t.iter().copied());
        }
    }
}

/// A fixture changed inside its archive (an entry's XML mutated, then zipped again), or as raw bytes
/// for CSV files.
fn mutated(bytes: &[u8], entry: prop::sample::Index, mutations: &[Mutation]) -> Vec<u8> {
    if bytes.starts_with(b"PK") {
        let mut entries = unzip(bytes);
        let i = entry.index(entries.len());
        for m in mutations {
            apply(&mut entries[i].1, m);
        }
        rezip(&entries)
    } else {
        let mut out = bytes.to_vec();
        for m in mutations {
            apply(&mut out, m);
        }
        out
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn amounts_parse_or_refuse_in_french(text in ".{0,40}|[0-9 ,.€()+-]{0,30}") {
        case("montant", || {
            match Money::parse_amount(&text) {
                Ok(m) => {
                    prop_assert!(m.value().scale() <= 2);
                    prop_assert!(!m.is_negative());
                }
                Err(e) => assert_french(&e.to_string()),
            }
            let _ = care_ledger::domain::money::parse_decimal_plain(&text);
            if let Err(e) = care_ledger::sheet::number::parse_number_text(&text) {
                assert_french(&e.to_string());
            }
            Ok(())
        })?;
    }

    #[test]
    fn cell_numbers_and_dates_never_panic(value in any::<f64>(), text in ".{0,24}") {
        case("cellule", || {
            let _ = care_ledger::sheet::cells::decimal_from_f64(value);
            let _ = care_ledger::sheet::cells::date_from_serial(value);
            let _ = care_ledger::sheet::cells::parse_date_text(&text);
            let _ = care_ledger::domain::statement::parse_date(&text);
            let cell = calamine::Data::DateTime(calamine::ExcelDateTime::new(
                value,
                calamine::ExcelDateTimeType::DateTime,
                value.is_sign_negative(),
            ));
            let _ = care_ledger::sheet::cells::cell_text(&cell);
            if let Err(e) = care_ledger::sheet::cells::date_with(&cell, |_| None) {
                assert_french(&e.to_string());
            }
        });
    }

    #[test]
    fn finess_objective_codes_and_matricules_parse_or_refuse(text in ".{0,12}|[0-9AB2é ]{9,10}") {
        case("identifiants", || {
            if let Err(e) = Finess::parse(&text) { assert_french(&e.to_string()); }
            if let Err(e) = Finess::with_check_digit(&text) { assert_french(&e.to_string()); }
            if let Err(e) = ObjectiveCode::parse(&text) { assert_french(&e.to_string()); }
            if let Err(e) = Matricule::parse(&text) { assert_french(&e.to_string()); }
        });
    }

    #[test]
    fn a_valid_finess_round_trips(first in "[0-9]{8}|2[AB][0-9]{6}") {
        case("FINESS valide", || {
            let finess = Finess::with_check_digit(&first).unwrap();
            prop_assert_eq!(Finess::parse(finess.as_str()).unwrap(), finess);
            Ok(())
        })?;
    }

    #[test]
    fn the_payroll_reader_survives_mutated_fixtures(
        which in any::<prop::sample::Index>(),
        entry in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let (name, bytes) = &FIXTURES[which.index(FIXTURES.len())];
        let input = mutated(bytes, entry, &mutations);
        case(name, || payroll(name, &input));
    }

    #[test]
    fn the_payroll_reader_survives_truncated_fixtures(
        which in any::<prop::sample::Index>(),
        keep in any::<prop::sample::Index>(),
    ) {
        let (name, bytes) = &FIXTURES[which.index(FIXTURES.len())];
        let cut = &bytes[..keep.index(bytes.len())];
        case(name, || payroll(name, cut));
    }

    #[test]
    fn the_payroll_reader_survives_random_sheets(
        rows in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    Just(String::new()),
                    "[A-Za-z éèÉ°/().'-]{0,20}",
                    "-?[0-9 ]{1,9}([,.][0-9]{1,4})?",
                    prop::sample::select(vec![
                        "RUBRIQUES", "REMUNERATION", "PATRONAL", "SALARIAL", "TX PAT.", "BASE",
                        "MATRICULE", "TOTAL BRUT", "TOTAL PATRONAL", "Total Brut", "Total Retenus",
                        "Période du 01/01/2024 au 31/12/2024", "Salarié(s) de 44A567",
                        "Date d'entrée : 01/07/2024", "De novembre 2024 à décembre 2024",
                        "Date début contrat", "ChargesPatronales", "11/2024", "RTT",
                    ]).prop_map(str::to_string),
                ],
                0..9,
            ),
            0..24,
        ),
        as_csv in any::<bool>(),
        numbers in any::<bool>(),
    ) {
        let input = if as_csv {
            rows.iter().map(|r| r.join(";")).collect::<Vec<_>>().join("\n").into_bytes()
        } else {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    let number = v.replace([' ', ','], ".").parse::<f64>();
                    match (numbers, number) {
                        (true, Ok(n)) => { ws.write_number(r as u32, c as u16, n).unwrap(); }
                        _ => { ws.write_string(r as u32, c as u16, v).unwrap(); }
                    }
                }
            }
            wb.save_to_buffer().unwrap()
        };
        let name = if as_csv { "recap.csv" } else { "recap.xlsx" };
        case(name, || payroll(name, &input));
    }

    #[test]
    fn the_ods_and_xls_scans_survive_mutated_hostile_files(
        row in prop_oneof![0u32..2_000, 0u32..2_000_000],
        col in prop_oneof![0u32..100, 0u32..20_000],
        entry in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 0..4),
        xls_row in any::<u16>(),
        xls_col in any::<u16>(),
        dims in (any::<u32>(), any::<u32>(), any::<u16>(), any::<u16>()),
    ) {
        let ods = mutated(&hostile::far_cell_ods("Feuil1", row, col), entry, &mutations);
        case("ods", || payroll("recap.ods", &ods));
        let mut xls = hostile::xls("Feuil1", &[(0, 0, 1.0), (xls_row, xls_col, 2.0)], dims);
        for m in &mutations { apply(&mut xls, m); }
        case("xls", || payroll("recap.xls", &xls));
        let xml = hostile::far_cell_spreadsheetml("Feuil1", row, col);
        case("xml", || payroll("recap.xml", &xml));
    }

    #[test]
    fn the_template_importer_survives_mutated_exports(
        entry in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        static EXPORT: LazyLock<Vec<u8>> = LazyLock::new(|| {
            care_ledger::template::export_workbook(&care_ledger::template::model::TemplateModel::sample()).unwrap()
        });
        let input = mutated(&EXPORT, entry, &mutations);
        case("trame", || {
            let model = care_ledger::template::model::TemplateModel::sample();
            if let Err(e) = care_ledger::template::import::peek_identity(&input) {
                assert_french(&e.message_fr);
            }
            if let Err(errors) = care_ledger::template::import::import_workbook(&input, &model) {
                for e in errors { assert_french(&e.message_fr); }
            }
        });
    }

    #[test]
    fn the_candidate_base_reader_survives_random_rows_and_mutated_workbooks(
        cells in prop::collection::vec(
            prop::collection::vec("[0-9A-Za-zé ,.;%/-]{0,12}", 13),
            0..8,
        ),
        entry in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let mut text = care_ledger::import::candidates::COLUMNS.join(";");
        for row in &cells {
            text.push('\n');
            text.push_str(&row.join(";").replace('\n', " "));
        }
        case("base csv", || {
            if let Err(e) = care_ledger::import::read_candidates_csv("base.csv", &text) {
                assert_french(&e.to_string());
            }
        });
        static BASE: LazyLock<Vec<u8>> = LazyLock::new(|| fixture("fixtures/candidates.xlsx"));
        let input = mutated(&BASE, entry, &mutations);
        case("base xlsx", || {
            let _ = care_ledger::import::read_candidates_xlsx("base.xlsx", &input);
        });
    }
}

#[test]
fn regression_a_finess_with_a_multibyte_character_is_refused_not_a_panic() {
    // Found by review and by `finess_objective_codes_and_matricules_parse_or_refuse`: nine characters,
    // ten bytes, sliced by byte.
    for text in [
        "aé1234567",
        "é12345678",
        "2Aé345678",
        "12345678é",
        "２３４５６７８９０",
    ] {
        let err = Finess::parse(text).unwrap_err();
        assert!(
            err.to_string().contains("caractère non autorisé")
                || err.to_string().contains("9 caractères"),
            "{text}: {err}"
        );
    }
    assert!(Finess::with_check_digit("é1234567").is_err());
}

#[test]
fn regression_a_far_cell_dimension_in_a_fixture_is_refused_not_an_abort() {
    // The mutation that rewrites a reference into `XFD1048576` (each such case asked calamine for
    // 67 GB before the readers were bounded).
    let bytes = fixture("fixtures/payroll/seed_003_recap.xlsx");
    let mut entries = unzip(&bytes);
    let sheet = entries
        .iter_mut()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap();
    let text = String::from_utf8(sheet.1.clone()).unwrap();
    sheet.1 = text
        .replacen("r=\"A1\"", "r=\"XFD1048576\"", 1)
        .into_bytes();
    let err =
        import_bytes("recap.xlsx", &rezip(&entries), rules(), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("feuille « "), "{err}");
}

#[test]
fn regression_a_cell_reference_of_many_letters_is_refused_not_a_panic() {
    // Found by `the_template_importer_survives_mutated_exports`: a reference of a dozen letters made
    // calamine's column arithmetic overflow (a panic in a checked build).
    let export = care_ledger::template::export_workbook(
        &care_ledger::template::model::TemplateModel::sample(),
    )
    .unwrap();
    let mut entries = unzip(&export);
    for (name, content) in entries.iter_mut() {
        if name.starts_with("xl/worksheets/sheet") {
            let text = String::from_utf8(content.clone()).unwrap();
            *content = text
                .replacen("r=\"B", "r=\"BBBBBBBBBBBBBBBBB", 1)
                .into_bytes();
        }
    }
    let input = rezip(&entries);
    let model = care_ledger::template::model::TemplateModel::sample();
    let errors = care_ledger::template::import::import_workbook(&input, &model).unwrap_err();
    assert!(!errors.is_empty());
    for e in &errors {
        assert_french(&e.message_fr);
    }
    let _ = care_ledger::template::import::peek_identity(&input);
}
