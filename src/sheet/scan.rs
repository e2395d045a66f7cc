//! Scans run before calamine opens a file, where calamine would allocate from what the file says:
//! - xlsx: the shared strings table reserves room for the count it declares (`uniqueCount`);
//! - ods: every sheet is read when the file is opened, repeated rows and columns expanded;
//! - xls: every sheet is read when the file is opened, room reserved for the dimension each declares,
//!   then the cells spread over their whole extent.
//!
//! Each scan reads the file's structure only (no cell value) and refuses it, naming the sheet, when
//! what calamine would build is beyond the limits. ods and xls sheets are all held at once, cells and
//! formulas: their extents together are bounded by a quarter of `max_cells`.

use crate::sheet::error::SheetError;
use crate::sheet::limits::Limits;
use quick_xml::events::{BytesStart, Event};
use std::io::{BufReader, Cursor, Read};

/// Share of `max_cells` that ods and xls files (read whole) may fill, all sheets together.
const EAGER_SHARE: u64 = 4;

fn eager_limit(limits: &Limits) -> u64 {
    limits.max_cells / EAGER_SHARE
}

/// Refuses an xlsx whose shared strings table declares more strings than it could hold (each `<si>`
/// takes at least 9 bytes) or than the limits allow.
pub fn check_shared_strings(bytes: &[u8], limits: &Limits) -> Result<(), SheetError> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(()); // The reader reports it.
    };
    let Ok(entry) = archive.by_name("xl/sharedStrings.xml") else {
        return Ok(());
    };
    let size = entry.size();
    let mut head = Vec::with_capacity(4096);
    entry
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| SheetError::damaged("xlsx", Some("sharedStrings.xml"), e))?;
    let Some(at) = memchr::memmem::find(&head, b"<sst") else {
        return Ok(());
    };
    let tag_end = memchr::memchr(b'>', &head[at..]).map_or(head.len(), |e| at + e);
    let tag = &head[at..tag_end];
    for name in [&b" uniqueCount=\""[..], &b" count=\""[..]] {
        if let Some(pos) = memchr::memmem::find(tag, name) {
            let digits: Vec<u8> = tag[pos + name.len()..]
                .iter()
                .take_while(|b| **b != b'"')
                .copied()
                .collect();
            let declared: u64 = std::str::from_utf8(&digits)
                .ok()
                .and_then(|d| d.trim().parse().ok())
                .unwrap_or(u64::MAX);
            if declared > size / 9 + 1 || declared > limits.max_cells {
                return Err(SheetError::TooManyCells {
                    sheet: "sharedStrings.xml".into(),
                    rows: declared,
                    columns: 1,
                    cells: declared,
                    max_cells: limits.max_cells.min(size / 9 + 1),
                });
            }
        }
    }
    Ok(())
}

fn attr_u64(e: &BytesStart<'_>, name: &str) -> Result<Option<u64>, SheetError> {
    for attr in e.attributes().with_checks(false) {
        let attr = attr.map_err(|err| SheetError::damaged("ods", Some("content.xml"), err))?;
        if attr.key.as_ref() == name {
            let text: &str = &attr.value;
            let value = text.trim().parse::<u64>().map_err(|_| {
                SheetError::corrupt(
                    "ods",
                    format!("attribut {} = « {text} » : nombre attendu", name),
                )
            })?;
            return Ok(Some(value));
        }
    }
    Ok(None)
}

fn has_attr(e: &BytesStart<'_>, names: &[&str]) -> bool {
    e.attributes()
        .with_checks(false)
        .flatten()
        .any(|a| names.contains(&a.key.as_ref()))
}

/// A row being scanned: its repeats, the next column, the span of its filled cells.
type RowScan = Option<(u64, u64, Option<(u64, u64)>)>;

/// What a sheet holds once repeats are expanded, as calamine builds it.
#[derive(Default)]
struct Extent {
    rows: Option<(u64, u64)>,
    cols: Option<(u64, u64)>,
    /// Cells calamine keeps row by row before it builds the range (repeats of filled cells expanded).
    stored: u64,
}

impl Extent {
    fn cells(&self) -> (u64, u64, u64) {
        let rows = self.rows.map_or(0, |(a, b)| b - a + 1);
        let cols = self.cols.map_or(0, |(a, b)| b - a + 1);
        (rows, cols, rows.saturating_mul(cols))
    }
}

/// Refuses an ods file whose sheets, repeats expanded, are beyond the limits.
pub fn check_ods(bytes: &[u8], limits: &Limits) -> Result<(), SheetError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| SheetError::damaged("ods", None, e))?;
    let entry = archive
        .by_name("content.xml")
        .map_err(|e| SheetError::damaged("ods", Some("content.xml"), e))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(entry));
    let mut buf = Vec::with_capacity(4096);
    let mut sheet = String::new();
    let mut extent = Extent::default();
    let mut total: u64 = 0;
    let mut row_index: u64 = 0;
    let mut row: RowScan = None;
    let eager = eager_limit(limits);
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| SheetError::damaged("ods", Some("content.xml"), e))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(e) => {
                match e.name().as_ref() {
                    "table:table-row" => {
                        finish_row(&mut row, &mut row_index, &mut extent, &sheet, limits)?
                    }
                    "table:table" => {
                        let (rows, cols, cells) = extent.cells();
                        limits.check_extent(&sheet, rows, cols)?;
                        total = total.saturating_add(cells).saturating_add(extent.stored);
                        if total > eager {
                            return Err(SheetError::TooManyCells {
                                sheet: sheet.clone(),
                                rows,
                                columns: cols,
                                cells: total,
                                max_cells: eager,
                            });
                        }
                    }
                    _ => {}
                }
                buf.clear();
                continue;
            }
            Event::DocType(_) => {
                return Err(SheetError::corrupt("ods", "déclaration DTD refusée"));
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(e) = start else {
            buf.clear();
            continue;
        };
        match e.name().as_ref() {
            "table:table" => {
                sheet = e
                    .attributes()
                    .with_checks(false)
                    .flatten()
                    .find(|a| a.key.as_ref() == "table:name")
                    .map(|a| a.value.to_string())
                    .unwrap_or_default();
                extent = Extent::default();
                row_index = 0;
            }
            "table:table-row" => {
                let repeats = attr_u64(e, "table:number-rows-repeated")?
                    .unwrap_or(1)
                    .max(1);
                row = Some((repeats, 0, None));
                if empty {
                    finish_row(&mut row, &mut row_index, &mut extent, &sheet, limits)?;
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let repeats = attr_u64(e, "table:number-columns-repeated")?
                    .unwrap_or(1)
                    .max(1);
                let filled = !empty || has_attr(e, &["office:value-type", "table:formula"]);
                if let Some((_, next, span)) = row.as_mut() {
                    let first = *next;
                    *next = next.saturating_add(repeats);
                    if filled {
                        let last = *next - 1;
                        *span = Some(match *span {
                            Some((a, _)) => (a, last),
                            None => (first, last),
                        });
                        if last >= limits.max_columns {
                            return Err(SheetError::TooManyColumns {
                                sheet: sheet.clone(),
                                columns: last + 1,
                                max_columns: limits.max_columns,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

fn finish_row(
    row: &mut RowScan,
    row_index: &mut u64,
    extent: &mut Extent,
    sheet: &str,
    limits: &Limits,
) -> Result<(), SheetError> {
    let Some((repeats, _, span)) = row.take() else {
        return Ok(());
    };
    if let Some((first, last)) = span {
        let top = *row_index;
        let bottom = top.saturating_add(repeats - 1);
        extent.rows = Some(match extent.rows {
            Some((a, _)) => (a, bottom),
            None => (top, bottom),
        });
        extent.cols = Some(match extent.cols {
            Some((a, b)) => (a.min(first), b.max(last)),
            None => (first, last),
        });
        extent.stored = extent.stored.saturating_add(last + 1);
        let (rows, cols, _) = extent.cells();
        limits.check_extent(sheet, rows, cols)?;
    }
    *row_index = row_index.saturating_add(repeats);
    Ok(())
}

fn u16_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
    ])))
}

fn u32_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
        *data.get(at + 2)?,
        *data.get(at + 3)?,
    ])))
}

/// Refuses an xls workbook whose declared dimensions or cells are beyond the limits (or inconsistent
/// in ways calamine does not survive).
pub fn check_xls(bytes: &[u8], limits: &Limits) -> Result<(), SheetError> {
    let corrupt = |detail: String| SheetError::corrupt("xls", detail);
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| SheetError::damaged("xls", None, e))?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| file.is_stream(n))
        .ok_or_else(|| corrupt("flux « Workbook » absent".into()))?;
    let mut stream = Vec::new();
    file.open_stream(name)
        .map_err(|e| SheetError::damaged("xls", None, e))?
        .take(limits.max_file_bytes.saturating_mul(2))
        .read_to_end(&mut stream)
        .map_err(|e| SheetError::damaged("xls", None, e))?;
    let eager = eager_limit(limits);
    let mut total: u64 = 0;
    let mut sheet_number = 0u64;
    let mut extent = Extent::default();
    let mut in_sheet = false;
    let mut pos = 0usize;
    // Sheet names, in order, from the BOUNDSHEET records of the workbook globals (the first substream).
    let mut names: Vec<String> = Vec::new();
    let sheet_name = |names: &[String], number: u64| -> String {
        usize::try_from(number)
            .ok()
            .and_then(|n| n.checked_sub(2))
            .and_then(|i| names.get(i).cloned())
            .unwrap_or_else(|| format!("feuille {}", number.saturating_sub(1)))
    };
    let mut close = |extent: &mut Extent, sheet: String| -> Result<(), SheetError> {
        let (rows, cols, cells) = extent.cells();
        limits.check_extent(&sheet, rows, cols)?;
        total = total.saturating_add(cells);
        if total > eager {
            return Err(SheetError::TooManyCells {
                sheet,
                rows,
                columns: cols,
                cells: total,
                max_cells: eager,
            });
        }
        *extent = Extent::default();
        Ok(())
    };
    while pos + 4 <= stream.len() {
        let kind = u16_at(&stream, pos).unwrap_or(0);
        let len = u16_at(&stream, pos + 2).unwrap_or(0) as usize;
        let Some(data) = stream.get(pos + 4..pos + 4 + len) else {
            break; // A truncated last record: calamine reports it.
        };
        pos += 4 + len;
        let cell =
            |row: Option<u64>, first: Option<u64>, last: Option<u64>| match (row, first, last) {
                (Some(r), Some(f), Some(l)) if l >= f => Ok(Some((r, f, l))),
                (Some(_), Some(_), Some(_)) => Err(corrupt(format!(
                    "enregistrement {kind:#06x} : colonnes dans le désordre"
                ))),
                _ => Ok(None),
            };
        let span = match kind {
            0x0809 => {
                if in_sheet {
                    close(&mut extent, sheet_name(&names, sheet_number))?;
                }
                in_sheet = true;
                sheet_number += 1;
                None
            }
            0x000A => {
                if in_sheet {
                    close(&mut extent, sheet_name(&names, sheet_number))?;
                }
                in_sheet = false;
                None
            }
            0x0085 => {
                // BOUNDSHEET: cch at 6, a flags byte at 7 (1: UTF-16), then the name.
                let cch = data.get(6).copied().unwrap_or(0) as usize;
                let wide = data.get(7).is_some_and(|f| f & 1 == 1);
                let raw = data.get(8..).unwrap_or(&[]);
                let name = if wide {
                    let units: Vec<u16> = raw
                        .chunks_exact(2)
                        .take(cch)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect();
                    String::from_utf16_lossy(&units)
                } else {
                    raw.iter().take(cch).map(|b| char::from(*b)).collect()
                };
                names.push(name);
                None
            }
            0x0200 => {
                let (rf, rl, cf, cl) = match data.len() {
                    10 => (
                        u16_at(data, 0),
                        u16_at(data, 2),
                        u16_at(data, 4),
                        u16_at(data, 6),
                    ),
                    14 | 16 => (
                        u32_at(data, 0),
                        u32_at(data, 4),
                        u16_at(data, 8),
                        u16_at(data, 10),
                    ),
                    _ => (None, None, None, None),
                };
                if let (Some(rf), Some(rl), Some(mut cf), Some(cl)) = (rf, rl, cf, cl) {
                    if cf > 0xFF || cl < cf {
                        cf = 0;
                    }
                    if rl >= 1 && cl >= 1 {
                        if rl - 1 < rf || cl - 1 < cf {
                            return Err(corrupt(format!(
                                "feuille « {} » : dimension incohérente",
                                sheet_name(&names, sheet_number)
                            )));
                        }
                        limits.check_extent(&sheet_name(&names, sheet_number), rl - rf, cl - cf)?;
                    }
                }
                None
            }
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                cell(u16_at(data, 0), u16_at(data, 2), u16_at(data, 2))?
            }
            0x00BD => {
                let last = data.len().checked_sub(2).and_then(|at| u16_at(data, at));
                cell(u16_at(data, 0), u16_at(data, 2), last)?
            }
            _ => None,
        };
        if let Some((row, first, last)) = span {
            extent.rows = Some(match extent.rows {
                Some((a, b)) => (a.min(row), b.max(row)),
                None => (row, row),
            });
            extent.cols = Some(match extent.cols {
                Some((a, b)) => (a.min(first), b.max(last)),
                None => (first, last),
            });
            extent.stored = extent.stored.saturating_add(last - first + 1);
            let (rows, cols, _) = extent.cells();
            limits.check_extent(&sheet_name(&names, sheet_number), rows, cols)?;
            if extent.stored > eager {
                return Err(SheetError::TooManyCells {
                    sheet: sheet_name(&names, sheet_number),
                    rows,
                    columns: cols,
                    cells: extent.stored,
                    max_cells: eager,
                });
            }
        }
    }
    if in_sheet {
        close(&mut extent, sheet_name(&names, sheet_number))?;
    }
    Ok(())
}

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FREESECT: u32 = 0xFFFF_FFFF;
const MINI_CUTOFF: u64 = 4096;

/// Refuses an OLE compound file (xls, encrypted xlsx) whose sector chains calamine could not walk
/// safely: a chain that loops or leaves the file (calamine follows chains until their end, so a
/// loop is an endless allocation), or a stream longer than its chain (calamine allocates the declared
/// size). Found by the fuzz tests: a mutated xls made calamine ask for 8 GiB.
pub fn check_compound_file(bytes: &[u8]) -> Result<(), SheetError> {
    let bad = |what: &str| SheetError::corrupt("xls", format!("conteneur OLE endommagé ({what})"));
    let u16_le = |at: usize| u16_at(bytes, at).ok_or_else(|| bad("en-tête tronqué"));
    let u32_le = |at: usize| {
        u32_at(bytes, at)
            .map(|v| v as u32)
            .ok_or_else(|| bad("en-tête tronqué"))
    };
    let shift = u16_le(30)?;
    if shift != 9 && shift != 12 {
        return Err(bad("taille de secteur"));
    }
    let sector_size = 1usize << shift;
    let mini_shift = u16_le(32)?;
    if mini_shift != 6 {
        return Err(bad("taille de mini-secteur"));
    }
    let body = bytes.len().saturating_sub(sector_size.max(512));
    let sectors = body.div_ceil(sector_size) as u64;
    let sector = |id: u32| -> Result<&[u8], SheetError> {
        if u64::from(id) >= sectors {
            return Err(bad("secteur hors du fichier"));
        }
        let start = sector_size.max(512) + id as usize * sector_size;
        Ok(&bytes[start..(start + sector_size).min(bytes.len())])
    };
    // The FAT sectors: 109 in the header, then the DIFAT chain (bounded by the file's sectors).
    let mut fat_ids: Vec<u32> = Vec::new();
    for i in 0..109 {
        let id = u32_le(76 + i * 4)?;
        if id < ENDOFCHAIN - 3 {
            fat_ids.push(id);
        }
    }
    let mut difat = u32_le(68)?;
    let mut hops = 0u64;
    while difat < ENDOFCHAIN - 3 {
        hops += 1;
        if hops > sectors {
            return Err(bad("chaîne DIFAT en boucle"));
        }
        let s = sector(difat)?;
        let entries = sector_size / 4 - 1;
        for i in 0..entries {
            let id = u32_at(s, i * 4).unwrap_or(u64::from(FREESECT)) as u32;
            if id < ENDOFCHAIN - 3 {
                fat_ids.push(id);
            }
        }
        difat = u32_at(s, entries * 4).unwrap_or(u64::from(ENDOFCHAIN)) as u32;
    }
    if fat_ids.len() as u64 > sectors {
        return Err(bad("table d'allocation plus grande que le fichier"));
    }
    let mut fat: Vec<u32> = Vec::with_capacity(fat_ids.len() * sector_size / 4);
    for id in fat_ids {
        let s = sector(id)?;
        fat.extend(
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    // The length (in sectors) of the chain from `start`, or an error for a loop or a stray pointer.
    let chain = |start: u32, table: &[u32], limit: u64| -> Result<u64, SheetError> {
        let mut id = start;
        let mut n = 0u64;
        while id != ENDOFCHAIN {
            n += 1;
            if n > limit {
                return Err(bad("chaîne de secteurs en boucle"));
            }
            id = *table
                .get(id as usize)
                .ok_or_else(|| bad("chaîne de secteurs hors du fichier"))?;
        }
        Ok(n)
    };
    let dir_start = u32_le(48)?;
    let dir_sectors = chain(dir_start, &fat, sectors)?;
    // Read the directory.
    let mut dir = Vec::with_capacity((dir_sectors as usize) * sector_size);
    let mut id = dir_start;
    while id != ENDOFCHAIN {
        dir.extend_from_slice(sector(id)?);
        id = fat[id as usize];
    }
    let mini_fat_start = u32_le(60)?;
    let mini_fat: Vec<u32> = if mini_fat_start == ENDOFCHAIN || mini_fat_start == FREESECT {
        Vec::new()
    } else {
        chain(mini_fat_start, &fat, sectors)?;
        let mut table = Vec::new();
        let mut id = mini_fat_start;
        while id != ENDOFCHAIN {
            table.extend(
                sector(id)?
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            id = fat[id as usize];
        }
        table
    };
    let mut mini_stream_bytes = 0u64;
    for (index, entry) in dir.chunks_exact(128).enumerate() {
        let kind = entry[66];
        if kind != 2 && kind != 5 {
            continue;
        }
        let start = u32::from_le_bytes([entry[116], entry[117], entry[118], entry[119]]);
        let size = u64::from(u32::from_le_bytes([
            entry[120], entry[121], entry[122], entry[123],
        ]));
        let root = kind == 5 || index == 0;
        if size == 0 || start == ENDOFCHAIN || start == FREESECT {
            continue;
        }
        if root || size >= MINI_CUTOFF {
            let n = chain(start, &fat, sectors)?;
            if size > n * sector_size as u64 {
                return Err(bad("flux plus long que sa chaîne"));
            }
            if root {
                mini_stream_bytes = n * sector_size as u64;
            }
        } else {
            let minis = mini_stream_bytes / 64;
            let n = chain(start, &mini_fat, minis.max(1))?;
            if size > n * 64 {
                return Err(bad("flux plus long que sa chaîne"));
            }
        }
    }
    Ok(())
}
