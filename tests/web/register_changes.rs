//! The posted register says what changed: a published measure's changes (公开后的调整) and its first
//! publication in the register workbook and the report's 整改台账, in /gongkai's words; the released rating
//! comments in 群众评价意见; an edit nobody can see is no change.

use crate::helpers::{TestApp, a_day_passes, texts};
use crate::register::{measure_ids, post, published_measure, rate, rating_key, sheet, text};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;
use wenji::domain::rectification::bureau_today;
use wenji::domain::user::Role;

/// The lines of `m`'s 公开后的调整 on /gongkai.
async fn public_changes(app: &TestApp, m: i64) -> Vec<String> {
    let page = app.browser().get(app.url("/gongkai")).send().await.unwrap().text().await.unwrap();
    texts(&page, &format!("#m{m} ul.changes li"))
}

async fn posting_workbook(app: &TestApp, c: &reqwest::Client) -> Vec<u8> {
    let r = c.get(app.url("/w/register.xlsx")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_moved_deadline_is_listed_in_both_workbooks_as_on_gongkai_and_a_draft_lists_none() {
    let app = TestApp::spawn().await;
    let (problem, m, _) = published_measure(&app).await;
    // A draft, edited (its deadline set) before any publication: nothing to say in public.
    let (analyst, a_csrf) = app.login_as(Role::Analyst).await;
    let new = format!("/w/problems/{problem}/measures");
    let draft_parts = [("action", "开设周末窗口"), ("target", "周末也能办"), ("owner", "办公室")];
    assert_eq!(post(&app, &analyst, &a_csrf, &new, &draft_parts).await.0, 303);
    let draft = measure_ids(&app, &analyst, problem).await[1];
    let dated = [draft_parts.as_slice(), &[("deadline", "2027-03-31"), ("status", "not_started")]].concat();
    assert_eq!(post(&app, &analyst, &a_csrf, &format!("/w/measures/{draft}"), &dated).await.0, 303);
    // The published one: its deadline moved and its target lowered.
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let moved = [
        ("action", "推行“一次办结”"),
        ("target", "群众办事最多跑两次"),
        ("deadline", "2027-12-31"),
        ("owner", "分管副局长、办公室"),
        ("status", "in_progress"),
    ];
    assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &moved).await.0, 303);
    let lines = public_changes(&app, m).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].ends_with("完成时限由“2027年08月31日”改为“2027年12月31日”"), "{lines:?}");
    let changes = lines.join("\n");
    let today = bureau_today(wenji::store::now_ms()).to_string();

    // The posting workbook: the published measure alone, with its first publication and changes.
    let r = sheet(&posting_workbook(&app, &leader).await, "整改台账");
    assert_eq!((text(&r, 3, 14), text(&r, 3, 15)), ("首次公开".into(), "公开后的调整".into()));
    assert_eq!(text(&r, 4, 0), m.to_string());
    assert_eq!(text(&r, 4, 4), "2027-12-31");
    assert_eq!((text(&r, 4, 14), text(&r, 4, 15)), (today.clone(), changes.clone()));
    assert_eq!(text(&r, 5, 0), "", "the draft is not posted");

    // The report workbook's 整改台账: both measures, the draft with neither date nor change.
    let bytes = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let t = sheet(&bytes, "整改台账");
    assert_eq!((text(&t, 0, 14), text(&t, 0, 15)), ("首次公开".into(), "公开后的调整".into()));
    let row_of = |id: i64| (1..t.height() as u32).find(|&r| text(&t, r, 0) == id.to_string()).unwrap();
    let (pm, dm) = (row_of(m), row_of(draft));
    assert_eq!((text(&t, pm, 14), text(&t, pm, 15)), (today, changes));
    assert_eq!(text(&t, dm, 13), "草稿（未公开）");
    assert_eq!(
        (text(&t, dm, 4), text(&t, dm, 14), text(&t, dm, 15)),
        ("2027-03-31".into(), String::new(), String::new())
    );

    // Withdrawn and published again: the first publication is kept, not the latest.
    let first = app.store().measure(m).await.unwrap().first_published_at.expect("published");
    let publish = format!("/w/measures/{m}/publish");
    assert_eq!(post(&app, &leader, &csrf, &publish, &[("publish", "0"), ("confirm", "1")]).await.0, 303);
    assert_eq!(app.store().measure(m).await.unwrap().first_published_at, Some(first), "kept while withdrawn");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(post(&app, &leader, &csrf, &publish, &[("publish", "1")]).await.0, 303);
    let again = app.store().measure(m).await.unwrap();
    assert_eq!(again.first_published_at, Some(first));
    assert!(again.published_at.unwrap() > first, "{again:?}");
}

#[tokio::test]
async fn the_posted_register_lists_released_rating_comments_with_their_grades_always_as_text() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let formula = "=HYPERLINK(\"http://example.com\",\"点我\")";
    for (grade, comment) in [("1", "窗口确实快了"), ("3", formula), ("2", "12"), ("1", ""), ("2", "@SUM(1)")] {
        assert_eq!(rate(&app, &rating_key(&app, m).await, m, grade, comment).await.status(), 303);
    }
    // Today's ratings are not released yet, as on the problem page.
    let c = sheet(&posting_workbook(&app, &leader).await, "群众评价意见");
    let head: Vec<String> = (0..4).map(|col| text(&c, 0, col)).collect();
    assert_eq!(head, ["编号", "问题", "整改措施", "意见或建议"], "no grade beside a comment, as on the problem page");
    assert_eq!(text(&c, 1, 0), "暂无可公布的评价意见（一项措施的评价满 5 人次后公布）");

    a_day_passes(&app).await;
    let bytes = posting_workbook(&app, &leader).await;
    let c = sheet(&bytes, "群众评价意见");
    let rows: Vec<Vec<String>> = (1..c.height() as u32).map(|r| (0..4).map(|col| text(&c, r, col)).collect()).collect();
    let row = |comment: &str| {
        [m.to_string().as_str(), "窗口办事效率低", "推行“一次办结”", comment].map(str::to_owned).to_vec()
    };
    // In text order, not the order people rated; the rating without a comment has no row.
    assert_eq!(rows, [row("12"), row(formula), row("@SUM(1)"), row("窗口确实快了")]);
    // Stored as text: digits are not a number, a leading = is no formula.
    assert_eq!(c.get_value((1, 3)), Some(&Data::String("12".into())));
    assert_eq!(c.get_value((2, 3)), Some(&Data::String(formula.into())));
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let formulas = wb.worksheet_formula("群众评价意见").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula in the sheet");
}

#[tokio::test]
async fn an_edit_that_changes_nothing_visible_records_no_public_change() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let edit = async |action: &str| {
        let fields = [
            ("action", action),
            ("target", "群众办事最多跑一次"),
            ("deadline", "2027-08-31"),
            ("owner", "分管副局长、办公室"),
            ("status", "in_progress"),
        ];
        assert_eq!(post(&app, &leader, &csrf, &format!("/w/measures/{m}"), &fields).await.0, 303);
    };
    edit("推行 “一次办结”").await;
    let seen = public_changes(&app, m).await;
    assert_eq!(seen.len(), 1, "a space between words is seen: {seen:?}");
    for unseen in ["推行\u{200D} “一次办结”", "\u{200E}推行 “一次办结”\u{FE0F}", "推行   “一次\u{2060}办结” "]
    {
        edit(unseen).await;
        assert_eq!(public_changes(&app, m).await, seen, "{unseen:?} is no change");
    }
    edit("推行 “一次办结”制度").await;
    let lines = public_changes(&app, m).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].ends_with("改为“推行 “一次办结”制度”"), "{lines:?}");
}
