//! Errors of the workbook readers, in French (what users read), and where a cell is.

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
        format!("{}{}", column_letters(self.col), u64::from(self.row) + 1)
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
                u64::from(self.col) + 1,
                column_letters(self.col)
            ),
            None => write!(f, "{}!{}", quoted_sheet(&self.sheet), self.a1()),
        }
    }
}

/// A sheet name as a formula writes it: bare when it is letters, digits and `_`, else quoted.
pub fn quoted_sheet(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`.
pub fn column_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// Why a file could not be read as a workbook. Every message names the sheet or the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
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
    #[error(
        "feuille « {sheet} » : {cells} cellules (de sa première à sa dernière cellule remplie, \
         {rows} lignes × {columns} colonnes), au-delà du maximum de {max_cells} ; \
         effacez les cellules éloignées du tableau ou scindez le fichier"
    )]
    TooManyCells {
        sheet: String,
        rows: u64,
        columns: u64,
        cells: u64,
        max_cells: u64,
    },
    #[error("archive refusée, possible bombe de décompression : {detail}")]
    DecompressionBomb { detail: String },
    #[error("fichier protégé par mot de passe : enregistrez-le sans mot de passe avant l'import")]
    PasswordProtected,
    #[error("fichier {format} illisible ou corrompu : {detail}")]
    Corrupt { format: String, detail: String },
    #[error("format non pris en charge : {0}")]
    UnsupportedFormat(String),
}

impl SheetError {
    pub fn corrupt(format: &str, detail: impl fmt::Display) -> SheetError {
        SheetError::Corrupt {
            format: format.to_string(),
            detail: detail.to_string(),
        }
    }

    /// A file a library could not read: the library's (English) reason goes to the log, the user reads
    /// where (`place`, e.g. a sheet) and a French reason.
    pub fn damaged(format: &str, place: Option<&str>, reason: impl fmt::Display) -> SheetError {
        tracing::debug!(format, place, reason = %reason, "unreadable file");
        let place = place.map(|p| format!("{p} : ")).unwrap_or_default();
        SheetError::Corrupt {
            format: format.to_string(),
            detail: format!(
                "{place}structure endommagée (fichier tronqué, modifié hors du tableur ou d'un autre format)"
            ),
        }
    }

    /// The sheet the error is about, when it is about one.
    pub fn sheet(&self) -> Option<&str> {
        match self {
            SheetError::TooManyRows { sheet, .. }
            | SheetError::TooManyColumns { sheet, .. }
            | SheetError::TooManyCells { sheet, .. } => Some(sheet),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_like_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(1999), "BXX");
        assert_eq!(column_letters(16_383), "XFD");
        assert_eq!(column_letters(u32::MAX), "MWLQKWV");
    }

    #[test]
    fn a_cell_reference_quotes_a_sheet_name_with_spaces() {
        let at = CellRef {
            sheet: "Coûts externes".into(),
            row: 11,
            col: 7,
            csv_line: None,
        };
        assert_eq!(at.to_string(), "'Coûts externes'!H12");
        let at = CellRef {
            sheet: "Feuil1".into(),
            row: u32::MAX,
            col: 0,
            csv_line: None,
        };
        assert_eq!(at.to_string(), "Feuil1!A4294967296");
    }
}
