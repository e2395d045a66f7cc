//! Commands (imperative) and `decide`: raw user input in, validated events out, or a `Refusal` naming the
//! field (SPEC.md §6). Amounts, dates and codes arrive as text so that a malformed value is refused here,
//! with its field, whatever the channel (CLI, HTTP, declarations file).

use super::events::{AttainmentStatus, StatementEvent, SCHEMA_VERSION_1};
use super::evidence::{attainment_context, computed_events, evidence_field};
use super::lines::{
    CostType, ExternalCostLine, InternalCostLine, LineContent, LineId, OtherCostLine, ReceiptLine,
};
use super::payments::PaymentId;
use super::review::{DocumentRequest, IneligibilityReason, ReviewDecision};
use super::subsidy::{compute_subsidy, SubsidyError, SubsidyReport};
use super::{Statement, StatementStatus};
use crate::domain::attainment::{Evidence, EvidenceError};
use crate::domain::candidate::Candidate;
use crate::domain::catalogue::{CostPart, DecoteRate, DomainCatalogue};
use crate::domain::ids::DomainId;
use crate::domain::ids::{Matricule, ObjectiveCode};
use crate::domain::money::{parse_decimal_plain, Money, MoneyError, Percent};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Earliest date accepted on any line (a plausibility bound, SPEC.md §6; our rule).
pub const PLAUSIBLE_DATE_MIN: NaiveDate = match NaiveDate::from_ymd_opt(2020, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};
/// Latest date accepted on any line (our rule).
pub const PLAUSIBLE_DATE_MAX: NaiveDate = match NaiveDate::from_ymd_opt(2035, 12, 31) {
    Some(d) => d,
    None => panic!("valid date"),
};
/// Longest free text (contribution, label, reason) accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Most hours accepted in a year (8 784 h in a leap year).
pub const MAX_HOURS_PER_YEAR: u32 = 8_784;

pub use crate::actor::Role;

/// What `decide` needs besides the state: the domain's catalogue, the candidate, the effective time of the
/// command and the role of its actor.
#[derive(Debug, Clone, Copy)]
pub struct DecisionContext<'a> {
    pub catalogue: &'a DomainCatalogue,
    pub candidate: &'a Candidate,
    pub effective_at: DateTime<Utc>,
    pub role: Role,
}

/// Internal cost input (one employee, one year, one objective). Text fields as typed by the user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InternalCostInput {
    pub line_id: String,
    pub matricule: String,
    pub year: String,
    pub objective: String,
    pub nature: String,
    pub contribution: String,
    pub gross_annualised: String,
    pub employer_charges: String,
    /// Optional, blank = 0.
    pub non_eligible_gross: String,
    pub hours_productive: String,
    pub hours_on_action: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExternalCostInput {
    pub line_id: String,
    /// `investissement` or `recurrent`.
    pub cost_type: String,
    pub order_date: String,
    pub invoice_date: String,
    pub order_number: String,
    pub invoice_number: String,
    pub supplier: String,
    pub service_label: String,
    pub amount: String,
    pub nature: String,
    pub objective: String,
    pub contribution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtherCostInput {
    pub line_id: String,
    pub cost_type: String,
    pub amount: String,
    pub date: String,
    pub supplier: String,
    pub label: String,
    pub nature: String,
    pub objective: String,
    pub contribution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiptInput {
    pub line_id: String,
    /// Objective group (`D1.O1`, `D1.01` accepted) or an objective of it (its group is kept).
    pub group: String,
    pub provenance: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttainmentInput {
    pub objective: String,
    /// `unknown`, `attained`, `not_attained` (or `inconnu`, `atteint`, `non_atteint`).
    pub status: String,
    /// Coverage of the combined activity in %, optional.
    pub coverage: String,
    pub reason: String,
}

/// A controller's review of one line (SPEC.md §7). Fields that do not apply to the decision stay blank.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewInput {
    pub line_id: String,
    /// `eligible`, `ineligible`, `partially_eligible`, `documents_requested` (or French).
    pub decision: String,
    /// For `ineligible` only: one of `IneligibilityReason` codes.
    pub reason_code: String,
    /// Required for `ineligible`, optional otherwise.
    pub comment: String,
    /// For `partially_eligible` only: the amount retained, in ]0, declared].
    pub eligible_amount: String,
    /// For `documents_requested` only: what is asked.
    pub documents_requested: String,
    /// For `documents_requested` only: by when (date).
    pub documents_due: String,
}

/// A corrected line given with an answer to a document request (the kind of the line under review).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CorrectionInput {
    Internal(InternalCostInput),
    External(ExternalCostInput),
    Other(OtherCostInput),
}

/// The establishment's answer to the pending document request on a line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentAnswerInput {
    pub line_id: String,
    pub comment: String,
    /// SHA-256 (64 hex digits) of the document provided, optional.
    pub document_sha256: String,
    /// The corrected line, optional; its `line_id` blank or the answered line's.
    pub correction: Option<CorrectionInput>,
}

/// A supporting document to attach (SPEC.md §7). The service fills `sha256`, `media_type` and
/// `size_bytes` from the stored file; `line_id` or `objective` names the target (one of the two).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentInput {
    /// Blank: the next `DOC-nnnn`.
    pub document_id: String,
    pub sha256: String,
    pub file_name: String,
    /// MIME type of an accepted format.
    pub media_type: String,
    pub size_bytes: u64,
    /// Document kind code of the catalogue (e.g. `FACTURE`, `D1O3_RAPPORT_EXERCICE`).
    pub kind: String,
    pub line_id: String,
    pub objective: String,
    /// The document this one replaces (it stays on file, superseded).
    pub replaces: String,
    pub comment: String,
}

/// Commands on a statement stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command")]
pub enum StatementCommand {
    OpenStatement,
    DeclareInternalCost(InternalCostInput),
    DeclareExternalCost(ExternalCostInput),
    DeclareOtherCost(OtherCostInput),
    DeclareReceipt(ReceiptInput),
    /// Supersedes line `line_id` (an internal cost) with new content.
    CorrectInternalCost(InternalCostInput),
    CorrectExternalCost(ExternalCostInput),
    CorrectOtherCost(OtherCostInput),
    CorrectReceipt(ReceiptInput),
    WithdrawLine {
        #[serde(default)]
        line_id: String,
        #[serde(default)]
        reason: String,
    },
    RecordAttainment(AttainmentInput),
    Submit,
    Reopen {
        #[serde(default)]
        reason: String,
    },
    /// Controller: review one line (SPEC.md §7).
    ReviewLine(ReviewInput),
    /// Establishment: answer the pending document request on a line, optionally with a corrected line.
    AnswerDocumentRequest(DocumentAnswerInput),
    /// Payment desk: order a payment, dated by the recorded time (SPEC.md §8). A blank id gets the next
    /// `PAY-nnnn`.
    OrderPayment {
        #[serde(default)]
        payment_id: String,
        #[serde(default)]
        amount: String,
        #[serde(default)]
        reference: String,
    },
    /// Payment desk: the bank confirmed the payment.
    ConfirmDisbursement {
        #[serde(default)]
        payment_id: String,
        #[serde(default)]
        bank_reference: String,
        /// The bank's value date (informational; the event is dated by the recorded time).
        #[serde(default)]
        value_date: String,
    },
    CancelPayment {
        #[serde(default)]
        payment_id: String,
        #[serde(default)]
        reason: String,
    },
    /// Payment desk: order the repayment of an overpayment. A blank id gets the next `REC-PAY-nnnn`.
    IssueRecoveryOrder {
        #[serde(default)]
        recovery_id: String,
        #[serde(default)]
        amount: String,
        #[serde(default)]
        reason: String,
    },
    RecordRecoveryReceived {
        #[serde(default)]
        recovery_id: String,
        #[serde(default)]
        amount: String,
        #[serde(default)]
        bank_reference: String,
    },
    /// Establishment or controller: attach a supporting document to a line or an objective. Allowed in
    /// any status of an opened statement (documents answer the control; they change no amount).
    AttachDocument(DocumentInput),
    /// Controller, D1 bis: record the audit evidence (the whole set; supersedes the earlier one).
    RecordEvidence {
        evidence: Evidence,
    },
    /// Controller, D1 bis: compute every objective's attainment from the evidence in force, at the
    /// statement's declaration date (SPEC.md §7).
    ComputeAttainment {
        #[serde(default)]
        reason: String,
    },
}

impl StatementCommand {
    pub fn name(&self) -> &'static str {
        match self {
            StatementCommand::OpenStatement => "OpenStatement",
            StatementCommand::DeclareInternalCost(_) => "DeclareInternalCost",
            StatementCommand::DeclareExternalCost(_) => "DeclareExternalCost",
            StatementCommand::DeclareOtherCost(_) => "DeclareOtherCost",
            StatementCommand::DeclareReceipt(_) => "DeclareReceipt",
            StatementCommand::CorrectInternalCost(_) => "CorrectInternalCost",
            StatementCommand::CorrectExternalCost(_) => "CorrectExternalCost",
            StatementCommand::CorrectOtherCost(_) => "CorrectOtherCost",
            StatementCommand::CorrectReceipt(_) => "CorrectReceipt",
            StatementCommand::WithdrawLine { .. } => "WithdrawLine",
            StatementCommand::RecordAttainment(_) => "RecordAttainment",
            StatementCommand::Submit => "Submit",
            StatementCommand::Reopen { .. } => "Reopen",
            StatementCommand::ReviewLine(_) => "ReviewLine",
            StatementCommand::AnswerDocumentRequest(_) => "AnswerDocumentRequest",
            StatementCommand::OrderPayment { .. } => "OrderPayment",
            StatementCommand::ConfirmDisbursement { .. } => "ConfirmDisbursement",
            StatementCommand::CancelPayment { .. } => "CancelPayment",
            StatementCommand::IssueRecoveryOrder { .. } => "IssueRecoveryOrder",
            StatementCommand::RecordRecoveryReceived { .. } => "RecordRecoveryReceived",
            StatementCommand::AttachDocument(_) => "AttachDocument",
            StatementCommand::RecordEvidence { .. } => "RecordEvidence",
            StatementCommand::ComputeAttainment { .. } => "ComputeAttainment",
        }
    }
}

/// A command refused: nothing is appended. Every variant about input names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("champ {field} : obligatoire")]
    MissingField { field: &'static str },
    #[error("champ {field} : {source}")]
    InvalidAmount {
        field: &'static str,
        #[source]
        source: MoneyError,
    },
    #[error("champ {field} : {value} doit être strictement positif")]
    NotPositive { field: &'static str, value: String },
    #[error("champ {field} : « {value} » illisible ({expected})")]
    Malformed {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "champ {field} : date {} hors de la plage plausible {} … {}",
        fr_date(*.date),
        fr_date(PLAUSIBLE_DATE_MIN),
        fr_date(PLAUSIBLE_DATE_MAX)
    )]
    DateOutOfRange {
        field: &'static str,
        date: NaiveDate,
    },
    #[error("champ {field} : objectif {code} inconnu du domaine")]
    UnknownObjective { field: &'static str, code: String },
    #[error("champ {field} : l'objectif {code} est réservé aux GHT")]
    GhtOnlyObjective {
        field: &'static str,
        code: ObjectiveCode,
    },
    #[error("champ {field} : nature de dépense « {code} » inconnue du domaine")]
    UnknownNature { field: &'static str, code: String },
    #[error("champ {field} : le domaine n'accepte pas les {part}")]
    CostPartNotAccepted {
        field: &'static str,
        part: &'static str,
    },
    #[error("champ year : {year} n'est pas une année de la trame ({years})")]
    YearNotInTemplate { year: i32, years: String },
    #[error("champ hours_on_action : {hours} h hors de ]0, {productive}] (heures productives)")]
    HoursOnActionOutOfRange { hours: Decimal, productive: Decimal },
    #[error(
        "champ non_eligible_gross : {} supérieur au brut annualisé {}",
        .non_eligible.to_french(),
        .gross.to_french()
    )]
    NonEligibleAboveGross { non_eligible: Money, gross: Money },
    #[error("champ coverage : {coverage} incompatible avec le statut {status} (atteint à partir de {attained_from})")]
    CoverageContradictsStatus {
        coverage: Percent,
        status: &'static str,
        attained_from: Percent,
    },
    #[error("champ {field} : texte de plus de {MAX_TEXT_CHARS} caractères")]
    TextTooLong { field: &'static str },
    #[error("champ line_id : la ligne {line_id} existe déjà")]
    DuplicateLineId { line_id: LineId },
    #[error("champ line_id : ligne {line_id} inconnue")]
    UnknownLine { line_id: String },
    #[error("champ line_id : la ligne {line_id} est retirée")]
    LineWithdrawn { line_id: LineId },
    #[error("champ line_id : la ligne {line_id} est de type {actual}, pas {expected}")]
    LineKindMismatch {
        line_id: LineId,
        actual: &'static str,
        expected: &'static str,
    },
    #[error("le rôle {role} ne peut pas exécuter {command}")]
    RoleNotAllowed {
        role: &'static str,
        command: &'static str,
    },
    #[error("état financier non ouvert")]
    NotOpened,
    #[error("état financier déjà ouvert")]
    AlreadyOpened,
    #[error(
        "état financier soumis : lignes verrouillées jusqu'à sa réouverture par un contrôleur"
    )]
    Locked,
    #[error("état financier non soumis : rien à rouvrir")]
    NotSubmitted,
    #[error("le candidat {candidate} n'a pas de plafond pour le domaine {domain}")]
    NotACandidateForDomain {
        candidate: String,
        domain: &'static str,
    },
    #[error("le contexte ({candidate}, {domain}) ne correspond pas au flux de cet état financier")]
    WrongStream {
        candidate: String,
        domain: &'static str,
    },
    #[error("état financier jamais soumis : pas de revue des lignes avant la soumission")]
    NotSubmittedForReview,
    #[error("champ line_id : la ligne {line_id} est une recette, déduite à son montant déclaré et non revue")]
    NotACostLine { line_id: LineId },
    #[error("champ {field} : sans objet pour la décision « {decision} »")]
    FieldNotApplicable {
        field: &'static str,
        decision: &'static str,
    },
    #[error(
        "champ eligible_amount : {} supérieur au montant déclaré {}",
        .retained.to_french(),
        .declared.to_french()
    )]
    RetainedAboveDeclared { retained: Money, declared: Money },
    #[error(
        "champ documents_due : échéance {} antérieure à la date du jour {}",
        fr_date(*.due),
        fr_date(*.today)
    )]
    DueDateInPast { due: NaiveDate, today: NaiveDate },
    #[error(
        "champ line_id : aucune demande de pièces en attente de réponse sur la ligne {line_id}"
    )]
    NoPendingDocumentRequest { line_id: LineId },
    #[error("aucun guichet de paiement n'est configuré pour le domaine {domain} : aucun paiement possible")]
    NoPaymentWindow { domain: &'static str },
    #[error(
        "le {} est hors du guichet de paiement (du {} au {})",
        fr_date(*.date),
        fr_date(*.start),
        fr_date(*.end)
    )]
    OutsidePaymentWindow {
        date: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
    },
    #[error("état financier {status} : un paiement ne s'ordonne que sur un état soumis")]
    NotSubmittedForPayment { status: &'static str },
    #[error("subvention non calculable : {source}")]
    SubsidyNotComputable {
        #[source]
        source: SubsidyError,
    },
    #[error("subvention provisoire ({unknown_objectives} objectif(s) sans atteinte enregistrée, {unreviewed_lines} ligne(s) non revue(s)) : aucun paiement possible")]
    ProvisionalSubsidy {
        unknown_objectives: usize,
        unreviewed_lines: usize,
    },
    #[error("décote de 100 % : aucune subvention à verser")]
    FullDecote,
    #[error(
        "champ {field} : {} supérieur au reste dû {}",
        .amount.to_french(),
        .due.to_french()
    )]
    AboveDue {
        field: &'static str,
        amount: Money,
        due: Money,
    },
    #[error("champ {field} : {id} existe déjà")]
    DuplicatePaymentId { field: &'static str, id: PaymentId },
    #[error("champ payment_id : paiement {payment_id} inconnu")]
    UnknownPayment { payment_id: String },
    #[error("champ payment_id : le paiement {payment_id} est annulé")]
    PaymentCancelled { payment_id: PaymentId },
    #[error("champ payment_id : le paiement {payment_id} est déjà versé")]
    PaymentAlreadyDisbursed { payment_id: PaymentId },
    #[error(
        "pas de trop-perçu (reste dû {}) : aucun reversement à ordonner",
        .due.to_french()
    )]
    NoOverpayment { due: Money },
    #[error(
        "champ amount : {} supérieur au trop-perçu non encore couvert par un ordre de reversement ({})",
        .amount.to_french(),
        .uncovered.to_french()
    )]
    RecoveryAboveOverpayment { amount: Money, uncovered: Money },
    #[error("champ recovery_id : ordre de reversement {recovery_id} inconnu")]
    UnknownRecovery { recovery_id: String },
    #[error(
        "champ amount : {} supérieur au reste à recouvrer {} de l'ordre de reversement",
        .amount.to_french(),
        .outstanding.to_french()
    )]
    AboveRecoveryOutstanding { amount: Money, outstanding: Money },
    #[error("champ {field} : {source}")]
    InvalidEvidence {
        field: &'static str,
        #[source]
        source: EvidenceError,
    },
    #[error("domaine {domain} : les preuves d'audit et le calcul de l'atteinte ne concernent que le domaine D1 bis ; l'atteinte s'y enregistre objectif par objectif")]
    AttainmentNotComputable { domain: &'static str },
    #[error("état financier jamais soumis : l'atteinte se calcule à la date de dépôt")]
    NotSubmittedForAttainment,
    #[error("aucune preuve d'audit enregistrée : rien à calculer")]
    NoEvidence,
    #[error("date de début de la phase opérationnelle D1 bis inconnue pour ce candidat")]
    NoPhaseStart,
    #[error("champ kind : type de pièce « {code} » inconnu du domaine")]
    UnknownDocumentKind { code: String },
    #[error("champ {field} : une pièce « {kind} » ne justifie pas {target}")]
    DocumentKindNotForTarget {
        field: &'static str,
        kind: String,
        target: String,
    },
    #[error("champ line_id : indiquer la ligne ou l'objectif justifié, pas les deux")]
    DocumentTargetAmbiguous,
    #[error("champ {field} : {source}")]
    InvalidDocumentFile {
        field: &'static str,
        #[source]
        source: super::documents::DocumentFileError,
    },
    #[error("champ replaces : pièce {document_id} inconnue")]
    UnknownDocument { document_id: String },
    #[error("champ replaces : la pièce {document_id} est déjà remplacée par {by}")]
    DocumentAlreadySuperseded {
        document_id: super::documents::DocumentId,
        by: super::documents::DocumentId,
    },
    #[error("champ replaces : la pièce {document_id} justifie {target}, pas la même cible")]
    ReplacementTargetDiffers {
        document_id: super::documents::DocumentId,
        target: String,
    },
    #[error("champ document_id : {document_id} existe déjà")]
    DuplicateDocumentId {
        document_id: super::documents::DocumentId,
    },
    #[error("champ document_sha256 : aucune pièce jointe à cet état financier n'a ce contenu ; joindre d'abord le fichier")]
    DocumentNotAttached { sha256: String },
    #[error(
        "champ sha256 : aucun fichier de ce contenu n'a été déposé ; déposer d'abord le fichier"
    )]
    DocumentContentMissing { sha256: String },
}

/// A date as French users read it in a message: `15/03/2026`.
pub fn fr_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// Parses `2026-03-15` or `15/03/2026`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .ok()
}

struct Check<'a> {
    ctx: &'a DecisionContext<'a>,
}

impl Check<'_> {
    fn required<'t>(&self, field: &'static str, value: &'t str) -> Result<&'t str, Refusal> {
        let v = value.trim();
        if v.is_empty() {
            return Err(Refusal::MissingField { field });
        }
        if v.chars().count() > MAX_TEXT_CHARS {
            return Err(Refusal::TextTooLong { field });
        }
        Ok(v)
    }

    fn text(&self, field: &'static str, value: &str) -> Result<String, Refusal> {
        self.required(field, value).map(str::to_string)
    }

    /// Optional free text, trimmed, bounded.
    fn optional_text(&self, field: &'static str, value: &str) -> Result<String, Refusal> {
        let v = value.trim();
        if v.chars().count() > MAX_TEXT_CHARS {
            return Err(Refusal::TextTooLong { field });
        }
        Ok(v.to_string())
    }

    fn payment_id(
        &self,
        field: &'static str,
        value: &str,
        next: impl FnOnce() -> PaymentId,
    ) -> Result<PaymentId, Refusal> {
        let v = value.trim();
        if v.is_empty() {
            return Ok(next());
        }
        PaymentId::parse(v).ok_or_else(|| Refusal::Malformed {
            field,
            value: v.to_string(),
            expected: "1 à 64 caractères A-Z a-z 0-9 - _ . :",
        })
    }

    fn review(
        &self,
        statement: &Statement,
        input: &ReviewInput,
    ) -> Result<StatementEvent, Refusal> {
        if !matches!(
            statement.status,
            StatementStatus::Submitted | StatementStatus::Reopened
        ) {
            return Err(Refusal::NotSubmittedForReview);
        }
        let id = self.line_id(&input.line_id)?;
        let line = active_line(statement, id.clone())?;
        if !line.content.is_cost() {
            return Err(Refusal::NotACostLine { line_id: id });
        }
        let d = self.required("decision", &input.decision)?;
        let decision = ReviewDecision::parse(d).ok_or_else(|| Refusal::Malformed {
            field: "decision",
            value: d.to_string(),
            expected: "eligible, ineligible, partially_eligible ou documents_requested",
        })?;
        let blank = |field: &'static str, value: &str| {
            if value.trim().is_empty() {
                Ok(())
            } else {
                Err(Refusal::FieldNotApplicable {
                    field,
                    decision: decision.as_str(),
                })
            }
        };
        if decision != ReviewDecision::Ineligible {
            blank("reason_code", &input.reason_code)?;
        }
        if decision != ReviewDecision::PartiallyEligible {
            blank("eligible_amount", &input.eligible_amount)?;
        }
        if decision != ReviewDecision::DocumentsRequested {
            blank("documents_requested", &input.documents_requested)?;
            blank("documents_due", &input.documents_due)?;
        }
        let mut comment = self.optional_text("comment", &input.comment)?;
        let mut reason_code = None;
        let mut requested = None;
        let retained_amount = match decision {
            ReviewDecision::Eligible => Some(line.declared),
            ReviewDecision::Ineligible => {
                let r = self.required("reason_code", &input.reason_code)?;
                reason_code =
                    Some(
                        IneligibilityReason::parse(r).ok_or_else(|| Refusal::Malformed {
                            field: "reason_code",
                            value: r.to_string(),
                            expected: IneligibilityReason::codes(),
                        })?,
                    );
                comment = self.text("comment", &input.comment)?;
                Some(Money::ZERO)
            }
            ReviewDecision::PartiallyEligible => {
                let amount = self.positive_money("eligible_amount", &input.eligible_amount)?;
                if amount > line.declared {
                    return Err(Refusal::RetainedAboveDeclared {
                        retained: amount,
                        declared: line.declared,
                    });
                }
                Some(amount)
            }
            ReviewDecision::DocumentsRequested => {
                let what = self.text("documents_requested", &input.documents_requested)?;
                let due = self.date("documents_due", &input.documents_due)?;
                let today = crate::clock::paris_date(self.ctx.effective_at);
                if due < today {
                    return Err(Refusal::DueDateInPast { due, today });
                }
                requested = Some(DocumentRequest { what, due });
                None
            }
        };
        Ok(StatementEvent::LineReviewed {
            schema_version: SCHEMA_VERSION_1,
            line_id: id,
            decision,
            reason_code,
            comment,
            retained_amount,
            requested,
            line_revision: line.revision,
            reviewed_on: Some(crate::clock::paris_date(self.ctx.effective_at)),
        })
    }

    fn document(
        &self,
        statement: &Statement,
        input: &DocumentInput,
    ) -> Result<StatementEvent, Refusal> {
        use super::documents::{
            clean_file_name, AttachedDocument, DocumentFileError, DocumentId, DocumentTarget,
            MediaType, MAX_DOCUMENT_BYTES,
        };
        let id = match input.document_id.trim() {
            "" => statement.next_document_id(),
            given => DocumentId::parse(given).ok_or_else(|| Refusal::Malformed {
                field: "document_id",
                value: given.to_string(),
                expected: "DOC- suivi de chiffres",
            })?,
        };
        if statement.documents.contains_key(&id) {
            return Err(Refusal::DuplicateDocumentId { document_id: id });
        }
        let sha256 = parse_sha256_field("sha256", &input.sha256)?
            .ok_or(Refusal::MissingField { field: "sha256" })?;
        self.required("file_name", &input.file_name)?;
        let file_name =
            clean_file_name(&input.file_name).map_err(|source| Refusal::InvalidDocumentFile {
                field: "file_name",
                source,
            })?;
        let media = self.required("media_type", &input.media_type)?;
        let media_type = MediaType::from_mime(media).ok_or_else(|| Refusal::Malformed {
            field: "media_type",
            value: media.to_string(),
            expected: "type MIME d'un format accepté (PDF, image, tableur, texte)",
        })?;
        if input.size_bytes == 0 {
            return Err(Refusal::InvalidDocumentFile {
                field: "size_bytes",
                source: DocumentFileError::Empty,
            });
        }
        if input.size_bytes > MAX_DOCUMENT_BYTES {
            return Err(Refusal::InvalidDocumentFile {
                field: "size_bytes",
                source: DocumentFileError::TooLarge {
                    size: input.size_bytes,
                    limit: MAX_DOCUMENT_BYTES,
                },
            });
        }
        let kind_code = self.required("kind", &input.kind)?.to_ascii_uppercase();
        let kind = self
            .ctx
            .catalogue
            .document_kind(&kind_code)
            .ok_or_else(|| Refusal::UnknownDocumentKind {
                code: input.kind.trim().to_string(),
            })?;
        let target = match (input.line_id.trim(), input.objective.trim()) {
            ("", "") => return Err(Refusal::MissingField { field: "line_id" }),
            (l, o) if !l.is_empty() && !o.is_empty() => {
                return Err(Refusal::DocumentTargetAmbiguous)
            }
            (l, "") => {
                let line_id = self.line_id(l)?;
                let line = active_line(statement, line_id.clone())?;
                let part =
                    crate::domain::catalogue::LinePart::from_kind_name(line.content.kind_name());
                if !part.is_some_and(|p| kind.documents_line(p)) {
                    return Err(Refusal::DocumentKindNotForTarget {
                        field: "line_id",
                        kind: kind.code.clone(),
                        target: format!(
                            "une ligne « {} »",
                            part.map(|p| p.label_fr()).unwrap_or("inconnue")
                        ),
                    });
                }
                DocumentTarget::Line { line_id }
            }
            (_, o) => {
                let objective = self.objective("objective", o)?;
                if !kind.documents_objective(&objective) {
                    return Err(Refusal::DocumentKindNotForTarget {
                        field: "objective",
                        kind: kind.code.clone(),
                        target: format!("l'objectif {objective}"),
                    });
                }
                DocumentTarget::Objective { objective }
            }
        };
        let replaces = match input.replaces.trim() {
            "" => None,
            given => {
                let old = DocumentId::parse(given)
                    .and_then(|id| statement.documents.get(&id))
                    .ok_or_else(|| Refusal::UnknownDocument {
                        document_id: given.to_string(),
                    })?;
                if let Some(by) = &old.superseded_by {
                    return Err(Refusal::DocumentAlreadySuperseded {
                        document_id: old.id.clone(),
                        by: by.clone(),
                    });
                }
                if old.target != target {
                    return Err(Refusal::ReplacementTargetDiffers {
                        document_id: old.id.clone(),
                        target: old.target.to_string(),
                    });
                }
                Some(old.id.clone())
            }
        };
        let attached_at = self.ctx.effective_at;
        Ok(StatementEvent::DocumentAttached {
            schema_version: SCHEMA_VERSION_1,
            document: AttachedDocument {
                id,
                sha256,
                file_name,
                media_type: media_type.mime().to_string(),
                size_bytes: input.size_bytes,
                kind: kind.code.clone(),
                target,
                comment: self.optional_text("comment", &input.comment)?,
                attached_by_role: self.ctx.role,
                attached_at,
                attached_on: crate::clock::paris_date(attached_at),
                replaces,
                superseded_by: None,
            },
        })
    }

    fn money(&self, field: &'static str, value: &str) -> Result<Money, Refusal> {
        match Money::parse_amount(value) {
            Err(MoneyError::Empty) => Err(Refusal::MissingField { field }),
            Err(source) => Err(Refusal::InvalidAmount { field, source }),
            Ok(m) => Ok(m),
        }
    }

    fn optional_money(&self, field: &'static str, value: &str) -> Result<Money, Refusal> {
        if value.trim().is_empty() {
            Ok(Money::ZERO)
        } else {
            self.money(field, value)
        }
    }

    fn positive_money(&self, field: &'static str, value: &str) -> Result<Money, Refusal> {
        let m = self.money(field, value)?;
        if m.is_zero() {
            return Err(Refusal::NotPositive {
                field,
                value: value.trim().to_string(),
            });
        }
        Ok(m)
    }

    fn date(&self, field: &'static str, value: &str) -> Result<NaiveDate, Refusal> {
        let v = self.required(field, value)?;
        let date = parse_date(v).ok_or_else(|| Refusal::Malformed {
            field,
            value: v.to_string(),
            expected: "date AAAA-MM-JJ ou JJ/MM/AAAA",
        })?;
        if !(PLAUSIBLE_DATE_MIN..=PLAUSIBLE_DATE_MAX).contains(&date) {
            return Err(Refusal::DateOutOfRange { field, date });
        }
        Ok(date)
    }

    fn hours(&self, field: &'static str, value: &str) -> Result<Decimal, Refusal> {
        let v = self.required(field, value)?;
        let malformed = || Refusal::Malformed {
            field,
            value: v.to_string(),
            expected: "nombre d'heures, 2 décimales au plus",
        };
        let d = parse_decimal_plain(v).map_err(|_| malformed())?.normalize();
        if d.scale() > 2 || d > Decimal::from(MAX_HOURS_PER_YEAR) {
            return Err(malformed());
        }
        if d <= Decimal::ZERO {
            return Err(Refusal::NotPositive {
                field,
                value: v.to_string(),
            });
        }
        Ok(d)
    }

    fn objective(&self, field: &'static str, value: &str) -> Result<ObjectiveCode, Refusal> {
        let v = self.required(field, value)?;
        let code = ObjectiveCode::parse(v).map_err(|_| Refusal::UnknownObjective {
            field,
            code: v.to_string(),
        })?;
        if !self.ctx.catalogue.is_line_objective(&code) {
            return Err(Refusal::UnknownObjective {
                field,
                code: code.to_string(),
            });
        }
        if self.ctx.catalogue.is_ght_only(&code) && !self.ctx.candidate.is_ght() {
            return Err(Refusal::GhtOnlyObjective { field, code });
        }
        Ok(code)
    }

    fn nature(&self, value: &str) -> Result<String, Refusal> {
        let v = self.required("nature", value)?;
        let code = v.to_ascii_uppercase();
        if self.ctx.catalogue.nature(&code).is_none() {
            return Err(Refusal::UnknownNature {
                field: "nature",
                code: v.to_string(),
            });
        }
        Ok(code)
    }

    fn cost_type(&self, value: &str) -> Result<CostType, Refusal> {
        let v = self.required("cost_type", value)?;
        CostType::parse(v).ok_or_else(|| Refusal::Malformed {
            field: "cost_type",
            value: v.to_string(),
            expected: "investissement ou recurrent",
        })
    }

    fn part(&self, part: CostPart) -> Result<(), Refusal> {
        if self.ctx.catalogue.accepts(part) {
            Ok(())
        } else {
            Err(Refusal::CostPartNotAccepted {
                field: "kind",
                part: part.label_fr(),
            })
        }
    }

    fn line_id(&self, value: &str) -> Result<LineId, Refusal> {
        let v = self.required("line_id", value)?;
        LineId::parse(v).ok_or_else(|| Refusal::Malformed {
            field: "line_id",
            value: v.to_string(),
            expected: "1 à 64 caractères A-Z a-z 0-9 - _ . :",
        })
    }

    fn internal(&self, input: &InternalCostInput) -> Result<(LineId, InternalCostLine), Refusal> {
        self.part(CostPart::Internal)?;
        let line_id = self.line_id(&input.line_id)?;
        let m = self.required("matricule", &input.matricule)?;
        let matricule = Matricule::parse(m).map_err(|_| Refusal::Malformed {
            field: "matricule",
            value: m.to_string(),
            expected: "1 à 32 caractères, lettres, chiffres, - _ . /",
        })?;
        let y = self.required("year", &input.year)?;
        let year: i32 = y.parse().map_err(|_| Refusal::Malformed {
            field: "year",
            value: y.to_string(),
            expected: "année sur 4 chiffres",
        })?;
        let years = &self.ctx.catalogue.template_years;
        if !years.contains(&year) {
            return Err(Refusal::YearNotInTemplate {
                year,
                years: years
                    .iter()
                    .map(|y| y.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let objective = self.objective("objective", &input.objective)?;
        let nature = self.nature(&input.nature)?;
        let contribution = self.text("contribution", &input.contribution)?;
        let gross_annualised = self.positive_money("gross_annualised", &input.gross_annualised)?;
        let employer_charges = self.money("employer_charges", &input.employer_charges)?;
        let non_eligible_gross =
            self.optional_money("non_eligible_gross", &input.non_eligible_gross)?;
        if non_eligible_gross > gross_annualised {
            return Err(Refusal::NonEligibleAboveGross {
                non_eligible: non_eligible_gross,
                gross: gross_annualised,
            });
        }
        let hours_productive = self.hours("hours_productive", &input.hours_productive)?;
        let hours_on_action = match self.hours("hours_on_action", &input.hours_on_action) {
            Err(Refusal::NotPositive { value, .. }) => {
                return Err(Refusal::HoursOnActionOutOfRange {
                    hours: parse_decimal_plain(&value).unwrap_or_default(),
                    productive: hours_productive,
                })
            }
            other => other?,
        };
        if hours_on_action > hours_productive {
            return Err(Refusal::HoursOnActionOutOfRange {
                hours: hours_on_action,
                productive: hours_productive,
            });
        }
        Ok((
            line_id,
            InternalCostLine {
                matricule,
                year,
                objective,
                nature,
                contribution,
                gross_annualised,
                employer_charges,
                non_eligible_gross,
                hours_productive,
                hours_on_action,
            },
        ))
    }

    fn external(&self, input: &ExternalCostInput) -> Result<(LineId, ExternalCostLine), Refusal> {
        self.part(CostPart::External)?;
        let line_id = self.line_id(&input.line_id)?;
        Ok((
            line_id,
            ExternalCostLine {
                cost_type: self.cost_type(&input.cost_type)?,
                order_date: self.date("order_date", &input.order_date)?,
                invoice_date: self.date("invoice_date", &input.invoice_date)?,
                order_number: self.text("order_number", &input.order_number)?,
                invoice_number: self.text("invoice_number", &input.invoice_number)?,
                supplier: self.text("supplier", &input.supplier)?,
                service_label: self.text("service_label", &input.service_label)?,
                amount: self.positive_money("amount", &input.amount)?,
                nature: self.nature(&input.nature)?,
                objective: self.objective("objective", &input.objective)?,
                contribution: self.text("contribution", &input.contribution)?,
            },
        ))
    }

    fn other(&self, input: &OtherCostInput) -> Result<(LineId, OtherCostLine), Refusal> {
        self.part(CostPart::Other)?;
        let line_id = self.line_id(&input.line_id)?;
        Ok((
            line_id,
            OtherCostLine {
                cost_type: self.cost_type(&input.cost_type)?,
                amount: self.positive_money("amount", &input.amount)?,
                date: self.date("date", &input.date)?,
                supplier: self.text("supplier", &input.supplier)?,
                label: self.text("label", &input.label)?,
                nature: self.nature(&input.nature)?,
                objective: self.objective("objective", &input.objective)?,
                contribution: self.text("contribution", &input.contribution)?,
            },
        ))
    }

    fn receipt(&self, input: &ReceiptInput) -> Result<(LineId, ReceiptLine), Refusal> {
        self.part(CostPart::Receipts)?;
        let line_id = self.line_id(&input.line_id)?;
        let code = self.objective("group", &input.group)?;
        Ok((
            line_id,
            ReceiptLine {
                group: code.group(),
                provenance: self.text("provenance", &input.provenance)?,
                amount: self.positive_money("amount", &input.amount)?,
            },
        ))
    }

    fn attainment(&self, input: &AttainmentInput) -> Result<StatementEvent, Refusal> {
        let v = self.required("objective", &input.objective)?;
        let objective = ObjectiveCode::parse(v)
            .ok()
            .filter(|c| self.ctx.catalogue.objective(c).is_some())
            .ok_or_else(|| Refusal::UnknownObjective {
                field: "objective",
                code: v.to_string(),
            })?;
        if self.ctx.catalogue.is_ght_only(&objective) && !self.ctx.candidate.is_ght() {
            return Err(Refusal::GhtOnlyObjective {
                field: "objective",
                code: objective,
            });
        }
        let s = self.required("status", &input.status)?;
        let status = AttainmentStatus::parse(s).ok_or_else(|| Refusal::Malformed {
            field: "status",
            value: s.to_string(),
            expected: "unknown, attained ou not_attained",
        })?;
        let coverage = if input.coverage.trim().is_empty() {
            None
        } else {
            let c = input.coverage.trim().trim_end_matches('%').trim();
            let d = parse_decimal_plain(c)
                .ok()
                .filter(|d| *d >= Decimal::ZERO && *d <= Decimal::ONE_HUNDRED);
            Some(Percent::new(
                d.ok_or_else(|| Refusal::Malformed {
                    field: "coverage",
                    value: c.to_string(),
                    expected: "pourcentage entre 0 et 100",
                })?
                .normalize(),
            ))
        };
        if let (Some(c), Some(item)) = (coverage, self.ctx.catalogue.decote_item(&objective)) {
            if let (DecoteRate::ByCoverage(_), Some(attained_from)) =
                (&item.rate, item.attained_from())
            {
                let contradicts = match status {
                    AttainmentStatus::Attained => c < attained_from,
                    AttainmentStatus::NotAttained => c >= attained_from,
                    AttainmentStatus::Unknown => false,
                };
                if contradicts {
                    return Err(Refusal::CoverageContradictsStatus {
                        coverage: c,
                        status: status.label_fr(),
                        attained_from,
                    });
                }
            }
        }
        let reason = input.reason.trim().to_string();
        if reason.chars().count() > MAX_TEXT_CHARS {
            return Err(Refusal::TextTooLong { field: "reason" });
        }
        Ok(StatementEvent::AttainmentRecorded {
            schema_version: SCHEMA_VERSION_1,
            objective,
            status,
            coverage,
            reason,
        })
    }
}

/// The line, known and not withdrawn.
fn active_line(statement: &Statement, id: LineId) -> Result<&super::lines::Line, Refusal> {
    let line = statement
        .lines
        .get(&id)
        .ok_or_else(|| Refusal::UnknownLine {
            line_id: id.to_string(),
        })?;
    if !line.is_active() {
        return Err(Refusal::LineWithdrawn { line_id: id });
    }
    Ok(line)
}

/// The subsidy figures, when a payment may be ordered on them: computable, final, décote under 100 %.
fn payable(statement: &Statement, ctx: &DecisionContext<'_>) -> Result<SubsidyReport, Refusal> {
    let report = compute_subsidy(statement, ctx.catalogue, ctx.candidate)
        .map_err(|source| Refusal::SubsidyNotComputable { source })?;
    if report.provisional {
        return Err(Refusal::ProvisionalSubsidy {
            unknown_objectives: report.unknown_objectives.len(),
            unreviewed_lines: report.unreviewed_lines,
        });
    }
    if report.decote.value() >= Decimal::ONE_HUNDRED {
        return Err(Refusal::FullDecote);
    }
    Ok(report)
}

/// A SHA-256 given as 64 hex digits, lowercased.
fn parse_sha256(value: &str) -> Result<Option<String>, Refusal> {
    parse_sha256_field("document_sha256", value)
}

fn parse_sha256_field(field: &'static str, value: &str) -> Result<Option<String>, Refusal> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Refusal::Malformed {
            field,
            value: v.to_string(),
            expected: "SHA-256 en 64 caractères hexadécimaux",
        });
    }
    Ok(Some(v.to_ascii_lowercase()))
}

fn allow(role: Role, allowed: &[Role], command: &StatementCommand) -> Result<(), Refusal> {
    if allowed.contains(&role) {
        Ok(())
    } else {
        Err(Refusal::RoleNotAllowed {
            role: role.as_str(),
            command: command.name(),
        })
    }
}

/// Decides the events a command produces on this statement, or refuses it. Pure and deterministic.
pub fn decide(
    statement: &Statement,
    ctx: &DecisionContext<'_>,
    command: StatementCommand,
) -> Result<Vec<StatementEvent>, Refusal> {
    use StatementCommand as C;
    let domain = ctx.catalogue.domain;
    if ctx.candidate.domain(domain).is_none() {
        return Err(Refusal::NotACandidateForDomain {
            candidate: ctx.candidate.finess.to_string(),
            domain: domain.as_str(),
        });
    }
    let same_stream = statement
        .candidate
        .as_ref()
        .is_none_or(|c| c == &ctx.candidate.finess)
        && statement.domain.is_none_or(|d| d == domain);
    if !same_stream {
        return Err(Refusal::WrongStream {
            candidate: ctx.candidate.finess.to_string(),
            domain: domain.as_str(),
        });
    }
    let check = Check { ctx };
    let role = ctx.role;

    // Role first, then state: a role that can never run the command learns nothing about the state.
    match &command {
        C::OpenStatement => allow(
            role,
            &[Role::Etablissement, Role::Controleur, Role::Admin],
            &command,
        )?,
        C::AttachDocument(_) => allow(role, &[Role::Etablissement, Role::Controleur], &command)?,
        C::RecordAttainment(_)
        | C::Reopen { .. }
        | C::ReviewLine(_)
        | C::RecordEvidence { .. }
        | C::ComputeAttainment { .. } => allow(role, &[Role::Controleur], &command)?,
        C::OrderPayment { .. }
        | C::ConfirmDisbursement { .. }
        | C::CancelPayment { .. }
        | C::IssueRecoveryOrder { .. }
        | C::RecordRecoveryReceived { .. } => allow(role, &[Role::Paiement], &command)?,
        _ => allow(role, &[Role::Etablissement], &command)?,
    }
    if let C::OpenStatement = command {
        if statement.status != StatementStatus::NotOpened {
            return Err(Refusal::AlreadyOpened);
        }
        return Ok(vec![StatementEvent::StatementOpened {
            schema_version: SCHEMA_VERSION_1,
            candidate: ctx.candidate.finess.clone(),
            domain,
        }]);
    }
    if statement.status == StatementStatus::NotOpened {
        return Err(Refusal::NotOpened);
    }
    let editable = || {
        if statement.status.is_editable() {
            Ok(())
        } else {
            Err(Refusal::Locked)
        }
    };
    let fresh = |id: LineId| {
        if statement.lines.contains_key(&id) {
            Err(Refusal::DuplicateLineId { line_id: id })
        } else {
            Ok(id)
        }
    };
    let correct = |id: LineId, content: LineContent| -> Result<Vec<StatementEvent>, Refusal> {
        let existing = statement
            .lines
            .get(&id)
            .ok_or_else(|| Refusal::UnknownLine {
                line_id: id.to_string(),
            })?;
        if !existing.is_active() {
            return Err(Refusal::LineWithdrawn { line_id: id });
        }
        if existing.content.kind_name() != content.kind_name() {
            return Err(Refusal::LineKindMismatch {
                line_id: id,
                actual: existing.content.kind_name(),
                expected: content.kind_name(),
            });
        }
        Ok(vec![StatementEvent::LineCorrected {
            schema_version: SCHEMA_VERSION_1,
            line_id: id,
            line: content,
        }])
    };
    let v = SCHEMA_VERSION_1;
    match command {
        C::OpenStatement => unreachable!("handled above"),
        C::DeclareInternalCost(input) => {
            editable()?;
            let (id, line) = check.internal(&input)?;
            Ok(vec![StatementEvent::InternalCostDeclared {
                schema_version: v,
                line_id: fresh(id)?,
                line,
            }])
        }
        C::DeclareExternalCost(input) => {
            editable()?;
            let (id, line) = check.external(&input)?;
            Ok(vec![StatementEvent::ExternalCostDeclared {
                schema_version: v,
                line_id: fresh(id)?,
                line,
            }])
        }
        C::DeclareOtherCost(input) => {
            editable()?;
            let (id, line) = check.other(&input)?;
            Ok(vec![StatementEvent::OtherCostDeclared {
                schema_version: v,
                line_id: fresh(id)?,
                line,
            }])
        }
        C::DeclareReceipt(input) => {
            editable()?;
            let (id, line) = check.receipt(&input)?;
            Ok(vec![StatementEvent::ReceiptDeclared {
                schema_version: v,
                line_id: fresh(id)?,
                line,
            }])
        }
        C::CorrectInternalCost(input) => {
            editable()?;
            let (id, line) = check.internal(&input)?;
            correct(id, LineContent::Internal(line))
        }
        C::CorrectExternalCost(input) => {
            editable()?;
            let (id, line) = check.external(&input)?;
            correct(id, LineContent::External(line))
        }
        C::CorrectOtherCost(input) => {
            editable()?;
            let (id, line) = check.other(&input)?;
            correct(id, LineContent::Other(line))
        }
        C::CorrectReceipt(input) => {
            editable()?;
            let (id, line) = check.receipt(&input)?;
            correct(id, LineContent::Receipt(line))
        }
        C::WithdrawLine { line_id, reason } => {
            editable()?;
            let id = check.line_id(&line_id)?;
            let reason = check.text("reason", &reason)?;
            let existing = statement
                .lines
                .get(&id)
                .ok_or_else(|| Refusal::UnknownLine {
                    line_id: id.to_string(),
                })?;
            if !existing.is_active() {
                return Err(Refusal::LineWithdrawn { line_id: id });
            }
            Ok(vec![StatementEvent::LineWithdrawn {
                schema_version: v,
                line_id: id,
                reason,
            }])
        }
        C::RecordAttainment(input) => Ok(vec![check.attainment(&input)?]),
        C::AttachDocument(input) => Ok(vec![check.document(statement, &input)?]),
        C::RecordEvidence { evidence } => {
            if domain != DomainId::D1bis {
                return Err(Refusal::AttainmentNotComputable {
                    domain: domain.as_str(),
                });
            }
            evidence
                .validate()
                .map_err(|source| Refusal::InvalidEvidence {
                    field: evidence_field(&source),
                    source,
                })?;
            Ok(vec![StatementEvent::EvidenceRecorded {
                schema_version: v,
                evidence,
            }])
        }
        C::ComputeAttainment { reason } => {
            if domain != DomainId::D1bis {
                return Err(Refusal::AttainmentNotComputable {
                    domain: domain.as_str(),
                });
            }
            let submission = statement
                .declaration_date
                .ok_or(Refusal::NotSubmittedForAttainment)?;
            let evidence = statement.evidence.as_ref().ok_or(Refusal::NoEvidence)?;
            let reason = check.optional_text("reason", &reason)?;
            let actx = attainment_context(ctx.candidate, ctx.catalogue, submission)?;
            Ok(computed_events(&actx, ctx.catalogue, evidence, &reason))
        }
        C::Submit => {
            editable()?;
            Ok(vec![StatementEvent::StatementSubmitted {
                schema_version: v,
                submitted_at: ctx.effective_at,
                declaration_date: crate::clock::paris_date(ctx.effective_at),
            }])
        }
        C::Reopen { reason } => {
            if statement.status != StatementStatus::Submitted {
                return Err(Refusal::NotSubmitted);
            }
            let reason = check.text("reason", &reason)?;
            Ok(vec![StatementEvent::StatementReopened {
                schema_version: v,
                reason,
            }])
        }
        C::ReviewLine(input) => Ok(vec![check.review(statement, &input)?]),
        C::AnswerDocumentRequest(input) => {
            let id = check.line_id(&input.line_id)?;
            active_line(statement, id.clone())?;
            if !statement
                .latest_review(&id)
                .is_some_and(|r| r.is_pending_request())
            {
                return Err(Refusal::NoPendingDocumentRequest { line_id: id });
            }
            let comment = check.text("comment", &input.comment)?;
            let document_sha256 = parse_sha256(&input.document_sha256)?;
            if let Some(sha) = &document_sha256 {
                if !statement.has_document_content(sha) {
                    return Err(Refusal::DocumentNotAttached {
                        sha256: sha.clone(),
                    });
                }
            }
            let mut events = vec![StatementEvent::DocumentRequestAnswered {
                schema_version: v,
                line_id: id.clone(),
                comment,
                document_sha256,
                corrected: input.correction.is_some(),
            }];
            if let Some(correction) = input.correction {
                let same_line = |given: &mut String| -> Result<(), Refusal> {
                    let g = given.trim();
                    if !g.is_empty() && g != id.as_str() {
                        return Err(Refusal::Malformed {
                            field: "line_id",
                            value: g.to_string(),
                            expected:
                                "vide ou l'identifiant de la ligne dont les pièces sont demandées",
                        });
                    }
                    *given = id.to_string();
                    Ok(())
                };
                let content = match correction {
                    CorrectionInput::Internal(mut i) => {
                        same_line(&mut i.line_id)?;
                        LineContent::Internal(check.internal(&i)?.1)
                    }
                    CorrectionInput::External(mut i) => {
                        same_line(&mut i.line_id)?;
                        LineContent::External(check.external(&i)?.1)
                    }
                    CorrectionInput::Other(mut i) => {
                        same_line(&mut i.line_id)?;
                        LineContent::Other(check.other(&i)?.1)
                    }
                };
                events.extend(correct(id, content)?);
            }
            Ok(events)
        }
        C::OrderPayment {
            payment_id,
            amount,
            reference,
        } => {
            let today = crate::clock::paris_date(ctx.effective_at);
            let window = ctx
                .catalogue
                .payment_window
                .ok_or(Refusal::NoPaymentWindow {
                    domain: domain.as_str(),
                })?;
            if !window.contains(today) {
                return Err(Refusal::OutsidePaymentWindow {
                    date: today,
                    start: window.start,
                    end: window.end,
                });
            }
            if statement.status != StatementStatus::Submitted {
                return Err(Refusal::NotSubmittedForPayment {
                    status: statement.status.label_fr(),
                });
            }
            let report = payable(statement, ctx)?;
            let id = check.payment_id("payment_id", &payment_id, || {
                statement.payments.next_payment_id()
            })?;
            if statement.payments.payments.contains_key(&id) {
                return Err(Refusal::DuplicatePaymentId {
                    field: "payment_id",
                    id,
                });
            }
            let amount = check.positive_money("amount", &amount)?;
            if amount > report.due {
                return Err(Refusal::AboveDue {
                    field: "amount",
                    amount,
                    due: report.due,
                });
            }
            Ok(vec![StatementEvent::PaymentOrdered {
                schema_version: v,
                payment_id: id,
                amount,
                reference: check.text("reference", &reference)?,
                ordered_on: today,
            }])
        }
        C::ConfirmDisbursement {
            payment_id,
            bank_reference,
            value_date,
        } => {
            let payment = live_payment(statement, &check, &payment_id)?;
            Ok(vec![StatementEvent::PaymentDisbursed {
                schema_version: v,
                payment_id: payment.id.clone(),
                bank_reference: check.text("bank_reference", &bank_reference)?,
                value_date: check.date("value_date", &value_date)?,
                disbursed_on: crate::clock::paris_date(ctx.effective_at),
            }])
        }
        C::CancelPayment { payment_id, reason } => {
            let payment = live_payment(statement, &check, &payment_id)?;
            Ok(vec![StatementEvent::PaymentCancelled {
                schema_version: v,
                payment_id: payment.id.clone(),
                reason: check.text("reason", &reason)?,
                cancelled_on: crate::clock::paris_date(ctx.effective_at),
            }])
        }
        C::IssueRecoveryOrder {
            recovery_id,
            amount,
            reason,
        } => {
            // A provisional subsidy may only fall further (unreviewed lines count at their declared amount,
            // unknown objectives without décote): an overpayment found on it is already certain.
            let report = compute_subsidy(statement, ctx.catalogue, ctx.candidate)
                .map_err(|source| Refusal::SubsidyNotComputable { source })?;
            if !report.due.is_negative() {
                return Err(Refusal::NoOverpayment { due: report.due });
            }
            let id = check.payment_id("recovery_id", &recovery_id, || {
                statement.payments.next_recovery_id()
            })?;
            if statement.payments.recoveries.contains_key(&id) {
                return Err(Refusal::DuplicatePaymentId {
                    field: "recovery_id",
                    id,
                });
            }
            let amount = check.positive_money("amount", &amount)?;
            let uncovered = report.overpayment - report.recovery_outstanding;
            if amount > uncovered {
                return Err(Refusal::RecoveryAboveOverpayment { amount, uncovered });
            }
            Ok(vec![StatementEvent::RecoveryOrdered {
                schema_version: v,
                recovery_id: id,
                amount,
                reason: check.text("reason", &reason)?,
                ordered_on: crate::clock::paris_date(ctx.effective_at),
            }])
        }
        C::RecordRecoveryReceived {
            recovery_id,
            amount,
            bank_reference,
        } => {
            let r = check.required("recovery_id", &recovery_id)?;
            let recovery = PaymentId::parse(r)
                .and_then(|id| statement.payments.recoveries.get(&id))
                .ok_or_else(|| Refusal::UnknownRecovery {
                    recovery_id: r.to_string(),
                })?;
            let amount = check.positive_money("amount", &amount)?;
            if amount > recovery.outstanding() {
                return Err(Refusal::AboveRecoveryOutstanding {
                    amount,
                    outstanding: recovery.outstanding(),
                });
            }
            Ok(vec![StatementEvent::RecoveryReceived {
                schema_version: v,
                recovery_id: recovery.id.clone(),
                amount,
                bank_reference: check.text("bank_reference", &bank_reference)?,
                received_on: crate::clock::paris_date(ctx.effective_at),
            }])
        }
    }
}

/// A payment that is known, not cancelled and not yet disbursed.
fn live_payment<'s>(
    statement: &'s Statement,
    check: &Check<'_>,
    payment_id: &str,
) -> Result<&'s super::payments::Payment, Refusal> {
    let p = check.required("payment_id", payment_id)?;
    let payment = PaymentId::parse(p)
        .and_then(|id| statement.payments.payments.get(&id))
        .ok_or_else(|| Refusal::UnknownPayment {
            payment_id: p.to_string(),
        })?;
    match payment.status {
        super::payments::PaymentStatus::Cancelled => Err(Refusal::PaymentCancelled {
            payment_id: payment.id.clone(),
        }),
        super::payments::PaymentStatus::Disbursed => Err(Refusal::PaymentAlreadyDisbursed {
            payment_id: payment.id.clone(),
        }),
        super::payments::PaymentStatus::Ordered => Ok(payment),
    }
}

/// Gives a declaration without a line id the next free one of its kind (`INT-0001`, `EXT-0002`,
/// `AUT-0003`, `REC-0004`, numbered by declaration order), deterministically from the state, so that a
/// retried command with the same idempotency key gets the same id. Ids given by the user are kept.
///
/// Payment and recovery orders without an id get the next `PAY-nnnn` / `REC-PAY-nnnn` the same way.
pub fn assign_line_id(command: &mut StatementCommand, statement: &Statement) {
    match command {
        StatementCommand::OrderPayment { payment_id, .. } if payment_id.trim().is_empty() => {
            *payment_id = statement.payments.next_payment_id().to_string();
            return;
        }
        StatementCommand::IssueRecoveryOrder { recovery_id, .. }
            if recovery_id.trim().is_empty() =>
        {
            *recovery_id = statement.payments.next_recovery_id().to_string();
            return;
        }
        StatementCommand::AttachDocument(input) if input.document_id.trim().is_empty() => {
            input.document_id = statement.next_document_id().to_string();
            return;
        }
        _ => {}
    }
    let (prefix, line_id) = match command {
        StatementCommand::DeclareInternalCost(i) => ("INT", &mut i.line_id),
        StatementCommand::DeclareExternalCost(i) => ("EXT", &mut i.line_id),
        StatementCommand::DeclareOtherCost(i) => ("AUT", &mut i.line_id),
        StatementCommand::DeclareReceipt(i) => ("REC", &mut i.line_id),
        _ => return,
    };
    if !line_id.trim().is_empty() {
        return;
    }
    let mut n = statement.next_seq + 1;
    loop {
        let candidate = format!("{prefix}-{n:04}");
        let taken = LineId::parse(&candidate).is_some_and(|id| statement.lines.contains_key(&id));
        if !taken {
            *line_id = candidate;
            return;
        }
        n += 1;
    }
}
