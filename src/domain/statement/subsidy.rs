//! Subsidy figures of a statement (SPEC.md §8). Pure: the payments' totals are those of the statement's
//! own payment and recovery orders (`compute_subsidy`); `compute_subsidy_with_payments` takes them as a
//! parameter for what-if figures.

use super::events::AttainmentStatus;
use super::lines::LineContent;
use super::Statement;
use crate::domain::candidate::Candidate;
use crate::domain::catalogue::DomainCatalogue;
use crate::domain::ids::ObjectiveCode;
use crate::domain::money::{Money, Percent};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubsidyError {
    #[error("barème de décote non publié pour le domaine {domain} : objectif(s) non atteint(s) {objectives} — subvention non calculable")]
    DecoteScheduleNotPublished {
        domain: &'static str,
        objectives: String,
    },
    #[error("le candidat {candidate} n'a pas de plafond pour le domaine {domain}")]
    NoCeiling {
        candidate: String,
        domain: &'static str,
    },
}

/// Payments' totals of the statement (SPEC.md §8), from `Statement::payment_totals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PaymentTotals {
    /// Payments ordered and not cancelled (disbursed ones included).
    pub committed: Money,
    /// Payments confirmed paid.
    pub disbursed: Money,
    /// Amounts received against recovery orders (SPEC: "recovered = recovery orders received").
    pub recovered: Money,
    /// Recovery orders issued and not yet received: they do not change the amount due.
    pub recovery_outstanding: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ObjectiveCosts {
    pub internal: Money,
    pub external: Money,
    pub other: Money,
    pub total: Money,
    /// Retained amounts where reviewed, declared otherwise (the objective's share of the eligible total).
    pub eligible: Money,
}

/// The cost side of a statement (SPEC.md §8): what can be summed whatever the attainment, the décote
/// schedule or the ceiling. [`compute_subsidy`] builds on it; the workbook shows it even when the
/// subsidy itself cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CostFigures {
    /// Declared costs per objective code as declared on the lines (withdrawn lines excluded).
    pub per_objective: BTreeMap<ObjectiveCode, ObjectiveCosts>,
    /// Receipts per objective group.
    pub receipts_per_group: BTreeMap<ObjectiveCode, Money>,
    pub declared_total: Money,
    /// Retained amounts where reviewed, declared otherwise.
    pub eligible_total: Money,
    /// Cost lines not yet reviewed (see [`SubsidyReport::unreviewed_lines`]).
    pub unreviewed_lines: usize,
    pub receipts_total: Money,
    /// max(0, eligible − receipts).
    pub net: Money,
}

/// The cost side of a statement: declared and eligible costs per objective, receipts per group, net.
pub fn cost_figures(statement: &Statement) -> CostFigures {
    let mut figures = CostFigures::default();
    for line in statement.active_lines() {
        if let LineContent::Receipt(r) = &line.content {
            // Receipts are deducted at their declared amount (never reviewed).
            *figures
                .receipts_per_group
                .entry(r.group.clone())
                .or_default() += line.declared;
            figures.receipts_total += line.declared;
            continue;
        }
        let costs = figures
            .per_objective
            .entry(line.content.objective().clone())
            .or_default();
        match &line.content {
            LineContent::Internal(_) => costs.internal += line.declared,
            LineContent::External(_) => costs.external += line.declared,
            LineContent::Other(_) => costs.other += line.declared,
            LineContent::Receipt(_) => {}
        }
        costs.total += line.declared;
        costs.eligible += line.eligible_amount();
        figures.declared_total += line.declared;
        figures.eligible_total += line.eligible_amount();
        if line.retained.is_none() {
            figures.unreviewed_lines += 1;
        }
    }
    figures.net = (figures.eligible_total - figures.receipts_total).max(Money::ZERO);
    figures
}

/// One décote schedule line that applies, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecoteContribution {
    /// The schedule line (`D1.O2.B`, or the group `D1.O6`).
    pub item: ObjectiveCode,
    /// The objectives not attained it covers.
    pub not_attained: Vec<ObjectiveCode>,
    pub percent: Percent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubsidyReport {
    /// Declared costs per objective code as declared on the lines (withdrawn lines excluded).
    pub per_objective: BTreeMap<ObjectiveCode, ObjectiveCosts>,
    /// Receipts per objective group.
    pub receipts_per_group: BTreeMap<ObjectiveCode, Money>,
    pub declared_total: Money,
    /// Retained amounts where reviewed, declared otherwise.
    pub eligible_total: Money,
    /// Cost lines not yet reviewed (counted at their declared amount); a line whose latest review asks
    /// for documents is unreviewed. Receipts are not counted: they are deducted at their declared amount
    /// and are not reviewed line by line.
    pub unreviewed_lines: usize,
    pub receipts_total: Money,
    /// max(0, eligible − receipts).
    pub net: Money,
    pub decote: Percent,
    pub decote_detail: Vec<DecoteContribution>,
    pub ceiling: Money,
    /// ceiling × (1 − décote), rounded down to the cent.
    pub capped_ceiling: Money,
    /// min(net, capped ceiling).
    pub subsidy: Money,
    /// Some objective unknown or some cost line unreviewed: no payment may be ordered.
    pub provisional: bool,
    /// Applicable objectives whose attainment is still unknown.
    pub unknown_objectives: Vec<ObjectiveCode>,
    pub committed: Money,
    pub disbursed: Money,
    pub recovered: Money,
    /// subsidy − committed + recovered; below zero, an overpayment to recover.
    pub due: Money,
    /// Recovery orders issued and not yet received.
    pub recovery_outstanding: Money,
    /// max(0, −due): the overpayment (surcompensation) to recover.
    pub overpayment: Money,
}

/// The décote of a candidate's statement: the sum of the schedule's percentages of the objectives not
/// attained, capped at 100 % (SPEC.md §8, our rule: additive; the seed says « cumulative »). The one place
/// this rule lives. A schedule line for a group (D1.O6) counts once however many of its sub-objectives are
/// missed; GHT-only lines and objectives count only for a GHT.
pub fn decote_percent(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
) -> Result<(Percent, Vec<DecoteContribution>), SubsidyError> {
    let applicable = |ght_only: bool| !ght_only || candidate.is_ght();
    let not_attained: Vec<&ObjectiveCode> = catalogue
        .objectives
        .iter()
        .filter(|o| applicable(o.ght_only))
        .filter(|o| statement.attainment(&o.code) == AttainmentStatus::NotAttained)
        .map(|o| &o.code)
        .collect();
    if not_attained.is_empty() {
        return Ok((Percent::ZERO, Vec::new()));
    }
    let missing: Vec<String> = not_attained
        .iter()
        .filter(|c| catalogue.decote_item(c).is_none())
        .map(|c| c.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(SubsidyError::DecoteScheduleNotPublished {
            domain: catalogue.domain.as_str(),
            objectives: missing.join(", "),
        });
    }
    let mut detail = Vec::new();
    let mut sum = Decimal::ZERO;
    let items = catalogue
        .decote_schedule
        .as_ref()
        .map(|s| s.items.as_slice())
        .unwrap_or(&[]);
    for item in items.iter().filter(|i| applicable(i.ght_only)) {
        let covered: Vec<ObjectiveCode> = not_attained
            .iter()
            .filter(|c| item.covers(c))
            .map(|c| (*c).clone())
            .collect();
        if covered.is_empty() {
            continue;
        }
        let coverage = statement
            .attainments
            .get(&item.objective)
            .and_then(|a| a.coverage);
        let percent = item.percent_not_attained(coverage);
        sum += percent.value();
        detail.push(DecoteContribution {
            item: item.objective.clone(),
            not_attained: covered,
            percent,
        });
    }
    Ok((Percent::new(sum.min(Decimal::ONE_HUNDRED)), detail))
}

/// The subsidy figures of a statement, with the totals of its own payment and recovery orders.
pub fn compute_subsidy(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
) -> Result<SubsidyReport, SubsidyError> {
    compute_subsidy_with_payments(statement, catalogue, candidate, statement.payment_totals())
}

/// The subsidy figures of a statement with given payment totals (what-if figures; the statement's own
/// payments are ignored).
pub fn compute_subsidy_with_payments(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
    payments: PaymentTotals,
) -> Result<SubsidyReport, SubsidyError> {
    let ceiling = candidate
        .domain(catalogue.domain)
        .ok_or_else(|| SubsidyError::NoCeiling {
            candidate: candidate.finess.to_string(),
            domain: catalogue.domain.as_str(),
        })?
        .ceiling;
    let CostFigures {
        per_objective,
        receipts_per_group,
        declared_total,
        eligible_total,
        unreviewed_lines,
        receipts_total,
        net,
    } = cost_figures(statement);
    let (decote, decote_detail) = decote_percent(statement, catalogue, candidate)?;
    let capped_ceiling = ceiling
        .times(Decimal::ONE - decote.fraction())
        .floor_cents()
        .min(ceiling)
        .max(Money::ZERO);
    let subsidy = net.min(capped_ceiling);
    let due = subsidy - payments.committed + payments.recovered;
    let unknown_objectives: Vec<ObjectiveCode> = catalogue
        .objectives
        .iter()
        .filter(|o| !o.ght_only || candidate.is_ght())
        .filter(|o| statement.attainment(&o.code) == AttainmentStatus::Unknown)
        .map(|o| o.code.clone())
        .collect();
    let provisional = !unknown_objectives.is_empty() || unreviewed_lines > 0;
    Ok(SubsidyReport {
        per_objective,
        receipts_per_group,
        declared_total,
        eligible_total,
        unreviewed_lines,
        receipts_total,
        net,
        decote,
        decote_detail,
        ceiling,
        capped_ceiling,
        subsidy,
        provisional,
        unknown_objectives,
        committed: payments.committed,
        disbursed: payments.disbursed,
        recovered: payments.recovered,
        due,
        recovery_outstanding: payments.recovery_outstanding,
        overpayment: (-due).max(Money::ZERO),
    })
}
