//! Test harness: a fresh database per test, on SQLite (a temporary file) or PostgreSQL (a new
//! database under TEST_DATABASE_URL; skipped with a message when the variable is unset).
#![allow(dead_code, unused_imports)]

mod fixtures;
pub use fixtures::*;

use care_ledger::actor::{Actor, Role};
use care_ledger::clock::{Clock, FixedClock};
use care_ledger::store::{EventMetadata, EventStore, NewEvent};
use chrono::{TimeZone, Utc};
use serde_json::json;
use std::sync::Arc;

pub struct Harness {
    pub store: EventStore,
    pub clock: FixedClock,
    pub url: String,
    pub engine: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_admin_url: Option<String>,
    pg_db: Option<String>,
}

pub fn start_instant() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn pg_url_with_db(admin_url: &str, db: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let slash = base
        .rfind('/')
        .expect("TEST_DATABASE_URL has a database name");
    let mut url = format!("{}/{}", &base[..slash], db);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

pub async fn pg_admin(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.ok();
}

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("ledger.db").to_string_lossy().to_string();
        let clock = FixedClock::at(start_instant());
        let store = EventStore::open(&url, Arc::new(clock.clone()))
            .await
            .unwrap();
        Harness {
            store,
            clock,
            url,
            engine: "sqlite",
            _dir: Some(dir),
            pg_admin_url: None,
            pg_db: None,
        }
    }

    /// None (with a message) when TEST_DATABASE_URL is unset.
    pub async fn postgres() -> Option<Harness> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL test not run");
            return None;
        };
        let db = format!("cl_test_{}", uuid::Uuid::new_v4().simple());
        pg_admin(&admin_url, &format!("CREATE DATABASE {db}")).await;
        let url = pg_url_with_db(&admin_url, &db);
        let clock = FixedClock::at(start_instant());
        let store = EventStore::open(&url, Arc::new(clock.clone()))
            .await
            .unwrap();
        Some(Harness {
            store,
            clock,
            url,
            engine: "postgres",
            _dir: None,
            pg_admin_url: Some(admin_url),
            pg_db: Some(db),
        })
    }

    /// A second store instance on the same database (another process, as far as locks go).
    pub async fn reopen(&self) -> EventStore {
        EventStore::open(&self.url, Arc::new(self.clock.clone()))
            .await
            .unwrap()
    }

    /// A copy of the database to tamper with; the original stays untouched.
    pub async fn copy(&self) -> Harness {
        match self.engine {
            "sqlite" => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("copy.db");
                self.store
                    .execute_raw(&format!("VACUUM INTO '{}'", path.display()))
                    .await
                    .unwrap();
                let url = path.to_string_lossy().to_string();
                let store = EventStore::open(&url, Arc::new(self.clock.clone()))
                    .await
                    .unwrap();
                Harness {
                    store,
                    clock: self.clock.clone(),
                    url,
                    engine: "sqlite",
                    _dir: Some(dir),
                    pg_admin_url: None,
                    pg_db: None,
                }
            }
            _ => {
                let admin = self.pg_admin_url.clone().unwrap();
                let original = self.pg_db.clone().unwrap();
                self.store.close().await;
                let db = format!("cl_test_{}", uuid::Uuid::new_v4().simple());
                pg_admin(&admin, &format!("CREATE DATABASE {db} TEMPLATE {original}")).await;
                let url = pg_url_with_db(&admin, &db);
                let store = EventStore::open(&url, Arc::new(self.clock.clone()))
                    .await
                    .unwrap();
                Harness {
                    store,
                    clock: self.clock.clone(),
                    url,
                    engine: "postgres",
                    _dir: None,
                    pg_admin_url: Some(admin),
                    pg_db: Some(db),
                }
            }
        }
    }

    /// Lifts the append-only triggers: what an attacker with database rights could do.
    pub async fn disable_protection(&self) {
        let sql = match self.engine {
            "sqlite" => {
                "DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete; \
                 DROP TRIGGER documents_refuse_update; DROP TRIGGER documents_refuse_delete;"
            }
            _ => "ALTER TABLE events DISABLE TRIGGER USER; ALTER TABLE documents DISABLE TRIGGER USER;",
        };
        self.store.execute_raw(sql).await.unwrap();
    }

    pub async fn cleanup(self) {
        self.store.close().await;
        if let (Some(admin), Some(db)) = (&self.pg_admin_url, &self.pg_db) {
            pg_admin(admin, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
        }
    }

    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }
}

/// The ledger service over the harness store, with both catalogue files and the sample candidate base
/// (fixtures/candidates.csv) imported by an administrator.
pub async fn sample_ledger(h: &Harness) -> care_ledger::app::Ledger {
    let files = vec![
        (
            "d1bis.toml".to_string(),
            include_str!("../../fixtures/domains/d1bis.toml").to_string(),
        ),
        (
            "d2.toml".to_string(),
            include_str!("../../fixtures/domains/d2.toml").to_string(),
        ),
    ];
    let catalogue = care_ledger::domain::Catalogue::from_files(files).unwrap();
    let ledger = care_ledger::app::Ledger::open(h.store.clone(), catalogue)
        .await
        .unwrap();
    ledger
        .import_candidates(
            &Actor::new(Role::Admin, "ops").unwrap(),
            &care_ledger::app::RequestMeta::new("c"),
            "candidates.csv",
            include_bytes!("../../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    ledger
}

pub fn admin() -> Actor {
    Actor::new(Role::Admin, "ops").unwrap()
}

pub fn meta(request: &str) -> EventMetadata {
    EventMetadata::new(&admin(), request)
}

pub fn event(kind: &str, n: i64) -> NewEvent {
    NewEvent::new(
        kind,
        1,
        json!({ "n": n, "label": format!("événement {n}") }),
    )
}

/// Generates `sqlite` and `postgres` tests running the same async body `fn(Harness)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let h = $crate::common::Harness::sqlite().await;
                super::$name(&h).await;
                h.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(h) = $crate::common::Harness::postgres().await else { return };
                super::$name(&h).await;
                h.cleanup().await;
            }
        }
    )*};
}
pub mod http;
