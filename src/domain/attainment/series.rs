//! The two rules shared by ADS and exposure audits, on one subject's series of audits (one AD, or one
//! coverage unit's exposure): frequency (D1.O1.A, D1.O2.A) and level (D1.O1.B, D1.O2.B).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::evidence::ExposurePlatform;
use super::params::{AttainmentParams, GapBasis};

/// The result an audit recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditResult {
    AdsScore(u8),
    CriticalVulns(u32),
}

/// One audit as the evaluator used it: where it is in the evidence, its dates, the date the rules used
/// (per `gap_basis`), its result and whether that result is at target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRef {
    /// Position in `Evidence::ads_audits` or `Evidence::exposure_audits`.
    pub evidence_index: usize,
    /// The exposure audit's id (ADS audits have none).
    pub id: Option<String>,
    pub launch: NaiveDate,
    pub end: NaiveDate,
    pub date_used: NaiveDate,
    pub platform: Option<ExposurePlatform>,
    pub result: AuditResult,
    pub at_target: bool,
}

impl AuditRef {
    pub(crate) fn date_for(basis: GapBasis, launch: NaiveDate, end: NaiveDate) -> NaiveDate {
        match basis {
            GapBasis::Launch => launch,
            GapBasis::End => end,
        }
    }
}

/// The audits of one subject dated on the same day form one point **(our rule)**: a 0-day gap would
/// otherwise lower the mean, and several perimeters audited the same day are one cycle. A point is at
/// target only if all its audits are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPoint {
    pub date: NaiveDate,
    pub audits: Vec<AuditRef>,
    pub at_target: bool,
}

/// Groups audits into dated points, oldest first.
pub(crate) fn points(mut audits: Vec<AuditRef>) -> Vec<AuditPoint> {
    audits.sort_by_key(|a| (a.date_used, a.end, a.launch, a.evidence_index));
    let mut out: Vec<AuditPoint> = Vec::new();
    for audit in audits {
        match out.last_mut() {
            Some(last) if last.date == audit.date_used => {
                last.at_target &= audit.at_target;
                last.audits.push(audit);
            }
            _ => out.push(AuditPoint {
                date: audit.date_used,
                at_target: audit.at_target,
                audits: vec![audit],
            }),
        }
    }
    out
}

/// The interval between two consecutive points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
}

/// Why a frequency check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrequencyFailure {
    /// No audit dated in the operational phase.
    NoAuditInPhase,
    /// One audit only: no gap can be measured, so regularity is not shown **(our rule)**.
    SingleAuditInPhase,
    /// The first audit of the phase is after the deadline.
    FirstAuditLate {
        first: NaiveDate,
        deadline: NaiveDate,
    },
    /// The mean gap is above the maximum.
    MeanGapTooLong {
        mean_days: Decimal,
        max_days: Decimal,
    },
    /// One gap is above the maximum.
    GapTooLong { gap: Gap, max_days: i64 },
}

/// Frequency of one subject's audits over the operational phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyCheck {
    /// Points dated in [phase start, submission], oldest first.
    pub points_in_phase: Vec<AuditPoint>,
    /// Audits dated outside the phase, not counted.
    pub audits_outside_phase: Vec<AuditRef>,
    pub gaps: Vec<Gap>,
    /// Exact mean of the gaps (sum ÷ count), if at least one gap.
    pub mean_gap_days: Option<Decimal>,
    pub max_gap_days: Option<i64>,
    pub first_audit: Option<NaiveDate>,
    pub failures: Vec<FrequencyFailure>,
    pub passed: bool,
}

/// Frequency rule (D1.O1.A, D1.O2.A): only the gaps between consecutive points dated in the operational
/// phase count (not phase start → first audit, nor last audit → submission: the seed speaks of "deux
/// audits consécutifs"; the start is bounded by the first-audit deadline instead). Mean ≤ max mean,
/// every gap ≤ max gap, first audit by the deadline, at least two points.
pub(crate) fn frequency(
    audits: Vec<AuditRef>,
    phase_start: NaiveDate,
    submission: NaiveDate,
    params: &AttainmentParams,
) -> FrequencyCheck {
    let (inside, outside): (Vec<AuditRef>, Vec<AuditRef>) = audits
        .into_iter()
        .partition(|a| a.date_used >= phase_start && a.date_used <= submission);
    let pts = points(inside);
    let gaps: Vec<Gap> = pts
        .windows(2)
        .map(|w| Gap {
            from: w[0].date,
            to: w[1].date,
            days: (w[1].date - w[0].date).num_days(),
        })
        .collect();
    let mean_gap_days = if gaps.is_empty() {
        None
    } else {
        let sum: i64 = gaps.iter().map(|g| g.days).sum();
        Some(Decimal::from(sum) / Decimal::from(gaps.len() as i64))
    };
    let max_gap_days = gaps.iter().map(|g| g.days).max();
    let first_audit = pts.first().map(|p| p.date);

    let mut failures = Vec::new();
    match pts.len() {
        0 => failures.push(FrequencyFailure::NoAuditInPhase),
        1 => failures.push(FrequencyFailure::SingleAuditInPhase),
        _ => {}
    }
    if let Some(first) = first_audit {
        if first > params.first_audit_deadline {
            failures.push(FrequencyFailure::FirstAuditLate {
                first,
                deadline: params.first_audit_deadline,
            });
        }
    }
    if let Some(mean) = mean_gap_days {
        if mean > params.mean_gap_max_days {
            failures.push(FrequencyFailure::MeanGapTooLong {
                mean_days: mean,
                max_days: params.mean_gap_max_days,
            });
        }
    }
    for gap in gaps.iter().filter(|g| g.days > params.max_gap_days) {
        failures.push(FrequencyFailure::GapTooLong {
            gap: gap.clone(),
            max_days: params.max_gap_days,
        });
    }
    FrequencyCheck {
        passed: failures.is_empty(),
        points_in_phase: pts,
        audits_outside_phase: outside,
        gaps,
        mean_gap_days,
        max_gap_days,
        first_audit,
        failures,
    }
}

/// How a level check came out (the first failing condition, or the pair that passed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LevelOutcome {
    /// The last two audits are at target.
    PassedLastTwo,
    /// The penultimate missed; the last and the antepenultimate are at target and the antepenultimate
    /// is fewer than the limit's days before the last.
    PassedLastAndAntepenultimate {
        days_before_last: i64,
        limit_days: i64,
    },
    NoAudit,
    LastNotAtTarget,
    LastTooOld {
        days_before_submission: i64,
        max_days: i64,
    },
    SingleAudit,
    PenultimateMissedNoAntepenultimate,
    AntepenultimateNotAtTarget,
    AntepenultimateTooEarly {
        days_before_last: i64,
        limit_days: i64,
    },
}

impl LevelOutcome {
    pub fn passed(&self) -> bool {
        matches!(
            self,
            LevelOutcome::PassedLastTwo | LevelOutcome::PassedLastAndAntepenultimate { .. }
        )
    }
}

/// Level of one subject's audits at submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCheck {
    pub last: Option<AuditPoint>,
    pub penultimate: Option<AuditPoint>,
    pub antepenultimate: Option<AuditPoint>,
    /// Audits dated after the submission, not counted.
    pub audits_after_submission: Vec<AuditRef>,
    /// The points the verdict rests on (the last two, or the last and the antepenultimate).
    pub used: Vec<AuditPoint>,
    pub outcome: LevelOutcome,
}

impl LevelCheck {
    pub fn passed(&self) -> bool {
        self.outcome.passed()
    }
}

/// Level rule (D1.O1.B per AD, D1.O2.B per coverage unit): among audits dated on or before submission,
/// the last must be at target and at most `last_audit_max_days_before_submission` days before
/// submission; then either the penultimate is at target, or the penultimate missed and the
/// antepenultimate is at target and strictly fewer than `antepenultimate_days_before_last_exclusive`
/// days before the last. Audits before the phase start count here (the seed restricts only frequency
/// to the phase).
pub(crate) fn level(
    audits: Vec<AuditRef>,
    submission: NaiveDate,
    params: &AttainmentParams,
) -> LevelCheck {
    let (considered, after): (Vec<AuditRef>, Vec<AuditRef>) =
        audits.into_iter().partition(|a| a.date_used <= submission);
    let pts = points(considered);
    let n = pts.len();
    let last = n.checked_sub(1).map(|i| pts[i].clone());
    let penultimate = n.checked_sub(2).map(|i| pts[i].clone());
    let antepenultimate = n.checked_sub(3).map(|i| pts[i].clone());

    let mut used = Vec::new();
    let outcome = match (&last, &penultimate, &antepenultimate) {
        (None, _, _) => LevelOutcome::NoAudit,
        (Some(l), p, a) => {
            used.push(l.clone());
            let days_before_submission = (submission - l.date).num_days();
            if !l.at_target {
                LevelOutcome::LastNotAtTarget
            } else if days_before_submission > params.last_audit_max_days_before_submission {
                LevelOutcome::LastTooOld {
                    days_before_submission,
                    max_days: params.last_audit_max_days_before_submission,
                }
            } else {
                match (p, a) {
                    (None, _) => LevelOutcome::SingleAudit,
                    (Some(p), _) if p.at_target => {
                        used.push(p.clone());
                        LevelOutcome::PassedLastTwo
                    }
                    (Some(_), None) => LevelOutcome::PenultimateMissedNoAntepenultimate,
                    (Some(_), Some(a)) => {
                        let days_before_last = (l.date - a.date).num_days();
                        if !a.at_target {
                            LevelOutcome::AntepenultimateNotAtTarget
                        } else if days_before_last
                            >= params.antepenultimate_days_before_last_exclusive
                        {
                            LevelOutcome::AntepenultimateTooEarly {
                                days_before_last,
                                limit_days: params.antepenultimate_days_before_last_exclusive,
                            }
                        } else {
                            used.push(a.clone());
                            LevelOutcome::PassedLastAndAntepenultimate {
                                days_before_last,
                                limit_days: params.antepenultimate_days_before_last_exclusive,
                            }
                        }
                    }
                }
            }
        }
    };
    if !outcome.passed() {
        used.clear();
    }
    LevelCheck {
        last,
        penultimate,
        antepenultimate,
        audits_after_submission: after,
        used,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(index: usize, date: NaiveDate, at_target: bool) -> AuditRef {
        AuditRef {
            evidence_index: index,
            id: None,
            launch: date,
            end: date,
            date_used: date,
            platform: None,
            result: AuditResult::AdsScore(if at_target { 3 } else { 1 }),
            at_target,
        }
    }

    fn day(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2)
            .and_then(|d| d.checked_add_days(chrono::Days::new(n)))
            .unwrap_or_default()
    }

    #[test]
    fn audits_on_the_same_day_form_one_point_at_target_only_if_all_are() {
        let pts = points(vec![
            audit(0, day(60), true),
            audit(1, day(0), true),
            audit(2, day(60), false),
        ]);
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0].date, day(0));
        assert_eq!(pts[1].audits.len(), 2);
        assert!(!pts[1].at_target);
    }

    #[test]
    fn same_day_audits_do_not_create_a_zero_day_gap() {
        let params = AttainmentParams::default();
        let check = frequency(
            vec![
                audit(0, day(0), true),
                audit(1, day(0), true),
                audit(2, day(60), true),
            ],
            day(0),
            day(400),
            &params,
        );
        assert_eq!(check.gaps.len(), 1);
        assert_eq!(check.mean_gap_days, Some(Decimal::from(60)));
        assert!(check.passed);
    }

    #[test]
    fn the_level_rests_on_the_last_two_points_when_both_are_at_target() {
        let params = AttainmentParams::default();
        let check = level(
            vec![audit(0, day(300), true), audit(1, day(330), true)],
            day(340),
            &params,
        );
        assert_eq!(check.outcome, LevelOutcome::PassedLastTwo);
        assert_eq!(check.used.len(), 2);
    }
}
