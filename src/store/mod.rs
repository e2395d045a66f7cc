//! The append-only event store: one interface, two engines (SQLite file, PostgreSQL).
//!
//! Guarantees (SPEC.md §4):
//! - per-stream versions with optimistic concurrency: `append` with a stale expected version fails with
//!   [`StoreError::Conflict`] and appends nothing;
//! - one global order with no gaps, in which no reader ever skips an event that commits late: every
//!   write transaction is serialised (PostgreSQL: a transaction-scoped advisory lock taken at begin;
//!   SQLite: `BEGIN IMMEDIATE` behind an in-process writer lock), and the next position is computed under
//!   that lock, so an event is visible only after every event before it is;
//! - idempotency keys: the same key with the same request returns the first result and appends nothing,
//!   the same key with another request is [`StoreError::IdempotencyConflict`];
//! - a hash chain over each stream and over the global order, checked by [`verify`];
//! - the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the event table (triggers
//!   in `migrations/`).
//!
//! Storage functions run inside a [`WriteTx`]; the command handler owns begin and commit.

pub mod checkpoint;
mod group;
pub mod hash;
pub mod verify;

pub use group::{MAX_GROUP_JOBS, WRITE_QUEUE_CAPACITY};

use crate::actor::{Actor, Role};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Mutex, OwnedMutexGuard};

pub use hash::GENESIS_HASH;

/// Limits on what one append may carry (TIGER_STYLE: a limit on everything).
pub const MAX_EVENTS_PER_APPEND: usize = 10_000;
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
pub const MAX_STREAM_ID_LEN: usize = 200;
pub const MAX_COMMENT_LEN: usize = 4_000;
pub const MAX_KEY_LEN: usize = 200;

/// SQLite waits this long for another process's write lock before a retry (never "database is locked").
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts to begin a write transaction on SQLite when another process holds the lock.
pub const SQLITE_BEGIN_ATTEMPTS: u32 = 5;
/// The PostgreSQL advisory lock key that serialises appends ("care" in ASCII).
const PG_APPEND_LOCK_KEY: i64 = 0x6361_7265;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        })
    }
}

/// What the writer expects the stream's current version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the version (no concurrency check).
    Any,
    /// The stream must be at exactly this version (0: the stream must not exist yet).
    Exact(i64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflit de version sur {stream_id} : version attendue {expected}, version actuelle {actual} (relire puis recommencer)")]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: i64,
    },
    #[error("clé d'idempotence {key} déjà utilisée pour une autre requête")]
    IdempotencyConflict { key: String },
    /// An append the store refuses before writing anything; `reason` is in French (it may reach a
    /// user), `field` names the metadata or event field at fault.
    #[error("écriture refusée : {field} : {reason}")]
    InvalidAppend { field: &'static str, reason: String },
    #[error(
        "unsupported database URL {0} (expected a SQLite file path, sqlite://… or postgres://…)"
    )]
    InvalidUrl(String),
    #[error("the database stayed busy after {attempts} attempts")]
    Busy { attempts: u32 },
    #[error("stored event at position {position} is unreadable: {reason}")]
    Corrupt { position: i64, reason: String },
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// The group transaction this write was part of could not begin or commit: nothing of it was
    /// recorded. Every write of the group gets the same cause.
    #[error("the group transaction failed, nothing of this write was recorded")]
    GroupFailed(#[source] Arc<StoreError>),
    /// The writer task is gone (the runtime is shutting down, or a write panicked): nothing recorded.
    #[error("the store's writer stopped before answering")]
    WriterStopped,
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the database could not be reached or stayed busy (the caller may retry later): a
    /// service answers "unavailable" (503), not an internal error. Every variant decided here.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Busy { .. } | StoreError::WriterStopped => true,
            StoreError::Database(err) => database_unavailable(err),
            StoreError::GroupFailed(cause) => cause.is_unavailable(),
            StoreError::Conflict { .. }
            | StoreError::IdempotencyConflict { .. }
            | StoreError::InvalidAppend { .. }
            | StoreError::InvalidUrl(_)
            | StoreError::Corrupt { .. }
            | StoreError::Migration(_) => false,
        }
    }
}

/// A database error that means "not reachable now" (pool closed or exhausted, connection lost,
/// SQLite locked by another process), as opposed to a refused or broken statement.
fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            is_sqlite_busy(err)
                // PostgreSQL: class 08 (connection exception), 57P01-57P03 (shutdown, cannot
                // connect now), 53300 (too many connections).
                || db.code().is_some_and(|code| {
                    code.starts_with("08") || code.starts_with("57P") || code == "53300"
                })
        }
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(err)
    }
}

fn is_sqlite_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("5") | Some("6") | Some("517"))
                || db.message().contains("database is locked")
        }
        _ => false,
    }
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Value,
}

impl NewEvent {
    pub fn new(event_type: impl Into<String>, schema_version: i32, payload: Value) -> NewEvent {
        NewEvent {
            event_type: event_type.into(),
            schema_version,
            payload,
        }
    }
}

/// Who, why and from which request (SPEC.md §4). Actor and role are required on every append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub actor: String,
    pub role: Role,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    pub comment: Option<String>,
}

impl EventMetadata {
    pub fn new(actor: &Actor, request_id: impl Into<String>) -> EventMetadata {
        EventMetadata {
            actor: actor.id.clone(),
            role: actor.role,
            request_id: request_id.into(),
            idempotency_key: None,
            comment: None,
        }
    }

    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> EventMetadata {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn with_comment(mut self, comment: impl Into<String>) -> EventMetadata {
        self.comment = Some(comment.into());
        self
    }
}

/// Who may use an idempotency key (SPEC.md §1: isolation by every path). Keys are looked up and
/// recorded under (scope, key): the same key in two scopes is two keys, so one party's keys neither
/// reveal nor block another's.
///
/// The scope is the role that writes (the payment desk's batches and orders, the controllers', the
/// administrators'), and for an establishment its role and the stream it writes: an establishment
/// writes only streams of its one candidate, so its keys never meet another candidate's, nor the keys
/// the payment desk gives the orders it makes on its statements. The migration
/// `20261205000010_scoped_idempotency_keys` gave the keys recorded before scopes existed the scope
/// this rule gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope(String);

impl IdempotencyScope {
    pub fn of(stream_id: &str, role: Role) -> IdempotencyScope {
        match role {
            Role::Etablissement => IdempotencyScope(format!("{}:{stream_id}", role.as_str())),
            Role::Controleur | Role::Paiement | Role::Admin => {
                IdempotencyScope(role.as_str().to_string())
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An event as stored, with its place in both chains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub position: i64,
    pub stream_id: String,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i32,
    /// Canonical JSON text, exactly as hashed.
    pub payload: String,
    pub actor: String,
    pub role: String,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    pub comment: Option<String>,
    pub recorded_at_us: i64,
    pub prev_hash: String,
    pub hash: String,
    pub global_prev_hash: String,
    pub global_hash: String,
}

impl RecordedEvent {
    pub fn payload_json(&self) -> Result<Value, StoreError> {
        serde_json::from_str(&self.payload).map_err(|e| StoreError::Corrupt {
            position: self.position,
            reason: e.to_string(),
        })
    }

    pub fn recorded_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.recorded_at_us).unwrap_or_default()
    }

    pub fn hashed_fields(&self) -> hash::HashedFields<'_> {
        hash::HashedFields {
            stream_id: &self.stream_id,
            stream_version: self.stream_version,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            payload: &self.payload,
            actor: &self.actor,
            role: &self.role,
            request_id: &self.request_id,
            idempotency_key: self.idempotency_key.as_deref(),
            comment: self.comment.as_deref(),
            recorded_at_us: self.recorded_at_us,
        }
    }
}

/// The result of an append (or of its idempotent repeat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResult {
    pub stream_id: String,
    pub first_version: i64,
    pub last_version: i64,
    pub first_position: i64,
    pub last_position: i64,
    /// True when the idempotency key had already been used for this very request: nothing appended.
    pub replayed: bool,
}

/// Where a stream read stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadBound {
    pub up_to_version: Option<i64>,
    pub as_of: Option<DateTime<Utc>>,
}

impl ReadBound {
    pub fn all() -> ReadBound {
        ReadBound::default()
    }

    pub fn as_of(instant: DateTime<Utc>) -> ReadBound {
        ReadBound {
            up_to_version: None,
            as_of: Some(instant),
        }
    }

    pub fn up_to_version(version: i64) -> ReadBound {
        ReadBound {
            up_to_version: Some(version),
            as_of: None,
        }
    }
}

/// The head of the global order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalHead {
    pub position: i64,
    pub global_hash: String,
    pub recorded_at_us: i64,
}

#[derive(Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body against whichever pool or connection the value holds; the body is type-checked
/// once per engine, so engine differences stay visible at compile time.
macro_rules! on_pool {
    ($backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            Backend::Sqlite($pool) => $body,
            Backend::Postgres($pool) => $body,
        }
    };
}

const EVENT_COLUMNS: &str =
    "position, stream_id, stream_version, event_type, schema_version, payload, \
     actor, role, request_id, idempotency_key, comment, recorded_at_us, prev_hash, hash, \
     global_prev_hash, global_hash";

macro_rules! recorded_event_from_row {
    ($row:expr) => {{
        let row = $row;
        RecordedEvent {
            position: row.try_get(0)?,
            stream_id: row.try_get(1)?,
            stream_version: row.try_get(2)?,
            event_type: row.try_get(3)?,
            schema_version: row.try_get(4)?,
            payload: row.try_get(5)?,
            actor: row.try_get(6)?,
            role: row.try_get(7)?,
            request_id: row.try_get(8)?,
            idempotency_key: row.try_get(9)?,
            comment: row.try_get(10)?,
            recorded_at_us: row.try_get(11)?,
            prev_hash: row.try_get(12)?,
            hash: row.try_get(13)?,
            global_prev_hash: row.try_get(14)?,
            global_hash: row.try_get(15)?,
        }
    }};
}

fn select_sql(tail: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM events {tail}"))
}

/// The event store. Cheap to clone (pools, the writer and the commit counter are shared).
#[derive(Clone)]
pub struct EventStore {
    backend: Backend,
    clock: Arc<dyn Clock>,
    transactions: TxFactory,
    /// The group writer's queue (see [`EventStore::write`]); the writer task stops when the last
    /// clone of the store is dropped.
    writer: mpsc::Sender<Box<dyn group::GroupJob>>,
}

/// Begins write transactions; shared by [`EventStore::begin_write`] and the group writer.
#[derive(Clone)]
struct TxFactory {
    backend: Backend,
    clock: Arc<dyn Clock>,
    /// SQLite has one writer: transactions from this process queue here instead of spinning on
    /// SQLITE_BUSY.
    sqlite_writer: Arc<Mutex<()>>,
    /// Counts the local commits that appended something (read models compare it with what they
    /// have applied, see [`EventStore::commit_count`]).
    commits: Arc<watch::Sender<u64>>,
}

impl fmt::Debug for EventStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStore")
            .field("engine", &self.engine())
            .finish()
    }
}

impl EventStore {
    /// Opens (and creates, for SQLite) the database at `url` and applies the migrations.
    /// `url`: `postgres://…`, `sqlite://path`, `sqlite::memory:` or a plain file path.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<EventStore, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(url).map_err(|_| StoreError::InvalidUrl(redact(url)))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            let options = if url.starts_with("sqlite:") {
                SqliteConnectOptions::from_str(url)
                    .map_err(|_| StoreError::InvalidUrl(redact(url)))?
            } else if url.contains("://") {
                return Err(StoreError::InvalidUrl(redact(url)));
            } else {
                SqliteConnectOptions::new().filename(url)
            };
            create_owner_only(options.get_filename())
                .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: every commit is fsynced before it is acknowledged (README: durability).
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Backend::Sqlite(pool)
        };
        let transactions = TxFactory {
            backend: backend.clone(),
            clock: clock.clone(),
            sqlite_writer: Arc::new(Mutex::new(())),
            commits: Arc::new(watch::Sender::new(0)),
        };
        let writer = group::spawn_writer(transactions.clone());
        Ok(EventStore {
            backend,
            clock,
            transactions,
            writer,
        })
    }

    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        on_pool!(&self.backend, pool => pool.close().await)
    }

    /// Begins a write transaction. Appends are serialised from here until commit or rollback (the
    /// group writer of [`EventStore::write`] takes the same lock, so both kinds of write queue alike).
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.transactions.begin().await
    }

    /// How many local commits (through any clone of this store) have appended something so far. A
    /// read model that has applied every event visible after this count was read has seen every
    /// write acknowledged by this process before that moment.
    pub fn commit_count(&self) -> u64 {
        *self.transactions.commits.borrow()
    }

    /// Writes queued for the group writer and not taken yet (tests, diagnostics).
    #[doc(hidden)]
    pub fn queued_writes(&self) -> usize {
        self.writer.max_capacity() - self.writer.capacity()
    }

    /// Changes whenever a local commit appended something (wakes read-model followers).
    pub fn subscribe_commits(&self) -> watch::Receiver<u64> {
        self.transactions.commits.subscribe()
    }

    /// Appends through the group writer: committed with whatever other writes are waiting, answered
    /// once the group's transaction is durable. A refused append (conflict, invalid) leaves nothing.
    pub async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
    ) -> Result<AppendResult, StoreError> {
        let stream_id = stream_id.to_string();
        let events = events.to_vec();
        let metadata = metadata.clone();
        self.write(move |tx| {
            Box::pin(async move { tx.append(&stream_id, expected, &events, &metadata).await })
        })
        .await
    }

    /// Runs `job` inside a group transaction (group commit). Concurrent writes queue to one writer
    /// task that takes every job waiting (up to [`MAX_GROUP_JOBS`]), runs each inside its own
    /// savepoint in ONE transaction, commits once, and answers each caller with its own result.
    ///
    /// - a job returning `Err` is rolled back to its savepoint: it leaves nothing, the others commit;
    /// - a job sees the writes of the jobs before it in the group (same transaction), so the
    ///   idempotency check, the stream's version and both hash chains stay exact;
    /// - `Ok` is answered only after the commit is durable; when the group cannot begin or commit,
    ///   every job of it gets [`StoreError::GroupFailed`] and nothing of it is recorded.
    ///
    /// A job is a closure over `&mut WriteTx`, so any write that must be atomic with an append (a
    /// document blob, a token row) can join the same transaction. A job holds up every write queued
    /// behind it: it must only work on the transaction (no waiting on anything else, no other write
    /// through this store, which would wait for the very transaction it runs in).
    pub async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut WriteTx) -> futures::future::BoxFuture<'t, Result<T, E>>
            + Send
            + 'static,
    {
        group::submit(&self.writer, job).await
    }

    /// The current version of a stream (0 when it has no event).
    pub async fn stream_version(&self, stream_id: &str) -> Result<i64, StoreError> {
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(
                "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = $1",
            )
            .bind(stream_id)
            .fetch_one(pool)
            .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    /// One stream, in version order, up to a version and/or an instant (as-of reads).
    pub async fn read_stream(
        &self,
        stream_id: &str,
        bound: ReadBound,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let max_version = bound.up_to_version.unwrap_or(i64::MAX);
        let max_us = bound
            .as_of
            .map(|t| t.timestamp_micros())
            .unwrap_or(i64::MAX);
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(select_sql(
                "WHERE stream_id = $1 AND stream_version <= $2 AND recorded_at_us <= $3 \
                 ORDER BY stream_version",
            ))
            .bind(stream_id)
            .bind(max_version)
            .bind(max_us)
            .fetch_all(pool)
            .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                events.push(recorded_event_from_row!(row));
            }
            Ok(events)
        })
    }

    /// The events of one stream after `after_version` (catching a cached state up).
    pub async fn read_stream_after(
        &self,
        stream_id: &str,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(select_sql(
                "WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
            ))
            .bind(stream_id)
            .bind(after_version)
            .fetch_all(pool)
            .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                events.push(recorded_event_from_row!(row));
            }
            Ok(events)
        })
    }

    /// One page of the global order: events after `after_position`, at most `limit`.
    pub async fn read_all_page(
        &self,
        after_position: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(select_sql("WHERE position > $1 ORDER BY position LIMIT $2"))
                .bind(after_position)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                events.push(recorded_event_from_row!(row));
            }
            Ok(events)
        })
    }

    /// Every event after `after_position` in global order, streamed row by row (never the whole
    /// table in memory).
    pub fn stream_all(
        &self,
        after_position: i64,
    ) -> BoxStream<'_, Result<RecordedEvent, StoreError>> {
        fn map<R: Row>(row: Result<R, sqlx::Error>) -> Result<RecordedEvent, StoreError>
        where
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            let row = row?;
            Ok(recorded_event_from_row!(&row))
        }
        on_pool!(&self.backend, pool => {
            sqlx::query(select_sql("WHERE position > $1 ORDER BY position"))
                .bind(after_position)
                .fetch(pool)
                .map(map)
                .boxed()
        })
    }

    /// The last event of the global order, if any.
    pub async fn head(&self) -> Result<Option<GlobalHead>, StoreError> {
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(
                "SELECT position, global_hash, recorded_at_us FROM events \
                 ORDER BY position DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(None),
                Some(row) => Ok(Some(GlobalHead {
                    position: row.try_get(0)?,
                    global_hash: row.try_get(1)?,
                    recorded_at_us: row.try_get(2)?,
                })),
            }
        })
    }

    /// The last version and hash of every stream among the events up to `up_to_position` (for
    /// checkpoints), in stream id order.
    pub async fn stream_heads(
        &self,
        up_to_position: i64,
    ) -> Result<Vec<(String, i64, String)>, StoreError> {
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(
                "SELECT e.stream_id, e.stream_version, e.hash FROM events e \
                 JOIN (SELECT stream_id, MAX(stream_version) AS v FROM events \
                       WHERE position <= $1 GROUP BY stream_id) h \
                   ON h.stream_id = e.stream_id AND h.v = e.stream_version \
                 ORDER BY e.stream_id",
            )
            .bind(up_to_position)
            .fetch_all(pool)
            .await?;
            let mut heads = Vec::with_capacity(rows.len());
            for row in &rows {
                heads.push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
            }
            Ok(heads)
        })
    }

    /// Stream ids starting with `prefix`, in order (e.g. every statement stream).
    pub async fn stream_ids(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let pattern = format!("{}%", prefix.replace('%', "\\%").replace('_', "\\_"));
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(
                "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE $1 ESCAPE '\\' \
                 ORDER BY stream_id",
            )
            .bind(&pattern)
            .fetch_all(pool)
            .await?;
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                ids.push(row.try_get(0)?);
            }
            Ok(ids)
        })
    }

    /// Runs raw SQL (tests that try to tamper, benches). Not for application code.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        on_pool!(&self.backend, pool => {
            Ok(sqlx::raw_sql(sql).execute(pool).await?.rows_affected())
        })
    }

    #[doc(hidden)]
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backend::Sqlite(pool) => Some(pool),
            Backend::Postgres(_) => None,
        }
    }

    #[doc(hidden)]
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite(_) => None,
        }
    }
}

impl TxFactory {
    async fn begin(&self) -> Result<WriteTx, StoreError> {
        let inner = match &self.backend {
            Backend::Sqlite(pool) => {
                let guard = self.sqlite_writer.clone().lock_owned().await;
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match pool.begin_with("BEGIN IMMEDIATE").await {
                        Ok(tx) => break TxInner::Sqlite(tx, guard),
                        Err(err) if is_sqlite_busy(&err) && attempt < SQLITE_BEGIN_ATTEMPTS => {
                            tracing::warn!(attempt, "SQLite busy at begin, retrying");
                            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt)))
                                .await;
                        }
                        Err(err) if is_sqlite_busy(&err) => {
                            return Err(StoreError::Busy { attempts: attempt })
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_APPEND_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                TxInner::Postgres(tx)
            }
        };
        Ok(WriteTx {
            inner,
            clock: self.clock.clone(),
            commits: self.commits.clone(),
            appended: false,
            appended_at_savepoint: false,
            head: None,
            head_at_savepoint: None,
            unused_key: None,
            scratch: HashMap::new(),
            stream_heads: HashMap::new(),
        })
    }
}

/// Creates a new SQLite ledger file readable and writable by its owner only (it holds salaries and
/// token hashes); SQLite gives its `-wal` and `-shm` files the same permissions. An existing file is
/// left as it is; an in-memory database has no file.
fn create_owner_only(path: &std::path::Path) -> std::io::Result<()> {
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file:") || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Created meanwhile by another process: theirs to have made.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Hides the secrets of a database URL in messages and logs: the password of `user:password@` and the
/// value of every query parameter naming a password or a key (`?password=…`, `&sslpassword=…`,
/// `sslkey=…`). The one redaction every message, log line and `Debug` of a configuration goes through.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &base[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    format!("{}{}:***{}", &base[..scheme_end + 3], user, &base[at..])
                }
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        out.push('?');
        let parameters: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_parameter(name) => format!("{name}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&parameters.join("&"));
    }
    out
}

fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("password")
        || name.contains("passwd")
        || name == "sslkey"
        || name.contains("secret")
}

enum TxInner {
    Sqlite(
        sqlx::Transaction<'static, sqlx::Sqlite>,
        OwnedMutexGuard<()>,
    ),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

macro_rules! on_tx {
    ($inner:expr, $conn:ident => $body:expr) => {
        match $inner {
            TxInner::Sqlite(tx, _) => {
                let $conn = &mut **tx;
                $body
            }
            TxInner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// A write transaction: appends are serialised while it is open.
pub struct WriteTx {
    inner: TxInner,
    clock: Arc<dyn Clock>,
    commits: Arc<watch::Sender<u64>>,
    /// Whether something was appended (a commit then bumps the commit counter).
    appended: bool,
    appended_at_savepoint: bool,
    /// The global head (position, global hash, recorded time) once read or written in this
    /// transaction: exact while it holds the write lock, so later appends need not read it again.
    head: Option<(i64, String, i64)>,
    head_at_savepoint: Option<(i64, String, i64)>,
    /// An idempotency key (in its scope) just looked up and found unused, with nothing appended since.
    unused_key: Option<(IdempotencyScope, String)>,
    /// What the jobs of a group keep for the next ones, by type (see [`WriteTx::scratch`]).
    scratch: HashMap<TypeId, Box<dyn Any + Send>>,
    /// Stream heads (version, hash) once read or written in this transaction: exact while it holds
    /// the write lock.
    stream_heads: HashMap<String, (i64, String)>,
}

fn validate_append(
    stream_id: &str,
    events: &[NewEvent],
    metadata: &EventMetadata,
) -> Result<(), StoreError> {
    let invalid = |field: &'static str, reason: &str| StoreError::InvalidAppend {
        field,
        reason: reason.to_string(),
    };
    if stream_id.trim().is_empty() || stream_id.len() > MAX_STREAM_ID_LEN {
        return Err(invalid(
            "stream_id",
            &format!("identifiant de flux vide ou de plus de {MAX_STREAM_ID_LEN} caractères"),
        ));
    }
    if events.is_empty() {
        return Err(invalid("events", "aucun événement à enregistrer"));
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(
            "events",
            &format!("plus de {MAX_EVENTS_PER_APPEND} événements en une écriture"),
        ));
    }
    if metadata.actor.trim().is_empty() || metadata.actor.len() > Actor::MAX_ID_LEN {
        return Err(invalid(
            "actor",
            &format!("obligatoire (1 à {} caractères)", Actor::MAX_ID_LEN),
        ));
    }
    if metadata.request_id.trim().is_empty() || metadata.request_id.len() > MAX_KEY_LEN {
        return Err(invalid(
            "request_id",
            &format!("obligatoire (1 à {MAX_KEY_LEN} caractères)"),
        ));
    }
    if let Some(key) = &metadata.idempotency_key {
        if key.trim().is_empty() || key.len() > MAX_KEY_LEN {
            return Err(invalid(
                "idempotency_key",
                &format!("vide ou de plus de {MAX_KEY_LEN} caractères"),
            ));
        }
    }
    if metadata
        .comment
        .as_ref()
        .is_some_and(|c| c.len() > MAX_COMMENT_LEN)
    {
        return Err(invalid(
            "comment",
            &format!("plus de {MAX_COMMENT_LEN} octets"),
        ));
    }
    for event in events {
        if event.event_type.trim().is_empty() || event.event_type.len() > 100 {
            return Err(invalid("event_type", "vide ou de plus de 100 caractères"));
        }
        if event.schema_version < 1 {
            return Err(invalid("schema_version", "doit être au moins 1"));
        }
    }
    Ok(())
}

/// Fingerprint of a request for its idempotency key: stream, actor, events and comment.
fn request_fingerprint_of(
    stream_id: &str,
    payloads: &[String],
    events: &[NewEvent],
    metadata: &EventMetadata,
) -> String {
    let mut text = String::new();
    for part in [
        stream_id,
        metadata.actor.as_str(),
        metadata.role.as_str(),
        metadata.comment.as_deref().unwrap_or("\u{0}"),
    ] {
        text.push_str(&format!("{}:{}|", part.len(), part));
    }
    for (event, payload) in events.iter().zip(payloads) {
        text.push_str(&format!(
            "{}:{}|{}|{}:{}|",
            event.event_type.len(),
            event.event_type,
            event.schema_version,
            payload.len(),
            payload
        ));
    }
    hash::sha256_hex(text.as_bytes())
}

impl WriteTx {
    /// Appends `events` to `stream_id` atomically with the rest of this transaction.
    pub async fn append(
        &mut self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
    ) -> Result<AppendResult, StoreError> {
        self.append_with_fingerprint(stream_id, expected, events, metadata, None)
            .await
    }

    /// The result recorded for an idempotency key in a scope and the fingerprint of the request that
    /// used it. A key used only in another scope is unused here (see [`IdempotencyScope`]).
    pub async fn find_idempotency_key(
        &mut self,
        scope: &IdempotencyScope,
        key: &str,
    ) -> Result<Option<(AppendResult, String)>, StoreError> {
        on_tx!(&mut self.inner, conn => {
            let row = sqlx::query(
                "SELECT stream_id, request_hash, first_position, last_position, first_version, \
                 last_version FROM idempotency_scoped_keys WHERE scope = $1 AND idempotency_key = $2",
            )
            .bind(scope.as_str())
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                None => {
                    self.unused_key = Some((scope.clone(), key.to_string()));
                    Ok(None)
                }
                Some(row) => Ok(Some((
                    AppendResult {
                        stream_id: row.try_get(0)?,
                        first_position: row.try_get(2)?,
                        last_position: row.try_get(3)?,
                        first_version: row.try_get(4)?,
                        last_version: row.try_get(5)?,
                        replayed: true,
                    },
                    row.try_get(1)?,
                ))),
            }
        })
    }

    /// As [`WriteTx::append`], with the idempotency fingerprint given by the caller: a command handler
    /// fingerprints the *command*, whose events depend on the state at the time it was first decided.
    pub async fn append_with_fingerprint(
        &mut self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        request_fingerprint: Option<String>,
    ) -> Result<AppendResult, StoreError> {
        let (result, _) = self
            .append_inner(
                stream_id,
                expected,
                events,
                metadata,
                request_fingerprint,
                false,
            )
            .await?;
        Ok(result)
    }

    /// As [`WriteTx::append_with_fingerprint`], also returning the events as stored (position, both
    /// hashes, recorded time, canonical payload), exactly as a later read would return them. Empty
    /// on an idempotent repeat.
    pub async fn append_recorded(
        &mut self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        request_fingerprint: Option<String>,
    ) -> Result<(AppendResult, Vec<RecordedEvent>), StoreError> {
        self.append_inner(
            stream_id,
            expected,
            events,
            metadata,
            request_fingerprint,
            true,
        )
        .await
    }

    async fn append_inner(
        &mut self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        request_fingerprint: Option<String>,
        collect: bool,
    ) -> Result<(AppendResult, Vec<RecordedEvent>), StoreError> {
        validate_append(stream_id, events, metadata)?;
        let mut payloads = Vec::with_capacity(events.len());
        for event in events {
            let payload = hash::canonical_json(&event.payload);
            if payload.len() > MAX_PAYLOAD_BYTES {
                return Err(StoreError::InvalidAppend {
                    field: "payload",
                    reason: format!(
                        "{} octets, au-delà de la limite de {MAX_PAYLOAD_BYTES}",
                        payload.len()
                    ),
                });
            }
            payloads.push(payload);
        }
        let fingerprint = metadata.idempotency_key.as_ref().map(|_| {
            request_fingerprint
                .unwrap_or_else(|| request_fingerprint_of(stream_id, &payloads, events, metadata))
        });
        let now_us = self.clock.now().timestamp_micros();
        let role = metadata.role.as_str();

        let scope = IdempotencyScope::of(stream_id, metadata.role);
        let key_known_unused = metadata.idempotency_key.as_ref().is_some_and(|key| {
            self.unused_key
                .as_ref()
                .is_some_and(|(s, k)| s == &scope && k == key)
        });
        self.unused_key = None;
        on_tx!(&mut self.inner, conn => {
            if let (Some(key), Some(fingerprint), false) =
                (&metadata.idempotency_key, &fingerprint, key_known_unused)
            {
                let row = sqlx::query(
                    "SELECT stream_id, request_hash, first_position, last_position, first_version, \
                     last_version FROM idempotency_scoped_keys \
                     WHERE scope = $1 AND idempotency_key = $2",
                )
                .bind(scope.as_str())
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
                if let Some(row) = row {
                    let stored_hash: String = row.try_get(1)?;
                    if &stored_hash != fingerprint {
                        return Err(StoreError::IdempotencyConflict { key: key.clone() });
                    }
                    return Ok((AppendResult {
                        stream_id: row.try_get(0)?,
                        first_position: row.try_get(2)?,
                        last_position: row.try_get(3)?,
                        first_version: row.try_get(4)?,
                        last_version: row.try_get(5)?,
                        replayed: true,
                    }, Vec::new()));
                }
            }

            // Taken out (like the global head): put back only once the append succeeded, so a
            // failure half-way never leaves a stale head behind.
            let (current_version, mut prev_hash): (i64, String) =
                match self.stream_heads.remove(stream_id) {
                    Some(head) => head,
                    None => {
                        let stream_head = sqlx::query(
                            "SELECT stream_version, hash FROM events WHERE stream_id = $1 \
                             ORDER BY stream_version DESC LIMIT 1",
                        )
                        .bind(stream_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                        match stream_head {
                            Some(row) => (row.try_get(0)?, row.try_get(1)?),
                            None => (0, GENESIS_HASH.to_string()),
                        }
                    }
                };
            if let ExpectedVersion::Exact(expected_version) = expected {
                if expected_version != current_version {
                    return Err(StoreError::Conflict {
                        stream_id: stream_id.to_string(),
                        expected,
                        actual: current_version,
                    });
                }
            }

            let (mut position, mut global_prev, last_us): (i64, String, i64) = match self.head.take() {
                Some(head) => head,
                None => {
                    let global_head = sqlx::query(
                        "SELECT position, global_hash, recorded_at_us FROM events \
                         ORDER BY position DESC LIMIT 1",
                    )
                    .fetch_optional(&mut *conn)
                    .await?;
                    match global_head {
                        Some(row) => (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                        None => (0, GENESIS_HASH.to_string(), i64::MIN),
                    }
                }
            };
            // Recorded time never goes backwards along the global order, so as-of reads are
            // consistent even if the system clock steps back.
            let recorded_at_us = now_us.max(last_us);

            let first_position = position + 1;
            let mut version = current_version;
            let mut recorded = Vec::with_capacity(if collect { events.len() } else { 0 });
            for (event, payload) in events.iter().zip(&payloads) {
                position += 1;
                version += 1;
                let fields = hash::HashedFields {
                    stream_id,
                    stream_version: version,
                    event_type: &event.event_type,
                    schema_version: event.schema_version,
                    payload,
                    actor: &metadata.actor,
                    role,
                    request_id: &metadata.request_id,
                    idempotency_key: metadata.idempotency_key.as_deref(),
                    comment: metadata.comment.as_deref(),
                    recorded_at_us,
                };
                let event_hash = hash::event_hash(&prev_hash, &fields);
                let global = hash::global_hash(&global_prev, position, &event_hash);
                let inserted = sqlx::query(
                    "INSERT INTO events (position, stream_id, stream_version, event_type, \
                     schema_version, payload, actor, role, request_id, idempotency_key, comment, \
                     recorded_at_us, prev_hash, hash, global_prev_hash, global_hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(position)
                .bind(stream_id)
                .bind(version)
                .bind(&event.event_type)
                .bind(event.schema_version)
                .bind(payload)
                .bind(&metadata.actor)
                .bind(role)
                .bind(&metadata.request_id)
                .bind(&metadata.idempotency_key)
                .bind(&metadata.comment)
                .bind(recorded_at_us)
                .bind(&prev_hash)
                .bind(&event_hash)
                .bind(&global_prev)
                .bind(&global)
                .execute(&mut *conn)
                .await;
                if let Err(err) = inserted {
                    if let sqlx::Error::Database(db) = &err {
                        if db.is_unique_violation() {
                            return Err(StoreError::Conflict {
                                stream_id: stream_id.to_string(),
                                expected,
                                actual: version,
                            });
                        }
                    }
                    return Err(err.into());
                }
                self.appended = true;
                if collect {
                    recorded.push(RecordedEvent {
                        position,
                        stream_id: stream_id.to_string(),
                        stream_version: version,
                        event_type: event.event_type.clone(),
                        schema_version: event.schema_version,
                        payload: payload.clone(),
                        actor: metadata.actor.clone(),
                        role: role.to_string(),
                        request_id: metadata.request_id.clone(),
                        idempotency_key: metadata.idempotency_key.clone(),
                        comment: metadata.comment.clone(),
                        recorded_at_us,
                        prev_hash: prev_hash.clone(),
                        hash: event_hash.clone(),
                        global_prev_hash: global_prev.clone(),
                        global_hash: global.clone(),
                    });
                }
                prev_hash = event_hash;
                global_prev = global;
            }

            // Known exactly from here on: this transaction holds the write lock.
            self.head = Some((position, global_prev.clone(), recorded_at_us));
            self.stream_heads
                .insert(stream_id.to_string(), (version, prev_hash.clone()));
            if let (Some(key), Some(fingerprint)) = (&metadata.idempotency_key, &fingerprint) {
                sqlx::query(
                    "INSERT INTO idempotency_scoped_keys (scope, idempotency_key, stream_id, \
                     request_hash, first_position, last_position, first_version, last_version, \
                     recorded_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(scope.as_str())
                .bind(key)
                .bind(stream_id)
                .bind(fingerprint)
                .bind(first_position)
                .bind(position)
                .bind(current_version + 1)
                .bind(version)
                .bind(recorded_at_us)
                .execute(&mut *conn)
                .await?;
            }

            Ok((AppendResult {
                stream_id: stream_id.to_string(),
                first_version: current_version + 1,
                last_version: version,
                first_position,
                last_position: position,
                replayed: false,
            }, recorded))
        })
    }

    /// The stream's current version as seen inside this transaction.
    pub async fn stream_version(&mut self, stream_id: &str) -> Result<i64, StoreError> {
        on_tx!(&mut self.inner, conn => {
            let row = sqlx::query(
                "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = $1",
            )
            .bind(stream_id)
            .fetch_one(&mut *conn)
            .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    /// The events of one stream after `after_version`, inside this transaction.
    pub async fn read_stream_after(
        &mut self,
        stream_id: &str,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if self
            .stream_heads
            .get(stream_id)
            .is_some_and(|(version, _)| *version == after_version)
        {
            // The head is known (this transaction holds the write lock): nothing after it.
            return Ok(Vec::new());
        }
        let events = on_tx!(&mut self.inner, conn => {
            let rows = sqlx::query(select_sql(
                "WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
            ))
            .bind(stream_id)
            .bind(after_version)
            .fetch_all(&mut *conn)
            .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                events.push(recorded_event_from_row!(row));
            }
            events
        });
        if let Some(last) = events.last() {
            self.stream_heads.insert(
                stream_id.to_string(),
                (last.stream_version, last.hash.clone()),
            );
        }
        Ok(events)
    }

    /// Reads one stream inside this transaction (a decision made under the write lock).
    pub async fn read_stream(&mut self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        on_tx!(&mut self.inner, conn => {
            let rows = sqlx::query(select_sql("WHERE stream_id = $1 ORDER BY stream_version"))
                .bind(stream_id)
                .fetch_all(&mut *conn)
                .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                events.push(recorded_event_from_row!(row));
            }
            Ok(events)
        })
    }

    /// Scratch space the jobs of a group share, one value per type (e.g. the states a command
    /// handler built for the streams it changed, so the next job on the same stream goes on from
    /// them instead of copying a state again).
    ///
    /// - cleared whenever a job is rolled back to its savepoint: nothing a refused job left there
    ///   survives it;
    /// - carried over by the group writer to its next transaction after a successful commit (what
    ///   it holds is then committed), dropped when a transaction fails or is rolled back;
    /// - so a job may find there what earlier committed groups left: anything kept must stay valid
    ///   across commits (e.g. a stream's state *at a version*, caught up with the events after it).
    pub fn scratch<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.scratch
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("a scratch entry holds the type it is keyed by")
    }

    fn take_scratch(&mut self) -> HashMap<TypeId, Box<dyn Any + Send>> {
        std::mem::take(&mut self.scratch)
    }

    fn put_scratch(&mut self, scratch: HashMap<TypeId, Box<dyn Any + Send>>) {
        self.scratch = scratch;
    }

    /// Opens the savepoint a group job runs in (see [`EventStore::write`]).
    async fn savepoint(&mut self) -> Result<(), StoreError> {
        on_tx!(&mut self.inner, conn => {
            sqlx::raw_sql("SAVEPOINT care_job").execute(&mut *conn).await?;
        });
        self.mark_savepoint();
        Ok(())
    }

    fn mark_savepoint(&mut self) {
        self.appended_at_savepoint = self.appended;
        self.head_at_savepoint = self.head.clone();
        self.unused_key = None;
    }

    /// Ends a job's savepoint: kept (released) or undone (rolled back to, so a refused job leaves no
    /// trace; on PostgreSQL this also clears the aborted state an error inside the job left), and
    /// with `next` opens the next job's savepoint in the same round trip.
    async fn end_savepoint(&mut self, kept: bool, next: bool) -> Result<(), StoreError> {
        let sql = match (kept, next) {
            (true, false) => "RELEASE SAVEPOINT care_job",
            (true, true) => "RELEASE SAVEPOINT care_job; SAVEPOINT care_job",
            (false, false) => "ROLLBACK TO SAVEPOINT care_job; RELEASE SAVEPOINT care_job",
            (false, true) => {
                "ROLLBACK TO SAVEPOINT care_job; RELEASE SAVEPOINT care_job; SAVEPOINT care_job"
            }
        };
        on_tx!(&mut self.inner, conn => {
            sqlx::raw_sql(sql).execute(&mut *conn).await?;
        });
        if !kept {
            self.appended = self.appended_at_savepoint;
            self.head = self.head_at_savepoint.take();
            // What the job may have left for the next ones goes with it.
            self.scratch.clear();
            self.stream_heads.clear();
        }
        if next {
            self.mark_savepoint();
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(tx, guard) => {
                tx.commit().await?;
                drop(guard);
            }
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        if self.appended {
            self.commits.send_modify(|count| *count += 1);
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(tx, guard) => {
                tx.rollback().await?;
                drop(guard);
            }
            TxInner::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

// After the macros it uses.
pub mod documents;
pub use documents::{DocumentBlob, DocumentsReport, StoredDocument};
pub mod tokens;
pub use tokens::TokenRecord;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/care"),
            "postgres://app:***@db:5432/care"
        );
        assert_eq!(redact("postgres://db/care"), "postgres://db/care");
        assert_eq!(
            redact("postgres://app@db/care?sslmode=require&password=s3cret"),
            "postgres://app@db/care?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgresql://db/care?PASSWORD=s3cret&user=app&sslpassword=k"),
            "postgresql://db/care?PASSWORD=***&user=app&sslpassword=***"
        );
        assert_eq!(
            redact("postgres://u:p@db/c?password=x"),
            "postgres://u:***@db/c?password=***"
        );
        assert_eq!(redact("care-ledger.db"), "care-ledger.db");
    }
}
