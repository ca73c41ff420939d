//! Releases to leaders: views grow by none or at least k, dated by the release they show.

use super::*;

#[tokio::test]
async fn a_unit_grows_in_a_leaders_views_by_none_or_at_least_k_responses_never_by_one() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 会上第 {i} 条"), 1).await;
        app.submit_as("jg-zgk", "qz", &format!("jg-zgk 第一天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let first = leader_rows(&app).await;
    // The next day one member of 局办公室 fills in late; 政工科 sends five more.
    app.submit_as("jg-bgs", "qz", "jg-bgs 会后补交的一条", 2).await;
    for i in 0..5 {
        app.submit_as("jg-zgk", "qz", &format!("jg-zgk 第二天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let second = leader_rows(&app).await;
    for (surface, row) in &second {
        assert!(!row.iter().any(|c| c.contains("会后补交")), "{surface} shows the one late response: {row:?}");
    }
    assert_eq!(csv_texts_of(&second, "jg-zgk").len(), 10, "政工科's five new responses are shown");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let office = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(office.contains("会后补交的一条"), "the office sees it at once");
    let dashboard = analyst.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&dashboard, "#r-waiting"), ["1"], "and that one response waits for leaders");
    assert_eq!(texts(&dashboard, "#r-released"), ["15"]);
    // Four more of 局办公室 the day after: the five go out together.
    for i in 0..4 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 第三天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let third = leader_rows(&app).await;
    assert!(csv_texts_of(&third, "jg-bgs").contains("jg-bgs 会后补交的一条"), "shown with four others");

    let views = [&first, &second, &third];
    for (i, a) in views.iter().enumerate() {
        for b in &views[i + 1..] {
            for unit in ["jg-bgs", "jg-zgk"] {
                let (before, after) = (csv_texts_of(a, unit), csv_texts_of(b, unit));
                assert!(before.is_subset(&after), "{unit}: a row a leader saw is gone");
                let new = after.len() - before.len();
                assert!(new == 0 || new >= 5, "{unit} grew by {new} between two leader views: {:?}", &after - &before);
            }
        }
    }
}

#[tokio::test]
async fn while_a_release_fails_leaders_views_are_dated_by_the_release_they_show() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 第一天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let shown_day = wenji::domain::report::last_published_day(wenji::store::now_ms()).to_string();
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let note = |html: &str| texts(html, "#protection").concat();
    let dashboard = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(note(&dashboard).contains(&format!("截至 {shown_day} 24 时")), "{}", note(&dashboard));
    // A day later the release fails (a full disk): leaders still see the first day's, and are told so.
    for i in 0..5 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 第二天第 {i} 条"), 1).await;
    }
    crate::helpers::refuse_writes(&app, "leader_releases", "INSERT", Some("TRUE")).await;
    crate::helpers::a_day_passes(&app).await;
    let shown_day =
        (chrono::NaiveDate::parse_from_str(&shown_day, "%Y-%m-%d").unwrap() - chrono::Days::new(1)).to_string();
    for page in ["/w/dashboard", "/w/inbox"] {
        let html = leader.get(app.url(page)).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("第二天"), "{page} shows a response no release let go");
        assert!(
            note(&html).contains(&format!("截至 {shown_day} 24 时")),
            "{page} is dated by a release that failed: {}",
            note(&html)
        );
    }
    let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let (_, summary) = sheets(&xlsx).into_iter().next().unwrap();
    let range = summary.iter().find(|r| r[0] == "日期范围").expect("the summary names its dates");
    assert_eq!(range[1], format!("开始 至 {shown_day}"), "the workbook is dated by the release it shows");
}

#[tokio::test]
async fn instances_releasing_at_once_make_one_release_and_none_waits_for_another() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = TestApp::spawn().await;
    for i in 0..6 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 第 {i} 条"), 1).await;
        app.submit_as("jg-zgk", "qz", &format!("jg-zgk 第 {i} 条"), 2).await;
    }
    app.submit_opinion("没有单位的一条").await;
    crate::helpers::a_day_passes(&app).await;
    let cut = wenji::domain::report::published_until_ms(wenji::store::now_ms());
    if crate::helpers::is_postgres() {
        // Another instance is making the release (it holds the release's lock): this one shows the earlier
        // releases at once instead of waiting behind it.
        let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
        let holder = db.begin().await.unwrap();
        holder
            .execute_unprepared("SELECT pg_advisory_xact_lock(1464159826, hashtext(current_schema()))")
            .await
            .unwrap();
        let claim = format!(
            "INSERT INTO leader_releases (cut_ms, released, waiting, made_at, k, rules) VALUES ({cut}, 0, 0, 0, 5, 2)"
        );
        holder.execute_unprepared(&claim).await.unwrap();
        let made =
            tokio::time::timeout(std::time::Duration::from_secs(5), app.store().release_to_leaders(cut, 5)).await;
        made.expect("this instance waited behind the other's release").unwrap();
        assert_eq!(app.store().latest_release().await.unwrap(), None, "and left the release to it");
        holder.rollback().await.unwrap();
    }
    let instances: Vec<wenji::store::Store> = futures_util::future::join_all(
        (0..4).map(|_| async { wenji::store::Store::connect(&app.config.database_url).await.unwrap() }),
    )
    .await;
    futures_util::future::join_all(instances.iter().map(|s| s.release_to_leaders(cut, 5))).await;
    let release = app.store().latest_release().await.unwrap().expect("one release was made");
    assert_eq!((release.cut_ms, release.released, release.waiting), (cut, 12, 1), "each unit's six, once");
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await;
            row.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) AS n FROM leader_releases").await, 1);
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM responses WHERE released_at = (SELECT MAX(cut_ms) FROM leader_releases)")
            .await,
        12
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM opinions WHERE released_at IS NOT NULL").await,
        12,
        "opinions with them"
    );
}

#[tokio::test]
async fn a_category_that_reached_leaders_fewer_than_k_at_a_time_is_not_shown_on_its_units_rows() {
    let app = TestApp::spawn().await;
    // 局办公室: five 社会群众 and three from 司法所 on the first day (too few to show 司法所 on its rows).
    for i in 0..5 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 群众第 {i} 条"), 1).await;
    }
    for i in 0..3 {
        app.submit_as("jg-bgs", "sfs", &format!("jg-bgs 司法所早到第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let first = leader_rows(&app).await;
    // Two more from 司法所 and three 社会群众 the next day: 司法所 has five in all, but had it been shown now,
    // the three rows that read 其他类别 yesterday would be told apart.
    for i in 0..2 {
        app.submit_as("jg-bgs", "sfs", &format!("jg-bgs 司法所晚到第 {i} 条"), 1).await;
    }
    for i in 0..3 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 群众第二天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let second = leader_rows(&app).await;
    assert_eq!(csv_texts_of(&second, "jg-bgs").len(), 13, "all of 局办公室's responses are shown");
    for (surface, row) in first.iter().chain(&second) {
        if row.iter().any(|c| c.contains("司法所早到")) {
            assert!(
                !row.iter().any(|c| c == "乡镇（街道）司法所"),
                "{surface} tells the early rows' category: {row:?}"
            );
        }
    }
}

/// A restart with a smaller k keeps, in every view, the k releases were made with: what went out under 5
/// never reads finer. At k = 2 one batch of five (three from 司法所, two 党员领导干部) read 3 × 司法所,
/// telling a leader which two were not.
#[tokio::test]
async fn after_a_restart_with_a_smaller_k_leaders_views_keep_the_k_releases_were_made_with() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.submit_as("jg-bgs", "sfs", &format!("jg-bgs 司法所第 {i} 条"), 1).await;
    }
    for i in 0..2 {
        app.submit_as("jg-bgs", "dyld", &format!("jg-bgs 领导第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let note = |page: &str| texts(page, "#protection").concat();
    let page = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(note(&page).contains("新答卷满 5 份才一起纳入"), "{}", note(&page));
    for k in [2, 3] {
        let base = app.second_server_with(|s| s.small_cell_k = k).await;
        let page = leader.get(format!("{base}/w/dashboard")).send().await.unwrap().text().await.unwrap();
        let said = note(&page);
        assert!(said.contains("新答卷满 5 份才一起纳入") && said.contains("少于 5 份的单位"), "k = {k}: {said}");
        let inbox = leader.get(format!("{base}/w/inbox")).send().await.unwrap().text().await.unwrap();
        let csv = app.export_at(&base, &leader, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
        let xlsx = app.export_at(&base, &leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
        let raw: Vec<String> = sheets(&xlsx).into_iter().flat_map(|(_, rows)| rows.into_iter().flatten()).collect();
        for (surface, text) in [("inbox", inbox), ("CSV", String::from_utf8(csv).unwrap()), ("xlsx", raw.concat())] {
            assert!(!text.contains("乡镇（街道）司法所"), "k = {k}: the {surface} names the category: {text}");
        }
    }
}

/// Raising k mid-campaign protects what comes next. A unit leaders already read by name keeps it: pooled,
/// the rows they saw under its name would tell which of the pool's rows are its.
#[tokio::test]
async fn after_k_is_raised_a_unit_leaders_read_by_name_keeps_its_name() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 第一天第 {i} 条"), 1).await;
        app.submit_as("jg-zgk", "qz", &format!("jg-zgk 第一天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let units_of = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let [tr, unit, text] = ["#inbox tbody tr", ".c-unit", ".text"].map(|s| scraper::Selector::parse(s).unwrap());
        let cell = |row: scraper::ElementRef, s: &scraper::Selector| row.select(s).flat_map(|e| e.text()).collect();
        doc.select(&tr).map(|r| (cell(r, &text), cell(r, &unit))).collect::<Vec<(String, String)>>()
    };
    let named = |rows: &[(String, String)]| {
        rows.iter().all(|(text, unit)| {
            (text.starts_with("jg-bgs") && unit == "局办公室") || (text.starts_with("jg-zgk") && unit == "政工科")
        })
    };
    let before = units_of(&leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap());
    assert!(before.len() == 12 && named(&before), "k = 5: both units are named: {before:?}");
    let base = app.second_server_with(|s| s.small_cell_k = 8).await;
    let after = units_of(&leader.get(format!("{base}/w/inbox")).send().await.unwrap().text().await.unwrap());
    assert!(after.len() == 12 && named(&after), "k = 8: a unit leaders read by name was pooled: {after:?}");
    let csv = app.export_at(&base, &leader, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
    for row in csv::Reader::from_reader(csv.as_slice()).records().map(Result::unwrap) {
        let text = row.iter().find(|c| c.starts_with("jg-")).expect("each row carries its text");
        let unit = if text.starts_with("jg-bgs") { "局办公室" } else { "政工科" };
        assert!(row.iter().any(|c| c == unit), "k = 8: the CSV pools a unit leaders read by name: {row:?}");
    }
}

/// Leaders' pages decide their disclosure once per release (a scan of the form's respondents): after a new
/// release, an instance that served the last one shows the new units at once, as one that never served a
/// page decides them.
#[tokio::test]
async fn after_a_release_a_leaders_pages_show_its_units_at_once_as_a_fresh_instance_shows_them() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.submit_as("jg-bgs", "qz", &format!("jg-bgs 第一天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let page = |base: String, path: &'static str| {
        let leader = leader.clone();
        async move { leader.get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap() }
    };
    let units = |html: &str| texts(html, "#by-unit tbody td:first-child");
    let inbox_units = |html: &str| {
        let mut u = texts(html, "#inbox tbody .c-unit");
        u.sort();
        u.dedup();
        u
    };
    assert_eq!(units(&page(app.url(""), "/w/dashboard").await), ["局办公室"]);
    assert_eq!(inbox_units(&page(app.url(""), "/w/inbox").await), ["局办公室"]);
    // The next day 政工科 sends five: the next release names it.
    for i in 0..5 {
        app.submit_as("jg-zgk", "qz", &format!("jg-zgk 第二天第 {i} 条"), 1).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (dashboard, inbox) = (page(app.url(""), "/w/dashboard").await, page(app.url(""), "/w/inbox").await);
    assert_eq!(units(&dashboard), ["局办公室", "政工科"], "the dashboard shows the new release's unit");
    assert_eq!(inbox_units(&inbox), ["局办公室", "政工科"], "the inbox names the new release's unit");
    let fresh = app.second_server().await;
    assert_eq!(texts(&dashboard, "main *"), texts(&page(fresh.clone(), "/w/dashboard").await, "main *"));
    assert_eq!(texts(&inbox, "main *"), texts(&page(fresh, "/w/inbox").await, "main *"));
}
