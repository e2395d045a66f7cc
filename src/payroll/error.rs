//! Errors of the payroll import. Every error about a value names its cell: `Feuil1!C12` in a workbook,
//! `recap.csv ligne 12 colonne 3 (C)` in a CSV file.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a value was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRef {
    pub sheet: String,
    /// Zero-based row and column in the sheet.
    pub row: u32,
    pub col: u32,
    /// For CSV files: the physical line of the record (1-based), which differs from the row when a
    /// quoted field spans several lines.
    pub csv_line: Option<u64>,
}

impl CellRef {
    pub fn a1(&self) -> String {
        format!("{}{}", column_letters(self.col), self.row + 1)
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.csv_line {
            Some(line) => write!(
                f,
                "{} ligne {} colonne {} ({})",
                self.sheet,
                line,
                self.col + 1,
                column_letters(self.col)
            ),
            None => {
                if self.sheet.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    write!(f, "{}!{}", self.sheet, self.a1())
                } else {
                    write!(f, "'{}'!{}", self.sheet.replace('\'', "''"), self.a1())
                }
            }
        }
    }
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`.
pub fn column_letters(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// What is wrong with one cell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error(
        "montant ambigu \"{0}\" (séparateur de milliers ou décimal ? écrire 1 234,00 ou 1,234)"
    )]
    Ambiguous(String),
    #[error("nombre illisible \"{0}\"")]
    Malformed(String),
    #[error("montant \"{0}\" : plus de 2 décimales")]
    TooManyDecimals(String),
    #[error("nombre \"{0}\" hors limites")]
    OutOfRange(String),
    #[error("cellule en erreur ({0})")]
    SpreadsheetError(String),
    #[error("date illisible \"{0}\" (attendu JJ/MM/AAAA)")]
    BadDate(String),
    #[error("matricule invalide \"{0}\"")]
    BadMatricule(String),
    #[error("période \"{0}\" invalide : {1}")]
    BadPeriod(String, String),
    #[error("récapitulatif collectif ({0}) : un récapitulatif par salarié est attendu")]
    SeveralEmployees(String),
    #[error("deuxième ligne de total « {0} » dans le même récapitulatif")]
    DuplicateTotal(String),
    #[error("ligne « {0} » sans montant")]
    TotalWithoutAmount(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PayrollError {
    #[error("lecture de {path} impossible : {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("fichier trop volumineux : {size_bytes} octets (maximum {max_bytes} octets)")]
    FileTooLarge { size_bytes: u64, max_bytes: u64 },
    #[error(
        "feuille « {sheet} » : {rows} lignes, au-delà du maximum de {max_rows} lignes par fichier"
    )]
    TooManyRows {
        sheet: String,
        rows: usize,
        max_rows: usize,
    },
    #[error("feuille « {sheet} » : {columns} colonnes, au-delà du maximum de {max_columns}")]
    TooManyColumns {
        sheet: String,
        columns: usize,
        max_columns: usize,
    },
    #[error("archive refusée, possible bombe de décompression : {detail}")]
    DecompressionBomb { detail: String },
    #[error("fichier protégé par mot de passe : enregistrez-le sans mot de passe avant l'import")]
    PasswordProtected,
    #[error("fichier {format} illisible ou corrompu : {detail}")]
    Corrupt { format: String, detail: String },
    #[error("format non pris en charge : {0} (attendu .xlsx, .xls, .ods ou .csv)")]
    UnsupportedFormat(String),
    #[error("{at} : {problem}")]
    Cell { at: CellRef, problem: CellProblem },
    #[error(
        "{file_name} : aucun tableau de paie trouvé (en-têtes attendus : RUBRIQUES, REMUNERATION, \
         PATRONAL… ou, pour un livre de paie, MATRICULE, BRUT, TOTAL PATRONAL)"
    )]
    NoTable { file_name: String },
    #[error(
        "{at} : matricule du salarié introuvable (ligne « Salarié(s) de … » ou « Matricule : … »)"
    )]
    MissingMatricule { at: CellRef },
    #[error("{at} : période introuvable (ligne « Période du JJ/MM/AAAA au JJ/MM/AAAA »)")]
    MissingPeriod { at: CellRef },
    #[error("{at} : ligne « Total … Brut » introuvable pour le salarié {matricule}")]
    MissingGrossTotal { at: CellRef, matricule: String },
    #[error(
        "{at} : total des charges patronales introuvable pour le salarié {matricule} \
         (ligne « Total Retenus » ou « Total cotisations » avec un montant PATRONAL)"
    )]
    MissingEmployerTotal { at: CellRef, matricule: String },
    #[error("salarié {matricule} : deux récapitulatifs pour {year} ({first} et {second}) ; un seul par salarié et par an")]
    DuplicateRecap {
        matricule: String,
        year: i32,
        first: String,
        second: String,
    },
    #[error("fichier de règles des rubriques : {0}")]
    Rules(String),
}

impl PayrollError {
    pub fn cell(at: CellRef, problem: CellProblem) -> PayrollError {
        PayrollError::Cell { at, problem }
    }
}
