//! The dashboard and the inbox as leaders watch them change: nothing tells a unit, a day or an order.

use super::*;

#[tokio::test]
async fn a_leaders_dashboard_and_inbox_pool_small_units_and_refuse_unit_and_date_filters() {
    let app = TestApp::spawn().await;
    let seeded = app.seed_small_units().await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let dash = leader.get(app.url("/w/dashboard")).send().await.unwrap();
    assert_eq!(dash.status(), 200);
    let html = dash.text().await.unwrap();
    assert_nothing_singles_out("the dashboard", texts(&html, "main *").into_iter(), &seeded);
    let units: Vec<String> = texts(&html, "#by-unit td");
    assert_eq!(
        units,
        ["局办公室", "7", "政工科", "6", OTHER_UNITS, "7"],
        "respondents per shown unit, the rest pooled"
    );
    assert!(
        texts(&html, "#by-category td").iter().any(|c| c == OTHER_CATEGORIES),
        "the 企业 and 司法所 respondents are pooled"
    );

    let inbox = leader.get(app.url("/w/inbox")).send().await.unwrap();
    assert_eq!(inbox.status(), 200);
    let html = inbox.text().await.unwrap();
    assert_nothing_singles_out("the inbox", texts(&html, "main *").into_iter(), &seeded);
    assert_eq!(texts(&html, "#inbox tbody tr").len(), 20);
    assert_eq!(texts(&html, ".c-unit").iter().filter(|u| *u == OTHER_UNITS).count(), 7);
    // A filter typed into the address is refused by name, on the dashboard too (it was silently ignored).
    for page in ["/w/inbox", "/w/dashboard"] {
        for (param, value) in
            [("unit", "sfs-qingxi"), ("category", "sfs"), ("from", "2026-01-01"), ("to", "2026-12-31")]
        {
            let r = leader.get(app.url(&format!("{page}?{param}={value}"))).send().await.unwrap();
            assert_eq!(r.status(), 400, "{page} {param}");
            let body = r.text().await.unwrap();
            let named = wenji::web::clean::field_name(param);
            assert!(body.contains(&named) && body.contains("小单元保护"), "{page} {param}: the refusal says why");
        }
    }
    // The office still sees everything.
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let html = analyst.get(app.url("/w/inbox?unit=sfs-qingxi")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&html, ".c-unit"), ["清溪镇司法所"]);
}

#[tokio::test]
async fn a_leader_watching_while_one_response_comes_in_sees_nothing_change_until_the_next_day() {
    let app = TestApp::spawn().await;
    app.seed_small_units().await;
    app.state.clusters.catch_up(app.store()).await.unwrap();
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let before = leader_sees(&app, &leader, &csrf).await;
    assert!(before.iter().any(|t| t.contains("局办公室")), "yesterday's responses are shown: {before:?}");

    // Word for word one of yesterday's opinions: not even that one's 疑似重复 mark may appear.
    app.submit_as("jg-bgs", "qz", "jg-bgs 的第 0 条意见", 2).await;
    app.submit_as("jg-bgs", "qz", "会上当场填写的一条意见", 2).await;
    app.state.clusters.catch_up(app.store()).await.unwrap();
    let after = leader_sees(&app, &leader, &csrf).await;
    let changed: Vec<_> = after.iter().zip(&before).filter(|(a, b)| a != b).collect();
    assert!(changed.is_empty() && after.len() == before.len(), "the leader's views changed as it came in: {changed:?}");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let html = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("会上当场填写的一条意见"), "the office sees it at once");

    // The next day the two still wait: two more of one unit would point at them. Three more make five.
    crate::helpers::a_day_passes(&app).await;
    let html = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&html, "#by-unit td")[..2], ["局办公室", "7"], "two of one unit wait");
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("会上当场填写的一条意见"));
    for i in 0..3 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 又一条 {i}"), 2).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let html = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&html, "#by-unit td")[..2], ["局办公室", "12"], "the five go out together");
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("会上当场填写的一条意见"));
}

#[tokio::test]
async fn one_who_fills_in_after_the_meeting_is_not_dated_beside_their_unit_on_any_leader_surface() {
    let app = TestApp::spawn().await;
    // 局办公室 fills in at a meeting three days ago; one of its staff, who missed it, fills in yesterday,
    // the same day as 政工科's meeting of five.
    for i in 0..6 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 会上第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    crate::helpers::a_day_passes(&app).await;
    app.submit_as("jg-bgs", "qz", "jg-bgs 会后补交的一条", 2).await;
    for i in 0..5 {
        app.submit_as("jg-zgk", "qz", &format!("jg-zgk 会上第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (yesterday, meeting) = (bureau_date(1), bureau_date(3));
    let rows = leader_rows(&app).await;

    let (mut bgs, mut zgk) = (0, 0);
    for (surface, row) in &rows {
        if row.iter().any(|c| c.contains("jg-bgs ")) {
            bgs += 1;
            for day in [&yesterday, &meeting] {
                assert!(!row.iter().any(|c| c.contains(day.as_str())), "{surface} dates a 局办公室 row {day}: {row:?}");
            }
            assert!(row.iter().any(|c| c == "日期不显示"), "{surface}: {row:?}");
        }
        if row.iter().any(|c| c.contains("jg-zgk ")) {
            zgk += 1;
            // Released views show no dates at all (a label decided over a group that grows later would
            // get finer than what was shown before).
            assert!(!row.iter().any(|c| c == &yesterday), "{surface} dates 政工科's meeting: {row:?}");
        }
    }
    // Inbox 7 + 5; workbook: area sheets quote each tagged opinion, 原始数据 once each; the CSV once each.
    assert!(bgs >= 7 * 3 && zgk >= 5 * 3, "{bgs} rows of 局办公室, {zgk} of 政工科 read");
    let explained = rows.iter().any(|(sheet, row)| sheet == "说明" && row.iter().any(|c| c.contains("日期不显示")));
    assert!(explained, "说明 explains the dates");
}

#[tokio::test]
async fn a_leaders_inbox_and_workbook_show_no_opinion_numbers_and_no_arrival_order() {
    let app = TestApp::spawn().await;
    // 60 opinions of one unit, sent in an order that is not the order of their texts.
    let mut sent = Vec::new();
    for i in 0..60 {
        let text = format!("第{:02}条：调解回访不够及时", (i * 37) % 60);
        app.submit_as("jg-bgs", "qz", &text, 1).await;
        sent.push(text);
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let first = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(!first.contains("data-id") && !first.contains("before=") && !first.contains("编号"), "{first}");
    let next = texts(&first, "#next-page");
    assert_eq!(next.len(), 1, "a second page");
    let html = scraper::Html::parse_document(&first);
    let sel = scraper::Selector::parse("#next-page").unwrap();
    let href = html.select(&sel).next().unwrap().value().attr("href").unwrap().to_owned();
    assert!(href.ends_with("page=1"), "{href}");
    let second = leader.get(app.url(&href)).send().await.unwrap().text().await.unwrap();
    let back = scraper::Html::parse_document(&second);
    let prev = scraper::Selector::parse("#prev-page").unwrap();
    let href = back.select(&prev).next().expect("上一页 on the second page").value().attr("href").unwrap().to_owned();
    let again = leader.get(app.url(&href)).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&again, "#inbox td.text"), texts(&first, "#inbox td.text"), "上一页 goes back to the first");
    assert!(texts(&first, "#prev-page").is_empty());
    let mut shown = texts(&first, "#inbox td.text");
    shown.extend(texts(&second, "#inbox td.text"));
    let mut sorted = sent.clone();
    sorted.sort();
    assert_eq!(shown, sorted, "one day's opinions in text order, each once across the pages");
    assert_ne!(sent, sorted, "arrival order differs from text order");

    // The workbook too: the day's rows in random order for leaders, in arrival order for the office.
    let in_raw_sheet = |bytes: &[u8]| -> Vec<String> {
        let all = sheets(bytes);
        let (_, raw) = all.iter().find(|(n, _)| n == "原始数据").unwrap();
        raw.iter().flatten().filter(|c| c.contains("调解回访不够及时")).cloned().collect()
    };
    let leader_file = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let rows = in_raw_sheet(&leader_file);
    assert_ne!(rows, sent, "a leader's 原始数据 lists one day's responses in the order they came in");
    let mut rows_sorted = rows.clone();
    rows_sorted.sort();
    assert_eq!(rows_sorted, sorted, "every response once");
    let (admin, a_csrf) = app.login_as(Role::Admin).await;
    let full = [("form", "zhengqiu"), ("format", "xlsx"), ("unprotected", "1")];
    assert_eq!(in_raw_sheet(&app.export_as(&admin, &a_csrf, &full).await.unwrap()), sent, "the office's file");

    let r = leader.get(app.url("/w/inbox?before=99")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = leader.get(app.url(&format!("/w/inbox?page={}", u64::MAX))).send().await.unwrap();
    assert_eq!(r.status(), 200, "a page past the end is empty, not an error");
}

/// The office tags yesterday's opinions while a leader watches which leave 待归类: were they served in
/// arrival order, the leader would learn that order (and so which rows came from whoever filled in late,
/// whatever dates the rows show). Each analyst walks a keyed order of their own.
#[tokio::test]
async fn a_leader_watching_the_office_tag_learns_nothing_of_the_order_opinions_came_in() {
    use crate::workspace::{act, opinion_id};
    let app = TestApp::spawn().await;
    let mut sent = Vec::new();
    for i in 0..16 {
        let text = format!("第{i:02}份：调解回访不够及时");
        opinion_id(&app, &app.submit_opinion(&text).await).await;
        sent.push(text);
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let pending = async || {
        let html = leader.get(app.url("/w/inbox?form=zhengqiu&state=pending")).send().await.unwrap();
        texts(&html.text().await.unwrap(), "#inbox td.text")
    };
    let (first, _) = app.login_as(Role::Analyst).await;
    let (second, csrf) = app.login_as(Role::Analyst).await;
    let walk = async |c: &reqwest::Client| {
        let mut order: Vec<i64> = Vec::new();
        loop {
            let after = order.last().copied().unwrap_or(0);
            let next: serde_json::Value =
                c.get(app.url(&format!("/w/api/next?after={after}"))).send().await.unwrap().json().await.unwrap();
            match next["id"].as_i64() {
                Some(id) if !order.contains(&id) => order.push(id),
                _ => return order,
            }
        }
    };
    let (one, two) = (walk(&first).await, walk(&second).await);
    assert_eq!(one.len(), 16);
    assert_ne!(one, two, "two analysts working at once would meet on every opinion");

    let mut left = Vec::new();
    let mut before = pending().await;
    let start = second.get(app.url("/w/tag")).send().await.unwrap();
    let mut at: i64 = start.headers()["location"].to_str().unwrap().trim_start_matches("/w/tag/").parse().unwrap();
    for _ in 0..16 {
        let r = act(&app, &second, &csrf, at, &[("op", "save"), ("area", "7")]).await;
        assert_eq!(r.status(), 303);
        let now = pending().await;
        let gone: Vec<String> = before.iter().filter(|t| !now.contains(t)).cloned().collect();
        assert_eq!(gone.len(), 1, "one opinion leaves 待归类 per save");
        left.extend(gone);
        before = now;
        at = r.headers()["location"].to_str().unwrap().trim_start_matches("/w/tag/").parse().unwrap();
    }
    let mut reversed = sent.clone();
    reversed.reverse();
    assert_ne!(left, sent, "the leader saw opinions tagged in the order they came in");
    assert_ne!(left, reversed, "nor newest first");
    let mut all = left.clone();
    all.sort();
    assert_eq!(all, sent, "every opinion was tagged once");
}

#[tokio::test]
async fn equal_texts_in_a_leaders_inbox_do_not_come_in_the_order_they_were_sent() {
    let app = TestApp::spawn().await;
    // The same short answer twenty times, from two units in turn: in arrival order, the units alternate.
    let mut sent = Vec::new();
    for i in 0..20 {
        let (code, name) = if i % 2 == 0 { ("jg-bgs", "局办公室") } else { ("jg-zgk", "政工科") };
        app.submit_as(code, "qz", "暂无其他意见和建议", 1).await;
        sent.push(name.to_owned());
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    let units = texts(&html, "#inbox .c-unit");
    assert_eq!(units.len(), 20);
    assert_ne!(units, sent, "equal texts listed in arrival order");
    let again = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&again, "#inbox .c-unit"), units, "the same order all day, so pages stay put");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let html = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    let mut newest_first = sent.clone();
    newest_first.reverse();
    assert_eq!(texts(&html, "#inbox .c-unit"), newest_first, "the office reads them as they came");
}

/// Found by the observer review: a bulk change by unit, category or day showed leaders, live, exactly which
/// of the rows they see pooled (其他单位（合并）, 其他类别, no date) share that unit, category or day.
#[tokio::test]
async fn a_bulk_change_by_category_leaves_out_every_row_not_yet_released() {
    let app = TestApp::spawn().await;
    // Two units, five 党员 and five 群众 each: leaders see both categories on rows.
    for unit in ["sfs-hedong", "sfs-qingxi"] {
        for (category, i) in ["dy", "qz"].iter().flat_map(|c| (0..5).map(move |i| (*c, i))) {
            app.submit_as(unit, category, &format!("{unit} {category} 第 {i} 条"), 1).await;
        }
    }
    crate::helpers::a_week_passes(&app).await;
    let shown = leader_inbox_categories(&app).await;
    assert!(shown.contains("党员（含退休党员）") && shown.contains("社会群众"), "categories on rows: {shown:?}");
    // Waiting: four more 党员 and the unit's one 党员领导干部, whose arrival will pool 河东's categories (the
    // twenty-sixth session's review: marked the day before, the four told the head's row apart).
    for i in 0..4 {
        app.submit_as("sfs-hedong", "dy", &format!("河东 新的党员意见 {i}"), 1).await;
    }
    app.submit_as("sfs-hedong", "dyld", "河东 领导干部的意见", 1).await;
    // Ticked by hand under a unit filter (the verification review): analysts see each row's category.
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let html = analyst.get(app.url("/w/inbox?unit=sfs-hedong")).send().await.unwrap().text().await.unwrap();
    let rows = crate::helpers::attrs(&html, "#inbox input[name=ids]", "value");
    let texts_of = texts(&html, "#inbox tbody td.text");
    assert_eq!(rows.len(), texts_of.len(), "one text per ticked box");
    let party: Vec<String> = rows
        .iter()
        .zip(&texts_of)
        .filter(|(_, t)| t.contains("dy 第") || t.contains("新的党员"))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(party.len(), 9, "five released, four waiting");
    let mut body = vec![("_csrf", csrf), ("scope", "selected".into()), ("filter", "unit=sfs-hedong".into())];
    body.extend([("area", "6".to_owned()), ("action", "add".to_owned())]);
    body.extend(party.iter().map(|id| ("ids", id.clone())));
    let preview = analyst.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&preview, "#bulk-withheld strong"), ["4"], "ticked: the four waiting are left out");
    let preview = bulk_add_six(&app, "category=dy").await;
    assert_eq!(texts(&preview, "#bulk-withheld strong"), ["4"], "the four waiting 党员 rows are left out");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let html = analyst.get(app.url("/w/inbox?category=dy")).send().await.unwrap().text().await.unwrap();
    let areas = texts(&html, "#inbox tbody td.areas");
    assert_eq!((areas.len(), areas.iter().filter(|a| a.contains("6 ")).count()), (14, 10), "only the released changed");
}

/// The categories leaders' inbox rows show, in one string.
async fn leader_inbox_categories(app: &TestApp) -> String {
    let (leader, _) = app.login_as(Role::Leader).await;
    let html = leader.get(app.url("/w/inbox?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    texts(&html, "#inbox tbody td").join(" ")
}

#[tokio::test]
async fn a_bulk_change_by_unit_category_or_day_changes_no_row_whose_leaders_view_hides_it() {
    let app = TestApp::spawn().await;
    app.seed_small_units().await;
    let before = leader_inbox_areas(&app).await;
    assert_eq!(before.iter().filter(|(unit, ..)| unit == OTHER_UNITS).count(), 7);
    // The day the seeded responses were sent, in the bureau's time (a week and a day ago).
    let sent = (chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::days(8)).format("%Y-%m-%d");
    for (filter, withheld) in [
        ("unit=sfs-songling".to_owned(), "2"),
        ("category=sfs".to_owned(), "3"),
        // Leaders' released rows show no date at all.
        (format!("from={sent}&to={sent}"), "20"),
    ] {
        let preview = bulk_add_six(&app, &filter).await;
        assert_eq!(texts(&preview, "#bulk-withheld strong"), [withheld], "{filter}: left out, and why");
        let after = leader_inbox_areas(&app).await;
        let pooled =
            |rows: &[(String, String, String)]| rows.iter().filter(|r| r.0 == OTHER_UNITS).cloned().collect::<Vec<_>>();
        assert_eq!(pooled(&after), pooled(&before), "{filter}: no pooled row changes in leaders' eyes");
    }
    // Ticked under such a filter and put into a problem (the same form's other button): left out too, for a
    // problem quoting exactly them would tell it (the verification review).
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    for (filter, left_out) in [("unit=sfs-songling", true), ("unit=jg-bgs", false)] {
        let html = analyst.get(app.url(&format!("/w/inbox?{filter}"))).send().await.unwrap().text().await.unwrap();
        let ids = crate::helpers::attrs(&html, "#inbox input[name=ids]", "value");
        let mut body = vec![("_csrf", csrf.clone()), ("filter", filter.to_owned())];
        body.extend(ids.iter().map(|id| ("ids", id.clone())));
        let r = analyst.post(app.url("/w/problems/link")).form(&body).send().await.unwrap();
        let (status, page) = (r.status(), r.text().await.unwrap());
        if left_out {
            assert!(status == 400 && page.contains("小单元保护"), "{filter}: {status} {page}");
        } else {
            assert_eq!((status.as_u16(), texts(&page, "#link-withheld").len()), (200, 0), "{filter}");
        }
    }
    // Rows not yet released count by what leaders see now (the verification review: a small unit's rows,
    // changed while they waited, reached the pool a week later carrying the change).
    for i in 0..3 {
        app.submit_as("jg-xjk", "qz", &format!("jg-xjk 尚未纳入的第 {i} 条"), 1).await;
    }
    app.submit_as("jg-bgs", "qz", "jg-bgs 今天的一条", 1).await;
    let preview = bulk_add_six(&app, "unit=jg-xjk").await;
    assert_eq!(texts(&preview, "#bulk-withheld strong"), ["3"], "a unit leaders do not see yet is left out");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let html = analyst.get(app.url("/w/inbox?unit=jg-xjk")).send().await.unwrap().text().await.unwrap();
    let areas = texts(&html, "#inbox tbody td.areas");
    assert!(areas.len() == 3 && areas.iter().all(|a| !a.contains("6 ")), "unchanged: {areas:?}");
    // A unit leaders see by name is changed whole, today's row too: they learn nothing they did not see.
    bulk_add_six(&app, "unit=jg-bgs").await;
    let after = leader_inbox_areas(&app).await;
    let tagged = after.iter().filter(|(unit, _, areas)| unit == "局办公室" && areas.contains("6 ")).count();
    assert_eq!(tagged, 7, "the seven released");
    let html = analyst.get(app.url("/w/inbox?unit=jg-bgs")).send().await.unwrap().text().await.unwrap();
    let areas = texts(&html, "#inbox tbody td.areas");
    assert_eq!(areas.iter().filter(|a| a.contains("6 ")).count(), 8, "and today's, which leaders see tomorrow");
}
