//! Paiements: orders, disbursements and recoveries, with the committed, disbursed and recovered
//! totals the summary refers to.

use super::{money_res, Anchors};
use crate::domain::Money;
use crate::template::layout::{self, payments};
use crate::template::model::{PaymentKind, TemplateModel};
use crate::template::plan::{abs, sheet_ref, SheetPlan, Style};

pub(super) fn payments_sheet(model: &TemplateModel, anchors: &mut Anchors) -> SheetPlan {
    let mut s = SheetPlan::new(layout::PAIEMENTS);
    super::heading(
        &mut s,
        model,
        "Paiements – ordres, versements, recouvrements",
    );
    for (c, h) in payments::HEADERS.iter().enumerate() {
        let style = if c as u16 == payments::ID {
            Style::Identity
        } else {
            Style::Header
        };
        s.text(layout::HEADER_ROW, c as u16, *h, style);
    }
    for (c, w) in [22.0, 13.0, 18.0, 16.0, 12.0, 40.0].iter().enumerate() {
        s.column(c as u16, *w);
    }
    s.hidden_column(payments::ID);
    let first = layout::FIRST_DATA_ROW;
    for (i, p) in model.payments.iter().enumerate() {
        let r = first + i as u32;
        s.text(r, payments::KIND, p.kind.label_fr(), Style::Text);
        s.date(r, payments::DATE, p.date, Style::Date);
        s.text(r, payments::REFERENCE, p.reference.as_str(), Style::Text);
        s.number(r, payments::AMOUNT, p.amount.to_cell_f64(), Style::Money);
        let status = if p.cancelled {
            payments::CANCELLED
        } else {
            payments::ACTIVE
        };
        s.text(r, payments::STATUS, status, Style::Text);
        s.text(r, payments::COMMENT, p.comment.as_str(), Style::Text);
        s.text(r, payments::ID, p.payment_id.as_str(), Style::Identity);
    }
    let last = first + (model.payments.len() as u32).max(1) - 1;
    let range = |c: u16| format!("{}:{}", abs(first, c), abs(last, c));
    let t = last + 2;
    let sum_kind = |kind: PaymentKind, only_active: bool| -> Money {
        model
            .payments
            .iter()
            .filter(|p| p.kind == kind && !(only_active && p.cancelled))
            .map(|p| p.amount)
            .sum()
    };
    let rows = [
        (
            "Engagé (ordres de paiement non annulés)",
            format!(
                "SUMIFS({},{},\"{}\",{},\"<>{}\")",
                range(payments::AMOUNT),
                range(payments::KIND),
                PaymentKind::Order.label_fr(),
                range(payments::STATUS),
                payments::CANCELLED
            ),
            sum_kind(PaymentKind::Order, true),
        ),
        (
            "Versé",
            format!(
                "SUMIF({},\"{}\",{})",
                range(payments::KIND),
                PaymentKind::Disbursement.label_fr(),
                range(payments::AMOUNT)
            ),
            sum_kind(PaymentKind::Disbursement, false),
        ),
        (
            "Recouvré",
            format!(
                "SUMIF({},\"{}\",{})",
                range(payments::KIND),
                PaymentKind::Recovery.label_fr(),
                range(payments::AMOUNT)
            ),
            sum_kind(PaymentKind::Recovery, false),
        ),
    ];
    let sheet = sheet_ref(layout::PAIEMENTS);
    let mut cells = Vec::new();
    for (i, (label, formula, value)) in rows.into_iter().enumerate() {
        let r = t + i as u32;
        s.text(r, payments::REFERENCE, label, Style::LabelBold);
        s.formula(
            r,
            payments::AMOUNT,
            formula,
            money_res(value),
            Style::MoneyTotal,
        );
        cells.push(format!("{sheet}!{}", abs(r, payments::AMOUNT)));
    }
    anchors.committed = cells[0].clone();
    anchors.disbursed = cells[1].clone();
    anchors.recovered = cells[2].clone();
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}
