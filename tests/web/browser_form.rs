//! The citizens' form in a real headless Chromium on phone-sized screens: filling and submitting, drafts
//! that survive a reload and go away after a submit, and the appraisal matrix on a 360-px-wide screen.
//! Screenshots go to `$TMPDIR/wenji-shots/`.

use crate::browser::Browser;
use crate::helpers::TestApp;
use std::path::PathBuf;
use wenji::domain::form::answers::Answer;

fn shot(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("wenji-shots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.png"))
}

/// The localStorage keys of Wenji drafts in the current page's origin.
async fn draft_keys(b: &Browser) -> Vec<String> {
    let v = b
        .js("return Object.keys(localStorage).filter(function (k) { return k.indexOf('wenji-draft:') === 0; });")
        .await;
    v.as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect()
}

/// Whether leaving the page now would ask first (a `beforeunload` handler cancels the event).
const LEAVE_ASKS: &str = "var e = document.createEvent('Event'); e.initEvent('beforeunload', false, true); \
    window.dispatchEvent(e); return e.defaultPrevented;";

#[tokio::test]
async fn a_mistake_is_shown_next_to_its_question_on_a_phone_with_everything_typed_kept() {
    let Some(b) = Browser::start(390, 844).await else { return };
    let app = TestApp::spawn().await;
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=dy]").await;
    b.fill("textarea[name=q_team]", "短").await;
    b.fill("textarea[name=q_work]", "建议公证处周末也开放半天。").await;
    b.click_and_wait_for_navigation("button.submit").await;
    assert!(b.text("#err-team").await.contains("至少写 2 个字"));
    assert!(b.text("#err-has_member").await.contains("必答题"));
    assert!(b.text("#err-satisfaction").await.contains("必答题"));
    assert_eq!(b.value("textarea[name=q_team]").await, "短", "typed text kept");
    assert_eq!(b.value("textarea[name=q_work]").await, "建议公证处周末也开放半天。");
    assert!(b.is_checked("input[name=_category][value=dy]").await);
    let in_view = b
        .js("var r = document.querySelector('.field-error').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;")
        .await;
    assert_eq!(in_view, true, "the first error is scrolled into view");
    assert_eq!(b.js("return document.activeElement.id").await, "error-summary", "a screen reader reads what to fix");
    b.screenshot(shot("zhengqiu-390-errors")).await;
    // Each error in the summary is a finger's height, and following it puts the focus in its question.
    let heights = b
        .js("return Array.prototype.map.call(document.querySelectorAll('.error-summary li a'), \
             function (a) { return a.getBoundingClientRect().height; });")
        .await;
    let heights: Vec<f64> = heights.as_array().unwrap().iter().filter_map(serde_json::Value::as_f64).collect();
    assert!(!heights.is_empty() && heights.iter().all(|h| *h >= 44.0), "{heights:?}");
    b.js("document.querySelector('.error-summary li a[href=\"#q-has_member\"]').click(); return null;").await;
    assert_eq!(b.js("return document.activeElement.id").await, "q-has_member", "the focus follows the link");

    b.fill("textarea[name=q_team]", "短，补充：希望调解员培训多一些。").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='3']").await;
    b.click_and_wait_for_navigation("button.submit").await;
    let receipt = b.text("#receipt-code").await;
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert_eq!(stored.category_code.as_deref(), Some("dy"));
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    b.close().await;
}

#[tokio::test]
async fn a_citizen_fills_the_opinion_form_on_a_phone_and_sees_the_receipt() {
    let Some(b) = Browser::start(390, 844).await else { return };
    let app = TestApp::spawn().await;
    b.goto(&app.url("/f/zhengqiu")).await;
    assert_eq!(b.js("return window.innerWidth").await, 390, "the phone viewport is 390 px wide");
    b.screenshot(shot("zhengqiu-390-top")).await;

    assert_eq!(b.js(LEAVE_ASKS).await, false, "leaving an untouched form asks nothing");
    b.click("input[name=_category][value=qz]").await;
    let opinion = "希望局领导多到司法所走走，听听基层调解员的困难。";
    b.fill("textarea[name=q_team]", opinion).await;
    let counter = b.text("#q-team .counter").await;
    assert_eq!(counter, format!("{} / 2000 字", opinion.chars().count()), "the counter counts characters");
    // Text over the limit is kept whole, never cut by the browser, and the counter says how much to cut.
    let long = "调".repeat(2_100);
    b.fill("textarea[name=q_team]", &long).await;
    assert_eq!(b.value("textarea[name=q_team]").await.chars().count(), 2_100, "the browser cut the text");
    assert_eq!(b.text("#q-team .counter").await, "2100 / 2000 字，超出 100 字，请删减后再提交");
    // Sending it is held on the page, at the field, rather than refused whole by the server.
    b.js("document.getElementById('wenji-form').requestSubmit(); return 1").await;
    assert_eq!(b.js("return document.activeElement.name").await, "q_team", "the field over its limit is focused");
    // A screen reader there hears that it is over, and by how much; once cut, the field is valid again.
    let team = b.find("textarea[name=q_team]").await;
    assert_eq!(team.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    assert!(team.attr("aria-describedby").await.unwrap().unwrap_or_default().contains("count-q_team"));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 0, "nothing was sent");
    b.fill("textarea[name=q_team]", opinion).await;
    assert_eq!(b.find("textarea[name=q_team]").await.attr("aria-invalid").await.unwrap(), None);
    // The follow-up question appears only after answering “有”.
    assert!(!b.find("#q-member").await.is_displayed().await.unwrap(), "hidden until asked for");
    assert_eq!(b.text("#q-work .qn").await, "3", "numbers skip the hidden question");
    b.click("input[name=q_has_member][value=yes]").await;
    assert!(b.find("#q-member").await.is_displayed().await.unwrap());
    assert_eq!(b.text("#q-member .qn").await, "3");
    assert_eq!(b.text("#q-work .qn").await, "4");
    // Text over the limit in a follow-up hidden again is not sent (the server drops it): it holds nothing.
    b.fill("textarea[name=q_member]", &"长".repeat(2_100)).await;
    b.click("input[name=q_has_member][value=no]").await;
    let held = "var e = new Event('submit', {cancelable: true}); \
                document.getElementById('wenji-form').dispatchEvent(e); return e.defaultPrevented;";
    assert_eq!(b.js(held).await, false, "a hidden question's text held the form back");
    let sent = "return document.querySelector('textarea[name=q_member]').disabled";
    assert_eq!(b.js(sent).await, true, "a hidden follow-up is not sent (the server refuses one answered)");
    b.click("input[name=q_has_member][value=yes]").await;
    b.fill("textarea[name=q_member]", "分管基层工作的领导下乡次数偏少。").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    assert_eq!(b.js(LEAVE_ASKS).await, true, "leaving with unsent text asks first");
    b.screenshot_full(shot("zhengqiu-390-filled")).await;

    b.click_and_wait_for_navigation("button.submit").await;
    let receipt = b.text("#receipt-code").await;
    assert!(receipt.starts_with("WJ-"), "receipt shown: {receipt}");
    b.screenshot(shot("zhengqiu-390-receipt")).await;
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert_eq!(stored.category_code.as_deref(), Some("qz"));
    // The page posts multipart/form-data: the texts arrive as typed.
    assert_eq!(stored.answers.get("team"), Some(&Answer::Text(opinion.into())));
    assert_eq!(stored.answers.get("member"), Some(&Answer::Text("分管基层工作的领导下乡次数偏少。".into())));
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    assert!(draft_keys(&b).await.is_empty(), "the draft is cleared once the receipt is shown");
    b.close().await;
}

#[tokio::test]
async fn a_half_filled_form_comes_back_after_a_reload_with_its_key_and_is_cleared_after_submitting() {
    let Some(b) = Browser::start(390, 844).await else { return };
    let app = TestApp::spawn().await;
    b.goto(&app.url("/f/zhengqiu")).await;
    let key = b.value("input[name=_key]").await;
    b.click("input[name=_category][value=cs]").await;
    b.fill("textarea[name=q_team]", "村里的法律顾问一年只来两次，希望固定时间坐班。").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.fill("input[name=q_phone]", "13700001111").await;
    assert!(!b.find("#draft-note").await.is_displayed().await.unwrap());
    assert_eq!(draft_keys(&b).await, vec!["wenji-draft:zhengqiu:0".to_owned()]);
    let draft = b.js("return localStorage.getItem('wenji-draft:zhengqiu:0');").await;
    assert!(!draft.as_str().unwrap().contains("13700001111"), "contact details are not kept in the draft");

    // A reload, then a fresh visit (which gets no help from the browser's own form restoring).
    b.reload().await;
    assert!(b.find("#draft-note").await.is_displayed().await.unwrap(), "the page says the draft was restored");
    assert!(b.text("#draft-note").await.contains("联系电话不在本机保存"), "and that the phone number was not kept");
    assert_eq!(b.value("textarea[name=q_team]").await, "村里的法律顾问一年只来两次，希望固定时间坐班。");
    b.goto("about:blank").await;
    b.goto(&app.url("/f/zhengqiu")).await;
    assert!(b.find("#draft-note").await.is_displayed().await.unwrap(), "the page says the draft was restored");
    assert_eq!(b.value("textarea[name=q_team]").await, "村里的法律顾问一年只来两次，希望固定时间坐班。");
    assert!(b.is_checked("input[name=_category][value=cs]").await);
    assert!(b.is_checked("input[name=q_has_member][value=no]").await);
    assert_eq!(b.value("input[name=_key]").await, key, "the first page's submission key is kept");
    assert_eq!(b.value("input[name=q_phone]").await, "", "the phone number is not restored");
    b.screenshot(shot("zhengqiu-390-restored")).await;

    b.click("input[name=q_satisfaction][value='1']").await;
    b.click_and_wait_for_navigation("button.submit").await;
    let receipt = b.text("#receipt-code").await;
    assert!(receipt.starts_with("WJ-"));
    assert!(draft_keys(&b).await.is_empty());
    // Opening the form again starts empty, with a new key.
    b.goto(&app.url("/f/zhengqiu")).await;
    assert_eq!(b.value("textarea[name=q_team]").await, "");
    assert!(!b.is_checked("input[name=q_has_member][value=no]").await);
    assert!(!b.find("#draft-note").await.is_displayed().await.unwrap());
    assert_ne!(b.value("input[name=_key]").await, key);
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    b.close().await;
}

#[tokio::test]
async fn on_a_shared_phone_the_next_person_can_throw_a_restored_draft_away() {
    let Some(b) = Browser::start(390, 844).await else { return };
    let app = TestApp::spawn().await;
    // Opened at a question (as the error summary's links do): clearing must still load a fresh page.
    b.goto(&app.url("/f/zhengqiu#q-team")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "上一位填写人的草稿内容").await;
    b.click("input[name=q_has_member][value=yes]").await;
    b.reload().await;
    assert_eq!(b.value("textarea[name=q_team]").await, "上一位填写人的草稿内容");
    let their_key = b.value("input[name=_key]").await;
    b.screenshot(shot("zhengqiu-390-draft-note")).await;
    b.click_and_wait_for_navigation("#draft-clear").await;
    assert_ne!(b.value("input[name=_key]").await, their_key, "the next person sends under a key of their own");
    assert_eq!(b.value("textarea[name=q_team]").await, "");
    assert!(!b.is_checked("input[name=_category][value=qz]").await);
    assert!(!b.find("#q-member").await.is_displayed().await.unwrap(), "the follow-up hides again");
    assert_eq!(b.text("#q-team .counter").await, "0 / 2000 字");
    assert!(!b.find("#draft-note").await.is_displayed().await.unwrap());
    assert!(draft_keys(&b).await.is_empty(), "nothing of the draft is left on the phone");
    b.reload().await;
    assert_eq!(b.value("textarea[name=q_team]").await, "");
    // A draft over a week old is someone else's: dropped, not restored.
    b.fill("textarea[name=q_team]", "一周多以前的草稿").await;
    b.js("document.activeElement.blur(); var d = JSON.parse(localStorage.getItem('wenji-draft:zhengqiu:0')); d.at -= 8 * 24 * 3600 * 1000; \
          localStorage.setItem('wenji-draft:zhengqiu:0', JSON.stringify(d)); return null;")
        .await;
    b.goto("about:blank").await;
    b.goto(&app.url("/f/zhengqiu")).await;
    assert_eq!(b.value("textarea[name=q_team]").await, "");
    assert!(draft_keys(&b).await.is_empty(), "the old draft is removed");
    // A damaged draft (another script, an old version) is ignored, and the page's scripts still run.
    b.js("localStorage.setItem('wenji-draft:zhengqiu:0', 'null'); return null;").await;
    b.reload().await;
    assert_eq!(b.text("#q-team .counter").await, "0 / 2000 字");
    // The counter leaves out what the server drops: "差" and five zero-width spaces are one character.
    b.js(
        "var t = document.querySelector('textarea[name=q_team]'); t.value = '差\\u200b\\u200b\\u200b\\u200b\\u200b'; \
          t.dispatchEvent(new Event('input')); return null;",
    )
    .await;
    assert_eq!(b.text("#q-team .counter").await, "1 / 2000 字");
    b.close().await;
}

#[tokio::test]
async fn without_javascript_the_form_still_works_on_a_phone() {
    let Some(b) = Browser::start_without_javascript(390, 844).await else { return };
    let app = TestApp::spawn().await;
    b.goto(&app.url("/f/zhengqiu")).await;
    assert!(b.find_all(".counter").await.is_empty(), "no script ran");
    // The follow-up question is shown, saying when to answer it.
    assert!(b.find("#q-member").await.is_displayed().await.unwrap());
    assert!(b.text("#q-member .cond").await.contains("有"));
    b.click("input[name=_category][value=flfw]").await;
    b.fill("textarea[name=q_team]", "律师事务所年检材料太多，希望精简。").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.fill("textarea[name=q_member]", "选了没有，却写了这段").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    b.screenshot_full(shot("zhengqiu-390-nojs")).await;
    // Answered against its condition: refused with what to change, the text still in its box.
    b.click_and_wait_for_navigation("button.submit").await;
    assert!(b.text("#err-member").await.contains("请把第 2 题改为“有”"));
    assert_eq!(b.value("textarea[name=q_member]").await, "选了没有，却写了这段");
    b.screenshot_full(shot("zhengqiu-390-nojs-follow-up")).await;
    b.fill("textarea[name=q_member]", "").await;
    b.click_and_wait_for_navigation("button.submit").await;
    let receipt = b.text("#receipt-code").await;
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert_eq!(stored.category_code.as_deref(), Some("flfw"));
    assert!(stored.answers.get("member").is_none(), "the skipped follow-up is not stored");
    b.close().await;
}

#[tokio::test]
async fn the_appraisal_matrix_fits_a_360_px_screen_and_every_level_can_be_tapped() {
    let Some(b) = Browser::start(360, 740).await else { return };
    let app = TestApp::spawn().await;
    b.goto(&app.url("/f/ceping")).await;
    assert_eq!(b.js("return window.innerWidth").await, 360);
    let scroll_width = b.js("return document.documentElement.scrollWidth").await.as_u64().unwrap();
    assert!(scroll_width <= 360, "no sideways scrolling: scrollWidth is {scroll_width}");
    b.screenshot_full(shot("ceping-360")).await;

    // Every option is at least 44 px high, inside the screen and not covered by anything else.
    let bad = b
        .js(r#"
            var out = [];
            Array.prototype.forEach.call(document.querySelectorAll('.mopt'), function (l) {
              l.scrollIntoView({block: 'center'});
              var r = l.getBoundingClientRect();
              var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
              if (r.height < 44 || r.width < 44 || r.left < 0 || r.right > 360 || !l.contains(hit)) {
                out.push(l.querySelector('input').name + '=' + l.querySelector('input').value + ' ' +
                  Math.round(r.width) + 'x' + Math.round(r.height) + ' at ' + Math.round(r.left));
              }
            });
            return out;"#)
        .await;
    assert_eq!(bad, serde_json::json!([]), "options too small, off-screen or covered");

    let rows = b.find_all(".matrix .mrow").await;
    assert_eq!(rows.len(), 8, "one row per area");
    let codes: Vec<String> = b
        .js("return Array.prototype.map.call(document.querySelectorAll('.mrow input[value=\"1\"]'), function (i) { return i.name; });")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 8);
    // Tap every level of every row (on the label text, as a thumb would), ending on a different level per row.
    for (i, name) in codes.iter().enumerate() {
        let levels = ["1", "2", "3", "4"];
        let last = levels[i % 4];
        for level in levels.iter().filter(|l| **l != last).chain(std::iter::once(&last)) {
            b.click(&format!(".mopt:has(input[name='{name}'][value='{level}']) span")).await;
            assert!(b.is_checked(&format!("input[name='{name}'][value='{level}']")).await, "{name}={level}");
        }
    }
    b.click("input[name=_category][value=fdy]").await;
    b.click("input[name=q_overall][value='2']").await;
    b.screenshot_full(shot("ceping-360-filled")).await;
    b.click_and_wait_for_navigation("button.submit").await;
    let receipt = b.text("#receipt-code").await;
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    let Some(Answer::Matrix(grid)) = stored.answers.get("appraisal") else { panic!("the matrix is stored") };
    assert_eq!(grid.len(), 8);
    for (i, name) in codes.iter().enumerate() {
        let row = name.split('.').nth(1).unwrap();
        assert_eq!(grid[row], ((i % 4) + 1).to_string(), "{name}");
    }
    b.close().await;
}

#[test]
fn form_js_uses_no_syntax_newer_than_es2017() {
    // WeChat's in-app browser on older phones runs an old engine: no optional chaining, no `??`,
    // no optional catch binding, no object spread, no class fields.
    let js = include_str!("../../src/web/assets/form.js");
    for (needle, what) in [
        ("?.", "optional chaining"),
        ("??", "nullish coalescing"),
        ("catch {", "catch without binding"),
        ("{...", "object spread"),
        ("{ ...", "object spread"),
        ("#", "private fields"),
        ("static ", "static members"),
    ] {
        assert!(!js.contains(needle), "form.js uses {what} ({needle:?})");
    }
}

/// On a slow network the page says the submit is on its way, and a page shown again (Back) reads 提交.
#[tokio::test]
async fn the_submit_button_says_it_is_sending_until_the_answer_comes() {
    let Some(b) = Browser::start(360, 740).await else { return };
    let app = TestApp::spawn().await;
    b.goto(&app.url("/f/zhengqiu")).await;
    let sending = "var f = document.getElementById('wenji-form');
                   f.addEventListener('submit', function (e) { e.preventDefault(); });
                   f.requestSubmit(); return document.querySelector('button.submit').textContent;";
    assert_eq!(b.js(sending).await, "正在提交…");
    let shown_again = "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
                       return document.querySelector('button.submit').textContent;";
    assert_eq!(b.js(shown_again).await, "提交");
    b.close().await;
}
