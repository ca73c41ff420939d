//! The staff side: sign-in, first-run set-up, and the workspace pages for analysts, leaders and admins.

pub mod exports;
pub mod home;
pub mod login;
