//! Typed reads of one cell: decimals, amounts, dates. Every error names the cell.

use crate::domain::money::MAX_INPUT_AMOUNT_EUROS;
use crate::domain::Money;
use crate::payroll::error::{CellProblem, PayrollError};
use crate::payroll::number::{check_amount, decimal_from_f64, parse_number_text};
use crate::payroll::reader::Sheet;
use calamine::Data;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A number, or `None` for an empty cell (also a lone `-`, the accountants' nil).
pub fn decimal_at(sheet: &Sheet, row: usize, col: usize) -> Result<Option<Decimal>, PayrollError> {
    decimal_of(sheet.get(row, col))
        .map_err(|problem| PayrollError::cell(sheet.cell_ref(row, col), problem))
}

pub fn decimal_of(data: &Data) -> Result<Option<Decimal>, CellProblem> {
    match data {
        Data::Empty => Ok(None),
        Data::String(s) => {
            let t = s.trim();
            if t.is_empty() || t == "-" || t == "\u{2013}" {
                Ok(None)
            } else {
                parse_number_text(t).map(Some)
            }
        }
        Data::Float(f) => decimal_from_f64(*f).map(Some),
        Data::Int(i) => Ok(Some(Decimal::from(*i))),
        Data::Error(e) => Err(CellProblem::SpreadsheetError(format!("{e:?}"))),
        Data::Bool(b) => Err(CellProblem::Malformed(b.to_string())),
        Data::DateTime(dt) => Err(CellProblem::Malformed(format!(
            "date {:?} à la place d'un nombre",
            dt.to_ymd_hms_milli()
        ))),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Err(CellProblem::Malformed(s.clone())),
    }
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
        other => format!("{other}"),
    };
    check_amount(d, &raw).map(Money::new)
}

/// A date: a date cell, an Excel serial number, or text `JJ/MM/AAAA` (also `.` or `-`) or `AAAA-MM-JJ`.
pub fn date_at(sheet: &Sheet, row: usize, col: usize) -> Result<Option<NaiveDate>, PayrollError> {
    let at = || sheet.cell_ref(row, col);
    match sheet.get(row, col) {
        Data::Empty => Ok(None),
        Data::String(s) if s.trim().is_empty() => Ok(None),
        Data::String(s) => parse_date_text(s.trim())
            .map(Some)
            .ok_or_else(|| PayrollError::cell(at(), CellProblem::BadDate(s.trim().to_string()))),
        Data::DateTime(dt) => {
            let (y, m, d, _, _, _, _) = dt.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
                .map(Some)
                .ok_or_else(|| {
                    PayrollError::cell(at(), CellProblem::BadDate(format!("{y}-{m}-{d}")))
                })
        }
        Data::DateTimeIso(s) => parse_date_text(s.get(..10).unwrap_or(s))
            .map(Some)
            .ok_or_else(|| PayrollError::cell(at(), CellProblem::BadDate(s.clone()))),
        Data::Float(f) => excel_serial_date(*f)
            .map(Some)
            .ok_or_else(|| PayrollError::cell(at(), CellProblem::BadDate(f.to_string()))),
        Data::Int(i) => excel_serial_date(*i as f64)
            .map(Some)
            .ok_or_else(|| PayrollError::cell(at(), CellProblem::BadDate(i.to_string()))),
        other => Err(PayrollError::cell(
            at(),
            CellProblem::BadDate(format!("{other}")),
        )),
    }
}

/// Serial day number of the 1900 date system (day 1 = 1900-01-01, with Excel's phantom 1900-02-29).
fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(61.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_days(chrono::Days::new(serial.floor() as u64))
}

/// `31/12/2024`, `31.12.2024`, `31-12-2024`, `2024-12-31`; plausible years only (1950–2100).
pub fn parse_date_text(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let date = if t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-') {
        NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?
    } else {
        let normalised: String = t
            .chars()
            .map(|c| if c == '.' || c == '-' { '/' } else { c })
            .collect();
        let mut parts = normalised.split('/');
        let d: u32 = parts.next()?.trim().parse().ok()?;
        let m: u32 = parts.next()?.trim().parse().ok()?;
        let y_text = parts.next()?.trim();
        if parts.next().is_some() || y_text.len() != 4 {
            return None;
        }
        let y: i32 = y_text.parse().ok()?;
        NaiveDate::from_ymd_opt(y, m, d)?
    };
    use chrono::Datelike;
    if (1950..=2100).contains(&date.year()) {
        Some(date)
    } else {
        None
    }
}
