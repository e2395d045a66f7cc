//! Supporting documents through the ledger service (SPEC.md §7): a file is checked (format from its
//! content, size), kept under its SHA-256 and attached to a line or an objective by a `DocumentAttached`
//! event, both in one transaction; listed with the checklist; read back by the candidate's viewers only.

use super::ledger::{statement_stream, Access, Ledger, LedgerError, RequestMeta};
use super::payroll_service::payroll_stream;
use crate::domain::personal_data::{self, ContentClass};
use crate::domain::statement::documents::{sniff_media_type, DocumentFileError};
use crate::domain::statement::{
    AttachedDocument, DocumentChecklist, DocumentId, DocumentInput, Refusal, StatementCommand,
};
use crate::domain::{DomainId, Finess};
use crate::store::hash::sha256_hex;
use crate::store::DocumentBlob;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A file to attach, as the user gave it.
#[derive(Debug, Clone, Default)]
pub struct DocumentUpload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Document kind code of the catalogue.
    pub kind: String,
    pub line_id: String,
    pub objective: String,
    pub replaces: String,
    pub comment: String,
}

/// A statement's documents and checklist.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentsView {
    pub finess: Finess,
    pub domain: DomainId,
    pub version: i64,
    pub as_of: Option<DateTime<Utc>>,
    /// In attachment order, superseded ones included (`superseded_by` set).
    pub documents: Vec<AttachedDocument>,
    pub checklist: DocumentChecklist,
}

fn file_refusal(source: DocumentFileError) -> LedgerError {
    LedgerError::Refused(Refusal::InvalidDocumentFile {
        field: "file",
        source,
    })
}

impl Ledger {
    /// Checks a file and attaches it: the bytes are kept (once per content) in the same transaction as
    /// the event; a refused attachment keeps nothing.
    pub async fn attach_document(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        upload: DocumentUpload,
        request: &RequestMeta,
    ) -> Result<(i64, AttachedDocument), LedgerError> {
        let media = sniff_media_type(&upload.file_name, &upload.bytes).map_err(file_refusal)?;
        let blob = DocumentBlob::new(media.mime(), upload.bytes);
        let command = StatementCommand::AttachDocument(DocumentInput {
            document_id: String::new(),
            sha256: blob.sha256.clone(),
            file_name: upload.file_name,
            media_type: media.mime().to_string(),
            size_bytes: blob.bytes.len() as u64,
            kind: upload.kind,
            line_id: upload.line_id,
            objective: upload.objective,
            replaces: upload.replaces,
            comment: upload.comment,
        });
        let before = self.statement_version(finess, domain).await?;
        let (version, state) = self
            .execute_batch_with_documents(
                access,
                finess,
                domain,
                vec![command],
                std::slice::from_ref(&blob),
                request,
            )
            .await
            .map_err(|e| match e {
                LedgerError::RefusedAt { refusal, .. } => LedgerError::Refused(refusal),
                other => other,
            })?;
        // The document this command attached: the newest with this content (an idempotent replay
        // returns the first one).
        let document = state
            .documents
            .values()
            .rev()
            .find(|d| d.sha256 == blob.sha256)
            .cloned()
            .ok_or_else(|| {
                LedgerError::NotFound(format!("pièce {} (version {before})", blob.sha256))
            })?;
        Ok((version, document))
    }

    async fn statement_version(
        &self,
        finess: &Finess,
        domain: DomainId,
    ) -> Result<i64, LedgerError> {
        Ok(self
            .store()
            .stream_version(&statement_stream(finess, domain))
            .await?)
    }

    /// Fills an `AttachDocument`'s media type and size from the file given with it or already kept.
    ///
    /// A command that names a content by its SHA-256 without giving the file may only reference
    /// content of this very candidate: a document of one of its statements (whoever attached it,
    /// the establishment or a controller) or one of its payroll files. Anything else — content of
    /// another candidate, or no content at all — is the same refusal, so the answer tells nothing of
    /// what the store holds elsewhere.
    pub(crate) async fn fill_document_facts(
        &self,
        finess: &Finess,
        input: &mut DocumentInput,
        given: &[DocumentBlob],
    ) -> Result<(), LedgerError> {
        let sha = input.sha256.trim().to_ascii_lowercase();
        if sha.is_empty() {
            return Err(LedgerError::Refused(Refusal::MissingField {
                field: "sha256",
            }));
        }
        if let Some(blob) = given.iter().find(|b| b.sha256 == sha) {
            input.media_type = blob.media_type.clone();
            input.size_bytes = blob.bytes.len() as u64;
            return Ok(());
        }
        let missing = || {
            LedgerError::Refused(Refusal::DocumentContentMissing {
                sha256: sha.clone(),
            })
        };
        if !self.candidate_has_content(finess, &sha).await? {
            return Err(missing());
        }
        match self.store().document_info(&sha).await? {
            Some(info) => {
                input.media_type = info.media_type;
                input.size_bytes = u64::try_from(info.size_bytes).unwrap_or(0);
                Ok(())
            }
            None => Err(missing()),
        }
    }

    /// Whether a content (by SHA-256) is one of this candidate's: attached to one of its statements or
    /// imported as one of its payroll files (read models caught up with the database).
    async fn candidate_has_content(&self, finess: &Finess, sha: &str) -> Result<bool, LedgerError> {
        for domain in DomainId::ALL {
            let statement = self
                .statements
                .load_shared(&statement_stream(finess, domain))
                .await?;
            if statement.state.documents.values().any(|d| d.sha256 == sha) {
                return Ok(true);
            }
        }
        Ok(self.payroll_file_class(finess, sha).await?.is_some())
    }

    /// The class of a candidate's imported payroll file with this SHA-256, if it is one: a recap's
    /// source, else (every other payroll file is one) an anonymisation key, current or replaced.
    async fn payroll_file_class(
        &self,
        finess: &Finess,
        sha: &str,
    ) -> Result<Option<ContentClass>, LedgerError> {
        let book = self.payroll.load_shared(&payroll_stream(finess)).await?;
        if !book.state.files.contains(sha) {
            return Ok(None);
        }
        let is_recap = book.state.recap_sources.values().any(|s| s == sha);
        Ok(Some(if is_recap {
            ContentClass::PayrollRecap
        } else {
            ContentClass::AnonymisationKey
        }))
    }

    /// Refuses a reader the content's class keeps from it (SPEC.md §1: payroll data wherever it is
    /// kept). The reader already sees the candidate.
    fn may_read_content(access: &Access, class: ContentClass) -> Result<(), LedgerError> {
        if personal_data::may_read(access.actor.role, class) {
            Ok(())
        } else {
            Err(LedgerError::Forbidden {
                role: access.actor.role,
                action: match class {
                    ContentClass::AnonymisationKey => "lire une clé d'anonymisation",
                    ContentClass::PayrollRecap | ContentClass::Ordinary => {
                        "lire des données de paie"
                    }
                },
            })
        }
    }

    /// The statement's documents and checklist, now or as of an instant.
    pub async fn documents(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<DocumentsView, LedgerError> {
        let view = self.statement(access, finess, domain, as_of).await?;
        Ok(DocumentsView {
            finess: finess.clone(),
            domain,
            version: view.version,
            as_of,
            documents: view.statement.documents.values().cloned().collect(),
            checklist: view.checklist,
        })
    }

    /// One attached document and its bytes (checked against their hash on the way out).
    pub async fn document_file(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        document_id: &str,
    ) -> Result<(AttachedDocument, Vec<u8>), LedgerError> {
        let view = self.statement(access, finess, domain, None).await?;
        let missing = || LedgerError::NotFound(format!("pièce {document_id}"));
        let id = DocumentId::parse(document_id).ok_or_else(missing)?;
        let document = view
            .statement
            .documents
            .get(&id)
            .cloned()
            .ok_or_else(missing)?;
        let class = ContentClass::of_document(
            &document.kind,
            self.payroll_file_class(finess, &document.sha256).await?,
        );
        Self::may_read_content(access, class)?;
        let bytes = self.kept_bytes(&document.sha256).await?;
        Ok((document, bytes))
    }

    /// A payroll file of a candidate (a recap or the anonymisation key), by its SHA-256. The key is
    /// readable by controllers and administrators only, like its content in the payroll book.
    pub async fn payroll_file(
        &self,
        access: &Access,
        finess: &Finess,
        sha256: &str,
    ) -> Result<(String, Vec<u8>), LedgerError> {
        // Whoever may read payroll at all, for a candidate they see (403 / 404 otherwise).
        self.payroll_book(access, finess).await?;
        let sha = sha256.trim().to_ascii_lowercase();
        let Some(class) = self.payroll_file_class(finess, &sha).await? else {
            return Err(LedgerError::NotFound(format!("fichier {sha}")));
        };
        // A key (current or replaced: a replaced key still unmasks the recaps of its time) is read
        // by controllers and administrators only. It is not found for the others, as before.
        if Self::may_read_content(access, class).is_err() {
            return Err(LedgerError::NotFound(format!("fichier {sha}")));
        }
        let info = self
            .store()
            .document_info(&sha)
            .await?
            .ok_or_else(|| LedgerError::NotFound(format!("fichier {sha}")))?;
        Ok((info.media_type, self.kept_bytes(&sha).await?))
    }

    async fn kept_bytes(&self, sha256: &str) -> Result<Vec<u8>, LedgerError> {
        let bytes = self
            .store()
            .document_content(sha256)
            .await?
            .ok_or_else(|| LedgerError::NotFound(format!("contenu {sha256}")))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(LedgerError::Store(crate::store::StoreError::Corrupt {
                position: 0,
                reason: format!("le contenu gardé sous {sha256} a été altéré"),
            }));
        }
        Ok(bytes)
    }
}
