//! Units (单位): the bureau's departments and grassroots units, edited by the bureau in `forms/units.toml`.

use serde::{Deserialize, Serialize};

/// What a response sent without a unit's link is shown under, in every view and file alike.
pub const NO_UNIT: &str = "（未指定单位）";

/// One unit a distribution link can be issued for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unit {
    /// Short stable code, letters, digits, `-` and `_` only.
    pub code: String,
    pub name: String,
    /// What sort of unit: 机关科室, 司法所, 律师事务所, 公证处, 村社区 …
    #[serde(default)]
    pub kind: String,
    /// A way of reaching people (posters, WeChat groups) rather than a place: links are issued for it, but a
    /// question asking which unit (a visit's 走访单位) does not offer it.
    #[serde(default)]
    pub channel: bool,
}

/// Whether a code is a well-formed unit, category or form code.
pub fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
