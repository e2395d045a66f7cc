//! Turning what a parser read into a [`PayrollRecap`]: sums of the rubriques checked against the
//! authoritative totals, every difference kept as a warning with both figures.

use crate::domain::{Matricule, Money};
use crate::payroll::error::{CellProblem, CellRef, PayrollError};
use crate::payroll::model::{PayrollRecap, PayrollWarning, Rubrique, RubriqueKind};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// Highest plausible contribution rate, in percent. A rate above it is kept and flagged.
pub const MAX_PLAUSIBLE_RATE_PERCENT: i64 = 100;

#[derive(Debug, Clone)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub at: CellRef,
}

impl Period {
    /// A recap covers one calendar year at most (one recap per employee per year, SPEC.md §5).
    pub fn new(
        start: NaiveDate,
        end: NaiveDate,
        at: CellRef,
        text: &str,
    ) -> Result<Period, PayrollError> {
        if end < start {
            return Err(PayrollError::cell(
                at,
                CellProblem::BadPeriod(text.to_string(), "la fin précède le début".into()),
            ));
        }
        if start.year() != end.year() {
            return Err(PayrollError::cell(
                at,
                CellProblem::BadPeriod(
                    text.to_string(),
                    "elle couvre deux années ; un récapitulatif par année est attendu".into(),
                ),
            ));
        }
        Ok(Period { start, end, at })
    }
}

/// Everything a parser gathered for one employee.
#[derive(Debug, Default)]
pub struct Draft {
    pub matricule: Option<(Matricule, CellRef)>,
    pub period: Option<Period>,
    pub entry_date: Option<NaiveDate>,
    pub exit_date: Option<NaiveDate>,
    pub rubriques: Vec<Rubrique>,
    pub total_gross: Option<(Money, CellRef)>,
    pub total_employer: Option<(Money, CellRef)>,
    pub total_employee: Option<Money>,
    pub total_hours: Option<Decimal>,
    /// Codes (or labels) of the lines whose employer rate was printed in the SALARIAL column.
    pub shifted_rates: Vec<String>,
    pub warnings: Vec<PayrollWarning>,
}

fn ident(r: &Rubrique) -> String {
    match &r.code {
        Some(c) => format!("{c} {}", r.label),
        None => r.label.clone(),
    }
}

impl Draft {
    /// Flags a rate above [`MAX_PLAUSIBLE_RATE_PERCENT`].
    pub fn check_rate(&mut self, rate: Option<Decimal>, at: impl Fn() -> CellRef, rubrique: &str) {
        if let Some(rate) = rate {
            if rate.abs() > Decimal::from(MAX_PLAUSIBLE_RATE_PERCENT) {
                let at = at();
                self.warnings.push(PayrollWarning::new(
                    "TAUX_INVRAISEMBLABLE",
                    format!(
                        "{at} : taux de {rate} % pour « {rubrique} », au-delà de {MAX_PLAUSIBLE_RATE_PERCENT} % ; \
                         vérifiez la rubrique (valeur conservée telle quelle, sans effet sur les totaux)."
                    ),
                    [
                        ("cellule", at.to_string()),
                        ("taux", rate.to_string()),
                        ("rubrique", rubrique.to_string()),
                    ],
                ));
            }
        }
    }

    /// Checks and assembles. `header_at` names the table when the matricule, the period or a total
    /// is missing.
    pub fn finish(mut self, header_at: &CellRef) -> Result<PayrollRecap, PayrollError> {
        let (matricule, _) =
            self.matricule
                .take()
                .ok_or_else(|| PayrollError::MissingMatricule {
                    at: header_at.clone(),
                })?;
        let period = self
            .period
            .take()
            .ok_or_else(|| PayrollError::MissingPeriod {
                at: header_at.clone(),
            })?;
        let (total_gross, gross_at) =
            self.total_gross
                .take()
                .ok_or_else(|| PayrollError::MissingGrossTotal {
                    at: header_at.clone(),
                    matricule: matricule.to_string(),
                })?;
        let (total_employer, employer_at) =
            self.total_employer
                .take()
                .ok_or_else(|| PayrollError::MissingEmployerTotal {
                    at: header_at.clone(),
                    matricule: matricule.to_string(),
                })?;
        let mut warnings = std::mem::take(&mut self.warnings);
        let sum_gross: Money = self
            .rubriques
            .iter()
            .filter(|r| r.kind == RubriqueKind::Gross)
            .filter_map(|r| r.amount_gross)
            .sum();
        let sum_employer: Money = self
            .rubriques
            .iter()
            .filter(|r| r.kind == RubriqueKind::Contribution)
            .filter_map(|r| r.amount_employer)
            .sum();
        let sum_employee: Money = self
            .rubriques
            .iter()
            .filter(|r| r.kind == RubriqueKind::Contribution)
            .filter_map(|r| r.amount_employee)
            .sum();
        // Only the non-eligible rubriques paid something: a column of departure bonuses left at
        // 0,00 for an employee says nothing about them.
        let non_eligible: Vec<&Rubrique> = self
            .rubriques
            .iter()
            .filter(|r| r.kind == RubriqueKind::Gross && r.non_eligible.is_some())
            .filter(|r| r.amount_gross.is_some_and(|m| !m.is_zero()))
            .collect();
        let non_eligible_gross: Money = non_eligible.iter().filter_map(|r| r.amount_gross).sum();

        let mut gap = |code: &str, what: &str, sum: Money, total: Money, at: &CellRef| {
            if sum != total {
                warnings.push(PayrollWarning::new(
                    code,
                    format!(
                        "Salarié {matricule} : la somme des rubriques {what} ({}) diffère du total imprimé \
                         en {at} ({}), écart {} ; le total imprimé fait foi.",
                        sum.to_french(),
                        total.to_french(),
                        (total - sum).to_french()
                    ),
                    [
                        ("matricule", matricule.to_string()),
                        ("somme_rubriques", sum.to_plain_string()),
                        ("total", total.to_plain_string()),
                        ("ecart", (total - sum).to_plain_string()),
                        ("cellule_total", at.to_string()),
                    ],
                ));
            }
        };
        // A total is compared with its rubriques only when the file gives some: a file with only an
        // employer total and no employer rubrique has nothing to compare (no warning per employee).
        let any = |f: &dyn Fn(&Rubrique) -> bool| self.rubriques.iter().any(f);
        if any(&|r| r.kind == RubriqueKind::Gross && r.amount_gross.is_some()) {
            gap(
                "ECART_TOTAL_BRUT",
                "du brut",
                sum_gross,
                total_gross,
                &gross_at,
            );
        }
        if any(&|r| r.kind == RubriqueKind::Contribution && r.amount_employer.is_some()) {
            gap(
                "ECART_TOTAL_PATRONAL",
                "patronales",
                sum_employer,
                total_employer,
                &employer_at,
            );
        }
        if let Some(total_employee) = self.total_employee {
            if any(&|r| r.kind == RubriqueKind::Contribution && r.amount_employee.is_some()) {
                gap(
                    "ECART_TOTAL_SALARIAL",
                    "salariales",
                    sum_employee,
                    total_employee,
                    &employer_at,
                );
            }
        }
        if !self.shifted_rates.is_empty() {
            warnings.push(PayrollWarning::new(
                "TAUX_PATRONAL_EN_COLONNE_SALARIALE",
                format!(
                    "Salarié {matricule} : {} rubrique(s) sans taux salarial ni taux patronal portent un \
                     nombre en colonne SALARIAL et un montant en PATRONAL ; ce nombre est lu comme le taux \
                     patronal, pas comme une retenue salariale : {}.",
                    self.shifted_rates.len(),
                    self.shifted_rates.join(", ")
                ),
                [
                    ("matricule", matricule.to_string()),
                    ("rubriques", self.shifted_rates.join(", ")),
                ],
            ));
        }
        if !non_eligible.is_empty() {
            let list: Vec<String> = non_eligible
                .iter()
                .map(|r| {
                    format!(
                        "{} ({}, règle {})",
                        ident(r),
                        r.amount_gross.unwrap_or_default().to_french(),
                        r.non_eligible.as_deref().unwrap_or("")
                    )
                })
                .collect();
            warnings.push(PayrollWarning::new(
                "ELEMENTS_NON_ELIGIBLES",
                format!(
                    "Salarié {matricule} : éléments non éligibles dans le brut, {} au total : {}.",
                    non_eligible_gross.to_french(),
                    list.join(" ; ")
                ),
                [
                    ("matricule", matricule.to_string()),
                    ("brut_non_eligible", non_eligible_gross.to_plain_string()),
                    ("rubriques", list.join(" ; ")),
                ],
            ));
        }
        if let (Some(entry), Some(exit)) = (self.entry_date, self.exit_date) {
            if exit < entry {
                warnings.push(PayrollWarning::new(
                    "SORTIE_AVANT_ENTREE",
                    format!("Salarié {matricule} : date de sortie {exit} avant la date d'entrée {entry}."),
                    [("entree", entry.to_string()), ("sortie", exit.to_string())],
                ));
            }
        }
        let outside = [
            ("entrée", self.entry_date.filter(|d| *d > period.end)),
            ("sortie", self.exit_date.filter(|d| *d < period.start)),
        ];
        for (what, date) in outside {
            if let Some(date) = date {
                // Entry after the period or exit before it: the recap does not cover the employee.
                warnings.push(PayrollWarning::new(
                    "DATE_HORS_PERIODE",
                    format!(
                        "Salarié {matricule} : date d'{what} {} hors de la période du {} au {}.",
                        date.format("%d/%m/%Y"),
                        period.start.format("%d/%m/%Y"),
                        period.end.format("%d/%m/%Y")
                    ),
                    [(what, date.to_string())],
                ));
            }
        }
        let mut recap = PayrollRecap {
            matricule,
            period_start: period.start,
            period_end: period.end,
            year: period.start.year(),
            entry_date: self.entry_date,
            exit_date: self.exit_date,
            rubriques: self.rubriques,
            total_gross,
            total_employer_charges: total_employer,
            total_employee_contributions: self.total_employee,
            total_hours: self.total_hours,
            non_eligible_gross,
            sum_gross_rubriques: sum_gross,
            sum_employer_rubriques: sum_employer,
            sum_employee_rubriques: sum_employee,
            warnings,
            source: header_at.to_string(),
        };
        if let Some(proposal) = recap.full_year_equivalent() {
            let w = PayrollWarning::new(
                "PERIODE_PARTIELLE",
                format!(
                    "Salarié {} : récapitulatif sur une partie de l'année ; équivalent année pleine proposé. {}",
                    recap.matricule, proposal.computation_fr
                ),
                [
                    ("matricule", recap.matricule.to_string()),
                    ("jours_periode", proposal.days_in_period.to_string()),
                    ("jours_annee", proposal.days_in_year.to_string()),
                    ("brut_annualise", proposal.annualised_gross.to_plain_string()),
                    (
                        "charges_annualisees",
                        proposal.annualised_charges.to_plain_string(),
                    ),
                ],
            );
            recap.warnings.push(w);
        }
        Ok(recap)
    }
}
