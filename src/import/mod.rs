//! Readers of user files (CSV, XLSX) into domain values. I/O and file formats live here, the rules in
//! `crate::domain`.
pub mod candidates;

pub use candidates::{read_candidates_csv, read_candidates_xlsx, ImportError};
