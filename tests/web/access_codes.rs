//! Single-use codes on a small unit's link: each code stores one response, under concurrency too, on
//! both databases; nothing stored ties a code to its response; only admins issue or drop them.

use crate::helpers::{TestApp, hidden, is_postgres, texts};
use serde_json::json;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

/// A link of 清溪镇司法所 with `n` codes issued through the admin page: (link id, its address, the codes).
async fn link_with_codes(app: &TestApp, n: u32) -> (i64, String, Vec<String>) {
    let (id, _) = open_link(app, "sfs-qingxi").await;
    let codes = issue_codes(app, id, n).await;
    // The address as the links page shows it to print.
    let (admin, _) = app.login_as(Role::Admin).await;
    let list = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&list);
    let sel = scraper::Selector::parse(&format!("#link-{id} input.url")).unwrap();
    let url = doc.select(&sel).next().unwrap().value().attr("value").unwrap().to_owned();
    (id, url, codes)
}

/// A new open link of `unit`: (its id, its address).
async fn open_link(app: &TestApp, unit: &str) -> (i64, String) {
    let link = app.store().create_link("zhengqiu", unit, None, "三人小组", &Actor::system("test")).await.unwrap();
    let token = app.state.secret.link_token(link.id, "zhengqiu", unit, None);
    (link.id, app.url(&format!("/f/zhengqiu?t={token}")))
}

/// Issues `n` codes to link `id` through the admin page, as the first batch; gives them.
async fn issue_codes(app: &TestApp, id: i64, n: u32) -> Vec<String> {
    let link = app.store().link(id).await.unwrap();
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let page = admin.get(app.url(&format!("/w/admin/links/{}/codes", link.id))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(texts(&page.text().await.unwrap(), "#code-counts"), vec!["本链接现在不需要填写码。"]);
    let r = admin
        .post(app.url(&format!("/w/admin/links/{}/codes", link.id)))
        .form(&[("_csrf", csrf.as_str()), ("count", &n.to_string()), ("issued", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store", "the codes are shown once and never cached");
    let html = r.text().await.unwrap();
    let codes = texts(&html, ".slip-code");
    assert_eq!(codes.len(), n as usize, "{html}");
    codes
}

/// Posts the opinion form of `url` (a link's address) with `code` and a fresh key from the page.
async fn post_with_code(app: &TestApp, url: &str, code: Option<&str>, text: &str) -> (reqwest::Response, String) {
    let page = app.citizen.get(url).send().await.unwrap().text().await.unwrap();
    let key = hidden(&page, "_key").unwrap();
    let r = post_with_key(app, url, &key, code, text).await;
    (r, key)
}

async fn post_with_key(app: &TestApp, url: &str, key: &str, code: Option<&str>, text: &str) -> reqwest::Response {
    let token = url.split("?t=").nth(1).unwrap().to_owned();
    let mut form = reqwest::multipart::Form::new()
        .text("_key", key.to_owned())
        .text("_t", token)
        .text("_category", "qz")
        .text("q_team", text.to_owned())
        .text("q_has_member", "no")
        .text("q_satisfaction", "2");
    if let Some(c) = code {
        form = form.text("_code", c.to_owned());
    }
    app.citizen.post(app.url("/f/zhengqiu")).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn each_code_stores_one_response_and_a_refusal_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let (id, url, codes) = link_with_codes(&app, 3).await;

    // The page asks for the code and says what is kept of it.
    let page = app.citizen.get(&url).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#q-_code legend"), vec!["填写码*（必答）"]);
    assert!(
        texts(&page, "#privacy li")
            .iter()
            .any(|l| l.contains("谁拿了哪个码没有记录；系统只记每个码是否用过，不记用码的时间"))
    );

    // No code, a code of the wrong shape, then an unknown one: refused by name, the text shown back.
    for (code, says) in [
        (None, "请填写发给您的填写码"),
        (Some("7K3M-Q9P0"), "填写码是 8 位字母和数字"),
        (Some("2222-2222"), "这个填写码不对或已经用过"),
    ] {
        let (r, _) = post_with_code(&app, &url, code, "所里人手少，调解排不上号").await;
        assert_eq!(r.status(), 422, "{code:?}");
        let html = r.text().await.unwrap();
        assert!(texts(&html, "#err-_code")[0].contains(says), "{code:?}: {html}");
        assert!(texts(&html, "#error-summary li")[0].starts_with("填写码："), "{html}");
        assert_eq!(texts(&html, "textarea[name=q_team]"), vec!["所里人手少，调解排不上号"]);
        if let Some(c) = code {
            assert_eq!(hidden(&html, "_code").as_deref(), Some(c), "the typed code is kept");
        }
    }
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);

    // The first code, typed in lower case without its dash, stores the response.
    let typed = codes[0].to_lowercase().replace('-', "");
    let (r, key) = post_with_code(&app, &url, Some(&typed), "第一份意见：调解排不上号").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let first = r.headers()["location"].to_str().unwrap().to_owned();
    let receipt_page = app.citizen.get(app.url(&first)).send().await.unwrap().text().await.unwrap();
    assert!(texts(&receipt_page, "a.button")[0].ends_with("（需要另一个填写码）"), "{receipt_page}");
    assert!(receipt_page.contains("再提一条意见即可（需要另一个填写码）"), "{receipt_page}");
    // A retry of that very post (double tap, resend) is the same response, not a spent code.
    let again = post_with_key(&app, &url, &key, Some(&typed), "第一份意见：调解排不上号").await;
    assert_eq!((again.status().as_u16(), again.headers()["location"].to_str().unwrap()), (303, first.as_str()));

    // Changed after sending (Back, edit, send): the page says its code is used and another is needed.
    let changed = post_with_key(&app, &url, &key, Some(&typed), "第一份意见：改过的内容，排不上号").await;
    assert_eq!(changed.status(), 409);
    let html = changed.text().await.unwrap();
    assert!(html.contains("它的填写码也已用过") && html.contains("请填写另一个填写码"), "{html}");

    // Spent: a second response with it is refused, and nothing more is stored, not even for a moment (a
    // response inserted and deleted again took a number and stayed readable in SQLite's write-ahead log).
    let numbered = numbered_responses(&app).await;
    let (r, _) = post_with_code(&app, &url, Some(&codes[0]), "第二份，用同一个码").await;
    assert_eq!(r.status(), 422);
    assert!(texts(&r.text().await.unwrap(), "#err-_code")[0].contains("已经用过"));
    assert_eq!(app.store().count_responses(None).await.unwrap(), 1);
    assert_eq!(numbered_responses(&app).await, numbered, "the refused response was written, then deleted");

    // A code of another link is not one of this link's.
    let (_, other_url, other_codes) = link_with_codes(&app, 1).await;
    let (r, _) = post_with_code(&app, &url, Some(&other_codes[0]), "别的单位的码").await;
    assert_eq!(r.status(), 422);
    // The JSON API asks for it as `code`, and takes the second code.
    let token = url.split("?t=").nth(1).unwrap();
    let body = |code: Option<&str>| {
        json!({"link": token, "category": "qz", "code": code,
               "answers": {"team": "接口提交的一条意见", "has_member": "no", "satisfaction": "2"}})
    };
    let r = app.submit_json("zhengqiu", "codes-json-0001", &body(None)).await;
    assert_eq!(r.status(), 422);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "code", "{err}");
    let r = app.submit_json("zhengqiu", "codes-json-0002", &body(Some(&codes[1]))).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // The admin sees counts only, never which code went where.
    let (admin, _) = app.login_as(Role::Admin).await;
    let list = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&list, &format!("#link-{id} td.codes"))[0].starts_with("凭码：已发 3，已用 2"), "{list}");
    let cli = app.run_cli(&["links", "list"]).await;
    let out = String::from_utf8_lossy(&cli.stdout);
    assert!(
        out.lines().any(|l| l.trim_start().starts_with(&format!("{id} ")) && l.contains("codes 2/3 spent")),
        "{out}"
    );
    // Another link without codes takes responses as before.
    assert!(other_url.contains("?t="));
}

#[tokio::test]
async fn one_code_sent_by_many_at_once_stores_one_response() {
    let app = TestApp::spawn().await;
    let (_, url, codes) = link_with_codes(&app, 2).await;
    let token = url.split("?t=").nth(1).unwrap().to_owned();
    let sends = (0..24).map(|i| {
        let (app, token, code) = (&app, token.clone(), codes[0].clone());
        async move {
            let body = json!({"link": token, "category": "qz", "code": code,
                              "answers": {"team": format!("同时提交 {i}"), "has_member": "no", "satisfaction": "2"}});
            app.submit_json("zhengqiu", &format!("race-key-{i:04}"), &body).await.status().as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(sends).await;
    statuses.sort_unstable();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [201, 422].contains(s)), "{statuses:?}");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 1);
}

#[tokio::test]
async fn codes_of_one_link_spent_at_once_through_two_servers_all_store() {
    let app = TestApp::spawn().await;
    let second = app.second_server().await;
    let (_, url, codes) = link_with_codes(&app, 32).await;
    let token = url.split("?t=").nth(1).unwrap().to_owned();
    // Each with its own code, half through each server: none waits for another's code for good.
    let sends = codes.iter().enumerate().map(|(i, code)| {
        let base = if i % 2 == 0 { app.base.clone() } else { second.clone() };
        let body = json!({"link": token, "category": "qz", "code": code,
                          "answers": {"team": format!("同一单位同时提交 {i}"), "has_member": "no", "satisfaction": "2"}});
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/forms/zhengqiu/responses"))
                .header("Idempotency-Key", format!("two-servers-{i:04}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    });
    let statuses = futures_util::future::join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(app.store().count_responses(None).await.unwrap(), 32);
}

#[tokio::test]
async fn the_issue_form_posted_several_times_at_once_makes_one_batch() {
    let app = TestApp::spawn().await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap();
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let clicks = (0..4).map(|_| {
        admin
            .post(app.url(&format!("/w/admin/links/{}/codes", link.id)))
            .form(&[("_csrf", csrf.as_str()), ("count", "6"), ("issued", "0")])
            .send()
    });
    let mut statuses: Vec<u16> =
        futures_util::future::join_all(clicks).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409]);
    assert_eq!(app.store().access_code_counts().await.unwrap()[&link.id].issued, 6);
}

#[tokio::test]
async fn nothing_stored_ties_a_code_to_its_response() {
    let app = TestApp::spawn().await;
    let (id, url, codes) = link_with_codes(&app, 4).await;
    let (r, _) = post_with_code(&app, &url, Some(&codes[2]), "只有三个人的所，第一份").await;
    assert_eq!(r.status(), 303);
    let (r, _) = post_with_code(&app, &url, Some(&codes[0]), "只有三个人的所，第二份").await;
    assert_eq!(r.status(), 303);

    // The codes table keeps a keyed hash and a flag: no time, no order, no response.
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    use sea_orm::ConnectionTrait;
    let columns = if is_postgres() {
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'access_codes' \
         AND table_schema = current_schema() ORDER BY column_name"
    } else {
        "SELECT name FROM pragma_table_info('access_codes') ORDER BY name"
    };
    let rows = db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), columns)).await.unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.try_get_by_index(0).unwrap()).collect();
    assert_eq!(names, ["code_hash", "link_id", "spent"]);
    // No code is stored as printed, hashed without the secret, or in the audit log.
    let letters: Vec<String> = codes.iter().map(|c| c.replace('-', "")).collect();
    let dump = "SELECT code_hash FROM access_codes UNION ALL SELECT COALESCE(before, '') || \
                COALESCE(after, '') FROM audit_log";
    let rows = db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), dump)).await.unwrap();
    let stored: Vec<String> = rows.iter().map(|r| r.try_get_by_index(0).unwrap()).collect();
    for (c, l) in codes.iter().zip(&letters) {
        let unkeyed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(l.as_bytes()));
        assert!(stored.iter().all(|s| !s.contains(c.as_str()) && !s.contains(l.as_str()) && *s != unkeyed), "{c}");
    }
    let sql = |q: &str| sea_orm::Statement::from_string(db.get_database_backend(), q.to_owned());
    if is_postgres() {
        // Every code row was written by the last spend: no row's transaction id pairs it with the
        // response stored beside it.
        let q = format!("SELECT COUNT(DISTINCT xmin::text) FROM access_codes WHERE link_id = {id}");
        let n: i64 = db.query_one_raw(sql(&q)).await.unwrap().unwrap().try_get_by_index(0).unwrap();
        assert_eq!(n, 1, "code rows of one link carry one transaction id");
        // Nor do the row versions left behind: a spend that set its code, then rewrote the link's rows, wrote
        // the spent code's row twice, one version more than the others, until the page was pruned.
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public").await.unwrap();
        let q = "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM \
                 public.heap_page_items(public.get_raw_page('access_codes', 0)) WHERE lp_flags = 1 \
                 GROUP BY t_xmin::text) AS by_transaction";
        let most: i64 = db.query_one_raw(sql(q)).await.unwrap().unwrap().try_get_by_index(0).unwrap();
        assert_eq!(most, 4, "one transaction wrote more versions than the link has code rows");
    } else {
        // No hidden rowid numbering the slips as printed, and no write-ahead log pairing a code row's change
        // with its response's.
        assert!(db.query_all_raw(sql("SELECT rowid FROM access_codes")).await.is_err(), "WITHOUT ROWID");
        // Emptied after each spend, or a quarter second later while another reader (the model's training,
        // say) holds the log.
        until_no_code_page_in_the_wal(&app, "no code page in the WAL").await;
        // The whole SQLite file, WAL included: the printed codes appear nowhere.
        let dir = app.dir.path();
        for f in std::fs::read_dir(dir).unwrap() {
            let p = f.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with("wenji.db") {
                let bytes = std::fs::read(&p).unwrap();
                for l in &letters {
                    assert!(!bytes.windows(l.len()).any(|w| w == l.as_bytes()), "{l} in {p:?}");
                }
            }
        }
    }
    // The audit log says codes were issued, with their number only.
    let issued = app.store().audit_entries(Some("access_codes_issued"), None, None, 10).await.unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].target, format!("link:{id}"));
}

/// A reader holding an old snapshot (a backup, an export, an operator's shell) keeps SQLite from emptying
/// its write-ahead log after a code is spent: the log then pairs the code row with the response. Once the
/// reader is gone the log is emptied without waiting for another spend (it stayed until one came).
#[tokio::test]
async fn a_code_spent_while_a_reader_holds_the_database_leaves_no_pair_once_the_reader_is_gone() {
    if is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let (_, url, codes) = link_with_codes(&app, 3).await;
    let reader = rusqlite::Connection::open(app.dir.path().join("wenji.db")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader.query_row("SELECT COUNT(*) FROM responses", [], |r| r.get(0)).unwrap();
    let (r, _) = post_with_code(&app, &url, Some(&codes[1]), "读着数据库的时候提交的一份").await;
    assert_eq!(r.status(), 303);
    assert!(code_pages_in_the_wal(&app).await > 0, "the reader kept the spend in the log (the case under test)");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    until_no_code_page_in_the_wal(&app, "the log still pairs the code with its response").await;
}

/// Waits up to 5 s for the write-ahead log to hold no frame of the codes table, else fails with `failure`.
async fn until_no_code_page_in_the_wal(app: &TestApp, failure: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while code_pages_in_the_wal(app).await > 0 {
        assert!(std::time::Instant::now() < deadline, "{failure}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// How many frames of SQLite's write-ahead log hold the codes table's page.
async fn code_pages_in_the_wal(app: &TestApp) -> usize {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let q = "SELECT rootpage FROM sqlite_master WHERE name = 'access_codes'";
    let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), q)).await.unwrap();
    let root: i64 = row.unwrap().try_get_by_index(0).unwrap();
    let wal = std::fs::read(app.dir.path().join("wenji.db-wal")).unwrap_or_default();
    wal_pages(&wal).iter().filter(|p| i64::from(**p) == root).count()
}

/// How many response numbers the database has handed out (its sequence, not its rows).
async fn numbered_responses(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let q = if is_postgres() {
        "SELECT last_value FROM responses_id_seq"
    } else {
        "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'responses'"
    };
    let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), q)).await.unwrap();
    row.unwrap().try_get_by_index(0).unwrap()
}

/// The texts in a leader's inbox.
async fn leaders_inbox(app: &TestApp) -> Vec<String> {
    let (leader, _) = app.login_as(Role::Leader).await;
    let html = leader.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    texts(&html, "#inbox td.text")
}

/// Small units that never gather k go out together in the pool. A leader who sent k − 1 responses through
/// another small unit's open link must not get a pool batch holding them and one coded response: coded
/// units pool only with each other.
#[tokio::test]
async fn a_coded_response_never_goes_to_leaders_in_a_pool_a_leader_could_fill() {
    let app = TestApp::spawn().await;
    let (_, url, codes) = link_with_codes(&app, 5).await;
    let victim = "纪检组某领导逢年过节收受基层礼品";
    let (r, _) = post_with_code(&app, &url, Some(&codes[0]), victim).await;
    assert_eq!(r.status(), 303);
    let (_, open_url) = open_link(&app, "sfs-songling").await;
    for i in 0..4 {
        let (r, _) = post_with_code(&app, &open_url, None, &format!("领导自己填的第 {i} 份")).await;
        assert_eq!(r.status(), 303);
    }
    crate::helpers::a_week_passes(&app).await;
    assert!(!leaders_inbox(&app).await.iter().any(|t| t.contains(victim)), "one coded response beside four open ones");
    // Four more members use their codes: five coded responses go out together.
    for code in &codes[1..] {
        let (r, _) = post_with_code(&app, &url, Some(code), "调解室太小，群众排队久").await;
        assert_eq!(r.status(), 303);
    }
    crate::helpers::a_day_passes(&app).await;
    let seen = leaders_inbox(&app).await;
    assert!(seen.iter().any(|t| t.contains(victim)), "{seen:?}");
    assert!(!seen.iter().any(|t| t.contains("领导自己填")), "the open pool still waits for k: {seen:?}");
}

/// A unit's own open responses (sent before its codes, or after they were dropped) never go out with a
/// coded one: coded responses reach leaders only k coded at a time.
#[tokio::test]
async fn a_coded_response_never_goes_out_beside_its_units_open_responses() {
    let app = TestApp::spawn().await;
    let (id, url) = open_link(&app, "sfs-qingxi").await;
    for i in 0..4 {
        let (r, _) = post_with_code(&app, &url, None, &format!("领导赶在发码前填的第 {i} 份")).await;
        assert_eq!(r.status(), 303);
    }
    let codes = issue_codes(&app, id, 5).await;
    let victim = "所长违规收费，群众敢怒不敢言";
    let (r, _) = post_with_code(&app, &url, Some(&codes[0]), victim).await;
    assert_eq!(r.status(), 303);
    // The office's inbox shows nothing that tells the coded opinion from the open ones.
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let inbox = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&inbox, "#inbox tbody tr").len(), 5);
    // (Near-duplicate groups, formed in the background, may mark the four alike texts: that is their words.)
    assert!(texts(&inbox, "#inbox .flag:not(.cluster)").is_empty(), "no flag on any row: {inbox}");
    crate::helpers::a_day_passes(&app).await;
    assert!(leaders_inbox(&app).await.is_empty(), "five from the unit, but only one sent with a code");
    // The codes are dropped and one more open response comes: five open ones go out, the coded one waits.
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let drop = admin.post(app.url(&format!("/w/admin/links/{id}/codes/drop")));
    assert_eq!(drop.form(&[("_csrf", csrf.as_str()), ("confirm", "1")]).send().await.unwrap().status(), 303);
    let (r, _) = post_with_code(&app, &url, None, "领导在停码后又填的一份").await;
    assert_eq!(r.status(), 303);
    crate::helpers::a_day_passes(&app).await;
    let seen = leaders_inbox(&app).await;
    assert_eq!(seen.iter().filter(|t| t.contains("领导")).count(), 5, "{seen:?}");
    assert!(!seen.iter().any(|t| t.contains(victim)), "{seen:?}");
}

#[tokio::test]
async fn only_an_admin_issues_codes_and_dropping_them_opens_the_link_again() {
    let app = TestApp::spawn().await;
    let (id, url, _) = link_with_codes(&app, 2).await;
    for role in [Role::Analyst, Role::Leader] {
        let (c, csrf) = app.login_as(role).await;
        let r = c.get(app.url(&format!("/w/admin/links/{id}/codes"))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{role:?}");
        let r = c
            .post(app.url(&format!("/w/admin/links/{id}/codes")))
            .form(&[("_csrf", csrf.as_str()), ("count", "5")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{role:?}");
    }
    let (admin, csrf) = app.login_as(Role::Admin).await;
    // Another open link of the unit without codes would still fill its batch: the page says so.
    let poster = app.store().create_link("zhengqiu", "sfs-qingxi", None, "海报", &Actor::system("test")).await.unwrap();
    let page = admin.get(app.url(&format!("/w/admin/links/{id}/codes"))).send().await.unwrap().text().await.unwrap();
    let warning = texts(&page, "#open-beside");
    assert!(warning[0].contains(&format!("编号 {}“海报”", poster.id)) && warning[0].contains("请停用它们"), "{page}");
    // Without the CSRF token nothing is made.
    let r = admin.post(app.url(&format!("/w/admin/links/{id}/codes"))).form(&[("count", "5")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // A count out of bounds is refused by name, kept as typed.
    // The page posted again (a reload of the codes shown) makes no second, unseen batch.
    let r = admin
        .post(app.url(&format!("/w/admin/links/{id}/codes")))
        .form(&[("_csrf", csrf.as_str()), ("count", "2"), ("issued", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(texts(&r.text().await.unwrap(), "#codes-error")[0].contains("这次没有生成"));
    // A post without the count the page showed (a hand-made request) is refused by the field's name.
    for issued in [None, Some(""), Some("两个"), Some("-1")] {
        let mut fields = vec![("_csrf", csrf.as_str()), ("count", "3")];
        fields.extend(issued.map(|v| ("issued", v)));
        let r = admin.post(app.url(&format!("/w/admin/links/{id}/codes"))).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), 422, "{issued:?}");
        let html = r.text().await.unwrap();
        assert!(texts(&html, "#codes-error")[0].starts_with("已发数量："), "{issued:?} {html}");
        assert!(texts(&html, ".slip-code").is_empty());
    }
    for bad in ["0", "501", "三", "1\u{0}", &"9".repeat(400)] {
        let r = admin
            .post(app.url(&format!("/w/admin/links/{id}/codes")))
            .form(&[("_csrf", csrf.as_str()), ("count", bad), ("issued", "2")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{bad:?}");
        let html = r.text().await.unwrap();
        // NUL and overlong text are refused before the page's own check, by the field's name.
        let says = if bad.contains('\0') || bad.len() > 200 {
            texts(&html, "p.message")
        } else {
            texts(&html, "#codes-error")
        };
        assert!(says.first().is_some_and(|e| e.starts_with("数量：") || e.starts_with("count：")), "{bad:?} {html}");
        assert!(texts(&html, ".slip-code").is_empty());
    }
    let counts = app.store().access_code_counts().await.unwrap();
    assert_eq!((counts[&id].issued, counts[&id].spent), (2, 0));

    // Dropped (after the box is ticked): the link takes a response without a code.
    let drop = |confirm: &'static str| {
        admin
            .post(app.url(&format!("/w/admin/links/{id}/codes/drop")))
            .form(&[("_csrf", csrf.as_str()), ("confirm", confirm)])
            .send()
    };
    assert_eq!(drop("").await.unwrap().status(), 422);
    assert_eq!(drop("1").await.unwrap().status(), 303);
    let (r, _) = post_with_code(&app, &url, None, "不再要码了").await;
    assert_eq!(r.status(), 303);
    assert!(app.store().access_code_counts().await.unwrap().is_empty());
    let audit = admin.get(app.url("/w/admin/audit")).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("不再要求填写码") && audit.contains("凭码填写，新发 2 个码"), "{audit}");
}

/// The page number of each frame in a SQLite write-ahead log: a 32-byte header, then frames of a 24-byte
/// header (the page number first, big-endian) and one page.
fn wal_pages(wal: &[u8]) -> Vec<u32> {
    if wal.len() < 32 {
        return Vec::new();
    }
    let page_size = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    wal[32..]
        .chunks(24 + page_size)
        .filter(|f| f.len() >= 4)
        .map(|f| u32::from_be_bytes(f[..4].try_into().unwrap()))
        .collect()
}
