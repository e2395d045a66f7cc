//! Provable workbooks (issue 16 §3). An exported workbook carries, in its custom properties, what it
//! was made from (candidate, domain, viewer, as-of instant, the global position it was read at, the
//! statement's last event and its hash, the generation instant, the layout version) and an Ed25519
//! signature binding those properties to what its cells show.
//!
//! What the signature covers ([`content_digest`]): every non-empty cell of every sheet, in order —
//! text, numbers (dates as their serial number) and formulas (their text). Cached formula results are
//! left out on purpose: a spreadsheet that recalculates on opening rewrites them (with its own
//! floating-point rounding), and they follow from the formulas and the inputs, which are covered; an
//! edited cached result is still caught by [`compare`], which checks it against the regenerated
//! workbook to the cent. So an auditor holding only the public key checks that nothing was changed,
//! and `verify-export` also says whether the figures are the ledger's.
//!
//! Reading an uploaded workbook is bounded ([`read_workbook`]): its size, every part's uncompressed
//! size and every cell's address are checked on the raw XML before calamine reads a cell.

use super::layout;
use super::plan::{a1, Value, WorkbookPlan};
use crate::signing::{PublicKey, Signer};
use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Cursor, Read};

/// The first line of the signed text: the format of the seal.
pub const SEAL_FORMAT: &str = "care-ledger-classeur/v1";
/// Bounds of a workbook `verify-export` reads (the template's sheets are far smaller; users may add
/// rows).
pub const MAX_ROWS: u32 = 20_000;
pub const MAX_COLS: u32 = 40;
pub const MAX_SHEETS: usize = 32;
/// Parts of the `.xlsx` (a zip): how many, and their uncompressed sizes.
pub const MAX_PARTS: usize = 500;
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
const MAX_PROPERTIES_BYTES: u64 = 1024 * 1024;
/// Differences listed at most (a workbook that differs more is not the ledger's anyway).
pub const MAX_DIFFERENCES: usize = 2_000;
/// How far the row alignment looks for a removed or added row.
const ALIGN_WINDOW: usize = 400;

/// The properties the signature binds, in the order of the signed text.
pub const SEALED_PROPERTIES: [&str; 10] = [
    layout::PROPERTY_LAYOUT_VERSION,
    layout::PROPERTY_FINESS,
    layout::PROPERTY_DOMAIN,
    layout::PROPERTY_VIEWER,
    layout::PROPERTY_AS_OF,
    layout::PROPERTY_READ_POSITION,
    layout::PROPERTY_POSITION,
    layout::PROPERTY_HEAD_HASH,
    layout::PROPERTY_GENERATED_AT,
    layout::PROPERTY_KEY_ID,
];

/// What a cell shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Shown {
    Text(String),
    Number(f64),
    /// A date, as its serial number (signed and compared as the number it is).
    Date(f64),
    Formula {
        formula: String,
        cached: Cached,
    },
}

/// The cached result of a formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Cached {
    Number(f64),
    Text(String),
    None,
}

/// The non-empty cells of one sheet by (row, column), 0-based.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SheetCells {
    pub name: String,
    pub cells: BTreeMap<(u32, u32), Shown>,
}

/// A formula as compared: without a leading `=`, the `_xlfn.` prefixes writers add, nor the quotes
/// around a sheet name that needs none (`'Recettes'!$D$5` and `Recettes!$D$5` are one reference;
/// spreadsheets drop or keep them as they like when they save).
fn normalise_formula(formula: &str) -> String {
    let formula = formula.trim().trim_start_matches('=').replace("_xlfn.", "");
    let mut out = String::with_capacity(formula.len());
    let mut rest = formula.as_str();
    while let Some(open) = rest.find(['\'', '"']) {
        out.push_str(&rest[..open]);
        let quote = &rest[open..open + 1];
        let after = &rest[open + 1..];
        let close = after.find(quote);
        let plain = close.filter(|close| {
            let name = &after[..*close];
            quote == "'"
                && !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && after[close + 1..].starts_with('!')
        });
        match (plain, close) {
            (Some(close), _) => {
                out.push_str(&after[..close]);
                rest = &after[close + 1..];
            }
            // A string, or a sheet name that needs its quotes: kept as written.
            (None, Some(close)) => {
                out.push_str(quote);
                out.push_str(&after[..=close]);
                rest = &after[close + 1..];
            }
            (None, None) => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn cached_of_result(result: &str) -> Cached {
    if result.is_empty() {
        Cached::None
    } else if let Ok(n) = result.parse::<f64>() {
        Cached::Number(n)
    } else {
        Cached::Text(result.to_string())
    }
}

/// The serial number a spreadsheet stores for a date (days since 30/12/1899).
fn date_serial(date: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    (date - epoch).num_days() as f64
}

/// What the cells of a plan show, as the file written from it reads back.
pub fn cells_of_plan(plan: &WorkbookPlan) -> Vec<SheetCells> {
    plan.sheets
        .iter()
        .map(|sheet| {
            let mut cells = BTreeMap::new();
            for c in &sheet.cells {
                let shown = match &c.value {
                    Value::Text(t) if t.is_empty() => continue,
                    Value::Text(t) => Shown::Text(t.clone()),
                    Value::Number(n) => Shown::Number(*n),
                    Value::Date(d) => Shown::Date(date_serial(*d)),
                    Value::Formula { formula, result } => Shown::Formula {
                        formula: normalise_formula(formula),
                        cached: cached_of_result(result),
                    },
                    Value::Blank => {
                        cells.remove(&(c.row, u32::from(c.col)));
                        continue;
                    }
                };
                cells.insert((c.row, u32::from(c.col)), shown);
            }
            SheetCells {
                name: sheet.name.clone(),
                cells,
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

/// SHA-256 (hex) of the canonical text of every sheet's cells: text, numbers and formulas, not the
/// cached results (see the module's documentation).
pub fn content_digest(sheets: &[SheetCells]) -> String {
    let mut hasher = Sha256::new();
    for sheet in sheets {
        hasher.update(format!("sheet\t{}\n", escape(&sheet.name)).as_bytes());
        for ((row, col), shown) in &sheet.cells {
            let at = cell_ref(*row, *col);
            let line = match shown {
                Shown::Text(t) => format!("{at}\ts\t{}\n", escape(t)),
                Shown::Number(n) | Shown::Date(n) => format!("{at}\tn\t{n:?}\n"),
                Shown::Formula { formula, .. } => format!("{at}\tf\t{}\n", escape(formula)),
            };
            hasher.update(line.as_bytes());
        }
    }
    hex::encode(hasher.finalize())
}

/// The text the Ed25519 signature is made over: the format, the bound properties, the content digest.
pub fn seal_text(properties: &BTreeMap<String, String>, content_digest: &str) -> String {
    let mut text = format!("{SEAL_FORMAT}\n");
    for name in SEALED_PROPERTIES {
        let value = properties.get(name).map(String::as_str).unwrap_or("");
        let _ = writeln!(text, "{name}\t{}", escape(value));
    }
    let _ = writeln!(text, "contenu\t{content_digest}");
    text
}

/// Signs a plan: adds the key id and the signature over its properties and its cells.
pub fn seal_plan(plan: &mut WorkbookPlan, signer: &Signer) {
    plan.properties
        .custom
        .retain(|(name, _)| name != layout::PROPERTY_KEY_ID && name != layout::PROPERTY_SIGNATURE);
    plan.properties.custom.push((
        layout::PROPERTY_KEY_ID.to_string(),
        signer.public().key_id(),
    ));
    let properties: BTreeMap<String, String> = plan.properties.custom.iter().cloned().collect();
    let digest = content_digest(&cells_of_plan(plan));
    let signature = signer.sign(seal_text(&properties, &digest).as_bytes());
    plan.properties
        .custom
        .push((layout::PROPERTY_SIGNATURE.to_string(), signature));
}

/// The outcome of checking a workbook's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// Made by the key, over these properties and these cells.
    Valid { key_id: String },
    /// The properties or the cells changed since it was signed, or the signature is forged.
    Invalid { key_id: String },
    /// Signed by a key none of the trusted public keys is.
    UnknownKey { key_id: String },
    /// The workbook carries no signature.
    Absent,
}

impl SignatureCheck {
    pub fn is_valid(&self) -> bool {
        matches!(self, SignatureCheck::Valid { .. })
    }

    pub fn text_fr(&self) -> String {
        match self {
            SignatureCheck::Valid { key_id } => format!("signature valide (clé {key_id})"),
            SignatureCheck::Invalid { key_id } => format!(
                "signature INVALIDE (clé {key_id}) : le classeur a été modifié depuis sa signature, \
                 ou la signature est contrefaite"
            ),
            SignatureCheck::UnknownKey { key_id } => format!(
                "signature faite par la clé {key_id}, qui n'est pas une clé publique de confiance : \
                 non vérifiable"
            ),
            SignatureCheck::Absent => "classeur non signé".to_string(),
        }
    }
}

/// A workbook as read back: its custom properties and what its cells show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadWorkbook {
    pub properties: BTreeMap<String, String>,
    pub sheets: Vec<SheetCells>,
}

impl ReadWorkbook {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// Checks the signature with the trusted public keys.
    pub fn check_signature(&self, keys: &[PublicKey]) -> SignatureCheck {
        let Some(signature) = self.property(layout::PROPERTY_SIGNATURE) else {
            return SignatureCheck::Absent;
        };
        let key_id = self
            .property(layout::PROPERTY_KEY_ID)
            .unwrap_or_default()
            .to_string();
        let Some(key) = keys.iter().find(|k| k.key_id() == key_id) else {
            return SignatureCheck::UnknownKey { key_id };
        };
        let text = seal_text(&self.properties, &content_digest(&self.sheets));
        if key.verify(text.as_bytes(), signature) {
            SignatureCheck::Valid { key_id }
        } else {
            SignatureCheck::Invalid { key_id }
        }
    }
}

/// Why an uploaded workbook cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("fichier trop volumineux ({bytes} octets, au plus {limit})")]
    TooLarge { bytes: usize, limit: usize },
    #[error("ce n'est pas un classeur .xlsx lisible ({0})")]
    NotXlsx(String),
    #[error(
        "partie {part} du classeur trop volumineuse une fois décompressée (au plus {limit} octets)"
    )]
    PartTooLarge { part: String, limit: u64 },
    #[error("classeur trop volumineux une fois décompressé (au plus {MAX_TOTAL_BYTES} octets)")]
    TotalTooLarge,
    #[error("trop de parties ou de feuilles dans le classeur (au plus {MAX_PARTS} parties, {MAX_SHEETS} feuilles)")]
    TooManyParts,
    #[error(
        "{part} : cellule {cell} hors des limites de la trame (au plus {MAX_ROWS} lignes et {MAX_COLS} colonnes)"
    )]
    OutOfBounds { part: String, cell: String },
}

fn not_xlsx(e: impl std::fmt::Display) -> ReadError {
    ReadError::NotXlsx(e.to_string())
}

/// Reads an uploaded workbook within bounds: at most `max_bytes`, every part's size and every cell
/// address checked on the raw XML, then its properties and cells.
pub fn read_workbook(bytes: &[u8], max_bytes: usize) -> Result<ReadWorkbook, ReadError> {
    if bytes.len() > max_bytes {
        return Err(ReadError::TooLarge {
            bytes: bytes.len(),
            limit: max_bytes,
        });
    }
    let properties = check_parts(bytes)?;
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(not_xlsx)?;
    let names = workbook.sheet_names();
    if names.len() > MAX_SHEETS {
        return Err(ReadError::TooManyParts);
    }
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let range = workbook.worksheet_range(&name).map_err(not_xlsx)?;
        let formulas = workbook.worksheet_formula(&name).map_err(not_xlsx)?;
        let mut cells = BTreeMap::new();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for (r, c, data) in range.used_cells() {
            let at = (r0 + r as u32, c0 + c as u32);
            let shown = match data {
                Data::Empty => continue,
                Data::String(s) if s.is_empty() => continue,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                    Shown::Text(s.clone())
                }
                Data::Float(f) => Shown::Number(*f),
                Data::Int(i) => Shown::Number(*i as f64),
                Data::DateTime(d) => Shown::Date(d.as_f64()),
                Data::Bool(b) => Shown::Text(if *b { "VRAI" } else { "FAUX" }.to_string()),
                Data::Error(e) => Shown::Text(format!("#{e:?}")),
            };
            cells.insert(at, shown);
        }
        let (f0, g0) = formulas.start().unwrap_or((0, 0));
        for (r, c, formula) in formulas.used_cells() {
            if formula.trim().is_empty() {
                continue;
            }
            let at = (f0 + r as u32, g0 + c as u32);
            let cached = match cells.remove(&at) {
                Some(Shown::Number(n) | Shown::Date(n)) => Cached::Number(n),
                Some(Shown::Text(t)) => Cached::Text(t),
                _ => Cached::None,
            };
            cells.insert(
                at,
                Shown::Formula {
                    formula: normalise_formula(formula),
                    cached,
                },
            );
        }
        sheets.push(SheetCells { name, cells });
    }
    Ok(ReadWorkbook { properties, sheets })
}

/// Checks every part of the zip (count, real uncompressed size, cell addresses of the worksheets)
/// and returns the custom properties.
fn check_parts(bytes: &[u8]) -> Result<BTreeMap<String, String>, ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    if archive.len() > MAX_PARTS {
        return Err(ReadError::TooManyParts);
    }
    let mut total: u64 = 0;
    let mut properties = BTreeMap::new();
    let mut sheets = 0;
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).map_err(not_xlsx)?;
        let name = part.name().to_string();
        let is_sheet = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        let is_properties = name == "docProps/custom.xml";
        let limit = if is_properties {
            MAX_PROPERTIES_BYTES
        } else {
            MAX_PART_BYTES
        };
        let too_large = || ReadError::PartTooLarge {
            part: name.clone(),
            limit,
        };
        if part.size() > limit {
            return Err(too_large());
        }
        let mut limited = (&mut part).take(limit + 1);
        let read = if is_sheet || is_properties {
            let mut content = Vec::new();
            limited.read_to_end(&mut content).map_err(not_xlsx)?;
            if content.len() as u64 > limit {
                return Err(too_large());
            }
            if is_sheet {
                sheets += 1;
                if sheets > MAX_SHEETS {
                    return Err(ReadError::TooManyParts);
                }
                check_cell_addresses(&name, &content)?;
            } else {
                properties = custom_properties(&content);
            }
            content.len() as u64
        } else {
            let n = std::io::copy(&mut limited, &mut std::io::sink()).map_err(not_xlsx)?;
            if n > limit {
                return Err(too_large());
            }
            n
        };
        total += read;
        if total > MAX_TOTAL_BYTES {
            return Err(ReadError::TotalTooLarge);
        }
    }
    Ok(properties)
}

/// (row, column), 1-based, of an A1 reference; `None` when it is not one.
fn parse_ref(text: &str) -> Option<(u64, u64)> {
    let text = text.trim().trim_start_matches('$');
    let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let col = text[..letters].bytes().fold(0u64, |n, b| {
        n * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let digits = text[letters..].trim_start_matches('$');
    let row: u64 = digits.parse().ok()?;
    Some((row, col))
}

/// The value of attribute `name` in a tag's text (`r="B7"`).
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Every row and cell of a worksheet's XML within [`MAX_ROWS`] × [`MAX_COLS`] (addresses given or
/// implied by position), and its declared dimension too.
fn check_cell_addresses(part: &str, xml: &[u8]) -> Result<(), ReadError> {
    let text = String::from_utf8_lossy(xml);
    let out = |cell: String| ReadError::OutOfBounds {
        part: part.to_string(),
        cell,
    };
    let within = |row: u64, col: u64| row <= u64::from(MAX_ROWS) && col <= u64::from(MAX_COLS);
    let mut row: u64 = 0;
    let mut col: u64 = 0;
    let mut rest: &str = &text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name_len = tag
            .find(|ch: char| ch.is_whitespace() || ch == '/' || ch == '>')
            .unwrap_or(tag.len());
        let name = &tag[..name_len];
        let local = name.rsplit(':').next().unwrap_or(name);
        match local {
            "row" => {
                row = match attribute(tag, "r") {
                    Some(r) => r.trim().parse().map_err(|_| out(r.to_string()))?,
                    None => row + 1,
                };
                col = 0;
                if !within(row, 1) {
                    return Err(out(format!("ligne {row}")));
                }
            }
            "c" => {
                match attribute(tag, "r") {
                    Some(r) => {
                        let (r_row, r_col) = parse_ref(r).ok_or_else(|| out(r.to_string()))?;
                        row = r_row;
                        col = r_col;
                    }
                    None => col += 1,
                }
                if !within(row, col) {
                    return Err(out(format!("ligne {row}, colonne {col}")));
                }
            }
            "dimension" => {
                if let Some(range) = attribute(tag, "ref") {
                    for corner in range.split(':') {
                        let (r, c) = parse_ref(corner).ok_or_else(|| out(range.to_string()))?;
                        if !within(r, c) {
                            return Err(out(range.to_string()));
                        }
                    }
                }
            }
            _ => {}
        }
        rest = &rest[end.min(rest.len())..];
    }
    Ok(())
}

fn unescape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(ch) => {
                out.push(ch);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The custom properties (`docProps/custom.xml`): name → text value. A name given twice keeps its
/// first value.
fn custom_properties(xml: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(xml);
    let mut properties = BTreeMap::new();
    for chunk in text.split("<property").skip(1) {
        let Some(tag_end) = chunk.find('>') else {
            continue;
        };
        let Some(name) = attribute(&format!(" {}", &chunk[..tag_end]), "name").map(unescape_xml)
        else {
            continue;
        };
        let body = &chunk[tag_end + 1..];
        let body = body.split("</property>").next().unwrap_or("");
        // The value element, whatever its type (<vt:lpwstr>, <vt:i4>, …).
        let value = body
            .find('>')
            .and_then(|start| {
                let inner = &body[start + 1..];
                inner.find("</").map(|end| &inner[..end])
            })
            .unwrap_or("");
        properties
            .entry(name)
            .or_insert_with(|| unescape_xml(value));
    }
    properties
}

/// One difference between the workbook uploaded and the one the ledger regenerates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub sheet: String,
    /// The cell of the uploaded file (`H6`), or of the regenerated workbook when the file has none.
    pub cell: Option<String>,
    /// What the ledger's workbook shows there, and what the file shows.
    pub ledger: Option<String>,
    pub file: Option<String>,
    pub message_fr: String,
}

fn cell_ref(row: u32, col: u32) -> String {
    a1(row, u16::try_from(col).unwrap_or(u16::MAX))
}

/// A number as users read it: decimal comma, no exponent.
fn number_fr(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n}").replace('.', ",")
    }
}

/// A date serial number as users read it (`15/03/2026`).
fn date_fr(serial: f64) -> String {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    if !(0.0..=2_958_465.0).contains(&serial) {
        return number_fr(serial);
    }
    epoch
        .checked_add_days(chrono::Days::new(serial.floor() as u64))
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| number_fr(serial))
}

fn shown_fr(shown: &Shown) -> String {
    match shown {
        Shown::Text(t) => format!("« {t} »"),
        Shown::Number(n) => number_fr(*n),
        Shown::Date(n) => date_fr(*n),
        Shown::Formula { formula, cached } => match cached {
            Cached::Number(n) => format!("={formula} (= {})", number_fr(*n)),
            Cached::Text(t) => format!("={formula} (= « {t} »)"),
            Cached::None => format!("={formula}"),
        },
    }
}

fn same_number(a: f64, b: f64) -> bool {
    // Spreadsheets recalculate in binary floating point: a few units in the last place are not an
    // edit; a cent always is.
    (a - b).abs() <= 1e-6 + 1e-12 * a.abs().max(b.abs())
}

/// Rows of a sheet: for each row number up to the last used one, its cells by column.
fn rows_of(sheet: &SheetCells) -> Vec<BTreeMap<u32, &Shown>> {
    let last = sheet.cells.keys().map(|(r, _)| *r).max();
    let mut rows: Vec<BTreeMap<u32, &Shown>> = match last {
        Some(last) => vec![BTreeMap::new(); last as usize + 1],
        None => Vec::new(),
    };
    for ((r, c), shown) in &sheet.cells {
        if let Some(row) = rows.get_mut(*r as usize) {
            row.insert(*c, shown);
        }
    }
    rows
}

/// What a row is aligned on: its values and texts, not its formulas (a removed row shifts every
/// formula below it).
fn row_key(row: &BTreeMap<u32, &Shown>) -> String {
    let mut key = String::new();
    for (col, shown) in row {
        match shown {
            Shown::Text(t) => {
                let _ = write!(key, "{col}s{}\u{1f}", escape(t));
            }
            Shown::Number(n) | Shown::Date(n) => {
                let _ = write!(key, "{col}n{n:?}\u{1f}");
            }
            Shown::Formula { .. } => {}
        }
    }
    key
}

fn row_summary(row: &BTreeMap<u32, &Shown>) -> String {
    let parts: Vec<String> = row
        .values()
        .filter(|s| !matches!(s, Shown::Formula { .. }))
        .take(8)
        .map(|s| shown_fr(s))
        .collect();
    if parts.is_empty() {
        "formules seulement".to_string()
    } else {
        parts.join(", ")
    }
}

struct Differences {
    list: Vec<Difference>,
    more: usize,
}

impl Differences {
    fn push(&mut self, d: Difference) {
        if self.list.len() < MAX_DIFFERENCES {
            self.list.push(d);
        } else {
            self.more += 1;
        }
    }
}

/// Compares two cells of aligned rows. `same_place`: the rows have the same number in both
/// workbooks (formulas then compare by their text too).
fn compare_cells(
    sheet: &str,
    ledger: (u32, &BTreeMap<u32, &Shown>),
    file: (u32, &BTreeMap<u32, &Shown>),
    out: &mut Differences,
) {
    let same_place = ledger.0 == file.0;
    let columns: BTreeSet<u32> = ledger.1.keys().chain(file.1.keys()).copied().collect();
    for col in columns {
        let expected = ledger.1.get(&col).copied();
        let found = file.1.get(&col).copied();
        let differs = match (expected, found) {
            (None, None) => false,
            (Some(_), None) | (None, Some(_)) => true,
            (Some(Shown::Text(a)), Some(Shown::Text(b))) => a != b,
            (Some(Shown::Number(a) | Shown::Date(a)), Some(Shown::Number(b) | Shown::Date(b))) => {
                !same_number(*a, *b)
            }
            (
                Some(Shown::Formula {
                    formula: fa,
                    cached: ca,
                }),
                Some(Shown::Formula {
                    formula: fb,
                    cached: cb,
                }),
            ) => {
                let cached_differs = match (ca, cb) {
                    (Cached::Number(a), Cached::Number(b)) => !same_number(*a, *b),
                    (Cached::Text(a), Cached::Text(b)) => a != b,
                    // A result the file does not carry (never calculated) cannot be compared.
                    (_, Cached::None) => false,
                    _ => true,
                };
                cached_differs || (same_place && fa != fb)
            }
            _ => true,
        };
        if !differs {
            continue;
        }
        let at = cell_ref(file.0, col);
        let place = if same_place {
            format!("{sheet}!{at}")
        } else {
            format!("{sheet}!{at} (ligne {} du registre)", ledger.0 + 1)
        };
        let message_fr = match (expected, found) {
            (Some(e), Some(f)) => format!(
                "{place} : {} dans le fichier, {} au registre",
                shown_fr(f),
                shown_fr(e)
            ),
            (Some(e), None) => format!(
                "{place} : vide dans le fichier, {} au registre",
                shown_fr(e)
            ),
            (None, Some(f)) => format!("{place} : {} ajouté dans le fichier", shown_fr(f)),
            (None, None) => continue,
        };
        out.push(Difference {
            sheet: sheet.to_string(),
            cell: Some(at),
            ledger: expected.map(shown_fr),
            file: found.map(shown_fr),
            message_fr,
        });
    }
}

/// Every cell where the uploaded workbook differs from the one the ledger regenerates, in French.
/// Rows are aligned first, so a removed or an added row is reported once as such (with what it
/// held), not as every cell below it.
pub fn compare(ledger: &[SheetCells], file: &[SheetCells]) -> (Vec<Difference>, usize) {
    let mut out = Differences {
        list: Vec::new(),
        more: 0,
    };
    for expected in ledger {
        let Some(found) = file.iter().find(|s| s.name == expected.name) else {
            out.push(Difference {
                sheet: expected.name.clone(),
                cell: None,
                ledger: None,
                file: None,
                message_fr: format!("feuille « {} » absente du fichier", expected.name),
            });
            continue;
        };
        compare_sheet(
            &expected.name,
            &rows_of(expected),
            &rows_of(found),
            &mut out,
        );
    }
    for found in file {
        if !ledger.iter().any(|s| s.name == found.name) {
            out.push(Difference {
                sheet: found.name.clone(),
                cell: None,
                ledger: None,
                file: None,
                message_fr: format!(
                    "feuille « {} » ajoutée dans le fichier (absente du registre)",
                    found.name
                ),
            });
        }
    }
    (out.list, out.more)
}

fn compare_sheet(
    sheet: &str,
    ledger: &[BTreeMap<u32, &Shown>],
    file: &[BTreeMap<u32, &Shown>],
    out: &mut Differences,
) {
    let ledger_keys: Vec<String> = ledger.iter().map(row_key).collect();
    let file_keys: Vec<String> = file.iter().map(row_key).collect();
    let removed = |i: usize, out: &mut Differences| {
        if !ledger[i].is_empty() {
            out.push(Difference {
                sheet: sheet.to_string(),
                cell: Some(format!("ligne {}", i + 1)),
                ledger: Some(row_summary(&ledger[i])),
                file: None,
                message_fr: format!(
                    "{sheet} : ligne {} du registre absente du fichier ({})",
                    i + 1,
                    row_summary(&ledger[i])
                ),
            });
        }
    };
    let added = |j: usize, out: &mut Differences| {
        if !file[j].is_empty() {
            out.push(Difference {
                sheet: sheet.to_string(),
                cell: Some(format!("ligne {}", j + 1)),
                ledger: None,
                file: Some(row_summary(&file[j])),
                message_fr: format!(
                    "{sheet} : ligne {} ajoutée dans le fichier, absente du registre ({})",
                    j + 1,
                    row_summary(&file[j])
                ),
            });
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < ledger.len() && j < file.len() {
        if ledger_keys[i] == file_keys[j] {
            compare_cells(sheet, (i as u32, &ledger[i]), (j as u32, &file[j]), out);
            i += 1;
            j += 1;
            continue;
        }
        let skip_ledger = (1..ALIGN_WINDOW)
            .take_while(|d| i + d < ledger.len())
            .find(|d| ledger_keys[i + d] == file_keys[j]);
        let skip_file = (1..ALIGN_WINDOW)
            .take_while(|d| j + d < file.len())
            .find(|d| file_keys[j + d] == ledger_keys[i]);
        match (skip_ledger, skip_file) {
            (Some(d), other) if other.is_none_or(|o| d <= o) => {
                for k in i..i + d {
                    removed(k, out);
                }
                i += d;
            }
            (_, Some(d)) => {
                for k in j..j + d {
                    added(k, out);
                }
                j += d;
            }
            _ => {
                // The same row, changed.
                compare_cells(sheet, (i as u32, &ledger[i]), (j as u32, &file[j]), out);
                i += 1;
                j += 1;
            }
        }
    }
    for k in i..ledger.len() {
        removed(k, out);
    }
    for k in j..file.len() {
        added(k, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_compare_without_the_quotes_a_sheet_name_does_not_need() {
        assert_eq!(normalise_formula("='Recettes'!$D$5"), "Recettes!$D$5");
        assert_eq!(
            normalise_formula("MIN(1,SUM('Revue'!$D$15:$D$21))"),
            "MIN(1,SUM(Revue!$D$15:$D$21))"
        );
        assert_eq!(normalise_formula("'Synthèse'!A1"), "Synthèse!A1");
        assert_eq!(
            normalise_formula("SUM('Coûts externes'!H5:H7)+'Autres coûts'!E9"),
            "SUM('Coûts externes'!H5:H7)+'Autres coûts'!E9"
        );
        assert_eq!(
            normalise_formula("_xlfn.CONCAT(\"a'b\",'X'!A1,\"'Y'!\")"),
            "CONCAT(\"a'b\",X!A1,\"'Y'!\")"
        );
        assert_eq!(normalise_formula("'unclosed"), "'unclosed");
    }

    #[test]
    fn references_parse_and_entities_decode() {
        assert_eq!(parse_ref("B7"), Some((7, 2)));
        assert_eq!(parse_ref("$AB$12"), Some((12, 28)));
        assert_eq!(parse_ref("XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(parse_ref("7"), None);
        assert_eq!(
            unescape_xml("A &amp; B &lt;&#233;&#xE9;&gt; &bogus; &"),
            "A & B <éé> &bogus; &"
        );
    }

    #[test]
    fn a_far_cell_an_implied_column_past_the_bounds_and_a_huge_dimension_are_refused() {
        let far = br#"<worksheet><sheetData><row r="1"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#;
        assert!(matches!(
            check_cell_addresses("xl/worksheets/sheet1.xml", far),
            Err(ReadError::OutOfBounds { .. })
        ));
        let many: String = format!(
            "<worksheet><sheetData><row r=\"1\">{}</row></sheetData></worksheet>",
            "<c><v>1</v></c>".repeat(MAX_COLS as usize + 1)
        );
        assert!(check_cell_addresses("s", many.as_bytes()).is_err());
        let dim = br#"<worksheet><dimension ref="A1:Z900000"/><sheetData/></worksheet>"#;
        assert!(check_cell_addresses("s", dim).is_err());
        let fine = br#"<worksheet><dimension ref="A1:N108"/><sheetData><row r="108"><c r="N108" s="1"/><c/></row></sheetData><cols><col min="1" max="2"/></cols></worksheet>"#;
        assert!(check_cell_addresses("s", fine).is_ok());
    }
}
