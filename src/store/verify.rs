//! `verify`: recompute every chain and report the first event whose content, order or presence is
//! wrong; against a checkpoint, also a truncated tail or a history recomputed without the key.

use super::checkpoint::Checkpoint;
use super::{hash, EventStore, StoreError};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A position or a stream version is missing (an event was removed).
    MissingEvent,
    /// The chain links do not follow (events reordered or re-linked).
    OrderBroken,
    /// An event's content does not match its hash (edited).
    ContentAltered,
    /// The ledger ends before the checkpoint's head (tail truncated).
    Truncated,
    /// The ledger's hashes at the checkpoint differ (history rewritten and recomputed).
    CheckpointMismatch,
    /// A kept supporting document's bytes do not match the SHA-256 they are kept under.
    DocumentAltered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub position: i64,
    pub stream_id: Option<String>,
    pub stream_version: Option<i64>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub events_checked: u64,
    pub streams: usize,
    pub head_position: i64,
    pub head_hash: String,
    pub checkpoint_position: Option<i64>,
    /// Supporting document contents whose hash was recomputed.
    #[serde(default)]
    pub documents_checked: u64,
    /// The first problem found, if any (verification stops there).
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

struct StreamState {
    version: i64,
    hash: String,
}

/// Walks the global order once, streaming (memory: one entry per stream).
pub async fn verify(
    store: &EventStore,
    checkpoint: Option<&Checkpoint>,
) -> Result<VerifyReport, StoreError> {
    let mut streams: HashMap<String, StreamState> = HashMap::new();
    let mut wanted: HashMap<&str, (i64, &str)> = HashMap::new();
    if let Some(cp) = checkpoint {
        for head in &cp.streams {
            wanted.insert(head.stream_id.as_str(), (head.version, head.hash.as_str()));
        }
    }
    let mut expected_position = 1i64;
    let mut global_prev = hash::GENESIS_HASH.to_string();
    let mut checked = 0u64;
    let mut problem: Option<Problem> = None;
    let mut checkpoint_seen = checkpoint.is_some_and(|cp| cp.global_position == 0);

    let mut events = store.stream_all(0);
    while let Some(event) = events.next().await {
        let event = event?;
        let at = |kind: ProblemKind, detail: String| Problem {
            kind,
            position: event.position,
            stream_id: Some(event.stream_id.clone()),
            stream_version: Some(event.stream_version),
            detail,
        };
        if event.position != expected_position {
            problem = Some(Problem {
                kind: ProblemKind::MissingEvent,
                position: expected_position,
                stream_id: None,
                stream_version: None,
                detail: format!(
                    "global position {expected_position} is missing (next present: {})",
                    event.position
                ),
            });
            break;
        }
        if event.global_prev_hash != global_prev {
            problem = Some(at(
                ProblemKind::OrderBroken,
                "global chain link does not match the previous event".into(),
            ));
            break;
        }
        let (last_version, prev_hash) = match streams.get(&event.stream_id) {
            Some(s) => (s.version, s.hash.clone()),
            None => (0, hash::GENESIS_HASH.to_string()),
        };
        if event.stream_version != last_version + 1 {
            let kind = if event.stream_version > last_version + 1 {
                ProblemKind::MissingEvent
            } else {
                ProblemKind::OrderBroken
            };
            problem = Some(at(
                kind,
                format!(
                    "stream version {} follows version {last_version}",
                    event.stream_version
                ),
            ));
            break;
        }
        if event.prev_hash != prev_hash {
            problem = Some(at(
                ProblemKind::OrderBroken,
                "stream chain link does not match the previous event of the stream".into(),
            ));
            break;
        }
        let recomputed = hash::event_hash(&prev_hash, &event.hashed_fields());
        if recomputed != event.hash {
            problem = Some(at(
                ProblemKind::ContentAltered,
                "content does not match its hash".into(),
            ));
            break;
        }
        let global = hash::global_hash(&global_prev, event.position, &recomputed);
        if global != event.global_hash {
            problem = Some(at(
                ProblemKind::ContentAltered,
                "global hash does not match".into(),
            ));
            break;
        }
        if let Some(cp) = checkpoint {
            if event.position == cp.global_position {
                checkpoint_seen = true;
                if event.global_hash != cp.global_hash {
                    problem = Some(at(
                        ProblemKind::CheckpointMismatch,
                        format!(
                            "global hash at checkpoint position {} differs from the checkpoint: \
                             history was rewritten",
                            cp.global_position
                        ),
                    ));
                    break;
                }
            }
            if let Some((version, hash_wanted)) = wanted.get(event.stream_id.as_str()) {
                if *version == event.stream_version && event.hash != *hash_wanted {
                    problem = Some(at(
                        ProblemKind::CheckpointMismatch,
                        "stream hash differs from the checkpoint: history was rewritten".into(),
                    ));
                    break;
                }
            }
        }
        streams.insert(
            event.stream_id.clone(),
            StreamState {
                version: event.stream_version,
                hash: recomputed,
            },
        );
        global_prev = global;
        expected_position += 1;
        checked += 1;
    }
    drop(events);

    if problem.is_none() {
        if let Some(cp) = checkpoint {
            if !checkpoint_seen {
                problem = Some(Problem {
                    kind: ProblemKind::Truncated,
                    position: expected_position,
                    stream_id: None,
                    stream_version: None,
                    detail: format!(
                        "the ledger ends at position {} but the checkpoint covers up to {}",
                        expected_position - 1,
                        cp.global_position
                    ),
                });
            } else if let Some(head) = cp.streams.iter().find(|h| {
                streams
                    .get(&h.stream_id)
                    .is_none_or(|s| s.version < h.version)
            }) {
                problem = Some(Problem {
                    kind: ProblemKind::Truncated,
                    position: expected_position,
                    stream_id: Some(head.stream_id.clone()),
                    stream_version: Some(head.version),
                    detail: "a stream ends before its checkpointed version".into(),
                });
            }
        }
    }

    let mut documents_checked = 0;
    if problem.is_none() {
        let documents = store.verify_documents().await?;
        documents_checked = documents.documents_checked;
        if let Some(sha) = documents.altered {
            problem = Some(Problem {
                kind: ProblemKind::DocumentAltered,
                position: 0,
                stream_id: None,
                stream_version: None,
                detail: format!("the document kept under {sha} does not match its hash"),
            });
        }
    }

    Ok(VerifyReport {
        documents_checked,
        events_checked: checked,
        streams: streams.len(),
        head_position: expected_position - 1,
        head_hash: global_prev,
        checkpoint_position: checkpoint.map(|cp| cp.global_position),
        problem,
    })
}
