//! « Full-year recap », one rule (`domain::full_year`) for the payroll import, the line filled from a
//! recap and the flag: a recap « du 01/01 au 31/12 » of someone who joined in July is annualised, and
//! the flag compares the declared annualised gross with that full-year equivalent, not the raw gross.

mod common;

use care_ledger::domain::statement::flags::{flags, FlagInputs, PayrollRecapSummary};
use care_ledger::domain::statement::StatementCommand;
use care_ledger::domain::{Matricule, Money};
use common::*;

fn july_joiner(gross_cents: i64) -> PayrollRecapSummary {
    PayrollRecapSummary {
        matricule: Matricule::parse("44A567").unwrap(),
        period_start: date(2026, 1, 1),
        period_end: date(2026, 12, 31),
        gross_total: Money::from_cents(gross_cents),
        entry_date: Some(date(2026, 7, 1)),
        exit_date: None,
        source_sha256: None,
    }
}

fn codes_for(
    declared_gross: &str,
    recap: PayrollRecapSummary,
) -> Vec<(&'static str, Option<String>)> {
    let cat = d1bis();
    let cand = private();
    let mut s = opened(&cat, &cand);
    let mut line = seed_employee("INT-1");
    line.gross_annualised = declared_gross.into();
    run(
        &mut s,
        &ctx(&cat, &cand, care_ledger::domain::Role::Etablissement),
        StatementCommand::DeclareInternalCost(line),
    );
    flags(
        &s,
        &cat,
        &cand,
        &FlagInputs {
            payroll_recaps: vec![recap],
            ..FlagInputs::default()
        },
    )
    .into_iter()
    .map(|f| {
        (
            f.code,
            f.values.get("brut_recapitulatif_annualise").cloned(),
        )
    })
    .collect()
}

#[test]
fn a_july_joiner_declared_at_the_full_year_equivalent_raises_no_gross_flag() {
    // 27 815,63 € earned from 1 July to 31 December 2026 (184 days): × 365 ÷ 184 = 55 177,744… → 55 177,74 €.
    let recap = july_joiner(2_781_563);
    assert_eq!(recap.full_year(), None);
    assert_eq!(recap.annual_gross(), Money::from_cents(5_517_774));
    assert_eq!(codes_for("55 177,74", recap), vec![]);
}

#[test]
fn a_july_joiner_declared_at_the_raw_gross_is_flagged_with_the_annualised_figure() {
    let got = codes_for("27 815,63", july_joiner(2_781_563));
    assert_eq!(
        got,
        vec![("RECAP_PAIE_BRUT_DIFFERENT", Some("55177.74".to_string()))]
    );
}

#[test]
fn the_payroll_import_proposes_the_same_full_year_equivalent_as_the_flag_compares() {
    let text =
        "Période du 01/01/2026 au 31/12/2026\nSalarié(s) de 44A567\nDate d'entrée : 01/07/2026\n\
        RUBRIQUES;NB SALARIE;REMUNERATION;BASE;TX SAL.;SALARIAL;TX PAT.;PATRONAL\n\
        0005 Salaire;1;27 815,63;;;;;\nTotal Brut;;27 815,63;;;;;\n\
        2030 Vieillesse;1;;27 815,63;;;8,55;2 378,24\nTotal Retenus;;;;;;;2 378,24\n";
    let import = care_ledger::payroll::import_bytes(
        "juillet.csv",
        text.as_bytes(),
        &care_ledger::payroll::RubriqueRules::load_default(),
        &care_ledger::payroll::Limits::default(),
    )
    .unwrap();
    let recap = &import.recaps[0];
    assert_eq!(recap.entry_date, Some(date(2026, 7, 1)));
    let proposal = recap.full_year_equivalent().unwrap();
    assert_eq!(proposal.days_in_period, 184);
    assert_eq!(
        proposal.annualised_gross,
        july_joiner(2_781_563).annual_gross()
    );
}
