//! Command handling over the event store: load a stream's state, decide, append, commit; current
//! reads from an in-memory read model kept up to date from the events; as-of reads by replay.

use crate::store::hash::{canonical_json, sha256_hex};
use crate::store::{
    AppendResult, DocumentBlob, EventMetadata, EventStore, ExpectedVersion, NewEvent, ReadBound,
    RecordedEvent, StoreError,
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
    pub version: i64,
    pub state: A,
}

#[derive(Clone)]
struct Cached<A> {
    version: i64,
    state: A,
}

/// Loads, caches and changes the states of one kind of stream.
pub struct Repository<A: Aggregate> {
    store: EventStore,
    cache: RwLock<HashMap<String, Arc<Cached<A>>>>,
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

impl<A: Aggregate> Repository<A> {
    pub fn new(store: EventStore) -> Repository<A> {
        Repository {
            store,
            cache: RwLock::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    fn cached(&self, stream_id: &str) -> Option<Arc<Cached<A>>> {
        self.cache
            .read()
            .ok()
            .and_then(|c| c.get(stream_id).cloned())
    }

    fn remember(&self, stream_id: &str, cached: Cached<A>) {
        if let Ok(mut cache) = self.cache.write() {
            let newer = cache
                .get(stream_id)
                .is_none_or(|c| c.version < cached.version);
            if newer {
                cache.insert(stream_id.to_string(), Arc::new(cached));
            }
        }
    }

    fn catch_up(
        &self,
        stream_id: &str,
        base: Option<Arc<Cached<A>>>,
        tail: &[RecordedEvent],
    ) -> Result<Cached<A>, CommandError<std::convert::Infallible>> {
        let mut cached = base.map(|c| (*c).clone()).unwrap_or(Cached {
            version: 0,
            state: A::default(),
        });
        for event in tail {
            let decoded = decode::<A>(event)
                .map_err(|(position, reason)| CommandError::Decode { position, reason })?;
            cached.state.apply(&decoded, &EventInfo::of(event));
            cached.version = event.stream_version;
        }
        if !tail.is_empty() {
            self.remember(stream_id, cached.clone());
        }
        Ok(cached)
    }

    /// The current state and version (read model, caught up with any event written elsewhere).
    pub async fn load(&self, stream_id: &str) -> Result<(i64, A), StoreError> {
        let base = self.cached(stream_id);
        let after = base.as_ref().map(|c| c.version).unwrap_or(0);
        let tail = self.store.read_stream_after(stream_id, after).await?;
        let cached = self
            .catch_up(stream_id, base, &tail)
            .map_err(|e| StoreError::Corrupt {
                position: 0,
                reason: e.to_string(),
            })?;
        Ok((cached.version, cached.state))
    }

    /// The current state from the read model only, without touching the database (may lag behind
    /// events written by another process until the next `load`).
    pub fn peek(&self, stream_id: &str) -> Option<(i64, A)> {
        self.cached(stream_id).map(|c| (c.version, c.state.clone()))
    }

    /// Every cached state: (stream id, version, state), in stream id order.
    pub fn all_cached(&self) -> Vec<(String, i64, A)> {
        let mut all: Vec<(String, i64, A)> = self
            .cache
            .read()
            .map(|c| {
                c.iter()
                    .map(|(k, v)| (k.clone(), v.version, v.state.clone()))
                    .collect()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The state as it was: a replay up to the bound.
    pub async fn load_as_of(
        &self,
        stream_id: &str,
        bound: ReadBound,
    ) -> Result<(i64, A), StoreError> {
        let events = self.store.read_stream(stream_id, bound).await?;
        let version = events.last().map(|e| e.stream_version).unwrap_or(0);
        let state = fold::<A>(&events)
            .map_err(|(position, reason)| StoreError::Corrupt { position, reason })?;
        Ok((version, state))
    }

    /// Rebuilds every cached state of streams starting with `prefix` from the events.
    pub async fn rebuild(&self, prefix: &str) -> Result<usize, StoreError> {
        let ids = self.store.stream_ids(prefix).await?;
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|k, _| !k.starts_with(prefix));
        }
        for id in &ids {
            self.load(id).await?;
        }
        Ok(ids.len())
    }

    /// Decides under the write lock and appends. `command` is fingerprinted for the idempotency key:
    /// the same key with the same command returns the first outcome; with another, a conflict.
    pub async fn execute<C, E, F>(
        &self,
        stream_id: &str,
        expected: Option<i64>,
        metadata: &EventMetadata,
        command: &C,
        decide: F,
    ) -> Result<CommandOutcome<A>, CommandError<E>>
    where
        C: Serialize,
        E: std::error::Error + 'static,
        F: FnOnce(&A, i64) -> Result<Vec<A::Event>, E>,
    {
        self.execute_with_documents(stream_id, expected, metadata, command, &[], decide)
            .await
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
        C: Serialize,
        E: std::error::Error + 'static,
        F: FnOnce(&A, i64) -> Result<Vec<A::Event>, E>,
    {
        let fingerprint = {
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
        };
        let mut tx = self.store.begin_write().await?;
        if let Some(key) = &metadata.idempotency_key {
            if let Some((first, stored)) = tx.find_idempotency_key(key).await? {
                tx.rollback().await?;
                if stored != fingerprint {
                    return Err(StoreError::IdempotencyConflict { key: key.clone() }.into());
                }
                let (version, state) = self.load(stream_id).await?;
                return Ok(CommandOutcome {
                    append: Some(first),
                    version,
                    state,
                });
            }
        }
        let base = self.cached(stream_id);
        let after = base.as_ref().map(|c| c.version).unwrap_or(0);
        let tail = tx.read_stream_after(stream_id, after).await?;
        let current = self.catch_up(stream_id, base, &tail).map_err(|e| match e {
            CommandError::Decode { position, reason } => CommandError::Decode { position, reason },
            CommandError::Store(s) => CommandError::Store(s),
            CommandError::Rejected(never) => match never {},
        })?;
        if let Some(expected) = expected {
            if expected != current.version {
                tx.rollback().await?;
                return Err(StoreError::Conflict {
                    stream_id: stream_id.to_string(),
                    expected: ExpectedVersion::Exact(expected),
                    actual: current.version,
                }
                .into());
            }
        }
        let events = match decide(&current.state, current.version) {
            Ok(events) => events,
            Err(refusal) => {
                tx.rollback().await?;
                return Err(CommandError::Rejected(refusal));
            }
        };
        if events.is_empty() {
            tx.rollback().await?;
            return Ok(CommandOutcome {
                append: None,
                version: current.version,
                state: current.state,
            });
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
        for document in documents {
            tx.put_document(document).await?;
        }
        let result = tx
            .append_with_fingerprint(
                stream_id,
                ExpectedVersion::Exact(current.version),
                &new_events,
                metadata,
                Some(fingerprint),
            )
            .await?;
        tx.commit().await?;
        let (version, state) = self.load(stream_id).await?;
        Ok(CommandOutcome {
            append: Some(result),
            version,
            state,
        })
    }
}
