//! The recap "block" layout (seed 003): title lines, a header row, the gross rubriques up to the
//! "Total … Brut" row, the contributions up to the "Total Retenus" row, then informational lines.
//! Several blocks may follow one another in a sheet (one per employee); every sheet is read alike.
//!
//! Reading rules (our rules, from the seed's own recap):
//! - a line is a gross rubrique when it has a REMUNERATION amount and comes before the gross total;
//! - the gross total is the first "Total …" line whose label contains "brut"; its REMUNERATION amount
//!   is the total gross, its NB column (when the label says "heure") the hours;
//! - the contributions total is the first "Total …" line mentioning retenues, cotisations, charges,
//!   patronal or salarial; its PATRONAL amount is the total employer charges;
//! - lines after that total are informational: their figures are kept, never summed ("8995 Jours RTT
//!   Acquis 18,96" is a number of days);
//! - a contribution with no rate in TX SAL. nor TX PAT. but a figure in SALARIAL and an amount in
//!   PATRONAL carries its employer rate in the SALARIAL column (as the seed prints "2090 Allocations
//!   familiales … 3,45000 … 1 919,26"): the figure is read as the employer rate, with a warning;
//! - a line with figures but no label (the seed's trailing row of totals) is reported, not read;
//! - a repeated header row (page break) continues the block; a title line after rubriques starts a new
//!   block; a block without its own period line inherits the previous block's period in the sheet.

use crate::payroll::cells::{amount_at, amount_from_decimal, decimal_at};
use crate::payroll::error::{CellProblem, CellRef, PayrollError};
use crate::payroll::header::{detect, FoundHeader, RecapColumns};
use crate::payroll::meta::{meta_kind, read_meta_line, MetaKind};
use crate::payroll::model::{PayrollRecap, PayrollWarning, Rubrique, RubriqueKind};
use crate::payroll::reader::{cell_text, is_empty, Sheet};
use crate::payroll::recap::{Draft, Period};
use crate::payroll::rules::{RubriqueRules, RuleEffect};
use crate::payroll::text::fold;
use calamine::Data;
use std::borrow::Cow;
use std::collections::HashMap;

/// Splits a rubrique text into its code (if any) and label: `0005 Salaires Mensuel`, `7119.R01 Rappel
/// Forfait Vélis`, `71A0 CET Assurance Chômage`. The code is a first token of at most 16 characters,
/// letters, digits, `.`, `_` or `-`, holding at least one digit, followed by a label.
pub fn split_code(text: &str) -> (Option<String>, String) {
    let text = text.trim();
    if let Some((first, rest)) = text.split_once(char::is_whitespace) {
        let rest = rest.trim_start();
        let is_code = first.len() <= 16
            && first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && first.as_bytes()[0].is_ascii_alphanumeric()
            && first.bytes().any(|b| b.is_ascii_digit())
            && !rest.is_empty();
        if is_code {
            return (Some(first.to_string()), rest.to_string());
        }
    }
    (None, text.to_string())
}

/// Room made for the rubriques of one recap when its block starts (the seed recap has 45 rows).
const RUBRIQUES_PER_RECAP: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Gross,
    Contributions,
    After,
}

struct Block {
    cols: RecapColumns,
    header_at: CellRef,
    draft: Draft,
    phase: Phase,
    has_lines: bool,
}

#[derive(Default)]
struct Pending {
    draft: Draft,
    any: bool,
}

pub fn parse_sheet(
    sheet: &Sheet,
    rules: &RubriqueRules,
) -> Result<Vec<PayrollRecap>, PayrollError> {
    let mut recaps = Vec::new();
    let mut pending = Pending::default();
    let mut last_period: Option<Period> = None;
    let mut current: Option<Block> = None;
    let mut cache: HashMap<String, Option<usize>> = HashMap::new();

    for (r, cells) in sheet.range.rows().enumerate() {
        if cells.iter().all(is_empty) {
            continue;
        }
        if let Some(kind) = meta_kind(cells) {
            let line = read_meta_line(cells, kind, sheet.cell_ref(r, first_filled(cells)))?;
            let starts_block = kind != MetaKind::Dates;
            if starts_block {
                if let Some(block) = current.take() {
                    if block.has_lines {
                        finish(block, &mut recaps, &mut last_period)?;
                    } else {
                        current = Some(block);
                    }
                }
            }
            // Dates after a header, with no new title line: they belong to the current block.
            let target = match (&mut current, pending.any || starts_block) {
                (Some(block), false) => &mut block.draft,
                _ => {
                    pending.any = true;
                    &mut pending.draft
                }
            };
            if line.period.is_some() {
                target.period = line.period;
            }
            if line.matricule.is_some() {
                target.matricule = line.matricule;
            }
            if line.entry.is_some() {
                target.entry_date = line.entry;
            }
            if line.exit.is_some() {
                target.exit_date = line.exit;
            }
            if starts_block && current.is_some() {
                // A title line between the header and the first rubrique: it belongs to this block.
                if let Some(block) = current.as_mut() {
                    merge(&mut block.draft, std::mem::take(&mut pending.draft));
                    pending.any = false;
                }
            }
            continue;
        }
        let header = if cells
            .iter()
            .any(|d| matches!(d, Data::Float(_) | Data::Int(_)))
        {
            None
        } else {
            detect(r, cells)
        };
        if let Some(FoundHeader::Recap(cols)) = header {
            match current.as_mut() {
                Some(block) if !pending.any => {
                    // Repeated header (page break): same block, possibly shifted columns.
                    block.cols = cols;
                }
                _ => {
                    if let Some(block) = current.take() {
                        finish(block, &mut recaps, &mut last_period)?;
                    }
                    let header_at = sheet.cell_ref(r, cols.rubrique);
                    let mut draft = std::mem::take(&mut pending.draft);
                    // A recap has a few dozen rubriques: no regrowth while reading them.
                    draft.rubriques.reserve(RUBRIQUES_PER_RECAP);
                    pending.any = false;
                    if draft.period.is_none() {
                        draft.period = last_period.clone();
                    }
                    current = Some(Block {
                        cols,
                        header_at,
                        draft,
                        phase: Phase::Gross,
                        has_lines: false,
                    });
                }
            }
            continue;
        }
        if let Some(block) = current.as_mut() {
            read_line(sheet, r, cells, block, rules, &mut cache)?;
        }
    }
    if let Some(block) = current.take() {
        finish(block, &mut recaps, &mut last_period)?;
    }
    Ok(recaps)
}

fn merge(into: &mut Draft, from: Draft) {
    if from.period.is_some() {
        into.period = from.period;
    }
    if from.matricule.is_some() {
        into.matricule = from.matricule;
    }
    if from.entry_date.is_some() {
        into.entry_date = from.entry_date;
    }
    if from.exit_date.is_some() {
        into.exit_date = from.exit_date;
    }
}

fn first_filled(cells: &[Data]) -> usize {
    cells.iter().position(|d| !is_empty(d)).unwrap_or(0)
}

fn finish(
    block: Block,
    recaps: &mut Vec<PayrollRecap>,
    last_period: &mut Option<Period>,
) -> Result<(), PayrollError> {
    if block.draft.period.is_some() {
        last_period.clone_from(&block.draft.period);
    }
    let recap = block.draft.finish(&block.header_at)?;
    recaps.push(recap);
    Ok(())
}

/// The rubrique text: the cells from RUBRIQUES up to the next mapped column, joined by a space
/// (borrowed when one cell holds it all, the usual case).
fn rubrique_text<'a>(cells: &'a [Data], cols: &RecapColumns) -> Cow<'a, str> {
    let end = cols.rubrique_end.min(cells.len());
    let mut text: Option<Cow<'a, str>> = None;
    for cell in cells.get(cols.rubrique..end).unwrap_or(&[]) {
        if let Some(t) = cell_text(cell) {
            text = Some(match text {
                None => t,
                Some(previous) => Cow::Owned(format!("{previous} {t}")),
            });
        }
    }
    text.unwrap_or(Cow::Borrowed(""))
}

fn is_total_label(folded: &str) -> bool {
    folded.starts_with("total")
        || folded.starts_with("s/total")
        || folded.starts_with("sous total")
        || folded.starts_with("sous-total")
}

fn read_line(
    sheet: &Sheet,
    r: usize,
    cells: &[Data],
    block: &mut Block,
    rules: &RubriqueRules,
    cache: &mut HashMap<String, Option<usize>>,
) -> Result<(), PayrollError> {
    let cols = block.cols;
    let text = rubrique_text(cells, &cols);
    let numeric = cols.numeric_columns();
    let numeric = numeric.iter().flatten();
    let has_figures = numeric
        .clone()
        .any(|c| cells.get(*c).is_some_and(|d| !is_empty(d)));
    if text.is_empty() {
        if has_figures {
            let at = sheet.cell_ref(r, cols.rubrique);
            let values: Vec<String> = numeric
                .filter_map(|c| {
                    cells
                        .get(*c)
                        .and_then(cell_text)
                        .map(|t| format!("{} = {}", sheet.cell_ref(r, *c).a1(), t))
                })
                .collect();
            block.draft.warnings.push(PayrollWarning::new(
                "LIGNE_SANS_LIBELLE",
                format!(
                    "{at} : ligne de chiffres sans libellé, non lue ({}).",
                    values.join(" ; ")
                ),
                [("cellule", at.to_string()), ("valeurs", values.join(" ; "))],
            ));
        }
        return Ok(());
    }
    block.has_lines = true;
    let (code, label) = split_code(&text);
    if code.is_none() {
        let folded = fold(&label);
        if is_total_label(&folded) {
            return read_total(sheet, r, &cols, block, &label, &folded);
        }
    }

    let decimal = |c: Option<usize>| -> Result<_, PayrollError> {
        match c {
            Some(c) => decimal_at(sheet, r, c),
            None => Ok(None),
        }
    };
    // Classified before the label moves into the rubrique (no copy of either text).
    let rule_index = match block.phase {
        Phase::After => None,
        Phase::Gross | Phase::Contributions => {
            // Labels repeat for every employee: classify each distinct rubrique text once.
            match cache.get(text.as_ref()) {
                Some(index) => *index,
                None => {
                    let index = rules.classify_index(code.as_deref(), &label);
                    cache.insert(text.to_string(), index);
                    index
                }
            }
        }
    };
    let mut rubrique = Rubrique::new(
        label,
        RubriqueKind::Informational,
        sheet.cell_name(r, cols.rubrique),
    );
    rubrique.code = code;
    rubrique.number = decimal(cols.number)?;

    match block.phase {
        Phase::After => {
            rubrique.base = decimal(cols.base)?;
            rubrique.informational_value = decimal(Some(cols.remuneration))?;
        }
        Phase::Gross | Phase::Contributions => {
            let rule = rule_index.map(|i| &rules.rules[i]);
            let counter = rule.is_some_and(|x| x.effect == RuleEffect::Informational);
            rubrique.base = decimal(cols.base)?;
            let has_remuneration = cells.get(cols.remuneration).is_some_and(|d| !is_empty(d));
            if block.phase == Phase::Gross && counter {
                // A counter (days, hours) in the gross block: kept, never summed.
                rubrique.informational_value = decimal(Some(cols.remuneration))?;
            } else if block.phase == Phase::Gross && has_remuneration {
                rubrique.kind = RubriqueKind::Gross;
                rubrique.amount_gross = amount_at(sheet, r, cols.remuneration)?;
                rubrique.non_eligible = rule
                    .filter(|x| x.effect == RuleEffect::NonEligible)
                    .map(|x| x.id.clone());
            } else {
                if block.phase == Phase::Contributions {
                    rubrique.informational_value = decimal(Some(cols.remuneration))?;
                }
                read_contribution(sheet, r, &cols, block, &mut rubrique)?;
            }
        }
    }
    block.draft.rubriques.push(rubrique);
    Ok(())
}

fn read_contribution(
    sheet: &Sheet,
    r: usize,
    cols: &RecapColumns,
    block: &mut Block,
    rubrique: &mut Rubrique,
) -> Result<(), PayrollError> {
    // The rubrique's code, else its label, in warnings.
    let ident = rubrique.code.as_deref().unwrap_or(&rubrique.label);
    let decimal = |c: Option<usize>| -> Result<_, PayrollError> {
        match c {
            Some(c) => decimal_at(sheet, r, c),
            None => Ok(None),
        }
    };
    let rate_employee = decimal(cols.rate_employee)?;
    let mut employee = decimal(cols.amount_employee)?;
    let mut rate_employer = decimal(cols.rate_employer)?;
    let employer = amount_at(sheet, r, cols.amount_employer)?;
    let rate_columns = cols.rate_employee.is_some() && cols.rate_employer.is_some();
    let mut employer_rate_cell = cols.rate_employer;
    if rate_columns
        && rate_employee.is_none()
        && rate_employer.is_none()
        && employee.is_some()
        && employer.is_some()
    {
        // The employer rate printed in the SALARIAL column (see module documentation).
        rate_employer = employee.take();
        employer_rate_cell = cols.amount_employee;
        block.draft.shifted_rates.push(ident.to_string());
    }
    if let Some(c) = employer_rate_cell {
        block
            .draft
            .check_rate(rate_employer, || sheet.cell_ref(r, c), ident);
    }
    if let Some(c) = cols.rate_employee {
        block
            .draft
            .check_rate(rate_employee, || sheet.cell_ref(r, c), ident);
    }
    let amount_employee = match (employee, cols.amount_employee) {
        (Some(v), Some(c)) => Some(
            amount_from_decimal(v, sheet.get(r, c))
                .map_err(|p| PayrollError::cell(sheet.cell_ref(r, c), p))?,
        ),
        _ => None,
    };
    if amount_employee.is_some() || employer.is_some() || rubrique.base.is_some() {
        rubrique.kind = RubriqueKind::Contribution;
    }
    rubrique.rate_employee = rate_employee.map(|v| v.normalize());
    rubrique.amount_employee = amount_employee;
    rubrique.rate_employer = rate_employer.map(|v| v.normalize());
    rubrique.amount_employer = employer;
    Ok(())
}

fn read_total(
    sheet: &Sheet,
    r: usize,
    cols: &RecapColumns,
    block: &mut Block,
    label: &str,
    folded: &str,
) -> Result<(), PayrollError> {
    let at = sheet.cell_ref(r, cols.rubrique);
    if folded.contains("brut") {
        if block.draft.total_gross.is_some() {
            return Err(PayrollError::cell(
                at,
                CellProblem::DuplicateTotal(label.to_string()),
            ));
        }
        let amount = amount_at(sheet, r, cols.remuneration)?.ok_or_else(|| {
            PayrollError::cell(
                sheet.cell_ref(r, cols.remuneration),
                CellProblem::TotalWithoutAmount(label.to_string()),
            )
        })?;
        block.draft.total_gross = Some((amount, sheet.cell_ref(r, cols.remuneration)));
        if folded.contains("heure") {
            if let Some(c) = cols.number {
                block.draft.total_hours = decimal_at(sheet, r, c)?;
            }
        }
        block.phase = Phase::Contributions;
        return Ok(());
    }
    let contributions = ["retenu", "cotis", "charge", "patronal", "salarial"]
        .iter()
        .any(|k| folded.contains(k));
    if contributions {
        if block.draft.total_employer.is_some() {
            return Err(PayrollError::cell(
                at,
                CellProblem::DuplicateTotal(label.to_string()),
            ));
        }
        let amount = amount_at(sheet, r, cols.amount_employer)?.ok_or_else(|| {
            PayrollError::cell(
                sheet.cell_ref(r, cols.amount_employer),
                CellProblem::TotalWithoutAmount(label.to_string()),
            )
        })?;
        block.draft.total_employer = Some((amount, sheet.cell_ref(r, cols.amount_employer)));
        if let Some(c) = cols.amount_employee {
            block.draft.total_employee = amount_at(sheet, r, c)?;
        }
        block.phase = Phase::After;
        return Ok(());
    }
    block.draft.warnings.push(PayrollWarning::new(
        "TOTAL_NON_RECONNU",
        format!("{at} : ligne « {label} » ni total brut ni total des cotisations ; non lue."),
        [("cellule", at.to_string()), ("libelle", label.to_string())],
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_split_from_labels() {
        assert_eq!(
            split_code("0005 Salaires Mensuel"),
            (Some("0005".into()), "Salaires Mensuel".into())
        );
        assert_eq!(
            split_code("7119.R01 Rappel Forfait Vélis"),
            (Some("7119.R01".into()), "Rappel Forfait Vélis".into())
        );
        assert_eq!(
            split_code("71A0 CET Assurance Chômage"),
            (Some("71A0".into()), "CET Assurance Chômage".into())
        );
        assert_eq!(split_code("PAS"), (None, "PAS".into()));
        assert_eq!(split_code("Total Retenus"), (None, "Total Retenus".into()));
    }
}
