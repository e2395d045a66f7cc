//! The evaluator's output: one verdict per D1 bis objective, with its explanation as data and in French.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::evidence::{OsisForm, SileneUse};
use super::series::{FrequencyCheck, LevelCheck};
use crate::domain::{Finess, ObjectiveCode, Percent};

/// Attainment status of one objective. Written in snake_case like every other status of the API;
/// events recorded before that read back through the aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[serde(alias = "Attained")]
    Attained,
    #[serde(alias = "NotAttained")]
    NotAttained,
    /// Nothing recorded yet for this objective: the subsidy stays provisional (SPEC.md §8).
    #[serde(alias = "Unknown")]
    Unknown,
    /// D1.O6 for a candidate that is not a GHT.
    #[serde(alias = "NotApplicable")]
    NotApplicable,
}

impl Status {
    pub fn label_fr(self) -> &'static str {
        match self {
            Status::Attained => "atteint",
            Status::NotAttained => "non atteint",
            Status::Unknown => "inconnu",
            Status::NotApplicable => "non applicable",
        }
    }
}

/// D1.O2.B's three outcomes, each with its décote in the catalogue (seed 003: 0, 15 %, 100 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureTier {
    /// Coverage ≥ 90 %.
    #[serde(alias = "Attained")]
    Attained,
    /// Coverage from 66 % to under 90 %: the 15 % décote tier.
    #[serde(alias = "Tier15")]
    Tier15,
    /// Coverage under 66 %.
    #[serde(alias = "NotAttained")]
    NotAttained,
}

/// What an audited subject is: an AD, or one coverage unit's internet exposure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Directory { id: String, name: String },
    Exposure { finess: Finess, label: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectFrequency {
    pub subject: Subject,
    pub check: FrequencyCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectLevel {
    pub subject: Subject,
    pub check: LevelCheck,
}

/// D1.O2.A's SILENE path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SileneCheck {
    pub silene: SileneUse,
    pub deadline: NaiveDate,
    pub in_time: bool,
}

/// Why a coverage unit passed or failed a level objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnitReason {
    /// Every AD (or its exposure) is at target.
    AllAtTarget,
    /// No AD serves it / no exposure audit covers it.
    NoSubject,
    /// These subjects (AD ids, or the unit's own exposure) are not at target.
    NotAtTarget(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitResult {
    pub finess: Finess,
    pub label: String,
    pub activity_share: Percent,
    /// Ids of the ADs serving it (D1.O1.B) or its FINESS (D1.O2.B).
    pub subjects: Vec<String>,
    pub passed: bool,
    pub reason: UnitReason,
}

/// Explanation data of a frequency objective (D1.O1.A, D1.O2.A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyDetail {
    pub subjects: Vec<SubjectFrequency>,
    /// D1.O2.A only.
    pub silene: Option<SileneCheck>,
    /// ADS audits whose directory is not declared (positions in `Evidence::ads_audits`).
    pub audits_of_unknown_directories: Vec<usize>,
}

/// Explanation data of a level objective (D1.O1.B, D1.O2.B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelDetail {
    pub subjects: Vec<SubjectLevel>,
    pub units: Vec<UnitResult>,
    /// Sum of the activity shares of the units that passed.
    pub coverage: Percent,
    /// Sum of all units' shares (should be 100 %; shown when it is not).
    pub total_share: Percent,
    /// D1.O2.B: SILENE audits left out (positions in `Evidence::exposure_audits`).
    pub silene_audits_excluded: Vec<usize>,
    /// Directories or perimeters naming a FINESS that is not a coverage unit.
    pub unmatched_finess: Vec<Finess>,
}

/// One FINESS PMSI establishment's D1.O3 result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseCheck {
    pub finess: Finess,
    /// The exercise retained (latest in the window), if any.
    pub exercise_date: Option<NaiveDate>,
    /// Exercises recorded for it but dated outside the window.
    pub outside_window: Vec<NaiveDate>,
    pub passed: bool,
}

/// One FINESS PMSI establishment × questionnaire D1.O4 result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsisCheck {
    pub finess: Finess,
    pub questionnaire: OsisForm,
    /// The best completion recorded, if any.
    pub priority_fields_pct: Option<Decimal>,
    pub passed: bool,
}

/// D1.O6.B detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrajectoryCheck {
    pub present: bool,
    pub missing_establishments: Vec<Finess>,
    pub planning: bool,
    pub first_milestone: Option<NaiveDate>,
    pub milestone_limit: NaiveDate,
    pub organisation: bool,
    pub budget: bool,
}

/// Explanation as data, by kind of objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Detail {
    Frequency(FrequencyDetail),
    Level(LevelDetail),
    CrisisExercises {
        window_start: NaiveDate,
        window_end: NaiveDate,
        establishments: Vec<ExerciseCheck>,
    },
    Osis {
        min_pct: Decimal,
        checks: Vec<OsisCheck>,
    },
    Budget {
        digital_share_pct: Option<Percent>,
        ssi_fte: Option<Decimal>,
    },
    GhtSteering {
        project_team: bool,
        governance: bool,
    },
    Trajectory(TrajectoryCheck),
    /// Nothing to show (unknown or not applicable).
    Nothing,
}

/// The verdict on one objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub objective: ObjectiveCode,
    pub status: Status,
    /// D1.O1.B and D1.O2.B: activity share of the units at target.
    pub coverage: Option<Percent>,
    /// D1.O2.B only.
    pub tier: Option<ExposureTier>,
    pub detail: Detail,
    /// French sentences for controllers and establishments.
    pub explanation_fr: Vec<String>,
}

/// One verdict per D1 bis objective, in catalogue order: D1.O1.A, D1.O1.B, D1.O2.A, D1.O2.B, D1.O3,
/// D1.O4, D1.O5, D1.O6.A, D1.O6.B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttainmentReport {
    pub submission_date: NaiveDate,
    pub verdicts: Vec<Verdict>,
}

impl AttainmentReport {
    /// The verdict on an objective, e.g. `report.verdict("D1.O1.B")`.
    pub fn verdict(&self, code: &str) -> Option<&Verdict> {
        let code = ObjectiveCode::parse(code).ok()?;
        self.verdicts.iter().find(|v| v.objective == code)
    }
}

/// What the statement layer needs to turn a verdict into an attainment record and a décote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttainmentRecord {
    pub objective: ObjectiveCode,
    pub status: Status,
    pub coverage: Option<Percent>,
    pub tier: Option<ExposureTier>,
}

#[cfg(test)]
mod serde_tests {
    use super::*;

    #[test]
    fn statuses_are_written_in_snake_case_and_earlier_spellings_still_read() {
        assert_eq!(
            serde_json::to_string(&Status::NotAttained).unwrap(),
            "\"not_attained\""
        );
        assert_eq!(
            serde_json::to_string(&ExposureTier::Tier15).unwrap(),
            "\"tier15\""
        );
        let old: Status = serde_json::from_str("\"NotAttained\"").unwrap();
        assert_eq!(old, Status::NotAttained);
        let old: ExposureTier = serde_json::from_str("\"Tier15\"").unwrap();
        assert_eq!(old, ExposureTier::Tier15);
    }
}
