//! Numbers as users write them in payroll exports, read into exact decimals.
//!
//! Accepted: `55 631,25`, `55631,25`, `55.631,25`, `55,631.25`, `-298,96`, `1 820,04 €`, `(298,96)`,
//! `298,96-`, thousands separated by a space, a non-breaking space (U+00A0), a narrow no-break space
//! (U+202F) or a thin space (U+2009), and `1.234.567` / `1,234,567` (several identical separators: they
//! can only be thousands).
//!
//! **Ambiguity rule (our rule).** A value with a single separator, `.` or `,`, followed by exactly three
//! digits and no other separator (`1.234`, `1,234`, `-12,500`) could be a thousand or a decimal: it is
//! refused, naming the cell, never guessed. Two refinements, both because the thousands reading is
//! impossible: a leading `0` (`0,816` can only be a decimal) and an integer part of more than three digits
//! (`1234,567`: a thousands group has at most three digits before the first separator). Values with
//! both separators are unambiguous: the last one is the decimal separator (`55.631,25`, `55,631.25`),
//! and the other one must group digits by three.
//!
//! Real numeric cells (`f64`) are read by the one float rule of [`super::cells::decimal_from_f64`] (15
//! significant digits). Whether the result is an acceptable amount (at most 2 decimals) is checked
//! afterwards, by [`check_amount`].

use crate::domain::money::MAX_INPUT_AMOUNT_EUROS;
pub use crate::sheet::cells::decimal_from_f64;
use crate::sheet::cells::CellValueError as CellProblem;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Longest digit string read (rust_decimal holds 28 significant digits).
const MAX_DIGITS: usize = 24;

fn is_space_separator(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// Reads a number written as text. See the module documentation for what is accepted.
pub fn parse_number_text(raw: &str) -> Result<Decimal, CellProblem> {
    let original = raw.trim();
    let malformed = || CellProblem::Malformed(original.to_string());
    let mut s = original;
    for suffix in ["€", "EUR", "eur", "Eur"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.trim_end();
            break;
        }
    }
    if let Some(rest) = s.strip_prefix('€') {
        s = rest.trim_start();
    }
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    if let Some(rest) = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('\u{2212}'))
        .or_else(|| s.strip_suffix('-'))
    {
        if negative {
            return Err(malformed());
        }
        negative = true;
        s = rest.trim();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.trim();
    }
    if s.is_empty() {
        return Err(malformed());
    }
    let mut dots = 0usize;
    let mut commas = 0usize;
    let mut spaces = 0usize;
    for c in s.chars() {
        match c {
            '0'..='9' => {}
            '.' => dots += 1,
            ',' => commas += 1,
            c if is_space_separator(c) => spaces += 1,
            _ => return Err(malformed()),
        }
    }
    // Decide which character is the decimal separator and which groups thousands.
    let (decimal_sep, thousands_sep): (Option<char>, Option<char>) = match (dots, commas) {
        (0, 0) => (None, if spaces > 0 { Some(' ') } else { None }),
        (d, c) if d > 0 && c > 0 => {
            if spaces > 0 {
                return Err(malformed());
            }
            let last_dot = s.rfind('.').unwrap_or(0);
            let last_comma = s.rfind(',').unwrap_or(0);
            if last_dot > last_comma {
                if d != 1 {
                    return Err(malformed());
                }
                (Some('.'), Some(','))
            } else {
                if c != 1 {
                    return Err(malformed());
                }
                (Some(','), Some('.'))
            }
        }
        (d, c) => {
            let (sep, count) = if d > 0 { ('.', d) } else { (',', c) };
            if count > 1 {
                if spaces > 0 {
                    return Err(malformed());
                }
                (None, Some(sep))
            } else if spaces > 0 {
                (Some(sep), Some(' '))
            } else {
                let (int_part, frac_part) = s.split_once(sep).unwrap_or((s, ""));
                let could_be_thousands = frac_part.len() == 3
                    && !int_part.is_empty()
                    && int_part.len() <= 3
                    && int_part != "0";
                if could_be_thousands {
                    return Err(CellProblem::Ambiguous(original.to_string()));
                }
                (Some(sep), None)
            }
        }
    };
    let (int_part, frac_part) = match decimal_sep {
        Some(sep) => {
            let (i, f) = s.split_once(sep).ok_or_else(malformed)?;
            (i, Some(f))
        }
        None => (s, None),
    };
    let mut digits = String::with_capacity(s.len() + 1);
    if negative {
        digits.push('-');
    }
    match thousands_sep {
        Some(sep) => {
            let is_sep = |c: char| {
                if sep == ' ' {
                    is_space_separator(c)
                } else {
                    c == sep
                }
            };
            for (i, group) in int_part.split(is_sep).enumerate() {
                let ok = if i == 0 {
                    (1..=3).contains(&group.len())
                } else {
                    group.len() == 3
                };
                if !ok || !group.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed());
                }
                digits.push_str(group);
            }
        }
        None => {
            if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            digits.push_str(int_part);
        }
    }
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        digits.push('.');
        digits.push_str(frac);
    }
    if digits.len() > MAX_DIGITS + 2 {
        return Err(CellProblem::OutOfRange(original.to_string()));
    }
    Decimal::from_str(&digits).map_err(|_| malformed())
}

/// An amount in euros: at most 2 decimals once trailing zeros are dropped, and within the plausibility
/// bound of `Money` (1 000 000 000 €). Negative amounts are legitimate in a recap (`-298,96`).
pub fn check_amount(value: Decimal, raw: &str) -> Result<Decimal, CellProblem> {
    let value = value.normalize();
    if value.scale() > 2 {
        return Err(CellProblem::TooManyDecimals(raw.trim().to_string()));
    }
    if value.abs() > Decimal::from(MAX_INPUT_AMOUNT_EUROS) {
        return Err(CellProblem::OutOfRange(raw.trim().to_string()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn ok(text: &str) -> Decimal {
        parse_number_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn french_and_english_groupings_read_the_same_amount() {
        for text in [
            "55 631,25",
            "55631,25",
            "55.631,25",
            "55,631.25",
            "55\u{a0}631,25",
            "55\u{202f}631,25",
            "55\u{2009}631,25",
            "55631.25",
            " 55 631,25 € ",
            "55 631,25 EUR",
        ] {
            assert_eq!(ok(text), dec!(55631.25), "{text}");
        }
    }

    #[test]
    fn negative_amounts_are_read_in_three_notations() {
        assert_eq!(ok("-298,96"), dec!(-298.96));
        assert_eq!(ok("(298,96)"), dec!(-298.96));
        assert_eq!(ok("298,96-"), dec!(-298.96));
        assert_eq!(ok("\u{2212}2 333,38"), dec!(-2333.38));
    }

    #[test]
    fn a_single_separator_before_three_digits_is_ambiguous() {
        for text in ["1.234", "1,234", "-12,500", "999.000"] {
            assert!(
                matches!(parse_number_text(text), Err(CellProblem::Ambiguous(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn impossible_thousands_readings_are_decimals() {
        assert_eq!(ok("0,816"), dec!(0.816));
        assert_eq!(ok("1234,567"), dec!(1234.567));
        assert_eq!(ok("1 234,567"), dec!(1234.567));
        assert_eq!(ok("6,90000"), dec!(6.90000));
    }

    #[test]
    fn repeated_identical_separators_group_thousands() {
        assert_eq!(ok("1.234.567"), dec!(1234567));
        assert_eq!(ok("1,234,567"), dec!(1234567));
        assert_eq!(ok("1.234.567,89"), dec!(1234567.89));
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for text in [
            "",
            "abc",
            "12,34,5",
            "1 23,45",
            "55 631.25,1",
            "1.2.3,4,5",
            ",25",
            "12,",
            "1e5",
            "12 345,67,89",
            "--5",
        ] {
            assert!(parse_number_text(text).is_err(), "{text}");
        }
    }

    #[test]
    fn amounts_have_at_most_two_decimals() {
        assert_eq!(check_amount(dec!(12.500), "12,500").unwrap(), dec!(12.5));
        assert!(matches!(
            check_amount(dec!(12.505), "12,505"),
            Err(CellProblem::TooManyDecimals(_))
        ));
    }
}
