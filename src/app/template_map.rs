//! From a statement view of the ledger to the Excel template's model, and from a filled template's
//! changes back to statement commands.

use super::ledger::StatementView;
use crate::actor::Role;
use crate::domain::catalogue::{CostPart, DomainCatalogue};
use crate::domain::statement::payments::PaymentStatus;
use crate::domain::statement::{
    recorded_status, AttainmentStatus as DomainStatus, CostType as DomainCostType,
    ExternalCostInput, InternalCostInput, LineContent, OtherCostInput, ReceiptInput,
    StatementCommand, SubsidyReport,
};
use crate::domain::Money;
use crate::template::import::{LineFields, TemplateChange};
use crate::template::model::{
    AttainmentLine, AttainmentStatus, CandidateInfo, CostType, ExpenseNatureInfo, ExternalCostLine,
    FlagLine, GroupInfo, InternalComputed, InternalCostLine, ObjectiveInfo, OtherCostLine,
    PaymentKind, PaymentLine, ReceiptLine, ReviewLine, SummaryFigures, TemplateModel, ViewerRole,
};
use chrono::{DateTime, Utc};

fn cost_type(c: DomainCostType) -> CostType {
    match c {
        DomainCostType::Investissement => CostType::Investment,
        DomainCostType::Recurrent => CostType::Recurring,
    }
}

fn cost_type_text(c: &CostType) -> String {
    match c {
        CostType::Investment => "investissement".into(),
        CostType::Recurring => "recurrent".into(),
    }
}

pub fn viewer_of(role: Role) -> ViewerRole {
    match role {
        Role::Etablissement => ViewerRole::Establishment,
        Role::Paiement => ViewerRole::PaymentDesk,
        Role::Controleur | Role::Admin => ViewerRole::Controller,
    }
}

/// The workbook model of a statement. The statement-level figures are the service's (the subsidy
/// report); per-objective and per-group figures are derived from the same lines.
pub fn template_model(
    view: &StatementView,
    catalogue: &DomainCatalogue,
    viewer: Role,
    ledger_position: i64,
    head_hash: &str,
    generated_at: DateTime<Utc>,
) -> TemplateModel {
    let mut model = TemplateModel {
        candidate: CandidateInfo {
            finess: view.candidate.finess.clone(),
            name: view.candidate.name.clone(),
        },
        domain: view.domain,
        years: catalogue.template_years.clone(),
        accepts_internal_costs: catalogue.cost_parts.contains(&CostPart::Internal),
        objectives: catalogue
            .objectives
            .iter()
            .filter(|o| !o.ght_only || view.candidate.is_ght())
            .map(|o| ObjectiveInfo {
                code: o.code.clone(),
                label: o.label.clone(),
            })
            .collect(),
        groups: catalogue
            .groups
            .iter()
            .map(|g| GroupInfo {
                code: g.code.clone(),
                receipts_label: g.code.receipts_table_label(),
                label: g.label.clone(),
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
        documents: documents(view, catalogue),
        checklist: checklist(view),
        summary: empty_summary(),
        ledger_position: u64::try_from(ledger_position).unwrap_or(0),
        head_hash: head_hash.to_string(),
        generated_at,
        as_of: view.as_of,
        viewer: viewer_of(viewer),
    };
    for line in view.statement.active_lines() {
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
                computed: InternalComputed::compute(
                    l.gross_annualised,
                    l.employer_charges,
                    l.non_eligible_gross,
                    l.hours_productive,
                    l.hours_on_action,
                ),
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
    let fallback_date = crate::clock::paris_date(generated_at);
    for payment in view.statement.payments.payments.values() {
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
    for recovery in view.statement.payments.recoveries.values() {
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
    for line in view.statement.lines_in_order() {
        let label = match &line.content {
            LineContent::Internal(l) => format!("Coût interne {} {}", l.matricule, l.year),
            LineContent::External(l) => format!("Facture {} {}", l.supplier, l.invoice_number),
            LineContent::Other(l) => format!("Autre coût {}", l.label),
            LineContent::Receipt(l) => format!("Recette {}", l.provenance),
        };
        for review in view.statement.reviews.get(&line.id).into_iter().flatten() {
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
    let show_controller_only = viewer != Role::Etablissement;
    model.flags = view
        .flags
        .iter()
        .filter(|f| show_controller_only || !f.controller_only)
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
    let report = view.subsidy.as_ref().ok();
    model.attainment = attainment_lines(view, &model, report);
    let ceiling = view
        .candidate
        .domain(view.domain)
        .map(|d| d.ceiling)
        .unwrap_or(Money::ZERO);
    let mut summary = model.compute_summary(ceiling);
    if let Some(r) = report {
        // The service's figures are authoritative; the workbook's formulas recompute them.
        summary.declared = r.declared_total;
        summary.eligible = r.eligible_total;
        summary.receipts = r.receipts_total;
        summary.net = r.net;
        summary.ceiling = r.ceiling;
        summary.decote = r.decote;
        summary.capped_ceiling = r.capped_ceiling;
        summary.subsidy = r.subsidy;
        summary.provisional = r.provisional;
        summary.committed = r.committed;
        summary.disbursed = r.disbursed;
        summary.recovered = r.recovered;
        summary.due = r.due;
    } else {
        summary.provisional = true;
    }
    model.summary = summary;
    model
}

fn attainment_lines(
    view: &StatementView,
    model: &TemplateModel,
    report: Option<&SubsidyReport>,
) -> Vec<AttainmentLine> {
    let mut lines = Vec::new();
    for objective in &model.objectives {
        let recorded = view.statement.attainments.get(&objective.code);
        let status = match recorded.map(|a| a.status) {
            None | Some(DomainStatus::Unknown) => AttainmentStatus::Unknown,
            Some(DomainStatus::Attained) => AttainmentStatus::Attained,
            Some(DomainStatus::NotAttained) => AttainmentStatus::NotAttained,
        };
        // Each schedule item is charged once, on the first objective it covers (D1.O6 once for A and B).
        let mut decote = crate::domain::Percent::ZERO;
        let mut explanation = recorded.map(|a| a.reason.clone()).unwrap_or_default();
        // A verdict computed from the audit evidence (D1 bis) is explained by its French sentences; a
        // controller's override in force is shown before them.
        if let Some(computed) = view.statement.computed.get(&objective.code) {
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

fn empty_summary() -> SummaryFigures {
    SummaryFigures {
        per_objective: Vec::new(),
        per_group: Vec::new(),
        internal_declared: Money::ZERO,
        external_declared: Money::ZERO,
        other_declared: Money::ZERO,
        declared: Money::ZERO,
        eligible: Money::ZERO,
        receipts: Money::ZERO,
        net: Money::ZERO,
        ceiling: Money::ZERO,
        decote: crate::domain::Percent::ZERO,
        capped_ceiling: Money::ZERO,
        subsidy: Money::ZERO,
        provisional: true,
        committed: Money::ZERO,
        disbursed: Money::ZERO,
        recovered: Money::ZERO,
        due: Money::ZERO,
    }
}

fn amount_text(m: Money) -> String {
    m.to_plain_string()
}

fn date_text(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The statement commands a template import asks for. Declarations get fresh line ids from the ledger;
/// corrections keep the line's id; cleared lines are withdrawn.
pub fn commands_of(changes: &[TemplateChange]) -> Vec<StatementCommand> {
    let mut commands = Vec::new();
    for change in changes {
        let (line_id, fields) = match change {
            TemplateChange::Withdraw { line_id, .. } => {
                commands.push(StatementCommand::WithdrawLine {
                    line_id: line_id.clone(),
                    reason: "ligne effacée dans la trame importée".into(),
                });
                continue;
            }
            TemplateChange::Declare { fields, .. } => (String::new(), fields),
            TemplateChange::Correct { line_id, fields } => (line_id.clone(), fields),
        };
        let correct = matches!(change, TemplateChange::Correct { .. });
        let command = match fields {
            LineFields::Internal(f) => {
                let input = InternalCostInput {
                    line_id,
                    matricule: f.matricule.to_string(),
                    year: f.year.to_string(),
                    objective: f.objective.to_string(),
                    nature: "COUTS_INTERNES".into(),
                    contribution: f.contribution.clone(),
                    gross_annualised: amount_text(f.gross),
                    employer_charges: amount_text(f.charges),
                    non_eligible_gross: amount_text(f.ne_gross),
                    hours_productive: f.hours_productive.normalize().to_string(),
                    hours_on_action: f.hours_on_action.normalize().to_string(),
                };
                if correct {
                    StatementCommand::CorrectInternalCost(input)
                } else {
                    StatementCommand::DeclareInternalCost(input)
                }
            }
            LineFields::External(f) => {
                let input = ExternalCostInput {
                    line_id,
                    cost_type: cost_type_text(&f.cost_type),
                    order_date: date_text(f.order_date),
                    invoice_date: date_text(Some(f.invoice_date)),
                    order_number: f.order_number.clone(),
                    invoice_number: f.invoice_number.clone(),
                    supplier: f.supplier.clone(),
                    service_label: f.label.clone(),
                    amount: amount_text(f.amount),
                    nature: f.nature.clone(),
                    objective: f.objective.to_string(),
                    contribution: f.contribution.clone(),
                };
                if correct {
                    StatementCommand::CorrectExternalCost(input)
                } else {
                    StatementCommand::DeclareExternalCost(input)
                }
            }
            LineFields::Other(f) => {
                let input = OtherCostInput {
                    line_id,
                    cost_type: cost_type_text(&f.cost_type),
                    amount: amount_text(f.amount),
                    date: date_text(Some(f.date)),
                    supplier: f.supplier.clone(),
                    label: f.label.clone(),
                    nature: f.nature.clone(),
                    objective: f.objective.to_string(),
                    contribution: f.contribution.clone(),
                };
                if correct {
                    StatementCommand::CorrectOtherCost(input)
                } else {
                    StatementCommand::DeclareOtherCost(input)
                }
            }
            LineFields::Receipt(f) => {
                let input = ReceiptInput {
                    line_id,
                    group: f.group.to_string(),
                    provenance: f.nature_provenance.clone(),
                    amount: amount_text(f.amount),
                };
                if correct {
                    StatementCommand::CorrectReceipt(input)
                } else {
                    StatementCommand::DeclareReceipt(input)
                }
            }
        };
        commands.push(command);
    }
    commands
}

/// The statement's documents for the `Pièces justificatives` sheet, in attachment order.
fn documents(
    view: &StatementView,
    catalogue: &DomainCatalogue,
) -> Vec<crate::template::model::DocumentLine> {
    view.statement
        .documents
        .values()
        .map(|d| crate::template::model::DocumentLine {
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
fn checklist(view: &StatementView) -> Vec<crate::template::model::ChecklistRow> {
    let mut rows = Vec::new();
    for entry in view
        .checklist
        .objectives
        .iter()
        .chain(&view.checklist.lines)
    {
        for item in &entry.items {
            let state = item.state_fr();
            rows.push(crate::template::model::ChecklistRow {
                target: entry.label.clone(),
                expected: item.label.clone(),
                required: item.required,
                state,
                missing: item.missing,
            });
        }
    }
    rows
}
