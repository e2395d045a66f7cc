//! Typed reads of one cell, the same for every workbook reader (payroll recaps, the financial
//! template, the candidate base): one float → decimal rule, one Excel serial-date converter, one way
//! to render a cell as text. What a reader accepts in a *text* cell (a French amount, `jj/mm/aaaa`)
//! is its own rule, passed in.

use crate::sheet::number::parse_number_text;
use calamine::Data;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::str::FromStr;

/// What is wrong with a cell's value (the caller names the cell).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellValueError {
    #[error(
        "montant ambigu \"{0}\" (séparateur de milliers ou décimal ? écrire 1 234,00 ou 1,234)"
    )]
    Ambiguous(String),
    #[error("nombre illisible \"{0}\"")]
    Malformed(String),
    #[error("montant \"{0}\" : plus de 2 décimales")]
    TooManyDecimals(String),
    #[error("nombre \"{0}\" hors limites")]
    OutOfRange(String),
    #[error("cellule en erreur ({0})")]
    SpreadsheetError(String),
    #[error("date illisible \"{0}\" (attendu JJ/MM/AAAA)")]
    BadDate(String),
}

/// Significant digits a spreadsheet keeps and shows of a number (Excel, LibreOffice).
pub const SIGNIFICANT_DIGITS: usize = 15;

/// The one float → decimal rule: a spreadsheet's numeric cell read through 15 significant digits, the
/// precision a spreadsheet keeps and displays. `2796.1200000000003` (a formula's binary noise) becomes
/// `2796.12`, exactly what the user sees; `0.1 + 0.2` becomes `0.3`; `0.1` stays `0.1` rather than the
/// binary value `0.1000000000000000055…`. Whether the result is an acceptable amount (at most 2
/// decimals) is for the caller to decide.
pub fn decimal_from_f64(value: f64) -> Result<Decimal, CellValueError> {
    if !value.is_finite() || value.abs() >= 1e15 {
        return Err(CellValueError::OutOfRange(value.to_string()));
    }
    if value == 0.0 {
        return Ok(Decimal::ZERO);
    }
    // Fast path: a value that is exactly the double nearest to k/100 or k/100000 (integer k) reads as
    // that decimal, which is also its shortest representation. `k as f64 / 10^n` is a correctly
    // rounded division, so the equality test is exact.
    for (scale, factor) in [(2u32, 100.0f64), (5, 100_000.0)] {
        let scaled = (value * factor).round();
        if scaled.abs() < 9.0e15 && scaled / factor == value {
            return Ok(Decimal::new(scaled as i64, scale).normalize());
        }
    }
    // Shortest representation that reads back as the same f64; most cells (54031.25) end here.
    let shortest = value.to_string();
    let significant = shortest
        .bytes()
        .filter(|b| b.is_ascii_digit())
        .skip_while(|b| *b == b'0')
        .count();
    let text = if significant <= SIGNIFICANT_DIGITS {
        shortest
    } else {
        format!("{value:.14e}")
    };
    let parsed = if text.contains('e') {
        Decimal::from_scientific(&text)
    } else {
        Decimal::from_str(&text)
    };
    parsed
        .map(|d| d.normalize())
        .map_err(|_| CellValueError::OutOfRange(value.to_string()))
}

/// Lowest serial day read as a date: 1900-03-01 (below it, Excel counts a 29 February 1900 that never
/// was, and no date of the programme is that old).
pub const MIN_SERIAL_DAY: f64 = 61.0;
/// Highest serial day: 9999-12-31.
pub const MAX_SERIAL_DAY: f64 = 2_958_465.0;

/// The one Excel serial-date converter (1900 date system: day 1 = 1900-01-01, with Excel's phantom
/// 1900-02-29): the day of a serial number, its time of day ignored. `None` outside
/// [`MIN_SERIAL_DAY`]..=[`MAX_SERIAL_DAY`] and for anything not finite.
pub fn date_from_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() {
        return None;
    }
    let day = serial.floor();
    if !(MIN_SERIAL_DAY..=MAX_SERIAL_DAY).contains(&day) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(day as u64))
}

/// The date of a cell styled as a date (calamine knows whether the workbook counts from 1904).
fn date_of_datetime(dt: &calamine::ExcelDateTime) -> Option<NaiveDate> {
    if !dt.is_datetime() {
        return None;
    }
    let serial = dt.as_f64();
    if !serial.is_finite() || !(0.0..=MAX_SERIAL_DAY).contains(&serial.floor()) {
        return None;
    }
    let (y, m, d, _, _, _, _) = dt.to_ymd_hms_milli();
    let date = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))?;
    (date >= NaiveDate::from_ymd_opt(1900, 3, 1)?).then_some(date)
}

pub fn is_empty(data: &Data) -> bool {
    match data {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// The cell as text, if it holds any: text trimmed, numbers through [`decimal_from_f64`] (what the
/// user sees: `0.30000000000000004` is `0.3`), booleans `VRAI`/`FAUX`, dates `JJ/MM/AAAA`.
pub fn cell_text(data: &Data) -> Option<Cow<'_, str>> {
    match data {
        Data::Empty => None,
        Data::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                None
            } else {
                Some(Cow::Borrowed(t))
            }
        }
        Data::Int(i) => Some(Cow::Owned(i.to_string())),
        Data::Float(f) => Some(Cow::Owned(match decimal_from_f64(*f) {
            Ok(d) => d.to_string(),
            Err(_) => f.to_string(),
        })),
        Data::Bool(b) => Some(Cow::Borrowed(if *b { "VRAI" } else { "FAUX" })),
        Data::DateTime(dt) => Some(Cow::Owned(match date_of_datetime(dt) {
            Some(date) => date.format("%d/%m/%Y").to_string(),
            None => dt.as_f64().to_string(),
        })),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(Cow::Borrowed(s.as_str())),
        Data::Error(e) => Some(Cow::Owned(e.to_string())),
    }
}

/// A number, or `None` for an empty cell (also a lone `-`, the accountants' nil). A number cell goes
/// through [`decimal_from_f64`]; a text cell through `parse_text`, the reader's own rule.
pub fn decimal_with(
    data: &Data,
    parse_text: impl Fn(&str) -> Result<Decimal, CellValueError>,
) -> Result<Option<Decimal>, CellValueError> {
    match data {
        Data::Empty => Ok(None),
        Data::String(s) => {
            let t = s.trim();
            if t.is_empty() || t == "-" || t == "\u{2013}" {
                Ok(None)
            } else {
                parse_text(t).map(Some)
            }
        }
        Data::Float(f) => decimal_from_f64(*f).map(Some),
        Data::Int(i) => Ok(Some(Decimal::from(*i))),
        Data::Error(e) => Err(CellValueError::SpreadsheetError(format!("{e:?}"))),
        Data::Bool(b) => Err(CellValueError::Malformed(
            if *b { "VRAI" } else { "FAUX" }.to_string(),
        )),
        Data::DateTime(_) => Err(CellValueError::Malformed(format!(
            "date {} à la place d'un nombre",
            cell_text(data).unwrap_or_default()
        ))),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Err(CellValueError::Malformed(s.clone())),
    }
}

/// A number as payroll exports write them (see [`super::number`]), or `None` for an empty cell.
pub fn decimal_of(data: &Data) -> Result<Option<Decimal>, CellValueError> {
    decimal_with(data, parse_number_text)
}

/// A date: a date cell, an Excel serial number ([`date_from_serial`]), or text read by `parse_text`
/// (the reader's own rule); `None` for an empty cell.
pub fn date_with(
    data: &Data,
    parse_text: impl Fn(&str) -> Option<NaiveDate>,
) -> Result<Option<NaiveDate>, CellValueError> {
    let bad = || CellValueError::BadDate(cell_text(data).unwrap_or_default().into_owned());
    match data {
        Data::Empty => Ok(None),
        Data::String(s) if s.trim().is_empty() => Ok(None),
        Data::String(s) => parse_text(s.trim()).map(Some).ok_or_else(bad),
        Data::DateTime(dt) => date_of_datetime(dt).map(Some).ok_or_else(bad),
        Data::DateTimeIso(s) => parse_text(s.get(..10).unwrap_or(s))
            .map(Some)
            .ok_or_else(bad),
        Data::Float(f) => date_from_serial(*f).map(Some).ok_or_else(bad),
        Data::Int(i) => date_from_serial(*i as f64).map(Some).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// `31/12/2024`, `31.12.2024`, `31-12-2024`, `2024-12-31`; plausible years only (1950–2100).
pub fn parse_date_text(text: &str) -> Option<NaiveDate> {
    use chrono::Datelike;
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
    (1950..=2100).contains(&date.year()).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn spreadsheet_floats_keep_what_the_user_sees() {
        assert_eq!(decimal_from_f64(54031.25).unwrap(), dec!(54031.25));
        assert_eq!(decimal_from_f64(2796.1200000000003).unwrap(), dec!(2796.12));
        assert_eq!(decimal_from_f64(0.30000000000000004).unwrap(), dec!(0.3));
        assert_eq!(decimal_from_f64(-363.75).unwrap(), dec!(-363.75));
        assert_eq!(decimal_from_f64(6.9).unwrap(), dec!(6.9));
        assert_eq!(decimal_from_f64(1234.5678).unwrap(), dec!(1234.5678));
        assert!(decimal_from_f64(f64::NAN).is_err());
        assert!(decimal_from_f64(f64::INFINITY).is_err());
        assert!(decimal_from_f64(1e300).is_err());
    }

    #[test]
    fn a_number_cell_reads_as_text_the_way_it_shows() {
        assert_eq!(
            cell_text(&Data::Float(0.30000000000000004)).as_deref(),
            Some("0.3")
        );
        assert_eq!(
            cell_text(&Data::Float(840000194.0)).as_deref(),
            Some("840000194")
        );
    }

    #[test]
    fn serial_dates_follow_excel_and_refuse_the_implausible() {
        assert_eq!(
            date_from_serial(45_658.0),
            NaiveDate::from_ymd_opt(2025, 1, 1)
        );
        assert_eq!(
            date_from_serial(45_658.75),
            NaiveDate::from_ymd_opt(2025, 1, 1)
        );
        assert_eq!(date_from_serial(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(date_from_serial(60.0), None);
        assert_eq!(date_from_serial(-1.0), None);
        assert_eq!(
            date_from_serial(MAX_SERIAL_DAY),
            NaiveDate::from_ymd_opt(9999, 12, 31)
        );
        assert_eq!(date_from_serial(MAX_SERIAL_DAY + 1.0), None);
        assert_eq!(date_from_serial(f64::NAN), None);
        let cell = Data::DateTime(calamine::ExcelDateTime::new(
            45_658.0,
            calamine::ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(
            date_with(&cell, parse_date_text).unwrap(),
            NaiveDate::from_ymd_opt(2025, 1, 1)
        );
        let far = Data::DateTime(calamine::ExcelDateTime::new(
            1e300,
            calamine::ExcelDateTimeType::DateTime,
            false,
        ));
        assert!(date_with(&far, parse_date_text).is_err());
    }

    #[test]
    fn text_dates_are_read_in_french_and_iso_order() {
        assert_eq!(
            parse_date_text("31/12/2024"),
            NaiveDate::from_ymd_opt(2024, 12, 31)
        );
        assert_eq!(
            parse_date_text("2024-12-31"),
            NaiveDate::from_ymd_opt(2024, 12, 31)
        );
        assert_eq!(parse_date_text("31/12/24"), None);
        assert_eq!(parse_date_text("31/02/2024"), None);
        assert_eq!(parse_date_text("éé/12/2024"), None);
    }
}
