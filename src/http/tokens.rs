//! API bearer tokens: 32 random bytes (hex) behind a `clt_` prefix, stored only as their SHA-256, in
//! the table `api_tokens`. Tokens are credentials, not ledger facts; their creation and revocation are
//! also recorded as events on the stream `tokens` (who created or revoked which token id; never the
//! secret nor its hash).

use crate::actor::{Actor, Role};
use crate::clock::Clock;
use crate::domain::ids::Finess;
use crate::store::hash::{canonical_json, sha256_hex};
use crate::store::{EventMetadata, EventStore, ExpectedVersion, NewEvent, ReadBound, StoreError};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// The stream recording token creations and revocations.
pub const TOKENS_STREAM: &str = "tokens";
pub const TOKEN_PREFIX: &str = "clt_";
pub const TOKEN_RANDOM_BYTES: usize = 32;
pub const MAX_LABEL_LEN: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{field} : {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("jeton {0} introuvable")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("token table")]
    Database(#[from] sqlx::Error),
}

/// What a token is, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    /// etablissement, controleur, paiement or admin.
    #[schema(value_type = String, example = "controleur")]
    pub role: Role,
    /// The candidate's FINESS, for an `etablissement` token.
    pub candidate: Option<String>,
    pub label: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenInfo {
    /// The actor every event appended with this token records: the token's role and id.
    pub fn actor(&self) -> Actor {
        Actor {
            role: self.role,
            id: format!("token:{}", self.id),
        }
    }

    pub fn candidate_finess(&self) -> Option<Finess> {
        self.candidate
            .as_deref()
            .and_then(|c| Finess::parse(c).ok())
    }
}

/// A token to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// etablissement, controleur, paiement or admin.
    #[schema(value_type = String, example = "etablissement")]
    pub role: Role,
    /// Required for `etablissement`, refused for the other roles.
    #[serde(default)]
    pub candidate: Option<String>,
    /// A human description (who holds it); default "jeton ROLE".
    #[serde(default)]
    pub label: Option<String>,
}

/// The answer to a creation: the secret is shown once, never again (absent on an idempotent repeat).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: Option<String>,
    pub replayed: bool,
}

pub fn hash_token(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

fn new_secret() -> String {
    let mut bytes = [0u8; TOKEN_RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// Runs the same body on whichever pool the store has.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        if let Some($pool) = $store.sqlite_pool() {
            $body
        } else if let Some($pool) = $store.postgres_pool() {
            $body
        } else {
            unreachable!("the store has one of the two engines")
        }
    };
}

const TOKEN_COLUMNS: &str =
    "id, role, candidate, label, created_by, created_at_us, revoked_at_us FROM api_tokens";

macro_rules! token_from_row {
    ($row:expr) => {{
        let row = $row;
        let role: String = row.try_get(1)?;
        let created: i64 = row.try_get(5)?;
        let revoked: Option<i64> = row.try_get(6)?;
        TokenInfo {
            id: row.try_get(0)?,
            role: Role::parse(&role).map_err(|e| TokenError::Invalid {
                field: "role",
                message: e.to_string(),
            })?,
            candidate: row.try_get(2)?,
            label: row.try_get(3)?,
            created_by: row.try_get(4)?,
            created_at: DateTime::from_timestamp_micros(created).unwrap_or_default(),
            revoked_at: revoked.and_then(DateTime::from_timestamp_micros),
        }
    }};
}

/// The token a secret belongs to, when it exists and is not revoked.
pub async fn authenticate(
    store: &EventStore,
    secret: &str,
) -> Result<Option<TokenInfo>, TokenError> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let hash = hash_token(secret);
    let sql = format!("SELECT {TOKEN_COLUMNS} WHERE token_hash = $1 AND revoked_at_us IS NULL");
    with_pool!(store, pool => {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&hash)
            .fetch_optional(pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(token_from_row!(row))),
        }
    })
}

/// How long an authenticated token is trusted, at most, without looking at the token table again
/// (the bound on a revocation whose `TokenRevoked` event could not be recorded).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);
/// The most tokens remembered (the cache is emptied when full).
pub const TOKEN_CACHE_MAX_ENTRIES: usize = 10_000;

/// Tokens recently authenticated, so that a request costs no database query. An entry is trusted
/// while no event was recorded on the stream `tokens` since it was checked (a revocation records
/// `TokenRevoked` after revoking the row: in this process the next request sees it, from another
/// process within the ledger follower's poll interval) and for at most [`TOKEN_CACHE_TTL`]. Unknown
/// or revoked tokens are never remembered.
pub struct TokenCache {
    /// The position of the last event on the stream `tokens` the ledger's read models applied.
    tokens_stream: Arc<AtomicI64>,
    entries: RwLock<HashMap<String, CachedToken>>,
}

struct CachedToken {
    info: TokenInfo,
    checked_at: Instant,
    tokens_position: i64,
}

impl TokenCache {
    /// `tokens_stream`: from [`crate::app::Ledger::watch_stream`] on [`TOKENS_STREAM`].
    pub fn new(tokens_stream: Arc<AtomicI64>) -> TokenCache {
        TokenCache {
            tokens_stream,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// As [`authenticate`], answered from memory while the entry is trusted. `ledger` is caught up
    /// first, so a revocation made through this process is seen by the next request.
    pub async fn authenticate(
        &self,
        store: &EventStore,
        ledger: &crate::app::Ledger,
        secret: &str,
    ) -> Result<Option<TokenInfo>, TokenError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        ledger.ensure_fresh().await.map_err(|e| match e {
            crate::app::LedgerError::Store(store) => TokenError::Store(store),
            other => TokenError::Invalid {
                field: "token",
                message: other.to_string(),
            },
        })?;
        let hash = hash_token(secret);
        // Read before the table: a revocation recorded after this read invalidates the entry.
        let position = self.tokens_stream.load(Ordering::Acquire);
        if let Ok(entries) = self.entries.read() {
            if let Some(entry) = entries.get(&hash) {
                if entry.tokens_position == position && entry.checked_at.elapsed() < TOKEN_CACHE_TTL
                {
                    return Ok(Some(entry.info.clone()));
                }
            }
        }
        let found = authenticate(store, secret).await?;
        if let Ok(mut entries) = self.entries.write() {
            match &found {
                Some(info) => {
                    if entries.len() >= TOKEN_CACHE_MAX_ENTRIES {
                        entries.clear();
                    }
                    entries.insert(
                        hash,
                        CachedToken {
                            info: info.clone(),
                            checked_at: Instant::now(),
                            tokens_position: position,
                        },
                    );
                }
                None => {
                    entries.remove(&hash);
                }
            }
        }
        Ok(found)
    }
}

pub async fn get(store: &EventStore, id: &str) -> Result<Option<TokenInfo>, TokenError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} WHERE id = $1");
    with_pool!(store, pool => {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(token_from_row!(row))),
        }
    })
}

pub async fn list(store: &EventStore) -> Result<Vec<TokenInfo>, TokenError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} ORDER BY created_at_us, id");
    with_pool!(store, pool => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(token_from_row!(row));
        }
        Ok(out)
    })
}

fn validate(new: &NewToken) -> Result<(Option<Finess>, String), TokenError> {
    let candidate = match (new.role, new.candidate.as_deref()) {
        (Role::Etablissement, Some(text)) => {
            Some(Finess::parse(text).map_err(|e| TokenError::Invalid {
                field: "candidate",
                message: e.to_string(),
            })?)
        }
        (Role::Etablissement, None) => {
            return Err(TokenError::Invalid {
                field: "candidate",
                message: "obligatoire pour un jeton etablissement (FINESS du candidat)".into(),
            })
        }
        (_, Some(_)) => {
            return Err(TokenError::Invalid {
                field: "candidate",
                message: "réservé aux jetons etablissement".into(),
            })
        }
        (_, None) => None,
    };
    let label = new
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("jeton {}", new.role));
    if label.chars().count() > MAX_LABEL_LEN || label.chars().any(char::is_control) {
        return Err(TokenError::Invalid {
            field: "label",
            message: format!("1 à {MAX_LABEL_LEN} caractères, sans caractère de contrôle"),
        });
    }
    Ok((candidate, label))
}

/// Creates a token: the event `TokenCreated` on the stream `tokens`, then the row with the secret's
/// hash. With an idempotency key already used for the same request, returns the first token without
/// its secret (`replayed`); for another request, [`StoreError::IdempotencyConflict`].
pub async fn create(
    store: &EventStore,
    clock: &dyn Clock,
    metadata: &EventMetadata,
    new: &NewToken,
) -> Result<CreatedToken, TokenError> {
    let (candidate, label) = validate(new)?;
    let fingerprint = sha256_hex(
        canonical_json(&json!({
            "operation": "create_token",
            "actor": metadata.actor,
            "actor_role": metadata.role,
            "role": new.role,
            "candidate": candidate.as_ref().map(Finess::as_str),
            "label": label,
        }))
        .as_bytes(),
    );
    let mut tx = store.begin_write().await?;
    if let Some(key) = &metadata.idempotency_key {
        if let Some((first, stored)) = tx.find_idempotency_key(key).await? {
            tx.rollback().await?;
            if stored != fingerprint || first.stream_id != TOKENS_STREAM {
                return Err(StoreError::IdempotencyConflict { key: key.clone() }.into());
            }
            let events = store
                .read_stream(TOKENS_STREAM, ReadBound::up_to_version(first.first_version))
                .await?;
            let id = events
                .last()
                .and_then(|e| e.payload_json().ok())
                .and_then(|p| p["token_id"].as_str().map(str::to_string))
                .ok_or_else(|| TokenError::NotFound(key.clone()))?;
            let info = get(store, &id)
                .await?
                .ok_or_else(|| TokenError::NotFound(id.clone()))?;
            return Ok(CreatedToken {
                info,
                token: None,
                replayed: true,
            });
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let secret = new_secret();
    let event = NewEvent::new(
        "TokenCreated",
        1,
        json!({
            "token_id": id,
            "role": new.role,
            "candidate": candidate.as_ref().map(Finess::as_str),
            "label": label,
        }),
    );
    tx.append_with_fingerprint(
        TOKENS_STREAM,
        ExpectedVersion::Any,
        &[event],
        metadata,
        Some(fingerprint),
    )
    .await?;
    tx.commit().await?;
    let created_at = clock.now();
    let created_by = format!("{}:{}", metadata.role, metadata.actor);
    with_pool!(store, pool => {
        sqlx::query(
            "INSERT INTO api_tokens (id, token_hash, role, candidate, label, created_by, \
             created_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(hash_token(&secret))
        .bind(new.role.as_str())
        .bind(candidate.as_ref().map(|c| c.as_str().to_string()))
        .bind(&label)
        .bind(&created_by)
        .bind(created_at.timestamp_micros())
        .execute(pool)
        .await?;
    });
    Ok(CreatedToken {
        info: TokenInfo {
            id,
            role: new.role,
            candidate: candidate.map(|c| c.as_str().to_string()),
            label,
            created_by,
            created_at,
            revoked_at: None,
        },
        token: Some(secret),
        replayed: false,
    })
}

/// Revokes a token (it answers 401 from now on) and records `TokenRevoked`. Revoking a revoked token
/// changes nothing and records nothing.
pub async fn revoke(
    store: &EventStore,
    clock: &dyn Clock,
    metadata: &EventMetadata,
    id: &str,
) -> Result<TokenInfo, TokenError> {
    let info = get(store, id)
        .await?
        .ok_or_else(|| TokenError::NotFound(id.to_string()))?;
    if info.revoked_at.is_some() {
        return Ok(info);
    }
    let now = clock.now();
    // The credential first: a revocation takes effect even if recording it fails.
    with_pool!(store, pool => {
        sqlx::query("UPDATE api_tokens SET revoked_at_us = $1 WHERE id = $2 AND revoked_at_us IS NULL")
            .bind(now.timestamp_micros())
            .bind(id)
            .execute(pool)
            .await?;
    });
    store
        .append(
            TOKENS_STREAM,
            ExpectedVersion::Any,
            &[NewEvent::new("TokenRevoked", 1, json!({ "token_id": id }))],
            metadata,
        )
        .await?;
    Ok(TokenInfo {
        revoked_at: Some(now),
        ..info
    })
}

/// `care-ledger token create | revoke | list`.
pub async fn run_cli(store: &EventStore, command: crate::cli::TokenCommand) -> anyhow::Result<()> {
    use crate::cli::TokenCommand;
    let request_id = format!("cli-{}", uuid::Uuid::new_v4());
    let clock = store.clock();
    match command {
        TokenCommand::Create {
            role,
            candidate,
            label,
            actor,
        } => {
            let actor = crate::cli::parse_actor(&actor)?;
            let new = NewToken {
                role: Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?,
                candidate,
                label,
            };
            let created = create(
                store,
                clock.as_ref(),
                &EventMetadata::new(&actor, request_id),
                &new,
            )
            .await?;
            eprintln!(
                "jeton {} créé (rôle {}{}) ; le secret ci-dessous n'est affiché qu'une fois :",
                created.info.id,
                created.info.role,
                created
                    .info
                    .candidate
                    .as_deref()
                    .map(|c| format!(", candidat {c}"))
                    .unwrap_or_default()
            );
            println!("{}", created.token.unwrap_or_default());
        }
        TokenCommand::Revoke { id, actor } => {
            let actor = crate::cli::parse_actor(&actor)?;
            let info = revoke(
                store,
                clock.as_ref(),
                &EventMetadata::new(&actor, request_id),
                &id,
            )
            .await?;
            eprintln!("jeton {} révoqué", info.id);
        }
        TokenCommand::List => {
            for info in list(store).await? {
                println!("{}", serde_json::to_string(&info)?);
            }
        }
    }
    Ok(())
}
