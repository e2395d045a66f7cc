//! Typed reads of one cell of a payroll recap, through the shared cell module ([`crate::sheet::cells`]):
//! decimals, amounts, dates. Every error names the cell.

use crate::domain::money::MAX_INPUT_AMOUNT_EUROS;
use crate::domain::Money;
use crate::payroll::error::{CellProblem, PayrollError};
use crate::sheet::cells::{self as sheet_cells, cell_text};
use crate::sheet::number::check_amount;
use crate::sheet::Sheet;
use calamine::Data;
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub use crate::sheet::cells::parse_date_text;

/// A number, or `None` for an empty cell (also a lone `-`, the accountants' nil).
pub fn decimal_at(sheet: &Sheet, row: usize, col: usize) -> Result<Option<Decimal>, PayrollError> {
    decimal_of(sheet.get(row, col))
        .map_err(|problem| PayrollError::cell(sheet.cell_ref(row, col), problem))
}

pub fn decimal_of(data: &Data) -> Result<Option<Decimal>, CellProblem> {
    sheet_cells::decimal_of(data).map_err(CellProblem::from)
}

/// An amount in euros (at most 2 decimals), or `None` for an empty cell.
pub fn amount_at(sheet: &Sheet, row: usize, col: usize) -> Result<Option<Money>, PayrollError> {
    amount_of(sheet.get(row, col))
        .map_err(|problem| PayrollError::cell(sheet.cell_ref(row, col), problem))
}

pub fn amount_of(data: &Data) -> Result<Option<Money>, CellProblem> {
    match decimal_of(data)? {
        None => Ok(None),
        Some(d) => amount_from_decimal(d, data).map(Some),
    }
}

/// Checks a decimal read from `data` as an amount; the cell's text is rendered only for an error.
pub fn amount_from_decimal(d: Decimal, data: &Data) -> Result<Money, CellProblem> {
    let normalized = d.normalize();
    if normalized.scale() <= 2 && normalized.abs() <= Decimal::from(MAX_INPUT_AMOUNT_EUROS) {
        return Ok(Money::new(normalized));
    }
    let raw = match data {
        Data::String(s) => s.clone(),
        other => cell_text(other).unwrap_or_default().into_owned(),
    };
    check_amount(d, &raw)
        .map(Money::new)
        .map_err(CellProblem::from)
}

/// A date: a date cell, an Excel serial number, or text `JJ/MM/AAAA` (also `.` or `-`) or `AAAA-MM-JJ`.
pub fn date_at(sheet: &Sheet, row: usize, col: usize) -> Result<Option<NaiveDate>, PayrollError> {
    sheet_cells::date_with(sheet.get(row, col), parse_date_text)
        .map_err(|problem| PayrollError::cell(sheet.cell_ref(row, col), problem.into()))
}
