mod common;

use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainId, Money, ObjectiveCode, Percent};
use common::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn receipt(id: &str, group: &str, amount: &str) -> StatementCommand {
    StatementCommand::DeclareReceipt(ReceiptInput {
        line_id: id.into(),
        group: group.into(),
        provenance: "Subvention ARS / région".into(),
        amount: amount.into(),
    })
}

/// Private candidate (ceiling 95 000,00): the seed employee (6 613,57), one invoice 12 000,00, receipt 1 000,00.
fn private_statement() -> (Statement, Candidate) {
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
    run(&mut s, &c, receipt("REC-1", "D1.O2", "1 000,00"));
    (s, cand)
}

fn attain_all(s: &mut Statement, cand: &Candidate, except: &[(&str, &str, &str)]) {
    let cat = d1bis();
    let ctrl = ctx(&cat, cand, Role::Controleur);
    for o in &cat.objectives {
        if o.ght_only && !cand.is_ght() {
            continue;
        }
        let (status, coverage) = except
            .iter()
            .find(|(code, _, _)| *code == o.code.as_str())
            .map(|(_, s, c)| (*s, *c))
            .unwrap_or(("attained", ""));
        run(s, &ctrl, attainment(o.code.as_str(), status, coverage));
    }
}

#[test]
fn with_every_objective_attained_the_subsidy_is_the_net_declared_total() {
    let (mut s, cand) = private_statement();
    attain_all(&mut s, &cand, &[]);
    let r = compute_subsidy(&s, &d1bis(), &cand).unwrap();
    assert_eq!(r.declared_total, Money::from_cents(1_861_357));
    assert_eq!(r.eligible_total, Money::from_cents(1_861_357));
    assert_eq!(r.receipts_total, Money::from_cents(100_000));
    assert_eq!(r.net, Money::from_cents(1_761_357));
    assert_eq!(r.decote, Percent::ZERO);
    assert_eq!(r.capped_ceiling, Money::from_cents(9_500_000));
    assert_eq!(r.subsidy, Money::from_cents(1_761_357));
    assert_eq!(r.due, Money::from_cents(1_761_357));
    assert_eq!(r.unreviewed_lines, 2);
    assert!(r.unknown_objectives.is_empty());
    assert!(r.provisional, "lines not reviewed yet");
    let o1a = &r.per_objective[&ObjectiveCode::parse("D1.O1.A").unwrap()];
    assert_eq!(
        (o1a.internal, o1a.external, o1a.total),
        (
            Money::from_cents(661_357),
            Money::ZERO,
            Money::from_cents(661_357)
        )
    );
    assert_eq!(
        r.receipts_per_group[&ObjectiveCode::parse("D1.O2").unwrap()],
        Money::from_cents(100_000)
    );
}

#[test]
fn reviewed_amounts_replace_declared_ones_and_end_the_provisional_state() {
    let (mut s, cand) = private_statement();
    attain_all(&mut s, &cand, &[]);
    for line in s.lines.values_mut() {
        if line.content.is_cost() {
            line.retained = Some(line.declared);
        }
    }
    s.lines
        .get_mut(&LineId::parse("EXT-1").unwrap())
        .unwrap()
        .retained = Some(Money::from_cents(900_000));
    let r = compute_subsidy(&s, &d1bis(), &cand).unwrap();
    assert_eq!(r.declared_total, Money::from_cents(1_861_357));
    assert_eq!(r.eligible_total, Money::from_cents(1_561_357));
    assert_eq!(r.subsidy, Money::from_cents(1_461_357));
    assert!(!r.provisional);
}

#[test]
fn d1_o2_b_at_75_percent_coverage_costs_15_percent_of_the_ceiling() {
    let (mut s, mut cand) = private_statement();
    attain_all(&mut s, &cand, &[("D1.O2.B", "not_attained", "75")]);
    let r = compute_subsidy(&s, &d1bis(), &cand).unwrap();
    assert_eq!(r.decote, Percent::new(dec!(15)));
    assert_eq!(r.capped_ceiling, Money::from_cents(8_075_000));
    assert_eq!(r.subsidy, Money::from_cents(1_761_357));
    // A small ceiling makes the cap bite: 12 345,67 × 0,85 = 10 493,8195 → 10 493,81 (rounded down).
    cand.domains.get_mut(&DomainId::D1bis).unwrap().ceiling = Money::from_cents(1_234_567);
    let r = compute_subsidy(&s, &d1bis(), &cand).unwrap();
    assert_eq!(r.capped_ceiling, Money::from_cents(1_049_381));
    assert_eq!(r.subsidy, Money::from_cents(1_049_381));
    let r = compute_subsidy_with_payments(
        &s,
        &d1bis(),
        &cand,
        PaymentTotals {
            committed: Money::from_cents(1_100_000),
            disbursed: Money::ZERO,
            recovered: Money::from_cents(10_000),
            ..PaymentTotals::default()
        },
    )
    .unwrap();
    assert_eq!(r.due, Money::from_cents(-40_619));
}

#[test]
fn coverage_under_66_percent_or_d1_o1_b_missed_leaves_nothing_and_the_sum_is_capped() {
    let (mut s, cand) = private_statement();
    attain_all(
        &mut s,
        &cand,
        &[
            ("D1.O2.B", "not_attained", "60"),
            ("D1.O3", "not_attained", ""),
            ("D1.O4", "not_attained", ""),
        ],
    );
    let r = compute_subsidy(&s, &d1bis(), &cand).unwrap();
    assert_eq!(r.decote, Percent::HUNDRED);
    assert_eq!(r.decote_detail.len(), 3);
    assert_eq!(r.capped_ceiling, Money::ZERO);
    assert_eq!(r.subsidy, Money::ZERO);
}

#[test]
fn small_decotes_add_up_d1_o4_and_d1_o5_give_5_percent() {
    let (mut s, cand) = private_statement();
    attain_all(
        &mut s,
        &cand,
        &[("D1.O4", "not_attained", ""), ("D1.O5", "not_attained", "")],
    );
    let (d, _) = decote_percent(&s, &d1bis(), &cand).unwrap();
    assert_eq!(d, Percent::new(dec!(5.0)));
}

#[test]
fn d1_o6_is_counted_once_for_a_ght_when_both_sub_objectives_are_missed() {
    let cat = d1bis();
    let cand = ght();
    let mut s = opened(&cat, &cand);
    attain_all(
        &mut s,
        &cand,
        &[
            ("D1.O6.A", "not_attained", ""),
            ("D1.O6.B", "not_attained", ""),
        ],
    );
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(r.decote, Percent::new(dec!(5)));
    assert_eq!(r.decote_detail[0].item.as_str(), "D1.O6");
    assert_eq!(r.decote_detail[0].not_attained.len(), 2);
    assert_eq!(r.capped_ceiling, Money::from_cents(17_100_000));
    assert_eq!(r.subsidy, Money::ZERO);
}

#[test]
fn an_unknown_objective_makes_the_subsidy_provisional() {
    let (mut s, cand) = private_statement();
    let cat = d1bis();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        attainment("D1.O1.A", "attained", ""),
    );
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert!(r.provisional);
    assert_eq!(
        r.unknown_objectives.len(),
        6,
        "D1.O6.* do not apply to a private candidate"
    );
}

#[test]
fn a_d2_objective_not_attained_cannot_be_priced_without_a_published_schedule() {
    let cat = d2();
    let cand = ght();
    let mut s = opened(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    for o in &cat.objectives {
        run(&mut s, &ctrl, attainment(o.code.as_str(), "attained", ""));
    }
    let r = compute_subsidy(&s, &cat, &cand).unwrap();
    assert_eq!(r.decote, Percent::ZERO);
    run(&mut s, &ctrl, attainment("D2.03.C", "not_attained", ""));
    let err = compute_subsidy(&s, &cat, &cand).unwrap_err();
    assert_eq!(
        err,
        SubsidyError::DecoteScheduleNotPublished {
            domain: "D2",
            objectives: "D2.O3.C".into()
        }
    );
    assert!(err.to_string().starts_with("barème de décote non publié"));
}

// ----- properties -----

fn arb_status() -> impl Strategy<Value = AttainmentStatus> {
    prop_oneof![
        Just(AttainmentStatus::Unknown),
        Just(AttainmentStatus::Attained),
        Just(AttainmentStatus::NotAttained)
    ]
}

/// Invoices (cents, retained cents), receipts (cents), statuses of the 9 objectives, D1.O2.B coverage,
/// withdraw the first invoice.
type Spec = (
    Vec<(i64, Option<i64>)>,
    Vec<i64>,
    Vec<AttainmentStatus>,
    Option<u32>,
    bool,
);

prop_compose! {
    fn arb_statement()(
        amounts in prop::collection::vec((1i64..500_000_000, prop::option::of(0i64..500_000_000)), 0..8),
        receipts in prop::collection::vec(1i64..200_000_000, 0..3),
        statuses in prop::collection::vec(arb_status(), 9),
        coverage in prop::option::of(0u32..=100),
        withdraw_first in any::<bool>(),
    ) -> Spec {
        (amounts, receipts, statuses, coverage, withdraw_first)
    }
}

fn build(
    cand: &Candidate,
    (amounts, receipts, statuses, coverage, withdraw_first): &Spec,
) -> Statement {
    let cat = d1bis();
    let mut s = opened(&cat, cand);
    let ext = |i: usize, cents: i64| ExternalCostLine {
        cost_type: CostType::Investissement,
        order_date: date(2026, 2, 1),
        invoice_date: date(2026, 3, 1),
        order_number: format!("BC-{i}"),
        invoice_number: format!("F-{i}"),
        supplier: "Prestataire".into(),
        service_label: "Audit".into(),
        amount: Money::from_cents(cents),
        nature: "PRESTATION_EXTERNE".into(),
        objective: ObjectiveCode::parse("D1.O2.A").unwrap(),
        contribution: "x".into(),
    };
    for (i, (cents, _)) in amounts.iter().enumerate() {
        s.apply(&StatementEvent::ExternalCostDeclared {
            schema_version: 1,
            line_id: LineId::parse(&format!("E{i}")).unwrap(),
            line: ext(i, *cents),
        });
    }
    for (i, (_, retained)) in amounts.iter().enumerate() {
        s.lines
            .get_mut(&LineId::parse(&format!("E{i}")).unwrap())
            .unwrap()
            .retained = retained.map(Money::from_cents);
    }
    if *withdraw_first && !amounts.is_empty() {
        s.apply(&StatementEvent::LineWithdrawn {
            schema_version: 1,
            line_id: LineId::parse("E0").unwrap(),
            reason: "r".into(),
        });
    }
    for (i, cents) in receipts.iter().enumerate() {
        s.apply(&StatementEvent::ReceiptDeclared {
            schema_version: 1,
            line_id: LineId::parse(&format!("R{i}")).unwrap(),
            line: ReceiptLine {
                group: ObjectiveCode::parse("D1.O2").unwrap(),
                provenance: "r".into(),
                amount: Money::from_cents(*cents),
            },
        });
    }
    for (o, status) in cat.objectives.iter().zip(statuses) {
        let cov = if o.code.as_str() == "D1.O2.B" {
            coverage.map(|c| Percent::new(c.into()))
        } else {
            None
        };
        s.apply(&StatementEvent::AttainmentRecorded {
            schema_version: 1,
            objective: o.code.clone(),
            status: *status,
            coverage: cov,
            reason: String::new(),
        });
    }
    s
}

proptest! {
    #[test]
    fn subsidy_never_exceeds_net_capped_ceiling_or_ceiling_and_decote_stays_in_0_100(
        spec in arb_statement(),
        ceiling_cents in 0i64..10_000_000_000,
        is_ght in any::<bool>(),
    ) {
        let mut cand = if is_ght { ght() } else { private() };
        cand.domains.get_mut(&DomainId::D1bis).unwrap().ceiling = Money::from_cents(ceiling_cents);
        let s = build(&cand, &spec);
        let r = compute_subsidy(&s, &d1bis(), &cand).unwrap();
        prop_assert!(r.subsidy <= r.capped_ceiling);
        prop_assert!(r.capped_ceiling <= r.ceiling);
        prop_assert!(r.subsidy <= r.net);
        prop_assert!(r.subsidy >= Money::ZERO);
        prop_assert!(r.net >= Money::ZERO);
        prop_assert!(r.decote >= Percent::ZERO && r.decote <= Percent::HUNDRED);
        prop_assert_eq!(r.capped_ceiling, r.capped_ceiling.floor_cents());
        prop_assert_eq!(r.due, r.subsidy);
        let unknown = spec.2.iter().zip(d1bis().objectives.iter())
            .any(|(st, o)| *st == AttainmentStatus::Unknown && (!o.ght_only || cand.is_ght()));
        let unreviewed = r.unreviewed_lines > 0;
        prop_assert_eq!(r.provisional, unknown || unreviewed);
    }
}
