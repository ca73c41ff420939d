//! The staff side: sign-in, first-run set-up, and the workspace pages for analysts, leaders and admins.

pub mod adjudication;
pub mod admin;
pub mod admin_forms;
pub mod audit_text;
pub mod card;
pub mod clusters;
pub mod dashboard;
pub mod double_coding;
pub mod exports;
pub mod head;
pub mod home;
pub mod inbox;
pub mod leader_view;
pub mod links;
pub mod login;
pub mod problems;
pub mod register;
pub mod tag;
