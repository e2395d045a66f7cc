//! From a statement view of the ledger to the Excel template's model, and from a filled template's
//! changes back to statement commands.

use super::ledger::{
    decide_batch, statement_stream, Access, BatchRefusal, Ledger, LedgerError, RequestMeta,
    StatementView,
};
use super::repository::CommandError;
use crate::actor::Role;
use crate::domain::catalogue::DomainCatalogue;
use crate::domain::statement::{
    DecisionContext, ExternalCostInput, InternalCostInput, OtherCostInput, ReceiptInput,
    StatementCommand,
};
use crate::domain::{DomainId, Finess, Money};
use crate::store::StoreError;
use crate::template::import::{LineFields, TemplateChange};
use crate::template::model::{CostType, TemplateModel, ViewerRole};
use crate::template::source::{model_of, Provenance, StatementSource};
use chrono::{DateTime, Utc};

fn cost_type_text(c: &CostType) -> String {
    match c {
        CostType::Investment => "investissement".into(),
        CostType::Recurring => "recurrent".into(),
    }
}

pub fn viewer_of(role: Role) -> ViewerRole {
    match role {
        Role::Etablissement => ViewerRole::Establishment,
        Role::Paiement => ViewerRole::PaymentDesk,
        Role::Controleur | Role::Admin => ViewerRole::Controller,
    }
}

/// The workbook model of a statement view, for this viewer: every figure from the domain (see
/// [`crate::template::source`]).
pub fn template_model(
    view: &StatementView,
    catalogue: &DomainCatalogue,
    viewer: Role,
    ledger_position: i64,
    head_hash: &str,
    read_position: i64,
    generated_at: DateTime<Utc>,
) -> TemplateModel {
    let source = StatementSource {
        candidate: &view.candidate,
        domain: view.domain,
        catalogue,
        statement: &view.statement,
        subsidy: view.subsidy.as_ref().map_err(|e| e.as_str()),
        flags: &view.flags,
        checklist: &view.checklist,
        as_of: view.as_of,
    };
    model_of(
        &source,
        Provenance {
            viewer: viewer_of(viewer),
            ledger_position: u64::try_from(ledger_position).unwrap_or(0),
            head_hash: head_hash.to_string(),
            read_position: u64::try_from(read_position).unwrap_or(0),
            generated_at,
        },
    )
}

fn amount_text(m: Money) -> String {
    m.to_plain_string()
}

fn date_text(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The statement commands a template import asks for. Declarations get fresh line ids from the ledger;
/// corrections keep the line's id; cleared lines are withdrawn.
pub fn commands_of(changes: &[TemplateChange]) -> Vec<StatementCommand> {
    let mut commands = Vec::new();
    for change in changes {
        let (line_id, fields) = match change {
            TemplateChange::Withdraw { line_id, .. } => {
                commands.push(StatementCommand::WithdrawLine {
                    line_id: line_id.clone(),
                    reason: "ligne effacée dans la trame importée".into(),
                });
                continue;
            }
            TemplateChange::Declare { fields, .. } => (String::new(), fields),
            TemplateChange::Correct { line_id, fields } => (line_id.clone(), fields),
        };
        let correct = matches!(change, TemplateChange::Correct { .. });
        let command = match fields {
            LineFields::Internal(f) => {
                let input = InternalCostInput {
                    line_id,
                    matricule: f.matricule.to_string(),
                    year: f.year.to_string(),
                    objective: f.objective.to_string(),
                    nature: "COUTS_INTERNES".into(),
                    contribution: f.contribution.clone(),
                    gross_annualised: amount_text(f.gross),
                    employer_charges: amount_text(f.charges),
                    non_eligible_gross: amount_text(f.ne_gross),
                    hours_productive: f.hours_productive.normalize().to_string(),
                    hours_on_action: f.hours_on_action.normalize().to_string(),
                };
                if correct {
                    StatementCommand::CorrectInternalCost(input)
                } else {
                    StatementCommand::DeclareInternalCost(input)
                }
            }
            LineFields::External(f) => {
                let input = ExternalCostInput {
                    line_id,
                    cost_type: cost_type_text(&f.cost_type),
                    order_date: date_text(f.order_date),
                    invoice_date: date_text(Some(f.invoice_date)),
                    order_number: f.order_number.clone(),
                    invoice_number: f.invoice_number.clone(),
                    supplier: f.supplier.clone(),
                    service_label: f.label.clone(),
                    amount: amount_text(f.amount),
                    nature: f.nature.clone(),
                    objective: f.objective.to_string(),
                    contribution: f.contribution.clone(),
                };
                if correct {
                    StatementCommand::CorrectExternalCost(input)
                } else {
                    StatementCommand::DeclareExternalCost(input)
                }
            }
            LineFields::Other(f) => {
                let input = OtherCostInput {
                    line_id,
                    cost_type: cost_type_text(&f.cost_type),
                    amount: amount_text(f.amount),
                    date: date_text(Some(f.date)),
                    supplier: f.supplier.clone(),
                    label: f.label.clone(),
                    nature: f.nature.clone(),
                    objective: f.objective.to_string(),
                    contribution: f.contribution.clone(),
                };
                if correct {
                    StatementCommand::CorrectOtherCost(input)
                } else {
                    StatementCommand::DeclareOtherCost(input)
                }
            }
            LineFields::Receipt(f) => {
                let input = ReceiptInput {
                    line_id,
                    group: f.group.to_string(),
                    provenance: f.nature_provenance.clone(),
                    amount: amount_text(f.amount),
                };
                if correct {
                    StatementCommand::CorrectReceipt(input)
                } else {
                    StatementCommand::DeclareReceipt(input)
                }
            }
        };
        commands.push(command);
    }
    commands
}

/// How a dry run ends inside the write transaction: decided (and rolled back), or refused.
#[derive(Debug, thiserror::Error)]
enum DryRun {
    #[error("simulation : {events} événement(s) seraient enregistrés, rien ne l'est")]
    Decided { version: i64, events: usize },
    #[error(transparent)]
    Refused(BatchRefusal),
}

impl Ledger {
    /// Runs a batch of statement commands as the real run does — access, the caller's role, the
    /// statement's state caught up inside the write transaction, If-Match, every command's rules —
    /// and appends nothing: the decision ends the job with an error, so its savepoint is rolled back.
    /// Answers the stream version the commands were decided on.
    pub(crate) async fn dry_run_batch(
        &self,
        access: &Access,
        finess: &Finess,
        domain: DomainId,
        commands: Vec<StatementCommand>,
        request: &RequestMeta,
    ) -> Result<i64, LedgerError> {
        let candidate = self.candidate(access, finess).await?;
        let stream = statement_stream(finess, domain);
        let catalogue = self.catalogue_arc();
        let role = access.actor.role;
        let effective_at = self.effective_now().await?;
        // No idempotency key: a dry run is never a replay of an earlier request, and records none.
        let mut metadata = request.metadata_for(&access.actor);
        metadata.idempotency_key = None;
        let to_decide = commands.clone();
        let outcome = self
            .statements
            .execute_with_documents(
                &stream,
                request.expected_version,
                &metadata,
                &commands,
                &[],
                move |state: &crate::domain::statement::Statement, version| {
                    let ctx = DecisionContext {
                        catalogue: catalogue.domain(domain),
                        candidate: &candidate,
                        effective_at,
                        role,
                    };
                    Err::<Vec<_>, _>(match decide_batch(state, &ctx, &to_decide) {
                        Ok(events) => DryRun::Decided {
                            version,
                            events: events.len(),
                        },
                        Err(refusal) => DryRun::Refused(refusal),
                    })
                },
            )
            .await;
        match outcome {
            Err(CommandError::Rejected(DryRun::Decided { version, .. })) => Ok(version),
            Err(CommandError::Rejected(DryRun::Refused(b))) => Err(LedgerError::RefusedAt {
                index: b.index,
                command: b.command,
                refusal: b.refusal,
            }),
            Err(CommandError::Store(store)) => Err(LedgerError::Store(store)),
            Err(CommandError::Decode { position, reason }) => {
                Err(LedgerError::Store(StoreError::Corrupt { position, reason }))
            }
            // The decision always ends the job with an error: nothing can have been appended.
            Ok(outcome) => Ok(outcome.version),
        }
    }
}
