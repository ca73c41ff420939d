//! In headless Chromium at 390 and 1280 px, keyboard only: suggested areas arrive ticked, nothing is
//! stored until Enter, Enter alone accepts the suggestion, and a number key toggles one area from it;
//! each stored tag keeps its source (accepted suggestion or typed); the mouse's 采纳建议 stores the suggestion
//! of the card on screen.

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};
use crate::workspace::opinion_id;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use std::time::{Duration, Instant};
use wenji::domain::area::AreaCode;
use wenji::domain::tagging::TagSource;
use wenji::domain::user::Role;

async fn key(b: &Browser, k: char) {
    let a = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
    b.c().perform_actions(a).await.unwrap();
}

async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn shown_id(b: &Browser) -> Option<i64> {
    b.js("var t = document.getElementById('tagger'); return t && t.dataset.ready ? Number(t.dataset.id) : null;")
        .await
        .as_i64()
}

async fn numbers(b: &Browser, script: &str) -> Vec<i64> {
    b.js(script).await.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

async fn suggested(b: &Browser) -> Vec<i64> {
    numbers(b, "return Array.from(document.querySelectorAll('#c-suggest .sugg')).map(function (e) { return Number(e.dataset.code); });").await
}

async fn ticked(b: &Browser) -> Vec<i64> {
    numbers(b, "return Array.from(document.querySelectorAll('#areas input[name=area]')).filter(function (e) { return e.checked; }).map(function (e) { return Number(e.value); });").await
}

fn tags(list: &[(i64, TagSource)]) -> Vec<(AreaCode, TagSource)> {
    let mut v: Vec<_> = list.iter().map(|(a, s)| (AreaCode::try_from(*a).unwrap(), *s)).collect();
    v.sort_by_key(|(a, _)| *a);
    v
}

const TEXTS: &[&str] = &[
    "办公证跑了三趟，窗口推诿扯皮，办事效率太低",
    "有领导接受律师事务所宴请，利用职务之便介绍案件，廉政问题要查",
    "司法所人手太少，人民调解员补贴低，基层实际困难没人管",
    // Tagged with the mouse's 采纳建议 on a card the script showed (not the one the page was served with).
    "理论学习走过场，学习笔记照抄照搬，学用脱节",
];

async fn partial_acceptance_at(width: u32, height: u32) {
    let app = TestApp::spawn().await;
    app.state.suggester.wait_trained(0).await;
    for t in TEXTS {
        opinion_id(&app, &app.submit_opinion(t).await).await;
    }
    app.create_user("keyboard", Role::Analyst).await;
    let ids = crate::helpers::tagging_order(&app, "keyboard").await;
    let Some(b) = Browser::start(width, height).await else { return };
    b.goto(&app.url("/login")).await;
    b.fill("input[name=username]", "keyboard").await;
    b.fill("input[name=password]", PASSWORD).await;
    key(&b, Key::Enter.into()).await;
    wait_for("the workspace after sign-in", async || b.current_url().await.ends_with("/w")).await;
    b.goto(&app.url("/w/tag")).await;

    let mut expected = Vec::new();
    let first_suggestion = {
        wait_for("the first opinion", async || shown_id(&b).await == Some(ids[0])).await;
        suggested(&b).await
    };
    for (i, id) in ids.iter().enumerate().take(3) {
        wait_for("the opinion", async || shown_id(&b).await == Some(*id)).await;
        let sugg = suggested(&b).await;
        assert!(!sugg.is_empty(), "{width}px: a suggestion for opinion {id} (step {i})");
        assert_eq!(
            ticked(&b).await,
            {
                let mut s = sugg.clone();
                s.sort();
                s
            },
            "{width}px: suggested areas arrive ticked"
        );
        assert!(app.store().opinion(*id).await.unwrap().tags.is_empty(), "a suggestion is not stored before Enter");
        let want: Vec<(i64, TagSource)> = match i {
            // Enter alone accepts the whole suggestion.
            0 => sugg.iter().map(|a| (*a, TagSource::Suggested)).collect(),
            // One key adds an area the model missed; the rest of the suggestion stays.
            1 => {
                let extra = (1..=8).find(|a| !sugg.contains(a)).unwrap();
                key(&b, char::from_digit(extra as u32, 10).unwrap()).await;
                let mut w: Vec<_> = sugg.iter().map(|a| (*a, TagSource::Suggested)).collect();
                w.push((extra, TagSource::Typed));
                w
            }
            // One key drops a wrong area, another adds the right one.
            _ => {
                let drop = sugg[0];
                let add = (1..=8).rev().find(|a| !sugg.contains(a)).unwrap();
                key(&b, char::from_digit(drop as u32, 10).unwrap()).await;
                key(&b, char::from_digit(add as u32, 10).unwrap()).await;
                let mut w: Vec<_> = sugg.iter().filter(|a| **a != drop).map(|a| (*a, TagSource::Suggested)).collect();
                w.push((add, TagSource::Typed));
                w
            }
        };
        expected.push(tags(&want));
        key(&b, Key::Enter.into()).await;
    }
    wait_for("the last opinion", async || shown_id(&b).await == Some(ids[3])).await;
    let sugg = suggested(&b).await;
    assert!(!sugg.is_empty() && sugg != first_suggestion, "{width}px: another suggestion than the first card's");
    b.click_and_wait_for_navigation("#b-accept").await;
    expected.push(tags(&sugg.iter().map(|a| (*a, TagSource::Suggested)).collect::<Vec<_>>()));
    wait_for("every save to be answered", async || {
        b.js("var s = document.getElementById('status'); return s.dataset.pending === '0' && s.textContent.indexOf('失败') < 0;")
            .await
            .as_bool()
            == Some(true)
            && app.store().progress().await.unwrap().pending == 0
    })
    .await;
    b.close().await;
    for (id, want) in ids.iter().zip(&expected) {
        let o = app.store().opinion(*id).await.unwrap();
        let got: Vec<(AreaCode, TagSource)> = o.tags.iter().map(|t| (t.area, t.source)).collect();
        assert_eq!(&got, want, "{width}px: opinion {id}");
    }
}

#[tokio::test]
async fn suggested_areas_arrive_ticked_and_one_key_corrects_them_on_a_phone() {
    partial_acceptance_at(390, 844).await;
}

#[tokio::test]
async fn suggested_areas_arrive_ticked_and_one_key_corrects_them_on_a_desktop() {
    partial_acceptance_at(1280, 900).await;
}

#[tokio::test]
async fn confirmed_tags_come_back_as_training_examples_with_their_sources() {
    use wenji::store::audit::Actor;
    let app = TestApp::spawn().await;
    let a = opinion_id(&app, &app.submit_opinion("窗口推诿扯皮，办事效率很低").await).await;
    let b = opinion_id(&app, &app.submit_opinion("有干部接受律师事务所宴请").await).await;
    let _untagged = opinion_id(&app, &app.submit_opinion("这一条还没有人归类过").await).await;
    let seven = AreaCode::try_from(7).unwrap();
    let eight = AreaCode::try_from(8).unwrap();
    let who = Actor::system("test");
    app.store().set_tags(a, &[seven], |_| TagSource::Suggested, &who).await.unwrap();
    app.store().set_tags(b, &[eight], |_| TagSource::Typed, &who).await.unwrap();
    let got = app.store().confirmed_tags(10).await.unwrap();
    assert_eq!(got.len(), 2, "only tagged opinions");
    assert_eq!(
        (got[0].text.as_str(), got[0].tags.clone()),
        ("窗口推诿扯皮，办事效率很低", vec![(seven, TagSource::Suggested)])
    );
    assert_eq!(
        (got[1].text.as_str(), got[1].tags.clone()),
        ("有干部接受律师事务所宴请", vec![(eight, TagSource::Typed)])
    );
    assert_eq!(app.store().confirmed_tags(1).await.unwrap().len(), 1, "the limit keeps the latest");
}
