//! Errors of the payroll import. Every error about a value names its cell: `Feuil1!C12` in a workbook,
//! `recap.csv ligne 12 colonne 3 (C)` in a CSV file.

pub use crate::sheet::error::{column_letters, CellRef};
use crate::sheet::{CellValueError, SheetError};

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
    #[error("feuille « {sheet} » : {rows} lignes, au-delà du maximum de {max_rows} lignes")]
    TooManyRows {
        sheet: String,
        rows: u64,
        max_rows: u64,
    },
    #[error("feuille « {sheet} » : {columns} colonnes, au-delà du maximum de {max_columns}")]
    TooManyColumns {
        sheet: String,
        columns: u64,
        max_columns: u64,
    },
    /// A sheet's extent (or a workbook's, all sheets together) beyond the limit: see
    /// [`SheetError::TooManyCells`].
    #[error("{0}")]
    TooManyCells(SheetError),
    #[error("archive refusée, possible bombe de décompression : {detail}")]
    DecompressionBomb { detail: String },
    #[error("fichier protégé par mot de passe : enregistrez-le sans mot de passe avant l'import")]
    PasswordProtected,
    #[error("fichier {format} illisible ou corrompu : {detail}")]
    Corrupt { format: String, detail: String },
    #[error("format non pris en charge : {0} (attendu .xlsx, .xls, .ods, .xml ou .csv)")]
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
    #[error(
        "{at} : période introuvable (ligne « Période du JJ/MM/AAAA au JJ/MM/AAAA » ou « De novembre 2024 \
         à décembre 2024 », colonnes de début et de fin de période, ou année dans le titre ou le nom \
         de la feuille)"
    )]
    MissingPeriod { at: CellRef },
    #[error(
        "{at} : « {title} » : ces montants sont des cumuls depuis le début de l'année, sans période \
         écrite. Sur quelle période portent-ils exactement (du 1er janvier à quelle date) ? Ajoutez au-dessus \
         du tableau une ligne « Période du JJ/MM/AAAA au JJ/MM/AAAA » : la période n'est jamais devinée."
    )]
    YearToDate { at: CellRef, title: String },
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

impl From<CellValueError> for CellProblem {
    fn from(e: CellValueError) -> CellProblem {
        match e {
            CellValueError::Ambiguous(t) => CellProblem::Ambiguous(t),
            CellValueError::Malformed(t) => CellProblem::Malformed(t),
            CellValueError::TooManyDecimals(t) => CellProblem::TooManyDecimals(t),
            CellValueError::OutOfRange(t) => CellProblem::OutOfRange(t),
            CellValueError::SpreadsheetError(t) => CellProblem::SpreadsheetError(t),
            CellValueError::BadDate(t) => CellProblem::BadDate(t),
        }
    }
}

impl From<SheetError> for PayrollError {
    fn from(e: SheetError) -> PayrollError {
        match e {
            SheetError::FileTooLarge {
                size_bytes,
                max_bytes,
            } => PayrollError::FileTooLarge {
                size_bytes,
                max_bytes,
            },
            SheetError::TooManyRows {
                sheet,
                rows,
                max_rows,
            } => PayrollError::TooManyRows {
                sheet,
                rows,
                max_rows,
            },
            SheetError::TooManyColumns {
                sheet,
                columns,
                max_columns,
            } => PayrollError::TooManyColumns {
                sheet,
                columns,
                max_columns,
            },
            e @ SheetError::TooManyCells { .. } => PayrollError::TooManyCells(e),
            SheetError::DecompressionBomb { detail } => PayrollError::DecompressionBomb { detail },
            SheetError::PasswordProtected => PayrollError::PasswordProtected,
            SheetError::Corrupt { format, detail } => PayrollError::Corrupt { format, detail },
            SheetError::UnsupportedFormat(f) => PayrollError::UnsupportedFormat(f),
        }
    }
}

impl PayrollError {
    pub fn cell(at: CellRef, problem: CellProblem) -> PayrollError {
        PayrollError::Cell { at, problem }
    }
}
