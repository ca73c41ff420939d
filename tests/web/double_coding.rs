//! Double coding over HTTP: an admin samples a form, two analysts code blind to each other, agreement
//! becomes final, a disagreement waits for the named adjudicator, and exports, the dashboard and the audit
//! log show the outcome.

use crate::helpers::{PASSWORD, TestApp, texts};
use crate::workspace::{act, area, get_html, submit};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;
use wenji::domain::agreement::Sample;
use wenji::domain::tagging::TagSource;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

/// A signed-in account named `name`: its client, CSRF token and user id.
async fn person(app: &TestApp, name: &str, role: Role) -> (reqwest::Client, String, i64) {
    app.create_user(name, role).await;
    let (c, csrf) = app.login(name, PASSWORD).await;
    let id = app.store().user_by_name(name).await.unwrap().unwrap().id;
    (c, csrf, id)
}

async fn set_coding(app: &TestApp, admin: &reqwest::Client, csrf: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    let mut body: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    body.extend_from_slice(pairs);
    admin.post(app.url("/w/admin/double-coding")).form(&body).send().await.unwrap()
}

async fn enable(app: &TestApp, percent: u8, adjudicator: i64) -> (reqwest::Client, String) {
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let (p, a) = (percent.to_string(), adjudicator.to_string());
    let r = set_coding(app, &admin, &csrf, &[("form", "zhengqiu"), ("percent", &p), ("adjudicator", &a)]).await;
    assert_eq!(r.status(), 200);
    let said = r.text().await.unwrap();
    assert!(said.contains("已设置：“分析检查阶段征求意见表”的"), "the form is named by its title: {said}");
    (admin, csrf)
}

async fn code(app: &TestApp, c: &reqwest::Client, csrf: &str, id: i64, areas: &[&str]) -> u16 {
    let mut pairs = vec![("op", "save")];
    pairs.extend(areas.iter().map(|a| ("area", *a)));
    act(app, c, csrf, id, &pairs).await.status().as_u16()
}

async fn next(app: &TestApp, c: &reqwest::Client, after: i64) -> Option<i64> {
    let v: serde_json::Value =
        c.get(app.url(&format!("/w/api/next?after={after}"))).send().await.unwrap().json().await.unwrap();
    v.get("id").and_then(serde_json::Value::as_i64)
}

fn sorted(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids
}

async fn final_areas(app: &TestApp, id: i64) -> Vec<u8> {
    app.store().opinion(id).await.unwrap().areas().iter().map(|a| a.get()).collect()
}

fn sheet_texts(bytes: &[u8], name: &str) -> Vec<String> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let r = wb.worksheet_range(name).unwrap();
    r.rows()
        .flat_map(|row| row.iter().map(|c| if let Data::String(s) = c { s.clone() } else { c.to_string() }))
        .collect()
}

#[tokio::test]
async fn two_analysts_code_blind_a_disagreement_is_adjudicated_and_the_export_and_audit_show_it() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (judge, jcsrf, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    let (admin, admin_csrf) = enable(&app, 100, judge_id).await;
    let disputed = submit(&app, "司法所窗口办事拖拉，群众来回跑").await;
    let agreed = submit(&app, "理论学习流于形式，读原著太少").await;

    // The first coder starts on one of them and moves on; nothing is final yet.
    let r = a.get(app.url("/w/tag")).send().await.unwrap();
    let to = |id: i64| format!("/w/tag/{id}");
    assert!([to(disputed), to(agreed)].iter().any(|t| r.headers()["location"] == t.as_str()));
    assert_eq!(code(&app, &a, &acsrf, disputed, &["6", "7"]).await, 303);
    assert!(final_areas(&app, disputed).await.is_empty());
    assert_eq!(next(&app, &a, 0).await, Some(agreed), "the first coder is not served what they coded");
    assert_eq!(code(&app, &a, &acsrf, agreed, &["1"]).await, 303);
    assert_eq!(next(&app, &a, 0).await, None);

    // The second coder gets both; agreeing settles one, differing sends the other to adjudication.
    let first = next(&app, &b, 0).await.unwrap();
    assert!([disputed, agreed].contains(&first));
    let other = if first == disputed { agreed } else { disputed };
    assert_eq!(next(&app, &b, first).await, Some(other), "the second coder is served both");
    assert_eq!(code(&app, &b, &bcsrf, disputed, &["6", "8"]).await, 303);
    assert_eq!(code(&app, &b, &bcsrf, agreed, &["1"]).await, 303);
    assert_eq!(final_areas(&app, agreed).await, vec![1]);
    assert!(final_areas(&app, disputed).await.is_empty());
    assert_eq!(code(&app, &a, &acsrf, disputed, &["7"]).await, 409, "both codings stand once both are in");
    let (d, _, _) = person(&app, "coder-d", Role::Analyst).await;
    assert_eq!(next(&app, &d, 0).await, None, "a third analyst is never served a coded opinion");

    // Only the named adjudicator decides; the queue shows both codings.
    let html = get_html(&app, &judge, "/w/adjudication").await;
    assert_eq!(texts(&html, ".dispute").len(), 1);
    assert_eq!(
        texts(&html, &format!("#dispute-{disputed} thead th")).join("|"),
        "领域|第一位：coder-a|第二位：coder-b|裁决"
    );
    let ticks = |col: &str| texts(&html, &format!("#dispute-{disputed} td.{col}")).iter().filter(|t| *t == "✓").count();
    assert_eq!((ticks("first"), ticks("second")), (2, 2));
    let decide = |c: &reqwest::Client, csrf: &str| {
        let body = [("_csrf", csrf.to_owned()), ("area", "6".into()), ("area", "7".into())];
        c.post(app.url(&format!("/w/adjudication/{disputed}"))).form(&body).send()
    };
    assert_eq!(decide(&b, &bcsrf).await.unwrap().status(), 403);
    // Nothing chosen: the queue comes back with the reason at this disagreement, not a bare error page.
    let none = [("_csrf", jcsrf.clone())];
    let r = judge.post(app.url(&format!("/w/adjudication/{disputed}"))).form(&none).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(texts(&page, &format!("#err-{disputed}")).concat().contains("请至少选择一个领域"), "{page}");
    assert_eq!(texts(&page, ".dispute").len(), 1);
    assert_eq!(decide(&judge, &jcsrf).await.unwrap().status(), 303);
    assert_eq!(final_areas(&app, disputed).await, vec![6, 7]);
    assert_eq!(decide(&judge, &jcsrf).await.unwrap().status(), 409, "a decision is made once");
    assert!(texts(&get_html(&app, &judge, "/w/adjudication").await, ".dispute").is_empty());
    // The decision stands: a coder who lost it cannot overrule it by tagging again; the adjudicator can
    // still correct it.
    assert_eq!(code(&app, &b, &bcsrf, disputed, &["6", "8"]).await, 409, "a coder after the decision");
    let undo = act(&app, &a, &acsrf, disputed, &[("op", "undo")]).await;
    assert_eq!(undo.status(), 409);
    assert!(undo.text().await.unwrap().contains("只有本表单的裁决人可以修改"));
    assert_eq!(final_areas(&app, disputed).await, vec![6, 7]);
    let bulk = [("_csrf", bcsrf.as_str()), ("ids", &disputed.to_string()), ("scope", "selected"), ("area", "8")];
    let bulk: Vec<_> = bulk.into_iter().chain([("action", "add"), ("confirm", "1")]).collect();
    b.post(app.url("/w/inbox/bulk")).form(&bulk).send().await.unwrap();
    assert_eq!(final_areas(&app, disputed).await, vec![6, 7], "nor by bulk tagging");
    // The adjudicator's undo of the decision itself is refused (it left the opinion with no areas, in no
    // queue); a correction made after the decision is undone back to it.
    let undo = act(&app, &judge, &jcsrf, disputed, &[("op", "undo")]).await;
    assert_eq!(undo.status(), 409);
    assert!(undo.text().await.unwrap().contains("裁决结果不能撤销"));
    assert_eq!(final_areas(&app, disputed).await, vec![6, 7]);
    assert_eq!(code(&app, &judge, &jcsrf, disputed, &["6"]).await, 303);
    assert_eq!(final_areas(&app, disputed).await, vec![6]);
    assert_eq!(act(&app, &judge, &jcsrf, disputed, &[("op", "undo")]).await.status(), 303);
    assert_eq!(final_areas(&app, disputed).await, vec![6, 7], "the correction undone");

    // The export uses the decision; 说明 gives the agreement with n.
    let full = [("form", "zhengqiu"), ("format", "xlsx"), ("unprotected", "1")];
    let bytes = app.export_as(&admin, &admin_csrf, &full).await.unwrap();
    let areas = &app.state.forms().catalog.areas;
    let on = |n: i64| {
        let name = format!("{} {}", n, areas.name(area(n)));
        sheet_texts(&bytes, &name).iter().any(|t| t.contains("群众来回跑"))
    };
    assert_eq!((on(6), on(7), on(8)), (true, true, false));
    let method = sheet_texts(&bytes, "说明");
    let at = method.iter().position(|t| t == "双人归类一致性").expect("说明 has the agreement block");
    assert_eq!(method[at + 3..at + 5], ["n".to_owned(), "2".to_owned()]);
    assert!(method.iter().any(|t| t.contains("Krippendorff α")));
    // A file of one unit counts the agreement of that unit's opinions only (none were coded here).
    app.submit_via_unit("jg-jck", "基层科的一条意见，没有双人归类").await;
    let one_unit = [("form", "zhengqiu"), ("format", "xlsx"), ("unprotected", "1"), ("unit", "jg-jck")];
    let method = sheet_texts(&app.export_as(&admin, &admin_csrf, &one_unit).await.unwrap(), "说明");
    assert!(!method.iter().any(|t| t == "双人归类一致性"), "another unit's codings in a one-unit file");

    // A leader's file covers responses up to the last midnight, so today's codings are not in its
    // agreement (a κ that moved as an opinion was coded would tell its areas); tomorrow they are.
    for i in 0..4 {
        app.submit_opinion(&format!("第 {i} 份没有双人归类的答卷")).await;
    }
    let (leader, lcsrf) = app.login_as(Role::Leader).await;
    let protected = [("form", "zhengqiu"), ("format", "xlsx")];
    let method = sheet_texts(&app.export_as(&leader, &lcsrf, &protected).await.unwrap(), "说明");
    assert!(!method.iter().any(|t| t == "双人归类一致性"), "today's codings in a leader's 说明");
    crate::helpers::a_day_passes(&app).await;
    let method = sheet_texts(&app.export_as(&leader, &lcsrf, &protected).await.unwrap(), "说明");
    let at = method.iter().position(|t| t == "双人归类一致性").expect("yesterday's codings are counted");
    assert_eq!(method[at + 3..at + 5], ["n".to_owned(), "2".to_owned()]);

    // The dashboard shows the same figures to the office.
    let dash = get_html(&app, &admin, "/w/dashboard").await;
    assert_eq!(texts(&dash, "#ag-n"), ["2"]);
    assert_eq!(texts(&dash, "#ag-same"), ["1"]);
    assert_eq!(texts(&dash, "#ag-kappa tbody tr").len(), 8);
    assert!(texts(&dash, "#ag-method").join("").contains("Cohen κ"));

    // The audit log keeps both codings and the decision.
    let log = app.store().audit_entries(None, None, None, 200).await.unwrap();
    let target = format!("opinion:{disputed}");
    let codings: Vec<(String, Option<String>)> = log
        .iter()
        .filter(|e| e.action == "coding_recorded" && e.target == target)
        .map(|e| (e.actor_name.clone(), e.after.clone()))
        .collect();
    assert_eq!(
        codings,
        [("coder-b".to_owned(), Some("6,8".to_owned())), ("coder-a".to_owned(), Some("6,7".to_owned()))]
    );
    let decision = log.iter().find(|e| e.action == "coding_adjudicated" && e.target == target).unwrap();
    assert_eq!(decision.actor_name, "judge-c");
    assert_eq!(decision.before.as_deref(), Some("slot1 coder-a: 6,7; slot2 coder-b: 6,8"));
    assert_eq!(decision.after.as_deref(), Some("6,7"));
    // The audit page names each double-coding step in Chinese, with the areas in words, and its filter
    // offers them by name.
    let page = get_html(&app, &admin, "/w/admin/audit?action=coding_adjudicated").await;
    assert_eq!(texts(&page, "#audit td.action"), ["裁决归类分歧"]);
    let name = |n: i64| format!("{n} {}", areas.name(area(n)));
    let before = texts(&page, "#audit td.before").join("");
    assert!(before.contains(&format!("coder-a：{}、{}", name(6), name(7))), "{before}");
    assert_eq!(texts(&page, "#audit td.after"), [format!("{}、{}", name(6), name(7))]);
    assert!(texts(&page, "select[name=action] option[selected]").contains(&"裁决归类分歧".to_owned()));
    let all = texts(&get_html(&app, &admin, "/w/admin/audit").await, "#audit td.action");
    assert!(all.iter().all(|a| !a.is_ascii()), "an action shown as its code: {all:?}");
}

#[tokio::test]
async fn the_second_coder_sees_neither_the_first_coding_nor_any_suggestion() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (_, _, judge) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 100, judge).await;
    let id = submit(&app, "办事效率不高，服务基层不够，理论学习也要加强").await;
    let card = |c: &reqwest::Client| {
        let url = app.url(&format!("/w/api/opinions/{id}"));
        let c = c.clone();
        async move { c.get(url).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let first = card(&a).await;
    assert!(!first["suggestions"].as_array().unwrap().is_empty(), "the first coder is helped by suggestions");
    let shown: Vec<String> = first["suggestions"].as_array().unwrap().iter().map(|s| s["code"].to_string()).collect();
    let mut accept = vec![("op", "accept")];
    accept.extend(shown.iter().map(|c| ("shown", c.as_str())));
    let r = act(&app, &a, &acsrf, id, &accept).await;
    assert_eq!(r.status(), 303);
    let own = card(&a).await;
    let chosen: Vec<&serde_json::Value> = own["areas"].as_array().unwrap().iter().filter(|c| c["on"] == true).collect();
    assert!(!chosen.is_empty(), "the first coder sees their own coding");

    // JSON: nothing ticked, no source, no suggestion, no marked word.
    let blind = card(&b).await;
    assert_eq!(blind["blind"], true);
    for chip in blind["areas"].as_array().unwrap() {
        assert_eq!(
            (chip["on"].clone(), chip["source"].clone(), chip["suggested"].clone()),
            (false.into(), serde_json::Value::Null, false.into())
        );
    }
    assert!(blind["suggestions"].as_array().unwrap().is_empty());
    assert!(blind["runs"].as_array().unwrap().iter().all(|r| r["mark"] == false));
    // The page: the same.
    let html = get_html(&app, &b, &format!("/w/tag/{id}")).await;
    assert!(texts(&html, "#areas input[checked]").is_empty());
    assert!(texts(&html, ".sugg").is_empty() && texts(&html, "#c-text mark").is_empty());
    assert!(texts(&html, "#areas .src").iter().all(String::is_empty));
    assert!(texts(&html, "#areas label.suggested").is_empty());
    assert!(!html.contains("采纳建议（") && !html.contains("suggested\""));
    assert_eq!(texts(&html, "#c-blind:not(.hidden)").len(), 1);
    // Accepting a suggestion it never saw is refused, naming the field.
    let r = act(&app, &b, &bcsrf, id, &[("op", "accept")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("操作："));
}

#[tokio::test]
async fn a_sample_is_the_same_in_the_queue_and_in_the_rules_and_nobody_codes_both_slots() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (_, _, judge) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 50, judge).await;
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(submit(&app, &format!("第{i}条：窗口服务态度需要改进")).await);
    }
    let form = app.store().coding_forms().await.unwrap().pop().unwrap();
    let sample = Sample::new(50, form.salt).unwrap();
    let sampled: Vec<i64> = ids.iter().copied().filter(|id| sample.contains(*id)).collect();
    // The first analyst walks the whole queue: every opinion once.
    let mut walked = Vec::new();
    let mut at = 0;
    while let Some(id) = next(&app, &a, at).await {
        assert!(walked.len() < ids.len(), "the queue serves an opinion twice: {walked:?} then {id}");
        assert_eq!(code(&app, &a, &acsrf, id, &["7"]).await, 303);
        walked.push(id);
        at = id;
    }
    assert_eq!(sorted(&walked), ids, "every opinion once");
    // Re-saving one's own coding replaces it and takes no second slot.
    if let Some(first) = sampled.first() {
        assert_eq!(code(&app, &a, &acsrf, *first, &["7", "6"]).await, 303);
        assert_eq!(app.store().coding_status(*first).await.unwrap().codings.len(), 1);
    }
    // The second is served exactly the sampled ones, as the database and the rules both pick them.
    let mut second = Vec::new();
    at = 0;
    while let Some(id) = next(&app, &b, at).await {
        assert!(second.len() < sampled.len(), "the second coder is served more than the sample: {second:?} then {id}");
        assert_eq!(code(&app, &b, &bcsrf, id, &["7"]).await, 303);
        second.push(id);
        at = id;
    }
    assert_eq!(sorted(&second), sampled);
    for id in &ids {
        let want: Vec<u8> = if sampled.first() == Some(id) { vec![] } else { vec![7] };
        assert_eq!(final_areas(&app, *id).await, want, "opinion {id}");
    }
}

#[tokio::test]
async fn bad_double_coding_settings_and_decisions_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let (_, _, analyst) = person(&app, "coder-a", Role::Analyst).await;
    let (_, _, leader) = person(&app, "leader-x", Role::Leader).await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let (an, le) = (analyst.to_string(), leader.to_string());
    let huge = "9".repeat(40);
    let long = "x".repeat(5000);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("form", "zhengqiu"), ("percent", "101"), ("adjudicator", &an)], "抽样比例"),
        (vec![("form", "zhengqiu"), ("percent", "-1"), ("adjudicator", &an)], "抽样比例"),
        (vec![("form", "zhengqiu"), ("percent", "abc"), ("adjudicator", &an)], "抽样比例"),
        (vec![("form", "zhengqiu"), ("percent", &huge), ("adjudicator", &an)], "抽样比例"),
        (vec![("form", "zhengqiu"), ("percent", "20\u{0}"), ("adjudicator", &an)], ""),
        (vec![("form", "zhengqiu"), ("percent", "2\u{200b}0"), ("adjudicator", &an)], "抽样比例"),
        (vec![("form", "zhengqiu"), ("percent", "20"), ("adjudicator", "")], "裁决人"),
        (vec![("form", "zhengqiu"), ("percent", "20"), ("adjudicator", &le)], "裁决人"),
        (vec![("form", "zhengqiu"), ("percent", "20"), ("adjudicator", &huge)], "裁决人"),
        (vec![("form", "no-such-form"), ("percent", "20"), ("adjudicator", &an)], "表单"),
        (vec![("form", &long), ("percent", "20"), ("adjudicator", &an)], ""),
        (vec![("form", "zhengqiu\u{0}"), ("percent", "20"), ("adjudicator", &an)], ""),
    ];
    for (pairs, field) in &cases {
        let r = set_coding(&app, &admin, &csrf, pairs).await;
        // NUL and over-long values are refused by the staff body check (422) before any field is read; a
        // bad row comes back on the page (422) with what was typed, an unknown form is a 400.
        let want = if *field == "表单" { 400 } else { 422 };
        assert_eq!(r.status(), want, "{pairs:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(&format!("{field}：")) || field.is_empty(), "{field} named for {pairs:?}: {page}");
        if !field.is_empty() && *field != "表单" {
            assert_eq!(texts(&page, "#err-zhengqiu").len(), 1, "shown on its row: {page}");
            assert!(texts(&page, "#staff-header").len() == 1, "the page itself, not an error page");
            let doc = scraper::Html::parse_document(&page);
            let sel = scraper::Selector::parse("tr[data-form=zhengqiu] input[name=percent]").unwrap();
            let typed = doc.select(&sel).next().unwrap().value().attr("value").unwrap().to_owned();
            let sent = pairs.iter().find(|(k, _)| *k == "percent").unwrap().1;
            assert_eq!(typed, sent.chars().take(20).collect::<String>(), "kept as typed");
        }
    }
    assert!(app.store().coding_forms().await.unwrap().is_empty(), "nothing was stored");

    // The decision route: hostile ids and areas are 4xx, never a 500.
    let (judge, jcsrf, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    let r = set_coding(
        &app,
        &admin,
        &csrf,
        &[("form", "zhengqiu"), ("percent", "100"), ("adjudicator", &judge_id.to_string())],
    )
    .await;
    assert_eq!(r.status(), 200);
    let id = submit(&app, "希望加强基层法律服务").await.to_string();
    for (path, a) in [
        (id.as_str(), "9"),
        (id.as_str(), "abc"),
        (id.as_str(), "1\u{0}"),
        (id.as_str(), huge.as_str()),
        (id.as_str(), ""),
        (huge.as_str(), "1"),
        ("-1", "1"),
        ("abc", "1"),
    ] {
        let r = judge
            .post(app.url(&format!("/w/adjudication/{path}")))
            .form(&[("_csrf", jcsrf.as_str()), ("area", a)])
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert!((400..500).contains(&s), "{path} {a:?}: {s}");
    }
    // A real opinion without a disagreement is a conflict, not a decision.
    let r = judge
        .post(app.url(&format!("/w/adjudication/{id}")))
        .form(&[("_csrf", jcsrf.as_str()), ("area", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(final_areas(&app, id.parse().unwrap()).await.is_empty());
}

#[tokio::test]
async fn bulk_tagging_skips_opinions_still_under_double_coding_and_says_how_many() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "bulk-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "bulk-b", Role::Analyst).await;
    let (_, _, judge) = person(&app, "bulk-judge", Role::Analyst).await;
    let (admin, admin_csrf) = enable(&app, 100, judge).await;
    let settled = submit(&app, "理论学习流于形式，读原著太少").await;
    let open = submit(&app, "司法所窗口办事拖拉，群众来回跑").await;
    let ordinary = submit(&app, "调解员补贴太低").await;
    app.store()
        .set_tags(ordinary, &[crate::workspace::area(2)], |_| TagSource::Typed, &Actor::system("test"))
        .await
        .unwrap();
    assert_eq!(code(&app, &a, &acsrf, settled, &["1"]).await, 303);
    assert_eq!(code(&app, &b, &bcsrf, settled, &["1"]).await, 303);
    assert_eq!(code(&app, &a, &acsrf, open, &["6"]).await, 303);

    let (s, o, n) = (settled.to_string(), open.to_string(), ordinary.to_string());
    let body = [("_csrf", acsrf.as_str()), ("ids", &s), ("ids", &o), ("ids", &n), ("scope", "selected"), ("area", "7")];
    let preview: Vec<_> = body.into_iter().chain([("action", "add")]).collect();
    let html = a.post(app.url("/w/inbox/bulk")).form(&preview).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&html, "#bulk-held"), ["2"], "the preview says two will be skipped");
    let body: Vec<_> = body.into_iter().chain([("action", "add"), ("confirm", "1")]).collect();
    let html = a.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap().text().await.unwrap();
    let message = texts(&html, "p.message").join("");
    assert!(message.contains("已对 1 条意见添加"), "{message}");
    assert!(message.contains("另有 2 条意见正在双人归类或已由双人归类定稿，已跳过"), "{message}");
    assert_eq!(final_areas(&app, settled).await, vec![1], "agreed by both coders: the adjudicator's to change");
    assert!(final_areas(&app, open).await.is_empty(), "no final tag while the second coder has not coded");
    assert_eq!(final_areas(&app, ordinary).await, vec![2, 7]);
    // Double coding turned off: no adjudicator, and the agreed tags are ordinary ones again.
    let off =
        set_coding(&app, &admin, &admin_csrf, &[("form", "zhengqiu"), ("percent", "0"), ("adjudicator", "")]).await;
    assert_eq!(off.status(), 200);
    assert_eq!(code(&app, &a, &acsrf, settled, &["1", "3"]).await, 303);
    assert_eq!(final_areas(&app, settled).await, vec![1, 3]);
}

#[tokio::test]
async fn the_offices_summary_sheet_counts_opinions_and_their_groups_for_a_whole_form_only() {
    let app = TestApp::spawn().await;
    // Five responses: a form under k shows leaders and protected files only "<k" (the disclosure test).
    for text in [
        "理论学习流于形式，读原著太少",
        "司法所窗口办事拖拉，群众来回跑",
        "调解员补贴太低",
        "普法宣传走过场",
        "窗口服务态度生硬",
    ] {
        submit(&app, text).await;
    }
    crate::helpers::a_day_passes(&app).await;
    let g = app.store().group_count(Some("zhengqiu"), None).await.unwrap();
    assert!(g.opinions >= 5);
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let whole = [("form", "zhengqiu"), ("format", "xlsx"), ("unprotected", "1")];
    let whole = app.export_as(&admin, &csrf, &whole).await.unwrap();
    let line = format!("意见 {} 条，归并为 {} 组", g.opinions, g.groups);
    assert!(sheet_texts(&whole, "汇总").contains(&line), "汇总 says {line}");
    // Leaders' file never: groups form across opinions it does not show (see the dashboard test).
    let protected = app.export_as(&admin, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    assert!(!sheet_texts(&protected, "汇总").iter().any(|t| t.contains("归并为")), "no group count for leaders");
    let part = [("form", "zhengqiu"), ("format", "xlsx"), ("unprotected", "1"), ("from", "2020-01-01")];
    let part = app.export_as(&admin, &csrf, &part).await.unwrap();
    assert!(!sheet_texts(&part, "汇总").iter().any(|t| t.contains("归并为")), "no group count for a date range");
}

/// Two different decisions on one disagreement sent at the same moment (two pages, or two servers): one is
/// stored, and the other is told its choice was not, never "the same change was just saved".
#[tokio::test]
async fn two_different_decisions_at_once_store_one_and_tell_the_other_it_was_not_stored() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (judge, jcsrf, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 100, judge_id).await;
    let disputed = submit(&app, "调解员补贴长期不到位").await;
    assert_eq!(code(&app, &a, &acsrf, disputed, &["6"]).await, 303);
    assert_eq!(code(&app, &b, &bcsrf, disputed, &["5"]).await, 303);
    let decide = |choice: &'static str| {
        let body = [("_csrf", jcsrf.clone()), ("area", choice.to_owned())];
        judge.post(app.url(&format!("/w/adjudication/{disputed}"))).form(&body).send()
    };
    let (one, two) = tokio::join!(decide("5"), decide("6"));
    let mut answers = Vec::new();
    for r in [one.unwrap(), two.unwrap()] {
        answers.push((r.status().as_u16(), r.text().await.unwrap()));
    }
    answers.sort_by_key(|(s, _)| *s);
    assert_eq!((answers[0].0, answers[1].0), (303, 409), "one decision stands");
    assert!(!answers[1].1.contains("同样的修改"), "the refused choice was not the same change: {}", answers[1].1);
    assert_eq!(final_areas(&app, disputed).await.len(), 1);
}

#[tokio::test]
async fn second_thoughts_and_the_other_coders_first_coding_sent_at_once_end_agreed_or_disputed_never_between() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (_, _, judge) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 100, judge).await;
    for round in 0..16 {
        let id = submit(&app, &format!("第 {round} 条：窗口排队时间长，办事要跑好几趟")).await;
        assert_eq!(code(&app, &a, &acsrf, id, &["1"]).await, 303);
        // Coder a goes back and changes their mind while coder b codes for the first time.
        let theirs = [if round % 2 == 0 { "1" } else { "2" }];
        let (ra, rb) = tokio::join!(code(&app, &a, &acsrf, id, &["2"]), code(&app, &b, &bcsrf, id, &theirs));
        assert!([303, 409].contains(&ra) && rb == 303, "round {round}: {ra} {rb}");
        let status = app.store().coding_status(id).await.unwrap();
        let codings: Vec<Vec<u8>> = status.codings.iter().map(|c| c.areas.iter().map(|x| x.get()).collect()).collect();
        let opinion = app.store().opinion(id).await.unwrap();
        let tags: Vec<u8> = opinion.areas().iter().map(|x| x.get()).collect();
        assert_eq!(codings.len(), 2, "round {round}");
        if codings[0] == codings[1] {
            assert_eq!(tags, codings[0], "round {round}: an agreement becomes the final tags");
            assert!(!status.open, "round {round}: and is settled");
            assert_eq!(code(&app, &a, &acsrf, id, &["3"]).await, 409, "round {round}: only the adjudicator changes it");
        } else {
            assert!(tags.is_empty(), "round {round}: a dispute sets no tags before adjudication: {codings:?} {tags:?}");
            assert!(status.open, "round {round}: and waits for the adjudicator");
        }
    }
}

/// Nobody decides a disagreement they coded; a disagreement left out of the sample (its percentage lowered)
/// is tagged as any other opinion and no longer decided, so no decision overwrites tags unseen; while an
/// opinion is double coded only the adjudicator sets its state (the second coder read the first's 无效).
#[tokio::test]
async fn the_adjudicator_decides_only_others_open_disagreements_and_only_it_sets_their_state() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, b_id) = person(&app, "coder-b", Role::Analyst).await;
    let (judge, jcsrf, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    let (admin, admin_csrf) = enable(&app, 100, b_id).await;
    let decide = |id: i64| {
        let body = [("_csrf", jcsrf.clone()), ("area", "1".to_owned())];
        judge.post(app.url(&format!("/w/adjudication/{id}"))).form(&body).send()
    };
    // The adjudicator coded one side, before the admin named them.
    let own = submit(&app, "调解员补贴长期不到位").await;
    assert_eq!(code(&app, &a, &acsrf, own, &["6"]).await, 303);
    assert_eq!(code(&app, &judge, &jcsrf, own, &["5"]).await, 303);
    let judge_s = judge_id.to_string();
    let named = [("form", "zhengqiu"), ("percent", "100"), ("adjudicator", judge_s.as_str())];
    let page = set_coding(&app, &admin, &admin_csrf, &named).await.text().await.unwrap();
    assert!(texts(&page, "#stuck-zhengqiu").concat().contains("有 1 条分歧是现任裁决人自己参与归类的"), "{page}");
    // Once named, they code nothing of the form: a disagreement they coded nobody could decide.
    let fresh = submit(&app, "法律援助审批太慢").await;
    let r = act(&app, &judge, &jcsrf, fresh, &[("op", "save"), ("area", "2")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("不参与独立归类"));
    assert_eq!(next(&app, &judge, 0).await, None, "every opinion of the form is sampled: none is served to them");
    let queue = get_html(&app, &judge, "/w/adjudication").await;
    assert!(!queue.contains("调解员补贴长期不到位"), "not offered: {queue}");
    let r = decide(own).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("不能裁决自己参与的分歧"));
    let waiting = async || texts(&get_html(&app, &admin, "/w/dashboard").await, "#ag-disputes");
    assert_eq!(waiting().await, ["0"], "the dashboard counts what the queues list");
    let r = act(&app, &judge, &jcsrf, own, &[("op", "state"), ("state", "invalid")]).await;
    assert_eq!(r.status(), 409, "nor, having coded it, marks it 无效 for the other coder to read");
    // While open, a coder's 无效 would show on the other's card: only the adjudicator sets it.
    let open = submit(&app, "窗口办事要跑好几趟").await;
    assert_eq!(code(&app, &a, &acsrf, open, &["7"]).await, 303);
    let r = act(&app, &a, &acsrf, open, &[("op", "state"), ("state", "invalid")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("只能由本表单的裁决人修改"));
    assert_eq!(act(&app, &judge, &jcsrf, open, &[("op", "state"), ("state", "verify")]).await.status(), 303);
    // A disagreement, then the sample lowered to nothing: its tags are ordinary ones now.
    let dropped = submit(&app, "理论学习流于形式").await;
    assert_eq!(code(&app, &a, &acsrf, dropped, &["1"]).await, 303);
    assert_eq!(code(&app, &b, &bcsrf, dropped, &["2"]).await, 303);
    let off = [("form", "zhengqiu"), ("percent", "0"), ("adjudicator", judge_s.as_str())];
    assert_eq!(set_coding(&app, &admin, &admin_csrf, &off).await.status(), 200);
    assert_eq!(code(&app, &a, &acsrf, dropped, &["4"]).await, 303);
    assert!(!get_html(&app, &judge, "/w/adjudication").await.contains("理论学习流于形式"));
    let r = decide(dropped).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("已不在双人归类的抽样中"));
    assert_eq!(final_areas(&app, dropped).await, [4], "the ordinary tag stays");
    assert_eq!(waiting().await, ["0"]);
}

/// A second coder's card drawn with a suggestion before the first coding landed is refused, not stored as
/// that coder's blind coding (it would count the model's guess as independent agreement).
#[tokio::test]
async fn a_card_drawn_before_it_became_blind_is_refused_and_not_stored_as_a_blind_coding() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (_, _, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 100, judge_id).await;
    let id = submit(&app, "窗口办事要跑好几趟").await;
    assert_eq!(code(&app, &a, &acsrf, id, &["7"]).await, 303);
    let r = act(&app, &b, &bcsrf, id, &[("op", "save"), ("area", "7"), ("suggested", "7")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("看不到建议的情况下独立归类"));
    // As the script sends it: the suggestion unticked, another area typed; the card still showed it.
    let r = act(&app, &b, &bcsrf, id, &[("op", "save"), ("area", "2"), ("shown", "7")]).await;
    assert_eq!(r.status(), 409);
    assert_eq!(app.store().coding_status(id).await.unwrap().codings.len(), 1, "nothing stored");
    let card = get_html(&app, &b, &format!("/w/tag/{id}")).await;
    assert_eq!(texts(&card, "#c-suggest"), ["双人归类的第二位不看建议：请独立判断，按数字键选择"], "not 模型没有把握");
    assert_eq!(code(&app, &b, &bcsrf, id, &["7"]).await, 303, "from the blind card");
}

/// While an opinion is double coded a coder's note, which may name their areas, or 典型意见 mark is refused
/// (both showed on the other's blind card); the adjudicator's note is kept, and anyone's once the codings agree. The store
/// itself refuses a coding from a card that showed a suggestion once the other coding landed: the page's
/// check read the status before the write and could be overtaken.
#[tokio::test]
async fn coders_leave_no_notes_for_each_other_and_a_suggestion_seen_before_blind_is_refused_by_the_store() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, b_id) = person(&app, "coder-b", Role::Analyst).await;
    let (judge, jcsrf, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 100, judge_id).await;
    let id = submit(&app, "执法检查只走过场").await;
    let note = |c: &reqwest::Client, csrf: &str, text: &'static str| {
        let body = [("_csrf", csrf.to_owned()), ("op", "note".into()), ("text", text.into())];
        c.post(app.url(&format!("/w/tag/{id}"))).form(&body).send()
    };
    for before_or_after_coding in [false, true] {
        if before_or_after_coding {
            assert_eq!(code(&app, &a, &acsrf, id, &["3"]).await, 303);
        }
        let r = note(&a, &acsrf, "我归入领域3，不是领域5").await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("备注和典型意见标记只能由本表单的裁决人添加"));
        let r = act(&app, &a, &acsrf, id, &[("op", "representative"), ("on", "1")]).await;
        assert_eq!(r.status(), 409, "the 典型意见 mark showed on the other's card too");
    }
    assert_eq!(note(&judge, &jcsrf, "请两位各自独立判断").await.unwrap().status(), 303);
    // Nor a problem: its page shows the opinion under the problem's areas, the linking coder's judgement.
    let problem = crate::register::create_problem(&app, &a, &acsrf, "执法检查走过场").await.to_string();
    let ids = id.to_string();
    let link = [("_csrf", acsrf.as_str()), ("ids", ids.as_str()), ("problem", problem.as_str())];
    let r = a.post(app.url("/w/problems/link")).form(&link).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("正在双人归类，归入问题会让另一位分析人员看到判断"));
    let notes: Vec<String> = app.store().opinion(id).await.unwrap().notes.into_iter().map(|n| n.author).collect();
    assert_eq!(notes, ["judge-c"]);
    let b_actor = Actor { id: Some(b_id), name: "coder-b".into(), once: None };
    let r = app.store().record_coding(id, &[area(3)], |_| TagSource::Suggested, true, &b_actor).await;
    assert!(matches!(&r, Err(wenji::store::StoreError::Conflict(m)) if m.contains("看不到建议")), "{r:?}");
    assert_eq!(app.store().coding_status(id).await.unwrap().codings.len(), 1, "nothing stored");
    assert_eq!(code(&app, &b, &bcsrf, id, &["3"]).await, 303, "from the blind card: agreed");
    assert_eq!(final_areas(&app, id).await, [3]);
    assert_eq!(note(&a, &acsrf, "定稿后补充：涉及两个所").await.unwrap().status(), 303, "settled: notes are open");
}

/// The queue lists the oldest hundred disagreements and says when more wait (it stopped at 100 silently).
#[tokio::test]
async fn the_adjudication_queue_says_when_more_disagreements_wait_than_it_lists() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "coder-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "coder-b", Role::Analyst).await;
    let (judge, _, judge_id) = person(&app, "judge-c", Role::Analyst).await;
    enable(&app, 100, judge_id).await;
    for i in 0..101 {
        let id = submit(&app, &format!("第{i}条：调解员补贴长期不到位")).await;
        assert_eq!(code(&app, &a, &acsrf, id, &["6"]).await, 303);
        assert_eq!(code(&app, &b, &bcsrf, id, &["5"]).await, 303);
    }
    let page = get_html(&app, &judge, "/w/adjudication").await;
    assert_eq!(texts(&page, "section.dispute").len(), 100);
    assert_eq!(texts(&page, "#more").len(), 1, "says more wait");
}

/// Double coding switched on after tagging began: an opinion whose areas were then taken off is coded from
/// scratch. Undoing that removal, alone or in bulk, put the old areas back as final tags beside the open
/// coding: the opinion left every queue, its second coding and adjudication never done. Both undos now
/// leave it to its coders, and a coder's `u` after their own coding says it cannot undo (it said 已撤销).
#[tokio::test]
async fn an_undo_never_puts_final_tags_on_an_opinion_being_double_coded() {
    let app = TestApp::spawn().await;
    let (a, acsrf, _) = person(&app, "undo-a", Role::Analyst).await;
    let (b, bcsrf, _) = person(&app, "undo-b", Role::Analyst).await;
    let (c, _, _) = person(&app, "undo-c", Role::Analyst).await;
    let (_, _, judge) = person(&app, "undo-judge", Role::Analyst).await;
    let alone = submit(&app, "公证处排队时间太长，周末也不开门").await;
    let in_bulk = submit(&app, "村法律顾问一个月来不了一次").await;
    for id in [alone, in_bulk] {
        assert_eq!(code(&app, &a, &acsrf, id, &["3"]).await, 303, "tagged before double coding");
    }
    enable(&app, 100, judge).await;
    // Alone: the area taken off, the opinion coded by b, then a undoes the removal.
    assert_eq!(code(&app, &a, &acsrf, alone, &[]).await, 303);
    assert_eq!(code(&app, &b, &bcsrf, alone, &["5"]).await, 303, "b's coding");
    let r = act(&app, &a, &acsrf, alone, &[("op", "undo")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("正在双人归类，不能撤销"));
    assert!(final_areas(&app, alone).await.is_empty(), "no final tags beside the open coding");
    // The coder's own u: refused, not a silent 已撤销.
    assert_eq!(act(&app, &b, &bcsrf, alone, &[("op", "undo")]).await.status(), 409);
    // In bulk: the area taken off in bulk, coded by b, the bulk change undone.
    let y = in_bulk.to_string();
    let remove = [("_csrf", acsrf.as_str()), ("ids", &y), ("scope", "selected"), ("area", "3")];
    let remove: Vec<_> = remove.into_iter().chain([("action", "remove"), ("confirm", "1")]).collect();
    let done = a.post(app.url("/w/inbox/bulk")).form(&remove).send().await.unwrap().text().await.unwrap();
    let at = crate::helpers::hidden(&done, "at").expect("the undo form");
    assert!(final_areas(&app, in_bulk).await.is_empty());
    assert_eq!(code(&app, &b, &bcsrf, in_bulk, &["5"]).await, 303, "b's coding");
    let undo = [("_csrf", acsrf.as_str()), ("at", at.as_str())];
    let said = a.post(app.url("/w/inbox/bulk/undo")).form(&undo).send().await.unwrap().text().await.unwrap();
    assert!(final_areas(&app, in_bulk).await.is_empty(), "the bulk undo left it to its coders: {said}");
    // Both wait for their second coder.
    // (Each analyst's queue has an order of its own: the second is the one after the first.)
    let first = next(&app, &c, 0).await.expect("one waits");
    let second = next(&app, &c, first).await.expect("another waits");
    assert_eq!(sorted(&[first, second]), sorted(&[alone, in_bulk]), "both in the queue");
}
