//! Checkpoints signed with Ed25519 (issue 16 §3), on both engines: the public key alone verifies one
//! and detects a truncated tail; a checkpoint made with another key, or edited, or claiming the
//! service's key id, is refused; a checkpoint issued earlier with HMAC still verifies with its key.

mod common;

use care_ledger::signing::Signer;
use care_ledger::store::checkpoint::{
    Checkpoint, CheckpointError, CheckpointKeys, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_ED25519,
};
use care_ledger::store::verify::{verify, ProblemKind};
use care_ledger::store::{EventStore, ExpectedVersion, NewEvent};
use common::{event, meta, Harness};

on_both_engines!(
    an_ed25519_checkpoint_verifies_with_the_public_key_alone_and_finds_a_truncated_tail,
    a_checkpoint_from_another_key_or_edited_is_refused,
    an_hmac_checkpoint_issued_before_still_verifies_with_its_key,
);

const HMAC_KEY: &[u8] = b"auditor-checkpoint-key-0123456789";

async fn append_n(store: &EventStore, stream: &str, n: i64) {
    let events: Vec<NewEvent> = (1..=n).map(|i| event("Sample", i)).collect();
    store
        .append(stream, ExpectedVersion::Any, &events, &meta("req"))
        .await
        .unwrap();
}

fn public_only(signer: &Signer) -> CheckpointKeys {
    CheckpointKeys {
        public_keys: vec![signer.public()],
        hmac_key: None,
    }
}

async fn an_ed25519_checkpoint_verifies_with_the_public_key_alone_and_finds_a_truncated_tail(
    h: &Harness,
) {
    append_n(&h.store, "a", 3).await;
    append_n(&h.store, "b", 2).await;
    let signer = Signer::generate();
    let cp = Checkpoint::take_signed(&h.store, &signer).await.unwrap();
    assert_eq!(cp.format, CHECKPOINT_FORMAT_ED25519);
    assert_eq!(
        cp.key_id.as_deref(),
        Some(signer.public().key_id().as_str())
    );
    assert_eq!(cp.global_position, 5);
    assert_eq!(cp.signature.len(), 128);
    // The auditor holds the public key only (from its PEM file).
    let pem = signer.public().to_pem();
    let auditor = CheckpointKeys {
        public_keys: vec![care_ledger::signing::PublicKey::from_pem(&pem).unwrap()],
        hmac_key: None,
    };
    let parsed = Checkpoint::parse_and_verify(&cp.to_json(), &auditor).unwrap();
    assert_eq!(parsed, cp);
    append_n(&h.store, "a", 1).await;
    assert!(verify(&h.store, Some(&parsed)).await.unwrap().is_ok());

    let copy = h.copy().await;
    copy.disable_protection().await;
    copy.store
        .execute_raw("DELETE FROM events WHERE position > 4")
        .await
        .unwrap();
    let problem = verify(&copy.store, Some(&parsed))
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.kind, ProblemKind::Truncated);
    copy.cleanup().await;
}

async fn a_checkpoint_from_another_key_or_edited_is_refused(h: &Harness) {
    append_n(&h.store, "a", 2).await;
    let service = Signer::generate();
    let forger = Signer::generate();
    let forged = Checkpoint::take_signed(&h.store, &forger).await.unwrap();
    assert!(matches!(
        Checkpoint::parse_and_verify(&forged.to_json(), &public_only(&service)),
        Err(CheckpointError::UnknownPublicKey { key_id }) if key_id == forger.public().key_id()
    ));
    // The forger writes the service's key id: the signature does not verify.
    let claimed = forged
        .to_json()
        .replace(&forger.public().key_id(), &service.public().key_id());
    assert!(matches!(
        Checkpoint::parse_and_verify(&claimed, &public_only(&service)),
        Err(CheckpointError::BadSignature)
    ));
    // An edited position in a genuine checkpoint.
    let good = Checkpoint::take_signed(&h.store, &service).await.unwrap();
    let edited = good
        .to_json()
        .replace("\"global_position\": 2", "\"global_position\": 1");
    assert_ne!(edited, good.to_json());
    assert!(matches!(
        Checkpoint::parse_and_verify(&edited, &public_only(&service)),
        Err(CheckpointError::BadSignature)
    ));
    // Relabelled as an HMAC checkpoint, it is checked as one, and fails.
    let relabelled = good
        .to_json()
        .replace(CHECKPOINT_FORMAT_ED25519, CHECKPOINT_FORMAT);
    let both = CheckpointKeys {
        public_keys: vec![service.public()],
        hmac_key: Some(HMAC_KEY.to_vec()),
    };
    assert!(matches!(
        Checkpoint::parse_and_verify(&relabelled, &both),
        Err(CheckpointError::BadSignature)
    ));
    let err =
        Checkpoint::parse_and_verify(&forged.to_json(), &CheckpointKeys::default()).unwrap_err();
    assert!(err.to_string().contains("--public-key"), "{err}");
}

async fn an_hmac_checkpoint_issued_before_still_verifies_with_its_key(h: &Harness) {
    append_n(&h.store, "a", 2).await;
    let old = Checkpoint::take(&h.store, HMAC_KEY).await.unwrap();
    assert_eq!(old.format, CHECKPOINT_FORMAT);
    assert!(old.key_id.is_none());
    assert!(
        !old.to_json().contains("key_id"),
        "the v1 form is unchanged"
    );
    let keys = CheckpointKeys {
        public_keys: vec![Signer::generate().public()],
        hmac_key: Some(HMAC_KEY.to_vec()),
    };
    let parsed = Checkpoint::parse_and_verify(&old.to_json(), &keys).unwrap();
    assert!(verify(&h.store, Some(&parsed)).await.unwrap().is_ok());
    // Without its key it cannot be checked, and says so.
    let err = Checkpoint::parse_and_verify(&old.to_json(), &CheckpointKeys::default()).unwrap_err();
    assert!(matches!(err, CheckpointError::NoHmacKey));
    // A v1 file as issued before this change (no key_id field) still verifies.
    let json = serde_json::to_string(&serde_json::json!({
        "format": old.format,
        "created_at": old.created_at,
        "global_position": old.global_position,
        "global_hash": old.global_hash,
        "streams": old.streams,
        "signature": old.signature,
    }))
    .unwrap();
    assert_eq!(Checkpoint::parse_and_verify(&json, &keys).unwrap(), parsed);
}
