//! Accessibility in headless Chromium: axe-core (the npm package, installed into `target/axe` by `.ci/run`
//! or by this test) finds no serious or critical problem on the form (also with errors), the receipt, the
//! inbox, the tagging screen and the dashboard, at phone and desk widths. The test injects axe itself; the
//! product never serves it. Errors are tied to their fields (`aria-describedby`, `aria-invalid`); the
//! dashboard's counts are read, not only drawn.

use crate::browser::Browser;
use crate::browser_staff::{create_named, sign_in};
use crate::helpers::TestApp;
use crate::workspace::opinion_id;
use serde_json::Value;
use std::path::PathBuf;
use wenji::domain::area::AreaCode;
use wenji::domain::tagging::TagSource;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

/// axe-core's script, installed with npm into `target/axe` when missing.
fn axe_source() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("axe");
    let file = dir.join("node_modules/axe-core/axe.min.js");
    if !file.exists() {
        let ok = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("axe-core")
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "npm install axe-core into {} failed", dir.display());
    }
    std::fs::read_to_string(&file).unwrap()
}

/// The serious and critical violations axe finds on the current page, as "rule: target" lines.
async fn serious_problems(b: &Browser, axe: &str) -> Vec<String> {
    b.c().execute(&format!("{axe}\n;window.__axe = axe; return true;"), vec![]).await.unwrap();
    let script = "var done = arguments[arguments.length - 1];
        window.__axe.run(document, { resultTypes: ['violations'] }).then(function (r) { done(r.violations); }, function (e) { done(String(e)); });";
    let v = b.c().execute_async(script, vec![]).await.unwrap();
    let Value::Array(list) = v else { panic!("axe failed: {v}") };
    list.iter()
        .filter(|x| matches!(x["impact"].as_str(), Some("serious" | "critical")))
        .map(|x| {
            let targets: Vec<String> = x["nodes"].as_array().unwrap().iter().map(|n| n["target"].to_string()).collect();
            format!("{}: {} ({})", x["id"].as_str().unwrap(), targets.join(" "), x["help"].as_str().unwrap_or(""))
        })
        .collect()
}

#[tokio::test]
async fn axe_finds_no_serious_problem_on_the_form_receipt_inbox_tagging_screen_and_dashboard() {
    let axe = axe_source();
    let app = TestApp::spawn().await;
    let id = opinion_id(&app, &app.submit_opinion("窗口工作人员态度冷淡，办事效率不高").await).await;
    app.submit_opinion("希望多组织法律进村活动").await;
    create_named(&app, "a11y-analyst", "分析员小林", Role::Analyst).await;
    create_named(&app, "a11y-leader", "局领导", Role::Leader).await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        let mut found = Vec::new();
        b.goto(&app.url("/f/zhengqiu")).await;
        found.extend(serious_problems(&b, &axe).await.into_iter().map(|p| format!("form: {p}")));
        b.fill("textarea[name=q_team]", "短").await;
        b.click_and_wait_for_navigation("button.submit").await;
        // Each error is tied to its field.
        let team = b.find("textarea[name=q_team]").await;
        assert_eq!(team.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
        assert_eq!(team.attr("aria-describedby").await.unwrap().as_deref(), Some("err-team help-team count-q_team"));
        // Help and the contact field's warning are read with their fields too (they were not).
        let phone = b.find("input[name=q_phone]").await.attr("aria-describedby").await.unwrap().unwrap_or_default();
        assert!(phone.split(' ').any(|id| id == "contact-phone"), "{phone}");
        let radio = b.find("input[name=q_has_member]").await;
        assert_eq!(radio.attr("aria-invalid").await.unwrap().as_deref(), Some("true"), "every invalid field");
        assert_eq!(
            b.find("#q-satisfaction").await.attr("aria-describedby").await.unwrap().as_deref(),
            Some("err-satisfaction")
        );
        found.extend(serious_problems(&b, &axe).await.into_iter().map(|p| format!("form with errors: {p}")));
        b.click("input[name=_category][value=qz]").await;
        b.fill("textarea[name=q_team]", "太短了，补充：希望调解员培训多一些。").await;
        b.click("input[name=q_has_member][value=no]").await;
        b.click("input[name=q_satisfaction][value='3']").await;
        b.click_and_wait_for_navigation("button.submit").await;
        b.find("#receipt-code").await;
        found.extend(serious_problems(&b, &axe).await.into_iter().map(|p| format!("receipt: {p}")));

        sign_in(&b, &app, "a11y-analyst").await;
        for path in ["/w/inbox".to_owned(), format!("/w/tag/{id}"), "/w/dashboard".to_owned()] {
            b.goto(&app.url(&path)).await;
            if path.starts_with("/w/tag/") {
                let live = b.find("#status").await.attr("role").await.unwrap();
                assert_eq!(live.as_deref(), Some("status"), "the tagging screen's save status is announced");
            }
            found.extend(serious_problems(&b, &axe).await.into_iter().map(|p| format!("{path}: {p}")));
        }
        b.click_and_wait_for_navigation("#logout").await;
        sign_in(&b, &app, "a11y-leader").await;
        b.goto(&app.url("/w/dashboard")).await;
        found.extend(serious_problems(&b, &axe).await.into_iter().map(|p| format!("leader dashboard: {p}")));
        assert!(found.is_empty(), "at {width}px axe found:\n{}", found.join("\n"));
        b.close().await;
    }
}

/// The words Chromium's accessibility tree gives a screen reader for the current page, in page order: text,
/// and an image's name instead of anything inside it (its children are not read).
async fn accessible_words(b: &Browser) -> Vec<String> {
    let tree = b.cdp("Accessibility.getFullAXTree", serde_json::json!({})).await;
    let nodes: std::collections::HashMap<&str, &Value> =
        tree["nodes"].as_array().unwrap().iter().map(|n| (n["nodeId"].as_str().unwrap(), n)).collect();
    let mut words = Vec::new();
    let mut stack = vec![tree["nodes"][0]["nodeId"].as_str().unwrap()];
    while let Some(id) = stack.pop() {
        let n = nodes[id];
        let read = n["ignored"] != Value::Bool(true);
        let role = n["role"]["value"].as_str().unwrap_or_default();
        if read && matches!(role, "StaticText" | "image") {
            words.extend(n["name"]["value"].as_str().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
        }
        if !(read && role == "image") {
            let children = n["childIds"].as_array().into_iter().flatten().filter_map(Value::as_str);
            stack.extend(children.rev().filter(|c| nodes.contains_key(c)));
        }
    }
    words
}

#[tokio::test]
async fn a_screen_reader_reads_each_areas_count_on_the_dashboard() {
    let app = TestApp::spawn().await;
    for text in ["窗口工作人员态度冷淡", "希望多组织法律进村活动", "调解员培训要加强"] {
        let id = opinion_id(&app, &app.submit_opinion(text).await).await;
        let six = [AreaCode::try_from(6).unwrap()];
        app.store().set_tags(id, &six, |_| TagSource::Typed, &Actor::system("test")).await.unwrap();
    }
    create_named(&app, "chart-analyst", "分析员小林", Role::Analyst).await;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "chart-analyst").await;
    b.goto(&app.url("/w/dashboard")).await;
    let words = accessible_words(&b).await;
    let bars = crate::browser_staff::texts_of(&b, "#area-chart title").await;
    assert_eq!(bars.len(), 8, "{bars:?}");
    for bar in bars {
        let (area, count) = bar.split_once('：').unwrap();
        let at = words.iter().position(|w| w == area).unwrap_or_else(|| panic!("{area} is not read: {words:?}"));
        assert_eq!(words.get(at + 1).map(String::as_str), Some(count), "{area} is read with its count");
    }
    b.close().await;
}

/// Speech users say what they see: a control's accessible name starts with its visible words (axe's
/// label-content-name-mismatch), on the administrator's pages that name a control per row.
#[tokio::test]
async fn each_row_controls_spoken_name_starts_with_its_visible_words() {
    let app = TestApp::spawn().await;
    let pairs = [("_category", "qz"), ("q_team", "请回复我"), ("q_has_member", "no"), ("q_satisfaction", "2")];
    let phone = [pairs.as_slice(), &[("q_phone", "13900001111")]].concat();
    assert_eq!(app.post_form("zhengqiu", &phone).await.status(), 303);
    let (admin, _) = app.login_as(Role::Admin).await;
    let mut named = 0;
    for path in ["/w/admin/contacts", "/w/admin/users"] {
        let html = admin.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        let doc = scraper::Html::parse_document(&html);
        for e in doc.select(&scraper::Selector::parse("a[aria-label], button[aria-label]").unwrap()) {
            let seen: String = e.text().collect::<String>().trim().to_owned();
            let said = e.value().attr("aria-label").unwrap();
            assert!(said.starts_with(&seen), "{path}: {seen:?} is named {said:?}");
            named += 1;
        }
    }
    assert!(named >= 2, "the contact's 删除 and the account's 重置密码 are named: {named}");
}
