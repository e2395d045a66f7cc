//! Finding the table by its header names, never by position. Names are compared after
//! [`header_key`](crate::payroll::text::header_key) (case, accents and punctuation ignored), against the
//! vocabulary of `fixtures/payroll/entetes.toml` (data: one place to add a payroll software's wording).

use crate::payroll::reader::{cell_text, Sheet};
use crate::payroll::text::header_key;
use calamine::Data;
use regex::Regex;
use serde::Deserialize;
use std::sync::LazyLock;

/// The default header vocabulary, compiled in.
pub const DEFAULT_HEADERS_TOML: &str = include_str!("../../fixtures/payroll/entetes.toml");

/// The environment variable naming a TOML file whose words are added to the default vocabulary.
pub const HEADERS_ENV: &str = "CARE_LEDGER_PAYROLL_HEADERS";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecapWords {
    #[serde(default)]
    rubrique: Vec<String>,
    #[serde(default)]
    nombre: Vec<String>,
    #[serde(default)]
    remuneration: Vec<String>,
    #[serde(default)]
    base: Vec<String>,
    #[serde(default)]
    taux_salarial: Vec<String>,
    #[serde(default)]
    montant_salarial: Vec<String>,
    #[serde(default)]
    taux_patronal: Vec<String>,
    #[serde(default)]
    montant_patronal: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LivreWords {
    #[serde(default)]
    matricule: Vec<String>,
    #[serde(default)]
    date_entree: Vec<String>,
    #[serde(default)]
    date_sortie: Vec<String>,
    #[serde(default)]
    debut_periode: Vec<String>,
    #[serde(default)]
    fin_periode: Vec<String>,
    #[serde(default)]
    total_brut: Vec<String>,
    #[serde(default)]
    total_salarial: Vec<String>,
    #[serde(default)]
    total_patronal: Vec<String>,
    #[serde(default)]
    identite: Vec<String>,
    #[serde(default)]
    information: Vec<String>,
    #[serde(default)]
    hors_paie: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patterns {
    mois: Option<String>,
    paie: Option<String>,
    hors_paie: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyFile {
    #[serde(default)]
    recap: RecapWords,
    #[serde(default)]
    livre: LivreWords,
    #[serde(default)]
    motifs: Patterns,
}

/// The header vocabulary (`fixtures/payroll/entetes.toml`): the words of each column of both layouts
/// and the patterns that tell pay from counters and dates.
#[derive(Debug)]
pub struct Vocabulary {
    file: VocabularyFile,
    month: Regex,
    pay: Regex,
    not_pay: Regex,
}

/// What an unnamed column of a livre de paie holds, judged from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A rubrique: it has a rubrique code or words of pay.
    Pay,
    /// A counter, a date, a rate, a contract number: never summed.
    NotPay,
    /// Nothing says it is pay: kept for information, never summed, reported.
    Unknown,
}

impl Vocabulary {
    /// The vocabulary of a TOML text (see `fixtures/payroll/entetes.toml`).
    pub fn from_toml_str(text: &str) -> Result<Vocabulary, String> {
        let file: VocabularyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        Vocabulary::build(file)
    }

    fn build(file: VocabularyFile) -> Result<Vocabulary, String> {
        let pattern = |p: &Option<String>, what: &str| {
            Regex::new(p.as_deref().unwrap_or("$^")).map_err(|e| format!("motif {what} : {e}"))
        };
        Ok(Vocabulary {
            month: pattern(&file.motifs.mois, "mois")?,
            pay: pattern(&file.motifs.paie, "paie")?,
            not_pay: pattern(&file.motifs.hors_paie, "hors_paie")?,
            file,
        })
    }

    /// The compiled-in vocabulary, plus the words of the file named by [`HEADERS_ENV`] when set.
    pub fn load() -> Result<Vocabulary, String> {
        let mut file: VocabularyFile =
            toml::from_str(DEFAULT_HEADERS_TOML).map_err(|e| e.to_string())?;
        if let Ok(path) = std::env::var(HEADERS_ENV) {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path} : {e}"))?;
            let extra: VocabularyFile =
                toml::from_str(&text).map_err(|e| format!("{path} : {e}"))?;
            let add = |to: &mut Vec<String>, from: Vec<String>| {
                to.extend(from.into_iter().map(|w| header_key(&w)))
            };
            let (r, e) = (&mut file.recap, extra.recap);
            add(&mut r.rubrique, e.rubrique);
            add(&mut r.nombre, e.nombre);
            add(&mut r.remuneration, e.remuneration);
            add(&mut r.base, e.base);
            add(&mut r.taux_salarial, e.taux_salarial);
            add(&mut r.montant_salarial, e.montant_salarial);
            add(&mut r.taux_patronal, e.taux_patronal);
            add(&mut r.montant_patronal, e.montant_patronal);
            let (l, e) = (&mut file.livre, extra.livre);
            add(&mut l.matricule, e.matricule);
            add(&mut l.date_entree, e.date_entree);
            add(&mut l.date_sortie, e.date_sortie);
            add(&mut l.debut_periode, e.debut_periode);
            add(&mut l.fin_periode, e.fin_periode);
            add(&mut l.total_brut, e.total_brut);
            add(&mut l.total_salarial, e.total_salarial);
            add(&mut l.total_patronal, e.total_patronal);
            add(&mut l.identite, e.identite);
            add(&mut l.information, e.information);
            add(&mut l.hors_paie, e.hors_paie);
        }
        Vocabulary::build(file)
    }

    /// An unnamed column of a livre de paie, by its header: a rubrique code or words of pay make it
    /// pay; a month, a date, a counter or a rate make it not pay; anything else is unknown.
    pub fn column_kind(&self, header: &str) -> ColumnKind {
        let key = header_key(header);
        if self.file.livre.hors_paie.contains(&key) || self.month.is_match(&key) {
            return ColumnKind::NotPay;
        }
        let (code, _) = crate::payroll::block::split_code(header);
        if code.is_some() || self.pay.is_match(&key) {
            return ColumnKind::Pay;
        }
        if self.not_pay.is_match(&key) {
            return ColumnKind::NotPay;
        }
        ColumnKind::Unknown
    }
}

/// The vocabulary in force (loaded once; a broken extra file is reported in the log and ignored).
pub fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
        Vocabulary::load().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "payroll header vocabulary: extra file ignored");
            Vocabulary::from_toml_str(DEFAULT_HEADERS_TOML)
                .expect("fixtures/payroll/entetes.toml is valid (checked by a test)")
        })
    });
    &VOCABULARY
}

/// Columns of a recap block, zero-based within the sheet's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecapColumns {
    pub header_row: usize,
    /// The rubrique text is read from `rubrique` up to (excluding) `rubrique_end`: a "RUBRIQUES" header
    /// merged over a code column and a label column covers both.
    pub rubrique: usize,
    pub rubrique_end: usize,
    pub number: Option<usize>,
    pub remuneration: usize,
    pub base: Option<usize>,
    pub rate_employee: Option<usize>,
    pub amount_employee: Option<usize>,
    pub rate_employer: Option<usize>,
    pub amount_employer: usize,
}

impl RecapColumns {
    /// Columns holding numbers, for quick "is this row empty of figures" checks.
    pub fn numeric_columns(&self) -> [Option<usize>; 7] {
        [
            self.number,
            Some(self.remuneration),
            self.base,
            self.rate_employee,
            self.amount_employee,
            self.rate_employer,
            Some(self.amount_employer),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivreColumns {
    pub header_row: usize,
    pub matricule: usize,
    pub entry: Option<usize>,
    pub exit: Option<usize>,
    pub period_start: Option<usize>,
    pub period_end: Option<usize>,
    pub total_gross: usize,
    pub total_employee: Option<usize>,
    pub total_employer: usize,
    pub identity: Vec<usize>,
    /// Net and other figures that are neither a rubrique nor a total we use.
    pub informational: Vec<(usize, String)>,
    /// Columns of pay (a rubrique code or words of pay), with their header text.
    pub rubriques: Vec<(usize, String)>,
    /// Columns nothing says are pay (kept for information among `informational`, never summed).
    pub unknown: Vec<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundHeader {
    Recap(RecapColumns),
    Livre(LivreColumns),
}

fn find(keys: &[(usize, String)], names: &[String]) -> Option<usize> {
    keys.iter()
        .find(|(_, k)| names.iter().any(|n| n == k))
        .map(|(c, _)| *c)
}

/// Header keys of a row, or `None` when the row cannot be a header (a number in it, fewer than three
/// labels).
fn row_keys(cells: &[Data]) -> Option<Vec<(usize, String, String)>> {
    let mut keys = Vec::new();
    for (c, cell) in cells.iter().enumerate() {
        match cell {
            Data::String(_) => {
                if let Some(t) = cell_text(cell) {
                    keys.push((c, header_key(&t), t.into_owned()));
                }
            }
            Data::Empty => {}
            _ => return None,
        }
    }
    if keys.len() < 3 {
        None
    } else {
        Some(keys)
    }
}

/// Recognises a header row of either layout.
pub fn detect(row: usize, cells: &[Data]) -> Option<FoundHeader> {
    let keys = row_keys(cells)?;
    let plain: Vec<(usize, String)> = keys.iter().map(|(c, k, _)| (*c, k.clone())).collect();
    let v = vocabulary();
    let (livre, recap) = (&v.file.livre, &v.file.recap);
    if let (Some(matricule), Some(total_gross), Some(total_employer)) = (
        find(&plain, &livre.matricule),
        find(&plain, &livre.total_brut),
        find(&plain, &livre.total_patronal),
    ) {
        let entry = find(&plain, &livre.date_entree);
        let exit = find(&plain, &livre.date_sortie);
        let period_start = find(&plain, &livre.debut_periode);
        let period_end = find(&plain, &livre.fin_periode);
        let total_employee = find(&plain, &livre.total_salarial);
        let used: Vec<usize> = [
            Some(matricule),
            entry,
            exit,
            period_start,
            period_end,
            Some(total_gross),
            total_employee,
            Some(total_employer),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut identity = Vec::new();
        let mut informational = Vec::new();
        let mut rubriques = Vec::new();
        let mut unknown = Vec::new();
        for (c, key, text) in &keys {
            if used.contains(c) {
                continue;
            }
            if livre.identite.iter().any(|w| w == key) {
                identity.push(*c);
            } else if livre.information.iter().any(|w| w == key) {
                informational.push((*c, text.clone()));
            } else {
                match v.column_kind(text) {
                    ColumnKind::Pay => rubriques.push((*c, text.clone())),
                    ColumnKind::NotPay => informational.push((*c, text.clone())),
                    ColumnKind::Unknown => {
                        informational.push((*c, text.clone()));
                        unknown.push((*c, text.clone()));
                    }
                }
            }
        }
        return Some(FoundHeader::Livre(LivreColumns {
            header_row: row,
            matricule,
            entry,
            exit,
            period_start,
            period_end,
            total_gross,
            total_employee,
            total_employer,
            identity,
            informational,
            rubriques,
            unknown,
        }));
    }
    let rubrique = find(&plain, &recap.rubrique)?;
    let remuneration = find(&plain, &recap.remuneration)?;
    let amount_employer = find(&plain, &recap.montant_patronal)?;
    let number = find(&plain, &recap.nombre);
    let base = find(&plain, &recap.base);
    let rate_employee = find(&plain, &recap.taux_salarial);
    let amount_employee = find(&plain, &recap.montant_salarial);
    let rate_employer = find(&plain, &recap.taux_patronal);
    let found = [number, base, rate_employee, amount_employee, rate_employer]
        .iter()
        .flatten()
        .count();
    if found < 1 {
        return None;
    }
    let next_mapped = [
        number,
        Some(remuneration),
        base,
        rate_employee,
        amount_employee,
        rate_employer,
        Some(amount_employer),
    ]
    .into_iter()
    .flatten()
    .filter(|c| *c > rubrique)
    .min()
    .unwrap_or(rubrique + 1);
    Some(FoundHeader::Recap(RecapColumns {
        header_row: row,
        rubrique,
        rubrique_end: next_mapped,
        number,
        remuneration,
        base,
        rate_employee,
        amount_employee,
        rate_employer,
        amount_employer,
    }))
}

/// The first header row of a sheet, if any.
pub fn find_first_header(sheet: &Sheet) -> Option<FoundHeader> {
    sheet
        .range
        .rows()
        .enumerate()
        .find_map(|(r, cells)| detect(r, cells))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_vocabulary_loads_and_tells_pay_from_counters_and_dates() {
        let v = Vocabulary::from_toml_str(DEFAULT_HEADERS_TOML).unwrap();
        for pay in [
            "0005 Salaire de base",
            "Prime d'ancienneté",
            "Indemnité compensatrice de congés payés",
            "Heures supplémentaires 25 %",
            "NBI",
        ] {
            assert_eq!(v.column_kind(pay), ColumnKind::Pay, "{pay}");
        }
        for not_pay in [
            "N° contrat",
            "Nb heures",
            "Jours RTT acquis",
            "Solde CP",
            "11/2024",
            "novembre 2024",
            "Taux horaire",
            "ETP",
            "Date naissance",
        ] {
            assert_eq!(v.column_kind(not_pay), ColumnKind::NotPay, "{not_pay}");
        }
        assert_eq!(v.column_kind("Divers XYZ"), ColumnKind::Unknown);
    }

    #[test]
    fn every_word_of_the_vocabulary_is_written_folded() {
        let v = Vocabulary::from_toml_str(DEFAULT_HEADERS_TOML).unwrap();
        let (r, l) = (&v.file.recap, &v.file.livre);
        for list in [
            &r.rubrique,
            &r.nombre,
            &r.remuneration,
            &r.base,
            &r.taux_salarial,
            &r.montant_salarial,
            &r.taux_patronal,
            &r.montant_patronal,
            &l.matricule,
            &l.date_entree,
            &l.date_sortie,
            &l.debut_periode,
            &l.fin_periode,
            &l.total_brut,
            &l.total_salarial,
            &l.total_patronal,
            &l.identite,
            &l.information,
            &l.hors_paie,
        ] {
            for word in list {
                assert_eq!(&header_key(word), word, "not folded in entetes.toml");
            }
        }
    }
}
