//! The inbox in headless Chromium: a dozen or more rows on a 1280×900 screen, search matches marked, a
//! note saved from a row shown in that row, a state changed from a row returning the focus to it, and an
//! empty bulk action answered on the inbox itself; at phone width it does not scroll sideways.

use crate::browser::Browser;
use crate::browser_staff::{create_named, overflow, shot, sign_in, texts_of};
use crate::helpers::TestApp;
use wenji::domain::user::Role;

const TEXTS: &[&str] = &[
    "希望多组织法律进村活动",
    "人民调解员待遇偏低",
    "公证处排队时间太长",
    "社区矫正人员管理要规范",
    "村法律顾问见不到人",
    "建议增加夜间咨询服务",
    "调解工作要更贴近群众",
    "领导多下基层走走",
];

async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    for i in 0..30 {
        app.submit_opinion(&format!("{}（第 {i} 条）", TEXTS[i % TEXTS.len()])).await;
    }
    create_named(&app, "inbox-analyst", "分析员小林", Role::Analyst).await;
    app
}

#[tokio::test]
async fn a_dozen_rows_fit_a_desk_screen_and_the_inbox_fits_a_phone() {
    let app = seeded().await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        sign_in(&b, &app, "inbox-analyst").await;
        b.goto(&app.url("/w/inbox")).await;
        let over = overflow(&b, width).await;
        assert!(over <= 0, "the inbox at {width}px scrolls sideways by {over}px");
        let visible = b
            .js("return Array.from(document.querySelectorAll('#inbox tbody tr')).filter(function (r) { return r.getBoundingClientRect().bottom <= window.innerHeight; }).length;")
            .await
            .as_i64()
            .unwrap();
        if width >= 1280 {
            assert!(visible >= 12, "{visible} rows fit on a 1280x900 screen");
            // Each row's cells line up: the areas cell was laid out as the tagging page's grid, boxes askew.
            let askew = "return Array.from(document.querySelectorAll('#inbox tbody tr')).filter(function (r) { \
                var a = r.querySelector('td.areas').getBoundingClientRect(), t = r.querySelector('td.text').getBoundingClientRect(); \
                return Math.abs(a.top - t.top) > 1 || Math.abs(a.bottom - t.bottom) > 1; }).length;";
            assert_eq!(b.js(askew).await.as_i64(), Some(0), "rows whose areas cell is out of line");
            let header =
                "return document.querySelector('#inbox thead th:nth-child(2)').getBoundingClientRect().height;";
            assert!(b.js(header).await.as_f64().unwrap() < 40.0, "编号 is on one line");
        }
        b.screenshot(shot(&format!("inbox-{width}"))).await;
        b.close().await;
    }
}

#[tokio::test]
async fn search_matches_are_marked_notes_show_in_their_row_and_an_empty_bulk_action_says_so() {
    let app = seeded().await;
    for (width, height) in [(390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        sign_in(&b, &app, "inbox-analyst").await;
        b.goto(&app.url("/w/inbox?q=%E8%B0%83%E8%A7%A3")).await;
        let marks = texts_of(&b, "#inbox td.text mark").await;
        let rows = b.find_all("#inbox tbody tr").await.len();
        assert!(rows >= 2 && marks.len() >= rows, "each matching row marks 调解: {rows} rows, {marks:?}");
        assert!(marks.iter().all(|m| m == "调解"), "{marks:?}");
        b.screenshot(shot(&format!("inbox-search-{width}"))).await;

        // A note from the row's own controls, then shown in that row with the writer's name.
        let id = b.js("return document.querySelector('#inbox tbody tr').dataset.id;").await;
        let id = id.as_str().unwrap().to_owned();
        b.click(&format!("#o{id} details.row-actions summary")).await;
        b.fill(&format!("#o{id} input[name=text]"), &format!("需回访（{width}）")).await;
        b.click_and_wait_for_navigation(&format!("#o{id} button[form=n{id}]")).await;
        assert!(b.current_url().await.contains("/w/inbox"), "back to the inbox");
        let note = b.text(&format!("#o{id} td.text")).await;
        assert!(note.contains(&format!("需回访（{width}）")), "the note in its row: {note:?}");
        assert!(note.contains("分析员小林"), "the writer's display name: {note:?}");

        // 预览 with nothing ticked: the inbox says what to do, with the filter kept.
        b.click_and_wait_for_navigation("#bulkform button[type=submit]").await;
        let url = b.current_url().await;
        assert!(url.contains("/w/inbox?") && url.contains("q="), "still the filtered inbox: {url}");
        let msg = b.text("#bulk-notice").await;
        assert!(msg.contains("没有勾选任何意见"), "{msg}");
        assert_eq!(b.find("#bulk-notice").await.attr("role").await.unwrap().as_deref(), Some("status"));
        assert!(!b.text("main").await.contains("ids："), "no bare field code");
        b.screenshot(shot(&format!("inbox-bulk-empty-{width}"))).await;
        b.close().await;
    }
}

/// 更改 … 改 on a row far down the list: the page comes back at that row, with the keyboard's focus on it and
/// what was done said in it (it came back at the top, the focus lost).
#[tokio::test]
async fn changing_a_rows_state_returns_the_focus_to_that_row() {
    let app = seeded().await;
    let Some(b) = Browser::start(1280, 900).await else { return };
    sign_in(&b, &app, "inbox-analyst").await;
    b.goto(&app.url("/w/inbox")).await;
    let id = b.js("return document.querySelectorAll('#inbox tbody tr')[24].dataset.id;").await;
    let id = id.as_str().unwrap().to_owned();
    b.click(&format!("#o{id} details.row-actions summary")).await;
    b.js(&format!("document.querySelector('#o{id} select[name=state]').value = 'verify'; return true;")).await;
    b.click_and_wait_for_navigation(&format!("#o{id} button[form=s{id}]")).await;
    let got = b.js("return [document.activeElement.id, window.scrollY];").await;
    assert_eq!(got[0].as_str(), Some(format!("o{id}").as_str()), "the focus is on the row changed");
    assert!(got[1].as_f64().unwrap() > 0.0, "scrolled to the row, not the top");
    assert_eq!(b.text(&format!("#o{id} .done")).await, format!("意见 #{id} 的状态已改为“需核实”。"));
    b.screenshot(shot("inbox-state-changed")).await;
    b.close().await;
}
