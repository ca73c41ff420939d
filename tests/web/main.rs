//! The one integration test binary: black-box tests against a real server, a real database and real HTTP.

mod helpers;

mod citizens;
mod exports;
mod forms;
