//! Coûts externes and Autres coûts: one row per line, blank unlocked rows for additions, totals.

use super::{heading, money_res, validation, Anchors, ListRanges};
use crate::domain::Money;
use crate::template::layout::{self, ext, other};
use crate::template::model::TemplateModel;
use crate::template::plan::{a1, abs, sheet_ref, SheetPlan, Style};

pub(super) fn line_sheet_frame(
    s: &mut SheetPlan,
    model: &TemplateModel,
    title: &str,
    headers: &[&str],
    widths: &[f64],
    id_col: u16,
) {
    heading(s, model, title);
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in widths.iter().enumerate() {
        if c as u16 == id_col {
            s.hidden_column(c as u16);
        } else {
            s.column(c as u16, *w);
        }
    }
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s.repeat_rows = Some((0, layout::HEADER_ROW));
    s.allow_insert_rows = true;
}

pub(super) fn external_sheet(
    model: &TemplateModel,
    lists: &ListRanges,
    anchors: &mut Anchors,
) -> SheetPlan {
    let mut s = SheetPlan::new(layout::EXTERNES);
    line_sheet_frame(
        &mut s,
        model,
        "Déclaration – Coûts externes",
        &ext::HEADERS,
        &ext::WIDTHS,
        ext::ID,
    );
    let first = layout::FIRST_DATA_ROW;
    let n = model.external_costs.len() as u32;
    let last = first + n + layout::BLANK_ROWS - 1;
    for (i, l) in model.external_costs.iter().enumerate() {
        let r = first + i as u32;
        s.text(r, ext::TYPE, l.cost_type.label_fr(), Style::TextInput);
        match l.order_date {
            Some(d) => s.date(r, ext::ORDER_DATE, d, Style::DateInput),
            None => s.blank(r, ext::ORDER_DATE, Style::DateInput),
        }
        s.date(r, ext::INVOICE_DATE, l.invoice_date, Style::DateInput);
        s.text(r, ext::ORDER_NO, l.order_number.as_str(), Style::TextInput);
        s.text(
            r,
            ext::INVOICE_NO,
            l.invoice_number.as_str(),
            Style::TextInput,
        );
        s.text(r, ext::SUPPLIER, l.supplier.as_str(), Style::TextInput);
        s.text(r, ext::LABEL, l.label.as_str(), Style::TextInput);
        s.number(r, ext::AMOUNT, l.amount.to_cell_f64(), Style::MoneyInput);
        s.text(
            r,
            ext::NATURE,
            model.nature_label(&l.nature),
            Style::TextInput,
        );
        s.text(r, ext::OBJECTIVE, l.objective.as_str(), Style::TextInput);
        s.text(
            r,
            ext::CONTRIBUTION,
            l.contribution.as_str(),
            Style::TextInput,
        );
        match l.retained {
            Some(m) => s.number(r, ext::RETAINED, m.to_cell_f64(), Style::Money),
            None => s.blank(r, ext::RETAINED, Style::Money),
        }
        let eligible = l.retained.unwrap_or(l.amount);
        eligible_formula(
            &mut s,
            r,
            ext::RETAINED,
            ext::AMOUNT,
            ext::ELIGIBLE,
            money_res(eligible),
        );
        s.text(r, ext::ID, l.line_id.as_str(), Style::Identity);
    }
    for r in first + n..=last {
        for (c, style) in [
            (ext::TYPE, Style::TextInput),
            (ext::ORDER_DATE, Style::DateInput),
            (ext::INVOICE_DATE, Style::DateInput),
            (ext::ORDER_NO, Style::TextInput),
            (ext::INVOICE_NO, Style::TextInput),
            (ext::SUPPLIER, Style::TextInput),
            (ext::LABEL, Style::TextInput),
            (ext::AMOUNT, Style::MoneyInput),
            (ext::NATURE, Style::TextInput),
            (ext::OBJECTIVE, Style::TextInput),
            (ext::CONTRIBUTION, Style::TextInput),
            (ext::RETAINED, Style::Money),
        ] {
            s.blank(r, c, style);
        }
        eligible_formula(
            &mut s,
            r,
            ext::RETAINED,
            ext::AMOUNT,
            ext::ELIGIBLE,
            "0".into(),
        );
    }
    let declared: Money = model.external_costs.iter().map(|l| l.amount).sum();
    let retained: Money = model.external_costs.iter().filter_map(|l| l.retained).sum();
    let eligible: Money = model
        .external_costs
        .iter()
        .map(|l| l.retained.unwrap_or(l.amount))
        .sum();
    let t = last + 1;
    total_row(
        &mut s,
        (first, last, t),
        ext::LABEL,
        ext::ID,
        &[
            (ext::AMOUNT, declared),
            (ext::RETAINED, retained),
            (ext::ELIGIBLE, eligible),
        ],
    );
    s.validations.push(validation(
        (first, last),
        ext::TYPE,
        &lists.cost_types,
        "Type de coût",
        "Coût d'investissement ou coût récurrent",
    ));
    s.validations.push(validation(
        (first, last),
        ext::NATURE,
        &lists.natures,
        "Nature de dépense",
        "Choisir une nature de dépense de la liste",
    ));
    s.validations.push(validation(
        (first, last),
        ext::OBJECTIVE,
        &lists.objectives,
        "Objectif",
        "Choisir un objectif du domaine",
    ));
    let sheet = sheet_ref(layout::EXTERNES);
    let range = |c: u16| format!("{sheet}!{}:{}", abs(first, c), abs(last, c));
    anchors.external_ranges = (
        range(ext::OBJECTIVE),
        range(ext::AMOUNT),
        range(ext::ELIGIBLE),
    );
    anchors.external_total = format!("{sheet}!{}", abs(t, ext::AMOUNT));
    anchors.external_eligible_total = format!("{sheet}!{}", abs(t, ext::ELIGIBLE));
    s
}

fn eligible_formula(
    s: &mut SheetPlan,
    r: u32,
    retained: u16,
    amount: u16,
    col: u16,
    result: String,
) {
    let ret = a1(r, retained);
    s.formula(
        r,
        col,
        format!("IF(ISNUMBER({ret}),{ret},{})", a1(r, amount)),
        result,
        Style::MoneyFormula,
    );
}

fn total_row(
    s: &mut SheetPlan,
    (first, last, t): (u32, u32, u32),
    label_col: u16,
    id_col: u16,
    sums: &[(u16, Money)],
) {
    s.text(t, label_col, "TOTAL", Style::LabelBold);
    for (c, value) in sums {
        s.formula(
            t,
            *c,
            format!("SUM({}:{})", a1(first, *c), a1(last, *c)),
            money_res(*value),
            Style::MoneyTotal,
        );
    }
    s.text(t, id_col, layout::TOTAL_MARK, Style::Identity);
}

pub(super) fn other_sheet(
    model: &TemplateModel,
    lists: &ListRanges,
    anchors: &mut Anchors,
) -> SheetPlan {
    let mut s = SheetPlan::new(layout::AUTRES);
    line_sheet_frame(
        &mut s,
        model,
        "Déclaration – Autres coûts",
        &other::HEADERS,
        &other::WIDTHS,
        other::ID,
    );
    let first = layout::FIRST_DATA_ROW;
    let n = model.other_costs.len() as u32;
    let last = first + n + layout::BLANK_ROWS - 1;
    for (i, l) in model.other_costs.iter().enumerate() {
        let r = first + i as u32;
        s.text(r, other::TYPE, l.cost_type.label_fr(), Style::TextInput);
        s.date(r, other::DATE, l.date, Style::DateInput);
        s.text(r, other::SUPPLIER, l.supplier.as_str(), Style::TextInput);
        s.text(r, other::LABEL, l.label.as_str(), Style::TextInput);
        s.number(r, other::AMOUNT, l.amount.to_cell_f64(), Style::MoneyInput);
        s.text(
            r,
            other::NATURE,
            model.nature_label(&l.nature),
            Style::TextInput,
        );
        s.text(r, other::OBJECTIVE, l.objective.as_str(), Style::TextInput);
        s.text(
            r,
            other::CONTRIBUTION,
            l.contribution.as_str(),
            Style::TextInput,
        );
        match l.retained {
            Some(m) => s.number(r, other::RETAINED, m.to_cell_f64(), Style::Money),
            None => s.blank(r, other::RETAINED, Style::Money),
        }
        let eligible = l.retained.unwrap_or(l.amount);
        eligible_formula(
            &mut s,
            r,
            other::RETAINED,
            other::AMOUNT,
            other::ELIGIBLE,
            money_res(eligible),
        );
        s.text(r, other::ID, l.line_id.as_str(), Style::Identity);
    }
    for r in first + n..=last {
        for (c, style) in [
            (other::TYPE, Style::TextInput),
            (other::DATE, Style::DateInput),
            (other::SUPPLIER, Style::TextInput),
            (other::LABEL, Style::TextInput),
            (other::AMOUNT, Style::MoneyInput),
            (other::NATURE, Style::TextInput),
            (other::OBJECTIVE, Style::TextInput),
            (other::CONTRIBUTION, Style::TextInput),
            (other::RETAINED, Style::Money),
        ] {
            s.blank(r, c, style);
        }
        eligible_formula(
            &mut s,
            r,
            other::RETAINED,
            other::AMOUNT,
            other::ELIGIBLE,
            "0".into(),
        );
    }
    let declared: Money = model.other_costs.iter().map(|l| l.amount).sum();
    let retained: Money = model.other_costs.iter().filter_map(|l| l.retained).sum();
    let eligible: Money = model
        .other_costs
        .iter()
        .map(|l| l.retained.unwrap_or(l.amount))
        .sum();
    let t = last + 1;
    total_row(
        &mut s,
        (first, last, t),
        other::LABEL,
        other::ID,
        &[
            (other::AMOUNT, declared),
            (other::RETAINED, retained),
            (other::ELIGIBLE, eligible),
        ],
    );
    s.validations.push(validation(
        (first, last),
        other::TYPE,
        &lists.cost_types,
        "Type de coût",
        "Coût d'investissement ou coût récurrent",
    ));
    s.validations.push(validation(
        (first, last),
        other::NATURE,
        &lists.natures,
        "Nature de dépense",
        "Choisir une nature de dépense de la liste",
    ));
    s.validations.push(validation(
        (first, last),
        other::OBJECTIVE,
        &lists.objectives,
        "Objectif",
        "Choisir un objectif du domaine",
    ));
    let sheet = sheet_ref(layout::AUTRES);
    let range = |c: u16| format!("{sheet}!{}:{}", abs(first, c), abs(last, c));
    anchors.other_ranges = (
        range(other::OBJECTIVE),
        range(other::AMOUNT),
        range(other::ELIGIBLE),
    );
    anchors.other_total = format!("{sheet}!{}", abs(t, other::AMOUNT));
    anchors.other_eligible_total = format!("{sheet}!{}", abs(t, other::ELIGIBLE));
    s
}
