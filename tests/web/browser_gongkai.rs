//! /gongkai on a phone (390 px), with and without JavaScript: the published measure reads without sideways
//! scrolling, and a rating is stored through the citizen path and counted in the register.

use crate::browser::Browser;
use crate::helpers::TestApp;
use crate::register::published_measure;
use wenji::domain::user::Role;

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
    // Under 16 px, Safari (WeChat on an iPhone) zooms the page in when the box takes the focus.
    let size = format!("return parseFloat(getComputedStyle(document.querySelector('#m{m} textarea')).fontSize);");
    let size = b.js(&size).await.as_f64().unwrap();
    assert!(size >= 16.0, "the comment box's text is {size} px");
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

/// WeChat's 字体大小 and a phone's large-text setting double the text: the rating choices wrap instead of
/// overlapping or spilling out of their boxes, and a measure's text drops below its label rather than
/// reading one character a line.
#[tokio::test]
async fn gongkai_reads_at_double_text_size_on_small_phones() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    for width in [320u32, 360] {
        let Some(b) = Browser::start(width, 740).await else { return };
        b.goto(&app.url("/gongkai")).await;
        // The reader's own default font size is followed (it was fixed at 17 px).
        let body = "document.documentElement.style.fontSize = '32px';
                    var s = getComputedStyle(document.body).fontSize;
                    document.documentElement.style.fontSize = ''; return s;";
        assert_eq!(b.js(body).await, "34px", "a 32 px default font makes the text 34 px");
        let script = format!(
            "var body = parseFloat(getComputedStyle(document.body).fontSize);
             document.body.style.fontSize = (2 * body) + 'px';
             var m = document.getElementById('m{m}');
             var choices = Array.from(m.querySelectorAll('.choices.scale .choice'));
             var r = choices.map(function (e) {{ return e.getBoundingClientRect(); }});
             var overlaps = 0;
             for (var i = 0; i < r.length; i++) for (var j = i + 1; j < r.length; j++)
               if (r[i].left < r[j].right - 1 && r[j].left < r[i].right - 1 && r[i].top < r[j].bottom - 1 && r[j].top < r[i].bottom - 1) overlaps++;
             var spills = choices.filter(function (e) {{ return e.scrollWidth > e.clientWidth + 1; }}).length;
             var widths = r.map(function (b) {{ return b.width; }});
             var uneven = Math.max.apply(null, widths) - Math.min.apply(null, widths);
             var dds = Array.from(m.querySelectorAll('dd'));
             var em = parseFloat(getComputedStyle(dds[0]).fontSize);
             var narrowest = Math.min.apply(null, dds.map(function (d) {{ return d.getBoundingClientRect().width / em; }}));
             return [overlaps, spills, narrowest, document.documentElement.scrollWidth, uneven];"
        );
        let got = b.js(&script).await;
        b.screenshot_full(shot(&format!("gongkai-{width}-text200"))).await;
        let [overlaps, spills, narrowest, scroll, uneven] = [0, 1, 2, 3, 4].map(|i| got[i].as_f64().unwrap());
        assert_eq!((overlaps, spills), (0.0, 0.0), "{width} px: rating choices overlap or spill: {got}");
        // 320 px at double size holds about 7 characters a line; beside a 6.5-character label it was one.
        // Equal cells: no answer looks weightier than another (sized by their words, 不满意 took a row).
        assert!(uneven < 1.5, "{width} px: the rating choices differ in width by {uneven:.1} px");
        assert!(narrowest >= 5.0, "{width} px: a measure's text is {narrowest:.1} characters wide");
        assert!(scroll <= f64::from(width), "{width} px: sideways scrolling ({scroll})");
        b.close().await;
    }
}

/// A leader reads the register on a phone: each measure is a card whose lines are named and all on the
/// screen (nine columns scrolled sideways hid 时限 and 状态 past the right edge at 360 px).
#[tokio::test]
async fn the_register_reads_as_one_card_per_measure_on_a_phone() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    crate::browser_staff::create_named(&app, "card-leader", "局领导", Role::Leader).await;
    for (width, height) in [(360, 740), (390, 844), (1280, 900)] {
        let Some(b) = Browser::start(width, height).await else { return };
        crate::browser_staff::sign_in(&b, &app, "card-leader").await;
        b.goto(&app.url("/w/register")).await;
        let script = format!(
            "var row = document.getElementById('m{m}');
             return Array.from(row.cells).map(function (c) {{
               var r = c.getBoundingClientRect();
               return [c.dataset.label, getComputedStyle(c, '::before').content, r.left, r.right];
             }});"
        );
        let cells = b.js(&script).await;
        b.screenshot_full(shot(&format!("register-{width}"))).await;
        let cells = cells.as_array().unwrap();
        assert_eq!(cells.len(), 9);
        for c in cells {
            let (label, before, left, right) =
                (c[0].as_str().unwrap(), c[1].as_str().unwrap(), c[2].as_f64().unwrap(), c[3].as_f64().unwrap());
            assert!(left >= 0.0 && right <= f64::from(width), "{width} px: {label} lies at {left}–{right}");
            if width < 640 {
                assert_eq!(before, format!("\"{label}：\""), "{width} px: the line is named");
            }
        }
        let deadline = cells.iter().find(|c| c[0] == "时限").unwrap();
        assert!(deadline[2].as_f64().unwrap() < 40.0 || width > 640, "{width} px: 时限 starts its own line");
        b.close().await;
    }
}
