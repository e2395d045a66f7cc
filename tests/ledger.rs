//! The ledger service end to end on both engines: catalogue and candidates as events, statement commands
//! with access control, figures to the cent, flags, as-of views, rebuilt read models.

mod common;

use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, Ledger, LedgerError, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::{
    ExternalCostInput, ReceiptInput, Refusal, StatementCommand, StatementStatus,
};
use care_ledger::domain::{Catalogue, DomainId, Finess, Money};
use care_ledger::store::{ReadBound, StoreError};
use chrono::NaiveDate;
use common::Harness;

on_both_engines!(
    a_statement_is_declared_and_figured_to_the_cent,
    an_establishment_sees_only_its_own_candidate,
    refused_commands_append_nothing_and_name_the_field,
    submission_locks_lines_until_a_controller_reopens,
    a_retried_command_with_its_idempotency_key_applies_once,
    the_statement_as_of_a_date_replays_the_past,
    reopened_ledger_rebuilds_the_same_views,
    importing_the_same_candidate_base_twice_records_nothing_new,
);

fn catalogue() -> (Catalogue, Vec<(String, String)>) {
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
    (Catalogue::from_files(files.clone()).unwrap(), files)
}

const MONTFAVET: &str = "840000194";

fn montfavet() -> Finess {
    Finess::parse(MONTFAVET).unwrap()
}

fn admin() -> Actor {
    Actor::new(Role::Admin, "ops").unwrap()
}

fn daf() -> Access {
    Access::new(
        Actor::new(Role::Etablissement, "daf@montfavet").unwrap(),
        Some(montfavet()),
    )
}

fn controller() -> Access {
    Access::new(Actor::new(Role::Controleur, "marie").unwrap(), None)
}

fn req(id: &str) -> RequestMeta {
    RequestMeta::new(id)
}

async fn ledger(h: &Harness) -> Ledger {
    let (cat, files) = catalogue();
    let ledger = Ledger::open(h.store.clone(), cat).await.unwrap();
    ledger
        .record_catalogue(&admin(), &req("cat"), &files)
        .await
        .unwrap();
    ledger
        .import_candidates(
            &admin(),
            &req("cand"),
            "candidates.csv",
            include_bytes!("../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    ledger
}

fn invoice(line_id: &str, supplier: &str, number: &str, amount: &str) -> StatementCommand {
    StatementCommand::DeclareExternalCost(ExternalCostInput {
        line_id: line_id.into(),
        cost_type: "investissement".into(),
        order_date: "2026-02-10".into(),
        invoice_date: "2026-03-15".into(),
        order_number: "BC-1".into(),
        invoice_number: number.into(),
        supplier: supplier.into(),
        service_label: "Audit d'exposition internet".into(),
        amount: amount.into(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: "D1.O2.A".into(),
        contribution: "Audits bimestriels".into(),
    })
}

async fn open_and_declare(h: &Harness, ledger: &Ledger) {
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    let f = montfavet();
    let d = DomainId::D1bis;
    ledger
        .execute(&daf(), &f, d, StatementCommand::OpenStatement, &req("1"))
        .await
        .unwrap();
    ledger
        .execute(
            &daf(),
            &f,
            d,
            StatementCommand::DeclareInternalCost(common::seed_employee("")),
            &req("2"),
        )
        .await
        .unwrap();
    ledger
        .execute(
            &daf(),
            &f,
            d,
            invoice("", "Surfacia Audit SAS", "FA-1", "14 400,00"),
            &req("3"),
        )
        .await
        .unwrap();
    ledger
        .execute(
            &daf(),
            &f,
            d,
            StatementCommand::DeclareReceipt(ReceiptInput {
                line_id: String::new(),
                group: "D1.01".into(),
                provenance: "Région Sud".into(),
                amount: "2 000".into(),
            }),
            &req("4"),
        )
        .await
        .unwrap();
}

async fn a_statement_is_declared_and_figured_to_the_cent(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let view = ledger
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(view.version, 4);
    let ids: Vec<&str> = view
        .statement
        .lines_in_order()
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(ids, vec!["INT-0001", "EXT-0002", "REC-0003"]);
    let s = view.subsidy.unwrap();
    // 6 613,57 (seed employee) + 14 400,00 = 21 013,57; − 2 000 receipts = 19 013,57.
    assert_eq!(s.declared_total, Money::from_cents(2_101_357));
    assert_eq!(s.receipts_total, Money::from_cents(200_000));
    assert_eq!(s.net, Money::from_cents(1_901_357));
    assert_eq!(s.ceiling, Money::from_cents(6_000_000));
    assert_eq!(s.subsidy, Money::from_cents(1_901_357));
    assert!(s.provisional, "attainments unknown, lines unreviewed");
    assert_eq!(s.due, Money::from_cents(1_901_357));
    let codes: Vec<&str> = view.flags.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["RECAP_PAIE_ABSENT"]);
    // Events carry actor, role and request id.
    let events = h
        .store
        .read_stream("statement/840000194/D1bis", ReadBound::all())
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "StatementOpened",
            "InternalCostDeclared",
            "ExternalCostDeclared",
            "ReceiptDeclared"
        ]
    );
    assert_eq!(events[1].actor, "daf@montfavet");
    assert_eq!(events[1].role, "etablissement");
    assert_eq!(events[1].request_id, "2");
}

async fn an_establishment_sees_only_its_own_candidate(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let other = Access::new(
        Actor::new(Role::Etablissement, "daf@clinique").unwrap(),
        Some(Finess::parse("130004526").unwrap()),
    );
    let hidden = ledger
        .statement(&other, &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap_err();
    let missing = ledger
        .statement(
            &other,
            &Finess::parse("130004526").unwrap(),
            DomainId::D1bis,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(hidden, LedgerError::NotFound(_)));
    assert!(matches!(missing, LedgerError::NotFound(_)));
    assert!(matches!(
        ledger
            .execute(
                &other,
                &montfavet(),
                DomainId::D1bis,
                StatementCommand::Submit,
                &req("x")
            )
            .await,
        Err(LedgerError::NotFound(_))
    ));
    let visible = ledger.candidates(&other).await.unwrap();
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0].finess.as_str(), "130004526");
    assert_eq!(ledger.candidates(&controller()).await.unwrap().len(), 4);
}

async fn refused_commands_append_nothing_and_name_the_field(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let before = h.store.head().await.unwrap().unwrap().position;
    let f = montfavet();
    let err = ledger
        .execute(
            &daf(),
            &f,
            DomainId::D1bis,
            invoice("", "X", "1", "12,345"),
            &req("bad"),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        LedgerError::Refused(Refusal::InvalidAmount {
            field: "amount",
            ..
        })
    ));
    let mut ght_only = invoice("", "X", "1", "10");
    if let StatementCommand::DeclareExternalCost(i) = &mut ght_only {
        i.objective = "D1.O6.A".into();
    }
    assert!(matches!(
        ledger
            .execute(&daf(), &f, DomainId::D1bis, ght_only, &req("bad2"))
            .await,
        Err(LedgerError::Refused(Refusal::GhtOnlyObjective {
            field: "objective",
            ..
        }))
    ));
    assert!(matches!(
        ledger
            .execute(
                &controller(),
                &f,
                DomainId::D1bis,
                invoice("", "X", "1", "10"),
                &req("bad3")
            )
            .await,
        Err(LedgerError::Refused(Refusal::RoleNotAllowed { .. }))
    ));
    assert_eq!(h.store.head().await.unwrap().unwrap().position, before);
}

async fn submission_locks_lines_until_a_controller_reopens(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let f = montfavet();
    let d = DomainId::D1bis;
    let (_, s) = ledger
        .execute(&daf(), &f, d, StatementCommand::Submit, &req("s"))
        .await
        .unwrap();
    assert_eq!(s.status, StatementStatus::Submitted);
    assert_eq!(
        s.declaration_date,
        Some(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap())
    );
    assert!(matches!(
        ledger
            .execute(&daf(), &f, d, invoice("", "Y", "2", "10"), &req("late"))
            .await,
        Err(LedgerError::Refused(Refusal::Locked))
    ));
    ledger
        .execute(
            &controller(),
            &f,
            d,
            StatementCommand::Reopen {
                reason: "facture FA-1 illisible".into(),
            },
            &req("r"),
        )
        .await
        .unwrap();
    let (_, s) = ledger
        .execute(&daf(), &f, d, invoice("", "Y", "2", "10"), &req("again"))
        .await
        .unwrap();
    assert_eq!(s.status, StatementStatus::Reopened);
    assert_eq!(s.active_lines().count(), 4);
}

async fn a_retried_command_with_its_idempotency_key_applies_once(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let f = montfavet();
    let mut r = req("retry-1");
    r.idempotency_key = Some("facture-FA-9".into());
    let (v1, _) = ledger
        .execute(
            &daf(),
            &f,
            DomainId::D1bis,
            invoice("", "Z", "FA-9", "99"),
            &r,
        )
        .await
        .unwrap();
    r.request_id = "retry-2".into();
    let (v2, s) = ledger
        .execute(
            &daf(),
            &f,
            DomainId::D1bis,
            invoice("", "Z", "FA-9", "99"),
            &r,
        )
        .await
        .unwrap();
    assert_eq!((v1, v2), (5, 5));
    assert_eq!(s.active_lines().count(), 4);
    assert!(matches!(
        ledger
            .execute(
                &daf(),
                &f,
                DomainId::D1bis,
                invoice("", "Z", "FA-9", "100"),
                &r
            )
            .await,
        Err(LedgerError::Store(StoreError::IdempotencyConflict { .. }))
    ));
}

async fn the_statement_as_of_a_date_replays_the_past(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let first_day = h.now();
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 20).unwrap()));
    ledger
        .execute(
            &daf(),
            &montfavet(),
            DomainId::D1bis,
            StatementCommand::WithdrawLine {
                line_id: "EXT-0002".into(),
                reason: "doublon".into(),
            },
            &req("w"),
        )
        .await
        .unwrap();
    let now = ledger
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    let then = ledger
        .statement(
            &controller(),
            &montfavet(),
            DomainId::D1bis,
            Some(first_day),
        )
        .await
        .unwrap();
    assert_eq!(
        now.subsidy.unwrap().declared_total,
        Money::from_cents(661_357)
    );
    assert_eq!(
        then.subsidy.unwrap().declared_total,
        Money::from_cents(2_101_357)
    );
    assert_eq!((now.version, then.version), (5, 4));
}

async fn reopened_ledger_rebuilds_the_same_views(h: &Harness) {
    let ledger = ledger(h).await;
    open_and_declare(h, &ledger).await;
    let incremental = ledger
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    let (cat, _) = catalogue();
    let rebuilt = Ledger::open(h.store.clone(), cat).await.unwrap();
    let view = rebuilt
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        serde_json::to_value(&incremental).unwrap()
    );
}

async fn importing_the_same_candidate_base_twice_records_nothing_new(h: &Harness) {
    let ledger = ledger(h).await;
    let before = h.store.stream_version("candidates").await.unwrap();
    assert_eq!(before, 4);
    let summary = ledger
        .import_candidates(
            &admin(),
            &req("again"),
            "candidates.csv",
            include_bytes!("../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    assert_eq!(summary.unchanged.len(), 4);
    assert_eq!(h.store.stream_version("candidates").await.unwrap(), 4);
    let broken = ledger
        .import_candidates(
            &admin(),
            &req("bad"),
            "candidates.csv",
            "candidate_finess;name\n123;x\n".as_bytes(),
        )
        .await;
    assert!(matches!(broken, Err(LedgerError::Import(_))), "{broken:?}");
    assert!(matches!(
        ledger
            .import_candidates(
                &controller().actor,
                &req("x"),
                "candidates.csv",
                include_bytes!("../fixtures/candidates.csv")
            )
            .await,
        Err(LedgerError::Forbidden { .. })
    ));
    assert_eq!(h.store.stream_version("candidates").await.unwrap(), 4);
    assert_eq!(h.store.stream_version("catalogue").await.unwrap(), 2);
}
