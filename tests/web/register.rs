//! The chain of issue 22 end to end, on SQLite and PostgreSQL: opinions → a problem → a measure →
//! published → rated on /gongkai (through the citizen submission path) → exported and read back.

use crate::helpers::{TestApp, form_fields, hidden, texts};
use crate::workspace::submit;
use calamine::{Data, Range, Reader, Xlsx};
use std::io::Cursor;
use wenji::domain::rectification::MeasureStatus;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

pub fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}"))
}

pub fn text(r: &Range<Data>, row: u32, col: u32) -> String {
    r.get_value((row, col)).map(ToString::to_string).unwrap_or_default()
}

/// Posts a staff form with the CSRF token; returns the status and the redirect target or page.
pub async fn post(app: &TestApp, c: &reqwest::Client, csrf: &str, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let mut body: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    body.extend_from_slice(pairs);
    let r = c.post(app.url(path)).form(&body).send().await.unwrap();
    let status = r.status().as_u16();
    match r.headers().get("location") {
        Some(l) => (status, l.to_str().unwrap().to_owned()),
        None => (status, r.text().await.unwrap()),
    }
}

/// Creates a problem as an analyst; returns its id.
pub async fn create_problem(app: &TestApp, c: &reqwest::Client, csrf: &str, title: &str) -> i64 {
    let (s, to) = post(
        app,
        c,
        csrf,
        "/w/problems",
        &[
            ("title", title),
            ("area", "7"),
            ("area", "6"),
            ("description", "群众反映到窗口办事要跑多次"),
            ("root_cause", "服务意识不强，流程没有优化"),
            ("cause_type", "institution"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{to}");
    to.rsplit('/').next().unwrap().parse().unwrap()
}

/// The measure ids on a problem page, in order.
pub async fn measure_ids(app: &TestApp, c: &reqwest::Client, problem: i64) -> Vec<i64> {
    let page = c.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("section.measure").unwrap();
    doc.select(&sel).map(|e| e.value().id().unwrap()[1..].parse().unwrap()).collect()
}

/// A measure's ratings (`selector`) as the public reads them on /gongkai and a leader on /w/register.
async fn ratings_read(app: &TestApp, leader: &reqwest::Client, selector: &str) -> [Vec<String>; 2] {
    let public = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    let register = leader.get(app.url("/w/register")).send().await.unwrap().text().await.unwrap();
    [texts(&public, selector), texts(&register, selector)]
}

/// 整改台账 of the register workbook as `c` downloads it.
async fn register_sheet(app: &TestApp, c: &reqwest::Client) -> Range<Data> {
    sheet(&c.get(app.url("/w/register.xlsx")).send().await.unwrap().bytes().await.unwrap(), "整改台账")
}

/// The rating form's key of measure `m` on /gongkai.
pub async fn rating_key(app: &TestApp, m: i64) -> String {
    let page = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse(&format!("#m{m} input[name=_key]")).unwrap();
    doc.select(&sel).next().expect("a rating form").value().attr("value").unwrap().to_owned()
}

pub async fn rate(app: &TestApp, key: &str, m: i64, rating: &str, comment: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("_key", key.to_owned())
        .text("measure", m.to_string())
        .text("rating", rating.to_owned())
        .text("comment", comment.to_owned());
    app.citizen.post(app.url("/gongkai")).multipart(form).send().await.unwrap()
}

/// Ratings of one measure from one client: 20 at once, then refused (429) with the comment kept, where the
/// submit bucket let 120 through at once (a measure's 满意率 stuffed from one phone); another measure, and
/// the opinion forms, are not held by it.
#[tokio::test]
async fn one_client_rates_a_measure_twenty_times_at_most_in_an_hour() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    // Refused ratings (no grade chosen) do not count: the twenty-first was refused for an hour.
    for i in 0..21 {
        let key = rating_key(&app, m).await;
        assert_eq!(rate(&app, &key, m, "", "忘了选评价").await.status(), 422, "refused rating {i}");
    }
    for i in 0..20 {
        let key = rating_key(&app, m).await;
        assert_eq!(rate(&app, &key, m, "1", "").await.status(), 303, "rating {i}");
    }
    let key = rating_key(&app, m).await;
    let r = rate(&app, &key, m, "1", "第二十一次评价的意见").await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.unwrap();
    assert!(page.contains("评价太多") && page.contains("第二十一次评价的意见"), "{page}");
    app.submit_opinion("评价被限制时仍可提交意见").await;
}

/// Everything up to a published measure: returns (problem, measure, opinion ids).
pub async fn published_measure(app: &TestApp) -> (i64, i64, Vec<i64>) {
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(submit(app, &format!("窗口办事要跑好几趟，效率太低（第{i}位）")).await);
    }
    let (analyst, a_csrf) = app.login_as(Role::Analyst).await;
    let problem = create_problem(app, &analyst, &a_csrf, "窗口办事效率低").await;
    // The tagging screen links its opinion (key p or the button); the inbox links the ticked ones.
    let tag = analyst.get(app.url(&format!("/w/tag/{}", ids[0]))).send().await.unwrap().text().await.unwrap();
    assert_eq!(hidden(&tag, "ids"), Some(ids[0].to_string()));
    assert_eq!(texts(&tag, "#problemform button"), ["归入问题 p"]);
    let inbox = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&inbox, "#bulkform #b-link-problem"), ["勾选的归入问题…"]);
    // From the inbox in bulk: the ticked opinions, then the chooser, then the problem.
    let id_strings: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut pairs: Vec<(&str, &str)> = id_strings.iter().map(|s| ("ids", s.as_str())).collect();
    let (s, chooser) = post(app, &analyst, &a_csrf, "/w/problems/link", &pairs).await;
    assert_eq!(s, 200);
    assert_eq!(texts(&chooser, "#choose button[name=problem]"), ["1 窗口办事效率低"]);
    let p = problem.to_string();
    pairs.push(("problem", p.as_str()));
    pairs.push(("back", "/w/inbox"));
    assert_eq!(post(app, &analyst, &a_csrf, "/w/problems/link", &pairs).await, (303, "/w/inbox".into()));
    // Analysts draft a measure without a deadline; leaders cannot publish it until all four parts are there.
    let (s, _) = post(
        app,
        &analyst,
        &a_csrf,
        &format!("/w/problems/{problem}/measures"),
        &[("action", "推行“一次办结”"), ("target", "群众办事最多跑一次"), ("owner", "分管副局长、办公室")],
    )
    .await;
    assert_eq!(s, 303);
    let m = measure_ids(app, &analyst, problem).await[0];
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    let (s, page) = post(app, &leader, &l_csrf, &format!("/w/measures/{m}/publish"), &[("publish", "1")]).await;
    assert_eq!(s, 422);
    assert_eq!(texts(&page, "#errors li"), ["四项（措施、目标、时限、责任）齐全才能公开，缺少：时限"]);
    let full = [
        ("action", "推行“一次办结”"),
        ("target", "群众办事最多跑一次"),
        ("deadline", "2027-08-31"),
        ("owner", "分管副局长、办公室"),
        ("status", "in_progress"),
    ];
    // 保存并公开 is a button of the measure's own form: what the leader typed is saved, then published
    // (a separate button published the stored text and dropped the edit).
    let page = leader.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, &format!("#m{m} form.measure-form button[name=publish]")), ["保存并公开"]);
    let publish = [full.as_slice(), &[("publish", "1")]].concat();
    assert_eq!(post(app, &leader, &l_csrf, &format!("/w/measures/{m}"), &publish).await.0, 303);
    let stored = app.store().measure(m).await.unwrap();
    assert!(stored.published_at.is_some() && stored.draft.deadline.is_some(), "saved, then published");
    let (s, _) = post(
        app,
        &leader,
        &l_csrf,
        &format!("/w/measures/{m}/progress"),
        &[("on", "2026-11-20"), ("evidence", "已在三个窗口试行，见办件台账")],
    )
    .await;
    assert_eq!(s, 303);
    // A published measure is the leaders' and admins' to edit.
    assert_eq!(post(app, &analyst, &a_csrf, &format!("/w/measures/{m}"), &full).await.0, 403);
    (problem, m, ids)
}

#[tokio::test]
async fn opinions_become_a_published_measure_that_citizens_rate_and_the_exports_carry() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;

    // /gongkai: no sign-in, the measure under its problem's first area with deadline, status, progress.
    let page = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, &format!("#m{m} .problem")), ["问题：窗口办事效率低"]);
    assert_eq!(texts(&page, &format!("#m{m} .deadline")), ["2027年08月31日"]);
    assert_eq!(texts(&page, &format!("#m{m} .status-label")), ["推进中"]);
    assert_eq!(texts(&page, &format!("#m{m} .latest")), ["2026年11月20日：已在三个窗口试行，见办件台账"]);
    assert_eq!(texts(&page, "section.area-group h2"), ["服务基层"]);
    // Listed once, and found from its other area too (the domain review: a citizen browsing 工作效能 missed it).
    assert_eq!(texts(&page, &format!("#m{m} .also")), ["也属于：工作效能"]);

    // Ratings through the citizen path: the same key twice stores one rating with one receipt.
    let key = rating_key(&app, m).await;
    let first = rate(&app, &key, m, "1", "窗口确实快了").await;
    assert_eq!(first.status(), 303);
    let again = rate(&app, &key, m, "1", "窗口确实快了").await;
    assert_eq!(first.headers()["location"], again.headers()["location"], "one key, one rating");
    let thanks = app.citizen.get(app.url(first.headers()["location"].to_str().unwrap())).send().await.unwrap();
    assert_eq!(thanks.headers()["cache-control"], "no-store", "a thanks shows its receipt: no cache keeps it");
    let thanks = thanks.text().await.unwrap();
    assert_eq!(texts(&thanks, &format!("#m{m} .thanks")).len(), 1);
    assert_eq!(texts(&thanks, "title"), ["评价已保存：整改落实情况公开 - 问计"]);
    assert!(texts(&thanks, &format!("#m{m} form.rate")).is_empty(), "no second rating form under the thanks");
    // A crafted address gets no thanks: an unknown receipt, or a real one of another form.
    let citizens = app.submit_opinion("整改评价回执测试").await;
    for r in ["WJ-FAKE-0000", citizens.as_str()] {
        let page = app.citizen.get(app.url(&format!("/gongkai?rated={m}&r={r}"))).send().await.unwrap();
        let page = page.text().await.unwrap();
        assert!(texts(&page, &format!("#m{m} .thanks")).is_empty(), "thanked for {r}");
        assert_eq!(texts(&page, &format!("#m{m} form.rate")).len(), 1, "the rating form is offered");
    }
    // The same key with another body (Back, another choice) keeps the first rating and says so; the page
    // keeps the used key, so sending the change again never counts it as a second rating.
    let changed = rate(&app, &key, m, "3", "改了主意").await;
    assert_eq!(changed.status(), 409);
    let page = changed.text().await.unwrap();
    assert!(texts(&page, &format!("#err-m{m}"))[0].contains("已保存，不能修改"), "{page}");
    assert_eq!(texts(&page, &format!("#m{m} textarea[name=comment]")), ["改了主意"]);
    let doc = scraper::Html::parse_document(&page);
    let fresh = doc
        .select(&scraper::Selector::parse(&format!("#m{m} input[name=_key]")).unwrap())
        .next()
        .and_then(|k| k.value().attr("value"))
        .unwrap()
        .to_owned();
    assert_eq!(fresh, key, "the used key: a change is not a second rating");
    assert!(!texts(&page, &format!("#err-m{m}"))[0].contains("再评价"), "no second rating invited: {page}");
    assert_eq!(texts(&page, &format!("#m{m} input[name=rating][aria-invalid]")).len(), 0, "no choice is wrong");
    assert_eq!(rate(&app, &rating_key(&app, m).await, m, "2", "").await.status(), 303);
    assert_eq!(rate(&app, &fresh, m, "3", "还要再快").await.status(), 409);
    assert_eq!(rate(&app, &rating_key(&app, m).await, m, "3", "还要再快").await.status(), 303, "another person");
    // No rating chosen: the page again, the comment kept, the problem named.
    let r = rate(&app, &rating_key(&app, m).await, m, "", "没选评价").await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, &format!("#m{m} textarea[name=comment]")), ["没选评价"]);
    assert!(texts(&page, &format!("#m{m} .field-error"))[0].starts_with("评价："));
    // Tied to the choices for a screen reader, and announced.
    let tied = format!("#m{m} input[name=rating][aria-invalid=true][aria-describedby=err-m{m}]");
    assert_eq!(texts(&page, &tied).len(), 3);
    assert_eq!(texts(&page, &format!("#err-m{m}[role=alert]")).len(), 1);
    // A comment too long is the comment's error, not the choices'.
    let r = rate(&app, &rating_key(&app, m).await, m, "1", &"长".repeat(501)).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(texts(&page, &format!("#m{m} .field-error"))[0].starts_with("意见或建议："), "{page}");
    assert_eq!(texts(&page, &format!("#m{m} textarea[aria-invalid=true][aria-describedby=err-m{m}]")).len(), 1);
    assert_eq!(texts(&page, &format!("#m{m} input[name=rating][aria-invalid]")).len(), 0);
    // The page comes back scrolled to that measure, where the problem is named, not to its top.
    let doc = scraper::Html::parse_document(&page);
    let form = doc.select(&scraper::Selector::parse(&format!("#m{m} form.rate")).unwrap()).next().unwrap();
    assert_eq!(form.value().attr("action"), Some(format!("/gongkai#m{m}").as_str()));

    // The register reads the ratings back from the answers: the office at once; leaders and the public
    // from the next day, so nobody watching the numbers learns who just rated what.
    let ratings = format!("#m{m} .ratings");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let reg = analyst.get(app.url("/w/register")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&reg, &ratings), ["满意 1 · 基本满意 1 · 不满意 1"]);
    let (leader, _) = app.login_as(Role::Leader).await;
    let reg = leader.get(app.url("/w/register")).send().await.unwrap().text().await.unwrap();
    assert!(!texts(&reg, &ratings).concat().contains("满意 1"), "a leader sees today's ratings: {reg}");
    let detail = format!("/w/problems/{problem}");
    let page = leader.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("还要再快"), "nor today's rating comments");
    let page = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    let withheld = ["评价不足 5 人次，暂不公布"];
    assert_eq!(texts(&page, &ratings), withheld, "the public neither: the line of a measure nobody rated");
    crate::helpers::a_day_passes(&app).await;
    // Three ratings, under k (5): three people's grades, so nobody but the office reads them.
    assert_eq!(ratings_read(&app, &leader, &ratings).await, [withheld, withheld], "by the public, by a leader");
    let page = leader.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("还要再快"), "nor their comments");
    let r = register_sheet(&app, &leader).await;
    assert!(text(&r, 1, 0).contains("另有 1 项措施评价不足 5 人次，未计入、暂不公布"), "{}", text(&r, 1, 0));
    assert_eq!((9..13).map(|c| text(&r, 4, c)).collect::<Vec<_>>(), ["", "", "", withheld[0]]);
    // Two more make five: the tallies show, and the comments in text order, not the order people rated.
    assert_eq!(rate(&app, &rating_key(&app, m).await, m, "1", "一次就办好了").await.status(), 303);
    assert_eq!(rate(&app, &rating_key(&app, m).await, m, "2", "").await.status(), 303);
    crate::helpers::a_day_passes(&app).await;
    let five = ["满意 2 · 基本满意 2 · 不满意 1"];
    assert_eq!(ratings_read(&app, &leader, &ratings).await, [five, five], "by the public, by a leader");
    let page = leader.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "ul.comments li"), ["一次就办好了", "窗口确实快了", "还要再快"]);
    let problems = leader.get(app.url("/w/problems")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&problems, &format!("#p{problem} .opinions")), ["6"]);
    assert_eq!(texts(&problems, &format!("#p{problem} .responses")), ["6"]);

    // The posting workbook: published measures, ratings summarised, read back cell by cell.
    let x = leader.get(app.url("/w/register.xlsx")).send().await.unwrap();
    assert_eq!(x.status(), 200);
    let named = x.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(named.contains("filename*=UTF-8''%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6-20"), "{named}");
    let r = sheet(&x.bytes().await.unwrap(), "整改台账");
    assert_eq!(text(&r, 0, 0), "整改落实台账（四明确一公开）");
    assert!(text(&r, 1, 0).contains("公开整改措施 1 项") && text(&r, 1, 0).contains(five[0]));
    let row: Vec<String> = (0..14).map(|c| text(&r, 4, c)).collect();
    assert_eq!(
        row,
        [
            m.to_string().as_str(),
            "窗口办事效率低",
            "推行“一次办结”",
            "群众办事最多跑一次",
            "2027-08-31",
            "分管副局长、办公室",
            "推进中",
            "",
            "2026-11-20 已在三个窗口试行，见办件台账",
            "2",
            "2",
            "1",
            "80%",
            "已公开"
        ]
    );

    // The report workbook (a leader's protected export) gains 问题清单 and 整改台账.
    let (leader2, csrf2) = app.login_as(Role::Leader).await;
    let bytes = app.export_as(&leader2, &csrf2, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let p = sheet(&bytes, "问题清单");
    assert_eq!(text(&p, 0, 1), "问题");
    assert_eq!((text(&p, 1, 1), text(&p, 1, 2)), ("窗口办事效率低".into(), "服务基层、工作效能".into()));
    assert_eq!((text(&p, 1, 5), text(&p, 1, 6), text(&p, 1, 7)), ("制度机制".into(), "6".into(), "6".into()));
    assert!(text(&p, 1, 9).starts_with("窗口办事要跑好几趟"));
    // Each area sheet and 未归类 say which problem an opinion was grouped into (the domain review: the
    // report's writers could not see it beside the opinions).
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut linked = 0;
    for name in wb.sheet_names() {
        let r = wb.worksheet_range(&name).unwrap();
        let Some(col) = (0..r.width() as u32).find(|c| text(&r, 0, *c) == "所属问题") else { continue };
        for row in 1..r.height() as u32 {
            if text(&r, row, 0).starts_with("窗口办事要跑好几趟") {
                assert_eq!(text(&r, row, col), "窗口办事效率低", "{name} row {row}");
                linked += 1;
            }
        }
    }
    assert_eq!(linked, 6, "the linked opinions are quoted with their problem");
    let t = sheet(&bytes, "整改台账");
    assert_eq!(
        (text(&t, 1, 1), text(&t, 1, 4), text(&t, 1, 12), text(&t, 1, 13)),
        ("窗口办事效率低".into(), "2027-08-31".into(), "80%".into(), "已公开".into())
    );

    // Every change is in the audit log.
    let actions: Vec<String> =
        app.store().audit_entries(None, None, None, 100).await.unwrap().into_iter().map(|e| e.action).collect();
    for a in [
        "problem_created",
        "problem_linked",
        "measure_created",
        "measure_updated",
        "measure_published",
        "measure_progress",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} is audited: {actions:?}");
    }
}

/// A rating shown is one person's grade; so is a tally that grew by one since yesterday. Someone who reads
/// /gongkai every day sees a measure's ratings change only by k or more at a time.
#[tokio::test]
async fn a_measures_ratings_are_shown_in_batches_of_k_so_one_days_lone_rating_is_never_told_apart() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let ratings = format!("#m{m} .ratings");
    let detail = format!("/w/problems/{problem}");
    // Rated by nobody and by one person read alike: a note appearing overnight would say someone rated.
    let none = ["评价不足 5 人次，暂不公布"];
    assert_eq!(ratings_read(&app, &leader, &ratings).await, [none, none], "not rated yet");
    assert_eq!(rate(&app, &rating_key(&app, m).await, m, "1", "").await.status(), 303);
    crate::helpers::a_day_passes(&app).await;
    assert_eq!(ratings_read(&app, &leader, &ratings).await, [none, none], "rated by one");
    for _ in 0..4 {
        assert_eq!(rate(&app, &rating_key(&app, m).await, m, "1", "").await.status(), 303);
    }
    crate::helpers::a_day_passes(&app).await;
    let five = ["满意 5 · 基本满意 0 · 不满意 0"];
    assert_eq!(ratings_read(&app, &leader, &ratings).await, [five, five], "by the public, by a leader");

    // One person rates the next day: the office reads it at once, nobody else until k more have come.
    assert_eq!(rate(&app, &rating_key(&app, m).await, m, "3", "只有我觉得没变").await.status(), 303);
    crate::helpers::a_day_passes(&app).await;
    assert_eq!(ratings_read(&app, &leader, &ratings).await, [five, five], "one rating more is one grade");
    let page = leader.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("只有我觉得没变"), "nor its comment");
    let r = register_sheet(&app, &leader).await;
    assert!(text(&r, 1, 0).contains("24 时）5 人次"), "{}", text(&r, 1, 0));
    assert_eq!((9..12).map(|c| text(&r, 4, c)).collect::<Vec<_>>(), ["5", "0", "0"]);
    let office = analyst.get(app.url("/w/register")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&office, &ratings), ["满意 5 · 基本满意 0 · 不满意 1"]);

    // Four more over two days make a batch of five waiting: all five show together, comment included.
    for day in 0..2 {
        for _ in 0..2 {
            assert_eq!(rate(&app, &rating_key(&app, m).await, m, "2", "").await.status(), 303);
        }
        crate::helpers::a_day_passes(&app).await;
        let shown = if day == 0 { five } else { ["满意 5 · 基本满意 4 · 不满意 1"] };
        assert_eq!(ratings_read(&app, &leader, &ratings).await, [shown, shown], "day {day}");
    }
    let page = leader.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "ul.comments li"), ["只有我觉得没变"]);
}

#[tokio::test]
async fn a_server_restarted_with_another_k_shows_no_rating_its_batch_had_not_closed() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let ratings = format!("#m{m} .ratings");
    let public = |base: String| {
        let ratings = ratings.clone();
        async move {
            let page = reqwest::get(format!("{base}/gongkai")).await.unwrap().text().await.unwrap();
            (texts(&page, &ratings), page)
        }
    };
    // Three rate one day, two the next (a batch of five at k = 5), one the day after: theirs waits.
    for (n, grade, comment) in [(3, "1", ""), (2, "1", ""), (1, "3", "只有我一个人不满意")] {
        for _ in 0..n {
            assert_eq!(rate(&app, &rating_key(&app, m).await, m, grade, comment).await.status(), 303);
        }
        crate::helpers::a_day_passes(&app).await;
        public(app.base.clone()).await;
    }
    let five = ["满意 5 · 基本满意 0 · 不满意 0"];
    assert_eq!(public(app.base.clone()).await.0, five);
    // The server restarts with a smaller or a larger k: the batches already closed stay as they were.
    for k in [3, 6] {
        let (shown, page) = public(app.second_server_with(|s| s.small_cell_k = k).await).await;
        assert_eq!(shown, five, "k = {k}: re-cut, the tally would grow by the one who rated last");
        assert!(!page.contains("只有我一个人不满意"), "k = {k}: nor their comment");
    }
}

/// A measure withdrawn while someone was writing its rating: nothing is stored, and what they wrote comes
/// back on the page to copy (it answered a bare 404 and the text was gone).
#[tokio::test]
async fn a_rating_of_a_measure_withdrawn_meanwhile_is_not_stored_and_its_comment_comes_back() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let key = rating_key(&app, m).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let withdraw = format!("/w/measures/{m}/publish");
    let (s, body) = post(&app, &leader, &csrf, &withdraw, &[("publish", "0")]).await;
    assert!(s == 400 && body.contains("确认撤回"), "a withdrawal is confirmed first: {s}");
    assert!(app.store().measure(m).await.unwrap().published_at.is_some(), "still published");
    let (s, _) = post(&app, &leader, &csrf, &withdraw, &[("publish", "0"), ("confirm", "1")]).await;
    assert_eq!(s, 303);
    let r = rate(&app, &key, m, "3", "写了很久的意见：窗口还是要跑两趟").await;
    assert_eq!(r.status(), 404);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#unsaved"), ["写了很久的意见：窗口还是要跑两趟"]);
    assert!(texts(&page, ".notice")[0].contains("没有保存"), "{page}");
    let rating_form = Some(wenji::domain::rectification::RATING_FORM_SLUG);
    assert_eq!(app.store().count_responses(rating_form).await.unwrap(), 0, "nothing stored");
}

async fn post_owned(
    app: &TestApp,
    c: &reqwest::Client,
    csrf: &str,
    path: &str,
    pairs: Vec<(&str, String)>,
) -> (u16, String) {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(app, c, csrf, path, &pairs).await
}

/// The version a staff page's form sends back (`seen`).
fn seen_in(page: &str, form: &str) -> String {
    form_fields(page, form).into_iter().find(|(n, _)| n == "seen").map(|(_, v)| v).expect("the form sends its version")
}

/// Two people edit the same measure, or problem, from pages opened before either saved: the second save
/// does not silently replace the first (both were 303 and the first text was gone). It is refused naming
/// why, the first text stays stored and shown, the second person's text is still in their form, and
/// saving it again from that page goes through, knowingly.
#[tokio::test]
async fn an_edit_from_a_page_opened_before_someone_elses_save_is_refused_and_neither_text_is_lost() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    let (admin, a_csrf) = app.login_as(Role::Admin).await;
    let detail = format!("/w/problems/{problem}");
    let measure_form = format!("#m{m} form.measure-form");
    let leader_page = leader.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    let admin_page = admin.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    let edit = |action: &'static str, seen: String| {
        vec![
            ("action", action.to_owned()),
            ("target", "群众办事最多跑一次".into()),
            ("deadline", "2027-01-31".into()),
            ("owner", "分管副局长、办公室".into()),
            ("status", "in_progress".into()),
            ("seen", seen),
        ]
    };
    let path = format!("/w/measures/{m}");
    let first =
        post_owned(&app, &leader, &l_csrf, &path, edit("领导刚改好的措施", seen_in(&leader_page, &measure_form))).await;
    assert_eq!(first.0, 303);
    let (s, page) =
        post_owned(&app, &admin, &a_csrf, &path, edit("管理员打开得早的旧稿", seen_in(&admin_page, &measure_form)))
            .await;
    assert_eq!(s, 409);
    assert_eq!(app.store().measure(m).await.unwrap().draft.action, "领导刚改好的措施");
    let why = &texts(&page, "#errors li")[0];
    assert!(why.contains("已被他人修改") && why.contains("措施：领导刚改好的措施"), "names the stored text: {why}");
    assert_eq!(texts(&page, &format!("{measure_form} textarea[name=action]")), ["管理员打开得早的旧稿"]);
    let again =
        post_owned(&app, &admin, &a_csrf, &path, edit("管理员打开得早的旧稿", seen_in(&page, &measure_form))).await;
    assert_eq!(again.0, 303, "saved again from the page that showed both");
    assert_eq!(app.store().measure(m).await.unwrap().draft.action, "管理员打开得早的旧稿");

    // A problem (its measure published: its publishers edit it), between a leader and an admin.
    let (one, one_csrf, two, two_csrf) = (&leader, &l_csrf, &admin, &a_csrf);
    let one_page = one.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    let two_page = two.get(app.url(&detail)).send().await.unwrap().text().await.unwrap();
    let fields = |description: &'static str, seen: String| {
        vec![
            ("title", "窗口办事效率低".to_owned()),
            ("area", "6".into()),
            ("description", description.into()),
            ("root_cause", "服务意识不强".into()),
            ("seen", seen),
        ]
    };
    for (c, csrf, description, page, want) in [
        (one, one_csrf, "第一位分析员补充的描述", &one_page, 303),
        (two, two_csrf, "第二位分析员的旧描述", &two_page, 409),
    ] {
        let (s, page) =
            post_owned(&app, c, csrf, &detail, fields(description, seen_in(page, "form.problem-form"))).await;
        assert_eq!(s, want, "{description}");
        if want == 409 {
            assert_eq!(texts(&page, "#description"), ["第一位分析员补充的描述"], "the stored text, shown");
            assert_eq!(texts(&page, "form.problem-form textarea[name=description]"), ["第二位分析员的旧描述"]);
        }
    }
    assert_eq!(app.store().problem(problem).await.unwrap().draft.description, "第一位分析员补充的描述");
}

/// A refused measure edit, new measure or progress entry shows the page again with what was typed, not
/// the stored values (the typed text was gone).
#[tokio::test]
async fn a_refused_measure_edit_new_measure_or_progress_entry_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let edit = [("action", "改写后的措施文字"), ("target", "目标"), ("deadline", "明年"), ("owner", "办公室")];
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &edit).await;
    assert_eq!(s, 422);
    assert_eq!(texts(&page, &format!("#m{m} form.measure-form textarea[name=action]")), ["改写后的措施文字"]);
    let new = [("action", "一项新措施"), ("deadline", "下个月")];
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/problems/{problem}/measures"), &new).await;
    assert_eq!(s, 422);
    assert_eq!(texts(&page, "#new-measure textarea[name=action]"), ["一项新措施"]);
    let progress = [("on", "2999-01-01"), ("evidence", "已在全部窗口推行，附台账")];
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/measures/{m}/progress"), &progress).await;
    assert_eq!(s, 422);
    assert_eq!(texts(&page, &format!("#m{m} textarea[name=evidence]")), ["已在全部窗口推行，附台账"]);
}

#[tokio::test]
async fn the_register_marks_a_measure_overdue_once_its_deadline_day_is_over() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let today = wenji::domain::rectification::bureau_today(wenji::store::now_ms());
    let page = |l: &reqwest::Client| {
        let l = l.clone();
        let url = app.url("/w/register");
        async move { l.get(url).send().await.unwrap().text().await.unwrap() }
    };
    for (deadline, late) in [(today.succ_opt().unwrap(), false), (today, false), (today.pred_opt().unwrap(), true)] {
        let d = deadline.to_string();
        let fields =
            [("action", "a"), ("target", "b"), ("deadline", d.as_str()), ("owner", "c"), ("status", "in_progress")];
        assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &fields).await.0, 303);
        let reg = page(&leader).await;
        assert_eq!(texts(&reg, &format!("tr#m{m} .late")).len(), usize::from(late), "deadline {d}, today {today}");
        let public = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
        assert_eq!(texts(&public, &format!("#m{m} .late")).len(), usize::from(late));
    }
    // Done is never overdue.
    let d = today.pred_opt().unwrap().to_string();
    let fields = [("action", "a"), ("target", "b"), ("deadline", d.as_str()), ("owner", "c"), ("status", "done")];
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &fields).await.0, 303);
    assert!(texts(&page(&leader).await, &format!("tr#m{m} .late")).is_empty());
}

#[tokio::test]
async fn hostile_input_on_the_new_routes_gets_a_named_4xx_never_a_500() {
    let app = TestApp::spawn().await;
    let (_, m, ids) = published_measure(&app).await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let huge = "长".repeat(2001);
    let id0 = ids[0].to_string();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case> = vec![
        ("/w/problems", vec![("title", "a\0b"), ("area", "1")], 422),
        (
            "/w/problems",
            vec![("title", "\u{200B}\u{202E}"), ("area", "1"), ("description", "x"), ("root_cause", "y")],
            422,
        ),
        ("/w/problems", vec![("title", "t"), ("area", "9"), ("description", "x"), ("root_cause", "y")], 422),
        ("/w/problems", vec![("title", "t"), ("area", "1"), ("description", &huge), ("root_cause", "y")], 422),
        ("/w/problems/link", vec![("ids", "1\0")], 422),
        ("/w/problems/link", vec![("ids", "-1")], 400),
        ("/w/problems/link", vec![("ids", "99999999999999999999999")], 400),
        ("/w/problems/link", vec![("ids", &id0), ("problem", "abc")], 400),
        ("/w/problems/link", vec![("ids", &id0), ("problem", "999999")], 404),
        ("/w/problems/link", vec![], 400),
        ("/w/problems/999999/measures", vec![("action", "x")], 404),
        ("/w/problems/abc", vec![("title", "x")], 400),
    ];
    for (path, pairs, want) in cases {
        let (s, body) = post(&app, &analyst, &csrf, path, &pairs).await;
        assert_eq!(s, want, "{path} {pairs:?}: {body}");
    }
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    for (path, pairs, want) in [
        (format!("/w/measures/{m}"), vec![("deadline", "2027-02-30")], 422),
        (format!("/w/measures/{m}"), vec![("action", "a"), ("target", "b"), ("owner", "c"), ("deadline", "")], 422),
        (format!("/w/measures/{m}/publish"), vec![("publish", "yes")], 400),
        (format!("/w/measures/{m}/progress"), vec![("on", "soon"), ("evidence", "x")], 422),
        (format!("/w/measures/{m}/progress"), vec![("on", "2027-01-01"), ("evidence", "\u{200B}")], 422),
        ("/w/measures/999999/publish".to_owned(), vec![("publish", "1")], 404),
    ] {
        let (s, body) = post(&app, &leader, &l_csrf, &path, &pairs).await;
        assert_eq!(s, want, "{path} {pairs:?}: {body}");
    }
    // Refusals say what is wrong in Chinese: progress that has not happened yet, a number in the address
    // that is not one, a form twice the size limit.
    let future = [("on", "2099-01-01"), ("evidence", "还没发生的进展")];
    let (s, body) = post(&app, &leader, &l_csrf, &format!("/w/measures/{m}/progress"), &future).await;
    assert_eq!((s, texts(&body, "#errors li")), (422, vec!["进展日期：不能晚于今天".to_owned()]));
    let (s, body) = post(&app, &leader, &l_csrf, "/w/measures/abc/progress", &future).await;
    assert!(s == 400 && body.contains("地址中的编号无效"), "{s} {body}");
    let twice = [("publish", "1"), ("publish", "0")];
    let (s, body) = post(&app, &leader, &l_csrf, &format!("/w/measures/{m}/publish"), &twice).await;
    assert!(s == 400 && body.contains("“公开”一栏出现了不止一次") && !body.contains("unsupported"), "{s} {body}");
    let long = "证".repeat(30_000);
    let (s, body) = post(&app, &leader, &l_csrf, &format!("/w/measures/{m}/progress"), &[("evidence", &long)]).await;
    assert!(s == 413 && body.contains("超过 64 KB") && !body.contains("草稿"), "staff pages keep no draft: {s}");
    // Public side: a NUL or a bad id in the query, a forged key, an unknown measure, a bad rating, a huge body.
    for q in ["/gongkai?rated=%00", "/gongkai?r=%0d%0aX"] {
        let r = app.citizen.get(app.url(q)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}: refused by the hostile-URI check");
        assert!(r.text().await.unwrap().contains("链接不完整或有误"), "{q}: said as a link, not a submission");
    }
    let page = app.citizen.get(app.url("/gongkai?rated=abc&r=<script>")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(!page.text().await.unwrap().contains("<script>"));
    let key = rating_key(&app, m).await;
    assert_eq!(rate(&app, "forged-key", m, "1", "").await.status(), 400);
    // A field sent twice is refused, not read as the first or the last (which measure was rated?).
    let twice = reqwest::multipart::Form::new()
        .text("_key", key.clone())
        .text("measure", m.to_string())
        .text("measure", "999999")
        .text("rating", "1")
        .text("comment", "窗口排队还是很长");
    let r = app.citizen.post(app.url("/gongkai")).multipart(twice).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains("整改措施：一份评价只能有一个值"));
    assert_eq!(texts(&page, "#unsaved"), ["窗口排队还是很长"], "the comment comes back to copy");
    let mangled = reqwest::multipart::Form::new()
        .text("_key", key.clone())
        .text("measure", "abc")
        .text("rating", "1")
        .text("comment", "希望再快一点");
    let r = app.citizen.post(app.url("/gongkai")).multipart(mangled).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(texts(&r.text().await.unwrap(), "#unsaved"), ["希望再快一点"]);
    assert_eq!(rate(&app, &key, 999_999, "1", "").await.status(), 404);
    let r = rate(&app, &key, m, "9", "").await;
    assert_eq!(r.status(), 422);
    assert!(texts(&r.text().await.unwrap(), &format!("#m{m} .field-error"))[0].starts_with("评价："));
    let form = reqwest::multipart::Form::new().text("_key", key.clone()).text("measure", "1\u{0}");
    assert_eq!(app.citizen.post(app.url("/gongkai")).multipart(form).send().await.unwrap().status(), 400);
    assert_eq!(rate(&app, &key, m, "1", &"长".repeat(501)).await.status(), 422);
    assert_eq!(rate(&app, &key, m, "1", &"x".repeat(70_000)).await.status(), 413);
}

#[tokio::test]
async fn the_command_line_writes_the_register_for_posting_and_the_report_with_both_new_sheets() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let key = rating_key(&app, m).await;
    assert_eq!(rate(&app, &key, m, "1", "").await.status(), 303);
    crate::helpers::a_day_passes(&app).await;
    let out = app.dir.path().join("taizhang.xlsx");
    let o = app.run_cli(&["export", "--register", "--out", out.to_str().unwrap()]).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = sheet(&std::fs::read(&out).unwrap(), "整改台账");
    // One rating, under k: withheld here as on the pages.
    assert_eq!(
        (text(&r, 4, 2), text(&r, 4, 9), text(&r, 4, 12)),
        ("推行“一次办结”".into(), String::new(), "评价不足 5 人次，暂不公布".into())
    );
    let report = app.dir.path().join("report.xlsx");
    let o = app.run_cli(&["export", "--form", "zhengqiu", "--out", report.to_str().unwrap()]).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&report).unwrap();
    assert_eq!(text(&sheet(&bytes, "问题清单"), 1, 1), "窗口办事效率低");
    assert_eq!(text(&sheet(&bytes, "整改台账"), 1, 2), "推行“一次办结”");
    assert!(!app.run_cli(&["export", "--register", "--form", "zhengqiu"]).await.status.success(), "one or the other");
}

#[tokio::test]
async fn an_analysts_edit_meeting_a_publication_committed_first_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    // The analyst's page was read while the measure was a draft; the publication committed before the save.
    let before = app.store().measure(m).await.unwrap();
    let mut edit = before.draft.clone();
    edit.action = "分析人员在公开前改写的措施".into();
    let by = Actor::system("analyst-test");
    let late = app.store().update_measure(&by, m, &edit, true, None).await;
    assert!(matches!(late, Err(wenji::store::StoreError::Conflict(_))), "{late:?}");
    assert_eq!(app.store().measure(m).await.unwrap().draft.action, before.draft.action, "the published text stands");
    app.store().update_measure(&by, m, &edit, false, None).await.expect("a leader or admin may edit it");
    assert_eq!(app.store().measure(m).await.unwrap().draft.action, "分析人员在公开前改写的措施");
}

/// A measure whose action, target and owner are only zero-width spaces or fillers would show blank on
/// /gongkai: such parts are refused naming them, a draft missing parts cannot be published (422 naming
/// them), and a published one cannot be blanked so.
#[tokio::test]
async fn a_measure_of_invisible_characters_is_not_published_blank() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    // All four parts empty: nothing is saved (a blank measure stood in the register).
    let before = measure_ids(&app, &leader, problem).await;
    let empty = [("action", " "), ("target", ""), ("deadline", ""), ("owner", "")];
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/problems/{problem}/measures"), &empty).await;
    assert_eq!(s, 422);
    assert!(page.contains("四项都是空的，没有保存"), "{page}");
    // Parts of invisible characters only are refused at once, naming the first.
    let blank =
        [("action", "\u{200B}"), ("target", "\u{3164}\u{3164}"), ("deadline", "2027-06-30"), ("owner", "\u{FE0F}")];
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/problems/{problem}/measures"), &blank).await;
    assert_eq!(s, 422);
    assert!(page.contains("措施：只有看不见的字符"), "{page}");
    assert_eq!(measure_ids(&app, &leader, problem).await, before);
    let partial = [("action", ""), ("target", ""), ("deadline", "2027-06-30"), ("owner", "")];
    let (s, _) = post(&app, &leader, &csrf, &format!("/w/problems/{problem}/measures"), &partial).await;
    assert!(s < 400, "a draft may be incomplete ({s})");
    let drafted = *measure_ids(&app, &leader, problem).await.iter().max().unwrap();
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/measures/{drafted}/publish"), &[("publish", "1")]).await;
    assert_eq!(s, 422);
    assert!(page.contains("缺少：措施、目标、责任"), "{page}");
    let page = leader.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
    let seen = seen_in(&page, &format!("#m{m} form.measure-form"));
    let edit = [blank.as_slice(), &[("status", "in_progress"), ("seen", &seen)]].concat();
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &edit).await;
    assert!(s == 409 || s == 422, "a published measure is not blanked ({s}): {page}");
    let public = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    assert!(!public.contains('\u{3164}'), "nothing blank on /gongkai");
}

#[tokio::test]
async fn the_tagging_card_says_where_an_opinion_was_linked_and_only_when_it_is() {
    let app = TestApp::spawn().await;
    let (one, other) = (submit(&app, "窗口办事要跑好几趟，效率太低").await, submit(&app, "调解室太小，没有座位").await);
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let p = create_problem(&app, &analyst, &csrf, "窗口办事效率低").await.to_string();
    // From the tagging card (p, then the problem's number): back on the card, which says where it went.
    let back = format!("/w/tag/{one}");
    let from_card = [("ids", one.to_string()), ("problem", p.clone()), ("back", back.clone())];
    let from_card: Vec<(&str, &str)> = from_card.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, to) = post(&app, &analyst, &csrf, "/w/problems/link", &from_card).await;
    assert_eq!((s, to.clone()), (303, format!("{back}?linked={p}")));
    let card = analyst.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&card, "#linked"), [format!("意见 #{one} 已归入问题 #{p}：窗口办事效率低")]);
    // An address kept or typed by hand naming a problem the opinion is not in says nothing.
    let card = analyst.get(app.url(&format!("/w/tag/{other}?linked={p}"))).send().await.unwrap().text().await.unwrap();
    assert!(texts(&card, "#linked").is_empty());
}

/// Progress recorded on a measure still 未开始 moves it to 推进中, audited: /gongkai showed 未开始 beside its
/// 最新进展. A measure already done stays done, and one with progress cannot be set back to 未开始.
#[tokio::test]
async fn recording_progress_on_a_measure_not_started_shows_it_in_progress() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let draft = [("action", "窗口增设引导员"), ("target", "高峰期有人引导"), ("owner", "办公室")];
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/problems/{problem}/measures"), &draft).await.0, 303);
    let fresh = *measure_ids(&app, &leader, problem).await.iter().max().unwrap();
    assert_eq!(app.store().measure(fresh).await.unwrap().draft.status, MeasureStatus::NotStarted);
    let with = |status: &'static str| {
        [
            ("action", "推行“一次办结”"),
            ("target", "群众办事最多跑一次"),
            ("deadline", "2027-08-31"),
            ("owner", "分管副局长、办公室"),
            ("status", status),
        ]
    };
    let progress = [("on", "2026-11-21"), ("evidence", "制度已印发，见文件")];
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{fresh}/progress"), &progress).await.0, 303);
    assert_eq!(app.store().measure(fresh).await.unwrap().draft.status, MeasureStatus::InProgress);
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &with("done")).await.0, 303);
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}/progress"), &progress).await.0, 303);
    assert_eq!(app.store().measure(m).await.unwrap().draft.status, MeasureStatus::Done, "done stays done");
    // Saving it unchanged stores and audits nothing (保存并公开 refused for a missing part audited a non-edit).
    let audited = async || app.store().audit_entries(Some("measure_updated"), None, None, 100).await.unwrap().len();
    let before = audited().await;
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &with("done")).await.0, 303);
    assert_eq!(audited().await, before, "an unchanged save is not audited");
    let (s, page) = post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &with("not_started")).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("状态不能改回“未开始”"), "{page}");
    assert_eq!(app.store().measure(m).await.unwrap().draft.status, MeasureStatus::Done);
    let page = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, &format!("#m{m} .status-label")), ["已完成"]);
    let log = app.store().audit_entries(Some("measure_updated"), None, None, 100).await.unwrap();
    assert!(log.iter().any(|e| e.after.as_deref().is_some_and(|a| a.ends_with("状态=推进中"))), "the move is audited");
    // Not rated yet: the register's counts are empty, not zeros that read as "nobody satisfied", and the
    // rate says why, as for a measure rated by fewer than k.
    let r = register_sheet(&app, &leader).await;
    assert_eq!(text(&r, 4, 6), "已完成");
    assert_eq!((9..13).map(|c| text(&r, 4, c)).collect::<Vec<_>>(), ["", "", "", "评价不足 5 人次，暂不公布"]);
}

/// The chooser's number keys pick the same problem on every card: opinions linked to the newest problem
/// (it leads by support then) do not move it to key 1.
#[tokio::test]
async fn the_problem_choosers_number_keys_keep_their_problems_as_opinions_are_linked() {
    let app = TestApp::spawn().await;
    let (first, second) = (submit(&app, "窗口办事要跑好几趟").await, submit(&app, "调解室太小").await);
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let mut problems = Vec::new();
    for title in ["办事效率", "理论学习", "基层服务"] {
        problems.push(create_problem(&app, &analyst, &csrf, title).await);
    }
    let chooser = |id: i64| {
        let (app, analyst, csrf) = (&app, &analyst, &csrf);
        async move {
            let (s, page) = post(app, analyst, csrf, "/w/problems/link", &[("ids", &id.to_string())]).await;
            assert_eq!(s, 200);
            texts(&page, "#choose button[name=problem]")
        }
    };
    let want = ["1 办事效率", "2 理论学习", "3 基层服务"];
    assert_eq!(chooser(first).await, want);
    let third = problems[2].to_string();
    let pairs = [("ids", first.to_string()), ("problem", third)];
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post(&app, &analyst, &csrf, "/w/problems/link", &pairs).await.0, 303);
    assert_eq!(chooser(second).await, want);
}

/// The audit log holds what changed, once: linking an opinion already linked (a double click), ids that
/// are no opinion, unlinking one not linked, and an account disabled twice record nothing more.
#[tokio::test]
async fn links_and_account_switches_that_change_nothing_are_neither_stored_nor_audited() {
    let app = TestApp::spawn().await;
    let opinion = submit(&app, "窗口办事要跑好几趟").await.to_string();
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let p = create_problem(&app, &analyst, &csrf, "办事效率").await;
    let audited = |action: &'static str| {
        let app = &app;
        async move { app.store().audit_entries(Some(action), None, None, 100).await.unwrap().len() }
    };
    let link = [("ids", opinion.as_str()), ("problem", &p.to_string())];
    for _ in 0..2 {
        assert_eq!(post(&app, &analyst, &csrf, "/w/problems/link", &link).await.0, 303);
    }
    assert_eq!(audited("problem_linked").await, 1, "linked once");
    let unknown = [("ids", "999999"), ("problem", &p.to_string())];
    let (s, page) = post(&app, &analyst, &csrf, "/w/problems/link", &unknown).await;
    assert_eq!(s, 404, "{page}");
    assert!(page.contains("找不到所选的意见"), "{page}");
    let unlink = format!("/w/problems/{p}/unlink");
    assert_eq!(post(&app, &analyst, &csrf, &unlink, &[("opinion", opinion.as_str())]).await.0, 303);
    let (s, page) = post(&app, &analyst, &csrf, &unlink, &[("opinion", opinion.as_str())]).await;
    assert_eq!(s, 404, "{page}");
    assert!(page.contains("这条意见不在该问题中"), "{page}");
    assert_eq!(post(&app, &analyst, &csrf, &unlink, &[("opinion", "999999")]).await.0, 404);
    assert_eq!((audited("problem_linked").await, audited("problem_unlinked").await), (1, 1));
    // An account disabled twice: one entry.
    let (admin, a_csrf) = app.login_as(Role::Admin).await;
    app.create_user("lin.ziyuan", Role::Analyst).await;
    let target = app.store().user_by_name("lin.ziyuan").await.unwrap().unwrap().id.to_string();
    for _ in 0..2 {
        let r = post(&app, &admin, &a_csrf, "/w/admin/users", &[("op", "disable"), ("id", &target)]).await;
        assert!(r.0 < 400, "{r:?}");
    }
    assert_eq!(audited("user_disabled").await, 1);
}

/// A measure, or an edit of the problem, written on a page opened before a colleague merged that problem
/// away: refused (404), with everything typed shown back to copy (it was lost with the problem's page).
#[tokio::test]
async fn an_edit_of_a_problem_merged_away_meanwhile_comes_back_with_its_text() {
    let app = TestApp::spawn().await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let kept = create_problem(&app, &analyst, &csrf, "办事效率").await.to_string();
    let dup = create_problem(&app, &analyst, &csrf, "办事难").await;
    let merge = format!("/w/problems/{dup}/merge");
    assert_eq!(post(&app, &analyst, &csrf, &merge, &[("into", &kept), ("confirm", "1")]).await.0, 303);
    let (colleague, c_csrf) = app.login_as(Role::Analyst).await;
    let measure = [("action", "设立周末窗口，材料一次告知"), ("target", "群众办事不跑第二趟"), ("owner", "办公室")];
    let (s, page) = post(&app, &colleague, &c_csrf, &format!("/w/problems/{dup}/measures"), &measure).await;
    assert_eq!(s, 404, "{page}");
    let kept_text = texts(&page, ".kept textarea");
    assert!(kept_text.contains(&"设立周末窗口，材料一次告知".to_owned()), "{kept_text:?}");
    assert!(kept_text.contains(&"群众办事不跑第二趟".to_owned()), "{kept_text:?}");
    assert!(texts(&page, ".message")[0].contains(&format!("问题 {dup} 已不存在（可能刚被合并")), "{page}");
    let back = scraper::Html::parse_document(&page)
        .select(&scraper::Selector::parse("#back").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_owned));
    assert_eq!(back.as_deref(), Some("/w/problems"), "the way back leads to a page that is there");
    let edit =
        [("title", "办事难"), ("area", "6"), ("description", "要跑好几趟，材料反复交"), ("root_cause", "流程不清")];
    let (s, page) = post(&app, &colleague, &c_csrf, &format!("/w/problems/{dup}"), &edit).await;
    assert_eq!(s, 404, "{page}");
    assert!(texts(&page, ".kept textarea").contains(&"要跑好几趟，材料反复交".to_owned()), "{page}");
}

/// Two analysts wrote the same problem: one is merged into the other. Its opinions move, it is gone,
/// and the audit log keeps all its text. A problem with measures stays, since citizens hold the bureau
/// to the register.
#[tokio::test]
async fn a_duplicate_problem_is_merged_into_another_with_its_opinions_and_its_text_kept_in_the_audit() {
    let app = TestApp::spawn().await;
    let (o1, o2) =
        (submit(&app, "窗口办事要跑好几趟").await.to_string(), submit(&app, "材料要反复交").await.to_string());
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let (kept, dup) = (
        create_problem(&app, &analyst, &csrf, "办事效率").await,
        create_problem(&app, &analyst, &csrf, "办事难").await,
    );
    let (kept_s, dup_s) = (kept.to_string(), dup.to_string());
    post(&app, &analyst, &csrf, "/w/problems/link", &[("ids", &o1), ("problem", &dup_s)]).await;
    post(&app, &analyst, &csrf, "/w/problems/link", &[("ids", &o2), ("problem", &dup_s)]).await;
    post(&app, &analyst, &csrf, "/w/problems/link", &[("ids", &o2), ("problem", &kept_s)]).await;
    let page = analyst.get(app.url(&format!("/w/problems/{dup}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#merge select option"), ["请选择问题", &format!("问题 {kept}：办事效率（1 条意见）")]);
    let merge = format!("/w/problems/{dup}/merge");
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    assert_eq!(post(&app, &leader, &l_csrf, &merge, &[("into", &kept_s), ("confirm", "1")]).await.0, 403);
    let refused = [
        (vec![("into", kept_s.as_str())], 400, "确认合并：请勾选"),
        (vec![("into", dup_s.as_str()), ("confirm", "1")], 400, "合并到：不能把问题合并到它自己"),
        (vec![("into", "x\0"), ("confirm", "1")], 422, "合并到"),
        (vec![("into", "99999999999999999999999"), ("confirm", "1")], 400, "合并到：请选择要合并到的问题"),
        (vec![("into", "-1"), ("confirm", "1")], 400, "合并到：请选择要合并到的问题"),
        (vec![("into", "999999"), ("confirm", "1")], 404, "已不存在"),
    ];
    for (pairs, status, says) in refused {
        let (s, page) = post(&app, &analyst, &csrf, &merge, &pairs).await;
        assert_eq!(s, status, "{pairs:?}: {page}");
        assert!(page.contains(says), "{pairs:?}: {page}");
    }
    // The error page leads back to the page the form was on, and never to another site.
    let from = app.url(&format!("/w/problems/{dup}?tab=merge"));
    for (referer, back) in
        [(from.as_str(), vec![format!("/w/problems/{dup}?tab=merge")]), ("https://evil.example//x", vec![])]
    {
        let form = [("_csrf", csrf.as_str()), ("into", kept_s.as_str())];
        let r = analyst.post(app.url(&merge)).header("referer", referer).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let page = r.text().await.unwrap();
        assert_eq!(crate::helpers::attrs(&page, "#back", "href"), back, "{referer}");
    }
    let done = post(&app, &analyst, &csrf, &merge, &[("into", &kept_s), ("confirm", "1")]).await;
    assert_eq!(done, (303, format!("/w/problems/{kept}")));
    assert_eq!(app.store().problem_opinion_ids(kept).await.unwrap().len(), 2, "both opinions, o2 once");
    assert_eq!(analyst.get(app.url(&format!("/w/problems/{dup}"))).send().await.unwrap().status(), 404);
    let again = post(&app, &analyst, &csrf, &merge, &[("into", &kept_s), ("confirm", "1")]).await;
    assert_eq!(again.0, 404, "a second click: {}", again.1);
    let audit = app.store().audit_entries(Some("problem_merged"), None, None, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    let before = audit[0].before.as_deref().unwrap();
    assert!(before.contains("办事难") && before.contains("服务意识不强，流程没有优化"), "{before}");
    assert!(before.ends_with(&format!("意见：{o1},{o2}")), "{before}");
    assert_eq!(audit[0].after.as_deref(), Some(format!("problem:{kept}").as_str()));
    // A problem with a measure is not merged away, and its page offers no merge.
    let (s, _) =
        post(&app, &analyst, &csrf, &format!("/w/problems/{kept}/measures"), &[("action", "推行一次办结")]).await;
    assert_eq!(s, 303);
    let other = create_problem(&app, &analyst, &csrf, "其他").await.to_string();
    let (s, page) =
        post(&app, &analyst, &csrf, &format!("/w/problems/{kept}/merge"), &[("into", &other), ("confirm", "1")]).await;
    assert_eq!(s, 409, "{page}");
    assert!(page.contains("已有 1 项整改措施"), "{page}");
    assert_eq!(app.store().problem_opinion_ids(kept).await.unwrap().len(), 2);
    let page = analyst.get(app.url(&format!("/w/problems/{kept}"))).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#merge").is_empty(), "no merge offered");
}

/// An opinion linked to a problem while that problem is merged away is never lost: the link lands before
/// the merge (and moves with it) or is refused as gone. On PostgreSQL, without the link holding the
/// problem's row, the link met the deleted problem's foreign key (500), or the merge's delete cascaded over a
/// link it had not read while the link said it was saved.
#[tokio::test]
async fn an_opinion_linked_while_its_problem_is_merged_away_moves_with_it_or_is_refused_never_lost() {
    let app = TestApp::spawn().await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    for round in 0..12 {
        let opinion = submit(&app, &format!("第{round}条：办事要跑好几趟")).await.to_string();
        let kept = create_problem(&app, &analyst, &csrf, "办事效率").await;
        let dup = create_problem(&app, &analyst, &csrf, "办事难").await.to_string();
        let (kept_s, merge) = (kept.to_string(), format!("/w/problems/{dup}/merge"));
        let link = [("ids", opinion.as_str()), ("problem", dup.as_str())];
        let into = [("into", kept_s.as_str()), ("confirm", "1")];
        let (merged, linked) = tokio::join!(
            post(&app, &analyst, &csrf, &merge, &into),
            post(&app, &analyst, &csrf, "/w/problems/link", &link),
        );
        assert_eq!(merged.0, 303, "{}", merged.1);
        assert!(matches!(linked.0, 303 | 404), "round {round}: {linked:?}");
        let now_in_kept = app.store().problem_opinion_ids(kept).await.unwrap().contains(&opinion.parse().unwrap());
        assert_eq!(
            now_in_kept,
            linked.0 == 303,
            "round {round}: link answered {} but kept has it: {now_in_kept}",
            linked.0
        );
    }
}

/// An unlink racing a merge of its problem is waited for: either it lands first and the opinion stays
/// behind, or the merge does and the unlink finds the problem gone. On PostgreSQL an acknowledged unlink
/// was undone, its opinion carried into the other problem.
#[tokio::test]
async fn an_opinion_unlinked_while_its_problem_is_merged_away_stays_unlinked_or_is_refused() {
    let app = TestApp::spawn().await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    for round in 0..12 {
        let opinion = submit(&app, &format!("第{round}条：窗口排队太久")).await;
        let kept = create_problem(&app, &analyst, &csrf, "排队时间长").await;
        let dup = create_problem(&app, &analyst, &csrf, "排队久").await;
        let (opinion_s, dup_s, kept_s) = (opinion.to_string(), dup.to_string(), kept.to_string());
        let link = [("ids", opinion_s.as_str()), ("problem", dup_s.as_str())];
        assert_eq!(post(&app, &analyst, &csrf, "/w/problems/link", &link).await.0, 303);
        let (merge, unlink) = (format!("/w/problems/{dup}/merge"), format!("/w/problems/{dup}/unlink"));
        let (into, which) = ([("into", kept_s.as_str()), ("confirm", "1")], [("opinion", opinion_s.as_str())]);
        let (merged, unlinked) =
            tokio::join!(post(&app, &analyst, &csrf, &merge, &into), post(&app, &analyst, &csrf, &unlink, &which),);
        assert_eq!(merged.0, 303, "{}", merged.1);
        assert!(matches!(unlinked.0, 303 | 404), "round {round}: {unlinked:?}");
        let now_in_kept = app.store().problem_opinion_ids(kept).await.unwrap().contains(&opinion);
        assert_eq!(
            now_in_kept,
            unlinked.0 == 404,
            "round {round}: unlink answered {}, kept has it: {now_in_kept}",
            unlinked.0
        );
    }
}

/// Citizens read a problem's text above its published measure on /gongkai: from then on it is the
/// publishers' to change, as the measure is. An analyst's edit is refused; a leader's is shown.
#[tokio::test]
async fn a_problem_with_a_published_measure_is_edited_by_its_publishers_only() {
    let app = TestApp::spawn().await;
    let (problem, _, _) = published_measure(&app).await;
    let path = format!("/w/problems/{problem}");
    let edit = |title: &'static str, seen: String| {
        vec![
            ("title", title.to_owned()),
            ("area", "7".into()),
            ("description", "群众反映到窗口办事要跑多次".into()),
            ("root_cause", "服务意识不强".into()),
            ("seen", seen),
        ]
    };
    let (analyst, a_csrf) = app.login_as(Role::Analyst).await;
    let page = analyst.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let edit_form = format!("form[action='{path}'] button");
    assert!(texts(&page, &edit_form).is_empty() && page.contains("edit-published"), "{page}");
    let seen = app.store().problem(problem).await.unwrap().version.to_string();
    let softened = edit("沟通方式有待改进", seen.clone());
    let softened: Vec<(&str, &str)> = softened.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, page) = post(&app, &analyst, &a_csrf, &path, &softened).await;
    assert_eq!(s, 409, "{page}");
    assert!(page.contains("只能由领导或管理员修改"), "{page}");
    let kept = texts(&page, "#unsaved");
    assert!(
        kept.len() == 1 && kept[0].contains("沟通方式有待改进") && kept[0].contains("服务意识不强"),
        "typed text kept: {page}"
    );
    assert_eq!(app.store().problem(problem).await.unwrap().draft.title, "窗口办事效率低");
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    let page = leader.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, &edit_form).len(), 1, "the leader's page offers the edit");
    let corrected = edit("窗口办事效率低、群众多跑腿", seen);
    let corrected: Vec<(&str, &str)> = corrected.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post(&app, &leader, &l_csrf, &path, &corrected).await.0, 303);
    let public = app.citizen.get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    assert!(public.contains("窗口办事效率低、群众多跑腿"), "{public}");
}

/// A rating refused by the submit limit says so beside the rating form, where the page opens (at the top it
/// was 2,600 px above the citizen's view, who tapped again and failed again).
#[tokio::test]
async fn a_rating_refused_by_the_submit_limit_says_so_beside_its_form() {
    let app = TestApp::spawn_with(|s| {
        // The six opinions behind the measure use the burst up.
        s.submit_burst = 6;
        s.submit_per_minute = 1;
    })
    .await;
    let (_, m, _) = published_measure(&app).await;
    let r = rate(&app, &rating_key(&app, m).await, m, "1", "窗口快了").await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.unwrap();
    assert!(texts(&page, &format!("#err-m{m}"))[0].contains("提交太频繁"), "{page}");
    assert_eq!(texts(&page, "title"), ["评价未保存：整改落实情况公开 - 问计"], "announced on arrival");
    assert!(texts(&page, "p.notice").is_empty(), "not at the top: {page}");
    assert_eq!(texts(&page, &format!("#m{m} textarea[name=comment]")), ["窗口快了"]);
}

/// Citizens hold the plan to what it said: a published measure whose deadline is moved or whose target is
/// changed says so on /gongkai, dated, with the old and new text, also after a withdraw, edit and republish.
/// Edits before the first publication and progress (its status) are not changes of the plan.
#[tokio::test]
async fn a_published_measure_changed_later_says_what_changed_on_the_public_page() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let public = async || {
        texts(
            &app.browser().get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap(),
            &format!("#m{m} ul.changes li"),
        )
    };
    assert!(public().await.is_empty(), "the edits before publication and the progress are not listed");
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let mut fields = vec![
        ("action", "推行“一次办结”"),
        ("target", "群众办事最多跑两次"),
        ("deadline", "2027-12-31"),
        ("owner", "分管副局长、办公室"),
        ("status", "in_progress"),
    ];
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &fields).await.0, 303);
    let today = wenji::domain::rectification::bureau_today(app.state.clock.now_ms()).format("%Y年%m月%d日").to_string();
    assert_eq!(
        public().await,
        [
            format!("{today}，整改目标由“群众办事最多跑一次”改为“群众办事最多跑两次”"),
            format!("{today}，完成时限由“2027年08月31日”改为“2027年12月31日”"),
        ]
    );
    // Withdrawn, changed out of sight, published again: the change is said all the same, once, from what
    // citizens last saw; a draft written meanwhile never reaches the public page.
    let withdraw = format!("/w/measures/{m}/publish");
    assert_eq!(post(&app, &leader, &csrf, &withdraw, &[("publish", "0"), ("confirm", "1")]).await.0, 303);
    for owner in ["内部草稿：待核实后再定", "办公室"] {
        fields[3] = ("owner", owner);
        assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &fields).await.0, 303);
    }
    assert_eq!(post(&app, &leader, &csrf, &withdraw, &[("publish", "1")]).await.0, 303);
    let lines = public().await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2], format!("{today}，责任领导/单位由“分管副局长、办公室”改为“办公室”"));
    let page = app.browser().get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("内部草稿"), "a draft written while withdrawn went public");
}

#[tokio::test]
async fn a_problem_with_many_opinions_lists_them_a_hundred_at_a_time_with_the_start_of_each_text() {
    let app = TestApp::spawn().await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let big = create_problem(&app, &analyst, &csrf, "窗口办事效率低").await;
    let other = create_problem(&app, &analyst, &csrf, "收费不透明").await;
    let long = "窗口排队时间太长，上午九点去取号，到十一点半还没有轮到，工作人员中途离开也没有说明原因，希望增加窗口";
    let mut ids = vec![submit(&app, long).await];
    for i in 1..150 {
        ids.push(submit(&app, &format!("排队时间长的第 {i} 条意见")).await);
    }
    let by = Actor::system("test");
    app.store().link_opinions(&by, big, &ids).await.unwrap();
    let elsewhere = submit(&app, "律师收费标准不公开").await;
    app.store().link_opinions(&by, other, &[elsewhere]).await.unwrap();

    let page = |q: String| {
        let (c, url) = (analyst.clone(), app.url(&format!("/w/problems/{big}{q}")));
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let first = page(String::new()).await;
    let rows = texts(&first, "#linked li");
    assert_eq!(rows.len(), 100, "a hundred on the first page");
    assert!(texts(&first, "h2").iter().any(|h| h.contains("共 150 条")), "{first}");
    assert!(rows[0].contains(&format!("{}…", long.chars().take(40).collect::<String>())), "{}", rows[0]);
    assert!(rows[1].contains("排队时间长的第 1 条意见"), "{}", rows[1]);
    assert!(texts(&first, "#linked-first").is_empty());
    let next = crate::helpers::attrs(&first, "#linked-next", "href");
    assert_eq!(next, [format!("/w/problems/{big}?after={}#linked", ids[99])]);

    let second = page(format!("?after={}", ids[99])).await;
    let rows = texts(&second, "#linked li");
    assert_eq!(rows.len(), 50, "the other fifty on the second page");
    assert!(rows[0].contains("排队时间长的第 100 条意见"), "{}", rows[0]);
    assert!(texts(&second, "#linked-next").is_empty(), "no page after the last");
    assert_eq!(texts(&second, "#linked-first"), ["第一页"]);
    assert!(!second.contains("律师收费标准不公开"), "another problem's opinion is not on this one's page");
    // One problem's page reads its own support and quotes, not every problem's.
    let reg = app.store().register_of(Some(big), 5, None).await.unwrap();
    assert_eq!(reg.support.keys().collect::<Vec<_>>(), [&big]);
    assert_eq!(reg.quotes.keys().collect::<Vec<_>>(), [&big]);
}
