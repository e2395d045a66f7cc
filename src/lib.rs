#![forbid(unsafe_code)]
//! care-ledger: event-sourced financial statement and payment ledger for the CaRE programme.
//!
//! Modules, one per concern: `domain` (programme rules, pure), `store` (the append-only event store on
//! SQLite and PostgreSQL), `payroll` (payroll recap import), `clock` (time is passed in, never read),
//! `actor` (who acts).
pub mod actor;
pub mod app;
pub mod bench;
pub mod bench_http;
pub mod cli;
pub mod cli_documents;
pub mod cli_ops;
pub mod cli_payroll;
pub mod cli_proof;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod import;
pub mod payroll;
pub mod sheet;
pub mod signing;
pub mod store;
pub mod template;
