//! Readers: every format becomes a list of [`Sheet`]s of calamine cells. The format is recognised from
//! the content (zip, OLE compound file, text), not trusted from the file name.

use crate::payroll::error::{CellRef, PayrollError};
use crate::payroll::limits::Limits;
use calamine::{Data, Ods, Range, Reader, Xls, Xlsx};
use std::borrow::Cow;
use std::io::Cursor;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub struct Workbook {
    /// `xlsx`, `xls`, `ods` or `csv`.
    pub format: String,
    pub sheets: Vec<Sheet>,
}

pub struct Sheet {
    pub name: String,
    pub range: Range<Data>,
    /// Absolute position of the range's first cell (calamine ranges start at the first used cell).
    pub origin: (u32, u32),
    /// CSV only: the physical line of each record.
    pub csv_lines: Option<Vec<u64>>,
}

static EMPTY: Data = Data::Empty;

impl Sheet {
    pub fn height(&self) -> usize {
        self.range.height()
    }

    pub fn width(&self) -> usize {
        self.range.width()
    }

    pub fn get(&self, row: usize, col: usize) -> &Data {
        self.range.get((row, col)).unwrap_or(&EMPTY)
    }

    /// Where a cell is, for error messages.
    pub fn cell_ref(&self, row: usize, col: usize) -> CellRef {
        let abs_row = self.origin.0 + row as u32;
        let abs_col = self.origin.1 + col as u32;
        CellRef {
            sheet: self.name.clone(),
            row: abs_row,
            col: abs_col,
            csv_line: self
                .csv_lines
                .as_ref()
                .and_then(|lines| lines.get(row).copied()),
        }
    }

    /// A cell's name, as errors print it: `Feuil1!A9`, `recap.csv ligne 15 colonne 1 (A)`.
    pub fn cell_name(&self, row: usize, col: usize) -> String {
        if self.csv_lines.is_some() || !self.name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return self.cell_ref(row, col).to_string();
        }
        let letters = crate::payroll::error::column_letters(self.origin.1 + col as u32);
        let row_number = (self.origin.0 as usize + row + 1).to_string();
        let mut out = String::with_capacity(self.name.len() + 1 + letters.len() + row_number.len());
        out.push_str(&self.name);
        out.push('!');
        out.push_str(&letters);
        out.push_str(&row_number);
        out
    }

    /// The cell as text, if it holds any (numbers rendered plainly, dates as JJ/MM/AAAA).
    pub fn text(&self, row: usize, col: usize) -> Option<Cow<'_, str>> {
        cell_text(self.get(row, col))
    }

    pub fn is_blank(&self) -> bool {
        self.range.used_cells().all(|(_, _, d)| is_empty(d))
    }
}

pub fn is_empty(data: &Data) -> bool {
    match data {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

pub fn cell_text(data: &Data) -> Option<Cow<'_, str>> {
    match data {
        Data::Empty => None,
        Data::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                None
            } else {
                Some(Cow::Borrowed(t))
            }
        }
        Data::Int(i) => Some(Cow::Owned(i.to_string())),
        Data::Float(f) => Some(Cow::Owned(f.to_string())),
        Data::Bool(b) => Some(Cow::Owned(if *b { "VRAI" } else { "FAUX" }.to_string())),
        Data::DateTime(dt) => {
            let (y, m, d, _, _, _, _) = dt.to_ymd_hms_milli();
            Some(Cow::Owned(format!("{d:02}/{m:02}/{y:04}")))
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(Cow::Borrowed(s.as_str())),
        Data::Error(e) => Some(Cow::Owned(format!("#{e:?}"))),
    }
}

/// Reads every sheet of the file, checking the limits before and while reading.
pub fn read_workbook(
    file_name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Workbook, PayrollError> {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(ZIP_MAGIC) {
        let kind = zip_kind(bytes);
        match kind.as_deref() {
            Some("ods") => {
                limits.check_archive(bytes, "ods")?;
                let wb: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(|e| match e {
                    calamine::OdsError::Password => PayrollError::PasswordProtected,
                    e => corrupt("ods", e),
                })?;
                spreadsheet_sheets(wb, "ods", limits)
            }
            Some("xlsx") => {
                limits.check_archive(bytes, "xlsx")?;
                if let Some(sheets) = crate::payroll::xlsx_fast::read_sheets(bytes, limits) {
                    return checked_workbook("xlsx", sheets, limits);
                }
                let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| match e {
                    calamine::XlsxError::Password => PayrollError::PasswordProtected,
                    e => corrupt("xlsx", e),
                })?;
                xlsx_sheets(wb, limits)
            }
            Some(other) => Err(PayrollError::UnsupportedFormat(other.to_string())),
            None => Err(PayrollError::Corrupt {
                format: if extension.is_empty() {
                    "zip".into()
                } else {
                    extension
                },
                detail: "archive zip illisible (fichier tronqué ?)".into(),
            }),
        }
    } else if bytes.starts_with(CFB_MAGIC) {
        // An encrypted xlsx is an OLE container holding an "EncryptedPackage": calamine's xlsx reader
        // recognises it; otherwise the container is a legacy .xls workbook.
        if let Err(calamine::XlsxError::Password) = Xlsx::new(Cursor::new(bytes)) {
            return Err(PayrollError::PasswordProtected);
        }
        let wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
            calamine::XlsError::Password => PayrollError::PasswordProtected,
            e => corrupt("xls", e),
        })?;
        spreadsheet_sheets(wb, "xls", limits)
    } else if matches!(extension.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        Err(PayrollError::Corrupt {
            format: extension,
            detail: "le contenu n'est pas un classeur (signature de fichier absente)".into(),
        })
    } else {
        read_csv(file_name, bytes, limits)
    }
}

fn corrupt(format: &str, e: impl std::fmt::Display) -> PayrollError {
    PayrollError::Corrupt {
        format: format.to_string(),
        detail: e.to_string(),
    }
}

/// `xlsx`, `ods`, another format name, or `None` when the zip cannot be read.
fn zip_kind(bytes: &[u8]) -> Option<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if let Ok(mut mimetype) = archive.by_name("mimetype") {
        let mut text = String::new();
        use std::io::Read;
        let _ = (&mut mimetype).take(200).read_to_string(&mut text);
        if text.trim() == "application/vnd.oasis.opendocument.spreadsheet" {
            return Some("ods".into());
        }
        return Some(format!("OpenDocument « {} »", text.trim()));
    }
    if archive.index_for_name("xl/workbook.xml").is_some() {
        return Some("xlsx".into());
    }
    if archive.index_for_name("xl/workbook.bin").is_some() {
        return Some("xlsb".into());
    }
    Some("archive zip sans classeur".into())
}

fn spreadsheet_sheets<R, RS>(
    mut wb: R,
    format: &str,
    limits: &Limits,
) -> Result<Workbook, PayrollError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut sheets = Vec::new();
    let mut rows_total = 0usize;
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| corrupt(format, format!("feuille « {name} » : {e}")))?;
        rows_total += range.height();
        sheets.push(checked_sheet(name, range, rows_total, limits)?);
    }
    Ok(Workbook {
        format: format.to_string(),
        sheets,
    })
}

/// The sheets of an xlsx workbook, each read cell by cell straight into a dense range over the
/// dimensions the sheet declares (checked against the limits before anything is allocated). What
/// calamine's `worksheet_range` does in three passes (a growing list of cells, a dense copy, an owned
/// copy) is one pass here: the payroll benchmark's largest cost after the XML parsing itself. A sheet
/// whose cells stray outside its declared dimensions is read the general way.
fn xlsx_sheets<RS: std::io::Read + std::io::Seek>(
    mut wb: Xlsx<RS>,
    limits: &Limits,
) -> Result<Workbook, PayrollError> {
    let mut sheets = Vec::new();
    let mut rows_total = 0usize;
    for name in wb.sheet_names() {
        let range = match xlsx_dense_range(&mut wb, &name, limits)? {
            Some(range) => range,
            None => wb
                .worksheet_range(&name)
                .map_err(|e| corrupt("xlsx", format!("feuille « {name} » : {e}")))?,
        };
        rows_total += range.height();
        sheets.push(checked_sheet(name, range, rows_total, limits)?);
    }
    Ok(Workbook {
        format: "xlsx".to_string(),
        sheets,
    })
}

/// The sheets read by the fast xlsx reader, checked against the limits as the calamine path checks them.
fn checked_workbook(
    format: &str,
    sheets: Vec<(String, Range<Data>)>,
    limits: &Limits,
) -> Result<Workbook, PayrollError> {
    let mut checked = Vec::with_capacity(sheets.len());
    let mut rows_total = 0usize;
    for (name, range) in sheets {
        rows_total += range.height();
        checked.push(checked_sheet(name, range, rows_total, limits)?);
    }
    Ok(Workbook {
        format: format.to_string(),
        sheets: checked,
    })
}

/// A workbook read by calamine alone (the path the fast xlsx reader falls back to), for the tests that
/// compare both readers.
pub fn read_xlsx_with_calamine(bytes: &[u8], limits: &Limits) -> Result<Workbook, PayrollError> {
    let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| corrupt("xlsx", e))?;
    xlsx_sheets(wb, limits)
}

/// A sheet read from a workbook, once the rows read so far (`rows_total`, this sheet's included) and its
/// width are within the limits.
fn checked_sheet(
    name: String,
    range: Range<Data>,
    rows_total: usize,
    limits: &Limits,
) -> Result<Sheet, PayrollError> {
    if rows_total > limits.max_rows {
        return Err(PayrollError::TooManyRows {
            sheet: name,
            rows: rows_total,
            max_rows: limits.max_rows,
        });
    }
    if range.width() > limits.max_columns {
        return Err(PayrollError::TooManyColumns {
            sheet: name,
            columns: range.width(),
            max_columns: limits.max_columns,
        });
    }
    let origin = range.start().unwrap_or((0, 0));
    Ok(Sheet {
        name,
        range,
        origin,
        csv_lines: None,
    })
}

/// One xlsx sheet as a dense range over its declared dimensions; `None` when the sheet declares none
/// (or declares one its cells do not fit in): the caller then reads it the general way.
fn xlsx_dense_range<RS: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<RS>,
    name: &str,
    limits: &Limits,
) -> Result<Option<Range<Data>>, PayrollError> {
    let sheet_error = |e: calamine::XlsxError| corrupt("xlsx", format!("feuille « {name} » : {e}"));
    let mut reader = match wb.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok(Some(Range::default())),
        Err(e) => return Err(sheet_error(e)),
    };
    let dims = reader.dimensions();
    let rows = (dims.end.0.saturating_sub(dims.start.0) as usize).saturating_add(1);
    let columns = (dims.end.1.saturating_sub(dims.start.1) as usize).saturating_add(1);
    if dims.end < dims.start || dims.len() <= 1 {
        return Ok(None);
    }
    if rows > limits.max_rows {
        return Err(PayrollError::TooManyRows {
            sheet: name.to_string(),
            rows,
            max_rows: limits.max_rows,
        });
    }
    if columns > limits.max_columns {
        return Err(PayrollError::TooManyColumns {
            sheet: name.to_string(),
            columns,
            max_columns: limits.max_columns,
        });
    }
    let mut range: Range<Data> = Range::new(dims.start, dims.end);
    while let Some(cell) = reader.next_cell().map_err(sheet_error)? {
        if matches!(cell.get_value(), calamine::DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        if !dims.contains(row, col) {
            return Ok(None);
        }
        range.set_value((row, col), Data::from(cell.get_value().clone()));
    }
    Ok(Some(range))
}

/// Decodes CSV bytes: UTF-8 (with or without BOM) when valid, Windows-1252 otherwise.
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, PayrollError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(PayrollError::Corrupt {
            format: "csv".into(),
            detail: "contenu binaire (octets nuls) : ce n'est pas un fichier texte".into(),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok(text)
        }
    }
}

/// The separator of a CSV file: `;`, tab or `,`, whichever gives the most lines with the same number
/// of fields (ties: `;` first, the French default, then tab, then `,`).
pub fn detect_delimiter(text: &str) -> u8 {
    let sample: String = text.lines().take(200).collect::<Vec<_>>().join("\n");
    let mut best = (b';', 0usize);
    for delimiter in [b';', b'\t', b','] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(sample.as_bytes());
        let mut counts: std::collections::HashMap<usize, usize> = Default::default();
        for record in reader.records().flatten() {
            let filled = record.len();
            if filled > 1 {
                *counts.entry(filled).or_default() += 1;
            }
        }
        let score = counts.values().copied().max().unwrap_or(0);
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

fn memchr_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

fn read_csv(file_name: &str, bytes: &[u8], limits: &Limits) -> Result<Workbook, PayrollError> {
    let text = decode_text(bytes)?;
    let delimiter = detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut cells: Vec<Vec<Data>> = Vec::new();
    let mut lines = Vec::new();
    let text_bytes = text.as_bytes();
    let mut counted_to = 0usize;
    let mut line_count = 0u64;
    let mut width = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| PayrollError::Corrupt {
            format: "csv".into(),
            detail: e.to_string(),
        })?;
        if cells.len() >= limits.max_rows {
            return Err(PayrollError::TooManyRows {
                sheet: file_name.to_string(),
                rows: cells.len() + 1,
                max_rows: limits.max_rows,
            });
        }
        if record.len() > limits.max_columns {
            return Err(PayrollError::TooManyColumns {
                sheet: file_name.to_string(),
                columns: record.len(),
                max_columns: limits.max_columns,
            });
        }
        // The physical line, counted from the record's byte offset (the csv crate's own line count
        // does not count blank lines the way an editor shows them).
        let mut offset = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(text_bytes.len());
        while offset < text_bytes.len() && matches!(text_bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        line_count += memchr_count(&text_bytes[counted_to..offset]);
        counted_to = offset;
        lines.push(line_count + 1);
        width = width.max(record.len());
        cells.push(
            record
                .iter()
                .map(|f| {
                    let t = f.trim();
                    if t.is_empty() {
                        Data::Empty
                    } else {
                        Data::String(t.to_string())
                    }
                })
                .collect(),
        );
    }
    let mut range = if cells.is_empty() || width == 0 {
        Range::empty()
    } else {
        Range::new((0, 0), (cells.len() as u32 - 1, width as u32 - 1))
    };
    for (r, row) in cells.into_iter().enumerate() {
        for (c, value) in row.into_iter().enumerate() {
            if value != Data::Empty {
                range.set_value((r as u32, c as u32), value);
            }
        }
    }
    Ok(Workbook {
        format: "csv".into(),
        sheets: vec![Sheet {
            name: file_name.to_string(),
            range,
            origin: (0, 0),
            csv_lines: Some(lines),
        }],
    })
}
