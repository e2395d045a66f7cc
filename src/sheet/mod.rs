//! Reading workbooks, for every reader of user files (payroll recaps, the financial template, the
//! candidate base): one bounded way to open a file and read its sheets ([`workbook`]), one
//! decompression-bomb guard and one set of limits ([`limits`]), one way to read a cell's number, date
//! or text ([`cells`]).
//!
//! Every input is hostile until checked: the format is recognised from the content, every archive is
//! inflated under the bomb guard before a reader opens it, and every sheet's extent (declared and
//! real) is checked before anything is allocated for it, so a small file cannot make a reader take
//! gigabytes. Errors are French and name the sheet ([`SheetError`]).

pub mod cells;
pub mod error;
pub mod limits;
pub mod number;
pub mod scan;
pub mod spreadsheetml;
pub mod workbook;
pub mod xlsx_fast;

pub use cells::CellValueError;
pub use error::{column_letters, CellRef, SheetError};
pub use limits::Limits;
pub use workbook::{Format, Sheet, Workbook};
