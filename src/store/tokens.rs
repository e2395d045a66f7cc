//! API token rows (table `api_tokens`): credentials, not ledger facts. Only the SHA-256 of a secret is
//! kept. A row is written in the same transaction as the event that records its creation or its
//! revocation on the stream `tokens` (see `http::tokens`), so the ledger and the credentials never
//! disagree: both are there or neither.

use super::{Backend, EventStore, StoreError, TxInner, WriteTx};
use crate::actor::Role;
use sqlx::Row;

/// A token as kept, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub role: Role,
    /// The candidate's FINESS, for an `etablissement` token.
    pub candidate: Option<String>,
    pub label: String,
    /// `role:actor` of who created it.
    pub created_by: String,
    pub created_at_us: i64,
    pub revoked_at_us: Option<i64>,
    /// After this instant the token is refused (none: it does not expire).
    pub expires_at_us: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "id, role, candidate, label, created_by, created_at_us, revoked_at_us, \
     expires_at_us FROM api_tokens";

macro_rules! token_from_row {
    ($row:expr) => {{
        let row = $row;
        let id: String = row.try_get(0)?;
        let role: String = row.try_get(1)?;
        TokenRecord {
            role: Role::parse(&role).map_err(|e| StoreError::Corrupt {
                position: 0,
                reason: format!("jeton {id} : {e}"),
            })?,
            id,
            candidate: row.try_get(2)?,
            label: row.try_get(3)?,
            created_by: row.try_get(4)?,
            created_at_us: row.try_get(5)?,
            revoked_at_us: row.try_get(6)?,
            expires_at_us: row.try_get(7)?,
        }
    }};
}

fn select(tail: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} {tail}"))
}

impl EventStore {
    /// The token whose secret hashes to `token_hash`, revoked or not, expired or not (the caller
    /// decides with its clock).
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(select("WHERE token_hash = $1"))
                .bind(token_hash)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                None => None,
                Some(row) => Some(token_from_row!(row)),
            })
        })
    }

    /// One token by its id.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(select("WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                None => None,
                Some(row) => Some(token_from_row!(row)),
            })
        })
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(select("ORDER BY created_at_us, id"))
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(token_from_row!(row));
            }
            Ok(out)
        })
    }
}

impl WriteTx {
    /// One token by its id, inside this transaction.
    pub async fn token(&mut self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        on_tx!(&mut self.inner, conn => {
            let row = sqlx::query(select("WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            Ok(match row {
                None => None,
                Some(row) => Some(token_from_row!(row)),
            })
        })
    }

    /// Keeps a new token with the hash of its secret.
    pub async fn insert_token(
        &mut self,
        token: &TokenRecord,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        on_tx!(&mut self.inner, conn => {
            sqlx::query(
                "INSERT INTO api_tokens (id, token_hash, role, candidate, label, created_by, \
                 created_at_us, revoked_at_us, expires_at_us) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&token.id)
            .bind(token_hash)
            .bind(token.role.as_str())
            .bind(&token.candidate)
            .bind(&token.label)
            .bind(&token.created_by)
            .bind(token.created_at_us)
            .bind(token.revoked_at_us)
            .bind(token.expires_at_us)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Marks a token revoked at `at_us`: true when it was not revoked yet.
    pub async fn revoke_token(&mut self, id: &str, at_us: i64) -> Result<bool, StoreError> {
        let affected = on_tx!(&mut self.inner, conn => {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at_us = $1 WHERE id = $2 AND revoked_at_us IS NULL",
            )
            .bind(at_us)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}
