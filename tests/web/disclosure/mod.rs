//! Issue 17: no leader surface singles out a respondent. Units of 1, 2 and 4 respondents among larger ones;
//! then every sheet of a leader's workbook (read back with calamine), the CSV, the dashboard, the inbox, a
//! unit-filtered and two date-filtered requests, and the `wenji export` default are searched for those units'
//! names, their exact counts, receipts and minute-level times; the cross-tables as read back go through the
//! audit. The administrator's unprotected export works, warns and is audited; a leader cannot have one.

use crate::helpers::{TestApp, texts};
use calamine::{Data, Reader, Xlsx};
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;
use std::io::Cursor;
use wenji::domain::area::AreaCode;
use wenji::domain::report::audit::{Grid, Published, recoverable};
use wenji::domain::report::policy::{OTHER_CATEGORIES, OTHER_UNITS};
use wenji::domain::tagging::TagSource;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

mod live_views;
mod problems;
mod releases;
mod reloads;
mod workbooks;

/// (unit code, unit name, respondents, category). The three small units have 1, 2 and 4 respondents.
const PLAN: &[(&str, &str, usize, &str)] = &[
    ("jg-bgs", "局办公室", 7, "qz"),
    ("jg-zgk", "政工科", 6, "qz"),
    ("sfs-qingxi", "清溪镇司法所", 1, "sfs"),
    ("sfs-songling", "松岭乡司法所", 2, "sfs"),
    ("sfs-hedong", "河东街道司法所", 4, "qy"),
];

const SMALL: &[&str] = &["清溪镇司法所", "松岭乡司法所", "河东街道司法所"];

struct Seeded {
    receipts: Vec<String>,
}

impl TestApp {
    /// Submits one opinion through `unit`'s link as `category`; tags it; gives the receipt.
    async fn submit_as(&self, unit: &str, category: &str, text: &str, area: i64) -> String {
        self.submit_as_with(unit, category, text, area, &[]).await
    }

    /// [`submit_as`] with `more` answers besides.
    async fn submit_as_with(&self, unit: &str, category: &str, text: &str, area: i64, more: &[(&str, &str)]) -> String {
        let link = self.store().create_link("zhengqiu", unit, None, "test", &Actor::system("test")).await.unwrap();
        let t = self.state.secret.link_token(link.id, "zhengqiu", unit, None);
        let mut pairs = vec![
            ("_t", t.as_str()),
            ("_category", category),
            ("q_team", text),
            ("q_has_member", "no"),
            ("q_satisfaction", "2"),
        ];
        pairs.extend_from_slice(more);
        let r = self.post_form("zhengqiu", &pairs).await;
        assert_eq!(r.status(), 303, "the submission is stored");
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        let receipt = loc.split("/r/").nth(1).unwrap().split('?').next().unwrap().to_owned();
        let resp = self.store().response_by_receipt(&receipt).await.unwrap();
        let id = self.store().opinion_ids_of_response(resp.id).await.unwrap()[0];
        let areas = [AreaCode::try_from(area).unwrap()];
        self.store().set_tags(id, &areas, |_| TagSource::Typed, &Actor::system("test")).await.unwrap();
        receipt
    }

    async fn seed_small_units(&self) -> Seeded {
        let mut receipts = Vec::new();
        for (code, _, n, category) in PLAN {
            for i in 0..*n {
                let text = format!("{code} 的第 {i} 条意见");
                receipts.push(self.submit_as(code, category, &text, 1 + (i as i64 % 3)).await);
            }
        }
        // Sent a week ago, so leaders' views show them: the larger units by name, the small ones (which
        // never gathered k) in the pool.
        crate::helpers::a_week_passes(self).await;
        Seeded { receipts }
    }
}

/// Every sheet as (name, rows of cell texts).
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|n| {
            let r = wb.worksheet_range(&n).unwrap();
            let rows = r
                .rows()
                .map(|row| row.iter().map(|c| if c == &Data::Empty { String::new() } else { c.to_string() }).collect())
                .collect();
            (n, rows)
        })
        .collect()
}

fn has_minute(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(16).any(|w| {
        let d = |i: usize| w[i].is_ascii_digit();
        d(0) && d(3)
            && w[4] == b'-'
            && w[7] == b'-'
            && w[10] == b' '
            && d(11)
            && d(12)
            && w[13] == b':'
            && d(14)
            && d(15)
    })
}

/// No cell names a small unit, holds a receipt or a time to the minute (outside 汇总's generation time).
fn assert_nothing_singles_out(what: &str, cells: impl Iterator<Item = String>, seeded: &Seeded) {
    for c in cells {
        for name in SMALL {
            assert!(!c.contains(name), "{what} names the small unit {name}: {c:?}");
        }
        for r in &seeded.receipts {
            assert!(!c.contains(r.as_str()), "{what} shows the receipt {r}");
        }
        assert!(!has_minute(&c), "{what} shows a time to the minute: {c:?}");
    }
}

/// The audit of a unit × area table as read back: its shown rows, the pooled row, 合计, and each row's
/// 标签合计 = its eight areas, over every unit that really has respondents.
fn audit_unit_table(rows: &[Vec<String>]) {
    let body: Vec<&Vec<String>> = rows.iter().skip(2).collect();
    let labels: Vec<&str> = body.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(labels.last(), Some(&"合计"));
    let g = Grid { rows: PLAN.len(), cols: 11 };
    let mut p = Published::new(g.rows * g.cols);
    let shown: Vec<bool> = PLAN.iter().map(|(_, name, _, _)| labels.contains(name)).collect();
    for (r, s) in shown.iter().enumerate() {
        if *s {
            g.row(r).for_each(|c| p.show(c));
        }
        p.relation([(g.cell(r, 9), 1)].into_iter().chain((1..9).map(|a| (g.cell(r, a), -1))));
    }
    for c in 0..11 {
        p.sum(g.col(c));
        if labels.contains(&OTHER_UNITS) {
            p.sum((0..g.rows).filter(|r| !shown[*r]).map(|r| g.cell(r, c)));
        }
    }
    assert!(recoverable(&p).is_empty(), "the audit finds a hidden cell in {labels:?}");
    assert_eq!(shown, [true, true, false, false, false], "only units with 5 or more are shown: {labels:?}");
    let pooled = body.iter().find(|r| r[0] == OTHER_UNITS).expect("a pooled row");
    assert_eq!(pooled[1], "7", "1 + 2 + 4 respondents pooled");
}

/// What a leader is shown: the dashboard's and the inbox's page text, and every cell of a protected
/// workbook but its generation time.
async fn leader_sees(app: &TestApp, leader: &reqwest::Client, csrf: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for page in ["/w/dashboard", "/w/inbox"] {
        let html = leader.get(app.url(page)).send().await.unwrap().text().await.unwrap();
        seen.extend(texts(&html, "main *"));
    }
    let bytes = app.export_as(leader, csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    for (name, rows) in sheets(&bytes) {
        seen.extend(rows.into_iter().filter(|r| r[0] != "生成时间").map(|r| format!("{name}: {}", r.join("|"))));
    }
    // One day's rows come in a different order in each file.
    seen.sort();
    seen
}

/// The bureau's date `days` days ago, as a leader's row would print it.
fn bureau_date(days_ago: i64) -> String {
    let now = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    (now.date_naive() - chrono::Days::new(days_ago.unsigned_abs())).to_string()
}

impl TestApp {
    /// Submits one 民主测评 through `unit`'s link, every row and the overall rating at `grade` (1 = 好).
    async fn appraise_as(&self, unit: &str, grade: &str) {
        let link = self.store().create_link("ceping", unit, None, "test", &Actor::system("test")).await.unwrap();
        let t = self.state.secret.link_token(link.id, "ceping", unit, None);
        let rows: Vec<String> = (1..=8).map(|a| format!("q_appraisal.a{a}")).collect();
        let mut pairs = vec![("_t", t.as_str()), ("_category", "jcdw"), ("q_overall", grade)];
        pairs.extend(rows.iter().map(|r| (r.as_str(), grade)));
        assert_eq!(self.post_form("ceping", &pairs).await.status(), 303, "the appraisal is stored");
    }
}

/// The opinion a receipt stands for (one opinion per response here).
async fn opinion_of(app: &TestApp, receipt: &str) -> i64 {
    let response = app.store().response_by_receipt(receipt).await.unwrap();
    app.store().opinion_ids_of_response(response.id).await.unwrap()[0]
}

impl TestApp {
    /// Submits one 民主测评 through `unit`'s link with `text` as its 问题 opinion; gives the receipt.
    async fn appraise_with_opinion(&self, unit: &str, text: &str) -> String {
        let link = self.store().create_link("ceping", unit, None, "test", &Actor::system("test")).await.unwrap();
        let t = self.state.secret.link_token(link.id, "ceping", unit, None);
        let rows: Vec<String> = (1..=8).map(|a| format!("q_appraisal.a{a}")).collect();
        let mut pairs = vec![("_t", t.as_str()), ("_category", "jcdw"), ("q_overall", "2"), ("q_problems", text)];
        pairs.extend(rows.iter().map(|r| (r.as_str(), "2")));
        let r = self.post_form("ceping", &pairs).await;
        assert_eq!(r.status(), 303, "the appraisal is stored");
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        loc.split("/r/").nth(1).unwrap().split('?').next().unwrap().to_owned()
    }
}

/// Every row a leader can read now (the inbox, each sheet of the workbook, the CSV), as its cells.
async fn leader_rows(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let tr = scraper::Selector::parse("#inbox tr").unwrap();
    for row in doc.select(&tr) {
        let text: String = row.text().collect();
        rows.push(("the inbox".into(), text.split(" · ").map(|c| c.trim().to_owned()).collect()));
    }
    let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    for (name, sheet) in sheets(&xlsx) {
        rows.extend(sheet.into_iter().map(|r| (name.clone(), r)));
    }
    let csv = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
    let mut r = csv::Reader::from_reader(csv.as_slice());
    rows.extend(r.records().map(|r| ("the CSV".to_owned(), r.unwrap().iter().map(str::to_owned).collect())));
    rows
}

/// The texts of one unit's responses (they start with its code) in a leader's CSV.
fn csv_texts_of(rows: &[(String, Vec<String>)], unit: &str) -> std::collections::BTreeSet<String> {
    let marker = format!("{unit} ");
    rows.iter()
        .filter(|(surface, _)| surface == "the CSV")
        .flat_map(|(_, row)| row.iter().filter(|c| c.starts_with(&marker)).cloned())
        .collect()
}

/// Each row of a leader's inbox as (unit shown, text, areas).
async fn leader_inbox_areas(app: &TestApp) -> Vec<(String, String, String)> {
    let (leader, _) = app.login_as(Role::Leader).await;
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let [tr, unit, text, areas] =
        ["#inbox tbody tr", ".c-unit", ".text", "td.areas"].map(|s| scraper::Selector::parse(s).unwrap());
    let cell =
        |row: scraper::ElementRef, s: &scraper::Selector| row.select(s).flat_map(|e| e.text()).collect::<String>();
    let mut rows: Vec<_> = doc.select(&tr).map(|r| (cell(r, &unit), cell(r, &text), cell(r, &areas))).collect();
    rows.sort();
    rows
}

/// The analyst's bulk change of area 6 over every opinion `filter` matches, confirmed: the preview's page.
async fn bulk_add_six(app: &TestApp, filter: &str) -> String {
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let mut body = vec![("_csrf", csrf), ("scope", "all".into()), ("filter", filter.into())];
    body.extend([("area", "6".to_owned()), ("action", "add".to_owned())]);
    let preview = analyst.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap().text().await.unwrap();
    if let Some(count) = crate::helpers::hidden(&preview, "count") {
        body.extend([("confirm", "1".to_owned()), ("count", count)]);
        body.push(("upto", crate::helpers::hidden(&preview, "upto").unwrap()));
        let done = analyst.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap();
        assert_eq!(done.status(), 200);
    }
    preview
}
