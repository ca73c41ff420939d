//! The staff side: sign-in, first-run set-up, and the workspace pages for analysts, leaders and admins.

pub mod adjudication;
pub mod admin;
pub mod admin_forms;
pub mod audit_text;
pub mod card;
pub mod clusters;
pub mod contacts;
pub mod dashboard;
pub mod disclosure_cache;
pub mod double_coding;
pub mod exports;
pub mod head;
pub mod home;
pub mod inbox;
pub mod leader_view;
pub mod link_codes;
pub mod links;
pub mod login;
pub mod problem_opinions;
pub mod problems;
pub mod register;
pub mod tag;

/// A `Content-Disposition` for a download named `shown` (Chinese), with an ASCII `fallback` for clients
/// that do not read RFC 5987's `filename*`.
pub fn attachment(fallback: &str, shown: &str) -> String {
    let encoded: String = shown
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}
