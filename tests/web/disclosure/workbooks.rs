//! Leaders' workbooks, the CSV and `wenji export`: no sheet singles out a small unit; the office's
//! unprotected file is the administrator's alone.

use super::*;

#[tokio::test]
async fn no_sheet_of_a_leaders_workbook_and_no_csv_row_singles_out_a_unit_of_one_two_or_four() {
    let app = TestApp::spawn().await;
    let seeded = app.seed_small_units().await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let bytes = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let all = sheets(&bytes);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["汇总", "单位×领域", "类别×领域", "共现", "测评", "未归类", "原始数据", "说明"]
    {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    for (name, rows) in &all {
        let cells = rows
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.iter().filter(move |_| !(name == "汇总" && i == 1)).cloned().collect::<Vec<_>>());
        assert_nothing_singles_out(name, cells, &seeded);
    }
    let (_, units) = all.iter().find(|(n, _)| n == "单位×领域").unwrap();
    audit_unit_table(units);
    // Small units' opinions are there, but only under the pooled label, and undated.
    let mut quoted = 0;
    for (name, rows) in all.iter().filter(|(n, _)| n.starts_with(|c: char| c.is_ascii_digit())) {
        for r in rows.iter().skip(1).filter(|r| r[0].starts_with("sfs-")) {
            assert_eq!(r[2], OTHER_UNITS, "{name}: {r:?}");
            assert_eq!(r[4], "日期不显示", "no date: {r:?}");
            quoted += 1;
        }
    }
    assert_eq!(quoted, 7, "every small-unit opinion is quoted, unattributed");
    let (_, raw) = all.iter().find(|(n, _)| n == "原始数据").unwrap();
    assert!(!raw[0].iter().any(|h| h == "回执号" || h == "分析备注"), "no receipts or notes: {:?}", raw[0]);
    let (_, method) = all.iter().find(|(n, _)| n == "说明").unwrap();
    assert!(method.iter().flatten().any(|c| c.contains("防差分")), "说明 states the differencing rule");

    let csv = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
    let mut r = csv::Reader::from_reader(csv.as_slice());
    let headers = r.headers().unwrap().clone();
    let unit_col = headers.iter().position(|h| h == "单位").unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 20);
    assert_eq!(rows.iter().filter(|r| &r[unit_col] == OTHER_UNITS).count(), 7);
    assert_nothing_singles_out(
        "the CSV",
        rows.iter().flat_map(|r| r.iter().map(str::to_owned).collect::<Vec<_>>()),
        &seeded,
    );
}

/// The category × area table counts each opinion under the category its row shows. Counted by category
/// alone, it said 非党员干部职工 had 4 opinions in area 7 while area 7's sheet showed 政工科's four rows as
/// 其他类别: the join told those four apart from the unit's one other respondent, whose row it then placed.
#[tokio::test]
async fn the_category_table_counts_only_what_the_rows_show_so_joined_with_the_area_sheets_it_places_no_one() {
    let app = TestApp::spawn().await;
    // 政工科: four 非党员干部职工 (area 7), one 党员领导干部 (area 4); each under k there, so rows show 其他类别.
    for i in 0..4 {
        app.submit_as("jg-zgk", "fdy", &format!("政工科职工意见{i}：加班太多"), 7).await;
    }
    app.submit_as("jg-zgk", "dyld", "政工科：班子决策不听取意见", 4).await;
    // 非党员干部职工 reaches k elsewhere, so the category has a row of its own.
    for i in 0..5 {
        app.submit_as("sfs-songling", "fdy", &format!("松岭意见{i}：经费不足"), 2).await;
        app.submit_as("jg-bgs", "qz", &format!("群众意见{i}：窗口效率低"), 4).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let bytes = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let all = sheets(&bytes);
    let (_, table) = all.iter().find(|(n, _)| n == "类别×领域").unwrap();
    let shown: Vec<&Vec<String>> =
        table.iter().skip(2).filter(|r| r[0] != "合计" && r[0] != OTHER_CATEGORIES).collect();
    assert!(shown.iter().any(|r| r[0] == "非党员干部职工"), "{table:?}");
    for row in shown {
        for (j, area_sheet) in table[1].iter().enumerate().skip(2).take(8) {
            let (_, rows) = all.iter().find(|(n, _)| n == area_sheet).unwrap();
            let on_rows = rows.iter().skip(1).filter(|r| r[3] == row[0]).count();
            assert_eq!(row[j], on_rows.to_string(), "{} in {area_sheet}: more than its rows show", row[0]);
        }
    }
    // The dashboard's 按身份 too: 非党员干部职工 9 where rows show five would tell that four of 政工科's
    // 其他类别 rows are 非党员干部职工 (each respondent here sent one opinion, tagged with one area).
    let html = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    let cells = texts(&html, "#by-category td");
    assert!(cells.contains(&OTHER_CATEGORIES.to_owned()), "{cells:?}");
    for pair in cells.chunks(2) {
        let on_rows: usize = table[1]
            .iter()
            .skip(2)
            .take(8)
            .map(|area_sheet| {
                let (_, rows) = all.iter().find(|(n, _)| n == area_sheet).unwrap();
                rows.iter().skip(1).filter(|r| r[3] == pair[0]).count()
            })
            .sum();
        assert_eq!(pair[1], on_rows.to_string(), "the dashboard's {}: more than the rows show", pair[0]);
    }
}

/// A visit record names the unit visited and the day, and 座谈人数 1 names who was met: a leader's CSV and
/// workbook read the unit as the unit column would (these records come in without a unit, so 其他单位（合并）)
/// and the day as its month.
#[tokio::test]
async fn a_visit_records_unit_and_day_answers_are_generalised_for_leaders_like_the_rows_own() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        let unit = if i == 0 { "jg-bgs" } else { "sfs-songling" };
        let body = serde_json::json!({"category": "sfs", "answers": {
            "topic": "T1", "visited_unit": unit, "visit_date": "2026-11-03", "participants": 1 + i,
            "recorder": "记录员甲", "problems": format!("走访第{i}次：受访对象反映分管领导作风粗暴，工作推不动")}});
        let r = app.submit_json("zoufang", &format!("visit-record-{i:02}"), &body).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    crate::helpers::a_day_passes(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let csv = app.export_as(&leader, &csrf, &[("form", "zoufang"), ("format", "csv")]).await.unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(!csv.contains("局办公室") && !csv.contains("jg-bgs") && !csv.contains("2026-11-03"), "{csv}");
    // Leaders' rows show no date (released views, see decision 0001), so the visit's day shows nothing either.
    assert_eq!(csv.matches("2026年11月").count(), 0, "{csv}");
    let bytes = app.export_as(&leader, &csrf, &[("form", "zoufang"), ("format", "xlsx")]).await.unwrap();
    for (name, rows) in sheets(&bytes) {
        let cells = rows.concat().join("|");
        assert!(!cells.contains("局办公室") && !cells.contains("2026-11-03"), "{name}: {cells}");
    }
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let full = [("form", "zoufang"), ("format", "csv"), ("unprotected", "1")];
    let csv = String::from_utf8(app.export_as(&admin, &csrf, &full).await.unwrap()).unwrap();
    assert!(csv.contains("局办公室") && csv.contains("2026-11-03"), "the office's full data keeps them: {csv}");
}

#[tokio::test]
async fn a_leader_cannot_narrow_an_export_by_unit_or_date_so_nothing_can_be_subtracted() {
    let app = TestApp::spawn().await;
    app.seed_small_units().await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let today = chrono::Utc::now().date_naive().to_string();
    for (pairs, field) in [
        (vec![("unit", "sfs-qingxi")], "单位"),
        (vec![("from", "2026-01-01"), ("to", today.as_str())], "日期"),
        (vec![("from", today.as_str()), ("to", today.as_str())], "日期"),
        (vec![("form", "ceping")], "表单"),
    ] {
        let mut body = vec![("form", "zhengqiu"), ("format", "xlsx")];
        body.extend(pairs);
        let (status, html) = app.export_as(&leader, &csrf, &body).await.unwrap_err();
        assert_eq!(status, 400);
        let msg = texts(&html, "#export-error").join("");
        assert!(msg.contains(field) && msg.contains("相减"), "{field}: {msg}");
    }
}

#[tokio::test]
async fn a_form_with_fewer_than_k_respondents_shows_leaders_only_less_than_k() {
    let app = TestApp::spawn().await;
    let mut seeded = Seeded { receipts: Vec::new() };
    for i in 0..3 {
        seeded.receipts.push(app.submit_as("sfs-qingxi", "sfs", &format!("sfs-only {i}"), 1).await);
    }
    crate::helpers::a_day_passes(&app).await;
    // An analyst makes one of them a problem's supporting opinion: its quote must not reach leaders either.
    let (analyst, a_csrf) = app.login_as(Role::Analyst).await;
    let problem = crate::register::create_problem(&app, &analyst, &a_csrf, "调解回访不及时").await;
    let opinion = crate::workspace::opinion_id(&app, &seeded.receipts[0]).await;
    let (p, o) = (problem.to_string(), opinion.to_string());
    let linked =
        crate::register::post(&app, &analyst, &a_csrf, "/w/problems/link", &[("ids", &o), ("problem", &p)]).await;
    assert_eq!(linked.0, 303, "{}", linked.1);
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let page = leader.get(app.url("/w/problems")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("调解回访不及时") && !page.contains("sfs-only"), "the problems page quotes it");
    let bytes = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let all = sheets(&bytes);
    assert!(all.iter().any(|(n, rows)| n == "问题清单" && rows.iter().flatten().any(|c| c == "调解回访不及时")));
    for (name, rows) in &all {
        assert!(!rows.iter().flatten().any(|c| c.contains("sfs-only")), "{name} quotes an opinion");
        assert_nothing_singles_out(
            name,
            rows.iter().skip(if name == "汇总" { 2 } else { 0 }).flatten().cloned(),
            &seeded,
        );
    }
    let (_, summary) = all.iter().find(|(n, _)| n == "汇总").unwrap();
    let total = summary.iter().find(|r| r[0] == "答卷总数").unwrap();
    assert_eq!(total[1], "<5");
    assert!(!summary.iter().any(|r| r[0] == "意见与分组"), "no count of opinions or groups either");
    let html = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&html, "#protection").join("").contains("<5"));
    assert!(texts(&html, "#by-unit td").is_empty());
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&html, "#inbox tbody tr").is_empty());
}

#[tokio::test]
async fn an_admins_unprotected_export_works_warns_and_is_audited_and_a_leader_can_neither_ask_nor_fetch_it() {
    let app = TestApp::spawn().await;
    let seeded = app.seed_small_units().await;
    let (admin, acsrf) = app.login_as(Role::Admin).await;
    let page = admin.get(app.url("/w/exports")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#unprotected-warning").join("").contains("不得交给领导"));
    let full = [("form", "zhengqiu"), ("format", "xlsx"), ("unprotected", "1"), ("unit", "sfs-qingxi")];
    let bytes = app.export_as(&admin, &acsrf, &full).await.unwrap();
    let cells: Vec<String> = sheets(&bytes).into_iter().flat_map(|(_, r)| r.into_iter().flatten()).collect();
    assert!(cells.iter().any(|c| c == "清溪镇司法所"), "the full file names every unit");
    assert!(cells.iter().any(|c| c == &seeded.receipts[13]), "and carries receipts");
    let job_page = admin.get(app.url("/w/exports/1")).send().await.unwrap().text().await.unwrap();
    assert!(!texts(&job_page, "#unprotected-warning").is_empty(), "the job page warns");
    let audit = app.store().audit_entries(Some("export_unprotected"), None, None, 10).await.unwrap();
    assert_eq!(audit.len(), 1, "the request is in the audit log");

    let (leader, lcsrf) = app.login_as(Role::Leader).await;
    let (status, _) = app.export_as(&leader, &lcsrf, &full[..3]).await.unwrap_err();
    assert_eq!(status, 403, "a leader cannot ask for the full file");
    // Someone else's job answers exactly as one that does not exist: a leader cannot count the office's.
    for path in ["/w/exports/1", "/w/exports/1/download"] {
        let theirs = leader.get(app.url(path)).send().await.unwrap();
        let none = leader.get(app.url(&path.replace("/1", "/99"))).send().await.unwrap();
        assert_eq!((theirs.status().as_u16(), none.status().as_u16()), (404, 404), "{path}");
        assert_eq!(texts(&theirs.text().await.unwrap(), "main"), texts(&none.text().await.unwrap(), "main"), "{path}");
    }
    let list = leader.get(app.url("/w/exports")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&list, "#jobs tbody tr").is_empty(), "the admin's full file is not listed for leaders");
    assert!(texts(&list, "#unprotected").is_empty(), "no checkbox for leaders");
}

#[tokio::test]
async fn wenji_export_is_protected_by_default_and_the_unprotected_flag_is_audited() {
    let app = TestApp::spawn().await;
    let seeded = app.seed_small_units().await;
    // Off the runtime's thread (`run_cli`): a blocking wait here stalled the server mid-transaction.
    let out = app.dir.path().join("default.csv");
    let o = app.run_cli(&["export", "--form", "zhengqiu", "--format", "csv", "--out", out.to_str().unwrap()]).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_nothing_singles_out("the CLI's CSV", text.lines().map(str::to_owned), &seeded);
    let refused = app.dir.path().join("refused.csv");
    let o = app
        .run_cli(&[
            "export",
            "--form",
            "zhengqiu",
            "--format",
            "csv",
            "--unit",
            "sfs-qingxi",
            "--out",
            refused.to_str().unwrap(),
        ])
        .await;
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("单位："), "the refusal names the field");
    let full = app.dir.path().join("full.csv");
    let o = app
        .run_cli(&["export", "--form", "zhengqiu", "--format", "csv", "--unprotected", "--out", full.to_str().unwrap()])
        .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("警告"), "the flag warns");
    assert!(std::fs::read_to_string(&full).unwrap().contains("清溪镇司法所"));
    let audit = app.store().audit_entries(Some("export_unprotected"), None, None, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn a_file_exported_before_the_policy_is_shown_to_admins_only() {
    let app = TestApp::spawn().await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let who =
        app.store().create_user("old-leader", "old-leader", Role::Leader, "x", &Actor::system("test")).await.unwrap();
    // The parameters as jobs stored them before issue 17: no `unprotected` field.
    let old = r#"{"scope":{"forms":["zhengqiu"],"from":null,"to":null,"units":["sfs-qingxi"]},"format":"csv","small_cell_k":5,"generated_at":0}"#;
    let job = app
        .store()
        .create_export_job(
            "csv",
            old,
            &Actor::staff(who.id, "test"),
            false,
            wenji::store::export_jobs::JobCaps { per_user: u64::MAX, overall: u64::MAX },
        )
        .await
        .unwrap()
        .started()
        .unwrap();
    app.store().finish_export_job(job.id, &format!("{}-old.csv", job.id), 0).await.unwrap();
    assert_eq!(leader.get(app.url(&format!("/w/exports/{}", job.id))).send().await.unwrap().status(), 404);
    assert_eq!(leader.get(app.url(&format!("/w/exports/{}/download", job.id))).send().await.unwrap().status(), 404);
    assert_eq!(admin.get(app.url(&format!("/w/exports/{}", job.id))).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn appraisal_results_per_unit_follow_the_same_rule() {
    let app = TestApp::spawn().await;
    for (code, _, n, _) in PLAN {
        for _ in 0..*n {
            // The small units rate 差 (4), the large ones 好 (1).
            app.appraise_as(code, if code.starts_with("sfs") { "4" } else { "1" }).await;
        }
    }
    crate::helpers::a_week_passes(&app).await;
    let rows_of = |bytes: &[u8]| sheets(bytes).into_iter().find(|(n, _)| n == "测评").unwrap().1;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let bytes = app.export_as(&leader, &csrf, &[("form", "ceping"), ("format", "xlsx")]).await.unwrap();
    let rows = rows_of(&bytes);
    let seeded = Seeded { receipts: Vec::new() };
    assert_nothing_singles_out("测评", rows.iter().flatten().cloned(), &seeded);
    let by_unit: Vec<&Vec<String>> = rows.iter().filter(|r| r.len() > 5 && r[1] == "理论学习").collect();
    let labels: Vec<&str> = by_unit.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(labels, ["局办公室", "政工科", OTHER_UNITS], "per-unit blocks: shown units, then the pool");
    assert_eq!(by_unit[2][5], "7", "the pooled units' 7 差 ratings, not per unit");
    // The overall rating (总体评价, a rating question) is counted beside the areas, under the same rule
    // (found by the domain review: the headline figure of an appraisal was in no table).
    let overall = rows.iter().find(|r| r[0] == "总体评价").expect("a 总体评价 row");
    assert_eq!(overall[1..6], ["13", "0", "0", "7", "20"], "好 13, 差 7, of 20");
    let pooled = rows.iter().find(|r| r[0] == OTHER_UNITS && r[1] == "总体评价").expect("its pooled block");
    assert_eq!(pooled[5], "7");

    let (admin, acsrf) = app.login_as(Role::Admin).await;
    let full = [("form", "ceping"), ("format", "xlsx"), ("unprotected", "1")];
    let rows = rows_of(&app.export_as(&admin, &acsrf, &full).await.unwrap());
    assert!(
        rows.iter().any(|r| r[0] == "清溪镇司法所" && r[1] == "理论学习" && r[5] == "1"),
        "the office sees each unit"
    );
}
