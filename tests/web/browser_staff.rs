//! Staff pages in headless Chromium at phone (360, 390 px) and desk (1280 px) widths: one header with 退出
//! on every page, no sideways scrolling, a 403 page with a way back, sign-in that returns to the page asked
//! for, the tagging screen's badges, the audit log and notes in people's words, and the set-up page.
//! Screenshots go to `target/wenji-shots/`.

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};
use crate::workspace::opinion_id;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

/// `target/wenji-shots/NAME.png`, the folder made if needed.
pub fn shot(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("wenji-shots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.png"))
}

/// Creates an account with a display name unlike its login name.
pub async fn create_named(app: &TestApp, login: &str, display: &str, role: Role) {
    let hash = wenji::domain_password::hash(PASSWORD).unwrap();
    app.store().create_user(login, display, role, &hash, &Actor::system("test")).await.unwrap();
}

/// Signs in through the login page as a person would; returns where the browser ends up.
pub async fn sign_in(b: &Browser, app: &TestApp, login: &str) -> String {
    if !b.current_url().await.contains("/login") {
        b.goto(&app.url("/login")).await;
    }
    b.fill("input[name=username]", login).await;
    b.fill("input[name=password]", PASSWORD).await;
    b.click_and_wait_for_navigation("form[action='/login'] button[type=submit]").await;
    b.current_url().await
}

/// Signs out with the header's 退出 button.
pub async fn sign_out(b: &Browser) {
    b.click_and_wait_for_navigation("#logout").await;
    assert!(b.current_url().await.ends_with("/login"), "退出 leads to the sign-in page");
}

/// How far the page is wider than a screen `width` px wide (0 or less when it does not scroll sideways).
/// Measured against the asked width: a phone browser widens its viewport to fit a page that is too wide.
pub async fn overflow(b: &Browser, width: u32) -> i64 {
    let page = b.js("return document.documentElement.scrollWidth;").await.as_i64().unwrap();
    page - i64::from(width)
}

/// The text of every element matching `css`, in page order.
pub async fn texts_of(b: &Browser, css: &str) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll({})).map(function (e) {{ return e.textContent; }});",
        serde_json::Value::from(css)
    );
    b.js(&script).await.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

pub async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

const LONG: &str =
    "窗口工作人员态度冷淡，办事效率不高，推诿扯皮的情况时有发生，希望加强作风建设，建立首问负责制度并公开投诉电话。";

async fn check_header_and_width(b: &Browser, path: &str, width: u32) {
    let headers = b.find_all("header.topbar").await.len();
    assert_eq!(headers, 1, "{path} at {width}px has one header");
    assert_eq!(b.text("header.topbar #logout").await, "退出", "{path} at {width}px offers 退出");
    assert_eq!(b.find_all("h1").await.len(), 1, "{path} at {width}px has one h1 (its name for screen readers)");
    let over = overflow(b, width).await;
    assert!(over <= 0, "{path} at {width}px scrolls sideways by {over}px");
}

#[tokio::test]
async fn every_staff_page_has_one_header_with_sign_out_and_fits_a_phone() {
    let app = TestApp::spawn().await;
    let mut last = 0;
    for i in 0..12 {
        last = opinion_id(&app, &app.submit_opinion(&format!("{LONG}（{i}）")).await).await;
    }
    let phone = [
        ("_category", "qz"),
        ("q_team", LONG),
        ("q_has_member", "no"),
        ("q_satisfaction", "2"),
        ("q_phone", "13900001111"),
    ];
    assert_eq!(app.post_form("zhengqiu", &phone).await.status(), 303);
    // Sent yesterday, so that the leader's inbox lists them too (with their date labels).
    crate::helpers::a_day_passes(&app).await;
    create_named(&app, "head-admin", "管理员老周", Role::Admin).await;
    create_named(&app, "head-analyst", "分析员小林", Role::Analyst).await;
    create_named(&app, "head-leader", "局领导", Role::Leader).await;
    let (admin, csrf) = app.login("head-admin", PASSWORD).await;
    app.export_as(&admin, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
    let link = [("_csrf", csrf.as_str()), ("form", "zhengqiu"), ("unit", "sfs-qingxi"), ("label", "海报")];
    admin.post(app.url("/w/admin/links")).form(&link).send().await.unwrap();
    let (analyst, a_csrf) = app.login("head-analyst", PASSWORD).await;
    let problem = crate::register::create_problem(&app, &analyst, &a_csrf, "窗口办事效率低").await;
    let (problem, cluster) = (format!("/w/problems/{problem}"), format!("/w/clusters/{last}"));
    let shared = ["/w/problems", problem.as_str(), "/w/register"];
    let by_role: [(&str, Vec<String>); 3] = [
        (
            "head-admin",
            ["/w", "/w/inbox", "/w/dashboard", "/w/exports", "/w/exports/1", "/w/admin/users", "/w/admin/audit"]
                .into_iter()
                .chain(["/w/admin/links", "/w/admin/forms", "/w/admin/double-coding", "/w/admin/links/1/print"])
                .chain(["/w/admin/contacts", "/w/admin/contacts/1/delete", "/w/admin/contacts/forms/zhengqiu/delete"])
                .chain(shared)
                .chain([cluster.as_str()])
                .map(String::from)
                .collect(),
        ),
        (
            "head-analyst",
            ["/w", "/w/inbox", &format!("/w/tag/{last}"), "/w/dashboard", "/w/adjudication", &cluster]
                .into_iter()
                .chain(shared)
                .map(String::from)
                .collect(),
        ),
        (
            "head-leader",
            ["/w", "/w/inbox", "/w/dashboard", "/w/exports"].into_iter().chain(shared).map(String::from).collect(),
        ),
    ];
    for (width, height) in [(360, 740), (390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        for (login, pages) in &by_role {
            b.goto(&app.url("/login")).await;
            sign_in(&b, &app, login).await;
            for path in pages {
                b.goto(&app.url(path)).await;
                check_header_and_width(&b, path, width).await;
                if path == "/w/dashboard" && *login != "head-analyst" {
                    b.screenshot_full(shot(&format!("dashboard-{}-{width}", &login[5..]))).await;
                }
            }
            sign_out(&b).await;
        }
        b.close().await;
    }
}

/// Asserts one shared header with 退出 in a page fetched without a browser.
fn assert_header(html: &str, what: &str) {
    assert_eq!(crate::helpers::texts(html, "header.topbar #logout"), vec!["退出"], "{what} has the header with 退出");
}

#[tokio::test]
async fn pages_reached_by_a_post_or_an_empty_queue_show_the_header_too() {
    let app = TestApp::spawn().await;
    create_named(&app, "post-analyst", "分析员小何", Role::Analyst).await;
    let (c, csrf) = app.login("post-analyst", PASSWORD).await;
    let done = c.get(app.url("/w/tag")).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("全部归类完毕"));
    assert_header(&done, "全部归类完毕");
    let id = opinion_id(&app, &app.submit_opinion(LONG).await).await.to_string();
    let choose = [("_csrf", csrf.as_str()), ("ids", &id), ("back", "/w/inbox")];
    let page = c.post(app.url("/w/problems/link")).form(&choose).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_header(&page.text().await.unwrap(), "the choose-a-problem page");
    let bulk = [("_csrf", csrf.as_str()), ("ids", &id), ("scope", "selected"), ("area", "7"), ("action", "add")];
    let bulk: Vec<_> = bulk.into_iter().chain([("confirm", "1")]).collect();
    let done = c.post(app.url("/w/inbox/bulk")).form(&bulk).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("批量归类完成"), "{done}");
    assert_header(&done, "the bulk message");
}

#[tokio::test]
async fn a_wrong_role_gets_a_way_back_and_sign_in_returns_to_the_page_asked_for() {
    let app = TestApp::spawn().await;
    create_named(&app, "back-leader", "局领导", Role::Leader).await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        b.goto(&app.url("/w/dashboard?form=zhengqiu")).await;
        assert!(b.current_url().await.contains("/login"), "not signed in: to the sign-in page");
        let landed = sign_in(&b, &app, "back-leader").await;
        assert!(landed.ends_with("/w/dashboard?form=zhengqiu"), "back to the page asked for, not {landed}");
        // A page the role may not open: 403 with a way back to the workspace.
        b.goto(&app.url("/w/admin/users")).await;
        assert!(b.text("main").await.contains("无权访问"));
        assert_eq!(b.text("#back").await, "返回工作台");
        b.screenshot(shot(&format!("forbidden-{width}"))).await;
        b.click_and_wait_for_navigation("#back").await;
        assert!(b.current_url().await.ends_with("/w"));
        sign_out(&b).await;
        b.close().await;
    }
}

/// Presses one key on whatever has the focus.
async fn key(b: &Browser, k: char) {
    let a = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
    b.c().perform_actions(a).await.unwrap();
}

async fn shown(b: &Browser, css: &str) -> bool {
    b.find(css).await.is_displayed().await.unwrap()
}

#[tokio::test]
async fn the_tagging_screen_shows_each_badge_only_when_it_applies_and_s_toggles_it() {
    let app = TestApp::spawn().await;
    let single = opinion_id(&app, &app.submit_opinion("公证处排队时间太长，建议增加窗口").await).await;
    let twice = "人民调解员待遇偏低，留不住人";
    app.submit_opinion(twice).await;
    let dup = opinion_id(&app, &app.submit_opinion(twice).await).await;
    app.state.clusters.catch_up(app.store()).await.unwrap();
    create_named(&app, "badge-analyst", "分析员小林", Role::Analyst).await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        sign_in(&b, &app, "badge-analyst").await;
        b.goto(&app.url(&format!("/w/tag/{single}"))).await;
        wait_for("the tagger", async || b.js("return !!document.getElementById('tagger').dataset.ready").await == true)
            .await;
        let rep = app.store().opinion(single).await.unwrap().representative;
        assert_eq!(shown(&b, "#c-rep").await, rep, "典型意见 shown only on a representative opinion");
        assert!(!shown(&b, "#c-dup").await, "疑似重复 hidden on a single opinion");
        key(&b, 's').await;
        wait_for("典型意见 to appear", async || shown(&b, "#c-rep").await).await;
        wait_for("the mark to be stored", async || app.store().opinion(single).await.unwrap().representative).await;
        b.screenshot(shot(&format!("tag-badge-{width}"))).await;
        key(&b, 's').await;
        wait_for("典型意见 to go", async || !shown(&b, "#c-rep").await).await;
        wait_for("the mark to be cleared", async || !app.store().opinion(single).await.unwrap().representative).await;
        b.goto(&app.url(&format!("/w/tag/{dup}"))).await;
        assert!(shown(&b, "#c-dup").await, "疑似重复 shown on a repeated opinion");
        assert!(!shown(&b, "#c-rep").await);
        b.close().await;
    }
}

#[tokio::test]
async fn the_audit_log_and_notes_read_in_chinese_with_display_names() {
    let app = TestApp::spawn().await;
    let id = opinion_id(&app, &app.submit_opinion("村法律顾问见不到人，希望定期坐班").await).await;
    create_named(&app, "note-admin", "管理员老周", Role::Admin).await;
    create_named(&app, "note-analyst", "分析员小林", Role::Analyst).await;
    let (admin, csrf) = app.login("note-admin", PASSWORD).await;
    app.export_as(&admin, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        sign_in(&b, &app, "note-analyst").await;
        b.goto(&app.url(&format!("/w/tag/{id}"))).await;
        b.fill("#note-text", &format!("已电话核实（{width}）")).await;
        b.click_and_wait_for_navigation("#noteform button[type=submit]").await;
        b.goto(&app.url(&format!("/w/tag/{id}"))).await;
        let notes = b.text("#c-notes").await;
        assert!(notes.contains("分析员小林"), "notes show the display name: {notes}");
        assert!(!notes.contains("note-analyst"), "not the login name: {notes}");
        sign_out(&b).await;
        sign_in(&b, &app, "note-admin").await;
        b.goto(&app.url("/w/admin/audit")).await;
        let actions = texts_of(&b, "#audit td.action").await;
        for want in ["登录", "添加备注", "导出（受保护）"] {
            assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
        }
        assert!(actions.iter().all(|a| !a.contains('_')), "no action codes: {actions:?}");
        let table = b.text("#audit").await;
        assert!(!table.contains('{') && !table.contains("\":"), "changes as text, not JSON: {table}");
        assert!(table.contains("表单：") && table.contains(&format!("意见 {id}")), "{table}");
        assert!(overflow(&b, width).await <= 0, "the audit log fits the screen");
        b.screenshot(shot(&format!("audit-{width}"))).await;
        sign_out(&b).await;
        b.close().await;
    }
}

#[tokio::test]
async fn the_setup_page_keeps_the_display_name_after_an_error_and_speaks_chinese() {
    for (width, height) in [(390, 844), (1280, 900)] {
        let app = TestApp::spawn().await;
        let token = app.state.setup_token.lock().unwrap().clone().expect("an empty database offers a setup link");
        let Some(b) = Browser::start(width, height).await else { return };
        b.goto(&app.url(&format!("/setup?token={token}"))).await;
        b.fill("input[name=username]", "zhou").await;
        b.fill("input[name=display_name]", "办公室老周").await;
        b.fill("input[name=password]", "short1").await;
        b.fill("input[name=password2]", "short1").await;
        b.click_and_wait_for_navigation("form[action='/setup'] button[type=submit]").await;
        let error = b.text("#setup-error").await;
        assert!(error.contains("密码太短"), "{error}");
        assert!(!error.chars().any(|c| c.is_ascii_alphabetic()), "the message is all Chinese: {error}");
        assert_eq!(b.value("input[name=display_name]").await, "办公室老周", "the display name is kept");
        assert_eq!(b.value("input[name=username]").await, "zhou");
        let invalid = b.find("input[name=password]").await.attr("aria-invalid").await.unwrap();
        assert_eq!(invalid.as_deref(), Some("true"), "the field in error is marked");
        assert!(overflow(&b, width).await <= 0);
        b.screenshot(shot(&format!("setup-error-{width}"))).await;
        b.fill("input[name=username]", "a").await;
        b.fill("input[name=password]", "Long-enough-pass-9").await;
        b.fill("input[name=password2]", "Long-enough-pass-9").await;
        b.click_and_wait_for_navigation("form[action='/setup'] button[type=submit]").await;
        let error = b.text("#setup-error").await;
        assert!(!error.chars().any(|c| c.is_ascii_alphabetic()), "all Chinese: {error}");
        assert_eq!(b.value("input[name=display_name]").await, "办公室老周");
        b.close().await;
    }
}

/// The links page offers the chosen form's categories only, without the form's title in front; without a
/// form none (every form's categories were listed, and another form's was refused only after sending).
#[tokio::test]
async fn the_link_form_offers_the_categories_of_the_form_chosen() {
    let app = TestApp::spawn().await;
    create_named(&app, "link-admin", "管理员老吴", Role::Admin).await;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "link-admin").await;
    b.goto(&app.url("/w/admin/links")).await;
    let offered = "return Array.from(document.querySelectorAll('.link-form select[name=category] option')).map(function (o) { return o.value + '=' + o.text; });";
    let values = async || -> Vec<String> {
        b.js(offered).await.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(values().await, ["=不固定"], "no form chosen, no category");
    b.js("var s = document.querySelector('.link-form select[name=form]'); s.value = 'zhengqiu'; s.dispatchEvent(new Event('change')); return 1;").await;
    let zhengqiu = values().await;
    assert!(zhengqiu.len() > 2 && zhengqiu[1..].iter().all(|v| v.starts_with("zhengqiu:")), "{zhengqiu:?}");
    assert!(zhengqiu.contains(&"zhengqiu:qz=社会群众".to_owned()), "{zhengqiu:?}");
    b.js("var c = document.querySelector('.link-form select[name=category]'); c.value = 'zhengqiu:qz'; \
          var s = document.querySelector('.link-form select[name=form]'); s.value = 'ceping'; s.dispatchEvent(new Event('change')); return 1;").await;
    let ceping = values().await;
    assert!(ceping[1..].iter().all(|v| v.starts_with("ceping:")), "{ceping:?}");
    assert_eq!(b.value(".link-form select[name=category]").await, "", "another form's category is not kept chosen");
    b.close().await;
}
