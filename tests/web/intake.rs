//! A burst's opinions wait in the intake (SQLite): the citizen's receipt is answered once the response is
//! durable, the analysts see how many opinions are still being stored, and once the writer has a moment
//! the opinions are listed exactly as if they had been stored at once. These apps defer every batch
//! (`defer_opinions_over = Some(0)`), so a test's single submissions take the burst path.

use crate::helpers::{TestApp, is_postgres, texts};
use crate::workspace::get_html;
use std::time::Duration;
use wenji::domain::tagging::OpinionState;
use wenji::domain::text::fingerprint;
use wenji::domain::user::Role;
use wenji::store::inbox::{InboxFilter, InboxRow};

/// The last one has what JSON escapes or encodes with care: the intake keeps no copy of the text, which
/// is read back from the stored answer when the opinion is moved.
const TEXTS: [&str; 4] = [
    "基层司法所人手不足，调解员流失严重",
    "法律援助申请材料太多",
    "窗口服务态度生硬，办事要跑好几趟",
    "“引号”\"直引号\" 反斜杠\\ 第一行\n第二行\t制表 😀 \u{2028} <b>&amp;</b> 结束",
];

/// Every listed opinion, oldest first.
async fn listed(app: &TestApp) -> Vec<InboxRow> {
    let mut rows = app.store().inbox_page(&InboxFilter::default(), None, 100).await.unwrap();
    rows.reverse();
    rows
}

/// What an opinion is, apart from its ids.
fn essence(r: &InboxRow) -> (String, String, Option<String>, Option<String>, String, OpinionState, bool, i64) {
    (
        r.form_slug.clone(),
        r.question_id.clone(),
        r.unit_code.clone(),
        r.category_code.clone(),
        r.text.clone(),
        r.state,
        r.representative,
        r.submitted_at,
    )
}

#[tokio::test]
async fn opinions_of_a_burst_wait_in_the_intake_and_the_inbox_says_how_many() {
    if is_postgres() {
        return; // PostgreSQL stores every opinion at once; it has no intake.
    }
    // No idle work: nothing moves the opinions, so what waits can be looked at.
    let app = TestApp::spawn_with(|s| {
        s.defer_opinions_over = Some(0);
        s.index_search_after_idle = None;
    })
    .await;
    let mut receipts = Vec::new();
    for t in TEXTS {
        receipts.push(app.submit_opinion(t).await);
    }
    // The response and its answers are stored: its receipt finds it, with the text.
    let stored = app.store().response_by_receipt(&receipts[0]).await.unwrap();
    assert!(format!("{:?}", stored.answers).contains(TEXTS[0]), "the response keeps what was sent");

    let p = app.store().progress().await.unwrap();
    assert_eq!((p.total, p.waiting), (0, 4), "four opinions wait, none is listed yet");
    assert!(listed(&app).await.is_empty());
    let (c, _) = app.login_as(Role::Analyst).await;
    let inbox = get_html(&app, &c, "/w/inbox").await;
    assert_eq!(texts(&inbox, "#waiting strong"), ["4"], "the inbox says how many are still being stored");
    let dashboard = get_html(&app, &c, "/w/dashboard").await;
    assert_eq!(texts(&dashboard, "#waiting strong"), ["4"], "so does the dashboard");
}

#[tokio::test]
async fn once_moved_they_are_listed_once_in_order_exactly_as_if_stored_at_once() {
    let at_once = TestApp::spawn().await;
    let burst = TestApp::spawn_with(|s| s.defer_opinions_over = Some(0)).await;
    for t in TEXTS {
        at_once.submit_opinion(t).await;
        burst.submit_opinion(t).await;
    }
    // The writer moves them when it has been idle for a few milliseconds.
    let mut waited = Duration::ZERO;
    while burst.store().progress().await.unwrap().waiting > 0 {
        assert!(waited < Duration::from_secs(10), "the intake was never moved");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    let (want, got) = (listed(&at_once).await, listed(&burst).await);
    assert_eq!(got.len(), 4, "each opinion listed exactly once");
    assert_eq!(got.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), TEXTS, "in the order they came");
    assert_eq!(got.iter().map(essence).collect::<Vec<_>>(), want.iter().map(essence).collect::<Vec<_>>());
    // The fingerprint, made when an opinion leaves the intake, is the one made when it is stored at once.
    for (w, g) in want.iter().zip(&got) {
        let (w, g) = (at_once.store().opinion(w.id).await.unwrap(), burst.store().opinion(g.id).await.unwrap());
        assert_eq!(g.fingerprint, fingerprint(&g.text), "{}", g.text);
        assert_eq!(g.fingerprint, w.fingerprint);
    }
    let p = burst.store().progress().await.unwrap();
    assert_eq!((p.total, p.pending, p.waiting), (4, 4, 0));
    let (c, _) = burst.login_as(Role::Analyst).await;
    assert!(texts(&get_html(&burst, &c, "/w/inbox").await, "#waiting").is_empty(), "no notice once all are listed");
}
