//! 问题清单 and 整改台账 as sheets: two sheets of the report workbook, and a separate register workbook
//! formatted for posting (A4 landscape, overdue measures highlighted, ratings summarised). Every cell is
//! written as a string or a number, never a formula.

use super::ExportError;
use super::sheet::{SheetNames, clip, width_for};
use crate::domain::catalog::Catalog;
use crate::domain::problem::leader_units;
use crate::domain::rectification::{Measure, Register, bureau_today, is_overdue};
use crate::domain::report::policy::OTHER_UNITS;
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

pub const PROBLEMS: &str = "问题清单";
pub const REGISTER: &str = "整改台账";
pub const COMMENTS: &str = "群众评价意见";

fn header() -> Format {
    Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color(Color::RGB(0xDDE7F0)).set_text_wrap()
}

fn cell() -> Format {
    Format::new().set_border(FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::Top)
}

fn overdue_cell() -> Format {
    cell().set_background_color(Color::RGB(0xF8D7DA)).set_font_color(Color::RGB(0x9C0006))
}

fn write_row(ws: &mut Worksheet, row: u32, cells: &[String], f: &Format) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        write_cell(ws, row, u16::try_from(c).unwrap_or(u16::MAX), v, f, true)?;
    }
    Ok(())
}

/// One cell; with `numbers`, counts and numbers are numbers, to sum in Excel. Formula-looking text stays
/// text when edited.
fn write_cell(ws: &mut Worksheet, row: u32, col: u16, v: &str, f: &Format, numbers: bool) -> Result<(), XlsxError> {
    match v.parse::<u32>() {
        Ok(n) if numbers && (!v.starts_with('0') || v == "0") => {
            ws.write_number_with_format(row, col, f64::from(n), f)?
        }
        _ if super::looks_like_formula(v) => {
            ws.write_string_with_format(row, col, clip(v), &f.clone().set_quote_prefix())?
        }
        _ => ws.write_string_with_format(row, col, clip(v), f)?,
    };
    Ok(())
}

/// Sets each column's width for `rows` (at most `max`) and each row's height for its wrapped lines, the
/// table starting at `first_row`: a wrapped text in a one-line row printed over the next row.
fn fit(ws: &mut Worksheet, first_row: u32, rows: &[Vec<String>], max: f64) -> Result<(), XlsxError> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = Vec::with_capacity(cols);
    for c in 0..cols {
        let w = width_for(rows.iter().filter_map(|r| r.get(c)).map(String::as_str), 6.0, max);
        ws.set_column_width(u16::try_from(c).unwrap_or(u16::MAX), w)?;
        widths.push(w);
    }
    for (i, r) in rows.iter().enumerate() {
        let wrapped = r.iter().zip(&widths).map(|(text, w)| (text.as_str(), *w));
        if let Some(h) = super::print::row_height(wrapped) {
            ws.set_row_height(first_row + u32::try_from(i).unwrap_or(u32::MAX - first_row), h)?;
        }
    }
    Ok(())
}

/// The 问题清单 rows, ordered by support. `k` is `Some` for leaders: units then follow the disclosure
/// policy (shown units by name, no counts, the rest pooled); `None` gives the office every unit with its count.
pub fn problem_rows(reg: &Register, catalog: &Catalog, k: Option<u64>) -> Vec<Vec<String>> {
    let mut rows = vec![
        ["编号", "问题", "方面", "问题描述", "根源与原因", "原因类型", "意见条数", "答卷数", "来源单位", "典型意见"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for id in reg.problems_by_support() {
        let Some(p) = reg.problem(id) else { continue };
        let s = reg.support.get(&id).cloned().unwrap_or_default();
        let name = |u: &Option<String>| {
            u.as_deref().map_or(crate::domain::unit::NO_UNIT.to_owned(), |c| catalog.unit_name(c).to_owned())
        };
        let units = match k {
            Some(k) => {
                let (shown, pooled) = leader_units(&s, k);
                let mut names: Vec<String> = shown.iter().map(name).collect();
                if pooled {
                    names.push(OTHER_UNITS.to_owned());
                }
                names.join("、")
            }
            None => s.by_unit().iter().map(|(u, n)| format!("{}（{n}）", name(u))).collect::<Vec<_>>().join("、"),
        };
        rows.push(vec![
            id.to_string(),
            p.draft.title.clone(),
            p.draft.areas.iter().map(|a| catalog.areas.name(*a).to_owned()).collect::<Vec<_>>().join("、"),
            p.draft.description.clone(),
            p.draft.root_cause.clone(),
            p.draft.cause_type.map(|c| c.label().to_owned()).unwrap_or_default(),
            s.opinions.to_string(),
            s.responses.to_string(),
            units,
            reg.quotes.get(&id).map(|q| q.join("\n")).unwrap_or_default(),
        ]);
    }
    rows
}

/// One register row: problem, the four parts, status, overdue, latest progress, ratings, published or draft,
/// first published, and the changes since as /gongkai lists them (a deadline moved reads as never overdue).
fn measure_row(reg: &Register, m: &Measure, today: chrono::NaiveDate) -> (Vec<String>, bool) {
    let d = &m.draft;
    let overdue = is_overdue(d.deadline, d.status, today);
    let t = reg.ratings.get(&m.id).copied().unwrap_or_default();
    // A measure rated by fewer than k people shows no counts, only why (its counts would be their grades);
    // one without published ratings shows none either (zeros read as "nobody satisfied").
    let withheld = reg.withheld.contains(&m.id);
    let count = |n: u64| if withheld || t.total() == 0 { String::new() } else { n.to_string() };
    let rate = if withheld { reg.rating_line(m.id) } else { t.satisfaction_percent().unwrap_or_default() };
    let title = reg.problem(m.problem_id).map(|p| p.draft.title.clone()).unwrap_or_default();
    let latest = reg.latest_progress(m.id).map(|p| format!("{} {}", p.on, p.evidence)).unwrap_or_default();
    let row = vec![
        m.id.to_string(),
        title,
        d.action.clone(),
        d.target.clone(),
        d.deadline.map(|x| x.to_string()).unwrap_or_default(),
        d.owner.clone(),
        d.status.label().to_owned(),
        if overdue { "逾期".to_owned() } else { String::new() },
        latest,
        count(t.satisfied),
        count(t.fair),
        count(t.unsatisfied),
        rate,
        // The report workbook lists drafts too: one posted from it must not publish a draft unawares.
        if m.published_at.is_some() { "已公开" } else { "草稿（未公开）" }.to_owned(),
        m.first_published_at.map(|at| bureau_today(at).to_string()).unwrap_or_default(),
        reg.change_lines(m.id).join("\n"),
    ];
    (row, overdue)
}

const REGISTER_HEADER: [&str; 16] = [
    "编号",
    "问题",
    "整改措施",
    "整改目标",
    "完成时限",
    "责任领导/单位",
    "状态",
    "逾期",
    "最新进展",
    "满意",
    "基本满意",
    "不满意",
    "满意率",
    "公开",
    "首次公开",
    "公开后的调整",
];

/// Writes a register table from `first_row`; overdue rows highlighted.
fn register_table(
    ws: &mut Worksheet,
    reg: &Register,
    measures: &[&Measure],
    today: chrono::NaiveDate,
    first_row: u32,
) -> Result<(), XlsxError> {
    let head: Vec<String> = REGISTER_HEADER.map(str::to_owned).to_vec();
    write_row(ws, first_row, &head, &header())?;
    let mut all = vec![head];
    let (plain, late) = (cell(), overdue_cell());
    for (i, m) in measures.iter().enumerate() {
        let (row, overdue) = measure_row(reg, m, today);
        let r = first_row + 1 + u32::try_from(i).unwrap_or(u32::MAX - first_row - 1);
        write_row(ws, r, &row, if overdue { &late } else { &plain })?;
        all.push(row);
    }
    // Narrow enough that sixteen columns print legibly on A4 landscape; long texts wrap in tall rows.
    fit(ws, first_row, &all, 28.0)
}

/// Adds 问题清单 and 整改台账 (every measure, published or not) to the report workbook.
///
/// # Errors
/// When a sheet cannot be written.
pub fn report_sheets(
    wb: &mut Workbook,
    names: &mut SheetNames,
    reg: &Register,
    catalog: &Catalog,
    k: Option<u64>,
    now_ms: i64,
    print: &super::print::PageSetup,
) -> Result<(), ExportError> {
    let rows = problem_rows(reg, catalog, k);
    let ws = wb.add_worksheet();
    ws.set_name(names.claim(PROBLEMS))?;
    write_row(ws, 0, &rows[0], &header())?;
    let f = cell();
    for (i, r) in rows.iter().enumerate().skip(1) {
        write_row(ws, u32::try_from(i).unwrap_or(u32::MAX), r, &f)?;
    }
    fit(ws, 0, &rows, 40.0)?;
    ws.set_freeze_panes(1, 0)?;
    // Both sheets are wide: landscape, the header row repeated on every page.
    print.apply(ws, f64::MAX, super::print::Flow::Rows { header_rows: 1 })?;
    let ws = wb.add_worksheet();
    ws.set_name(names.claim(REGISTER))?;
    let measures: Vec<&Measure> = reg.measures.iter().collect();
    register_table(ws, reg, &measures, bureau_today(now_ms), 0)?;
    ws.set_freeze_panes(1, 0)?;
    print.apply(ws, f64::MAX, super::print::Flow::Rows { header_rows: 1 })?;
    Ok(())
}

/// 群众评价意见: each rating comment of `measures` as a leader's problem page shows them (released batches
/// only, in text order, without its grade: beside a comment its writer's grade would be told). A comment is
/// always text, even one of digits.
fn comments_sheet(wb: &mut Workbook, reg: &Register, measures: &[&Measure], generated: &str) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(COMMENTS)?;
    let mut all = vec![["编号", "问题", "整改措施", "意见或建议"].map(str::to_owned).to_vec()];
    write_row(ws, 0, &all[0], &header())?;
    let f = cell();
    for m in measures {
        let title = reg.problem(m.problem_id).map(|p| p.draft.title.clone()).unwrap_or_default();
        for comment in reg.comments.get(&m.id).into_iter().flatten() {
            let row = u32::try_from(all.len()).unwrap_or(u32::MAX);
            let measure = [m.id.to_string(), title.clone(), m.draft.action.clone()];
            write_row(ws, row, &measure, &f)?;
            write_cell(ws, row, 3, comment, &f, false)?;
            all.push([measure.as_slice(), std::slice::from_ref(comment)].concat());
        }
    }
    if all.len() == 1 {
        let when = format!("暂无可公布的评价意见（一项措施的评价满 {} 人次后公布）", reg.withheld_below);
        ws.write_string(1, 0, &when)?;
    }
    fit(ws, 0, &all, 40.0)?;
    ws.set_freeze_panes(1, 0)?;
    super::print::PageSetup::new("群众评价意见", generated).apply(
        ws,
        f64::MAX,
        super::print::Flow::Rows { header_rows: 1 },
    )
}

/// The register for posting: published measures only, grouped by problem in order of support, A4
/// landscape, overdue rows highlighted, a ratings summary line. Returns the xlsx bytes.
///
/// # Errors
/// When the workbook cannot be written.
pub fn posting_workbook(reg: &Register, catalog: &Catalog, now_ms: i64) -> Result<Vec<u8>, ExportError> {
    let _ = catalog;
    let today = bureau_today(now_ms);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(REGISTER)?;
    let mut measures: Vec<&Measure> = Vec::new();
    for id in reg.problems_by_support() {
        measures.extend(reg.measures_of(id).filter(|m| m.published_at.is_some()));
    }
    let mut total = crate::domain::rectification::RatingTally::default();
    for m in &measures {
        let t = reg.ratings.get(&m.id).copied().unwrap_or_default();
        total.satisfied += t.satisfied;
        total.fair += t.fair;
        total.unsatisfied += t.unsatisfied;
    }
    let overdue = measures.iter().filter(|m| is_overdue(m.draft.deadline, m.draft.status, today)).count();
    ws.write_string_with_format(0, 0, "整改落实台账（四明确一公开）", &Format::new().set_bold().set_font_size(16))?;
    let withheld = measures.iter().filter(|m| reg.withheld.contains(&m.id)).count();
    // Ratings are released at midnights: they run to the end of yesterday, while overdue is judged today.
    let rated_through = today.pred_opt().unwrap_or(today);
    let line = format!(
        "截至 {today}：公开整改措施 {} 项，其中逾期 {overdue} 项（红色标出）；群众评价（截至 {rated_through} 24 时）{} 人次：{}{}{}",
        measures.len(),
        total.total(),
        total.summary(),
        total.satisfaction_percent().map(|p| format!("，满意率 {p}")).unwrap_or_default(),
        if withheld > 0 {
            format!("（另有 {withheld} 项措施评价不足 {} 人次，未计入、暂不公布）", reg.withheld_below)
        } else {
            String::new()
        }
    );
    ws.write_string(1, 0, &line)?;
    register_table(ws, reg, &measures, today, 3)?;
    // The report's page setup (A4 landscape, page numbers), with the table's header row repeated.
    let generated = crate::domain::report::local_time(now_ms);
    super::print::PageSetup::new("整改落实台账", &generated).apply(
        ws,
        f64::MAX,
        super::print::Flow::Rows { header_rows: 0 },
    )?;
    ws.set_repeat_rows(3, 3)?;
    comments_sheet(&mut wb, reg, &measures, &generated)?;
    let secs = now_ms.div_euclid(1000);
    wb.set_properties(
        &DocProperties::new()
            .set_title("整改落实台账")
            .set_author("问计 Wenji")
            .set_creation_datetime(&ExcelDateTime::from_timestamp(secs)?),
    );
    Ok(wb.save_to_buffer()?)
}
