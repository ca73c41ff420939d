//! Form definitions: shipped forms pass, broken ones are refused with file, question and reason, and a
//! stored response keeps the questions it answered after the form file changes.

use crate::helpers::{TestApp, test_forms, texts};
use std::path::Path;
use std::process::Command;
use wenji::store::audit::Actor;

const GOOD: &str = r#"
slug = "probe"
title = "测试表"
categories = [ { code = "qz", label = "群众" } ]

[[question]]
id = "pick"
kind = "single_choice"
title = "选择"
choices = [ { code = "a", label = "甲" } ]

[[question]]
id = "text"
kind = "long_text"
title = "意见"
opinion = true
"#;

/// Writes the shipped forms plus `probe.toml` with `text`, loads the folder, and returns the problems.
fn problems(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let forms = test_forms(dir.path());
    std::fs::write(forms.join("probe.toml"), text).unwrap();
    match wenji::forms_dir::load(&forms) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn assert_refused(text: &str, question: Option<&str>, reason: &str) {
    let errs = problems(text);
    let hit = errs.iter().find(|e| {
        e.contains("probe.toml") && question.is_none_or(|q| e.contains(&format!("题目 `{q}`"))) && e.contains(reason)
    });
    assert!(hit.is_some(), "expected probe.toml / {question:?} / {reason:?}, got {errs:#?}");
}

/// Four answers of 5,000 characters are each within the limit, and together over what one post may carry.
#[test]
fn a_form_whose_answers_written_out_could_not_be_sent_is_refused() {
    let long = "\n[[question]]\nid = \"more{n}\"\nkind = \"long_text\"\ntitle = \"补充{n}\"\nmax_length = 5000\n";
    let text = (1..=4).fold(GOOD.to_owned(), |t, n| t + &long.replace("{n}", &n.to_string()));
    assert_refused(&text, None, "超过一次提交留给答案的 60 KB");
    let three = (1..=2).fold(GOOD.to_owned(), |t, n| t + &long.replace("{n}", &n.to_string()));
    assert!(problems(&three).is_empty(), "{:?}", problems(&three));
}

#[test]
fn the_fixture_base_definition_is_valid() {
    assert!(problems(GOOD).is_empty(), "{:?}", problems(GOOD));
}

#[test]
fn a_duplicate_question_id_is_refused() {
    let t = format!("{GOOD}\n[[question]]\nid = \"text\"\nkind = \"short_text\"\ntitle = \"又一题\"\n");
    assert_refused(&t, Some("text"), "题目 id 重复");
}

#[test]
fn an_empty_choice_list_is_refused() {
    assert_refused(
        &GOOD.replace(r#"choices = [ { code = "a", label = "甲" } ]"#, "choices = []"),
        Some("pick"),
        "选项列表为空",
    );
}

#[test]
fn a_condition_on_an_unknown_question_is_refused() {
    let t = GOOD.replace("opinion = true", "opinion = true\nshow_if = { question = \"nope\", equals = \"a\" }");
    assert_refused(&t, Some("text"), "`nope` 不存在或不在本题之前");
}

#[test]
fn a_condition_on_a_later_question_is_refused() {
    let t = GOOD.replace("title = \"选择\"", "title = \"选择\"\nshow_if = { question = \"text\", equals = \"a\" }");
    assert_refused(&t, Some("pick"), "`text` 不存在或不在本题之前");
}

#[test]
fn a_condition_on_an_unknown_choice_is_refused() {
    let t = GOOD.replace("opinion = true", "opinion = true\nshow_if = { question = \"pick\", equals = \"zz\" }");
    assert_refused(&t, Some("text"), "`zz` 不是题目 `pick` 的选项");
}

#[test]
fn a_bad_date_is_refused() {
    assert_refused(
        &GOOD.replace("categories", "opens_at = \"2026-13-45\"\ncategories"),
        None,
        "opens_at 的日期 `2026-13-45` 无法识别",
    );
}

#[test]
fn closing_before_opening_is_refused() {
    let t = GOOD.replace("categories", "opens_at = \"2026-06-01\"\ncloses_at = \"2026-05-01\"\ncategories");
    assert_refused(&t, None, "早于或等于 opens_at");
}

#[test]
fn an_unknown_area_code_is_refused() {
    let t = GOOD.replace("opinion = true", "opinion = true\nareas = [9]");
    assert_refused(&t, Some("text"), "领域代码 9 不存在");
}

#[test]
fn an_unknown_unit_code_is_refused() {
    assert_refused(
        &GOOD.replace("categories", "units = [\"no-such-unit\"]\ncategories"),
        None,
        "`no-such-unit` 不在 units.toml 中",
    );
}

#[test]
fn an_unknown_question_kind_is_refused() {
    assert_refused(&GOOD.replace("kind = \"long_text\"", "kind = \"essay\""), Some("text"), "未知的题型 `essay`");
}

#[test]
fn min_length_over_max_length_is_refused() {
    let t = GOOD.replace("opinion = true", "opinion = true\nmin_length = 50\nmax_length = 10");
    assert_refused(&t, Some("text"), "min_length（50）大于 max_length（10）");
}

#[test]
fn an_opinion_on_a_choice_question_is_refused() {
    let t = GOOD.replace("title = \"选择\"", "title = \"选择\"\nopinion = true");
    assert_refused(&t, Some("pick"), "只有文字题");
}

#[test]
fn a_required_contact_field_is_refused() {
    let t = format!(
        "{GOOD}\n[[question]]\nid = \"tel\"\nkind = \"phone\"\ntitle = \"电话\"\nrequired = true\ncontact_purpose = \"回复\"\n"
    );
    assert_refused(&t, Some("tel"), "联系方式题不能必填");
}

#[test]
fn a_phone_question_without_a_purpose_is_refused() {
    let t = format!("{GOOD}\n[[question]]\nid = \"tel\"\nkind = \"phone\"\ntitle = \"电话\"\n");
    assert_refused(&t, Some("tel"), "必须写 contact_purpose");
}

#[test]
fn a_matrix_without_a_scale_is_refused() {
    let t =
        format!("{GOOD}\n[[question]]\nid = \"grid\"\nkind = \"matrix\"\ntitle = \"测评\"\nrows_from = \"areas\"\n");
    assert_refused(&t, Some("grid"), "缺少 scale");
}

#[test]
fn a_misspelt_key_is_refused_with_its_line() {
    assert_refused(&GOOD.replace("title = \"意见\"", "titel = \"意见\""), None, "文件格式错误");
}

#[test]
fn a_duplicate_slug_across_files_is_refused() {
    assert_refused(&GOOD.replace("slug = \"probe\"", "slug = \"zhengqiu\""), None, "slug `zhengqiu` 与");
}

fn wenji(forms: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wenji"));
    c.arg("check-forms").env("WENJI_FORMS_DIR", forms);
    c
}

#[test]
fn check_forms_passes_on_the_shipped_forms() {
    let out = wenji(&Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for slug in ["zhengqiu", "ceping", "zoufang", "baogao", "manyidu"] {
        assert!(stdout.contains(slug), "{stdout}");
    }
}

#[test]
fn check_forms_exits_non_zero_and_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let forms = test_forms(dir.path());
    std::fs::write(forms.join("probe.toml"), GOOD.replace("kind = \"long_text\"", "kind = \"essay\"")).unwrap();
    let out = wenji(&forms).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("probe.toml: 题目 `text`: 未知的题型 `essay`"), "{stderr}");
}

#[tokio::test]
async fn a_response_reads_back_with_its_original_questions_after_the_form_changes() {
    let app = TestApp::spawn().await;
    let receipt = app.submit_opinion("办事效率需要提高").await;
    // The bureau rewrites the question's title and reloads.
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("对局领导班子的意见和建议", "改过的题目");
    std::fs::write(&path, text).unwrap();
    let catalog = wenji::forms_dir::load(&app.config.forms_dir).unwrap();
    let versions = app.store().sync_catalog(&catalog).await.unwrap();
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert_eq!(stored.form.question("team").unwrap().title, "对局领导班子的意见和建议");
    assert_ne!(versions["zhengqiu"], app.state.forms().versions["zhengqiu"], "the edit is a new version");
    assert_eq!(catalog.form("zhengqiu").unwrap().question("team").unwrap().title, "改过的题目");
}

#[tokio::test]
async fn an_admin_reloads_forms_and_a_broken_folder_keeps_the_old_ones() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, good.replace("分析检查阶段征求意见表", "征求意见表（第二版）")).unwrap();
    let html = admin
        .post(app.url("/w/admin/forms/reload"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("征求意见表（第二版）"), "{html}");
    assert_eq!(app.state.forms().catalog.form("zhengqiu").unwrap().title, "征求意见表（第二版）");
    std::fs::write(&path, good.replace("kind = \"long_text\"", "kind = \"essay\"")).unwrap();
    let html = admin
        .post(app.url("/w/admin/forms/reload"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let problems = crate::helpers::texts(&html, "#form-problems li");
    assert!(
        problems.iter().any(|p| p.contains("zhengqiu-yijian.toml") && p.contains("未知的题型 `essay`")),
        "{problems:?}"
    );
    assert_eq!(app.state.forms().catalog.form("zhengqiu").unwrap().title, "征求意见表（第二版）", "the old forms stay");
    let (analyst, csrf) = app.login_as(wenji::domain::user::Role::Analyst).await;
    let r = analyst.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

/// Submits `pairs` to `slug` and returns the stored answers of the receipt.
async fn submit_and_read_back(
    app: &TestApp,
    slug: &str,
    pairs: &[(&str, &str)],
) -> wenji::domain::form::answers::ValidAnswers {
    let r = app.post_form(slug, pairs).await;
    assert_eq!(r.status(), 303, "{slug}: a complete answer is stored: {}", r.text().await.unwrap());
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let receipt = loc.split("/r/").nth(1).unwrap().split('?').next().unwrap().to_owned();
    app.store().response_by_receipt(&receipt).await.unwrap().answers
}

/// Exports every form as the office's full workbook and returns the raw-data sheet's text cells.
async fn exported_cells(app: &TestApp, form: &str) -> Vec<String> {
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let pairs = [("form", form), ("from", ""), ("to", ""), ("format", "xlsx"), ("unprotected", "1")];
    let bytes = app.export_as(&admin, &csrf, &pairs).await.unwrap_or_else(|(s, p)| panic!("export refused {s}: {p}"));
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    let raw = wb.worksheet_range("原始数据").unwrap();
    raw.used_cells().map(|(_, _, c)| c.to_string()).collect()
}

#[tokio::test]
async fn the_draft_report_form_asks_section_by_section_validates_submits_and_exports() {
    let app = TestApp::spawn().await;
    let html = app.citizen.get(app.url("/f/baogao")).send().await.unwrap().text().await.unwrap();
    assert_eq!(crate::helpers::texts(&html, "h1"), ["分析检查报告征求意见表"]);
    let rows = crate::helpers::texts(&html, ".matrix .mrow .mlabel");
    assert_eq!(rows.len(), 4, "one row per report section: {rows:?}");
    assert!(rows[1].contains("领导班子存在的突出问题"));
    assert_eq!(crate::helpers::texts(&html, "textarea").len(), 5, "a comment box per section, and one more");
    let phone = scraper::Html::parse_document(&html);
    let vp = scraper::Selector::parse("meta[name=viewport]").unwrap();
    assert!(phone.select(&vp).next().is_some(), "the page is laid out for phones");

    // A section left unrated is named, and what was typed stays.
    let r = app.post_form("baogao", &[("_category", "qz"), ("q_sections.s1", "1"), ("q_s2", "问题找得不够准")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    let err = crate::helpers::texts(&page, "#err-sections");
    assert_eq!(err.len(), 1, "{page}");
    assert!(crate::helpers::texts(&page, "textarea[name=q_s2]")[0].contains("问题找得不够准"));

    let answers = submit_and_read_back(
        &app,
        "baogao",
        &[
            ("_category", "jcdw"),
            ("q_sections.s1", "1"),
            ("q_sections.s2", "3"),
            ("q_sections.s3", "2"),
            ("q_sections.s4", "2"),
            ("q_s2", "第二部分查摆的问题避重就轻，服务基层方面写得太笼统"),
            ("q_s4", "整改措施要写明时限和责任人"),
        ],
    )
    .await;
    let Some(wenji::domain::form::answers::Answer::Matrix(grid)) = answers.get("sections") else {
        panic!("{:?}", answers.0)
    };
    assert_eq!(grid["s2"], "3");
    let cells = exported_cells(&app, "baogao").await;
    assert!(cells.iter().any(|c| c == "第二部分查摆的问题避重就轻，服务基层方面写得太笼统"), "{cells:?}");
    assert!(cells.iter().any(|c| c.contains("不符合")), "section ratings are exported with their labels: {cells:?}");
}

#[tokio::test]
async fn the_rectification_satisfaction_form_validates_submits_and_exports() {
    let app = TestApp::spawn().await;
    let html = app.citizen.get(app.url("/f/manyidu")).send().await.unwrap().text().await.unwrap();
    assert_eq!(crate::helpers::texts(&html, "h1"), ["整改落实群众满意度测评表"]);
    assert_eq!(crate::helpers::texts(&html, ".matrix .mrow").len(), 8, "one row per area");
    let mut pairs: Vec<(String, String)> = (1..=8).map(|a| (format!("q_areas.a{a}"), "1".to_owned())).collect();
    pairs.push(("_category".into(), "qz".into()));
    let as_refs = |extra: &[(&'static str, &'static str)], p: &Vec<(String, String)>| {
        let mut v: Vec<(String, String)> = p.clone();
        v.extend(extra.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())));
        v
    };
    // The overall rating is required.
    let missing = as_refs(&[], &pairs);
    let refs: Vec<(&str, &str)> = missing.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = app.post_form("manyidu", &refs).await;
    assert_eq!(r.status(), 422);
    assert_eq!(crate::helpers::texts(&r.text().await.unwrap(), "#err-overall").len(), 1);
    // A level outside the scale is refused, naming the question.
    let wrong = as_refs(&[("q_overall", "9")], &pairs);
    let refs: Vec<(&str, &str)> = wrong.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = app.post_form("manyidu", &refs).await;
    assert_eq!(r.status(), 422);
    assert_eq!(crate::helpers::texts(&r.text().await.unwrap(), "#err-overall").len(), 1);

    let full =
        as_refs(&[("q_overall", "3"), ("q_unsatisfied", "窗口服务整改只停留在文件上，群众办事仍要跑多次")], &pairs);
    let refs: Vec<(&str, &str)> = full.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let answers = submit_and_read_back(&app, "manyidu", &refs).await;
    assert_eq!(answers.get("overall"), Some(&wenji::domain::form::answers::Answer::Choice("3".into())));
    assert!(answers.get("unsatisfied").is_some(), "the reason is kept when the rating is 不满意");
    let cells = exported_cells(&app, "manyidu").await;
    assert!(cells.iter().any(|c| c == "窗口服务整改只停留在文件上，群众办事仍要跑多次"), "{cells:?}");
    assert!(cells.iter().any(|c| c == "不满意"), "{cells:?}");
}

/// Answers keep a grade's position: a reload that adds, removes or reorders the grades of a scale already
/// answered is refused, naming the question (the stored 差 read as 较差, a reversed scale upside down, in
/// leaders' workbooks and the office's 测评); renaming a grade in its place goes live. Before any answer,
/// the scale may change freely.
#[tokio::test]
async fn a_reload_that_would_make_stored_grades_read_as_other_grades_is_refused() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    let scale = r#"scale = ["好", "较好", "一般", "差"]"#;
    let reload = || async {
        let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        crate::helpers::texts(&r.text().await.unwrap(), "#form-problems li")
    };
    let grades = || match &app.state.forms().catalog.form("zhengqiu").unwrap().question("satisfaction").unwrap().kind {
        wenji::domain::form::QuestionKind::Rating { scale } => scale.iter().map(|c| c.label.clone()).collect(),
        _ => Vec::<String>::new(),
    };
    // No answer yet: any scale.
    std::fs::write(&path, good.replacen(scale, r#"scale = ["好", "较好", "一般", "较差", "差"]"#, 1)).unwrap();
    assert!(reload().await.is_empty());
    std::fs::write(&path, &good).unwrap();
    assert!(reload().await.is_empty());
    app.submit_opinion("窗口服务态度有待改进").await;
    for moved in
        [r#"["好", "较好", "一般", "较差", "差"]"#, r#"["差", "一般", "较好", "好"]"#, r#"["好", "较好", "差"]"#]
    {
        std::fs::write(&path, good.replacen(scale, &format!("scale = {moved}"), 1)).unwrap();
        let problems = reload().await;
        assert!(
            problems.iter().any(|p| p.contains("您对局领导班子的总体评价") && p.contains("好/较好/一般/差")),
            "{moved}: {problems:?}"
        );
        assert_eq!(grades(), ["好", "较好", "一般", "差"], "{moved}: the old forms stay");
        // `wenji check-forms` in the server's folder says so too (it said "all good", and the restart failed).
        let checked = app.run_cli(&["check-forms"]).await;
        let said = String::from_utf8_lossy(&checked.stderr);
        assert!(!checked.status.success() && said.contains("您对局领导班子的总体评价"), "{moved}: {said}");
    }
    std::fs::write(&path, good.replacen(scale, r#"scale = ["好", "比较好", "一般", "差"]"#, 1)).unwrap();
    assert!(reload().await.is_empty());
    assert_eq!(grades(), ["好", "比较好", "一般", "差"], "a grade renamed in its place goes live");
}

/// Found by the campaign-end review: a form's file moved away was reloaded without a word though the form
/// had responses, and its workbooks could no longer be made. Refused while it has responses.
#[tokio::test]
async fn a_reload_without_the_file_of_a_form_that_has_responses_is_refused() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let reload = || async {
        let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        crate::helpers::texts(&r.text().await.unwrap(), "#form-problems li")
    };
    let (path, away) = (app.config.forms_dir.join("zhengqiu-yijian.toml"), app.dir.path().join("zhengqiu.away"));
    // Without responses it may go.
    std::fs::rename(&path, &away).unwrap();
    assert!(reload().await.is_empty());
    assert!(app.state.forms().catalog.form("zhengqiu").is_none());
    std::fs::rename(&away, &path).unwrap();
    assert!(reload().await.is_empty());
    app.submit_opinion("窗口服务态度有待改进").await;
    std::fs::rename(&path, &away).unwrap();
    let problems = reload().await;
    assert!(problems.iter().any(|p| p.contains("zhengqiu") && p.contains("closes_at")), "{problems:?}");
    assert!(app.state.forms().catalog.form("zhengqiu").is_some(), "the old forms stay");
    let checked = app.run_cli(&["check-forms"]).await;
    assert!(!checked.status.success(), "check-forms says so too");
}

/// A unit taken out of units.toml while its links are open: the reload says which links still take
/// responses for it (counted under the removed unit), and says nothing once they are stopped.
#[tokio::test]
async fn a_reload_that_removes_a_unit_names_its_links_still_open() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let link = app.store().create_link("zhengqiu", "sfs-hedong", None, "", &Actor::system("test")).await.unwrap();
    let path = app.config.forms_dir.join("units.toml");
    let units = std::fs::read_to_string(&path).unwrap();
    let entry = "[[unit]]\ncode = \"sfs-hedong\"\nname = \"河东街道司法所\"\nkind = \"司法所\"\n";
    assert!(units.contains(entry));
    std::fs::write(&path, units.replacen(entry, "", 1)).unwrap();
    let notice = || async {
        let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        crate::helpers::texts(&r.text().await.unwrap(), ".notice").concat()
    };
    let said = notice().await;
    assert!(
        said.contains("单位 sfs-hedong 已不在 units.toml 中") && said.contains(&format!("编号 {}", link.id)),
        "{said}"
    );
    app.store().set_link_revoked(link.id, true, &Actor::system("test")).await.unwrap();
    assert_eq!(notice().await, "已重新加载。");
}

#[tokio::test]
async fn answers_checked_against_a_form_reloaded_meanwhile_are_stored_under_the_version_they_answered() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let key = app.form_key("zhengqiu").await;
    // A submission has checked its answers against this definition when the bureau reloads a new title.
    let checked = app.state.forms().catalog.form("zhengqiu").unwrap().clone();
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("对局领导班子的意见和建议", "改过的题目");
    std::fs::write(&path, text).unwrap();
    let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let raw: wenji::domain::form::answers::RawAnswers =
        [("team", "窗口办事效率要提高"), ("has_member", "no"), ("satisfaction", "2")]
            .into_iter()
            .map(|(q, v)| (q.to_owned(), vec![v.to_owned()]))
            .collect();
    let key = wenji::domain::submission::SubmissionKey::parse(&key).unwrap();
    use wenji::web::public::submit::{Beside, FORM_FIELDS, submit};
    let beside = Beside { category: Some("qz".into()), code: None, names: &FORM_FIELDS };
    let outcome = submit(&app.state, &checked, None, beside, &raw, &key).await.unwrap();
    let receipt = outcome.receipt().expect("stored").to_string();
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert_eq!(stored.form.question("team").unwrap().title, "对局领导班子的意见和建议", "the version it answered");
}

/// The bureau renames a question and reloads while a citizen writes: their post carries text for a question
/// the form no longer has. It is not stored without it behind a receipt (it was, the text silently dropped):
/// the form comes back with the notice, the text to copy and the rest of the answers as typed.
#[tokio::test]
async fn text_typed_into_a_question_a_reload_renamed_comes_back_and_nothing_is_stored_without_it() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let key = app.form_key("zhengqiu").await;
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("id = \"work\"", "id = \"suggest\"");
    std::fs::write(&path, text).unwrap();
    let r = admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let typed = [
        ("_category", "qz"),
        ("q_team", "窗口办事效率要提高"),
        ("q_has_member", "no"),
        ("q_work", "人民调解员培训太少，建议每季度一次"),
        ("q_satisfaction", "2"),
    ];
    let r = app.post_form_with_key("zhengqiu", &key, &typed).await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#kept textarea"), ["人民调解员培训太少，建议每季度一次"]);
    assert!(texts(&page, ".notice")[0].contains("还没有提交"), "{page}");
    assert_eq!(texts(&page, "textarea[name=q_team]"), ["窗口办事效率要提高"], "the rest as typed");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}

#[tokio::test]
async fn a_reload_on_one_instance_is_followed_by_the_others_and_only_with_the_versions_it_audited() {
    let app = TestApp::spawn().await;
    let other = app.second_server().await;
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let title_on_other = || {
        let url = format!("{other}/f/zhengqiu");
        async move {
            let html = crate::helpers::client(false).get(url).send().await.unwrap().text().await.unwrap();
            crate::helpers::texts(&html, "h1").join("")
        }
    };
    assert!(title_on_other().await.contains("分析检查阶段征求意见表"));
    let reload = || admin.post(app.url("/w/admin/forms/reload")).form(&[("_csrf", csrf.as_str())]).send();
    std::fs::write(&path, original.replace("分析检查阶段征求意见表", "征求意见表（第二版）")).unwrap();
    assert_eq!(reload().await.unwrap().status(), 200);
    let deadline = std::time::Instant::now() + 3 * wenji::web::workspace::admin_forms::FOLLOW_RELOADS_EVERY;
    while !title_on_other().await.contains("征求意见表（第二版）") {
        assert!(std::time::Instant::now() < deadline, "the other instance still serves the replaced form");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A reload, then at once an edit nobody reloaded: the other instance finds versions the entry does not
    // name in the folder, and serves the reloaded ones as stored (it kept the replaced form before).
    std::fs::write(&path, original.replace("分析检查阶段征求意见表", "征求意见表（第三版）")).unwrap();
    assert_eq!(reload().await.unwrap().status(), 200);
    std::fs::write(&path, original.replace("分析检查阶段征求意见表", "未经重新加载的标题")).unwrap();
    let deadline = std::time::Instant::now() + 3 * wenji::web::workspace::admin_forms::FOLLOW_RELOADS_EVERY;
    loop {
        let shown = title_on_other().await;
        assert!(!shown.contains("未经重新加载的标题"), "an unreloaded folder went live: {shown}");
        if shown.contains("征求意见表（第三版）") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other instance still serves the replaced form: {shown}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_visit_record_asks_for_the_kind_of_place_visited_not_the_respondents_identity() {
    let app = TestApp::spawn().await;
    let legend = |page: &str| crate::helpers::texts(page, "#q-_category legend").concat();
    let page = app.citizen.get(app.url("/f/zoufang")).send().await.unwrap().text().await.unwrap();
    assert!(legend(&page).starts_with("走访对象类型"), "{}", legend(&page));
    // A record signed by its recorder neither promises anonymity nor advises how to keep it.
    let lines = crate::helpers::texts(&page, "#privacy li");
    assert!(lines[1].contains("您选择的走访对象类型，"), "{lines:?}");
    let privacy = lines.concat();
    assert!(!privacy.contains("匿名") && !privacy.contains("不会记录您是谁"), "{privacy}");
    let page = app.citizen.get(app.url("/f/zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(legend(&page).starts_with("您的身份"), "{}", legend(&page));
    let r = app.post_form("zoufang", &[]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请选择走访对象类型。"));
}

/// A visit is recorded after it took place: the picker offers no day after today, a day that has not come
/// is refused naming today (it was stored), and today itself is taken.
#[tokio::test]
async fn a_visit_cannot_be_recorded_for_a_day_that_has_not_come() {
    let app = TestApp::spawn().await;
    let today = wenji::domain::rectification::bureau_today(chrono::Utc::now().timestamp_millis());
    let page = app.citizen.get(app.url("/f/zoufang")).send().await.unwrap().text().await.unwrap();
    let picker = scraper::Html::parse_document(&page);
    // The units visited are places: the poster-and-WeChat channel is not among them.
    let units: Vec<_> = picker
        .select(&scraper::Selector::parse("[name=q_visited_unit] option, input[name=q_visited_unit]").unwrap())
        .filter_map(|o| o.attr("value"))
        .collect();
    assert!(units.contains(&"sfs-songling") && !units.contains(&"qita"), "{units:?}");
    let date = picker.select(&scraper::Selector::parse("input[name=q_visit_date]").unwrap()).next().unwrap();
    assert_eq!((date.attr("min"), date.attr("max")), (Some("2026-01-01"), Some(today.to_string().as_str())));

    let visit = |day: String| {
        [("_category", "cs"), ("q_topic", "T1"), ("q_visited_unit", "sfs-songling"), ("q_recorder", "记录员乙")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into_iter()
            .chain([
                ("q_visit_date".to_owned(), day),
                ("q_problems".to_owned(), "村里反映调解员下村次数太少，纠纷拖着没人管".to_owned()),
            ])
            .collect::<Vec<_>>()
    };
    let tomorrow = visit((today + chrono::Days::new(1)).to_string());
    let pairs: Vec<(&str, &str)> = tomorrow.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form("zoufang", &pairs).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert_eq!(
        crate::helpers::texts(&page, "#err-visit_date"),
        [format!("这一天还没有到，请填写今天（{today}）或之前的日期。")]
    );
    assert!(crate::helpers::texts(&page, "textarea[name=q_problems]")[0].contains("纠纷拖着没人管"), "typed text kept");

    let on_the_day = visit(today.to_string());
    let pairs: Vec<(&str, &str)> = on_the_day.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let answers = submit_and_read_back(&app, "zoufang", &pairs).await;
    assert_eq!(answers.get("visit_date"), Some(&wenji::domain::form::answers::Answer::Date(today)));
}

/// An instance (re)started on a forms folder edited since the last reload records what it loaded as a
/// reload by its start, and the instances already running follow it: no instance serves forms nobody
/// audited, and the instances never keep serving different forms.
#[tokio::test]
async fn an_instance_started_on_an_edited_folder_audits_it_and_the_running_ones_follow() {
    let app = TestApp::spawn().await;
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let title_at = |base: String| async move {
        let html = crate::helpers::client(false).get(format!("{base}/f/zhengqiu")).send().await.unwrap();
        crate::helpers::texts(&html.text().await.unwrap(), "h1").join("")
    };
    std::fs::write(&path, original.replace("分析检查阶段征求意见表", "重启前改过的标题")).unwrap();
    assert!(title_at(app.base.clone()).await.contains("分析检查阶段征求意见表"), "nothing changes before a start");
    let restarted = app.second_server().await;
    assert!(title_at(restarted).await.contains("重启前改过的标题"));
    let at_start = app.store().audit_entries(Some("forms_reloaded"), None, None, 10).await.unwrap();
    assert_eq!(at_start.len(), 2, "the first start and the restart on the edited folder");
    assert_eq!(at_start[0].actor_name, "启动时加载");
    let deadline = std::time::Instant::now() + 3 * wenji::web::workspace::admin_forms::FOLLOW_RELOADS_EVERY;
    while !title_at(app.base.clone()).await.contains("重启前改过的标题") {
        assert!(std::time::Instant::now() < deadline, "the running instance kept serving the other form");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Started again on the same folder, nothing new is recorded.
    app.second_server().await;
    assert_eq!(app.store().audit_entries(Some("forms_reloaded"), None, None, 10).await.unwrap().len(), 2);
}

/// Without the page's script every follow-up is shown, with when to answer it. One answered against its
/// condition (第 2 题 = 没有, yet 第 3 题 written) is refused naming what to change, its text shown back; it
/// was dropped silently behind a receipt.
#[tokio::test]
async fn a_follow_up_answered_against_its_condition_is_refused_with_its_text_kept() {
    let app = TestApp::spawn().await;
    let written = "分管基层的副局长从不来所里";
    let post = |has_member: &'static str| {
        let pairs = [
            ("_category", "qz"),
            ("q_team", "班子成员下基层调研太少"),
            ("q_has_member", has_member),
            ("q_member", written),
            ("q_satisfaction", "2"),
        ];
        let app = &app;
        async move { app.post_form("zhengqiu", &pairs).await }
    };
    let r = post("no").await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert_eq!(
        crate::helpers::texts(&page, "#err-member"),
        ["按第 2 题的回答，此题不需要填写，这里的内容不会保存：要保存，请把第 2 题改为“有”；否则请清空此题。"]
    );
    assert_eq!(crate::helpers::texts(&page, "textarea[name=q_member]"), [written], "the text is shown back");
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 0, "nothing stored");
    // Another mistake on the same page is said at once, not on the next round trip.
    let long = "长".repeat(2001);
    let pairs = [("_category", "qz"), ("q_team", long.as_str()), ("q_has_member", "no"), ("q_member", written)];
    let page = app.post_form("zhengqiu", &pairs).await.text().await.unwrap();
    assert_eq!(crate::helpers::texts(&page, "#err-member").len(), 1, "{page}");
    assert!(crate::helpers::texts(&page, "#err-team").join("").contains("2000"), "{page}");
    assert!(crate::helpers::texts(&page, "#err-satisfaction").join("").contains("必答题"), "{page}");
    assert_eq!(post("yes").await.status(), 303, "answered as its condition asks, it is taken");
}

/// A matrix half answered marks only the rows still to answer as invalid: a screen reader read every
/// grade of the answered rows as wrong too.
#[tokio::test]
async fn a_half_answered_matrix_marks_only_its_unanswered_rows_invalid() {
    let app = TestApp::spawn().await;
    let r = app.post_form("ceping", &[("_category", "jcdw"), ("q_appraisal.a1", "1"), ("q_overall", "1")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    let invalid = |row: &str| {
        let html = scraper::Html::parse_document(&page);
        let css = scraper::Selector::parse(&format!("input[name='q_appraisal.{row}']")).unwrap();
        html.select(&css).map(|i| i.value().attr("aria-invalid").is_some()).collect::<Vec<bool>>()
    };
    assert_eq!(invalid("a1"), [false; 4], "the answered row");
    assert_eq!(invalid("a2"), [true; 4], "a row still to answer");
}
