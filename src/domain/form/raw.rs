//! The shape of a form file as the bureau writes it (TOML). Unknown keys are refused so typos surface.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawForm {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default)]
    pub anonymous: bool,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    #[serde(default)]
    pub categories: Vec<RawChoice>,
    #[serde(default)]
    pub category_label: Option<String>,
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(default, rename = "question")]
    pub questions: Vec<RawQuestion>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChoice {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRow {
    pub code: String,
    pub label: Option<String>,
    pub area: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuestion {
    pub id: String,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub required: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_date: Option<String>,
    pub max_date: Option<String>,
    #[serde(default)]
    pub integer: bool,
    pub min_selected: Option<usize>,
    pub max_selected: Option<usize>,
    pub choices: Option<Vec<RawChoice>>,
    /// `"topics"` or `"units"`: take the choices from that catalogue.
    pub choices_from: Option<String>,
    /// Scale labels in order, best first, e.g. ["好", "较好", "一般", "差"].
    pub scale: Option<Vec<String>>,
    pub rows: Option<Vec<RawRow>>,
    /// `"areas"`: one row per problem area.
    pub rows_from: Option<String>,
    pub show_if: Option<RawCondition>,
    #[serde(default)]
    pub opinion: bool,
    #[serde(default)]
    pub areas: Vec<i64>,
    pub contact_purpose: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub question: String,
    pub equals: Option<String>,
    #[serde(default)]
    pub any_of: Vec<String>,
}
