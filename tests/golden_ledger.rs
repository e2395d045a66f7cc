//! The ledger that exists must still read: the demo's ledger as it was on 2026-12-05 (SQLite file and
//! its PostgreSQL twin, `tests/golden/`) opens with today's code, verifies with the same head hash, and
//! gives the same statements, payroll books and workbook figures as it did then
//! (`tests/golden/expected.json`, observed with the code of that day).
//!
//! The comparison is "golden ⊆ today": every value observed then must be found, unchanged, at the same
//! place today; fields added since are allowed. A mismatch writes what today's code observes to
//! `target/golden-observed.json` so the difference can be read with a JSON diff. The expected file is
//! never rewritten to accept a changed figure: a changed figure is a bug, or a fix that says so in its
//! commit and edits the one value it changes.
mod common;

use calamine::{Data, Reader, Xlsx};
use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, Ledger};
use care_ledger::domain::{DomainId, Finess};
use care_ledger::store::EventStore;
use serde_json::{json, Value};
use std::io::Cursor;
use std::sync::Arc;

const GOLDEN_SQLITE: &str = "tests/golden/demo-20261205.db";
const GOLDEN_PG_DUMP: &str = "tests/golden/demo-20261205.pg.sql";
const EXPECTED: &str = "tests/golden/expected.json";

const STATEMENTS: [(&str, &str); 5] = [
    ("130004526", "D1bis"),
    ("340001239", "D1bis"),
    ("690003116", "D1bis"),
    ("690003116", "D2"),
    ("840000194", "D1bis"),
];

fn catalogue() -> care_ledger::domain::Catalogue {
    care_ledger::domain::Catalogue::from_files(vec![
        (
            "d1bis.toml".to_string(),
            include_str!("../fixtures/domains/d1bis.toml").to_string(),
        ),
        (
            "d2.toml".to_string(),
            include_str!("../fixtures/domains/d2.toml").to_string(),
        ),
    ])
    .unwrap()
}

/// Every workbook number, as a string with two decimals, sorted (a multiset).
fn workbook_numbers(bytes: Vec<u8>) -> Value {
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let mut numbers = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).unwrap();
        for cell in range.used_cells() {
            let value = match cell.2 {
                Data::Float(f) => *f,
                Data::Int(i) => *i as f64,
                _ => continue,
            };
            numbers.push(format!("{value:.2}"));
        }
    }
    numbers.sort();
    json!(numbers)
}

async fn observe(store: EventStore) -> Value {
    let report = care_ledger::store::verify::verify(&store, None)
        .await
        .unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
    let ledger = Ledger::open(store, catalogue()).await.unwrap();
    let mut statements = serde_json::Map::new();
    for (finess, domain) in STATEMENTS {
        let finess = Finess::parse(finess).unwrap();
        let domain = DomainId::parse(domain).unwrap();
        let mut per_role = serde_json::Map::new();
        for (role, bound) in [
            (Role::Controleur, None),
            (Role::Etablissement, Some(finess.clone())),
        ] {
            let access = Access::new(Actor::new(role, "golden").unwrap(), bound);
            let (_, json) = ledger
                .statement_json(&access, &finess, domain)
                .await
                .unwrap();
            let view: Value = serde_json::from_slice(&json).unwrap();
            let (bytes, _) = ledger
                .export_template(&access, &finess, domain, None)
                .await
                .unwrap();
            per_role.insert(
                role.to_string(),
                json!({ "statement": view, "workbook_numbers": workbook_numbers(bytes) }),
            );
        }
        statements.insert(format!("{finess}/{domain}"), Value::Object(per_role));
    }
    let controller = Access::new(Actor::new(Role::Controleur, "golden").unwrap(), None);
    let mut payroll = serde_json::Map::new();
    for (finess, _) in STATEMENTS {
        let finess = Finess::parse(finess).unwrap();
        let book = ledger.payroll_book(&controller, &finess).await.unwrap();
        let recaps: Vec<Value> = book
            .recaps
            .iter()
            .map(|((matricule, year), recap)| {
                json!({
                    "matricule": matricule.to_string(),
                    "year": year,
                    "recap": serde_json::to_value(recap).unwrap(),
                    "source_sha256": book.recap_sources.get(&(matricule.clone(), *year)),
                })
            })
            .collect();
        payroll.insert(
            finess.to_string(),
            json!({ "files": book.files, "recaps": recaps, "key_sha256": book.key_sha256 }),
        );
    }
    json!({
        "events": report.events_checked,
        "head_position": report.head_position,
        "head_hash": report.head_hash,
        "documents": report.documents_checked,
        "statements": statements,
        "payroll": payroll,
    })
}

/// `golden` ⊆ `today`: the path of the first difference, if any.
fn first_difference(golden: &Value, today: &Value, path: &str) -> Option<String> {
    match (golden, today) {
        (Value::Object(g), Value::Object(t)) => g.iter().find_map(|(k, gv)| match t.get(k) {
            None => Some(format!("{path}.{k}: missing today")),
            Some(tv) if k == "workbook_numbers" => missing_number(gv, tv, &format!("{path}.{k}")),
            Some(tv) => first_difference(gv, tv, &format!("{path}.{k}")),
        }),
        (Value::Array(g), Value::Array(t)) if g.len() == t.len() => g
            .iter()
            .zip(t)
            .enumerate()
            .find_map(|(i, (gv, tv))| first_difference(gv, tv, &format!("{path}[{i}]"))),
        _ if golden == today => None,
        _ => Some(format!("{path}: golden {golden} today {today}")),
    }
}

/// A workbook may gain cells (a new column, a what-if figure), never lose a figure: each golden
/// number is found today, as many times.
fn missing_number(golden: &Value, today: &Value, path: &str) -> Option<String> {
    let mut today: Vec<&Value> = today.as_array()?.iter().collect();
    for number in golden.as_array()? {
        match today.iter().position(|t| *t == number) {
            Some(i) => {
                today.swap_remove(i);
            }
            None => return Some(format!("{path}: {number} no longer in the workbook")),
        }
    }
    None
}

fn compare(today: Value, engine: &str) {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(EXPECTED).unwrap()).unwrap();
    if let Some(difference) = first_difference(&expected, &today, "") {
        let out = format!("target/golden-observed-{engine}.json");
        std::fs::write(&out, serde_json::to_string_pretty(&today).unwrap()).unwrap();
        panic!("the golden ledger ({engine}) no longer reads the same: {difference} (today's observation in {out})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_golden_sqlite_ledger_reads_as_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("golden.db");
    std::fs::copy(GOLDEN_SQLITE, &path).unwrap();
    let clock = care_ledger::clock::FixedClock::at(common::start_instant());
    let store = EventStore::open(path.to_str().unwrap(), Arc::new(clock))
        .await
        .unwrap();
    compare(observe(store).await, "sqlite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_golden_postgres_ledger_reads_as_it_did() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL test not run");
        return;
    };
    let db = format!("cl_test_{}", uuid::Uuid::new_v4().simple());
    common::pg_admin(&admin_url, &format!("CREATE DATABASE {db}")).await;
    let url = common::pg_url_with_db(&admin_url, &db);
    // The dump as pg_dump wrote it, without psql's meta-commands (`\restrict`).
    let dump: String = std::fs::read_to_string(GOLDEN_PG_DUMP)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n");
    common::pg_admin(&url, &dump).await;
    let clock = care_ledger::clock::FixedClock::at(common::start_instant());
    let store = EventStore::open(&url, Arc::new(clock)).await.unwrap();
    let today = observe(store.clone()).await;
    store.close().await;
    common::pg_admin(
        &admin_url,
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .await;
    compare(today, "postgres");
}
