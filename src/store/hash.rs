//! Canonical encoding of an event and the two hash chains (per stream and global order).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash before the first event of a stream, and before the first event of the global order.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted recursively and no insignificant whitespace: the text that is stored
/// and hashed, so the same content always gives the same hash whatever the producer's key order.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push(':');
                write_canonical(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The fields of an event that its hash covers, in their stored form.
#[derive(Debug, Clone, Copy)]
pub struct HashedFields<'a> {
    pub stream_id: &'a str,
    pub stream_version: i64,
    pub event_type: &'a str,
    pub schema_version: i32,
    pub payload: &'a str,
    pub actor: &'a str,
    pub role: &'a str,
    pub request_id: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub recorded_at_us: i64,
}

fn push_field(hasher: &mut Sha256, field: &[u8]) {
    // Length-prefixed, so no choice of field contents can make two events encode alike.
    hasher.update((field.len() as u64).to_be_bytes());
    hasher.update(field);
}

fn push_optional(hasher: &mut Sha256, field: Option<&str>) {
    match field {
        None => hasher.update([0u8]),
        Some(text) => {
            hasher.update([1u8]);
            push_field(hasher, text.as_bytes());
        }
    }
}

/// SHA-256 over the stream's previous hash and the canonical encoding of the event (hex).
pub fn event_hash(prev_hash: &str, fields: &HashedFields<'_>) -> String {
    let mut hasher = Sha256::new();
    push_field(&mut hasher, b"care-ledger/event/v1");
    push_field(&mut hasher, prev_hash.as_bytes());
    push_field(&mut hasher, fields.stream_id.as_bytes());
    hasher.update(fields.stream_version.to_be_bytes());
    push_field(&mut hasher, fields.event_type.as_bytes());
    hasher.update(fields.schema_version.to_be_bytes());
    push_field(&mut hasher, fields.payload.as_bytes());
    push_field(&mut hasher, fields.actor.as_bytes());
    push_field(&mut hasher, fields.role.as_bytes());
    push_field(&mut hasher, fields.request_id.as_bytes());
    push_optional(&mut hasher, fields.idempotency_key);
    push_optional(&mut hasher, fields.comment);
    hasher.update(fields.recorded_at_us.to_be_bytes());
    hex::encode(hasher.finalize())
}

/// SHA-256 over the previous global hash, the global position and the event's own hash (hex).
pub fn global_hash(global_prev_hash: &str, position: i64, event_hash: &str) -> String {
    let mut hasher = Sha256::new();
    push_field(&mut hasher, b"care-ledger/global/v1");
    push_field(&mut hasher, global_prev_hash.as_bytes());
    hasher.update(position.to_be_bytes());
    push_field(&mut hasher, event_hash.as_bytes());
    hex::encode(hasher.finalize())
}

/// SHA-256 of bytes, hex (content addresses of files, request fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_recursively() {
        let value = json!({"b": 1, "a": {"z": [3, {"y": 1, "x": 2}], "c": "é"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"é","z":[3,{"x":2,"y":1}]},"b":1}"#
        );
    }

    fn fields<'a>(comment: Option<&'a str>, payload: &'a str) -> HashedFields<'a> {
        HashedFields {
            stream_id: "s",
            stream_version: 1,
            event_type: "T",
            schema_version: 1,
            payload,
            actor: "a",
            role: "admin",
            request_id: "r",
            idempotency_key: None,
            comment,
            recorded_at_us: 0,
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = event_hash(GENESIS_HASH, &fields(None, "{}"));
        assert_ne!(base, event_hash(GENESIS_HASH, &fields(Some(""), "{}")));
        assert_ne!(base, event_hash(GENESIS_HASH, &fields(None, "{ }")));
        assert_ne!(base, event_hash(&"1".repeat(64), &fields(None, "{}")));
        assert_eq!(base.len(), 64);
    }

    #[test]
    fn global_hash_depends_on_position() {
        assert_ne!(
            global_hash(GENESIS_HASH, 1, "ab"),
            global_hash(GENESIS_HASH, 2, "ab")
        );
    }
}
