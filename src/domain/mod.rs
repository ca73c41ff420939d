//! The campaign's rules, free of HTTP, database and file-system code: the eight problem areas, units,
//! form definitions and their checks, answer validation, receipts, tagging suggestions and report counts.
//! Everything here is a plain function of its inputs, so every rule is a unit test.

pub mod access_code;
pub mod agreement;
pub mod area;
pub mod batches;
pub mod catalog;
pub mod classify;
pub mod cluster;
pub mod form;
pub mod problem;
pub mod rectification;
pub mod report;
pub mod signing;
pub mod submission;
pub mod tagging;
pub mod text;
pub mod unit;
pub mod user;
