//! Candidate base import (SPEC.md §3) from CSV or XLSX.
//!
//! One row per establishment, these columns (any order, header names exact):
//!
//! | column | content |
//! |---|---|
//! | `candidate_finess` | FINESS juridique of the candidate (Luhn checked); blank = same candidate as the row above |
//! | `candidate_name` | candidate name |
//! | `kind` | `ej_public`, `es_prive`, `ght`, `centre_dialyse` (or `EJ public`, `ES privé`, `GHT`, `Centre de dialyse`) |
//! | `ceiling_d1bis`, `ceiling_d2` | montant plafond in euros (`180 000,00`); blank = not a candidate in that domain |
//! | `phase_start_d1bis`, `phase_start_d2` | start of the operational phase (`2026-03-02` or `02/03/2026`), optional |
//! | `establishment_finess` | FINESS of the establishment (EJ or EG) |
//! | `establishment_name` | its name |
//! | `level` | `EJ` or `EG` |
//! | `parent_finess` | for an EG, the FINESS of its EJ |
//! | `support` | `oui`/`non` (also `true`/`false`, `1`/`0`, blank = non): the GHT's support establishment |
//! | `share` | share of the combined activity in %, blank = 0 |
//!
//! The candidate columns are filled on a candidate's first row; on its following rows they are either blank
//! or identical (a different value is an error). CSV: `;` or `,` separator (taken from the header line),
//! UTF-8, lines starting with `#` are comments. XLSX: the first worksheet, same header row.
//! Errors name the file, the line and the column: `candidates.csv ligne 4, colonne share : ...`.

use crate::domain::candidate::{
    Candidate, CandidateDomain, CandidateError, CandidateKind, Establishment, Level,
};
use crate::domain::ids::{DomainId, Finess};
use crate::domain::money::{parse_decimal_plain, Money, Percent};
use crate::domain::statement::parse_date;
use std::collections::BTreeMap;

/// Upper bound on rows read from one file (TIGER_STYLE: a limit on everything).
pub const MAX_CANDIDATE_ROWS: usize = 100_000;

pub const COLUMNS: [&str; 13] = [
    "candidate_finess",
    "candidate_name",
    "kind",
    "ceiling_d1bis",
    "phase_start_d1bis",
    "ceiling_d2",
    "phase_start_d2",
    "establishment_finess",
    "establishment_name",
    "level",
    "parent_finess",
    "support",
    "share",
];

const CANDIDATE_COLUMNS: [&str; 7] = [
    "candidate_finess",
    "candidate_name",
    "kind",
    "ceiling_d1bis",
    "phase_start_d1bis",
    "ceiling_d2",
    "phase_start_d2",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{file} ligne {line}, colonne {column} : {message}")]
    Cell {
        file: String,
        line: usize,
        column: String,
        message: String,
    },
    #[error("{file} : colonne {column} absente de l'en-tête")]
    MissingColumn { file: String, column: String },
    #[error("{file} : {message}")]
    File { file: String, message: String },
}

/// One data row: its line number in the file and its cells by column name.
struct Row {
    line: usize,
    cells: BTreeMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
}

/// Reads a candidate base from CSV text.
pub fn read_candidates_csv(file: &str, text: &str) -> Result<Vec<Candidate>, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_line = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .ok_or_else(|| ImportError::File {
            file: file.to_string(),
            message: "fichier vide".into(),
        })?;
    let delimiter = if header_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .comment(Some(b'#'))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let file_err = |message: String| ImportError::File {
        file: file.to_string(),
        message,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_err(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let index = column_index(file, &headers)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_err(e.to_string()))?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() >= MAX_CANDIDATE_ROWS {
            return Err(file_err(format!("plus de {MAX_CANDIDATE_ROWS} lignes")));
        }
        let cells = index
            .iter()
            .map(|(name, i)| (*name, record.get(*i).unwrap_or("").to_string()))
            .collect();
        rows.push(Row { line, cells });
    }
    build_candidates(file, rows)
}

/// Reads a candidate base from the bytes of an XLSX workbook (first worksheet), through the bounded
/// workbook reader ([`crate::sheet`]: bomb guard, the sheet's extent checked before it is read, the
/// shared cell rules).
pub fn read_candidates_xlsx(file: &str, bytes: &[u8]) -> Result<Vec<Candidate>, ImportError> {
    use crate::sheet::{cells, Format, Limits, Workbook};
    use calamine::Data;
    let file_err = |message: String| ImportError::File {
        file: file.to_string(),
        message,
    };
    let unreadable = |e: crate::sheet::SheetError| file_err(format!("classeur illisible : {e}"));
    let mut workbook =
        Workbook::open(file, bytes, &Limits::candidates(), &[Format::Xlsx]).map_err(unreadable)?;
    if workbook.sheet_names().is_empty() {
        return Err(file_err("aucune feuille".into()));
    }
    let sheet = workbook.read_sheet(0).map_err(unreadable)?;
    let range = &sheet.range;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut header: Option<BTreeMap<&'static str, usize>> = None;
    let mut rows = Vec::new();
    for (i, cells_of_row) in range.rows().enumerate() {
        let line = first_row + i + 1;
        let texts: Vec<String> = std::iter::repeat_n(String::new(), first_col)
            .chain(cells_of_row.iter().map(|c| {
                match c {
                    Data::Bool(b) => if *b { "oui" } else { "non" }.to_string(),
                    // A date cell as the CSV writes it; one converter for every reader.
                    Data::DateTime(_) => cells::date_with(c, |_| None)
                        .ok()
                        .flatten()
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    Data::DateTimeIso(s) => s.chars().take(10).collect(),
                    Data::Error(e) => format!("#ERREUR {e}"),
                    // Text trimmed later; a number as the shared float rule reads it.
                    Data::String(s) => s.clone(),
                    other => cells::cell_text(other)
                        .map(|t| t.into_owned())
                        .unwrap_or_default(),
                }
            }))
            .collect();
        if texts.iter().all(|t| t.trim().is_empty())
            || texts
                .first()
                .is_some_and(|t| t.trim_start().starts_with('#'))
        {
            continue;
        }
        match &header {
            None => {
                let names: Vec<String> = texts.iter().map(|t| t.trim().to_string()).collect();
                header = Some(column_index(file, &names)?);
            }
            Some(index) => {
                if rows.len() >= MAX_CANDIDATE_ROWS {
                    return Err(file_err(format!("plus de {MAX_CANDIDATE_ROWS} lignes")));
                }
                let cells = index
                    .iter()
                    .map(|(name, i)| (*name, texts.get(*i).cloned().unwrap_or_default()))
                    .collect();
                rows.push(Row { line, cells });
            }
        }
    }
    if header.is_none() {
        return Err(file_err("fichier vide".into()));
    }
    build_candidates(file, rows)
}

fn column_index(
    file: &str,
    headers: &[String],
) -> Result<BTreeMap<&'static str, usize>, ImportError> {
    let mut index = BTreeMap::new();
    for column in COLUMNS {
        match headers.iter().position(|h| h == column) {
            Some(i) => {
                index.insert(column, i);
            }
            None => {
                return Err(ImportError::MissingColumn {
                    file: file.to_string(),
                    column: column.to_string(),
                })
            }
        }
    }
    Ok(index)
}

struct Group {
    first: Row,
    rows: Vec<Row>,
}

fn build_candidates(file: &str, rows: Vec<Row>) -> Result<Vec<Candidate>, ImportError> {
    let cell = |line: usize, column: &str, message: String| ImportError::Cell {
        file: file.to_string(),
        line,
        column: column.to_string(),
        message,
    };
    // Group rows by candidate: a blank candidate_finess continues the previous candidate.
    let mut groups: Vec<Group> = Vec::new();
    for row in rows {
        let key = row.get("candidate_finess").to_string();
        let continues = match groups.last() {
            Some(g) => key.is_empty() || key == g.first.get("candidate_finess"),
            None => false,
        };
        if continues {
            let group = groups.last_mut().expect("checked above");
            for column in CANDIDATE_COLUMNS {
                let value = row.get(column);
                if !value.is_empty() && value != group.first.get(column) {
                    return Err(cell(
                        row.line,
                        column,
                        format!(
                            "« {value} » diffère de la première ligne du candidat (ligne {}: « {} »)",
                            group.first.line,
                            group.first.get(column)
                        ),
                    ));
                }
            }
            group.rows.push(row);
        } else {
            if key.is_empty() {
                return Err(cell(
                    row.line,
                    "candidate_finess",
                    "vide sur la première ligne d'un candidat".into(),
                ));
            }
            if let Some(previous) = groups
                .iter()
                .find(|g| g.first.get("candidate_finess") == key)
            {
                return Err(cell(
                    row.line,
                    "candidate_finess",
                    format!(
                        "candidat {key} déjà décrit plus haut (ligne {}) : ses lignes doivent se suivre",
                        previous.first.line
                    ),
                ));
            }
            groups.push(Group {
                first: Row {
                    line: row.line,
                    cells: row.cells.clone(),
                },
                rows: vec![row],
            });
        }
    }
    groups.iter().map(|g| build_one(file, g)).collect()
}

fn build_one(file: &str, group: &Group) -> Result<Candidate, ImportError> {
    let cell = |line: usize, column: &str, message: String| ImportError::Cell {
        file: file.to_string(),
        line,
        column: column.to_string(),
        message,
    };
    let first = &group.first;
    let line = first.line;
    let finess = Finess::parse(first.get("candidate_finess"))
        .map_err(|e| cell(line, "candidate_finess", e.to_string()))?;
    let name = first.get("candidate_name").to_string();
    if name.is_empty() {
        return Err(cell(line, "candidate_name", "nom du candidat vide".into()));
    }
    let kind_text = first.get("kind");
    let kind = CandidateKind::parse(kind_text).ok_or_else(|| {
        cell(
            line,
            "kind",
            format!(
                "type « {kind_text} » inconnu (attendu ej_public, es_prive, ght ou centre_dialyse)"
            ),
        )
    })?;
    let mut domains = BTreeMap::new();
    for (domain, ceiling_col, phase_col) in [
        (DomainId::D1bis, "ceiling_d1bis", "phase_start_d1bis"),
        (DomainId::D2, "ceiling_d2", "phase_start_d2"),
    ] {
        let ceiling_text = first.get(ceiling_col);
        let phase_text = first.get(phase_col);
        if ceiling_text.is_empty() {
            if !phase_text.is_empty() {
                return Err(cell(
                    line,
                    ceiling_col,
                    "plafond vide alors que la phase opérationnelle est renseignée".into(),
                ));
            }
            continue;
        }
        let ceiling = Money::parse_amount(ceiling_text)
            .map_err(|e| cell(line, ceiling_col, e.to_string()))?;
        let phase_start =
            if phase_text.is_empty() {
                None
            } else {
                Some(parse_date(phase_text).ok_or_else(|| {
                    cell(line, phase_col, format!("date « {phase_text} » illisible"))
                })?)
            };
        domains.insert(
            domain,
            CandidateDomain {
                ceiling,
                phase_start,
            },
        );
    }
    let mut establishments = Vec::new();
    for row in &group.rows {
        let l = row.line;
        let finess = Finess::parse(row.get("establishment_finess"))
            .map_err(|e| cell(l, "establishment_finess", e.to_string()))?;
        let level_text = row.get("level");
        let level = Level::parse(level_text).ok_or_else(|| {
            cell(
                l,
                "level",
                format!("niveau « {level_text} » inconnu (EJ ou EG)"),
            )
        })?;
        let parent_text = row.get("parent_finess");
        let parent = if parent_text.is_empty() {
            None
        } else {
            Some(Finess::parse(parent_text).map_err(|e| cell(l, "parent_finess", e.to_string()))?)
        };
        let support_text = row.get("support");
        let support = match support_text.to_lowercase().as_str() {
            "" | "non" | "false" | "0" | "n" => false,
            "oui" | "true" | "1" | "o" | "x" => true,
            other => {
                return Err(cell(
                    l,
                    "support",
                    format!("« {other} » : oui ou non attendu"),
                ))
            }
        };
        let share_text = row.get("share").trim_end_matches('%').trim();
        let share = if share_text.is_empty() {
            Percent::ZERO
        } else {
            let value =
                parse_decimal_plain(share_text).map_err(|e| cell(l, "share", e.to_string()))?;
            if value < rust_decimal::Decimal::ZERO || value > rust_decimal::Decimal::ONE_HUNDRED {
                return Err(cell(
                    l,
                    "share",
                    format!("part {share_text} hors de [0, 100]"),
                ));
            }
            Percent::new(value.normalize())
        };
        establishments.push(Establishment {
            finess,
            name: row.get("establishment_name").to_string(),
            level,
            parent,
            support,
            activity_share: share,
        });
    }
    Candidate::new(finess, name, kind, establishments, domains).map_err(|e| {
        let (column, at) = locate(&e, group);
        cell(at, column, e.to_string())
    })
}

/// The column and line a candidate validation error points at.
fn locate(error: &CandidateError, group: &Group) -> (&'static str, usize) {
    let line_of = |f: &Finess| {
        group
            .rows
            .iter()
            .find(|r| r.get("establishment_finess") == f.as_str())
            .map(|r| r.line)
            .unwrap_or(group.first.line)
    };
    let first = group.first.line;
    match error {
        CandidateError::Empty { field, .. } if *field == "name" => ("candidate_name", first),
        CandidateError::Empty { .. } => ("establishment_name", first),
        CandidateError::NoEstablishment { .. } | CandidateError::TooManyEstablishments { .. } => {
            ("establishment_finess", first)
        }
        CandidateError::DuplicateEstablishment { establishment, .. } => {
            ("establishment_finess", line_of(establishment))
        }
        CandidateError::ShareOutOfRange { establishment, .. } => ("share", line_of(establishment)),
        CandidateError::SharesNotHundred { .. } => ("share", first),
        CandidateError::SupportCount { .. } => ("support", first),
        CandidateError::SupportOutsideGht { establishment, .. }
        | CandidateError::SupportNotEj { establishment, .. } => ("support", line_of(establishment)),
        CandidateError::EjCount { .. } => ("level", first),
        CandidateError::CandidateFiness { .. } => ("candidate_finess", first),
        CandidateError::MissingParent { establishment, .. }
        | CandidateError::EjWithParent { establishment, .. } => {
            ("parent_finess", line_of(establishment))
        }
        CandidateError::NoDomain { .. } => ("ceiling_d1bis", first),
    }
}
