//! Events of a statement stream (candidate × domain), past tense, each with its schema version.
//!
//! The envelope (actor, role, recorded time, request id, comment) is the store's; the payload here carries
//! only what the rules need. New kinds (`LineReviewed`, payment events) are added as new variants: the
//! enum is serde-tagged by `type`, so stored events of the earlier kinds keep reading.

use super::lines::{
    ExternalCostLine, InternalCostLine, LineContent, LineId, OtherCostLine, ReceiptLine,
};
use super::payments::PaymentId;
use super::review::{DocumentRequest, IneligibilityReason, ReviewDecision};
use crate::domain::attainment::{Evidence, ExposureTier, Status};
use crate::domain::ids::{DomainId, Finess, ObjectiveCode};
use crate::domain::money::{Money, Percent};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Schema version written in every event of this module's first version.
pub const SCHEMA_VERSION_1: u16 = 1;

/// Objective attainment as recorded by a controller (SPEC.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttainmentStatus {
    Unknown,
    Attained,
    NotAttained,
}

impl AttainmentStatus {
    /// `unknown|attained|not_attained`, or the French `inconnu|atteint|non_atteint`.
    pub fn parse(text: &str) -> Option<AttainmentStatus> {
        match text.trim().to_lowercase().replace([' ', '-'], "_").as_str() {
            "unknown" | "inconnu" => Some(AttainmentStatus::Unknown),
            "attained" | "atteint" => Some(AttainmentStatus::Attained),
            "not_attained" | "non_atteint" => Some(AttainmentStatus::NotAttained),
            _ => None,
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            AttainmentStatus::Unknown => "inconnu",
            AttainmentStatus::Attained => "atteint",
            AttainmentStatus::NotAttained => "non atteint",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StatementEvent {
    /// A supporting document was attached (its content is kept by the store under its SHA-256); when it
    /// replaces another, that one is superseded and stays on file.
    DocumentAttached {
        schema_version: u16,
        document: super::documents::AttachedDocument,
    },
    StatementOpened {
        schema_version: u16,
        candidate: Finess,
        domain: DomainId,
    },
    InternalCostDeclared {
        schema_version: u16,
        line_id: LineId,
        line: InternalCostLine,
    },
    ExternalCostDeclared {
        schema_version: u16,
        line_id: LineId,
        line: ExternalCostLine,
    },
    OtherCostDeclared {
        schema_version: u16,
        line_id: LineId,
        line: OtherCostLine,
    },
    ReceiptDeclared {
        schema_version: u16,
        line_id: LineId,
        line: ReceiptLine,
    },
    /// Supersedes the content of a line (same kind), keeping its identity.
    LineCorrected {
        schema_version: u16,
        line_id: LineId,
        line: LineContent,
    },
    LineWithdrawn {
        schema_version: u16,
        line_id: LineId,
        reason: String,
    },
    AttainmentRecorded {
        schema_version: u16,
        objective: ObjectiveCode,
        status: AttainmentStatus,
        /// Share of the combined activity covered (D1.O1.B, D1.O2.B).
        coverage: Option<Percent>,
        reason: String,
    },
    StatementSubmitted {
        schema_version: u16,
        submitted_at: DateTime<Utc>,
        /// The Paris calendar date of `submitted_at`: the "declaration date" of the rules.
        declaration_date: NaiveDate,
    },
    StatementReopened {
        schema_version: u16,
        reason: String,
    },
    /// A controller's review of a line (SPEC.md §7); supersedes the earlier ones.
    LineReviewed {
        schema_version: u16,
        line_id: LineId,
        decision: ReviewDecision,
        /// Only for `ineligible`.
        reason_code: Option<IneligibilityReason>,
        comment: String,
        /// eligible: declared; ineligible: 0; partially eligible: the amount; documents requested: none.
        retained_amount: Option<Money>,
        /// Only for `documents_requested`.
        requested: Option<DocumentRequest>,
        /// The line revision reviewed.
        line_revision: u32,
        /// Paris date of the review (the recorded time); absent in events written before it existed.
        #[serde(default)]
        reviewed_on: Option<NaiveDate>,
    },
    /// The establishment's answer to the pending document request on a line; a corrected line, if any,
    /// follows as a `LineCorrected`.
    DocumentRequestAnswered {
        schema_version: u16,
        line_id: LineId,
        comment: String,
        document_sha256: Option<String>,
        corrected: bool,
    },
    PaymentOrdered {
        schema_version: u16,
        payment_id: PaymentId,
        amount: Money,
        reference: String,
        /// Paris date of the recorded time.
        ordered_on: NaiveDate,
    },
    PaymentDisbursed {
        schema_version: u16,
        payment_id: PaymentId,
        bank_reference: String,
        /// The bank's value date, as given (informational).
        value_date: NaiveDate,
        /// Paris date of the recorded time.
        disbursed_on: NaiveDate,
    },
    PaymentCancelled {
        schema_version: u16,
        payment_id: PaymentId,
        reason: String,
        cancelled_on: NaiveDate,
    },
    RecoveryOrdered {
        schema_version: u16,
        recovery_id: PaymentId,
        amount: Money,
        reason: String,
        ordered_on: NaiveDate,
    },
    RecoveryReceived {
        schema_version: u16,
        recovery_id: PaymentId,
        amount: Money,
        bank_reference: String,
        received_on: NaiveDate,
    },
    /// A controller's audit evidence for D1 bis (SPEC.md §7), the whole set as recorded; a later one
    /// supersedes it.
    EvidenceRecorded {
        schema_version: u16,
        evidence: Evidence,
    },
    /// One objective's verdict computed from the evidence in force (D1 bis); an `AttainmentRecorded`
    /// with the matching status follows it in the same command.
    AttainmentComputed {
        schema_version: u16,
        objective: ObjectiveCode,
        status: Status,
        /// D1.O1.B and D1.O2.B: activity share of the units at target.
        coverage: Option<Percent>,
        /// D1.O2.B only.
        tier: Option<ExposureTier>,
        explanation_fr: Vec<String>,
        /// The evaluator's explanation as data (`attainment::Detail` as JSON).
        detail: serde_json::Value,
        /// The controller's reason for running the computation.
        #[serde(default)]
        reason: String,
    },
}

impl StatementEvent {
    /// The event's type name as stored (`InternalCostDeclared`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            StatementEvent::StatementOpened { .. } => "StatementOpened",
            StatementEvent::InternalCostDeclared { .. } => "InternalCostDeclared",
            StatementEvent::ExternalCostDeclared { .. } => "ExternalCostDeclared",
            StatementEvent::OtherCostDeclared { .. } => "OtherCostDeclared",
            StatementEvent::ReceiptDeclared { .. } => "ReceiptDeclared",
            StatementEvent::LineCorrected { .. } => "LineCorrected",
            StatementEvent::LineWithdrawn { .. } => "LineWithdrawn",
            StatementEvent::AttainmentRecorded { .. } => "AttainmentRecorded",
            StatementEvent::StatementSubmitted { .. } => "StatementSubmitted",
            StatementEvent::StatementReopened { .. } => "StatementReopened",
            StatementEvent::LineReviewed { .. } => "LineReviewed",
            StatementEvent::DocumentRequestAnswered { .. } => "DocumentRequestAnswered",
            StatementEvent::PaymentOrdered { .. } => "PaymentOrdered",
            StatementEvent::PaymentDisbursed { .. } => "PaymentDisbursed",
            StatementEvent::PaymentCancelled { .. } => "PaymentCancelled",
            StatementEvent::RecoveryOrdered { .. } => "RecoveryOrdered",
            StatementEvent::RecoveryReceived { .. } => "RecoveryReceived",
            StatementEvent::EvidenceRecorded { .. } => "EvidenceRecorded",
            StatementEvent::AttainmentComputed { .. } => "AttainmentComputed",
            StatementEvent::DocumentAttached { .. } => "DocumentAttached",
        }
    }

    pub fn schema_version(&self) -> u16 {
        match self {
            StatementEvent::StatementOpened { schema_version, .. }
            | StatementEvent::InternalCostDeclared { schema_version, .. }
            | StatementEvent::ExternalCostDeclared { schema_version, .. }
            | StatementEvent::OtherCostDeclared { schema_version, .. }
            | StatementEvent::ReceiptDeclared { schema_version, .. }
            | StatementEvent::LineCorrected { schema_version, .. }
            | StatementEvent::LineWithdrawn { schema_version, .. }
            | StatementEvent::AttainmentRecorded { schema_version, .. }
            | StatementEvent::StatementSubmitted { schema_version, .. }
            | StatementEvent::StatementReopened { schema_version, .. }
            | StatementEvent::LineReviewed { schema_version, .. }
            | StatementEvent::DocumentRequestAnswered { schema_version, .. }
            | StatementEvent::PaymentOrdered { schema_version, .. }
            | StatementEvent::PaymentDisbursed { schema_version, .. }
            | StatementEvent::PaymentCancelled { schema_version, .. }
            | StatementEvent::RecoveryOrdered { schema_version, .. }
            | StatementEvent::RecoveryReceived { schema_version, .. }
            | StatementEvent::EvidenceRecorded { schema_version, .. }
            | StatementEvent::AttainmentComputed { schema_version, .. }
            | StatementEvent::DocumentAttached { schema_version, .. } => *schema_version,
        }
    }
}
