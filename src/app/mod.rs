//! The application layer: command handlers and read models over the event store.
pub mod batches;
pub mod documents;
pub mod ledger;
pub mod payroll_service;
pub mod proof;
pub mod read_model;
pub mod repository;
pub mod template_map;
pub mod throttle;
pub mod what_if;

pub use documents::{DocumentUpload, DocumentsView};
pub use ledger::{Access, CommandReport, Ledger, LedgerError, RequestMeta, StatementView};
pub use repository::{
    Aggregate, Applied, Cached, CommandError, CommandOutcome, EventInfo, Repository,
};
