//! What-if figures: the subsidy if an objective not attained were reached, if every flagged unreviewed
//! line were refused, and the eligible cost the capped ceiling still funds — to the cent, over the one
//! subsidy computation.

mod common;

use care_ledger::domain::statement::what_if::what_if;
use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainId, Money, ObjectiveCode};
use common::*;
use std::collections::BTreeMap;

/// Private candidate: the seed employee (6 613,57, D1.O1.A), one invoice 12 000,00 (D1.O2.A), a
/// receipt 1 000,00: eligible 18 613,57, net 17 613,57.
fn statement(except: &[(&str, &str, &str)]) -> (Statement, Candidate) {
    let cat = d1bis();
    let cand = private();
    let c = ctx(&cat, &cand, Role::Etablissement);
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &c,
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    run(
        &mut s,
        &c,
        StatementCommand::DeclareExternalCost(invoice(
            "EXT-1",
            "Cyberscan SAS",
            "F-1",
            "12 000,00",
        )),
    );
    run(
        &mut s,
        &c,
        StatementCommand::DeclareReceipt(ReceiptInput {
            line_id: "REC-1".into(),
            group: "D1.O2".into(),
            provenance: "Subvention régionale".into(),
            amount: "1 000,00".into(),
        }),
    );
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    for o in &cat.objectives {
        if o.ght_only {
            continue;
        }
        let (status, coverage) = except
            .iter()
            .find(|(code, _, _)| *code == o.code.as_str())
            .map(|(_, s, c)| (*s, *c))
            .unwrap_or(("attained", ""));
        run(&mut s, &ctrl, attainment(o.code.as_str(), status, coverage));
    }
    (s, cand)
}

fn with_ceiling(mut cand: Candidate, cents: i64) -> Candidate {
    cand.domains.get_mut(&DomainId::D1bis).unwrap().ceiling = Money::from_cents(cents);
    cand
}

fn flag_on(line: &str) -> Flag {
    Flag {
        code: "FACTURE_EN_DOUBLE",
        message_fr: "Facture déjà déclarée".into(),
        values: BTreeMap::new(),
        line_id: Some(LineId::parse(line).unwrap()),
        controller_only: false,
    }
}

fn code(c: &str) -> ObjectiveCode {
    ObjectiveCode::parse(c).unwrap()
}

#[test]
fn reaching_each_objective_not_attained_is_priced_alone_to_the_cent() {
    // Ceiling 12 345,67: D1.O2.B at 75 % (15 %) and D1.O4 (2,5 %) not attained, décote 17,5 %:
    // capped ceiling 10 185,17 (12 345,67 × 0,825 = 10 185,177 75, rounded down) is the subsidy.
    let (s, cand) = statement(&[
        ("D1.O2.B", "not_attained", "75"),
        ("D1.O4", "not_attained", ""),
    ]);
    let cand = with_ceiling(cand, 1_234_567);
    let w = what_if(&s, &d1bis(), &cand, &[]);
    assert_eq!(w.subsidy, Some(Money::from_cents(1_018_517)));
    assert_eq!(w.objectives.len(), 2);
    // Reaching D1.O2.B leaves 2,5 %: 12 037,02 (12 037,028 25 rounded down), +1 851,85.
    assert_eq!(w.objectives[0].objective, code("D1.O2.B"));
    assert_eq!(w.objectives[0].subsidy, Some(Money::from_cents(1_203_702)));
    assert_eq!(w.objectives[0].change, Some(Money::from_cents(185_185)));
    assert_eq!(
        w.objectives[0].label_fr(),
        "atteindre D1.O2.B : +1\u{202f}851,85\u{a0}€"
    );
    // Reaching D1.O4 leaves 15 %: 10 493,81 (10 493,819 5 rounded down), +308,64.
    assert_eq!(w.objectives[1].objective, code("D1.O4"));
    assert_eq!(w.objectives[1].subsidy, Some(Money::from_cents(1_049_381)));
    assert_eq!(w.objectives[1].change, Some(Money::from_cents(30_864)));
    assert_eq!(
        w.objectives[1].label_fr(),
        "atteindre D1.O4 : +308,64\u{a0}€"
    );
    // The net (17 613,57) is above the capped ceiling: no eligible cost left to fund.
    assert_eq!(w.ceiling_headroom, Some(Money::ZERO));
}

#[test]
fn reaching_an_objective_gains_nothing_when_the_net_stays_under_the_capped_ceiling() {
    let (s, cand) = statement(&[("D1.O4", "not_attained", "")]);
    let w = what_if(&s, &d1bis(), &cand, &[]);
    assert_eq!(w.subsidy, Some(Money::from_cents(1_761_357)));
    assert_eq!(w.objectives[0].change, Some(Money::ZERO));
    assert_eq!(w.objectives[0].label_fr(), "atteindre D1.O4 : 0,00\u{a0}€");
    // Capped ceiling 95 000 × 0,975 = 92 625,00; 92 625,00 − 17 613,57 = 75 011,43 still funded.
    assert_eq!(w.ceiling_headroom, Some(Money::from_cents(7_501_143)));
}

#[test]
fn refusing_every_flagged_unreviewed_line_removes_its_amount_from_the_subsidy() {
    let (mut s, cand) = statement(&[]);
    let cat = d1bis();
    // The internal cost is flagged but already reviewed (retained at its declared amount): it is
    // not counted.
    let internal = s.lines.get_mut(&LineId::parse("INT-1").unwrap()).unwrap();
    internal.retained = Some(internal.declared);
    let w = what_if(&s, &cat, &cand, &[flag_on("EXT-1"), flag_on("INT-1")]);
    let f = &w.flagged_lines_refused;
    assert_eq!(f.lines, vec![LineId::parse("EXT-1").unwrap()]);
    assert_eq!(f.eligible_removed, Money::from_cents(1_200_000));
    // 6 613,57 − 1 000,00 receipts = 5 613,57.
    assert_eq!(f.subsidy, Some(Money::from_cents(561_357)));
    assert_eq!(f.change, Some(Money::from_cents(-1_200_000)));
    assert_eq!(
        f.label_fr(),
        "refuser la ligne signalée non revue (EXT-1) : −12\u{202f}000,00\u{a0}€"
    );
    // The statement itself is unchanged.
    assert_eq!(
        compute_subsidy(&s, &cat, &cand).unwrap().subsidy,
        Money::from_cents(1_761_357)
    );
}

#[test]
fn without_flagged_lines_the_refusal_scenario_changes_nothing() {
    let (s, cand) = statement(&[]);
    let w = what_if(&s, &d1bis(), &cand, &[]);
    assert!(w.flagged_lines_refused.lines.is_empty());
    assert_eq!(w.flagged_lines_refused.change, Some(Money::ZERO));
    assert!(w.objectives.is_empty());
    // 95 000,00 − 17 613,57.
    assert_eq!(w.ceiling_headroom, Some(Money::from_cents(7_738_643)));
}

#[test]
fn in_a_domain_without_a_published_schedule_reaching_the_objective_makes_the_subsidy_computable() {
    let cat = d2();
    let cand = private();
    let mut s = opened(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    let missed = cat.objectives[0].code.clone();
    for o in &cat.objectives {
        let status = if o.code == missed {
            "not_attained"
        } else {
            "attained"
        };
        run(&mut s, &ctrl, attainment(o.code.as_str(), status, ""));
    }
    assert!(compute_subsidy(&s, &cat, &cand).is_err());
    let w = what_if(&s, &cat, &cand, &[]);
    assert_eq!(w.subsidy, None);
    assert_eq!(w.ceiling_headroom, None);
    assert_eq!(w.objectives.len(), 1);
    assert_eq!(w.objectives[0].subsidy, Some(Money::ZERO));
    assert_eq!(w.objectives[0].change, None);
    assert_eq!(
        w.objectives[0].label_fr(),
        format!("atteindre {missed} : subvention de 0,00\u{a0}€")
    );
}
