//! Recettes: the seed's table per objective group (`D1.01` …), then the detail of each receipt.

use super::{heading, money_res, validation, Anchors, ListRanges};
use crate::domain::Money;
use crate::template::layout::{self, receipts};
use crate::template::model::TemplateModel;
use crate::template::plan::{a1, abs, sheet_ref, SheetPlan, Style};

/// Row where the receipts' detail header sits, given the number of groups.
pub fn receipts_detail_header_row(groups: usize) -> u32 {
    layout::HEADER_ROW + groups as u32 + 4
}

pub(super) fn receipts_sheet(
    model: &TemplateModel,
    lists: &ListRanges,
    anchors: &mut Anchors,
) -> SheetPlan {
    let mut s = SheetPlan::new(layout::RECETTES);
    heading(
        &mut s,
        model,
        "Déclaration – Recettes perçues pour l'atteinte des objectifs",
    );
    for (c, w) in receipts::WIDTHS.iter().enumerate() {
        if c as u16 == receipts::ID {
            s.hidden_column(c as u16);
        } else {
            s.column(c as u16, *w);
        }
    }
    for (c, h) in receipts::TABLE_HEADERS.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    s.text(
        layout::HEADER_ROW,
        receipts::ID,
        layout::ID_HEADER,
        Style::Identity,
    );
    let ng = model.groups.len() as u32;
    let dh = receipts_detail_header_row(model.groups.len());
    let dfirst = dh + 1;
    let n = model.receipts.len() as u32;
    let dlast = dfirst + n + layout::BLANK_ROWS - 1;
    let detail = |c: u16| format!("{}:{}", abs(dfirst, c), abs(dlast, c));
    let sheet = sheet_ref(layout::RECETTES);
    anchors.receipts_group_cells.clear();
    for (i, g) in model.groups.iter().enumerate() {
        let r = layout::FIRST_DATA_ROW + i as u32;
        let of_group: Vec<_> = model
            .receipts
            .iter()
            .filter(|x| x.group == g.code)
            .collect();
        s.text(
            r,
            receipts::GROUP,
            g.receipts_label.as_str(),
            Style::LabelBold,
        );
        s.text(r, receipts::LABEL, g.label.as_str(), Style::Label);
        let natures: Vec<&str> = of_group
            .iter()
            .map(|x| x.nature_provenance.as_str())
            .collect();
        s.text(r, receipts::NATURE, natures.join(" ; "), Style::Text);
        let amount: Money = of_group.iter().map(|x| x.amount).sum();
        s.formula(
            r,
            receipts::AMOUNT,
            format!(
                "SUMIF({},{},{})",
                detail(receipts::GROUP),
                a1(r, receipts::GROUP),
                detail(receipts::AMOUNT)
            ),
            money_res(amount),
            Style::MoneyFormula,
        );
        s.text(r, receipts::ID, layout::GROUP_MARK, Style::Identity);
        if !g.applicable {
            // D1.O6 for a candidate that is not a GHT: the row stays (the seed's table), hidden.
            s.hide_row(r);
        }
        anchors
            .receipts_group_cells
            .push(format!("{sheet}!{}", abs(r, receipts::AMOUNT)));
    }
    let t = layout::FIRST_DATA_ROW + ng;
    let total: Money = model.receipts.iter().map(|x| x.amount).sum();
    s.text(t, receipts::LABEL, "TOTAL", Style::LabelBold);
    s.formula(
        t,
        receipts::AMOUNT,
        format!(
            "SUM({}:{})",
            a1(layout::FIRST_DATA_ROW, receipts::AMOUNT),
            a1(
                t.saturating_sub(1).max(layout::FIRST_DATA_ROW),
                receipts::AMOUNT
            )
        ),
        money_res(total),
        Style::MoneyTotal,
    );
    s.text(t, receipts::ID, layout::TOTAL_MARK, Style::Identity);
    anchors.receipts_total = format!("{sheet}!{}", abs(t, receipts::AMOUNT));

    s.text(dh - 1, 0, "Détail des recettes perçues", Style::Title);
    for (c, h) in receipts::DETAIL_HEADERS.iter().enumerate() {
        let style = if c as u16 == receipts::ID {
            Style::Identity
        } else {
            Style::Header
        };
        s.text(dh, c as u16, *h, style);
    }
    for (i, x) in model.receipts.iter().enumerate() {
        let r = dfirst + i as u32;
        let label = model
            .group_of(&x.group)
            .map(|g| g.receipts_label.clone())
            .unwrap_or_else(|| x.group.receipts_table_label());
        s.text(r, receipts::GROUP, label, Style::TextInput);
        s.text(r, receipts::LABEL, x.label.as_str(), Style::TextInput);
        s.text(
            r,
            receipts::NATURE,
            x.nature_provenance.as_str(),
            Style::TextInput,
        );
        s.number(
            r,
            receipts::AMOUNT,
            x.amount.to_cell_f64(),
            Style::MoneyInput,
        );
        match x.received_on {
            Some(d) => s.date(r, receipts::DATE, d, Style::DateInput),
            None => s.blank(r, receipts::DATE, Style::DateInput),
        }
        s.text(r, receipts::ID, x.line_id.as_str(), Style::Identity);
    }
    for r in dfirst + n..=dlast {
        for (c, style) in [
            (receipts::GROUP, Style::TextInput),
            (receipts::LABEL, Style::TextInput),
            (receipts::NATURE, Style::TextInput),
            (receipts::AMOUNT, Style::MoneyInput),
            (receipts::DATE, Style::DateInput),
        ] {
            s.blank(r, c, style);
        }
    }
    s.validations.push(validation(
        (dfirst, dlast),
        receipts::GROUP,
        &lists.receipt_groups,
        "N°",
        "Groupe d'objectifs de la recette",
    ));
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s.allow_insert_rows = true;
    s
}
