//! Limits on what reading a workbook may cost (TIGER_STYLE: a limit on everything), and the one
//! decompression-bomb guard of every archive the service opens (xlsx, ods).
//!
//! The defaults admit the largest file a reader takes: a 100 000-employee payroll recap (ten times
//! the 10 000-employee benchmark recap, 123 MiB of xlsx, 4.7 million rows in ten sheets), and
//! refuse what would cost more memory than a reader may take: a sheet's extent (from its first to its
//! last filled cell, rows × columns) is bounded before anything is allocated for it, so a 1.5 KB file
//! with one cell at A1 and one at XFD1048576 is refused in microseconds. Each reader narrows them
//! (`Limits::template`, `Limits::candidates`).

use crate::sheet::error::SheetError;
use std::io::{Cursor, Read};

/// Largest file accepted by default: 256 MiB (the 100 000-employee benchmark recap is 123 MiB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Most rows read, all sheets together: the 100 000-employee benchmark recap has 4.7 million.
pub const MAX_ROWS: u64 = 6_000_000;
/// Most rows of one sheet: Excel's own maximum.
pub const EXCEL_MAX_ROWS: u64 = 1_048_576;
/// Most columns of a sheet: a livre de paie has one column per rubrique, a few hundred at most.
pub const MAX_COLUMNS: u64 = 2_000;
/// Largest extent of one sheet, rows × columns: each cell of the extent takes 32 bytes, so one sheet
/// takes at most 384 MiB while it is read (a 100 000-employee livre de paie of 80 columns is 8 million).
pub const MAX_CELLS: u64 = 12_000_000;
/// Largest extent of all sheets together (each read and dropped in turn): 64 million cells.
pub const MAX_TOTAL_CELLS: u64 = 64_000_000;
/// Most bytes an xlsx/ods archive may expand to, all entries together: 3 GiB (room for the XML of the
/// 100 000-employee benchmark recap, which compresses about ten times).
pub const MAX_UNCOMPRESSED_BYTES: u64 = 3 * 1024 * 1024 * 1024;
/// Highest compression ratio of one archive entry larger than [`RATIO_CHECK_MIN_BYTES`]. Spreadsheet
/// XML compresses 5 to 30 times; deflate bombs reach about 1 000.
pub const MAX_COMPRESSION_RATIO: u64 = 200;
/// Entries smaller than this are not ratio-checked (tiny, very repetitive XML parts compress well).
pub const RATIO_CHECK_MIN_BYTES: u64 = 1024 * 1024;
/// Most entries in an archive.
pub const MAX_ARCHIVE_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    /// All sheets together (one sheet: at most Excel's 1 048 576 as well).
    pub max_rows: u64,
    /// Per sheet.
    pub max_columns: u64,
    /// Extent of one sheet (rows × columns from its first to its last filled cell).
    pub max_cells: u64,
    /// Extents of all sheets together.
    pub max_total_cells: u64,
    pub max_uncompressed_bytes: u64,
    pub max_compression_ratio: u64,
    pub max_archive_entries: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: MAX_FILE_BYTES,
            max_rows: MAX_ROWS,
            max_columns: MAX_COLUMNS,
            max_cells: MAX_CELLS,
            max_total_cells: MAX_TOTAL_CELLS,
            max_uncompressed_bytes: MAX_UNCOMPRESSED_BYTES,
            max_compression_ratio: MAX_COMPRESSION_RATIO,
            max_archive_entries: MAX_ARCHIVE_ENTRIES,
        }
    }
}

impl Limits {
    /// A filled financial template: 20 MiB, 100 000 rows, 1 million cells per sheet.
    pub fn template() -> Limits {
        Limits {
            max_file_bytes: 20 * 1024 * 1024,
            max_rows: 100_000,
            max_columns: 200,
            max_cells: 1_000_000,
            max_total_cells: 4_000_000,
            max_uncompressed_bytes: 256 * 1024 * 1024,
            ..Limits::default()
        }
    }

    /// A candidate base: 20 MiB, 100 000 rows of at most 64 columns.
    pub fn candidates() -> Limits {
        Limits {
            max_file_bytes: 20 * 1024 * 1024,
            max_rows: 100_001,
            max_columns: 64,
            max_cells: 6_400_064,
            max_total_cells: 6_400_064,
            max_uncompressed_bytes: 256 * 1024 * 1024,
            ..Limits::default()
        }
    }

    pub fn check_file_size(&self, size_bytes: u64) -> Result<(), SheetError> {
        if size_bytes > self.max_file_bytes {
            return Err(SheetError::FileTooLarge {
                size_bytes,
                max_bytes: self.max_file_bytes,
            });
        }
        Ok(())
    }

    /// Checks one sheet's extent (rows × columns) before anything is allocated for it.
    pub fn check_extent(&self, sheet: &str, rows: u64, columns: u64) -> Result<(), SheetError> {
        let max_rows = self.max_rows.min(EXCEL_MAX_ROWS);
        if rows > max_rows {
            return Err(SheetError::TooManyRows {
                sheet: sheet.to_string(),
                rows,
                max_rows,
            });
        }
        if columns > self.max_columns {
            return Err(SheetError::TooManyColumns {
                sheet: sheet.to_string(),
                columns,
                max_columns: self.max_columns,
            });
        }
        let cells = rows.saturating_mul(columns);
        if cells > self.max_cells {
            return Err(SheetError::TooManyCells {
                sheet: sheet.to_string(),
                rows,
                columns,
                cells,
                max_cells: self.max_cells,
            });
        }
        Ok(())
    }

    /// The decompression-bomb guard, for every zip container (xlsx, ods) before any reader opens it.
    /// The sizes declared by the archive are checked first (entry count, total, per-entry ratio), then
    /// every entry is actually inflated into a sink, at most one byte beyond its declared size, so that
    /// an archive lying about its sizes is refused too.
    pub fn check_archive(&self, bytes: &[u8], format: &str) -> Result<(), SheetError> {
        self.check_declared_sizes(bytes, format)?;
        self.check_inflated_sizes(bytes, format)
    }

    /// The first half of [`Limits::check_archive`]: the sizes the archive declares. A reader that
    /// inflates each entry itself, through [`read_entry`], needs no more (each entry it reads is
    /// checked against its declared size as it is inflated).
    pub fn check_declared_sizes(&self, bytes: &[u8], format: &str) -> Result<(), SheetError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| SheetError::damaged(format, Some("archive"), e))?;
        if archive.len() > self.max_archive_entries {
            return Err(SheetError::DecompressionBomb {
                detail: format!(
                    "{} entrées dans l'archive (maximum {})",
                    archive.len(),
                    self.max_archive_entries
                ),
            });
        }
        let mut declared_total: u64 = 0;
        for index in 0..archive.len() {
            let entry = archive.by_index_raw(index).map_err(|e| match e {
                zip::result::ZipError::UnsupportedArchive(msg) if msg.contains("Password") => {
                    SheetError::PasswordProtected
                }
                e => SheetError::damaged(format, Some("archive"), e),
            })?;
            if entry.encrypted() {
                return Err(SheetError::PasswordProtected);
            }
            let size = entry.size();
            let compressed = entry.compressed_size().max(1);
            declared_total = declared_total.saturating_add(size);
            if size >= RATIO_CHECK_MIN_BYTES && size / compressed > self.max_compression_ratio {
                return Err(SheetError::DecompressionBomb {
                    detail: format!(
                        "l'entrée « {} » passe de {} à {} octets (rapport {} ; maximum {})",
                        entry.name(),
                        compressed,
                        size,
                        size / compressed,
                        self.max_compression_ratio
                    ),
                });
            }
        }
        // The whole archive too: many entries, each too small for its own ratio to be checked, may
        // still hold a bomb (900 entries of 1 MB of XML in 2.3 MB).
        let file_bytes = (bytes.len() as u64).max(1);
        if declared_total >= RATIO_CHECK_MIN_BYTES
            && declared_total / file_bytes > self.max_compression_ratio
        {
            return Err(SheetError::DecompressionBomb {
                detail: format!(
                    "{} octets décompressés pour un fichier de {} octets (rapport {} ; maximum {})",
                    declared_total,
                    file_bytes,
                    declared_total / file_bytes,
                    self.max_compression_ratio
                ),
            });
        }
        if declared_total > self.max_uncompressed_bytes {
            return Err(SheetError::DecompressionBomb {
                detail: format!(
                    "{} octets une fois décompressée (maximum {})",
                    declared_total, self.max_uncompressed_bytes
                ),
            });
        }
        Ok(())
    }

    /// The second half of [`Limits::check_archive`]: every entry inflated into a sink, at most one byte
    /// beyond its declared size (for readers, such as calamine's, that do not check sizes themselves).
    pub fn check_inflated_sizes(&self, bytes: &[u8], format: &str) -> Result<(), SheetError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| SheetError::damaged(format, Some("archive"), e))?;
        // One buffer for every entry, large enough that inflating runs in long stretches.
        let mut buffer = vec![0u8; 256 * 1024];
        for index in 0..archive.len() {
            let mut entry = archive
                .by_index(index)
                .map_err(|e| SheetError::damaged(format, Some("archive"), e))?;
            let declared = entry.size();
            let name = entry.name().to_string();
            let mut limited = (&mut entry).take(declared.saturating_add(1));
            let mut inflated: u64 = 0;
            loop {
                let n = limited.read(&mut buffer).map_err(|e| {
                    SheetError::damaged(format, Some(&format!("entrée « {name} »")), e)
                })?;
                if n == 0 {
                    break;
                }
                inflated += n as u64;
            }
            if inflated != declared {
                return Err(SheetError::DecompressionBomb {
                    detail: format!(
                        "l'entrée « {name} » annonce {declared} octets et en contient {}",
                        if inflated > declared {
                            "davantage".to_string()
                        } else {
                            inflated.to_string()
                        }
                    ),
                });
            }
        }
        Ok(())
    }
}

/// An entry of an archive whose declared sizes passed [`Limits::check_declared_sizes`], inflated at
/// most one byte beyond its declared size and refused as a bomb when its content is not that size.
pub fn read_entry<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    format: &str,
) -> Result<Option<Vec<u8>>, SheetError> {
    let Ok(mut entry) = archive.by_name(name) else {
        return Ok(None);
    };
    let declared = entry.size();
    let mut out = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(1 << 30));
    (&mut entry)
        .take(declared.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| SheetError::damaged(format, Some(&format!("entrée « {name} »")), e))?;
    if out.len() as u64 != declared {
        return Err(SheetError::DecompressionBomb {
            detail: format!(
                "l'entrée « {name} » annonce {declared} octets et en contient {}",
                if out.len() as u64 > declared {
                    "davantage".to_string()
                } else {
                    out.len().to_string()
                }
            ),
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_cell_extent_is_refused_by_its_area_though_rows_and_columns_pass() {
        let limits = Limits::default();
        let err = limits.check_extent("Feuil1", 1_048_576, 2_000).unwrap_err();
        assert!(
            matches!(
                err,
                SheetError::TooManyCells {
                    cells: 2_097_152_000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err
            .to_string()
            .starts_with("feuille « Feuil1 » : 2097152000 cellules"));
        assert!(limits.check_extent("Feuil1", 470_001, 8).is_ok());
    }
}
