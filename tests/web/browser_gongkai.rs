//! /gongkai on a phone (390 px), with and without JavaScript: the published measure reads without sideways
//! scrolling, and a rating is stored through the citizen path and counted in the register.

use crate::browser::Browser;
use crate::helpers::TestApp;
use crate::register::published_measure;

fn shot(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("wenji-shots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.png"))
}

async fn rate_on_a_phone(b: Browser, label: &str) {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    b.goto(&app.url("/gongkai")).await;
    assert_eq!(b.js("return window.innerWidth").await, 390);
    let scroll_width = b.js("return document.documentElement.scrollWidth").await.as_u64().unwrap();
    assert!(scroll_width <= 390, "no sideways scrolling: scrollWidth is {scroll_width}");
    assert_eq!(b.text(&format!("#m{m} .problem")).await, "问题：窗口办事效率低");
    b.click(&format!("#m{m} input[name=rating][value='2']")).await;
    b.fill(&format!("#m{m} textarea[name=comment]"), "希望周末也能办").await;
    b.screenshot_full(shot(&format!("gongkai-390-{label}"))).await;
    b.click_and_wait_for_navigation(&format!("#m{m} button.submit")).await;
    assert!(b.text(&format!("#m{m} .thanks")).await.starts_with("感谢您的评价"));
    let reg = app.store().register(5, None).await.unwrap();
    assert_eq!(reg.ratings[&m].fair, 1, "{label}: the rating is stored and read back");
    assert_eq!(reg.comments[&m], ["希望周末也能办"]);
    b.close().await;
}

#[tokio::test]
async fn a_citizen_rates_a_published_measure_on_a_phone_with_javascript() {
    let Some(b) = Browser::start(390, 844).await else { return };
    rate_on_a_phone(b, "js").await;
}

#[tokio::test]
async fn a_citizen_rates_a_published_measure_on_a_phone_without_javascript() {
    let Some(b) = Browser::start_without_javascript(390, 844).await else { return };
    rate_on_a_phone(b, "nojs").await;
}
