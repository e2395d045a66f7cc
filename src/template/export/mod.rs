//! Lays a [`TemplateModel`] out as a [`WorkbookPlan`] (SPEC.md §9). Inputs are values; every derived
//! figure is a formula (English syntax, commas) whose result is cached in the file, so readers that do
//! not recalculate see the service's figures and a spreadsheet that does finds the same to the cent.

use super::layout::{self, ext, internal, other, payments, receipts};
use super::model::{InternalCostLine, PaymentKind, TemplateModel, ViewerRole};
use super::plan::{
    a1, abs, col_letters, sheet_ref, ChartPlan, PropertiesPlan, SeriesKind, SeriesPlan, SheetPlan,
    Style, ValidationPlan, WorkbookPlan,
};
use crate::domain::Money;
use rust_decimal::Decimal;

/// A decimal (hours, percentage) as a cell number: the same nearest-f64 rule as
/// [`Money::to_cell_f64`], the only conversion to floating point.
fn decimal_cell(value: Decimal) -> f64 {
    Money::new(value).to_cell_f64()
}

/// Cached result of a formula: the exact decimal, written out in full.
fn res(value: Decimal) -> String {
    value.normalize().to_string()
}

fn money_res(value: Money) -> String {
    res(value.value())
}

/// One figure of an internal-cost line (a row of the block's TOTAL column).
type LineFigure = fn(&InternalCostLine) -> Decimal;

/// Where the other sheets' figures sit, for the summary's formulas.
#[derive(Default)]
struct Anchors {
    /// Coûts internes: (objective criteria range, imputable sum range, eligible sum range).
    internal_ranges: Option<(String, String, String)>,
    internal_total: Option<String>,
    internal_eligible_total: Option<String>,
    external_ranges: (String, String, String),
    external_total: String,
    external_eligible_total: String,
    other_ranges: (String, String, String),
    other_total: String,
    other_eligible_total: String,
    /// Per group (index in model.groups): the Recettes cell of the group's amount.
    receipts_group_cells: Vec<String>,
    receipts_total: String,
    decote_range: String,
    committed: String,
    disbursed: String,
    recovered: String,
}

/// Builds the plan of the workbook of one statement.
pub fn plan_workbook(model: &TemplateModel) -> WorkbookPlan {
    let mut anchors = Anchors::default();
    let mut sheets = Vec::with_capacity(9);
    let lists = ListRanges::new(model);
    let internal_sheet = if model.accepts_internal_costs {
        Some(internal_sheet(model, &lists, &mut anchors))
    } else {
        None
    };
    let external = external_sheet(model, &lists, &mut anchors);
    let other_costs = other_sheet(model, &lists, &mut anchors);
    let receipts_sheet = receipts_sheet(model, &lists, &mut anchors);
    let payments_sheet = payments_sheet(model, &mut anchors);
    let controls = controls_sheet(model);
    let review = review_sheet(model, &mut anchors);
    let documents = documents_sheet(model);
    let (summary, defined_names) = summary_sheet(model, &anchors);
    sheets.push(summary);
    if let Some(s) = internal_sheet {
        sheets.push(s);
    }
    sheets.push(external);
    sheets.push(other_costs);
    sheets.push(receipts_sheet);
    sheets.push(payments_sheet);
    sheets.push(controls);
    sheets.push(review);
    sheets.push(documents);
    sheets.push(lists_sheet(model));
    WorkbookPlan {
        sheets,
        properties: properties(model),
        defined_names,
    }
}

fn properties(model: &TemplateModel) -> PropertiesPlan {
    let as_of = model
        .as_of
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "courante".to_string());
    PropertiesPlan {
        title: format!(
            "État financier CaRE – {} – {}",
            model.candidate.name,
            model.domain.label_fr()
        ),
        subject: format!(
            "Trame de l'état financier, candidat {} ({}), {}",
            model.candidate.finess,
            model.candidate.name,
            model.domain.label_fr()
        ),
        author: "care-ledger".to_string(),
        company: "Programme CaRE – ANS".to_string(),
        keywords: format!("CaRE; {}; {}", model.candidate.finess, model.domain),
        comment: format!(
            "Généré le {} à partir du registre, position {}, empreinte de tête {}",
            model.generated_at.to_rfc3339(),
            model.ledger_position,
            model.head_hash
        ),
        created: model.generated_at.to_rfc3339(),
        custom: vec![
            ("Candidat".into(), model.candidate.name.clone()),
            ("FINESS".into(), model.candidate.finess.to_string()),
            ("Domaine".into(), model.domain.to_string()),
            ("Généré le".into(), model.generated_at.to_rfc3339()),
            ("Situation au".into(), as_of),
            (
                "Position du registre".into(),
                model.ledger_position.to_string(),
            ),
            ("Empreinte de tête".into(), model.head_hash.clone()),
            (
                "Subvention provisoire".into(),
                if model.summary.provisional {
                    "oui"
                } else {
                    "non"
                }
                .into(),
            ),
            ("Destinataire".into(), viewer_label(model.viewer).into()),
        ],
    }
}

fn viewer_label(viewer: ViewerRole) -> &'static str {
    match viewer {
        ViewerRole::Establishment => "établissement",
        ViewerRole::Controller => "contrôleur",
        ViewerRole::PaymentDesk => "paiement",
    }
}

/// Ranges of the hidden Listes sheet used by the drop-down lists.
struct ListRanges {
    objectives: String,
    natures: String,
    cost_types: String,
    receipt_groups: String,
}

impl ListRanges {
    fn new(model: &TemplateModel) -> ListRanges {
        let range = |col: u16, n: usize| {
            format!(
                "={}!{}:{}",
                layout::LISTES,
                abs(1, col),
                abs(n.max(1) as u32, col)
            )
        };
        ListRanges {
            objectives: range(0, model.objectives.len()),
            natures: range(1, model.expense_natures.len()),
            cost_types: range(2, 2),
            receipt_groups: range(3, model.groups.len()),
        }
    }
}

fn lists_sheet(model: &TemplateModel) -> SheetPlan {
    let mut s = SheetPlan::new(layout::LISTES);
    s.hidden = true;
    for (col, header) in [
        "Objectifs",
        "Natures de dépense",
        "Types de coût",
        "N° de recette",
    ]
    .iter()
    .enumerate()
    {
        s.text(0, col as u16, *header, Style::Header);
        s.column(col as u16, 30.0);
    }
    for (i, o) in model.objectives.iter().enumerate() {
        s.text(i as u32 + 1, 0, o.code.as_str(), Style::Text);
    }
    for (i, n) in model.expense_natures.iter().enumerate() {
        s.text(i as u32 + 1, 1, n.label.as_str(), Style::Text);
    }
    for (i, t) in super::model::CostType::ALL.iter().enumerate() {
        s.text(i as u32 + 1, 2, t.label_fr(), Style::Text);
    }
    for (i, g) in model.groups.iter().enumerate() {
        s.text(i as u32 + 1, 3, g.receipts_label.as_str(), Style::Text);
    }
    s
}

fn heading(s: &mut SheetPlan, model: &TemplateModel, title: &str) {
    s.text(0, 0, title, Style::Title);
    s.text(
        1,
        0,
        format!(
            "{} – FINESS {} – {}{}",
            model.candidate.name,
            model.candidate.finess,
            model.domain.label_fr(),
            match model.as_of {
                Some(t) => format!(" – situation au {}", t.format("%d/%m/%Y %H:%M UTC")),
                None => String::new(),
            }
        ),
        Style::Subtitle,
    );
}

fn validation(
    rows: (u32, u32),
    col: u16,
    source: &str,
    title: &str,
    message: &str,
) -> ValidationPlan {
    ValidationPlan {
        first_row: rows.0,
        first_col: col,
        last_row: rows.1,
        last_col: col,
        source: source.to_string(),
        title: title.to_string(),
        message: message.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Coûts internes

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

fn internal_sheet(model: &TemplateModel, lists: &ListRanges, anchors: &mut Anchors) -> SheetPlan {
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
            let comp = line.map(|l| &l.computed);
            let val = |f: &dyn Fn(&super::model::InternalComputed) -> Decimal| {
                comp.map(f).map(res).unwrap_or_else(|| "0".to_string())
            };
            s.formula(
                r(4),
                c,
                format!("IF({}=0,0,{}*{}/{})", at(1), at(2), at(3), at(1)),
                val(&|x| x.ne_charges),
                Style::MoneyFormula,
            );
            s.formula(
                r(5),
                c,
                format!("{}-{}", at(1), at(3)),
                val(&|x| x.gross_excl.value()),
                Style::MoneyFormula,
            );
            s.formula(
                r(6),
                c,
                format!("{}-{}", at(2), at(4)),
                val(&|x| x.charges_excl),
                Style::MoneyFormula,
            );
            s.formula(
                r(7),
                c,
                format!("{}+{}", at(5), at(6)),
                val(&|x| x.subtotal),
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
                line.map(|l| money_res(l.retained.unwrap_or(l.computed.imputable)))
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
            (4, |l| l.computed.ne_charges),
            (5, |l| l.computed.gross_excl.value()),
            (6, |l| l.computed.charges_excl),
            (7, |l| l.computed.subtotal),
            (10, |l| l.hours_on_action),
            (11, |l| l.computed.imputable.value()),
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
            total_of(&|l| l.retained.unwrap_or(l.computed.imputable).value()),
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
        .map(|l| l.computed.imputable.value())
        .sum();
    let internal_eligible: Decimal = model
        .internal_costs
        .iter()
        .map(|l| l.retained.unwrap_or(l.computed.imputable).value())
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

// ---------------------------------------------------------------------------------------------
// Coûts externes, Autres coûts

fn line_sheet_frame(
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
}

fn external_sheet(model: &TemplateModel, lists: &ListRanges, anchors: &mut Anchors) -> SheetPlan {
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

fn other_sheet(model: &TemplateModel, lists: &ListRanges, anchors: &mut Anchors) -> SheetPlan {
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

// ---------------------------------------------------------------------------------------------
// Recettes

/// Row where the receipts' detail header sits, given the number of groups.
pub fn receipts_detail_header_row(groups: usize) -> u32 {
    layout::HEADER_ROW + groups as u32 + 4
}

fn receipts_sheet(model: &TemplateModel, lists: &ListRanges, anchors: &mut Anchors) -> SheetPlan {
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
    s
}

// ---------------------------------------------------------------------------------------------
// Paiements, Contrôles, Revue

fn payments_sheet(model: &TemplateModel, anchors: &mut Anchors) -> SheetPlan {
    let mut s = SheetPlan::new(layout::PAIEMENTS);
    heading(
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

fn controls_sheet(model: &TemplateModel) -> SheetPlan {
    let mut s = SheetPlan::new(layout::CONTROLES);
    heading(&mut s, model, "Contrôles – signalements (non bloquants)");
    let headers = [
        "Code",
        "Message",
        "Ligne concernée",
        "Valeurs",
        "Visibilité",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in [30.0, 60.0, 16.0, 40.0, 22.0].iter().enumerate() {
        s.column(c as u16, *w);
    }
    let visible = model
        .flags
        .iter()
        .filter(|f| !f.controller_only || model.viewer.sees_controller_only_flags());
    for (i, f) in visible.enumerate() {
        let r = layout::FIRST_DATA_ROW + i as u32;
        s.text(r, 0, f.code.as_str(), Style::Text);
        s.text(r, 1, f.message_fr.as_str(), Style::Text);
        s.text(r, 2, f.line_id.clone().unwrap_or_default(), Style::Text);
        s.text(r, 3, f.values.as_str(), Style::Text);
        let who = if f.controller_only {
            "Contrôleurs uniquement"
        } else {
            "Tous"
        };
        s.text(r, 4, who, Style::Text);
    }
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}

fn review_sheet(model: &TemplateModel, anchors: &mut Anchors) -> SheetPlan {
    let mut s = SheetPlan::new(layout::REVUE);
    heading(&mut s, model, "Revue – décisions et atteinte des objectifs");
    let headers = [
        "Ligne",
        "Intitulé",
        "Décision",
        "Montant retenu (€)",
        "Motif",
        "Commentaire",
        "Contrôleur",
        "Date",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in [14.0, 40.0, 22.0, 16.0, 16.0, 50.0, 20.0, 13.0]
        .iter()
        .enumerate()
    {
        s.column(c as u16, *w);
    }
    let mut r = layout::FIRST_DATA_ROW;
    for d in &model.reviews {
        s.text(r, 0, d.line_id.as_str(), Style::Text);
        s.text(r, 1, d.line_label.as_str(), Style::Text);
        s.text(r, 2, d.decision.as_str(), Style::Text);
        match d.retained {
            Some(m) => s.number(r, 3, m.to_cell_f64(), Style::Money),
            None => s.blank(r, 3, Style::Money),
        }
        s.text(r, 4, d.reason.as_str(), Style::Text);
        s.text(r, 5, d.comment.as_str(), Style::Text);
        s.text(r, 6, d.reviewer.as_str(), Style::Text);
        s.date(r, 7, d.decided_on, Style::Date);
        r += 1;
    }
    r += 1;
    s.text(r, 0, "Atteinte des objectifs", Style::Title);
    r += 1;
    for (c, h) in ["Objectif", "Statut", "Couverture", "Décote", "Explication"]
        .iter()
        .enumerate()
    {
        s.text(r, c as u16, *h, Style::Header);
    }
    let afirst = r + 1;
    for (i, a) in model.attainment.iter().enumerate() {
        let r = afirst + i as u32;
        s.text(r, 0, a.objective.as_str(), Style::Text);
        s.text(r, 1, a.status.label_fr(), Style::Text);
        match a.coverage {
            Some(p) => s.number(r, 2, decimal_cell(p.fraction()), Style::Percent),
            None => s.blank(r, 2, Style::Percent),
        }
        s.number(r, 3, decimal_cell(a.decote.fraction()), Style::Percent);
        s.text(r, 4, a.explanation.as_str(), Style::Text);
    }
    let alast = afirst + (model.attainment.len() as u32).max(1) - 1;
    anchors.decote_range = format!(
        "{}!{}:{}",
        sheet_ref(layout::REVUE),
        abs(afirst, 3),
        abs(alast, 3)
    );
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}

/// Supporting documents attached (superseded ones included, marked) and the checklist of what each
/// objective and line expects. Read-only: documents are attached through the service, not the workbook.
fn documents_sheet(model: &TemplateModel) -> SheetPlan {
    let mut s = SheetPlan::new(layout::PIECES);
    heading(
        &mut s,
        model,
        "Pièces justificatives – jointes et attendues",
    );
    let headers = [
        "Pièce",
        "Type",
        "Fichier",
        "Justifie",
        "Jointe le",
        "Par",
        "Taille (octets)",
        "Empreinte SHA-256",
        "Remplacée par",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in [11.0, 40.0, 36.0, 18.0, 12.0, 16.0, 14.0, 30.0, 14.0]
        .iter()
        .enumerate()
    {
        s.column(c as u16, *w);
    }
    let mut r = layout::FIRST_DATA_ROW;
    for d in &model.documents {
        s.text(r, 0, d.document_id.as_str(), Style::Text);
        s.text(r, 1, d.kind.as_str(), Style::Text);
        s.text(r, 2, d.file_name.as_str(), Style::Text);
        s.text(r, 3, d.target.as_str(), Style::Text);
        s.date(r, 4, d.attached_on, Style::Date);
        s.text(r, 5, d.attached_by.as_str(), Style::Text);
        s.number(r, 6, d.size_bytes as f64, Style::Integer);
        s.text(r, 7, d.sha256.as_str(), Style::Text);
        s.text(
            r,
            8,
            d.superseded_by.clone().unwrap_or_default(),
            Style::Text,
        );
        r += 1;
    }
    if model.documents.is_empty() {
        s.text(r, 0, "Aucune pièce jointe", Style::Text);
        r += 1;
    }
    r += 1;
    s.text(r, 0, "Liste de contrôle des pièces attendues", Style::Title);
    r += 1;
    for (c, h) in ["Objectif ou ligne", "Pièce attendue", "Obligatoire", "État"]
        .iter()
        .enumerate()
    {
        s.text(r, c as u16, *h, Style::Header);
    }
    r += 1;
    for row in &model.checklist {
        s.text(r, 0, row.target.as_str(), Style::Text);
        s.text(r, 1, row.expected.as_str(), Style::Text);
        s.text(r, 2, if row.required { "oui" } else { "non" }, Style::Text);
        s.text(r, 3, row.state.as_str(), Style::Text);
        r += 1;
    }
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}

// ---------------------------------------------------------------------------------------------
// Synthèse

/// Labels of the subsidy computation rows of the summary, in order.
pub const SUMMARY_LABELS: [&str; 16] = [
    "Coûts internes déclarés",
    "Coûts externes déclarés",
    "Autres coûts déclarés",
    "Total déclaré",
    "Total éligible",
    "Recettes perçues",
    "Montant net (éligible − recettes)",
    "Montant plafond",
    "Décote",
    "Plafond écrêté",
    "Subvention",
    "Statut de la subvention",
    "Engagé",
    "Versé",
    "Recouvré",
    "Reste dû",
];

fn summary_sheet(model: &TemplateModel, a: &Anchors) -> (SheetPlan, Vec<(String, String)>) {
    let sm = &model.summary;
    let mut s = SheetPlan::new(layout::SYNTHESE);
    s.text(0, 0, "État financier – Synthèse", Style::Title);
    let ident: [(&str, String); 6] = [
        ("Candidat", model.candidate.name.clone()),
        ("FINESS", model.candidate.finess.to_string()),
        ("Domaine", model.domain.to_string()),
        (
            "Situation",
            match model.as_of {
                Some(t) => format!("au {}", t.format("%d/%m/%Y %H:%M UTC")),
                None => "courante".to_string(),
            },
        ),
        ("Position du registre", model.ledger_position.to_string()),
        ("Empreinte de tête", model.head_hash.clone()),
    ];
    for (i, (label, value)) in ident.iter().enumerate() {
        s.text(1 + i as u32, 0, *label, Style::LabelBold);
        s.text(1 + i as u32, 1, value.as_str(), Style::Text);
    }
    s.text(7, 0, "Généré le", Style::LabelBold);
    s.text(
        7,
        1,
        model.generated_at.format("%d/%m/%Y %H:%M UTC").to_string(),
        Style::Text,
    );
    for (c, w) in [34.0, 44.0, 12.0, 16.0, 16.0, 16.0, 16.0, 16.0]
        .iter()
        .enumerate()
    {
        s.column(c as u16, *w);
    }

    // Costs per objective.
    let mut r = 9;
    s.text(r, 0, "Coûts par objectif", Style::Title);
    r += 1;
    for (c, h) in [
        "Objectif",
        "Libellé",
        "Groupe",
        "Coûts internes",
        "Coûts externes",
        "Autres coûts",
        "Total déclaré",
        "Total éligible",
    ]
    .iter()
    .enumerate()
    {
        s.text(r, c as u16, *h, Style::Header);
    }
    let ofirst = r + 1;
    for (i, o) in model.objectives.iter().enumerate() {
        let r = ofirst + i as u32;
        let fig = sm.per_objective.iter().find(|f| f.objective == o.code);
        let get = |f: &dyn Fn(&super::model::ObjectiveFigures) -> Money| {
            money_res(fig.map(f).unwrap_or(Money::ZERO))
        };
        let code = a1(r, 0);
        s.text(r, 0, o.code.as_str(), Style::LabelBold);
        s.text(r, 1, o.label.as_str(), Style::Label);
        s.text(r, 2, o.code.group().as_str(), Style::Label);
        let internal = match &a.internal_ranges {
            Some((crit, sum, _)) => format!("SUMIF({crit},{code},{sum})"),
            None => "0".to_string(),
        };
        s.formula(r, 3, internal, get(&|f| f.internal), Style::MoneyFormula);
        let (ec, ea, _) = &a.external_ranges;
        s.formula(
            r,
            4,
            format!("SUMIF({ec},{code},{ea})"),
            get(&|f| f.external),
            Style::MoneyFormula,
        );
        let (oc, oa, _) = &a.other_ranges;
        s.formula(
            r,
            5,
            format!("SUMIF({oc},{code},{oa})"),
            get(&|f| f.other),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            6,
            format!("{}+{}+{}", a1(r, 3), a1(r, 4), a1(r, 5)),
            get(&|f| f.total_declared),
            Style::MoneyFormula,
        );
        let internal_eligible = match &a.internal_ranges {
            Some((crit, _, elig)) => format!("SUMIF({crit},{code},{elig})+"),
            None => String::new(),
        };
        let (_, _, ee) = &a.external_ranges;
        let (_, _, oe) = &a.other_ranges;
        s.formula(
            r,
            7,
            format!("{internal_eligible}SUMIF({ec},{code},{ee})+SUMIF({oc},{code},{oe})"),
            get(&|f| f.total_eligible),
            Style::MoneyFormula,
        );
    }
    let olast = ofirst + (model.objectives.len() as u32).max(1) - 1;
    let ot = olast + 1;
    s.text(ot, 0, "TOTAL", Style::LabelBold);
    let per_obj_sum = |f: &dyn Fn(&super::model::ObjectiveFigures) -> Money| -> Money {
        sm.per_objective.iter().map(f).sum()
    };
    let totals: [(u16, Money); 5] = [
        (3, per_obj_sum(&|f| f.internal)),
        (4, per_obj_sum(&|f| f.external)),
        (5, per_obj_sum(&|f| f.other)),
        (6, per_obj_sum(&|f| f.total_declared)),
        (7, per_obj_sum(&|f| f.total_eligible)),
    ];
    for (c, v) in totals {
        s.formula(
            ot,
            c,
            format!("SUM({}:{})", a1(ofirst, c), a1(olast, c)),
            money_res(v),
            Style::MoneyTotal,
        );
    }

    // The subsidy computation (placed before the group table so the chart's line can refer to it).
    let gfirst_header = ot + 3;
    let ng = model.groups.len() as u32;
    let gfirst = gfirst_header + 1;
    let glast = gfirst + ng.max(1) - 1;
    let mut r = glast + 3;
    s.text(r, 0, "Calcul de la subvention", Style::Title);
    r += 1;
    s.text(r, 0, "Rubrique", Style::Header);
    s.text(r, 1, "Montant", Style::Header);
    let f0 = r + 1;
    let cell = |i: usize| a1(f0 + i as u32, 1);
    let zero = "0".to_string();
    let rows: [(String, String, Style); 16] = [
        (
            a.internal_total.clone().unwrap_or_else(|| zero.clone()),
            money_res(sm.internal_declared),
            Style::MoneyFormula,
        ),
        (
            a.external_total.clone(),
            money_res(sm.external_declared),
            Style::MoneyFormula,
        ),
        (
            a.other_total.clone(),
            money_res(sm.other_declared),
            Style::MoneyFormula,
        ),
        (
            format!("{}+{}+{}", cell(0), cell(1), cell(2)),
            money_res(sm.declared),
            Style::MoneyTotal,
        ),
        (
            format!(
                "{}+{}+{}",
                a.internal_eligible_total
                    .clone()
                    .unwrap_or_else(|| zero.clone()),
                a.external_eligible_total,
                a.other_eligible_total
            ),
            money_res(sm.eligible),
            Style::MoneyTotal,
        ),
        (
            a.receipts_total.clone(),
            money_res(sm.receipts),
            Style::MoneyFormula,
        ),
        (
            format!("MAX(0,{}-{})", cell(4), cell(5)),
            money_res(sm.net),
            Style::MoneyTotal,
        ),
        (String::new(), money_res(sm.ceiling), Style::Money),
        (
            format!("MIN(1,SUM({}))", a.decote_range),
            res(sm.decote.fraction()),
            Style::PercentFormula,
        ),
        (
            // ROUND(…;6) first: the exact product has at most 6 decimals, so this only removes
            // binary noise before rounding down to the cent (SPEC.md §8).
            format!("ROUNDDOWN(ROUND({}*(1-{}),6),2)", cell(7), cell(8)),
            money_res(sm.capped_ceiling),
            Style::MoneyTotal,
        ),
        (
            format!("MIN({},{})", cell(6), cell(9)),
            money_res(sm.subsidy),
            Style::MoneyTotal,
        ),
        (String::new(), String::new(), Style::Text),
        (
            a.committed.clone(),
            money_res(sm.committed),
            Style::MoneyFormula,
        ),
        (
            a.disbursed.clone(),
            money_res(sm.disbursed),
            Style::MoneyFormula,
        ),
        (
            a.recovered.clone(),
            money_res(sm.recovered),
            Style::MoneyFormula,
        ),
        (
            format!("{}-{}+{}", cell(10), cell(12), cell(14)),
            money_res(sm.due),
            Style::MoneyTotal,
        ),
    ];
    for (i, (formula, result, style)) in rows.iter().enumerate() {
        let row = f0 + i as u32;
        s.text(row, 0, SUMMARY_LABELS[i], Style::LabelBold);
        match i {
            7 => s.number(row, 1, sm.ceiling.to_cell_f64(), Style::Money),
            11 => s.text(
                row,
                1,
                if sm.provisional {
                    "Provisoire"
                } else {
                    "Définitive"
                },
                Style::LabelBold,
            ),
            _ => s.formula(row, 1, formula.as_str(), result.as_str(), *style),
        }
    }
    let capped_cell = abs(f0 + 9, 1);
    let synth = sheet_ref(layout::SYNTHESE);
    let defined_names = vec![
        (
            "Total_eligible".to_string(),
            format!("={synth}!{}", abs(f0 + 4, 1)),
        ),
        (
            "Plafond_ecrete".to_string(),
            format!("={synth}!{capped_cell}"),
        ),
        (
            "Subvention".to_string(),
            format!("={synth}!{}", abs(f0 + 10, 1)),
        ),
        (
            "Reste_du".to_string(),
            format!("={synth}!{}", abs(f0 + 15, 1)),
        ),
    ];

    // Costs and receipts per objective group.
    s.text(
        gfirst_header - 1,
        0,
        "Coûts et recettes par groupe d'objectifs",
        Style::Title,
    );
    for (c, h) in [
        "Groupe",
        "Intitulé",
        "N°",
        "Coûts déclarés",
        "Coûts éligibles",
        "Recettes perçues",
        "Plafond écrêté",
    ]
    .iter()
    .enumerate()
    {
        s.text(gfirst_header, c as u16, *h, Style::Header);
    }
    let group_col = format!("{}:{}", abs(ofirst, 2), abs(olast, 2));
    for (i, g) in model.groups.iter().enumerate() {
        let r = gfirst + i as u32;
        let fig = sm.per_group.iter().find(|f| f.group == g.code);
        s.text(r, 0, g.code.as_str(), Style::LabelBold);
        s.text(r, 1, g.label.as_str(), Style::Label);
        s.text(r, 2, g.receipts_label.as_str(), Style::Label);
        let code = a1(r, 0);
        s.formula(
            r,
            3,
            format!(
                "SUMIF({group_col},{code},{}:{})",
                abs(ofirst, 6),
                abs(olast, 6)
            ),
            money_res(fig.map(|f| f.declared).unwrap_or(Money::ZERO)),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            4,
            format!(
                "SUMIF({group_col},{code},{}:{})",
                abs(ofirst, 7),
                abs(olast, 7)
            ),
            money_res(fig.map(|f| f.eligible).unwrap_or(Money::ZERO)),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            5,
            a.receipts_group_cells[i].clone(),
            money_res(fig.map(|f| f.receipts).unwrap_or(Money::ZERO)),
            Style::MoneyFormula,
        );
        s.formula(
            r,
            6,
            capped_cell.clone(),
            money_res(sm.capped_ceiling),
            Style::MoneyFormula,
        );
    }
    let chart_range = |c: u16| format!("={synth}!{}:{}", abs(gfirst, c), abs(glast, c));
    s.chart = Some(ChartPlan {
        title: "Coûts éligibles par groupe d'objectifs et plafond écrêté".to_string(),
        categories: chart_range(0),
        series: vec![
            SeriesPlan {
                name: "Coûts éligibles".to_string(),
                values: chart_range(4),
                kind: SeriesKind::Column,
            },
            SeriesPlan {
                name: "Plafond écrêté".to_string(),
                values: chart_range(6),
                kind: SeriesKind::Line,
            },
        ],
        anchor_row: 9,
        anchor_col: 9,
        y_axis_title: "€ TTC".to_string(),
    });
    s.freeze = Some((1, 0));
    (s, defined_names)
}
