//! `care-ledger bench store`: the event store against the raw driver on the same generated events.
//!
//! - append: batched appends through [`EventStore::append`] (validation, idempotency lookup, version
//!   check, both hash chains) against raw sqlx INSERTs of the very same rows in the same batches and
//!   transactions (the limit);
//! - replay: every event folded through [`EventStore::stream_all`] into a trivial fold against a raw
//!   SELECT scan of the same rows folded the same way.
//!
//! Targets (issue 3): append ≥ 0.7× raw, replay ≥ 0.5× raw.

use crate::actor::{Actor, Role};
use crate::store::{hash, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent};
use chrono::{TimeZone, Utc};
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct StoreBenchFigures {
    pub engine: String,
    pub append_events: u64,
    pub batch: u64,
    pub append_per_s: f64,
    pub raw_insert_per_s: f64,
    pub append_ratio: f64,
    pub replay_events: u64,
    pub replay_per_s: f64,
    pub raw_scan_per_s: f64,
    pub replay_ratio: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("{0}")]
    Setup(String),
}

fn sample_event(i: u64) -> NewEvent {
    NewEvent::new(
        "ExternalCostDeclared",
        1,
        json!({
            "line_id": format!("L{i:08}"),
            "objective": "D1.O1.A",
            "supplier": "Prestataire cyber SAS",
            "invoice_number": format!("F-2026-{i:06}"),
            "amount": "1234.56",
            "contribution": "Audit ADS trimestriel de l'annuaire",
        }),
    )
}

const INSERT_SQL: &str = "INSERT INTO events (position, stream_id, stream_version, event_type, \
     schema_version, payload, actor, role, request_id, idempotency_key, comment, recorded_at_us, \
     prev_hash, hash, global_prev_hash, global_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

macro_rules! insert_rows {
    ($tx:expr, $rows:expr) => {{
        for e in $rows {
            sqlx::query(INSERT_SQL)
                .bind(e.position)
                .bind(&e.stream_id)
                .bind(e.stream_version)
                .bind(&e.event_type)
                .bind(e.schema_version)
                .bind(&e.payload)
                .bind(&e.actor)
                .bind(&e.role)
                .bind(&e.request_id)
                .bind(&e.idempotency_key)
                .bind(&e.comment)
                .bind(e.recorded_at_us)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .bind(&e.global_prev_hash)
                .bind(&e.global_hash)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Inserts pre-built rows with plain INSERTs, `batch` rows per transaction.
async fn raw_insert(
    store: &EventStore,
    rows: &[RecordedEvent],
    batch: usize,
) -> Result<(), BenchError> {
    for chunk in rows.chunks(batch) {
        if let Some(pool) = store.sqlite_pool() {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            insert_rows!(tx, chunk);
            tx.commit().await?;
        } else if let Some(pool) = store.postgres_pool() {
            let mut tx = pool.begin().await?;
            insert_rows!(tx, chunk);
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Builds `count` valid, chained rows without the store (to fill a replay database quickly).
fn build_rows(count: u64, streams: u64, recorded_at_us: i64) -> Vec<RecordedEvent> {
    let mut rows = Vec::with_capacity(count as usize);
    let mut stream_heads: Vec<(i64, String)> =
        vec![(0, hash::GENESIS_HASH.to_string()); streams as usize];
    let mut global_prev = hash::GENESIS_HASH.to_string();
    for i in 0..count {
        let s = (i % streams) as usize;
        let stream_id = format!("statement-{s:05}");
        let event = sample_event(i);
        let payload = hash::canonical_json(&event.payload);
        let version = stream_heads[s].0 + 1;
        let mut row = RecordedEvent {
            position: i as i64 + 1,
            stream_id,
            stream_version: version,
            event_type: event.event_type,
            schema_version: 1,
            payload,
            actor: "bench".into(),
            role: "admin".into(),
            request_id: format!("bench-{i}"),
            idempotency_key: None,
            comment: None,
            recorded_at_us,
            prev_hash: stream_heads[s].1.clone(),
            hash: String::new(),
            global_prev_hash: global_prev.clone(),
            global_hash: String::new(),
        };
        row.hash = hash::event_hash(&row.prev_hash, &row.hashed_fields());
        row.global_hash = hash::global_hash(&global_prev, row.position, &row.hash);
        global_prev = row.global_hash.clone();
        stream_heads[s] = (version, row.hash.clone());
        rows.push(row);
    }
    rows
}

/// The trivial fold both replays run: count events per type and total payload bytes.
#[derive(Default)]
struct Fold {
    events: u64,
    bytes: u64,
    declared: u64,
}

impl Fold {
    fn add(&mut self, event_type: &str, payload: &str) {
        self.events += 1;
        self.bytes += payload.len() as u64;
        if event_type == "ExternalCostDeclared" {
            self.declared += 1;
        }
    }
}

async fn raw_scan(store: &EventStore) -> Result<Fold, BenchError> {
    let sql = "SELECT position, stream_id, stream_version, event_type, schema_version, payload, \
     actor, role, request_id, idempotency_key, comment, recorded_at_us, prev_hash, hash, \
     global_prev_hash, global_hash FROM events WHERE position > $1 ORDER BY position";
    let mut fold = Fold::default();
    if let Some(pool) = store.sqlite_pool() {
        let mut rows = sqlx::query(sql).bind(0i64).fetch(pool);
        while let Some(row) = rows.next().await {
            let row = row?;
            let event_type: String = row.try_get(3)?;
            let payload: String = row.try_get(5)?;
            fold.add(&event_type, &payload);
        }
    } else if let Some(pool) = store.postgres_pool() {
        let mut rows = sqlx::query(sql).bind(0i64).fetch(pool);
        while let Some(row) = rows.next().await {
            let row = row?;
            let event_type: String = row.try_get(3)?;
            let payload: String = row.try_get(5)?;
            fold.add(&event_type, &payload);
        }
    }
    Ok(fold)
}

async fn store_scan(store: &EventStore) -> Result<Fold, BenchError> {
    let mut fold = Fold::default();
    let mut events = store.stream_all(0);
    while let Some(event) = events.next().await {
        let event = event?;
        fold.add(&event.event_type, &event.payload);
    }
    Ok(fold)
}

/// Rounds of the append comparison (store, then raw, alternately); medians are compared.
pub const APPEND_ROUNDS: usize = 3;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the store bench on one engine. `open` returns a fresh, empty database each call.
pub async fn bench_store<F, Fut>(
    engine: &str,
    mut open: F,
    append_events: u64,
    batch: u64,
    replay_events: u64,
) -> Result<StoreBenchFigures, BenchError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<EventStore, BenchError>>,
{
    let instant = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
    let actor = Actor::new(Role::Admin, "bench").map_err(|e| BenchError::Setup(e.to_string()))?;
    let streams = 100u64;

    // Append through the store, then the same rows with raw INSERTs into a fresh database, in
    // alternating rounds: one commit costs about an fsync plus thread hand-offs, so a single run is
    // noisy on a shared machine; the medians of the rounds are compared.
    let mut store_secs = Vec::with_capacity(APPEND_ROUNDS);
    let mut raw_secs = Vec::with_capacity(APPEND_ROUNDS);
    for _ in 0..APPEND_ROUNDS {
        let store = open().await?;
        let started = Instant::now();
        let mut next = 0u64;
        let mut versions = vec![0i64; streams as usize];
        while next < append_events {
            let s = ((next / batch) % streams) as usize;
            let events: Vec<NewEvent> = (next..(next + batch).min(append_events))
                .map(sample_event)
                .collect();
            let n = events.len() as i64;
            store
                .append(
                    &format!("statement-{s:05}"),
                    ExpectedVersion::Exact(versions[s]),
                    &events,
                    &EventMetadata::new(&actor, format!("bench-{next}")),
                )
                .await?;
            versions[s] += n;
            next += batch;
        }
        store_secs.push(started.elapsed().as_secs_f64());
        let rows = store.read_all_page(0, append_events as i64).await?;
        store.close().await;

        let raw_store = open().await?;
        let started = Instant::now();
        raw_insert(&raw_store, &rows, batch as usize).await?;
        raw_secs.push(started.elapsed().as_secs_f64());
        raw_store.close().await;
    }
    let append_secs = median(&mut store_secs);
    let raw_secs = median(&mut raw_secs);

    // Replay: fill a fresh database with valid chained rows, then fold both ways.
    let replay_store = open().await?;
    let rows = build_rows(replay_events, streams, instant.timestamp_micros());
    raw_insert(&replay_store, &rows, 10_000).await?;
    drop(rows);
    // Warm the cache once so both scans read from memory alike.
    raw_scan(&replay_store).await?;
    let started = Instant::now();
    let raw_fold = raw_scan(&replay_store).await?;
    let raw_scan_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let store_fold = store_scan(&replay_store).await?;
    let replay_secs = started.elapsed().as_secs_f64();
    replay_store.close().await;
    if raw_fold.events != store_fold.events
        || raw_fold.bytes != store_fold.bytes
        || raw_fold.declared != store_fold.declared
    {
        return Err(BenchError::Setup("the two replays disagree".into()));
    }

    let per_s = |n: u64, secs: f64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let append_per_s = per_s(append_events, append_secs);
    let raw_insert_per_s = per_s(append_events, raw_secs);
    let replay_per_s = per_s(replay_events, replay_secs);
    let raw_scan_per_s = per_s(replay_events, raw_scan_secs);
    Ok(StoreBenchFigures {
        engine: engine.to_string(),
        append_events,
        batch,
        append_per_s,
        raw_insert_per_s,
        append_ratio: append_per_s / raw_insert_per_s,
        replay_events,
        replay_per_s,
        raw_scan_per_s,
        replay_ratio: replay_per_s / raw_scan_per_s,
    })
}

impl StoreBenchFigures {
    pub fn print(&self) {
        println!(
            "{:<9} append   {:>9} events, batch {:>4}: store {:>10.0} ev/s | raw INSERT {:>10.0} ev/s | ratio {:.2} (medians of {APPEND_ROUNDS} rounds; target ≥ 0.70) {}",
            self.engine,
            self.append_events,
            self.batch,
            self.append_per_s,
            self.raw_insert_per_s,
            self.append_ratio,
            if self.append_ratio >= 0.7 { "OK" } else { "BELOW TARGET" }
        );
        println!(
            "{:<9} replay   {:>9} events:             store {:>10.0} ev/s | raw SELECT {:>10.0} ev/s | ratio {:.2} (target ≥ 0.50) {}",
            self.engine,
            self.replay_events,
            self.replay_per_s,
            self.raw_scan_per_s,
            self.replay_ratio,
            if self.replay_ratio >= 0.5 { "OK" } else { "BELOW TARGET" }
        );
    }
}
