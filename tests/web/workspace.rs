//! The analysts' workspace: sessions (fixation, replay, CSRF), tagging (round trip, sources, undo,
//! suggestions), bulk tagging, states and notes, the inbox's search, filters and paging, the dashboard,
//! account administration, and the audit log that records all of it.

use crate::helpers::{PASSWORD, TestApp, client, form_fields, hidden, texts};
use wenji::domain::area::AreaCode;
use wenji::domain::tagging::{OpinionState, TagSource};
use wenji::domain::user::Role;

/// The id of the (first) opinion of the response with this receipt.
pub async fn opinion_id(app: &TestApp, receipt: &str) -> i64 {
    let r = app.store().response_by_receipt(receipt).await.unwrap();
    app.store().opinion_ids_of_response(r.id).await.unwrap()[0]
}

pub async fn submit(app: &TestApp, text: &str) -> i64 {
    opinion_id(app, &app.submit_opinion(text).await).await
}

pub fn area(n: i64) -> AreaCode {
    AreaCode::try_from(n).unwrap()
}

/// Posts one action of the tagging form.
pub async fn act(app: &TestApp, c: &reqwest::Client, csrf: &str, id: i64, pairs: &[(&str, &str)]) -> reqwest::Response {
    let mut body: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    body.extend_from_slice(pairs);
    c.post(app.url(&format!("/w/tag/{id}"))).form(&body).send().await.unwrap()
}

pub async fn get_html(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

/// The opinion ids listed on an inbox page.
pub fn listed(html: &str) -> Vec<i64> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("#inbox tbody tr").unwrap();
    doc.select(&sel).map(|e| e.value().attr("data-id").unwrap().parse().unwrap()).collect()
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wenji_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

async fn sign_in_raw(app: &TestApp, name: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = client(false).post(app.url("/login")).form(&[("username", name), ("password", PASSWORD)]);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

async fn status_with_cookie(app: &TestApp, cookie: &str, path: &str) -> (u16, Option<String>) {
    let r = client(false).get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    (r.status().as_u16(), r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()))
}

/// Behind the README's nginx block (`location /w/`), `/w` is redirected to `/w/` before Wenji sees it.
#[tokio::test]
async fn the_workspace_opens_at_w_and_at_w_slash() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let plain = analyst.get(app.url("/w")).send().await.unwrap().text().await.unwrap();
    let slashed = analyst.get(app.url("/w/")).send().await.unwrap();
    assert_eq!(slashed.status(), 200);
    assert_eq!(texts(&slashed.text().await.unwrap(), "main h1"), texts(&plain, "main h1"));
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_the_old_one_opens_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("fixation", Role::Analyst).await;
    let first = session_cookie(&sign_in_raw(&app, "fixation", None).await).expect("a session cookie at sign-in");
    assert_eq!(status_with_cookie(&app, &first, "/w").await.0, 200);
    // Signing in again while holding a session (or a planted one) must not keep its id.
    let second = session_cookie(&sign_in_raw(&app, "fixation", Some(&first)).await).expect("a new cookie");
    assert_ne!(first, second, "the session id before sign-in must differ from the one after");
    assert_eq!(status_with_cookie(&app, &first, "/w").await, (303, Some("/login".into())));
    assert_eq!(status_with_cookie(&app, &second, "/w").await.0, 200);
    let planted = "wenji_session=planted-by-someone-else";
    let third = session_cookie(&sign_in_raw(&app, "fixation", Some(planted)).await).unwrap();
    assert_ne!(third, planted);
}

#[tokio::test]
async fn after_sign_out_the_old_cookie_is_refused() {
    let app = TestApp::spawn().await;
    app.create_user("replay", Role::Leader).await;
    let cookie = session_cookie(&sign_in_raw(&app, "replay", None).await).unwrap();
    let home = client(false).get(app.url("/w")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&home, "_csrf").unwrap();
    let out = client(false)
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(status_with_cookie(&app, &cookie, "/w").await, (303, Some("/login".into())));
    assert_eq!(status_with_cookie(&app, &cookie, "/w/inbox").await, (303, Some("/login".into())));
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "窗口办事效率有待提高").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let none = c.post(app.url(&format!("/w/tag/{id}"))).form(&[("op", "save"), ("area", "7")]).send().await.unwrap();
    assert_eq!(none.status(), 403);
    let wrong = act(&app, &c, "not-the-token", id, &[("op", "save"), ("area", "7")]).await;
    assert_eq!(wrong.status(), 403);
    let api = c
        .post(app.url(&format!("/w/api/opinions/{id}")))
        .header("x-csrf-token", "forged")
        .form(&[("op", "note"), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403);
    let o = app.store().opinion(id).await.unwrap();
    assert!(o.tags.is_empty() && o.notes.is_empty());
    // The right token works.
    assert_eq!(act(&app, &c, &csrf, id, &[("op", "save"), ("area", "7")]).await.status(), 303);
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), vec![area(7)]);
}

#[tokio::test]
async fn tagging_round_trip_records_sources_moves_on_and_undo_restores() {
    let app = TestApp::spawn().await;
    let first = submit(&app, "领导干部要加强理论学习，学风要端正").await;
    let second = submit(&app, "基层群众办事难").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    // GET /w/tag goes to an untagged opinion (the first in this analyst's order).
    let start = c.get(app.url("/w/tag")).send().await.unwrap();
    let to = |id: i64| format!("/w/tag/{id}");
    assert!([to(first), to(second)].iter().any(|t| start.headers()["location"] == t.as_str()));
    let html = get_html(&app, &c, &format!("/w/tag/{first}")).await;
    assert!(texts(&html, "#c-text mark").contains(&"学习".to_string()), "matched words are highlighted");
    assert!(!texts(&html, "#c-suggest .sugg").is_empty(), "the suggestion is shown");
    // Save 1 (accepted suggestion) and 4 (typed): moves to the next untagged one.
    let r = act(&app, &c, &csrf, first, &[("op", "save"), ("area", "1"), ("area", "4"), ("suggested", "1")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/w/tag/{second}").as_str());
    let o = app.store().opinion(first).await.unwrap();
    let got: Vec<(AreaCode, TagSource)> = o.tags.iter().map(|t| (t.area, t.source)).collect();
    assert_eq!(got, vec![(area(1), TagSource::Suggested), (area(4), TagSource::Typed)]);
    assert_eq!(o.state, OpinionState::Tagged);
    // Change to 4 only, then undo: 1 and 4 are back; undo again redoes.
    act(&app, &c, &csrf, first, &[("op", "save"), ("area", "4")]).await;
    assert_eq!(app.store().opinion(first).await.unwrap().areas(), vec![area(4)]);
    assert_eq!(act(&app, &c, &csrf, first, &[("op", "undo")]).await.status(), 303);
    assert_eq!(app.store().opinion(first).await.unwrap().areas(), vec![area(1), area(4)]);
    act(&app, &c, &csrf, first, &[("op", "undo")]).await;
    assert_eq!(app.store().opinion(first).await.unwrap().areas(), vec![area(4)]);
    // Removing every tag puts it back in the queue.
    act(&app, &c, &csrf, first, &[("op", "save")]).await;
    let o = app.store().opinion(first).await.unwrap();
    assert!(o.tags.is_empty());
    assert_eq!(o.state, OpinionState::Pending);
    // A bad area code is a 400 naming the field.
    let bad = act(&app, &c, &csrf, first, &[("op", "save"), ("area", "9")]).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("领域："));
}

/// `u` undoes the analyst's own last change only: when a colleague changed the opinion since, the undo is
/// refused naming them, and the colleague's areas stay (it reverted whoever changed last, silently).
#[tokio::test]
async fn an_undo_never_takes_back_a_colleagues_later_change() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "局领导很少到基层调研，学习也流于形式").await;
    for name in ["undo-a", "undo-b"] {
        app.create_user(name, Role::Analyst).await;
    }
    let (a, acsrf) = app.login("undo-a", PASSWORD).await;
    let (b, bcsrf) = app.login("undo-b", PASSWORD).await;
    act(&app, &a, &acsrf, id, &[("op", "save"), ("area", "3")]).await;
    act(&app, &b, &bcsrf, id, &[("op", "save"), ("area", "3"), ("area", "6")]).await;
    let refused = act(&app, &a, &acsrf, id, &[("op", "undo")]).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("最后一次归类是 undo-b 改的"), "names who changed it");
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), vec![area(3), area(6)], "the colleague's areas stay");
    // The colleague's own undo goes back to the first analyst's areas.
    assert_eq!(act(&app, &b, &bcsrf, id, &[("op", "undo")]).await.status(), 303);
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), vec![area(3)]);
}

#[tokio::test]
async fn accepting_a_suggestion_from_a_card_shown_before_a_colleagues_change_is_refused() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "有的同志工作拖沓，推诿扯皮").await;
    let (a, acsrf) = app.login_as(Role::Analyst).await;
    let (b, bcsrf) = app.login_as(Role::Analyst).await;
    // a's card showed no areas; b then tags the opinion with area 3.
    act(&app, &b, &bcsrf, id, &[("op", "save"), ("area", "3"), ("seen", "none")]).await;
    let r = act(&app, &a, &acsrf, id, &[("op", "accept"), ("shown", "7"), ("seen", "none")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("已被他人归类"));
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), vec![area(3)], "b's area stays, nothing laid over");
    // From a card that shows b's area, the accept adds to it.
    let r = act(&app, &a, &acsrf, id, &[("op", "accept"), ("shown", "7"), ("seen", "3")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), vec![area(3), area(7)]);
    // An area ticked by hand before 采纳建议 is kept beside the suggestion, as typed (it was dropped).
    let other = submit(&app, "调解协议书格式不统一").await;
    let r = act(&app, &a, &acsrf, other, &[("op", "accept"), ("shown", "8"), ("area", "1"), ("seen", "none")]).await;
    assert_eq!(r.status(), 303);
    let tags: Vec<(u8, TagSource)> =
        app.store().opinion(other).await.unwrap().tags.iter().map(|t| (t.area.get(), t.source)).collect();
    assert_eq!(tags, [(1, TagSource::Typed), (8, TagSource::Suggested)]);
}

#[tokio::test]
async fn accepting_a_suggestion_tags_it_as_suggested_and_added_words_suggest_too() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "有的同志工作拖沓，推诿扯皮").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let card: serde_json::Value =
        c.get(app.url(&format!("/w/api/opinions/{id}"))).send().await.unwrap().json().await.unwrap();
    let before: Vec<i64> =
        card["suggestions"].as_array().unwrap().iter().map(|s| s["code"].as_i64().unwrap()).collect();
    assert!(!before.contains(&2), "no word of area 2 in the text yet");
    let r = c
        .post(app.url("/w/keywords"))
        .form(&[("_csrf", csrf.as_str()), ("area", "2"), ("word", "拖沓"), ("back", &format!("/w/tag/{id}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let card: serde_json::Value =
        c.get(app.url(&format!("/w/api/opinions/{id}"))).send().await.unwrap().json().await.unwrap();
    let s2 = card["suggestions"].as_array().unwrap().iter().find(|s| s["code"] == 2).expect("area 2 suggested now");
    assert_eq!(s2["matched"][0], "拖沓");
    // Nothing counts until accepted.
    assert!(app.store().opinion(id).await.unwrap().tags.is_empty());
    let mut accept = vec![("op", "accept".to_owned())];
    accept.extend(card["suggestions"].as_array().unwrap().iter().map(|s| ("shown", s["code"].to_string())));
    let api = c
        .post(app.url(&format!("/w/api/opinions/{id}")))
        .header("x-csrf-token", &csrf)
        .form(&accept)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let o = app.store().opinion(id).await.unwrap();
    assert!(o.tags.iter().any(|t| t.area == area(2)));
    assert!(o.tags.iter().all(|t| t.source == TagSource::Suggested));
}

#[tokio::test]
async fn the_next_untagged_opinion_comes_from_the_json_api() {
    let app = TestApp::spawn().await;
    let a = submit(&app, "第一条意见内容").await;
    let b = submit(&app, "第二条意见内容").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let next: serde_json::Value =
        c.get(app.url(&format!("/w/api/next?after={a}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(next["id"].as_i64(), Some(b));
    assert_eq!(next["text"], "第二条意见内容");
    assert_eq!(next["areas"].as_array().unwrap().len(), 8);
    for id in [a, b] {
        act(&app, &c, &csrf, id, &[("op", "save"), ("area", "3")]).await;
    }
    let none: serde_json::Value = c.get(app.url("/w/api/next?after=0")).send().await.unwrap().json().await.unwrap();
    assert!(none.is_null(), "nothing left to tag");
}

#[tokio::test]
async fn states_notes_and_representative_marks_are_set_from_the_tagging_screen_and_the_inbox() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "建议公开办事流程").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    act(&app, &c, &csrf, id, &[("op", "state"), ("state", "verify")]).await;
    assert_eq!(app.store().opinion(id).await.unwrap().state, OpinionState::Verify);
    let r =
        act(&app, &c, &csrf, id, &[("op", "state"), ("state", "invalid"), ("back", "/w/inbox?state=invalid")]).await;
    // Back to the filtered inbox at the row changed (inbox_rows:: shows what that row then says).
    assert_eq!(r.headers()["location"], format!("/w/inbox?state=invalid&done=state&o={id}&asked=invalid#o{id}"));
    let html = get_html(&app, &c, "/w/inbox?state=invalid").await;
    assert_eq!(listed(&html), vec![id]);
    act(&app, &c, &csrf, id, &[("op", "note"), ("text", "与第 3 条重复"), ("back", "/w/inbox")]).await;
    act(&app, &c, &csrf, id, &[("op", "representative"), ("on", "1")]).await;
    let o = app.store().opinion(id).await.unwrap();
    assert_eq!(o.notes.len(), 1);
    assert_eq!(o.notes[0].text, "与第 3 条重复");
    assert!(o.representative);
    let empty = act(&app, &c, &csrf, id, &[("op", "note"), ("text", "  ")]).await;
    assert_eq!(empty.status(), 400);
    let html = get_html(&app, &c, &format!("/w/tag/{id}")).await;
    assert_eq!(texts(&html, "#c-notes li").len(), 1);
    assert_eq!(texts(&html, "#c-state"), vec!["无效".to_string()]);
}

#[tokio::test]
async fn bulk_tagging_shows_the_count_first_then_adds_and_removes_as_bulk() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for t in ["基层法律服务要加强", "基层调解工作不错", "窗口服务态度好", "基层司法所人手不足"]
    {
        ids.push(submit(&app, t).await);
    }
    let (c, csrf) = app.login_as(Role::Analyst).await;
    // All matching "基层": the confirmation shows 3 and changes nothing yet.
    let preview = c
        .post(app.url("/w/inbox/bulk"))
        .form(&[("_csrf", csrf.as_str()), ("scope", "all"), ("filter", "q=基层"), ("area", "6"), ("action", "add")])
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200);
    let preview = preview.text().await.unwrap();
    assert_eq!(texts(&preview, "#bulk-count"), vec!["3".to_string()]);
    assert!(app.store().opinion(ids[0]).await.unwrap().tags.is_empty());
    // One more matching opinion arrives between the preview and the confirmation: it is not changed unseen.
    let late = submit(&app, "基层来的新意见还没人看过").await;
    let upto = crate::helpers::hidden(&preview, "upto").expect("the preview's bound");
    let apply = c
        .post(app.url("/w/inbox/bulk"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("scope", "all"),
            ("filter", "q=基层"),
            ("area", "6"),
            ("action", "add"),
            ("confirm", "1"),
            ("upto", upto.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(apply.status(), 200);
    for (i, id) in ids.iter().enumerate() {
        let o = app.store().opinion(*id).await.unwrap();
        if i == 2 {
            assert!(o.tags.is_empty());
        } else {
            assert_eq!(o.tags.iter().map(|t| (t.area, t.source)).collect::<Vec<_>>(), vec![(area(6), TagSource::Bulk)]);
            assert_eq!(o.state, OpinionState::Tagged);
        }
    }
    assert!(app.store().opinion(late).await.unwrap().tags.is_empty(), "the opinion that came after the preview");
    // The ticked ones: remove area 6 from the first two.
    let (a, b) = (ids[0].to_string(), ids[1].to_string());
    let body = [
        ("_csrf", csrf.as_str()),
        ("scope", "selected"),
        ("ids", a.as_str()),
        ("ids", b.as_str()),
        ("area", "6"),
        ("action", "remove"),
        ("filter", ""),
    ];
    let preview = c.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap();
    assert_eq!(texts(&preview.text().await.unwrap(), "#bulk-count"), vec!["2".to_string()]);
    let mut confirmed = body.to_vec();
    confirmed.push(("confirm", "1"));
    assert_eq!(c.post(app.url("/w/inbox/bulk")).form(&confirmed).send().await.unwrap().status(), 200);
    let o = app.store().opinion(ids[0]).await.unwrap();
    assert!(o.tags.is_empty());
    assert_eq!(o.state, OpinionState::Pending);
    assert_eq!(app.store().opinion(ids[3]).await.unwrap().areas(), vec![area(6)]);
    let log = app.store().audit_entries(Some("tags_changed_bulk"), None, None, 100).await.unwrap();
    assert_eq!(log.len(), 5, "three additions and two removals, one entry each");
}

#[tokio::test]
async fn search_finds_one_two_and_longer_chinese_queries() {
    let app = TestApp::spawn().await;
    let legal = submit(&app, "希望进一步加强法律服务").await;
    let grass = submit(&app, "多到基层听听意见").await;
    let other = submit(&app, "窗口态度需要改进").await;
    let percent = submit(&app, "满意度只有50%左右").await;
    // Pasted from a chat with zero-width spaces and a direction override inside: found by the plain words.
    let pasted = submit(&app, "局\u{200B}长的APP预约\u{202E}总是\u{FEFF}失败").await;
    // Other invisible characters that split a word from its search (a soft hyphen, a non-joiner…).
    let hidden_words = submit(&app, "副\u{00AD}局\u{200C}长\u{2062}推\u{034F}诿\u{180E}扯皮").await;
    let wide = submit(&app, "手机ＡＰＰ经常打不开").await;
    let comma = submit(&app, "办证难，跑了三次（尤其是周一）").await;
    let long_prefix = "窗口".repeat(50);
    let long = submit(&app, &format!("{long_prefix}甲方满意度很高")).await;
    let long_other = format!("{long_prefix}乙方很不满意");
    let long_same = format!("{long_prefix}甲方满意");
    let (c, _) = app.login_as(Role::Analyst).await;
    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("基层", vec![grass]),
        ("法", vec![legal]),
        ("法律服务", vec![legal]),
        ("意见", vec![grass]),
        ("态度需要", vec![other]),
        ("%", vec![percent]),
        ("0%左", vec![percent]),
        ("没有的词", vec![]),
        ("局长", vec![hidden_words, pasted]),
        ("局\u{200B}长", vec![hidden_words, pasted]),
        ("副局长推诿扯皮", vec![hidden_words]),
        ("预约总是失败", vec![pasted]),
        ("app", vec![wide, pasted]),
        ("aPp预约", vec![pasted]),
        // Words apart are each looked for; a quoted query is one phrase; full-width letters read as ASCII.
        ("基层 意见", vec![grass]),
        ("基层 法律", vec![]),
        ("“多到 基层”", vec![]),
        ("\"多到基层\"", vec![grass]),
        ("ＡＰＰ", vec![wide, pasted]),
        ("app预约", vec![pasted]),
        ("ａｐｐ", vec![wide, pasted]),
        ("局长 ＡＰＰ 失败", vec![pasted]),
        // Full-width punctuation is what Chinese text holds: a phrase copied from an opinion finds it.
        ("难，跑", vec![comma]),
        ("周一）", vec![comma]),
        ("手机ＡＰＰ", vec![wide]),
        ("\"", vec![]),
        // A long query is looked for whole: its first 100 characters matching is not a match.
        (&long_other, vec![]),
        (&long_same, vec![long]),
    ];
    for (q, want) in cases {
        let html = get_html(&app, &c, &format!("/w/inbox?q={}", urlencode(q))).await;
        assert_eq!(listed(&html), want, "search {q}");
        assert_eq!(texts(&html, "#n-matching"), vec![want.len().to_string()], "count for {q}");
    }
    // Twenty words are looked for; more are refused by name, not run.
    let words = "多 到 基 层 听 意 见 多到 到基 基层 层听 听听 听意 意见 多到基 到基层 基层听 层听听 听听意 听意见";
    assert_eq!(listed(&get_html(&app, &c, &format!("/w/inbox?q={}", urlencode(words))).await), vec![grass]);
    let r = c.get(app.url(&format!("/w/inbox?q={}", urlencode(&format!("{words} 多到基层"))))).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let refused = r.text().await.unwrap();
    assert!(texts(&refused, "#filter-error")[0].contains("搜索：搜索最多 20 个词（现在 21 个）"), "{refused}");
    let doc = scraper::Html::parse_document(&refused);
    let typed = doc.select(&scraper::Selector::parse("#filters input[name=q]").unwrap()).next().unwrap();
    assert_eq!(typed.value().attr("value"), Some(format!("{words} 多到基层").as_str()), "the query is kept to edit");
    assert!(listed(&refused).is_empty(), "nothing is listed for a filter not run");
    let html = get_html(&app, &c, "/w/inbox?q=app").await;
    assert!(html.contains("<mark>APP</mark>"), "the match is marked as written");
    let html = get_html(&app, &c, &format!("/w/inbox?q={}", urlencode("基层 意见"))).await;
    assert!(html.contains("<mark>基层</mark>") && html.contains("<mark>意见</mark>"), "each word is marked");
}

#[tokio::test]
async fn search_finds_opinions_before_and_after_the_background_index_reaches_them() {
    // The writer never indexes here on its own, so which opinions are indexed is decided by the test.
    let app = TestApp::spawn_with(|s| s.index_search_after_idle = None).await;
    let first = submit(&app, "希望进一步加强法律服务").await;
    let second = submit(&app, "法律服务所收费要公开").await;
    let backlog = app.store().search_backlog().await.unwrap();
    assert_eq!(backlog, 2, "nothing indexed yet");
    let (c, _) = app.login_as(Role::Analyst).await;
    let search = |q: &'static str| {
        let (app, c) = (&app, &c);
        async move {
            let html = get_html(app, c, &format!("/w/inbox?q={}", urlencode(q))).await;
            let mut ids = listed(&html);
            ids.sort_unstable();
            ids
        }
    };
    assert_eq!(search("法律服务").await, vec![first, second], "found while waiting for the index");
    assert_eq!(search("收费要公开").await, vec![second]);

    // Index one of the two: the search must combine the index and the tail without doubles or gaps.
    app.store().index_search_backlog(1).await.unwrap();
    assert_eq!(app.store().search_backlog().await.unwrap(), 1);
    assert_eq!(search("法律服务").await, vec![first, second], "one indexed, one not");
    assert_eq!(search("加强法律").await, vec![first]);

    while app.store().index_search_backlog(10).await.unwrap() > 0 {}
    assert_eq!(app.store().search_backlog().await.unwrap(), 0);
    assert_eq!(search("法律服务").await, vec![first, second], "all indexed");
    assert_eq!(search("收费要公开").await, vec![second]);
    assert_eq!(search("没有这句话").await, Vec::<i64>::new());
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn inbox_filters_counts_duplicates_and_keyset_pages() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..55 {
        ids.push(submit(&app, &format!("第{i}条：办事效率需要提高")).await);
    }
    let dup = submit(&app, "第0条 办事效率需要提高！").await;
    // The flag is read through the near-duplicate groups, so it shows once the keeper has placed them.
    app.state.clusters.catch_up(app.store()).await.unwrap();
    let (c, csrf) = app.login_as(Role::Analyst).await;
    act(&app, &c, &csrf, ids[3], &[("op", "save"), ("area", "7")]).await;
    let html = get_html(&app, &c, "/w/inbox").await;
    assert_eq!(texts(&html, "#n-total"), vec!["56".to_string()]);
    assert_eq!(texts(&html, "#n-tagged"), vec!["1".to_string()]);
    assert_eq!(texts(&html, "#n-pending"), vec!["55".to_string()]);
    let first = listed(&html);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], dup, "newest first");
    assert_eq!(texts(&html, &format!("#o{dup} .dup")).len(), 1, "same fingerprint flagged");
    assert_eq!(texts(&html, &format!("#o{} .dup", ids[1])).len(), 0);
    let next = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("#next-page").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    let second = listed(&get_html(&app, &c, &next).await);
    assert_eq!(second.len(), 6);
    assert!(second.iter().all(|id| !first.contains(id)));
    assert_eq!(listed(&get_html(&app, &c, "/w/inbox?area=7").await), vec![ids[3]]);
    // An edited address saying untagged=0 or false means the box is not ticked.
    for off in ["0", "false"] {
        assert_eq!(listed(&get_html(&app, &c, &format!("/w/inbox?area=7&untagged={off}")).await), vec![ids[3]]);
    }
    assert_eq!(listed(&get_html(&app, &c, "/w/inbox?untagged=1").await).len(), 50);
    assert!(!listed(&get_html(&app, &c, "/w/inbox?untagged=1").await).contains(&ids[3]));
    assert_eq!(listed(&get_html(&app, &c, "/w/inbox?state=tagged").await), vec![ids[3]]);
    assert_eq!(listed(&get_html(&app, &c, "/w/inbox?form=zhengqiu&category=qz").await).len(), 50);
    assert!(listed(&get_html(&app, &c, "/w/inbox?category=qy").await).is_empty());
    assert!(listed(&get_html(&app, &c, "/w/inbox?from=2099-01-01").await).is_empty());
    assert_eq!(listed(&get_html(&app, &c, "/w/inbox?to=2099-01-01").await).len(), 50);
    let bad = c.get(app.url("/w/inbox?from=yesterday")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("from"));
}

#[tokio::test]
async fn the_dashboard_draws_the_area_counts_and_links_to_downloads() {
    let app = TestApp::spawn().await;
    let a = submit(&app, "理论学习不够深入").await;
    let b = submit(&app, "学习走过场").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    act(&app, &c, &csrf, a, &[("op", "save"), ("area", "1"), ("area", "7")]).await;
    act(&app, &c, &csrf, b, &[("op", "save"), ("area", "1")]).await;
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let html = get_html(&app, &leader, "/w/dashboard").await;
    assert!(texts(&html, "#protection").join("").contains("<5"), "two respondents: leaders see no numbers");
    assert!(texts(&html, "#area-chart text.count").is_empty());
    assert_eq!(texts(&html, "#exports-link").len(), 1);
    let (admin, _) = app.login_as(Role::Admin).await;
    let html = get_html(&app, &admin, "/w/dashboard").await;
    let doc = scraper::Html::parse_document(&html);
    let counts: Vec<String> = texts(&html, "#area-chart text.count");
    assert_eq!(counts, vec!["2", "0", "0", "0", "0", "0", "1", "0"]);
    let rects = doc.select(&scraper::Selector::parse("#area-chart rect").unwrap()).count();
    assert_eq!(rects, 8);
    assert_eq!(texts(&html, "#p-tagged"), vec!["2".to_string()]);
    assert_eq!(texts(&html, "#exports-link").len(), 1);
    assert!(texts(&html, "#by-category td").contains(&"社会群众".to_string()));
}

#[tokio::test]
async fn admins_add_disable_and_reset_users_and_weak_passwords_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    app.create_user("boss", Role::Admin).await;
    let (admin, csrf) = app.login("boss", PASSWORD).await;
    let post = |pairs: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        let url = app.url("/w/admin/users");
        let csrf = csrf.clone();
        async move {
            let mut body = pairs;
            body.push(("_csrf", csrf));
            admin.post(url).form(&body).send().await.unwrap()
        }
    };
    let weak = post(vec![
        ("op", "add".into()),
        ("username", "li.ming".into()),
        ("display_name", "李明".into()),
        ("role", "leader".into()),
        ("password", "abc".into()),
    ])
    .await;
    assert_eq!(weak.status(), 422);
    let page = weak.text().await.unwrap();
    assert!(texts(&page, "#error")[0].contains("太短"));
    // What was typed comes back (never the password).
    let typed: Vec<String> = ["username", "display_name"].iter().filter_map(|n| hidden(&page, n)).collect();
    assert_eq!(typed, ["li.ming", "李明"]);
    assert_eq!(texts(&page, "#adduser select[name=role] option[selected]"), ["领导"]);
    assert_eq!(hidden(&page, "password").as_deref(), None, "{page}");
    let ok = post(vec![
        ("op", "add".into()),
        ("username", "li.ming".into()),
        ("role", "analyst".into()),
        ("password", PASSWORD.into()),
    ])
    .await;
    assert_eq!(ok.status(), 303);
    let u = app.store().user_by_name("li.ming").await.unwrap().unwrap();
    assert_eq!(u.role, Role::Analyst);
    let (analyst, _) = app.login("li.ming", PASSWORD).await;
    assert_eq!(analyst.get(app.url("/w/tag")).send().await.unwrap().status(), 200);
    // Disabling ends the session at once.
    assert_eq!(post(vec![("op", "disable".into()), ("id", u.id.to_string())]).await.status(), 303);
    let r = analyst.get(app.url("/w")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/login"));
    let again = client(true)
        .post(app.url("/login"))
        .form(&[("username", "li.ming"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    post(vec![("op", "enable".into()), ("id", u.id.to_string())]).await;
    let weak_reset =
        post(vec![("op", "reset".into()), ("id", u.id.to_string()), ("password", "li.ming-2026x".into())]).await;
    assert_eq!(weak_reset.status(), 422, "a password holding the user name is refused");
    let reset =
        post(vec![("op", "reset".into()), ("id", u.id.to_string()), ("password", "Spring-River-77".into())]).await;
    assert_eq!(reset.status(), 303);
    app.login("li.ming", "Spring-River-77").await;
    let me = app.store().user_by_name("boss").await.unwrap().unwrap();
    assert_eq!(post(vec![("op", "disable".into()), ("id", me.id.to_string())]).await.status(), 422);
}

#[tokio::test]
async fn every_audited_action_appears_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "建议多组织学习").await;
    app.create_user("auditor", Role::Admin).await;
    app.create_user("tagger", Role::Analyst).await;
    let failed = client(true)
        .post(app.url("/login"))
        .form(&[("username", "tagger"), ("password", "wrong-one-123")])
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 401);
    let (c, csrf) = app.login("tagger", PASSWORD).await;
    act(&app, &c, &csrf, id, &[("op", "save"), ("area", "1")]).await;
    act(&app, &c, &csrf, id, &[("op", "state"), ("state", "verify")]).await;
    act(&app, &c, &csrf, id, &[("op", "note"), ("text", "待核实来源")]).await;
    act(&app, &c, &csrf, id, &[("op", "representative"), ("on", "1")]).await;
    c.post(app.url("/w/keywords"))
        .form(&[("_csrf", csrf.as_str()), ("area", "1"), ("word", "组织学习")])
        .send()
        .await
        .unwrap();
    c.post(app.url("/w/inbox/bulk"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("scope", "selected"),
            ("ids", &id.to_string()),
            ("area", "2"),
            ("action", "add"),
            ("confirm", "1"),
        ])
        .send()
        .await
        .unwrap();
    let (admin, acsrf) = app.login("auditor", PASSWORD).await;
    admin
        .post(app.url("/w/admin/users"))
        .form(&[
            ("_csrf", acsrf.as_str()),
            ("op", "add"),
            ("username", "zhao"),
            ("role", "leader"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let zhao = app.store().user_by_name("zhao").await.unwrap().unwrap().id.to_string();
    for (op, pw) in [("disable", ""), ("enable", ""), ("reset", "Autumn-Leaf-42")] {
        admin
            .post(app.url("/w/admin/users"))
            .form(&[("_csrf", acsrf.as_str()), ("op", op), ("id", zhao.as_str()), ("password", pw)])
            .send()
            .await
            .unwrap();
    }
    let html = get_html(&app, &admin, "/w/admin/audit").await;
    let actions = texts(&html, "#audit td.action");
    // Actions are named in Chinese.
    for want in [
        "登录",
        "登录失败",
        "修改领域归类",
        "修改意见状态",
        "添加备注",
        "标记典型意见",
        "补充关键词",
        "批量修改领域归类",
        "创建账号",
        "停用账号",
        "启用账号",
        "重置密码",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} missing from the audit log: {actions:?}");
    }
    // Filtering by action and actor.
    let only =
        texts(&get_html(&app, &admin, "/w/admin/audit?action=tags_changed&actor=tagger").await, "#audit td.action");
    assert_eq!(only, vec!["修改领域归类".to_string()]);
    // The note's text is not in the log.
    assert!(!html.contains("待核实来源"));
}

#[tokio::test]
async fn accepting_stores_the_suggestion_the_card_showed_even_when_the_model_has_changed_since() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "有的同志工作拖沓，推诿扯皮").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let html = get_html(&app, &c, &format!("/w/tag/{id}")).await;
    let shown: Vec<(String, String)> =
        form_fields(&html, "#tagform").into_iter().filter(|(k, _)| k == "shown").collect();
    assert!(!shown.is_empty(), "the card shows a suggestion");
    assert!(shown.iter().all(|(_, v)| v != "2"), "none of area 2 yet");
    // Another analyst teaches the model a word of area 2 before this one presses 采纳建议.
    let r = c
        .post(app.url("/w/keywords"))
        .form(&[("_csrf", csrf.as_str()), ("area", "2"), ("word", "拖沓"), ("back", "/w/tag")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mut accept: Vec<(&str, &str)> = vec![("op", "accept")];
    accept.extend(shown.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(act(&app, &c, &csrf, id, &accept).await.status(), 303);
    let mut stored: Vec<String> =
        app.store().opinion(id).await.unwrap().tags.iter().map(|t| t.area.get().to_string()).collect();
    let mut expected: Vec<String> = shown.into_iter().map(|(_, v)| v).collect();
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected, "what was shown is what is stored");
    // A code that is no area is refused, naming the field.
    let r = act(&app, &c, &csrf, id, &[("op", "accept"), ("shown", "9")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("领域："));
}

/// Two analysts tag the same opinion from cards shown before either saved: the second save is refused
/// (409, saying why) and the first one's tags stand (both were 200 and the first tags were gone); saved
/// again from a card showing the new tags, it goes through.
#[tokio::test]
async fn a_tag_save_from_a_card_shown_before_someone_elses_save_is_refused_not_laid_over_it() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "窗口工作人员态度冷淡，办事要跑好几趟").await;
    let (one, one_csrf) = app.login_as(Role::Analyst).await;
    let (two, two_csrf) = app.login_as(Role::Analyst).await;
    let save = |c: &reqwest::Client, csrf: &str, areas: &[&str], seen: &str| {
        let mut form: Vec<(&str, String)> = vec![("op", "save".into()), ("seen", seen.into())];
        form.extend(areas.iter().map(|a| ("area", (*a).to_owned())));
        c.post(app.url(&format!("/w/api/opinions/{id}"))).header("x-csrf-token", csrf).form(&form).send()
    };
    let tags =
        async || -> Vec<u8> { app.store().opinion(id).await.unwrap().tags.iter().map(|t| t.area.get()).collect() };
    assert_eq!(save(&one, &one_csrf, &["3", "5"], "none").await.unwrap().status(), 200);
    let late = save(&two, &two_csrf, &["7"], "none").await.unwrap();
    assert_eq!(late.status(), 409);
    let why: serde_json::Value = late.json().await.unwrap();
    assert!(why["error"].as_str().unwrap().contains("已被他人归类"), "{why}");
    assert_eq!(tags().await, [3, 5], "the first analyst's tags stand");
    assert_eq!(save(&two, &two_csrf, &["7"], "3,5").await.unwrap().status(), 200);
    assert_eq!(tags().await, [7]);
}

/// The arrow keys walk the analyst's own order: → from the first opinion meets every opinion once, and ←
/// walks the same way back.
#[tokio::test]
async fn the_arrow_keys_walk_the_analysts_order_forth_and_back() {
    let app = TestApp::spawn().await;
    for i in 0..9 {
        submit(&app, &format!("第{i}条：窗口服务要改进")).await;
    }
    let (c, _) = app.login_as(Role::Analyst).await;
    let card = |id: i64| {
        let url = app.url(&format!("/w/api/opinions/{id}"));
        let c = c.clone();
        async move { c.get(url).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let start = c.get(app.url("/w/api/next?after=0")).send().await.unwrap().json::<serde_json::Value>().await.unwrap();
    let mut at = start["id"].as_i64().unwrap();
    while let Some(prev) = card(at).await["prev_id"].as_i64() {
        at = prev;
    }
    let mut forth = vec![at];
    while let Some(next) = card(at).await["next_id"].as_i64() {
        forth.push(next);
        at = next;
    }
    let mut back = vec![at];
    while let Some(prev) = card(at).await["prev_id"].as_i64() {
        back.push(prev);
        at = prev;
    }
    back.reverse();
    assert_eq!(forth, back, "← retraces →");
    let mut all = forth.clone();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 9, "every opinion once: {forth:?}");
}

/// Opinions that start or stop matching between a bulk preview and its confirmation (a colleague tagged
/// one) are not changed unseen: the confirmation shows the new count to confirm again, changing nothing.
#[tokio::test]
async fn a_bulk_change_whose_matches_changed_since_the_preview_is_previewed_again() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for t in ["基层法律服务要加强", "基层调解工作不错", "基层司法所人手不足"] {
        ids.push(submit(&app, t).await);
    }
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let bulk = |extra: Vec<(&'static str, String)>| {
        let mut form: Vec<(&str, String)> = vec![
            ("_csrf", csrf.clone()),
            ("scope", "all".into()),
            ("filter", "q=基层&untagged=1".into()),
            ("area", "6".into()),
            ("action", "add".into()),
        ];
        form.extend(extra);
        c.post(app.url("/w/inbox/bulk")).form(&form).send()
    };
    let preview = bulk(vec![]).await.unwrap().text().await.unwrap();
    assert_eq!(texts(&preview, "#bulk-count"), ["3"]);
    let (upto, count) = (hidden(&preview, "upto").unwrap(), hidden(&preview, "count").unwrap());
    // A colleague tags one of the three meanwhile.
    let one = [("_csrf", csrf.clone()), ("scope", "selected".into()), ("ids", ids[0].to_string())];
    let one = [one.as_slice(), &[("area", "5".into()), ("action", "add".into()), ("confirm", "1".into())]].concat();
    assert_eq!(c.post(app.url("/w/inbox/bulk")).form(&one).send().await.unwrap().status(), 200);
    let again =
        bulk(vec![("confirm", "1".into()), ("upto", upto), ("count", count)]).await.unwrap().text().await.unwrap();
    assert_eq!(texts(&again, "#bulk-count"), ["2"]);
    assert!(texts(&again, "#bulk-changed")[0].contains("预览时 3 条，现在 2 条"), "{again}");
    for id in &ids[1..] {
        assert!(app.store().opinion(*id).await.unwrap().tags.is_empty(), "nothing changed unconfirmed");
    }
}

/// Previews and confirms a bulk change of every opinion matching `filter`; gives the result page.
async fn bulk_all(app: &TestApp, c: &reqwest::Client, csrf: &str, filter: &str, area: &str, action: &str) -> String {
    let bulk = [("_csrf", csrf), ("scope", "all"), ("filter", filter), ("area", area), ("action", action)];
    let preview = c.post(app.url("/w/inbox/bulk")).form(&bulk).send().await.unwrap().text().await.unwrap();
    let (upto, count) = (hidden(&preview, "upto").unwrap(), hidden(&preview, "count").unwrap());
    let confirm: Vec<(&str, &str)> =
        bulk.iter().copied().chain([("confirm", "1"), ("upto", upto.as_str()), ("count", count.as_str())]).collect();
    c.post(app.url("/w/inbox/bulk")).form(&confirm).send().await.unwrap().text().await.unwrap()
}

/// A bulk change is undone from its result page: the opinions it changed go back, one an analyst changed
/// since stays, and areas typed before the change are kept (removing the area again in bulk took them too).
#[tokio::test]
async fn a_bulk_change_is_undone_without_touching_what_analysts_typed_before_or_since() {
    let app = TestApp::spawn().await;
    let typed = submit(&app, "作风问题：开会迟到").await;
    let plain = submit(&app, "作风建设要加强").await;
    let since = submit(&app, "作风不实，调研走过场").await;
    let back_again = submit(&app, "作风漂浮，落实不够").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let (b, bcsrf) = app.login_as(Role::Analyst).await;
    act(&app, &c, &csrf, typed, &[("op", "save"), ("area", "8")]).await;
    let done = bulk_all(&app, &c, &csrf, "q=作风", "8", "add").await;
    assert!(texts(&done, "#bulk-done")[0].contains("已对 3 条意见添加"), "{done}");
    for id in [typed, plain, since, back_again] {
        assert_eq!(app.store().opinion(id).await.unwrap().areas(), vec![area(8)]);
    }
    act(&app, &c, &csrf, since, &[("op", "save"), ("area", "8"), ("area", "3"), ("seen", "8")]).await;
    // A colleague takes the area off and puts it back: the areas are what the bulk change left, yet the
    // last change is theirs.
    act(&app, &b, &bcsrf, back_again, &[("op", "save"), ("seen", "8")]).await;
    act(&app, &b, &bcsrf, back_again, &[("op", "save"), ("area", "8"), ("seen", "none")]).await;
    let mut undo = vec![
        ("_csrf", csrf.clone()),
        ("at", hidden(&done, "at").unwrap()),
        ("filter", hidden(&done, "filter").unwrap()),
    ];
    // Not confirmed: refused, nothing undone.
    let r = c.post(app.url("/w/inbox/bulk/undo")).form(&undo).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("确认撤销"));
    undo.push(("confirm", "1".into()));
    let page = c.post(app.url("/w/inbox/bulk/undo")).form(&undo).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "p.message")[0].contains("已撤销 1 条；另有 2 条"), "{page}");
    assert_eq!(app.store().opinion(back_again).await.unwrap().areas(), vec![area(8)], "a colleague's since: kept");
    assert_eq!(app.store().opinion(typed).await.unwrap().areas(), vec![area(8)], "typed before: kept");
    assert!(app.store().opinion(plain).await.unwrap().areas().is_empty(), "changed by the bulk change: back");
    assert_eq!(app.store().opinion(since).await.unwrap().areas(), vec![area(3), area(8)], "changed since: kept");
}

/// Undoing a bulk removal puts the area back as typed by whoever undoes, beside the areas the opinion kept;
/// an opinion the removal left without areas is tagged again, one marked 无效 stays 无效, and each opinion
/// it takes back is audited with its areas before and after.
#[tokio::test]
async fn undoing_a_bulk_removal_puts_the_area_back_with_the_states_and_audits_each_opinion() {
    let app = TestApp::spawn().await;
    let two = submit(&app, "纪律松弛，作风不实").await;
    let one = submit(&app, "纪律要加强").await;
    let invalid = submit(&app, "纪律纪律纪律").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    act(&app, &c, &csrf, two, &[("op", "save"), ("area", "3"), ("area", "8")]).await;
    act(&app, &c, &csrf, one, &[("op", "save"), ("area", "8")]).await;
    act(&app, &c, &csrf, invalid, &[("op", "save"), ("area", "8")]).await;
    act(&app, &c, &csrf, invalid, &[("op", "state"), ("state", "invalid")]).await;
    let done = bulk_all(&app, &c, &csrf, "q=纪律", "8", "remove").await;
    assert!(texts(&done, "#bulk-done")[0].contains("已对 3 条意见移除"), "{done}");
    assert_eq!(app.store().opinion(two).await.unwrap().areas(), vec![area(3)]);
    assert_eq!(app.store().opinion(one).await.unwrap().state, OpinionState::Pending);
    let undo = [
        ("_csrf", csrf.clone()),
        ("at", hidden(&done, "at").unwrap()),
        ("filter", hidden(&done, "filter").unwrap()),
        ("confirm", "1".into()),
    ];
    let page = c.post(app.url("/w/inbox/bulk/undo")).form(&undo).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "p.message")[0].contains("已撤销：3 条意见恢复到批量修改之前"), "{page}");
    let two_now = app.store().opinion(two).await.unwrap();
    assert_eq!(two_now.areas(), vec![area(3), area(8)], "kept area and restored one side by side");
    assert_eq!(two_now.tags[1].source, TagSource::Typed, "put back as typed");
    let one_now = app.store().opinion(one).await.unwrap();
    assert_eq!((one_now.areas(), one_now.state), (vec![area(8)], OpinionState::Tagged));
    let invalid_now = app.store().opinion(invalid).await.unwrap();
    assert_eq!((invalid_now.areas(), invalid_now.state), (vec![area(8)], OpinionState::Invalid), "无效 stays");
    let audited = app.store().audit_entries(Some("tags_changed"), None, None, 3).await.unwrap();
    let mut changes: Vec<(String, Option<String>, Option<String>)> =
        audited.into_iter().map(|e| (e.target, e.before, e.after)).collect();
    changes.sort();
    let change =
        |id: i64, before: &str, after: &str| (format!("opinion:{id}"), Some(before.into()), Some(after.into()));
    let mut expected = vec![change(two, "3", "3,8"), change(one, "", "8"), change(invalid, "", "8")];
    expected.sort();
    assert_eq!(changes, expected);
    // A second undo finds every opinion changed since (by the undo itself) and leaves it.
    let again = c.post(app.url("/w/inbox/bulk/undo")).form(&undo).send().await.unwrap().text().await.unwrap();
    assert!(texts(&again, "p.message")[0].contains("已撤销 0 条；另有 3 条"), "{again}");
}

#[tokio::test]
async fn an_opinion_put_back_while_a_colleague_tags_it_ends_tagged_with_its_tags_never_pending() {
    let app = TestApp::spawn().await;
    let (one, one_csrf) = app.login_as(Role::Analyst).await;
    let (two, two_csrf) = app.login_as(Role::Analyst).await;
    for round in 0..40 {
        let id = submit(&app, &format!("第 {round} 条：村里调解员补贴太低")).await;
        assert_eq!(act(&app, &one, &one_csrf, id, &[("op", "state"), ("state", "invalid")]).await.status(), 303);
        // One puts it back (待归类) while the other tags it from the card as it now reads.
        let (back, save) = tokio::join!(
            act(&app, &one, &one_csrf, id, &[("op", "state"), ("state", "pending")]),
            act(&app, &two, &two_csrf, id, &[("op", "save"), ("area", "6"), ("seen", "none")])
        );
        assert_eq!((back.status().as_u16(), save.status().as_u16()), (303, 303), "round {round}");
        let o = app.store().opinion(id).await.unwrap();
        if o.state != OpinionState::Invalid {
            assert_eq!(o.areas(), [area(6)], "round {round}");
            assert_eq!(o.state, OpinionState::Tagged, "round {round}: tagged, not counted as waiting");
        }
    }
}
