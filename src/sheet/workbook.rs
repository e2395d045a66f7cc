//! The one bounded way to open a workbook: the format recognised from the content (zip, OLE compound
//! file, XML, text), never trusted from the file name; every archive through the bomb guard; every
//! sheet's extent checked against the [`Limits`] before anything is allocated for it; sheets read one
//! at a time, so a reader holds one sheet's cells at once.
//!
//! - xlsx: the fast reader ([`super::xlsx_fast`]) when it is sure of a sheet, else calamine's cell
//!   stream, collected under the limits (calamine's `worksheet_range` is never called: it allocates the
//!   whole extent of whatever cells a file holds);
//! - ods and xls: calamine reads every sheet when it opens the file, so the file is first scanned
//!   ([`super::scan`]) and refused when its sheets' extents or cells exceed the limits;
//! - SpreadsheetML 2003 (`.xml`): [`super::spreadsheetml`], a streaming reader that refuses DTDs;
//! - CSV: UTF-8 (with or without BOM) or Windows-1252, `;`, tab or `,` separated.

use crate::sheet::error::{CellRef, SheetError};
use crate::sheet::limits::Limits;
use calamine::{Data, Ods, Range, Reader, Xls, Xlsx};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{Cursor, Read};

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// A file format a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    /// Excel 2003 XML spreadsheet.
    SpreadsheetMl,
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::SpreadsheetMl => "xml",
            Format::Csv => "csv",
        }
    }
}

/// One sheet's cells.
#[derive(Debug)]
pub struct Sheet {
    pub name: String,
    pub range: Range<Data>,
    /// Absolute position of the range's first cell (ranges start at the first used cell).
    pub origin: (u32, u32),
    /// CSV only: the physical line of each record.
    pub csv_lines: Option<Vec<u64>>,
}

static EMPTY: Data = Data::Empty;

impl Sheet {
    pub fn new(name: String, range: Range<Data>) -> Sheet {
        let origin = range.start().unwrap_or((0, 0));
        Sheet {
            name,
            range,
            origin,
            csv_lines: None,
        }
    }

    pub fn height(&self) -> usize {
        self.range.height()
    }

    pub fn width(&self) -> usize {
        self.range.width()
    }

    /// The cell at `row`, `col` relative to the range's origin.
    pub fn get(&self, row: usize, col: usize) -> &Data {
        self.range.get((row, col)).unwrap_or(&EMPTY)
    }

    /// The cell at an absolute position (`A1` is (0, 0)).
    pub fn get_abs(&self, row: u32, col: u32) -> &Data {
        self.range.get_value((row, col)).unwrap_or(&EMPTY)
    }

    /// Where a cell is, for error messages.
    pub fn cell_ref(&self, row: usize, col: usize) -> CellRef {
        let abs_row = self
            .origin
            .0
            .saturating_add(u32::try_from(row).unwrap_or(u32::MAX));
        let abs_col = self
            .origin
            .1
            .saturating_add(u32::try_from(col).unwrap_or(u32::MAX));
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
        // The usual case, without the intermediate `CellRef` (called once per rubrique read).
        let abs_col = self
            .origin
            .1
            .saturating_add(u32::try_from(col).unwrap_or(u32::MAX));
        let letters = super::error::column_letters(abs_col);
        let row_number = (u64::from(self.origin.0) + row as u64 + 1).to_string();
        let mut out = String::with_capacity(self.name.len() + 1 + letters.len() + row_number.len());
        out.push_str(&self.name);
        out.push('!');
        out.push_str(&letters);
        out.push_str(&row_number);
        out
    }

    /// The cell as text, if it holds any (see [`super::cells::cell_text`]).
    pub fn text(&self, row: usize, col: usize) -> Option<Cow<'_, str>> {
        super::cells::cell_text(self.get(row, col))
    }

    pub fn is_blank(&self) -> bool {
        self.range
            .used_cells()
            .all(|(_, _, d)| super::cells::is_empty(d))
    }
}

/// An opened workbook whose sheets are read one at a time.
pub struct Workbook<'a> {
    format: Format,
    names: Vec<String>,
    source: Source<'a>,
    limits: Limits,
    rows_read: u64,
    cells_read: u64,
}

enum Source<'a> {
    Xlsx {
        bytes: &'a [u8],
        fast: Option<Box<super::xlsx_fast::FastBook<'a>>>,
        calamine: Option<Box<Xlsx<Cursor<&'a [u8]>>>>,
    },
    /// Read whole when opened (after the scan bounded them), handed out in turn.
    Loaded(VecDeque<Option<Sheet>>),
}

impl<'a> Workbook<'a> {
    /// Opens a workbook of one of the `accepted` formats.
    pub fn open(
        file_name: &str,
        bytes: &'a [u8],
        limits: &Limits,
        accepted: &[Format],
    ) -> Result<Workbook<'a>, SheetError> {
        limits.check_file_size(bytes.len() as u64)?;
        let format = detect(file_name, bytes)?;
        if !accepted.contains(&format) {
            let names: Vec<&str> = accepted.iter().map(|f| f.name()).collect();
            return Err(SheetError::UnsupportedFormat(format!(
                "{} (attendu {})",
                format.name(),
                names.join(", ")
            )));
        }
        let loaded = |sheets: Vec<Sheet>| {
            (
                sheets.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                Source::Loaded(sheets.into_iter().map(Some).collect()),
            )
        };
        let (names, source) = match format {
            Format::Xlsx => {
                // The declared sizes now; each entry the fast reader inflates is checked against its
                // declared size as it is read, and the whole archive is inflated into a sink first
                // whenever calamine has to read it (`open_xlsx_checked`).
                limits.check_declared_sizes(bytes, "xlsx")?;
                super::scan::check_shared_strings(bytes, limits)?;
                match super::xlsx_fast::FastBook::open(bytes) {
                    Some(fast) => (
                        fast.sheet_names(),
                        Source::Xlsx {
                            bytes,
                            fast: Some(Box::new(fast)),
                            calamine: None,
                        },
                    ),
                    None => {
                        let wb = open_xlsx_checked(bytes, limits)?;
                        (
                            wb.sheet_names(),
                            Source::Xlsx {
                                bytes,
                                fast: None,
                                calamine: Some(Box::new(wb)),
                            },
                        )
                    }
                }
            }
            Format::Ods => {
                limits.check_archive(bytes, "ods")?;
                super::scan::check_ods(bytes, limits)?;
                loaded(guarded("ods", || {
                    let wb: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(|e| match e {
                        calamine::OdsError::Password => SheetError::PasswordProtected,
                        e => SheetError::damaged("ods", None, e),
                    })?;
                    calamine_sheets(wb, "ods")
                })?)
            }
            Format::Xls => {
                // Chains checked before calamine walks them (a loop is an endless allocation).
                super::scan::check_compound_file(bytes)?;
                // An encrypted xlsx is an OLE container holding an "EncryptedPackage".
                let encrypted = guarded("xls", || {
                    Ok(matches!(
                        Xlsx::new(Cursor::new(bytes)),
                        Err(calamine::XlsxError::Password)
                    ))
                })?;
                if encrypted {
                    return Err(SheetError::PasswordProtected);
                }
                super::scan::check_xls(bytes, limits)?;
                loaded(guarded("xls", || {
                    let wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
                        calamine::XlsError::Password => SheetError::PasswordProtected,
                        e => SheetError::damaged("xls", None, e),
                    })?;
                    calamine_sheets(wb, "xls")
                })?)
            }
            Format::SpreadsheetMl => loaded(super::spreadsheetml::read(bytes, limits)?),
            Format::Csv => loaded(vec![read_csv(file_name, bytes, limits)?]),
        };
        Ok(Workbook {
            format,
            names,
            source,
            limits: limits.clone(),
            rows_read: 0,
            cells_read: 0,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn sheet_names(&self) -> &[String] {
        &self.names
    }

    /// Reads the sheet at `index` (each sheet once), checking the limits of the whole workbook.
    pub fn read_sheet(&mut self, index: usize) -> Result<Sheet, SheetError> {
        let name = self
            .names
            .get(index)
            .cloned()
            .ok_or_else(|| SheetError::corrupt(self.format.name(), "feuille absente"))?;
        let sheet = match &mut self.source {
            Source::Loaded(sheets) => sheets
                .get_mut(index)
                .and_then(Option::take)
                .ok_or_else(|| SheetError::corrupt(self.format.name(), "feuille déjà lue"))?,
            Source::Xlsx {
                bytes,
                fast,
                calamine,
            } => {
                let range = match fast.as_mut() {
                    Some(fast) => fast.sheet(index, &self.limits)?,
                    None => None,
                };
                let range = match range {
                    Some(range) => range,
                    None => {
                        if calamine.is_none() {
                            *calamine = Some(Box::new(open_xlsx_checked(bytes, &self.limits)?));
                        }
                        match calamine.as_mut() {
                            Some(wb) => {
                                guarded("xlsx", || xlsx_sheet_bounded(wb, &name, &self.limits))?
                            }
                            None => Range::empty(),
                        }
                    }
                };
                Sheet::new(name.clone(), range)
            }
        };
        self.account(&sheet)?;
        Ok(sheet)
    }

    /// Reads the sheet called `name`, if the workbook has one.
    pub fn read_named(&mut self, name: &str) -> Result<Option<Sheet>, SheetError> {
        match self.names.iter().position(|n| n == name) {
            Some(index) => self.read_sheet(index).map(Some),
            None => Ok(None),
        }
    }

    /// Every sheet, in workbook order (for small workbooks and tests; readers of large files take
    /// one sheet at a time).
    pub fn read_all(mut self) -> Result<Vec<Sheet>, SheetError> {
        (0..self.names.len()).map(|i| self.read_sheet(i)).collect()
    }

    fn account(&mut self, sheet: &Sheet) -> Result<(), SheetError> {
        let rows = sheet.height() as u64;
        let cells = rows.saturating_mul(sheet.width() as u64);
        self.limits
            .check_extent(&sheet.name, rows, sheet.width() as u64)?;
        self.rows_read = self.rows_read.saturating_add(rows);
        self.cells_read = self.cells_read.saturating_add(cells);
        if self.rows_read > self.limits.max_rows {
            return Err(SheetError::TooManyRows {
                sheet: sheet.name.clone(),
                rows: self.rows_read,
                max_rows: self.limits.max_rows,
            });
        }
        if self.cells_read > self.limits.max_total_cells {
            return Err(SheetError::TooManyCells {
                sheet: sheet.name.clone(),
                rows,
                columns: sheet.width() as u64,
                cells: self.cells_read,
                max_cells: self.limits.max_total_cells,
            });
        }
        Ok(())
    }
}

/// The format of a file, from its content; the extension only names a file that is not a workbook.
pub fn detect(file_name: &str, bytes: &[u8]) -> Result<Format, SheetError> {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(ZIP_MAGIC) {
        return match zip_kind(bytes).as_deref() {
            Some("ods") => Ok(Format::Ods),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(other) => Err(SheetError::UnsupportedFormat(other.to_string())),
            None => Err(SheetError::Corrupt {
                format: if extension.is_empty() {
                    "zip".into()
                } else {
                    extension
                },
                detail: "archive zip illisible (fichier tronqué ?)".into(),
            }),
        };
    }
    if bytes.starts_with(CFB_MAGIC) {
        return Ok(Format::Xls);
    }
    if super::spreadsheetml::looks_like(bytes) {
        return Ok(Format::SpreadsheetMl);
    }
    if matches!(extension.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        return Err(SheetError::Corrupt {
            format: extension,
            detail: "le contenu n'est pas un classeur (signature de fichier absente)".into(),
        });
    }
    Ok(Format::Csv)
}

/// Runs a calamine call, a panic inside it (an arithmetic overflow on a hostile cell reference, found
/// by the fuzz tests) turned into a refusal of the file: a reader never takes the process down.
fn guarded<T>(format: &str, f: impl FnOnce() -> Result<T, SheetError>) -> Result<T, SheetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(SheetError::damaged(
            format,
            None,
            "the reader stopped on malformed content",
        ))
    })
}

/// calamine's reader, once every entry has been inflated under the bomb guard.
fn open_xlsx_checked<'b>(
    bytes: &'b [u8],
    limits: &Limits,
) -> Result<Xlsx<Cursor<&'b [u8]>>, SheetError> {
    limits.check_inflated_sizes(bytes, "xlsx")?;
    guarded("xlsx", || open_xlsx(bytes))
}

fn open_xlsx(bytes: &[u8]) -> Result<Xlsx<Cursor<&[u8]>>, SheetError> {
    Xlsx::new(Cursor::new(bytes)).map_err(|e| match e {
        calamine::XlsxError::Password => SheetError::PasswordProtected,
        e => SheetError::damaged("xlsx", None, e),
    })
}

/// `xlsx`, `ods`, another format name, or `None` when the zip cannot be read.
fn zip_kind(bytes: &[u8]) -> Option<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if let Ok(mimetype) = archive.by_name("mimetype") {
        let mut text = String::new();
        let _ = mimetype.take(200).read_to_string(&mut text);
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

/// The sheets calamine read when it opened an ods or xls file (already bounded by the scan).
fn calamine_sheets<R, RS>(mut wb: R, format: &str) -> Result<Vec<Sheet>, SheetError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| SheetError::damaged(format, Some(&format!("feuille « {name} »")), e))?;
        sheets.push(Sheet::new(name, range));
    }
    Ok(sheets)
}

/// Cells gathered one by one under the limits: the extent so far and the number of cells are checked
/// at each cell, so a far cell is refused as soon as it is met, before anything is allocated for it.
pub struct Collector<'l> {
    sheet: String,
    limits: &'l Limits,
    cells: Vec<(u32, u32, Data)>,
    start: (u32, u32),
    end: (u32, u32),
}

impl<'l> Collector<'l> {
    pub fn new(sheet: &str, limits: &'l Limits) -> Collector<'l> {
        Collector {
            sheet: sheet.to_string(),
            limits,
            cells: Vec::new(),
            start: (u32::MAX, u32::MAX),
            end: (0, 0),
        }
    }

    pub fn push(&mut self, row: u32, col: u32, value: Data) -> Result<(), SheetError> {
        let start = (self.start.0.min(row), self.start.1.min(col));
        let end = (self.end.0.max(row), self.end.1.max(col));
        let rows = u64::from(end.0 - start.0) + 1;
        let columns = u64::from(end.1 - start.1) + 1;
        self.limits.check_extent(&self.sheet, rows, columns)?;
        if self.cells.len() as u64 >= self.limits.max_cells {
            // The same cell written again and again.
            return Err(SheetError::TooManyCells {
                sheet: self.sheet.clone(),
                rows,
                columns,
                cells: self.cells.len() as u64 + 1,
                max_cells: self.limits.max_cells,
            });
        }
        self.start = start;
        self.end = end;
        self.cells.push((row, col, value));
        Ok(())
    }

    /// The dense range of the cells gathered (their extent already checked).
    pub fn into_range(self) -> Range<Data> {
        if self.cells.is_empty() {
            return Range::empty();
        }
        let mut range = Range::new(self.start, self.end);
        for (row, col, value) in self.cells {
            range.set_value((row, col), value);
        }
        range
    }
}

/// One xlsx sheet through calamine's cell stream, under the limits: the declared dimension (when it
/// says more than one cell; `A1` is what an empty sheet declares) and then every cell met.
fn xlsx_sheet_bounded<RS: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<RS>,
    name: &str,
    limits: &Limits,
) -> Result<Range<Data>, SheetError> {
    let sheet_error = |e: calamine::XlsxError| {
        SheetError::damaged("xlsx", Some(&format!("feuille « {name} »")), e)
    };
    let mut reader = match wb.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok(Range::empty()),
        Err(e) => return Err(sheet_error(e)),
    };
    let dims = reader.dimensions();
    if dims.end >= dims.start && dims.len() > 1 {
        let rows = u64::from(dims.end.0 - dims.start.0) + 1;
        let columns = u64::from(dims.end.1.saturating_sub(dims.start.1)) + 1;
        limits.check_extent(name, rows, columns)?;
    }
    let mut collector = Collector::new(name, limits);
    while let Some(cell) = reader.next_cell().map_err(sheet_error)? {
        if matches!(cell.get_value(), calamine::DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        collector.push(row, col, Data::from(cell.get_value().clone()))?;
    }
    Ok(collector.into_range())
}

/// A workbook read by calamine alone (the path the fast xlsx reader falls back to), for the tests that
/// compare both readers.
pub fn read_xlsx_with_calamine(bytes: &[u8], limits: &Limits) -> Result<Vec<Sheet>, SheetError> {
    let mut wb = open_xlsx(bytes)?;
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = xlsx_sheet_bounded(&mut wb, &name, limits)?;
        sheets.push(Sheet::new(name, range));
    }
    Ok(sheets)
}

/// Decodes text bytes: UTF-8 (with or without BOM) when valid, Windows-1252 otherwise.
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, SheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(SheetError::corrupt(
            "csv",
            "contenu binaire (octets nuls) : ce n'est pas un fichier texte",
        ));
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

fn read_csv(file_name: &str, bytes: &[u8], limits: &Limits) -> Result<Sheet, SheetError> {
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
    let mut width = 0u64;
    for record in reader.records() {
        let record = record.map_err(|e| SheetError::damaged("csv", None, e))?;
        let rows = cells.len() as u64 + 1;
        width = width.max(record.len() as u64);
        limits.check_extent(file_name, rows, width)?;
        // The physical line, counted from the record's byte offset (the csv crate's own line count
        // does not count blank lines the way an editor shows them).
        let mut offset = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(text_bytes.len());
        while offset < text_bytes.len() && matches!(text_bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        line_count += memchr::memchr_iter(b'\n', &text_bytes[counted_to..offset]).count() as u64;
        counted_to = offset;
        lines.push(line_count + 1);
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
    Ok(Sheet {
        name: file_name.to_string(),
        range,
        origin: (0, 0),
        csv_lines: Some(lines),
    })
}
