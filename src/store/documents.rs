//! Supporting document contents (SPEC.md §7), content-addressed: the bytes of a file are kept once under
//! their SHA-256, written in the same transaction as the event that attaches them (nothing half
//! written), never updated nor deleted (triggers in `migrations/`). `verify_documents` recomputes every
//! content's hash.

use super::{hash::sha256_hex, Backend, EventStore, StoreError, TxInner, WriteTx};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A file to keep: its bytes, hash and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentBlob {
    pub sha256: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl DocumentBlob {
    pub fn new(media_type: impl Into<String>, bytes: Vec<u8>) -> DocumentBlob {
        DocumentBlob {
            sha256: sha256_hex(&bytes),
            media_type: media_type.into(),
            bytes,
        }
    }
}

/// What the store knows of a kept file, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDocument {
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub stored_at_us: i64,
}

/// The outcome of recomputing every kept file's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentsReport {
    pub documents_checked: u64,
    /// SHA-256 under which a content is kept whose hash differs (the first found).
    pub altered: Option<String>,
}

impl WriteTx {
    /// Keeps a file's bytes under their SHA-256. The same content twice is kept once: returns whether
    /// it was new.
    pub async fn put_document(&mut self, blob: &DocumentBlob) -> Result<bool, StoreError> {
        if blob.sha256 != sha256_hex(&blob.bytes) {
            return Err(StoreError::Corrupt {
                position: 0,
                reason: format!("document {} : empreinte différente du contenu", blob.sha256),
            });
        }
        let now_us = self.clock.now().timestamp_micros();
        let size = i64::try_from(blob.bytes.len()).unwrap_or(i64::MAX);
        let affected = on_tx!(&mut self.inner, conn => {
            sqlx::query(
                "INSERT INTO documents (sha256, media_type, size_bytes, content, stored_at_us) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&blob.sha256)
            .bind(&blob.media_type)
            .bind(size)
            .bind(&blob.bytes)
            .bind(now_us)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}

impl EventStore {
    /// What is kept under a SHA-256, without the bytes.
    pub async fn document_info(&self, sha256: &str) -> Result<Option<StoredDocument>, StoreError> {
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(
                "SELECT sha256, media_type, size_bytes, stored_at_us FROM documents \
                 WHERE sha256 = $1",
            )
            .bind(sha256)
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(StoredDocument {
                    sha256: r.try_get(0)?,
                    media_type: r.try_get(1)?,
                    size_bytes: r.try_get(2)?,
                    stored_at_us: r.try_get(3)?,
                })),
            }
        })
    }

    /// The bytes kept under a SHA-256.
    pub async fn document_content(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        on_pool!(&self.backend, pool => {
            let row = sqlx::query("SELECT content FROM documents WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(pool)
                .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(r.try_get::<Vec<u8>, _>(0)?)),
            }
        })
    }

    /// Recomputes the hash of every kept file, one at a time (memory: one file).
    pub async fn verify_documents(&self) -> Result<DocumentsReport, StoreError> {
        let mut report = DocumentsReport {
            documents_checked: 0,
            altered: None,
        };
        on_pool!(&self.backend, pool => {
            let mut rows = sqlx::query("SELECT sha256, content FROM documents ORDER BY sha256")
                .fetch(pool);
            while let Some(row) = rows.next().await {
                let row = row?;
                let sha: String = row.try_get(0)?;
                let content: Vec<u8> = row.try_get(1)?;
                report.documents_checked += 1;
                if sha256_hex(&content) != sha {
                    report.altered = Some(sha);
                    break;
                }
            }
        });
        Ok(report)
    }
}
