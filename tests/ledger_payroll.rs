//! Payroll recaps through the ledger on both engines: events, re-import, one recap per employee and
//! year, broken files, and the flags of the statement they justify.

mod common;

use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, Ledger, LedgerError, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::StatementCommand;
use care_ledger::domain::{DomainId, Finess, Money};
use care_ledger::store::ReadBound;
use chrono::NaiveDate;
use common::Harness;

on_both_engines!(
    a_recap_file_imports_once_and_feeds_the_flags,
    a_broken_or_duplicate_recap_appends_nothing,
);

async fn ledger(h: &Harness) -> Ledger {
    common::sample_ledger(h).await
}

fn daf() -> (Access, Finess) {
    let f = Finess::parse("840000194").unwrap();
    (
        Access::new(
            Actor::new(Role::Etablissement, "daf").unwrap(),
            Some(f.clone()),
        ),
        f,
    )
}

async fn a_recap_file_imports_once_and_feeds_the_flags(h: &Harness) {
    let ledger = ledger(h).await;
    let (daf, f) = daf();
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    ledger
        .execute(
            &daf,
            &f,
            DomainId::D1bis,
            StatementCommand::OpenStatement,
            &RequestMeta::new("o"),
        )
        .await
        .unwrap();
    let mut employee = common::seed_employee("");
    employee.year = "2026".into();
    ledger
        .execute(
            &daf,
            &f,
            DomainId::D1bis,
            StatementCommand::DeclareInternalCost(employee),
            &RequestMeta::new("d"),
        )
        .await
        .unwrap();
    let codes = |v: &care_ledger::app::StatementView| -> Vec<&'static str> {
        v.flags.iter().map(|f| f.code).collect()
    };
    let before = ledger
        .statement(&daf, &f, DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(codes(&before), vec!["RECAP_PAIE_ABSENT"]);

    let bytes = include_bytes!("../fixtures/payroll/seed_003_recap.xlsx");
    let dry = ledger
        .import_payroll(
            &daf,
            &f,
            "seed_003_recap.xlsx",
            bytes,
            true,
            &RequestMeta::new("p0"),
        )
        .await
        .unwrap();
    assert!(!dry.applied);
    assert_eq!(
        h.store.stream_version("payroll/840000194").await.unwrap(),
        0
    );
    let first = ledger
        .import_payroll(
            &daf,
            &f,
            "seed_003_recap.xlsx",
            bytes,
            false,
            &RequestMeta::new("p1"),
        )
        .await
        .unwrap();
    assert!(first.applied);
    let recap = &first.import.recaps[0];
    assert_eq!(recap.matricule.as_str(), "44A567");
    assert_eq!(recap.total_gross, Money::from_cents(5_563_125));
    assert_eq!(recap.total_employer_charges, Money::from_cents(3_293_548));
    let again = ledger
        .import_payroll(
            &daf,
            &f,
            "seed_003_recap.xlsx",
            bytes,
            false,
            &RequestMeta::new("p2"),
        )
        .await
        .unwrap();
    assert!(again.already_imported && !again.applied);
    let events = h
        .store
        .read_stream("payroll/840000194", ReadBound::all())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "PayrollRecapImported");
    assert_eq!(events[0].actor, "daf");

    // The 2024 recap does not justify a 2026 line: the flag says so instead of "no recap".
    let after = ledger
        .statement(&daf, &f, DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(codes(&after), vec!["RECAP_PAIE_PERIODE_DIFFERENTE"]);
}

async fn a_broken_or_duplicate_recap_appends_nothing(h: &Harness) {
    let ledger = ledger(h).await;
    let (daf, f) = daf();
    ledger
        .import_payroll(
            &daf,
            &f,
            "seed_003_recap.xlsx",
            include_bytes!("../fixtures/payroll/seed_003_recap.xlsx"),
            false,
            &RequestMeta::new("p1"),
        )
        .await
        .unwrap();
    let dup = ledger
        .import_payroll(
            &daf,
            &f,
            "seed_003_recap.csv",
            include_bytes!("../fixtures/payroll/seed_003_recap.csv"),
            false,
            &RequestMeta::new("p2"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&dup, LedgerError::InvalidFile { message, .. } if message.contains("44A567")),
        "{dup}"
    );
    let broken = ledger
        .import_payroll(
            &daf,
            &f,
            "ambiguous_amount.csv",
            include_bytes!("../fixtures/payroll/broken/ambiguous_amount.csv"),
            false,
            &RequestMeta::new("p3"),
        )
        .await
        .unwrap_err();
    assert!(broken.to_string().contains("ligne 6 colonne 3"), "{broken}");
    let desk = Access::new(Actor::new(Role::Paiement, "desk").unwrap(), None);
    assert!(matches!(
        ledger
            .import_payroll(
                &desk,
                &f,
                "seed_003_recap.xlsx",
                include_bytes!("../fixtures/payroll/seed_003_recap.xlsx"),
                false,
                &RequestMeta::new("p4"),
            )
            .await,
        Err(LedgerError::Forbidden { .. })
    ));
    let other = Access::new(
        Actor::new(Role::Etablissement, "x").unwrap(),
        Some(Finess::parse("130004526").unwrap()),
    );
    assert!(matches!(
        ledger
            .import_payroll(
                &other,
                &f,
                "seed_003_recap.xlsx",
                include_bytes!("../fixtures/payroll/seed_003_recap.xlsx"),
                false,
                &RequestMeta::new("p5"),
            )
            .await,
        Err(LedgerError::NotFound(_))
    ));
    assert_eq!(
        h.store.stream_version("payroll/840000194").await.unwrap(),
        1
    );
}
