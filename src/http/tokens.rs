//! API bearer tokens: 32 random bytes (hex) behind a `clt_` prefix, stored only as their SHA-256 (the
//! store's table `api_tokens`, see [`crate::store::tokens`]). Tokens are credentials, not ledger facts;
//! their creation and revocation are also recorded as events on the stream `tokens` (who created or
//! revoked which token id, and until when it is valid; never the secret nor its hash), in the same
//! transaction as the row. A token may expire (`expires`): after that instant it is refused.

use crate::actor::{Actor, Role};
use crate::clock::{end_of_paris_day, Clock};
use crate::domain::ids::Finess;
use crate::store::hash::{canonical_json, sha256_hex};
use crate::store::{
    EventMetadata, EventStore, ExpectedVersion, IdempotencyScope, NewEvent, StoreError,
    TokenRecord, WriteTx,
};
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
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
/// The longest validity a token may be given (ten years).
pub const MAX_EXPIRY_DAYS: i64 = 3_650;

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
    /// After this instant the token is refused (absent: it does not expire).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
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

    /// Whether the token is expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether the token is accepted at `now`: neither revoked nor expired.
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && !self.is_expired(now)
    }
}

impl From<TokenRecord> for TokenInfo {
    fn from(record: TokenRecord) -> TokenInfo {
        TokenInfo {
            id: record.id,
            role: record.role,
            candidate: record.candidate,
            label: record.label,
            created_by: record.created_by,
            created_at: DateTime::from_timestamp_micros(record.created_at_us).unwrap_or_default(),
            revoked_at: record
                .revoked_at_us
                .and_then(DateTime::from_timestamp_micros),
            expires_at: record
                .expires_at_us
                .and_then(DateTime::from_timestamp_micros),
        }
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
    /// When it expires: a date `AAAA-MM-JJ` (valid until the end of that day, Paris time) or a number
    /// of days from now (`90`). Absent: it does not expire.
    #[serde(default)]
    #[schema(example = "2027-03-31")]
    pub expires: Option<String>,
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

/// A token's expiry as users give it (`--expires`, `expires`): a date `AAAA-MM-JJ` or `JJ/MM/AAAA`
/// (valid until the end of that day in Paris), or a number of days from `now` (1 to
/// [`MAX_EXPIRY_DAYS`]). It must lie in the future.
pub fn parse_expiry(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TokenError> {
    let text = text.trim();
    let invalid = |message: String| TokenError::Invalid {
        field: "expires",
        message,
    };
    let at = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let days: i64 = text
            .parse()
            .ok()
            .filter(|d| (1..=MAX_EXPIRY_DAYS).contains(d))
            .ok_or_else(|| {
                invalid(format!(
                    "« {text} » : un nombre de jours de 1 à {MAX_EXPIRY_DAYS} est attendu"
                ))
            })?;
        now + chrono::Duration::days(days)
    } else {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
            .map_err(|_| {
                invalid(format!(
                    "« {} » : une date AAAA-MM-JJ ou un nombre de jours est attendu",
                    text.chars().take(40).collect::<String>()
                ))
            })?;
        end_of_paris_day(date)
    };
    if at <= now {
        return Err(invalid(format!(
            "la date d'expiration {} est déjà passée",
            crate::clock::paris_date(at).format("%d/%m/%Y")
        )));
    }
    if at > now + chrono::Duration::days(MAX_EXPIRY_DAYS + 1) {
        return Err(invalid(format!(
            "au plus {MAX_EXPIRY_DAYS} jours de validité"
        )));
    }
    Ok(at)
}

/// The token a secret belongs to, when it exists, is not revoked and has not expired at `now`.
pub async fn authenticate(
    store: &EventStore,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenInfo>, TokenError> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let found = store.token_by_hash(&hash_token(secret)).await?;
    Ok(found.map(TokenInfo::from).filter(|t| t.is_valid(now)))
}

/// How long an authenticated token is trusted, at most, without looking at the token table again
/// (the bound on a revocation whose `TokenRevoked` event could not be recorded).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);
/// The most tokens remembered (the cache is emptied when full).
pub const TOKEN_CACHE_MAX_ENTRIES: usize = 10_000;

/// Tokens recently authenticated, so that a request costs no database query. An entry is trusted
/// while no event was recorded on the stream `tokens` since it was checked (a revocation records
/// `TokenRevoked` with the revoked row, in one transaction: in this process the next request sees it, from another
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

    /// The token, when this secret was checked recently and the entry is still trusted (no database
    /// query; `None` means "not known here", not "invalid"). A valid token seen a moment ago is no
    /// guess: the authentication throttle lets it through without counting it.
    pub async fn recently_valid(
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
        let now = store.clock().now();
        let position = self.tokens_stream.load(Ordering::Acquire);
        let hash = hash_token(secret);
        Ok(self.entries.read().ok().and_then(|entries| {
            entries
                .get(&hash)
                .filter(|entry| {
                    entry.tokens_position == position
                        && entry.checked_at.elapsed() < TOKEN_CACHE_TTL
                        && entry.info.is_valid(now)
                })
                .map(|entry| entry.info.clone())
        }))
    }

    /// As [`authenticate`], answered from memory while the entry is trusted. `ledger` is caught up
    /// first, so a revocation made through this process is seen by the next request.
    pub async fn authenticate(
        &self,
        store: &EventStore,
        ledger: &crate::app::Ledger,
        secret: &str,
    ) -> Result<Option<TokenInfo>, TokenError> {
        let now = store.clock().now();
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
                if entry.tokens_position == position
                    && entry.checked_at.elapsed() < TOKEN_CACHE_TTL
                    && entry.info.is_valid(now)
                {
                    return Ok(Some(entry.info.clone()));
                }
            }
        }
        let found = authenticate(store, secret, now).await?;
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
    Ok(store.token(id).await?.map(TokenInfo::from))
}

pub async fn list(store: &EventStore) -> Result<Vec<TokenInfo>, TokenError> {
    Ok(store
        .tokens()
        .await?
        .into_iter()
        .map(TokenInfo::from)
        .collect())
}

/// The checked fields of a new token: its candidate, label and expiry.
type CheckedToken = (Option<Finess>, String, Option<DateTime<Utc>>);

fn validate(new: &NewToken, now: DateTime<Utc>) -> Result<CheckedToken, TokenError> {
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
    let expires_at = new
        .expires
        .as_deref()
        .map(|text| parse_expiry(text, now))
        .transpose()?;
    Ok((candidate, label, expires_at))
}

/// Creates a token: the event `TokenCreated` on the stream `tokens` and the row with the secret's
/// hash, in one transaction. With an idempotency key already used for the same request, returns the
/// first token without its secret (`replayed`); for another request,
/// [`StoreError::IdempotencyConflict`].
pub async fn create(
    store: &EventStore,
    clock: &dyn Clock,
    metadata: &EventMetadata,
    new: &NewToken,
) -> Result<CreatedToken, TokenError> {
    let now = clock.now();
    let (candidate, label, expires_at) = validate(new, now)?;
    let fingerprint = sha256_hex(
        canonical_json(&json!({
            "operation": "create_token",
            "actor": metadata.actor,
            "actor_role": metadata.role,
            "role": new.role,
            "candidate": candidate.as_ref().map(Finess::as_str),
            "label": label,
            "expires": new.expires.as_deref().map(str::trim),
        }))
        .as_bytes(),
    );
    let record = TokenRecord {
        id: uuid::Uuid::new_v4().to_string(),
        role: new.role,
        candidate: candidate.map(|c| c.as_str().to_string()),
        label,
        created_by: format!("{}:{}", metadata.role, metadata.actor),
        created_at_us: now.timestamp_micros(),
        revoked_at_us: None,
        expires_at_us: expires_at.map(|t| t.timestamp_micros()),
    };
    let secret = new_secret();
    let metadata = metadata.clone();
    let token_hash = hash_token(&secret);
    let job_record = record.clone();
    let replayed = store
        .write(move |tx: &mut WriteTx| {
            Box::pin(async move {
                create_in(tx, &metadata, &job_record, &token_hash, fingerprint).await
            })
        })
        .await?;
    Ok(match replayed {
        Some(first) => CreatedToken {
            info: first.into(),
            token: None,
            replayed: true,
        },
        None => CreatedToken {
            info: record.into(),
            token: Some(secret),
            replayed: false,
        },
    })
}

/// The write job of [`create`]: the first token of the idempotency key (a replay), or the new one
/// recorded (event and row).
async fn create_in(
    tx: &mut WriteTx,
    metadata: &EventMetadata,
    record: &TokenRecord,
    token_hash: &str,
    fingerprint: String,
) -> Result<Option<TokenRecord>, TokenError> {
    if let Some(key) = &metadata.idempotency_key {
        let scope = IdempotencyScope::of(TOKENS_STREAM, metadata.role);
        if let Some((first, stored)) = tx.find_idempotency_key(&scope, key).await? {
            if stored != fingerprint || first.stream_id != TOKENS_STREAM {
                return Err(StoreError::IdempotencyConflict { key: key.clone() }.into());
            }
            let events = tx.read_stream(TOKENS_STREAM).await?;
            let id = events
                .iter()
                .find(|e| e.stream_version == first.first_version)
                .and_then(|e| e.payload_json().ok())
                .and_then(|p| p["token_id"].as_str().map(str::to_string))
                .ok_or_else(|| TokenError::NotFound(key.clone()))?;
            let first = tx
                .token(&id)
                .await?
                .ok_or_else(|| TokenError::NotFound(id.clone()))?;
            return Ok(Some(first));
        }
    }
    // Schema 2 adds the expiry; a token without one is recorded as before (schema 1, no such field):
    // a reader takes a missing `expires_at` as "does not expire".
    let event = match record
        .expires_at_us
        .and_then(DateTime::from_timestamp_micros)
    {
        None => NewEvent::new(
            "TokenCreated",
            1,
            json!({
                "token_id": record.id,
                "role": record.role,
                "candidate": record.candidate,
                "label": record.label,
            }),
        ),
        Some(expires_at) => NewEvent::new(
            "TokenCreated",
            2,
            json!({
                "token_id": record.id,
                "role": record.role,
                "candidate": record.candidate,
                "label": record.label,
                "expires_at": expires_at,
            }),
        ),
    };
    tx.append_with_fingerprint(
        TOKENS_STREAM,
        ExpectedVersion::Any,
        &[event],
        metadata,
        Some(fingerprint),
    )
    .await?;
    tx.insert_token(record, token_hash).await?;
    Ok(None)
}

/// Revokes a token (it answers 401 from now on) and records `TokenRevoked`, in one transaction.
/// Revoking a revoked token changes nothing and records nothing.
pub async fn revoke(
    store: &EventStore,
    clock: &dyn Clock,
    metadata: &EventMetadata,
    id: &str,
) -> Result<TokenInfo, TokenError> {
    let now_us = clock.now().timestamp_micros();
    let metadata = metadata.clone();
    let id = id.to_string();
    let record = store
        .write(move |tx: &mut WriteTx| {
            Box::pin(async move {
                let mut record = tx
                    .token(&id)
                    .await?
                    .ok_or_else(|| TokenError::NotFound(id.clone()))?;
                if record.revoked_at_us.is_some() {
                    return Ok(record);
                }
                tx.revoke_token(&id, now_us).await?;
                tx.append(
                    TOKENS_STREAM,
                    ExpectedVersion::Any,
                    &[NewEvent::new("TokenRevoked", 1, json!({ "token_id": id }))],
                    &metadata,
                )
                .await?;
                record.revoked_at_us = Some(now_us);
                Ok::<_, TokenError>(record)
            })
        })
        .await?;
    Ok(record.into())
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
            expires,
            actor,
        } => {
            let actor = crate::cli::parse_actor(&actor)?;
            let new = NewToken {
                role: Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?,
                candidate,
                label,
                expires,
            };
            let created = create(
                store,
                clock.as_ref(),
                &EventMetadata::new(&actor, request_id),
                &new,
            )
            .await
            .map_err(|e| match e {
                TokenError::Invalid { field, message } => {
                    anyhow::anyhow!("--{field} : {message}")
                }
                other => other.into(),
            })?;
            eprintln!(
                "jeton {} créé (rôle {}{}{}) ; le secret ci-dessous n'est affiché qu'une fois :",
                created.info.id,
                created.info.role,
                created
                    .info
                    .candidate
                    .as_deref()
                    .map(|c| format!(", candidat {c}"))
                    .unwrap_or_default(),
                created
                    .info
                    .expires_at
                    .map(|at| format!(", valable jusqu'au {}", expiry_fr(at)))
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
            let now = clock.now();
            for info in list(store).await? {
                // One JSON object per token, with its state at the time of listing.
                let state = if info.revoked_at.is_some() {
                    "révoqué"
                } else if info.is_expired(now) {
                    "expiré"
                } else {
                    "actif"
                };
                let mut line = serde_json::to_value(&info)?;
                line["etat"] = json!(state);
                line["expire_le"] = json!(info.expires_at.map(expiry_fr));
                println!("{}", serde_json::to_string(&line)?);
            }
        }
    }
    Ok(())
}

/// An expiry as users read it: `31/03/2027 23:59 (heure de Paris)`.
pub fn expiry_fr(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y %H:%M (heure de Paris)")
        .to_string()
}
