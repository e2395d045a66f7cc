//! The application layer: command handlers and read models over the event store.
pub mod batches;
pub mod documents;
pub mod ledger;
pub mod payroll_service;
pub mod repository;
pub mod template_map;

pub use documents::{DocumentUpload, DocumentsView};
pub use ledger::{Access, Ledger, LedgerError, RequestMeta, StatementView};
pub use repository::{Aggregate, CommandError, CommandOutcome, EventInfo, Repository};
