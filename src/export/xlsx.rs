//! The report workbook: 汇总, 单位×领域, 类别×领域, one sheet per area, 共现, 测评, 未归类, 原始数据, 说明.
//! Large sheets stream in constant-memory mode (rows strictly in order): the eight area sheets and 未归类
//! together, from one pass over the opinions, then 原始数据. The small tables are ordinary sheets filled at
//! the end, when the tallies are complete. Every text goes in with `write_string`, so a
//! text starting with = + - @ stays text.

use super::sheet::{Col, SheetNames, StreamSheet, keep_parts_together, width_for};
use super::{Context, ExportError, Feed};
use crate::domain::area::AreaCode;
use crate::domain::form::answers::Answer;
use crate::domain::report::protect::{Hidden, protect};
use crate::domain::report::{CrossRow, OpinionFact, QuotedOpinion, Report, Tally, local_time, method};
use crate::domain::tagging::OpinionState;
use rust_xlsxwriter::{
    Chart, ChartType, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};
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

fn percent() -> Format {
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
    /// Question titles by form and question id; form titles by form.
    questions: HashMap<String, HashMap<String, String>>,
    forms: HashMap<String, String>,
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
        let mut questions: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut forms = HashMap::new();
        for slug in &ctx.params.scope.forms {
            if let Some(def) = ctx.catalog.form(slug) {
                forms.insert(slug.clone(), def.title.clone());
                let titles = questions.entry(slug.clone()).or_default();
                for q in &def.questions {
                    titles.insert(q.id.clone(), q.title.clone());
                }
            }
        }
        let mut w = ReportWorkbook {
            wb,
            names,
            ctx,
            tally: Tally::default(),
            quotes: None,
            raw: None,
            parts: Vec::new(),
            questions,
            forms,
        };
        w.quotes = Some(w.open_quote_sheets()?);
        Ok(w)
    }

    fn open_quote_sheets(&mut self) -> Result<QuoteSheets, ExportError> {
        let (unit, category) = (self.unit_width(), self.category_width());
        let mut areas = Vec::new();
        for a in AreaCode::all() {
            let cols = vec![
                Col::new("意见原文", 60.0, true),
                Col::new("典型意见", 9.0, false),
                Col::new("单位", unit, false),
                Col::new("填写人类别", category, false),
                Col::new("提交时间", 17.0, false),
                Col::new("回执号", 15.0, false),
                Col::new("其他领域", 22.0, true),
                Col::new("表单", 20.0, true),
                Col::new("题目", 24.0, true),
            ];
            let name = area_sheet_name(a, self.ctx.catalog.areas.name(a));
            areas.push(self.open(&name, cols)?);
        }
        for n in [COOCCURRENCE, APPRAISAL] {
            let name = self.names.claim(n);
            self.wb.add_worksheet().set_name(name)?;
        }
        let cols = vec![
            Col::new("意见原文", 60.0, true),
            Col::new("状态", 9.0, false),
            Col::new("单位", unit, false),
            Col::new("填写人类别", category, false),
            Col::new("提交时间", 17.0, false),
            Col::new("回执号", 15.0, false),
            Col::new("表单", 20.0, true),
            Col::new("题目", 24.0, true),
        ];
        let untagged = self.open(UNTAGGED, cols)?;
        Ok(QuoteSheets { areas, untagged })
    }

    fn open(&mut self, name: &str, cols: Vec<Col>) -> Result<StreamSheet, ExportError> {
        StreamSheet::open(&mut self.wb, &mut self.names, name, cols, self.ctx.max_rows)
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
        width_for(self.ctx.names.units.values().map(String::as_str).chain(["（未指定单位）"]), 10.0, 30.0)
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
                let Some(sheets) = self.quotes.as_mut() else { return Ok(()) };
                for o in &batch {
                    quote(&mut self.wb, &mut self.names, sheets, &self.ctx, &self.forms, &self.questions, o)?;
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
                self.raw = Some(self.open(RAW, cols)?);
            }
            Feed::Raw(batch) => {
                for r in &batch {
                    self.tally.response(r.unit.as_deref(), r.category.as_deref());
                    for o in &r.opinions {
                        self.tally.opinion(&OpinionFact {
                            response_id: r.id,
                            unit: r.unit.as_deref(),
                            category: r.category.as_deref(),
                            state: o.state,
                            areas: o.areas,
                        });
                    }
                    for (q, a) in &r.answers {
                        if let (Answer::Matrix(m), Some(kind)) = (a, self.ctx.layout.kind_of(r, q)) {
                            self.tally.appraisal(kind, m);
                        }
                    }
                    if let Some(s) = self.raw.as_mut() {
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
        let name = self.names.claim(METHOD);
        self.wb.add_worksheet().set_name(name)?;
        let report = std::mem::take(&mut self.tally).finish();
        let k = u64::from(self.ctx.params.small_cell_k);
        summary(self.wb.worksheet_from_name(SUMMARY)?, &self.ctx, &report)?;
        let unit_rows = self.unit_rows(&report);
        cross(self.wb.worksheet_from_name(UNITS)?, "单位", &self.ctx.names.areas, unit_rows, k)?;
        let cat_rows = self.category_rows(&report);
        cross(self.wb.worksheet_from_name(CATEGORIES)?, "填写人类别", &self.ctx.names.areas, cat_rows, k)?;
        cooccurrence(self.wb.worksheet_from_name(COOCCURRENCE)?, &self.ctx, &report)?;
        appraisal(self.wb.worksheet_from_name(APPRAISAL)?, &report)?;
        explain(self.wb.worksheet_from_name(METHOD)?, &self.ctx, k)?;
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

    fn unit_rows(&self, r: &Report) -> Vec<(String, CrossRow)> {
        let n = &self.ctx.names;
        let mut rows: Vec<(String, CrossRow)> = Vec::new();
        let mut order: Vec<Option<String>> = self.ctx.catalog.units.iter().map(|u| Some(u.code.clone())).collect();
        order.extend(r.by_unit.keys().filter(|k| k.is_some() && !order.contains(k)).cloned().collect::<Vec<_>>());
        order.push(None);
        for code in order {
            if let Some(row) = r.by_unit.get(&code) {
                rows.push((n.unit(code.as_deref()).to_owned(), *row));
            }
        }
        rows
    }

    fn category_rows(&self, r: &Report) -> Vec<(String, CrossRow)> {
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
            .filter_map(|c| r.by_category.get(&c).map(|row| (n.category(c.as_deref()).to_owned(), *row)))
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
    questions: &HashMap<String, HashMap<String, String>>,
    o: &QuotedOpinion,
) -> Result<(), ExportError> {
    let n = &ctx.names;
    let form = forms.get(&o.form_slug).unwrap_or(&o.form_slug).as_str();
    let question = questions.get(&o.form_slug).and_then(|q| q.get(&o.question_id)).unwrap_or(&o.question_id).as_str();
    let (unit, category) = (n.unit(o.unit.as_deref()), n.category(o.category.as_deref()));
    let time = local_time(o.submitted_at);
    if o.areas.is_empty() {
        let cells = [o.text.as_str(), o.state.label(), unit, category, &time, &o.receipt, form, question];
        return sheets.untagged.row(wb, names, &cells);
    }
    let mark = if o.representative { "★ 典型" } else { "" };
    for a in o.areas.iter() {
        let others = n.areas(o.areas.without(a));
        let cells = [o.text.as_str(), mark, unit, category, &time, &o.receipt, &others, form, question];
        sheets.areas[a.index()].row(wb, names, &cells)?;
    }
    Ok(())
}

fn label_value(ws: &mut Worksheet, row: u32, label: &str, value: &str, bold: &Format) -> Result<(), ExportError> {
    ws.write_string_with_format(row, 0, label, bold)?;
    ws.write_string(row, 1, value)?;
    Ok(())
}

fn summary(ws: &mut Worksheet, ctx: &Context, r: &Report) -> Result<(), ExportError> {
    let h = header_format();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let scope = &ctx.params.scope;
    let forms: Vec<String> =
        scope.forms.iter().map(|f| ctx.catalog.form(f).map_or(f.clone(), |d| d.title.clone())).collect();
    ws.write_string_with_format(0, 0, "分析报告数据汇总", &title)?;
    label_value(ws, 1, "生成时间", &local_time(ctx.params.generated_at), &bold)?;
    label_value(ws, 2, "表单", &forms.join("、"), &bold)?;
    let dates = match (scope.from, scope.to) {
        (None, None) => "全部日期".to_owned(),
        (a, b) => {
            format!("{} 至 {}", a.map_or("最早".into(), |d| d.to_string()), b.map_or("最近".into(), |d| d.to_string()))
        }
    };
    label_value(ws, 3, "日期范围", &dates, &bold)?;
    let units = if scope.units.is_empty() {
        "全部单位".to_owned()
    } else {
        scope.units.iter().map(|u| ctx.names.unit(Some(u))).collect::<Vec<_>>().join("、")
    };
    label_value(ws, 4, "单位", &units, &bold)?;
    let k = ctx.params.small_cell_k;
    label_value(ws, 5, "小单元保护", &format!("交叉表中答卷少于 {k} 份的单位、类别显示为“<{k}”"), &bold)?;
    let top = 7u32;
    for (i, t) in ["代码", "领域", "意见条数", "占已归类意见", "涉及答卷（份）"].iter().enumerate()
    {
        ws.write_string_with_format(top, i as u16, *t, &h)?;
    }
    for a in AreaCode::all() {
        let row = top + 1 + a.index() as u32;
        ws.write_string(row, 0, a.to_string())?;
        ws.write_string(row, 1, ctx.catalog.areas.name(a))?;
        ws.write_number(row, 2, r.area_opinions[a.index()] as f64)?;
        ws.write_number_with_format(row, 3, r.area_share(a), &percent())?;
        ws.write_number(row, 4, r.area_responses[a.index()] as f64)?;
    }
    let last = top + 8;
    ws.write_string_with_format(last + 1, 1, "标签合计", &bold)?;
    ws.write_number_with_format(last + 1, 2, r.tag_total() as f64, &bold)?;
    ws.write_string(last + 1, 3, "一条意见可计入多个领域")?;
    let mut row = last + 3;
    ws.write_string_with_format(row, 0, "项目", &h)?;
    ws.write_string_with_format(row, 1, "数量", &h)?;
    let mut line = |label: &str, n: u64| -> Result<(), ExportError> {
        row += 1;
        ws.write_string(row, 0, label)?;
        ws.write_number(row, 1, n as f64)?;
        Ok(())
    };
    line("意见总数", r.opinions)?;
    for s in OpinionState::ALL {
        line(s.label(), r.state_count(s))?;
    }
    line("已归类意见（每条只计一次，不含无效）", r.tagged)?;
    line("答卷总数", r.responses)?;
    ws.set_column_width(0, 16)?;
    ws.set_column_width(1, 18)?;
    ws.set_column_width(2, 10)?;
    ws.set_column_width(3, 14)?;
    ws.set_column_width(4, 16)?;
    ws.set_freeze_panes(top + 1, 0)?;
    ws.autofilter(top, 0, last, 4)?;
    let mut chart = Chart::new(ChartType::Bar);
    chart.add_series().set_name("意见条数").set_categories((SUMMARY, top + 1, 1, last, 1)).set_values((
        SUMMARY,
        top + 1,
        2,
        last,
        2,
    ));
    chart.title().set_name("各领域意见条数");
    chart.legend().set_hidden();
    chart.set_width(560).set_height(340);
    ws.insert_chart(top, 6, &chart)?;
    Ok(())
}

fn cross(
    ws: &mut Worksheet,
    what: &str,
    areas: &[String],
    rows: Vec<(String, CrossRow)>,
    k: u64,
) -> Result<(), ExportError> {
    let h = header_format();
    let bold = Format::new().set_bold();
    let t = protect(rows, k);
    let small = t.small_label();
    ws.write_string(
        0,
        0,
        format!("答卷少于 {k} 份的{what}显示为“{small}”，其数字并入“合并”行，合计不变；口径见“说明”表。"),
    )?;
    let heads: Vec<String> = [what.to_owned(), "答卷（份）".into()]
        .into_iter()
        .chain(AreaCode::all().map(|a| area_sheet_name(a, areas.get(a.index()).map_or("", String::as_str))))
        .chain(["标签合计".into(), "意见条数".into()])
        .collect();
    for (i, s) in heads.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, s, &h)?;
    }
    let write_row = |ws: &mut Worksheet, row: u32, cells: Option<&CrossRow>, text: &str, f: Option<&Format>| {
        for col in 1..12u16 {
            match cells {
                Some(c) => {
                    let v = match col {
                        1 => c.respondents,
                        2..=9 => c.areas[usize::from(col - 2)],
                        10 => c.tag_total(),
                        _ => c.tagged,
                    };
                    match f {
                        Some(f) => ws.write_number_with_format(row, col, v as f64, f)?,
                        None => ws.write_number(row, col, v as f64)?,
                    };
                }
                None => {
                    ws.write_string(row, col, text)?;
                }
            }
        }
        Ok::<(), ExportError>(())
    };
    let mut row = 2u32;
    for r in &t.rows {
        ws.write_string(row, 0, &r.label)?;
        match (&r.cells, t.all_hidden) {
            (Ok(c), false) => write_row(ws, row, Some(c), "", None)?,
            (Err(Hidden::Merged), false) => write_row(ws, row, None, "已并入合并行", None)?,
            _ => write_row(ws, row, None, &small, None)?,
        }
        row += 1;
    }
    let last_data = row.saturating_sub(1).max(1);
    if let Some((n, pool)) = &t.pooled {
        ws.write_string_with_format(row, 0, format!("合并：{n} 个{what}"), &bold)?;
        write_row(ws, row, (!t.all_hidden).then_some(pool), &small, None)?;
        row += 1;
    }
    ws.write_string_with_format(row, 0, "合计", &bold)?;
    write_row(ws, row, (!t.all_hidden).then_some(&t.total), &small, Some(&bold))?;
    ws.set_column_width(0, width_for(t.rows.iter().map(|r| r.label.as_str()).chain([what]), 12.0, 40.0))?;
    for col in 1..12u16 {
        ws.set_column_width(col, 11)?;
    }
    ws.set_row_height(1, 32)?;
    ws.set_freeze_panes(2, 1)?;
    ws.autofilter(1, 0, last_data, 11)?;
    Ok(())
}

fn cooccurrence(ws: &mut Worksheet, ctx: &Context, r: &Report) -> Result<(), ExportError> {
    let h = header_format();
    ws.write_string_with_format(0, 0, "领域（同时归入的意见条数）", &h)?;
    for a in AreaCode::all() {
        let label = area_sheet_name(a, ctx.catalog.areas.name(a));
        ws.write_string_with_format(0, a.index() as u16 + 1, &label, &h)?;
        ws.write_string_with_format(a.index() as u32 + 1, 0, &label, &h)?;
        for b in AreaCode::all() {
            ws.write_number(a.index() as u32 + 1, b.index() as u16 + 1, r.cooccurrence[a.index()][b.index()] as f64)?;
        }
    }
    ws.set_column_width(0, 26)?;
    for c in 1..=8u16 {
        ws.set_column_width(c, 14)?;
    }
    ws.set_freeze_panes(1, 1)?;
    Ok(())
}

fn appraisal(ws: &mut Worksheet, r: &Report) -> Result<(), ExportError> {
    let h = header_format();
    let ap = &r.appraisal;
    if ap.is_empty() {
        ws.write_string(0, 0, "所选表单没有测评题（按领域逐项评价的矩阵题），或尚无测评答卷。")?;
        return Ok(());
    }
    let g = ap.scale.len() as u16;
    ws.write_string_with_format(0, 0, "测评项", &h)?;
    for (i, c) in ap.scale.iter().enumerate() {
        ws.write_string_with_format(0, 1 + i as u16, &c.label, &h)?;
        ws.write_string_with_format(0, 2 + g + i as u16, format!("{}占比", c.label), &h)?;
    }
    ws.write_string_with_format(0, 1 + g, "合计（份）", &h)?;
    for (i, (label, _, counts)) in ap.rows.iter().enumerate() {
        let row = 1 + i as u32;
        let total: u64 = counts.iter().sum();
        ws.write_string(row, 0, label)?;
        for (j, n) in counts.iter().enumerate() {
            ws.write_number(row, 1 + j as u16, *n as f64)?;
            let share = if total == 0 { 0.0 } else { *n as f64 / total as f64 };
            ws.write_number_with_format(row, 2 + g + j as u16, share, &percent())?;
        }
        ws.write_number(row, 1 + g, total as f64)?;
    }
    let last = ap.rows.len() as u32;
    ws.set_column_width(0, width_for(ap.rows.iter().map(|r| r.0.as_str()), 12.0, 30.0))?;
    ws.set_freeze_panes(1, 1)?;
    ws.autofilter(0, 0, last, 1 + 2 * g)?;
    let mut chart = Chart::new(ChartType::BarPercentStacked);
    for j in 0..g {
        chart.add_series().set_name((APPRAISAL, 0, 1 + j)).set_categories((APPRAISAL, 1, 0, last, 0)).set_values((
            APPRAISAL,
            1,
            1 + j,
            last,
            1 + j,
        ));
    }
    chart.title().set_name("各领域测评等级分布");
    chart.set_width(620).set_height(380);
    ws.insert_chart(last + 2, 0, &chart)?;
    Ok(())
}

fn explain(ws: &mut Worksheet, ctx: &Context, k: u64) -> Result<(), ExportError> {
    let h = header_format();
    let wrap = wrap_format();
    for (i, t) in ["代码", "领域", "定义"].iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *t, &h)?;
    }
    for a in ctx.catalog.areas.iter() {
        let row = u32::from(a.code.get());
        ws.write_string(row, 0, a.code.to_string())?;
        ws.write_string(row, 1, &a.name)?;
        ws.write_string_with_format(row, 2, &a.definition, &wrap)?;
    }
    let top = 10u32;
    ws.write_string_with_format(top, 0, "序号", &h)?;
    ws.write_string_with_format(top, 1, "", &h)?;
    ws.write_string_with_format(top, 2, "统计口径", &h)?;
    for (i, rule) in method::counting_rules(k).iter().enumerate() {
        let row = top + 1 + i as u32;
        ws.write_string(row, 0, (i + 1).to_string())?;
        ws.write_string_with_format(row, 2, rule, &wrap)?;
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 16)?;
    ws.set_column_width(2, 90)?;
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}
