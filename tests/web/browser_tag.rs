//! In headless Chromium: an analyst signs in and tags 20 opinions with the keyboard only (number keys,
//! Enter, and `u`), then the stored tags and their sources are checked in the database.

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};
use crate::workspace::opinion_id;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use wenji::domain::area::AreaCode;
use wenji::domain::tagging::TagSource;
use wenji::domain::user::Role;

/// Presses one key on whatever has the focus, as a person would.
async fn key(b: &Browser, k: char) {
    let a = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
    b.c().perform_actions(a).await.unwrap();
}

async fn shown_id(b: &Browser) -> Option<i64> {
    let v = b
        .js("var t = document.getElementById('tagger'); return t && t.dataset.ready ? Number(t.dataset.id) : null;")
        .await;
    v.as_i64()
}

async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the page's `script` returns true.
async fn wait_for_page(b: &Browser, what: &str, script: &str) {
    wait_for(what, async || b.js(script).await.as_bool() == Some(true)).await;
}

/// Signs `name` in with the keyboard and waits for the workspace.
async fn sign_in(b: &Browser, app: &TestApp, name: &str) {
    b.goto(&app.url("/login")).await;
    b.fill("input[name=username]", name).await;
    b.fill("input[name=password]", PASSWORD).await;
    key(b, Key::Enter.into()).await;
    wait_for("the workspace after sign-in", async || b.current_url().await.ends_with("/w")).await;
}

/// An analyst signed in on the tagging screen, showing the one opinion `text` (sent first); `None` without
/// a browser.
async fn tagging_one(app: &TestApp, text: &str) -> Option<(Browser, i64)> {
    let id = opinion_id(app, &app.submit_opinion(text).await).await;
    app.create_user("noter", Role::Analyst).await;
    let b = Browser::start(1280, 900).await?;
    sign_in(&b, app, "noter").await;
    b.goto(&app.url("/w/tag")).await;
    wait_for("the opinion", async || shown_id(&b).await == Some(id)).await;
    Some((b, id))
}

const TEXTS: &[&str] = &[
    "中心组理论学习走过场",
    "窗口工作人员态度冷淡",
    "决策前要多调研，不要拍脑袋",
    "希望多组织法律进村活动",
    "思想保守，怕担责",
    "公证处排队时间太长",
    "要加强党风廉政建设，严守纪律",
    "社区矫正人员管理要规范",
    "服务企业和项目要主动",
    "建议增加夜间咨询服务",
    "学习制度要落实",
    "人民调解员待遇偏低",
    "改革创新的办法不多",
    "领导多下基层走走",
    "办事效率不高，推诿扯皮",
    "村法律顾问见不到人",
    "民主决策要走程序",
    "对律师事务所的监管要加强",
    "精神状态不振，不思进取",
    "整体工作还是满意的",
];

#[tokio::test]
async fn an_analyst_tags_twenty_opinions_with_the_keyboard_only() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for t in TEXTS {
        ids.push(opinion_id(&app, &app.submit_opinion(t).await).await);
    }
    app.create_user("keyboard", Role::Analyst).await;
    let order = crate::helpers::tagging_order(&app, "keyboard").await;
    assert_eq!(order.iter().copied().collect::<BTreeSet<_>>(), ids.iter().copied().collect(), "each once");
    let ids = order;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "keyboard").await;
    b.goto(&app.url("/w/tag")).await;
    wait_for("the first opinion", async || shown_id(&b).await == Some(ids[0])).await;

    let mut expected: BTreeMap<i64, Vec<(AreaCode, TagSource)>> = BTreeMap::new();
    let mut accepted = 0;
    for i in 0..TEXTS.len() {
        let id = shown_id(&b).await.unwrap();
        assert_eq!(id, ids[i], "Enter moves to the next untagged opinion in the analyst's order");
        let suggested: Vec<i64> = b
            .js("return Array.from(document.querySelectorAll('#c-suggest .sugg')).map(function (e) { return Number(e.dataset.code); });")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let mut tags: Vec<(AreaCode, TagSource)> = if i % 2 == 1 && !suggested.is_empty() {
            // Enter on an untouched suggestion accepts it.
            accepted += 1;
            suggested.iter().map(|a| (AreaCode::try_from(*a).unwrap(), TagSource::Suggested)).collect()
        } else {
            if i == 0 {
                // A slip, taken back with `u` before saving.
                key(&b, '3').await;
                key(&b, 'u').await;
            }
            // Suggested areas arrive ticked; each number key toggles one area from there.
            let mut picks = vec![(i % 8) as i64 + 1, ((i + 3) % 8) as i64 + 1];
            let mut ticked: Vec<i64> = suggested.clone();
            for p in &picks {
                if let Some(k) = ticked.iter().position(|x| x == p) {
                    ticked.remove(k);
                } else {
                    ticked.push(*p);
                }
            }
            if ticked.is_empty() {
                let extra = (1..=8).find(|a| !suggested.contains(a)).unwrap();
                picks.push(extra);
                ticked.push(extra);
            }
            for p in &picks {
                key(&b, char::from_digit(*p as u32, 10).unwrap()).await;
            }
            ticked
                .iter()
                .map(|a| {
                    let src = if suggested.contains(a) { TagSource::Suggested } else { TagSource::Typed };
                    (AreaCode::try_from(*a).unwrap(), src)
                })
                .collect()
        };
        tags.sort_by_key(|(a, _)| *a);
        expected.insert(id, tags);
        key(&b, Key::Enter.into()).await;
        if i + 1 < TEXTS.len() {
            wait_for("the next opinion", async || shown_id(&b).await == Some(ids[i + 1])).await;
        }
    }
    assert!(accepted >= 5, "at least five suggestions were accepted with Enter ({accepted})");
    let answered = "var s = document.getElementById('status'); return s.dataset.pending === '0' && s.textContent.indexOf('失败') < 0;";
    wait_for_page(&b, "every save to be answered", answered).await;
    for (id, want) in &expected {
        let o = app.store().opinion(*id).await.unwrap();
        let got: Vec<(AreaCode, TagSource)> = o.tags.iter().map(|t| (t.area, t.source)).collect();
        assert_eq!(&got, want, "opinion {id}");
    }
    assert_eq!(app.store().progress().await.unwrap().pending, 0);
    // The counter shows the stored figure: none left, one again after the last save is undone, none once
    // that opinion is marked invalid.
    assert_eq!(b.text("#pending").await, "0");
    key(&b, 'u').await;
    wait_for("the undo to be counted", async || b.text("#pending").await == "1").await;
    key(&b, 'x').await;
    wait_for("the invalid mark to be counted", async || b.text("#pending").await == "0").await;
    b.close().await;
}

/// A note typed after the session ended (signed out elsewhere, or the session's time was up): the save
/// fails in words that say so, and the note stays in its box to save after signing in again (it was
/// cleared at once, with a raw "Unexpected token '<'" error).
#[tokio::test]
async fn a_note_typed_after_the_session_ended_stays_in_its_box_and_the_page_says_why_it_was_not_saved() {
    let app = TestApp::spawn().await;
    let Some((b, id)) = tagging_one(&app, "窗口工作人员态度冷淡").await else { return };
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&db, "DELETE FROM sessions").await.unwrap();
    db.close().await.unwrap();
    key(&b, 'n').await;
    b.fill("#note-text", "回访时再核实一次").await;
    b.press("#note-text", &Key::Enter.to_string()).await;
    wait_for("the refusal", async || b.text("#status").await.contains("登录已过期")).await;
    assert_eq!(b.value("#note-text").await, "回访时再核实一次", "the note is still there");
    b.close().await;
    assert!(app.store().opinion(id).await.unwrap().notes.is_empty(), "nothing stored while signed out");
}

/// Signed in again in another tab (the session had ended): the open tagging screen saves what was typed,
/// its note too, where every save was refused for the old session's token and "copy the text below"
/// pointed at nothing. Signed in as someone else, it saves nothing under their name.
#[tokio::test]
async fn after_signing_in_again_elsewhere_the_open_tagging_screen_saves_what_was_typed() {
    let app = TestApp::spawn().await;
    let Some((b, id)) = tagging_one(&app, "窗口工作人员态度冷淡").await else { return };
    let sign_in_again = |name: &str| {
        format!(
            "var body = new URLSearchParams({{username: '{name}', password: '{PASSWORD}'}});
             return fetch('/login', {{method: 'POST', credentials: 'same-origin', body: body}}).then(function (r) {{ return r.status; }});"
        )
    };
    b.js(&sign_in_again("noter")).await;
    key(&b, 'n').await;
    b.fill("#note-text", "回访时再核实一次").await;
    b.press("#note-text", &Key::Enter.to_string()).await;
    wait_for("the note to be saved", async || b.text("#status").await.contains("已保存")).await;
    let notes = app.store().opinion(id).await.unwrap().notes;
    assert_eq!(notes.len(), 1, "{}", b.text("#status").await);
    // Another analyst signs in on this browser: the page keeps its note and stores nothing.
    app.create_user("other", Role::Analyst).await;
    b.js(&sign_in_again("other")).await;
    key(&b, 'n').await;
    b.fill("#note-text", "第二条备注").await;
    b.press("#note-text", &Key::Enter.to_string()).await;
    wait_for("the refusal", async || b.text("#status").await.contains("另一个账号")).await;
    assert_eq!(b.value("#note-text").await, "第二条备注");
    assert_eq!(app.store().opinion(id).await.unwrap().notes.len(), 1);
    b.close().await;
}

/// A save refused because a colleague tagged the opinion meanwhile says so with a link back to it (the
/// card has already moved on, and the analyst had to remember the number), and stays listed after the
/// next save takes the status line.
#[tokio::test]
async fn a_save_refused_for_a_colleagues_change_links_back_to_the_opinion() {
    let app = TestApp::spawn().await;
    let Some((b, id)) = tagging_one(&app, "局领导很少到基层调研").await else { return };
    let colleague = wenji::store::audit::Actor::system("同事");
    let areas = [AreaCode::try_from(6).unwrap()];
    app.store().set_tags(id, &areas, |_| TagSource::Typed, &colleague).await.unwrap();
    key(&b, '3').await;
    key(&b, Key::Enter.into()).await;
    wait_for("the refusal", async || b.text("#status").await.contains("已被他人归类")).await;
    let link = b.find("#status a").await;
    assert_eq!(link.attr("href").await.unwrap().as_deref(), Some(format!("/w/tag/{id}").as_str()));
    // The next save's word takes the status line; the refusal stays listed below it.
    key(&b, 'n').await;
    b.fill("#note-text", "已电话核实").await;
    b.press("#note-text", &Key::Enter.to_string()).await;
    wait_for("the note to be saved", async || b.text("#status").await.contains("已保存")).await;
    assert!(b.text("#refusals").await.contains(&format!("意见 {id} 没有保存")), "{}", b.text("#refusals").await);
    let link = b.find("#refusals a").await;
    assert_eq!(link.attr("href").await.unwrap().as_deref(), Some(format!("/w/tag/{id}").as_str()));
    b.close().await;
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), areas, "the colleague's areas stay");
}

/// A save that gets no verdict (here the database refuses it; a network drop or a restart alike) keeps the
/// areas chosen: the link back opens the opinion with them ticked again, and Enter then stores them.
#[tokio::test]
async fn a_save_that_fails_keeps_the_chosen_areas_for_when_the_opinion_is_opened_again() {
    let app = TestApp::spawn().await;
    let Some((b, id)) = tagging_one(&app, "窗口工作人员态度生硬，办事拖拉").await else { return };
    let ticked =
        "return Array.from(document.querySelectorAll('#areas input[name=area]:checked')).map(i => i.value).join(',');";
    crate::helpers::refuse_writes(&app, "tag_assignments", "INSERT", Some("TRUE")).await;
    key(&b, '3').await;
    key(&b, '5').await;
    let chosen = b.js(ticked).await.as_str().unwrap().to_owned();
    assert!(!chosen.is_empty());
    key(&b, Key::Enter.into()).await;
    wait_for("the failure", async || b.text("#status").await.contains("已记下")).await;
    crate::helpers::refuse_writes(&app, "tag_assignments", "INSERT", None).await;
    b.find("#status a").await.click().await.unwrap();
    wait_for("the opinion again", async || shown_id(&b).await == Some(id)).await;
    assert_eq!(b.js(ticked).await.as_str(), Some(chosen.as_str()), "the chosen areas are ticked again");
    key(&b, Key::Enter.into()).await;
    let stored = async || {
        let areas = app.store().opinion(id).await.unwrap().areas();
        areas.iter().map(|a| a.get().to_string()).collect::<Vec<_>>().join(",")
    };
    wait_for("the save", async || !stored().await.is_empty()).await;
    assert_eq!(stored().await, chosen);
    // Failed again, and a colleague changes the areas meanwhile: theirs are shown, the kept ones not ticked.
    crate::helpers::refuse_writes(&app, "tag_assignments", "INSERT", Some("TRUE")).await;
    key(&b, '8').await;
    key(&b, Key::Enter.into()).await;
    wait_for("the second failure", async || b.text("#status").await.contains("已记下")).await;
    crate::helpers::refuse_writes(&app, "tag_assignments", "INSERT", None).await;
    let colleague = wenji::store::audit::Actor::system("同事");
    app.store().set_tags(id, &[AreaCode::try_from(6).unwrap()], |_| TagSource::Typed, &colleague).await.unwrap();
    b.find("#status a").await.click().await.unwrap();
    wait_for("the opinion again", async || shown_id(&b).await == Some(id)).await;
    wait_for("the notice", async || b.text("#status").await.contains("已被改动")).await;
    assert_eq!(b.js(ticked).await.as_str(), Some("6"), "the colleague's areas, not the kept ones");
    b.close().await;
}

/// Enter on a link follows the link and saves nothing (it saved the card, suggestions counted as accepted);
/// an area ticked with Space keeps the focus, and Enter there saves it.
#[tokio::test]
async fn enter_on_a_link_follows_it_and_space_then_enter_on_an_area_saves_it() {
    let app = TestApp::spawn().await;
    let Some((b, id)) = tagging_one(&app, "有的同志工作拖沓，推诿扯皮，学习走过场").await else {
        return;
    };
    b.js("document.querySelector('#areas input[value=\"3\"]').focus(); return null;").await;
    key(&b, ' ').await;
    let focused = b.js("var a = document.activeElement; return a.name + ':' + a.value + ':' + a.checked;").await;
    assert_eq!(focused.as_str(), Some("area:3:true"), "the box ticked keeps the focus");
    key(&b, Key::Enter.into()).await;
    let three = AreaCode::try_from(3).unwrap();
    wait_for("the save", async || app.store().opinion(id).await.unwrap().areas().contains(&three)).await;
    let saved = app.store().opinion(id).await.unwrap();
    assert!(saved.tags.iter().any(|t| t.area == three && t.source == TagSource::Typed));

    let before = app.store().audit_entries(Some("tags_changed"), None, None, 100).await.unwrap().len();
    b.js("document.querySelector('#staff-header a[href=\"/w/inbox\"]').focus(); return null;").await;
    key(&b, Key::Enter.into()).await;
    wait_for("the inbox", async || b.current_url().await.ends_with("/w/inbox")).await;
    b.close().await;
    let after = app.store().audit_entries(Some("tags_changed"), None, None, 100).await.unwrap().len();
    assert_eq!(after, before, "following a link saved nothing");
    assert_eq!(app.store().opinion(id).await.unwrap().areas(), saved.areas());
}

/// A note typed under one opinion and left unsent (Esc, then Enter to move on) stays with that opinion: the
/// next card's box is empty, and going back shows it again (it was saved under the next opinion). `p` saves
/// the areas changed on the card before the problem chooser opens (they were dropped).
#[tokio::test]
async fn a_note_stays_with_its_opinion_and_p_keeps_the_areas_changed_on_the_card() {
    let app = TestApp::spawn().await;
    for text in ["村法律顾问见不到人", "公证处排队时间太长"] {
        opinion_id(&app, &app.submit_opinion(text).await).await;
    }
    app.create_user("noter", Role::Analyst).await;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "noter").await;
    b.goto(&app.url("/w/tag")).await;
    wait_for("the first opinion", async || shown_id(&b).await.is_some()).await;
    let first = shown_id(&b).await.unwrap();
    // Enter with nothing ticked (a suggestion's key pressed to untick it) keeps the card and says so: it
    // moved on silently and the analyst believed the opinion tagged.
    b.js(
        "document.querySelectorAll('#areas input[name=area]:checked').forEach(function (x) { x.click(); }); return 0;",
    )
    .await;
    key(&b, Key::Enter.into()).await;
    wait_for("the refusal", async || b.text("#status").await.contains("没有勾选任何领域")).await;
    assert_eq!(shown_id(&b).await, Some(first));
    key(&b, 'n').await;
    b.fill("#note-text", "需核实是哪个村").await;
    b.press("#note-text", &Key::Escape.to_string()).await;
    key(&b, Key::Right.into()).await;
    wait_for("the second opinion", async || shown_id(&b).await.is_some_and(|id| id != first)).await;
    let second = shown_id(&b).await.unwrap();
    assert_eq!(b.value("#note-text").await, "", "the first opinion's note is not under the second");
    key(&b, Key::Left.into()).await;
    wait_for("the first opinion again", async || shown_id(&b).await == Some(first)).await;
    assert_eq!(b.value("#note-text").await, "需核实是哪个村", "the unsent note waits under its opinion");
    // Saving the note, then at once two areas and p: the note's answer does not reset the areas typed.
    let unticked = "return Array.from(document.querySelectorAll('#areas input[name=area]:not(:checked)')).map(function (b) { return b.value; });";
    let typed: Vec<char> = b
        .js(unticked)
        .await
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|v| v.as_str().unwrap().chars().next().unwrap())
        .collect();
    key(&b, 'n').await;
    b.press("#note-text", &Key::Enter.to_string()).await;
    for k in typed.iter().copied().chain(['p']) {
        key(&b, k).await;
    }
    wait_for("the problem chooser", async || b.current_url().await.contains("/w/problems/link")).await;
    assert_eq!(app.store().opinion(first).await.unwrap().notes.len(), 1);
    assert!(app.store().opinion(second).await.unwrap().notes.is_empty());
    let areas: Vec<char> =
        app.store().opinion(first).await.unwrap().tags.iter().map(|t| char::from(b'0' + t.area.get())).collect();
    assert!(typed.iter().all(|a| areas.contains(a)), "the areas typed before p ({typed:?}) were saved: {areas:?}");
    b.close().await;
}

/// Areas ticked with the mouse, then a click on 典型意见 (a plain form post that reloads the card): the ticks
/// are saved first; they were thrown away.
#[tokio::test]
async fn a_click_on_a_card_button_saves_the_areas_ticked_first() {
    let app = TestApp::spawn().await;
    let id = opinion_id(&app, &app.submit_opinion("村里的人民调解委员会很少开展工作").await).await;
    app.create_user("clicker", Role::Analyst).await;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "clicker").await;
    b.goto(&app.url(&format!("/w/tag/{id}"))).await;
    wait_for("the card", async || shown_id(&b).await == Some(id)).await;
    let unticked = "return Array.from(document.querySelectorAll('#areas input[name=area]:not(:checked)')).map(function (b) { return b.value; });";
    let two: Vec<String> =
        b.js(unticked).await.as_array().unwrap().iter().take(2).map(|v| v.as_str().unwrap().to_owned()).collect();
    for a in &two {
        b.click(&format!("#areas input[name=area][value='{a}']")).await;
    }
    b.click("#repform button").await;
    wait_for("the mark", async || app.store().opinion(id).await.unwrap().representative).await;
    let areas: Vec<String> =
        app.store().opinion(id).await.unwrap().tags.iter().map(|t| t.area.get().to_string()).collect();
    assert!(two.iter().all(|a| areas.contains(a)), "the areas ticked ({two:?}) were saved: {areas:?}");
    b.close().await;
}

/// A second note typed while the first is still saving stays in its box (the first's answer cleared it).
#[tokio::test]
async fn a_note_typed_while_the_last_one_is_saving_is_kept() {
    let app = TestApp::spawn().await;
    let Some((b, _)) = tagging_one(&app, "调解室太小，谈话没有隐私").await else { return };
    // A slow network: every answer arrives a second late.
    b.js("var f = window.fetch; window.fetch = function (u, o) { return f(u, o).then(function (r) { \
          return new Promise(function (ok) { setTimeout(function () { ok(r); }, 1000); }); }); }; return 1;")
        .await;
    key(&b, 'n').await;
    b.fill("#note-text", "第一条备注").await;
    b.press("#note-text", &Key::Enter.to_string()).await;
    key(&b, 'n').await;
    b.fill("#note-text", "第二条备注正在写").await;
    wait_for("the first note's answer", async || {
        b.js("return document.getElementById('c-notes').textContent.indexOf('第一条备注') >= 0;").await.as_bool()
            == Some(true)
    })
    .await;
    assert_eq!(b.value("#note-text").await, "第二条备注正在写", "the note being typed is kept");
    b.fill("#note-text", "").await;
    b.close().await;
}

/// Keys pressed before the next card shows belong to it: Enter and the next card's number key at once,
/// card after card, store each card with its own key. They toggled the box of the card just saved and
/// were lost when the next one was drawn (a review saw ten in a row stored with the suggestion alone).
#[tokio::test]
async fn keys_typed_before_the_next_card_shows_are_that_cards() {
    let app = TestApp::spawn().await;
    for t in &TEXTS[..6] {
        app.submit_opinion(t).await;
    }
    app.create_user("ahead", Role::Analyst).await;
    // The first model trains in the background: cards read before it is ready suggest nothing.
    app.state.suggester.wait_trained(0).await;
    let ids = crate::helpers::tagging_order(&app, "ahead").await;
    let (api, _) = app.login("ahead", PASSWORD).await;
    // Each card's own key: an area its suggestion did not tick, so the key adds it.
    let mut expected = BTreeMap::new();
    let mut keys = Vec::new();
    for id in &ids {
        let card: serde_json::Value =
            api.get(app.url(&format!("/w/api/opinions/{id}"))).send().await.unwrap().json().await.unwrap();
        let mut ticked: BTreeSet<i64> = card["areas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["ticked"].as_bool() == Some(true))
            .map(|a| a["code"].as_i64().unwrap())
            .collect();
        let own = (1..=8).find(|a| !ticked.contains(a)).unwrap();
        ticked.insert(own);
        keys.push(char::from_digit(own as u32, 10).unwrap());
        expected.insert(*id, ticked.into_iter().collect::<Vec<_>>());
    }
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "ahead").await;
    b.goto(&app.url("/w/tag")).await;
    wait_for("the first opinion", async || shown_id(&b).await == Some(ids[0])).await;
    for (i, k) in keys.into_iter().enumerate() {
        if i == 0 {
            // Marked 典型 first: its answer comes after the next card shows, and must not draw this one back.
            key(&b, 's').await;
        }
        key(&b, k).await;
        key(&b, Key::Enter.into()).await;
    }
    let answered = "return document.getElementById('status').dataset.pending === '0' && \
                    document.getElementById('pending').textContent === '0';";
    wait_for_page(&b, "every save to be answered", answered).await;
    for (id, want) in &expected {
        let o = app.store().opinion(*id).await.unwrap();
        let got: Vec<i64> = o.tags.iter().map(|t| i64::from(t.area.get())).collect();
        assert_eq!(&got, want, "opinion {id}: {}", b.text("#status").await);
    }
    assert!(app.store().opinion(ids[0]).await.unwrap().representative, "s marked the first card");
    b.close().await;
}

/// With more than nine problems the chooser's number keys cannot reach them all: `/` filters by title, Enter
/// links to the first shown, and the number keys count the problems shown.
#[tokio::test]
async fn the_problem_chooser_filters_past_nine_problems_and_its_keys_count_what_is_shown() {
    let app = TestApp::spawn().await;
    let (office, csrf) = app.login_as(Role::Analyst).await;
    let titles = ["理论学习", "办事效率", "调解质量", "窗口服务", "法律援助", "公证办理", "社区矫正", "普法宣传"];
    let mut problems = Vec::new();
    for title in titles.iter().chain(&["队伍建设", "廉政纪律", "基层所建设", "人民调解员培训"]) {
        problems.push(crate::register::create_problem(&app, &office, &csrf, title).await);
    }
    let Some((b, id)) = tagging_one(&app, "调解员业务不熟，调解协议写得不规范").await else { return };
    let chooser = async || {
        key(&b, 'p').await;
        wait_for("the problem chooser", async || b.current_url().await.contains("/w/problems/link")).await;
        wait_for_page(&b, "the filter", "return !document.getElementById('choose-find').hidden;").await;
    };
    let linked = async |p: i64| app.store().problem_opinion_ids(p).await.unwrap().contains(&id);
    chooser().await;
    key(&b, '/').await;
    b.fill("#choose-filter", "调解员").await;
    key(&b, Key::Enter.into()).await;
    wait_for("the twelfth problem linked", async || linked(problems[11]).await).await;
    wait_for("the card again", async || shown_id(&b).await == Some(id)).await;
    chooser().await;
    key(&b, '/').await;
    b.fill("#choose-filter", "建设").await;
    let keys = "return Array.from(document.querySelectorAll('#choose li:not([hidden]) kbd:not([hidden])')).map(function (k) { return k.textContent; }).join();";
    assert_eq!(b.js(keys).await, "1,2", "队伍建设 and 基层所建设, numbered afresh");
    b.js("document.activeElement.blur(); return 1;").await;
    key(&b, '2').await;
    wait_for("the eleventh problem linked", async || linked(problems[10]).await).await;
    assert!(!linked(problems[8]).await, "key 2 was the second shown, not problem 2 or 9");
    b.close().await;
}

/// Keys typed ahead on a slow network belong to the card they were typed for: after `u`, to the card the
/// undo brings back (they tagged the next one); after a refused Enter, to none (they tagged the card just
/// refused with the area unticked); after `n`, to the note (3 and x tagged the next card and marked it
/// 无效). Enter while Chinese is being composed is the input method's, not the note's.
#[tokio::test]
async fn keys_typed_ahead_on_a_slow_network_reach_the_card_they_were_typed_for() {
    let app = TestApp::spawn().await;
    for text in ["村法律顾问见不到人", "公证处排队时间太长", "窗口工作人员态度冷淡", "学习制度要落实"]
    {
        opinion_id(&app, &app.submit_opinion(text).await).await;
    }
    app.create_user("typist", Role::Analyst).await;
    // The first card drawn before the model is trained has no suggestion, the undone one may have.
    app.state.suggester.wait_trained(0).await;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "typist").await;
    b.goto(&app.url("/w/tag")).await;
    wait_for("the first opinion", async || shown_id(&b).await.is_some()).await;
    let slow =
        serde_json::json!({ "offline": false, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1 });
    b.cdp("Network.enable", serde_json::json!({})).await;
    b.cdp("Network.emulateNetworkConditions", slow).await;
    let untick =
        "document.querySelectorAll('#areas input[name=area]:checked').forEach(function (x) { x.click(); }); return 0;";
    let areas =
        async |id: i64| -> Vec<u8> { app.store().opinion(id).await.unwrap().areas().iter().map(|a| a.get()).collect() };
    // Enter, u, 4, Enter at once: A saved, undone, then saved with 4; the next card untouched.
    let a = shown_id(&b).await.unwrap();
    // Two areas A's suggestion leaves unticked: the undone card comes back with its suggestion ticked
    // again, and the second key adds to it (a first key the suggestion ticked would come back with it).
    let suggested: Vec<u8> = serde_json::from_value(
        b.js("return Array.from(document.querySelectorAll('#areas input[name=area]:checked'))\
              .map(function (x) { return Number(x.value); });")
            .await,
    )
    .unwrap();
    let mut free = (1..=8u8).filter(|c| !suggested.contains(c));
    let (first, second) = (free.next().unwrap(), free.next().unwrap());
    let digit = |c: u8| char::from_digit(u32::from(c), 10).unwrap();
    b.js(untick).await;
    for k in [digit(first), Key::Enter.into(), 'u', digit(second), Key::Enter.into()] {
        key(&b, k).await;
    }
    wait_for("A saved with the second key", async || areas(a).await.contains(&second)).await;
    assert!(!areas(a).await.contains(&first), "the undo took the first key back");
    wait_for("the next card", async || shown_id(&b).await.is_some_and(|id| id != a)).await;
    let next = shown_id(&b).await.unwrap();
    assert!(areas(next).await.is_empty(), "the card after A got A's keys");
    // n and a note typed while the next card loads: a note for that card, nothing toggled or marked.
    b.js(untick).await;
    for k in ['2', Key::Enter.into(), 'n', '3', 'x'] {
        key(&b, k).await;
    }
    wait_for("the card after", async || shown_id(&b).await.is_some_and(|id| id != next)).await;
    let third = shown_id(&b).await.unwrap();
    wait_for("the note box", async || b.value("#note-text").await == "3x").await;
    let shown = app.store().opinion(third).await.unwrap();
    assert!(shown.areas().iter().all(|a| a.get() != 3), "3 went to the note, not the areas");
    assert_ne!(shown.state, wenji::domain::tagging::OpinionState::Invalid, "x went to the note");
    // Enter while composing Chinese stays in the box.
    b.js("var t = document.getElementById('note-text'); t.dispatchEvent(new KeyboardEvent('keydown', \
          { key: 'Enter', isComposing: true, bubbles: true })); return 0;")
        .await;
    assert_eq!(b.value("#note-text").await, "3x", "the input method's Enter sent the note");
    assert!(app.store().opinion(third).await.unwrap().notes.is_empty());
    b.close().await;
}
