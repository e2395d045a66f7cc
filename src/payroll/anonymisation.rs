//! The anonymisation key (table de passage, SPEC.md §5): when documents are anonymised, each pseudonym
//! used in the financial template maps to the matricule printed on the payroll recap.
//!
//! Format: a CSV file (`;`, tab or `,`; UTF-8 or Windows-1252) with a header row naming a pseudonym
//! column (PSEUDONYME, PSEUDONYM, IDENTIFIANT ANONYMISE, CODE ANONYME, ALIAS) and a matricule column
//! (MATRICULE, MATRICULE PAIE, MATRICULE RECAPITULATIF); other columns are ignored. Each pseudonym and
//! each matricule appears once.

use crate::domain::Matricule;
use crate::payroll::reader::{decode_text, detect_delimiter};
use crate::payroll::text::header_key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most lines in a key (an establishment's whole staff fits many times).
pub const MAX_KEY_ROWS: usize = 100_000;

const PSEUDONYM_HEADERS: &[&str] = &[
    "pseudonyme",
    "pseudonym",
    "pseudo",
    "identifiant anonymise",
    "matricule anonymise",
    "code anonyme",
    "alias",
];
const MATRICULE_HEADERS: &[&str] = &[
    "matricule",
    "matricule paie",
    "matricule recapitulatif",
    "matricule recap",
    "matricule reel",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnonymisationError {
    #[error("clé d'anonymisation illisible : {0}")]
    Unreadable(String),
    #[error("clé d'anonymisation : en-têtes PSEUDONYME et MATRICULE introuvables")]
    MissingHeaders,
    #[error("clé d'anonymisation ligne {line} : {problem}")]
    Line { line: u64, problem: String },
    #[error("clé d'anonymisation : plus de {max} lignes")]
    TooManyRows { max: usize },
    #[error("clé d'anonymisation : aucune correspondance")]
    Empty,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymisationKey {
    by_pseudonym: BTreeMap<String, Matricule>,
    by_matricule: BTreeMap<String, Matricule>,
}

impl AnonymisationKey {
    pub fn parse_csv(bytes: &[u8]) -> Result<AnonymisationKey, AnonymisationError> {
        let text = decode_text(bytes).map_err(|e| AnonymisationError::Unreadable(e.to_string()))?;
        let delimiter = detect_delimiter(&text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut columns: Option<(usize, usize)> = None;
        let mut key = AnonymisationKey::default();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| AnonymisationError::Unreadable(e.to_string()))?;
            if i >= MAX_KEY_ROWS {
                return Err(AnonymisationError::TooManyRows { max: MAX_KEY_ROWS });
            }
            let line = record.position().map_or(i as u64 + 1, |p| p.line());
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let Some((p_col, m_col)) = columns else {
                let keys: Vec<String> = record.iter().map(header_key).collect();
                let p = keys
                    .iter()
                    .position(|k| PSEUDONYM_HEADERS.contains(&k.as_str()));
                let m = keys
                    .iter()
                    .position(|k| MATRICULE_HEADERS.contains(&k.as_str()));
                match (p, m) {
                    (Some(p), Some(m)) => columns = Some((p, m)),
                    _ => return Err(AnonymisationError::MissingHeaders),
                }
                continue;
            };
            let field = |c: usize| record.get(c).map(str::trim).unwrap_or("");
            let parse = |c: usize, what: &str| {
                Matricule::parse(field(c)).map_err(|_| AnonymisationError::Line {
                    line,
                    problem: format!("{what} invalide « {} »", field(c)),
                })
            };
            let pseudonym = parse(p_col, "pseudonyme")?;
            let matricule = parse(m_col, "matricule")?;
            if let Some(previous) = key.by_pseudonym.get(pseudonym.as_str()) {
                return Err(AnonymisationError::Line {
                    line,
                    problem: format!(
                        "pseudonyme « {pseudonym} » déjà associé au matricule {previous}"
                    ),
                });
            }
            if let Some(previous) = key.by_matricule.get(matricule.as_str()) {
                return Err(AnonymisationError::Line {
                    line,
                    problem: format!(
                        "matricule « {matricule} » déjà associé au pseudonyme {previous}"
                    ),
                });
            }
            key.by_pseudonym
                .insert(pseudonym.as_str().to_string(), matricule.clone());
            key.by_matricule
                .insert(matricule.as_str().to_string(), pseudonym);
        }
        if columns.is_none() {
            return Err(AnonymisationError::MissingHeaders);
        }
        if key.by_pseudonym.is_empty() {
            return Err(AnonymisationError::Empty);
        }
        Ok(key)
    }

    /// The recap matricule behind a pseudonym of the template.
    pub fn resolve(&self, pseudonym: &str) -> Option<&Matricule> {
        self.by_pseudonym.get(pseudonym.trim())
    }

    /// The pseudonym used in the template for a recap matricule.
    pub fn pseudonym_of(&self, matricule: &Matricule) -> Option<&Matricule> {
        self.by_matricule.get(matricule.as_str())
    }

    pub fn len(&self) -> usize {
        self.by_pseudonym.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_pseudonym.is_empty()
    }

    /// (pseudonym, matricule) pairs, sorted by pseudonym.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Matricule)> {
        self.by_pseudonym.iter().map(|(p, m)| (p.as_str(), m))
    }
}
