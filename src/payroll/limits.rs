//! Limits on what an import may cost (TIGER_STYLE: a limit on everything). Defaults are constants,
//! chosen so that the benchmark file (10 000 employees × 40 rubriques, about 480 000 rows) passes and
//! a decompression bomb does not.

use crate::payroll::error::PayrollError;
use std::io::{Cursor, Read};

/// Largest file accepted: 64 MiB. A year of payroll recaps of a large hospital group as xlsx is a few
/// MiB; the 10 000-employee benchmark file is about 20 MiB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most rows read, all sheets together: Excel's own maximum for one sheet is 1 048 576.
pub const MAX_ROWS: usize = 1_048_576;
/// Most columns of a sheet: a livre de paie has one column per rubrique, a few hundred at most.
pub const MAX_COLUMNS: usize = 2_000;
/// Most bytes an xlsx/ods archive may expand to, all entries together: 1 GiB.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 1024 * 1024 * 1024;
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
    pub max_rows: usize,
    pub max_columns: usize,
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
            max_uncompressed_bytes: MAX_UNCOMPRESSED_BYTES,
            max_compression_ratio: MAX_COMPRESSION_RATIO,
            max_archive_entries: MAX_ARCHIVE_ENTRIES,
        }
    }
}

impl Limits {
    pub fn check_file_size(&self, size_bytes: u64) -> Result<(), PayrollError> {
        if size_bytes > self.max_file_bytes {
            return Err(PayrollError::FileTooLarge {
                size_bytes,
                max_bytes: self.max_file_bytes,
            });
        }
        Ok(())
    }

    /// Inspects a zip container (xlsx, ods) before calamine opens it. The sizes declared by the archive
    /// are checked first (total and per-entry ratio), then every entry is actually inflated into a sink,
    /// at most one byte beyond its declared size, so that an archive lying about its sizes is refused too.
    pub fn check_archive(&self, bytes: &[u8], format: &str) -> Result<(), PayrollError> {
        let corrupt = |detail: String| PayrollError::Corrupt {
            format: format.to_string(),
            detail,
        };
        let mut archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
        if archive.len() > self.max_archive_entries {
            return Err(PayrollError::DecompressionBomb {
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
                    PayrollError::PasswordProtected
                }
                e => corrupt(e.to_string()),
            })?;
            if entry.encrypted() {
                return Err(PayrollError::PasswordProtected);
            }
            let size = entry.size();
            let compressed = entry.compressed_size().max(1);
            declared_total = declared_total.saturating_add(size);
            if size >= RATIO_CHECK_MIN_BYTES && size / compressed > self.max_compression_ratio {
                return Err(PayrollError::DecompressionBomb {
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
        if declared_total > self.max_uncompressed_bytes {
            return Err(PayrollError::DecompressionBomb {
                detail: format!(
                    "{} octets une fois décompressée (maximum {})",
                    declared_total, self.max_uncompressed_bytes
                ),
            });
        }
        // One buffer for every entry, large enough that inflating runs in long stretches.
        let mut buffer = vec![0u8; 256 * 1024];
        for index in 0..archive.len() {
            let mut entry = archive
                .by_index(index)
                .map_err(|e| corrupt(e.to_string()))?;
            let declared = entry.size();
            let name = entry.name().to_string();
            let mut limited = (&mut entry).take(declared.saturating_add(1));
            let mut inflated: u64 = 0;
            loop {
                let n = std::io::Read::read(&mut limited, &mut buffer)
                    .map_err(|e| corrupt(format!("entrée « {name} » : {e}")))?;
                if n == 0 {
                    break;
                }
                inflated += n as u64;
            }
            if inflated != declared {
                return Err(PayrollError::DecompressionBomb {
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
