//! French wording of the explanations.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::series::{
    AuditPoint, AuditResult, FrequencyCheck, FrequencyFailure, LevelCheck, LevelOutcome,
};
use crate::domain::Percent;

/// `07/07/2026`.
pub(crate) fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A decimal with a comma and at most two decimals, rounded up (towards +∞) so that a value shown as
/// "60" is never above 60: `58,5`, `59,67`, `60`.
pub(crate) fn decimal(d: Decimal) -> String {
    d.round_dp_with_strategy(2, RoundingStrategy::ToPositiveInfinity)
        .normalize()
        .to_string()
        .replace('.', ",")
}

/// `75 %` with a no-break space.
pub(crate) fn pct(p: Percent) -> String {
    p.to_french()
}

fn vulns(n: u32) -> String {
    if n <= 1 {
        format!("{n} vulnérabilité critique")
    } else {
        format!("{n} vulnérabilités critiques")
    }
}

/// The result of a point: `2`, `2/3` (two ADS audits the same day), `0 vulnérabilité critique`.
pub(crate) fn point_result(point: &AuditPoint) -> String {
    let mut scores = Vec::new();
    let mut critical: Option<u32> = None;
    for a in &point.audits {
        match a.result {
            AuditResult::AdsScore(s) => scores.push(s.to_string()),
            AuditResult::CriticalVulns(n) => *critical.get_or_insert(0) += n,
        }
    }
    match critical {
        Some(n) => vulns(n),
        None => scores.join("/"),
    }
}

/// "avant-dernier audit 1, dernier 1 — pas à la cible (dernier audit sous la cible)".
pub(crate) fn level(check: &LevelCheck) -> String {
    let Some(last) = &check.last else {
        return "aucun audit — pas à la cible.".to_string();
    };
    let mut parts = Vec::new();
    let show_ante = matches!(
        check.outcome,
        LevelOutcome::PassedLastAndAntepenultimate { .. }
            | LevelOutcome::AntepenultimateNotAtTarget
            | LevelOutcome::AntepenultimateTooEarly { .. }
    );
    if show_ante {
        if let Some(a) = &check.antepenultimate {
            parts.push(format!(
                "antépénultième audit {} ({})",
                point_result(a),
                date(a.date)
            ));
        }
    }
    match &check.penultimate {
        Some(p) => {
            parts.push(format!(
                "avant-dernier audit {} ({})",
                point_result(p),
                date(p.date)
            ));
            parts.push(format!(
                "dernier {} ({})",
                point_result(last),
                date(last.date)
            ));
        }
        None => parts.push(format!(
            "dernier audit {} ({})",
            point_result(last),
            date(last.date)
        )),
    }
    let verdict = match &check.outcome {
        LevelOutcome::PassedLastTwo => "à la cible".to_string(),
        LevelOutcome::PassedLastAndAntepenultimate {
            days_before_last,
            limit_days,
        } => format!(
            "à la cible (avant-dernier sous la cible, antépénultième réalisé {days_before_last} jours avant le dernier, moins de {limit_days})"
        ),
        LevelOutcome::NoAudit => "pas à la cible (aucun audit)".to_string(),
        LevelOutcome::LastNotAtTarget => "pas à la cible (dernier audit sous la cible)".to_string(),
        LevelOutcome::LastTooOld {
            days_before_submission,
            max_days,
        } => format!(
            "pas à la cible (dernier audit réalisé {days_before_submission} jours avant le dépôt, > {max_days})"
        ),
        LevelOutcome::SingleAudit => {
            "pas à la cible (un seul audit, les deux derniers sont requis)".to_string()
        }
        LevelOutcome::PenultimateMissedNoAntepenultimate => {
            "pas à la cible (avant-dernier audit sous la cible, aucun antépénultième)".to_string()
        }
        LevelOutcome::AntepenultimateNotAtTarget => {
            "pas à la cible (avant-dernier et antépénultième audits sous la cible)".to_string()
        }
        LevelOutcome::AntepenultimateTooEarly {
            days_before_last,
            limit_days,
        } => format!(
            "pas à la cible (avant-dernier sous la cible, antépénultième réalisé {days_before_last} jours avant le dernier, il en faut moins de {limit_days})"
        ),
    };
    format!("{} — {verdict}.", parts.join(", "))
}

/// Sentences on one subject's frequency, prefixed by `who` ("Annuaire AD1", "EG 2").
pub(crate) fn frequency(
    who: &str,
    check: &FrequencyCheck,
    basis_label: &str,
    mean_max: Decimal,
    gap_max: i64,
) -> Vec<String> {
    let mut out = Vec::new();
    let n = check.points_in_phase.len();
    if n == 0 {
        out.push(format!(
            "{who} : aucun audit dans la phase opérationnelle ({basis_label})."
        ));
        if !check.audits_outside_phase.is_empty() {
            out.push(format!(
                "{who} : {} audit(s) hors phase, non compté(s).",
                check.audits_outside_phase.len()
            ));
        }
        return out;
    }
    let mut head = format!(
        "{who} : {n} audit{} dans la phase opérationnelle ({basis_label})",
        if n > 1 { "s" } else { "" }
    );
    if let Some(first) = check.first_audit {
        head.push_str(&format!(", premier le {}", date(first)));
    }
    if !check.audits_outside_phase.is_empty() {
        head.push_str(&format!(
            " ; {} hors phase non compté{}",
            check.audits_outside_phase.len(),
            if check.audits_outside_phase.len() > 1 {
                "s"
            } else {
                ""
            }
        ));
    }
    out.push(format!("{head}."));
    if let (Some(mean), Some(max)) = (check.mean_gap_days, check.max_gap_days) {
        let gaps: Vec<String> = check.gaps.iter().map(|g| g.days.to_string()).collect();
        let mean_cmp = if mean <= mean_max { "≤" } else { ">" };
        let max_cmp = if max <= gap_max { "≤" } else { ">" };
        out.push(format!(
            "{who} : écarts {} jours ; écart moyen entre audits : {} jours ({mean_cmp} {}) ; écart maximal : {max} jours ({max_cmp} {gap_max}).",
            gaps.join(", "),
            decimal(mean),
            decimal(mean_max),
        ));
    }
    for failure in &check.failures {
        out.push(match failure {
            FrequencyFailure::NoAuditInPhase => {
                format!("{who} : aucun audit dans la phase opérationnelle.")
            }
            FrequencyFailure::SingleAuditInPhase => format!(
                "{who} : un seul audit dans la phase opérationnelle, aucun écart mesurable : fréquence non démontrée."
            ),
            FrequencyFailure::FirstAuditLate { first, deadline } => format!(
                "{who} : premier audit le {}, après la date butoir du {}.",
                date(*first),
                date(*deadline)
            ),
            FrequencyFailure::MeanGapTooLong { mean_days, max_days } => format!(
                "{who} : écart moyen de {} jours, au-delà de {} jours.",
                decimal(*mean_days),
                decimal(*max_days)
            ),
            FrequencyFailure::GapTooLong { gap, max_days } => format!(
                "{who} : {} jours entre les audits du {} et du {}, au-delà de {max_days} jours.",
                gap.days,
                date(gap.from),
                date(gap.to)
            ),
        });
    }
    if check.passed {
        out.push(format!("{who} : fréquence respectée."));
    }
    out
}
