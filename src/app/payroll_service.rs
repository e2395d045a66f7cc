//! Payroll recaps and anonymisation keys as events on one stream per candidate (`payroll/{FINESS}`),
//! and what the statements take from them: the recaps the flags check, the key that resolves
//! pseudonyms, and the figures of an internal cost line declared from a recap.

use super::ledger::{Access, Ledger, LedgerError, RequestMeta};
use super::repository::{Aggregate, EventInfo};
use crate::actor::Role;
use crate::domain::statement::{
    DecisionContext, InternalCostInput, LineContent, PayrollRecapSummary, Refusal, Statement,
    StatementCommand,
};
use crate::domain::{DomainId, Finess, Matricule, Money};
use crate::payroll::{self, AnonymisationKey, Limits, PayrollImport, PayrollRecap, RubriqueRules};
use crate::store::hash::{canonical_json, sha256_hex};
use crate::store::{
    EventMetadata, ExpectedVersion, NewEvent, StoreError, WriteTx, MAX_PAYLOAD_BYTES,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const PAYROLL_STREAM_PREFIX: &str = "payroll/";

pub fn payroll_stream(finess: &Finess) -> String {
    format!("{PAYROLL_STREAM_PREFIX}{finess}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PayrollEvent {
    /// One employee's recap for one year, read from a file (identified by its SHA-256).
    PayrollRecapImported {
        schema_version: u16,
        source_sha256: String,
        file_name: String,
        recap: Box<PayrollRecap>,
    },
    /// The anonymisation key (table de passage): pseudonym → matricule on the recap. Replaces the
    /// previous key. Readable by controllers only.
    AnonymisationKeyImported {
        schema_version: u16,
        source_sha256: String,
        entries: BTreeMap<String, Matricule>,
    },
}

/// The payroll documents of one candidate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PayrollBook {
    pub files: BTreeSet<String>,
    /// (matricule, year) → recap.
    pub recaps: BTreeMap<(Matricule, i32), PayrollRecap>,
    pub key: Option<BTreeMap<String, Matricule>>,
    pub key_sha256: Option<String>,
    /// (matricule, year) → SHA-256 of the file the recap came from (kept as a supporting document).
    pub recap_sources: BTreeMap<(Matricule, i32), String>,
}

impl Aggregate for PayrollBook {
    type Event = PayrollEvent;
    fn apply(&mut self, event: &PayrollEvent, _: &EventInfo) {
        match event {
            PayrollEvent::PayrollRecapImported {
                source_sha256,
                recap,
                ..
            } => {
                self.files.insert(source_sha256.clone());
                let key = (recap.matricule.clone(), recap.year);
                self.recap_sources
                    .insert(key.clone(), source_sha256.clone());
                self.recaps.insert(key, (**recap).clone());
            }
            PayrollEvent::AnonymisationKeyImported {
                source_sha256,
                entries,
                ..
            } => {
                self.files.insert(source_sha256.clone());
                self.key = Some(entries.clone());
                self.key_sha256 = Some(source_sha256.clone());
            }
        }
    }
    fn event_type(event: &PayrollEvent) -> (&'static str, i32) {
        match event {
            PayrollEvent::PayrollRecapImported { .. } => ("PayrollRecapImported", 1),
            PayrollEvent::AnonymisationKeyImported { .. } => ("AnonymisationKeyImported", 1),
        }
    }
}

/// What an import did (or would do).
#[derive(Debug, Clone, Serialize)]
pub struct PayrollImportSummary {
    pub source_sha256: String,
    pub file_name: String,
    /// The file had already been imported: nothing appended.
    pub already_imported: bool,
    pub applied: bool,
    pub import: PayrollImport,
}

/// A payroll file as kept by the store: its format from its content, else a generic binary type (the
/// importer has already read it, so it is a recap or a key whatever its name).
fn kept_file(
    file_name: &str,
    bytes: impl Into<Vec<u8>> + AsRef<[u8]>,
) -> crate::store::DocumentBlob {
    let media = crate::domain::statement::documents::sniff_media_type(file_name, bytes.as_ref())
        .map(|m| m.mime())
        .unwrap_or("application/octet-stream");
    crate::store::DocumentBlob::new(media, bytes.into())
}

/// What an anonymisation key import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyImportSummary {
    pub source_sha256: String,
    pub file_name: String,
    /// Pseudonyms in the file.
    pub pseudonyms: usize,
    /// False when this very key was already the one in force: nothing appended.
    pub applied: bool,
}

/// An internal cost line to fill from an imported recap (`payroll declare`, `POST …/payroll-lines`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayrollLineInput {
    /// The matricule as written on the template: the recap's, or a pseudonym the key resolves.
    pub matricule: String,
    /// Year of the recap to use.
    pub recap_year: i32,
    /// Year of the template column the line is declared in.
    pub year: String,
    pub objective: String,
    pub contribution: String,
    pub hours_productive: String,
    /// Hours spent on the objective.
    pub hours: String,
    /// Blank: the next `INT-…` id.
    #[serde(default)]
    pub line_id: String,
}

/// What declaring a line from a recap did: the figures taken from the recap and the line's amount.
#[derive(Debug, Clone)]
pub struct PayrollLineOutcome {
    pub line_id: String,
    /// The matricule on the recap (the pseudonym resolved through the key, if any).
    pub recap_matricule: Matricule,
    pub recap_year: i32,
    pub gross_annualised: Money,
    pub employer_charges: Money,
    pub non_eligible_gross: Money,
    /// The full-year equivalent proposed for a part-year recap (its computation in `note_fr`).
    pub full_year_equivalent: Option<payroll::FullYearProposal>,
    pub note_fr: String,
    /// CHARGES DE PERSONNEL IMPUTABLES SUR L'ACTION, as the statement computed it.
    pub imputable: Money,
    pub version: i64,
    pub statement: Statement,
}

pub(crate) fn may_import(access: &Access) -> Result<(), LedgerError> {
    match access.actor.role {
        Role::Etablissement | Role::Controleur | Role::Admin => Ok(()),
        Role::Paiement => Err(LedgerError::Forbidden {
            role: Role::Paiement,
            action: "importer des récapitulatifs de paie",
        }),
    }
}

/// Payroll recaps are personal data (salaries): the establishment (its own), controllers and
/// administrators read them; the payment desk, which needs only the subsidy, does not.
pub(crate) fn may_read(access: &Access) -> Result<(), LedgerError> {
    match access.actor.role {
        Role::Etablissement | Role::Controleur | Role::Admin => Ok(()),
        Role::Paiement => Err(LedgerError::Forbidden {
            role: Role::Paiement,
            action: "consulter les récapitulatifs de paie",
        }),
    }
}

impl Ledger {
    /// Imports a payroll recap file for a candidate: every employee's recap becomes a
    /// `PayrollRecapImported` event, all in one transaction (all or nothing). The same file twice
    /// imports once; a second recap for the same employee and year is refused; a broken file appends
    /// nothing. A dry run runs every check of the real import and appends nothing.
    pub async fn import_payroll(
        &self,
        access: &Access,
        finess: &Finess,
        file_name: &str,
        bytes: &[u8],
        dry_run: bool,
        request: &RequestMeta,
    ) -> Result<PayrollImportSummary, LedgerError> {
        self.import_payroll_with_progress(
            access,
            finess,
            file_name,
            bytes.to_vec(),
            dry_run,
            request,
            &ImportProgress::default(),
        )
        .await
    }

    /// As [`Ledger::import_payroll`], taking the file's bytes (kept as the supporting document without
    /// a copy: the 100 000-employee benchmark recap is 123 MiB) and counting the employees read and written
    /// in `progress` (the CLI shows it while a large recap imports).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_payroll_with_progress(
        &self,
        access: &Access,
        finess: &Finess,
        file_name: &str,
        bytes: Vec<u8>,
        dry_run: bool,
        request: &RequestMeta,
        progress: &ImportProgress,
    ) -> Result<PayrollImportSummary, LedgerError> {
        may_import(access)?;
        self.candidate(access, finess).await?;
        // Reading a workbook is CPU work (seconds for a large livre de paie): off the async workers.
        let name = file_name.to_string();
        let read_counter = progress.read.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let rules = RubriqueRules::load_default();
            let parsed = payroll::import_bytes_counting(
                &name,
                &bytes,
                &rules,
                &Limits::default(),
                &read_counter,
            );
            (parsed, bytes)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, file = file_name, "payroll reader panicked");
            LedgerError::InvalidFile {
                file: file_name.to_string(),
                message: "fichier illisible : la lecture s'est interrompue".into(),
            }
        })?;
        let (parsed, bytes) = joined;
        let import = parsed.map_err(|e| LedgerError::InvalidFile {
            file: file_name.to_string(),
            message: e.to_string(),
        })?;
        let stream = payroll_stream(finess);
        // The read model's state, shared (a candidate's book may hold 100 000 recaps: no copy).
        let book = self.payroll.load_shared(&stream).await?;
        let sha = import.source_sha256.clone();
        let already_imported = book.state.files.contains(&sha);
        // Every check of the real import, dry run included.
        if !already_imported {
            check_importable(file_name, &import, &book.state)?;
        }
        let mut summary = PayrollImportSummary {
            source_sha256: sha.clone(),
            file_name: file_name.to_string(),
            already_imported,
            applied: false,
            import,
        };
        if summary.already_imported || dry_run {
            return Ok(summary);
        }
        let recaps = std::sync::Arc::new(std::mem::take(&mut summary.import.recaps));
        let job = ImportJob {
            stream: stream.clone(),
            known_version: book.version,
            expected_version: request.expected_version,
            metadata: request.metadata_for(&access.actor),
            file_name: file_name.to_string(),
            sha: sha.clone(),
            // The file itself is kept as a supporting document, in the same transaction.
            blob: kept_file(file_name, bytes),
            recaps: recaps.clone(),
            written: progress.written.clone(),
        };
        drop(book);
        let appended = self
            .store()
            .write(move |tx: &mut WriteTx| Box::pin(job.run(tx)))
            .await?;
        summary.import.recaps = std::sync::Arc::try_unwrap(recaps).unwrap_or_else(|a| (*a).clone());
        summary.applied = appended;
        Ok(summary)
    }

    /// Imports the anonymisation key (CSV: pseudonym ; matricule).
    pub async fn import_anonymisation_key(
        &self,
        access: &Access,
        finess: &Finess,
        file_name: &str,
        bytes: &[u8],
        request: &RequestMeta,
    ) -> Result<KeyImportSummary, LedgerError> {
        may_import(access)?;
        self.candidate(access, finess).await?;
        let key = AnonymisationKey::parse_csv(bytes).map_err(|e| LedgerError::InvalidFile {
            file: file_name.to_string(),
            message: e.to_string(),
        })?;
        let entries: BTreeMap<String, Matricule> = key
            .entries()
            .map(|(p, m)| (p.to_string(), m.clone()))
            .collect();
        let count = entries.len();
        let sha = sha256_hex(bytes);
        let blob = kept_file(file_name, bytes);
        let key_sha = sha.clone();
        let outcome = self
            .payroll
            .execute_with_documents(
                &payroll_stream(finess),
                request.expected_version,
                &request.metadata_for(&access.actor),
                &(&sha, "key"),
                std::slice::from_ref(&blob),
                move |book: &PayrollBook, _| {
                    if book.key_sha256.as_deref() == Some(key_sha.as_str()) {
                        return Ok::<_, std::convert::Infallible>(Vec::new());
                    }
                    Ok(vec![PayrollEvent::AnonymisationKeyImported {
                        schema_version: 1,
                        source_sha256: key_sha,
                        entries,
                    }])
                },
            )
            .await?;
        Ok(KeyImportSummary {
            source_sha256: sha,
            file_name: file_name.to_string(),
            pseudonyms: count,
            applied: outcome.append.is_some_and(|a| !a.replayed),
        })
    }

    /// The recaps and key of a candidate (for the flags and for a controller's view). The key is
    /// returned only to controllers and administrators.
    pub async fn payroll_book(
        &self,
        access: &Access,
        finess: &Finess,
    ) -> Result<PayrollBook, LedgerError> {
        may_read(access)?;
        self.candidate(access, finess).await?;
        let (_, mut book) = self.payroll.load(&payroll_stream(finess)).await?;
        if !matches!(access.actor.role, Role::Controleur | Role::Admin) {
            book.key = None;
        }
        Ok(book)
    }

    /// Declares an internal cost line whose gross, employer charges and non-eligible gross come from
    /// an imported recap: the full-year equivalent for a part-year recap (its computation in
    /// `note_fr`), the totals as printed otherwise. A pseudonym is resolved through the key (which the
    /// establishment may not read back, but which it gave). The line is then an ordinary
    /// `DeclareInternalCost`, decided and appended as any other command.
    pub async fn declare_from_recap(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        input: &PayrollLineInput,
        request: &RequestMeta,
    ) -> Result<PayrollLineOutcome, LedgerError> {
        let candidate = self.candidate(access, finess).await?;
        // Role first, as `decide` does it (the one place of the rule), with the figures left blank:
        // a role that may never declare a line learns nothing of the payroll book.
        let probe = crate::domain::statement::decide(
            &Statement::default(),
            &DecisionContext {
                catalogue: self.catalogue().domain(domain),
                candidate: &candidate,
                effective_at: self.store().clock().now(),
                role: access.actor.role,
            },
            StatementCommand::DeclareInternalCost(InternalCostInput::default()),
        );
        if let Err(refusal @ Refusal::RoleNotAllowed { .. }) = probe {
            return Err(LedgerError::Refused(refusal));
        }
        let matricule =
            Matricule::parse(&input.matricule).map_err(|e| LedgerError::InvalidInput {
                field: "matricule",
                message: e.to_string(),
            })?;
        let (_, book) = self.payroll.load(&payroll_stream(finess)).await?;
        let on_recap = book
            .key
            .as_ref()
            .and_then(|k| k.get(matricule.as_str()).cloned())
            .unwrap_or_else(|| matricule.clone());
        let shown = if on_recap == matricule {
            format!("le matricule {matricule}")
        } else {
            format!("le matricule {matricule} (récapitulatif {on_recap})")
        };
        let Some(recap) = book.recaps.get(&(on_recap.clone(), input.recap_year)) else {
            let years: Vec<String> = book
                .recaps
                .keys()
                .filter(|(m, _)| *m == on_recap)
                .map(|(_, y)| y.to_string())
                .collect();
            return Err(if years.is_empty() {
                LedgerError::InvalidInput {
                    field: "matricule",
                    message: format!("aucun récapitulatif de paie importé pour {shown}"),
                }
            } else {
                LedgerError::InvalidInput {
                    field: "recap_year",
                    message: format!(
                        "aucun récapitulatif de paie {} importé pour {shown} (années importées : {})",
                        input.recap_year,
                        years.join(", ")
                    ),
                }
            });
        };
        let full_year = recap.full_year_equivalent();
        let (gross, charges, non_eligible, note_fr) = match &full_year {
            Some(full) => (
                full.annualised_gross,
                full.annualised_charges,
                full.annualised_non_eligible_gross,
                full.computation_fr.clone(),
            ),
            None => (
                recap.total_gross,
                recap.total_employer_charges,
                recap.non_eligible_gross,
                "récapitulatif sur l'année pleine : totaux repris tels quels".to_string(),
            ),
        };
        let command = StatementCommand::DeclareInternalCost(InternalCostInput {
            line_id: input.line_id.clone(),
            matricule: matricule.to_string(),
            year: input.year.clone(),
            objective: input.objective.clone(),
            nature: "COUTS_INTERNES".into(),
            contribution: input.contribution.clone(),
            gross_annualised: gross.to_plain_string(),
            employer_charges: charges.to_plain_string(),
            non_eligible_gross: non_eligible.to_plain_string(),
            hours_productive: input.hours_productive.clone(),
            hours_on_action: input.hours.clone(),
        });
        let (version, statement) = self
            .execute(access, finess, domain, command, request)
            .await?;
        // The line: by its id when given, else the last internal line of this employee with these
        // figures (also right on an idempotent replay, where the statement may have moved on since).
        let line = statement
            .lines_in_order()
            .into_iter()
            .rev()
            .find(|l| {
                if !input.line_id.trim().is_empty() {
                    return l.id.as_str() == input.line_id.trim();
                }
                matches!(&l.content, LineContent::Internal(i)
                    if i.matricule == matricule && i.gross_annualised == gross
                        && i.employer_charges == charges)
            })
            .map(|l| (l.id.as_str().to_string(), l.declared));
        let (line_id, imputable) = line.unwrap_or_default();
        Ok(PayrollLineOutcome {
            line_id,
            recap_matricule: on_recap,
            recap_year: input.recap_year,
            gross_annualised: gross,
            employer_charges: charges,
            non_eligible_gross: non_eligible,
            full_year_equivalent: full_year,
            note_fr,
            imputable,
            version,
            statement,
        })
    }

    /// What the flags need of a candidate's payroll documents (the key included: flags only say
    /// whether a pseudonym resolves, never to what).
    pub(crate) async fn payroll_flag_inputs(
        &self,
        finess: &Finess,
    ) -> Result<PayrollFlagInputs, LedgerError> {
        let (_, book) = self.payroll.load(&payroll_stream(finess)).await?;
        Ok(payroll_flag_inputs_of(&book))
    }
}

/// The payroll recaps and the anonymisation key as the flags take them.
pub(crate) type PayrollFlagInputs = (
    Vec<PayrollRecapSummary>,
    Option<BTreeMap<Matricule, Matricule>>,
);

/// What the flags need of a candidate's payroll book (pure: the read path computes it from the read
/// model).
pub(crate) fn payroll_flag_inputs_of(book: &PayrollBook) -> PayrollFlagInputs {
    let recaps = book
        .recaps
        .iter()
        .map(|(key, r)| PayrollRecapSummary {
            matricule: r.matricule.clone(),
            period_start: r.period_start,
            period_end: r.period_end,
            gross_total: r.total_gross,
            entry_date: r.entry_date,
            exit_date: r.exit_date,
            source_sha256: book.recap_sources.get(key).cloned(),
        })
        .collect();
    let key = book.key.as_ref().map(|entries| {
        entries
            .iter()
            .filter_map(|(p, m)| Matricule::parse(p).ok().map(|p| (p, m.clone())))
            .collect()
    });
    (recaps, key)
}

/// Most recaps one import may append, all in one transaction: one event per employee and year. A
/// 100 000-employee recap (AP-HP employs about as many) passes with room to spare; the store takes
/// them in chunks of [`APPEND_CHUNK`] events.
pub const MAX_RECAPS_PER_IMPORT: usize = 250_000;

/// Events appended per call to the store inside the import's one transaction: each chunk's events are
/// serialised, inserted and dropped before the next (memory bounded by a chunk, not by the file).
pub const APPEND_CHUNK: usize = 1_000;

/// What an import has done so far, for a progress line: employees read, then written.
#[derive(Debug, Default, Clone)]
pub struct ImportProgress {
    pub read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub written: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// The same JSON as [`PayrollEvent::PayrollRecapImported`], serialised from a borrowed recap (a
/// recap is never copied to be appended).
#[derive(Serialize)]
#[serde(tag = "type")]
enum PayrollEventRef<'a> {
    PayrollRecapImported {
        schema_version: u16,
        source_sha256: &'a str,
        file_name: &'a str,
        recap: &'a PayrollRecap,
    },
}

fn recap_event(
    sha: &str,
    file_name: &str,
    recap: &PayrollRecap,
) -> Result<NewEvent, serde_json::Error> {
    let payload = serde_json::to_value(PayrollEventRef::PayrollRecapImported {
        schema_version: 1,
        source_sha256: sha,
        file_name,
        recap,
    })?;
    Ok(NewEvent::new("PayrollRecapImported", 1, payload))
}

/// Every check an import runs before it appends, the dry run included: the number of recaps within
/// [`MAX_RECAPS_PER_IMPORT`], each employee's event within the store's size limit, no recap of an
/// employee and year already imported.
fn check_importable(
    file_name: &str,
    import: &PayrollImport,
    book: &PayrollBook,
) -> Result<(), LedgerError> {
    let refuse = |message: String| LedgerError::InvalidFile {
        file: file_name.to_string(),
        message,
    };
    if import.recaps.len() > MAX_RECAPS_PER_IMPORT {
        return Err(refuse(format!(
            "{} récapitulatifs dans le fichier, au-delà du maximum de {MAX_RECAPS_PER_IMPORT} par import : \
             scindez le fichier",
            import.recaps.len()
        )));
    }
    for recap in &import.recaps {
        if book
            .recaps
            .contains_key(&(recap.matricule.clone(), recap.year))
        {
            return Err(refuse(format!(
                "un récapitulatif {} existe déjà pour le matricule {} : un seul récapitulatif par salarié et par an",
                recap.year, recap.matricule
            )));
        }
        // Rubriques × their labels: a recap's event must stay within the store's limit per event.
        let size = serde_json::to_vec(recap)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_PAYLOAD_BYTES - 4_096 {
            return Err(refuse(format!(
                "salarié {} : récapitulatif de {size} octets une fois enregistré, au-delà du maximum \
                 de {} octets par salarié ({} rubriques ; {})",
                recap.matricule,
                MAX_PAYLOAD_BYTES - 4_096,
                recap.rubriques.len(),
                recap.source
            )));
        }
    }
    Ok(())
}

/// The write job of an import: inside one transaction, the idempotency key, the stream caught up and
/// checked again, the file kept, then the events appended chunk by chunk.
struct ImportJob {
    stream: String,
    known_version: i64,
    expected_version: Option<i64>,
    metadata: EventMetadata,
    file_name: String,
    sha: String,
    blob: crate::store::DocumentBlob,
    recaps: std::sync::Arc<Vec<PayrollRecap>>,
    written: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ImportJob {
    /// `Ok(true)` when appended, `Ok(false)` when this file (or this request) was already recorded.
    async fn run(self, tx: &mut WriteTx) -> Result<bool, LedgerError> {
        let fingerprint = sha256_hex(
            format!(
                "{}|{}|{}|{}",
                self.stream,
                self.metadata.actor,
                self.metadata.role.as_str(),
                canonical_json(&serde_json::json!([self.sha, "payroll"]))
            )
            .as_bytes(),
        );
        if let Some(key) = &self.metadata.idempotency_key {
            let scope = crate::store::IdempotencyScope::of(&self.stream, self.metadata.role);
            if let Some((_, stored)) = tx.find_idempotency_key(&scope, key).await? {
                if stored != fingerprint {
                    return Err(StoreError::IdempotencyConflict { key: key.clone() }.into());
                }
                return Ok(false);
            }
        }
        let mut version = tx.stream_version(&self.stream).await?;
        if let Some(expected) = self.expected_version {
            if expected != version {
                return Err(StoreError::Conflict {
                    stream_id: self.stream.clone(),
                    expected: ExpectedVersion::Exact(expected),
                    actual: version,
                }
                .into());
            }
        }
        // Events recorded since the checks were made (another import of the same candidate).
        if version != self.known_version {
            for event in tx
                .read_stream_after(&self.stream, self.known_version)
                .await?
            {
                let Ok(PayrollEvent::PayrollRecapImported {
                    source_sha256,
                    recap,
                    ..
                }) = serde_json::from_str::<PayrollEvent>(&event.payload)
                else {
                    continue;
                };
                if source_sha256 == self.sha {
                    return Ok(false);
                }
                if self
                    .recaps
                    .iter()
                    .any(|r| r.matricule == recap.matricule && r.year == recap.year)
                {
                    return Err(LedgerError::InvalidFile {
                        file: self.file_name.clone(),
                        message: format!(
                            "un récapitulatif {} existe déjà pour le matricule {} : un seul récapitulatif par salarié et par an",
                            recap.year, recap.matricule
                        ),
                    });
                }
            }
        }
        tx.put_document(&self.blob).await?;
        // The idempotency key is recorded with the first chunk (the whole import is one transaction:
        // either every chunk is there or none).
        let mut metadata = self.metadata.clone();
        for chunk in self.recaps.chunks(APPEND_CHUNK) {
            let mut events = Vec::with_capacity(chunk.len());
            for recap in chunk {
                events.push(recap_event(&self.sha, &self.file_name, recap).map_err(|e| {
                    LedgerError::Store(StoreError::Corrupt {
                        position: 0,
                        reason: e.to_string(),
                    })
                })?);
            }
            let result = tx
                .append_with_fingerprint(
                    &self.stream,
                    ExpectedVersion::Exact(version),
                    &events,
                    &metadata,
                    metadata
                        .idempotency_key
                        .as_ref()
                        .map(|_| fingerprint.clone()),
                )
                .await?;
            version = result.last_version;
            metadata.idempotency_key = None;
            self.written
                .fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_serialised_from_a_borrowed_recap_is_the_stored_event() {
        let import = payroll::import_bytes(
            "seed.csv",
            &std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/payroll/seed_003_recap.csv"),
            )
            .unwrap(),
            &RubriqueRules::load_default(),
            &Limits::default(),
        )
        .unwrap();
        let recap = &import.recaps[0];
        let owned = PayrollEvent::PayrollRecapImported {
            schema_version: 1,
            source_sha256: "abc".into(),
            file_name: "seed.csv".into(),
            recap: Box::new(recap.clone()),
        };
        let borrowed = recap_event("abc", "seed.csv", recap).unwrap();
        assert_eq!(
            canonical_json(&borrowed.payload),
            canonical_json(&serde_json::to_value(&owned).unwrap())
        );
        assert_eq!(
            (borrowed.event_type.as_str(), borrowed.schema_version),
            PayrollBook::event_type(&owned)
        );
    }
}
