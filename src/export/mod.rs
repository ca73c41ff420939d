//! Exports: turns report rows into an xlsx workbook shaped like the analysis report, or a CSV of the raw
//! responses. No HTTP, no ORM and no runtime here: `crate::reporting::run` asks the store for rows in batches and hands them to a
//! writer on a blocking thread, so a million opinions stream through in bounded memory.
//!
//! Errors: [`ExportError`] in this layer; the CLI wraps it in anyhow, the web job stores its message.

pub mod csv;
pub mod print;
pub mod register;
pub mod sheet;
mod tables;
pub mod xlsx;

use crate::domain::catalog::Catalog;
use crate::domain::report::policy::{Disclosure, OTHER_CATEGORIES, OTHER_UNITS};
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

/// Why a protected export covers one whole form, in the words the refusal shows.
pub const LEADER_SCOPE: &str = "受保护的导出只能选一个表单、覆盖它的全部答卷，不能按日期或单位筛选：两份不同筛选的结果相减，就可能算出小单位的人数和意见。";

/// Everything that decides an export's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportParams {
    pub scope: Scope,
    pub format: Format,
    /// The disclosure policy's k: units and categories with fewer respondents are pooled.
    pub small_cell_k: u32,
    /// The office's full detail (receipts, notes, exact times, every unit), without the disclosure policy:
    /// administrators only, by an explicit choice, audited. Default: protected, for leaders.
    #[serde(default)]
    pub unprotected: bool,
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
            return Err(ExportError::Invalid("表单：请至少选择一个".into()));
        }
        for f in &self.scope.forms {
            if catalog.form(f).is_none() {
                return Err(ExportError::Invalid(format!("表单：`{f}` 不存在")));
            }
        }
        for u in &self.scope.units {
            if catalog.unit(u).is_none() {
                return Err(ExportError::Invalid(format!("单位：`{u}` 不在单位名单中")));
            }
        }
        if let (Some(a), Some(b)) = (self.scope.from, self.scope.to)
            && a > b
        {
            return Err(ExportError::Invalid("日期范围：开始日期晚于结束日期".into()));
        }
        if !self.unprotected {
            let s = &self.scope;
            if s.forms.iter().any(|f| catalog.citizen_form(f).is_none()) {
                // Each row would tie a rater's comment to their grade of one measure; 整改台账 shows ratings.
                return Err(ExportError::Invalid(format!(
                    "表单：群众评价不单独导出，评价结果见整改台账（评价不足 {} 人次的措施不公布）",
                    self.small_cell_k
                )));
            }
            if s.forms.len() > 1 {
                return Err(ExportError::Invalid(format!("表单：{LEADER_SCOPE}")));
            }
            if s.from.is_some() || s.to.is_some() {
                return Err(ExportError::Invalid(format!("日期范围：{LEADER_SCOPE}")));
            }
            if !s.units.is_empty() {
                return Err(ExportError::Invalid(format!("单位：{LEADER_SCOPE}")));
            }
        }
        Ok(())
    }

    /// What the file reads: a protected file its one form as released to leaders at `cut_ms`, the latest
    /// release by the day before it was asked for ([`Scope::published`], as leaders' views); the office's
    /// full file what was asked.
    pub fn published(mut self, cut_ms: i64) -> ExportParams {
        if let (false, [form]) = (self.unprotected, self.scope.forms.as_slice()) {
            self.scope = Scope::published(form, cut_ms);
        }
        self
    }

    /// A readable file name: `分析检查阶段征求意见表-2026-11-26-1530.xlsx`.
    pub fn file_name(&self, catalog: &Catalog) -> String {
        let first = self.scope.forms.first().map(String::as_str).unwrap_or("export");
        let mut title = catalog.form(first).map_or(first.to_owned(), |f| f.title.clone());
        if self.scope.forms.len() > 1 {
            title.push_str(&format!("等{}个表单", self.scope.forms.len()));
        }
        let title: String = title.chars().filter(|c| !"/\\:*?\"<>|".contains(*c) && !c.is_control()).take(60).collect();
        // The office's full file is named as such: it must not pass for the leaders' file of the same minute.
        let full = if self.unprotected { "-完整数据（不得交给领导）" } else { "" };
        format!("{title}{full}{}", self.file_name_end())
    }

    /// How [`ExportParams::file_name`] ends whatever the form's title: `-{minute}.{extension}`.
    pub fn file_name_end(&self) -> String {
        let stamp = chrono::DateTime::from_timestamp_millis(self.generated_at)
            .map(|t| t.with_timezone(&crate::domain::form::check::bureau_offset()).format("%Y-%m-%d-%H%M").to_string())
            .unwrap_or_default();
        format!("-{stamp}.{}", self.format.extension())
    }
}

/// Whether a spreadsheet would read this text as other than written: as a formula (it starts with = + - @, a
/// tab or a carriage return), or without its first character (an apostrophe, which marks text).
pub fn looks_like_formula(cell: &str) -> bool {
    matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\''))
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
    /// What leaders may see; `None` for the office's unprotected export.
    pub disclosure: Option<Disclosure>,
    pub names: Names,
    pub layout: RawLayout,
    pub catalog: Arc<Catalog>,
    /// Excel's row limit, lowered only by tests to see a sheet continue.
    pub max_rows: u32,
    /// Rows the export will read in all.
    pub rows: u64,
    /// Double-coding agreement over the exported forms; `None` when none of their opinions was coded twice.
    pub agreement: Option<crate::domain::agreement::Agreement>,
    /// 问题清单 and 整改台账 as read when the export started (`None`: those sheets are left out).
    pub register: Option<Arc<crate::domain::rectification::Register>>,
    /// (opinions, near-duplicate groups) of the whole selection: only for one whole form, as the groups
    /// cannot be cut by date or unit.
    pub groups: Option<(u64, u64)>,
}

/// Progress as (rows read, rows in all): (0, 0) while the selection is being prepared, and the count
/// reaches the total only once every row is read and the file alone is left to write.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// The code under which the category × area table counts, for leaders, every row that shows 其他类别.
pub const POOLED_CATEGORY: &str = "\u{0}pooled";

impl Context {
    /// The category a row counts under in the category × area table: its own for the office; for leaders
    /// the one the row shows ([`POOLED_CATEGORY`] for 其他类别). Counted by category alone, that table joined
    /// with the area sheets' rows told which area a row hidden under 其他类别 came from.
    pub fn table_category<'a>(&self, unit: Option<&str>, category: Option<&'a str>) -> Option<&'a str> {
        match &self.disclosure {
            Some(d) if !d.row_shows_category(unit, category) => Some(POOLED_CATEGORY),
            _ => category,
        }
    }

    /// The unit, category and time a quoted row shows: everything for the office; for leaders what the
    /// policy allows, and the date as precisely as it allows.
    pub fn row_labels<'a>(
        &'a self,
        unit: Option<&'a str>,
        category: Option<&'a str>,
        at: i64,
    ) -> (&'a str, &'a str, String) {
        match &self.disclosure {
            None => (self.names.unit(unit), self.names.category(category), crate::domain::report::local_time(at)),
            Some(d) => (
                if d.shows_unit(unit) { self.names.unit(unit) } else { OTHER_UNITS },
                if d.row_shows_category(unit, category) { self.names.category(category) } else { OTHER_CATEGORIES },
                d.row_sent(unit, category, at).label(),
            ),
        }
    }

    /// The page setup of every printed sheet: the forms' titles and the generation time in the header.
    pub fn page_setup(&self) -> print::PageSetup {
        let titles: Vec<&str> = self
            .params
            .scope
            .forms
            .iter()
            .map(|f| self.catalog.form(f).map_or(f.as_str(), |d| d.title.as_str()))
            .collect();
        print::PageSetup::new(&titles.join("、"), &crate::domain::report::local_time(self.params.generated_at))
    }

    /// Whether rows (quotes, raw data) may be written at all.
    pub fn shows_rows(&self) -> bool {
        self.disclosure.as_ref().is_none_or(Disclosure::shows_rows)
    }

    /// The note that replaces every row when the selection is too small.
    pub fn too_small_note(&self) -> String {
        let k = self.params.small_cell_k;
        format!("本表单答卷不足 {k} 份：为保护填写人，不显示意见原文和明细。")
    }
}
