//! From a statement of the domain to the workbook's model (pure). Every figure comes from the domain:
//! internal-cost rows from `InternalCostLine::rows`, costs from `subsidy::cost_figures`, the subsidy from
//! the statement's `SubsidyReport` (or the sentence saying why it cannot be computed, as in the
//! statement's JSON), the what-if figures from `what_if::what_if`. The workbook only lays them out and
//! adds formulas that recompute them.

use super::model::{
    AttainmentLine, AttainmentStatus, CandidateInfo, ChecklistRow, CostType, DocumentLine,
    ExpenseNatureInfo, ExternalCostLine, FlagLine, GroupFigures, GroupInfo, InternalCostLine,
    ObjectiveFigures, ObjectiveInfo, OtherCostLine, PaymentKind, PaymentLine, ReceiptLine,
    ReviewLine, SubsidyFigures, SummaryFigures, TemplateModel, ViewerRole,
};
use crate::domain::catalogue::{CostPart, DomainCatalogue};
use crate::domain::statement::payments::PaymentStatus;
use crate::domain::statement::subsidy::cost_figures;
use crate::domain::statement::what_if::what_if;
use crate::domain::statement::{
    recorded_status, AttainmentStatus as DomainStatus, CostType as DomainCostType,
    DocumentChecklist, Flag, LineContent, Statement, SubsidyReport,
};
use crate::domain::{Candidate, DomainId, Percent};
use chrono::{DateTime, Utc};

/// Everything a workbook is made of, as the ledger's read side has it.
pub struct StatementSource<'a> {
    pub candidate: &'a Candidate,
    pub domain: DomainId,
    pub catalogue: &'a DomainCatalogue,
    pub statement: &'a Statement,
    /// The statement's subsidy, or why it cannot be computed.
    pub subsidy: Result<&'a SubsidyReport, &'a str>,
    /// The flags this viewer may see.
    pub flags: &'a [Flag],
    pub checklist: &'a DocumentChecklist,
    pub as_of: Option<DateTime<Utc>>,
}

/// Who the workbook is for and which ledger state it reflects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub viewer: ViewerRole,
    /// Global position and hash of the statement's last event.
    pub ledger_position: u64,
    pub head_hash: String,
    /// The global position every input was read at (see [`TemplateModel::read_position`]).
    pub read_position: u64,
    pub generated_at: DateTime<Utc>,
}

fn cost_type(c: DomainCostType) -> CostType {
    match c {
        DomainCostType::Investissement => CostType::Investment,
        DomainCostType::Recurrent => CostType::Recurring,
    }
}

/// The workbook model of a statement.
pub fn model_of(source: &StatementSource<'_>, provenance: Provenance) -> TemplateModel {
    let candidate = source.candidate;
    let catalogue = source.catalogue;
    let statement = source.statement;
    let ght = candidate.is_ght();
    let mut model = TemplateModel {
        candidate: CandidateInfo {
            finess: candidate.finess.clone(),
            name: candidate.name.clone(),
        },
        domain: source.domain,
        years: catalogue.template_years.clone(),
        accepts_internal_costs: catalogue.cost_parts.contains(&CostPart::Internal),
        objectives: catalogue
            .objectives
            .iter()
            .filter(|o| !o.ght_only || ght)
            .map(|o| ObjectiveInfo {
                code: o.code.clone(),
                label: o.label.clone(),
            })
            .collect(),
        // A GHT-only group (D1.O6) keeps its rows for a candidate that is not a GHT, hidden.
        groups: catalogue
            .groups
            .iter()
            .map(|g| GroupInfo {
                code: g.code.clone(),
                receipts_label: g.code.receipts_table_label(),
                label: g.label.clone(),
                applicable: !g.ght_only || ght,
            })
            .collect(),
        expense_natures: catalogue
            .natures
            .iter()
            .map(|n| ExpenseNatureInfo {
                code: n.code.clone(),
                label: n.label.clone(),
                eligible: n.eligible,
            })
            .collect(),
        internal_costs: Vec::new(),
        external_costs: Vec::new(),
        other_costs: Vec::new(),
        receipts: Vec::new(),
        payments: Vec::new(),
        flags: Vec::new(),
        reviews: Vec::new(),
        attainment: Vec::new(),
        documents: documents(statement, catalogue),
        checklist: checklist(source.checklist),
        summary: summary(source),
        what_if: None,
        ledger_position: provenance.ledger_position,
        head_hash: provenance.head_hash,
        read_position: provenance.read_position,
        generated_at: provenance.generated_at,
        as_of: source.as_of,
        viewer: provenance.viewer,
    };
    lines(&mut model, statement, catalogue);
    payments(&mut model, statement);
    reviews(&mut model, statement, provenance.generated_at);
    let show_controller_only = model.viewer.sees_controller_only_flags();
    let visible: Vec<Flag> = source
        .flags
        .iter()
        .filter(|f| show_controller_only || !f.controller_only)
        .cloned()
        .collect();
    model.flags = visible
        .iter()
        .map(|f| FlagLine {
            code: f.code.to_string(),
            message_fr: f.message_fr.clone(),
            line_id: f.line_id.as_ref().map(|l| l.as_str().to_string()),
            values: f
                .values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(" ; "),
            controller_only: f.controller_only,
        })
        .collect();
    model.attainment = attainment_lines(source, &model);
    model.what_if = Some(what_if(statement, catalogue, candidate, &visible));
    model
}

/// The summary's figures: costs from `cost_figures`, the subsidy from the report.
fn summary(source: &StatementSource<'_>) -> SummaryFigures {
    let costs = cost_figures(source.statement);
    let ght = source.candidate.is_ght();
    let payments = source.statement.payment_totals();
    let per_objective: Vec<ObjectiveFigures> = source
        .catalogue
        .objectives
        .iter()
        .filter(|o| !o.ght_only || ght)
        .map(|o| {
            let c = costs
                .per_objective
                .get(&o.code)
                .copied()
                .unwrap_or_default();
            ObjectiveFigures {
                objective: o.code.clone(),
                internal: c.internal,
                external: c.external,
                other: c.other,
                total_declared: c.total,
                total_eligible: c.eligible,
            }
        })
        .collect();
    let per_group = source
        .catalogue
        .groups
        .iter()
        .map(|g| {
            let of_group = || {
                costs
                    .per_objective
                    .iter()
                    .filter(|(code, _)| code.group() == g.code)
                    .map(|(_, c)| c)
            };
            GroupFigures {
                group: g.code.clone(),
                declared: of_group().map(|c| c.total).sum(),
                eligible: of_group().map(|c| c.eligible).sum(),
                receipts: costs
                    .receipts_per_group
                    .get(&g.code)
                    .copied()
                    .unwrap_or_default(),
            }
        })
        .collect();
    let all = || costs.per_objective.values();
    SummaryFigures {
        per_objective,
        per_group,
        internal_declared: all().map(|c| c.internal).sum(),
        external_declared: all().map(|c| c.external).sum(),
        other_declared: all().map(|c| c.other).sum(),
        declared: costs.declared_total,
        eligible: costs.eligible_total,
        receipts: costs.receipts_total,
        net: costs.net,
        ceiling: source.candidate.domain(source.domain).map(|d| d.ceiling),
        committed: payments.committed,
        disbursed: payments.disbursed,
        recovered: payments.recovered,
        subsidy: match source.subsidy {
            Ok(r) => Ok(SubsidyFigures {
                decote: r.decote,
                capped_ceiling: r.capped_ceiling,
                subsidy: r.subsidy,
                provisional: r.provisional,
                due: r.due,
            }),
            Err(reason) => Err(reason.to_string()),
        },
    }
}

fn lines(model: &mut TemplateModel, statement: &Statement, catalogue: &DomainCatalogue) {
    for line in statement.active_lines() {
        let id = line.id.as_str().to_string();
        match &line.content {
            LineContent::Internal(l) => model.internal_costs.push(InternalCostLine {
                line_id: id,
                matricule: l.matricule.clone(),
                year: l.year,
                gross: l.gross_annualised,
                charges: l.employer_charges,
                ne_gross: l.non_eligible_gross,
                hours_productive: l.hours_productive,
                hours_on_action: l.hours_on_action,
                objective: l.objective.clone(),
                contribution: l.contribution.clone(),
                retained: line.retained,
            }),
            LineContent::External(l) => model.external_costs.push(ExternalCostLine {
                line_id: id,
                cost_type: cost_type(l.cost_type),
                order_date: Some(l.order_date),
                invoice_date: l.invoice_date,
                order_number: l.order_number.clone(),
                invoice_number: l.invoice_number.clone(),
                supplier: l.supplier.clone(),
                label: l.service_label.clone(),
                amount: l.amount,
                nature: l.nature.clone(),
                objective: l.objective.clone(),
                contribution: l.contribution.clone(),
                retained: line.retained,
            }),
            LineContent::Other(l) => model.other_costs.push(OtherCostLine {
                line_id: id,
                cost_type: cost_type(l.cost_type),
                date: l.date,
                supplier: l.supplier.clone(),
                label: l.label.clone(),
                amount: l.amount,
                nature: l.nature.clone(),
                objective: l.objective.clone(),
                contribution: l.contribution.clone(),
                retained: line.retained,
            }),
            LineContent::Receipt(l) => model.receipts.push(ReceiptLine {
                line_id: id,
                group: l.group.clone(),
                label: catalogue
                    .groups
                    .iter()
                    .find(|g| g.code == l.group)
                    .map(|g| g.label.clone())
                    .unwrap_or_default(),
                nature_provenance: l.provenance.clone(),
                amount: l.amount,
                received_on: None,
            }),
        }
    }
}

fn payments(model: &mut TemplateModel, statement: &Statement) {
    for payment in statement.payments.payments.values() {
        model.payments.push(PaymentLine {
            payment_id: payment.id.as_str().to_string(),
            kind: PaymentKind::Order,
            date: payment.ordered_on,
            reference: payment.reference.clone(),
            amount: payment.amount,
            cancelled: payment.status == PaymentStatus::Cancelled,
            comment: payment
                .cancel_reason
                .as_ref()
                .map(|r| format!("annulé : {r}"))
                .unwrap_or_default(),
        });
        if payment.status == PaymentStatus::Disbursed {
            model.payments.push(PaymentLine {
                payment_id: payment.id.as_str().to_string(),
                kind: PaymentKind::Disbursement,
                date: payment.disbursed_on.unwrap_or(payment.ordered_on),
                reference: payment.bank_reference.clone().unwrap_or_default(),
                amount: payment.amount,
                cancelled: false,
                comment: payment
                    .value_date
                    .map(|d| format!("date de valeur {}", d.format("%d/%m/%Y")))
                    .unwrap_or_default(),
            });
        }
    }
    for recovery in statement.payments.recoveries.values() {
        for receipt in &recovery.receipts {
            model.payments.push(PaymentLine {
                payment_id: recovery.id.as_str().to_string(),
                kind: PaymentKind::Recovery,
                date: receipt.received_on,
                reference: receipt.bank_reference.clone(),
                amount: receipt.amount,
                cancelled: false,
                comment: format!(
                    "ordre de recouvrement du {} ({}) : {}",
                    recovery.ordered_on.format("%d/%m/%Y"),
                    recovery.ordered.to_french(),
                    recovery.reason
                ),
            });
        }
    }
}

fn reviews(model: &mut TemplateModel, statement: &Statement, generated_at: DateTime<Utc>) {
    let fallback_date = crate::clock::paris_date(generated_at);
    for line in statement.lines_in_order() {
        let label = match &line.content {
            LineContent::Internal(l) => format!("Coût interne {} {}", l.matricule, l.year),
            LineContent::External(l) => format!("Facture {} {}", l.supplier, l.invoice_number),
            LineContent::Other(l) => format!("Autre coût {}", l.label),
            LineContent::Receipt(l) => format!("Recette {}", l.provenance),
        };
        for review in statement.reviews.get(&line.id).into_iter().flatten() {
            model.reviews.push(ReviewLine {
                line_id: line.id.as_str().to_string(),
                line_label: label.clone(),
                decision: review.decision.label_fr().to_string(),
                retained: review.retained_amount,
                reason: review
                    .reason_code
                    .map(|r| r.label_fr().to_string())
                    .or_else(|| {
                        review.requested.as_ref().map(|r| {
                            format!(
                                "pièces demandées : {} (avant le {})",
                                r.what,
                                r.due.format("%d/%m/%Y")
                            )
                        })
                    })
                    .unwrap_or_default(),
                comment: review.comment.clone(),
                reviewer: "contrôleur ANS".into(),
                decided_on: review.reviewed_on.unwrap_or(fallback_date),
            });
        }
    }
}

fn attainment_lines(source: &StatementSource<'_>, model: &TemplateModel) -> Vec<AttainmentLine> {
    let statement = source.statement;
    let report = source.subsidy.ok();
    let mut lines = Vec::new();
    for objective in &model.objectives {
        let recorded = statement.attainments.get(&objective.code);
        let status = match recorded.map(|a| a.status) {
            None | Some(DomainStatus::Unknown) => AttainmentStatus::Unknown,
            Some(DomainStatus::Attained) => AttainmentStatus::Attained,
            Some(DomainStatus::NotAttained) => AttainmentStatus::NotAttained,
        };
        // Each schedule item is charged once, on the first objective it covers (D1.O6 once for A and B).
        let mut decote = Percent::ZERO;
        let mut explanation = recorded.map(|a| a.reason.clone()).unwrap_or_default();
        // A verdict computed from the audit evidence (D1 bis) is explained by its French sentences; a
        // controller's override in force is shown before them.
        if let Some(computed) = statement.computed.get(&objective.code) {
            let text = computed.explanation_fr.join("\n");
            let overridden = match (recorded, recorded_status(computed.status)) {
                (Some(a), Some(c)) => a.status != c || a.coverage != computed.coverage,
                _ => false,
            };
            explanation = if overridden {
                format!("Saisie du contrôleur : {explanation}\nCalcul : {text}")
            } else {
                text
            };
        }
        if let Some(r) = report {
            for item in &r.decote_detail {
                if item.not_attained.first() == Some(&objective.code) {
                    decote = item.percent;
                } else if item.not_attained.contains(&objective.code) {
                    if !explanation.is_empty() {
                        explanation.push_str(" — ");
                    }
                    explanation.push_str(&format!(
                        "décote comptée une fois au titre de {}",
                        item.item
                    ));
                }
            }
        }
        lines.push(AttainmentLine {
            objective: objective.code.clone(),
            status,
            coverage: recorded.and_then(|a| a.coverage),
            decote,
            explanation,
        });
    }
    lines
}

/// The statement's documents for the `Pièces justificatives` sheet, in attachment order.
fn documents(statement: &Statement, catalogue: &DomainCatalogue) -> Vec<DocumentLine> {
    statement
        .documents
        .values()
        .map(|d| DocumentLine {
            document_id: d.id.to_string(),
            kind: catalogue
                .document_kind(&d.kind)
                .map(|k| k.label.clone())
                .unwrap_or_else(|| d.kind.clone()),
            file_name: d.file_name.clone(),
            target: d.target.to_string(),
            attached_on: d.attached_on,
            attached_by: d.attached_by_role.label_fr().to_string(),
            size_bytes: d.size_bytes,
            sha256: d.sha256.clone(),
            superseded_by: d.superseded_by.as_ref().map(|s| s.to_string()),
        })
        .collect()
}

/// The checklist rows: every expected document of every objective and line, with its state.
fn checklist(checklist: &DocumentChecklist) -> Vec<ChecklistRow> {
    let mut rows = Vec::new();
    for entry in checklist.objectives.iter().chain(&checklist.lines) {
        for item in &entry.items {
            rows.push(ChecklistRow {
                target: entry.label.clone(),
                expected: item.label.clone(),
                required: item.required,
                state: item.state_fr(),
                missing: item.missing,
            });
        }
    }
    rows
}
