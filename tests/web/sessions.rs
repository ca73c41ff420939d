//! Staff sessions under a clock the test moves: activity keeps a session alive past the two-hour
//! inactivity limit, twelve hours after sign-in it ends however active, two idle hours end it, and the
//! stored expiry is rewritten at most once a minute, before the request changes anything (so a refresh that
//! cannot be saved refuses the request instead of answering 503 for a stored change).

use crate::helpers::TestApp;
use sea_orm::{ConnectionTrait, Statement};
use std::time::Duration;
use wenji::domain::user::Role;

const MINUTE: Duration = Duration::from_secs(60);

async fn status_of_home(app: &TestApp, c: &reqwest::Client) -> u16 {
    c.get(app.url("/w")).send().await.unwrap().status().as_u16()
}

async fn stored_expiry(app: &TestApp) -> i64 {
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let sql = "SELECT max(expires_at) AS e FROM sessions";
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    db.close().await.unwrap();
    row.try_get::<i64>("", "e").unwrap()
}

#[tokio::test]
async fn an_active_staff_member_stays_signed_in_past_two_hours_until_the_twelve_hour_limit() {
    let app = TestApp::spawn().await;
    let (c, _) = app.login_as(Role::Analyst).await;
    for step in 1..=7 {
        app.state.clock.advance(90 * MINUTE);
        assert_eq!(status_of_home(&app, &c).await, 200, "still signed in after {} minutes of work", step * 90);
    }
    app.state.clock.advance(90 * MINUTE);
    assert_eq!(status_of_home(&app, &c).await, 303, "signed out twelve hours after signing in");
}

#[tokio::test]
async fn two_idle_hours_sign_a_staff_member_out() {
    let app = TestApp::spawn().await;
    let (c, _) = app.login_as(Role::Leader).await;
    app.state.clock.advance(119 * MINUTE);
    assert_eq!(status_of_home(&app, &c).await, 200);
    app.state.clock.advance(121 * MINUTE);
    assert_eq!(status_of_home(&app, &c).await, 303, "signed out after two idle hours");
}

#[tokio::test]
async fn the_stored_expiry_is_pushed_back_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let (c, _) = app.login_as(Role::Admin).await;
    let first = stored_expiry(&app).await;
    app.state.clock.advance(Duration::from_secs(30));
    for _ in 0..5 {
        assert_eq!(status_of_home(&app, &c).await, 200);
    }
    assert_eq!(stored_expiry(&app).await, first, "requests within a minute write nothing");
    app.state.clock.advance(Duration::from_secs(31));
    assert_eq!(status_of_home(&app, &c).await, 200);
    let renewed = stored_expiry(&app).await;
    assert!(renewed >= first + 61_000, "a minute on, the expiry moves with the clock ({first} -> {renewed})");
}

#[tokio::test]
async fn signing_in_to_the_real_server_logs_no_session_store_warning() {
    use crate::process::{ServerProcess, wenji};
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    crate::helpers::test_forms(dir.path());
    let db = crate::helpers::fresh_database(dir.path()).await;
    assert!(wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let mut add = wenji(dir.path(), &db)
        .args(["user", "add", "log.analyst", "--role", "analyst"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(format!("{}\n", crate::helpers::PASSWORD).as_bytes()).unwrap();
    assert!(add.wait().unwrap().success());
    let server = ServerProcess::start(dir.path(), &db, &[]).await;
    for _ in 0..2 {
        let c = crate::helpers::client(true);
        let form = [("username", "log.analyst"), ("password", crate::helpers::PASSWORD)];
        let r = c.post(format!("{}/login", server.base)).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303, "signed in");
    }
    let log = server.log();
    assert!(!log.is_empty(), "the server's log is captured");
    assert!(!log.contains("SessionStore::create"), "no warning per sign-in:\n{log}");
}

#[tokio::test]
async fn a_change_whose_session_refresh_cannot_be_saved_is_refused_before_it_is_stored() {
    let app = TestApp::spawn().await;
    let id = crate::workspace::opinion_id(&app, &app.submit_opinion("会话保存失败测试意见").await).await;
    let (c, csrf) = app.login_as(Role::Analyst).await;
    let note = |text: &'static str| {
        let form = [("_csrf", csrf.clone()), ("op", "note".into()), ("text", text.into())];
        c.post(app.url(&format!("/w/tag/{id}"))).form(&form).send()
    };
    // A minute on, this request refreshes the session, and the disk is full for sessions.
    app.state.clock.advance(61 * MINUTE / 60);
    crate::helpers::refuse_writes(&app, "sessions", "UPDATE", Some("TRUE")).await;
    let refused = note("第一次提交").await.unwrap().status();
    assert!(refused.is_server_error(), "refused: {refused}");
    if crate::helpers::is_postgres() {
        assert_eq!(refused, 503);
    }
    assert!(app.store().opinion(id).await.unwrap().notes.is_empty(), "a refused request stored its change");
    crate::helpers::refuse_writes(&app, "sessions", "UPDATE", None).await;
    assert_eq!(note("再次提交").await.unwrap().status(), 303);
    let notes: Vec<String> = app.store().opinion(id).await.unwrap().notes.into_iter().map(|n| n.text).collect();
    assert_eq!(notes, ["再次提交"], "the retry stores it once");
}

/// An analyst's session ends while they edit a problem: the save is not stored, the sign-in page says so
/// (it was a plain sign-in page) and sends them back to the problem, and posting the old page again, now
/// signed in, shows what they typed instead of only "CSRF 校验失败".
#[tokio::test]
async fn an_edit_posted_after_the_session_ended_is_not_saved_and_nothing_typed_is_lost_on_the_way_back() {
    let app = TestApp::spawn().await;
    app.create_user("editor", Role::Analyst).await;
    let (c, csrf) = app.login("editor", crate::helpers::PASSWORD).await;
    let id = crate::register::create_problem(&app, &c, &csrf, "窗口办事效率低").await;
    let page = app.url(&format!("/w/problems/{id}"));
    app.state.clock.advance(121 * MINUTE);
    let edit = [
        ("_csrf", csrf.as_str()),
        ("title", "窗口办事效率低"),
        ("area", "6"),
        ("description", "群众反映要跑好几趟，材料要求不一"),
        ("root_cause", "服务意识不强"),
    ];
    let r = c.post(&page).header("referer", &page).form(&edit).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/login"));
    let login = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(crate::helpers::texts(&login, "#unsaved")[0].contains("没有保存"), "{login}");
    let form = [("username", "editor"), ("password", crate::helpers::PASSWORD)];
    let r = c.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/w/problems/{id}"), "back to the problem");
    let r = c.post(&page).form(&edit).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let refused = r.text().await.unwrap();
    let kept = crate::helpers::texts(&refused, ".kept textarea");
    assert!(kept.contains(&"群众反映要跑好几趟，材料要求不一".to_owned()), "{kept:?}");
    let stored = app.store().problem(id).await.unwrap().draft.description;
    assert_ne!(stored, "群众反映要跑好几趟，材料要求不一", "nothing stored");
}

/// A form posted after the session ended from a page only a POST produces (a bulk change's preview, a
/// refused measure) returns, after signing in, to the page its form is on, never to a 405; the tagging
/// screen reading its next card meanwhile does not replace that page with its JSON; signing out from an
/// old page says nothing of an unsaved change. An error page's way back leads to such pages' form page too.
#[tokio::test]
async fn after_signing_in_again_every_page_returned_to_opens_and_the_tagging_api_is_never_one() {
    let app = TestApp::spawn().await;
    app.create_user("returner", Role::Analyst).await;
    let form = [("username", "returner"), ("password", crate::helpers::PASSWORD)];
    let (c, csrf) = app.login("returner", crate::helpers::PASSWORD).await;
    let problem = crate::register::create_problem(&app, &c, &csrf, "窗口办事效率低").await;
    let opinion = crate::workspace::submit(&app, "窗口要跑好几趟").await;
    let cases = [
        ("/w/inbox/bulk".to_owned(), "/w/inbox/bulk".to_owned(), "/w/inbox".to_owned()),
        (
            format!("/w/problems/{problem}/measures"),
            format!("/w/problems/{problem}/measures"),
            format!("/w/problems/{problem}"),
        ),
        (format!("/w/tag/{opinion}"), format!("/w/api/opinions/{opinion}"), format!("/w/tag/{opinion}")),
    ];
    for (from, posted, back_to) in cases {
        app.state.clock.advance(121 * MINUTE);
        let r =
            c.post(app.url(&posted)).header("referer", app.url(&from)).form(&[("_csrf", "x")]).send().await.unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), "/login", "{posted}");
        // The tagging screen's next card, asked for meanwhile.
        let r = c.get(app.url("/w/api/next?after=1")).send().await.unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), "/login");
        let login = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        assert!(crate::helpers::texts(&login, "#unsaved")[0].contains("没有保存"), "{posted}: {login}");
        let r = c.post(app.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), back_to, "from {from}");
        let page = c.get(app.url(&back_to)).send().await.unwrap();
        assert!(page.status().is_success() || page.status().is_redirection(), "{back_to}: {}", page.status());
    }
    app.state.clock.advance(121 * MINUTE);
    let r =
        c.post(app.url("/logout")).header("referer", app.url("/w/inbox")).form(&[("_csrf", "x")]).send().await.unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/login");
    let login = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(crate::helpers::texts(&login, "#unsaved").is_empty(), "signing out saves nothing: {login}");
    let (c, csrf) = app.login("returner", crate::helpers::PASSWORD).await;
    let measures = app.url(&format!("/w/problems/{problem}/measures"));
    let merge = app.url(&format!("/w/problems/{problem}/merge"));
    let r = c.post(&merge).header("referer", &measures).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let refused = r.text().await.unwrap();
    let back = scraper::Html::parse_document(&refused)
        .select(&scraper::Selector::parse("#back").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_owned));
    assert_eq!(back, Some(format!("/w/problems/{problem}")), "{refused}");
}

/// A request begun before the session ended elsewhere (signed out, password reset) and finished after it
/// does not bring the session back: the session store's save only updates a session that still exists.
/// Before, one slow request a minute kept a stolen cookie alive through every reset.
#[tokio::test]
async fn a_request_begun_before_sign_out_and_finished_after_it_does_not_bring_the_session_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    app.create_user("night-shift", Role::Analyst).await;
    let form = [("username", "night-shift"), ("password", crate::helpers::PASSWORD)];
    let signed_in = crate::helpers::client(false).post(app.url("/login")).form(&form).send().await.unwrap();
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("wenji_session="))
        .map(|v| format!("wenji_session={}", v.split(';').next().unwrap()))
        .expect("a session cookie");
    let get_home = async || crate::helpers::client(false).get(app.url("/w")).header("cookie", &cookie).send().await;
    let home = get_home().await.unwrap().text().await.unwrap();
    let csrf = crate::helpers::hidden(&home, "_csrf").expect("the sign-out form's token");
    // A minute on, the next request refreshes the session (and so saves it when it ends).
    app.state.clock.advance(61 * MINUTE / 60);

    let addr = app.base.trim_start_matches("http://").to_owned();
    let body = "_csrf=stale&title=%E6%85%A2&area=1";
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /w/problems HTTP/1.1\r\nHost: {addr}\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        app.base,
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..8]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let out = crate::helpers::client(false)
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303, "signed out");
    slow.write_all(&body.as_bytes()[8..]).await.unwrap();
    let mut answer = vec![0u8; 12];
    slow.read_exact(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 4"), "{}", String::from_utf8_lossy(&answer));
    drop(slow);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let sql = "SELECT COUNT(*) AS n FROM sessions";
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    db.close().await.unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "the ended session was written back");
    assert_eq!(get_home().await.unwrap().status(), 303, "the old cookie opens nothing");
}

/// An analyst reading while the database cannot take the session's renewal (PostgreSQL: a full disk for
/// sessions; SQLite: the write lock held by a long change elsewhere) gets the pages at once, not a 503
/// after the 10 s busy timeout; the session keeps its stored expiry, and the first read after renews it.
#[tokio::test]
async fn a_read_is_served_while_its_session_cannot_be_renewed_and_a_later_read_renews_it() {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let app = TestApp::spawn().await;
    let (c, _) = app.login_as(Role::Analyst).await;
    let first = stored_expiry(&app).await;
    app.state.clock.advance(61 * MINUTE / 60);
    let lock_holder = if crate::helpers::is_postgres() {
        crate::helpers::refuse_writes(&app, "sessions", "UPDATE", Some("TRUE")).await;
        None
    } else {
        let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
        let immediate = TransactionOptions {
            isolation_level: None,
            access_mode: None,
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        };
        let txn = db.begin_with_options(immediate).await.unwrap();
        Some((db, txn))
    };
    let started = std::time::Instant::now();
    for page in ["/w", "/w/inbox"] {
        assert_eq!(c.get(app.url(page)).send().await.unwrap().status(), 200, "{page} while renewal fails");
    }
    assert!(started.elapsed() < Duration::from_secs(6), "served without waiting out the busy timeout");
    assert_eq!(stored_expiry(&app).await, first, "the renewal was left for later");
    match lock_holder {
        Some((db, txn)) => {
            txn.rollback().await.unwrap();
            db.close().await.unwrap();
        }
        None => crate::helpers::refuse_writes(&app, "sessions", "UPDATE", None).await,
    }
    assert_eq!(status_of_home(&app, &c).await, 200);
    assert!(stored_expiry(&app).await >= first + 61_000, "the next read renews the session");
}
