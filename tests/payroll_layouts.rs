//! Other layouts: one employee per sheet, several blocks in one Windows-1252 CSV, the livre de paie
//! matrix; non-eligible elements, part-year recaps and the anonymisation key.

use care_ledger::domain::{Matricule, Money};
use care_ledger::payroll::{
    import_bytes, import_file, AnonymisationKey, Limits, PayrollImport, PayrollRecap, RubriqueKind,
    RubriqueRules,
};
use chrono::NaiveDate;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/payroll")
        .join(name)
}

fn import(name: &str) -> PayrollImport {
    import_file(
        &fixture(name),
        &RubriqueRules::load_default(),
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn money(cents: i64) -> Money {
    Money::from_cents(cents)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn recap<'a>(import: &'a PayrollImport, matricule: &str) -> &'a PayrollRecap {
    import
        .recaps
        .iter()
        .find(|r| r.matricule.as_str() == matricule)
        .unwrap_or_else(|| panic!("no recap {matricule}"))
}

fn codes(recap: &PayrollRecap) -> Vec<&str> {
    recap.warnings.iter().map(|w| w.code.as_str()).collect()
}

#[test]
fn one_employee_per_sheet_gives_one_recap_per_sheet_and_ignores_the_notes_sheet() {
    let import = import("one_employee_per_sheet.xlsx");
    let matricules: Vec<&str> = import.recaps.iter().map(|r| r.matricule.as_str()).collect();
    assert_eq!(matricules, ["E1001", "E1002", "E1003"]);
    assert_eq!(import.warnings.len(), 1);
    assert_eq!(import.warnings[0].code, "FEUILLE_IGNOREE");
    assert_eq!(import.warnings[0].values["feuille"], "Notes");
}

#[test]
fn a_full_year_recap_with_consistent_totals_has_no_warning() {
    let import = import("one_employee_per_sheet.xlsx");
    let e = recap(&import, "E1001");
    assert_eq!(e.total_gross, money(3_720_000));
    assert_eq!(e.sum_gross_rubriques, money(3_720_000));
    assert_eq!(e.total_employer_charges, money(624_960));
    assert_eq!(e.sum_employer_rubriques, money(624_960));
    assert_eq!(e.total_employee_contributions, Some(money(360_840)));
    assert!(e.warnings.is_empty(), "{:#?}", e.warnings);
    assert_eq!(e.full_year_equivalent(), None);
    // RUBRIQUES merged over a code column and a label column.
    assert_eq!(e.rubriques[1].code.as_deref(), Some("1010"));
    assert_eq!(e.rubriques[1].label, "Prime d'ancienneté");
}

#[test]
fn a_repeated_header_row_continues_the_same_recap() {
    let import = import("one_employee_per_sheet.xlsx");
    let e = recap(&import, "E1002");
    assert_eq!(
        e.rubriques
            .iter()
            .filter(|r| r.kind == RubriqueKind::Contribution)
            .count(),
        4
    );
    assert_eq!(e.total_employer_charges, money(546_750));
    assert_eq!(e.sum_employer_rubriques, money(546_750));
}

#[test]
fn an_entry_during_the_year_proposes_the_full_year_equivalent_with_its_computation() {
    let import = import("one_employee_per_sheet.xlsx");
    let e = recap(&import, "E1002");
    assert_eq!(e.entry_date, Some(date(2024, 4, 1)));
    let p = e.full_year_equivalent().unwrap();
    assert_eq!(p.days_in_period, 275);
    assert_eq!(p.days_in_year, 366);
    assert_eq!(p.counted_from, date(2024, 4, 1));
    assert_eq!(p.counted_to, date(2024, 12, 31));
    assert_eq!(p.annualised_gross, money(3_593_455));
    assert_eq!(p.annualised_charges, money(727_675));
    assert!(p
        .computation_fr
        .contains("27\u{202f}000,00\u{a0}€ × 366 / 275 = 35\u{202f}934,55\u{a0}€"));
    assert!(codes(e).contains(&"PERIODE_PARTIELLE"));
}

#[test]
fn departure_payments_are_non_eligible_gross_and_the_exit_date_prorates() {
    let import = import("one_employee_per_sheet.xlsx");
    let e = recap(&import, "E1003");
    assert_eq!(e.entry_date, Some(date(2015, 9, 1)));
    assert_eq!(e.exit_date, Some(date(2024, 9, 30)));
    assert_eq!(e.total_gross, money(3_625_050));
    assert_eq!(e.non_eligible_gross, money(625_050));
    let rules: Vec<(&str, Option<&str>)> = e
        .rubriques
        .iter()
        .filter(|r| r.kind == RubriqueKind::Gross)
        .map(|r| (r.code.as_deref().unwrap(), r.non_eligible.as_deref()))
        .collect();
    assert_eq!(
        rules,
        [
            ("0005", None),
            ("4800", Some("depart-prime")),
            ("4810", Some("conges-compensatrice"))
        ]
    );
    assert!(codes(e).contains(&"ELEMENTS_NON_ELIGIBLES"));
    let p = e.full_year_equivalent().unwrap();
    assert_eq!(p.days_in_period, 274);
    assert_eq!(p.annualised_gross, money(4_842_220));
    assert_eq!(p.annualised_charges, money(610_121));
    // Part of the gross, so on the same scale: 6 250,50 × 366 ÷ 274 = 8 349,2080… → 8 349,21.
    assert_eq!(p.annualised_non_eligible_gross, money(834_921));
    let text = p.computation_fr.replace(['\u{a0}', '\u{202f}'], " ");
    assert!(
        text.contains(
            "dont éléments non éligibles annualisés = 6 250,50 € × 366 / 274 = 8 349,21 €"
        ),
        "{text}"
    );
    // SPEC.md §5 (our rule), computed once, by the domain: non-eligible charges = charges ×
    // non-eligible gross ÷ gross, unrounded, on the annualised figures the line takes from the recap.
    let line = care_ledger::domain::statement::InternalCostLine {
        matricule: e.matricule.clone(),
        year: e.year,
        objective: care_ledger::domain::ObjectiveCode::parse("D1.O1.A").unwrap(),
        nature: "COUTS_INTERNES".into(),
        contribution: "test".into(),
        gross_annualised: p.annualised_gross,
        employer_charges: p.annualised_charges,
        non_eligible_gross: p.annualised_non_eligible_gross,
        hours_productive: rust_decimal::Decimal::from(1607),
        hours_on_action: rust_decimal::Decimal::from(100),
    };
    assert_eq!(
        line.rows().non_eligible_charges.value(),
        p.annualised_charges.value() * p.annualised_non_eligible_gross.value()
            / p.annualised_gross.value()
    );
}

#[test]
fn a_windows_1252_csv_with_two_blocks_gives_two_recaps() {
    let import = import("windows1252_two_employees.csv");
    assert_eq!(import.format, "csv");
    assert_eq!(import.recaps.len(), 2);
    let first = recap(&import, "B2001");
    assert_eq!(first.total_gross, money(4_295_000));
    assert_eq!(first.sum_gross_rubriques, money(4_295_000));
    assert_eq!(first.rubriques[0].amount_gross, Some(money(4_200_000)));
    assert_eq!(first.rubriques[0].label, "Salaire de base");
    assert_eq!(first.rubriques[1].label, "Prime d'ancienneté");
    assert_eq!(first.rubriques[1].amount_gross, Some(money(125_000)));
    assert_eq!(first.total_employer_charges, money(689_349));
    assert_eq!(first.sum_employer_rubriques, money(689_349));
    assert_eq!(codes(first), ["TAUX_PATRONAL_EN_COLONNE_SALARIALE"]);
    let second = recap(&import, "B2002");
    // No period line in the second block: the sheet's previous period applies.
    assert_eq!(second.period_start, date(2024, 1, 1));
    assert_eq!(second.entry_date, Some(date(2024, 7, 1)));
    let p = second.full_year_equivalent().unwrap();
    assert_eq!((p.days_in_period, p.days_in_year), (184, 366));
    assert_eq!(p.annualised_gross, money(3_660_000));
    assert_eq!(p.annualised_charges, money(461_160));
}

#[test]
fn the_livre_de_paie_gives_one_recap_per_employee_row() {
    let import = import("livre_de_paie_50.xlsx");
    assert_eq!(import.recaps.len(), 50);
    let e1 = recap(&import, "E0001");
    assert_eq!(e1.period_start, date(2024, 1, 1));
    assert_eq!(e1.period_end, date(2024, 12, 31));
    assert_eq!(e1.total_gross, money(3_077_550));
    assert_eq!(e1.sum_gross_rubriques, money(3_077_550));
    assert_eq!(e1.total_employer_charges, money(517_029));
    assert_eq!(e1.sum_employer_rubriques, money(517_029));
    assert_eq!(e1.total_employee_contributions, Some(money(298_522)));
    assert!(e1.warnings.is_empty(), "{:#?}", e1.warnings);
    let contributions: Vec<_> = e1
        .rubriques
        .iter()
        .filter(|r| r.kind == RubriqueKind::Contribution)
        .collect();
    assert_eq!(contributions.len(), 3);
    assert_eq!(contributions[0].code.as_deref(), Some("2030"));
    assert_eq!(contributions[0].label, "Ass. Vieillesse TA");
    assert_eq!(contributions[0].amount_employer, Some(money(263_131)));
    assert_eq!(contributions[0].amount_employee, Some(money(212_351)));
    let net = e1
        .rubriques
        .iter()
        .find(|r| r.label == "NET A PAYER")
        .map(|r| r.kind);
    assert_eq!(net, None, "net is not a rubrique column");
}

#[test]
fn the_livre_de_paie_reads_dates_departures_and_gaps() {
    let import = import("livre_de_paie_50.xlsx");
    let e7 = recap(&import, "E0007");
    assert_eq!(e7.exit_date, Some(date(2024, 6, 30)));
    assert_eq!(e7.non_eligible_gross, money(450_000));
    let p = e7.full_year_equivalent().unwrap();
    assert_eq!(p.days_in_period, 182);
    assert_eq!(p.annualised_gross, money(8_029_577));
    assert_eq!(p.annualised_charges, money(1_348_969));
    // 4 500,00 × 366 ÷ 182 = 9 049,4505… → 9 049,45.
    assert_eq!(p.annualised_non_eligible_gross, money(904_945));
    let e13 = recap(&import, "E0013");
    assert_eq!(e13.entry_date, Some(date(2024, 3, 1)));
    assert_eq!(
        e13.full_year_equivalent().unwrap().annualised_gross,
        money(4_794_062)
    );
    let e33 = recap(&import, "E0033");
    assert_eq!(e33.total_gross, money(5_569_150));
    assert_eq!(e33.sum_gross_rubriques, money(5_559_150));
    let gap = e33
        .warnings
        .iter()
        .find(|w| w.code == "ECART_TOTAL_BRUT")
        .unwrap();
    assert_eq!(gap.values["ecart"], "100.00");
    assert_eq!(gap.values["cellule_total"], "'Livre de paie 2024'!I38");
}

#[test]
fn the_anonymisation_key_maps_pseudonyms_to_recap_matricules_both_ways() {
    let key =
        AnonymisationKey::parse_csv(&std::fs::read(fixture("anonymisation_key.csv")).unwrap())
            .unwrap();
    assert_eq!(key.len(), 4);
    assert_eq!(key.resolve("SAL-001").map(|m| m.as_str()), Some("44A567"));
    assert_eq!(
        key.pseudonym_of(&Matricule::parse("E1003").unwrap())
            .map(|m| m.as_str()),
        Some("SAL-004")
    );
    assert_eq!(key.resolve("SAL-999"), None);
    // Every matricule of the seed recap and of the per-sheet file is resolved by the key.
    for name in ["seed_003_recap.csv", "one_employee_per_sheet.xlsx"] {
        for r in import(name).recaps {
            assert!(key.pseudonym_of(&r.matricule).is_some(), "{}", r.matricule);
        }
    }
}

#[test]
fn an_anonymisation_key_with_a_pseudonym_twice_is_refused_naming_the_line() {
    let err =
        AnonymisationKey::parse_csv(b"pseudonyme,matricule\nP1,M1\nP2,M2\nP1,M3\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "clé d'anonymisation ligne 4 : pseudonyme « P1 » déjà associé au matricule M1"
    );
    let err = AnonymisationKey::parse_csv(b"nom;prenom\nA;B\n").unwrap_err();
    assert!(err
        .to_string()
        .contains("PSEUDONYME et MATRICULE introuvables"));
}

#[test]
fn a_comma_separated_csv_with_english_numbers_and_narrow_spaces_is_read() {
    let text = "Récapitulatif de paie\n\
        Période du 01/01/2025 au 31/12/2025\n\
        Matricule : X-77\n\
        RUBRIQUES,NB SALARIE,REMUNERATION,BASE,TX SAL.,SALARIAL,TX PAT.,PATRONAL\n\
        0005 Salaire de base,1,\"55,631.25\",,,,,\n\
        0100 Prime,1,\"1\u{202f}820,04\u{a0}€\",,,,,\n\
        Total brut,,\"57,451.29\",,,,,\n\
        2030 Vieillesse,1,,\"57,451.29\",,,8.55,\"4,912.09\"\n\
        Total cotisations,,,,,,,\"4,912.09\"\n";
    let import = import_bytes(
        "export.csv",
        text.as_bytes(),
        &RubriqueRules::load_default(),
        &Limits::default(),
    )
    .unwrap();
    let r = &import.recaps[0];
    assert_eq!(r.matricule.as_str(), "X-77");
    assert_eq!(r.year, 2025);
    assert_eq!(r.rubriques[0].amount_gross, Some(money(5_563_125)));
    assert_eq!(r.rubriques[1].amount_gross, Some(money(182_004)));
    assert_eq!(r.total_gross, money(5_745_129));
    assert_eq!(r.total_employer_charges, money(491_209));
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
}
