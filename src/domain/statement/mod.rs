//! The financial statement aggregate (SPEC.md §4–§8): one stream per candidate × domain.
//!
//! - `decide(&Statement, &DecisionContext, StatementCommand) -> Result<Vec<StatementEvent>, Refusal>`:
//!   validates a command against the state, the catalogue and the candidate; deterministic (no clock, no
//!   randomness: the effective time and the line ids come in).
//! - `Statement::apply(&mut self, &StatementEvent)`: never fails; `fold(events)` rebuilds the state.
//! - `flags(...)`: the controller's warnings, derived at read time from the state.
//! - `subsidy::compute_subsidy(...)`: the figures of SPEC.md §8.

pub mod commands;
pub mod declarations;
pub mod documents;
pub mod events;
pub mod evidence;
pub mod flags;
pub mod lines;
pub mod payments;
pub mod review;
pub mod subsidy;
pub mod what_if;

pub use commands::{
    assign_line_id, decide, parse_date, AttainmentInput, CorrectionInput, DecisionContext,
    DocumentAnswerInput, DocumentInput, ExternalCostInput, InternalCostInput, OtherCostInput,
    ReceiptInput, Refusal, ReviewInput, Role, StatementCommand, PLAUSIBLE_DATE_MAX,
    PLAUSIBLE_DATE_MIN,
};
pub use declarations::{parse_declarations, DeclarationFile, DeclarationStep, DeclarationsError};
pub use documents::{
    document_checklist, AttachedDocument, ChecklistEntry, ChecklistItem, DocumentChecklist,
    DocumentId, DocumentTarget, MediaType,
};
pub use events::{AttainmentStatus, StatementEvent, SCHEMA_VERSION_1};
pub use evidence::{attainment_context, evidence_field, recorded_status};
pub use flags::{flags, Flag, FlagInputs, ForeignInvoice, PayrollRecapSummary};
pub use lines::{
    CostType, ExternalCostLine, InternalCostLine, InternalCostRows, Line, LineContent, LineId,
    OtherCostLine, ReceiptLine,
};
pub use payments::{Payment, PaymentId, PaymentLedger, PaymentStatus, Recovery, RecoveryReceipt};
pub use review::{
    DocumentAnswer, DocumentRequest, IneligibilityReason, LineReview, ReviewDecision,
};
pub use subsidy::{
    compute_subsidy, compute_subsidy_with_payments, decote_percent, PaymentTotals, SubsidyError,
    SubsidyReport,
};

use crate::domain::attainment::{Evidence, ExposureTier, Status};
use crate::domain::ids::{DomainId, Finess, ObjectiveCode};
use crate::domain::money::Percent;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementStatus {
    #[default]
    NotOpened,
    /// Open, the establishment declares.
    Draft,
    /// Submitted: lines locked for the establishment until a controller reopens.
    Submitted,
    /// Reopened by a controller: the establishment may change lines again.
    Reopened,
}

impl StatementStatus {
    pub fn label_fr(self) -> &'static str {
        match self {
            StatementStatus::NotOpened => "non ouvert",
            StatementStatus::Draft => "en brouillon",
            StatementStatus::Submitted => "soumis",
            StatementStatus::Reopened => "rouvert",
        }
    }

    /// Whether the establishment may declare, correct or withdraw lines.
    pub fn is_editable(self) -> bool {
        matches!(self, StatementStatus::Draft | StatementStatus::Reopened)
    }
}

/// An objective's recorded attainment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attainment {
    pub status: AttainmentStatus,
    pub coverage: Option<Percent>,
    pub reason: String,
}

/// A verdict computed from the audit evidence (D1 bis), kept next to the attainment in force so that a
/// controller's later override does not hide it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputedVerdict {
    pub status: Status,
    pub coverage: Option<Percent>,
    pub tier: Option<ExposureTier>,
    pub explanation_fr: Vec<String>,
    pub detail: serde_json::Value,
    pub reason: String,
}

/// The state of one statement, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Statement {
    pub candidate: Option<Finess>,
    pub domain: Option<DomainId>,
    pub status: StatementStatus,
    pub lines: BTreeMap<LineId, Line>,
    pub next_seq: u64,
    pub attainments: BTreeMap<ObjectiveCode, Attainment>,
    /// Last submission, kept after a reopening (the declaration date of the rules).
    pub submitted_at: Option<DateTime<Utc>>,
    pub declaration_date: Option<NaiveDate>,
    pub reopen_count: u32,
    /// Reviews per line, oldest first; the last one is the decision in force (SPEC.md §7).
    #[serde(default)]
    pub reviews: BTreeMap<LineId, Vec<LineReview>>,
    /// Payment and recovery orders (SPEC.md §8).
    #[serde(default)]
    pub payments: PaymentLedger,
    /// The audit evidence in force (the latest recorded), D1 bis.
    #[serde(default)]
    pub evidence: Option<Evidence>,
    /// The latest computed verdict per objective (D1 bis); `attainments` holds what is in force.
    #[serde(default)]
    pub computed: BTreeMap<ObjectiveCode, ComputedVerdict>,
    /// Supporting documents, superseded ones included (SPEC.md §7).
    #[serde(default)]
    pub documents: BTreeMap<DocumentId, AttachedDocument>,
    /// Number of events applied (the stream version).
    pub version: u64,
}

impl Statement {
    pub fn new() -> Statement {
        Statement::default()
    }

    /// Applies one event. Never fails: an event that does not fit the state (which `decide` never
    /// produces) is counted and otherwise ignored.
    pub fn apply(&mut self, event: &StatementEvent) {
        self.version += 1;
        match event {
            StatementEvent::StatementOpened {
                candidate, domain, ..
            } => {
                self.candidate = Some(candidate.clone());
                self.domain = Some(*domain);
                self.status = StatementStatus::Draft;
            }
            StatementEvent::InternalCostDeclared { line_id, line, .. } => {
                self.add_line(line_id, LineContent::Internal(line.clone()))
            }
            StatementEvent::ExternalCostDeclared { line_id, line, .. } => {
                self.add_line(line_id, LineContent::External(line.clone()))
            }
            StatementEvent::OtherCostDeclared { line_id, line, .. } => {
                self.add_line(line_id, LineContent::Other(line.clone()))
            }
            StatementEvent::ReceiptDeclared { line_id, line, .. } => {
                self.add_line(line_id, LineContent::Receipt(line.clone()))
            }
            StatementEvent::LineCorrected { line_id, line, .. } => {
                if let Some(existing) = self.lines.get_mut(line_id) {
                    existing.declared = line.declared_amount();
                    existing.content = line.clone();
                    existing.revision += 1;
                    // A correction invalidates an earlier review of the old content.
                    existing.retained = None;
                }
            }
            StatementEvent::LineWithdrawn {
                line_id, reason, ..
            } => {
                if let Some(existing) = self.lines.get_mut(line_id) {
                    existing.withdrawn = Some(reason.clone());
                }
            }
            StatementEvent::AttainmentRecorded {
                objective,
                status,
                coverage,
                reason,
                ..
            } => {
                self.attainments.insert(
                    objective.clone(),
                    Attainment {
                        status: *status,
                        coverage: *coverage,
                        reason: reason.clone(),
                    },
                );
            }
            StatementEvent::StatementSubmitted {
                submitted_at,
                declaration_date,
                ..
            } => {
                self.status = StatementStatus::Submitted;
                self.submitted_at = Some(*submitted_at);
                self.declaration_date = Some(*declaration_date);
            }
            StatementEvent::StatementReopened { .. } => {
                self.status = StatementStatus::Reopened;
                self.reopen_count += 1;
            }
            StatementEvent::LineReviewed {
                line_id,
                decision,
                reason_code,
                comment,
                retained_amount,
                requested,
                line_revision,
                reviewed_on,
                ..
            } => {
                if let Some(existing) = self.lines.get_mut(line_id) {
                    existing.retained = *retained_amount;
                    self.reviews
                        .entry(line_id.clone())
                        .or_default()
                        .push(LineReview {
                            decision: *decision,
                            reason_code: *reason_code,
                            comment: comment.clone(),
                            retained_amount: *retained_amount,
                            requested: requested.clone(),
                            reviewed_on: *reviewed_on,
                            line_revision: *line_revision,
                            answer: None,
                        });
                }
            }
            StatementEvent::DocumentRequestAnswered {
                line_id,
                comment,
                document_sha256,
                corrected,
                ..
            } => {
                if let Some(review) = self.reviews.get_mut(line_id).and_then(|r| r.last_mut()) {
                    review.answer = Some(DocumentAnswer {
                        comment: comment.clone(),
                        document_sha256: document_sha256.clone(),
                        corrected: *corrected,
                    });
                }
            }
            StatementEvent::PaymentOrdered {
                payment_id,
                amount,
                reference,
                ordered_on,
                ..
            } => {
                self.payments
                    .payments
                    .entry(payment_id.clone())
                    .or_insert_with(|| Payment {
                        id: payment_id.clone(),
                        amount: *amount,
                        reference: reference.clone(),
                        status: PaymentStatus::Ordered,
                        ordered_on: *ordered_on,
                        bank_reference: None,
                        value_date: None,
                        disbursed_on: None,
                        cancel_reason: None,
                        cancelled_on: None,
                    });
            }
            StatementEvent::PaymentDisbursed {
                payment_id,
                bank_reference,
                value_date,
                disbursed_on,
                ..
            } => {
                if let Some(p) = self.payments.payments.get_mut(payment_id) {
                    p.status = PaymentStatus::Disbursed;
                    p.bank_reference = Some(bank_reference.clone());
                    p.value_date = Some(*value_date);
                    p.disbursed_on = Some(*disbursed_on);
                }
            }
            StatementEvent::PaymentCancelled {
                payment_id,
                reason,
                cancelled_on,
                ..
            } => {
                if let Some(p) = self.payments.payments.get_mut(payment_id) {
                    p.status = PaymentStatus::Cancelled;
                    p.cancel_reason = Some(reason.clone());
                    p.cancelled_on = Some(*cancelled_on);
                }
            }
            StatementEvent::RecoveryOrdered {
                recovery_id,
                amount,
                reason,
                ordered_on,
                ..
            } => {
                self.payments
                    .recoveries
                    .entry(recovery_id.clone())
                    .or_insert_with(|| Recovery {
                        id: recovery_id.clone(),
                        ordered: *amount,
                        reason: reason.clone(),
                        ordered_on: *ordered_on,
                        receipts: Vec::new(),
                    });
            }
            StatementEvent::RecoveryReceived {
                recovery_id,
                amount,
                bank_reference,
                received_on,
                ..
            } => {
                if let Some(r) = self.payments.recoveries.get_mut(recovery_id) {
                    r.receipts.push(RecoveryReceipt {
                        amount: *amount,
                        bank_reference: bank_reference.clone(),
                        received_on: *received_on,
                    });
                }
            }
            StatementEvent::DocumentAttached { document, .. } => {
                if self.documents.contains_key(&document.id) {
                    return;
                }
                if let Some(old) = document
                    .replaces
                    .as_ref()
                    .and_then(|id| self.documents.get_mut(id))
                {
                    old.superseded_by = Some(document.id.clone());
                }
                self.documents.insert(document.id.clone(), document.clone());
            }
            StatementEvent::EvidenceRecorded { evidence, .. } => {
                self.evidence = Some(evidence.clone());
            }
            StatementEvent::AttainmentComputed {
                objective,
                status,
                coverage,
                tier,
                explanation_fr,
                detail,
                reason,
                ..
            } => {
                self.computed.insert(
                    objective.clone(),
                    ComputedVerdict {
                        status: *status,
                        coverage: *coverage,
                        tier: *tier,
                        explanation_fr: explanation_fr.clone(),
                        detail: detail.clone(),
                        reason: reason.clone(),
                    },
                );
            }
        }
    }

    /// The review in force on a line (the latest), if any.
    pub fn latest_review(&self, line_id: &LineId) -> Option<&LineReview> {
        self.reviews.get(line_id).and_then(|r| r.last())
    }

    /// The totals of the payment and recovery orders (SPEC.md §8).
    pub fn payment_totals(&self) -> PaymentTotals {
        self.payments.totals()
    }

    fn add_line(&mut self, id: &LineId, content: LineContent) {
        if self.lines.contains_key(id) {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.lines.insert(
            id.clone(),
            Line {
                id: id.clone(),
                seq,
                declared: content.declared_amount(),
                content,
                retained: None,
                withdrawn: None,
                revision: 0,
            },
        );
    }

    /// Lines in declaration order, withdrawn ones included.
    pub fn lines_in_order(&self) -> Vec<&Line> {
        let mut lines: Vec<&Line> = self.lines.values().collect();
        lines.sort_by_key(|l| l.seq);
        lines
    }

    /// Active (not withdrawn) lines in declaration order.
    pub fn active_lines(&self) -> impl Iterator<Item = &Line> {
        self.lines_in_order().into_iter().filter(|l| l.is_active())
    }

    pub fn attainment(&self, objective: &ObjectiveCode) -> AttainmentStatus {
        self.attainments
            .get(objective)
            .map(|a| a.status)
            .unwrap_or(AttainmentStatus::Unknown)
    }
}

/// Rebuilds a statement from its events, in order (the read-model rebuild and the as-of replay).
pub fn fold<'a>(events: impl IntoIterator<Item = &'a StatementEvent>) -> Statement {
    let mut statement = Statement::new();
    for event in events {
        statement.apply(event);
    }
    statement
}
