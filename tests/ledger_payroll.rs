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
    a_recap_of_twelve_thousand_employees_imports_in_one_transaction_and_a_duplicate_appends_nothing,
);

/// A livre de paie of `employees` rows (one per employee), as CSV; `duplicate_last` repeats the first
/// matricule on the last row (a refusal found only at the very end).
fn livre(employees: usize, year: i32) -> String {
    let mut text = format!(
        "Livre de paie\nPériode du 01/01/{year} au 31/12/{year}\n\
         MATRICULE;NOM;0005 Salaire de base;1010 Prime;TOTAL BRUT;2030 Vieillesse PAT;TOTAL PATRONAL\n"
    );
    for e in 0..employees {
        let base = 30_000 + (e % 997) as i64;
        text.push_str(&format!(
            "M{e:06};NOM{e};{base},00;100,00;{},00;1 000,00;1 000,00\n",
            base + 100
        ));
    }
    text
}

async fn a_recap_of_twelve_thousand_employees_imports_in_one_transaction_and_a_duplicate_appends_nothing(
    h: &Harness,
) {
    // Above the 10 000 events one append takes (it used to fail with « too many events in one
    // append » while the dry run said it would succeed).
    let ledger = ledger(h).await;
    let (daf, f) = daf();
    let position = h
        .store
        .head()
        .await
        .unwrap()
        .map(|g| g.position)
        .unwrap_or(0);
    // The same file with the first employee again on its last row: refused, nothing appended.
    let mut duplicate = livre(12_000, 2025);
    duplicate.push_str("M000000;NOM0;1,00;;1,00;;0,00\n");
    let refused = ledger
        .import_payroll(
            &daf,
            &f,
            "livre.csv",
            duplicate.as_bytes(),
            true,
            &RequestMeta::new("d1"),
        )
        .await;
    assert!(
        matches!(&refused, Err(LedgerError::InvalidFile { message, .. }) if message.contains("M000000")),
        "{refused:?}"
    );
    let text = livre(12_000, 2025);
    let dry = ledger
        .import_payroll(
            &daf,
            &f,
            "livre.csv",
            text.as_bytes(),
            true,
            &RequestMeta::new("d2"),
        )
        .await
        .unwrap();
    assert_eq!((dry.import.recaps.len(), dry.applied), (12_000, false));
    assert_eq!(
        h.store
            .head()
            .await
            .unwrap()
            .map(|g| g.position)
            .unwrap_or(0),
        position
    );
    let done = ledger
        .import_payroll(
            &daf,
            &f,
            "livre.csv",
            text.as_bytes(),
            false,
            &RequestMeta::new("i1"),
        )
        .await
        .unwrap();
    assert!(done.applied);
    assert_eq!(done.import.recaps.len(), 12_000);
    assert_eq!(
        h.store.stream_version("payroll/840000194").await.unwrap(),
        12_000
    );
    let events = h
        .store
        .read_stream("payroll/840000194", ReadBound::all())
        .await
        .unwrap();
    assert_eq!(events.first().unwrap().event_type, "PayrollRecapImported");
    assert!(events.last().unwrap().payload.contains("\"M011999\""));
    assert_eq!(
        (
            events.first().unwrap().position,
            events.last().unwrap().position
        ),
        (position + 1, position + 12_000),
        "contiguous, in file order"
    );
    let book = ledger.payroll_book(&daf, &f).await.unwrap();
    assert_eq!(book.recaps.len(), 12_000);
    // The same file again: nothing.
    let again = ledger
        .import_payroll(
            &daf,
            &f,
            "livre.csv",
            text.as_bytes(),
            false,
            &RequestMeta::new("i2"),
        )
        .await
        .unwrap();
    assert!(again.already_imported && !again.applied);
    assert!(care_ledger::store::verify::verify(&h.store, None)
        .await
        .unwrap()
        .problem
        .is_none());
}

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
