mod common;

use care_ledger::domain::statement::*;
use care_ledger::domain::{Candidate, DomainCatalogue, Money};
use chrono::{DateTime, Utc};
use common::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn receipt(id: &str, amount: &str) -> StatementCommand {
    StatementCommand::DeclareReceipt(ReceiptInput {
        line_id: id.into(),
        group: "D1.O2".into(),
        provenance: "Subvention ARS".into(),
        amount: amount.into(),
    })
}

/// Private candidate (ceiling 95 000,00), D1 bis: INT-1 6 613,57, EXT-1 12 000,00, receipt 1 000,00,
/// submitted, all objectives attained; reviewed INT-1 eligible, EXT-1 partially at 10 000,00.
/// Subsidy 6 613,57 + 10 000,00 − 1 000,00 = 15 613,57.
fn payable() -> (Statement, DomainCatalogue, Candidate) {
    let cat = d1bis();
    let cand = private();
    let (mut s, _) = declared_and_submitted(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(&mut s, &ctrl, eligible("INT-1"));
    run(&mut s, &ctrl, partially_eligible("EXT-1", "10 000,00"));
    attain_everything(&mut s, &cat, &cand);
    (s, cat, cand)
}

fn declared_and_submitted(cat: &DomainCatalogue, cand: &Candidate) -> (Statement, ()) {
    let mut s = opened(cat, cand);
    let etab = ctx(cat, cand, Role::Etablissement);
    run(
        &mut s,
        &etab,
        StatementCommand::DeclareInternalCost(seed_employee("INT-1")),
    );
    run(
        &mut s,
        &etab,
        StatementCommand::DeclareExternalCost(invoice(
            "EXT-1",
            "Cyberscan SAS",
            "F-1",
            "12 000,00",
        )),
    );
    run(&mut s, &etab, receipt("REC-1", "1 000,00"));
    run(&mut s, &etab, StatementCommand::Submit);
    (s, ())
}

/// Inside the D1 bis example payment window (2027-01-01 … 2027-12-31).
fn in_window() -> DateTime<Utc> {
    noon(2027, 2, 1)
}

fn pay<'a>(cat: &'a DomainCatalogue, cand: &'a Candidate) -> DecisionContext<'a> {
    ctx_at(cat, cand, Role::Paiement, in_window())
}

fn figures(s: &Statement, cat: &DomainCatalogue, cand: &Candidate) -> SubsidyReport {
    compute_subsidy(s, cat, cand).unwrap()
}

#[test]
fn the_subsidy_of_the_payable_statement_is_final_and_fully_due() {
    let (s, cat, cand) = payable();
    let r = figures(&s, &cat, &cand);
    assert!(!r.provisional);
    assert_eq!(r.subsidy, Money::from_cents(1_561_357));
    assert_eq!(r.due, Money::from_cents(1_561_357));
    assert_eq!(
        (r.committed, r.disbursed, r.recovered),
        (Money::ZERO, Money::ZERO, Money::ZERO)
    );
}

#[test]
fn a_payment_order_the_day_before_or_after_the_window_is_refused_and_its_first_and_last_days_are_open(
) {
    let (s, cat, cand) = payable();
    let at = |instant| {
        decide(
            &s,
            &ctx_at(&cat, &cand, Role::Paiement, instant),
            order_payment("", "100,00"),
        )
    };
    let outside = |d| Refusal::OutsidePaymentWindow {
        date: d,
        start: date(2027, 1, 1),
        end: date(2027, 12, 31),
    };
    assert_eq!(at(noon(2026, 12, 31)), Err(outside(date(2026, 12, 31))));
    assert_eq!(at(noon(2028, 1, 1)), Err(outside(date(2028, 1, 1))));
    // Dates in messages as French users read them.
    assert_eq!(
        outside(date(2026, 12, 31)).to_string(),
        "le 31/12/2026 est hors du guichet de paiement (du 01/01/2027 au 31/12/2027)"
    );
    assert!(at(noon(2027, 1, 1)).is_ok());
    assert!(at(noon(2027, 12, 31)).is_ok());
    // The Paris date counts: 2026-12-31 23:30 UTC is already 2027-01-01 in Paris.
    assert!(at("2026-12-31T23:30:00Z".parse().unwrap()).is_ok());
}

#[test]
fn a_domain_without_a_payment_window_refuses_every_payment() {
    let (s, mut cat, cand) = payable();
    cat.payment_window = None;
    let refused = decide(&s, &pay(&cat, &cand), order_payment("", "100,00")).unwrap_err();
    assert_eq!(
        refused,
        Refusal::NoPaymentWindow { domain: "D1bis" }.clone()
    );
    assert!(
        refused.to_string().contains("aucun guichet de paiement"),
        "{refused}"
    );
}

#[test]
fn a_payment_on_a_statement_not_submitted_is_refused() {
    let (mut s, cat, cand) = payable();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        StatementCommand::Reopen {
            reason: "contrôle".into(),
        },
    );
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("", "100,00")),
        Err(Refusal::NotSubmittedForPayment { status: "rouvert" })
    );
}

#[test]
fn a_payment_on_a_provisional_subsidy_is_refused() {
    let cat = d1bis();
    let cand = private();
    let (mut s, _) = declared_and_submitted(&cat, &cand);
    attain_everything(&mut s, &cat, &cand);
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("", "100,00")),
        Err(Refusal::ProvisionalSubsidy {
            unknown_objectives: 0,
            unreviewed_lines: 2
        })
    );
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(&mut s, &ctrl, eligible("INT-1"));
    run(&mut s, &ctrl, eligible("EXT-1"));
    run(&mut s, &ctrl, attainment("D1.O3", "unknown", ""));
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("", "100,00")),
        Err(Refusal::ProvisionalSubsidy {
            unknown_objectives: 1,
            unreviewed_lines: 0
        })
    );
}

#[test]
fn a_payment_with_a_decote_of_100_percent_is_refused() {
    let (mut s, cat, cand) = payable();
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        attainment("D1.O1.B", "not_attained", ""),
    );
    assert_eq!(figures(&s, &cat, &cand).subsidy, Money::ZERO);
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("", "0,01")),
        Err(Refusal::FullDecote)
    );
}

#[test]
fn a_payment_one_cent_above_the_due_amount_is_refused_and_the_exact_due_amount_is_accepted() {
    let (mut s, cat, cand) = payable();
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("", "15 613,58")),
        Err(Refusal::AboveDue {
            field: "amount",
            amount: Money::from_cents(1_561_358),
            due: Money::from_cents(1_561_357),
        })
    );
    run(&mut s, &pay(&cat, &cand), order_payment("", "10 000,00"));
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("", "5 613,58")).unwrap_err(),
        Refusal::AboveDue {
            field: "amount",
            amount: Money::from_cents(561_358),
            due: Money::from_cents(561_357),
        }
    );
    run(&mut s, &pay(&cat, &cand), order_payment("", "5 613,57"));
    assert_eq!(figures(&s, &cat, &cand).due, Money::ZERO);
    assert!(matches!(
        decide(&s, &pay(&cat, &cand), order_payment("", "0,01")),
        Err(Refusal::AboveDue { .. })
    ));
    assert!(matches!(
        decide(&s, &pay(&cat, &cand), order_payment("", "0")),
        Err(Refusal::NotPositive {
            field: "amount",
            ..
        })
    ));
}

#[test]
fn a_d2_payment_is_refused_while_a_missed_objective_has_no_published_decote_schedule() {
    let cat = d2();
    let cand = ght();
    let mut s = opened(&cat, &cand);
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Etablissement),
        StatementCommand::Submit,
    );
    attain_everything(&mut s, &cat, &cand);
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        attainment("D2.O3.C", "not_attained", ""),
    );
    let refused = decide(
        &s,
        &ctx(&cat, &cand, Role::Paiement),
        order_payment("", "1,00"),
    )
    .unwrap_err();
    assert!(
        matches!(
            &refused,
            Refusal::SubsidyNotComputable {
                source: SubsidyError::DecoteScheduleNotPublished { domain: "D2", .. }
            }
        ),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("barème de décote non publié"),
        "{refused}"
    );
}

#[test]
fn only_the_payment_desk_orders_payments() {
    let (s, cat, cand) = payable();
    for role in [Role::Etablissement, Role::Controleur, Role::Admin] {
        assert!(matches!(
            decide(
                &s,
                &ctx_at(&cat, &cand, role, in_window()),
                order_payment("", "1,00")
            ),
            Err(Refusal::RoleNotAllowed {
                command: "OrderPayment",
                ..
            })
        ));
    }
}

#[test]
fn payment_ids_are_generated_in_order_dated_by_the_recorded_time_and_never_reused() {
    let (mut s, cat, cand) = payable();
    let events = run(&mut s, &pay(&cat, &cand), order_payment("", "1 000,00"));
    assert_eq!(
        events,
        vec![StatementEvent::PaymentOrdered {
            schema_version: 1,
            payment_id: PaymentId::parse("PAY-0001").unwrap(),
            amount: Money::from_cents(100_000),
            reference: "Mandat CaRE".into(),
            ordered_on: date(2027, 2, 1),
        }]
    );
    let mut cmd = order_payment(" ", "1,00");
    assign_line_id(&mut cmd, &s);
    assert_eq!(cmd, order_payment("PAY-0002", "1,00"));
    assert_eq!(
        decide(&s, &pay(&cat, &cand), order_payment("PAY-0001", "1,00")),
        Err(Refusal::DuplicatePaymentId {
            field: "payment_id",
            id: PaymentId::parse("PAY-0001").unwrap()
        })
    );
}

fn disburse(id: &str) -> StatementCommand {
    StatementCommand::ConfirmDisbursement {
        payment_id: id.into(),
        bank_reference: "VIR-2027-0042".into(),
        value_date: "03/02/2027".into(),
    }
}

fn cancel(id: &str) -> StatementCommand {
    StatementCommand::CancelPayment {
        payment_id: id.into(),
        reason: "RIB erroné".into(),
    }
}

#[test]
fn a_disbursement_is_refused_for_an_unknown_a_cancelled_or_an_already_disbursed_payment() {
    let (mut s, cat, cand) = payable();
    let p = pay(&cat, &cand);
    run(&mut s, &p, order_payment("PAY-A", "1 000,00"));
    run(&mut s, &p, order_payment("PAY-B", "2 000,00"));
    assert_eq!(
        decide(&s, &p, disburse("PAY-Z")),
        Err(Refusal::UnknownPayment {
            payment_id: "PAY-Z".into()
        })
    );
    let later = ctx_at(&cat, &cand, Role::Paiement, noon(2027, 2, 4));
    let events = run(&mut s, &later, disburse("PAY-A"));
    assert!(matches!(
        &events[0],
        StatementEvent::PaymentDisbursed { value_date, disbursed_on, .. }
            if *value_date == date(2027, 2, 3) && *disbursed_on == date(2027, 2, 4)
    ));
    let a = PaymentId::parse("PAY-A").unwrap();
    assert_eq!(
        decide(&s, &p, disburse("PAY-A")),
        Err(Refusal::PaymentAlreadyDisbursed {
            payment_id: a.clone()
        })
    );
    assert_eq!(
        decide(&s, &p, cancel("PAY-A")),
        Err(Refusal::PaymentAlreadyDisbursed { payment_id: a })
    );
    run(&mut s, &p, cancel("PAY-B"));
    let b = PaymentId::parse("PAY-B").unwrap();
    assert_eq!(
        decide(&s, &p, disburse("PAY-B")),
        Err(Refusal::PaymentCancelled {
            payment_id: b.clone()
        })
    );
    assert_eq!(
        decide(&s, &p, cancel("PAY-B")),
        Err(Refusal::PaymentCancelled { payment_id: b })
    );
    let r = figures(&s, &cat, &cand);
    assert_eq!(
        r.committed,
        Money::from_cents(100_000),
        "the cancelled order no longer counts"
    );
    assert_eq!(r.disbursed, Money::from_cents(100_000));
    assert_eq!(r.due, Money::from_cents(1_461_357));
    assert_eq!(
        s.payments.payments[&PaymentId::parse("PAY-B").unwrap()].status,
        PaymentStatus::Cancelled
    );
}

fn recovery_order(id: &str, amount: &str) -> StatementCommand {
    StatementCommand::IssueRecoveryOrder {
        recovery_id: id.into(),
        amount: amount.into(),
        reason: "Trop-perçu après contrôle".into(),
    }
}

fn recovery_received(id: &str, amount: &str) -> StatementCommand {
    StatementCommand::RecordRecoveryReceived {
        recovery_id: id.into(),
        amount: amount.into(),
        bank_reference: "REMB-0001".into(),
    }
}

#[test]
fn a_recovery_order_needs_an_overpayment_and_never_exceeds_what_is_not_yet_covered() {
    let (mut s, cat, cand) = payable();
    let p = pay(&cat, &cand);
    assert_eq!(
        decide(&s, &p, recovery_order("", "1,00")),
        Err(Refusal::NoOverpayment {
            due: Money::from_cents(1_561_357)
        })
    );
    run(&mut s, &p, order_payment("", "15 613,57"));
    // The controller lowers EXT-1 to 9 000,00: 1 000,00 overpaid.
    run(
        &mut s,
        &ctx(&cat, &cand, Role::Controleur),
        partially_eligible("EXT-1", "9 000,00"),
    );
    let r = figures(&s, &cat, &cand);
    assert_eq!(
        (r.due, r.overpayment),
        (Money::from_cents(-100_000), Money::from_cents(100_000))
    );
    assert_eq!(
        decide(&s, &p, recovery_order("", "1 000,01")),
        Err(Refusal::RecoveryAboveOverpayment {
            amount: Money::from_cents(100_001),
            uncovered: Money::from_cents(100_000),
        })
    );
    run(&mut s, &p, recovery_order("", "600,00"));
    assert_eq!(
        decide(&s, &p, recovery_order("", "400,01")),
        Err(Refusal::RecoveryAboveOverpayment {
            amount: Money::from_cents(40_001),
            uncovered: Money::from_cents(40_000),
        })
    );
    assert_eq!(
        decide(&s, &p, recovery_received("REC-PAY-0001", "600,01")),
        Err(Refusal::AboveRecoveryOutstanding {
            amount: Money::from_cents(60_001),
            outstanding: Money::from_cents(60_000),
        })
    );
    assert_eq!(
        decide(&s, &p, recovery_received("REC-PAY-0009", "1,00")),
        Err(Refusal::UnknownRecovery {
            recovery_id: "REC-PAY-0009".into()
        })
    );
    run(&mut s, &p, recovery_received("REC-PAY-0001", "600,00"));
    let r = figures(&s, &cat, &cand);
    assert_eq!(
        (r.recovered, r.recovery_outstanding, r.due),
        (
            Money::from_cents(60_000),
            Money::ZERO,
            Money::from_cents(-40_000)
        )
    );
}

#[test]
fn a_full_cycle_from_declaration_to_recovery_ends_with_nothing_due() {
    let cat = d1bis();
    let cand = private();
    let (mut s, _) = declared_and_submitted(&cat, &cand);
    let ctrl = ctx(&cat, &cand, Role::Controleur);
    run(&mut s, &ctrl, eligible("INT-1"));
    run(&mut s, &ctrl, partially_eligible("EXT-1", "10 000,00"));
    let r = figures(&s, &cat, &cand);
    assert!(r.provisional, "objectives still unknown");
    attain_everything(&mut s, &cat, &cand);
    run(&mut s, &ctrl, attainment("D1.O4", "not_attained", ""));
    // Décote 2,5 %: capped ceiling 92 625,00 above the net 15 613,57.
    let r = figures(&s, &cat, &cand);
    assert_eq!(r.capped_ceiling, Money::from_cents(9_262_500));
    assert_eq!(r.subsidy, Money::from_cents(1_561_357));
    assert!(!r.provisional);

    let p = pay(&cat, &cand);
    run(&mut s, &p, order_payment("", "15 613,57"));
    run(
        &mut s,
        &ctx_at(&cat, &cand, Role::Paiement, noon(2027, 2, 5)),
        disburse("PAY-0001"),
    );
    let r = figures(&s, &cat, &cand);
    assert_eq!(
        (r.committed, r.disbursed, r.due),
        (
            Money::from_cents(1_561_357),
            Money::from_cents(1_561_357),
            Money::ZERO
        )
    );

    // A later review lowers EXT-1 to 8 765,43: 1 234,57 overpaid.
    run(&mut s, &ctrl, partially_eligible("EXT-1", "8 765,43"));
    let r = figures(&s, &cat, &cand);
    assert_eq!(r.subsidy, Money::from_cents(1_437_900));
    assert_eq!(r.due, Money::from_cents(-123_457));
    assert_eq!(r.overpayment, Money::from_cents(123_457));
    assert!(matches!(
        decide(&s, &p, order_payment("", "0,01")),
        Err(Refusal::AboveDue { .. })
    ));

    run(&mut s, &p, recovery_order("", "1 234,57"));
    let r = figures(&s, &cat, &cand);
    assert_eq!(
        (r.recovery_outstanding, r.due),
        (Money::from_cents(123_457), Money::from_cents(-123_457))
    );
    run(&mut s, &p, recovery_received("REC-PAY-0001", "1 234,57"));
    let r = figures(&s, &cat, &cand);
    assert_eq!(r.recovered, Money::from_cents(123_457));
    assert_eq!(r.recovery_outstanding, Money::ZERO);
    assert_eq!(r.due, Money::ZERO);
    assert_eq!(r.overpayment, Money::ZERO);
    assert_eq!(r.committed - r.recovered, r.subsidy);
}

#[test]
fn payment_events_read_back_from_json() {
    let (mut s, cat, cand) = payable();
    let mut log = run(&mut s, &pay(&cat, &cand), order_payment("", "1 000,00"));
    log.extend(run(&mut s, &pay(&cat, &cand), disburse("PAY-0001")));
    for e in &log {
        let json = serde_json::to_string(e).unwrap();
        assert_eq!(&serde_json::from_str::<StatementEvent>(&json).unwrap(), e);
    }
    assert!(serde_json::to_string(&log[0])
        .unwrap()
        .contains("\"type\":\"PaymentOrdered\""));
}

// ---- Property: the payment figures hold whatever the order of reviews, attainments and payments. ----

#[derive(Debug, Clone)]
enum Step {
    Review { line: u8, kind: u8, cents: u32 },
    Attain { objective: u8, status: u8 },
    Order { pick: u8, cents: u32 },
    Disburse(u8),
    Cancel(u8),
    RecoveryOrder { pick: u8, cents: u32 },
    RecoveryReceived { which: u8, pick: u8, cents: u32 },
    Reopen,
    Submit,
    Withdraw(u8),
    Declare(u32),
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..6, 0u8..4, 1u32..2_000_000).prop_map(|(line, kind, cents)| Step::Review { line, kind, cents }),
        2 => (0u8..12, 0u8..3).prop_map(|(objective, status)| Step::Attain { objective, status }),
        4 => (0u8..4, 1u32..2_000_000).prop_map(|(pick, cents)| Step::Order { pick, cents }),
        2 => (0u8..6).prop_map(Step::Disburse),
        1 => (0u8..6).prop_map(Step::Cancel),
        2 => (0u8..4, 1u32..2_000_000).prop_map(|(pick, cents)| Step::RecoveryOrder { pick, cents }),
        2 => (0u8..4, 0u8..3, 1u32..2_000_000).prop_map(|(which, pick, cents)| Step::RecoveryReceived { which, pick, cents }),
        1 => Just(Step::Reopen),
        1 => Just(Step::Submit),
        1 => (0u8..6).prop_map(Step::Withdraw),
        1 => (1u32..2_000_000).prop_map(Step::Declare),
    ]
}

fn plain(m: Money) -> String {
    m.to_plain_string()
}

/// An amount chosen from the state: 0 exactly `target`, 1 half of it, 2 one cent more, 3 a random one.
fn amount(pick: u8, target: Money, cents: u32) -> String {
    match pick {
        0 => plain(target),
        1 => plain(target.times(dec!(0.5)).floor_cents()),
        2 => plain(target + Money::from_cents(1)),
        _ => plain(Money::from_cents(i64::from(cents))),
    }
}

fn step_command(step: &Step, s: &Statement, r: &SubsidyReport) -> (Role, StatementCommand) {
    let line_ids: Vec<&Line> = s.lines_in_order();
    let nth_line = |i: u8| {
        line_ids
            .get(usize::from(i) % line_ids.len().max(1))
            .map(|l| (l.id.to_string(), l.declared))
    };
    let payment_ids: Vec<String> = s.payments.payments.keys().map(|p| p.to_string()).collect();
    let nth_payment = |i: u8| {
        payment_ids
            .get(usize::from(i) % payment_ids.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    match step {
        Step::Review { line, kind, cents } => {
            let (id, declared) = nth_line(*line).unwrap_or_default();
            let cmd = match kind {
                0 => eligible(&id),
                1 => ineligible(&id, "JUSTIFICATIF_ABSENT", "pas de facture"),
                2 => {
                    let declared_cents = (declared.value() * dec!(100))
                        .trunc()
                        .to_string()
                        .parse::<u32>()
                        .unwrap_or(1)
                        .max(1);
                    partially_eligible(
                        &id,
                        &plain(Money::from_cents(i64::from(1 + cents % declared_cents))),
                    )
                }
                _ => documents_requested(&id, "Facture", "2027-12-31"),
            };
            (Role::Controleur, cmd)
        }
        Step::Attain { objective, status } => {
            let cat = d1bis();
            let code = cat.objectives[usize::from(*objective) % cat.objectives.len()]
                .code
                .to_string();
            (
                Role::Controleur,
                attainment(
                    &code,
                    ["attained", "not_attained", "unknown"][usize::from(*status)],
                    "",
                ),
            )
        }
        Step::Order { pick, cents } => (
            Role::Paiement,
            order_payment("", &amount(*pick, r.due, *cents)),
        ),
        Step::Disburse(i) => (Role::Paiement, disburse(&nth_payment(*i))),
        Step::Cancel(i) => (Role::Paiement, cancel(&nth_payment(*i))),
        Step::RecoveryOrder { pick, cents } => (
            Role::Paiement,
            recovery_order(
                "",
                &amount(*pick, r.overpayment - r.recovery_outstanding, *cents),
            ),
        ),
        Step::RecoveryReceived { which, pick, cents } => {
            let recoveries: Vec<&Recovery> = s.payments.recoveries.values().collect();
            let (id, outstanding) = recoveries
                .get(usize::from(*which) % recoveries.len().max(1))
                .map(|r| (r.id.to_string(), r.outstanding()))
                .unwrap_or_default();
            (
                Role::Paiement,
                recovery_received(&id, &amount(*pick, outstanding, *cents)),
            )
        }
        Step::Reopen => (
            Role::Controleur,
            StatementCommand::Reopen {
                reason: "contrôle".into(),
            },
        ),
        Step::Submit => (Role::Etablissement, StatementCommand::Submit),
        Step::Withdraw(i) => {
            let (id, _) = nth_line(*i).unwrap_or_default();
            (
                Role::Etablissement,
                StatementCommand::WithdrawLine {
                    line_id: id,
                    reason: "retrait".into(),
                },
            )
        }
        Step::Declare(cents) => (
            Role::Etablissement,
            StatementCommand::DeclareExternalCost(invoice(
                "",
                "Prestataire",
                "F-X",
                &plain(Money::from_cents(i64::from(*cents))),
            )),
        ),
    }
}

/// committed, disbursed and received recoveries recomputed from the state, independently of the ledger.
fn recount(s: &Statement) -> (Money, Money) {
    let committed = s
        .payments
        .payments
        .values()
        .filter(|p| p.status != PaymentStatus::Cancelled)
        .map(|p| p.amount)
        .sum();
    let recovered = s
        .payments
        .recoveries
        .values()
        .flat_map(|r| r.receipts.iter())
        .map(|r| r.amount)
        .sum();
    (committed, recovered)
}

fn uncovered(r: &SubsidyReport) -> Money {
    (r.overpayment - r.recovery_outstanding).max(Money::ZERO)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn payment_figures_hold_whatever_the_sequence_of_reviews_attainments_and_payments(
        steps in prop::collection::vec(arb_step(), 0..60)
    ) {
        let (mut s, cat, cand) = payable();
        for step in &steps {
            let before = figures(&s, &cat, &cand);
            let (role, mut cmd) = step_command(step, &s, &before);
            assign_line_id(&mut cmd, &s);
            let Ok(events) = decide(&s, &ctx_at(&cat, &cand, role, in_window()), cmd.clone()) else { continue };
            for e in &events { s.apply(e); }
            let after = figures(&s, &cat, &cand);
            let (committed, recovered) = recount(&s);
            prop_assert_eq!((after.committed, after.recovered), (committed, recovered));
            prop_assert_eq!(after.due, after.subsidy - after.committed + after.recovered);
            prop_assert!(after.subsidy <= after.capped_ceiling);
            prop_assert!(after.capped_ceiling <= after.ceiling);
            prop_assert!(!after.recovery_outstanding.is_negative());
            if let StatementCommand::OrderPayment { amount, .. } = &cmd {
                let ordered = Money::parse_amount(amount).unwrap();
                prop_assert!(ordered <= before.due, "ordered {} above due {}", ordered, before.due);
                prop_assert!(!after.due.is_negative());
            }
            if role == Role::Paiement {
                // The payment desk never creates an overpayment that no recovery order covers.
                prop_assert!(uncovered(&after) <= uncovered(&before), "{:?}", step);
            }
        }
        // Whatever was overpaid can be ordered back; then committed − recovered − subsidy ≤ outstanding.
        let r = figures(&s, &cat, &cand);
        if uncovered(&r) > Money::ZERO {
            let cmd = recovery_order("", &plain(uncovered(&r)));
            let mut cmd2 = cmd.clone();
            assign_line_id(&mut cmd2, &s);
            let events = decide(&s, &pay(&cat, &cand), cmd2);
            prop_assert!(events.is_ok(), "{:?}", events);
            for e in &events.unwrap() { s.apply(e); }
        }
        let r = figures(&s, &cat, &cand);
        prop_assert!(r.committed - r.recovered - r.subsidy <= r.recovery_outstanding);
        prop_assert_eq!(r.due, r.subsidy - r.committed + r.recovered);
    }
}
