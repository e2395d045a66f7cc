//! Every rule parameter of D1 bis objective attainment, in one named place (STYLE.md, last paragraph).
//!
//! The defaults restate SPEC.md §2 and §7 and seed 003 ("2. Les objectifs à atteindre"). Where the seed
//! contradicts itself or is silent, the default is marked **(our rule)** and the alternative is a
//! variant of an enum, so the catalogue can select it without a code change.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

use crate::domain::Percent;

/// Which date of an audit is used for every date rule (gaps, first-audit deadline, "last audit at most
/// 60 days before submission", antepenultimate window).
///
/// Seed 003: "il faut prendre en compte soit la date de lancement de l'audit, soit la date de fin de
/// l'audit. La date sélectionnée doit être la même pour les cycles d'audits lancés pendant la phase
/// opérationnelle." The candidate picks one; the caller passes it. Using the same date for the level
/// rules as for the frequency rules is **(our rule)**: the seed names the choice only for frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum GapBasis {
    /// Date de lancement de l'audit (default, **our rule**).
    #[default]
    Launch,
    /// Date de fin de l'audit.
    End,
}

impl GapBasis {
    /// French wording for explanations: "dates de lancement" / "dates de fin".
    pub fn label_fr(self) -> &'static str {
        match self {
            GapBasis::Launch => "dates de lancement",
            GapBasis::End => "dates de fin",
        }
    }
}

/// Deadline for the SILENE + Club RSSI registration that makes D1.O2.A (exposure audit frequency)
/// respected.
///
/// Seed 003 gives two: the objectives table says "au plus tard 100 jours après le début de la phase
/// opérationnelle", the calendar slide says "au plus tard le 07/07/2026". SPEC.md §2 takes the fixed
/// date as default **(our rule)**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SileneDeadline {
    /// A fixed calendar date, inclusive (default 2026-07-07).
    Fixed(NaiveDate),
    /// A number of days after the start of the candidate's operational phase, inclusive (seed: 100).
    DaysAfterPhaseStart(u32),
}

impl SileneDeadline {
    /// The last date on which the registration still counts, for a given phase start.
    pub fn resolve(self, phase_start: NaiveDate) -> NaiveDate {
        match self {
            SileneDeadline::Fixed(date) => date,
            SileneDeadline::DaysAfterPhaseStart(days) => phase_start
                .checked_add_days(chrono::Days::new(u64::from(days)))
                .unwrap_or(NaiveDate::MAX),
        }
    }
}

/// Limit for the first planned milestone of the GHT's AD convergence trajectory (D1.O6.B).
///
/// Seed 003 says both "1er jalon planifié dans une échéance maximale de 18 mois après l'appel à
/// financement D1" and "une première réalisation concrète planifiée 18 mois après le dépôt d'atteinte
/// des objectifs". SPEC.md §2: the call for funding is the default **(our rule)**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MilestoneLimit {
    /// `months` after the D1 call for funding, inclusive.
    AfterCallForFunding {
        call_for_funding: NaiveDate,
        months: u32,
    },
    /// `months` after the submission of the declaration of objectives reached, inclusive.
    AfterSubmission { months: u32 },
}

impl MilestoneLimit {
    /// The last date a first milestone may be planned on.
    pub fn resolve(self, submission: NaiveDate) -> NaiveDate {
        let (from, months) = match self {
            MilestoneLimit::AfterCallForFunding {
                call_for_funding,
                months,
            } => (call_for_funding, months),
            MilestoneLimit::AfterSubmission { months } => (submission, months),
        };
        from.checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// All parameters of the D1 bis attainment rules. `AttainmentParams::default()` is the programme's rule
/// set as SPEC.md states it; each field says where its default comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttainmentParams {
    /// Launch or end dates for every date rule (seed 003, "Respect de la fréquence"). Default: launch
    /// **(our rule)**.
    pub gap_basis: GapBasis,
    /// D1.O1.A / D1.O2.A: the mean gap between consecutive audits must be at most this many days,
    /// inclusive. Seed 003 says "en moyenne tous les 60 jours" (objectives table) and "un délai moyen
    /// inférieur à 60 jours" (calendar slide); SPEC.md §2 takes "≤ 60" **(our rule)**.
    pub mean_gap_max_days: Decimal,
    /// D1.O1.A / D1.O2.A: no gap between consecutive audits above this many days ("un intervalle d'au
    /// plus 100 jours", inclusive).
    pub max_gap_days: i64,
    /// D1.O1.A / D1.O2.A: the first audit of the operational phase must be dated on or before this day
    /// ("La date du 7 juillet 2026 est la date butoir pour que chaque candidat ait réalisé un premier
    /// audit ADS et un premier audit d'exposition").
    pub first_audit_deadline: NaiveDate,
    /// D1.O2.A: SILENE use with Club RSSI registration by this deadline makes the frequency respected.
    pub silene_registration_deadline: SileneDeadline,
    /// D1.O1.B / D1.O2.B: the last audit must be dated at most this many days before the submission,
    /// inclusive ("réalisé au plus 60 jours avant la soumission").
    pub last_audit_max_days_before_submission: i64,
    /// D1.O1.B / D1.O2.B: when the penultimate audit misses the target, the antepenultimate counts only
    /// if it is dated strictly fewer than this many days before the last ("réalisé moins de 60 jours
    /// avant la réalisation du dernier audit"). 59 counts, 60 does not. Seed 003's Q&A on D1.O2.B says
    /// instead "s'il a été réalisé dans les 60 jours précédents le dernier audit", which could include
    /// 60; SPEC.md §7 and the calendar slide say "moins de 60 jours": strict **(our rule)**.
    pub antepenultimate_days_before_last_exclusive: i64,
    /// D1.O1.B: an ADS audit is at target when its score is at least this ("score supérieur ou égal à 2").
    pub ads_score_target: u8,
    /// D1.O2.B: the CVSS score above which a vulnerability is critical and blocking ("CVSS > 9"). The
    /// evidence records the count of such vulnerabilities per audit; this value is shown in the
    /// explanations and stored with the verdict.
    pub critical_cvss_above: Decimal,
    /// D1.O1.B: attained when the activity share of units whose ADs are all at target is at least this,
    /// inclusive ("d'au moins 66 % de l'activité combinée").
    pub ads_coverage_min: Percent,
    /// D1.O2.B: attained at or above this coverage ("d'au moins 90 %").
    pub exposure_coverage_attained_min: Percent,
    /// D1.O2.B: from this coverage (inclusive) up to the attained threshold (exclusive), the 15 % décote
    /// tier ("entre 90 % et 66 %"); below it, not attained (100 % décote).
    pub exposure_coverage_tier15_min: Percent,
    /// D1.O3: the crisis exercise must be dated in [this day, submission] ("entre le 1er janvier 2025 et
    /// la date de dépôt").
    pub crisis_exercise_window_start: NaiveDate,
    /// D1.O3: exercises before this day validate the objective but their cost is not financed (seed 003,
    /// decree publication 2026-01-30). Used only for an explanatory note here; the flag is SPEC.md §6.
    pub cost_eligibility_start: NaiveDate,
    /// D1.O4: minimum share of the priority measures' fields filled in each questionnaire, inclusive
    /// ("pour au moins 90 % des champs relatifs aux 43 mesures prioritaires").
    pub osis_priority_fields_min_pct: Decimal,
    /// D1.O4: number of priority measures (informational, shown in explanations).
    pub osis_priority_measures: u32,
    /// D1.O6.B: limit of the first milestone of the convergence trajectory.
    pub milestone_limit: MilestoneLimit,
}

/// D1 bis decree publication: start of cost eligibility (seed 003, SPEC.md §2).
pub const D1BIS_DECREE_PUBLICATION: NaiveDate = date(2026, 1, 30);
/// First audits (ADS and exposure) by this date (seed 003 calendar slide).
pub const D1BIS_FIRST_AUDIT_DEADLINE: NaiveDate = date(2026, 7, 7);
/// Start of the D1.O3 crisis exercise window (seed 003).
pub const D1BIS_CRISIS_EXERCISE_WINDOW_START: NaiveDate = date(2025, 1, 1);
/// The date taken as "l'appel à financement D1" for D1.O6.B. The seed gives no date; we take the D1 bis
/// decree publication, which opens the call **(our rule, to confirm with the ANS)**.
pub const D1BIS_CALL_FOR_FUNDING: NaiveDate = D1BIS_DECREE_PUBLICATION;

/// Builds a constant date; the arguments are literals checked by the tests of this module.
const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("invalid constant date"),
    }
}

impl Default for AttainmentParams {
    fn default() -> Self {
        AttainmentParams {
            gap_basis: GapBasis::Launch,
            mean_gap_max_days: dec!(60),
            max_gap_days: 100,
            first_audit_deadline: D1BIS_FIRST_AUDIT_DEADLINE,
            silene_registration_deadline: SileneDeadline::Fixed(D1BIS_FIRST_AUDIT_DEADLINE),
            last_audit_max_days_before_submission: 60,
            antepenultimate_days_before_last_exclusive: 60,
            ads_score_target: 2,
            critical_cvss_above: dec!(9.0),
            ads_coverage_min: Percent::new(dec!(66)),
            exposure_coverage_attained_min: Percent::new(dec!(90)),
            exposure_coverage_tier15_min: Percent::new(dec!(66)),
            crisis_exercise_window_start: D1BIS_CRISIS_EXERCISE_WINDOW_START,
            cost_eligibility_start: D1BIS_DECREE_PUBLICATION,
            osis_priority_fields_min_pct: dec!(90),
            osis_priority_measures: 43,
            milestone_limit: MilestoneLimit::AfterCallForFunding {
                call_for_funding: D1BIS_CALL_FOR_FUNDING,
                months: 18,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silene_deadline_is_fixed_date_or_days_after_phase_start() {
        let start = date(2026, 3, 1);
        assert_eq!(
            SileneDeadline::Fixed(date(2026, 7, 7)).resolve(start),
            date(2026, 7, 7)
        );
        assert_eq!(
            SileneDeadline::DaysAfterPhaseStart(100).resolve(start),
            date(2026, 6, 9)
        );
    }

    #[test]
    fn milestone_limit_adds_calendar_months() {
        let call = MilestoneLimit::AfterCallForFunding {
            call_for_funding: date(2026, 1, 30),
            months: 18,
        };
        assert_eq!(call.resolve(date(2027, 3, 31)), date(2027, 7, 30));
        let after = MilestoneLimit::AfterSubmission { months: 18 };
        assert_eq!(after.resolve(date(2027, 3, 31)), date(2028, 9, 30));
    }

    #[test]
    fn default_parameters_restate_the_spec() {
        let p = AttainmentParams::default();
        assert_eq!(p.mean_gap_max_days, dec!(60));
        assert_eq!(p.max_gap_days, 100);
        assert_eq!(p.first_audit_deadline, date(2026, 7, 7));
        assert_eq!(p.ads_coverage_min, Percent::new(dec!(66)));
        assert_eq!(p.exposure_coverage_attained_min, Percent::new(dec!(90)));
    }
}
