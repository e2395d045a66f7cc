//! Time is passed in, never read by a rule (SPEC.md §0).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock: used only at the binary edge (serve, CLI without a pinned date).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock pinned to an instant that tests and the demo move forward by hand.
#[derive(Debug, Clone)]
pub struct FixedClock {
    micros: Arc<AtomicI64>,
}

impl FixedClock {
    pub fn at(instant: DateTime<Utc>) -> FixedClock {
        FixedClock {
            micros: Arc::new(AtomicI64::new(instant.timestamp_micros())),
        }
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        self.micros.store(instant.timestamp_micros(), Ordering::SeqCst);
    }

    pub fn advance(&self, duration: chrono::Duration) {
        let micros = duration.num_microseconds().unwrap_or(0);
        self.micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// "As of date D" means the end of day D in Paris (SPEC.md §0): the last instant of D, in UTC.
pub fn end_of_paris_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    let local = Paris
        .from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| Paris.from_utc_datetime(&midnight));
    local.with_timezone(&Utc) - chrono::Duration::microseconds(1)
}

/// The calendar date in Paris of an instant.
pub fn paris_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&Paris).date_naive()
}

/// Noon in Paris on a date: the instant the demo and tests pin for "on that day".
pub fn paris_noon(date: NaiveDate) -> DateTime<Utc> {
    let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
    Paris
        .from_local_datetime(&noon)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&noon))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_paris_day_in_winter_is_22_59_59_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let e = end_of_paris_day(d);
        assert_eq!(e.to_rfc3339(), "2026-11-25T22:59:59.999999+00:00");
        assert_eq!(paris_date(e), d);
    }

    #[test]
    fn end_of_paris_day_in_summer_is_21_59_59_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 7).unwrap();
        assert_eq!(end_of_paris_day(d).to_rfc3339(), "2026-07-07T21:59:59.999999+00:00");
    }
}
