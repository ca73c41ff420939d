//! The report workbook: 汇总, 单位×领域, 类别×领域, one sheet per area, 共现, 测评, 未归类, 原始数据, 说明.
//! Large sheets stream in constant-memory mode (rows strictly in order): the eight area sheets and 未归类
//! together, from one pass over the opinions, then 原始数据. The small tables are ordinary sheets filled at
//! the end, when the tallies are complete. Every text goes in with `write_string`, so a
//! text starting with = + - @ stays text.

use super::print::PageSetup;
use super::sheet::{Col, SheetNames, StreamSheet, keep_parts_together, width_for};
use super::tables::{CrossTable, appraisal, cooccurrence, cross, explain, summary};
use super::{Context, ExportError, Feed};
use crate::domain::area::AreaCode;
use crate::domain::report::policy::Code;
use crate::domain::report::{CrossRow, OpinionFact, QuotedOpinion, Report, Tally};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook};
use std::collections::HashMap;
use std::path::Path;

pub const SUMMARY: &str = "汇总";
pub const UNITS: &str = "单位×领域";
pub const CATEGORIES: &str = "类别×领域";
pub const COOCCURRENCE: &str = "共现";
pub const APPRAISAL: &str = "测评";
pub const UNTAGGED: &str = "未归类";
pub const RAW: &str = "原始数据";
pub const METHOD: &str = "说明";

/// Exports reading more rows than this are written as ZIP64.
pub const ZIP64_ROWS: u64 = 1_000_000;

/// Bold header cells with a light fill.
pub fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(0xDDEBF7)
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter)
}

/// Long text: wrapped and aligned to the top.
pub fn wrap_format() -> Format {
    Format::new().set_text_wrap().set_align(FormatAlign::Top)
}

pub(super) fn percent() -> Format {
    Format::new().set_num_format("0.0%")
}

/// The sheet name of an area, e.g. `7 工作效能`.
pub fn area_sheet_name(code: AreaCode, name: &str) -> String {
    format!("{code} {name}")
}

/// A workbook being written from [`Feed`]s.
pub struct ReportWorkbook {
    wb: Workbook,
    names: SheetNames,
    ctx: Context,
    tally: Tally,
    /// The eight area sheets and 未归类, streamed together until the raw rows start.
    quotes: Option<QuoteSheets>,
    raw: Option<StreamSheet>,
    /// Workbook indices of the parts of every closed streamed sheet.
    parts: Vec<Vec<usize>>,
    /// Form titles by form (questions: [`RawLayout::opinion_question`](crate::domain::report::raw::RawLayout)).
    forms: HashMap<String, String>,
    print: PageSetup,
}

/// The sheets quoted opinions go to.
struct QuoteSheets {
    areas: Vec<StreamSheet>,
    untagged: StreamSheet,
}

impl ReportWorkbook {
    /// Starts the workbook with its sheets in report order, up to 未归类.
    ///
    /// # Errors
    /// When a sheet cannot be added.
    pub fn new(ctx: Context) -> Result<ReportWorkbook, ExportError> {
        let mut wb = Workbook::new();
        // ZIP64 lets a part pass 4 GB, but LibreOffice cannot open ZIP64 files: only for huge exports.
        wb.use_zip_large_file(ctx.rows > ZIP64_ROWS);
        // The default compression at every size: at a million opinions the fastest level saved 3.6 s
        // (14.4 s against 18.0 s) but made the download 176 MB instead of 105 MB.
        let mut names = SheetNames::default();
        for n in [SUMMARY, UNITS, CATEGORIES] {
            let name = names.claim(n);
            wb.add_worksheet().set_name(name)?;
        }
        let mut forms = HashMap::new();
        for slug in &ctx.params.scope.forms {
            if let Some(def) = ctx.catalog.form(slug) {
                forms.insert(slug.clone(), def.title.clone());
            }
        }
        let print = ctx.page_setup();
        let mut w = ReportWorkbook {
            print,
            wb,
            names,
            ctx,
            tally: Tally::default(),
            quotes: None,
            raw: None,
            parts: Vec::new(),
            forms,
        };
        w.quotes = Some(w.open_quote_sheets()?);
        Ok(w)
    }

    fn open_quote_sheets(&mut self) -> Result<QuoteSheets, ExportError> {
        let (unit, category) = (self.unit_width(), self.category_width());
        let receipt = self.ctx.disclosure.is_none();
        let mut areas = Vec::new();
        for a in AreaCode::all() {
            let mut cols = vec![
                Col::new("意见原文", 60.0, true),
                Col::new("典型意见", 9.0, false),
                Col::new("单位", unit, false),
                Col::new("填写人类别", category, false),
                Col::new("提交时间", 17.0, false),
            ];
            if receipt {
                cols.push(Col::new("回执号", 15.0, false));
            }
            cols.extend([
                Col::new("其他领域", 22.0, true),
                Col::new("所属问题", 24.0, true),
                Col::new("表单", 20.0, true),
                Col::new("题目", 24.0, true),
            ]);
            let name = area_sheet_name(a, self.ctx.catalog.areas.name(a));
            areas.push(self.open(&name, cols)?);
        }
        for n in [COOCCURRENCE, APPRAISAL] {
            let name = self.names.claim(n);
            self.wb.add_worksheet().set_name(name)?;
        }
        let mut cols = vec![
            Col::new("意见原文", 60.0, true),
            Col::new("状态", 9.0, false),
            Col::new("单位", unit, false),
            Col::new("填写人类别", category, false),
            Col::new("提交时间", 17.0, false),
        ];
        if receipt {
            cols.push(Col::new("回执号", 15.0, false));
        }
        cols.extend([Col::new("所属问题", 24.0, true), Col::new("表单", 20.0, true), Col::new("题目", 24.0, true)]);
        let mut untagged = self.open(UNTAGGED, cols)?;
        if !self.ctx.shows_rows() {
            let note = [self.ctx.too_small_note()];
            for s in areas.iter_mut().chain([&mut untagged]) {
                s.row(&mut self.wb, &mut self.names, &note)?;
            }
        }
        Ok(QuoteSheets { areas, untagged })
    }

    fn open(&mut self, name: &str, cols: Vec<Col>) -> Result<StreamSheet, ExportError> {
        StreamSheet::open(&mut self.wb, &mut self.names, name, cols, self.ctx.max_rows, &self.print)
    }

    fn close_streams(&mut self) -> Result<(), ExportError> {
        if let Some(q) = self.quotes.take() {
            for s in q.areas.into_iter().chain([q.untagged]) {
                self.parts.push(s.close(&mut self.wb)?);
            }
        }
        if let Some(s) = self.raw.take() {
            self.parts.push(s.close(&mut self.wb)?);
        }
        Ok(())
    }

    fn unit_width(&self) -> f64 {
        width_for(self.ctx.names.units.values().map(String::as_str).chain([crate::domain::unit::NO_UNIT]), 10.0, 30.0)
    }

    fn category_width(&self) -> f64 {
        width_for(self.ctx.names.categories.values().map(String::as_str).chain(["填写人类别"]), 10.0, 30.0)
    }

    /// Takes the next feed.
    ///
    /// # Errors
    /// When the workbook refuses a write.
    pub fn feed(&mut self, f: Feed) -> Result<(), ExportError> {
        match f {
            Feed::Quoted(batch) => {
                let Some(sheets) = self.quotes.as_mut().filter(|_| self.ctx.shows_rows()) else { return Ok(()) };
                for o in &batch {
                    quote(&mut self.wb, &mut self.names, sheets, &self.ctx, &self.forms, o)?;
                }
            }
            Feed::RawStart => {
                self.close_streams()?;
                let cols = self
                    .ctx
                    .layout
                    .headers()
                    .iter()
                    .map(|h| {
                        let long = h.chars().count() > 12;
                        Col::new(h, width_for([h.as_str()], 12.0, if long { 40.0 } else { 24.0 }), long)
                    })
                    .collect();
                let mut raw = self.open(RAW, cols)?;
                if !self.ctx.layout.shows_rows() {
                    raw.row(&mut self.wb, &mut self.names, &[self.ctx.too_small_note()])?;
                }
                self.raw = Some(raw);
            }
            Feed::Raw(batch) => {
                for r in &batch {
                    let category = self.ctx.table_category(r.unit.as_deref(), r.category.as_deref());
                    self.tally.response(r.unit.as_deref(), category);
                    for o in &r.opinions {
                        self.tally.opinion(&OpinionFact {
                            response_id: r.id,
                            unit: r.unit.as_deref(),
                            category,
                            state: o.state,
                            areas: o.areas,
                        });
                    }
                    for (q, a) in &r.answers {
                        if let Some((kind, answer)) = self.ctx.layout.appraised(r, q, a) {
                            self.tally.appraisal(r.unit.as_deref(), &kind, &answer);
                        }
                    }
                    if let Some(s) = self.raw.as_mut().filter(|_| self.ctx.layout.shows_rows()) {
                        let cells = self.ctx.layout.cells(r, &self.ctx.names);
                        s.row(&mut self.wb, &mut self.names, &cells)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the tables and saves the workbook to `path`.
    ///
    /// # Errors
    /// When the workbook cannot be written.
    pub fn save(mut self, path: &Path) -> Result<(), ExportError> {
        self.close_streams()?;
        if let Some(reg) = self.ctx.register.clone() {
            let k = self.ctx.disclosure.as_ref().map(|d| d.k);
            let at = self.ctx.params.generated_at;
            let print = self.ctx.page_setup();
            super::register::report_sheets(&mut self.wb, &mut self.names, &reg, &self.ctx.catalog, k, at, &print)?;
        }
        let name = self.names.claim(METHOD);
        self.wb.add_worksheet().set_name(name)?;
        let report = std::mem::take(&mut self.tally).finish();
        let p = &self.print;
        summary(self.wb.worksheet_from_name(SUMMARY)?, &self.ctx, &report, p)?;
        let unit_rows = self.unit_rows(&report);
        let units = CrossTable { what: "单位", by_unit: true, rows: unit_rows };
        cross(self.wb.worksheet_from_name(UNITS)?, &self.ctx, units, p)?;
        let cat_rows = self.category_rows(&report);
        let categories = CrossTable { what: "填写人类别", by_unit: false, rows: cat_rows };
        cross(self.wb.worksheet_from_name(CATEGORIES)?, &self.ctx, categories, p)?;
        cooccurrence(self.wb.worksheet_from_name(COOCCURRENCE)?, &self.ctx, &report, p)?;
        appraisal(self.wb.worksheet_from_name(APPRAISAL)?, &self.ctx, &report, p)?;
        explain(self.wb.worksheet_from_name(METHOD)?, &self.ctx, p)?;
        let secs = self.ctx.params.generated_at.div_euclid(1000);
        let props = DocProperties::new()
            .set_title("问计 分析报告数据")
            .set_author("问计 Wenji")
            .set_creation_datetime(&ExcelDateTime::from_timestamp(secs)?);
        self.wb.set_properties(&props);
        keep_parts_together(&mut self.wb, &self.parts);
        self.wb.save(path)?;
        Ok(())
    }

    fn unit_rows(&self, r: &Report) -> Vec<(Code, String, CrossRow)> {
        let n = &self.ctx.names;
        let mut rows: Vec<(Code, String, CrossRow)> =
            r.by_unit.iter().map(|(code, row)| (code.clone(), n.unit(code.as_deref()).to_owned(), *row)).collect();
        self.ctx.catalog.sort_by_unit(&mut rows, |r| r.0.as_deref());
        rows
    }

    fn category_rows(&self, r: &Report) -> Vec<(Code, String, CrossRow)> {
        let n = &self.ctx.names;
        let mut order: Vec<Option<String>> = Vec::new();
        for slug in &self.ctx.params.scope.forms {
            for c in self.ctx.catalog.form(slug).map(|f| f.categories.as_slice()).unwrap_or_default() {
                if !order.contains(&Some(c.code.clone())) {
                    order.push(Some(c.code.clone()));
                }
            }
        }
        order.extend(r.by_category.keys().filter(|k| k.is_some() && !order.contains(k)).cloned().collect::<Vec<_>>());
        order.push(None);
        order
            .into_iter()
            .filter_map(|c| r.by_category.get(&c).map(|row| (c.clone(), n.category(c.as_deref()).to_owned(), *row)))
            .collect()
    }
}

/// Writes one quoted opinion on each of its area sheets, or on 未归类 when it has none.
fn quote(
    wb: &mut Workbook,
    names: &mut SheetNames,
    sheets: &mut QuoteSheets,
    ctx: &Context,
    forms: &HashMap<String, String>,
    o: &QuotedOpinion,
) -> Result<(), ExportError> {
    let n = &ctx.names;
    let form = forms.get(&o.form_slug).unwrap_or(&o.form_slug).as_str();
    let question = ctx.layout.opinion_question(&o.form_slug, &o.question_id);
    let question = question.as_str();
    let (unit, category, time) = ctx.row_labels(o.unit.as_deref(), o.category.as_deref(), o.submitted_at);
    // Leaders' rows carry no receipt: its holder could be asked to show it.
    let receipt = ctx.disclosure.is_none().then_some(o.receipt.as_str());
    let problems = o.problems.join("；");
    if o.areas.is_empty() {
        let mut cells = vec![o.text.as_str(), o.state.label(), unit, category, &time];
        cells.extend(receipt);
        cells.extend([problems.as_str(), form, question]);
        return sheets.untagged.row(wb, names, &cells);
    }
    let mark = if o.representative { "★ 典型" } else { "" };
    for a in o.areas.iter() {
        let others = n.areas(o.areas.without(a));
        let mut cells = vec![o.text.as_str(), mark, unit, category, &time];
        cells.extend(receipt);
        cells.extend([others.as_str(), problems.as_str(), form, question]);
        sheets.areas[a.index()].row(wb, names, &cells)?;
    }
    Ok(())
}
