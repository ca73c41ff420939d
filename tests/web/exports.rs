//! Leaders' exports: the workbook read back with calamine, the CSV through the csv crate, small-cell
//! protection, sheets that continue past the row limit, and who may download.

use crate::helpers::{TestApp, texts};
use calamine::{Data, Range, Reader, Xlsx};
use sea_orm::{ConnectionTrait, Database};
use std::io::Cursor;
use std::sync::Arc;
use wenji::domain::area::AreaCode;
use wenji::domain::report::Scope;
use wenji::domain::tagging::TagSource;
use wenji::domain::user::Role;
use wenji::export::{ExportParams, Format};
use wenji::store::audit::Actor;

const ODD: &[&str] = &["=1+1+2", "@SUM(A1)", "+86 0571", "-x 开头的意见", "第一行\n第二行，仍是意见"];

fn area(n: i64) -> AreaCode {
    AreaCode::try_from(n).unwrap()
}

impl TestApp {
    /// One number from the database, by SQL.
    async fn count_sql(&self, sql: &str) -> f64 {
        let db = Database::connect(&self.config.database_url).await.unwrap();
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        row.unwrap().try_get_by_index::<i64>(0).unwrap() as f64
    }

    /// Submits an opinion through a unit's link and returns its opinion id.
    pub(crate) async fn submit_via_unit(&self, unit: &str, text: &str) -> i64 {
        let link = self.store().create_link("zhengqiu", unit, None, "test", &Actor::system("test")).await.unwrap();
        let t = self.state.secret.link_token(link.id, "zhengqiu", unit, None);
        let r = self
            .post_form(
                "zhengqiu",
                &[("_t", &t), ("_category", "qz"), ("q_team", text), ("q_has_member", "no"), ("q_satisfaction", "2")],
            )
            .await;
        assert_eq!(r.status(), 303, "submission through a link should be stored");
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        let receipt = loc.split("/r/").nth(1).unwrap().split('?').next().unwrap().to_owned();
        self.opinion_of(&receipt).await
    }

    async fn opinion_of(&self, receipt: &str) -> i64 {
        let resp = self.store().response_by_receipt(receipt).await.unwrap();
        self.store().opinion_ids_of_response(resp.id).await.unwrap()[0]
    }

    pub(crate) async fn tag(&self, opinion: i64, areas: &[i64]) {
        let areas: Vec<AreaCode> = areas.iter().map(|a| area(*a)).collect();
        self.store().set_tags(opinion, &areas, |_| TagSource::Typed, &Actor::system("test")).await.unwrap();
    }

    /// Exports zhengqiu as xlsx through `reporting::run`, every sheet continuing after `max_rows` rows.
    async fn export_with_row_limit(&self, max_rows: u32) -> Vec<u8> {
        let params = ExportParams {
            scope: Scope { forms: vec!["zhengqiu".into()], ..Default::default() },
            format: Format::Xlsx,
            small_cell_k: 5,
            unprotected: true,
            generated_at: 1_795_000_000_000,
        };
        let path = self.dir.path().join(format!("limit-{max_rows}.xlsx"));
        let catalog = Arc::new(self.state.forms().catalog.clone());
        wenji::reporting::run(self.store(), catalog, params, &path, max_rows, Arc::new(|_, _| {})).await.unwrap();
        std::fs::read(&path).unwrap()
    }

    /// Runs an export through the web as `client` and returns the downloaded bytes.
    async fn export_via_web(&self, client: &reqwest::Client, csrf: &str, format: &str) -> Vec<u8> {
        self.export_via_web_with(client, csrf, &[("format", format)]).await
    }

    /// Runs an export of zhengqiu with `pairs` added to the form and returns the downloaded bytes.
    async fn export_via_web_with(&self, client: &reqwest::Client, csrf: &str, pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut body = vec![("form", "zhengqiu"), ("from", ""), ("to", "")];
        body.extend_from_slice(pairs);
        self.export_as(client, csrf, &body)
            .await
            .unwrap_or_else(|(s, page)| panic!("the export was refused ({s}): {page}"))
    }
}

fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range(name).unwrap()
}

fn num(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// The cell to the right of the first cell reading `label`.
fn right_of(r: &Range<Data>, label: &str) -> Data {
    for row in r.rows() {
        if let Some(i) = row.iter().position(|c| c == &Data::String(label.into())) {
            return row[i + 1].clone();
        }
    }
    panic!("no cell reads {label}");
}

/// The rows of a cross-table: (label, cells) from under the header to the 合计 row included.
fn cross_rows(r: &Range<Data>) -> Vec<(String, Vec<Data>)> {
    r.rows().skip(2).map(|row| (row[0].to_string(), row[1..12].to_vec())).collect()
}

fn check_adds_up(r: &Range<Data>) {
    let rows = cross_rows(r);
    let (total, body) = rows.split_last().unwrap();
    assert_eq!(total.0, "合计");
    for (label, cells) in rows.iter() {
        if let Some(v) = cells.iter().map(num).collect::<Option<Vec<f64>>>() {
            assert_eq!(v[1..9].iter().sum::<f64>(), v[9], "row {label}: the areas add up to 标签合计");
        }
    }
    for col in 0..11 {
        let sum: f64 = body.iter().filter_map(|(_, c)| num(&c[col])).sum();
        assert_eq!(Some(sum), num(&total.1[col]), "column {col} adds up to 合计");
    }
}

#[tokio::test]
async fn the_workbook_reads_back_with_every_sheet_and_totals_equal_to_the_database() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for (i, t) in ODD.iter().chain(&["希望领导多下基层，服务群众", "办事效率不高", "决策要听取基层意见"]).enumerate()
    {
        let id = app.submit_via_unit(if i % 2 == 0 { "jg-bgs" } else { "jg-zgk" }, t).await;
        ids.push(id);
    }
    app.tag(ids[0], &[1, 7]).await;
    app.tag(ids[1], &[7]).await;
    app.tag(ids[4], &[3]).await;
    app.tag(ids[5], &[6, 7]).await;
    app.store().set_representative(ids[5], true, &Actor::system("test")).await.unwrap();
    app.store().add_note(ids[0], "已与原文核对", &Actor::system("分析员甲")).await.unwrap();
    app.store().set_state(ids[6], wenji::domain::tagging::OpinionState::Invalid, &Actor::system("test")).await.unwrap();
    // The office's full file: every unit, receipts, notes (leaders' files: tests/web/disclosure.rs).
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let bytes = app.export_via_web_with(&admin, &csrf, &[("format", "xlsx"), ("unprotected", "1")]).await;

    let wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    let names = wb.sheet_names();
    let mut expected: Vec<String> = ["汇总", "单位×领域", "类别×领域"].map(String::from).to_vec();
    for a in app.state.forms().catalog.areas.iter() {
        expected.push(format!("{} {}", a.code, a.name));
    }
    expected.extend(["共现", "测评", "未归类", "原始数据", "问题清单", "整改台账", "说明"].map(String::from));
    assert_eq!(names, expected);
    assert!(names.iter().all(|n| n.chars().count() <= 31));

    let summary = sheet(&bytes, "汇总");
    assert_eq!(num(&right_of(&summary, "意见总数")), Some(app.count_sql("SELECT COUNT(*) FROM opinions").await));
    assert_eq!(num(&right_of(&summary, "答卷总数")), Some(app.count_sql("SELECT COUNT(*) FROM responses").await));
    assert_eq!(
        num(&right_of(&summary, "无效")),
        Some(app.count_sql("SELECT COUNT(*) FROM opinions WHERE state = 'invalid'").await)
    );
    for a in app.state.forms().catalog.areas.iter() {
        let db = app
            .count_sql(&format!(
                "SELECT COUNT(*) FROM tag_assignments t JOIN opinions o ON o.id = t.opinion_id \
                 WHERE t.area_code = {} AND o.state <> 'invalid'",
                a.code
            ))
            .await;
        assert_eq!(num(&right_of(&summary, &a.name)), Some(db), "area {} count equals the database", a.code);
    }
    assert_eq!(num(&right_of(&summary, "工作效能")), Some(3.0));
    assert_eq!(num(&right_of(&summary, "标签合计")), Some(app.count_sql("SELECT COUNT(*) FROM tag_assignments").await));

    for name in ["单位×领域", "类别×领域"] {
        check_adds_up(&sheet(&bytes, name));
    }

    // The 工作效能 sheet: the representative quote first, formula-looking text kept as text.
    let efficiency = sheet(&bytes, "7 工作效能");
    let quotes: Vec<Data> = efficiency.rows().skip(1).map(|r| r[0].clone()).collect();
    assert_eq!(quotes[0], Data::String("希望领导多下基层，服务群众".into()), "representative quote first");
    assert!(quotes.contains(&Data::String("=1+1+2".into())));
    assert_eq!(efficiency.rows().nth(1).unwrap()[6], Data::String("服务基层".into()), "other areas listed");
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    for n in wb.sheet_names() {
        let f = wb.worksheet_formula(&n).unwrap();
        assert!(f.used_cells().all(|(_, _, s)| s.is_empty()), "sheet {n} has no formulas");
    }
    assert_eq!(formula_looking_cells_without_quote_prefix(&bytes), Vec::<String>::new());

    let raw = sheet(&bytes, "原始数据");
    assert_eq!(raw.height() - 1, app.count_sql("SELECT COUNT(*) FROM responses").await as usize);
    let cells: Vec<&Data> = raw.used_cells().map(|(_, _, c)| c).collect();
    for odd in ODD {
        assert!(cells.contains(&&Data::String((*odd).into())), "{odd:?} is a text cell");
    }
    assert!(cells.contains(&&Data::String("较好".into())), "choice answers show their labels");
    assert!(cells.contains(&&Data::String("2".into())), "and their codes beside");
    assert!(cells.contains(&&Data::String("分析员甲：已与原文核对".into())), "notes are in the raw data");
    let untagged = sheet(&bytes, "未归类");
    assert_eq!(
        untagged.height() - 1,
        app.count_sql(
            "SELECT COUNT(*) FROM opinions o WHERE state <> 'invalid' AND NOT EXISTS \
             (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id)"
        )
        .await as usize
    );
    let method = sheet(&bytes, "说明");
    assert!(method.used_cells().any(|(_, _, c)| c.to_string().contains("小单元保护")));
}

#[tokio::test]
async fn small_units_are_pooled_unnamed_and_totals_still_add_up() {
    let app = TestApp::spawn().await;
    for (unit, n) in [("jg-bgs", 7), ("jg-zgk", 6), ("jg-jck", 2), ("sfs-qingxi", 3)] {
        for i in 0..n {
            let id = app.submit_via_unit(unit, &format!("{unit} 的第 {i} 条意见")).await;
            app.tag(id, &[1 + (i % 8)]).await;
        }
    }
    // A week on, the two units that never gathered k are pooled together (five).
    crate::helpers::a_week_passes(&app).await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let bytes = app.export_via_web(&admin, &csrf, "xlsx").await;
    let units = sheet(&bytes, "单位×领域");
    let rows = cross_rows(&units);
    let row = |name: &str| rows.iter().find(|(l, _)| l == name).unwrap().1.clone();
    assert!(!rows.iter().any(|(l, _)| l == "基层科"), "2 respondents: not named");
    assert!(!rows.iter().any(|(l, _)| l == "清溪镇司法所"), "3 respondents: not named");
    assert_eq!(num(&row("其他单位（合并）")[0]), Some(5.0));
    assert_eq!(num(&row("局办公室")[0]), Some(7.0));
    assert_eq!(num(&row("政工科")[0]), Some(6.0));
    assert_eq!(num(&row("合计")[0]), Some(18.0));
    check_adds_up(&units);
}

#[tokio::test]
async fn the_csv_starts_with_a_bom_and_round_trips_through_the_csv_crate() {
    let app = TestApp::spawn().await;
    for t in ODD {
        app.submit_opinion(t).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let bytes = app.export_via_web(&leader, &csrf, "csv").await;
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM first");
    // Every cell quoted, so a reader splitting on `;` or a tab cannot cut a cell into a formula.
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.split("\r\n").filter(|l| !l.is_empty()).all(|l| l.starts_with('"') && l.ends_with('"')), "{text}");
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let headers = r.headers().unwrap().clone();
    assert!(!headers.iter().any(|h| h == "回执号"), "a leader's CSV carries no receipts");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), ODD.len());
    let col = headers.iter().position(|h| h == "对局领导班子的意见和建议").unwrap();
    let got: Vec<&str> = rows.iter().map(|r| &r[col]).collect();
    for want in ["'=1+1+2", "'@SUM(A1)", "'+86 0571", "'-x 开头的意见", "第一行\n第二行，仍是意见"] {
        assert!(got.contains(&want), "{want:?} in {got:?}");
    }
    assert!(!headers.iter().any(|h| h.contains("联系电话")), "contacts are never exported");
}

#[tokio::test]
async fn only_leaders_and_admins_may_export_or_download() {
    let app = TestApp::spawn().await;
    app.submit_opinion("一条测试意见").await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    app.export_via_web(&leader, &csrf, "csv").await;
    let (analyst, acsrf) = app.login_as(Role::Analyst).await;
    assert_eq!(analyst.get(app.url("/w/exports")).send().await.unwrap().status(), 403);
    assert_eq!(analyst.get(app.url("/w/exports/1/download")).send().await.unwrap().status(), 403);
    let r =
        analyst.post(app.url("/w/exports")).form(&[("_csrf", acsrf.as_str()), ("form", "zhengqiu"), ("format", "csv")]);
    assert_eq!(r.send().await.unwrap().status(), 403);
    assert_eq!(app.citizen.get(app.url("/w/exports/1/download")).send().await.unwrap().status(), 303);
    assert_eq!(leader.get(app.url("/w/exports/1/download")).send().await.unwrap().status(), 200);
    let audit = app.store().audit_entries(Some("download"), None, None, 10).await.unwrap();
    assert_eq!(audit.len(), 2, "each download is audited");
}

#[tokio::test]
async fn a_bad_export_request_names_the_field() {
    let app = TestApp::spawn().await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    for (pairs, field) in [
        (vec![("format", "xlsx")], "表单："),
        (vec![("form", "nope"), ("format", "xlsx")], "表单："),
        (vec![("form", "zhengqiu"), ("format", "pdf")], "格式："),
        (vec![("form", "zhengqiu"), ("format", "xlsx"), ("from", "26/11/2026")], "开始日期："),
        (vec![("form", "zhengqiu"), ("format", "xlsx"), ("unit", "nowhere")], "单位："),
    ] {
        let mut body = vec![("_csrf", csrf.as_str())];
        body.extend(pairs);
        let r = leader.post(app.url("/w/exports")).form(&body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{field}");
        let msg = texts(&r.text().await.unwrap(), "#export-error").join("");
        assert!(msg.contains(field), "{field}: {msg}");
    }
    // An administrator's refused request comes back with every choice as it was made.
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let body = [
        ("_csrf", csrf.as_str()),
        ("form", "ceping"),
        ("unprotected", "1"),
        ("from", "2026-11-30"),
        ("to", "2026-11-01"),
        ("unit", "sfs-qingxi"),
        ("format", "csv"),
    ];
    let r = admin.post(app.url("/w/exports")).form(&body).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#export-error").join(""), "日期范围：开始日期晚于结束日期");
    let doc = scraper::Html::parse_document(&page);
    let attr = |css: &str, name: &str| {
        let s = scraper::Selector::parse(css).unwrap();
        doc.select(&s).map(|e| e.value().attr(name).unwrap_or("").to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(attr("input[name=form][checked]", "value"), ["ceping"], "the form chosen, not the busiest");
    assert_eq!(attr("#unprotected[checked]", "value"), ["1"]);
    assert_eq!(attr("input[name=from]", "value"), ["2026-11-30"]);
    assert_eq!(attr("input[name=to]", "value"), ["2026-11-01"]);
    assert_eq!(attr("option[selected]", "value"), ["sfs-qingxi"]);
    assert_eq!(attr("input[name=format][checked]", "value"), ["csv"]);
}

#[tokio::test]
async fn a_sheet_over_the_row_limit_continues_on_a_second_sheet() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        app.submit_opinion(&format!("第 {i} 条意见")).await;
    }
    let bytes = app.export_with_row_limit(4).await;
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    let names = wb.sheet_names();
    let at = names.iter().position(|n| n == "原始数据").unwrap();
    assert_eq!(names[at + 1], "原始数据（续2）");
    assert_eq!(names[at + 2], "原始数据（续3）");
    let rows: usize = ["原始数据", "原始数据（续2）", "原始数据（续3）"]
        .iter()
        .map(|n| {
            let r = wb.worksheet_range(n).unwrap();
            assert_eq!(r.get((0, 0)), Some(&Data::String("回执号".into())), "each part has the header");
            r.height() - 1
        })
        .sum();
    assert_eq!(rows, 7, "no row is cut");
}

#[tokio::test]
async fn area_sheets_streamed_together_keep_each_continuation_right_after_its_sheet() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(app.submit_via_unit("jg-bgs", &format!("第 {i} 条意见")).await);
    }
    for (i, id) in ids.iter().take(5).enumerate() {
        app.tag(*id, if i % 2 == 1 { &[1, 2] } else { &[1] }).await;
    }
    app.store().set_representative(ids[4], true, &Actor::system("test")).await.unwrap();
    let bytes = app.export_with_row_limit(3).await;
    let catalog = &app.state.forms().catalog;
    let wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    let area_names: Vec<String> = catalog.areas.iter().map(|a| format!("{} {}", a.code, a.name)).collect();
    let mut expected: Vec<String> = ["汇总", "单位×领域", "类别×领域"].map(String::from).to_vec();
    expected.extend([area_names[0].clone(), format!("{}（续2）", area_names[0]), format!("{}（续3）", area_names[0])]);
    expected.extend(area_names[1..].iter().cloned());
    let rest =
        ["共现", "测评", "未归类", "原始数据", "原始数据（续2）", "原始数据（续3）", "问题清单", "整改台账", "说明"];
    expected.extend(rest.map(String::from));
    assert_eq!(wb.sheet_names(), expected);
    let quotes: Vec<Data> =
        [area_names[0].clone(), format!("{}（续2）", area_names[0]), format!("{}（续3）", area_names[0])]
            .iter()
            .flat_map(|n| sheet(&bytes, n).rows().skip(1).map(|r| r[0].clone()).collect::<Vec<_>>())
            .collect();
    let want: Vec<Data> = [4, 0, 1, 2, 3].iter().map(|i| Data::String(format!("第 {i} 条意见"))).collect();
    assert_eq!(quotes, want, "the representative quote first, then by submission, over three parts");
    let second = sheet(&bytes, &area_names[1]);
    assert_eq!(second.height() - 1, 2);
    assert_eq!(second.rows().nth(1).unwrap()[6], Data::String(catalog.areas.name(area(1)).into()), "other areas");
    let untagged = sheet(&bytes, "未归类");
    assert_eq!(untagged.rows().skip(1).map(|r| r[0].clone()).collect::<Vec<_>>(), [Data::String("第 5 条意见".into())]);
}

/// The cells whose text starts like a formula but whose style lacks Excel's quote prefix (which keeps them
/// text when someone edits them), read from the workbook's XML.
fn formula_looking_cells_without_quote_prefix(bytes: &[u8]) -> Vec<String> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    };
    let styles = read("xl/styles.xml");
    let xfs = styles.split("<cellXfs").nth(1).unwrap().split("</cellXfs>").next().unwrap();
    let quoted: Vec<bool> =
        xfs.split("<xf ").skip(1).map(|xf| xf.split('>').next().unwrap().contains("quotePrefix=\"1\"")).collect();
    let sheets: Vec<String> = (1..=40).map(|i| format!("xl/worksheets/sheet{i}.xml")).collect();
    let mut found = Vec::new();
    let mut looked = 0;
    for name in sheets {
        let Ok(mut f) = zip.by_name(&name) else { continue };
        let mut xml = String::new();
        f.read_to_string(&mut xml).unwrap();
        for cell in xml.split("<c ").skip(1) {
            let Some(text) = cell.split("<t>").nth(1).or_else(|| cell.split("<t xml:space=\"preserve\">").nth(1))
            else {
                continue;
            };
            if !matches!(text.chars().next(), Some('=' | '+' | '-' | '@')) {
                continue;
            }
            looked += 1;
            let style =
                cell.split(" s=\"").nth(1).and_then(|s| s.split('"').next()).and_then(|s| s.parse::<usize>().ok());
            if style.is_none_or(|s| quoted.get(s) != Some(&true)) {
                found.push(format!("{name}: {}", text.split('<').next().unwrap()));
            }
        }
    }
    assert!(looked > 0, "no formula-looking text found in the sheets' XML (inline strings expected)");
    found
}

/// Opened in LibreOffice with `;` as the separator (its import dialog offers it), no CSV cell becomes a
/// formula: quoting alone let "意见;=1+1" make `=1+1` a cell of its own, evaluated.
#[tokio::test]
async fn no_csv_cell_becomes_a_formula_when_libreoffice_splits_it_on_semicolons() {
    if std::process::Command::new("soffice").arg("--version").output().is_err() {
        assert!(std::env::var_os("WENJI_REQUIRE_BROWSER").is_none(), "CI needs soffice for this test");
        eprintln!("SKIPPED: soffice not found (apt-get install libreoffice-calc-nogui)");
        return;
    }
    let app = TestApp::spawn().await;
    for t in ["甲;=1+1;乙", "意见;=HYPERLINK(\"http://e.x\",\"c\");", "甲|=1+1\t@SUM(A1)", "正常;-减号开头"]
    {
        app.submit_opinion(t).await;
    }
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let full = [("form", "zhengqiu"), ("format", "csv"), ("unprotected", "1")];
    let csv = app.export_as(&admin, &csrf, &full).await.unwrap();
    let dir = app.dir.path().join("semicolons");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("raw.csv"), &csv).unwrap();
    let d = dir.clone();
    let o = tokio::task::spawn_blocking(move || {
        std::process::Command::new("soffice")
            .arg(format!("-env:UserInstallation=file://{}/profile", d.display()))
            .args(["--headless", "--infilter=CSV:59,34,76,1", "--convert-to", "xlsx", "--outdir"])
            .arg(&d)
            .arg(d.join("raw.csv"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let bytes = std::fs::read(dir.join("raw.xlsx")).unwrap_or_else(|_| panic!("{o:?}"));
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let name = wb.sheet_names()[0].clone();
    let formulas: Vec<String> = wb
        .worksheet_formula(&name)
        .unwrap()
        .used_cells()
        .map(|(_, _, f)| f.clone())
        .filter(|f| !f.is_empty())
        .collect();
    assert_eq!(formulas, Vec::<String>::new());
    let cells = wb.worksheet_range(&name).unwrap();
    assert!(cells.used_cells().any(|(_, _, c)| c.to_string().contains("=1+1")), "the text is there, as text");
}

/// The first row, from the top, of each of `labels` in column 0 of `r`.
fn first_rows(r: &Range<Data>, labels: &[&str]) -> Vec<usize> {
    labels.iter().map(|l| r.rows().position(|row| row[0] == Data::String((*l).into())).unwrap()).collect()
}

#[tokio::test]
async fn every_per_unit_table_lists_units_in_the_order_of_units_toml_not_by_code() {
    let app = TestApp::spawn().await;
    // units.toml lists 政工科 (jg-zgk) before 基层科 (jg-jck): by code, or by the most opinions, 基层科 comes first.
    for (unit, n) in [("jg-zgk", 5), ("jg-jck", 6)] {
        for i in 0..n {
            let id = app.submit_via_unit(unit, &format!("{unit} 的第 {i} 条意见")).await;
            app.tag(id, &[1]).await;
        }
    }
    let listed = ["政工科", "基层科"];
    let bytes = app.export_with_row_limit(1000).await;
    let units = first_rows(&sheet(&bytes, "单位×领域"), &listed);
    assert!(units[0] < units[1], "单位×领域: {units:?}");
    let appraisal = first_rows(&sheet(&bytes, "测评"), &listed);
    assert!(appraisal[0] < appraisal[1], "测评 按单位: {appraisal:?}");

    let dashboard_units = |html: String| texts(&html, "#by-unit tbody tr td:first-child");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let office = analyst.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert_eq!(dashboard_units(office)[..2], listed, "the office's dashboard");
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let page = leader.get(app.url("/w/dashboard?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert_eq!(dashboard_units(page)[..2], listed, "a leader's dashboard");
}
