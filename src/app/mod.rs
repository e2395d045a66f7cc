//! The application layer: command handlers and read models over the event store.
pub mod repository;

pub use repository::{Aggregate, CommandError, CommandOutcome, EventInfo, Repository};
