//! Exports: turns report rows into an xlsx workbook shaped like the analysis report, or a CSV of the raw
//! responses. No HTTP, no ORM and no runtime here: `crate::reporting::run` asks the store for rows in batches and hands them to a
//! writer on a blocking thread, so a million opinions stream through in bounded memory.
//!
//! Errors: [`ExportError`] in this layer; the CLI wraps it in anyhow, the web job stores its message.

pub mod csv;
pub mod sheet;
pub mod xlsx;

use crate::domain::catalog::Catalog;
use crate::domain::report::raw::{Names, RawLayout, RawResponse};
use crate::domain::report::{QuotedOpinion, Scope};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Opinions read from the database per query.
pub const BATCH: u64 = 5_000;
/// Responses read per query: each comes with its answers and opinions, so fewer keep a batch (and the
/// few batches queued for the writer) to a few megabytes.
pub const RAW_BATCH: u64 = 1_000;

/// A failure while exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the database: {0}")]
    Store(#[from] StoreError),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("writing the CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("writing the file: {0}")]
    Io(#[from] std::io::Error),
    /// The request names something that does not exist; the message is for people.
    #[error("{0}")]
    Invalid(String),
    #[error("the writer stopped: {0}")]
    Writer(String),
}

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "xlsx" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Everything that decides an export's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportParams {
    pub scope: Scope,
    pub format: Format,
    /// Units and categories with fewer respondents show as "<k" in cross-tables.
    pub small_cell_k: u32,
    /// When the export was asked for (ms); shown in the workbook and used as its creation time.
    pub generated_at: i64,
}

impl ExportParams {
    /// Checks the forms and units against the catalogue.
    ///
    /// # Errors
    /// `Invalid` naming the unknown form or unit, or a reversed date range.
    pub fn check(&self, catalog: &Catalog) -> Result<(), ExportError> {
        if self.scope.forms.is_empty() {
            return Err(ExportError::Invalid("请至少选择一个表单（form）".into()));
        }
        for f in &self.scope.forms {
            if catalog.form(f).is_none() {
                return Err(ExportError::Invalid(format!("表单 `{f}` 不存在（form）")));
            }
        }
        for u in &self.scope.units {
            if catalog.unit(u).is_none() {
                return Err(ExportError::Invalid(format!("单位 `{u}` 不在单位名单中（unit）")));
            }
        }
        if let (Some(a), Some(b)) = (self.scope.from, self.scope.to)
            && a > b
        {
            return Err(ExportError::Invalid("开始日期晚于结束日期（from/to）".into()));
        }
        Ok(())
    }

    /// A readable file name: `分析检查阶段征求意见表-2026-11-26-1530.xlsx`.
    pub fn file_name(&self, catalog: &Catalog) -> String {
        let first = self.scope.forms.first().map(String::as_str).unwrap_or("export");
        let mut title = catalog.form(first).map_or(first.to_owned(), |f| f.title.clone());
        if self.scope.forms.len() > 1 {
            title.push_str(&format!("等{}个表单", self.scope.forms.len()));
        }
        let title: String = title.chars().filter(|c| !"/\\:*?\"<>|".contains(*c) && !c.is_control()).take(60).collect();
        let stamp = chrono::DateTime::from_timestamp_millis(self.generated_at)
            .map(|t| t.with_timezone(&crate::domain::form::check::bureau_offset()).format("%Y-%m-%d-%H%M").to_string())
            .unwrap_or_default();
        format!("{title}-{stamp}.{}", self.format.extension())
    }
}

/// What the reader hands the writer, in order.
pub enum Feed {
    /// Counted opinions: first the representative ones with areas, then every other one, each by id.
    /// Each goes on the sheet of every area it carries, or on 未归类 when it has none.
    Quoted(Vec<QuotedOpinion>),
    /// The 原始数据 rows follow.
    RawStart,
    /// Responses with their opinions, which the tallies count too.
    Raw(Vec<RawResponse>),
}

/// What the writers share: the catalogue names, the raw layout and the parameters.
pub struct Context {
    pub params: ExportParams,
    pub names: Names,
    pub layout: RawLayout,
    pub catalog: Arc<Catalog>,
    /// Excel's row limit, lowered only by tests to see a sheet continue.
    pub max_rows: u32,
    /// Rows the export will read in all.
    pub rows: u64,
}

/// Progress as (rows done, rows in all).
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;
