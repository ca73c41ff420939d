//! The one integration test binary: black-box tests against a real server, a real database and real HTTP.

mod helpers;

mod backup;
mod citizens;
mod cli;
mod forms;
mod malformed;
mod props;
mod roles;
mod workspace;
