//! Command-line operations on the catalogue, the candidate base and the statements (one subcommand per
//! operation, each with `--as ROLE:ID`), so everything can be done without the HTTP API.

use crate::actor::{Actor, Role};
use crate::app::{Access, Ledger, RequestMeta, StatementView};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::attainment::Evidence;
use crate::domain::statement::{
    recorded_status, AttainmentInput, ExternalCostInput, InternalCostInput, LineContent,
    OtherCostInput, ReceiptInput, Statement, StatementCommand,
};
use crate::domain::{DomainId, Finess};
use crate::store::EventStore;
use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum CatalogueCmd {
    /// Records the catalogue files in force (fixtures/domains or catalogue_dir) in the ledger.
    Load {
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CandidatesCmd {
    /// Imports the candidate base from a CSV or XLSX file (all rows checked before anything is written).
    Import {
        file: PathBuf,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
    },
    /// Lists the candidates.
    List,
}

/// The statement a command acts on, and who acts.
#[derive(Debug, Args)]
pub struct Target {
    /// FINESS juridique of the candidate.
    #[arg(long)]
    pub candidate: String,
    /// D1bis or D2.
    #[arg(long)]
    pub domain: String,
    #[arg(long = "as", value_name = "ROLE:ID")]
    pub actor: String,
    /// Idempotency key: the same command twice is applied once.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Expected stream version (refused with a conflict when the statement moved on).
    #[arg(long)]
    pub if_match: Option<i64>,
    /// Free comment kept in the event's metadata.
    #[arg(long)]
    pub comment: Option<String>,
}

#[derive(Debug, Args)]
pub struct InternalArgs {
    #[arg(long, default_value = "")]
    pub line_id: String,
    #[arg(long)]
    pub matricule: String,
    #[arg(long)]
    pub year: String,
    #[arg(long)]
    pub objective: String,
    #[arg(long, default_value = "COUTS_INTERNES")]
    pub nature: String,
    #[arg(long)]
    pub contribution: String,
    /// SALAIRE BRUT ANNUELISE (sans prorata), e.g. "55 631,25".
    #[arg(long, allow_hyphen_values = true)]
    pub gross: String,
    /// CHARGES PATRONALES (sans prorata).
    #[arg(long, allow_hyphen_values = true)]
    pub charges: String,
    /// Gross paid as non-eligible elements (blank: none).
    #[arg(long, default_value = "")]
    pub non_eligible_gross: String,
    #[arg(long)]
    pub hours_productive: String,
    #[arg(long, allow_hyphen_values = true)]
    pub hours: String,
}

impl From<InternalArgs> for InternalCostInput {
    fn from(a: InternalArgs) -> Self {
        InternalCostInput {
            line_id: a.line_id,
            matricule: a.matricule,
            year: a.year,
            objective: a.objective,
            nature: a.nature,
            contribution: a.contribution,
            gross_annualised: a.gross,
            employer_charges: a.charges,
            non_eligible_gross: a.non_eligible_gross,
            hours_productive: a.hours_productive,
            hours_on_action: a.hours,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExternalArgs {
    #[arg(long, default_value = "")]
    pub line_id: String,
    /// investissement or recurrent.
    #[arg(long)]
    pub cost_type: String,
    #[arg(long)]
    pub order_date: String,
    #[arg(long)]
    pub invoice_date: String,
    #[arg(long)]
    pub order_number: String,
    #[arg(long)]
    pub invoice_number: String,
    #[arg(long)]
    pub supplier: String,
    #[arg(long)]
    pub service_label: String,
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
    #[arg(long)]
    pub nature: String,
    #[arg(long)]
    pub objective: String,
    #[arg(long)]
    pub contribution: String,
}

impl From<ExternalArgs> for ExternalCostInput {
    fn from(a: ExternalArgs) -> Self {
        ExternalCostInput {
            line_id: a.line_id,
            cost_type: a.cost_type,
            order_date: a.order_date,
            invoice_date: a.invoice_date,
            order_number: a.order_number,
            invoice_number: a.invoice_number,
            supplier: a.supplier,
            service_label: a.service_label,
            amount: a.amount,
            nature: a.nature,
            objective: a.objective,
            contribution: a.contribution,
        }
    }
}

#[derive(Debug, Args)]
pub struct OtherArgs {
    #[arg(long, default_value = "")]
    pub line_id: String,
    #[arg(long)]
    pub cost_type: String,
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
    #[arg(long)]
    pub date: String,
    #[arg(long)]
    pub supplier: String,
    #[arg(long)]
    pub label: String,
    #[arg(long)]
    pub nature: String,
    #[arg(long)]
    pub objective: String,
    #[arg(long)]
    pub contribution: String,
}

impl From<OtherArgs> for OtherCostInput {
    fn from(a: OtherArgs) -> Self {
        OtherCostInput {
            line_id: a.line_id,
            cost_type: a.cost_type,
            amount: a.amount,
            date: a.date,
            supplier: a.supplier,
            label: a.label,
            nature: a.nature,
            objective: a.objective,
            contribution: a.contribution,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReceiptArgs {
    #[arg(long, default_value = "")]
    pub line_id: String,
    /// Objective group, e.g. D1.O1 (D1.01 accepted).
    #[arg(long)]
    pub group: String,
    /// Nature / provenance of the receipt.
    #[arg(long)]
    pub provenance: String,
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
}

impl From<ReceiptArgs> for ReceiptInput {
    fn from(a: ReceiptArgs) -> Self {
        ReceiptInput {
            line_id: a.line_id,
            group: a.group,
            provenance: a.provenance,
            amount: a.amount,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StatementCmd {
    /// Opens the statement of a candidate for a domain.
    Open {
        #[command(flatten)]
        target: Target,
    },
    /// Declares an internal cost line (one employee, one year).
    DeclareInternal {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: InternalArgs,
    },
    /// Declares an external invoice.
    DeclareExternal {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: ExternalArgs,
    },
    /// Declares another cost.
    DeclareOther {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: OtherArgs,
    },
    /// Declares a receipt from another scheme.
    DeclareReceipt {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: ReceiptArgs,
    },
    /// Supersedes an internal cost line (--line-id required).
    CorrectInternal {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: InternalArgs,
    },
    CorrectExternal {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: ExternalArgs,
    },
    CorrectOther {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: OtherArgs,
    },
    CorrectReceipt {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        line: ReceiptArgs,
    },
    /// Withdraws a line (kept in history).
    Withdraw {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        line_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Records an objective's attainment (controller).
    Attainment {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        objective: String,
        /// unknown | attained | not_attained (inconnu | atteint | non_atteint).
        #[arg(long)]
        status: String,
        /// Coverage of the combined activity in % (D1.O1.B, D1.O2.B).
        #[arg(long, default_value = "")]
        coverage: String,
        #[arg(long)]
        reason: String,
    },
    /// Records the D1 bis audit evidence from a JSON file (controller); supersedes the earlier one.
    Evidence {
        #[command(flatten)]
        target: Target,
        /// JSON evidence (format: `domain::attainment::Evidence`, e.g. fixtures/evidence/*.json).
        #[arg(long)]
        file: PathBuf,
    },
    /// Computes the D1 bis objectives' attainment from the recorded evidence (controller).
    ComputeAttainment {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
    /// Submits the statement (lines are then locked for the establishment).
    Submit {
        #[command(flatten)]
        target: Target,
    },
    /// Reopens a submitted statement (controller).
    Reopen {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
    /// Reviews one line (controller): eligible, ineligible, partially_eligible, documents_requested.
    Review {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        line_id: String,
        #[arg(long)]
        decision: String,
        /// For ineligible: HORS_PERIODE, NATURE_NON_ELIGIBLE, DOUBLON, JUSTIFICATIF_ABSENT,
        /// SANS_LIEN_OBJECTIF, AUTRE.
        #[arg(long, default_value = "")]
        reason_code: String,
        /// The controller's comment on the line (required for ineligible).
        #[arg(long, default_value = "")]
        note: String,
        /// For partially_eligible: the amount retained.
        #[arg(long, default_value = "")]
        eligible_amount: String,
        /// For documents_requested: what is asked.
        #[arg(long, default_value = "")]
        documents_requested: String,
        /// For documents_requested: by when (date).
        #[arg(long, default_value = "")]
        documents_due: String,
    },
    /// Answers a controller's document request on a line (establishment).
    Answer {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        line_id: String,
        /// The establishment's answer.
        #[arg(long)]
        note: String,
        /// SHA-256 of the document provided (attached first with `documents attach`).
        #[arg(long, default_value = "")]
        document_sha256: String,
    },
    /// Orders a payment (payment desk); dated by the ledger's recorded time.
    Pay {
        #[command(flatten)]
        target: Target,
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long)]
        reference: String,
        #[arg(long, default_value = "")]
        payment_id: String,
    },
    /// Confirms a payment as disbursed (payment desk).
    ConfirmPayment {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        payment_id: String,
        #[arg(long)]
        bank_reference: String,
        /// The bank's value date (informational).
        #[arg(long, default_value = "")]
        value_date: String,
    },
    /// Cancels a payment order not yet disbursed (payment desk).
    CancelPayment {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        payment_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Issues a recovery order for an overpayment (payment desk).
    RecoveryOrder {
        #[command(flatten)]
        target: Target,
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "")]
        recovery_id: String,
    },
    /// Records money received on a recovery order (payment desk).
    RecoveryReceived {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        recovery_id: String,
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long)]
        bank_reference: String,
    },
    /// Shows the statement, its figures and flags, now or as of a date.
    Show {
        #[arg(long)]
        candidate: String,
        #[arg(long)]
        domain: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
        #[arg(long)]
        as_of: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn open_ledger(config: &Config) -> anyhow::Result<Ledger> {
    let store = EventStore::open(&config.database_url, Arc::new(SystemClock))
        .await
        .with_context(|| {
            format!(
                "cannot open the ledger {}",
                crate::store::redact(&config.database_url)
            )
        })?;
    let (catalogue, _) = crate::demo::load_catalogue(&config.catalogue_dir)?;
    Ok(Ledger::open(store, catalogue).await?)
}

pub(crate) fn request(target: &Target) -> RequestMeta {
    RequestMeta {
        request_id: format!("cli-{}", uuid::Uuid::new_v4()),
        idempotency_key: target.idempotency_key.clone(),
        expected_version: target.if_match,
        comment: target.comment.clone(),
    }
}

pub(crate) fn access_for(actor_text: &str, candidate: &Finess) -> anyhow::Result<Access> {
    let actor = crate::cli::parse_actor(actor_text)?;
    // On the command line an establishment acts for the candidate it names (the HTTP API binds it to
    // the token instead).
    let bound = (actor.role == Role::Etablissement).then(|| candidate.clone());
    Ok(Access::new(actor, bound))
}

pub(crate) fn parse_target(candidate: &str, domain: &str) -> anyhow::Result<(Finess, DomainId)> {
    let finess = Finess::parse(candidate).map_err(|e| anyhow!("--candidate: {e}"))?;
    let domain = DomainId::parse(domain).map_err(|e| anyhow!("--domain: {e}"))?;
    Ok((finess, domain))
}

pub async fn catalogue(config: &Config, cmd: CatalogueCmd) -> anyhow::Result<()> {
    match cmd {
        CatalogueCmd::Load { actor } => {
            let actor: Actor = crate::cli::parse_actor(&actor)?;
            let ledger = open_ledger(config).await?;
            let files = crate::demo::read_catalogue_files(&config.catalogue_dir)?;
            let recorded = ledger
                .record_catalogue(
                    &actor,
                    &RequestMeta::new(format!("cli-{}", uuid::Uuid::new_v4())),
                    &files,
                )
                .await?;
            if recorded.is_empty() {
                println!("catalogue déjà en vigueur : rien à enregistrer");
            } else {
                for d in recorded {
                    println!("catalogue {d} enregistré");
                }
            }
            Ok(())
        }
    }
}

pub async fn candidates(config: &Config, cmd: CandidatesCmd) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    match cmd {
        CandidatesCmd::Import { file, actor } => {
            let actor = crate::cli::parse_actor(&actor)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let summary = ledger
                .import_candidates(
                    &actor,
                    &RequestMeta::new(format!("cli-{}", uuid::Uuid::new_v4())),
                    &name,
                    &bytes,
                )
                .await?;
            println!(
                "{} : {} nouveaux, {} mis à jour, {} inchangés (sha256 {})",
                file.display(),
                summary.registered.len(),
                summary.updated.len(),
                summary.unchanged.len(),
                summary.source_sha256
            );
        }
        CandidatesCmd::List => {
            let admin = Access::new(Actor::new(Role::Admin, "cli")?, None);
            for c in ledger.candidates(&admin).await? {
                let domains: Vec<String> = c
                    .domains
                    .iter()
                    .map(|(d, cd)| format!("{d} plafond {}", cd.ceiling.to_french()))
                    .collect();
                println!(
                    "{}  {:<45} {:<14} {}",
                    c.finess,
                    c.name,
                    c.kind.as_str(),
                    domains.join(", ")
                );
            }
        }
    }
    Ok(())
}

pub async fn statement(config: &Config, cmd: StatementCmd) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    let (target, command) = match cmd {
        StatementCmd::Show {
            candidate,
            domain,
            actor,
            as_of,
            json,
        } => {
            let (finess, domain) = parse_target(&candidate, &domain)?;
            let access = access_for(&actor, &finess)?;
            let as_of = as_of.as_deref().map(crate::cli::parse_as_of).transpose()?;
            let view = ledger.statement(&access, &finess, domain, as_of).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_view(&view);
            }
            return Ok(());
        }
        StatementCmd::Open { target } => (target, StatementCommand::OpenStatement),
        StatementCmd::DeclareInternal { target, line } => {
            (target, StatementCommand::DeclareInternalCost(line.into()))
        }
        StatementCmd::DeclareExternal { target, line } => {
            (target, StatementCommand::DeclareExternalCost(line.into()))
        }
        StatementCmd::DeclareOther { target, line } => {
            (target, StatementCommand::DeclareOtherCost(line.into()))
        }
        StatementCmd::DeclareReceipt { target, line } => {
            (target, StatementCommand::DeclareReceipt(line.into()))
        }
        StatementCmd::CorrectInternal { target, line } => {
            (target, StatementCommand::CorrectInternalCost(line.into()))
        }
        StatementCmd::CorrectExternal { target, line } => {
            (target, StatementCommand::CorrectExternalCost(line.into()))
        }
        StatementCmd::CorrectOther { target, line } => {
            (target, StatementCommand::CorrectOtherCost(line.into()))
        }
        StatementCmd::CorrectReceipt { target, line } => {
            (target, StatementCommand::CorrectReceipt(line.into()))
        }
        StatementCmd::Withdraw {
            target,
            line_id,
            reason,
        } => (target, StatementCommand::WithdrawLine { line_id, reason }),
        StatementCmd::Attainment {
            target,
            objective,
            status,
            coverage,
            reason,
        } => (
            target,
            StatementCommand::RecordAttainment(AttainmentInput {
                objective,
                status,
                coverage,
                reason,
            }),
        ),
        StatementCmd::Submit { target } => (target, StatementCommand::Submit),
        StatementCmd::Evidence { target, file } => (
            target,
            StatementCommand::RecordEvidence {
                evidence: read_evidence(&file)?,
            },
        ),
        StatementCmd::ComputeAttainment { target, reason } => {
            (target, StatementCommand::ComputeAttainment { reason })
        }
        StatementCmd::Review {
            target,
            line_id,
            decision,
            reason_code,
            note,
            eligible_amount,
            documents_requested,
            documents_due,
        } => (
            target,
            StatementCommand::ReviewLine(crate::domain::statement::ReviewInput {
                line_id,
                decision,
                reason_code,
                comment: note,
                eligible_amount,
                documents_requested,
                documents_due,
            }),
        ),
        StatementCmd::Answer {
            target,
            line_id,
            note,
            document_sha256,
        } => (
            target,
            StatementCommand::AnswerDocumentRequest(
                crate::domain::statement::DocumentAnswerInput {
                    line_id,
                    comment: note,
                    document_sha256,
                    correction: None,
                },
            ),
        ),
        StatementCmd::Pay {
            target,
            amount,
            reference,
            payment_id,
        } => (
            target,
            StatementCommand::OrderPayment {
                payment_id,
                amount,
                reference,
            },
        ),
        StatementCmd::ConfirmPayment {
            target,
            payment_id,
            bank_reference,
            value_date,
        } => (
            target,
            StatementCommand::ConfirmDisbursement {
                payment_id,
                bank_reference,
                value_date,
            },
        ),
        StatementCmd::CancelPayment {
            target,
            payment_id,
            reason,
        } => (
            target,
            StatementCommand::CancelPayment { payment_id, reason },
        ),
        StatementCmd::RecoveryOrder {
            target,
            amount,
            reason,
            recovery_id,
        } => (
            target,
            StatementCommand::IssueRecoveryOrder {
                recovery_id,
                amount,
                reason,
            },
        ),
        StatementCmd::RecoveryReceived {
            target,
            recovery_id,
            amount,
            bank_reference,
        } => (
            target,
            StatementCommand::RecordRecoveryReceived {
                recovery_id,
                amount,
                bank_reference,
            },
        ),
        StatementCmd::Reopen { target, reason } => (target, StatementCommand::Reopen { reason }),
    };
    let (finess, domain) = parse_target(&target.candidate, &target.domain)?;
    let access = access_for(&target.actor, &finess)?;
    let name = command.name();
    let computes = matches!(command, StatementCommand::ComputeAttainment { .. });
    let (version, state) = ledger
        .execute(&access, &finess, domain, command, &request(&target))
        .await?;
    println!("{name} : enregistré (état financier {finess} {domain}, version {version})");
    if computes {
        print_computed(&state);
    }
    Ok(())
}

/// Largest evidence file read (TIGER_STYLE: a limit on everything).
const MAX_EVIDENCE_FILE_BYTES: u64 = 8 * 1024 * 1024;

fn read_evidence(path: &std::path::Path) -> anyhow::Result<Evidence> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_EVIDENCE_FILE_BYTES {
        return Err(anyhow!(
            "{} : {size} octets, au plus {MAX_EVIDENCE_FILE_BYTES}",
            path.display()
        ));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} : preuves illisibles", path.display()))
}

/// The computed verdicts (D1 bis) with their French explanations, and the attainment in force when a
/// controller overrode one.
fn print_computed(statement: &Statement) {
    if statement.computed.is_empty() {
        return;
    }
    println!("Atteinte calculée des objectifs (preuves d'audit) :");
    for (objective, v) in &statement.computed {
        let coverage = v
            .coverage
            .map(|c| format!(", couverture {}", c.to_french()))
            .unwrap_or_default();
        let in_force = statement.attainments.get(objective);
        let computed_status = recorded_status(v.status);
        let overridden = match (in_force, computed_status) {
            (Some(a), Some(c)) if a.status != c || a.coverage != v.coverage => format!(
                "  — en vigueur : {}{} (saisie du contrôleur : {})",
                a.status.label_fr(),
                a.coverage
                    .map(|c| format!(" {}", c.to_french()))
                    .unwrap_or_default(),
                a.reason
            ),
            _ => String::new(),
        };
        println!(
            "  {:<8} {}{coverage}{overridden}",
            objective.as_str(),
            v.status.label_fr()
        );
        for line in &v.explanation_fr {
            println!("           {line}");
        }
    }
}

/// The review in force on a cost line, as the controller and the establishment read it.
fn review_text(view: &StatementView, line: &crate::domain::statement::lines::Line) -> String {
    let latest = view.statement.latest_review(&line.id);
    match (line.retained, latest) {
        (Some(retained), Some(review)) => {
            let reason = review
                .reason_code
                .map(|r| format!(" ({})", r.code()))
                .unwrap_or_default();
            format!(
                "revue : {}{reason}, retenu {}",
                review.decision.label_fr(),
                retained.to_french()
            )
        }
        (None, Some(review)) if review.is_pending_request() => match &review.requested {
            Some(request) => format!(
                "pièces demandées : {} (avant le {})",
                request.what,
                request.due.format("%d/%m/%Y")
            ),
            None => "pièces demandées".to_string(),
        },
        (None, Some(review)) if review.answer.is_some() => {
            "pièces fournies, en attente de revue".to_string()
        }
        _ => "non revue".to_string(),
    }
}

fn print_view(view: &StatementView) {
    println!(
        "État financier {} — {} — {} (version {}{})",
        view.candidate.finess,
        view.candidate.name,
        view.domain.label_fr(),
        view.version,
        view.as_of
            .map(|t| format!(", au {}", t.to_rfc3339()))
            .unwrap_or_default()
    );
    println!("Statut : {}", view.statement.status.label_fr());
    println!("Lignes :");
    for line in view.statement.lines_in_order() {
        let kind = match &line.content {
            LineContent::Internal(_) => "coût interne",
            LineContent::External(_) => "coût externe",
            LineContent::Other(_) => "autre coût",
            LineContent::Receipt(_) => "recette",
        };
        let review = if line.withdrawn.is_some() {
            "(retirée)".to_string()
        } else if matches!(line.content, LineContent::Receipt(_)) {
            String::new()
        } else {
            review_text(view, line)
        };
        println!(
            "  {:<20} {:<13} {:<8} {:>14}  {review}",
            line.id.as_str(),
            kind,
            line.content.objective().as_str(),
            line.declared.to_french(),
        );
    }
    match &view.subsidy {
        Ok(s) => {
            println!("Déclaré            {:>16}", s.declared_total.to_french());
            println!("Éligible           {:>16}", s.eligible_total.to_french());
            println!("Recettes           {:>16}", s.receipts_total.to_french());
            println!("Net                {:>16}", s.net.to_french());
            println!("Plafond            {:>16}", s.ceiling.to_french());
            println!("Décote             {:>16}", s.decote.to_french());
            println!("Plafond après décote {:>14}", s.capped_ceiling.to_french());
            println!(
                "Subvention         {:>16}{}",
                s.subsidy.to_french(),
                if s.provisional { "  (provisoire)" } else { "" }
            );
            println!("Engagé             {:>16}", s.committed.to_french());
            println!("Versé              {:>16}", s.disbursed.to_french());
            println!("Recouvré           {:>16}", s.recovered.to_french());
            println!("Reste dû           {:>16}", s.due.to_french());
        }
        Err(reason) => println!("Subvention non calculable : {reason}"),
    }
    print_computed(&view.statement);
    let current = view
        .statement
        .documents
        .values()
        .filter(|d| d.is_current())
        .count();
    println!(
        "Pièces justificatives : {current} en vigueur, {} obligatoire(s) manquante(s) (détail : care-ledger documents list)",
        view.checklist.missing_required
    );
    if !view.flags.is_empty() {
        println!("Alertes :");
        for f in &view.flags {
            println!(
                "  [{}] {}{}",
                f.code,
                f.message_fr,
                f.line_id
                    .as_ref()
                    .map(|l| format!(" (ligne {})", l.as_str()))
                    .unwrap_or_default()
            );
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub candidate: String,
    #[arg(long)]
    pub domain: String,
    #[arg(long = "as", value_name = "ROLE:ID")]
    pub actor: String,
    /// A date (end of that day in Paris) or an RFC 3339 instant.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Output file (.xlsx).
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportTemplateArgs {
    /// A filled template (.xlsx) exported by the service.
    pub file: PathBuf,
    #[arg(long = "as", value_name = "ROLE:ID")]
    pub actor: String,
    /// For an establishment: the candidate it acts for (must be the workbook's).
    #[arg(long)]
    pub candidate: Option<String>,
    /// Print the changes without appending anything.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

pub async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    let (finess, domain) = parse_target(&args.candidate, &args.domain)?;
    let access = access_for(&args.actor, &finess)?;
    let as_of = args
        .as_of
        .as_deref()
        .map(crate::cli::parse_as_of)
        .transpose()?;
    let signer = crate::cli_proof::signer(config)?;
    let (bytes, model) = ledger
        .export_template_signed(&access, &finess, domain, as_of, signer.as_ref())
        .await?;
    crate::cli::write_new_file(&args.output, &bytes)?;
    if let Some(signer) = &signer {
        println!("classeur signé (clé {})", signer.public().key_id());
    }
    println!(
        "{} : trame de l'état financier {} {} (position {}, subvention {})",
        args.output.display(),
        finess,
        domain,
        model.ledger_position,
        model.summary.subsidy_fr(),
    );
    Ok(())
}

pub async fn import_template(config: &Config, args: ImportTemplateArgs) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    let actor = crate::cli::parse_actor(&args.actor)?;
    let bound = match (&args.candidate, actor.role) {
        (Some(c), _) => Some(Finess::parse(c).map_err(|e| anyhow!("--candidate: {e}"))?),
        (None, Role::Etablissement) => {
            return Err(anyhow!("--candidate : obligatoire pour un établissement"))
        }
        (None, _) => None,
    };
    let access = Access::new(
        actor.clone(),
        bound.filter(|_| actor.role == Role::Etablissement),
    );
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut request = RequestMeta::new(format!("cli-{}", uuid::Uuid::new_v4()));
    request.idempotency_key = args.idempotency_key.clone();
    let outcome = ledger
        .import_template(&access, &bytes, args.dry_run, &request)
        .await?;
    if outcome.commands.is_empty() {
        println!("{} : aucune modification", args.file.display());
        return Ok(());
    }
    for command in &outcome.commands {
        println!("  {}", describe(command));
    }
    if outcome.applied {
        println!(
            "{} modification(s) enregistrée(s) (état financier {} {}, version {})",
            outcome.commands.len(),
            outcome.finess,
            outcome.domain,
            outcome.version
        );
    } else {
        println!(
            "{} modification(s) (simulation : rien n'est enregistré)",
            outcome.commands.len()
        );
    }
    Ok(())
}

fn describe(command: &StatementCommand) -> String {
    match command {
        StatementCommand::DeclareInternalCost(i) => {
            format!(
                "déclaration coût interne {} {} {}",
                i.matricule, i.year, i.objective
            )
        }
        StatementCommand::DeclareExternalCost(i) => format!(
            "déclaration facture {} {} : {}",
            i.supplier, i.invoice_number, i.amount
        ),
        StatementCommand::DeclareOtherCost(i) => {
            format!("déclaration autre coût {} : {}", i.label, i.amount)
        }
        StatementCommand::DeclareReceipt(i) => {
            format!("déclaration recette {} : {}", i.group, i.amount)
        }
        StatementCommand::CorrectInternalCost(i) => format!("correction de la ligne {}", i.line_id),
        StatementCommand::CorrectExternalCost(i) => {
            format!(
                "correction de la ligne {} (montant {})",
                i.line_id, i.amount
            )
        }
        StatementCommand::CorrectOtherCost(i) => {
            format!(
                "correction de la ligne {} (montant {})",
                i.line_id, i.amount
            )
        }
        StatementCommand::CorrectReceipt(i) => {
            format!(
                "correction de la ligne {} (montant {})",
                i.line_id, i.amount
            )
        }
        StatementCommand::WithdrawLine { line_id, .. } => format!("retrait de la ligne {line_id}"),
        other => other.name().to_string(),
    }
}
