//! Checkpoints: the head hashes of the ledger, signed with a key from the configuration, kept by an
//! auditor. `verify --checkpoint` then also detects a truncated tail or a history recomputed without
//! the key (SPEC.md §4).

use super::{hash, EventStore, StoreError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const CHECKPOINT_FORMAT: &str = "care-ledger-checkpoint/v1";
/// A checkpoint key shorter than this is refused (an HMAC key must not be guessable).
pub const MIN_KEY_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHead {
    pub stream_id: String,
    pub version: i64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub created_at: DateTime<Utc>,
    pub global_position: i64,
    pub global_hash: String,
    pub streams: Vec<StreamHead>,
    /// HMAC-SHA256 (hex) over the canonical JSON of every other field.
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint key missing or shorter than {MIN_KEY_BYTES} bytes (set CARE_LEDGER_CHECKPOINT_KEY)")]
    WeakKey,
    #[error("checkpoint file is not a care-ledger checkpoint: {0}")]
    Malformed(String),
    #[error("checkpoint signature does not match: wrong key, or the file was edited")]
    BadSignature,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn signed_text(checkpoint: &Checkpoint) -> String {
    let mut unsigned = serde_json::to_value(checkpoint).unwrap_or_default();
    if let Some(map) = unsigned.as_object_mut() {
        map.remove("signature");
    }
    hash::canonical_json(&unsigned)
}

fn mac(key: &[u8], text: &str) -> Result<Hmac<Sha256>, CheckpointError> {
    if key.len() < MIN_KEY_BYTES {
        return Err(CheckpointError::WeakKey);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| CheckpointError::WeakKey)?;
    mac.update(text.as_bytes());
    Ok(mac)
}

impl Checkpoint {
    /// Takes a checkpoint of the ledger's current head.
    pub async fn take(store: &EventStore, key: &[u8]) -> Result<Checkpoint, CheckpointError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(CheckpointError::WeakKey);
        }
        let head = store.head().await?;
        let (global_position, global_hash) = match head {
            Some(h) => (h.position, h.global_hash),
            None => (0, hash::GENESIS_HASH.to_string()),
        };
        let streams = store
            .stream_heads(global_position)
            .await?
            .into_iter()
            .map(|(stream_id, version, hash)| StreamHead {
                stream_id,
                version,
                hash,
            })
            .collect();
        let mut checkpoint = Checkpoint {
            format: CHECKPOINT_FORMAT.to_string(),
            created_at: store.clock().now(),
            global_position,
            global_hash,
            streams,
            signature: String::new(),
        };
        checkpoint.signature =
            hex::encode(mac(key, &signed_text(&checkpoint))?.finalize().into_bytes());
        Ok(checkpoint)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a checkpoint file and checks its signature with `key`.
    pub fn parse_and_check(text: &str, key: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let checkpoint: Checkpoint =
            serde_json::from_str(text).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        if checkpoint.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::Malformed(format!(
                "format {:?}, expected {CHECKPOINT_FORMAT}",
                checkpoint.format
            )));
        }
        let signature =
            hex::decode(&checkpoint.signature).map_err(|_| CheckpointError::BadSignature)?;
        mac(key, &signed_text(&checkpoint))?
            .verify_slice(&signature)
            .map_err(|_| CheckpointError::BadSignature)?;
        Ok(checkpoint)
    }
}
