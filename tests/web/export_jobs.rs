//! Managing export jobs: only a job's creator and administrators may see or download it, concurrent
//! jobs are capped per person and overall (429 with a message and `Retry-After`), finished files are
//! deleted after the retention period, and a job whose end the database refuses for a while still ends.

use crate::helpers::{PASSWORD, TestApp, refuse_writes, texts};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wenji::domain::user::Role;
use wenji::store::audit::Actor;
use wenji::web::workspace::exports::{JOBS_OVERALL, JOBS_PER_USER};

/// A signed-in client of a new account named `name`, its CSRF token and its user id.
async fn staff(app: &TestApp, name: &str, role: Role) -> (reqwest::Client, String, i64) {
    app.create_user(name, role).await;
    let (c, csrf) = app.login(name, PASSWORD).await;
    let id = app.store().user_by_name(name).await.unwrap().unwrap().id;
    (c, csrf, id)
}

/// A queued job of `by`'s, made directly in the store (no server runs it).
async fn queued_job(app: &TestApp, by: &Actor) -> i64 {
    let uncapped = wenji::store::export_jobs::JobCaps { per_user: u64::MAX, overall: u64::MAX };
    app.store().create_export_job("csv", "{}", by, false, uncapped).await.unwrap().started().unwrap().id
}

async fn start_export(app: &TestApp, c: &reqwest::Client, csrf: &str) -> reqwest::Response {
    c.post(app.url("/w/exports"))
        .form(&[("_csrf", csrf), ("form", "zhengqiu"), ("format", "csv")])
        .send()
        .await
        .unwrap()
}

/// Starts a CSV export and waits until it is done; returns the job's page path.
async fn finished_export(app: &TestApp, c: &reqwest::Client, csrf: &str) -> String {
    finished_job(app, c, csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.0
}

/// Starts an export with `pairs` and waits until it is done; returns the job's page path and the page.
async fn finished_job(app: &TestApp, c: &reqwest::Client, csrf: &str, pairs: &[(&str, &str)]) -> (String, String) {
    let mut body = vec![("_csrf", csrf)];
    body.extend_from_slice(pairs);
    let r = c.post(app.url("/w/exports")).form(&body).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    for _ in 0..200 {
        let page = c.get(app.url(&job)).send().await.unwrap().text().await.unwrap();
        if !texts(&page, "#download").is_empty() {
            return (job, page);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = c.get(app.url(&job)).send().await.unwrap().text().await.unwrap();
    panic!("the export did not finish: {page}");
}

#[tokio::test]
async fn a_leader_cannot_see_or_download_another_leaders_export_while_its_creator_and_admins_can() {
    let app = TestApp::spawn().await;
    app.submit_opinion("导出权限测试意见").await;
    let (owner, csrf, _) = staff(&app, "liu.leader", Role::Leader).await;
    let (other, _, _) = staff(&app, "ma.leader", Role::Leader).await;
    let (admin, _, _) = staff(&app, "qin.admin", Role::Admin).await;
    let job = finished_export(&app, &owner, &csrf).await;
    let download = format!("{job}/download");
    for path in [&job, &download] {
        assert_eq!(other.get(app.url(path)).send().await.unwrap().status(), 404, "another leader: {path}");
        assert_eq!(owner.get(app.url(path)).send().await.unwrap().status(), 200, "its creator: {path}");
        assert_eq!(admin.get(app.url(path)).send().await.unwrap().status(), 200, "an administrator: {path}");
    }
    let link = format!("a[href=\"{download}\"]");
    let listed = |html: &str| !texts(html, &link).is_empty();
    let page = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url("/w/exports");
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(!listed(&page(&other).await), "another leader's list does not show it");
    assert!(listed(&page(&owner).await) && listed(&page(&admin).await));
}

#[tokio::test]
async fn exports_beyond_the_per_person_and_overall_caps_are_refused_with_a_message_and_retry_after() {
    let app = TestApp::spawn().await;
    let (busy, csrf, busy_id) = staff(&app, "tang.leader", Role::Leader).await;
    // Jobs still queued (as if running): the caps count them.
    for _ in 0..JOBS_PER_USER {
        queued_job(&app, &Actor::staff(busy_id, "test")).await;
    }
    let r = start_export(&app, &busy, &csrf).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");
    let message = texts(&r.text().await.unwrap(), "#export-error").join("");
    assert!(message.contains("正在进行"), "{message}");

    let (idle, icsrf, idle_id) = staff(&app, "song.leader", Role::Leader).await;
    let (_, _, others) = staff(&app, "yuan.admin", Role::Admin).await;
    for _ in JOBS_PER_USER..JOBS_OVERALL {
        queued_job(&app, &Actor::staff(others, "test")).await;
    }
    let r = start_export(&app, &idle, &icsrf).await;
    assert_eq!(r.status(), 429, "the overall cap holds for someone with no job of their own");
    let message = texts(&r.text().await.unwrap(), "#export-error").join("");
    assert!(message.contains("较多"), "{message}");
    assert_eq!(app.store().active_export_jobs(Some(idle_id)).await.unwrap(), 0, "nothing was queued");
}

#[tokio::test]
async fn finished_export_files_are_deleted_after_the_retention_period() {
    let app = TestApp::spawn_with(|s| s.export_retention = Duration::from_secs(1)).await;
    app.submit_opinion("保留期限测试意见").await;
    let (c, csrf, _) = staff(&app, "he.leader", Role::Leader).await;
    let job = finished_export(&app, &c, &csrf).await;
    let files = || std::fs::read_dir(&app.config.exports_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files(), 1, "the export wrote its file");
    let deadline = Instant::now() + Duration::from_secs(15);
    while files() > 0 {
        assert!(Instant::now() < deadline, "the file outlived its retention");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The job stays listed, saying what happened (the file goes first, then the job is told), with no
    // download link.
    let page = loop {
        let page = c.get(app.url(&job)).send().await.unwrap().text().await.unwrap();
        if texts(&page, ".error-summary").join("").contains("保留期限") {
            break page;
        }
        assert!(Instant::now() < deadline, "the job never said its file was deleted: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(texts(&page, "#download").is_empty());
    // Its download link, bookmarked, says the file is gone rather than "not finished yet".
    let r = c.get(app.url(&format!("{job}/download"))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("文件已过保留期限并已删除"));
}

/// The finished page of an export with `pairs`.
async fn finished_page(app: &TestApp, c: &reqwest::Client, csrf: &str, pairs: &[(&str, &str)]) -> String {
    finished_job(app, c, csrf, pairs).await.1
}

#[tokio::test]
async fn a_finished_export_shows_the_rows_it_read_and_none_under_k_for_leaders() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        app.submit_opinion(&format!("导出行数测试意见{i}")).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let (admin, acsrf, _) = staff(&app, "lu.admin", Role::Admin).await;
    let full = [("form", "zhengqiu"), ("format", "csv"), ("unprotected", "1")];
    let rows = texts(&finished_page(&app, &admin, &acsrf, &full).await, "#job-rows").join("");
    assert!(rows.contains("共处理 6 条记录"), "six responses, one CSV row each: {rows}");
    // An unticked box sent as 0 asks for the protected file (any value asked for the full one).
    let unticked = [("form", "zhengqiu"), ("format", "csv"), ("unprotected", "0")];
    let page = finished_page(&app, &admin, &acsrf, &unticked).await;
    assert!(texts(&page, "#unprotected-warning").is_empty(), "{page}");

    let (leader, lcsrf, _) = staff(&app, "pan.leader", Role::Leader).await;
    let protected = [("form", "zhengqiu"), ("format", "csv")];
    let rows = texts(&finished_page(&app, &leader, &lcsrf, &protected).await, "#job-rows").join("");
    assert!(rows.contains("共处理 6 条记录"), "six responses pass k = 5: {rows}");
    let (few, fcsrf, _) = staff(&app, "jin.leader", Role::Leader).await;
    let other = [("form", "ceping"), ("format", "csv")];
    let rows = texts(&finished_page(&app, &few, &fcsrf, &other).await, "#job-rows").join("");
    assert!(rows.contains("<5") && !rows.contains("行"), "a form under k shows no count: {rows}");
}

#[tokio::test]
async fn the_export_form_starts_with_the_busiest_form_ticked_so_a_first_click_exports_it() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.submit_opinion(&format!("导出页默认表单测试意见 {i}")).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let ticked = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let sel = scraper::Selector::parse("input[name=form][checked]").unwrap();
        doc.select(&sel).map(|e| e.value().attr("value").unwrap_or_default().to_owned()).collect::<Vec<_>>()
    };
    let all = |html: &str| texts(html, "input[name=form]").len();
    for (name, role) in [("shi.leader", Role::Leader), ("lin.admin", Role::Admin)] {
        let (c, csrf, _) = staff(&app, name, role).await;
        let page = c.get(app.url("/w/exports")).send().await.unwrap().text().await.unwrap();
        assert!(all(&page) > 1, "the test catalogue has several forms");
        assert_eq!(ticked(&page), ["zhengqiu"], "{name}: the form with responses, alone (not the first listed)");
        assert!(texts(&page, "#form-choice-help").join("").contains("答卷最多的表单"));
        // The page's defaults, sent as they are, start an export (all forms ticked were refused for admins).
        let r = c
            .post(app.url("/w/exports"))
            .form(&[("_csrf", csrf.as_str()), ("form", "zhengqiu"), ("format", "xlsx")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{name}");
    }
}

/// Makes the database refuse to record any export's end (done or failed), or takes that back.
async fn export_ends_refused(app: &TestApp, refuse: bool) {
    refuse_writes(app, "export_jobs", "UPDATE", refuse.then_some("NEW.status IN ('done', 'failed')")).await;
}

#[tokio::test]
async fn an_export_whose_end_the_database_refuses_for_a_while_ends_once_it_is_taken() {
    let app = TestApp::spawn().await;
    app.submit_opinion("导出结束记录测试意见").await;
    let (c, csrf, id) = staff(&app, "tang.leader", Role::Leader).await;
    export_ends_refused(&app, true).await;
    let r = start_export(&app, &c, &csrf).await;
    assert_eq!(r.status(), 303);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = c.get(app.url(&job)).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#download").is_empty(), "no end could be stored yet");
    assert_eq!(app.store().active_export_jobs(Some(id)).await.unwrap(), 1);
    // The disk has room again: the end is stored without a restart and the slot is free.
    export_ends_refused(&app, false).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = c.get(app.url(&job)).send().await.unwrap().text().await.unwrap();
        if !texts(&page, "#download").is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the export never ended: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.get(app.url(&format!("{job}/download"))).send().await.unwrap().status(), 200);
    assert_eq!(app.store().active_export_jobs(Some(id)).await.unwrap(), 0, "the creator's slot is free");
}

#[tokio::test]
async fn a_starting_server_fails_the_export_jobs_no_server_runs_and_leaves_those_another_is_running() {
    use wenji::store::export_jobs::JobStatus;
    let app = TestApp::spawn().await;
    let (_, _, id) = staff(&app, "xu.leader", Role::Leader).await;
    let by = Actor::staff(id, "xu.leader");
    let running = queued_job(&app, &by).await;
    let stopped = queued_job(&app, &by).await;
    // The first one's server is alive and writing progress; the second one's stopped a minute ago.
    app.store().set_export_progress(running, 10, 100).await.unwrap();
    app.store().set_export_progress(stopped, 10, 100).await.unwrap();
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let a_minute_ago = chrono::Utc::now().timestamp_millis() - 60_000;
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!("UPDATE export_jobs SET heartbeat_at = {a_minute_ago} WHERE id = {stopped}"),
    )
    .await
    .unwrap();
    app.second_server().await;
    let (running, stopped) =
        (app.store().export_job(running).await.unwrap(), app.store().export_job(stopped).await.unwrap());
    assert_eq!(running.status, JobStatus::Running, "another instance's export is left running");
    assert_eq!(stopped.status, JobStatus::Failed, "an export nobody runs is failed");
    assert!(stopped.error.unwrap_or_default().contains("重新导出"));
}

#[tokio::test]
async fn files_no_job_can_offer_are_deleted_and_every_other_file_kept() {
    use wenji::store::export_jobs::JobStatus;
    let app = TestApp::spawn().await;
    app.submit_opinion("遗留文件清理测试意见").await;
    let (c, csrf, id) = staff(&app, "lu.leader", Role::Leader).await;
    let finished = finished_export(&app, &c, &csrf).await;
    let done_id: i64 = finished.rsplit('/').next().unwrap().parse().unwrap();
    let by = Actor::staff(id, "lu.leader");
    // Jobs with the finished one's parameters: one still running, one that failed (its server stopped).
    let done = app.store().export_job(done_id).await.unwrap();
    let uncapped = wenji::store::export_jobs::JobCaps { per_user: u64::MAX, overall: u64::MAX };
    let mut same = Vec::new();
    for _ in 0..2 {
        let job = app.store().create_export_job("csv", &done.params, &by, false, uncapped).await.unwrap();
        same.push(job.started().unwrap().id);
    }
    let [running, failed] = same[..] else { unreachable!() };
    app.store().fail_export_job(failed, "test").await.unwrap();
    let named = |id: i64| done.file_name.clone().unwrap().replacen(&format!("{done_id}-"), &format!("{id}-"), 1);
    let dir = &app.config.exports_dir;
    let done_file = done.file_name.clone().unwrap();
    let files = [
        (format!("{}.part", named(running)), true),
        (format!("{}.part", named(failed)), false),
        (named(failed), false),
        (format!("{done_file}.part"), false),
        // Named under a form title since changed by a reload: still the job's.
        (named(failed).replacen("分析检查阶段征求意见表", "征求意见表（修订）", 1), false),
        // Files of the command line, an operator's backups and copies, whatever number they begin with.
        (format!("{done_id}-旧名.csv"), true),
        (format!("{failed}-办公室留存.xlsx"), true),
        ("999999-无主.xlsx".to_owned(), true),
        ("2026-12-07.db".to_owned(), true),
        ("2026-12-07-全量.xlsx".to_owned(), true),
        ("分析检查阶段征求意见表-2026-12-04-1000.xlsx".to_owned(), true),
        ("link-1.svg".to_owned(), true),
    ];
    for (name, _) in &files {
        std::fs::write(dir.join(name), b"x").unwrap();
    }
    wenji::web::workspace::exports::delete_expired_files(&app.state, Duration::from_secs(3600)).await.unwrap();
    for (name, kept) in &files {
        assert_eq!(dir.join(name).exists(), *kept, "{name}");
    }
    assert!(dir.join(&done_file).exists(), "the finished export stays downloadable");
    assert_eq!(app.store().export_job(running).await.unwrap().status, JobStatus::Queued);
}

#[tokio::test]
async fn requests_racing_on_several_instances_cannot_pass_the_caps_together() {
    use wenji::store::export_jobs::JobCaps;
    let app = TestApp::spawn().await;
    let (_, _, id) = staff(&app, "zhao.leader", Role::Leader).await;
    let by = Actor::staff(id, "zhao.leader");
    // Eight requests at once, each on its own connection as on eight instances.
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(wenji::store::Store::connect(&app.config.database_url).await.unwrap());
    }
    let caps = JobCaps { per_user: JOBS_PER_USER, overall: JOBS_OVERALL };
    let asks = stores.iter().map(|s| s.create_export_job("csv", "{}", &by, false, caps));
    let started = futures_util::future::join_all(asks)
        .await
        .into_iter()
        .filter(|a| matches!(a, Ok(wenji::store::export_jobs::Admission::Started(_))))
        .count();
    assert_eq!(started as u64, JOBS_PER_USER, "exactly the cap is admitted");
    assert_eq!(app.store().active_export_jobs(Some(id)).await.unwrap(), JOBS_PER_USER);
}

/// A job another server failed as silent (its runner stalled past the heartbeat limit: a paused VM, a
/// starved pool) stays failed when the runner wakes: neither its progress nor its end brings it back, so
/// nobody told "请重新导出" finds it done beside that message. (It went failed → running → done.)
#[tokio::test]
async fn a_job_failed_as_silent_stays_failed_when_its_stalled_runner_wakes_up() {
    use wenji::store::StoreError;
    use wenji::store::export_jobs::JobStatus;
    let app = TestApp::spawn().await;
    let (_, _, uid) = staff(&app, "sleeper", Role::Leader).await;
    let id = queued_job(&app, &Actor::staff(uid, "sleeper")).await;
    app.store().set_export_progress(id, 1, 10).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(app.store().fail_abandoned_export_jobs(Duration::from_millis(10)).await.unwrap(), 1);
    let woke = app.store().set_export_progress(id, 5, 10).await;
    assert!(matches!(woke, Err(StoreError::EditedMeanwhile)), "{woke:?}");
    let ended = app.store().finish_export_job(id, "late.xlsx", 10).await;
    assert!(matches!(ended, Err(StoreError::EditedMeanwhile)), "{ended:?}");
    let job = app.store().export_job(id).await.unwrap();
    assert_eq!((job.status, job.file_name), (JobStatus::Failed, None));
    assert!(
        app.store()
            .finish_export_job(id + 1000, "none.xlsx", 1)
            .await
            .is_err_and(|e| matches!(e, StoreError::NotFound))
    );
}

/// A form title with dots ("...第二期") once made a file name the download refused as a path, and the
/// retention sweep skipped it, so the office's full file stayed for good.
#[tokio::test]
async fn an_export_of_a_form_titled_with_dots_downloads_and_expires() {
    let app = TestApp::spawn().await;
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let title = text.lines().find(|l| l.starts_with("title = ")).unwrap().to_owned();
    std::fs::write(&path, text.replacen(&title, r#"title = "..征求意见表...第二期""#, 1)).unwrap();
    let (admin, acsrf, _) = staff(&app, "dot.admin", Role::Admin).await;
    let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", acsrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.submit_opinion("标题带点的表单").await;
    let job =
        finished_job(&app, &admin, &acsrf, &[("form", "zhengqiu"), ("format", "csv"), ("unprotected", "1")]).await.0;
    let r = admin.get(app.url(&format!("{job}/download"))).send().await.unwrap();
    assert_eq!(r.status(), 200, "the file downloads");
    assert!(r.text().await.unwrap().contains("标题带点的表单"));
    let files =
        || std::fs::read_dir(&app.config.exports_dir).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>();
    assert_eq!(files().len(), 1);
    wenji::web::workspace::exports::delete_expired_files(&app.state, Duration::ZERO).await.unwrap();
    assert!(files().is_empty(), "the retention sweep deletes it: {:?}", files());
}

#[tokio::test]
async fn a_running_export_says_when_it_is_preparing_and_when_only_the_file_is_left_to_write() {
    let app = TestApp::spawn().await;
    let (admin, _, id) = staff(&app, "he.admin", Role::Admin).await;
    let job = queued_job(&app, &Actor::staff(id, "he.admin")).await;
    let page =
        || async { admin.get(app.url(&format!("/w/exports/{job}"))).send().await.unwrap().text().await.unwrap() };
    let listed = || async { admin.get(app.url("/w/exports")).send().await.unwrap().text().await.unwrap() };
    // The runner writes (0, 0) until the selection is prepared (a protected one's disclosure takes seconds).
    app.store().set_export_progress(job, 0, 0).await.unwrap();
    assert_eq!(texts(&page().await, "#job-stage"), ["正在准备…"]);
    app.store().set_export_progress(job, 40, 100).await.unwrap();
    let html = page().await;
    assert!(texts(&html, "#job-stage").is_empty(), "reading rows shows its share: {html}");
    assert!(texts(&html, "#job-rows").join("").contains("已完成 40%（40 / 100 条记录）"));
    // Every row read: the file is being written (the zipping of a big workbook takes as long as the reading).
    app.store().set_export_progress(job, 100, 100).await.unwrap();
    assert_eq!(texts(&page().await, "#job-stage"), ["正在写入文件（最后一步）"]);
    assert!(listed().await.contains("正在写入文件（最后一步）"), "the list of exports says so too");
}

#[tokio::test]
async fn an_export_reaches_its_total_only_when_every_row_is_read_and_before_its_file_is_written() {
    use std::sync::Mutex;
    use wenji::domain::report::Scope;
    use wenji::export::{ExportParams, Format};
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.submit_opinion(&format!("导出进度测试意见{i}")).await;
    }
    for format in [Format::Xlsx, Format::Csv] {
        let params = ExportParams {
            scope: Scope { forms: vec!["zhengqiu".into()], ..Default::default() },
            format,
            small_cell_k: 5,
            unprotected: true,
            generated_at: wenji::store::now_ms(),
        };
        let path = app.dir.path().join(format!("progress.{}", format.extension()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, p) = (seen.clone(), path.clone());
        let progress: wenji::export::Progress =
            Arc::new(move |done, total| s.lock().unwrap().push((done, total, p.exists())));
        let catalog = Arc::new(app.state.forms().catalog.clone());
        wenji::reporting::run(app.store(), catalog, params, &path, 1000, progress).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let (last, before) = seen.split_last().unwrap();
        assert!(last.1 > 0 && last.0 == last.1 && !last.2, "{format:?}: the total, then the file: {seen:?}");
        assert!(before.iter().all(|(d, t, _)| d < t), "{format:?}: short of the total while reading: {seen:?}");
    }
}
