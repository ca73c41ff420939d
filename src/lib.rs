//! 问计 Wenji: collects opinions through anonymous forms, lets analysts tag each one with the campaign's
//! eight problem areas, and hands leaders report-shaped workbooks.
//!
//! `domain` holds the rules (no I/O); `store` is the only sea-orm code; `web` the only axum code;
//! `export` turns report rows into xlsx/CSV; `cli` wires them into the `wenji` command.

pub mod cli;
pub mod config;
pub mod domain;
pub mod domain_password;
pub mod export;
pub mod forms_dir;
pub mod qr;
pub mod reporting;
pub mod store;
pub mod web;
