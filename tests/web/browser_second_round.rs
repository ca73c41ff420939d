//! The two second-round forms (分析检查报告征求意见表, 整改落实群众满意度测评表) on 360- and 390-px phones, opened
//! through a distribution link as a citizen: a required answer left out is named in Chinese with
//! everything typed kept, then the completed form gives its receipt; no page scrolls sideways.

use crate::browser::Browser;
use crate::browser_staff::{overflow, shot};
use crate::helpers::TestApp;
use wenji::domain::form::answers::Answer;
use wenji::store::audit::Actor;

const WIDTHS: [(u32, u32); 2] = [(360, 740), (390, 844)];
const UNIT: &str = "sfs-qingxi";

/// The address of a fresh distribution link of `slug` for the Qingxi justice office.
async fn link_url(app: &TestApp, slug: &str) -> String {
    let link = app.store().create_link(slug, UNIT, None, "海报", &Actor::system("test")).await.unwrap();
    app.url(&format!("/f/{slug}?t={}", app.state.secret.link_token(link.id, slug, UNIT, None)))
}

/// Taps level `level` of matrix row `name` on its label text, as a thumb would.
async fn tap(b: &Browser, name: &str, level: &str) {
    b.click(&format!(".mopt:has(input[name='{name}'][value='{level}']) span")).await;
}

/// The radio names of the rows of matrix question `q`.
async fn rows(b: &Browser, q: &str) -> Vec<String> {
    let script = format!(
        "return Array.prototype.map.call(document.querySelectorAll('#q-{q} .mrow input[value=\"1\"]'), function (i) {{ return i.name; }});"
    );
    b.js(&script).await.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// A phone browser on a fresh link of `slug`, checked to show the form `title`, its unit, and no sideways scroll.
async fn open(app: &TestApp, slug: &str, title: &str, (width, height): (u32, u32)) -> Option<Browser> {
    let b = Browser::start(width, height).await?;
    b.goto(&link_url(app, slug).await).await;
    assert_eq!(b.text("h1").await, title);
    assert_eq!(b.text(".unit").await, "发放单位：清溪镇司法所");
    no_sideways_scroll(&b, width, "the form").await;
    Some(b)
}

async fn no_sideways_scroll(b: &Browser, width: u32, what: &str) {
    assert_eq!(b.js("return window.innerWidth").await, width);
    assert!(overflow(b, width).await <= 0, "{what} scrolls sideways at {width} px");
}

#[tokio::test]
async fn the_report_comment_form_names_a_missing_answer_keeps_the_rest_and_gives_a_receipt_on_a_phone() {
    let app = TestApp::spawn().await;
    for (width, height) in WIDTHS {
        let Some(b) = open(&app, "baogao", "分析检查报告征求意见表", (width, height)).await else { return };

        // Two of the four sections rated, two comments written: the matrix is incomplete.
        b.click("input[name=_category][value=jcdw]").await;
        tap(&b, "q_sections.s1", "1").await;
        tap(&b, "q_sections.s2", "3").await;
        let s2 = "问题查摆偏重客观原因，对班子成员个人的问题写得太笼统。";
        b.fill("textarea[name=q_s2]", s2).await;
        b.fill("textarea[name=q_s4]", "整改措施要写明完成时限和责任人。").await;
        b.click_and_wait_for_navigation("button.submit").await;
        let error = b.text("#err-sections").await;
        assert!(error.contains("还有 2 行未评") && error.contains("三、产生问题的根源与原因"), "{error}");
        let summary = b.text("#error-summary").await;
        assert!(summary.contains("对报告各部分的总体评价：还有 2 行未评"), "the summary names the question: {summary}");
        assert_eq!(b.value("textarea[name=q_s2]").await, s2, "typed text kept");
        assert!(b.is_checked("input[name='q_sections.s2'][value='3']").await, "the rated rows kept");
        assert!(b.is_checked("input[name=_category][value=jcdw]").await);
        no_sideways_scroll(&b, width, "the error page").await;
        b.screenshot_full(shot(&format!("baogao-{width}-errors"))).await;

        tap(&b, "q_sections.s3", "2").await;
        tap(&b, "q_sections.s4", "2").await;
        b.click_and_wait_for_navigation("button.submit").await;
        let receipt = b.text("#receipt-code").await;
        no_sideways_scroll(&b, width, "the receipt").await;
        b.screenshot(shot(&format!("baogao-{width}-receipt"))).await;
        let stored = app.store().response_by_receipt(&receipt).await.unwrap();
        assert_eq!(stored.unit_code.as_deref(), Some(UNIT), "counted for the link's unit");
        assert_eq!(stored.answers.get("s2"), Some(&Answer::Text(s2.into())));
        let Some(Answer::Matrix(grid)) = stored.answers.get("sections") else { panic!("the matrix is stored") };
        assert_eq!(grid.values().map(String::as_str).collect::<Vec<_>>(), ["1", "3", "2", "2"]);
        b.close().await;
    }
    assert_eq!(app.store().count_responses(Some("baogao")).await.unwrap(), 2);
}

#[tokio::test]
async fn the_satisfaction_form_names_a_missing_answer_keeps_the_rest_and_gives_a_receipt_on_a_phone() {
    let app = TestApp::spawn().await;
    for (width, height) in WIDTHS {
        let Some(b) = open(&app, "manyidu", "整改落实群众满意度测评表", (width, height)).await else {
            return;
        };

        // Every area rated and a suggestion written, the overall rating left out.
        b.click("input[name=_category][value=qz]").await;
        let areas = rows(&b, "areas").await;
        assert_eq!(areas.len(), 8, "one row per area");
        for (i, name) in areas.iter().enumerate() {
            tap(&b, name, ["1", "2", "3", "4"][i % 4]).await;
        }
        let suggestion = "整改进展请按月在公开栏更新。";
        b.fill("textarea[name=q_suggestions]", suggestion).await;
        b.click_and_wait_for_navigation("button.submit").await;
        assert!(b.text("#err-overall").await.contains("此题为必答题，请选择"));
        let summary = b.text("#error-summary").await;
        assert!(summary.contains("对整改落实工作的总体评价：此题为必答题"), "{summary}");
        assert_eq!(b.value("textarea[name=q_suggestions]").await, suggestion, "typed text kept");
        for (i, name) in areas.iter().enumerate() {
            let level = ["1", "2", "3", "4"][i % 4];
            assert!(b.is_checked(&format!("input[name='{name}'][value='{level}']")).await, "{name} kept");
        }
        no_sideways_scroll(&b, width, "the error page").await;
        b.screenshot_full(shot(&format!("manyidu-{width}-errors"))).await;

        // 不满意 asks why; the reason is stored with the rest.
        assert!(!b.find("#q-unsatisfied").await.is_displayed().await.unwrap(), "asked only after 不满意");
        b.click("input[name=q_overall][value='3']").await;
        let why = "第七项“工作效能”的窗口整改没有落实到位。";
        b.fill("textarea[name=q_unsatisfied]", why).await;
        b.click_and_wait_for_navigation("button.submit").await;
        let receipt = b.text("#receipt-code").await;
        no_sideways_scroll(&b, width, "the receipt").await;
        b.screenshot(shot(&format!("manyidu-{width}-receipt"))).await;
        let stored = app.store().response_by_receipt(&receipt).await.unwrap();
        assert_eq!(stored.unit_code.as_deref(), Some(UNIT));
        assert_eq!(stored.answers.get("overall"), Some(&Answer::Choice("3".into())));
        assert_eq!(stored.answers.get("unsatisfied"), Some(&Answer::Text(why.into())));
        assert_eq!(stored.answers.get("suggestions"), Some(&Answer::Text(suggestion.into())));
        b.close().await;
    }
    assert_eq!(app.store().count_responses(Some("manyidu")).await.unwrap(), 2);
}

/// At double text size on a 320 px phone the satisfaction form's rows of choices take fewer choices a line
/// (they read one character a line in four fixed columns), in equal cells, without sideways scrolling.
#[tokio::test]
async fn the_satisfaction_forms_choices_read_at_double_text_size_on_a_small_phone() {
    let app = TestApp::spawn().await;
    let Some(b) = open(&app, "manyidu", "整改落实群众满意度测评表", (320, 740)).await else { return };
    let script = "var body = parseFloat(getComputedStyle(document.body).fontSize);
        document.body.style.fontSize = (2 * body) + 'px';
        var cells = Array.from(document.querySelectorAll('.mopt, .choices.scale .choice'));
        var narrowest = Math.min.apply(null, cells.map(function (c) {
          return c.getBoundingClientRect().width / parseFloat(getComputedStyle(c).fontSize); }));
        var spills = cells.filter(function (c) { return c.scrollWidth > c.clientWidth + 1; }).length;
        var row = Array.from(document.querySelector('.mopts').children).map(function (c) { return c.getBoundingClientRect().width; });
        return [narrowest, spills, Math.max.apply(null, row) - Math.min.apply(null, row), document.documentElement.scrollWidth];";
    let got = b.js(script).await;
    b.screenshot_full(shot("manyidu-320-text200")).await;
    let [narrowest, spills, uneven, scroll] = [0, 1, 2, 3].map(|i| got[i].as_f64().unwrap());
    assert!(narrowest >= 3.0, "a choice is {narrowest:.1} characters wide: {got}");
    assert_eq!(spills, 0.0, "{got}");
    assert!(uneven < 1.5, "a row's choices differ in width by {uneven:.1} px");
    assert!(scroll <= 320.0, "sideways scrolling ({scroll})");
    b.close().await;
}
