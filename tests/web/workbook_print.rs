//! The report workbook prints: every sheet's page setup read back from the xlsx's XML (calamine does not
//! read page setup) and wrapped quotes in rows tall enough for them. The rendered check, LibreOffice to
//! PDF, is `tests/export/print_check.py`.

use crate::helpers::TestApp;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;
use wenji::domain::report::Scope;
use wenji::export::{ExportParams, Format};

/// The XML of every worksheet by sheet name, and workbook.xml.
fn sheets_xml(bytes: &[u8]) -> (HashMap<String, String>, String) {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let workbook = read("xl/workbook.xml");
    let rels = read("xl/_rels/workbook.xml.rels");
    let target = |rid: &str| {
        let at = rels.find(&format!("Id=\"{rid}\"")).unwrap();
        let rel = &rels[rels[..at].rfind('<').unwrap()..];
        let t = rel.split("Target=\"").nth(1).unwrap();
        format!("xl/{}", &t[..t.find('"').unwrap()])
    };
    let mut out = HashMap::new();
    for part in workbook.split("<sheet ").skip(1) {
        let attr = |a: &str| part.split(&format!("{a}=\"")).nth(1).unwrap().split('"').next().unwrap().to_owned();
        out.insert(attr("name"), read(&target(&attr("r:id"))));
    }
    (out, workbook)
}

impl TestApp {
    async fn full_workbook(&self) -> Vec<u8> {
        let params = ExportParams {
            scope: Scope { forms: vec!["zhengqiu".into(), "ceping".into()], ..Default::default() },
            format: Format::Xlsx,
            small_cell_k: 5,
            unprotected: true,
            generated_at: 1_795_000_000_000,
        };
        let path = self.dir.path().join("print.xlsx");
        let catalog = Arc::new(self.state.forms().catalog.clone());
        let max = wenji::export::sheet::EXCEL_MAX_ROWS;
        wenji::reporting::run(self.store(), catalog, params, &path, max, Arc::new(|_, _| {})).await.unwrap();
        std::fs::read(&path).unwrap()
    }
}

/// The value of `attr` in the first `<tag …>` of `xml`.
fn attr_of(xml: &str, tag: &str, attr: &str) -> Option<String> {
    let el = xml.split(&format!("<{tag} ")).nth(1)?.split('>').next()?;
    Some(el.split(&format!("{attr}=\"")).nth(1)?.split('"').next()?.to_owned())
}

#[tokio::test]
async fn every_sheet_prints_on_a4_fit_to_the_page_width_with_header_footer_and_repeated_header_rows() {
    let app = TestApp::spawn().await;
    let id = app.submit_via_unit("jg-bgs", "希望领导多下基层，服务群众").await;
    app.tag(id, &[1, 7]).await;
    let (sheets, workbook) = sheets_xml(&app.full_workbook().await);
    assert!(sheets.len() >= 16, "every sheet of the report: {:?}", sheets.keys());
    for (name, xml) in &sheets {
        assert_eq!(attr_of(xml, "pageSetup", "paperSize").as_deref(), Some("9"), "{name}: A4");
        assert!(attr_of(xml, "pageSetup", "orientation").is_some(), "{name}: an orientation");
        assert_eq!(attr_of(xml, "pageSetUpPr", "fitToPage").as_deref(), Some("1"), "{name}: fit to the page");
        assert_eq!(attr_of(xml, "pageSetup", "fitToWidth"), None, "{name}: one page wide (Excel's default 1)");
        let header = xml.split("<oddHeader>").nth(1).map(|h| h.split('<').next().unwrap()).unwrap_or_default();
        assert!(header.contains("&amp;A") && header.contains("分析检查阶段征求意见表"), "{name}: header {header}");
        assert!(header.contains("生成于 2026-"), "{name}: the generation time in the header: {header}");
        let footer = xml.split("<oddFooter>").nth(1).map(|h| h.split('<').next().unwrap()).unwrap_or_default();
        assert!(footer.contains("&amp;P") && footer.contains("&amp;N"), "{name}: page numbers {footer}");
    }
    let landscape = |n: &str| attr_of(&sheets[n], "pageSetup", "orientation").unwrap() == "landscape";
    assert!(landscape("1 理论学习") && landscape("原始数据") && landscape("汇总"), "wide sheets print landscape");
    // 汇总 and its chart print on one page: one page down too.
    assert_eq!(attr_of(&sheets["汇总"], "pageSetup", "fitToHeight"), None, "汇总 fits one page down");
    assert_eq!(attr_of(&sheets["1 理论学习"], "pageSetup", "fitToHeight").as_deref(), Some("0"), "rows flow on");
    for (sheet, rows) in [("1 理论学习", "$1:$1"), ("未归类", "$1:$1"), ("原始数据", "$1:$1"), ("单位×领域", "$1:$2")]
    {
        // Excel quotes a sheet name only when it needs to (a space, ×).
        let titles = [format!("'{sheet}'!{rows}"), format!(">{sheet}!{rows}")];
        assert!(
            workbook.split("_xlnm.Print_Titles").skip(1).any(|d| {
                let d = d.split('<').next().unwrap();
                titles.iter().any(|t| d.contains(t.as_str()))
            }),
            "{sheet}: header rows {rows} repeat on every page"
        );
    }
}

#[tokio::test]
async fn a_long_quote_gets_a_row_tall_enough_for_its_wrapped_lines_and_a_short_one_stays_low() {
    let app = TestApp::spawn().await;
    let short = app.submit_via_unit("jg-bgs", "办事效率不高").await;
    // 300 CJK characters: 600 units in a 60-wide column, about 12 lines of 15 points.
    let long = app.submit_via_unit("jg-zgk", &"基层反映的问题要逐条回应".repeat(25)).await;
    app.tag(short, &[1]).await;
    app.tag(long, &[1]).await;
    let (sheets, _) = sheets_xml(&app.full_workbook().await);
    let area = &sheets["1 理论学习"];
    let row = |n: u32| area.split(&format!("<row r=\"{n}\"")).nth(1).unwrap().split('>').next().unwrap().to_owned();
    let heights: Vec<Option<f64>> = [2, 3]
        .iter()
        .map(|n| row(*n).split("ht=\"").nth(1).map(|h| h.split('"').next().unwrap().parse().unwrap()))
        .collect();
    let tall = heights.iter().flatten().copied().fold(0.0, f64::max);
    assert!(tall >= 180.0, "the long quote's row holds its 12 lines: {heights:?}");
    // The short row needs two lines only for the form's title in its 20-wide column.
    let low = heights.iter().map(|h| h.unwrap_or(15.0)).fold(f64::MAX, f64::min);
    assert!(low <= 33.0, "the short quote's row stays low: {heights:?}");
}

/// The fill colour (RRGGBB) of style `s` in `styles.xml`, if it has a solid fill.
fn fill_of(styles: &str, s: usize) -> Option<String> {
    let xfs = styles.split("<cellXfs").nth(1)?;
    let xf = xfs.split("<xf ").nth(s + 1)?;
    let fill: usize = attr_of(&format!("<xf {xf}"), "xf", "fillId")?.parse().ok()?;
    let fills = styles.split("<fills").nth(1)?.split("</fills>").next()?;
    let f = fills.split("<fill>").nth(fill + 1)?;
    Some(attr_of(f, "fgColor", "rgb")?[2..].to_owned())
}

#[tokio::test]
async fn the_register_for_posting_prints_a4_landscape_with_page_numbers_and_overdue_rows_in_red() {
    let app = TestApp::spawn().await;
    let (_, m, _) = crate::register::published_measure(&app).await;
    let (leader, csrf) = app.login_as(wenji::domain::user::Role::Leader).await;
    let yesterday = wenji::domain::rectification::bureau_today(wenji::store::now_ms()).pred_opt().unwrap().to_string();
    // A long measure wraps: its row is tall enough for its lines (one line high, it printed over the next row).
    let action = "设立周末窗口，材料一次告知，群众办事不跑第二趟".repeat(6);
    let fields = [
        ("action", action.as_str()),
        ("target", "b"),
        ("deadline", yesterday.as_str()),
        ("owner", "c"),
        ("status", "in_progress"),
    ];
    assert_eq!(crate::register::post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &fields).await.0, 303);
    let bytes = leader.get(app.url("/w/register.xlsx")).send().await.unwrap().bytes().await.unwrap();
    let (sheets, workbook) = sheets_xml(&bytes);
    let xml = &sheets["整改台账"];
    assert_eq!(attr_of(xml, "pageSetup", "paperSize").as_deref(), Some("9"), "A4");
    assert_eq!(attr_of(xml, "pageSetup", "orientation").as_deref(), Some("landscape"));
    assert_eq!(attr_of(xml, "pageSetUpPr", "fitToPage").as_deref(), Some("1"), "one page wide");
    let footer = xml.split("<oddFooter>").nth(1).map(|h| h.split('<').next().unwrap()).unwrap_or_default();
    assert!(footer.contains("&amp;P") && footer.contains("&amp;N"), "page numbers: {footer}");
    assert!(workbook.contains("整改台账!$4:$4"), "the table's header row repeats: {workbook}");

    // Row 5 is the overdue measure: every cell red, its 逾期 column filled in.
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut styles = String::new();
    zip.by_name("xl/styles.xml").unwrap().read_to_string(&mut styles).unwrap();
    let row = xml.split("<row r=\"5\"").nth(1).unwrap().split("</row>").next().unwrap();
    let height: f64 = row.split("ht=\"").nth(1).and_then(|h| h.split('"').next()).unwrap_or("15").parse().unwrap();
    assert!(height >= 100.0, "the long measure's row holds its wrapped lines: {height}");
    // Numbers are numbers (counts sum in Excel): the measure's number in column A is not a string.
    let a5 = row.split("<c r=\"A5\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(!a5.contains("t=\""), "A5 is a number: {a5}");
    let cells: Vec<usize> =
        row.split("<c ").skip(1).map(|c| attr_of(&format!("<c {c}"), "c", "s").unwrap().parse().unwrap()).collect();
    assert_eq!(cells.len(), 16);
    for s in cells {
        assert_eq!(fill_of(&styles, s).as_deref(), Some("F8D7DA"), "style {s}");
    }
}
