//! The `wenji` binary itself: first start, health check, loaded forms logged, accounts from the command line,
//! and migrations that go down and up again.

use crate::helpers::{fresh_database, test_forms};
use migrations::{Migrator, MigratorTrait};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn wenji(dir: &std::path::Path, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wenji"));
    c.env("WENJI_DATABASE_URL", db)
        .env("WENJI_FORMS_DIR", dir.join("forms"))
        .env("WENJI_DATA_DIR", dir.join("data"))
        .env("WENJI_EXPORTS_DIR", dir.join("exports"))
        .env_remove("WENJI_SECRET");
    c
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_starts_on_an_empty_database_answers_healthz_logs_forms_and_offers_a_one_time_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = wenji(dir.path(), &db)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("WENJI_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = Server(child);
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    for stream in [Box::new(stdout) as Box<dyn std::io::Read + Send>, Box::new(stderr)] {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/healthz")).send().await {
            assert_eq!(r.status(), 200);
            assert_eq!(r.text().await.unwrap(), "ok");
            break;
        }
        assert!(Instant::now() < deadline, "server did not start: {}", log.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = log.lock().unwrap().clone();
    for slug in ["zhengqiu", "ceping", "zoufang"] {
        assert!(text.contains("form loaded") && text.contains(slug), "{text}");
    }
    let link = text.lines().find(|l| l.contains("/setup?token=")).expect("a setup link is printed").trim().to_owned();
    let token = link.split("token=").nth(1).unwrap();
    let c = crate::helpers::client(true);
    let page = c.get(format!("http://127.0.0.1:{port}/setup?token={token}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let form = [
        ("token", token),
        ("username", "chen.admin"),
        ("display_name", "陈管理"),
        ("password", "Qiu-shui-2026!"),
        ("password2", "Qiu-shui-2026!"),
    ];
    let r = c.post(format!("http://127.0.0.1:{port}/setup")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "the first administrator is created");
    let again = c.get(format!("http://127.0.0.1:{port}/setup?token={token}")).send().await.unwrap();
    assert_eq!(again.status(), 404, "the link works once");
    assert!(!text.contains("Qiu-shui-2026!"));
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin_and_refuses_weak_ones_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    let run = |name: &str, password: &str| {
        let mut child = wenji(dir.path(), &db)
            .args(["user", "add", name, "--role", "analyst"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run("li.analyst", "123456");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("密码太短"), "{}", String::from_utf8_lossy(&weak.stderr));
    let ok = run("li.analyst", "Song-ling-2026#");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("added li.analyst (analyst)"));
    let dup = run("li.analyst", "Song-ling-2026#");
    assert!(!dup.status.success(), "a taken name is refused");
}

#[tokio::test]
async fn every_migration_goes_down_and_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let store = wenji::store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let db = sea_orm::Database::connect(&url).await.unwrap();
    Migrator::down(&db, None).await.unwrap();
    assert!(Migrator::get_applied_migrations(&db).await.unwrap().is_empty());
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(Migrator::get_applied_migrations(&db).await.unwrap().len(), Migrator::migrations().len());
}
