//! Contact fields: optional, explained next to the field (why, and who sees it), and stored apart from the
//! opinion, in the `contacts` table only.

use crate::helpers::{TestApp, attrs, form_fields, is_postgres, texts};
use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};
use wenji::domain::user::Role;

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

/// Submits an opinion with `phone` left for a reply; returns the receipt.
async fn submit_with_phone(app: &TestApp, opinion: &str, phone: &str) -> String {
    let pairs =
        [("_category", "qz"), ("q_team", opinion), ("q_has_member", "no"), ("q_satisfaction", "2"), ("q_phone", phone)];
    let r = app.post_form("zhengqiu", &pairs).await;
    assert_eq!(r.status(), 303, "{phone}");
    r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

/// The contacts page's rows as (phone, receipt, opinions).
fn listed(page: &str) -> Vec<(String, String, Vec<String>)> {
    let doc = scraper::Html::parse_document(page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let text = |e: scraper::ElementRef<'_>| e.text().collect::<String>().trim().to_owned();
    doc.select(&sel("table.contacts tbody tr"))
        .map(|row| {
            let one = |s: &str| row.select(&sel(s)).next().map(text).unwrap_or_default();
            (one(".contact .value"), one(".receipt"), row.select(&sel(".opinion")).map(text).collect())
        })
        .collect()
}

async fn audited(app: &TestApp, action: &str) -> Vec<wenji::store::audit::AuditEntry> {
    app.store().audit_entries(Some(action), None, None, 100).await.unwrap()
}

/// Rows of `contacts` holding `phone`.
async fn stored(app: &TestApp, phone: &str) -> usize {
    column(app, &format!("SELECT value AS v FROM contacts WHERE value = '{phone}'")).await.len()
}

#[tokio::test]
async fn an_administrator_reads_each_contact_with_its_receipt_and_opinion_and_every_view_is_audited() {
    let app = TestApp::spawn().await;
    let first = submit_with_phone(&app, "请回复我：调解协议何时能履行", "13911110001").await;
    app.submit_opinion("这份没有留电话").await;
    let second = submit_with_phone(&app, "法律援助申请材料太多", " 139-1111-0002 ").await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let home = admin.get(app.url("/w")).send().await.unwrap().text().await.unwrap();
    assert!(attrs(&home, "a", "href").contains(&"/w/admin/contacts".to_owned()), "linked from the admin area");

    let r = admin.get(app.url("/w/admin/contacts")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(
        listed(&page),
        [
            ("13911110001".to_owned(), first, vec!["请回复我：调解协议何时能履行".to_owned()]),
            ("139-1111-0002".to_owned(), second, vec!["法律援助申请材料太多".to_owned()]),
        ],
        "each contact as typed (trimmed), beside its receipt and opinion; a response without one is not listed"
    );
    assert!(texts(&page, "#form-zhengqiu h2")[0].contains("征求意见表"), "under the form's title");
    let views = audited(&app, "contacts_viewed").await;
    assert_eq!(views.len(), 1, "the view is audited");
    assert_eq!(views[0].after.as_deref(), Some("2"), "with how many contacts it showed");
    admin.get(app.url("/w/admin/contacts")).send().await.unwrap();
    assert_eq!(audited(&app, "contacts_viewed").await.len(), 2, "one entry per view");
    let log = admin.get(app.url("/w/admin/audit")).send().await.unwrap().text().await.unwrap();
    assert!(log.contains("查看群众留下的联系方式"), "the audit page names the view");

    let contact = attrs(&page, "a.delete", "href")[0].clone();
    for role in [Role::Analyst, Role::Leader] {
        let (c, csrf) = app.login_as(role).await;
        let r = c.get(app.url("/w/admin/contacts")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{role:?}");
        assert!(!r.text().await.unwrap().contains("13911110001"), "{role:?}");
        for path in [contact.clone(), "/w/admin/contacts/forms/zhengqiu/delete".to_owned()] {
            assert_eq!(c.get(app.url(&path)).send().await.unwrap().status(), 403, "{role:?} GET {path}");
            let body = [("_csrf", csrf.as_str()), ("confirm", "1"), ("upto", "999999")];
            let r = c.post(app.url(&path)).form(&body).send().await.unwrap();
            assert_eq!(r.status(), 403, "{role:?} POST {path}");
        }
        let inbox = c.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
        assert!(!inbox.contains("13911110001"), "{role:?}: the inbox shows no number");
    }
    assert_eq!(audited(&app, "contacts_viewed").await.len(), 2, "a refused view is no view");
    assert_eq!(stored(&app, "13911110001").await, 1, "nothing deleted by a refused role");
}

#[tokio::test]
async fn deleting_a_contact_asks_first_refuses_a_foreign_post_and_then_removes_it_audited() {
    let app = TestApp::spawn().await;
    let receipt = submit_with_phone(&app, "希望有人回电说明进度", "13922220001").await;
    submit_with_phone(&app, "另一份意见", "13922220002").await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let page = admin.get(app.url("/w/admin/contacts")).send().await.unwrap().text().await.unwrap();
    let path = attrs(&page, "a.delete", "href")[0].clone();

    let confirm = admin.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(texts(&confirm, "#delete-confirm strong")[0].contains(&receipt), "the confirmation names the receipt");
    assert_eq!(form_fields(&confirm, "#delete-confirm form")[1], ("confirm".to_owned(), "1".to_owned()));
    // Without the confirmation's field: the confirmation again, nothing deleted.
    let r = admin.post(app.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(texts(&r.text().await.unwrap(), "#confirm-delete"), ["确认删除"]);
    // Without the session's token, or from another site: refused.
    let r = admin.post(app.url(&path)).form(&[("_csrf", "forged"), ("confirm", "1")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = admin
        .post(app.url(&path))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("_csrf", csrf.as_str()), ("confirm", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(stored(&app, "13922220001").await, 1, "still there");
    assert!(audited(&app, "contact_deleted").await.is_empty());

    let r = admin.post(app.url(&path)).form(&form_fields(&confirm, "#delete-confirm form")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let after = r.headers()["location"].to_str().unwrap().to_owned();
    let page = admin.get(app.url(&after)).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#deleted")[0].starts_with("已删除 1 条联系方式"), "the page says so");
    let left: Vec<String> = listed(&page).into_iter().map(|(phone, ..)| phone).collect();
    assert_eq!(left, ["13922220002"]);
    assert_eq!(stored(&app, "13922220001").await, 0, "gone from the database");
    assert!(app.store().response_by_receipt(&receipt).await.is_ok(), "the response and its opinion stay");
    let deleted = audited(&app, "contact_deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].target, format!("contact:{}", path.split('/').nth(4).unwrap()));
    let log = admin.get(app.url("/w/admin/audit")).send().await.unwrap().text().await.unwrap();
    assert!(log.contains("删除一条联系方式"));
    // Sent again (Back, a second click): said to be gone already.
    let again = admin.post(app.url(&path)).form(&form_fields(&confirm, "#delete-confirm form")).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert!(texts(&again.text().await.unwrap(), "main").join("").contains("可能已被删除"));
}

#[tokio::test]
async fn deleting_a_forms_contacts_takes_those_shown_and_leaves_no_copy_in_the_database_file_or_its_log() {
    let app = TestApp::spawn().await;
    // Enough rows to split pages: a split copies rows, and a copy left behind would outlive the delete.
    let phones: Vec<String> = (0..160).map(|i| format!("1375555{i:04}")).collect();
    for chunk in phones.chunks(40) {
        futures_util::future::join_all(chunk.iter().map(|p| submit_with_phone(&app, "请电话回复我", p))).await;
    }
    let (admin, _) = app.login_as(Role::Admin).await;
    let page = admin.get(app.url("/w/admin/contacts")).send().await.unwrap().text().await.unwrap();
    assert_eq!(listed(&page).len(), 160);
    let path = attrs(&page, "#form-zhengqiu a.delete-form", "href")[0].clone();
    let confirm = admin.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(texts(&confirm, "#delete-confirm strong")[0].contains("全部 160 条"), "the confirmation says how many");
    // Left after the confirmation was shown: not among those it asked about, so it stays.
    submit_with_phone(&app, "晚到的意见", "13766660000").await;

    let r = admin.post(app.url(&path)).form(&form_fields(&confirm, "#delete-confirm form")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let page =
        admin.get(app.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#deleted")[0].starts_with("已删除 160 条联系方式"), "{page}");
    let left: Vec<String> = listed(&page).into_iter().map(|(phone, ..)| phone).collect();
    assert_eq!(left, ["13766660000"]);
    let deleted = audited(&app, "contacts_deleted").await;
    assert_eq!((deleted[0].target.as_str(), deleted[0].after.as_deref()), ("form:zhengqiu", Some("160")));

    let lingering = numbers_left_shortly(&app, &phones).await;
    assert!(lingering.is_empty(), "{} deleted numbers still stored, e.g. {:?}", lingering.len(), lingering[0]);
    assert_eq!(numbers_in_storage(&app, &["13766660000".into()]).await.len(), 1, "the check reads where they are");
    let r = admin.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "the later contact is still there to delete");
}

#[tokio::test]
async fn numbers_deleted_while_another_program_reads_are_said_to_linger_and_go_once_the_read_ends() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.login_as(Role::Admin).await;
    // What holds old copies: a snapshot (a backup, a shell); on PostgreSQL also a transaction with an id but
    // no snapshot, and a read that holds the table's lock (the verification review).
    let holders: &[(&str, Option<sea_orm::IsolationLevel>)] = if is_postgres() {
        &[
            ("SELECT count(*) AS n FROM contacts", Some(sea_orm::IsolationLevel::RepeatableRead)),
            ("SELECT pg_current_xact_id()::text AS n", None),
            ("SELECT count(*) AS n FROM contacts", None),
        ]
    } else {
        &[("SELECT count(*) AS n FROM contacts", None)]
    };
    for (round, (hold, isolation)) in holders.iter().enumerate() {
        let phones: Vec<String> = (0..20).map(|i| format!("136888{round}{i:04}")).collect();
        futures_util::future::join_all(phones.iter().map(|p| submit_with_phone(&app, "请回电", p))).await;
        let reader = Database::connect(&app.config.database_url).await.unwrap();
        let read = reader.begin_with_config(*isolation, None).await.unwrap();
        read.query_one_raw(Statement::from_string(reader.get_database_backend(), *hold)).await.unwrap();

        let r = delete_the_forms_contacts(&admin, &app).await;
        let page =
            admin.get(app.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
        let said = texts(&page, "#deleted").join("");
        assert!(said.contains("旧副本暂时还留在") && said.contains("读取结束后自动清除"), "{hold}: {said}");
        assert_eq!(stored(&app, &phones[0]).await, 0, "{hold}: the rows are gone for everyone else at once");
        assert!(!numbers_in_storage(&app, &phones).await.is_empty(), "{hold}: the open read keeps the old copies");

        read.commit().await.unwrap();
        drop(reader);
        let lingering = numbers_left_shortly(&app, &phones).await;
        assert!(lingering.is_empty(), "{hold}: {} numbers still stored 10 s after the read ended", lingering.len());
    }
}

/// The administrator deletes every contact of 征求意见 through its confirmation: the answer to the deletion.
async fn delete_the_forms_contacts(admin: &reqwest::Client, app: &TestApp) -> reqwest::Response {
    let path = "/w/admin/contacts/forms/zhengqiu/delete";
    let confirm = admin.get(app.url(path)).send().await.unwrap().text().await.unwrap();
    admin.post(app.url(path)).form(&form_fields(&confirm, "#delete-confirm form")).send().await.unwrap()
}

/// [`numbers_in_storage`] once none is left, or after 10 s. On PostgreSQL the other tests' transactions
/// in the same database hold the rewrite back for a moment, as another program's read would.
async fn numbers_left_shortly(app: &TestApp, phones: &[String]) -> Vec<String> {
    let mut left = numbers_in_storage(app, phones).await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        left = numbers_in_storage(app, phones).await;
    }
    left
}

/// The numbers of `phones` whose bytes are still in the database's storage: SQLite's file and its
/// write-ahead log as `strings` would read them, or every page of PostgreSQL's `contacts` table.
async fn numbers_in_storage(app: &TestApp, phones: &[String]) -> Vec<String> {
    let bytes = if is_postgres() {
        let db = Database::connect(&app.config.database_url).await.unwrap();
        // pageinspect reads pages through PostgreSQL's buffers; created once in `public` for every test's
        // schema (another test creating it at the same moment is harmless).
        let _ = db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public").await;
        let sql = "SELECT public.get_raw_page('contacts', b::int) AS p \
                   FROM generate_series(0, pg_relation_size('contacts') / 8192 - 1) AS b";
        let pages = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        pages.iter().flat_map(|r| r.try_get::<Vec<u8>>("", "p").unwrap()).collect()
    } else {
        let file = app.config.database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
        bytes
    };
    let holds = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    phones.iter().filter(|p| holds(p)).cloned().collect()
}

#[tokio::test]
async fn hostile_values_in_the_contact_routes_are_refused_with_a_4xx() {
    let app = TestApp::spawn().await;
    submit_with_phone(&app, "意见", "13933330001").await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    for (path, status) in [
        ("/w/admin/contacts/abc/delete", 400),
        ("/w/admin/contacts/99999999999999999999/delete", 400),
        ("/w/admin/contacts/-1/delete", 404),
        ("/w/admin/contacts/999999/delete", 404),
        ("/w/admin/contacts/forms/a%00b/delete", 0),
        ("/w/admin/contacts/forms/..%2Fetc/delete", 404),
        ("/w/admin/contacts/forms/no-such-form/delete", 404),
        ("/w/admin/contacts/forms/%E9%95%BF/delete", 404),
    ] {
        for post in [false, true] {
            let r = if post {
                let body = [("_csrf", csrf.as_str()), ("confirm", "1"), ("upto", "1")];
                admin.post(app.url(path)).form(&body).send().await.unwrap()
            } else {
                admin.get(app.url(path)).send().await.unwrap()
            };
            let got = r.status().as_u16();
            if status == 0 {
                assert!((400..500).contains(&got), "{path} (post: {post}): {got}");
            } else {
                assert_eq!(got, status, "{path} (post: {post})");
            }
        }
    }
    let r = admin
        .post(app.url("/w/admin/contacts/forms/zhengqiu/delete"))
        .form(&[("_csrf", csrf.as_str()), ("confirm", "1"), ("upto", "a\0b")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = admin.get(app.url("/w/admin/contacts?deleted=%00")).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(stored(&app, "13933330001").await, 1, "nothing deleted");
}

/// PostgreSQL: a start rewrites `contacts` only for a deletion whose rewrite is still owed. The rewrite takes
/// the table's lock, which citizens leaving a number wait behind: every start took it (a review saw 1 s stalls
/// every 3 s after a second instance started beside an idle session).
#[tokio::test]
async fn a_server_starting_after_a_finished_deletion_leaves_the_contacts_table_alone() {
    if !is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let phones: Vec<String> = (0..5).map(|i| format!("1357777{i:04}")).collect();
    futures_util::future::join_all(phones.iter().map(|p| submit_with_phone(&app, "请回电", p))).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    delete_the_forms_contacts(&admin, &app).await;
    assert!(numbers_left_shortly(&app, &phones).await.is_empty(), "the deletion's rewrite is done");
    let db = Database::connect(&app.config.database_url).await.unwrap();
    let file = || async {
        let sql = "SELECT pg_relation_filenode('contacts')::text AS f";
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        row.unwrap().try_get::<String>("", "f").unwrap()
    };
    let before = file().await;
    app.second_server_with(|_| {}).await;
    // The background rewrite would start 2 s after the start.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(file().await, before, "a start with no rewrite owed rewrote the table");
}

/// PostgreSQL: a deletion whose rewrite a stopped server still owed is rewritten at the next start, even when
/// a plain VACUUM (autovacuum's) has since moved the table's horizon past it and left the bytes in its pages.
#[tokio::test]
async fn a_deletion_a_stopped_server_still_owed_is_rewritten_at_the_next_start() {
    if !is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let phones: Vec<String> = (0..5).map(|i| format!("1358888{i:04}")).collect();
    futures_util::future::join_all(phones.iter().map(|p| submit_with_phone(&app, "请回电", p))).await;
    // The deletion as a server that stopped right after it committed left it: no rewrite since.
    let db = Database::connect(&app.config.database_url).await.unwrap();
    db.execute_unprepared("DELETE FROM contacts").await.unwrap();
    let by = wenji::store::audit::Actor::system("test");
    app.store().audit(&by, "contacts_deleted", "form:zhengqiu", None, Some("5".into())).await.unwrap();
    // A number left since keeps the page, which a VACUUM of an empty table would cut off.
    submit_with_phone(&app, "晚到的意见", "13588889999").await;
    db.execute_unprepared("VACUUM (FREEZE) contacts").await.unwrap();
    assert!(!numbers_in_storage(&app, &phones).await.is_empty(), "a plain VACUUM leaves bytes behind");
    app.second_server_with(|_| {}).await;
    let lingering = numbers_left_shortly(&app, &phones).await;
    assert!(lingering.is_empty(), "{} numbers still stored after the start", lingering.len());
}
