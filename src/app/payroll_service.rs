//! Payroll recaps and anonymisation keys as events on one stream per candidate (`payroll/{FINESS}`),
//! and what the statements take from them: the recaps the flags check, the key that resolves
//! pseudonyms, and the figures of an internal cost line declared from a recap.

use super::ledger::{Access, Ledger, LedgerError, RequestMeta};
use super::repository::{Aggregate, EventInfo};
use crate::actor::Role;
use crate::domain::statement::PayrollRecapSummary;
use crate::domain::{Finess, Matricule};
use crate::payroll::{self, AnonymisationKey, Limits, PayrollImport, PayrollRecap, RubriqueRules};
use crate::store::hash::sha256_hex;
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
                self.recaps
                    .insert((recap.matricule.clone(), recap.year), (**recap).clone());
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

fn may_import(access: &Access) -> Result<(), LedgerError> {
    match access.actor.role {
        Role::Etablissement | Role::Controleur | Role::Admin => Ok(()),
        Role::Paiement => Err(LedgerError::Forbidden {
            role: Role::Paiement,
            action: "importer des récapitulatifs de paie",
        }),
    }
}

impl Ledger {
    /// Imports a payroll recap file for a candidate: every employee's recap becomes a
    /// `PayrollRecapImported` event, all in one transaction. The same file twice imports once; a
    /// second recap for the same employee and year is refused; a broken file appends nothing.
    pub async fn import_payroll(
        &self,
        access: &Access,
        finess: &Finess,
        file_name: &str,
        bytes: &[u8],
        dry_run: bool,
        request: &RequestMeta,
    ) -> Result<PayrollImportSummary, LedgerError> {
        may_import(access)?;
        self.candidate(access, finess).await?;
        let rules = RubriqueRules::load_default();
        let import =
            payroll::import_bytes(file_name, bytes, &rules, &Limits::default()).map_err(|e| {
                LedgerError::InvalidFile {
                    file: file_name.to_string(),
                    message: e.to_string(),
                }
            })?;
        let stream = payroll_stream(finess);
        let (_, book) = self.payroll.load(&stream).await?;
        let sha = import.source_sha256.clone();
        let mut summary = PayrollImportSummary {
            source_sha256: sha.clone(),
            file_name: file_name.to_string(),
            already_imported: book.files.contains(&sha),
            applied: false,
            import,
        };
        if summary.already_imported || dry_run {
            return Ok(summary);
        }
        let events: Vec<PayrollEvent> = summary
            .import
            .recaps
            .iter()
            .map(|recap| PayrollEvent::PayrollRecapImported {
                schema_version: 1,
                source_sha256: sha.clone(),
                file_name: file_name.to_string(),
                recap: Box::new(recap.clone()),
            })
            .collect();
        let file = file_name.to_string();
        let file_sha = sha.clone();
        self.payroll
            .execute(
                &stream,
                request.expected_version,
                &request.metadata_for(&access.actor),
                &(&sha, "payroll"),
                move |book: &PayrollBook, _| {
                    if book.files.contains(&file_sha) {
                        return Ok(Vec::new());
                    }
                    for event in &events {
                        if let PayrollEvent::PayrollRecapImported { recap, .. } = event {
                            if book
                                .recaps
                                .contains_key(&(recap.matricule.clone(), recap.year))
                            {
                                return Err(LedgerError::InvalidFile {
                                    file: file.clone(),
                                    message: format!(
                                        "un récapitulatif {} existe déjà pour le matricule {} : un seul récapitulatif par salarié et par an",
                                        recap.year, recap.matricule
                                    ),
                                });
                            }
                        }
                    }
                    Ok(events)
                },
            )
            .await
            .map_err(|e| match e {
                super::CommandError::Rejected(err) => err,
                super::CommandError::Store(s) => LedgerError::Store(s),
                super::CommandError::Decode { position, reason } => {
                    LedgerError::Store(crate::store::StoreError::Corrupt { position, reason })
                }
            })?;
        summary.applied = true;
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
    ) -> Result<usize, LedgerError> {
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
        let key_sha = sha.clone();
        self.payroll
            .execute(
                &payroll_stream(finess),
                request.expected_version,
                &request.metadata_for(&access.actor),
                &(&sha, "key"),
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
        Ok(count)
    }

    /// The recaps and key of a candidate (for the flags and for a controller's view). The key is
    /// returned only to controllers and administrators.
    pub async fn payroll_book(
        &self,
        access: &Access,
        finess: &Finess,
    ) -> Result<PayrollBook, LedgerError> {
        self.candidate(access, finess).await?;
        let (_, mut book) = self.payroll.load(&payroll_stream(finess)).await?;
        if !matches!(access.actor.role, Role::Controleur | Role::Admin) {
            book.key = None;
        }
        Ok(book)
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
        .values()
        .map(|r| PayrollRecapSummary {
            matricule: r.matricule.clone(),
            period_start: r.period_start,
            period_end: r.period_end,
            gross_total: r.total_gross,
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
