//! The numbers above the inbox: the counts by state stay exact through every kind of change (they are
//! kept by the database, not counted per page), and the count of opinions matching a filter stops at a cap
//! and then says "more than" it, while the list and the bulk preview are unaffected.

use crate::helpers::{TestApp, texts};
use crate::workspace::{act, get_html, listed, submit};
use wenji::domain::tagging::OpinionState;
use wenji::domain::user::Role;
use wenji::store::inbox::{InboxFilter, Matching};

/// The counts shown on the inbox, as (pending, tagged, verify, invalid, total).
fn shown(html: &str) -> [u64; 5] {
    ["#n-pending", "#n-tagged", "#n-verify", "#n-invalid", "#n-total"]
        .map(|sel| texts(html, sel).concat().parse().unwrap_or_else(|_| panic!("{sel} is a number")))
}

/// The same five numbers counted from the opinions themselves.
async fn counted(app: &TestApp) -> [u64; 5] {
    let mut out = [0; 5];
    let states = [OpinionState::Pending, OpinionState::Tagged, OpinionState::Verify, OpinionState::Invalid];
    for (i, s) in states.into_iter().enumerate() {
        let f = InboxFilter { state: Some(s), ..InboxFilter::default() };
        let Matching::Exact(n) = app.store().inbox_count(&f, u64::MAX).await.unwrap() else { unreachable!() };
        out[i] = n;
        out[4] += n;
    }
    out
}

async fn assert_counts(app: &TestApp, c: &reqwest::Client, step: &str, want: [u64; 5]) {
    assert_eq!(counted(app).await, want, "{step}: the opinions themselves");
    assert_eq!(shown(&get_html(app, c, "/w/inbox").await), want, "{step}: the inbox");
    let p = app.store().progress().await.unwrap();
    assert_eq!([p.pending, p.tagged, p.verify, p.invalid, p.total], want, "{step}: progress");
}

#[tokio::test]
async fn the_counts_above_the_inbox_follow_submissions_tagging_bulk_changes_states_and_undo() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for t in ["基层法律服务要加强", "基层调解工作不错", "窗口服务态度好", "司法所人手不足", "办事流程要公开"]
    {
        ids.push(submit(&app, t).await);
    }
    let (c, csrf) = app.login_as(Role::Analyst).await;
    assert_counts(&app, &c, "submitted", [5, 0, 0, 0, 5]).await;
    act(&app, &c, &csrf, ids[0], &[("op", "save"), ("area", "1")]).await;
    act(&app, &c, &csrf, ids[1], &[("op", "save"), ("area", "2"), ("area", "3")]).await;
    assert_counts(&app, &c, "two tagged", [3, 2, 0, 0, 5]).await;
    // Saving other areas on a tagged opinion changes no state.
    act(&app, &c, &csrf, ids[1], &[("op", "save"), ("area", "3")]).await;
    assert_counts(&app, &c, "retagged", [3, 2, 0, 0, 5]).await;
    // Bulk: area 6 on every untagged one, then off every opinion having it.
    let bulk = |filter: &'static str, action: &'static str| {
        let body = [
            ("_csrf", csrf.clone()),
            ("scope", "all".into()),
            ("filter", filter.into()),
            ("area", "6".into()),
            ("action", action.into()),
            ("confirm", "1".into()),
        ];
        c.post(app.url("/w/inbox/bulk")).form(&body).send()
    };
    assert_eq!(bulk("untagged=1", "add").await.unwrap().status(), 200);
    assert_counts(&app, &c, "bulk added", [0, 5, 0, 0, 5]).await;
    assert_eq!(bulk("area=6", "remove").await.unwrap().status(), 200);
    assert_counts(&app, &c, "bulk removed", [3, 2, 0, 0, 5]).await;
    act(&app, &c, &csrf, ids[0], &[("op", "state"), ("state", "verify")]).await;
    act(&app, &c, &csrf, ids[3], &[("op", "state"), ("state", "invalid")]).await;
    assert_counts(&app, &c, "verify and invalid", [2, 1, 1, 1, 5]).await;
    // Untagging puts an opinion back in the queue; undo tags it again.
    act(&app, &c, &csrf, ids[1], &[("op", "save")]).await;
    assert_counts(&app, &c, "untagged", [3, 0, 1, 1, 5]).await;
    act(&app, &c, &csrf, ids[1], &[("op", "undo")]).await;
    assert_counts(&app, &c, "undone", [2, 1, 1, 1, 5]).await;
    // A submission arriving now is counted at once.
    submit(&app, "希望多下基层").await;
    assert_counts(&app, &c, "one more", [3, 1, 1, 1, 6]).await;
}

#[tokio::test]
async fn a_filter_matching_more_than_the_cap_says_more_than_it_and_a_narrower_one_its_exact_count() {
    let app = TestApp::spawn_with(|s| s.inbox_count_cap = 3).await;
    let mut ids = Vec::new();
    for t in ["基层法律服务要加强", "基层调解工作不错", "窗口服务态度好", "司法所人手不足"]
    {
        ids.push(submit(&app, t).await);
    }
    let (c, csrf) = app.login_as(Role::Analyst).await;
    act(&app, &c, &csrf, ids[0], &[("op", "save"), ("area", "1")]).await;
    // Four match: more than the cap of three, said as such; the list still shows all four.
    let html = get_html(&app, &c, "/w/inbox?form=zhengqiu").await;
    assert_eq!(texts(&html, "#n-matching"), vec!["3+".to_string()]);
    let doc = scraper::Html::parse_document(&html);
    let strong = doc.select(&scraper::Selector::parse("#n-matching").unwrap()).next().unwrap();
    assert_eq!(strong.value().attr("data-more-than"), Some("3"));
    assert!(texts(&html, "#n-matching-note").concat().contains("超过 3 条"), "the page says the count stopped");
    assert_eq!(listed(&html).len(), 4);
    // Exactly the cap, and fewer, are exact.
    for (filter, n) in [("untagged=1", "3"), ("state=tagged", "1"), ("q=基层", "2"), ("category=qy", "0")] {
        let html = get_html(&app, &c, &format!("/w/inbox?{filter}")).await;
        assert_eq!(texts(&html, "#n-matching"), vec![n.to_string()], "{filter}");
        assert!(texts(&html, "#n-matching-note").is_empty(), "{filter}: nothing to explain");
    }
    // The bulk preview of all matching counts every one.
    let preview = c
        .post(app.url("/w/inbox/bulk"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("scope", "all"),
            ("filter", "form=zhengqiu"),
            ("area", "2"),
            ("action", "add"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(texts(&preview.text().await.unwrap(), "#bulk-count"), vec!["4".to_string()]);
}
