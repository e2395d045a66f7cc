#![forbid(unsafe_code)]
//! care-ledger: event-sourced financial statement and payment ledger for the CaRE programme.
//!
//! Modules, one per concern: `domain` (programme rules, pure), `store` (the append-only event store on
//! SQLite and PostgreSQL), `payroll` (payroll recap import), `clock` (time is passed in, never read).
pub mod clock;
pub mod domain;
pub mod import;
pub mod payroll;
