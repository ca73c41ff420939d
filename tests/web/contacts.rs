//! Contact fields: optional, explained next to the field (why, and who sees it), and stored apart from the
//! opinion, in the `contacts` table only.

use crate::helpers::{TestApp, texts};
use sea_orm::{ConnectionTrait, Database, Statement};

/// Rows of `sql` (one text column named `v`), straight from the database the app uses.
async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    let db = Database::connect(&app.config.database_url).await.unwrap();
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "v").unwrap()).collect()
}

#[tokio::test]
async fn a_phone_number_is_optional_explained_and_stored_apart_from_the_opinion() {
    let app = TestApp::spawn().await;
    let page = app.citizen.get(app.url("/f/zhengqiu")).send().await.unwrap().text().await.unwrap();
    let purpose = texts(&page, "#q-phone .help.contact");
    assert_eq!(purpose.len(), 1, "the page says why the phone is asked");
    assert!(purpose[0].contains("活动领导小组办公室") && purpose[0].contains("分开保存"), "and who sees it");
    assert!(texts(&page, "#q-phone legend .req").is_empty(), "not marked required");
    assert!(texts(&page, "#privacy li").iter().any(|l| l.contains("联系方式为选填")));

    // Without a phone: accepted (the helper leaves it out).
    app.submit_opinion("不留电话也可以提交意见").await;
    // With a phone: the number goes to `contacts`, nowhere else.
    let phone = "13912345678";
    let r = app
        .post_form(
            "zhengqiu",
            &[
                ("_category", "qz"),
                ("q_team", "希望有人回复我关于调解的问题"),
                ("q_has_member", "no"),
                ("q_satisfaction", "2"),
                ("q_phone", phone),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let receipt = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let stored = app.store().response_by_receipt(&receipt).await.unwrap();
    assert!(stored.answers.get("phone").is_none(), "not among the answers");
    let contacts = column(
        &app,
        &format!("SELECT value AS v FROM contacts WHERE response_id = {} AND question_id = 'phone'", stored.id),
    )
    .await;
    assert_eq!(contacts, vec![phone.to_owned()]);
    let leaks = column(
        &app,
        &format!(
            "SELECT value AS v FROM answers WHERE value LIKE '%{phone}%' \
             UNION ALL SELECT text AS v FROM opinions WHERE text LIKE '%{phone}%'"
        ),
    )
    .await;
    assert!(leaks.is_empty(), "the number is in no answer or opinion: {leaks:?}");
    let receipt_page =
        app.citizen.get(app.url(&format!("/f/zhengqiu/r/{receipt}"))).send().await.unwrap().text().await.unwrap();
    assert!(!receipt_page.contains(phone), "the receipt page does not echo the number");

    // The body hash kept to tell a replay from another body leaves the number out (trying every number
    // against a hash of the answers with it would find it): the same key with another number is a replay.
    let key = app.form_key("zhengqiu").await;
    let mut locations = Vec::new();
    for phone in ["13900000001", "13900000002"] {
        let pairs = [
            ("_category", "qz"),
            ("q_team", "同一份意见，只是电话不同"),
            ("q_has_member", "no"),
            ("q_satisfaction", "2"),
            ("q_phone", phone),
        ];
        let r = app.post_form_with_key("zhengqiu", &key, &pairs).await;
        assert_eq!(r.status(), 303, "{phone}");
        locations.push(r.headers()["location"].clone());
    }
    assert_eq!(locations[0], locations[1], "one response, its first number kept");
    let receipt = locations[0].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let id = app.store().response_by_receipt(&receipt).await.unwrap().id;
    let kept = column(&app, &format!("SELECT value AS v FROM contacts WHERE response_id = {id}")).await;
    assert_eq!(kept, ["13900000001"]);
}
