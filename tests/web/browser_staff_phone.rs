//! Staff pages read on a phone (360 and 390 px), also with the text doubled: a contact's opinions in full
//! lines with its 删除 on screen, and a problem's description beside or below its label, never squeezed.

use crate::browser::Browser;
use crate::browser_staff::{create_named, overflow, shot, sign_in};
use crate::helpers::TestApp;
use wenji::domain::user::Role;

const OPINION: &str = "调解协议签了半年还没有履行，多次到司法所询问都说再等等，希望有人跟进并回复我。";

#[tokio::test]
async fn a_contacts_opinions_read_in_full_lines_and_its_delete_is_on_a_phones_screen() {
    let app = TestApp::spawn().await;
    let pairs = [
        ("_category", "qz"),
        ("q_team", OPINION),
        ("q_has_member", "no"),
        ("q_satisfaction", "2"),
        ("q_phone", "13900001111"),
    ];
    assert_eq!(app.post_form("zhengqiu", &pairs).await.status(), 303);
    create_named(&app, "phone-admin", "管理员老周", Role::Admin).await;
    for (width, height) in [(360, 740), (390, 844)] {
        let Some(b) = Browser::start(width, height).await else { return };
        sign_in(&b, &app, "phone-admin").await;
        b.goto(&app.url("/w/admin/contacts")).await;
        let got = b
            .js("var o = document.querySelector('table.contacts .opinion');
                 var em = parseFloat(getComputedStyle(o).fontSize);
                 var d = document.querySelector('table.contacts a.delete').getBoundingClientRect();
                 return [o.getBoundingClientRect().width / em, d.left, d.right];")
            .await;
        let [chars, left, right] = [0, 1, 2].map(|i| got[i].as_f64().unwrap());
        b.screenshot_full(shot(&format!("contacts-{width}"))).await;
        // A 360 px screen holds about 20 characters a line; the opinions column had room for two.
        assert!(chars >= 15.0, "{width} px: an opinion reads {chars:.1} characters a line");
        assert!(left >= 0.0 && right <= f64::from(width), "{width} px: 删除联系方式… spans {left}..{right}");
        let over = overflow(&b, width).await;
        assert!(over <= 0, "{width} px: the page scrolls sideways by {over}px");
        b.close().await;
    }
}

/// A phone's large-text setting doubles the text: the description drops below its label instead of reading
/// three characters a line beside it.
#[tokio::test]
async fn a_problems_description_reads_in_full_lines_at_double_text_size_on_a_phone() {
    let app = TestApp::spawn().await;
    create_named(&app, "phone-analyst", "分析员小林", Role::Analyst).await;
    let (c, csrf) = app.login("phone-analyst", crate::helpers::PASSWORD).await;
    let problem = crate::register::create_problem(&app, &c, &csrf, "窗口办事效率低").await;
    for (width, height) in [(360, 740), (390, 844)] {
        let Some(b) = Browser::start(width, height).await else { return };
        sign_in(&b, &app, "phone-analyst").await;
        b.goto(&app.url(&format!("/w/problems/{problem}"))).await;
        let got = b
            .js("var body = parseFloat(getComputedStyle(document.body).fontSize);
                 document.body.style.fontSize = (2 * body) + 'px';
                 var dds = Array.from(document.querySelectorAll('.problem-facts dd'));
                 var em = parseFloat(getComputedStyle(dds[0]).fontSize);
                 var widths = dds.map(function (d) { return d.getBoundingClientRect().width / em; });
                 return [Math.min.apply(null, widths), document.documentElement.scrollWidth];")
            .await;
        let [narrowest, scroll] = [0, 1].map(|i| got[i].as_f64().unwrap());
        b.screenshot_full(shot(&format!("problem-{width}-text200"))).await;
        assert!(narrowest >= 8.0, "{width} px: a problem's fact is {narrowest:.1} characters wide");
        assert!(scroll <= f64::from(width), "{width} px: sideways scrolling ({scroll})");
        b.close().await;
    }
}
