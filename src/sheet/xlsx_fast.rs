//! A fast reader of the cell values of xlsx worksheets, for the payroll import of large recaps.
//!
//! calamine parses every XML event of a sheet (attributes, namespaces, buffers): most of a large recap's
//! import time. Recap sheets hold plain values — numbers, shared or inline strings, booleans — so this
//! reader scans the sheet XML for `<c>` elements directly and builds the same dense range as
//! [`super::reader`]'s calamine path (the declared `<dimension>`, the same `Data` per cell: shared strings
//! trimmed as calamine trims them, numbers styled as dates turned into `Data::DateTime`).
//!
//! It never guesses: anything it does not fully understand (no dimension, a cell outside it, an error or
//! ISO-date cell, phonetic runs, CDATA, `_xHHHH_` escapes, a 1904 workbook, a chart sheet, a malformed
//! element) makes it answer `None`, and the caller reads the workbook with calamine, which also reports
//! the errors. The tests below compare both readers cell by cell.

use crate::sheet::error::SheetError;
use crate::sheet::limits::Limits;
use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Range};
use std::io::Cursor;

/// An xlsx workbook opened by the fast reader: its shared strings and date styles read, its sheets
/// read one at a time by [`FastBook::sheet`].
pub struct FastBook<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    strings: Vec<String>,
    formats: Vec<Option<ExcelDateTimeType>>,
    /// (name, path in the archive) of each sheet, in workbook order.
    sheets: Vec<(String, String)>,
}

impl<'a> FastBook<'a> {
    /// `None` when this reader is unsure of the workbook (a 1904 workbook, a chart sheet, an escape it
    /// does not decode…): the caller reads it with calamine.
    pub fn open(bytes: &'a [u8]) -> Option<FastBook<'a>> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
        let workbook = entry_text(&mut archive, "xl/workbook.xml")?;
        if workbook.contains("date1904=\"1\"") || workbook.contains("date1904=\"true\"") {
            return None;
        }
        let rels = entry_text(&mut archive, "xl/_rels/workbook.xml.rels")?;
        let targets = relationships(&rels)?;
        let strings = match archive.index_for_name("xl/sharedStrings.xml") {
            Some(_) => shared_strings(&entry_text(&mut archive, "xl/sharedStrings.xml")?)?,
            None => Vec::new(),
        };
        let formats = match archive.index_for_name("xl/styles.xml") {
            Some(_) => cell_formats(&entry_text(&mut archive, "xl/styles.xml")?)?,
            None => Vec::new(),
        };
        let mut sheets = Vec::new();
        for element in elements(&workbook, "sheet") {
            let name = unescape(attr(element, "name")?)?;
            let id = attr(element, "r:id")?;
            let (kind, target) = targets
                .iter()
                .find(|(rid, _, _)| rid == id)
                .map(|(_, k, t)| (k, t))?;
            if !kind.ends_with("/worksheet") {
                return None;
            }
            let path = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_string(),
                None => format!("xl/{target}"),
            };
            sheets.push((name.into_owned(), path));
        }
        Some(FastBook {
            archive,
            strings,
            formats,
            sheets,
        })
    }

    pub fn sheet_names(&self) -> Vec<String> {
        self.sheets.iter().map(|(name, _)| name.clone()).collect()
    }

    /// One sheet's cells over its declared dimension, refused when that dimension is beyond the
    /// limits (before anything is allocated); `Ok(None)` when this reader is unsure of the sheet (a
    /// cell outside the declared dimension, an unusual cell): the caller reads it with calamine.
    pub fn sheet(
        &mut self,
        index: usize,
        limits: &Limits,
    ) -> Result<Option<Range<Data>>, SheetError> {
        let Some((name, path)) = self.sheets.get(index).cloned() else {
            return Ok(None);
        };
        let Some(xml) = entry_bytes(&mut self.archive, &path) else {
            return Ok(None);
        };
        sheet_range(&name, &xml, &self.strings, &self.formats, limits)
    }
}

/// The sheets of an xlsx workbook, in workbook order, or `None` to let calamine read it (the tests
/// comparing both readers use it).
pub fn read_sheets(bytes: &[u8], limits: &Limits) -> Option<Vec<(String, Range<Data>)>> {
    let mut book = FastBook::open(bytes)?;
    let names = book.sheet_names();
    let mut out = Vec::with_capacity(names.len());
    for (index, name) in names.into_iter().enumerate() {
        out.push((name, book.sheet(index, limits).ok()??));
    }
    Some(out)
}

fn entry_bytes(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<Vec<u8>> {
    // Bounded by the size the entry declares (a lying entry is not this reader's to judge: `None`,
    // and the caller's full inflation check refuses it).
    crate::sheet::limits::read_entry(archive, name, "xlsx")
        .ok()
        .flatten()
}

fn entry_text(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<String> {
    String::from_utf8(entry_bytes(archive, name)?).ok()
}

/// `(Id, Type, Target)` of each relationship.
fn relationships(xml: &str) -> Option<Vec<(String, String, String)>> {
    elements(xml, "Relationship")
        .map(|e| {
            Some((
                attr(e, "Id")?.to_string(),
                attr(e, "Type")?.to_string(),
                unescape(attr(e, "Target")?)?.into_owned(),
            ))
        })
        .collect()
}

/// The start tags `<name …>` of a document (attributes only), in order.
fn elements<'a>(xml: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{name}");
    let mut rest = xml;
    std::iter::from_fn(move || loop {
        let at = rest.find(&open)?;
        let after = &rest[at + open.len()..];
        let end = after.find('>')?;
        rest = &after[end..];
        // `<sheet` must not match `<sheets` or `<sheetPr`.
        if after.starts_with([' ', '/', '>', '\t', '\n', '\r']) {
            return Some(&after[..end]);
        }
    })
}

/// The value of attribute `name` in a start tag's text.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    // The value lies between two ASCII quotes, so it is whole UTF-8.
    byte_attr(tag.as_bytes(), name.as_bytes()).and_then(|v| std::str::from_utf8(v).ok())
}

/// XML entities decoded; `None` for what calamine would decode differently (`_xHHHH_` escapes) or
/// an entity this reader does not know.
fn unescape(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    if has_ooxml_escape(text) {
        return None;
    }
    if !text.contains('&') {
        return Some(std::borrow::Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';')?;
        let entity = &after[..end];
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    entity.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(std::borrow::Cow::Owned(out))
}

fn has_ooxml_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(7).any(|w| {
        w[0] == b'_' && w[1] == b'x' && w[2..6].iter().all(u8::is_ascii_hexdigit) && w[6] == b'_'
    })
}

/// The shared strings table, each entry as calamine reads it (rich runs concatenated, ASCII
/// whitespace trimmed unless `xml:space="preserve"`).
fn shared_strings(xml: &str) -> Option<Vec<String>> {
    if xml.contains("<rPh") || xml.contains("<![CDATA[") {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find("<si") {
        let after = &rest[at + 3..];
        if after.starts_with('/') {
            // `<si/>`: an empty string.
            out.push(String::new());
            rest = after;
            continue;
        }
        if !after.starts_with('>') {
            return None;
        }
        let end = after.find("</si>")?;
        out.push(string_item(&after[1..end])?);
        rest = &after[end + 5..];
    }
    Some(out)
}

/// The text of a `<si>` or `<is>` element's content: its `<t>` elements, concatenated.
fn string_item(content: &str) -> Option<String> {
    let mut text = String::new();
    let mut rest = content;
    while let Some(at) = rest.find("<t") {
        let after = &rest[at + 2..];
        let close = after.find('>')?;
        let tag = &after[..close];
        if !(tag.is_empty() || tag.starts_with(' ')) {
            // `<tx…>` or another element starting with t: not ours.
            return None;
        }
        if tag.ends_with('/') {
            rest = &after[close + 1..];
            continue;
        }
        let body_start = &after[close + 1..];
        let end = body_start.find("</t>")?;
        let raw = &body_start[..end];
        let preserve = attr(tag, "xml:space") == Some("preserve");
        let raw = if preserve {
            raw
        } else {
            raw.trim_matches([' ', '\t', '\r', '\n'])
        };
        text.push_str(&unescape(raw)?);
        rest = &body_start[end + 4..];
    }
    Some(text)
}

/// How a number in a cell of each style (`cellXfs` index) reads: `None` a plain number, else a date or
/// a duration.
fn cell_formats(xml: &str) -> Option<Vec<Option<ExcelDateTimeType>>> {
    let custom: Vec<(String, String)> = elements(xml, "numFmt")
        .map(|e| {
            Some((
                attr(e, "numFmtId")?.to_string(),
                unescape(attr(e, "formatCode")?)?.into_owned(),
            ))
        })
        .collect::<Option<_>>()?;
    let Some(start) = xml.find("<cellXfs") else {
        return Some(Vec::new());
    };
    let end = xml[start..].find("</cellXfs>").map(|e| start + e)?;
    elements(&xml[start..end], "xf")
        .map(|e| {
            let id = attr(e, "numFmtId").unwrap_or("0");
            Some(match custom.iter().find(|(cid, _)| cid == id) {
                Some((_, code)) => custom_format(code),
                None => builtin_format(id),
            })
        })
        .collect()
}

/// calamine's reading of the built-in number formats (`formats::builtin_format_by_id`).
fn builtin_format(id: &str) -> Option<ExcelDateTimeType> {
    match id {
        "14" | "15" | "16" | "17" | "18" | "19" | "20" | "21" | "22" | "45" | "47" | "27"
        | "28" | "29" | "30" | "31" | "32" | "33" | "34" | "35" | "36" | "50" | "51" | "52"
        | "53" | "54" | "55" | "56" | "57" | "58" => Some(ExcelDateTimeType::DateTime),
        "46" => Some(ExcelDateTimeType::TimeDelta),
        _ => None,
    }
}

/// calamine's reading of a custom number format (`formats::detect_custom_number_format`, calamine
/// 0.38, MIT licence), kept identical so both readers give the same cell.
fn custom_format(format: &str) -> Option<ExcelDateTimeType> {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            ('_' | '\\' | '*', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return None,
            ('[', ..) => brackets += 1,
            (']', .., 1) if hms => return Some(ExcelDateTimeType::TimeDelta),
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => {
                return Some(ExcelDateTimeType::DateTime)
            }
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => {
                return Some(ExcelDateTimeType::DateTime)
            }
            _ => {
                if !(hms && s.eq_ignore_ascii_case(&prev)) {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    None
}

/// `B12` → (11, 1).
fn cell_position(reference: &[u8]) -> Option<(u32, u32)> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    if letters == 0 || letters > 3 || letters == reference.len() {
        return None;
    }
    let mut col = 0u32;
    for b in &reference[..letters] {
        col = col * 26 + u32::from(b - b'A') + 1;
    }
    let mut row = 0u32;
    for b in &reference[letters..] {
        if !b.is_ascii_digit() {
            return None;
        }
        row = row.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some((row.checked_sub(1)?, col - 1))
}

/// `A1:H47` → ((0, 0), (46, 7)); a single cell `B3` → ((2, 1), (2, 1)).
fn dimension(reference: &str) -> Option<((u32, u32), (u32, u32))> {
    match reference.split_once(':') {
        Some((start, end)) => Some((
            cell_position(start.as_bytes())?,
            cell_position(end.as_bytes())?,
        )),
        None => {
            let cell = cell_position(reference.as_bytes())?;
            Some((cell, cell))
        }
    }
}

/// The value of attribute `name` in a start tag's bytes (`name="value"`, the name preceded by a space
/// or at the start).
fn byte_attr<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i + name.len() + 2 <= tag.len() {
        if tag[i..].starts_with(name)
            && (i == 0 || tag[i - 1].is_ascii_whitespace())
            && tag[i + name.len()] == b'='
            && tag[i + name.len() + 1] == b'"'
        {
            let value = &tag[i + name.len() + 2..];
            let end = memchr::memchr(b'"', value)?;
            return Some(&value[..end]);
        }
        i += 1;
    }
    None
}

fn sheet_range(
    name: &str,
    xml: &[u8],
    strings: &[String],
    formats: &[Option<ExcelDateTimeType>],
    limits: &Limits,
) -> Result<Option<Range<Data>>, SheetError> {
    let Some(dims) = declared_dimension(xml) else {
        return Ok(None);
    };
    let (start, end) = dims;
    if end.0 < start.0 || end.1 < start.1 {
        return Ok(None);
    }
    let rows = u64::from(end.0 - start.0) + 1;
    let columns = u64::from(end.1 - start.1) + 1;
    limits.check_extent(name, rows, columns)?;
    Ok(sheet_cells(xml, (start, end), strings, formats))
}

/// The `<dimension ref="…">` a sheet declares.
fn declared_dimension(xml: &[u8]) -> Option<((u32, u32), (u32, u32))> {
    let dim_at = memchr::memmem::find(xml, b"<dimension ")?;
    let dim_tag_end = memchr::memchr(b'>', &xml[dim_at..])? + dim_at;
    let dim_ref = byte_attr(&xml[dim_at + 11..dim_tag_end], b"ref")?;
    dimension(std::str::from_utf8(dim_ref).ok()?)
}

/// The cells of a sheet whose declared dimension is within the limits.
fn sheet_cells(
    xml: &[u8],
    (start, end): ((u32, u32), (u32, u32)),
    strings: &[String],
    formats: &[Option<ExcelDateTimeType>],
) -> Option<Range<Data>> {
    // A sheet declaring one cell (`A1` is also what an empty sheet declares): calamine's range is then
    // built from the cells found, empty when there is none.
    let single = start == end;
    let mut found_any = false;
    let data_at = memchr::memmem::find(xml, b"<sheetData")?;
    let data_end = memchr::memmem::find(&xml[data_at..], b"</sheetData>")
        .map(|e| data_at + e)
        .unwrap_or(xml.len());
    let body = &xml[data_at..data_end];
    if memchr::memmem::find(body, b"<![CDATA[").is_some() {
        return None;
    }
    let mut range: Range<Data> = Range::new(start, end);
    let cell_finder = memchr::memmem::Finder::new(b"<c ");
    let mut pos = 0;
    while let Some(found) = cell_finder.find(&body[pos..]) {
        let tag_start = pos + found + 3;
        let tag_len = memchr::memchr(b'>', &body[tag_start..])?;
        let tag = &body[tag_start..tag_start + tag_len];
        pos = tag_start + tag_len + 1;
        if tag.last() == Some(&b'/') {
            continue; // `<c r="A1" s="1"/>`: an empty cell.
        }
        let close = memchr::memmem::find(&body[pos..], b"</c>")?;
        let content = &body[pos..pos + close];
        pos += close + 4;
        let (row, col) = cell_position(byte_attr(tag, b"r")?)?;
        let value = cell_value(tag, content, strings, formats)?;
        if matches!(value, Data::Empty) {
            continue;
        }
        if row < start.0 || row > end.0 || col < start.1 || col > end.1 {
            return None;
        }
        range.set_value((row, col), value);
        found_any = true;
    }
    if single && !found_any {
        return Some(Range::empty());
    }
    Some(range)
}

/// The value of one `<c>` as calamine's cells reader gives it, or `None` when this reader is unsure.
fn cell_value(
    tag: &[u8],
    content: &[u8],
    strings: &[String],
    formats: &[Option<ExcelDateTimeType>],
) -> Option<Data> {
    let kind = byte_attr(tag, b"t");
    if kind == Some(b"inlineStr") {
        let is_at = memchr::memmem::find(content, b"<is>")?;
        let is_end = memchr::memmem::find(&content[is_at..], b"</is>")? + is_at;
        let text = std::str::from_utf8(&content[is_at + 4..is_end]).ok()?;
        return Some(Data::String(string_item(text)?));
    }
    let v = match memchr::memmem::find(content, b"<v") {
        Some(at) => {
            let after = &content[at + 2..];
            if after.starts_with(b"/>") {
                return Some(Data::Empty);
            }
            if !after.starts_with(b">") {
                return None;
            }
            let end = memchr::memmem::find(after, b"</v>")?;
            std::str::from_utf8(&after[1..end]).ok()?
        }
        None => return Some(Data::Empty),
    };
    match kind {
        Some(b"s") => {
            if v.is_empty() {
                return Some(Data::Empty);
            }
            let index: usize = v.parse().ok()?;
            Some(Data::String(strings.get(index)?.clone()))
        }
        Some(b"str") => Some(Data::String(unescape(v)?.into_owned())),
        Some(b"b") => match v {
            "0" => Some(Data::Bool(false)),
            "1" => Some(Data::Bool(true)),
            _ => None,
        },
        Some(b"n") | None => {
            if v.is_empty() {
                return Some(Data::Empty);
            }
            let number: f64 = match v.parse() {
                Ok(n) => n,
                // calamine falls back to text for an untyped cell; leave such files to it.
                Err(_) => return None,
            };
            let format = match byte_attr(tag, b"s") {
                Some(style) => {
                    let index: usize = std::str::from_utf8(style).ok()?.parse().ok()?;
                    formats.get(index).copied().flatten()
                }
                None => None,
            };
            Some(match format {
                Some(kind) => Data::DateTime(ExcelDateTime::new(number, kind, false)),
                None => Data::Float(number),
            })
        }
        // Errors, ISO dates, anything else: calamine's.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_dimensions_read_like_excel() {
        assert_eq!(cell_position(b"A1"), Some((0, 0)));
        assert_eq!(cell_position(b"AB12"), Some((11, 27)));
        assert_eq!(cell_position(b"A0"), None);
        assert_eq!(cell_position(b"12"), None);
        assert_eq!(dimension("B2:H470001"), Some(((1, 1), (470_000, 7))));
    }

    #[test]
    fn strings_are_decoded_and_trimmed_as_calamine_does() {
        assert_eq!(
            shared_strings("<sst><si><t> Brut &amp; primes </t></si><si><r><t>A</t></r><r><t xml:space=\"preserve\"> B</t></r></si><si/></sst>"),
            Some(vec!["Brut & primes".to_string(), "A B".to_string(), String::new()])
        );
        assert_eq!(shared_strings("<sst><si><t>x_x000D_y</t></si></sst>"), None);
        assert_eq!(unescape("&#233;t&#xE9;"), Some("été".into()));
    }

    #[test]
    fn date_formats_follow_calamine() {
        assert_eq!(
            custom_format("dd/mm/yyyy"),
            Some(ExcelDateTimeType::DateTime)
        );
        assert_eq!(custom_format("#,##0.00\\ \"€\""), None);
        assert_eq!(custom_format("[h]:mm"), Some(ExcelDateTimeType::TimeDelta));
        assert_eq!(builtin_format("14"), Some(ExcelDateTimeType::DateTime));
        assert_eq!(builtin_format("4"), None);
    }
}

#[cfg(test)]
mod same_as_calamine {
    use crate::sheet::limits::Limits;
    use crate::sheet::workbook::read_xlsx_with_calamine;

    /// Both readers give the same sheets, cell by cell; `fast_expected` says the fast one must not have
    /// fallen back (so the comparison cannot pass by never using it).
    fn compare(bytes: &[u8], fast_expected: bool) {
        let limits = Limits::default();
        let slow = read_xlsx_with_calamine(bytes, &limits).unwrap();
        let fast = super::read_sheets(bytes, &limits);
        assert_eq!(fast.is_some(), fast_expected);
        let Some(fast) = fast else { return };
        assert_eq!(fast.len(), slow.len());
        for ((name, range), sheet) in fast.iter().zip(&slow) {
            assert_eq!(name, &sheet.name);
            assert_eq!(range.start(), sheet.range.start(), "{name}");
            assert_eq!(range.end(), sheet.range.end(), "{name}");
            for (row, col, cell) in sheet.range.used_cells() {
                assert_eq!(range.get((row, col)), Some(cell), "{name} ({row}, {col})");
            }
            assert_eq!(
                range.used_cells().count(),
                sheet.range.used_cells().count(),
                "{name}"
            );
        }
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
    }

    #[test]
    fn the_payroll_fixtures_read_the_same_with_both_readers() {
        compare(&fixture("fixtures/payroll/seed_003_recap.xlsx"), true);
        compare(&fixture("fixtures/payroll/livre_de_paie_50.xlsx"), true);
        compare(
            &fixture("fixtures/payroll/one_employee_per_sheet.xlsx"),
            true,
        );
    }

    #[test]
    fn the_benchmark_recap_reads_the_same_with_both_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recap.xlsx");
        crate::payroll::bench::write_bench_workbook(&path, 40, 12).unwrap();
        compare(&std::fs::read(&path).unwrap(), true);
    }

    #[test]
    fn a_workbook_with_dates_text_and_odd_strings_reads_the_same_or_falls_back() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("Paie & co").unwrap();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let euro = Format::new().set_num_format("#,##0.00\\ \"€\"");
        ws.write_string(0, 0, "  Salarié(s) de 44A567 <tous> \"x\" ")
            .unwrap();
        ws.write_datetime_with_format(1, 1, ExcelDateTime::from_ymd(2024, 3, 1).unwrap(), &date)
            .unwrap();
        ws.write_number_with_format(2, 2, 55_631.25, &euro).unwrap();
        ws.write_boolean(3, 3, true).unwrap();
        ws.write_formula(4, 4, "=C3*2")
            .unwrap()
            .set_formula_result(4, 4, "111262.5");
        ws.write_string(5, 0, "é è — 1\u{a0}820,04").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        compare(&bytes, true);
        // A `_xHHHH_` escape is left to calamine.
        let mut wb = Workbook::new();
        wb.add_worksheet().write_string(0, 0, "a_x000D_b").unwrap();
        wb.add_worksheet().write_string(1, 1, "c").unwrap();
        compare(&wb.save_to_buffer().unwrap(), false);
    }
}
