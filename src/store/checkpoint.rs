//! Checkpoints: the head hashes of the ledger, signed with a key from the configuration, kept by an
//! auditor. `verify --checkpoint` then also detects a truncated tail or a history recomputed without
//! the key (SPEC.md §4).
//!
//! Two formats: `v2` is signed with the service's Ed25519 key ([`crate::signing`]), so an auditor
//! verifies it with the public key alone and cannot forge one; `v1` (HMAC-SHA256, where the key that
//! verifies also signs) is still read and verified with its HMAC key, so checkpoints already issued
//! keep their value.

use super::{hash, EventStore, StoreError};
use crate::signing::{PublicKey, Signer};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// HMAC-SHA256 checkpoints (issued before Ed25519 keys; still verified).
pub const CHECKPOINT_FORMAT: &str = "care-ledger-checkpoint/v1";
/// Ed25519 checkpoints.
pub const CHECKPOINT_FORMAT_ED25519: &str = "care-ledger-checkpoint/v2";
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
    /// v2: the id of the public key that verifies it ([`PublicKey::key_id`]); absent in v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// v1: HMAC-SHA256, v2: Ed25519 (hex), over the canonical JSON of every other field.
    pub signature: String,
}

/// What verifies checkpoints: the trusted public keys (v2) and the HMAC key (v1).
#[derive(Debug, Default, Clone)]
pub struct CheckpointKeys {
    pub public_keys: Vec<PublicKey>,
    pub hmac_key: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint key missing or shorter than {MIN_KEY_BYTES} bytes (set CARE_LEDGER_CHECKPOINT_KEY)")]
    WeakKey,
    #[error("checkpoint file is not a care-ledger checkpoint: {0}")]
    Malformed(String),
    #[error("checkpoint signature does not match: wrong key, or the file was edited")]
    BadSignature,
    #[error(
        "checkpoint signé Ed25519 par la clé {key_id} : aucune clé publique de confiance ne porte cet \
         identifiant (donnez la clé publique avec --public-key)"
    )]
    UnknownPublicKey { key_id: String },
    #[error(
        "checkpoint signé par HMAC (format v1) : sa clé est nécessaire pour le vérifier \
         (checkpoint_key ou CARE_LEDGER_CHECKPOINT_KEY)"
    )]
    NoHmacKey,
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
    /// Takes an HMAC checkpoint (format v1) of the ledger's current head. Prefer
    /// [`Checkpoint::take_signed`]: whoever verifies an HMAC checkpoint can also forge one.
    pub async fn take(store: &EventStore, key: &[u8]) -> Result<Checkpoint, CheckpointError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(CheckpointError::WeakKey);
        }
        let mut checkpoint = Checkpoint::unsigned(store, CHECKPOINT_FORMAT, None).await?;
        checkpoint.signature =
            hex::encode(mac(key, &signed_text(&checkpoint))?.finalize().into_bytes());
        Ok(checkpoint)
    }

    /// Takes an Ed25519 checkpoint (format v2) of the ledger's current head: the public key verifies
    /// it, only the private key could have made it.
    pub async fn take_signed(
        store: &EventStore,
        signer: &Signer,
    ) -> Result<Checkpoint, CheckpointError> {
        let key_id = signer.public().key_id();
        let mut checkpoint =
            Checkpoint::unsigned(store, CHECKPOINT_FORMAT_ED25519, Some(key_id)).await?;
        checkpoint.signature = signer.sign(signed_text(&checkpoint).as_bytes());
        Ok(checkpoint)
    }

    async fn unsigned(
        store: &EventStore,
        format: &str,
        key_id: Option<String>,
    ) -> Result<Checkpoint, CheckpointError> {
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
        Ok(Checkpoint {
            format: format.to_string(),
            created_at: store.clock().now(),
            global_position,
            global_hash,
            streams,
            key_id,
            signature: String::new(),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses an HMAC checkpoint file (v1) and checks its signature with `key`.
    pub fn parse_and_check(text: &str, key: &[u8]) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::parse_and_verify(
            text,
            &CheckpointKeys {
                public_keys: Vec::new(),
                hmac_key: Some(key.to_vec()),
            },
        )
    }

    /// Parses a checkpoint file of either format and checks its signature: v2 with the trusted
    /// public key it names, v1 with the HMAC key.
    pub fn parse_and_verify(
        text: &str,
        keys: &CheckpointKeys,
    ) -> Result<Checkpoint, CheckpointError> {
        let checkpoint: Checkpoint =
            serde_json::from_str(text).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        match checkpoint.format.as_str() {
            CHECKPOINT_FORMAT_ED25519 => {
                let key_id = checkpoint.key_id.clone().unwrap_or_default();
                let public = keys
                    .public_keys
                    .iter()
                    .find(|k| k.key_id() == key_id)
                    .ok_or(CheckpointError::UnknownPublicKey { key_id })?;
                if !public.verify(signed_text(&checkpoint).as_bytes(), &checkpoint.signature) {
                    return Err(CheckpointError::BadSignature);
                }
                Ok(checkpoint)
            }
            CHECKPOINT_FORMAT => {
                let key = keys.hmac_key.as_deref().ok_or(CheckpointError::NoHmacKey)?;
                Checkpoint::check_hmac(checkpoint, key)
            }
            other => Err(CheckpointError::Malformed(format!(
                "format {other:?}, expected {CHECKPOINT_FORMAT_ED25519} or {CHECKPOINT_FORMAT}"
            ))),
        }
    }

    fn check_hmac(checkpoint: Checkpoint, key: &[u8]) -> Result<Checkpoint, CheckpointError> {
        if checkpoint.key_id.is_some() {
            return Err(CheckpointError::BadSignature);
        }
        let signature =
            hex::decode(&checkpoint.signature).map_err(|_| CheckpointError::BadSignature)?;
        mac(key, &signed_text(&checkpoint))?
            .verify_slice(&signature)
            .map_err(|_| CheckpointError::BadSignature)?;
        Ok(checkpoint)
    }
}
