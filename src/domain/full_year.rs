//! « Full-year recap » (SPEC.md §5 and §6, our rule), decided once: the days a payroll recap covers
//! are its period narrowed by the employee's entry and exit dates, within the period's calendar year.
//! A recap is a full-year recap when those days are the whole year; otherwise its totals are
//! annualised by calendar days (× days in the year ÷ days covered, rounded to the cent half away from
//! zero, the spreadsheet's ROUND(…; 2)): the proration a controller recomputes by hand.
//!
//! Used by the payroll import (the full-year equivalent it proposes), by the internal cost line filled
//! from a recap, and by the flag comparing a recap's gross with the declared annualised gross: someone
//! who joined in July has a recap « du 01/01 au 31/12 » holding half a year's salary, annualised in all
//! three places alike.

use crate::domain::Money;
use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// The days of its year a recap covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub year: i32,
    /// First and last day counted: the period narrowed by the entry and exit dates.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days_counted: u32,
    pub days_in_year: u32,
}

impl Coverage {
    /// The days a recap of `period_start`..=`period_end` covers for an employee who entered on
    /// `entry` and left on `exit` (when known); `None` when they cover no day at all (an exit before
    /// the entry, dates outside the period: the recap's figures are then taken as they are).
    pub fn of(
        period_start: NaiveDate,
        period_end: NaiveDate,
        entry: Option<NaiveDate>,
        exit: Option<NaiveDate>,
    ) -> Option<Coverage> {
        let year = period_start.year();
        let year_start = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31)?;
        let mut from = period_start.max(year_start);
        let mut to = period_end.min(year_end);
        if let Some(entry) = entry {
            from = from.max(entry);
        }
        if let Some(exit) = exit {
            to = to.min(exit);
        }
        if to < from {
            return None;
        }
        Some(Coverage {
            year,
            from,
            to,
            days_counted: u32::try_from((to - from).num_days() + 1).ok()?,
            days_in_year: u32::try_from((year_end - year_start).num_days() + 1).ok()?,
        })
    }

    /// The whole calendar year is covered.
    pub fn is_full_year(&self) -> bool {
        self.days_counted == self.days_in_year
    }

    /// `amount` × days in the year ÷ days covered, rounded to the cent half away from zero.
    pub fn annualise(&self, amount: Money) -> Money {
        Money::new(
            (amount.value() * Decimal::from(self.days_in_year) / Decimal::from(self.days_counted))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        )
    }
}

/// The annual gross a recap stands for: its gross annualised when it covers part of its year, as
/// printed otherwise (a full year, or no day covered).
pub fn annual_gross(
    gross: Money,
    period_start: NaiveDate,
    period_end: NaiveDate,
    entry: Option<NaiveDate>,
    exit: Option<NaiveDate>,
) -> Money {
    match Coverage::of(period_start, period_end, entry, exit) {
        Some(c) if !c.is_full_year() => c.annualise(gross),
        _ => gross,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_recap_over_the_whole_year_is_a_full_year_recap() {
        let c = Coverage::of(d(2024, 1, 1), d(2024, 12, 31), None, None).unwrap();
        assert!(c.is_full_year());
        assert_eq!(c.days_in_year, 366);
    }

    #[test]
    fn someone_who_joined_in_july_is_annualised_though_the_period_is_the_whole_year() {
        let c = Coverage::of(d(2025, 1, 1), d(2025, 12, 31), Some(d(2025, 7, 1)), None).unwrap();
        assert!(!c.is_full_year());
        assert_eq!(
            (c.from, c.to, c.days_counted, c.days_in_year),
            (d(2025, 7, 1), d(2025, 12, 31), 184, 365)
        );
        // 20 000,00 × 365 ÷ 184 = 39 673,913… → 39 673,91.
        assert_eq!(
            c.annualise(Money::from_cents(2_000_000)),
            Money::from_cents(3_967_391)
        );
        assert_eq!(
            annual_gross(
                Money::from_cents(2_000_000),
                d(2025, 1, 1),
                d(2025, 12, 31),
                Some(d(2025, 7, 1)),
                None
            ),
            Money::from_cents(3_967_391)
        );
    }

    #[test]
    fn a_leaver_is_counted_up_to_the_exit_date_and_no_day_means_no_annualisation() {
        let c = Coverage::of(d(2024, 1, 1), d(2024, 12, 31), None, Some(d(2024, 9, 30))).unwrap();
        assert_eq!(c.days_counted, 274);
        assert!(Coverage::of(
            d(2024, 1, 1),
            d(2024, 12, 31),
            Some(d(2024, 9, 1)),
            Some(d(2024, 3, 1))
        )
        .is_none());
        assert_eq!(
            annual_gross(
                Money::from_cents(100),
                d(2024, 1, 1),
                d(2024, 12, 31),
                Some(d(2025, 1, 5)),
                None
            ),
            Money::from_cents(100)
        );
    }
}
