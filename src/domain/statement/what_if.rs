//! What-if figures of a statement (issue 16 §2): the subsidy if each objective not attained were
//! reached, if every flagged line not yet reviewed were refused, and how much more eligible cost the
//! capped ceiling would still fund. Pure, and no second engine: each scenario is the statement with one
//! thing changed, run through [`compute_subsidy`], the one subsidy computation.

use super::events::AttainmentStatus;
use super::flags::Flag;
use super::lines::LineId;
use super::subsidy::{compute_subsidy, SubsidyReport};
use super::{Attainment, Statement};
use crate::domain::candidate::Candidate;
use crate::domain::catalogue::DomainCatalogue;
use crate::domain::ids::ObjectiveCode;
use crate::domain::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The subsidy if one objective not attained were reached, everything else unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveScenario {
    pub objective: ObjectiveCode,
    /// The subsidy in that case; `None` when it still cannot be computed (another objective not
    /// attained without a published décote schedule, no ceiling).
    pub subsidy: Option<Money>,
    /// Scenario minus the subsidy as it stands; `None` when either cannot be computed.
    pub change: Option<Money>,
}

/// The subsidy if every flagged line not yet reviewed were refused (retained at 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedLinesScenario {
    /// The cost lines concerned: active, not reviewed, named by at least one flag.
    pub lines: Vec<LineId>,
    /// Their amounts, which leave the eligible total.
    pub eligible_removed: Money,
    pub subsidy: Option<Money>,
    pub change: Option<Money>,
}

/// Every what-if figure of a statement, for one viewer's flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIf {
    /// The subsidy as it stands; `None` when it cannot be computed.
    pub subsidy: Option<Money>,
    /// One scenario per applicable objective recorded as not attained, in catalogue order.
    pub objectives: Vec<ObjectiveScenario>,
    pub flagged_lines_refused: FlaggedLinesScenario,
    /// Eligible cost the capped ceiling would still fund: capped ceiling − (eligible − receipts), at
    /// least 0 (an extra eligible euro is a subsidy euro until the subsidy reaches the capped
    /// ceiling). `None` when the capped ceiling cannot be computed.
    pub ceiling_headroom: Option<Money>,
}

impl ObjectiveScenario {
    /// « atteindre D1.O4 : +2 500,00 € ».
    pub fn label_fr(&self) -> String {
        format!(
            "atteindre {} : {}",
            self.objective,
            change_fr(self.change, self.subsidy)
        )
    }
}

impl FlaggedLinesScenario {
    /// « refuser les 2 lignes signalées non revues (EXT-0001, EXT-0003) : −1 200,00 € ».
    pub fn label_fr(&self) -> String {
        if self.lines.is_empty() {
            return "aucune ligne signalée en attente de revue".to_string();
        }
        let ids: Vec<&str> = self.lines.iter().map(|l| l.as_str()).collect();
        format!(
            "refuser {} signalée{} non revue{} ({}) : {}",
            if self.lines.len() == 1 {
                "la ligne".to_string()
            } else {
                format!("les {} lignes", self.lines.len())
            },
            if self.lines.len() == 1 { "" } else { "s" },
            if self.lines.len() == 1 { "" } else { "s" },
            ids.join(", "),
            change_fr(self.change, self.subsidy)
        )
    }
}

/// A change of subsidy in French with its sign (`+2 500,00 €`, `−1 200,00 €`, `0,00 €`), or what the
/// subsidy becomes when there is nothing to compare with.
fn change_fr(change: Option<Money>, subsidy: Option<Money>) -> String {
    match (change, subsidy) {
        (Some(c), _) if c.is_negative() => format!("−{}", (-c).to_french()),
        (Some(c), _) if c.is_zero() => c.to_french(),
        (Some(c), _) => format!("+{}", c.to_french()),
        (None, Some(s)) => format!("subvention de {}", s.to_french()),
        (None, None) => "subvention toujours non calculable".to_string(),
    }
}

fn subsidy_of(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
) -> Option<SubsidyReport> {
    compute_subsidy(statement, catalogue, candidate).ok()
}

fn change(scenario: Option<Money>, base: Option<Money>) -> Option<Money> {
    Some(scenario? - base?)
}

/// The what-if figures of a statement. `flags` are those the viewer sees: a line counts as flagged when
/// one of them names it.
pub fn what_if(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
    flags: &[Flag],
) -> WhatIf {
    let base = subsidy_of(statement, catalogue, candidate);
    let base_subsidy = base.as_ref().map(|r| r.subsidy);

    let objectives = catalogue
        .objectives
        .iter()
        .filter(|o| !o.ght_only || candidate.is_ght())
        .filter(|o| statement.attainment(&o.code) == AttainmentStatus::NotAttained)
        .map(|o| {
            let mut reached = statement.clone();
            reached.attainments.insert(
                o.code.clone(),
                Attainment {
                    status: AttainmentStatus::Attained,
                    coverage: None,
                    reason: String::new(),
                },
            );
            let subsidy = subsidy_of(&reached, catalogue, candidate).map(|r| r.subsidy);
            ObjectiveScenario {
                objective: o.code.clone(),
                subsidy,
                change: change(subsidy, base_subsidy),
            }
        })
        .collect();

    let flagged: BTreeSet<&LineId> = flags.iter().filter_map(|f| f.line_id.as_ref()).collect();
    let mut refused = statement.clone();
    let mut lines = Vec::new();
    let mut eligible_removed = Money::ZERO;
    for (id, line) in refused.lines.iter_mut() {
        if line.is_active()
            && line.content.is_cost()
            && line.retained.is_none()
            && flagged.contains(id)
        {
            eligible_removed += line.eligible_amount();
            line.retained = Some(Money::ZERO);
            lines.push(id.clone());
        }
    }
    let refused_subsidy = if lines.is_empty() {
        base_subsidy
    } else {
        subsidy_of(&refused, catalogue, candidate).map(|r| r.subsidy)
    };

    let ceiling_headroom = base
        .as_ref()
        .map(|r| (r.capped_ceiling - (r.eligible_total - r.receipts_total)).max(Money::ZERO));
    WhatIf {
        subsidy: base_subsidy,
        objectives,
        flagged_lines_refused: FlaggedLinesScenario {
            lines,
            eligible_removed,
            subsidy: refused_subsidy,
            change: change(refused_subsidy, base_subsidy),
        },
        ceiling_headroom,
    }
}
