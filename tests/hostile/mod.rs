//! Hostile workbooks, built in memory: far cells (xlsx, ods, xls, SpreadsheetML), lying dimensions,
//! decompression bombs. Shared by the readers' regression tests and the fuzz tests.
#![allow(dead_code)]

use std::io::{Cursor, Write};

/// A cell value for [`xlsx`].
pub enum V<'a> {
    S(&'a str),
    N(f64),
}

/// `A1` → (0, 0); `XFD1048576` → (1048575, 16383).
pub fn pos(reference: &str) -> (u32, u32) {
    let letters: String = reference
        .chars()
        .take_while(|c| c.is_ascii_uppercase())
        .collect();
    let mut col = 0u32;
    for b in letters.bytes() {
        col = col * 26 + u32::from(b - b'A') + 1;
    }
    let row: u32 = reference[letters.len()..].parse().unwrap();
    (row - 1, col - 1)
}

fn col_letters(mut n: u32) -> String {
    n += 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(char::from(b'A' + ((n - 1) % 26) as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A sheet for [`xlsx`]: its name, its cells (`A1`-style reference, value), its declared dimension.
pub type SheetSpec<'a> = (&'a str, Vec<(&'a str, V<'a>)>, Option<&'a str>);

/// A minimal xlsx (inline strings): each sheet's cells, and the `<dimension>` each declares (`None`:
/// no dimension element).
pub fn xlsx(sheets: &[SheetSpec<'_>]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let put = |zip: &mut zip::ZipWriter<Cursor<Vec<u8>>>, name: &str, content: &str| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    };
    let overrides: String = (1..=sheets.len())
        .map(|i| format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"))
        .collect();
    put(&mut zip, "[Content_Types].xml", &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>{overrides}</Types>"));
    put(&mut zip, "_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>");
    let sheet_elements: String = sheets
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| {
            format!(
                "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
                escape(name),
                i + 1,
                i + 1
            )
        })
        .collect();
    put(&mut zip, "xl/workbook.xml", &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{sheet_elements}</sheets></workbook>"));
    let rels: String = (1..=sheets.len())
        .map(|i| format!("<Relationship Id=\"rId{i}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"))
        .collect();
    put(&mut zip, "xl/_rels/workbook.xml.rels", &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"));
    for (i, (_, cells, dimension)) in sheets.iter().enumerate() {
        let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
        for (reference, value) in cells {
            let (row, _) = pos(reference);
            let cell = match value {
                V::S(s) => format!(
                    "<c r=\"{reference}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                    escape(s)
                ),
                V::N(n) => format!("<c r=\"{reference}\"><v>{n}</v></c>"),
            };
            rows.entry(row).or_default().push(cell);
        }
        let body: String = rows
            .iter()
            .map(|(r, cs)| format!("<row r=\"{}\">{}</row>", r + 1, cs.concat()))
            .collect();
        let dim = dimension
            .map(|d| format!("<dimension ref=\"{d}\"/>"))
            .unwrap_or_default();
        put(&mut zip, &format!("xl/worksheets/sheet{}.xml", i + 1), &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">{dim}<sheetData>{body}</sheetData></worksheet>"));
    }
    zip.finish().unwrap().into_inner()
}

/// One sheet, one cell at A1 and one at `far` (e.g. `XFD1048576`): about 1.5 KB.
pub fn far_cell_xlsx(sheet: &str, a1: &str, far: &str) -> Vec<u8> {
    xlsx(&[(sheet, vec![("A1", V::S(a1)), (far, V::N(1.0))], None)])
}

/// An ods whose sheet holds A1 and a cell at (`row`, `col`), reached through repeated rows and columns.
pub fn far_cell_ods(sheet: &str, row: u32, col: u32) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", deflated).unwrap();
    zip.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\"><manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/><manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>").unwrap();
    zip.start_file("content.xml", deflated).unwrap();
    let middle = if row > 1 {
        format!(
            "<table:table-row table:number-rows-repeated=\"{}\"><table:table-cell/></table:table-row>",
            row - 1
        )
    } else {
        String::new()
    };
    let gap = if col > 0 {
        format!("<table:table-cell table:number-columns-repeated=\"{col}\"/>")
    } else {
        String::new()
    };
    write!(zip, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\"><office:body><office:spreadsheet><table:table table:name=\"{sheet}\"><table:table-row><table:table-cell office:value-type=\"string\"><text:p>Période du 01/01/2024 au 31/12/2024</text:p></table:table-cell></table:table-row>{middle}<table:table-row>{gap}<table:table-cell office:value-type=\"float\" office:value=\"1\"><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>").unwrap();
    zip.finish().unwrap().into_inner()
}

fn record(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

fn number(row: u16, col: u16, value: f64) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&row.to_le_bytes());
    d.extend_from_slice(&col.to_le_bytes());
    d.extend_from_slice(&0u16.to_le_bytes());
    d.extend_from_slice(&value.to_le_bytes());
    d
}

/// A BIFF8 xls workbook of one sheet holding numbers at `cells`, declaring `dimension` (first row,
/// last row + 1, first column, last column + 1).
pub fn xls(sheet: &str, cells: &[(u16, u16, f64)], dimension: (u32, u32, u16, u16)) -> Vec<u8> {
    let bof = |dt: u16| {
        let mut d = vec![0u8; 16];
        d[0..2].copy_from_slice(&0x0600u16.to_le_bytes());
        d[2..4].copy_from_slice(&dt.to_le_bytes());
        d
    };
    let mut globals = Vec::new();
    record(&mut globals, 0x0809, &bof(0x0005));
    record(&mut globals, 0x0042, &1252u16.to_le_bytes()); // CODEPAGE
    let boundsheet_at = globals.len();
    let mut bs = vec![0u8; 8];
    bs[6] = sheet.len() as u8;
    bs.extend_from_slice(sheet.as_bytes());
    record(&mut globals, 0x0085, &bs);
    record(&mut globals, 0x000A, &[]);
    let sheet_offset = globals.len() as u32;
    globals[boundsheet_at + 4..boundsheet_at + 8].copy_from_slice(&sheet_offset.to_le_bytes());
    let mut stream = globals;
    record(&mut stream, 0x0809, &bof(0x0010));
    let mut dims = Vec::new();
    dims.extend_from_slice(&dimension.0.to_le_bytes());
    dims.extend_from_slice(&dimension.1.to_le_bytes());
    dims.extend_from_slice(&dimension.2.to_le_bytes());
    dims.extend_from_slice(&dimension.3.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    record(&mut stream, 0x0200, &dims);
    for (row, col, value) in cells {
        record(&mut stream, 0x0203, &number(*row, *col, *value));
    }
    record(&mut stream, 0x000A, &[]);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    file.create_stream("/Workbook")
        .unwrap()
        .write_all(&stream)
        .unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}

/// An SpreadsheetML (Excel 2003 XML) workbook with A1 and one far cell.
pub fn far_cell_spreadsheetml(sheet: &str, row: u32, col: u32) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\"><Worksheet ss:Name=\"{sheet}\"><Table><Row><Cell><Data ss:Type=\"String\">a</Data></Cell></Row><Row ss:Index=\"{}\"><Cell ss:Index=\"{}\"><Data ss:Type=\"Number\">1</Data></Cell></Row></Table></Worksheet></Workbook>",
        row + 1,
        col + 1
    )
    .into_bytes()
}

/// A decompression bomb shaped like an xlsx: `entries` sheets of `entry_bytes` of XML each (every
/// entry under the 1 MiB below which a single entry's ratio is not checked), all compressed from the
/// same bytes. 900 entries of 1 000 000 bytes: about 2.3 MB holding 900 MB.
pub fn bomb_xlsx(entries: usize, entry_bytes: usize) -> Vec<u8> {
    // One entry compressed once, then copied raw under every name.
    let mut one = zip::ZipWriter::new(Cursor::new(Vec::new()));
    one.start_file(
        "x",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9)),
    )
    .unwrap();
    let head = b"<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
    let tail = b"</sheetData></worksheet>";
    let row = b"<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>";
    one.write_all(head).unwrap();
    let mut written = head.len() + tail.len();
    while written + row.len() <= entry_bytes {
        one.write_all(row).unwrap();
        written += row.len();
    }
    one.write_all(tail).unwrap();
    let single = one.finish().unwrap().into_inner();
    let mut source = zip::ZipArchive::new(Cursor::new(single)).unwrap();
    let base = xlsx(&[("Feuil1", vec![("A1", V::S("x"))], Some("A1"))]);
    let mut base = zip::ZipArchive::new(Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..base.len() {
        let entry = base.by_index(i).unwrap();
        out.raw_copy_file(entry).unwrap();
    }
    for i in 0..entries {
        let entry = source.by_index(0).unwrap();
        out.raw_copy_file_rename(entry, format!("xl/worksheets/bomb{i}.xml"))
            .unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A column reference for tests: `col_letters(1999)` = `BXX`.
pub fn column(n: u32) -> String {
    col_letters(n)
}
