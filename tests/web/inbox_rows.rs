//! The inbox's row controls (更改 … 改, 记): each returns to its row, which says what was done, and offers
//! only the states the opinion can take (待归类 and 已归类 follow from its areas).

use crate::helpers::{TestApp, attrs, texts};
use crate::workspace::{act, get_html, submit};
use wenji::domain::user::Role;

/// Posts a row's form as the inbox sends it; returns where it leads.
async fn from_row(app: &TestApp, c: &reqwest::Client, csrf: &str, id: i64, pairs: &[(&str, &str)]) -> String {
    let html = get_html(app, c, "/w/inbox").await;
    let back = attrs(&html, &format!("#s{id} input[name=back]"), "value").pop().expect("the row's form");
    let mut body = vec![("back", back.as_str())];
    body.extend_from_slice(pairs);
    let r = act(app, c, csrf, id, &body).await;
    assert_eq!(r.status(), 303, "{pairs:?}");
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_rows_state_or_note_returns_to_that_row_saying_what_was_done() {
    let app = TestApp::spawn().await;
    let untagged = submit(&app, "公证处排队时间太长").await;
    let tagged = submit(&app, "人民调解员待遇偏低").await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    assert_eq!(act(&app, &c, &csrf, tagged, &[("op", "save"), ("area", "3")]).await.status(), 303);

    let html = get_html(&app, &c, "/w/inbox").await;
    let choices = |id: i64| texts(&html, &format!("#o{id} select[name=state] option"));
    assert_eq!(choices(untagged), ["待归类", "需核实", "无效"], "已归类 needs an area first");
    assert_eq!(choices(tagged), ["已归类", "需核实", "无效"], "待归类 needs its areas taken away first");

    let to = from_row(&app, &c, &csrf, untagged, &[("op", "state"), ("state", "verify")]).await;
    assert!(to.starts_with("/w/inbox?") && to.ends_with(&format!("#o{untagged}")), "back to the row: {to}");
    let html = get_html(&app, &c, &to).await;
    let row = format!("#o{untagged}");
    assert_eq!(texts(&html, &format!("{row} .done")), [format!("意见 #{untagged} 的状态已改为“需核实”。")]);
    assert_eq!(attrs(&html, &row, "tabindex"), ["-1"], "the row takes the focus the reload took");
    assert!(texts(&html, "#done.notice").is_empty(), "said once, in the row");

    let to = from_row(&app, &c, &csrf, untagged, &[("op", "note"), ("text", "需回访")]).await;
    let html = get_html(&app, &c, &to).await;
    assert_eq!(texts(&html, &format!("{row} .done")), [format!("已为意见 #{untagged} 记下备注。")]);

    // 已归类 asked of an opinion without areas (an older page, or typed by hand) is not passed over.
    let to = from_row(&app, &c, &csrf, untagged, &[("op", "state"), ("state", "tagged")]).await;
    let html = get_html(&app, &c, &to).await;
    assert_eq!(
        texts(&html, &format!("{row} .done")),
        [format!("意见 #{untagged} 的状态现为“待归类”：没有领域的意见不能标为“已归类”，请先为它选择领域。")]
    );

    // A row the change takes out of the filtered list: said above the list.
    let back = "/w/inbox?state=tagged";
    let pairs = [("back", back), ("op", "state"), ("state", "invalid")];
    let r = act(&app, &c, &csrf, tagged, &pairs).await;
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = get_html(&app, &c, &to).await;
    assert!(texts(&html, &format!("#o{tagged}")).is_empty(), "no longer listed");
    assert_eq!(texts(&html, "#done.notice"), [format!("意见 #{tagged} 的状态已改为“无效”。")]);
}
