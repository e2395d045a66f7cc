mod common;

use care_ledger::domain::statement::flags::codes;
use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainId, Money, Percent};
use common::*;
use rust_decimal_macros::dec;

const FILES: [(&str, &str); 5] = [
    (
        "clinique-parc-d1bis.toml",
        include_str!("../fixtures/declarations/clinique-parc-d1bis.toml"),
    ),
    (
        "ght-rhone-brevenne-d1bis.toml",
        include_str!("../fixtures/declarations/ght-rhone-brevenne-d1bis.toml"),
    ),
    (
        "ch-montfavet-d1bis.toml",
        include_str!("../fixtures/declarations/ch-montfavet-d1bis.toml"),
    ),
    (
        "aurad-castelnau-d1bis.toml",
        include_str!("../fixtures/declarations/aurad-castelnau-d1bis.toml"),
    ),
    (
        "ght-rhone-brevenne-d2.toml",
        include_str!("../fixtures/declarations/ght-rhone-brevenne-d2.toml"),
    ),
];

/// Replays a declarations file through `decide`, every step accepted.
fn replay(name: &str) -> (Statement, Candidate, DomainId) {
    let text = FILES.iter().find(|(n, _)| *n == name).unwrap().1;
    let file = parse_declarations(text).unwrap();
    let cand = candidates()
        .into_iter()
        .find(|c| c.finess == file.candidate)
        .unwrap();
    let cat = catalogue(file.domain);
    let mut s = Statement::new();
    for (i, step) in file.steps.iter().enumerate() {
        let c = DecisionContext {
            catalogue: &cat,
            candidate: &cand,
            effective_at: step.effective_at,
            role: step.role,
        };
        let events = decide(&s, &c, step.command.clone())
            .unwrap_or_else(|r| panic!("{name} step {}: {r}", i + 1));
        for e in &events {
            s.apply(e);
        }
    }
    (s, cand, file.domain)
}

fn report(name: &str) -> (SubsidyReport, Vec<Flag>) {
    let (s, cand, domain) = replay(name);
    let cat = catalogue(domain);
    (
        compute_subsidy(&s, &cat, &cand).unwrap(),
        flags(&s, &cat, &cand, &FlagInputs::default()),
    )
}

#[test]
fn every_sample_declaration_replays_without_refusal() {
    for (name, _) in FILES {
        let (s, _, _) = replay(name);
        assert_eq!(s.status, StatementStatus::Submitted, "{name}");
    }
}

#[test]
fn the_private_clinic_gets_a_15_percent_decote_and_its_flags() {
    let (r, f) = report("clinique-parc-d1bis.toml");
    assert_eq!(r.declared_total, Money::from_cents(4_102_697));
    assert_eq!(r.receipts_total, Money::from_cents(300_000));
    assert_eq!(r.net, Money::from_cents(3_802_697));
    assert_eq!(r.decote, Percent::new(dec!(15)));
    assert_eq!(r.capped_ceiling, Money::from_cents(8_075_000));
    assert_eq!(r.subsidy, Money::from_cents(3_802_697));
    assert!(r.provisional);
    assert!(r.unknown_objectives.is_empty());
    assert_eq!(
        codes(&f).into_iter().collect::<Vec<_>>(),
        vec![
            "FACTURE_EN_DOUBLE",
            "NATURE_NON_ELIGIBLE",
            "RECAP_PAIE_ABSENT"
        ]
    );
}

#[test]
fn the_ght_has_every_objective_attained_and_no_decote() {
    let (r, _) = report("ght-rhone-brevenne-d1bis.toml");
    assert_eq!(r.decote, Percent::ZERO);
    assert!(r.unknown_objectives.is_empty());
    // 68 420 − 2 150 + 29 873,12 × (1 − 2 150 / 68 420) = 95 204,4002... ÷ 1 607 × 210 = 12 441,147... → 12 441,15.
    let internal = r.per_objective.values().map(|c| c.internal).sum::<Money>();
    assert_eq!(internal, Money::from_cents(1_244_115));
    assert_eq!(
        r.declared_total,
        Money::from_cents(1_244_115 + 2_460_000 + 1_128_000 + 648_000)
    );
    assert_eq!(r.subsidy, r.net);
}

#[test]
fn the_public_ej_with_d1_o3_unknown_stays_provisional() {
    let (r, f) = report("ch-montfavet-d1bis.toml");
    assert_eq!(
        r.unknown_objectives
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        vec!["D1.O3"]
    );
    assert!(r.provisional);
    assert_eq!(r.net, Money::from_cents(792_000 + 534_000 - 200_000));
    assert!(codes(&f).contains("NATURE_NON_ELIGIBLE"));
}

#[test]
fn the_dialysis_centre_loses_2_5_percent_for_d1_o4() {
    let (r, _) = report("aurad-castelnau-d1bis.toml");
    assert_eq!(r.decote, Percent::new(dec!(2.5)));
    assert_eq!(r.capped_ceiling, Money::from_cents(2_437_500));
    assert_eq!(r.subsidy, r.net);
}

#[test]
fn the_d2_statement_prices_without_a_schedule_when_all_is_attained() {
    let (r, f) = report("ght-rhone-brevenne-d2.toml");
    assert_eq!(r.decote, Percent::ZERO);
    assert_eq!(
        r.declared_total,
        Money::from_cents(3_840_000 + 5_274_000 + 420_000)
    );
    assert!(codes(&f).contains("NATURE_NON_ELIGIBLE"));
}

#[test]
fn a_declarations_file_with_an_unknown_role_names_the_step() {
    let text = FILES[0].1.replacen(
        "as = \"etablissement:daf@clinique-parc\"",
        "as = \"directeur:x\"",
        1,
    );
    let err = parse_declarations(&text).unwrap_err();
    assert!(
        matches!(
            err,
            DeclarationsError::Step {
                step: 1,
                field: "as",
                ..
            }
        ),
        "{err}"
    );
    let text = FILES[0]
        .1
        .replacen("command = \"OpenStatement\"", "command = \"Open\"", 1);
    assert!(matches!(
        parse_declarations(&text),
        Err(DeclarationsError::Syntax { .. })
    ));
}
