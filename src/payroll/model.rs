//! What an import returns: plain values, serialisable, meant to become event payloads.

use crate::domain::full_year::Coverage;
use crate::domain::{Matricule, Money};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayrollImport {
    /// SHA-256 of the file's bytes, hex.
    pub source_sha256: String,
    pub file_name: String,
    /// `xlsx`, `xls`, `ods` or `csv`, recognised from the content.
    pub format: String,
    pub recaps: Vec<PayrollRecap>,
    /// Warnings about the file as a whole (ignored sheets). Each recap carries its own.
    pub warnings: Vec<PayrollWarning>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RubriqueKind {
    /// Makes up the gross salary: a REMUNERATION amount before the "Total … Brut" row.
    Gross,
    /// A contribution: base, rates, employee and employer amounts, before the contributions total.
    Contribution,
    /// Shown for information (after the totals, counters such as days of RTT acquired): never summed.
    Informational,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rubrique {
    /// Payroll software code (`0005`, `7119.R01`), when the line has one.
    pub code: Option<String>,
    pub label: String,
    pub kind: RubriqueKind,
    /// NB SALARIE column (a count or a quantity).
    pub number: Option<Decimal>,
    /// BASE column (hours, days or euros, as the software prints them).
    pub base: Option<Decimal>,
    /// REMUNERATION amount of a gross rubrique.
    pub amount_gross: Option<Money>,
    pub rate_employee: Option<Decimal>,
    pub amount_employee: Option<Money>,
    pub rate_employer: Option<Decimal>,
    pub amount_employer: Option<Money>,
    /// A figure of an informational line (REMUNERATION column after the totals), whose unit the recap
    /// does not say (e.g. "8995 Jours RTT Acquis 18,96" is a number of days): kept, never summed.
    pub informational_value: Option<Decimal>,
    /// Id of the classification rule that made this rubrique non-eligible (`fixtures/payroll/rubriques.toml`).
    pub non_eligible: Option<String>,
    /// Where the line was read, e.g. `Feuil1!A9`.
    pub source: String,
}

impl Rubrique {
    pub fn new(label: String, kind: RubriqueKind, source: String) -> Rubrique {
        Rubrique {
            code: None,
            label,
            kind,
            number: None,
            base: None,
            amount_gross: None,
            rate_employee: None,
            amount_employee: None,
            rate_employer: None,
            amount_employer: None,
            informational_value: None,
            non_eligible: None,
            source,
        }
    }
}

/// A warning never blocks: a stable code, a French message, and the values that raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayrollWarning {
    pub code: String,
    pub message_fr: String,
    pub values: BTreeMap<String, String>,
}

impl PayrollWarning {
    pub fn new<I, K, V>(code: &str, message_fr: String, values: I) -> PayrollWarning
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        PayrollWarning {
            code: code.to_string(),
            message_fr,
            values: values
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayrollRecap {
    pub matricule: Matricule,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The calendar year of the period (a recap covers at most one year).
    pub year: i32,
    pub entry_date: Option<NaiveDate>,
    pub exit_date: Option<NaiveDate>,
    pub rubriques: Vec<Rubrique>,
    /// From the "Total … Brut" row (authoritative).
    pub total_gross: Money,
    /// From the PATRONAL column of the contributions total row (authoritative).
    pub total_employer_charges: Money,
    /// From the SALARIAL column of the contributions total row, when printed.
    pub total_employee_contributions: Option<Money>,
    /// Hours printed on the "Total Heure / Brut" row, when present.
    pub total_hours: Option<Decimal>,
    /// Gross paid as non-eligible elements (departure bonuses…), per the classification rules.
    pub non_eligible_gross: Money,
    /// Sum of the REMUNERATION amounts of the gross rubriques (checked against `total_gross`).
    pub sum_gross_rubriques: Money,
    /// Sum of the PATRONAL amounts of the contributions (checked against `total_employer_charges`).
    pub sum_employer_rubriques: Money,
    /// Sum of the SALARIAL amounts of the contributions.
    pub sum_employee_rubriques: Money,
    pub warnings: Vec<PayrollWarning>,
    /// Where the recap was read (sheet and first cell of its header row).
    pub source: String,
}

/// Full-year equivalent of a part-year recap: each total × days in the year ÷ days worked in the
/// period, rounded to the cent half away from zero (the one rule: [`crate::domain::full_year`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullYearProposal {
    pub annualised_gross: Money,
    pub annualised_charges: Money,
    /// The non-eligible gross on the same scale as the annualised gross (it is part of it): otherwise
    /// the annualised share of a departure bonus would stay in the eligible base.
    pub annualised_non_eligible_gross: Money,
    /// First and last day counted: the period narrowed by the entry and exit dates.
    pub counted_from: NaiveDate,
    pub counted_to: NaiveDate,
    pub days_in_period: u32,
    pub days_in_year: u32,
    pub computation_fr: String,
}

impl PayrollRecap {
    /// The full-year equivalent when the recap covers less than its whole year (period shorter than
    /// the year, or entry or exit inside it); `None` for a full-year recap.
    pub fn full_year_equivalent(&self) -> Option<FullYearProposal> {
        // The one rule: `crate::domain::full_year`.
        let coverage = Coverage::of(
            self.period_start,
            self.period_end,
            self.entry_date,
            self.exit_date,
        )?;
        if coverage.is_full_year() {
            return None;
        }
        let (from, to) = (coverage.from, coverage.to);
        let days_in_period = coverage.days_counted;
        let days_in_year = coverage.days_in_year;
        let annualise = |m: Money| coverage.annualise(m);
        let annualised_gross = annualise(self.total_gross);
        let annualised_charges = annualise(self.total_employer_charges);
        let annualised_non_eligible_gross = annualise(self.non_eligible_gross);
        let non_eligible_fr = if self.non_eligible_gross.is_zero() {
            String::new()
        } else {
            format!(
                " ; dont éléments non éligibles annualisés = {} × {} / {} = {}",
                self.non_eligible_gross.to_french(),
                days_in_year,
                days_in_period,
                annualised_non_eligible_gross.to_french()
            )
        };
        let computation_fr = format!(
            "Période travaillée du {} au {} : {} jours sur {} en {}. \
             Brut annualisé = {} × {} / {} = {} ; charges patronales annualisées = {} × {} / {} = {}{} \
             (arrondi au centime).",
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y"),
            days_in_period,
            days_in_year,
            self.year,
            self.total_gross.to_french(),
            days_in_year,
            days_in_period,
            annualised_gross.to_french(),
            self.total_employer_charges.to_french(),
            days_in_year,
            days_in_period,
            annualised_charges.to_french(),
            non_eligible_fr,
        );
        debug_assert_eq!(from.year(), self.year);
        Some(FullYearProposal {
            annualised_gross,
            annualised_charges,
            annualised_non_eligible_gross,
            counted_from: from,
            counted_to: to,
            days_in_period,
            days_in_year,
            computation_fr,
        })
    }
}
