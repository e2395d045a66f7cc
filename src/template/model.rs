//! The input model of the financial template (trame de l'état financier, SPEC.md §9): a plain data
//! structure holding everything one workbook shows. The ledger's read side maps a statement into it;
//! the exporter only lays it out. Amounts are [`Money`], hours and percentages exact decimals.

use crate::domain::statement::what_if::WhatIf;
use crate::domain::statement::{InternalCostLine as DomainInternalCostLine, InternalCostRows};
use crate::domain::{DomainId, Finess, Matricule, Money, ObjectiveCode, Percent};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Who downloads the workbook: cross-candidate flags are shown to controllers only (SPEC.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewerRole {
    Establishment,
    Controller,
    PaymentDesk,
}

impl ViewerRole {
    pub fn sees_controller_only_flags(self) -> bool {
        !matches!(self, ViewerRole::Establishment)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateInfo {
    pub finess: Finess,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveInfo {
    /// Letter-O form, e.g. `D1.O1.A`.
    pub code: ObjectiveCode,
    pub label: String,
}

/// An objective group (`D1.O1`) with the seed's receipts-table spelling (`D1.01`) and label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub code: ObjectiveCode,
    pub receipts_label: String,
    pub label: String,
    /// False for a GHT-only group (D1.O6) of a candidate that is not a GHT: its rows are hidden.
    #[serde(default = "applicable_by_default")]
    pub applicable: bool,
}

fn applicable_by_default() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseNatureInfo {
    pub code: String,
    pub label: String,
    pub eligible: bool,
}

/// Cost type of an external or other cost (seed 000: "coût d'investissement, coût récurrent").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CostType {
    Investment,
    Recurring,
}

impl CostType {
    pub const ALL: [CostType; 2] = [CostType::Investment, CostType::Recurring];

    pub fn label_fr(self) -> &'static str {
        match self {
            CostType::Investment => "Coût d'investissement",
            CostType::Recurring => "Coût récurrent",
        }
    }

    pub fn from_label_fr(text: &str) -> Option<CostType> {
        let t = text.trim().to_lowercase();
        CostType::ALL.into_iter().find(|c| {
            c.label_fr().to_lowercase() == t
                || matches!(
                    (c, t.as_str()),
                    (CostType::Investment, "investissement") | (CostType::Recurring, "récurrent")
                )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalCostLine {
    pub line_id: String,
    pub matricule: Matricule,
    pub year: i32,
    /// SALAIRE BRUT ANNUELISE (sans prorata).
    pub gross: Money,
    /// CHARGES PATRONALES (sans prorata).
    pub charges: Money,
    /// dont paiement des éléments non éligibles (sal brut).
    pub ne_gross: Money,
    pub hours_productive: Decimal,
    pub hours_on_action: Decimal,
    pub objective: ObjectiveCode,
    pub contribution: String,
    /// Amount retained by the review, if reviewed.
    pub retained: Option<Money>,
}

impl InternalCostLine {
    /// The derived rows of SPEC.md §5, computed by the domain's one rule
    /// ([`crate::domain::statement::InternalCostLine::rows`]).
    pub fn rows(&self) -> InternalCostRows {
        DomainInternalCostLine {
            matricule: self.matricule.clone(),
            year: self.year,
            objective: self.objective.clone(),
            nature: String::new(),
            contribution: String::new(),
            gross_annualised: self.gross,
            employer_charges: self.charges,
            non_eligible_gross: self.ne_gross,
            hours_productive: self.hours_productive,
            hours_on_action: self.hours_on_action,
        }
        .rows()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalCostLine {
    pub line_id: String,
    pub cost_type: CostType,
    pub order_date: Option<NaiveDate>,
    pub invoice_date: NaiveDate,
    pub order_number: String,
    pub invoice_number: String,
    pub supplier: String,
    pub label: String,
    pub amount: Money,
    pub nature: String,
    pub objective: ObjectiveCode,
    pub contribution: String,
    pub retained: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherCostLine {
    pub line_id: String,
    pub cost_type: CostType,
    pub date: NaiveDate,
    pub supplier: String,
    pub label: String,
    pub amount: Money,
    pub nature: String,
    pub objective: ObjectiveCode,
    pub contribution: String,
    pub retained: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub line_id: String,
    /// The objective group, letter-O form (`D1.O2`); the sheet shows its receipts label (`D1.02`).
    pub group: ObjectiveCode,
    pub label: String,
    pub nature_provenance: String,
    pub amount: Money,
    pub received_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentKind {
    Order,
    Disbursement,
    Recovery,
}

impl PaymentKind {
    pub fn label_fr(self) -> &'static str {
        match self {
            PaymentKind::Order => "Ordre de paiement",
            PaymentKind::Disbursement => "Versement",
            PaymentKind::Recovery => "Recouvrement",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub payment_id: String,
    pub kind: PaymentKind,
    pub date: NaiveDate,
    pub reference: String,
    pub amount: Money,
    /// An order cancelled later (not counted in the committed amount).
    pub cancelled: bool,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagLine {
    pub code: String,
    pub message_fr: String,
    pub line_id: Option<String>,
    pub values: String,
    /// Cross-candidate flags: shown to controllers only.
    pub controller_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLine {
    pub line_id: String,
    pub line_label: String,
    /// French label of the decision: éligible, inéligible, partiellement éligible, pièces demandées.
    pub decision: String,
    pub retained: Option<Money>,
    pub reason: String,
    pub comment: String,
    pub reviewer: String,
    pub decided_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttainmentStatus {
    Unknown,
    Attained,
    /// D1.O2.B: coverage from 66 % to under 90 %, the intermediate tier.
    PartiallyAttained,
    NotAttained,
    NotApplicable,
}

impl AttainmentStatus {
    pub fn label_fr(self) -> &'static str {
        match self {
            AttainmentStatus::Unknown => "Inconnu",
            AttainmentStatus::Attained => "Atteint",
            AttainmentStatus::PartiallyAttained => "Partiellement atteint",
            AttainmentStatus::NotAttained => "Non atteint",
            AttainmentStatus::NotApplicable => "Non applicable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttainmentLine {
    pub objective: ObjectiveCode,
    pub status: AttainmentStatus,
    pub coverage: Option<Percent>,
    /// Décote this objective contributes (0 when attained, the schedule's percentage otherwise).
    pub decote: Percent,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveFigures {
    pub objective: ObjectiveCode,
    pub internal: Money,
    pub external: Money,
    pub other: Money,
    pub total_declared: Money,
    pub total_eligible: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub group: ObjectiveCode,
    pub declared: Money,
    pub eligible: Money,
    pub receipts: Money,
}

/// The subsidy figures of the service (SPEC.md §8) once the décote and the capped ceiling can be
/// computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyFigures {
    pub decote: Percent,
    pub capped_ceiling: Money,
    pub subsidy: Money,
    /// Some objective unknown or some cost line unreviewed.
    pub provisional: bool,
    pub due: Money,
}

/// The service's figures (SPEC.md §8), all from the domain's `cost_figures` and `SubsidyReport`; the
/// workbook's formulas must find the same to the cent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryFigures {
    pub per_objective: Vec<ObjectiveFigures>,
    pub per_group: Vec<GroupFigures>,
    pub internal_declared: Money,
    pub external_declared: Money,
    pub other_declared: Money,
    pub declared: Money,
    pub eligible: Money,
    pub receipts: Money,
    pub net: Money,
    /// The candidate's ceiling for the domain (none when the candidate base gives none).
    pub ceiling: Option<Money>,
    pub committed: Money,
    pub disbursed: Money,
    pub recovered: Money,
    /// Décote, capped ceiling, subsidy and amount due, or why they cannot be computed: the same
    /// sentence as the statement's JSON (e.g. an objective not attained in a domain whose décote
    /// schedule is not published).
    pub subsidy: Result<SubsidyFigures, String>,
}

impl SummaryFigures {
    /// No payment may be ordered: provisional figures, or none at all.
    pub fn is_provisional(&self) -> bool {
        self.subsidy.as_ref().map(|s| s.provisional).unwrap_or(true)
    }

    /// The subsidy as a sentence: `12 500,00 €`, `12 500,00 €, provisoire`, or `non calculable : …`.
    pub fn subsidy_fr(&self) -> String {
        match &self.subsidy {
            Ok(s) if s.provisional => format!("{}, provisoire", s.subsidy.to_french()),
            Ok(s) => s.subsidy.to_french(),
            Err(reason) => format!("non calculable : {reason}"),
        }
    }

    /// « Définitive », « Provisoire » or « Non calculable ».
    pub fn status_fr(&self) -> &'static str {
        match &self.subsidy {
            Ok(s) if s.provisional => "Provisoire",
            Ok(_) => "Définitive",
            Err(_) => "Non calculable",
        }
    }
}

/// A supporting document attached to the statement (the `Pièces justificatives` sheet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    pub document_id: String,
    /// Kind label of the catalogue (the seed's wording).
    pub kind: String,
    pub file_name: String,
    /// `ligne EXT-001` or `objectif D1.O3`.
    pub target: String,
    pub attached_on: NaiveDate,
    /// Who attached it (role label).
    pub attached_by: String,
    pub size_bytes: u64,
    pub sha256: String,
    /// The document that replaced it, if any (it stays on file).
    pub superseded_by: Option<String>,
}

/// One expected document of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistRow {
    /// The objective or line it documents.
    pub target: String,
    /// Kind label of the catalogue.
    pub expected: String,
    pub required: bool,
    /// `fournie (DOC-0001)`, `récapitulatif de paie importé`, `MANQUANTE`, `facultative, absente`.
    pub state: String,
    pub missing: bool,
}

/// Everything one workbook shows: one statement (candidate × domain), possibly as of an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateModel {
    pub candidate: CandidateInfo,
    pub domain: DomainId,
    /// Columns of the internal-cost blocks, e.g. `[2026, 2027]` for D1 bis.
    pub years: Vec<i32>,
    pub accepts_internal_costs: bool,
    pub objectives: Vec<ObjectiveInfo>,
    pub groups: Vec<GroupInfo>,
    pub expense_natures: Vec<ExpenseNatureInfo>,
    pub internal_costs: Vec<InternalCostLine>,
    pub external_costs: Vec<ExternalCostLine>,
    pub other_costs: Vec<OtherCostLine>,
    pub receipts: Vec<ReceiptLine>,
    pub payments: Vec<PaymentLine>,
    pub flags: Vec<FlagLine>,
    pub reviews: Vec<ReviewLine>,
    pub attainment: Vec<AttainmentLine>,
    /// Supporting documents attached, superseded ones included.
    #[serde(default)]
    pub documents: Vec<DocumentLine>,
    /// What is expected per objective and per line, provided or missing.
    #[serde(default)]
    pub checklist: Vec<ChecklistRow>,
    pub summary: SummaryFigures,
    /// What-if figures (issue 16 §2), from the domain; shown as values in the summary.
    #[serde(default)]
    pub what_if: Option<WhatIf>,
    /// Global ledger position and head hash the statement reflects.
    pub ledger_position: u64,
    pub head_hash: String,
    /// The global position the whole workbook was read at (the statement, the candidate base, the
    /// payroll book, the other statements' invoices): `verify-export` regenerates it from there.
    #[serde(default)]
    pub read_position: u64,
    pub generated_at: DateTime<Utc>,
    pub as_of: Option<DateTime<Utc>>,
    pub viewer: ViewerRole,
}

impl TemplateModel {
    pub fn group_of(&self, objective: &ObjectiveCode) -> Option<&GroupInfo> {
        let group = objective.group();
        self.groups.iter().find(|g| g.code == group)
    }

    pub fn nature_label(&self, code: &str) -> String {
        self.expense_natures
            .iter()
            .find(|n| n.code == code)
            .map(|n| n.label.clone())
            .unwrap_or_else(|| code.to_string())
    }
}
