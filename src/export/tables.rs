//! The workbook's small tables, filled once the tallies are complete: 汇总, the two cross-tables, 共现,
//! 测评 and 说明. For leaders every number follows the disclosure policy (`domain::report::policy`):
//! hidden groups are pooled without their names, and a selection under k shows "<k" only.

use super::xlsx::{APPRAISAL, SUMMARY, area_sheet_name, header_format, percent, wrap_format};
use super::{Context, ExportError, POOLED_CATEGORY};
use crate::domain::agreement::{Agreement, METHOD, show};
use crate::domain::area::AreaCode;
use crate::domain::report::policy::{Code, OTHER_CATEGORIES, OTHER_UNITS, TableRow, protect_rows};
use crate::domain::report::{CrossRow, Report, local_time, method};
use crate::domain::tagging::OpinionState;
use rust_xlsxwriter::{Chart, ChartType, Format, Worksheet};

use super::print::{Flow, PageSetup, row_height};
use super::sheet::width_for;

/// "<k" when the selection is too small for leaders to see numbers; `None` otherwise.
fn small(ctx: &Context) -> Option<String> {
    ctx.disclosure.as_ref().filter(|d| d.too_small).map(|d| d.small_label())
}

/// Writes a count, or "<k" in its place.
fn count(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    n: u64,
    hide: Option<&str>,
    f: Option<&Format>,
) -> Result<(), ExportError> {
    match (hide, f) {
        (Some(s), _) => ws.write_string(row, col, s)?,
        (None, Some(f)) => ws.write_number_with_format(row, col, n as f64, f)?,
        (None, None) => ws.write_number(row, col, n as f64)?,
    };
    Ok(())
}

fn label_value(ws: &mut Worksheet, row: u32, label: &str, value: &str, bold: &Format) -> Result<(), ExportError> {
    ws.write_string_with_format(row, 0, label, bold)?;
    ws.write_string(row, 1, value)?;
    Ok(())
}

/// Width of 汇总 in character units, the chart to the right of the table included.
const SUMMARY_WIDTH: f64 = 160.0;

pub fn summary(ws: &mut Worksheet, ctx: &Context, r: &Report, print: &PageSetup) -> Result<(), ExportError> {
    let h = header_format();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let hide = small(ctx);
    let hide = hide.as_deref();
    let scope = &ctx.params.scope;
    let forms: Vec<String> =
        scope.forms.iter().map(|f| ctx.catalog.form(f).map_or(f.clone(), |d| d.title.clone())).collect();
    ws.write_string_with_format(0, 0, "分析报告数据汇总", &title)?;
    label_value(ws, 1, "生成时间", &local_time(ctx.params.generated_at), &bold)?;
    label_value(ws, 2, "表单", &forms.join("、"), &bold)?;
    let dates = match (scope.from, scope.to) {
        (None, None) => "全部日期".to_owned(),
        (a, b) => {
            format!("{} 至 {}", a.map_or("开始".into(), |d| d.to_string()), b.map_or("最近".into(), |d| d.to_string()))
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
    let protection = if ctx.disclosure.is_some() {
        format!("已保护：答卷少于 {k} 份的单位、类别不单独列出，并入合并行；口径见“说明”表")
    } else {
        "完整数据，未做小单元保护：仅供领导小组办公室使用，不得交给领导或外传".to_owned()
    };
    label_value(ws, 5, "小单元保护", &protection, &bold)?;
    if let Some((opinions, groups)) = ctx.groups {
        // A selection too small to show anything shows no count here either (the policy's "<k").
        let shown = small(ctx).unwrap_or_else(|| format!("意见 {opinions} 条，归并为 {groups} 组"));
        label_value(ws, 6, "意见与分组", &shown, &bold)?;
    }
    let top = 7u32;
    for (i, t) in ["代码", "领域", "意见条数", "占已归类意见", "涉及答卷（份）"].iter().enumerate()
    {
        ws.write_string_with_format(top, i as u16, *t, &h)?;
    }
    for a in AreaCode::all() {
        let row = top + 1 + a.index() as u32;
        ws.write_string(row, 0, a.to_string())?;
        ws.write_string(row, 1, ctx.catalog.areas.name(a))?;
        count(ws, row, 2, r.area_opinions[a.index()], hide, None)?;
        match hide {
            Some(s) => ws.write_string(row, 3, s)?,
            None => ws.write_number_with_format(row, 3, r.area_share(a), &percent())?,
        };
        count(ws, row, 4, r.area_responses[a.index()], hide, None)?;
    }
    let last = top + 8;
    ws.write_string_with_format(last + 1, 1, "标签合计", &bold)?;
    count(ws, last + 1, 2, r.tag_total(), hide, Some(&bold))?;
    ws.write_string(last + 1, 3, "一条意见可计入多个领域")?;
    let mut row = last + 3;
    ws.write_string_with_format(row, 0, "项目", &h)?;
    ws.write_string_with_format(row, 1, "数量", &h)?;
    let mut line = |label: &str, n: u64| -> Result<(), ExportError> {
        row += 1;
        ws.write_string(row, 0, label)?;
        count(ws, row, 1, n, hide, None)
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
    if hide.is_none() {
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
    }
    // One page: the table and the chart beside it print whole, never cut.
    print.apply(ws, SUMMARY_WIDTH, Flow::OnePage)?;
    Ok(())
}

/// A unit × area or category × area table before protection.
pub struct CrossTable {
    pub what: &'static str,
    pub by_unit: bool,
    pub rows: Vec<(Code, String, CrossRow)>,
}

pub fn cross(ws: &mut Worksheet, ctx: &Context, t: CrossTable, print: &PageSetup) -> Result<(), ExportError> {
    let h = header_format();
    let bold = Format::new().set_bold();
    let what = t.what;
    let k = ctx.params.small_cell_k;
    let other = if t.by_unit { OTHER_UNITS } else { OTHER_CATEGORIES };
    let mut total = CrossRow::default();
    t.rows.iter().for_each(|(_, _, r)| total.add(r));
    let hide = small(ctx);
    let rows: Vec<TableRow<CrossRow>> = match &ctx.disclosure {
        None => t.rows.into_iter().map(|(_, label, r)| TableRow::Shown(label, r)).collect(),
        Some(_) if hide.is_some() => Vec::new(),
        Some(d) => {
            let shows = |c: Option<&str>| if t.by_unit { d.shows_unit(c) } else { c != Some(POOLED_CATEGORY) };
            protect_rows(t.rows, shows, CrossRow::add)
        }
    };
    let note = if ctx.disclosure.is_none() {
        "完整数据：每个单位、类别都单独列出（未做小单元保护），仅供领导小组办公室使用。".to_owned()
    } else if !t.by_unit {
        format!(
            "每条意见按它在原始数据和各领域表中显示的类别计数：同一单位（或合并行）中答卷少于 {k} 份的类别显示为“{other}”，这里也计入“{other}”行，因此可能少于看板上该类别的人数。口径见“说明”表。"
        )
    } else {
        format!(
            "答卷少于 {k} 份的{what}不单独列出，其数字并入“{other}”行（不列名）；合并行不足 {k} 份时，答卷最少的{what}也一并并入。合计不变，口径见“说明”表。"
        )
    };
    ws.write_string(0, 0, note)?;
    let heads: Vec<String> = [what.to_owned(), "答卷（份）".into()]
        .into_iter()
        .chain(AreaCode::all().map(|a| area_sheet_name(a, ctx.names.areas.get(a.index()).map_or("", String::as_str))))
        .chain(["标签合计".into(), "意见条数".into()])
        .collect();
    for (i, s) in heads.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, s, &h)?;
    }
    let write_row = |ws: &mut Worksheet, row: u32, c: &CrossRow, f: Option<&Format>| {
        for col in 1..12u16 {
            let v = match col {
                1 => c.respondents,
                2..=9 => c.areas[usize::from(col - 2)],
                10 => c.tag_total(),
                _ => c.tagged,
            };
            count(ws, row, col, v, hide.as_deref(), f)?;
        }
        Ok::<(), ExportError>(())
    };
    let mut row = 2u32;
    let mut labels = Vec::new();
    for r in &rows {
        let (label, cells, f) = match r {
            TableRow::Shown(label, c) => (label.as_str(), c, None),
            TableRow::Pooled(c) => (other, c, Some(&bold)),
        };
        match f {
            Some(f) => ws.write_string_with_format(row, 0, label, f)?,
            None => ws.write_string(row, 0, label)?,
        };
        labels.push(label.to_owned());
        write_row(ws, row, cells, None)?;
        row += 1;
    }
    let last_data = row.saturating_sub(1).max(1);
    ws.write_string_with_format(row, 0, "合计", &bold)?;
    write_row(ws, row, &total, Some(&bold))?;
    let label_width = width_for(labels.iter().map(String::as_str).chain([what, other]), 12.0, 40.0);
    ws.set_column_width(0, label_width)?;
    for col in 1..12u16 {
        ws.set_column_width(col, 11)?;
    }
    ws.set_row_height(1, 32)?;
    ws.set_freeze_panes(2, 1)?;
    ws.autofilter(1, 0, last_data, 11)?;
    print.apply(ws, label_width + 11.0 * 11.0, Flow::Rows { header_rows: 2 })?;
    Ok(())
}

pub fn cooccurrence(ws: &mut Worksheet, ctx: &Context, r: &Report, print: &PageSetup) -> Result<(), ExportError> {
    let h = header_format();
    let hide = small(ctx);
    ws.write_string_with_format(0, 0, "领域（同时归入的意见条数）", &h)?;
    for a in AreaCode::all() {
        let label = area_sheet_name(a, ctx.catalog.areas.name(a));
        ws.write_string_with_format(0, a.index() as u16 + 1, &label, &h)?;
        ws.write_string_with_format(a.index() as u32 + 1, 0, &label, &h)?;
        for b in AreaCode::all() {
            let n = r.cooccurrence[a.index()][b.index()];
            count(ws, a.index() as u32 + 1, b.index() as u16 + 1, n, hide.as_deref(), None)?;
        }
    }
    ws.set_column_width(0, 26)?;
    for c in 1..=8u16 {
        ws.set_column_width(c, 14)?;
    }
    ws.set_freeze_panes(1, 1)?;
    print.apply(ws, 26.0 + 8.0 * 14.0, Flow::OnePage)?;
    Ok(())
}

/// Most table rows above the 测评 chart that still leave it room on the same printed page.
const CHART_BESIDE_TABLE_ROWS: u32 = 8;

/// 测评: the grade distribution over the whole selection, then per unit; "<k" when it is too small.
pub fn appraisal(ws: &mut Worksheet, ctx: &Context, r: &Report, print: &PageSetup) -> Result<(), ExportError> {
    let h = header_format();
    let ap = &r.appraisal;
    if ap.is_empty() {
        ws.write_string(
            0,
            0,
            "所选表单没有测评题（总体评价等评价等级题，或按领域逐项评价的矩阵题），或尚无测评答卷。",
        )?;
        print.apply(ws, 80.0, Flow::OnePage)?;
        return Ok(());
    }
    let hide = small(ctx);
    let hide = hide.as_deref();
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
            count(ws, row, 1 + j as u16, *n, hide, None)?;
            let share = if total == 0 { 0.0 } else { *n as f64 / total as f64 };
            match hide {
                Some(s) => ws.write_string(row, 2 + g + j as u16, s)?,
                None => ws.write_number_with_format(row, 2 + g + j as u16, share, &percent())?,
            };
        }
        count(ws, row, 1 + g, total, hide, None)?;
    }
    let last = ap.rows.len() as u32;
    let label_width = width_for(ap.rows.iter().map(|r| r.0.as_str()), 12.0, 30.0);
    ws.set_column_width(0, label_width)?;
    // Columns keep Excel's default width of 8.43 characters.
    print.apply(ws, label_width + f64::from(2 * g + 1) * 8.43, Flow::Rows { header_rows: 1 })?;
    ws.set_freeze_panes(1, 1)?;
    ws.autofilter(0, 0, last, 1 + 2 * g)?;
    if hide.is_none() {
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
        chart.title().set_name("测评等级分布");
        chart.set_width(620).set_height(380);
        ws.insert_chart(last + 2, 0, &chart)?;
        // The chart (about 19 rows) prints whole: it starts a page unless a short table leaves it room,
        // and the per-unit table starts the page after it.
        let mut breaks = vec![last + 24];
        if last > CHART_BESIDE_TABLE_ROWS {
            breaks.insert(0, last + 2);
        }
        ws.set_page_breaks(&breaks)?;
        appraisal_by_unit(ws, ctx, r, last + 24)?;
    }
    Ok(())
}

/// 测评 per unit, below the chart: every unit for the office; for leaders only shown units, the rest in
/// one unnamed pooled block (the disclosure policy's rule, as in 单位×领域).
fn appraisal_by_unit(ws: &mut Worksheet, ctx: &Context, r: &Report, top: u32) -> Result<(), ExportError> {
    let h = header_format();
    let bold = Format::new().set_bold();
    let ap = &r.appraisal;
    let g = ap.scale.len() as u16;
    ws.write_string_with_format(top, 0, "按单位", &bold)?;
    ws.write_string_with_format(top + 1, 0, "单位", &h)?;
    ws.write_string_with_format(top + 1, 1, "测评项", &h)?;
    for (i, c) in ap.scale.iter().enumerate() {
        ws.write_string_with_format(top + 1, 2 + i as u16, &c.label, &h)?;
    }
    ws.write_string_with_format(top + 1, 2 + g, "合计（份）", &h)?;
    let mut groups: Vec<(Code, String, crate::domain::report::Appraisal)> = r
        .appraisal_by_unit
        .iter()
        .map(|(code, a)| (code.clone(), ctx.names.unit(code.as_deref()).to_owned(), a.clone()))
        .collect();
    ctx.catalog.sort_by_unit(&mut groups, |g| g.0.as_deref());
    let blocks = match &ctx.disclosure {
        None => groups.into_iter().map(|(_, label, a)| TableRow::Shown(label, a)).collect(),
        Some(d) => protect_rows(groups, |c| d.shows_unit(c), crate::domain::report::Appraisal::merge),
    };
    let mut row = top + 2;
    for b in &blocks {
        let (label, a) = match b {
            TableRow::Shown(label, a) => (label.as_str(), a),
            TableRow::Pooled(a) => (OTHER_UNITS, a),
        };
        for (item, area, _) in &ap.rows {
            let counts = a.counts_in(item, *area, &ap.scale);
            ws.write_string(row, 0, label)?;
            ws.write_string(row, 1, item)?;
            for (j, n) in counts.iter().enumerate() {
                ws.write_number(row, 2 + j as u16, *n as f64)?;
            }
            ws.write_number(row, 2 + g, counts.iter().sum::<u64>() as f64)?;
            row += 1;
        }
    }
    Ok(())
}

/// Width of the 说明 sheet's text column.
const EXPLAIN_TEXT_WIDTH: f64 = 90.0;

pub fn explain(ws: &mut Worksheet, ctx: &Context, print: &PageSetup) -> Result<(), ExportError> {
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
        if let Some(h) = row_height([(a.definition.as_str(), EXPLAIN_TEXT_WIDTH)]) {
            ws.set_row_height(row, h)?;
        }
    }
    let top = 10u32;
    ws.write_string_with_format(top, 0, "序号", &h)?;
    ws.write_string_with_format(top, 1, "", &h)?;
    ws.write_string_with_format(top, 2, "统计口径", &h)?;
    let rules = method::counting_rules(u64::from(ctx.params.small_cell_k), ctx.disclosure.is_some());
    for (i, rule) in rules.iter().enumerate() {
        let row = top + 1 + i as u32;
        ws.write_string(row, 0, (i + 1).to_string())?;
        ws.write_string_with_format(row, 2, rule, &wrap)?;
        if let Some(h) = row_height([(rule.as_str(), EXPLAIN_TEXT_WIDTH)]) {
            ws.set_row_height(row, h)?;
        }
    }
    // A form too small to show anything shows no agreement either (the disclosure policy).
    if let Some(g) = ctx.agreement.as_ref().filter(|_| ctx.shows_rows()) {
        agreement_rows(ws, top + 2 + rules.len() as u32, g, ctx)?;
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 16)?;
    ws.set_column_width(2, EXPLAIN_TEXT_WIDTH)?;
    ws.set_freeze_panes(1, 0)?;
    print.apply(ws, 8.0 + 16.0 + EXPLAIN_TEXT_WIDTH, Flow::Rows { header_rows: 1 })?;
    Ok(())
}

/// Title of the double-coding block on 说明.
pub const AGREEMENT_TITLE: &str = "双人归类一致性";

/// The double-coding block: n, α, κ per area and how they were computed, from row `top` on.
fn agreement_rows(ws: &mut Worksheet, top: u32, g: &Agreement, ctx: &Context) -> Result<(), ExportError> {
    let h = header_format();
    let wrap = wrap_format();
    ws.write_string_with_format(top, 0, AGREEMENT_TITLE, &h)?;
    ws.write_string_with_format(top, 1, "系数", &h)?;
    ws.write_string_with_format(top, 2, "说明", &h)?;
    let mut row = top + 1;
    let mut line = |label: String, value: String, note: String| -> Result<(), ExportError> {
        ws.write_string(row, 0, label)?;
        ws.write_string(row, 1, value)?;
        ws.write_string_with_format(row, 2, note, &wrap)?;
        row += 1;
        Ok(())
    };
    line(
        "n".into(),
        g.opinions.to_string(),
        format!("两人都已独立归类的意见条数；其中两人选择完全相同 {} 条", g.identical),
    )?;
    line("α".into(), show(g.alpha), format!("Krippendorff α（名义/二值），{} 个“意见×领域”判断单元", g.opinions * 8))?;
    for a in ctx.catalog.areas.iter() {
        line(
            format!("κ {}", a.code),
            show(g.kappa[a.code.index()]),
            format!("{} 的 Cohen κ，n = {}", a.name, g.opinions),
        )?;
    }
    line("方法".into(), String::new(), METHOD.to_owned())?;
    Ok(())
}
