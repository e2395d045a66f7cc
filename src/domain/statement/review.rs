//! Line review by controllers (SPEC.md §7): decisions, the fixed list of ineligibility reasons, document
//! requests and the establishment's answers, as kept in the statement's state.

use crate::domain::money::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A controller's decision on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Retained at its declared amount.
    Eligible,
    /// Retained at 0, with a reason code and a comment.
    Ineligible,
    /// Retained at an amount in ]0, declared].
    PartiallyEligible,
    /// No amount retained yet: the line stays unreviewed until a later decision.
    DocumentsRequested,
}

impl ReviewDecision {
    /// `eligible|ineligible|partially_eligible|documents_requested`, or the French `eligible|ineligible|
    /// partiellement_eligible|pieces_demandees` (accents, spaces and dashes tolerated).
    pub fn parse(text: &str) -> Option<ReviewDecision> {
        let t: String = text
            .trim()
            .to_lowercase()
            .replace(['é', 'è'], "e")
            .replace([' ', '-'], "_");
        match t.as_str() {
            "eligible" => Some(ReviewDecision::Eligible),
            "ineligible" | "non_eligible" => Some(ReviewDecision::Ineligible),
            "partially_eligible" | "partiellement_eligible" => {
                Some(ReviewDecision::PartiallyEligible)
            }
            "documents_requested" | "pieces_demandees" | "justificatifs_demandes" => {
                Some(ReviewDecision::DocumentsRequested)
            }
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Eligible => "eligible",
            ReviewDecision::Ineligible => "ineligible",
            ReviewDecision::PartiallyEligible => "partially_eligible",
            ReviewDecision::DocumentsRequested => "documents_requested",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            ReviewDecision::Eligible => "éligible",
            ReviewDecision::Ineligible => "inéligible",
            ReviewDecision::PartiallyEligible => "partiellement éligible",
            ReviewDecision::DocumentsRequested => "pièces demandées",
        }
    }
}

/// Why a line is ineligible: a fixed list (our rule, SPEC.md §7 asks for "a reason code"; the seeds give
/// no list). The codes are stored; the labels are for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IneligibilityReason {
    HorsPeriode,
    NatureNonEligible,
    Doublon,
    JustificatifAbsent,
    SansLienObjectif,
    Autre,
}

impl IneligibilityReason {
    pub const ALL: [IneligibilityReason; 6] = [
        IneligibilityReason::HorsPeriode,
        IneligibilityReason::NatureNonEligible,
        IneligibilityReason::Doublon,
        IneligibilityReason::JustificatifAbsent,
        IneligibilityReason::SansLienObjectif,
        IneligibilityReason::Autre,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IneligibilityReason::HorsPeriode => "HORS_PERIODE",
            IneligibilityReason::NatureNonEligible => "NATURE_NON_ELIGIBLE",
            IneligibilityReason::Doublon => "DOUBLON",
            IneligibilityReason::JustificatifAbsent => "JUSTIFICATIF_ABSENT",
            IneligibilityReason::SansLienObjectif => "SANS_LIEN_OBJECTIF",
            IneligibilityReason::Autre => "AUTRE",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            IneligibilityReason::HorsPeriode => "dépense hors de la période d'éligibilité",
            IneligibilityReason::NatureNonEligible => "nature de dépense non éligible",
            IneligibilityReason::Doublon => "dépense déjà déclarée (doublon)",
            IneligibilityReason::JustificatifAbsent => "justificatif absent ou insuffisant",
            IneligibilityReason::SansLienObjectif => "sans lien avec l'objectif déclaré",
            IneligibilityReason::Autre => "autre motif (voir le commentaire)",
        }
    }

    /// The code, case-insensitive, `-` or space for `_`.
    pub fn parse(text: &str) -> Option<IneligibilityReason> {
        let t = text.trim().to_uppercase().replace([' ', '-'], "_");
        IneligibilityReason::ALL.into_iter().find(|r| r.code() == t)
    }

    /// `HORS_PERIODE, NATURE_NON_ELIGIBLE, …` for refusal messages.
    pub fn codes() -> &'static str {
        "HORS_PERIODE, NATURE_NON_ELIGIBLE, DOUBLON, JUSTIFICATIF_ABSENT, SANS_LIEN_OBJECTIF, AUTRE"
    }
}

/// Documents asked of the establishment, and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRequest {
    pub what: String,
    pub due: NaiveDate,
}

/// The establishment's answer to a document request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentAnswer {
    pub comment: String,
    /// SHA-256 (hex) of the document provided, when one is.
    pub document_sha256: Option<String>,
    /// Whether the answer came with a corrected line (`LineCorrected`).
    pub corrected: bool,
}

/// One review of a line, as kept in the line's history (the last one is the decision in force).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineReview {
    pub decision: ReviewDecision,
    pub reason_code: Option<IneligibilityReason>,
    pub comment: String,
    /// The amount retained, `None` for documents requested.
    pub retained_amount: Option<Money>,
    pub requested: Option<DocumentRequest>,
    /// The line revision (number of corrections) the review was made on.
    pub line_revision: u32,
    /// Paris date of the review.
    #[serde(default)]
    pub reviewed_on: Option<NaiveDate>,
    /// Set once the establishment answers a document request.
    pub answer: Option<DocumentAnswer>,
}

impl LineReview {
    /// A document request still waiting for the establishment's answer.
    pub fn is_pending_request(&self) -> bool {
        self.decision == ReviewDecision::DocumentsRequested && self.answer.is_none()
    }
}
