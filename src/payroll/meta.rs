//! Title lines above a recap table, which carry its period, its employee and the entry and exit dates:
//! "Récapitulatif de paie", "Période de 01/01/2024 au 31/12/2024", "Salarié(s) de 44A567",
//! "Etablissement(s) <<Tous>>", "Date d'entrée : 01/03/2024", "Date de sortie : 30/09/2024".

use crate::domain::Matricule;
use crate::payroll::cells::parse_date_text;
use crate::payroll::error::{CellProblem, CellRef, PayrollError};
use crate::payroll::reader::{cell_text, is_empty};
use crate::payroll::recap::Period;
use crate::payroll::text::fold;
use calamine::Data;
use chrono::NaiveDate;
use regex::Regex;
use std::sync::LazyLock;

const DATE: &str = r"(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2})";

static PERIOD_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^periode\s*(?:de paie\s*)?(?:du|de)?\s*:?\s*{DATE}\s*(?:au|a|-)\s*{DATE}"
    ))
    .expect("period regex")
});
static PERIOD_YEAR_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^periode\s*:?\s*(?:annee\s*|exercice\s*)?(\d{4})\s*$").expect("period year regex")
});
static ENTRY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:date\s+d\s*'?\s*entree|entree(?:\s+le)?)\s*:?\s*{DATE}"
    ))
    .expect("entry regex")
});
static EXIT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:date\s+de\s+sortie|sortie(?:\s+le)?)\s*:?\s*{DATE}"
    ))
    .expect("exit regex")
});
/// On the original text (case kept): the matricule, and the end of a range of employees.
static EMPLOYEE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:salari\S*|matricule)\s*(?:n°|no\.?)?\s*(?:de\s+|du\s+|:\s*)?(\S+)(?:\s+(?:à|a|au)\s+(\S+))?",
    )
    .expect("employee regex")
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaKind {
    /// "Récapitulatif de paie", "Etablissement(s) …": starts a new block, carries nothing we keep.
    Title,
    Period,
    Employee,
    /// Entry or exit date only.
    Dates,
}

/// What a title line says.
#[derive(Debug, Default)]
pub struct MetaLine {
    pub period: Option<Period>,
    pub matricule: Option<(Matricule, CellRef)>,
    pub entry: Option<NaiveDate>,
    pub exit: Option<NaiveDate>,
}

/// The kind of title line a row is, judged from its first non-empty cell.
pub fn meta_kind(cells: &[Data]) -> Option<MetaKind> {
    let first = cells.iter().find(|d| !is_empty(d))?;
    let Data::String(s) = first else {
        return None;
    };
    // Rubrique lines start with their code: reject them before any folding. Fold a prefix only.
    let s = s.trim_start();
    if s.as_bytes().first().is_none_or(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix_end = s.char_indices().nth(24).map_or(s.len(), |(i, _)| i);
    let f = fold(&s[..prefix_end]);
    if f.starts_with("periode") {
        Some(MetaKind::Period)
    } else if f.starts_with("salarie") || f.starts_with("matricule") {
        Some(MetaKind::Employee)
    } else if f.starts_with("recapitulatif")
        || f.starts_with("livre de paie")
        || f.starts_with("etablissement")
        || f.starts_with("societe")
    {
        Some(MetaKind::Title)
    } else if f.starts_with("date d") || f.starts_with("entree") || f.starts_with("sortie") {
        Some(MetaKind::Dates)
    } else {
        None
    }
}

/// Reads a title line: all its cells joined by a space (a date may sit in its own cell).
pub fn read_meta_line(
    cells: &[Data],
    kind: MetaKind,
    at: CellRef,
) -> Result<MetaLine, PayrollError> {
    let joined: Vec<String> = cells
        .iter()
        .filter_map(|d| cell_text(d).map(|t| t.into_owned()))
        .collect();
    let original = joined.join(" ");
    let folded = fold(&original);
    let mut line = MetaLine::default();
    if kind == MetaKind::Period {
        if let Some(c) = PERIOD_RE.captures(&folded) {
            let start = parse_date_text(&c[1]);
            let end = parse_date_text(&c[2]);
            match (start, end) {
                (Some(s), Some(e)) => line.period = Some(Period::new(s, e, at.clone(), &original)?),
                _ => {
                    return Err(PayrollError::cell(
                        at,
                        CellProblem::BadPeriod(original, "date impossible".into()),
                    ))
                }
            }
        } else if let Some(c) = PERIOD_YEAR_RE.captures(&folded) {
            let year: i32 = c[1].parse().unwrap_or(0);
            let (Some(s), Some(e)) = (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) else {
                return Err(PayrollError::cell(
                    at,
                    CellProblem::BadPeriod(original, "année impossible".into()),
                ));
            };
            line.period = Some(Period::new(s, e, at.clone(), &original)?);
        } else {
            return Err(PayrollError::cell(
                at,
                CellProblem::BadPeriod(
                    original,
                    "attendu « Période du JJ/MM/AAAA au JJ/MM/AAAA »".into(),
                ),
            ));
        }
    }
    if kind == MetaKind::Employee {
        let caps = EMPLOYEE_RE.captures(&original).ok_or_else(|| {
            PayrollError::cell(at.clone(), CellProblem::BadMatricule(original.clone()))
        })?;
        let first = caps[1].trim_end_matches([',', ';']);
        let folded_first = fold(first);
        if first.contains('<') || folded_first == "tous" || folded_first == "toutes" {
            return Err(PayrollError::cell(
                at,
                CellProblem::SeveralEmployees(original.clone()),
            ));
        }
        if let Some(last) = caps.get(2) {
            let last = last.as_str().trim_end_matches([',', ';']);
            if last != first && parse_date_text(last).is_none() {
                return Err(PayrollError::cell(
                    at,
                    CellProblem::SeveralEmployees(original.clone()),
                ));
            }
        }
        let matricule = Matricule::parse(first).map_err(|_| {
            PayrollError::cell(at.clone(), CellProblem::BadMatricule(first.to_string()))
        })?;
        line.matricule = Some((matricule, at.clone()));
    }
    let date = |re: &Regex| -> Result<Option<NaiveDate>, PayrollError> {
        match re.captures(&folded) {
            None => Ok(None),
            Some(c) => parse_date_text(&c[1]).map(Some).ok_or_else(|| {
                PayrollError::cell(at.clone(), CellProblem::BadDate(c[1].to_string()))
            }),
        }
    };
    line.entry = date(&ENTRY_RE)?;
    line.exit = date(&EXIT_RE)?;
    Ok(line)
}
