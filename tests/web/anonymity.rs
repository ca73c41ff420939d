//! Anonymity that holds: the real `wenji serve` binary, logging at its most verbose (trace), takes anonymous opinions
//! (HTML form, JSON API, a unit link) from a client with a distinctive address, user agent, referrer,
//! forwarding header and cookie; then neither the database (SQLite: every byte of the file and its WAL;
//! PostgreSQL: every row of every table, as text) nor the log holds any of them, and the log holds no
//! receipt and no line per submission (either would tie a response to a time). Citizen pages set no cookie.

use crate::helpers::{fresh_database, hidden, is_postgres, test_forms};
use sea_orm::{ConnectionTrait, Database, Statement};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The client connects from this loopback address (Linux routes all of 127/8 to lo), so the server's own
/// bind address 127.0.0.1, which it may rightly print, is not mistaken for the client's.
const CLIENT_IP: &str = "127.0.0.77";
const FORWARDED_IP: &str = "203.0.113.91";
const USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 13) MicroMessenger/8.0.47 ProbeUA-5e1d9c";
const REFERER: &str = "https://referrer-probe.example/posters/page-4d2a7b";
const COOKIE_VALUE: &str = "cookie-probe-91e6f0";

/// The server process; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wenji(dir: &Path, forms: &Path, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wenji"));
    c.env("WENJI_DATABASE_URL", db)
        .env("WENJI_DATA_DIR", dir.join("data"))
        .env("WENJI_FORMS_DIR", forms)
        .env("WENJI_EXPORTS_DIR", dir.join("exports"))
        .env("WENJI_LOG", "trace")
        .env_remove("WENJI_SECRET")
        .env_remove("WENJI_PUBLIC_URL")
        .env_remove("WENJI_BIND")
        .stdin(Stdio::null());
    c
}

/// Every header a phone's browser might send that could identify it.
fn probe_client() -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("referer", REFERER.parse().unwrap());
    h.insert("x-forwarded-for", FORWARDED_IP.parse().unwrap());
    h.insert("x-real-ip", FORWARDED_IP.parse().unwrap());
    h.insert("forwarded", format!("for={FORWARDED_IP}").parse().unwrap());
    h.insert("cookie", format!("tracker={COOKIE_VALUE}; wenji_session={COOKIE_VALUE}").parse().unwrap());
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(h)
        .local_address(CLIENT_IP.parse::<std::net::IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn assert_no_set_cookie(r: &reqwest::Response, what: &str) {
    assert!(r.headers().get("set-cookie").is_none(), "{what} sets a cookie: {:?}", r.headers().get("set-cookie"));
}

fn needles() -> [(&'static str, &'static str); 5] {
    [
        ("client address", CLIENT_IP),
        ("forwarded address", FORWARDED_IP),
        ("user agent", "ProbeUA-5e1d9c"),
        ("referrer", "referrer-probe"),
        ("cookie", COOKIE_VALUE),
    ]
}

fn assert_clean(what: &str, bytes: &[u8]) {
    for (name, needle) in needles() {
        let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(!found, "the {name} ({needle}) was written to {what}");
    }
}

/// Every row of every table in the test schema, as text (PostgreSQL).
async fn postgres_rows(db_url: &str) -> String {
    let db = Database::connect(db_url).await.unwrap();
    let backend = db.get_database_backend();
    let tables = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
        ))
        .await
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let name: String = t.try_get("", "table_name").unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(backend, format!("SELECT t::text AS row FROM \"{name}\" t")))
            .await
            .unwrap();
        for r in rows {
            out.push_str(&r.try_get::<String>("", "row").unwrap());
            out.push('\n');
        }
    }
    out
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
    }
    out
}

async fn wait_for_health(base: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let c = reqwest::Client::new();
    loop {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "wenji serve did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn anonymous_submissions_leave_no_address_user_agent_referrer_or_cookie_in_the_database_or_log_nor_a_receipt_in_the_log()
 {
    let dir = tempfile::tempdir().unwrap();
    let forms = test_forms(dir.path());
    let db = fresh_database(dir.path()).await;

    // A unit link, made with the command line as an administrator would.
    let migrate = wenji(dir.path(), &forms, &db).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let out = wenji(dir.path(), &forms, &db)
        .args(["links", "create", "--form", "zhengqiu", "--unit", "sfs-hedong"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.split("?t=").nth(1).expect("the link is printed").trim().to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_path: PathBuf = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = wenji(dir.path(), &forms, &db)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_for_health(&base, &log_path).await;

    let c = probe_client();
    // Through the HTML form, with and without a unit link, then the receipt page.
    let mut receipts = Vec::new();
    for query in [String::new(), format!("?t={token}")] {
        let page = c.get(format!("{base}/f/zhengqiu{query}")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_no_set_cookie(&page, "the form page");
        let html = page.text().await.unwrap();
        let key = hidden(&html, "_key").unwrap();
        let t = hidden(&html, "_t").unwrap_or_default();
        let r = c
            .post(format!("{base}/f/zhengqiu"))
            .header("origin", &base)
            .form(&[
                ("_key", key.as_str()),
                ("_t", t.as_str()),
                ("_category", "qz"),
                ("q_team", "匿名测试：希望减少形式主义的检查。"),
                ("q_has_member", "no"),
                ("q_satisfaction", "3"),
                ("q_phone", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "the HTML submission is stored");
        assert_no_set_cookie(&r, "the submission");
        let receipt_page = r.headers()["location"].to_str().unwrap().to_owned();
        let r = c.get(format!("{base}{receipt_page}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_no_set_cookie(&r, "the receipt page");
        receipts.push(receipt_page);
    }
    // Through the JSON API.
    let r = c.get(format!("{base}/api/v1/forms/zhengqiu")).send().await.unwrap();
    assert_no_set_cookie(&r, "the form definition");
    let r = c
        .post(format!("{base}/api/v1/forms/zhengqiu/responses"))
        .header("Idempotency-Key", "anonymity-probe-key-1")
        .json(&serde_json::json!({"category": "qy", "answers": {"team": "匿名测试：企业办事要跑好几趟。", "has_member": "no", "satisfaction": "2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_no_set_cookie(&r, "the API submission");
    let api_receipt = r.json::<serde_json::Value>().await.unwrap()["receipt"].as_str().unwrap().to_owned();
    let r = c.get(format!("{base}/assets/form.js")).send().await.unwrap();
    assert_no_set_cookie(&r, "a static asset");

    // Give the group-commit writer and the log a moment, then look while the server still runs
    // (WAL not yet checkpointed) and again after it has stopped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let scan = |label: &str| {
        let log = std::fs::read(&log_path).unwrap();
        let text = String::from_utf8_lossy(&log);
        assert!(text.contains("listening"), "the log is written: {text}");
        // Not even at trace is a citizen's post logged: its line's time, to the microsecond, and its place
        // among the posts would pick out its row, whose stored time is only the minute.
        for route in ["method=POST", "/api/v1/forms/zhengqiu/responses", "batch committed"] {
            assert!(!text.contains(route), "{route} was logged ({label}): {text}");
        }
        assert_clean(&format!("the log ({label})"), &log);
        for receipt in receipts.iter().map(|p| p.rsplit('/').next().unwrap()).chain([api_receipt.as_str()]) {
            assert!(!text.contains(receipt), "the receipt {receipt} was logged ({label})");
        }
        // Every file the server wrote: the SQLite file, its -wal and -shm, data/ (the secret).
        for p in files_under(dir.path()) {
            if p == log_path || p.starts_with(&forms) {
                continue;
            }
            assert_clean(&format!("{} ({label})", p.display()), &std::fs::read(&p).unwrap());
        }
    };
    scan("while serving");
    if is_postgres() {
        let rows = postgres_rows(&db).await;
        assert!(rows.contains("匿名测试：企业办事要跑好几趟。"), "the scan sees the stored opinions");
        assert_clean("the PostgreSQL tables", rows.as_bytes());
    } else {
        let db_file = std::fs::read(dir.path().join("wenji.db")).unwrap();
        let wal = std::fs::read(dir.path().join("wenji.db-wal")).unwrap_or_default();
        let needle = "匿名测试：企业办事要跑好几趟。".as_bytes();
        let stored = [&db_file, &wal].iter().any(|b| b.windows(needle.len()).any(|w| w == needle));
        assert!(stored, "the scan sees the stored opinions");
    }
    drop(server);
    scan("after stopping");
    assert_eq!(receipts.len(), 2);
    // The unit link's response keeps the unit, not the link (a link made for one person would name them).
    let conn = Database::connect(&db).await.unwrap();
    let sql = "SELECT COUNT(*) AS n, COUNT(link_id) AS linked, SUM(CASE WHEN unit_code = 'sfs-hedong' THEN 1 ELSE 0 END) AS unit \
               FROM responses";
    let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap().unwrap();
    let (unit, linked) = (row.try_get::<i64>("", "unit").unwrap(), row.try_get::<i64>("", "linked").unwrap());
    assert!(unit >= 1 && linked == 0, "unit-link responses: {unit}, stored with their link: {linked}");
}
