//! Forms reloaded inside a release: nothing marks the rows sent after the reload.

use super::*;

#[tokio::test]
async fn a_label_renamed_by_a_reload_does_not_mark_the_rows_sent_after_it() {
    let app = TestApp::spawn().await;
    for i in 0..4 {
        app.submit_as("jg-bgs", "qz", &format!("会前第 {i} 条"), 1).await;
    }
    // The office renames one grade of the overall rating; one more of the unit answers afterwards.
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let renamed = r#"scale = ["好", "比较好", "一般", "差"]"#;
    std::fs::write(&path, text.replacen(r#"scale = ["好", "较好", "一般", "差"]"#, renamed, 1)).unwrap();
    let (admin, acsrf) = app.login_as(Role::Admin).await;
    let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", acsrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.submit_as("jg-bgs", "qz", "会后补交的一条", 1).await;
    crate::helpers::a_day_passes(&app).await;
    // The five go out together; every row reads the grade under one label, the newest.
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let csv = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.matches("比较好").count(), 5, "{csv}");
    let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let (_, raw) = sheets(&xlsx).into_iter().find(|(n, _)| n == "原始数据").unwrap();
    let cells: Vec<&String> = raw.iter().flatten().filter(|c| c.contains("较好")).collect();
    assert_eq!(cells.len(), 5, "{raw:?}");
    assert!(cells.iter().all(|c| c.as_str() == "比较好"), "{cells:?}");
    // The office's full file keeps each row as its writer saw it.
    let full = [("form", "zhengqiu"), ("format", "csv"), ("unprotected", "1")];
    let csv = String::from_utf8(app.export_as(&admin, &acsrf, &full).await.unwrap()).unwrap();
    assert_eq!((csv.matches(",\"较好\"").count(), csv.matches("比较好").count()), (4, 1), "{csv}");
}

/// The 测评 sheet counts what the raw rows show: a matrix question a reload added is counted for none of the
/// batch it was asked unevenly in, and a row a reload renamed is counted under its newest label for all. The
/// late appraisal's grades read alone under the new question (局长 差 1), and the renamed row split off as
/// 学习理论 一般 1 beside 理论学习 好 4, marking the one late row of the raw sheet.
#[tokio::test]
async fn a_reload_does_not_mark_the_late_rows_in_the_appraisal_sheet() {
    let app = TestApp::spawn().await;
    for _ in 0..4 {
        app.appraise_as("jg-bgs", "1").await;
    }
    let areas = app.config.forms_dir.join("areas.toml");
    let text = std::fs::read_to_string(&areas).unwrap();
    std::fs::write(&areas, text.replacen("name = \"理论学习\"", "name = \"学习理论\"", 1)).unwrap();
    let ceping = app.config.forms_dir.join("minzhu-ceping.toml");
    let text = std::fs::read_to_string(&ceping).unwrap();
    let members = "[[question]]\nid = \"members\"\nkind = \"matrix\"\ntitle = \"对班子成员的评价\"\n\
                   rows = [\n  { code = \"m1\", label = \"局长\" },\n]\nscale = [\"好\", \"较好\", \"一般\", \"差\"]\n\n\
                   [[question]]\nid = \"overall\"";
    std::fs::write(&ceping, text.replacen("[[question]]\nid = \"overall\"", members, 1)).unwrap();
    let (admin, acsrf) = app.login_as(Role::Admin).await;
    let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", acsrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let link = app.store().create_link("ceping", "jg-bgs", None, "test", &Actor::system("test")).await.unwrap();
    let t = app.state.secret.link_token(link.id, "ceping", "jg-bgs", None);
    let rows: Vec<String> = (1..=8).map(|a| format!("q_appraisal.a{a}")).collect();
    let mut late = vec![("_t", t.as_str()), ("_category", "jcdw"), ("q_overall", "1"), ("q_members.m1", "4")];
    late.extend(rows.iter().map(|r| (r.as_str(), if r.ends_with("a1") { "3" } else { "1" })));
    assert_eq!(app.post_form("ceping", &late).await.status(), 303);
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let bytes = app.export_as(&leader, &csrf, &[("form", "ceping"), ("format", "xlsx")]).await.unwrap();
    let (_, appraisal) = sheets(&bytes).into_iter().find(|(n, _)| n == "测评").unwrap();
    let cells: Vec<&String> = appraisal.iter().flatten().collect();
    assert!(!cells.iter().any(|c| c.contains("局长")), "the new question is counted for none: {appraisal:?}");
    assert!(!cells.iter().any(|c| c.as_str() == "理论学习"), "one label for the renamed row: {appraisal:?}");
    let renamed: Vec<&Vec<String>> = appraisal.iter().filter(|r| r.first().is_some_and(|c| c == "学习理论")).collect();
    assert_eq!(renamed.len(), 1, "{appraisal:?}");
    assert_eq!(renamed[0][1..6], ["4", "0", "1", "0", "5"], "all five under the newest label: {appraisal:?}");
    // The office's full file counts every answer as its sender saw the form.
    let full = [("form", "ceping"), ("format", "xlsx"), ("unprotected", "1")];
    let (_, office) =
        sheets(&app.export_as(&admin, &acsrf, &full).await.unwrap()).into_iter().find(|(n, _)| n == "测评").unwrap();
    assert!(office.iter().flatten().any(|c| c == "局长"), "{office:?}");
}

#[tokio::test]
async fn a_question_added_by_a_reload_does_not_mark_the_rows_sent_after_it() {
    let app = TestApp::spawn().await;
    for i in 0..4 {
        app.submit_as("jg-bgs", "qz", &format!("会前第 {i} 条"), 1).await;
    }
    // The office adds a question; one more of the unit answers it, and their batch of five goes out.
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let added = "[[question]]\nid = \"heard\"\nkind = \"single_choice\"\ntitle = \"是否听说过本次活动\"\n\
                 choices = [\n  { code = \"y\", label = \"听说过\" },\n  { code = \"n\", label = \"未听说\" },\n]\n\n\
                 [[question]]\nid = \"extra\"\nkind = \"long_text\"\ntitle = \"补充意见（新增）\"\n\
                 max_length = 500\nopinion = true\n\n[[question]]\nid = \"phone\"";
    std::fs::write(&path, text.replacen("[[question]]\nid = \"phone\"", added, 1)).unwrap();
    let (admin, acsrf) = app.login_as(Role::Admin).await;
    let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", acsrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.submit_as_with("jg-bgs", "qz", "会后补交的一条", 1, &[("q_heard", "n"), ("q_extra", "会后补充：食堂太贵")])
        .await;
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let leader_csv = || async {
        let csv = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
        String::from_utf8(csv).unwrap()
    };
    // In that batch no row reads the new question's answer: it is withheld from all five alike.
    let csv = leader_csv().await;
    assert!(csv.contains("是否听说过本次活动"), "{csv}");
    assert!(!csv.contains("未听说"), "{csv}");
    assert_eq!(
        csv.matches(wenji::domain::report::raw::ASKED_UNEVENLY).count(),
        15,
        "the choice's label and code and the new opinion, on five rows: {csv}"
    );
    let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let all = sheets(&xlsx);
    let (_, raw) = all.iter().find(|(n, _)| n == "原始数据").unwrap();
    assert!(!raw.iter().flatten().any(|c| c.contains("未听说")), "{raw:?}");
    // Nor its title, nor (below) its answer as an opinion.
    for (name, rows) in all.iter().filter(|(n, _)| n != "原始数据") {
        assert!(!rows.iter().flatten().any(|c| c.contains("补充意见（新增）")), "{name}: {rows:?}");
    }
    // Nor does its answer reach leaders as an opinion: beside the raw rows' texts it would be the late
    // rows' own (one known person's, when one came late). The office reads it and may link it.
    let late = "会后补充：食堂太贵";
    let leader_reads = || async {
        let inbox = leader.get(app.url("/w/inbox?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
        let csv = leader_csv().await;
        let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
        let all = sheets(&xlsx);
        // Counted nowhere either: 汇总's total (and with it 单位×领域) read the same opinions.
        let summary = &all.iter().find(|(n, _)| n == "汇总").unwrap().1;
        let total = summary.iter().find(|r| r.first().is_some_and(|c| c == "意见总数")).map(|r| r[1].clone());
        let cells: Vec<String> = all.into_iter().flat_map(|(_, rows)| rows).flatten().collect();
        let shown = (inbox.contains(late), csv.contains(late), cells.iter().any(|c| c.contains(late)));
        (shown, total)
    };
    let hidden = ((false, false, false), Some("5".to_owned()));
    assert_eq!(leader_reads().await, hidden, "inbox, CSV, workbook; the five rows' opinions counted");
    let office = admin.get(app.url("/w/inbox?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(office.contains(late), "{office}");
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let sql = |q: &str| sea_orm::Statement::from_string(db.get_database_backend(), q);
    let row = db.query_one_raw(sql("SELECT id FROM opinions WHERE question_id = 'extra'")).await.unwrap().unwrap();
    let withheld = row.try_get::<i64>("", "id").unwrap().to_string();
    let (analyst, a_csrf) = app.login_as(Role::Analyst).await;
    let problem = crate::register::create_problem(&app, &analyst, &a_csrf, "食堂").await.to_string();
    let ids = [("ids", withheld.as_str()), ("problem", problem.as_str())];
    assert_eq!(crate::register::post(&app, &analyst, &a_csrf, "/w/problems/link", &ids).await.0, 303);
    let page = leader.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(late) && texts(&page, "#opinions") == ["0"], "{page}");
    // A release made before this rule (the opinion went out with its batch) is mended when a server starts.
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "UPDATE opinions SET released_at = (SELECT r.released_at FROM responses r WHERE r.id = opinions.response_id) \
         WHERE released_at IS NULL",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    assert!(leader_reads().await.0.0, "as an older build left it");
    app.second_server().await;
    assert_eq!(leader_reads().await, hidden, "mended at start");
    // A batch sent wholly after the reload shows the answers.
    for i in 0..5 {
        app.submit_as_with("jg-bgs", "qz", &format!("会后第 {i} 条"), 1, &[("q_heard", "n")]).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let csv = leader_csv().await;
    assert_eq!(csv.matches("未听说").count(), 5, "{csv}");
    // The office's full file keeps every answer.
    let full = [("form", "zhengqiu"), ("format", "csv"), ("unprotected", "1")];
    let csv = String::from_utf8(app.export_as(&admin, &acsrf, &full).await.unwrap()).unwrap();
    assert_eq!(csv.matches("未听说").count(), 6, "{csv}");
}
