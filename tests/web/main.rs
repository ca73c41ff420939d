//! The one integration test binary: black-box tests against a real server, a real database and real HTTP.

mod browser;
mod helpers;

mod admin_links;
mod anonymity;
mod backup;
mod browser_form;
mod browser_suggest;
mod browser_tag;
mod citizens;
mod cli;
mod contacts;
mod disclosure;
mod export_jobs;
mod exports;
mod forms;
mod hardening;
mod headers;
mod hostile;
mod inbox_counts;
mod intake;
mod malformed;
mod process;
mod props;
mod receipts;
mod roles;
mod sessions;
mod shutdown;
mod slow_clients;
mod workspace;
