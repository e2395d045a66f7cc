//! Lays a [`TemplateModel`] out as a [`WorkbookPlan`] (SPEC.md §9). Inputs are values; every derived
//! figure is a formula (English syntax, commas) whose result is cached in the file, so readers that do
//! not recalculate see the service's figures and a spreadsheet that does finds the same to the cent.

mod internal;
mod lines;
mod payments;
mod receipts;
mod review;
mod summary;

pub use receipts::receipts_detail_header_row;
pub use summary::{SummaryRow, NOT_COMPUTABLE, WHAT_IF_TITLE};

use super::layout;
use super::model::{TemplateModel, ViewerRole};
use super::plan::{abs, PropertiesPlan, SheetPlan, Style, ValidationPlan, Value, WorkbookPlan};
use crate::domain::Money;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A decimal (hours, percentage) as a cell number: the same nearest-f64 rule as
/// [`Money::to_cell_f64`], the only conversion to floating point.
fn decimal_cell(value: Decimal) -> f64 {
    Money::new(value).to_cell_f64()
}

/// An instant as users read it: Paris time, `20/09/2026 10:30 (heure de Paris)`.
pub fn paris_time(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y %H:%M (heure de Paris)")
        .to_string()
}

/// Cached result of a formula: the exact decimal, written out in full.
fn res(value: Decimal) -> String {
    value.normalize().to_string()
}

fn money_res(value: Money) -> String {
    res(value.value())
}

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
        Some(internal::internal_sheet(model, &lists, &mut anchors))
    } else {
        None
    };
    let external = lines::external_sheet(model, &lists, &mut anchors);
    let other_costs = lines::other_sheet(model, &lists, &mut anchors);
    let receipts_sheet = receipts::receipts_sheet(model, &lists, &mut anchors);
    let payments_sheet = payments::payments_sheet(model, &mut anchors);
    let controls = review::controls_sheet(model);
    let review = review::review_sheet(model, &mut anchors);
    let documents = review::documents_sheet(model);
    let (summary, defined_names) = summary::summary_sheet(model, &anchors);
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
    for sheet in &mut sheets {
        fit_row_heights(sheet);
    }
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
        .unwrap_or_else(|| layout::AS_OF_CURRENT.to_string());
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
            (
                layout::PROPERTY_FINESS.into(),
                model.candidate.finess.to_string(),
            ),
            (layout::PROPERTY_DOMAIN.into(), model.domain.to_string()),
            (
                layout::PROPERTY_GENERATED_AT.into(),
                model.generated_at.to_rfc3339(),
            ),
            (layout::PROPERTY_AS_OF.into(), as_of),
            (
                layout::PROPERTY_POSITION.into(),
                model.ledger_position.to_string(),
            ),
            (layout::PROPERTY_HEAD_HASH.into(), model.head_hash.clone()),
            (
                layout::PROPERTY_READ_POSITION.into(),
                model.read_position.to_string(),
            ),
            (
                layout::PROPERTY_LAYOUT_VERSION.into(),
                layout::LAYOUT_VERSION.into(),
            ),
            (
                "Subvention provisoire".into(),
                match &model.summary.subsidy {
                    Ok(s) if s.provisional => "oui",
                    Ok(_) => "non",
                    Err(_) => "non calculable",
                }
                .into(),
            ),
            (
                layout::PROPERTY_VIEWER.into(),
                viewer_label(model.viewer).into(),
            ),
        ],
    }
}

/// The viewer as the workbook names it (property `Destinataire`).
pub fn viewer_label(viewer: ViewerRole) -> &'static str {
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
            receipt_groups: range(3, model.groups.iter().filter(|g| g.applicable).count()),
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
    for (i, g) in model.groups.iter().filter(|g| g.applicable).enumerate() {
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
                Some(t) => format!(" – situation au {}", paris_time(t)),
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

/// Height of one line of 11-point text, in points.
pub const LINE_HEIGHT_PT: f64 = 15.0;
/// The tallest row a spreadsheet accepts, in points.
pub const MAX_ROW_HEIGHT_PT: f64 = 409.0;
/// Width of a column when the plan sets none (characters).
const DEFAULT_COLUMN_WIDTH: f64 = 8.43;

/// Lines a wrapped text takes in a column `width` characters wide: each paragraph at least one line,
/// counted in characters (a conservative measure: one character per unit of column width).
pub fn wrapped_lines(text: &str, width: f64) -> u32 {
    let per_line = (width.floor() as usize).max(1);
    text.split('\n')
        .map(|p| p.chars().count().div_ceil(per_line).max(1) as u32)
        .sum()
}

/// Sets the height of every row whose header or wrapped text needs more than one line, so that
/// nothing is cut on screen or in print (rows without such cells keep the default height).
fn fit_row_heights(sheet: &mut SheetPlan) {
    let width_of = |col: u16| {
        sheet
            .columns
            .iter()
            .rev()
            .find(|c| c.col == col)
            .map(|c| c.width)
            .unwrap_or(DEFAULT_COLUMN_WIDTH)
    };
    let merged_width = |row: u32, col: u16| {
        sheet
            .merges
            .iter()
            .find(|m| m.first_row == row && m.first_col == col)
            .map(|m| (m.first_col..=m.last_col).map(width_of).sum::<f64>())
            .unwrap_or_else(|| width_of(col))
    };
    let mut lines: BTreeMap<u32, u32> = BTreeMap::new();
    for cell in &sheet.cells {
        let Value::Text(text) = &cell.value else {
            continue;
        };
        if !matches!(cell.style, Style::Header | Style::TextWrap) {
            continue;
        }
        let n = wrapped_lines(text, merged_width(cell.row, cell.col));
        let entry = lines.entry(cell.row).or_insert(1);
        *entry = (*entry).max(n);
    }
    let already: Vec<u32> = sheet
        .rows
        .iter()
        .filter(|r| r.height.is_some())
        .map(|r| r.row)
        .collect();
    for (row, n) in lines {
        if n > 1 && !already.contains(&row) {
            sheet.row_height(row, (f64::from(n) * LINE_HEIGHT_PT).min(MAX_ROW_HEIGHT_PT));
        }
    }
}
