//! Excel 2003 XML spreadsheets (SpreadsheetML, `.xml`), which some payroll software and payroll APIs
//! export: `<Workbook><Worksheet ss:Name><Table><Row ss:Index><Cell ss:Index ss:MergeAcross><Data
//! ss:Type="String|Number|DateTime|Boolean|Error">`.
//!
//! A streaming read under the same limits as every workbook (the file's size, each sheet's extent and
//! cells as they are met, all sheets together); a document type declaration (DTD) is refused, and so is
//! any entity other than the five predefined ones and character references: no entity expansion.

use crate::sheet::error::SheetError;
use crate::sheet::limits::Limits;
use crate::sheet::workbook::{Collector, Sheet};
use calamine::{CellErrorType, Data};
use quick_xml::events::{BytesStart, Event};

const NAMESPACE: &[u8] = b"urn:schemas-microsoft-com:office:spreadsheet";

/// Whether the bytes look like a SpreadsheetML workbook (an XML document naming its namespace near
/// its start).
pub fn looks_like(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let head = &bytes[start..bytes.len().min(start + 4096)];
    head.starts_with(b"<?xml") && memchr::memmem::find(head, NAMESPACE).is_some()
        || head.starts_with(b"<Workbook")
}

fn corrupt(detail: impl std::fmt::Display) -> SheetError {
    SheetError::corrupt("xml", detail)
}

fn damaged(e: impl std::fmt::Display) -> SheetError {
    SheetError::damaged("xml", None, e)
}

/// The value of the attribute whose local name is `local` (`ss:Index`, `Index`).
fn attr(e: &BytesStart<'_>, local: &str) -> Result<Option<String>, SheetError> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(damaged)?;
        let key: &str = a.key.as_ref();
        if self::local(key) == local {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(damaged)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// A 1-based index attribute (`ss:Index`), as a 0-based position.
fn index(e: &BytesStart<'_>, what: &str) -> Result<Option<u32>, SheetError> {
    match attr(e, "Index")? {
        None => Ok(None),
        Some(text) => match text.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Some(n - 1)),
            _ => Err(corrupt(format!("{what} : index « {text} » invalide"))),
        },
    }
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Every sheet of the workbook, each within the limits.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Vec<Sheet>, SheetError> {
    limits.check_file_size(bytes.len() as u64)?;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut sheets = Vec::new();
    let mut total_rows: u64 = 0;
    let mut total_cells: u64 = 0;
    let mut collector: Option<Collector<'_>> = None;
    let mut sheet_name = String::new();
    let mut row: u32 = 0;
    let mut next_row: u32 = 0;
    let mut col: u32 = 0;
    let mut next_col: u32 = 0;
    // Inside a `<Data>`: its type and the text gathered so far.
    let mut data: Option<(String, String)> = None;
    let mut value: Option<Data> = None;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(damaged)?;
        match event {
            Event::DocType(_) => {
                return Err(corrupt("déclaration de type de document (DTD) refusée"));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match local(e.name().as_ref()) {
                    "Worksheet" => {
                        sheet_name = attr(e, "Name")?
                            .unwrap_or_else(|| format!("Feuille{}", sheets.len() + 1));
                        collector = Some(Collector::new(&sheet_name, limits));
                        next_row = 0;
                        if empty {
                            sheets.push(Sheet::new(sheet_name.clone(), calamine::Range::empty()));
                            collector = None;
                        }
                    }
                    "Row" => {
                        row = index(e, &sheet_name)?.unwrap_or(next_row);
                        next_row = row
                            .checked_add(1)
                            .ok_or_else(|| corrupt("ligne hors limites"))?;
                        next_col = 0;
                    }
                    "Cell" => {
                        col = index(e, &sheet_name)?.unwrap_or(next_col);
                        let merge: u32 = match attr(e, "MergeAcross")? {
                            Some(t) => t
                                .trim()
                                .parse()
                                .map_err(|_| corrupt(format!("MergeAcross « {t} » invalide")))?,
                            None => 0,
                        };
                        next_col = col
                            .checked_add(merge)
                            .and_then(|c| c.checked_add(1))
                            .ok_or_else(|| corrupt("colonne hors limites"))?;
                        value = None;
                    }
                    "Data" if !empty => {
                        data = Some((attr(e, "Type")?.unwrap_or_default(), String::new()));
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = data.as_mut() {
                    text.push_str(&t.xml10_content());
                    if text.len() > 32_767 {
                        return Err(corrupt("texte de cellule de plus de 32 767 caractères"));
                    }
                }
            }
            Event::CData(t) => {
                if let Some((_, text)) = data.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(damaged)?
                } else {
                    match &*r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        other => {
                            return Err(corrupt(format!("entité « &{other}; » refusée")));
                        }
                    }
                };
                if let (Some((_, text)), Some(ch)) = (data.as_mut(), ch) {
                    text.push(ch);
                }
            }
            Event::End(e) => match local(e.name().as_ref()) {
                "Data" => {
                    if let Some((kind, text)) = data.take() {
                        value = Some(typed(&kind, text, &sheet_name)?);
                    }
                }
                "Cell" => {
                    if let (Some(v), Some(c)) = (value.take(), collector.as_mut()) {
                        if !matches!(&v, Data::String(s) if s.trim().is_empty()) {
                            c.push(row, col, v)?;
                        }
                    }
                }
                "Worksheet" => {
                    if let Some(c) = collector.take() {
                        let range = c.into_range();
                        total_rows = total_rows.saturating_add(range.height() as u64);
                        total_cells = total_cells
                            .saturating_add(range.height() as u64 * range.width() as u64);
                        if total_rows > limits.max_rows {
                            return Err(SheetError::TooManyRows {
                                sheet: sheet_name.clone(),
                                rows: total_rows,
                                max_rows: limits.max_rows,
                            });
                        }
                        if total_cells > limits.max_total_cells {
                            return Err(SheetError::TooManyCells {
                                sheet: sheet_name.clone(),
                                rows: range.height() as u64,
                                columns: range.width() as u64,
                                cells: total_cells,
                                max_cells: limits.max_total_cells,
                            });
                        }
                        sheets.push(Sheet::new(sheet_name.clone(), range));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if sheets.is_empty() {
        return Err(corrupt(
            "aucune feuille (élément Worksheet) dans le document",
        ));
    }
    Ok(sheets)
}

fn typed(kind: &str, text: String, sheet: &str) -> Result<Data, SheetError> {
    Ok(match kind {
        "Number" => match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Data::Float(n),
            _ => {
                return Err(corrupt(format!(
                    "feuille « {sheet} » : nombre « {} » illisible",
                    text.trim()
                )))
            }
        },
        "DateTime" => Data::DateTimeIso(text.trim().to_string()),
        "Boolean" => Data::Bool(matches!(text.trim(), "1" | "true" | "TRUE")),
        "Error" => Data::Error(match text.trim() {
            "#DIV/0!" => CellErrorType::Div0,
            "#N/A" => CellErrorType::NA,
            "#NAME?" => CellErrorType::Name,
            "#NULL!" => CellErrorType::Null,
            "#NUM!" => CellErrorType::Num,
            "#REF!" => CellErrorType::Ref,
            _ => CellErrorType::Value,
        }),
        _ => Data::String(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n\
             <Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" \
             xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\">{body}</Workbook>"
        )
    }

    #[test]
    fn cells_are_placed_by_their_indexes_and_merges() {
        let xml = doc(
            "<Worksheet ss:Name=\"Paie &amp; co\"><Table>\
             <Row><Cell><Data ss:Type=\"String\">MATRICULE</Data></Cell>\
             <Cell ss:MergeAcross=\"1\"><Data ss:Type=\"String\">BRUT</Data></Cell>\
             <Cell><Data ss:Type=\"String\">x&#233;</Data></Cell></Row>\
             <Row ss:Index=\"3\"><Cell ss:Index=\"2\"><Data ss:Type=\"Number\">1820.04</Data></Cell>\
             <Cell><Data ss:Type=\"DateTime\">2024-03-01T00:00:00.000</Data></Cell></Row>\
             </Table></Worksheet>",
        );
        assert!(looks_like(xml.as_bytes()));
        let sheets = read(xml.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(sheets.len(), 1);
        let s = &sheets[0];
        assert_eq!(s.name, "Paie & co");
        assert_eq!(s.get_abs(0, 0), &Data::String("MATRICULE".into()));
        assert_eq!(s.get_abs(0, 1), &Data::String("BRUT".into()));
        assert_eq!(s.get_abs(0, 3), &Data::String("xé".into()));
        assert_eq!(s.get_abs(2, 1), &Data::Float(1820.04));
        assert_eq!(
            s.get_abs(2, 2),
            &Data::DateTimeIso("2024-03-01T00:00:00.000".into())
        );
    }

    #[test]
    fn a_dtd_or_an_unknown_entity_is_refused() {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY lol \"lol\">]>\
                   <Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"></Workbook>";
        let err = read(xml.as_bytes(), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("DTD"), "{err}");
        let xml = doc("<Worksheet ss:Name=\"A\"><Table><Row><Cell><Data ss:Type=\"String\">&lol;</Data></Cell></Row></Table></Worksheet>");
        let err = read(xml.as_bytes(), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("&lol;"), "{err}");
    }

    #[test]
    fn a_far_cell_is_refused_naming_the_sheet() {
        let xml = doc(
            "<Worksheet ss:Name=\"Feuil1\"><Table><Row><Cell><Data ss:Type=\"String\">a</Data></Cell></Row>\
             <Row ss:Index=\"1048576\"><Cell ss:Index=\"16384\"><Data ss:Type=\"Number\">1</Data></Cell></Row>\
             </Table></Worksheet>",
        );
        let err = read(xml.as_bytes(), &Limits::default()).unwrap_err();
        assert!(
            matches!(&err, SheetError::TooManyColumns { sheet, .. } | SheetError::TooManyCells { sheet, .. } if sheet == "Feuil1"),
            "{err}"
        );
    }
}
