//! Money: euros TTC as exact decimals, never floating point (SPEC.md §5).

use rust_decimal::prelude::*;
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Largest amount accepted on input: 1 000 000 000 € (a plausibility bound, TIGER_STYLE "limit everything").
pub const MAX_INPUT_AMOUNT_EUROS: i64 = 1_000_000_000;

/// An amount of euros. Arithmetic is exact; only explicit, named roundings change the scale.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(
    #[serde(
        serialize_with = "serialize_cents",
        deserialize_with = "rust_decimal::serde::str::deserialize"
    )]
    Decimal,
);

/// Amounts are written with at least two decimals (`"0.00"`, `"7920.50"`), as finance teams read them;
/// never rounded here (an amount with more decimals keeps them).
fn serialize_cents<S: serde::Serializer>(
    value: &Decimal,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut v = *value;
    if v.scale() < 2 {
        v.rescale(2);
    }
    serializer.serialize_str(&v.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("montant vide")]
    Empty,
    #[error("montant illisible \"{0}\"")]
    Malformed(String),
    #[error("montant \"{0}\" : plus de 2 décimales")]
    TooManyDecimals(String),
    #[error("montant \"{0}\" négatif")]
    Negative(String),
    #[error("montant \"{0}\" hors limites")]
    OutOfRange(String),
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(value: Decimal) -> Money {
        Money(value)
    }

    /// Whole cents, e.g. `Money::from_cents(661357)` is 6 613,57 €.
    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, 2))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// Parses a user amount: digits with `.` or `,` as decimal separator, spaces (also non-breaking and
    /// narrow) as thousands separators, an optional trailing `€`. At most 2 decimals, never negative.
    /// Grouped thousands with a separator (`55.631,25`) are the payroll importer's job, not this one's.
    pub fn parse_amount(text: &str) -> Result<Money, MoneyError> {
        let value = parse_decimal_plain(text)?;
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative(text.trim().to_string()));
        }
        Money::checked_input(value, text)
    }

    /// Accepts a decimal given as-is (JSON number or string): at most 2 decimals, non-negative, bounded.
    pub fn checked_input(value: Decimal, original: &str) -> Result<Money, MoneyError> {
        let value = value.normalize();
        if value.scale() > 2 {
            return Err(MoneyError::TooManyDecimals(original.trim().to_string()));
        }
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative(original.trim().to_string()));
        }
        if value > Decimal::from(MAX_INPUT_AMOUNT_EUROS) {
            return Err(MoneyError::OutOfRange(original.trim().to_string()));
        }
        Ok(Money(value.abs()))
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn max(self, other: Money) -> Money {
        if self >= other {
            self
        } else {
            other
        }
    }

    pub fn min(self, other: Money) -> Money {
        if self <= other {
            self
        } else {
            other
        }
    }

    /// ROUND(x; 2) as a spreadsheet computes it: half away from zero (SPEC.md §5, imputable charges).
    pub fn round_cents_half_away(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// Rounded down to the cent (SPEC.md §8, capped ceiling: never above the exact value).
    pub fn floor_cents(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, RoundingStrategy::ToNegativeInfinity),
        )
    }

    /// Multiplies by a decimal factor, exactly (no rounding).
    pub fn times(self, factor: Decimal) -> Money {
        Money(self.0 * factor)
    }

    /// Value for a spreadsheet cell. The only place money becomes floating point: the cell format shows
    /// cents and the spreadsheet's own formulas recompute from these values (rounding rule: nearest f64).
    pub fn to_cell_f64(self) -> f64 {
        self.0.to_f64().unwrap_or(0.0)
    }

    /// Amount with exactly two decimals and a dot, e.g. `6613.57` (machine formats: CSV, JSON).
    pub fn to_plain_string(self) -> String {
        let mut v = self
            .0
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        v.rescale(2);
        v.to_string()
    }

    /// French display: `55 631,25 €` (narrow no-break space as thousands separator).
    pub fn to_french(self) -> String {
        let plain = self.to_plain_string();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (int_part, frac) = digits.split_once('.').unwrap_or((digits, "00"));
        let mut grouped = String::new();
        for (i, ch) in int_part.chars().enumerate() {
            if i > 0 && (int_part.len() - i) % 3 == 0 {
                grouped.push('\u{202f}');
            }
            grouped.push(ch);
        }
        format!("{sign}{grouped},{frac}\u{a0}€")
    }
}

/// Parses `1234,56`, `1234.56`, `1 234,56`, `1 234,56 €`: a single decimal separator, spaces as the only
/// thousands separators. Anything else (letters, two separators) is malformed.
pub fn parse_decimal_plain(text: &str) -> Result<Decimal, MoneyError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(MoneyError::Empty);
    }
    let without_euro = trimmed.trim_end_matches('€').trim_end();
    let mut cleaned = String::with_capacity(without_euro.len());
    for ch in without_euro.chars() {
        match ch {
            ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' => {}
            ',' => cleaned.push('.'),
            c => cleaned.push(c),
        }
    }
    let malformed = || MoneyError::Malformed(trimmed.to_string());
    if cleaned.matches('.').count() > 1 {
        return Err(malformed());
    }
    let body = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    if body.is_empty()
        || body.starts_with('.')
        || body.ends_with('.')
        || !body.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return Err(malformed());
    }
    if body.len() > 24 {
        return Err(MoneyError::OutOfRange(trimmed.to_string()));
    }
    Decimal::from_str(&cleaned).map_err(|_| malformed())
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain_string())
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + *b)
    }
}

/// A percentage such as a décote (10 %) or an activity share (60 %), exact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Percent(#[serde(with = "rust_decimal::serde::str")] Decimal);

impl Percent {
    pub const ZERO: Percent = Percent(Decimal::ZERO);
    pub const HUNDRED: Percent = Percent(Decimal::ONE_HUNDRED);

    pub fn new(value: Decimal) -> Percent {
        Percent(value)
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// The fraction, e.g. 0.1 for 10 %.
    pub fn fraction(self) -> Decimal {
        self.0 / Decimal::ONE_HUNDRED
    }

    pub fn to_french(self) -> String {
        format!(
            "{}\u{a0}%",
            self.0.normalize().to_string().replace('.', ",")
        )
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.0.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_french_and_english_decimal_separators() {
        assert_eq!(
            Money::parse_amount("6613,57").unwrap(),
            Money::from_cents(661357)
        );
        assert_eq!(
            Money::parse_amount("6613.57").unwrap(),
            Money::from_cents(661357)
        );
        assert_eq!(
            Money::parse_amount("55 631,25 €").unwrap(),
            Money::from_cents(5563125)
        );
        assert_eq!(
            Money::parse_amount("1\u{202f}820,04").unwrap(),
            Money::from_cents(182004)
        );
    }

    #[test]
    fn refuses_three_decimals_negative_and_garbage() {
        assert_eq!(
            Money::parse_amount("1,234"),
            Err(MoneyError::TooManyDecimals("1,234".into()))
        );
        assert_eq!(
            Money::parse_amount("-5"),
            Err(MoneyError::Negative("-5".into()))
        );
        assert_eq!(
            Money::parse_amount("12,3,4"),
            Err(MoneyError::Malformed("12,3,4".into()))
        );
        assert_eq!(
            Money::parse_amount("abc"),
            Err(MoneyError::Malformed("abc".into()))
        );
        assert_eq!(Money::parse_amount(" "), Err(MoneyError::Empty));
        assert!(matches!(
            Money::parse_amount("1e5"),
            Err(MoneyError::Malformed(_))
        ));
    }

    #[test]
    fn trailing_zero_decimals_are_not_counted_as_extra_precision() {
        assert_eq!(
            Money::parse_amount("10,500").unwrap(),
            Money::from_cents(1050)
        );
    }

    #[test]
    fn round_half_away_from_zero_and_floor() {
        assert_eq!(
            Money::new(dec!(2.345)).round_cents_half_away(),
            Money::from_cents(235)
        );
        assert_eq!(
            Money::new(dec!(-2.345)).round_cents_half_away(),
            Money::from_cents(-235)
        );
        assert_eq!(
            Money::new(dec!(2.349)).floor_cents(),
            Money::from_cents(234)
        );
    }

    #[test]
    fn french_display_groups_thousands() {
        assert_eq!(
            Money::from_cents(5563125).to_french(),
            "55\u{202f}631,25\u{a0}€"
        );
        assert_eq!(Money::from_cents(-29896).to_french(), "-298,96\u{a0}€");
        assert_eq!(
            Money::from_cents(100000000).to_french(),
            "1\u{202f}000\u{202f}000,00\u{a0}€"
        );
    }
}

#[cfg(test)]
mod serde_cents_tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_two_decimals_and_read_back_exactly() {
        assert_eq!(serde_json::to_string(&Money::ZERO).unwrap(), "\"0.00\"");
        assert_eq!(
            serde_json::to_string(&Money::from_cents(792_050)).unwrap(),
            "\"7920.50\""
        );
        let back: Money = serde_json::from_str("\"0\"").unwrap();
        assert_eq!(back, Money::ZERO);
        let back: Money = serde_json::from_str("\"7920.5\"").unwrap();
        assert_eq!(back, Money::from_cents(792_050));
    }
}
