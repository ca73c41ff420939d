//! The citizens' path: the form, validation with named field errors, links, idempotency, escaping.

use crate::helpers::{TestApp, hidden, texts};
use serde_json::json;
use wenji::domain::form::answers::Answer;
use wenji::store::audit::Actor;

fn field_error(html: &str, field: &str) -> Option<String> {
    texts(html, &format!("#err-{field}")).into_iter().next()
}

#[tokio::test]
async fn a_valid_html_submission_redirects_to_a_receipt_and_stores_one_opinion() {
    let app = TestApp::spawn().await;
    let receipt = app.submit_opinion("希望领导多下基层，服务群众").await;
    assert!(receipt.starts_with("WJ-"));
    let page = app.citizen.get(app.url(&format!("/f/zhengqiu/r/{receipt}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert_eq!(texts(&page, "#receipt-code"), vec![receipt.clone()]);
    assert!(page.contains(r#"<a href="/gongkai">整改公开</a>"#), "the receipt says where the outcome is published");
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert_eq!(stored.category_code.as_deref(), Some("qz"));
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
}

#[tokio::test]
async fn the_page_posts_multipart_and_a_page_opened_before_posting_urlencoded_still_submits() {
    let app = TestApp::spawn().await;
    let page = app.citizen.get(app.url("/f/zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"enctype="multipart/form-data""#), "the form page posts multipart");
    let text = "第一段：调解员补贴多年未调整 😀\r\n第二段：“引号” & 50% + 加号 = 等号";
    let answers = [("_category", "qz"), ("q_team", text), ("q_has_member", "no"), ("q_satisfaction", "2")];
    let via_multipart = app.post_form("zhengqiu", &answers).await;
    let key = app.form_key("zhengqiu").await;
    let mut urlencoded = vec![("_key", key.as_str())];
    urlencoded.extend_from_slice(&answers);
    let via_urlencoded = app.citizen.post(app.url("/f/zhengqiu")).form(&urlencoded).send().await.unwrap();
    for r in [via_multipart, via_urlencoded] {
        assert_eq!(r.status(), 303);
        let receipt = r.headers()["location"].to_str().unwrap().split("/r/").nth(1).unwrap().to_owned();
        let stored = app.store().response_by_receipt(&receipt).await.unwrap();
        let expected = text.replace("\r\n", "\n");
        assert_eq!(stored.answers.get("team"), Some(&Answer::Text(expected)), "{receipt}");
        assert_eq!(stored.category_code.as_deref(), Some("qz"));
    }
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 2);
}

#[tokio::test]
async fn every_validation_rule_names_its_field_in_chinese_and_keeps_the_input() {
    let app = TestApp::spawn().await;
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[("q_pick", "a")], "opinion", "必答题"),
        (&[("q_opinion", "字"), ("q_pick", "a")], "opinion", "至少写 2 个字"),
        (&[("q_opinion", &"长".repeat(51)), ("q_pick", "a")], "opinion", "最多 50 个字"),
        (&[("q_opinion", "好的意见"), ("q_pick", "c")], "pick", "请从给出的选项中选择"),
        (&[("q_opinion", "好的意见"), ("q_pick", "b")], "more", "必答题"),
        (
            &[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_many", "x"), ("q_many", "y"), ("q_many", "z")],
            "many",
            "最多选择 2 项",
        ),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_rate", "9")], "rate", "等级"),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_grid.a1", "7")], "grid", "等级"),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_count", "abc")], "count", "请填写数字"),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_count", "2.5")], "count", "请填写整数"),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_count", "500")], "count", "1 到 100"),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_day", "2026/05/01")], "day", "2026-05-01 的格式"),
        (
            &[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_day", "2031-01-01")],
            "day",
            "2020-01-01 到 2030-12-31 之间的日期",
        ),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_tel", "abc")], "tel", "有效的电话号码"),
        (
            &[("q_opinion", "好的意见"), ("q_pick", "a"), ("q_short", "超过十个字的简短回答啊啊")],
            "short",
            "最多 10 个字",
        ),
        (&[("q_opinion", "好的意见"), ("q_pick", "a"), ("_category", "zz")], "_category", "请从给出的身份中选择"),
    ];
    for (pairs, field, reason) in cases {
        let mut body: Vec<(&str, &str)> = pairs.to_vec();
        if !pairs.iter().any(|(k, _)| *k == "_category") {
            body.push(("_category", "qz"));
        }
        let r = app.post_form("alltypes", &body).await;
        assert_eq!(r.status(), 422, "{field}: {reason}");
        let html = r.text().await.unwrap();
        let msg = field_error(&html, field).unwrap_or_else(|| panic!("no error shown for {field} ({reason})"));
        assert!(msg.contains(reason), "{field}: expected {reason:?}, got {msg:?}");
        // What was typed is still there.
        if let Some((_, v)) = pairs.iter().find(|(k, _)| *k == "q_opinion") {
            assert!(texts(&html, "textarea[name=q_opinion]").contains(&v.to_string()), "typed text kept for {field}");
        }
    }
    assert_eq!(app.store().count_responses(Some("alltypes")).await.unwrap(), 0);
}

/// A follow-up its condition hides: left empty it is ignored; answered, the post is refused naming it
/// (the text was dropped behind a receipt), see `forms::a_follow_up_answered_against_its_condition…`.
#[tokio::test]
async fn a_hidden_conditional_question_left_empty_or_invisible_is_ignored_and_answered_is_refused() {
    let app = TestApp::spawn().await;
    let post = |more: &'static str| {
        let app = &app;
        async move {
            let pairs = [("_category", "qz"), ("q_opinion", "意见内容"), ("q_pick", "a"), ("q_more", more)];
            app.post_form("alltypes", &pairs).await
        }
    };
    let r = post("不应保存").await;
    assert_eq!(r.status(), 422);
    assert!(!crate::helpers::texts(&r.text().await.unwrap(), "#err-more").is_empty());
    // Longer than the question allows (an answer that would not pass): still refused, never dropped.
    let long: &'static str = "写了很长的意见".repeat(20).leak();
    let r = post(long).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(!crate::helpers::texts(&page, "#err-more").is_empty());
    assert!(page.contains(long), "the typed text is kept");
    // Spaces and zero-width characters left in it are nothing typed: ignored, as an empty box.
    let r = post(" \u{200B}\u{FEFF}\u{2060} ").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = post("").await;
    assert_eq!(r.status(), 303);
    let receipt = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert!(stored.answers.get("more").is_none());
}

#[tokio::test]
async fn json_submissions_validate_with_named_fields() {
    let app = TestApp::spawn().await;
    let ok = json!({"category": "qz", "answers": {"opinion": "意见内容", "pick": "a", "many": ["x", "y"], "grid": {"a1": "1", "a2": "2"}, "count": 3, "day": "2026-05-01", "tel": "13800138000"}});
    let r = app.submit_json("alltypes", "json-key-0001", &ok).await;
    assert_eq!(r.status(), 201);
    let receipt = r.json::<serde_json::Value>().await.unwrap()["receipt"].as_str().unwrap().to_owned();
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert!(stored.answers.get("tel").is_none(), "contact details are stored apart from the answers");
    let bad = json!({"category": "qz", "answers": {"opinion": "x", "pick": "q"}});
    let r = app.submit_json("alltypes", "json-key-0002", &bad).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["opinion", "pick"]);
    let r = app.citizen.post(app.url("/api/v1/forms/alltypes/responses")).json(&ok).send().await.unwrap();
    assert_eq!(r.status(), 400, "a missing Idempotency-Key is refused");
}

#[tokio::test]
async fn a_closed_or_not_yet_open_form_says_so_and_refuses_submissions() {
    let app = TestApp::spawn().await;
    let page = app.citizen.get(app.url("/f/closed")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("2020年02月01日") && page.contains("截止"), "{page}");
    let r = app.citizen.post(app.url("/f/closed")).form(&[("_key", "x"), ("q_opinion", "晚了")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("截止"));
    assert_eq!(texts(&page, ".kept textarea"), ["晚了"], "what was typed comes back to copy");
    // A revoked link to a closed form says the form is closed, not to ask for a new link.
    let link = app.store().create_link("closed", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap();
    app.store().set_link_revoked(link.id, true, &Actor::system("test")).await.unwrap();
    let token = app.state.secret.link_token(link.id, "closed", "sfs-qingxi", None);
    let page = app.citizen.get(app.url(&format!("/f/closed?t={token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("截止") && !page.contains("新的链接"), "{page}");
    // A form taken down while someone wrote: the same.
    let r = app.citizen.post(app.url("/f/taken-down")).form(&[("q_opinion", "写好的意见"), ("q_pick", "y")]).send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(texts(&r.text().await.unwrap(), ".kept textarea"), ["写好的意见"]);
    let r = app.submit_json("closed", "closed-key-01", &json!({"answers": {"opinion": "晚了"}})).await;
    assert_eq!(r.status(), 403);
    let page = app.citizen.get(app.url("/f/future")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("尚未开放") && page.contains("2999年01月01日"));
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}

#[tokio::test]
async fn a_unit_link_binds_the_unit_and_forged_or_edited_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let qingxi = app.store().create_link("zhengqiu", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap();
    let baishi = app.store().create_link("zhengqiu", "sfs-baishi", None, "", &Actor::system("test")).await.unwrap();
    let token = app.state.secret.link_token(qingxi.id, "zhengqiu", "sfs-qingxi", None);
    // Pasted from a chat with what followed it (a full stop, a bracket): still the link.
    for pasted in [format!("{token}%E3%80%82"), format!("{token})"), format!("{token}.")] {
        let r = app.citizen.get(app.url(&format!("/f/zhengqiu?t={pasted}"))).send().await.unwrap();
        assert_eq!(r.status(), 200, "{pasted}");
        assert!(r.text().await.unwrap().contains("清溪镇司法所"), "{pasted}");
    }
    let page = app.citizen.get(app.url(&format!("/f/zhengqiu?t={token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("清溪镇司法所"));
    let key = hidden(&page, "_key").unwrap();
    let answers = [
        ("_t", token.as_str()),
        ("_category", "qz"),
        ("q_team", "调解工作做得好"),
        ("q_has_member", "no"),
        ("q_satisfaction", "1"),
    ];
    let r = app.post_form_with_key("zhengqiu", &key, &answers).await;
    assert_eq!(r.status(), 303);
    let receipt =
        r.headers()["location"].to_str().unwrap().split("/r/").nth(1).unwrap().split('?').next().unwrap().to_owned();
    assert_eq!(app.store().response_by_receipt(&receipt).await.unwrap().unit_code.as_deref(), Some("sfs-qingxi"));
    // Editing the id into another unit's link, or inventing a signature, is refused.
    let edited = token.replacen(&qingxi.id.to_string(), &baishi.id.to_string(), 1);
    let forged = format!("{}.AAAAAAAAAAAAAAAAAAAAAA", baishi.id);
    for bad in [edited.as_str(), forged.as_str(), "garbage"] {
        let r = app.citizen.get(app.url(&format!("/f/zhengqiu?t={bad}"))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{bad}");
        let r = app.submit_json("zhengqiu", &format!("k-{}", hex::encode(bad)), &json!({"link": bad, "category": "qz", "answers": {"team": "伪造的链接", "has_member": "no", "satisfaction": "1"}})).await;
        assert_eq!(r.status(), 403, "{bad}");
    }
    app.store().set_link_revoked(qingxi.id, true, &Actor::system("test")).await.unwrap();
    let r = app.citizen.get(app.url(&format!("/f/zhengqiu?t={token}"))).send().await.unwrap();
    assert_eq!(r.status(), 403, "a revoked link stops working");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 1);
}

#[tokio::test]
async fn fifty_concurrent_posts_with_one_key_store_one_response_and_another_body_gets_409() {
    let app = TestApp::spawn().await;
    let body =
        json!({"category": "qz", "answers": {"team": "同一份意见，重复提交", "has_member": "no", "satisfaction": "2"}});
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (c, url, body) = (app.citizen.clone(), app.url("/api/v1/forms/zhengqiu/responses"), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = c.post(url).header("Idempotency-Key", "same-key-for-all-50").json(&body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap()["receipt"].as_str().unwrap().to_owned())
        }));
    }
    let mut receipts = std::collections::HashSet::new();
    let mut created = 0;
    for t in tasks {
        let (status, receipt) = t.await.unwrap();
        assert!(status == 201 || status == 200);
        created += usize::from(status == 201);
        receipts.insert(receipt);
    }
    assert_eq!(created, 1);
    assert_eq!(receipts.len(), 1, "every retry gets the same receipt");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 1);
    let other =
        json!({"category": "qz", "answers": {"team": "另一份不同的意见", "has_member": "no", "satisfaction": "2"}});
    assert_eq!(app.submit_json("zhengqiu", "same-key-for-all-50", &other).await.status(), 409);
    // The HTML form behaves the same: a double tap is one response.
    let key = app.form_key("zhengqiu").await;
    let answers = [("_category", "qz"), ("q_team", "双击提交的意见"), ("q_has_member", "no"), ("q_satisfaction", "3")];
    let a = app.post_form_with_key("zhengqiu", &key, &answers).await;
    let b = app.post_form_with_key("zhengqiu", &key, &answers).await;
    assert_eq!(a.headers()["location"], b.headers()["location"]);
    let changed = [("_category", "qz"), ("q_team", "改了内容再提交"), ("q_has_member", "no"), ("q_satisfaction", "3")];
    let r = app.post_form_with_key("zhengqiu", &key, &changed).await;
    assert_eq!(r.status(), 409);
    // The changed text is kept on the page with a new key, to send as a new response if wanted.
    let page = r.text().await.unwrap();
    assert_eq!(crate::helpers::texts(&page, "textarea[name=q_team]"), ["改了内容再提交"]);
    assert!(crate::helpers::texts(&page, ".notice").concat().contains("已经提交过一份意见（已保存）"));
    let fresh = crate::helpers::hidden(&page, "_key").unwrap();
    assert_ne!(fresh, key);
    assert_eq!(app.store().count_responses(None).await.unwrap(), 2);
    assert_eq!(app.post_form_with_key("zhengqiu", &fresh, &changed).await.status(), 303);
    assert_eq!(app.store().count_responses(None).await.unwrap(), 3);
}

#[tokio::test]
async fn a_forged_submission_key_keeps_the_input_and_asks_to_submit_again() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form_with_key("zhengqiu", "made-up-key.abc", &[("_category", "qz"), ("q_team", "我写了很多内容")])
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(texts(&html, "textarea[name=q_team]").contains(&"我写了很多内容".to_owned()));
    assert!(texts(&html, ".notice")[0].contains("再点一次"));
}

#[tokio::test]
async fn the_honeypot_refuses_without_losing_input() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            "zhengqiu",
            &[
                ("_hp", "http://spam"),
                ("_category", "qz"),
                ("q_team", "正常的意见内容"),
                ("q_has_member", "no"),
                ("q_satisfaction", "2"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(texts(&html, ".notice")[0].contains("再点一次") && !html.contains("请勿填写此项”的栏目"), "{html}");
    assert!(texts(&html, "textarea[name=q_team]").contains(&"正常的意见内容".to_owned()), "typed text kept");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}

#[tokio::test]
async fn markup_in_every_field_comes_back_escaped() {
    let app = TestApp::spawn().await;
    let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    // Re-rendered with errors: the typed text is escaped in every field.
    let r = app
        .post_form(
            "alltypes",
            &[
                ("_category", "qz"),
                ("q_opinion", evil),
                ("q_short", evil),
                ("q_count", evil),
                ("q_day", evil),
                ("q_tel", evil),
            ],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "raw markup must never come back");
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    // Stored, then shown on the receipt page: nothing of it is rendered as markup.
    let receipt = app.submit_opinion(evil).await;
    let page =
        app.citizen.get(app.url(&format!("/f/zhengqiu/r/{receipt}"))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<script>alert"));
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = "长".repeat(30_000);
    let r = app.post_form("zhengqiu", &[("_category", "qz"), ("q_team", &big)]).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("本机草稿"), "a citizen is told the form page kept a draft");
    // /gongkai's rating form keeps no draft, and says nothing of one.
    let r = app.citizen.post(app.url("/gongkai")).form(&[("comment", big.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(!r.text().await.unwrap().contains("本机草稿"), "no draft is claimed for a rating");
    let r = app.submit_json("zhengqiu", "big-body-key", &json!({"answers": {"team": big}})).await;
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn malformed_json_is_a_4xx_json_error() {
    let app = TestApp::spawn().await;
    for (ctype, body) in [
        ("application/json", b"{not json".to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00]),
        ("text/plain", b"{}".to_vec()),
        ("application/json", format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
    ] {
        let r = app
            .citizen
            .post(app.url("/api/v1/forms/zhengqiu/responses"))
            .header("Idempotency-Key", "malformed-key")
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["error"].is_string());
    }
}

#[tokio::test]
async fn the_api_describes_itself() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value =
        app.citizen.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/v1/forms/{slug}/responses"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/forms/{slug}"]["get"].is_object());
    let form: serde_json::Value =
        app.citizen.get(app.url("/api/v1/forms/ceping")).send().await.unwrap().json().await.unwrap();
    assert_eq!(form["questions"][0]["kind"], "matrix");
    assert_eq!(form["questions"][0]["rows"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = TestApp::spawn().await;
    let key = app.form_key("zhengqiu").await;
    let r = app
        .citizen
        .post(app.url("/f/zhengqiu"))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("_key", key.as_str()),
            ("_category", "qz"),
            ("q_team", "跨站提交"),
            ("q_has_member", "no"),
            ("q_satisfaction", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}

#[tokio::test]
async fn the_submit_limiter_allows_a_burst_then_asks_to_wait_without_losing_input() {
    let app = TestApp::spawn_with(|s| {
        s.submit_burst = 3;
        s.submit_per_minute = 1;
    })
    .await;
    for i in 0..3 {
        app.submit_opinion(&format!("同一办公室的第 {i} 条意见")).await;
    }
    let r = app
        .post_form(
            "zhengqiu",
            &[
                ("_category", "qz"),
                ("q_team", "第四条意见，应当稍后再试"),
                ("q_has_member", "no"),
                ("q_satisfaction", "2"),
            ],
        )
        .await;
    assert_eq!(r.status(), 429);
    let html = r.text().await.unwrap();
    assert!(texts(&html, ".notice")[0].contains("稍候"));
    assert!(texts(&html, "textarea[name=q_team]").contains(&"第四条意见，应当稍后再试".to_owned()));
    let r = app
        .submit_json(
            "zhengqiu",
            "limited-key-1",
            &json!({"category": "qz", "answers": {"team": "接口同样限流", "has_member": "no", "satisfaction": "2"}}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(app.store().count_responses(None).await.unwrap(), 3);
}

/// Posts one JSON submission as if relayed by a proxy that reports `forwarded_for`.
async fn submit_via_proxy(app: &TestApp, key: &str, forwarded_for: &str) -> u16 {
    let body =
        json!({"category": "qz", "answers": {"team": "经代理提交的意见", "has_member": "no", "satisfaction": "2"}});
    app.citizen
        .post(app.url("/api/v1/forms/zhengqiu/responses"))
        .header("Idempotency-Key", key)
        .header("X-Forwarded-For", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = TestApp::spawn_with(|s| {
        s.submit_burst = 2;
        s.submit_per_minute = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    assert_eq!(submit_via_proxy(&app, "proxy-a-1", "203.0.113.7").await, 201);
    assert_eq!(submit_via_proxy(&app, "proxy-a-2", "203.0.113.7").await, 201);
    assert_eq!(submit_via_proxy(&app, "proxy-a-3", "203.0.113.7").await, 429, "the same client, over its burst");
    // A client cannot escape its limit by sending its own header: the proxy appends the real address.
    assert_eq!(submit_via_proxy(&app, "proxy-a-4", "198.51.100.1, 203.0.113.7").await, 429);
    assert_eq!(submit_via_proxy(&app, "proxy-b-1", "203.0.113.8").await, 201, "another client behind the proxy");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 3);
}

#[tokio::test]
async fn without_a_trusted_proxy_the_forwarded_header_is_ignored() {
    let app = TestApp::spawn_with(|s| {
        s.submit_burst = 2;
        s.submit_per_minute = 1;
    })
    .await;
    assert_eq!(submit_via_proxy(&app, "direct-1", "203.0.113.7").await, 201);
    assert_eq!(submit_via_proxy(&app, "direct-2", "203.0.113.8").await, 201);
    assert_eq!(submit_via_proxy(&app, "direct-3", "203.0.113.9").await, 429, "one peer, one limit, whatever it claims");
}

#[tokio::test]
async fn a_form_refused_for_a_short_phone_number_says_so_and_keeps_its_unit_link_in_the_address() {
    let app = TestApp::spawn().await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap();
    let token = app.state.secret.link_token(link.id, "zhengqiu", "sfs-qingxi", None);
    let key = app.form_key("zhengqiu").await;
    let fields = [
        ("_t", token.as_str()),
        ("_category", "qz"),
        ("q_team", "希望窗口延长服务时间，方便上班族办事。"),
        ("q_has_member", "no"),
        ("q_satisfaction", "2"),
        ("q_phone", "1381234"),
    ];
    let r = app.post_form_with_key("zhengqiu", &key, &fields).await;
    assert_eq!(r.status(), 422, "an incomplete mobile number is not stored");
    let page = r.text().await.unwrap();
    assert_eq!(field_error(&page, "phone").as_deref(), Some("手机号码应为 11 位，现在是 7 位，请核对。"));
    // The page answered at the form's address, with the unit's link: a reload or a forward keeps the unit.
    let action = scraper::Html::parse_document(&page)
        .select(&scraper::Selector::parse("#wenji-form").unwrap())
        .next()
        .and_then(|f| f.value().attr("action").map(str::to_owned));
    assert_eq!(action, Some(format!("/f/zhengqiu?t={token}")));
    assert!(page.contains("希望窗口延长服务时间，方便上班族办事。"), "the text typed is kept");
    let fixed = fields.map(|(k, v)| if k == "q_phone" { (k, "13812345678") } else { (k, v) });
    assert_eq!(app.post_form_with_key("zhengqiu", &key, &fixed).await.status(), 303);
}

/// WeChat adds parameters of its own to a forwarded link (`from`, `isappinstalled`, a long `nsukey`):
/// citizens' pages read only theirs, so the rest never turns the link into an error page, while what
/// they do read is still checked.
#[tokio::test]
async fn a_link_forwarded_in_wechat_with_long_parameters_of_its_own_still_opens() {
    let app = TestApp::spawn().await;
    let added = format!("from=singlemessage&isappinstalled=0&nsukey={}%00%E2%80%8B", "A".repeat(400));
    for path in ["/f/zhengqiu", "/gongkai"] {
        let r = app.citizen.get(app.url(&format!("{path}?{added}"))).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    for t in ["A".repeat(400), "%00".to_owned()] {
        let r = app.citizen.get(app.url(&format!("/f/zhengqiu?t={t}"))).send().await.unwrap();
        assert!(r.status().is_client_error(), "the link token is still checked: {}", r.status());
        let page = r.text().await.unwrap();
        assert!(!page.contains("提交的内容有误"), "nothing was submitted: {page}");
    }
    let (leader, _) = app.login_as(wenji::domain::user::Role::Leader).await;
    let r = leader.get(app.url(&format!("/w/inbox?{added}"))).send().await.unwrap();
    assert!(r.status().is_client_error(), "staff pages check every parameter: {}", r.status());
}
