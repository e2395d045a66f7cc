//! Command handling over the event store: load a stream's state, decide, append, commit (group commit,
//! see [`EventStore::write`]); current reads from an in-memory read model kept up to date from the
//! events; as-of reads by replay.

use crate::store::hash::{canonical_json, sha256_hex};
use crate::store::{
    AppendResult, DocumentBlob, EventMetadata, EventStore, ExpectedVersion, IdempotencyScope,
    NewEvent, ReadBound, RecordedEvent, StoreError, WriteTx,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// What an aggregate's `apply` may know of an event besides its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    pub position: i64,
    pub version: i64,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub comment: Option<String>,
}

impl EventInfo {
    pub fn of(event: &RecordedEvent) -> EventInfo {
        EventInfo {
            position: event.position,
            version: event.stream_version,
            recorded_at: event.recorded_at(),
            actor: event.actor.clone(),
            role: event.role.clone(),
            comment: event.comment.clone(),
        }
    }
}

/// A state folded from one stream's events. Applying never fails (STYLE.md habit 3).
pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    type Event: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;

    fn apply(&mut self, event: &Self::Event, info: &EventInfo);

    /// The stored event type (past tense) and schema version of an event.
    fn event_type(event: &Self::Event) -> (&'static str, i32);
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Rejected(E),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored event at position {position} cannot be read: {reason}")]
    Decode { position: i64, reason: String },
}

#[derive(Debug, Clone)]
pub struct CommandOutcome<A> {
    /// None when the decision produced no event (nothing to do).
    pub append: Option<AppendResult>,
    /// The stream's version and state once the command is committed (read back from the read model
    /// caught up with the database: a later command may already be folded in).
    pub version: i64,
    pub state: Arc<A>,
}

/// A state and the stream version it reflects, as the read model holds it (cheap to clone: the state
/// is shared).
#[derive(Debug, PartialEq)]
pub struct Cached<A> {
    pub version: i64,
    pub state: Arc<A>,
}

impl<A> Clone for Cached<A> {
    fn clone(&self) -> Self {
        Cached {
            version: self.version,
            state: self.state.clone(),
        }
    }
}

/// Called under the read model's lock each time a stream's state is replaced by a newer one (derived
/// read models mark what they must recompute).
pub type Observer<A> = Arc<dyn Fn(&str, &Cached<A>) + Send + Sync>;

type Cache<A> = Arc<RwLock<HashMap<String, Cached<A>>>>;

/// What [`Repository::apply_recorded`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// The read model already holds this version (or a later one).
    AlreadySeen,
    /// The read model misses events before this one (load the stream to catch up).
    Gap,
}

/// Loads, caches and changes the states of one kind of stream. Clones share the same read model.
pub struct Repository<A: Aggregate> {
    store: EventStore,
    cache: Cache<A>,
    observer: Option<Observer<A>>,
}

impl<A: Aggregate> Clone for Repository<A> {
    fn clone(&self) -> Self {
        Repository {
            store: self.store.clone(),
            cache: self.cache.clone(),
            observer: self.observer.clone(),
        }
    }
}

pub fn decode<A: Aggregate>(event: &RecordedEvent) -> Result<A::Event, (i64, String)> {
    serde_json::from_str(&event.payload).map_err(|e| (event.position, e.to_string()))
}

/// Folds events into a state from scratch (the rebuild and as-of path).
pub fn fold<A: Aggregate>(events: &[RecordedEvent]) -> Result<A, (i64, String)> {
    let mut state = A::default();
    for event in events {
        state.apply(&decode::<A>(event)?, &EventInfo::of(event));
    }
    Ok(state)
}

fn corrupt((position, reason): (i64, String)) -> StoreError {
    StoreError::Corrupt { position, reason }
}

impl<A: Aggregate> Repository<A> {
    pub fn new(store: EventStore) -> Repository<A> {
        Repository {
            store,
            cache: Arc::new(RwLock::new(HashMap::new())),
            observer: None,
        }
    }

    /// A repository whose `observer` hears of every state replaced in its read model.
    pub fn with_observer(store: EventStore, observer: Observer<A>) -> Repository<A> {
        Repository {
            store,
            cache: Arc::new(RwLock::new(HashMap::new())),
            observer: Some(observer),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    fn cached(&self, stream_id: &str) -> Option<Cached<A>> {
        self.cache
            .read()
            .ok()
            .and_then(|c| c.get(stream_id).cloned())
    }

    /// Folds `events` (in version order, from the database) into the read model: those it does not
    /// hold yet are applied, in place when no reader shares the state. Returns what it holds after.
    fn fold_in(&self, stream_id: &str, events: &[RecordedEvent]) -> Result<Cached<A>, StoreError> {
        let mut cache = self.cache.write().map_err(|_| StoreError::Corrupt {
            position: 0,
            reason: "read model lock poisoned".into(),
        })?;
        let current = cache.get(stream_id).map(|c| c.version).unwrap_or(0);
        let fresh: Vec<&RecordedEvent> = events
            .iter()
            .filter(|e| e.stream_version > current)
            .collect();
        match fresh.first() {
            None => {
                return Ok(cache.get(stream_id).cloned().unwrap_or(Cached {
                    version: 0,
                    state: Arc::new(A::default()),
                }))
            }
            Some(first) if first.stream_version != current + 1 => {
                return Err(StoreError::Corrupt {
                    position: first.position,
                    reason: format!(
                        "stream {stream_id}: version {} follows {current}",
                        first.stream_version
                    ),
                })
            }
            Some(_) => {}
        }
        let mut cached = cache.remove(stream_id).unwrap_or(Cached {
            version: 0,
            state: Arc::new(A::default()),
        });
        let mut failure = None;
        {
            // Unshared (no reader holds it): changed in place, no copy.
            let state = Arc::make_mut(&mut cached.state);
            for event in fresh {
                match decode::<A>(event) {
                    Ok(decoded) => {
                        state.apply(&decoded, &EventInfo::of(event));
                        cached.version = event.stream_version;
                    }
                    Err(err) => {
                        failure = Some(corrupt(err));
                        break;
                    }
                }
            }
        }
        if let Some(observer) = &self.observer {
            observer(stream_id, &cached);
        }
        cache.insert(stream_id.to_string(), cached.clone());
        match failure {
            Some(err) => Err(err),
            None => Ok(cached),
        }
    }

    /// Applies one committed event of this kind of stream to the read model (the follower's path,
    /// in global order): the same decode and fold as a rebuild, so both give the same state.
    pub fn apply_recorded(&self, event: &RecordedEvent) -> Result<Applied, StoreError> {
        let current = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.get(&event.stream_id).map(|c| c.version))
            .unwrap_or(0);
        if event.stream_version <= current {
            return Ok(Applied::AlreadySeen);
        }
        if event.stream_version != current + 1 {
            return Ok(Applied::Gap);
        }
        match self.fold_in(&event.stream_id, std::slice::from_ref(event)) {
            Ok(_) => Ok(Applied::Applied),
            // Another path moved the read model in between: it holds this event or a later one.
            Err(StoreError::Corrupt { .. })
                if self.version_of(&event.stream_id) >= event.stream_version =>
            {
                Ok(Applied::AlreadySeen)
            }
            Err(err) => Err(err),
        }
    }

    fn version_of(&self, stream_id: &str) -> i64 {
        self.cached(stream_id).map(|c| c.version).unwrap_or(0)
    }

    /// The state the read model holds, shared (no copy), without touching the database.
    pub fn snapshot(&self, stream_id: &str) -> Option<Cached<A>> {
        self.cached(stream_id)
    }

    /// Every state the read model holds, shared, in stream id order.
    pub fn snapshots(&self) -> Vec<(String, Cached<A>)> {
        let mut all: Vec<(String, Cached<A>)> = self
            .cache
            .read()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The current state, shared (read model caught up with any event written elsewhere: one query
    /// for the events it does not hold yet).
    pub async fn load_shared(&self, stream_id: &str) -> Result<Cached<A>, StoreError> {
        let after = self.version_of(stream_id);
        let tail = self.store.read_stream_after(stream_id, after).await?;
        self.fold_in(stream_id, &tail)
    }

    /// The current state and version (read model, caught up with any event written elsewhere).
    pub async fn load(&self, stream_id: &str) -> Result<(i64, A), StoreError> {
        let cached = self.load_shared(stream_id).await?;
        Ok((cached.version, (*cached.state).clone()))
    }

    /// The current state from the read model only, without touching the database (may lag behind
    /// events written by another process until the next `load`).
    pub fn peek(&self, stream_id: &str) -> Option<(i64, A)> {
        self.cached(stream_id)
            .map(|c| (c.version, (*c.state).clone()))
    }

    /// Every cached state: (stream id, version, state), in stream id order.
    pub fn all_cached(&self) -> Vec<(String, i64, A)> {
        self.snapshots()
            .into_iter()
            .map(|(k, c)| (k, c.version, (*c.state).clone()))
            .collect()
    }

    /// The state as it was: a replay up to the bound.
    pub async fn load_as_of(
        &self,
        stream_id: &str,
        bound: ReadBound,
    ) -> Result<(i64, A), StoreError> {
        let events = self.store.read_stream(stream_id, bound).await?;
        let version = events.last().map(|e| e.stream_version).unwrap_or(0);
        let state = fold::<A>(&events).map_err(corrupt)?;
        Ok((version, state))
    }

    /// Rebuilds every cached state of streams starting with `prefix` from the events.
    pub async fn rebuild(&self, prefix: &str) -> Result<usize, StoreError> {
        let ids = self.store.stream_ids(prefix).await?;
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|k, _| !k.starts_with(prefix));
        }
        for id in &ids {
            self.load_shared(id).await?;
        }
        Ok(ids.len())
    }

    /// Decides and appends through the store's group writer (one transaction for every command
    /// waiting, see [`EventStore::write`]): inside the group's transaction the command's idempotency
    /// key is checked, its stream caught up (the read model's state plus the events it does not hold
    /// yet, those of earlier jobs of the same group included), the `If-Match` version checked,
    /// `decide` run and the events appended. A refusal leaves nothing in the transaction. `command`
    /// is fingerprinted for the idempotency key: the same key with the same command returns the first
    /// outcome; with another, a conflict. Once committed, the read model is caught up with the stream
    /// and its state returned.
    pub async fn execute<C, E, F>(
        &self,
        stream_id: &str,
        expected: Option<i64>,
        metadata: &EventMetadata,
        command: &C,
        decide: F,
    ) -> Result<CommandOutcome<A>, CommandError<E>>
    where
        C: Serialize + ?Sized,
        E: std::error::Error + Send + 'static,
        F: FnOnce(&A, i64) -> Result<Vec<A::Event>, E> + Send + 'static,
    {
        self.execute_with_documents(stream_id, expected, metadata, command, &[], decide)
            .await
    }

    /// Decides and appends on one stream inside a write job that spans several streams (one atomic
    /// transaction, e.g. a payment batch): the same idempotency, catch-up, expected-version and
    /// decision steps as [`Repository::execute`]. The caller's job owns the transaction; its read model
    /// catches up after the commit (the follower, or the next `load`).
    pub(crate) async fn decide_in<C, E, F>(
        &self,
        tx: &mut WriteTx,
        stream_id: &str,
        expected: Option<i64>,
        metadata: &EventMetadata,
        command: &C,
        decide: F,
    ) -> Result<Option<AppendResult>, CommandError<E>>
    where
        C: Serialize + ?Sized,
        E: std::error::Error + 'static,
        F: FnOnce(&A, i64) -> Result<Vec<A::Event>, E>,
    {
        let write = CommandWrite {
            metadata: metadata.clone(),
            fingerprint: fingerprint(stream_id, metadata, command),
            documents: Vec::new(),
        };
        run_command::<A, E, F>(tx, &self.cache, stream_id, expected, &write, decide).await
    }

    /// As `execute`, and keeps the files in the same transaction as the events (only when the decision
    /// appends something): a refused command leaves neither event nor file.
    pub async fn execute_with_documents<C, E, F>(
        &self,
        stream_id: &str,
        expected: Option<i64>,
        metadata: &EventMetadata,
        command: &C,
        documents: &[DocumentBlob],
        decide: F,
    ) -> Result<CommandOutcome<A>, CommandError<E>>
    where
        C: Serialize + ?Sized,
        E: std::error::Error + Send + 'static,
        F: FnOnce(&A, i64) -> Result<Vec<A::Event>, E> + Send + 'static,
    {
        let fingerprint = fingerprint(stream_id, metadata, command);
        let cache = self.cache.clone();
        let stream = stream_id.to_string();
        let write = CommandWrite {
            metadata: metadata.clone(),
            fingerprint,
            documents: documents.to_vec(),
        };
        let append = self
            .store
            .write(move |tx: &mut WriteTx| {
                Box::pin(async move {
                    run_command::<A, E, F>(tx, &cache, &stream, expected, &write, decide).await
                })
            })
            .await?;
        // Outside the writer: the committed events folded into the read model (in place), shared.
        let current = self.load_shared(stream_id).await?;
        Ok(CommandOutcome {
            append,
            version: current.version,
            state: current.state,
        })
    }
}

/// The writer's own states of the streams its jobs changed, by stream, each at a version: the next
/// job on the same stream goes on from it (caught up with any event after that version) instead of
/// copying the read model's state again. Kept in the transaction's scratch space, so it follows the
/// group writer from one committed group to the next, and is cleared when a job is rolled back or a
/// transaction fails; never shown to the read model, which only ever holds committed states (it folds
/// the same events into its own copy).
struct Overlay<A>(HashMap<String, (i64, A)>);

/// The most streams the writer keeps its own state of (a limit on the memory it doubles).
pub const MAX_WRITER_STATES: usize = 1_024;

impl<A> Default for Overlay<A> {
    fn default() -> Self {
        Overlay(HashMap::new())
    }
}

/// A stream's state inside the transaction: shared with the read model while nothing needs to be
/// applied to it, owned once it does.
enum InTx<A> {
    Shared(i64, Arc<A>),
    Owned(i64, A),
}

impl<A: Aggregate> InTx<A> {
    fn version(&self) -> i64 {
        match self {
            InTx::Shared(v, _) | InTx::Owned(v, _) => *v,
        }
    }

    fn state(&self) -> &A {
        match self {
            InTx::Shared(_, s) => s,
            InTx::Owned(_, s) => s,
        }
    }

    /// Applies events (in version order) after the current version, copying a shared state first.
    fn apply(self, events: &[RecordedEvent]) -> Result<InTx<A>, StoreError> {
        if events.is_empty() {
            return Ok(self);
        }
        let (mut version, mut state) = match self {
            InTx::Shared(v, s) => (v, (*s).clone()),
            InTx::Owned(v, s) => (v, s),
        };
        for event in events {
            state.apply(&decode::<A>(event).map_err(corrupt)?, &EventInfo::of(event));
            version = event.stream_version;
        }
        Ok(InTx::Owned(version, state))
    }
}

/// The state of a stream inside a write transaction: the group's own state of it, or the read
/// model's, plus the events neither holds yet (written by another process or by another kind of
/// job of the same group).
async fn current_in_tx<A: Aggregate>(
    tx: &mut WriteTx,
    cache: &Cache<A>,
    stream_id: &str,
) -> Result<InTx<A>, StoreError> {
    let base = match tx.scratch::<Overlay<A>>().0.remove(stream_id) {
        Some((version, state)) => InTx::Owned(version, state),
        None => match cache.read().ok().and_then(|c| c.get(stream_id).cloned()) {
            Some(cached) => InTx::Shared(cached.version, cached.state),
            None => InTx::Shared(0, Arc::new(A::default())),
        },
    };
    let tail = tx.read_stream_after(stream_id, base.version()).await?;
    base.apply(&tail)
}

/// The fingerprint an idempotency key keeps: the stream, who, and the command in canonical JSON.
fn fingerprint<C: Serialize + ?Sized>(
    stream_id: &str,
    metadata: &EventMetadata,
    command: &C,
) -> String {
    let value = serde_json::to_value(command).unwrap_or_default();
    sha256_hex(
        format!(
            "{}|{}|{}|{}",
            stream_id,
            metadata.actor,
            metadata.role.as_str(),
            canonical_json(&value)
        )
        .as_bytes(),
    )
}

/// What a command appends with, besides its decision: who and which request (the metadata), the
/// request's fingerprint for its idempotency key, and the files its events refer to.
struct CommandWrite {
    metadata: EventMetadata,
    fingerprint: String,
    documents: Vec<DocumentBlob>,
}

/// One command as a group job (see [`Repository::execute`]): the append it made, or the first one
/// of its idempotency key, or none.
async fn run_command<A, E, F>(
    tx: &mut WriteTx,
    cache: &Cache<A>,
    stream_id: &str,
    expected: Option<i64>,
    write: &CommandWrite,
    decide: F,
) -> Result<Option<AppendResult>, CommandError<E>>
where
    A: Aggregate,
    E: std::error::Error + 'static,
    F: FnOnce(&A, i64) -> Result<Vec<A::Event>, E>,
{
    let CommandWrite {
        metadata,
        fingerprint,
        documents,
    } = write;
    if let Some(key) = &metadata.idempotency_key {
        let scope = IdempotencyScope::of(stream_id, metadata.role);
        if let Some((first, stored)) = tx.find_idempotency_key(&scope, key).await? {
            if &stored != fingerprint {
                return Err(StoreError::IdempotencyConflict { key: key.clone() }.into());
            }
            return Ok(Some(first));
        }
    }
    let current = current_in_tx(tx, cache, stream_id).await?;
    if let Some(expected) = expected {
        if expected != current.version() {
            return Err(StoreError::Conflict {
                stream_id: stream_id.to_string(),
                expected: ExpectedVersion::Exact(expected),
                actual: current.version(),
            }
            .into());
        }
    }
    let events = decide(current.state(), current.version()).map_err(CommandError::Rejected)?;
    if events.is_empty() {
        keep_in_overlay(tx, stream_id, current);
        return Ok(None);
    }
    let mut new_events = Vec::with_capacity(events.len());
    for event in &events {
        let (event_type, schema_version) = A::event_type(event);
        let payload = serde_json::to_value(event).map_err(|e| CommandError::Decode {
            position: 0,
            reason: e.to_string(),
        })?;
        new_events.push(NewEvent::new(event_type, schema_version, payload));
    }
    // The files the events refer to, in the same transaction (rolled back with the job if refused).
    for document in documents {
        tx.put_document(document).await?;
    }
    let (result, recorded) = tx
        .append_recorded(
            stream_id,
            ExpectedVersion::Exact(current.version()),
            &new_events,
            metadata,
            Some(fingerprint.clone()),
        )
        .await?;
    // A state the group already owns goes on with the events as stored (exactly as a rebuild folds
    // them); a state shared with the read model is not copied for this: the next job on the stream,
    // if any, reads these events back.
    if let InTx::Owned(..) = current {
        keep_in_overlay(tx, stream_id, current.apply(&recorded)?);
    }
    Ok(Some(result))
}

fn keep_in_overlay<A: Aggregate>(tx: &mut WriteTx, stream_id: &str, state: InTx<A>) {
    if let InTx::Owned(version, state) = state {
        let overlay = &mut tx.scratch::<Overlay<A>>().0;
        if overlay.len() >= MAX_WRITER_STATES {
            overlay.clear();
        }
        overlay.insert(stream_id.to_string(), (version, state));
    }
}
