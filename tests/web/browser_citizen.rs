//! The citizens' form in headless Chromium at phone and desk widths: a reload of the error page keeps the
//! edits made on it, and Back after submitting says the opinion was sent, with its receipt and a way to
//! write another. Screenshots go to `target/wenji-shots/`.

use crate::browser::Browser;
use crate::browser_staff::{overflow, shot};
use crate::helpers::TestApp;

#[tokio::test]
async fn reloading_the_error_page_keeps_the_edits_made_on_it() {
    let app = TestApp::spawn().await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        b.goto(&app.url("/f/zhengqiu")).await;
        b.click("input[name=_category][value=dy]").await;
        b.fill("textarea[name=q_team]", "短").await;
        b.click_and_wait_for_navigation("button.submit").await;
        assert!(b.text("#err-team").await.contains("至少写 2 个字"));
        // Edits on the error page, then a reload (which posts the first answers again, or fetches a fresh form).
        let edited = "短，补充：希望调解员培训多一些。";
        b.fill("textarea[name=q_team]", edited).await;
        b.click("input[name=q_satisfaction][value='3']").await;
        b.reload().await;
        assert_eq!(b.value("textarea[name=q_team]").await, edited, "the newer text survives the reload");
        assert!(b.is_checked("input[name=q_satisfaction][value='3']").await, "and the newer choice");
        b.screenshot(shot(&format!("form-reloaded-{width}"))).await;
        b.click("input[name=q_has_member][value=no]").await;
        b.click_and_wait_for_navigation("button.submit").await;
        let receipt = b.text("#receipt-code").await;
        let stored = app.store().response_by_receipt(&receipt).await.unwrap();
        assert_eq!(stored.category_code.as_deref(), Some("dy"));
        b.close().await;
    }
}

/// Fills the opinion form with `text` as a member of the public and sends it; the receipt page is shown.
async fn send_an_opinion(app: &TestApp, b: &Browser, text: &str) {
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", text).await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    b.click_and_wait_for_navigation("button.submit").await;
}

#[tokio::test]
async fn back_after_submitting_says_it_was_sent_with_the_receipt_and_a_way_to_write_again() {
    let app = TestApp::spawn().await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        send_an_opinion(&app, &b, "希望局领导多到司法所走走，听听基层调解员的困难。").await;
        let receipt = b.text("#receipt-code").await;
        b.screenshot(shot(&format!("receipt-{width}"))).await;
        b.c().back().await.unwrap();
        crate::browser_staff::wait_for("the sent notice", async || {
            b.js("var n = document.getElementById('sent-note'); return !!n && !n.hidden;").await == true
        })
        .await;
        let note = b.text("#sent-note").await;
        assert!(note.contains("已提交") && note.contains(&receipt), "{note}");
        assert_eq!(b.find("#sent-note").await.attr("role").await.unwrap().as_deref(), Some("status"));
        assert!(!b.find("#wenji-form").await.is_displayed().await.unwrap(), "the sent form is put away");
        assert!(overflow(&b, width).await <= 0);
        b.screenshot(shot(&format!("back-after-submit-{width}"))).await;
        b.click_and_wait_for_navigation("#write-again").await;
        assert!(b.find("#wenji-form").await.is_displayed().await.unwrap(), "a fresh form");
        assert!(!b.find("#sent-note").await.is_displayed().await.unwrap());
        assert_eq!(b.value("textarea[name=q_team]").await, "");
        assert_eq!(
            app.store().count_responses(Some("zhengqiu")).await.unwrap() as usize,
            if width < 800 { 1 } else { 2 }
        );
        b.close().await;
    }
}

/// A citizen who made a mistake, mended it and sent: Back from the receipt says it was sent (it showed the
/// browser's English "Confirm Form Resubmission" page, the error page being the answer to a post).
#[tokio::test]
async fn back_after_a_mended_mistake_says_it_was_sent() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(390, 844).await else { return };
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "窗口办事要跑好几趟，希望一次办好。").await;
    b.click_and_wait_for_navigation("button.submit").await;
    assert!(!b.find_all(".field-error").await.is_empty(), "refused first: questions left unanswered");
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    b.click_and_wait_for_navigation("button.submit").await;
    let receipt = b.text("#receipt-code").await;
    b.c().back().await.unwrap();
    crate::browser_staff::wait_for("the sent notice", async || {
        b.js("var n = document.getElementById('sent-note'); return !!n && !n.hidden;").await == true
    })
    .await;
    assert!(b.text("#sent-note").await.contains(&receipt));
    b.screenshot(shot("back-after-a-mended-mistake-390")).await;
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    b.close().await;
}

/// Sent with a double tap, the receipt refreshed, then Back: the page says it was sent, and no draft of
/// the sent text is kept even when a field of the put-away form fires `change` (a review found one kept,
/// restored half an hour later to the next person at the device).
#[tokio::test]
async fn no_draft_of_a_sent_opinion_stays_on_the_phone_after_a_double_tap_a_refresh_and_back() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(390, 844).await else { return };
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "调解员补贴发放太慢，希望按月发放。").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    b.fill("input[name=q_phone]", "13700001111").await;
    b.js("window.__wenjiOldPage = true; return null;").await;
    let button = b.find("button.submit").await;
    let _ = button.clone().click().await;
    let _ = button.click().await;
    crate::browser_staff::wait_for("the receipt", async || {
        b.js("return !window.__wenjiOldPage && !!document.getElementById('receipt-code');").await == true
    })
    .await;
    b.reload().await;
    b.c().back().await.unwrap();
    crate::browser_staff::wait_for("the sent notice", async || {
        b.js("var n = document.getElementById('sent-note'); return !!n && !n.hidden;").await == true
    })
    .await;
    // A field of the put-away form losing focus (as the phone's keyboard closes) sends it `change`.
    b.js("document.getElementById('wenji-form').dispatchEvent(new Event('change')); return null;").await;
    let drafts = b
        .js("return Object.keys(localStorage).filter(function (k) { return k.indexOf('wenji-draft:') === 0; });")
        .await;
    assert_eq!(drafts, serde_json::json!([]), "a draft of the sent text stays");
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    b.close().await;
}

/// A send whose answer never came (no network) and is sent again by reloading the browser's error page: its
/// receipt arrives as a reload, and the draft it sent is cleared all the same (a review found it kept for a
/// week, restored to the next person at a shared phone as unsent).
#[tokio::test]
async fn a_send_repeated_by_reloading_the_error_page_leaves_no_draft_on_the_phone() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(390, 844).await else { return };
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "网络断开时提交的意见：希望公开办事流程。").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    let network = |offline: bool| serde_json::json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    b.cdp("Network.enable", serde_json::json!({})).await;
    b.cdp("Network.emulateNetworkConditions", network(true)).await;
    let _ = b.find("button.submit").await.click().await;
    crate::browser_staff::wait_for("the browser's error page", async || {
        b.js("return !document.getElementById('wenji-form');").await == true
    })
    .await;
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 0);
    b.cdp("Network.emulateNetworkConditions", network(false)).await;
    b.reload().await;
    crate::browser_staff::wait_for("the receipt", async || {
        b.js("return !!document.getElementById('receipt-code');").await == true
    })
    .await;
    let drafts = b
        .js("return Object.keys(localStorage).filter(function (k) { return k.indexOf('wenji-draft:') === 0; });")
        .await;
    assert_eq!(drafts, serde_json::json!([]), "the sent text stays on the phone as a draft");
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    // A second opinion sent with no network, then Back to the first one's receipt, reloaded: that receipt
    // answers no send of this visit and leaves the unsent second draft alone.
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "第二条意见：离线时提交").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='3']").await;
    b.cdp("Network.emulateNetworkConditions", network(true)).await;
    let _ = b.find("button.submit").await.click().await;
    crate::browser_staff::wait_for("the browser's error page", async || {
        b.js("return !document.getElementById('wenji-form');").await == true
    })
    .await;
    b.c().back().await.unwrap();
    b.cdp("Network.emulateNetworkConditions", network(false)).await;
    if b.js("return !!document.getElementById('receipt-code');").await == true {
        b.reload().await;
    }
    let kept = b
        .js("return Object.keys(localStorage).filter(function (k) { return k.indexOf('wenji-draft:') === 0; })\
             .map(function (k) { return localStorage.getItem(k); }).join();")
        .await;
    assert!(kept.as_str().is_some_and(|d| d.contains("第二条意见")), "the unsent draft is gone: {kept}");
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);
    b.close().await;
}

/// A second opinion written after one was sent, left for another page and come back to with Back (a
/// browser that reloads on Back, as WeChat's on old Android): it is restored, not put away as "已提交"
/// (its draft was deleted).
#[tokio::test]
async fn back_to_a_second_opinion_being_written_restores_it_rather_than_saying_it_was_sent() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(390, 844).await else { return };
    send_an_opinion(&app, &b, "第一条意见：调解室太小。").await;
    b.goto(&app.url("/f/zhengqiu")).await;
    b.fill("textarea[name=q_team]", "第二条意见：还没写完").await;
    // An `unload` listener keeps the page out of the back/forward cache: Back reloads it.
    b.js("document.activeElement.blur(); window.addEventListener('unload', function () {}); return null;").await;
    b.goto(&app.url("/gongkai")).await;
    b.c().back().await.unwrap();
    crate::browser_staff::wait_for("the form page", async || {
        b.js("return !!document.getElementById('wenji-form') && document.readyState === 'complete';").await == true
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(b.find("#wenji-form").await.is_displayed().await.unwrap(), "the form is not put away");
    assert_eq!(b.value("textarea[name=q_team]").await, "第二条意见：还没写完");
    let drafts = b
        .js("return Object.keys(localStorage).filter(function (k) { return k.indexOf('wenji-draft:') === 0; }).length;")
        .await;
    assert_eq!(drafts, 1, "the second opinion's draft is kept");
    b.close().await;
}

/// A receipt page clears only the draft this device just sent: a second opinion being written survives a
/// reload of the first one's receipt (WeChat reloads pages on Back) and someone else's receipt opened from
/// a chat. Every draft of the form was deleted, without a word.
#[tokio::test]
async fn a_draft_being_written_survives_a_receipt_page_reloaded_or_opened_from_a_chat() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(360, 740).await else { return };
    send_an_opinion(&app, &b, "第一条意见：调解室太小。").await;
    let own_receipt = b.current_url().await;
    let others_receipt = app.url(&format!("/f/zhengqiu/r/{}", app.submit_opinion("别人的意见：窗口排队太久").await));
    b.goto(&app.url("/f/zhengqiu")).await;
    b.fill("textarea[name=q_team]", "第二条意见：还没写完").await;
    // Sent without its required answers: refused, and no send is on its way any more.
    b.click_and_wait_for_navigation("button.submit").await;
    assert!(!b.text("#err-satisfaction").await.is_empty());
    for receipt in [own_receipt, others_receipt] {
        b.goto(&receipt).await;
        assert!(!b.text("#receipt-code").await.is_empty());
        b.goto(&app.url("/f/zhengqiu")).await;
        assert_eq!(b.value("textarea[name=q_team]").await, "第二条意见：还没写完", "after {receipt}");
    }
    b.close().await;
}

/// A form opened before an upgrade and sent after it: the older page's note of the send has no time, and its
/// draft is cleared all the same (it stayed, and the next person on the phone read it back).
#[tokio::test]
async fn a_draft_sent_from_a_page_opened_before_an_upgrade_is_cleared_by_its_receipt() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(390, 844).await else { return };
    b.goto(&app.url("/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "升级前打开、升级后提交的意见").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    let drafts = "return Object.keys(localStorage).filter(function (k) { return k.indexOf('wenji-draft:zhengqiu:') === 0; }).length;";
    crate::browser_staff::wait_for("the draft saved", async || b.js(drafts).await == 1).await;
    // As the older page sent it: its note without `at`, and no submit handler of this release.
    b.js("var f = document.getElementById('wenji-form'); \
          localStorage.setItem('wenji-sending:zhengqiu', JSON.stringify({ key: String(f.elements['_key'].value).slice(0, 10) })); \
          HTMLFormElement.prototype.submit.call(f); return 1;")
        .await;
    crate::browser_staff::wait_for("the receipt", async || b.current_url().await.contains("/f/zhengqiu/r/")).await;
    crate::browser_staff::wait_for("the draft cleared", async || b.js(drafts).await == 0).await;
    b.close().await;
}

#[tokio::test]
async fn the_sent_note_is_forgotten_on_this_device_after_half_an_hour() {
    let app = TestApp::spawn().await;
    let Some(b) = Browser::start(390, 844).await else { return };
    send_an_opinion(&app, &b, "希望窗口延长服务时间，方便上班的群众。").await;
    let stored = "return localStorage.getItem('wenji-sent:zhengqiu');";
    assert!(b.js(stored).await.as_str().is_some_and(|s| s.contains("receipt")), "the note is kept for going back");
    let sending = "return localStorage.getItem('wenji-sending:zhengqiu');";
    assert!(b.js(sending).await.is_null(), "gone once the receipt shows");
    // Of the key sent (its hash names the row) the note keeps ten characters: too few to compute the hash.
    let tag = b.js("return JSON.parse(localStorage.getItem('wenji-sent:zhengqiu')).key;").await;
    assert_eq!(tag.as_str().map(str::len), Some(10), "{tag:?}");
    // Thirty-one minutes on, the next visit to any form finds it stale and removes it.
    b.js("var s = JSON.parse(localStorage.getItem('wenji-sent:zhengqiu')); s.at -= 31 * 60 * 1000; \
          localStorage.setItem('wenji-sent:zhengqiu', JSON.stringify(s)); return true;")
        .await;
    b.goto(&app.url("/f/ceping")).await;
    assert!(b.js(stored).await.is_null(), "no receipt stays on the device");
    b.goto(&app.url("/f/zhengqiu")).await;
    assert!(b.find("#wenji-form").await.is_displayed().await.unwrap());
    b.close().await;
}

/// Phones without Fetch Metadata (iOS before 16.4, older WeChat webviews) give the cross-site check only
/// `Origin`, which a page's referrer policy decides: under `no-referrer` it is `null`, and every form post
/// and sign-in from them was refused as cross-site, the text lost. Seen through a front that takes
/// `Sec-Fetch-*` off Chromium's requests.
#[tokio::test]
async fn a_phone_without_fetch_metadata_submits_the_form_and_signs_in() {
    let Some(b) = Browser::start(390, 844).await else { return };
    let app = TestApp::spawn().await;
    app.create_user("wu.analyst", wenji::domain::user::Role::Analyst).await;
    let front = front_without_fetch_metadata(app.url("")).await;
    b.goto(&format!("{front}/f/zhengqiu")).await;
    b.click("input[name=_category][value=qz]").await;
    b.fill("textarea[name=q_team]", "老式手机也要能提交意见，调解窗口中午没人。").await;
    b.click("input[name=q_has_member][value=no]").await;
    b.click("input[name=q_satisfaction][value='2']").await;
    b.click_and_wait_for_navigation("button.submit").await;
    assert!(b.current_url().await.contains("/f/zhengqiu/r/"), "refused: {}", b.text("main").await);
    assert_eq!(app.store().count_responses(Some("zhengqiu")).await.unwrap(), 1);

    b.goto(&format!("{front}/login")).await;
    b.fill("input[name=username]", "wu.analyst").await;
    b.fill("input[name=password]", crate::helpers::PASSWORD).await;
    b.click_and_wait_for_navigation("form[action='/login'] button[type=submit]").await;
    assert!(b.current_url().await.contains("/w"), "refused: {}", b.text("main").await);
    b.close().await;
}

/// A front for `target` (`http://host:port`) that passes requests on without their `Sec-Fetch-*` headers
/// and answers as the target does. Returns its own base URL.
async fn front_without_fetch_metadata(target: String) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let forward = move |req: axum::extract::Request| {
        let (client, target) = (client.clone(), target.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let mut headers = reqwest::header::HeaderMap::new();
            for (name, value) in &parts.headers {
                if !name.as_str().starts_with("sec-fetch-") {
                    headers.append(name, value.clone());
                }
            }
            let url = format!("{target}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
            let answer = client.request(parts.method, url).headers(headers).body(body).send().await.unwrap();
            let mut out = axum::http::Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if name != "transfer-encoding" && name != "connection" {
                    out = out.header(name, value);
                }
            }
            out.body(axum::body::Body::from(answer.bytes().await.unwrap())).unwrap()
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(forward)).await });
    base
}
