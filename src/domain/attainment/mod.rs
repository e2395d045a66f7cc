//! D1 bis objective attainment computed from recorded audit evidence (SPEC.md §7, seed 003 section 2
//! "Les objectifs à atteindre").
//!
//! Pure: no I/O, no clock (the phase start and the submission date are in the [`AttainmentContext`]), no
//! floating point. [`evaluate`] gives one [`Verdict`] per objective with its explanation as data and as
//! French sentences; [`decote_relevant_status`] is what the statement layer turns into attainment
//! records and a décote.
//!
//! Rules, in brief (parameters in [`AttainmentParams`], one place):
//! - **frequency** (D1.O1.A per AD, D1.O2.A per coverage unit's exposure): the gaps between consecutive
//!   audits dated in [phase start, submission], on launch or end dates ([`GapBasis`], one choice for all
//!   cycles); mean ≤ 60 days, none > 100 days, first audit by 2026-07-07. With fewer than two audits in
//!   the phase no gap can be measured: not attained **(our rule)**. D1.O2.A is also attained by SILENE
//!   use with Club RSSI registration by the deadline ([`SileneDeadline`]).
//! - **level** (D1.O1.B ADS score ≥ 2 per AD; D1.O2.B no CVSS > 9.0 vulnerability, industrial platform
//!   audits only): the last audit at target and at most 60 days before submission, and the penultimate
//!   at target, or else the antepenultimate at target and strictly fewer than 60 days before the last.
//!   Coverage = activity share of the units whose ADs all pass (a unit with no AD fails), or whose
//!   exposure passes (a unit no industrial audit covers fails). D1.O1.B attained iff ≥ 66 %; D1.O2.B
//!   attained iff ≥ 90 %, tier 15 % from 66 % to under 90 %, not attained under 66 %.
//! - D1.O3, D1.O4 per FINESS PMSI establishment; D1.O5 declarations; D1.O6 for a GHT only.
//!
//! Choices where seed 003 is silent or ambiguous (**our rules**, each documented where it is coded):
//! - the same `gap_basis` date is used for the level rules (60 days before submission, antepenultimate
//!   window) as for frequency;
//! - audits of one subject dated the same day form one point (at target only if all are);
//! - exposure is evaluated per coverage unit: the series of a unit is every exposure audit whose
//!   perimeter covers it (a perimeter may be the whole candidate or one EJ, seed 003 Q&A);
//! - D1.O2.B tier 15 has status `NotAttained` with `tier = Tier15`: the objective is not attained, the
//!   décote is the partial one;
//! - `Unknown` only when nothing at all is recorded for the objective.

mod evidence;
mod fr;
mod objectives;
mod params;
mod report;
mod series;

pub use evidence::{
    AdsAudit, AttainmentContext, CandidateKind, CoverageUnit, CrisisExercise, DigitalBudget,
    Directory, EstablishmentLevel, Evidence, EvidenceError, ExposureAudit, ExposurePlatform,
    GhtDocuments, OsisForm, OsisQuestionnaire, SileneUse, Trajectory, MAX_EVIDENCE_ITEMS,
};
pub use params::{
    AttainmentParams, GapBasis, MilestoneLimit, SileneDeadline, D1BIS_CALL_FOR_FUNDING,
    D1BIS_CRISIS_EXERCISE_WINDOW_START, D1BIS_DECREE_PUBLICATION, D1BIS_FIRST_AUDIT_DEADLINE,
};
pub use report::{
    AttainmentRecord, AttainmentReport, Detail, ExerciseCheck, ExposureTier, FrequencyDetail,
    LevelDetail, OsisCheck, SileneCheck, Status, Subject, SubjectFrequency, SubjectLevel,
    TrajectoryCheck, UnitReason, UnitResult, Verdict,
};
pub use series::{
    AuditPoint, AuditRef, AuditResult, FrequencyCheck, FrequencyFailure, Gap, LevelCheck,
    LevelOutcome,
};

/// The D1 bis objectives evaluated, in catalogue order.
pub const D1BIS_OBJECTIVES: [&str; 9] = [
    "D1.O1.A", "D1.O1.B", "D1.O2.A", "D1.O2.B", "D1.O3", "D1.O4", "D1.O5", "D1.O6.A", "D1.O6.B",
];

/// Evaluates every D1 bis objective from the evidence. Never fails: missing evidence gives `Unknown`,
/// D1.O6 for a non-GHT gives `NotApplicable`.
pub fn evaluate(ctx: &AttainmentContext, evidence: &Evidence) -> AttainmentReport {
    AttainmentReport {
        submission_date: ctx.submission_date,
        verdicts: vec![
            objectives::d1_o1_a(ctx, evidence),
            objectives::d1_o1_b(ctx, evidence),
            objectives::d1_o2_a(ctx, evidence),
            objectives::d1_o2_b(ctx, evidence),
            objectives::d1_o3(ctx, evidence),
            objectives::d1_o4(ctx, evidence),
            objectives::d1_o5(evidence),
            objectives::d1_o6_a(ctx, evidence),
            objectives::d1_o6_b(ctx, evidence),
        ],
    }
}

/// The status (and coverage, tier) of each objective, for the statement layer's attainment records.
/// D1.O2.B's décote follows `tier` (15 % for `Tier15`, 100 % for `NotAttained`); D1.O6.A and D1.O6.B are
/// both listed: SPEC.md §2 counts D1.O6's 5 % once whichever is missed.
pub fn decote_relevant_status(report: &AttainmentReport) -> Vec<AttainmentRecord> {
    report
        .verdicts
        .iter()
        .map(|v| AttainmentRecord {
            objective: v.objective.clone(),
            status: v.status,
            coverage: v.coverage,
            tier: v.tier,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_objective_literal_parses_to_its_own_code() {
        for text in D1BIS_OBJECTIVES {
            assert_eq!(objectives::code(text).as_str(), text);
        }
    }
}
