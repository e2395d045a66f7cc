//! Coûts internes: one block of the seed's eleven rows per employee, one column per year, TOTAL.

use super::{decimal_cell, heading, money_res, res, validation, Anchors, ListRanges};
use crate::domain::statement::InternalCostRows;
use crate::domain::Money;
use crate::template::layout::{self, internal};
use crate::template::model::{InternalCostLine, TemplateModel};
use crate::template::plan::{a1, abs, col_letters, sheet_ref, SheetPlan, Style};
use rust_decimal::Decimal;

/// One figure of an internal-cost line (a row of the block's TOTAL column).
type LineFigure = fn(&InternalCostLine) -> Decimal;

/// One employee's block: the lines of one matricule and objective, at most one per year.
struct Block<'a> {
    lines: Vec<Option<&'a InternalCostLine>>,
}

fn internal_blocks<'a>(model: &'a TemplateModel) -> Vec<Block<'a>> {
    let mut blocks: Vec<Block<'a>> = Vec::new();
    for line in &model.internal_costs {
        let Some(year_idx) = model.years.iter().position(|y| *y == line.year) else {
            continue;
        };
        let existing = blocks.iter_mut().find(|b| {
            b.lines[year_idx].is_none()
                && b.lines.iter().flatten().next().is_some_and(|first| {
                    first.matricule == line.matricule && first.objective == line.objective
                })
        });
        match existing {
            Some(b) => b.lines[year_idx] = Some(line),
            None => {
                let mut lines = vec![None; model.years.len()];
                lines[year_idx] = Some(line);
                blocks.push(Block { lines });
            }
        }
    }
    blocks
}

pub(super) fn internal_sheet(
    model: &TemplateModel,
    lists: &ListRanges,
    anchors: &mut Anchors,
) -> SheetPlan {
    let ny = model.years.len();
    let total_col = internal::total_col(ny);
    let obj_col = internal::objective_col(ny);
    let contrib_col = internal::contribution_col(ny);
    let id_col = internal::id_col(ny);
    let mut s = SheetPlan::new(layout::INTERNES);
    heading(&mut s, model, "Déclaration – Coûts internes");
    s.text(
        layout::HEADER_ROW - 1,
        id_col,
        layout::ID_HEADER,
        Style::Identity,
    );
    s.column(internal::LABEL, 62.0);
    for i in 0..ny {
        s.column(internal::FIRST_YEAR + i as u16, 15.0);
    }
    s.column(total_col, 15.0);
    s.column(obj_col, 14.0);
    s.column(contrib_col, 45.0);
    s.hidden_column(id_col);
    s.freeze = Some((internal::FIRST_BLOCK_ROW, 1));

    let blocks = internal_blocks(model);
    let n_blocks = blocks.len() as u32 + layout::BLANK_BLOCKS;
    let first = internal::FIRST_BLOCK_ROW;
    for b in 0..n_blocks {
        let h = first + b * internal::BLOCK_HEIGHT;
        let block = blocks.get(b as usize);
        let lines: Vec<Option<&InternalCostLine>> = match block {
            Some(bl) => bl.lines.clone(),
            None => vec![None; ny],
        };
        let first_line = lines.iter().flatten().next().copied();
        // Identity: the block marker and the line of each year.
        let mut identity = String::from(layout::BLOCK_MARK);
        for (i, y) in model.years.iter().enumerate() {
            identity.push_str(&format!(
                "|{}={}",
                y,
                lines[i].map(|l| l.line_id.as_str()).unwrap_or("")
            ));
        }
        s.text(h, id_col, identity, Style::Identity);
        s.text(
            h + internal::MATRICULE,
            internal::LABEL,
            internal::MATRICULE_LABEL,
            Style::LabelBold,
        );
        match first_line {
            Some(l) => s.text(
                h,
                internal::FIRST_YEAR,
                l.matricule.as_str(),
                Style::TextInput,
            ),
            None => s.blank(h, internal::FIRST_YEAR, Style::TextInput),
        }
        // Year header row.
        let hy = h + internal::YEARS;
        s.blank(hy, internal::LABEL, Style::Header);
        for (i, y) in model.years.iter().enumerate() {
            s.number(
                hy,
                internal::FIRST_YEAR + i as u16,
                f64::from(*y),
                Style::Header,
            );
        }
        s.text(hy, total_col, "TOTAL (€)", Style::Header);
        s.text(hy, obj_col, "Objectif de référence", Style::Header);
        s.text(hy, contrib_col, "Contribution", Style::Header);
        for (k, label) in internal::ROW_LABELS.iter().enumerate() {
            s.text(
                h + internal::row(k as u32 + 1),
                internal::LABEL,
                *label,
                Style::Label,
            );
        }
        s.text(
            h + internal::RETAINED,
            internal::LABEL,
            internal::RETAINED_LABEL,
            Style::LabelBold,
        );
        s.text(
            h + internal::ELIGIBLE,
            internal::LABEL,
            internal::ELIGIBLE_LABEL,
            Style::LabelBold,
        );
        let r = |k: u32| h + internal::row(k);
        for (i, line) in lines.iter().enumerate() {
            let c = internal::FIRST_YEAR + i as u16;
            let at = |k: u32| a1(r(k), c);
            match line {
                Some(l) => {
                    s.number(r(1), c, l.gross.to_cell_f64(), Style::MoneyInput);
                    s.number(r(2), c, l.charges.to_cell_f64(), Style::MoneyInput);
                    s.number(r(3), c, l.ne_gross.to_cell_f64(), Style::MoneyInput);
                    s.number(r(8), c, decimal_cell(l.hours_productive), Style::HoursInput);
                    s.number(r(10), c, decimal_cell(l.hours_on_action), Style::HoursInput);
                }
                None => {
                    for k in [1, 2, 3] {
                        s.blank(r(k), c, Style::MoneyInput);
                    }
                    s.blank(r(8), c, Style::HoursInput);
                    s.blank(r(10), c, Style::HoursInput);
                }
            }
            let rows = line.map(|l| l.rows());
            let val = |f: &dyn Fn(&InternalCostRows) -> Decimal| {
                rows.as_ref()
                    .map(f)
                    .map(res)
                    .unwrap_or_else(|| "0".to_string())
            };
            s.formula(
                r(4),
                c,
                format!("IF({}=0,0,{}*{}/{})", at(1), at(2), at(3), at(1)),
                val(&|x| x.non_eligible_charges.value()),
                Style::MoneyFormula,
            );
            s.formula(
                r(5),
                c,
                format!("{}-{}", at(1), at(3)),
                val(&|x| x.gross_eligible.value()),
                Style::MoneyFormula,
            );
            s.formula(
                r(6),
                c,
                format!("{}-{}", at(2), at(4)),
                val(&|x| x.charges_eligible.value()),
                Style::MoneyFormula,
            );
            s.formula(
                r(7),
                c,
                format!("{}+{}", at(5), at(6)),
                val(&|x| x.subtotal.value()),
                Style::MoneyFormula,
            );
            s.formula(
                r(9),
                c,
                format!("IF({}=0,0,{}/{})", at(8), at(7), at(8)),
                val(&|x| x.hourly_rate),
                Style::RateFormula,
            );
            s.formula(
                r(11),
                c,
                format!("ROUND({}*{},2)", at(9), at(10)),
                val(&|x| x.imputable.value()),
                Style::MoneyFormula,
            );
            match line.and_then(|l| l.retained) {
                Some(m) => s.number(h + internal::RETAINED, c, m.to_cell_f64(), Style::Money),
                None => s.blank(h + internal::RETAINED, c, Style::Money),
            }
            let retained = a1(h + internal::RETAINED, c);
            s.formula(
                h + internal::ELIGIBLE,
                c,
                format!("IF(ISNUMBER({retained}),{retained},{})", at(11)),
                line.map(|l| money_res(l.retained.unwrap_or(l.rows().imputable)))
                    .unwrap_or_else(|| "0".into()),
                Style::MoneyFormula,
            );
        }
        // TOTAL column (blank for productive hours and hourly rate, as in the seed).
        let first_c = col_letters(internal::FIRST_YEAR);
        let last_c = col_letters(internal::FIRST_YEAR + ny as u16 - 1);
        let sum_row = |row: u32| format!("SUM({first_c}{n}:{last_c}{n})", n = row + 1);
        let total_of = |f: &dyn Fn(&InternalCostLine) -> Decimal| {
            res(lines.iter().flatten().map(|l| f(l)).sum())
        };
        let totals: [(u32, LineFigure); 9] = [
            (1, |l| l.gross.value()),
            (2, |l| l.charges.value()),
            (3, |l| l.ne_gross.value()),
            (4, |l| l.rows().non_eligible_charges.value()),
            (5, |l| l.rows().gross_eligible.value()),
            (6, |l| l.rows().charges_eligible.value()),
            (7, |l| l.rows().subtotal.value()),
            (10, |l| l.hours_on_action),
            (11, |l| l.rows().imputable.value()),
        ];
        for (k, f) in totals.iter() {
            let style = if *k == 10 {
                Style::RateFormula
            } else if *k == 11 {
                Style::MoneyTotal
            } else {
                Style::MoneyFormula
            };
            s.formula(r(*k), total_col, sum_row(r(*k)), total_of(f), style);
        }
        s.blank(r(8), total_col, Style::Label);
        s.blank(r(9), total_col, Style::Label);
        s.formula(
            h + internal::RETAINED,
            total_col,
            sum_row(h + internal::RETAINED),
            total_of(&|l| l.retained.unwrap_or(Money::ZERO).value()),
            Style::Money,
        );
        s.formula(
            h + internal::ELIGIBLE,
            total_col,
            sum_row(h + internal::ELIGIBLE),
            total_of(&|l| l.retained.unwrap_or(l.rows().imputable).value()),
            Style::MoneyTotal,
        );
        match first_line {
            Some(l) => {
                s.text(r(1), obj_col, l.objective.as_str(), Style::TextInput);
                s.text(r(1), contrib_col, l.contribution.as_str(), Style::TextInput);
            }
            None => {
                s.blank(r(1), obj_col, Style::TextInput);
                s.blank(r(1), contrib_col, Style::TextInput);
            }
        }
    }
    let last = first + n_blocks * internal::BLOCK_HEIGHT - 1;
    s.validations.push(validation(
        (first, last),
        obj_col,
        &lists.objectives,
        "Objectif de référence",
        "Choisir un objectif du domaine",
    ));
    // Totals of the sheet.
    let t = last + 1;
    let tc = col_letters(total_col);
    let label_range = format!("$A${}:$A${}", first + 1, last + 1);
    let sum_range = format!("${tc}${}:${tc}${}", first + 1, last + 1);
    let internal_total: Decimal = model
        .internal_costs
        .iter()
        .map(|l| l.rows().imputable.value())
        .sum();
    let internal_eligible: Decimal = model
        .internal_costs
        .iter()
        .map(|l| l.retained.unwrap_or(l.rows().imputable).value())
        .sum();
    s.text(
        t,
        internal::LABEL,
        format!("TOTAL {}", internal::ROW_LABELS[10]),
        Style::LabelBold,
    );
    s.formula(
        t,
        total_col,
        format!(
            "SUMIF({label_range},\"{}\",{sum_range})",
            internal::ROW_LABELS[10]
        ),
        res(internal_total),
        Style::MoneyTotal,
    );
    s.text(t, id_col, layout::TOTAL_MARK, Style::Identity);
    s.text(
        t + 1,
        internal::LABEL,
        format!("TOTAL {}", internal::ELIGIBLE_LABEL),
        Style::LabelBold,
    );
    s.formula(
        t + 1,
        total_col,
        format!(
            "SUMIF({label_range},\"{}\",{sum_range})",
            internal::ELIGIBLE_LABEL
        ),
        res(internal_eligible),
        Style::MoneyTotal,
    );
    s.text(
        t + 3,
        internal::LABEL,
        "* sans prorata : montant annuel (équivalent année pleine), justifié par le récapitulatif de paie",
        Style::Subtitle,
    );
    s.text(
        t + 4,
        internal::LABEL,
        "** éléments non éligibles : par exemple primes de départ ; les charges correspondantes sont calculées au prorata du brut",
        Style::Subtitle,
    );
    let sheet = sheet_ref(layout::INTERNES);
    let oc = col_letters(obj_col);
    let crit_first = first + internal::row(1);
    let crit_last = last;
    anchors.internal_ranges = Some((
        format!("{sheet}!${oc}${}:${oc}${}", crit_first + 1, crit_last + 1),
        format!(
            "{sheet}!${tc}${}:${tc}${}",
            crit_first + 1 + 10,
            crit_last + 1 + 10
        ),
        format!(
            "{sheet}!${tc}${}:${tc}${}",
            crit_first + 1 + 12,
            crit_last + 1 + 12
        ),
    ));
    anchors.internal_total = Some(format!("{sheet}!{}", abs(t, total_col)));
    anchors.internal_eligible_total = Some(format!("{sheet}!{}", abs(t + 1, total_col)));
    s
}
