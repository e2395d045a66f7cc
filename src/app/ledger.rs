//! The ledger service: the catalogue in force, the candidate base and the statements, as streams of
//! events; commands checked for access, decided by the pure domain, appended; views computed from the
//! read models (current) or by replay (as of an instant).
//!
//! Streams: `catalogue`, `candidates`, and `statement/{FINESS}/{DOMAIN}` per candidate × domain.

use super::read_model::{CachedView, ReadModels, ViewKey};
use super::repository::{Aggregate, CommandError, EventInfo, Repository};
use crate::actor::{Actor, Role};
use crate::domain::catalogue::{Catalogue, CatalogueError};
use crate::domain::statement::{
    self, compute_subsidy, decide, flags, DecisionContext, Flag, FlagInputs, Refusal, Statement,
    StatementCommand, StatementEvent, SubsidyReport,
};
use crate::domain::{Candidate, DomainId, Finess};
use crate::import::ImportError;
use crate::store::hash::sha256_hex;
use crate::store::{EventMetadata, EventStore, ReadBound, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

pub const CATALOGUE_STREAM: &str = "catalogue";
pub const CANDIDATES_STREAM: &str = "candidates";
pub const STATEMENT_STREAM_PREFIX: &str = "statement/";

pub fn statement_stream(finess: &Finess, domain: DomainId) -> String {
    format!("{STATEMENT_STREAM_PREFIX}{finess}/{domain}")
}

/// Who is asking: an actor, and for an establishment the one candidate it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub actor: Actor,
    pub candidate: Option<Finess>,
}

impl Access {
    pub fn new(actor: Actor, candidate: Option<Finess>) -> Access {
        Access { actor, candidate }
    }

    /// Whether this access may see the candidate's data. An establishment sees only its own; a missing
    /// binding sees nothing.
    pub fn may_see(&self, finess: &Finess) -> bool {
        match self.actor.role {
            Role::Etablissement => self.candidate.as_ref() == Some(finess),
            Role::Controleur | Role::Paiement | Role::Admin => true,
        }
    }
}

/// The request a command comes from (SPEC.md §4: who, why, which request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub idempotency_key: Option<String>,
    /// If-Match: the stream version the client saw.
    pub expected_version: Option<i64>,
    pub comment: Option<String>,
}

impl RequestMeta {
    pub fn new(request_id: impl Into<String>) -> RequestMeta {
        RequestMeta {
            request_id: request_id.into(),
            ..RequestMeta::default()
        }
    }

    pub(crate) fn metadata_for(&self, actor: &Actor) -> EventMetadata {
        self.metadata(actor)
    }

    fn metadata(&self, actor: &Actor) -> EventMetadata {
        EventMetadata {
            actor: actor.id.clone(),
            role: actor.role,
            request_id: self.request_id.clone(),
            idempotency_key: self.idempotency_key.clone(),
            comment: self.comment.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Missing, or not visible to this actor: the same answer either way (no existence leak).
    #[error("{0} introuvable")]
    NotFound(String),
    #[error("le rôle {role} ne peut pas {action}")]
    Forbidden { role: Role, action: &'static str },
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A file refused; the message names the cell or the reason (and the file, when it does not).
    #[error("{}", invalid_file_text(file, message))]
    InvalidFile { file: String, message: String },
    /// A request field the service checks itself (before any command is decided): names the field.
    #[error("champ {field} : {message}")]
    InvalidInput {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error("commande {index} ({command}) refusée : {refusal}")]
    RefusedAt {
        index: usize,
        command: &'static str,
        refusal: Refusal,
    },
    #[error("trame refusée : {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(" ; "))]
    Template(Vec<crate::template::CellError>),
    #[error("export de la trame impossible : {0}")]
    Export(String),
    #[error("état financier illisible : {0}")]
    View(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A refusal inside a batch, with the position of the command that caused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("commande {index} ({command}) : {refusal}")]
pub struct BatchRefusal {
    pub index: usize,
    pub command: &'static str,
    pub refusal: Refusal,
}

impl From<CommandError<BatchRefusal>> for LedgerError {
    fn from(err: CommandError<BatchRefusal>) -> Self {
        match err {
            CommandError::Rejected(b) => LedgerError::RefusedAt {
                index: b.index,
                command: b.command,
                refusal: b.refusal,
            },
            CommandError::Store(store) => LedgerError::Store(store),
            CommandError::Decode { position, reason } => {
                LedgerError::Store(StoreError::Corrupt { position, reason })
            }
        }
    }
}

/// What a template import did (or would do, on a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct TemplateImportOutcome {
    pub finess: Finess,
    pub domain: DomainId,
    pub commands: Vec<StatementCommand>,
    pub applied: bool,
    pub version: i64,
}

impl From<CommandError<Refusal>> for LedgerError {
    fn from(err: CommandError<Refusal>) -> Self {
        match err {
            CommandError::Rejected(refusal) => LedgerError::Refused(refusal),
            CommandError::Store(store) => LedgerError::Store(store),
            CommandError::Decode { position, reason } => {
                LedgerError::Store(StoreError::Corrupt { position, reason })
            }
        }
    }
}

impl From<CommandError<std::convert::Infallible>> for LedgerError {
    fn from(err: CommandError<std::convert::Infallible>) -> Self {
        match err {
            CommandError::Rejected(never) => match never {},
            CommandError::Store(store) => LedgerError::Store(store),
            CommandError::Decode { position, reason } => {
                LedgerError::Store(StoreError::Corrupt { position, reason })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Catalogue and candidate base as streams.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CatalogueEvent {
    /// A domain file came into force (its content hash identifies the version applied).
    CatalogueDomainLoaded {
        schema_version: u16,
        domain: DomainId,
        file_name: String,
        sha256: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueHistory {
    /// The content hash in force per domain.
    pub in_force: BTreeMap<DomainId, String>,
}

impl Aggregate for CatalogueHistory {
    type Event = CatalogueEvent;
    fn apply(&mut self, event: &CatalogueEvent, _: &EventInfo) {
        let CatalogueEvent::CatalogueDomainLoaded { domain, sha256, .. } = event;
        self.in_force.insert(*domain, sha256.clone());
    }
    fn event_type(_: &CatalogueEvent) -> (&'static str, i32) {
        ("CatalogueDomainLoaded", 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CandidateBaseEvent {
    CandidateRegistered {
        schema_version: u16,
        candidate: Candidate,
        /// SHA-256 of the imported file.
        source_sha256: String,
    },
    CandidateUpdated {
        schema_version: u16,
        candidate: Candidate,
        source_sha256: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandidateBase {
    pub candidates: BTreeMap<Finess, Candidate>,
}

impl Aggregate for CandidateBase {
    type Event = CandidateBaseEvent;
    fn apply(&mut self, event: &CandidateBaseEvent, _: &EventInfo) {
        match event {
            CandidateBaseEvent::CandidateRegistered { candidate, .. }
            | CandidateBaseEvent::CandidateUpdated { candidate, .. } => {
                self.candidates
                    .insert(candidate.finess.clone(), candidate.clone());
            }
        }
    }
    fn event_type(event: &CandidateBaseEvent) -> (&'static str, i32) {
        match event {
            CandidateBaseEvent::CandidateRegistered { .. } => ("CandidateRegistered", 1),
            CandidateBaseEvent::CandidateUpdated { .. } => ("CandidateUpdated", 1),
        }
    }
}

impl Aggregate for Statement {
    type Event = StatementEvent;
    fn apply(&mut self, event: &StatementEvent, _: &EventInfo) {
        Statement::apply(self, event);
    }
    fn event_type(event: &StatementEvent) -> (&'static str, i32) {
        (event.type_name(), i32::from(event.schema_version()))
    }
}

/// What an import of the candidate base changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateImportSummary {
    pub source_sha256: String,
    pub registered: Vec<Finess>,
    pub updated: Vec<Finess>,
    pub unchanged: Vec<Finess>,
}

/// What a statement command did.
#[derive(Debug, Clone)]
pub struct CommandReport {
    /// The stream version once the command is committed (read back from the read model: a command
    /// committed just after it may already be folded in).
    pub version: i64,
    /// False when nothing was appended: an idempotent replay, or a command with no effect.
    pub appended: bool,
    /// The statement at `version`, shared with the read model.
    pub statement: Arc<Statement>,
}

/// A statement as read: its state, figures and flags.
#[derive(Debug, Clone, Serialize)]
pub struct StatementView {
    pub candidate: Candidate,
    pub domain: DomainId,
    pub stream_id: String,
    pub version: i64,
    pub as_of: Option<DateTime<Utc>>,
    pub statement: Statement,
    /// The subsidy, or why it cannot be computed (e.g. an unpublished décote schedule). In JSON: the
    /// figures, or `{"error": "…"}`.
    #[serde(serialize_with = "subsidy_json")]
    pub subsidy: Result<SubsidyReport, String>,
    pub flags: Vec<Flag>,
    /// Supporting documents expected per objective and per line: provided or missing (SPEC.md §7).
    pub checklist: statement::DocumentChecklist,
}

// ---------------------------------------------------------------------------------------------------

/// The service every channel (CLI, HTTP, demo) goes through.
pub struct Ledger {
    store: EventStore,
    catalogue: Arc<Catalogue>,
    catalogue_history: Repository<CatalogueHistory>,
    candidates: Repository<CandidateBase>,
    pub(crate) statements: Repository<Statement>,
    pub(crate) payroll: Repository<super::payroll_service::PayrollBook>,
    pub(crate) batches: Repository<super::batches::BatchHistory>,
    /// One payment batch at a time in this process: two batches run together would compute the same
    /// batch id and share its orders' idempotency keys.
    pub(crate) batch_lock: tokio::sync::Mutex<()>,
    /// The read models the repositories above share, fed by one follower of the global order.
    models: Arc<ReadModels>,
    follower: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if let Some(follower) = self.follower.get_mut().ok().and_then(|f| f.take()) {
            follower.abort();
        }
    }
}

impl Ledger {
    /// Opens the service over a store and builds its read models from the events (one pass over the
    /// global order).
    pub async fn open(store: EventStore, catalogue: Catalogue) -> Result<Ledger, LedgerError> {
        let models = Arc::new(ReadModels::new(store.clone()));
        let ledger = Ledger {
            catalogue: Arc::new(catalogue),
            catalogue_history: models.catalogue_history.clone(),
            candidates: models.candidates.clone(),
            statements: models.statements.clone(),
            payroll: models.payroll.clone(),
            batches: models.batches.clone(),
            batch_lock: tokio::sync::Mutex::new(()),
            models,
            follower: Mutex::new(None),
            store,
        };
        ledger.models.catch_up(None).await?;
        Ok(ledger)
    }

    /// Starts the follower that applies writes of other processes to the read models (polling every
    /// [`super::read_model::FOLLOW_POLL_INTERVAL`]) and of this one as soon as they commit. Writes
    /// made through this process are visible to the next read without it; `serve` starts it. Stops
    /// when the ledger is dropped. Idempotent.
    pub fn start_follower(&self) {
        if let Ok(mut follower) = self.follower.lock() {
            if follower.is_none() {
                *follower = Some(self.models.spawn_follower());
            }
        }
    }

    /// The position of the last event seen on a stream no read model folds (e.g. `tokens`), kept up
    /// to date as the read models catch up (see [`Ledger::ensure_fresh`]).
    pub fn watch_stream(&self, stream_id: &str) -> Arc<AtomicI64> {
        self.models.watch_stream(stream_id)
    }

    /// Applies every write acknowledged in this process so far to the read models (no database
    /// access when they are up to date).
    pub async fn ensure_fresh(&self) -> Result<(), LedgerError> {
        Ok(self.models.ensure_fresh().await?)
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Records, once per content, which catalogue files are in force (admin). Returns the domains newly
    /// recorded.
    pub async fn record_catalogue(
        &self,
        actor: &Actor,
        request: &RequestMeta,
        files: &[(String, String)],
    ) -> Result<Vec<DomainId>, LedgerError> {
        if actor.role != Role::Admin {
            return Err(LedgerError::Forbidden {
                role: actor.role,
                action: "charger le catalogue",
            });
        }
        let mut events = Vec::new();
        for (name, text) in files {
            let parsed = crate::domain::DomainCatalogue::from_toml_str(name, text)?;
            events.push(CatalogueEvent::CatalogueDomainLoaded {
                schema_version: 1,
                domain: parsed.domain,
                file_name: name.clone(),
                sha256: sha256_hex(text.as_bytes()),
            });
        }
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded_by_decide = recorded.clone();
        let proposed = events.clone();
        self.catalogue_history
            .execute(
                CATALOGUE_STREAM,
                request.expected_version,
                &request.metadata(actor),
                &events,
                move |history: &CatalogueHistory, _| {
                    let recorded = recorded_by_decide;
                    let fresh: Vec<CatalogueEvent> = proposed
                        .iter()
                        .filter(|e| {
                            let CatalogueEvent::CatalogueDomainLoaded { domain, sha256, .. } = e;
                            history.in_force.get(domain) != Some(sha256)
                        })
                        .cloned()
                        .collect();
                    if let Ok(mut recorded) = recorded.lock() {
                        recorded.extend(fresh.iter().map(|e| {
                            let CatalogueEvent::CatalogueDomainLoaded { domain, .. } = e;
                            *domain
                        }));
                    }
                    Ok::<_, std::convert::Infallible>(fresh)
                },
            )
            .await?;
        let recorded = recorded.lock().map(|r| r.clone()).unwrap_or_default();
        Ok(recorded)
    }

    /// Imports the candidate base (CSV or XLSX, admin). All rows are checked before anything is
    /// appended: one bad row and nothing is recorded.
    pub async fn import_candidates(
        &self,
        actor: &Actor,
        request: &RequestMeta,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<CandidateImportSummary, LedgerError> {
        if actor.role != Role::Admin {
            return Err(LedgerError::Forbidden {
                role: actor.role,
                action: "importer la base des candidats",
            });
        }
        let lower = file_name.to_ascii_lowercase();
        let candidates = if lower.ends_with(".xlsx") {
            crate::import::read_candidates_xlsx(file_name, bytes)?
        } else if lower.ends_with(".csv") {
            let text = std::str::from_utf8(bytes).map_err(|_| LedgerError::InvalidFile {
                file: file_name.to_string(),
                message: "le fichier CSV n'est pas en UTF-8".into(),
            })?;
            crate::import::read_candidates_csv(file_name, text)?
        } else {
            return Err(LedgerError::InvalidFile {
                file: file_name.to_string(),
                message: "format non pris en charge (attendu .csv ou .xlsx)".into(),
            });
        };
        let source_sha256 = sha256_hex(bytes);
        let summary_cell = Arc::new(std::sync::Mutex::new(CandidateImportSummary {
            source_sha256: source_sha256.clone(),
            registered: Vec::new(),
            updated: Vec::new(),
            unchanged: Vec::new(),
        }));
        let summary_by_decide = summary_cell.clone();
        let imported = candidates.clone();
        let sha = source_sha256.clone();
        self.candidates
            .execute(
                CANDIDATES_STREAM,
                request.expected_version,
                &request.metadata(actor),
                &(&source_sha256, &candidates),
                move |base: &CandidateBase, _| {
                    let source_sha256 = sha;
                    let mut events = Vec::new();
                    let mut summary = summary_by_decide.lock().expect("summary lock");
                    for candidate in &imported {
                        match base.candidates.get(&candidate.finess) {
                            None => {
                                summary.registered.push(candidate.finess.clone());
                                events.push(CandidateBaseEvent::CandidateRegistered {
                                    schema_version: 1,
                                    candidate: candidate.clone(),
                                    source_sha256: source_sha256.clone(),
                                });
                            }
                            Some(existing) if existing == candidate => {
                                summary.unchanged.push(candidate.finess.clone());
                            }
                            Some(_) => {
                                summary.updated.push(candidate.finess.clone());
                                events.push(CandidateBaseEvent::CandidateUpdated {
                                    schema_version: 1,
                                    candidate: candidate.clone(),
                                    source_sha256: source_sha256.clone(),
                                });
                            }
                        }
                    }
                    Ok::<_, std::convert::Infallible>(events)
                },
            )
            .await?;
        let summary = summary_cell.lock().expect("summary lock").clone();
        Ok(summary)
    }

    /// The candidates this access may see.
    pub async fn candidates(&self, access: &Access) -> Result<Vec<Candidate>, LedgerError> {
        let (_, base) = self.candidates.load(CANDIDATES_STREAM).await?;
        Ok(base
            .candidates
            .into_values()
            .filter(|c| access.may_see(&c.finess))
            .collect())
    }

    /// One candidate, if it exists and this access may see it.
    pub async fn candidate(
        &self,
        access: &Access,
        finess: &Finess,
    ) -> Result<Candidate, LedgerError> {
        if !access.may_see(finess) {
            return Err(LedgerError::NotFound(format!("candidat {finess}")));
        }
        let (_, base) = self.candidates.load(CANDIDATES_STREAM).await?;
        base.candidates
            .get(finess)
            .cloned()
            .ok_or_else(|| LedgerError::NotFound(format!("candidat {finess}")))
    }

    /// Runs a statement command for this access.
    pub async fn execute(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        command: StatementCommand,
        request: &RequestMeta,
    ) -> Result<(i64, Statement), LedgerError> {
        let report = self
            .execute_reporting(access, finess, domain, command, request)
            .await?;
        Ok((report.version, Arc::unwrap_or_clone(report.statement)))
    }

    /// As [`Ledger::execute`], also telling whether the command appended anything.
    pub async fn execute_reporting(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        command: StatementCommand,
        request: &RequestMeta,
    ) -> Result<CommandReport, LedgerError> {
        self.execute_batch_reporting(access, finess, domain, vec![command], request)
            .await
            .map_err(|e| match e {
                LedgerError::RefusedAt { refusal, .. } => LedgerError::Refused(refusal),
                other => other,
            })
    }

    /// Runs several commands as one: decided in order on the evolving state and appended in one
    /// transaction, or none at all if any is refused.
    pub async fn execute_batch(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        commands: Vec<StatementCommand>,
        request: &RequestMeta,
    ) -> Result<(i64, Statement), LedgerError> {
        let report = self
            .execute_batch_reporting(access, finess, domain, commands, request)
            .await?;
        Ok((report.version, Arc::unwrap_or_clone(report.statement)))
    }

    /// Whether the candidate exists and this access may see it, from the read model (no database
    /// access unless a write of this process is not applied yet): what an HTTP handler checks first.
    pub async fn check_candidate_visible(
        &self,
        access: &Access,
        finess: &Finess,
    ) -> Result<(), LedgerError> {
        let not_found = || LedgerError::NotFound(format!("candidat {finess}"));
        if !access.may_see(finess) {
            return Err(not_found());
        }
        self.models.ensure_fresh().await?;
        let base = self
            .models
            .candidates
            .snapshot(CANDIDATES_STREAM)
            .ok_or_else(not_found)?;
        if base.state.candidates.contains_key(finess) {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// As [`Ledger::execute_batch`], also telling whether the commands appended anything.
    pub async fn execute_batch_reporting(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        commands: Vec<StatementCommand>,
        request: &RequestMeta,
    ) -> Result<CommandReport, LedgerError> {
        self.execute_batch_reporting_with_documents(access, finess, domain, commands, &[], request)
            .await
    }

    /// As `execute_batch`, with the files that `AttachDocument` commands refer to, kept in the same
    /// transaction. An `AttachDocument` whose content is neither given here nor already kept is
    /// refused; its media type and size are always those of the kept file, never the client's.
    pub async fn execute_batch_with_documents(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        commands: Vec<StatementCommand>,
        documents: &[crate::store::DocumentBlob],
        request: &RequestMeta,
    ) -> Result<(i64, Statement), LedgerError> {
        let report = self
            .execute_batch_reporting_with_documents(
                access, finess, domain, commands, documents, request,
            )
            .await?;
        Ok((report.version, Arc::unwrap_or_clone(report.statement)))
    }

    /// As [`Ledger::execute_batch_with_documents`], also telling whether the commands appended anything.
    pub async fn execute_batch_reporting_with_documents(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        mut commands: Vec<StatementCommand>,
        documents: &[crate::store::DocumentBlob],
        request: &RequestMeta,
    ) -> Result<CommandReport, LedgerError> {
        let candidate = self.candidate(access, finess).await?;
        for (index, command) in commands.iter_mut().enumerate() {
            if let StatementCommand::AttachDocument(input) = command {
                self.fill_document_facts(finess, input, documents)
                    .await
                    .map_err(|e| match e {
                        LedgerError::Refused(refusal) => LedgerError::RefusedAt {
                            index: index + 1,
                            command: "AttachDocument",
                            refusal,
                        },
                        other => other,
                    })?;
            }
        }
        let stream = statement_stream(finess, domain);
        let catalogue = self.catalogue.clone();
        let role = access.actor.role;
        let effective_at = self.effective_now().await?;
        let to_decide = commands.clone();
        let outcome = self
            .statements
            .execute_with_documents(
                &stream,
                request.expected_version,
                &request.metadata(&access.actor),
                &commands,
                documents,
                move |state: &Statement, _| {
                    let ctx = DecisionContext {
                        catalogue: catalogue.domain(domain),
                        candidate: &candidate,
                        effective_at,
                        role,
                    };
                    decide_batch(state, &ctx, &to_decide)
                },
            )
            .await?;
        Ok(CommandReport {
            version: outcome.version,
            appended: outcome.append.as_ref().is_some_and(|a| !a.replayed),
            statement: outcome.state,
        })
    }

    /// The instant the store will record a command decided now: never before the last recorded event
    /// (SPEC §8: payment commands take their date from the recorded time).
    pub(crate) async fn effective_now(&self) -> Result<DateTime<Utc>, LedgerError> {
        Ok(match self.store.head().await? {
            Some(head) => self
                .store
                .clock()
                .now()
                .max(DateTime::from_timestamp_micros(head.recorded_at_us).unwrap_or_default()),
            None => self.store.clock().now(),
        })
    }

    pub(crate) fn catalogue_arc(&self) -> Arc<Catalogue> {
        self.catalogue.clone()
    }

    /// The statement's Excel template (`.xlsx` bytes) now or as of an instant, for this viewer, read
    /// at the ledger's current head (unsigned; see [`Ledger::export_template_signed`]).
    pub async fn export_template(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<(Vec<u8>, crate::template::TemplateModel), LedgerError> {
        self.export_template_signed(access, finess, domain, as_of, None)
            .await
    }

    /// The workbook model of a statement: it reflects the statement's last event (position and
    /// global hash), so a workbook goes stale only when this statement changes.
    pub async fn template_model(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<crate::template::TemplateModel, LedgerError> {
        let view = self.statement(access, finess, domain, as_of).await?;
        let bound = ReadBound {
            up_to_version: Some(view.version),
            as_of,
        };
        let last = self
            .store
            .read_stream(&view.stream_id, bound)
            .await?
            .pop()
            .ok_or_else(|| LedgerError::NotFound(format!("état financier {finess} {domain}")))?;
        Ok(super::template_map::template_model(
            &view,
            self.catalogue.domain(domain),
            access.actor.role,
            last.position,
            &last.global_hash,
            last.position,
            self.store.clock().now(),
        ))
    }

    /// Imports a filled template: lines added are declared, changed lines corrected, cleared lines
    /// withdrawn, all in one transaction; any error in the file or any refusal appends nothing.
    pub async fn import_template(
        &self,
        access: &Access,
        bytes: &[u8],
        dry_run: bool,
        request: &RequestMeta,
    ) -> Result<TemplateImportOutcome, LedgerError> {
        let (finess_text, domain_text) = crate::template::import::peek_identity(bytes)
            .map_err(|e| LedgerError::Template(vec![e]))?;
        let cell_error = |cell: &str, message: String| {
            LedgerError::Template(vec![crate::template::CellError {
                sheet: "Synthèse".into(),
                cell: cell.into(),
                message_fr: message,
            }])
        };
        let finess = Finess::parse(&finess_text).map_err(|e| cell_error("B3", e.to_string()))?;
        let domain = DomainId::parse(&domain_text).map_err(|e| cell_error("B4", e.to_string()))?;
        let model = self.template_model(access, &finess, domain, None).await?;
        let changes =
            crate::template::import_workbook(bytes, &model).map_err(LedgerError::Template)?;
        let commands = super::template_map::commands_of(&changes);
        if dry_run && !commands.is_empty() {
            // Every check of the real import (access, role, submission lock, each command's rules,
            // If-Match), decided inside the write transaction; nothing is appended.
            let version = self
                .dry_run_batch(access, &finess, domain, commands.clone(), request)
                .await?;
            return Ok(TemplateImportOutcome {
                finess,
                domain,
                commands,
                applied: false,
                version,
            });
        }
        if commands.is_empty() {
            let (version, _) = self
                .statements
                .load(&statement_stream(&finess, domain))
                .await?;
            return Ok(TemplateImportOutcome {
                finess,
                domain,
                commands,
                applied: false,
                version,
            });
        }
        let mut request = request.clone();
        if request.expected_version.is_none() {
            request.expected_version = Some(
                self.statements
                    .load(&statement_stream(&finess, domain))
                    .await?
                    .0,
            );
        }
        let (version, _) = self
            .execute_batch(access, &finess, domain, commands.clone(), &request)
            .await?;
        Ok(TemplateImportOutcome {
            finess,
            domain,
            commands,
            applied: true,
            version,
        })
    }

    /// The statement now (read model) or as of an instant (replay), with its figures and the flags
    /// this access may see.
    pub async fn statement(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<StatementView, LedgerError> {
        match as_of {
            None => Ok(self
                .current_view(access, finess, domain)
                .await?
                .view_for(access.actor.role)
                .clone()),
            Some(instant) => self.statement_as_of(access, finess, domain, instant).await,
        }
    }

    /// The current statement as JSON for this access (what `GET /api/statements/{finess}/{domain}`
    /// answers), with its version: from the read model, computed and serialised once per change of
    /// anything it depends on, then a lookup.
    pub async fn statement_json(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
    ) -> Result<(i64, Arc<[u8]>), LedgerError> {
        let cached = self.current_view(access, finess, domain).await?;
        let json = cached
            .json_for(access.actor.role)
            .map_err(|e| LedgerError::View(e.to_string()))?;
        Ok((cached.view.version, json))
    }

    /// The current view from the read models: reused while the statement, the candidate base, the
    /// candidate's payroll book and the other statements' invoices that could duplicate its own are
    /// unchanged; computed (subsidy, flags) otherwise. No database access unless a write acknowledged
    /// in this process is not applied yet.
    async fn current_view(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
    ) -> Result<Arc<CachedView>, LedgerError> {
        let not_found_candidate = || LedgerError::NotFound(format!("candidat {finess}"));
        if !access.may_see(finess) {
            return Err(not_found_candidate());
        }
        self.models.ensure_fresh().await?;
        let base = self
            .models
            .candidates
            .snapshot(CANDIDATES_STREAM)
            .ok_or_else(not_found_candidate)?;
        let candidate = base
            .state
            .candidates
            .get(finess)
            .ok_or_else(not_found_candidate)?;
        let stream = statement_stream(finess, domain);
        let statement = self
            .models
            .statements
            .snapshot(&stream)
            .filter(|s| s.version > 0)
            .ok_or_else(|| LedgerError::NotFound(format!("état financier {finess} {domain}")))?;
        let payroll = self
            .models
            .payroll
            .snapshot(&super::payroll_service::payroll_stream(finess));
        let mut key = ViewKey {
            statement_version: statement.version,
            candidates_version: base.version,
            payroll_version: payroll.as_ref().map(|p| p.version).unwrap_or(0),
            invoices_generation: self.models.invoices_generation(&stream),
        };
        if let Some(cached) = self.models.view(&stream) {
            if cached.key == key {
                return Ok(cached);
            }
        }
        let (generation, other_invoices) =
            self.models
                .foreign_invoices(&stream, finess, &statement.state);
        key.invoices_generation = generation;
        let (payroll_recaps, anonymisation_key) = payroll
            .as_ref()
            .map(|p| super::payroll_service::payroll_flag_inputs_of(&p.state))
            .unwrap_or_default();
        let view = self.view_of(
            candidate,
            domain,
            stream.clone(),
            statement.version,
            None,
            (*statement.state).clone(),
            FlagInputs {
                declaration_date: statement.state.declaration_date,
                payroll_recaps,
                anonymisation_key,
                other_invoices,
            },
        );
        let cached = Arc::new(CachedView::new(key, view));
        self.models.keep_view(&stream, cached.clone());
        Ok(cached)
    }

    /// The statement as it was at an instant: a replay of its stream up to it (the payroll documents
    /// and the other statements' invoices are the current ones, as for a current read).
    async fn statement_as_of(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        instant: DateTime<Utc>,
    ) -> Result<StatementView, LedgerError> {
        let candidate = self.candidate(access, finess).await?;
        let stream = statement_stream(finess, domain);
        let (version, state) = self
            .statements
            .load_as_of(&stream, ReadBound::as_of(instant))
            .await?;
        if version == 0 {
            return Err(LedgerError::NotFound(format!(
                "état financier {finess} {domain}"
            )));
        }
        let (payroll_recaps, anonymisation_key) = self.payroll_flag_inputs(finess).await?;
        self.models.ensure_fresh().await?;
        let (_, other_invoices) = self.models.foreign_invoices(&stream, finess, &state);
        let inputs = FlagInputs {
            declaration_date: state.declaration_date,
            payroll_recaps,
            anonymisation_key,
            other_invoices,
        };
        let mut view = self.view_of(
            &candidate,
            domain,
            stream,
            version,
            Some(instant),
            state,
            inputs,
        );
        if access.actor.role == Role::Etablissement {
            view.flags = statement::flags::establishment_view(view.flags);
        }
        Ok(view)
    }

    /// Figures and every flag of a statement state (pure).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn view_of(
        &self,
        candidate: &Candidate,
        domain: DomainId,
        stream_id: String,
        version: i64,
        as_of: Option<DateTime<Utc>>,
        state: Statement,
        inputs: FlagInputs,
    ) -> StatementView {
        let catalogue = self.catalogue.domain(domain);
        let subsidy = compute_subsidy(&state, catalogue, candidate).map_err(|e| e.to_string());
        let all_flags = flags(&state, catalogue, candidate, &inputs);
        let checklist = statement::document_checklist(&state, catalogue, candidate, &inputs);
        StatementView {
            candidate: candidate.clone(),
            domain,
            stream_id,
            version,
            as_of,
            statement: state,
            subsidy,
            flags: all_flags,
            checklist,
        }
    }

    /// Every statement stream this access may see: (candidate, domain).
    pub async fn statements(
        &self,
        access: &Access,
    ) -> Result<Vec<(Finess, DomainId)>, LedgerError> {
        self.models.ensure_fresh().await?;
        let mut out = Vec::new();
        for (_, cached) in self.statements.snapshots() {
            let statement = &cached.state;
            if let (Some(candidate), Some(domain)) = (&statement.candidate, statement.domain) {
                if access.may_see(candidate) {
                    out.push((candidate.clone(), domain));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Decides commands in order on the evolving state: every event, or the first refusal with its position
/// (1-based). The one decision path of a batch, for its real run and its dry run.
pub(crate) fn decide_batch(
    state: &Statement,
    ctx: &DecisionContext<'_>,
    commands: &[StatementCommand],
) -> Result<Vec<StatementEvent>, BatchRefusal> {
    let refused = |index: usize, name: &'static str| {
        move |refusal| BatchRefusal {
            index,
            command: name,
            refusal,
        }
    };
    if let [command] = commands {
        // One command: decided on the state as it is (no working copy to evolve).
        let mut command = command.clone();
        statement::assign_line_id(&mut command, state);
        let name = command.name();
        return decide(state, ctx, command).map_err(refused(1, name));
    }
    let mut working = state.clone();
    let mut all = Vec::new();
    for (index, command) in commands.iter().enumerate() {
        let mut command = command.clone();
        statement::assign_line_id(&mut command, &working);
        let name = command.name();
        let events = decide(&working, ctx, command).map_err(refused(index + 1, name))?;
        for e in &events {
            working.apply(e);
        }
        all.extend(events);
    }
    Ok(all)
}

/// A view's subsidy in JSON: the figures themselves, or `{"error": "…"}` when they cannot be computed
/// (never Rust's `{"Ok": …}` / `{"Err": …}`).
fn subsidy_json<S: serde::Serializer>(
    subsidy: &Result<SubsidyReport, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct NotComputable<'a> {
        error: &'a str,
    }
    match subsidy {
        Ok(report) => report.serialize(serializer),
        Err(error) => NotComputable { error }.serialize(serializer),
    }
}

/// `file : message`, unless the message already starts with the file's name (a CSV cell reference does).
fn invalid_file_text(file: &str, message: &str) -> String {
    if message.starts_with(file) {
        message.to_string()
    } else {
        format!("{file} : {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subsidy_that_cannot_be_computed_is_an_error_object_in_json() {
        #[derive(Serialize)]
        struct View {
            #[serde(serialize_with = "subsidy_json")]
            subsidy: Result<SubsidyReport, String>,
        }
        let view = View {
            subsidy: Err("barème de décote non publié pour D2".into()),
        };
        assert_eq!(
            serde_json::to_value(&view).unwrap(),
            serde_json::json!({"subsidy": {"error": "barème de décote non publié pour D2"}})
        );
    }

    #[test]
    fn a_refused_file_is_named_once() {
        let csv = LedgerError::InvalidFile {
            file: "recap.csv".into(),
            message: "recap.csv ligne 6 colonne 3 (C) : montant ambigu \"1.234\"".into(),
        };
        assert_eq!(
            csv.to_string(),
            "recap.csv ligne 6 colonne 3 (C) : montant ambigu \"1.234\""
        );
        let xlsx = LedgerError::InvalidFile {
            file: "recap.xlsx".into(),
            message: "Feuil1!C12 : nombre illisible \"x\"".into(),
        };
        assert_eq!(
            xlsx.to_string(),
            "recap.xlsx : Feuil1!C12 : nombre illisible \"x\""
        );
    }
}
