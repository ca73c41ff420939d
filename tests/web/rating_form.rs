//! The built-in rating form of /gongkai is no citizen form: `/f/gongkai-pingjia` and its API answer 404,
//! and no list of forms to open, link, filter or double-code offers it; ratings come only through
//! /gongkai, on the same idempotent submission path, and still reach the register and its workbook.

use crate::helpers::{TestApp, texts};
use crate::register::{published_measure, rate, rating_key};
use wenji::domain::rectification::RATING_FORM_SLUG;
use wenji::domain::user::Role;

#[tokio::test]
async fn the_rating_form_answers_404_to_citizens_and_the_api_while_gongkai_ratings_still_count() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    let slug = RATING_FORM_SLUG;

    // Even with a key /gongkai issued for the rating form, the citizen form and the API know no such form.
    let key = rating_key(&app, m).await;
    assert_eq!(app.citizen.get(app.url(&format!("/f/{slug}"))).send().await.unwrap().status(), 404);
    let m_text = m.to_string();
    let r = app.post_form_with_key(slug, &key, &[("q_measure", &m_text), ("q_rating", "3")]).await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("没有找到这张表"));
    assert_eq!(app.citizen.get(app.url(&format!("/api/v1/forms/{slug}"))).send().await.unwrap().status(), 404);
    let body = serde_json::json!({ "answers": { "measure": m_text, "rating": "3" } });
    assert_eq!(app.submit_json(slug, "api-key-rating-0001", &body).await.status(), 404);
    assert_eq!(app.store().count_responses(Some(slug)).await.unwrap(), 0, "nothing stored by either");

    // /gongkai's own form: the same key twice stores one rating.
    for _ in 0..2 {
        assert_eq!(rate(&app, &key, m, "1", "").await.status(), 303);
    }
    assert_eq!(app.store().count_responses(Some(slug)).await.unwrap(), 1);
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let reg = leader.get(app.url("/w/register")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&reg, &format!("#m{m} .ratings")), ["评价不足 5 人次，暂不公布"], "one rating is one grade");
    let x = leader.get(app.url("/w/register.xlsx")).send().await.unwrap();
    assert_eq!(x.status(), 200, "the ratings workbook still downloads");
}

#[tokio::test]
async fn no_list_of_forms_offers_the_rating_form_and_a_leader_never_lands_on_it() {
    let app = TestApp::spawn().await;
    let (_, m, _) = published_measure(&app).await;
    // More ratings than opinions: the rating form has the most responses.
    for _ in 0..8 {
        assert_eq!(rate(&app, &rating_key(&app, m).await, m, "2", "").await.status(), 303);
    }
    let option = format!("option[value={RATING_FORM_SLUG}]");

    let (admin, a_csrf) = app.login_as(Role::Admin).await;
    let links = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    assert!(!texts(&links, "select[name=form] option").is_empty());
    assert!(texts(&links, &option).is_empty(), "no link to the rating form");
    let body =
        [("_csrf", a_csrf.as_str()), ("form", RATING_FORM_SLUG), ("unit", "jg-bgs"), ("category", ""), ("label", "")];
    let r = admin.post(app.url("/w/admin/links")).form(&body).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(texts(&r.text().await.unwrap(), "#err-form"), ["请选择一份表单"]);
    let coding = admin.get(app.url("/w/admin/double-coding")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&coding, &format!("input[name=form][value={RATING_FORM_SLUG}]")).is_empty());

    let (analyst, _) = app.login_as(Role::Analyst).await;
    let inbox = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&inbox, &option).is_empty(), "the inbox does not filter by it");

    crate::helpers::a_day_passes(&app).await;
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    let dash = leader.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&dash, "#form-switch strong"), ["分析检查阶段征求意见表"], "the busiest form of opinions");
    assert!(texts(&dash, &format!("#form-switch a[href$={RATING_FORM_SLUG}]")).is_empty());
    // Nor by name: each of its rows is one rater's grade and comment of one measure.
    for page in ["/w/dashboard", "/w/inbox"] {
        let r = leader.get(app.url(&format!("{page}?form={RATING_FORM_SLUG}"))).send().await.unwrap();
        assert_eq!(r.status(), 400, "{page}");
    }
    let offered = format!("input[name=form][value={RATING_FORM_SLUG}]");
    let exports = leader.get(app.url("/w/exports")).send().await.unwrap().text().await.unwrap();
    assert!(!texts(&exports, "input[name=form]").is_empty());
    assert!(texts(&exports, &offered).is_empty(), "the export page does not offer it");
    for format in ["csv", "xlsx"] {
        let refused = app.export_as(&leader, &l_csrf, &[("form", RATING_FORM_SLUG), ("format", format)]).await;
        let (status, page) = refused.expect_err("a leader's file of the ratings");
        assert_eq!(status, 400, "{format}");
        assert!(texts(&page, "#export-error").concat().contains("群众评价不单独导出"), "{page}");
    }
    let exports = admin.get(app.url("/w/exports")).send().await.unwrap().text().await.unwrap();
    assert_eq!(exports.matches(&format!("value=\"{RATING_FORM_SLUG}\"")).count(), 1, "the administrator's file can");
}
