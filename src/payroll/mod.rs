//! Payroll recap import (récapitulatif de paie, SPEC.md §5): reads `.xlsx`, `.xls`, `.ods`, Excel 2003
//! XML (`.xml`) and `.csv`
//! exports of payroll software and returns, per employee and year, the rubriques, the total gross and the
//! total employer charges that justify an internal cost line.
//!
//! The module is an adapter: it reads files (calamine, csv) and returns plain, serialisable values. It
//! knows nothing of the event store; the caller turns a [`PayrollImport`] into events.
//!
//! Layouts understood (see `fixtures/payroll/` for one file of each):
//! - the recap "block" as exported by payroll software (seed 003): title lines (period, matricule,
//!   establishment), a header row (RUBRIQUES, NB SALARIE, REMUNERATION, BASE, TX SAL., SALARIAL, TX PAT.,
//!   PATRONAL), the gross rubriques ending at a "Total … Brut" row, the contributions ending at a
//!   "Total Retenus"/"Total cotisations" row, then informational rows. Several blocks per sheet
//!   (one per employee) and one sheet per employee are both read ([`block`]);
//! - the "livre de paie" matrix: one row per employee, one column per rubrique ([`livre`]).
//!
//! The "Total" rows are authoritative; the sums of the rubriques are checked against them and every
//! difference is kept as a warning with both figures ([`model::PayrollWarning`]).

pub mod anonymisation;
pub mod bench;
pub mod block;
pub mod cells;
pub mod error;
pub mod header;
pub mod livre;
pub mod meta;
pub mod model;
pub mod recap;
pub mod rules;
pub mod text;

/// The shared workbook limits and bomb guard ([`crate::sheet::limits`]), under their payroll name.
pub use crate::sheet::limits;
/// Numbers as payroll exports write them ([`crate::sheet::number`]).
pub use crate::sheet::number;

/// Sheets and cells as the payroll parsers read them ([`crate::sheet`]).
pub mod reader {
    pub use crate::sheet::cells::{cell_text, is_empty};
    pub use crate::sheet::workbook::{decode_text, detect_delimiter, Sheet};
}

use crate::sheet::{Format, Workbook};
use sha2::{Digest, Sha256};

/// The formats a payroll recap may come in.
pub const ACCEPTED: [Format; 5] = [
    Format::Xlsx,
    Format::Xls,
    Format::Ods,
    Format::SpreadsheetMl,
    Format::Csv,
];
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use crate::sheet::Limits;
pub use anonymisation::{AnonymisationError, AnonymisationKey};
pub use error::{CellProblem, CellRef, PayrollError};
pub use model::{
    FullYearProposal, PayrollImport, PayrollRecap, PayrollWarning, Rubrique, RubriqueKind,
};
pub use rules::{RubriqueRule, RubriqueRules, RuleEffect};

/// Reads a payroll recap file from disk. The file size is checked before it is read.
pub fn import_file(
    path: &Path,
    rules: &RubriqueRules,
    limits: &Limits,
) -> Result<PayrollImport, PayrollError> {
    let size_bytes = std::fs::metadata(path)
        .map_err(|source| PayrollError::Io {
            path: path.display().to_string(),
            source,
        })?
        .len();
    limits.check_file_size(size_bytes)?;
    let bytes = std::fs::read(path).map_err(|source| PayrollError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    import_bytes(&file_name, &bytes, rules, limits)
}

/// Reads a payroll recap from memory (an upload). All or nothing: any error returns no recap at all.
pub fn import_bytes(
    file_name: &str,
    bytes: &[u8],
    rules: &RubriqueRules,
    limits: &Limits,
) -> Result<PayrollImport, PayrollError> {
    import_bytes_counting(file_name, bytes, rules, limits, &AtomicUsize::new(0))
}

/// As [`import_bytes`], adding to `employees` the recaps read, sheet by sheet (a progress line).
pub fn import_bytes_counting(
    file_name: &str,
    bytes: &[u8],
    rules: &RubriqueRules,
    limits: &Limits,
    employees: &AtomicUsize,
) -> Result<PayrollImport, PayrollError> {
    limits.check_file_size(bytes.len() as u64)?;
    let source_sha256 = hex::encode(Sha256::digest(bytes));
    let mut workbook = Workbook::open(file_name, bytes, limits, &ACCEPTED)?;
    let sheet_count = workbook.sheet_names().len();
    let mut recaps = Vec::new();
    let mut warnings = Vec::new();
    let mut sheets_with_table = 0usize;
    for index in 0..sheet_count {
        // One sheet's cells at a time: read, parsed, dropped.
        let sheet = workbook.read_sheet(index)?;
        let sheet = &sheet;
        let parsed = match header::find_first_header(sheet) {
            Some(header::FoundHeader::Livre(_)) => {
                let (recaps, sheet_warnings) = livre::parse_sheet(sheet, rules)?;
                warnings.extend(sheet_warnings);
                recaps
            }
            Some(header::FoundHeader::Recap(_)) => block::parse_sheet(sheet, rules)?,
            None => {
                if sheet_count > 1 && !sheet.is_blank() {
                    warnings.push(PayrollWarning::new(
                        "FEUILLE_IGNOREE",
                        format!(
                            "La feuille « {} » ne contient pas de tableau de paie reconnu : ignorée.",
                            sheet.name
                        ),
                        [("feuille", sheet.name.clone())],
                    ));
                }
                continue;
            }
        };
        sheets_with_table += 1;
        employees.fetch_add(parsed.len(), Ordering::Relaxed);
        recaps.extend(parsed);
    }
    if sheets_with_table == 0 {
        return Err(PayrollError::NoTable {
            file_name: file_name.to_string(),
        });
    }
    // One recap per employee per year (SPEC.md §5).
    let mut seen: HashMap<(String, i32), String> = HashMap::new();
    for recap in &recaps {
        let key = (recap.matricule.as_str().to_string(), recap.year);
        if let Some(first) = seen.get(&key) {
            return Err(PayrollError::DuplicateRecap {
                matricule: recap.matricule.as_str().to_string(),
                year: recap.year,
                first: first.clone(),
                second: recap.source.clone(),
            });
        }
        seen.insert(key, recap.source.clone());
    }
    Ok(PayrollImport {
        source_sha256,
        file_name: file_name.to_string(),
        format: workbook.format().name().to_string(),
        recaps,
        warnings,
    })
}
