//! The "livre de paie" matrix: one row per employee, one column per rubrique.
//!
//! Reading rules (our rules, documented for payroll teams preparing the file):
//! - the header row holds MATRICULE, a total gross column (TOTAL BRUT, BRUT, SALAIRE BRUT) and a total
//!   employer column (TOTAL PATRONAL, CHARGES PATRONALES); DATE ENTREE, DATE SORTIE, DEBUT/FIN PERIODE,
//!   TOTAL SALARIAL and identity columns (NOM, PRENOM, EMPLOI…) are optional;
//! - a column is a rubrique when its header has a rubrique code or words of pay
//!   (`fixtures/payroll/entetes.toml`); contract numbers, dates, months (« 11/2024 »), counters of
//!   hours, days, leave or RTT, rates are never summed, nor is a column nothing says is pay (reported as
//!   `COLONNE_NON_RECONNUE`);
//! - a rubrique column before the total gross column is a gross rubrique;
//! - a column whose header ends with `SAL`/`SALARIAL`/`(S)` is the employee part of a contribution,
//!   `PAT`/`PATRONAL`/`(P)` its employer part; both parts of one rubrique share the rest of the header
//!   (`2030 Ass. Vieillesse TA SAL` and `2030 Ass. Vieillesse TA PAT`);
//! - any other column after the total gross is informational (net, counters);
//! - the period comes from the row's period columns, else from a title line above the header
//!   ("Période du 01/01/2024 au 31/12/2024");
//! - a row whose matricule cell starts with "Total" (the file's totals) is skipped, as are blank rows
//!   and repeated header rows.

use crate::domain::{Matricule, Money};
use crate::payroll::block::split_code;
use crate::payroll::cells::{amount_at, date_at, decimal_at};
use crate::payroll::error::{CellProblem, PayrollError};
use crate::payroll::header::{detect, FoundHeader, LivreColumns};
use crate::payroll::meta::{
    is_year_to_date, meta_kind, period_in_words, read_meta_line, year_in, MetaKind,
};
use crate::payroll::model::{PayrollRecap, PayrollWarning, Rubrique, RubriqueKind};
use crate::payroll::reader::{cell_text, is_empty, Sheet};
use crate::payroll::recap::{Draft, Period};
use crate::payroll::rules::{RubriqueRules, RuleEffect};
use crate::payroll::text::{fold, header_key};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Employee,
    Employer,
    Whole,
}

/// One rubrique of the matrix and the columns that hold it.
#[derive(Debug)]
struct RubriqueColumns {
    code: Option<String>,
    label: String,
    kind: RubriqueKind,
    gross: Option<usize>,
    employee: Option<usize>,
    employer: Option<usize>,
    informational: Option<usize>,
    non_eligible: Option<String>,
}

const EMPLOYEE_SUFFIXES: &[&str] = &["salariale", "salarial", "part sal", "sal", "s"];
const EMPLOYER_SUFFIXES: &[&str] = &["patronale", "patronal", "part pat", "pat", "p", "employeur"];

fn split_part(header: &str) -> (Part, String) {
    let key = header_key(header);
    for (part, suffixes) in [
        (Part::Employee, EMPLOYEE_SUFFIXES),
        (Part::Employer, EMPLOYER_SUFFIXES),
    ] {
        for suffix in suffixes {
            if key.ends_with(&format!(" {suffix}")) {
                // Cut the same number of words from the original header.
                let words = suffix.split(' ').count();
                let trimmed = header.trim().trim_end_matches(')').trim_end();
                let mut cut = trimmed;
                for _ in 0..words {
                    cut = cut
                        .rsplit_once(|c: char| c.is_whitespace() || c == '(' || c == '-')
                        .map_or("", |(head, _)| head)
                        .trim_end_matches(['(', '-', ' ']);
                }
                if !cut.is_empty() {
                    return (part, cut.trim().to_string());
                }
            }
        }
    }
    (Part::Whole, header.trim().to_string())
}

fn describe(cols: &LivreColumns, rules: &RubriqueRules) -> Vec<RubriqueColumns> {
    let mut out: Vec<RubriqueColumns> = Vec::new();
    for (c, header) in &cols.rubriques {
        let (part, base) = split_part(header);
        let (code, label) = split_code(&base);
        let rule = rules.classify(code.as_deref(), &label);
        match part {
            Part::Whole => {
                let counter = rule.is_some_and(|r| r.effect == RuleEffect::Informational);
                let gross = *c < cols.total_gross && !counter;
                out.push(RubriqueColumns {
                    code,
                    label,
                    kind: if gross {
                        RubriqueKind::Gross
                    } else {
                        RubriqueKind::Informational
                    },
                    gross: gross.then_some(*c),
                    employee: None,
                    employer: None,
                    informational: (!gross).then_some(*c),
                    non_eligible: rule
                        .filter(|r| gross && r.effect == RuleEffect::NonEligible)
                        .map(|r| r.id.clone()),
                });
            }
            Part::Employee | Part::Employer => {
                let existing = out.iter_mut().find(|x| {
                    x.kind == RubriqueKind::Contribution && x.code == code && x.label == label
                });
                let entry = match existing {
                    Some(e) => e,
                    None => {
                        out.push(RubriqueColumns {
                            code,
                            label,
                            kind: RubriqueKind::Contribution,
                            gross: None,
                            employee: None,
                            employer: None,
                            informational: None,
                            non_eligible: None,
                        });
                        out.last_mut().expect("just pushed")
                    }
                };
                if part == Part::Employee {
                    entry.employee = Some(*c);
                } else {
                    entry.employer = Some(*c);
                }
            }
        }
    }
    out
}

/// The recaps of a livre de paie sheet, and the warnings about the sheet itself (columns nothing
/// says are pay, the clue the period was taken from).
pub fn parse_sheet(
    sheet: &Sheet,
    rules: &RubriqueRules,
) -> Result<(Vec<PayrollRecap>, Vec<PayrollWarning>), PayrollError> {
    let mut sheet_warnings = Vec::new();
    let mut titles: Vec<(String, crate::payroll::error::CellRef)> = Vec::new();
    let mut recaps = Vec::new();
    let mut sheet_period: Option<Period> = None;
    let mut layout: Option<(LivreColumns, Vec<RubriqueColumns>)> = None;
    for (r, cells) in sheet.range.rows().enumerate() {
        if cells.iter().all(is_empty) {
            continue;
        }
        let all_text = cells
            .iter()
            .all(|d| matches!(d, calamine::Data::String(_) | calamine::Data::Empty));
        if all_text {
            if let Some(FoundHeader::Livre(cols)) = detect(r, cells) {
                if layout.is_none() && sheet_period.is_none() {
                    sheet_period = clue_period(sheet, &titles, &mut sheet_warnings)?;
                }
                if layout.is_none() {
                    if !cols.unknown.is_empty() {
                        let names: Vec<String> = cols
                            .unknown
                            .iter()
                            .map(|(c, h)| format!("« {h} » ({})", sheet.cell_ref(r, *c).a1()))
                            .collect();
                        sheet_warnings.push(PayrollWarning::new(
                            "COLONNE_NON_RECONNUE",
                            format!(
                                "Feuille « {} » : colonne(s) sans code de rubrique ni libellé de paie reconnu, \
                                 conservées pour information et jamais additionnées au brut : {}. \
                                 Si ce sont des rubriques de paie, ajoutez leur libellé à \
                                 fixtures/payroll/entetes.toml.",
                                sheet.name,
                                names.join(", ")
                            ),
                            [("feuille", sheet.name.clone()), ("colonnes", names.join(", "))],
                        ));
                    }
                    let described = describe(&cols, rules);
                    layout = Some((cols, described));
                }
                continue;
            }
        }
        if layout.is_none() && all_text {
            // A title line: it may give the period (in words, a year) or say the figures are cumulated.
            let text: Vec<String> = cells
                .iter()
                .filter_map(|d| cell_text(d).map(|t| t.into_owned()))
                .collect();
            titles.push((text.join(" "), sheet.cell_ref(r, 0)));
        }
        match meta_kind(cells) {
            Some(MetaKind::Period) => {
                let line = read_meta_line(cells, MetaKind::Period, sheet.cell_ref(r, 0))?;
                sheet_period = line.period;
                continue;
            }
            // Other title lines of a matrix ("Salariés : tous", establishment) say nothing per row.
            Some(_) if layout.is_none() => continue,
            _ => {}
        }
        let Some((cols, described)) = layout.as_ref() else {
            continue;
        };
        let Some(matricule_text) = cells.get(cols.matricule).and_then(cell_text) else {
            continue;
        };
        if fold(&matricule_text).starts_with("total") {
            continue;
        }
        let at = sheet.cell_ref(r, cols.matricule);
        let matricule = Matricule::parse(&matricule_text).map_err(|_| {
            PayrollError::cell(
                at.clone(),
                CellProblem::BadMatricule(matricule_text.to_string()),
            )
        })?;
        let mut draft = Draft {
            matricule: Some((matricule, at.clone())),
            ..Draft::default()
        };
        let opt_date = |c: Option<usize>| match c {
            Some(c) => date_at(sheet, r, c),
            None => Ok(None),
        };
        draft.entry_date = opt_date(cols.entry)?;
        draft.exit_date = opt_date(cols.exit)?;
        draft.period = match (opt_date(cols.period_start)?, opt_date(cols.period_end)?) {
            (Some(s), Some(e)) => Some(Period::new(
                s,
                e,
                at.clone(),
                &format!("{} – {}", s.format("%d/%m/%Y"), e.format("%d/%m/%Y")),
            )?),
            _ => sheet_period.clone(),
        };
        draft.total_gross = amount_at(sheet, r, cols.total_gross)?
            .map(|m| (m, sheet.cell_ref(r, cols.total_gross)));
        draft.total_employer = amount_at(sheet, r, cols.total_employer)?
            .map(|m| (m, sheet.cell_ref(r, cols.total_employer)));
        if let Some(c) = cols.total_employee {
            draft.total_employee = amount_at(sheet, r, c)?;
        }
        for desc in described {
            let filled =
                |c: Option<usize>| c.is_some_and(|c| cells.get(c).is_some_and(|d| !is_empty(d)));
            if !(filled(desc.gross)
                || filled(desc.employee)
                || filled(desc.employer)
                || filled(desc.informational))
            {
                continue;
            }
            let source = sheet
                .cell_ref(
                    r,
                    desc.gross
                        .or(desc.employee)
                        .or(desc.employer)
                        .or(desc.informational)
                        .unwrap_or(0),
                )
                .to_string();
            let mut rubrique = Rubrique::new(desc.label.clone(), desc.kind, source);
            rubrique.code = desc.code.clone();
            let amount = |c: Option<usize>| -> Result<Option<Money>, PayrollError> {
                match c {
                    Some(c) => amount_at(sheet, r, c),
                    None => Ok(None),
                }
            };
            rubrique.amount_gross = amount(desc.gross)?;
            rubrique.amount_employee = amount(desc.employee)?;
            rubrique.amount_employer = amount(desc.employer)?;
            if let Some(c) = desc.informational {
                rubrique.informational_value = decimal_at(sheet, r, c)?;
            }
            rubrique.non_eligible = desc.non_eligible.clone();
            draft.rubriques.push(rubrique);
        }
        recaps.push(draft.finish(&at)?);
    }
    Ok((recaps, sheet_warnings))
}

/// The period of a livre de paie with no « Période du … au … » line, from what the sheet gives, with
/// a `PERIODE_DEDUITE` warning naming the clue: a period in words in a title line, else a year in a
/// title line, else a year in the sheet's name. A year-to-date cumulative title without a period is
/// refused with a question, never guessed.
fn clue_period(
    sheet: &Sheet,
    titles: &[(String, crate::payroll::error::CellRef)],
    warnings: &mut Vec<PayrollWarning>,
) -> Result<Option<Period>, PayrollError> {
    let mut found = |clue: String, period: Period| {
        warnings.push(PayrollWarning::new(
            "PERIODE_DEDUITE",
            format!(
                "Feuille « {} » : pas de ligne « Période du … au … » ; période du {} au {} lue dans {clue} \
                 (les dates d'entrée et de sortie de chaque salarié la restreignent).",
                sheet.name,
                period.start.format("%d/%m/%Y"),
                period.end.format("%d/%m/%Y"),
            ),
            [
                ("feuille", sheet.name.clone()),
                ("indice", clue),
                ("debut", period.start.to_string()),
                ("fin", period.end.to_string()),
            ],
        ));
        Ok(Some(period))
    };
    for (text, at) in titles {
        if let Some(words) = period_in_words(&fold(text)) {
            let (start, end) = words.map_err(|reason| {
                PayrollError::cell(at.clone(), CellProblem::BadPeriod(text.clone(), reason))
            })?;
            let period = Period::new(start, end, at.clone(), text)?;
            return found(format!("la ligne « {text} » ({})", at), period);
        }
    }
    if let Some((text, at)) = titles.iter().find(|(t, _)| is_year_to_date(t)) {
        return Err(PayrollError::YearToDate {
            at: at.clone(),
            title: text.clone(),
        });
    }
    let year_period = |year: i32, at: crate::payroll::error::CellRef, text: &str| match (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) {
        (Some(s), Some(e)) => Period::new(s, e, at, text),
        _ => Err(PayrollError::cell(
            at,
            CellProblem::BadPeriod(text.to_string(), "année impossible".into()),
        )),
    };
    for (text, at) in titles {
        if let Some(year) = year_in(text) {
            let period = year_period(year, at.clone(), text)?;
            return found(format!("l'année du titre « {text} » ({at})"), period);
        }
    }
    if let Some(year) = year_in(&sheet.name) {
        let period = year_period(year, sheet.cell_ref(0, 0), &sheet.name)?;
        return found(
            format!("l'année du nom de la feuille « {} »", sheet.name),
            period,
        );
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_suffixes_are_recognised_and_cut() {
        assert_eq!(
            split_part("2030 Ass. Vieillesse TA SAL"),
            (Part::Employee, "2030 Ass. Vieillesse TA".into())
        );
        assert_eq!(
            split_part("2030 Ass. Vieillesse TA (P)"),
            (Part::Employer, "2030 Ass. Vieillesse TA".into())
        );
        assert_eq!(
            split_part("7020 Assurance Chômage patronal"),
            (Part::Employer, "7020 Assurance Chômage".into())
        );
        assert_eq!(
            split_part("0005 Salaires Mensuel"),
            (Part::Whole, "0005 Salaires Mensuel".into())
        );
    }
}
