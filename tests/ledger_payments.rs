//! The payment desk through the ledger on both engines: concurrent orders never exceed what is due,
//! payment batches order once and reprint from the ledger, CSV cells are never formulas.

mod common;

use care_ledger::actor::{Actor, Role};
use care_ledger::app::batches::{batch_csv, csv_safe, BatchLine, PaymentBatch};
use care_ledger::app::{Access, Ledger, LedgerError, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::{
    AttainmentInput, ExternalCostInput, ReviewInput, StatementCommand,
};
use care_ledger::domain::{Catalogue, DomainId, Finess, Money};
use chrono::NaiveDate;
use common::Harness;
use std::sync::Arc;

on_both_engines!(
    sixteen_simultaneous_orders_never_commit_more_than_the_subsidy,
    a_batch_orders_what_is_due_once_and_reprints_without_ordering,
    a_batch_whose_record_cannot_be_written_orders_nothing,
);

fn day(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
    paris_noon(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn montfavet() -> Finess {
    Finess::parse("840000194").unwrap()
}

/// Montfavet's D1 bis statement: one invoice of 12 000,00, submitted, reviewed, every objective
/// attained; the subsidy is final (12 000,00) and the clock is in the example payment window.
async fn payable(h: &Harness) -> Ledger {
    let files = vec![
        (
            "d1bis.toml".to_string(),
            include_str!("../fixtures/domains/d1bis.toml").to_string(),
        ),
        (
            "d2.toml".to_string(),
            include_str!("../fixtures/domains/d2.toml").to_string(),
        ),
    ];
    let ledger = Ledger::open(h.store.clone(), Catalogue::from_files(files).unwrap())
        .await
        .unwrap();
    ledger
        .import_candidates(
            &Actor::new(Role::Admin, "ops").unwrap(),
            &RequestMeta::new("c"),
            "candidates.csv",
            include_bytes!("../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    let f = montfavet();
    let d = DomainId::D1bis;
    let daf = Access::new(
        Actor::new(Role::Etablissement, "daf").unwrap(),
        Some(f.clone()),
    );
    let ctrl = Access::new(Actor::new(Role::Controleur, "marie").unwrap(), None);
    h.clock.set(day(2027, 2, 1));
    let run = |access: &Access, c: StatementCommand| {
        let access = access.clone();
        let ledger = &ledger;
        let f = f.clone();
        async move {
            ledger
                .execute(&access, &f, d, c, &RequestMeta::new("r"))
                .await
                .unwrap()
        }
    };
    run(&daf, StatementCommand::OpenStatement).await;
    run(
        &daf,
        StatementCommand::DeclareExternalCost(ExternalCostInput {
            line_id: "EXT-1".into(),
            cost_type: "investissement".into(),
            order_date: "2026-03-01".into(),
            invoice_date: "2026-04-01".into(),
            order_number: "BC-9".into(),
            invoice_number: "F-9".into(),
            supplier: "=HYPERLINK(\"http://x\";\"y\")".into(),
            service_label: "Audit ADS".into(),
            amount: "12 000,00".into(),
            nature: "PRESTATION_EXTERNE".into(),
            objective: "D1.O1.A".into(),
            contribution: "Audits".into(),
        }),
    )
    .await;
    run(&daf, StatementCommand::Submit).await;
    run(
        &ctrl,
        StatementCommand::ReviewLine(ReviewInput {
            line_id: "EXT-1".into(),
            decision: "eligible".into(),
            ..ReviewInput::default()
        }),
    )
    .await;
    for objective in [
        "D1.O1.A", "D1.O1.B", "D1.O2.A", "D1.O2.B", "D1.O3", "D1.O4", "D1.O5",
    ] {
        run(
            &ctrl,
            StatementCommand::RecordAttainment(AttainmentInput {
                objective: objective.into(),
                status: "attained".into(),
                coverage: String::new(),
                reason: "pièces vérifiées".into(),
            }),
        )
        .await;
    }
    ledger
}

async fn sixteen_simultaneous_orders_never_commit_more_than_the_subsidy(h: &Harness) {
    let ledger = Arc::new(payable(h).await);
    h.clock.set(day(2027, 3, 1));
    let desk = Access::new(Actor::new(Role::Paiement, "desk").unwrap(), None);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let ledger = ledger.clone();
        let desk = desk.clone();
        tasks.push(tokio::spawn(async move {
            let mut request = RequestMeta::new(format!("pay-{i}"));
            request.idempotency_key = Some(format!("pay-{i}"));
            ledger
                .execute(
                    &desk,
                    &montfavet(),
                    DomainId::D1bis,
                    StatementCommand::OrderPayment {
                        payment_id: String::new(),
                        amount: "1 000,00".into(),
                        reference: format!("ordre {i}"),
                    },
                    &request,
                )
                .await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(LedgerError::Refused(_)) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(accepted, 12, "12 × 1 000,00 fit in a subsidy of 12 000,00");
    let view = ledger
        .statement(&desk, &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    let s = view.subsidy.unwrap();
    assert_eq!(s.subsidy, Money::from_cents(1_200_000));
    assert_eq!(s.committed, Money::from_cents(1_200_000));
    assert_eq!(s.due, Money::ZERO);
}

async fn a_batch_orders_what_is_due_once_and_reprints_without_ordering(h: &Harness) {
    let ledger = payable(h).await;
    let desk = Access::new(Actor::new(Role::Paiement, "desk").unwrap(), None);
    h.clock.set(day(2027, 3, 2));
    let batch = ledger
        .issue_payment_batch(&desk, DomainId::D1bis, &RequestMeta::new("b1"))
        .await
        .unwrap();
    assert_eq!(batch.batch_id, "LOT-D1bis-20270302-001");
    assert_eq!(batch.lines.len(), 1);
    assert_eq!(batch.lines[0].amount, Money::from_cents(1_200_000));
    assert_eq!(batch.lines[0].payment_id, "PAY-0001");
    let again = ledger
        .issue_payment_batch(&desk, DomainId::D1bis, &RequestMeta::new("b2"))
        .await
        .unwrap();
    assert!(again.lines.is_empty(), "nothing is due any more");
    let positions = h.store.head().await.unwrap().unwrap().position;
    let reprinted = ledger
        .payment_batches(&desk, DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(reprinted, vec![batch.clone()]);
    assert!(ledger
        .payment_batches(&desk, DomainId::D1bis, Some(day(2027, 3, 1)))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(h.store.head().await.unwrap().unwrap().position, positions);
    let daf = Access::new(
        Actor::new(Role::Etablissement, "daf").unwrap(),
        Some(montfavet()),
    );
    assert!(matches!(
        ledger
            .issue_payment_batch(&daf, DomainId::D1bis, &RequestMeta::new("b3"))
            .await,
        Err(LedgerError::Forbidden { .. })
    ));
}

/// The batch's orders and its record are one transaction: when the record cannot be written (here a
/// trigger injected into the database refuses it), no payment is ordered either; once the database
/// accepts it again, the same batch goes through.
async fn a_batch_whose_record_cannot_be_written_orders_nothing(h: &Harness) {
    let ledger = payable(h).await;
    let desk = Access::new(Actor::new(Role::Paiement, "desk").unwrap(), None);
    h.clock.set(day(2027, 3, 2));
    let (inject, remove) = match h.engine {
        "sqlite" => (
            "CREATE TRIGGER refuse_batches BEFORE INSERT ON events \
             WHEN NEW.stream_id LIKE 'payment-batches/%' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
            "DROP TRIGGER refuse_batches;",
        ),
        _ => (
            "CREATE FUNCTION refuse_batches() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.stream_id LIKE 'payment-batches/%' THEN \
             RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END; $$; \
             CREATE TRIGGER refuse_batches BEFORE INSERT ON events \
             FOR EACH ROW EXECUTE FUNCTION refuse_batches();",
            "DROP TRIGGER refuse_batches ON events; DROP FUNCTION refuse_batches();",
        ),
    };
    h.store.execute_raw(inject).await.unwrap();
    let before = h.store.head().await.unwrap().unwrap().position;
    let failed = ledger
        .issue_payment_batch(&desk, DomainId::D1bis, &RequestMeta::new("b1"))
        .await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(h.store.head().await.unwrap().unwrap().position, before);
    let view = ledger
        .statement(&desk, &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert!(view.statement.payments.payments.is_empty());
    assert_eq!(view.subsidy.unwrap().committed, Money::ZERO);

    h.store.execute_raw(remove).await.unwrap();
    let batch = ledger
        .issue_payment_batch(&desk, DomainId::D1bis, &RequestMeta::new("b2"))
        .await
        .unwrap();
    assert_eq!(batch.batch_id, "LOT-D1bis-20270302-001");
    assert_eq!(batch.lines.len(), 1);
    assert_eq!(batch.lines[0].payment_id, "PAY-0001");
    let events = h
        .store
        .read_stream(
            "statement/840000194/D1bis",
            care_ledger::store::ReadBound::all(),
        )
        .await
        .unwrap();
    let orders = events
        .iter()
        .filter(|e| e.event_type == "PaymentOrdered")
        .count();
    assert_eq!(orders, 1);
}

#[test]
fn csv_cells_from_user_text_are_never_formulas() {
    assert_eq!(
        csv_safe("=HYPERLINK(\"http://x\";\"y\")"),
        "'=HYPERLINK(\"http://x\";\"y\")"
    );
    assert_eq!(csv_safe("+33 1 23"), "'+33 1 23");
    assert_eq!(csv_safe("-5"), "'-5");
    assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_safe("Clinique"), "Clinique");
    let batch = PaymentBatch {
        batch_id: "LOT-D1bis-20270302-001".into(),
        domain: DomainId::D1bis,
        issued_on: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
        lines: vec![BatchLine {
            finess: montfavet(),
            candidate_name: "=cmd|' /C calc'!A0".into(),
            domain: DomainId::D1bis,
            amount: Money::from_cents(1_234_567),
            reference: "LOT/840000194".into(),
            payment_id: "PAY-0001".into(),
        }],
        skipped: vec![],
    };
    let text = String::from_utf8(batch_csv(&batch)).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert_eq!(
        line,
        "LOT-D1bis-20270302-001;840000194;'=cmd|' /C calc'!A0;D1bis;12345,67;LOT/840000194;PAY-0001"
    );
}
