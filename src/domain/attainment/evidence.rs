//! Inputs of the evaluator: the candidate's context (built by the caller from the candidate base) and
//! the audit evidence recorded by controllers (serialisable: these are event payloads).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::params::AttainmentParams;
use crate::domain::{Finess, Percent};

/// Kind of candidate (SPEC.md §3). Decides whether D1.O6 applies and, for the caller, at which level
/// coverage units and FINESS PMSI establishments are counted (see [`CandidateKind::coverage_level`] and
/// [`CandidateKind::pmsi_level`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CandidateKind {
    /// Établissement public outside a GHT (one EJ and its EG).
    PublicEj,
    /// Établissement de santé privé.
    Private,
    /// GHT, with its support establishment.
    Ght,
    /// Centre de dialyse.
    Dialysis,
}

/// The level an establishment is counted at: entité juridique or entité géographique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EstablishmentLevel {
    Ej,
    Eg,
}

impl CandidateKind {
    pub fn is_ght(self) -> bool {
        self == CandidateKind::Ght
    }

    /// Level of the units counted for D1.O1.B / D1.O2.B coverage: per EJ (support included) for a GHT,
    /// per EG otherwise (seed 003 remarks under Cas #1/#2). A dialysis centre is an EJ candidate, so
    /// per EG **(our reading)**.
    pub fn coverage_level(self) -> EstablishmentLevel {
        match self {
            CandidateKind::Ght => EstablishmentLevel::Ej,
            CandidateKind::PublicEj | CandidateKind::Private | CandidateKind::Dialysis => {
                EstablishmentLevel::Eg
            }
        }
    }

    /// Level of the "FINESS PMSI" establishments of D1.O3 / D1.O4: the EJ for public candidates (GHT
    /// included) and dialysis centres, the EG for private ones (seed 003, SPEC.md §3).
    pub fn pmsi_level(self) -> EstablishmentLevel {
        match self {
            CandidateKind::Private => EstablishmentLevel::Eg,
            CandidateKind::PublicEj | CandidateKind::Ght | CandidateKind::Dialysis => {
                EstablishmentLevel::Ej
            }
        }
    }
}

/// One establishment counted for D1.O1.B / D1.O2.B coverage, with its share of the combined activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageUnit {
    pub finess: Finess,
    /// As users read it in explanations, e.g. "EG 2" or "CH de Trifouillis".
    pub label: String,
    pub activity_share: Percent,
    /// The GHT's support establishment (informational; it counts like any other unit).
    pub is_support: bool,
}

/// What the evaluator knows about the candidate, besides the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttainmentContext {
    pub kind: CandidateKind,
    /// Units for coverage: per EG for an EJ, private or dialysis candidate, per EJ including the support
    /// establishment for a GHT (the caller builds them, see [`CandidateKind::coverage_level`]).
    /// D1.O6.B's trajectory must cover all of them.
    pub coverage_units: Vec<CoverageUnit>,
    /// FINESS PMSI establishments for D1.O3 and D1.O4 (see [`CandidateKind::pmsi_level`]).
    pub pmsi_establishments: Vec<Finess>,
    /// Start of the candidate's operational phase for D1 bis.
    pub phase_start: NaiveDate,
    /// Date of the declaration of objectives reached (dépôt), the end of every window.
    pub submission_date: NaiveDate,
    pub params: AttainmentParams,
}

/// An Active Directory (annuaire) of the candidate and the coverage units it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub id: String,
    pub name: String,
    /// FINESS numbers of the coverage units this AD serves (EG, or EJ for a GHT).
    pub serves: Vec<Finess>,
}

/// An ADS (ANSSI ORADAD) audit of one directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdsAudit {
    pub directory_id: String,
    pub launch: NaiveDate,
    pub end: NaiveDate,
    /// ADS score, 0 to 5.
    pub score: u8,
}

/// Platform of an internet exposure audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExposurePlatform {
    /// ANSSI's SILENE service: counts for D1.O2.A (frequency), never for D1.O2.B.
    Silene,
    /// An industrial platform conforming to the cahier des charges.
    Industrial,
}

impl ExposurePlatform {
    pub fn label_fr(self) -> &'static str {
        match self {
            ExposurePlatform::Silene => "SILENE",
            ExposurePlatform::Industrial => "plateforme industrielle",
        }
    }
}

/// An internet exposure audit over a perimeter (the coverage units it covers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureAudit {
    pub id: String,
    pub launch: NaiveDate,
    pub end: NaiveDate,
    pub platform: ExposurePlatform,
    /// Number of vulnerabilities with CVSS > 9.0 (critical) found.
    pub critical_vulns: u32,
    /// FINESS numbers of the coverage units in the audited perimeter.
    pub covers: Vec<Finess>,
}

/// The candidate uses SILENE and registered with the Club RSSI on this day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SileneUse {
    pub club_rssi_registration: NaiveDate,
}

/// A cyber crisis exercise (D1.O3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrisisExercise {
    /// The FINESS PMSI establishment where it took place.
    pub finess: Finess,
    pub date: NaiveDate,
    /// Other FINESS PMSI establishments this exercise also validates. Seed 003: an exercise at GHT (or
    /// EJ) level validates several EJ (or EG) when their directions took part and their SI is single;
    /// the controller records that judgement by listing them here. Absent in older payloads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_covers: Vec<Finess>,
}

/// The two oSIS V3 questionnaires of D1.O4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OsisForm {
    /// QR_MATURINH-SSI-CPT-V1 (budget, ETP, exercices de crise).
    Cpt,
    /// QR_MATURINH-SSI-MPR-V1 (mesures prioritaires).
    Mpr,
}

impl OsisForm {
    pub const ALL: [OsisForm; 2] = [OsisForm::Cpt, OsisForm::Mpr];

    pub fn code(self) -> &'static str {
        match self {
            OsisForm::Cpt => "QR_MATURINH-SSI-CPT-V1",
            OsisForm::Mpr => "QR_MATURINH-SSI-MPR-V1",
        }
    }
}

/// Completion of one oSIS questionnaire for one FINESS PMSI establishment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsisQuestionnaire {
    pub finess: Finess,
    pub questionnaire: OsisForm,
    /// Share of the 43 priority measures' fields filled, in % (0 to 100).
    pub priority_fields_pct: Decimal,
}

/// D1.O5 declarations. Each is optional: a declaration with one value missing is not attained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitalBudget {
    /// Part du budget dédiée au numérique dans le budget général, in %.
    pub digital_share_pct: Option<Percent>,
    /// Nombre d'ETP dédiés à la SSI (DSI resources and RSSI).
    pub ssi_fte: Option<Decimal>,
}

/// The GHT's AD convergence trajectory document (D1.O6.B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trajectory {
    /// FINESS numbers of the establishments (coverage units) the trajectory addresses.
    pub covers: Vec<Finess>,
    /// A project planning is included.
    pub planning: bool,
    /// Date of the first planned milestone.
    pub first_milestone: Option<NaiveDate>,
    /// Organisational arrangements (a person in charge, pooled SI teams) are described.
    pub organisation: bool,
    /// A provisional budget is given.
    pub budget: bool,
}

/// D1.O6 documents of a GHT candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GhtDocuments {
    /// Constitution de l'équipe projet provided (D1.O6.A).
    pub project_team: bool,
    /// Schéma de la gouvernance provided (D1.O6.A).
    pub governance: bool,
    pub trajectory: Option<Trajectory>,
}

/// All evidence recorded for one candidate's D1 bis statement. An empty collection means "nothing
/// recorded yet": the objectives it feeds are `Unknown`, not `NotAttained`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub directories: Vec<Directory>,
    pub ads_audits: Vec<AdsAudit>,
    pub exposure_audits: Vec<ExposureAudit>,
    pub silene: Option<SileneUse>,
    pub crisis_exercises: Vec<CrisisExercise>,
    pub osis: Vec<OsisQuestionnaire>,
    pub budget: Option<DigitalBudget>,
    pub ght: Option<GhtDocuments>,
}

/// Evidence a command must refuse before it becomes an event (the evaluator itself never fails).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("audit ADS de l'annuaire \"{directory_id}\" : score {score} hors de 0 à 5")]
    AdsScoreOutOfRange { directory_id: String, score: u8 },
    #[error("audit \"{audit}\" : date de fin {end} antérieure au lancement {launch}")]
    EndBeforeLaunch {
        audit: String,
        launch: NaiveDate,
        end: NaiveDate,
    },
    #[error("annuaire \"{0}\" déclaré deux fois")]
    DuplicateDirectory(String),
    #[error("audit ADS rattaché à un annuaire inconnu \"{0}\"")]
    UnknownDirectory(String),
    #[error("audit d'exposition \"{0}\" sans périmètre")]
    EmptyPerimeter(String),
    #[error("trop d'éléments de preuve ({what} : {count}, au plus {max})")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("questionnaire oSIS de {finess} : {pct} % hors de 0 à 100")]
    OsisPercentOutOfRange { finess: Finess, pct: Decimal },
}

/// Bound on every evidence collection (TIGER_STYLE "limit everything"): far above the programme's needs
/// (an audit every 60 days for a year is 7 per AD).
pub const MAX_EVIDENCE_ITEMS: usize = 10_000;

impl Evidence {
    /// Checks what a command must refuse: more than [`MAX_EVIDENCE_ITEMS`] of a kind, scores outside 0..=5, an end before the launch, duplicate or
    /// unknown directories, an exposure audit without perimeter, an oSIS percentage outside 0..=100.
    pub fn validate(&self) -> Result<(), EvidenceError> {
        let sizes = [
            ("annuaires", self.directories.len()),
            ("audits ADS", self.ads_audits.len()),
            ("audits d'exposition", self.exposure_audits.len()),
            ("exercices de crise", self.crisis_exercises.len()),
            ("questionnaires oSIS", self.osis.len()),
        ];
        for (what, count) in sizes {
            if count > MAX_EVIDENCE_ITEMS {
                return Err(EvidenceError::TooMany {
                    what,
                    count,
                    max: MAX_EVIDENCE_ITEMS,
                });
            }
        }
        let mut ids: Vec<&str> = Vec::with_capacity(self.directories.len());
        for d in &self.directories {
            if ids.contains(&d.id.as_str()) {
                return Err(EvidenceError::DuplicateDirectory(d.id.clone()));
            }
            ids.push(&d.id);
        }
        for a in &self.ads_audits {
            if a.score > 5 {
                return Err(EvidenceError::AdsScoreOutOfRange {
                    directory_id: a.directory_id.clone(),
                    score: a.score,
                });
            }
            if a.end < a.launch {
                return Err(EvidenceError::EndBeforeLaunch {
                    audit: format!("ADS {}", a.directory_id),
                    launch: a.launch,
                    end: a.end,
                });
            }
            if !ids.contains(&a.directory_id.as_str()) {
                return Err(EvidenceError::UnknownDirectory(a.directory_id.clone()));
            }
        }
        for e in &self.exposure_audits {
            if e.end < e.launch {
                return Err(EvidenceError::EndBeforeLaunch {
                    audit: e.id.clone(),
                    launch: e.launch,
                    end: e.end,
                });
            }
            if e.covers.is_empty() {
                return Err(EvidenceError::EmptyPerimeter(e.id.clone()));
            }
        }
        for q in &self.osis {
            if q.priority_fields_pct < Decimal::ZERO || q.priority_fields_pct > Decimal::ONE_HUNDRED
            {
                return Err(EvidenceError::OsisPercentOutOfRange {
                    finess: q.finess.clone(),
                    pct: q.priority_fields_pct,
                });
            }
        }
        Ok(())
    }
}
