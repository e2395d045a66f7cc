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

const MONTHS: &str =
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre";

/// A period written in words: « De novembre 2024 à décembre 2024 », « Du 1er janvier 2024 au 31
/// décembre 2024 », « Période : janvier à décembre 2024 » (on folded text).
static PERIOD_WORDS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?:periode\s*(?:de paie\s*)?:?\s*)?(?:de|du)?\s*(?:(\d{{1,2}})(?:er)?\s+)?({MONTHS})(?:\s+(\d{{4}}))?\s*(?:a|au|-|jusqu'?\s*a|jusqu'?\s*au)\s+(?:(\d{{1,2}})(?:er)?\s+)?({MONTHS})\s+(\d{{4}})\s*$"
    ))
    .expect("period in words regex")
});

/// A year alone in a title or a sheet name: « Livre de paie 2024 », « Paie 2024 », « Cumuls annuels
/// 2024 » (a standalone four-digit year from 1990 to 2099).
static YEAR_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9/.\-])((?:19|20)\d{2})(?:$|[^0-9/.\-])").expect("year regex")
});

/// A year-to-date cumulative export: « Cumul au 30/09/2024 », « cumuls à fin septembre », « depuis le
/// début de l'année », « à ce jour ».
static YEAR_TO_DATE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"cumul\S*\s+(?:au|a fin|a la fin|jusqu|depuis|a ce jour|a date)|depuis le debut de l'?\s*annee|a ce jour|year to date|ytd")
        .expect("year-to-date regex")
});

fn month_number(name: &str) -> Option<u32> {
    MONTHS
        .split('|')
        .position(|m| m == name)
        .map(|i| i as u32 + 1)
}

fn last_day(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// The period a line writes in words, on its folded text; `Err` when it names impossible dates.
pub fn period_in_words(folded: &str) -> Option<Result<(NaiveDate, NaiveDate), String>> {
    let c = PERIOD_WORDS_RE.captures(folded.trim())?;
    let end_year: i32 = c.get(6)?.as_str().parse().ok()?;
    let start_year: i32 = match c.get(3) {
        Some(y) => y.as_str().parse().ok()?,
        None => end_year,
    };
    let (m1, m2) = (month_number(&c[2])?, month_number(&c[5])?);
    let day = |g: Option<regex::Match<'_>>| g.and_then(|d| d.as_str().parse::<u32>().ok());
    let start = NaiveDate::from_ymd_opt(start_year, m1, day(c.get(1)).unwrap_or(1));
    let end = match day(c.get(4)) {
        Some(d) => NaiveDate::from_ymd_opt(end_year, m2, d),
        None => last_day(end_year, m2),
    };
    Some(match (start, end) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err("date impossible".to_string()),
    })
}

/// A year alone in a text (a title, a sheet name).
pub fn year_in(text: &str) -> Option<i32> {
    let folded = fold(text);
    let c = YEAR_RE.captures(&folded)?;
    c[1].parse().ok()
}

/// Whether a title says its figures are cumulated up to a date (year to date) without a period.
pub fn is_year_to_date(text: &str) -> bool {
    YEAR_TO_DATE_RE.is_match(&fold(text))
}

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
    if f.starts_with("periode")
        || ((f.starts_with("de ") || f.starts_with("du ")) && period_in_words(&fold(s)).is_some())
    {
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
        } else if let Some(words) = period_in_words(&folded) {
            match words {
                Ok((s, e)) => line.period = Some(Period::new(s, e, at.clone(), &original)?),
                Err(reason) => {
                    return Err(PayrollError::cell(
                        at,
                        CellProblem::BadPeriod(original, reason),
                    ))
                }
            }
        } else {
            return Err(PayrollError::cell(
                at,
                CellProblem::BadPeriod(
                    original,
                    "attendu « Période du JJ/MM/AAAA au JJ/MM/AAAA » ou « De novembre 2024 à décembre 2024 »"
                        .into(),
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
