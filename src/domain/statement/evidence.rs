//! D1 bis attainment computed from the audit evidence on a statement (SPEC.md §7): the evaluator's
//! context built from the candidate and the catalogue, the field a refused evidence names, and the
//! mapping of a computed verdict to the attainment record the subsidy reads.

use super::commands::{Refusal, MAX_TEXT_CHARS};
use super::events::{AttainmentStatus, StatementEvent, SCHEMA_VERSION_1};
use crate::domain::attainment::{
    evaluate, AttainmentContext, AttainmentParams, CandidateKind as AttainmentKind, CoverageUnit,
    EstablishmentLevel, Evidence, EvidenceError, MilestoneLimit, SileneDeadline, Status,
    D1BIS_CALL_FOR_FUNDING,
};
use crate::domain::candidate::{Candidate, CandidateKind, Establishment, Level};
use crate::domain::catalogue::{DomainCatalogue, MilestoneFrom, SileneDeadlineRule};
use crate::domain::ids::DomainId;
use crate::domain::money::Percent;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The evidence field an `EvidenceError` is about, as a path in the command's JSON.
pub fn evidence_field(err: &EvidenceError) -> &'static str {
    match err {
        EvidenceError::AdsScoreOutOfRange { .. } => "evidence.ads_audits.score",
        EvidenceError::EndBeforeLaunch { audit, .. } if audit.starts_with("ADS ") => {
            "evidence.ads_audits.end"
        }
        EvidenceError::EndBeforeLaunch { .. } => "evidence.exposure_audits.end",
        EvidenceError::DuplicateDirectory(_) => "evidence.directories.id",
        EvidenceError::UnknownDirectory(_) => "evidence.ads_audits.directory_id",
        EvidenceError::EmptyPerimeter(_) => "evidence.exposure_audits.covers",
        EvidenceError::TooMany { what, .. } => match *what {
            "annuaires" => "evidence.directories",
            "audits ADS" => "evidence.ads_audits",
            "audits d'exposition" => "evidence.exposure_audits",
            "exercices de crise" => "evidence.crisis_exercises",
            "questionnaires oSIS" => "evidence.osis",
            _ => "evidence",
        },
        EvidenceError::OsisPercentOutOfRange { .. } => "evidence.osis.priority_fields_pct",
    }
}

/// The attainment status recorded for a computed verdict; `None` for "not applicable" (skipped: no
/// record, the objective is not the candidate's).
pub fn recorded_status(status: Status) -> Option<AttainmentStatus> {
    match status {
        Status::Attained => Some(AttainmentStatus::Attained),
        Status::NotAttained => Some(AttainmentStatus::NotAttained),
        Status::Unknown => Some(AttainmentStatus::Unknown),
        Status::NotApplicable => None,
    }
}

fn attainment_kind(kind: CandidateKind) -> AttainmentKind {
    match kind {
        CandidateKind::EjPublic => AttainmentKind::PublicEj,
        CandidateKind::EsPrive => AttainmentKind::Private,
        CandidateKind::Ght => AttainmentKind::Ght,
        CandidateKind::CentreDialyse => AttainmentKind::Dialysis,
    }
}

fn at_level(candidate: &Candidate, level: Level) -> Vec<&Establishment> {
    candidate
        .establishments
        .iter()
        .filter(|e| e.level == level)
        .collect()
}

/// Coverage units at the attainment module's level (`CandidateKind::coverage_level`): per EG for an EJ
/// public, private or dialysis candidate, per EJ (support included) for a GHT. When the candidate has no
/// EG, or its EG carry no activity share (shares below the counted level are optional, SPEC.md §3), its
/// EJ is the unit **(our rule)**: the EJ level always sums to 100 % for those kinds.
fn coverage_units(candidate: &Candidate, kind: AttainmentKind) -> Vec<CoverageUnit> {
    let level = match kind.coverage_level() {
        EstablishmentLevel::Ej => Level::Ej,
        EstablishmentLevel::Eg => Level::Eg,
    };
    let mut chosen = at_level(candidate, level);
    let no_shares = chosen
        .iter()
        .all(|e| e.activity_share.value() == Decimal::ZERO);
    if level == Level::Eg && (chosen.is_empty() || no_shares) {
        chosen = at_level(candidate, Level::Ej);
    }
    chosen
        .into_iter()
        .map(|e| CoverageUnit {
            finess: e.finess.clone(),
            label: e.name.clone(),
            activity_share: e.activity_share,
            is_support: e.support,
        })
        .collect()
}

/// The programme's parameters, with the catalogue's `[rules]` where they map one to one: SILENE
/// deadline, D1.O6.B milestone limit, maximum gap, last audit before submission, D1.O1.B / D1.O2.B
/// thresholds, D1.O3 window. The mean-gap strictness and the antepenultimate window keep the
/// evaluator's defaults (their semantics differ: inclusive vs exclusive bounds).
fn params(catalogue: &DomainCatalogue) -> AttainmentParams {
    let mut p = AttainmentParams::default();
    let Some(rules) = &catalogue.rules else {
        return p;
    };
    p.silene_registration_deadline = match rules.silene_club_rssi_rule {
        SileneDeadlineRule::DaysAfterPhaseStart => SileneDeadline::DaysAfterPhaseStart(
            rules.silene_club_rssi_alternative_days_after_phase_start,
        ),
        SileneDeadlineRule::FixedDate => SileneDeadline::Fixed(rules.silene_club_rssi_deadline),
    };
    p.milestone_limit = match rules.d1o6b_first_milestone_from {
        MilestoneFrom::CallForFunding => MilestoneLimit::AfterCallForFunding {
            call_for_funding: D1BIS_CALL_FOR_FUNDING,
            months: rules.d1o6b_first_milestone_months,
        },
        MilestoneFrom::Declaration => MilestoneLimit::AfterSubmission {
            months: rules.d1o6b_first_milestone_months,
        },
    };
    if !rules.audit_mean_interval_strict {
        p.mean_gap_max_days = Decimal::from(rules.audit_mean_interval_max_days);
    }
    p.max_gap_days = i64::from(rules.audit_max_gap_days);
    p.last_audit_max_days_before_submission =
        i64::from(rules.last_audit_max_days_before_submission);
    p.ads_coverage_min = rules.d1o1b_coverage_min_percent;
    p.exposure_coverage_attained_min = rules.d1o2b_coverage_min_percent;
    p.crisis_exercise_window_start = rules.crisis_exercise_valid_from;
    p.cost_eligibility_start = rules.crisis_exercise_financed_from;
    p
}

/// The evaluator's context for a candidate's D1 bis statement submitted on `submission_date`.
pub fn attainment_context(
    candidate: &Candidate,
    catalogue: &DomainCatalogue,
    submission_date: NaiveDate,
) -> Result<AttainmentContext, Refusal> {
    let phase_start = candidate
        .domain(DomainId::D1bis)
        .and_then(|d| d.phase_start)
        .ok_or(Refusal::NoPhaseStart)?;
    let kind = attainment_kind(candidate.kind);
    Ok(AttainmentContext {
        kind,
        coverage_units: coverage_units(candidate, kind),
        pmsi_establishments: candidate
            .pmsi_establishments()
            .map(|e| e.finess.clone())
            .collect(),
        phase_start,
        submission_date,
        params: params(catalogue),
    })
}

/// Evaluates the evidence and gives, per applicable objective of the catalogue, an
/// `AttainmentComputed` and the matching `AttainmentRecorded`.
pub(super) fn computed_events(
    ctx: &AttainmentContext,
    catalogue: &DomainCatalogue,
    evidence: &Evidence,
    reason: &str,
) -> Vec<StatementEvent> {
    let report = evaluate(ctx, evidence);
    let mut events = Vec::new();
    for v in report.verdicts {
        let Some(status) = recorded_status(v.status) else {
            continue;
        };
        if catalogue.objective(&v.objective).is_none() {
            continue;
        }
        let summary: String = v
            .explanation_fr
            .first()
            .map(|l| format!("calculé : {l}"))
            .unwrap_or_else(|| "calculé".to_string())
            .chars()
            .take(MAX_TEXT_CHARS)
            .collect();
        let coverage: Option<Percent> = v.coverage;
        events.push(StatementEvent::AttainmentComputed {
            schema_version: SCHEMA_VERSION_1,
            objective: v.objective.clone(),
            status: v.status,
            coverage,
            tier: v.tier,
            explanation_fr: v.explanation_fr,
            detail: serde_json::to_value(&v.detail).unwrap_or(serde_json::Value::Null),
            reason: reason.to_string(),
        });
        events.push(StatementEvent::AttainmentRecorded {
            schema_version: SCHEMA_VERSION_1,
            objective: v.objective,
            status,
            coverage,
            reason: summary,
        });
    }
    events
}
