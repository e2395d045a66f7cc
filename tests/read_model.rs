//! The ledger's read models fed by the follower of the global order, on both engines: current reads
//! without replay, their freshness (this process at once, another process within the poll
//! interval), the cached views invalidated by what they depend on, and the same result as a rebuild.

mod common;

use care_ledger::actor::{Actor, Role};
use care_ledger::app::read_model::FOLLOW_POLL_INTERVAL;
use care_ledger::app::{Access, Ledger, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::flags::FACTURE_EN_DOUBLE_AUTRE_CANDIDAT;
use care_ledger::domain::statement::{ExternalCostInput, StatementCommand};
use care_ledger::domain::{Catalogue, DomainId, Finess};
use chrono::NaiveDate;
use common::Harness;
use std::time::{Duration, Instant};

on_both_engines!(
    a_write_through_this_process_is_read_at_once_without_the_follower,
    a_write_of_another_process_is_read_within_the_poll_interval,
    the_cross_candidate_duplicate_flag_follows_the_other_statement,
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

fn montfavet() -> Finess {
    Finess::parse("840000194").unwrap()
}

fn clinique() -> Finess {
    Finess::parse("130004526").unwrap()
}

fn establishment(finess: &Finess) -> Access {
    Access::new(
        Actor::new(Role::Etablissement, "daf").unwrap(),
        Some(finess.clone()),
    )
}

fn controller() -> Access {
    Access::new(Actor::new(Role::Controleur, "marie").unwrap(), None)
}

fn invoice(line_id: &str, number: &str) -> StatementCommand {
    StatementCommand::DeclareExternalCost(ExternalCostInput {
        line_id: line_id.into(),
        cost_type: "investissement".into(),
        order_date: "2026-02-10".into(),
        invoice_date: "2026-03-15".into(),
        order_number: "BC-1".into(),
        invoice_number: number.into(),
        supplier: "Surfacia Audit SAS".into(),
        service_label: "Audit d'exposition internet".into(),
        amount: "1 200,00".into(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: "D1.O2.A".into(),
        contribution: "Audits bimestriels".into(),
    })
}

/// A ledger over `store` with the catalogue and the candidates, and Montfavet's statement open.
async fn seeded(h: &Harness) -> Ledger {
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    let (cat, files) = catalogue();
    let ledger = Ledger::open(h.store.clone(), cat).await.unwrap();
    let admin = Actor::new(Role::Admin, "ops").unwrap();
    ledger
        .record_catalogue(&admin, &RequestMeta::new("cat"), &files)
        .await
        .unwrap();
    ledger
        .import_candidates(
            &admin,
            &RequestMeta::new("cand"),
            "candidates.csv",
            include_bytes!("../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    ledger
        .execute(
            &establishment(&montfavet()),
            &montfavet(),
            DomainId::D1bis,
            StatementCommand::OpenStatement,
            &RequestMeta::new("open"),
        )
        .await
        .unwrap();
    ledger
}

async fn a_write_through_this_process_is_read_at_once_without_the_follower(h: &Harness) {
    let writer = seeded(h).await;
    let (cat, _) = catalogue();
    // Another ledger on the same store (the same process), its follower not started.
    let reader = Ledger::open(h.store.clone(), cat).await.unwrap();
    let before = reader
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(before.version, 1);
    for i in 1..=3 {
        writer
            .execute(
                &establishment(&montfavet()),
                &montfavet(),
                DomainId::D1bis,
                invoice(&format!("EXT-{i}"), &format!("F-{i}")),
                &RequestMeta::new(format!("r{i}")),
            )
            .await
            .unwrap();
        // Acknowledged, hence readable by the next read in this process.
        let view = reader
            .statement(&controller(), &montfavet(), DomainId::D1bis, None)
            .await
            .unwrap();
        assert_eq!(view.version, 1 + i);
        assert_eq!(view.statement.active_lines().count() as i64, i);
    }
    // And exactly what a rebuild from the events gives.
    let (cat, _) = catalogue();
    let rebuilt = Ledger::open(h.store.clone(), cat).await.unwrap();
    for access in [controller(), establishment(&montfavet())] {
        let cached = reader
            .statement(&access, &montfavet(), DomainId::D1bis, None)
            .await
            .unwrap();
        let fresh = rebuilt
            .statement(&access, &montfavet(), DomainId::D1bis, None)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&cached).unwrap(),
            serde_json::to_value(&fresh).unwrap()
        );
        let (version, json) = reader
            .statement_json(&access, &montfavet(), DomainId::D1bis)
            .await
            .unwrap();
        assert_eq!(version, 4);
        assert_eq!(
            json.as_ref(),
            serde_json::to_vec(&fresh).unwrap().as_slice()
        );
    }
}

async fn a_write_of_another_process_is_read_within_the_poll_interval(h: &Harness) {
    let ledger = seeded(h).await;
    ledger.start_follower();
    // Another process: its own store on the same database, its own ledger.
    let other_store = h.reopen().await;
    let (cat, _) = catalogue();
    let other = Ledger::open(other_store.clone(), cat).await.unwrap();
    other
        .execute(
            &establishment(&montfavet()),
            &montfavet(),
            DomainId::D1bis,
            invoice("EXT-9", "F-9"),
            &RequestMeta::new("elsewhere"),
        )
        .await
        .unwrap();
    let committed = Instant::now();
    let waited = loop {
        let view = ledger
            .statement(&controller(), &montfavet(), DomainId::D1bis, None)
            .await
            .unwrap();
        if view.version == 2 {
            break committed.elapsed();
        }
        assert!(
            committed.elapsed() < Duration::from_secs(5),
            "the write of the other process was never applied"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(
        waited < FOLLOW_POLL_INTERVAL * 5,
        "applied after {waited:?}, poll interval {FOLLOW_POLL_INTERVAL:?}"
    );
    // The list of statements follows too.
    let (cat, _) = catalogue();
    drop(other);
    let another = Ledger::open(other_store.clone(), cat).await.unwrap();
    another
        .execute(
            &establishment(&clinique()),
            &clinique(),
            DomainId::D1bis,
            StatementCommand::OpenStatement,
            &RequestMeta::new("elsewhere-open"),
        )
        .await
        .unwrap();
    let started = Instant::now();
    while !ledger
        .statements(&controller())
        .await
        .unwrap()
        .contains(&(clinique(), DomainId::D1bis))
    {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    other_store.close().await;
}

async fn the_cross_candidate_duplicate_flag_follows_the_other_statement(h: &Harness) {
    let ledger = seeded(h).await;
    let run = |finess: Finess, command: StatementCommand, id: &'static str| {
        let ledger = &ledger;
        async move {
            ledger
                .execute(
                    &establishment(&finess),
                    &finess,
                    DomainId::D1bis,
                    command,
                    &RequestMeta::new(id),
                )
                .await
                .unwrap()
        }
    };
    let duplicates = |view: &care_ledger::app::StatementView| {
        view.flags
            .iter()
            .filter(|f| f.code == FACTURE_EN_DOUBLE_AUTRE_CANDIDAT)
            .count()
    };
    run(montfavet(), invoice("EXT-1", "F-77"), "m1").await;
    run(clinique(), StatementCommand::OpenStatement, "c0").await;
    let view = ledger
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(duplicates(&view), 0);
    // The other candidate declares the same invoice: Montfavet's view (unchanged statement) must be
    // recomputed with the flag, for controllers only.
    run(clinique(), invoice("EXT-5", "F 77"), "c1").await;
    let view = ledger
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!((view.version, duplicates(&view)), (2, 1));
    let own = ledger
        .statement(
            &establishment(&montfavet()),
            &montfavet(),
            DomainId::D1bis,
            None,
        )
        .await
        .unwrap();
    assert_eq!(duplicates(&own), 0, "never shown to an establishment");
    // Withdrawn there: the flag goes away here.
    run(
        clinique(),
        StatementCommand::WithdrawLine {
            line_id: "EXT-5".into(),
            reason: "doublon".into(),
        },
        "c2",
    )
    .await;
    let view = ledger
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(duplicates(&view), 0);
    let (cat, _) = catalogue();
    let rebuilt = Ledger::open(h.store.clone(), cat).await.unwrap();
    let fresh = rebuilt
        .statement(&controller(), &montfavet(), DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        serde_json::to_value(&fresh).unwrap()
    );
}
