//! sea-orm entities, one per table; the schema itself lives in the `migrations` crate.
#![allow(dead_code)]
pub mod answer;
pub mod audit;
pub mod contact;
pub mod export_job;
pub mod form_version;
pub mod keyword;
pub mod link;
pub mod measure;
pub mod measure_change;
pub mod measure_progress;
pub mod note;
pub mod opinion;
pub mod problem;
pub mod problem_opinion;
pub mod response;
pub mod session;
pub mod tag;
pub mod unit;
pub mod user;
