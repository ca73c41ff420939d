//! The `wenji` binary itself: first start, health check, loaded forms logged, accounts from the command line,
//! and migrations that go down and up again.

use crate::helpers::{fresh_database, test_forms};
use migrations::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;
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
    // The log as it stands after the set-up (the copy above was taken before the password was sent).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = log.lock().unwrap().clone();
    assert!(after.len() >= text.len() && after.contains("/setup?token="), "the log read after the set-up");
    assert!(!after.contains("Qiu-shui-2026!"), "the password reached the log");
    assert!(after.contains("database ready") && after.contains("commits="), "the commit durability is logged: {after}");
    // The database holds opinions, phone numbers and password hashes: the owner's alone, whatever the umask.
    if !crate::helpers::is_postgres() {
        use std::os::unix::fs::PermissionsExt;
        for file in ["wenji.db", "wenji.db-wal"] {
            let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{file} is readable by others: {mode:o}");
        }
    }
}

#[tokio::test]
async fn links_printed_from_a_shell_without_the_public_url_carry_the_address_the_server_started_with() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    assert!(wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let create = || {
        let o = wenji(dir.path(), &db)
            .args(["links", "create", "--form", "zhengqiu", "--unit", "sfs-qingxi"])
            .env_remove("WENJI_PUBLIC_URL")
            .env_remove("WENJI_BIND")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
    };
    let (printed, warned) = create();
    assert!(printed.contains("http://127.0.0.1:8080/f/zhengqiu?t="), "{printed}");
    assert!(warned.contains("phones cannot open"), "a poster phones cannot open is not printed unsaid");
    // A server started without a public address: links carry the port it listens on (they said 8080).
    let (server, port) = started(wenji(dir.path(), &db).env_remove("WENJI_PUBLIC_URL")).await;
    let (printed, warned) = create();
    assert!(printed.contains(&format!("http://127.0.0.1:{port}/f/zhengqiu?t=")), "{printed}");
    assert!(warned.contains("phones cannot open"), "{warned}");
    drop(server);
    // The server is started with the public address in its own environment (a systemd unit, say).
    let (server, _) = started(wenji(dir.path(), &db).env("WENJI_PUBLIC_URL", "https://wenji.example.gov.cn")).await;
    let (printed, warned) = create();
    assert!(printed.contains("https://wenji.example.gov.cn/f/zhengqiu?t="), "{printed}");
    assert!(warned.contains("note: links use https://wenji.example.gov.cn, the WENJI_PUBLIC_URL"), "{warned}");
    assert!(!warned.contains("phones cannot open"), "{warned}");
    // A later start without the address (a test on another port) does not take it back.
    drop(server);
    let (_server, _) = started(wenji(dir.path(), &db).env_remove("WENJI_PUBLIC_URL")).await;
    let (printed, _) = create();
    assert!(printed.contains("https://wenji.example.gov.cn/f/zhengqiu?t="), "{printed}");
}

/// `wenji serve` run by `command` on a free port, once it answers; stopped when dropped.
async fn started(command: &mut Command) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, port)
}

/// How `command` ended, or `None` when it was still running after ten seconds (a server that started).
fn exit_of(command: &mut Command) -> Option<std::process::Output> {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap())
}

/// A database restored without its secret.key, or an instance started without the shared WENJI_SECRET,
/// would sign links that no printed poster carries: refused, saying what to restore, and no key is made.
#[tokio::test]
async fn a_start_with_another_secret_than_the_databases_is_refused_and_makes_no_key() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    assert!(wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let create = ["links", "create", "--form", "zhengqiu", "--unit", "sfs-qingxi"];
    let made = wenji(dir.path(), &db).args(create).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let printed = String::from_utf8_lossy(&made.stdout).into_owned();
    let key = dir.path().join("data/secret.key");
    let kept = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    for other in [None, Some("another-secret-of-at-least-thirty-two-bytes")] {
        for args in [&["links", "list"][..], &["serve", "--bind", "127.0.0.1:0"]] {
            let mut command = wenji(dir.path(), &db);
            command.args(args);
            if let Some(s) = other {
                command.env("WENJI_SECRET", s);
            }
            let out = exit_of(&mut command).unwrap_or_else(|| panic!("{args:?} started with {other:?}"));
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} ran with {other:?}");
            assert!(said.contains("secret.key") && said.contains("WENJI_SECRET"), "{args:?}, {other:?}: {said}");
            assert!(!key.exists(), "{args:?} made a new secret.key");
        }
    }
    // Lost for good: a new secret is made on request, after which the links print again (with new tokens).
    let said =
        String::from_utf8_lossy(&exit_of(wenji(dir.path(), &db).args(["links", "list"])).unwrap().stderr).into_owned();
    assert!(said.contains("wenji migrate --new-secret"), "the way out of a lost key is named: {said}");
    let fresh = wenji(dir.path(), &db).args(["migrate", "--new-secret"]).output().unwrap();
    assert!(fresh.status.success() && key.exists(), "{}", String::from_utf8_lossy(&fresh.stderr));
    assert!(String::from_utf8_lossy(&fresh.stdout).contains("no longer opens the form"));
    let audited = wenji::store::Store::connect(&db).await.unwrap();
    assert_eq!(audited.audit_entries(Some("secret_replaced"), None, None, 10).await.unwrap().len(), 1);
    drop(audited);
    let listed = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let again = wenji(dir.path(), &db).args(["migrate", "--new-secret"]).output().unwrap();
    assert!(!again.status.success(), "a second --new-secret would drop the key just made");
    std::fs::remove_file(&key).unwrap();
    // A database from before fingerprints (none recorded) whose links were signed by the lost key.
    let conn = sea_orm::Database::connect(&db).await.unwrap();
    conn.execute_unprepared("DELETE FROM installation").await.unwrap();
    let out = exit_of(wenji(dir.path(), &db).args(["serve", "--bind", "127.0.0.1:0"]))
        .expect("a database with links from before fingerprints, and no key: refused");
    assert!(!out.status.success() && !key.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    // A fingerprint recorded for a wrong key is forgotten on request; the right key then records its own.
    let wrong = wenji(dir.path(), &db)
        .args(["links", "list"])
        .env("WENJI_SECRET", "a-wrong-secret-of-at-least-thirty-two-bytes")
        .output()
        .unwrap();
    assert!(wrong.status.success(), "no fingerprint yet: the first secret given is recorded");
    std::fs::write(&key, kept).unwrap();
    let refused = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--forget-secret-fingerprint"), "the way out is named");
    let forget = wenji(dir.path(), &db).args(["migrate", "--forget-secret-fingerprint"]).output().unwrap();
    assert!(forget.status.success(), "{}", String::from_utf8_lossy(&forget.stderr));
    assert!(String::from_utf8_lossy(&forget.stdout).contains("stops working"), "what a wrong key costs is said");
    let audited = wenji::store::Store::connect(&db).await.unwrap();
    let entries = audited.audit_entries(Some("secret_fingerprint_forgotten"), None, None, 10).await.unwrap();
    assert_eq!(entries.len(), 1, "forgetting the fingerprint is audited");
    let list = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let url = printed.lines().find(|l| l.contains("/f/zhengqiu?t=")).expect("the link printed").trim();
    let url = url.split_whitespace().find(|w| w.contains("?t=")).unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains(url), "the restored key signs the same link");
}

/// After a rollback to an older release, the database holds migrations this build does not know: every
/// command says so at once (it waited 30 s, then said a migration file was missing).
#[tokio::test]
async fn a_database_from_a_newer_release_is_refused_at_once_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    assert!(wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let conn = sea_orm::Database::connect(&db).await.unwrap();
    conn.execute_unprepared("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_future', 0)")
        .await
        .unwrap();
    for args in [&["migrate"][..], &["links", "list"], &["serve", "--bind", "127.0.0.1:0"]] {
        let started = Instant::now();
        let out =
            exit_of(wenji(dir.path(), &db).args(args)).unwrap_or_else(|| panic!("{args:?} ran on a newer database"));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && said.contains("newer release") && said.contains("m20991231_000001_future"),
            "{args:?}: {said}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{args:?} took {:?}", started.elapsed());
    }
}

/// Settings that would break a promise or every request are refused at start, naming the setting.
#[test]
fn settings_that_would_break_protection_links_or_every_request_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("wenji.db").display());
    for (var, value) in [
        ("WENJI_SMALL_CELL_K", "0"),
        ("WENJI_SMALL_CELL_K", "1"),
        ("WENJI_HEADER_TIMEOUT_SECS", "18446744073709551615"),
        ("WENJI_BODY_TIMEOUT_SECS", "0"),
        ("WENJI_SUBMIT_BURST", "0"),
        ("WENJI_SUBMIT_PER_MINUTE", "0"),
        ("WENJI_EXPORT_RETENTION_HOURS", "18446744073709551615"),
        ("WENJI_MAX_CONNECTIONS", "0"),
        ("WENJI_MAX_CONNECTIONS", "18446744073709551616"),
        ("WENJI_PUBLIC_URL", "wenji.example.gov.cn"),
        ("WENJI_PUBLIC_URL", "ftp://wenji.example.gov.cn"),
        ("WENJI_PUBLIC_URL", "https://wenji.example.gov.cn/sub/"),
        ("WENJI_PUBLIC_URL", "https://wenji.example.gov.cn,"),
        ("WENJI_PUBLIC_URL", "https://-wenji-.gov.cn"),
        ("WENJI_TRUSTED_PROXIES", "10.0.0.1,10.0.0"),
    ] {
        let mut serve = wenji(dir.path(), &db);
        serve.args(["serve", "--bind", "127.0.0.1:0"]).env(var, value);
        let out = exit_of(&mut serve).unwrap_or_else(|| panic!("{var}={value} was accepted: the server started"));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}={value} was accepted");
        let flag = var.trim_start_matches("WENJI_").to_lowercase().replace('_', "-");
        assert!(said.contains(&flag) && said.contains(value), "{var}={value}: {said}");
        assert!(said.contains(&format!("{var}=")), "the variable is named: {said}");
        assert!(!said.contains("panicked"), "{var}={value}: {said}");
    }
    // An exports folder that cannot be one (a file) stops the start, named; every export failed later.
    let file = dir.path().join("afile");
    std::fs::write(&file, "").unwrap();
    let mut serve = wenji(dir.path(), &db);
    serve.args(["serve", "--bind", "127.0.0.1:0"]).env("WENJI_EXPORTS_DIR", &file);
    let out = exit_of(&mut serve).expect("the server started with a file for its exports folder");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("WENJI_EXPORTS_DIR") && said.contains("afile"), "{said}");
    assert!(!dir.path().join("wenji.db").exists(), "nothing was started");
    // An env file's empty list, or one with a trailing comma, means just the addresses it has.
    for value in ["", "10.0.0.1, 10.0.0.2,"] {
        let mut serve = wenji(dir.path(), &db);
        serve.args(["serve", "--bind", "127.0.0.1:0"]).env("WENJI_TRUSTED_PROXIES", value);
        let out = exit_of(&mut serve);
        assert!(out.is_none(), "WENJI_TRUSTED_PROXIES={value:?} stopped the start: {out:?}");
    }
    // A database address that cannot be opened is named without its password, which the driver repeats.
    let out = wenji(dir.path(), "pgsql://wenji:S3cret-pw@db.example/wenji").arg("migrate").output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("pgsql://…@db.example/wenji"), "{said}");
    assert!(!said.contains("S3cret-pw"), "the password was printed: {said}");
    // A mistyped log filter read as a target and silenced every log line, warnings of a full disk too: it is
    // named in a warning and the default used; filters written with spaces or numeric levels are read.
    for (value, refused) in [("verbose", true), ("debugg,sqlx=warn", true), ("info, wenji=debug", false), ("3", false)]
    {
        let out = wenji(dir.path(), &db).arg("migrate").env("WENJI_LOG", value).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "WENJI_LOG={value}: {said}");
        let warned = said.contains("neither a level") && said.contains("logging with the default");
        assert_eq!(warned, refused, "WENJI_LOG={value}: {said}");
    }
    // The command line's leaders' export follows the same rule for k.
    for k in ["0", "1"] {
        let out = wenji(dir.path(), &db)
            .args(["export", "--form", "zhengqiu"])
            .env("WENJI_SMALL_CELL_K", k)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && said.contains("small-cell-k"), "export with k {k}: {said}");
    }
}

/// A backup run from another folder (as cron runs it) must not create an empty database and snapshot it.
#[test]
fn a_command_run_where_there_is_no_database_says_so_and_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let elsewhere = dir.path().join("cron-folder");
    std::fs::create_dir(&elsewhere).unwrap();
    for args in [&["backup", "nightly.db"][..], &["links", "list"], &["user", "list"]] {
        let out =
            wenji(dir.path(), "sqlite://data/wenji.db?mode=rwc").current_dir(&elsewhere).args(args).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded: {said}");
        assert!(
            said.contains("no database at") && said.contains(&elsewhere.join("data/wenji.db").display().to_string()),
            "{args:?}: {said}"
        );
        assert!(!elsewhere.join("data").exists() && !elsewhere.join("nightly.db").exists(), "{args:?} created files");
    }
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin_and_refuses_weak_ones_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    let migrate = wenji(dir.path(), &db).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
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
    // A password the sign-in page could never take is refused here too (the account was made, unusable).
    for (piped, why) in
        [("Song-ling-2026#\t", "控制字符"), ("Song-ling-2026#\0", "控制字符"), (" Song-ling-2026#", "首尾")]
    {
        let refused = run("li.analyst", piped);
        assert!(!refused.status.success(), "{piped:?} was taken");
        assert!(String::from_utf8_lossy(&refused.stderr).contains(why), "{}", String::from_utf8_lossy(&refused.stderr));
    }
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

#[tokio::test]
async fn accounts_differing_only_in_letter_case_stop_the_upgrade_naming_both_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let url = fresh_database(dir.path()).await;
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let before = Migrator::migrations().iter().filter(|m| m.name() < "m20261206_000068_user_names_any_case").count();
    Migrator::up(&db, Some(u32::try_from(before).unwrap())).await.unwrap();
    for name in ["Zhou", "zhou"] {
        let sql = format!(
            "INSERT INTO users (username, display_name, role, password_hash, active, created_at) \
             VALUES ('{name}', '{name}', 'analyst', 'x', TRUE, 0)"
        );
        db.execute_unprepared(&sql).await.unwrap();
    }
    let refused = wenji(dir.path(), &url).arg("migrate").output().unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "the upgrade went on");
    assert!(said.contains(r#""Zhou" and "zhou" differ only in letter case"#), "{said}");
    assert_eq!(Migrator::get_applied_migrations(&db).await.unwrap().len(), before);
    let rename = "UPDATE users SET username = 'zhou-2' WHERE username = 'zhou'";
    assert!(said.contains(rename), "the way out is given: {said}");
    db.execute_unprepared(rename).await.unwrap();
    let migrate = wenji(dir.path(), &url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let list = wenji(dir.path(), &url).args(["user", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("Zhou ") && list.contains("zhou-2 "), "both accounts kept: {list}");
}

#[tokio::test]
async fn commands_other_than_migrate_serve_and_backup_refuse_a_database_that_is_behind_and_leave_it_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let url = fresh_database(dir.path()).await;
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let all = Migrator::migrations().len();
    Migrator::up(&db, Some(u32::try_from(all - 1).unwrap())).await.unwrap();
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["user", "list"],
        vec!["links", "list"],
        vec!["export", "--form", "zhengqiu", "--format", "csv", "--out"],
    ];
    let out = dir.path().join("out.csv");
    let snapshot = dir.path().join("snapshot.db");
    commands[2].push(out.to_str().unwrap());
    for args in &commands {
        let o = wenji(dir.path(), &url).args(args).stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "`wenji {}` ran on a database that is behind", args.join(" "));
        assert!(stderr.contains("run `wenji migrate`"), "`wenji {}` said: {stderr}", args.join(" "));
        let applied = Migrator::get_applied_migrations(&db).await.unwrap().len();
        assert_eq!(applied, all - 1, "`wenji {}` changed the schema", args.join(" "));
    }
    assert!(!out.exists());
    // The backup to take before upgrading is taken as the database is, and changes nothing.
    if !crate::helpers::is_postgres() {
        let o = wenji(dir.path(), &url).args(["backup", snapshot.to_str().unwrap()]).output().unwrap();
        assert!(o.status.success() && snapshot.exists(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(Migrator::get_applied_migrations(&db).await.unwrap().len(), all - 1, "the backup migrated");
    }
    // A start refused for its secret leaves the database behind, as its release can still start on it.
    db.execute_unprepared(
        "INSERT INTO installation (name, value) VALUES ('secret_fingerprint', 'recorded-by-another')",
    )
    .await
    .unwrap();
    let refused = exit_of(wenji(dir.path(), &url).args(["serve", "--bind", "127.0.0.1:0"])).expect("refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("another secret"), "{refused:?}");
    assert_eq!(Migrator::get_applied_migrations(&db).await.unwrap().len(), all - 1, "the refused start migrated");
    db.execute_unprepared("DELETE FROM installation WHERE name = 'secret_fingerprint'").await.unwrap();
    let migrate = wenji(dir.path(), &url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let list = wenji(dir.path(), &url).args(["user", "list"]).output().unwrap();
    assert!(list.status.success(), "after `wenji migrate` the commands run: {}", String::from_utf8_lossy(&list.stderr));
}

#[tokio::test]
async fn user_add_on_a_database_never_migrated_is_refused_without_creating_any_table() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let url = fresh_database(dir.path()).await;
    if !crate::helpers::is_postgres() {
        // An empty file, as `sqlite3 wenji.db` leaves one (no file at all is refused as no database).
        std::fs::File::create(dir.path().join("wenji.db")).unwrap();
    }
    let mut child = wenji(dir.path(), &url)
        .args(["user", "add", "wang.admin", "--role", "admin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Song-ling-2026#\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("run `wenji migrate`"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let tables = if crate::helpers::is_postgres() {
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()"
    } else {
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"
    };
    let row =
        db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), tables)).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "no table was created");
}

#[tokio::test]
async fn links_enable_makes_a_revoked_link_active_again_with_the_same_address() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let url = fresh_database(dir.path()).await;
    let run = |args: &[&str]| {
        let o = wenji(dir.path(), &url).args(args).output().unwrap();
        assert!(o.status.success(), "`wenji {}`: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    run(&["migrate"]);
    let created = run(&["links", "create", "--form", "zhengqiu", "--unit", "sfs-hedong", "--label", "海报 5月"]);
    let address = created.lines().last().unwrap().to_owned();
    let id = created.split_whitespace().nth(1).unwrap().to_owned();
    run(&["links", "revoke", &id]);
    assert!(run(&["links", "list"]).contains("revoked"));
    let enabled = run(&["links", "enable", &id]);
    assert!(enabled.contains(&address), "the same address: {enabled}");
    let list = run(&["links", "list"]);
    assert!(list.contains("active") && !list.contains("revoked"), "{list}");
    assert!(list.contains("海报 5月"), "two links of a unit are told apart by their labels: {list}");
    let missing = wenji(dir.path(), &url).args(["links", "enable", "999"]).output().unwrap();
    assert!(!missing.status.success(), "an unknown link is an error");
    // The web page's rules hold here: no terminal escape or overlong label, no link to the rating form.
    for (args, field) in [
        (vec!["--form", "zhengqiu", "--unit", "sfs-hedong", "--label", "海报\n\u{1b}[31m"], "--label"),
        (vec!["--form", "zhengqiu", "--unit", "sfs-hedong", "--label", &"长".repeat(101)], "--label"),
        (vec!["--form", "gongkai-pingjia", "--unit", "sfs-hedong"], "--form"),
    ] {
        let o = wenji(dir.path(), &url).args(["links", "create"]).args(&args).output().unwrap();
        assert!(!o.status.success(), "{args:?} was taken");
        assert!(String::from_utf8_lossy(&o.stderr).contains(field), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(run(&["links", "list"]).lines().count(), 1, "no link made");
    // An unknown form is named with the forms there are (list printed nothing; create gave no choice).
    let o =
        wenji(dir.path(), &url).args(["links", "create", "--form", "nosuch", "--unit", "sfs-hedong"]).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("zhengqiu"));
    let o = wenji(dir.path(), &url).args(["links", "list", "--form", "nosuch"]).output().unwrap();
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && said.contains("no such form") && said.contains("zhengqiu"), "{said}");
}

#[tokio::test]
async fn an_output_file_that_exists_is_refused_and_left_as_it_was() {
    let app = crate::helpers::TestApp::spawn().await;
    app.submit_opinion("命令行导出已有文件测试").await;
    let actor = wenji::store::audit::Actor::system("test");
    let link = app.store().create_link("zhengqiu", "sfs-hedong", None, "test", &actor).await.unwrap();
    let kept = app.dir.path().join("分析报告（手写稿）.xlsx");
    std::fs::write(&kept, "the office's own report").unwrap();
    let id = link.id.to_string();
    let path = kept.to_str().unwrap();
    for args in [
        vec!["export", "--form", "zhengqiu", "--format", "xlsx", "--out", path],
        vec!["export", "--form", "zhengqiu", "--unprotected", "--format", "csv", "--out", path],
        vec!["export", "--register", "--out", path],
        vec!["links", "qr", &id, "--out", path],
        vec!["backup", path],
    ] {
        let o = app.run_cli(&args).await;
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "`wenji {}` replaced a file", args.join(" "));
        assert!(stderr.contains("already exists; choose a new file name"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "the office's own report");
    }
    // A workbook is not written under a .csv name (nothing opened it).
    let csv = app.dir.path().join("raw.csv");
    let o = app.run_cli(&["export", "--form", "zhengqiu", "--out", csv.to_str().unwrap()]).await;
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--format csv"));
    let o = app
        .run_cli(&["links", "qr", &id, "--format", "png", "--out", csv.with_extension("svg").to_str().unwrap()])
        .await;
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("name it .png"), "a PNG named .svg");
    assert!(!csv.exists());
    // A QR code already printed under its default name is kept; the next goes beside it (it was replaced).
    let qr = |_| async { app.run_cli(&["links", "qr", &id, "--format", "svg"]).await };
    assert!(qr(()).await.status.success());
    let first = app.config.exports_dir.join(format!("link-{id}.svg"));
    std::fs::write(&first, "the code on the posters").unwrap();
    let o = qr(()).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "the code on the posters");
    assert!(app.config.exports_dir.join(format!("link-{id}-2.svg")).exists());
}

#[tokio::test]
async fn exports_of_one_minute_all_stay_and_the_full_file_is_named_as_such() {
    let app = &crate::helpers::TestApp::spawn().await;
    app.submit_opinion("同一分钟的两次导出，不能互相覆盖。").await;
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(&app.config.exports_dir)
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    };
    let export = async |args: &'static [&'static str]| {
        let o = app.run_cli(args).await;
        assert!(o.status.success(), "`wenji {}`: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
    };
    export(&["export", "--form", "zhengqiu"]).await;
    let first = files().pop().unwrap();
    let title = &first[..first.len() - "-2026-12-06-1530.xlsx".len()];
    // The office's own files under the names this minute's and the next minute's exports would take.
    let bureau = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let now = chrono::Utc::now().with_timezone(&bureau);
    for t in [now, now + chrono::Duration::minutes(1)] {
        let name = format!("{title}-{}.xlsx", t.format("%Y-%m-%d-%H%M"));
        if name != first {
            std::fs::write(app.config.exports_dir.join(name), "手写稿").unwrap();
        }
    }
    let before: Vec<(String, Vec<u8>)> =
        files().into_iter().map(|n| (n.clone(), std::fs::read(app.config.exports_dir.join(&n)).unwrap())).collect();
    export(&["export", "--form", "zhengqiu"]).await;
    export(&["export", "--form", "zhengqiu", "--unprotected"]).await;
    for (name, bytes) in &before {
        assert_eq!(&std::fs::read(app.config.exports_dir.join(name)).unwrap(), bytes, "{name} was replaced");
    }
    let after = files();
    let new: Vec<&String> = after.iter().filter(|n| !before.iter().any(|(b, _)| b == *n)).collect();
    assert_eq!(new.len(), 2, "{after:?}");
    assert_eq!(new.iter().filter(|n| n.contains("-完整数据（不得交给领导）-")).count(), 1, "{new:?}");
    // Three at once (cron and a person, say): three whole files, none lost or mixed with another.
    let before = files();
    let runs: Vec<_> = (0..3).map(|_| app.run_cli(&["export", "--form", "zhengqiu", "--unprotected"])).collect();
    for o in futures_util::future::join_all(runs).await {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let new: Vec<String> = files().into_iter().filter(|n| !before.contains(n)).collect();
    assert_eq!(new.len(), 3, "{new:?}");
    for name in &new {
        assert!(name.ends_with(".xlsx"), "a part file was left: {name}");
        let bytes = std::fs::read(app.config.exports_dir.join(name)).unwrap();
        let wb: Result<calamine::Xlsx<_>, _> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes));
        assert!(wb.is_ok(), "{name} is not a whole workbook");
    }
}

#[tokio::test]
async fn an_export_the_audit_log_refuses_leaves_no_file_behind() {
    let app = crate::helpers::TestApp::spawn().await;
    app.submit_opinion("命令行导出审计测试").await;
    let out = app.dir.path().join("refused.csv");
    let register = app.dir.path().join("register.xlsx");
    crate::helpers::refuse_writes(&app, "audit_log", "INSERT", Some("TRUE")).await;
    for args in [
        vec!["export", "--form", "zhengqiu", "--format", "csv", "--out", out.to_str().unwrap()],
        vec!["export", "--form", "zhengqiu", "--unprotected", "--format", "csv", "--out", out.to_str().unwrap()],
        vec!["export", "--register", "--out", register.to_str().unwrap()],
    ] {
        let o = app.run_cli(&args).await;
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "`wenji {}` succeeded without its audit entry", args.join(" "));
        assert!(stderr.contains("could not be audited"), "{stderr}");
        assert!(!out.exists() && !register.exists(), "`wenji {}` left a file without its entry", args.join(" "));
    }
    crate::helpers::refuse_writes(&app, "audit_log", "INSERT", None).await;
    let o = app.run_cli(&["export", "--form", "zhengqiu", "--format", "csv", "--out", out.to_str().unwrap()]).await;
    assert!(o.status.success() && out.exists(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(app.store().audit_entries(Some("export_requested"), None, None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn instances_starting_together_on_a_new_database_both_migrate_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let (a, b) = (wenji::store::Store::connect(&url).await.unwrap(), wenji::store::Store::connect(&url).await.unwrap());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    assert!(ra.is_ok() && rb.is_ok(), "both start: {ra:?} {rb:?}");
    assert!(a.pending_migrations().await.unwrap().is_empty());
}

/// A `secret.key` other users can read (restored with `cp` under umask 022) is said, with the fix: it
/// signs every link.
#[tokio::test]
async fn a_secret_key_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    assert!(wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let key = dir.path().join("data/secret.key");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, hex::encode([7u8; 32])).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("can be read by other users") && said.contains("chmod 600"), "{said}");
    // Inside a folder only its owner may enter (as wenji makes data/), the file's mode is moot.
    std::fs::set_permissions(key.parent().unwrap(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("other users"), "a key in a private folder");
    std::fs::set_permissions(key.parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("other users"), "a private key is not warned about");
}

/// A cron job's export run without the server's WENJI_SMALL_CELL_K uses the k the server started with
/// (it stated 5 and released by 5 beside a server at 10); another k is refused, since two leaders' files
/// made with different k subtract to what each hides.
#[tokio::test]
async fn the_command_lines_leaders_file_uses_the_k_the_server_started_with() {
    let app = crate::helpers::TestApp::spawn().await;
    app.submit_opinion("命令行导出使用服务器的 k").await;
    app.store().record_small_cell_k(10).await.unwrap();
    let o = app.run_cli(&["export", "--form", "zhengqiu", "--small-cell-k", "5"]).await;
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && said.contains("the server was started with 10"), "{said}");
    let o = app.run_cli(&["export", "--form", "zhengqiu"]).await;
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && said.contains("满 10 份"), "{said}");
    let o = app.run_cli(&["export", "--form", "zhengqiu", "--unprotected", "--small-cell-k", "5"]).await;
    assert!(o.status.success(), "the office's full file has no k to differ: {}", String::from_utf8_lossy(&o.stderr));
}

/// Responses stored before Wenji marked coded ones: those sent before their unit's first codes are open;
/// those after (through the codes or beside them, nothing tells) are held back from leaders, not guessed.
#[tokio::test]
async fn an_upgrade_holds_back_the_responses_it_cannot_tell_were_sent_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let before = Migrator::migrations().iter().filter(|m| m.name() < "m20261206_000071_responses_with_code").count();
    Migrator::up(&db, Some(u32::try_from(before).unwrap())).await.unwrap();
    let issued = 1_764_000_000_000_i64 + 30_000; // half a minute into a minute
    let minute = issued / 60_000 * 60_000;
    for sql in [
        "INSERT INTO form_versions (id, slug, hash, title, definition, first_seen_at) VALUES (1, 'zhengqiu', 'h', 't', '{}', 0)".to_owned(),
        "INSERT INTO links (id, form_slug, unit_code, label, created_at, needs_code) VALUES (7, 'zhengqiu', 'sfs-qingxi', '', 0, FALSE)".to_owned(),
        format!("INSERT INTO audit_log (at, actor_name, action, target) VALUES ({issued}, 'admin', 'access_codes_issued', 'link:7')"),
        // A release made before the upgrade (migration 000073 must take the table with rows in it).
        format!("INSERT INTO leader_releases (cut_ms, released, waiting, made_at, k) VALUES ({}, 0, 0, 0, 1)", minute - 864_000_000),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    // (receipt, unit, sent at, released at)
    let rows = [
        ("R-BEFORE", "sfs-qingxi", minute - 60_000, None),
        ("R-SAME-MINUTE", "sfs-qingxi", minute, None),
        ("R-AFTER", "sfs-qingxi", minute + 120_000, None),
        ("R-RELEASED", "sfs-qingxi", minute + 120_000, Some(minute + 86_400_000)),
        ("R-OTHER-UNIT", "sfs-songling", minute + 120_000, None),
    ];
    for (receipt, unit, at, released) in rows {
        let released = released.map_or("NULL".to_owned(), |r: i64| r.to_string());
        db.execute_unprepared(&format!(
            "INSERT INTO responses (form_version_id, form_slug, unit_code, receipt, key_hash, body_hash, submitted_at, released_at) \
             VALUES (1, 'zhengqiu', '{unit}', '{receipt}', 'k-{receipt}', 'b', {at}, {released})"
        ))
        .await
        .unwrap();
    }
    wenji::store::Store::connect(&url).await.unwrap().migrate().await.unwrap();
    // An instance not yet upgraded, beside one that is, stores responses without the mark: one of a unit
    // that never had codes, one sent after its unit's codes, and (its clock may run behind the issuing
    // instance's) one sent minutes before them.
    let old_instance = [
        ("R-OLD-INSTANCE", "sfs-songling", 0),
        ("R-OLD-CODED?", "sfs-qingxi", minute + 180_000),
        ("R-OLD-CLOCK?", "sfs-qingxi", minute - 300_000),
    ];
    for (receipt, unit, at) in old_instance {
        db.execute_unprepared(&format!(
            "INSERT INTO responses (form_version_id, form_slug, unit_code, receipt, key_hash, body_hash, submitted_at) \
             VALUES (1, 'zhengqiu', '{unit}', '{receipt}', 'k-{receipt}', 'b', {at})"
        ))
        .await
        .unwrap();
    }
    // Nor can it release to leaders: its claim of a cut does not name the rules (migration 000073).
    let old_claim = "INSERT INTO leader_releases (cut_ms, released, waiting, made_at, k) VALUES (1, 0, 0, 0, 5)";
    assert!(db.execute_unprepared(old_claim).await.is_err(), "an older instance claimed a release");
    // Nor one of the build before answers asked unevenly were held back (rules 1, migration 000075).
    let old_claim =
        "INSERT INTO leader_releases (cut_ms, released, waiting, made_at, k, rules) VALUES (1, 0, 0, 0, 5, 1)";
    assert!(db.execute_unprepared(old_claim).await.is_err(), "a release by the build before 000075");
    let read = |sql: &'static str| {
        let db = db.clone();
        async move {
            let rows = db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await;
            rows.unwrap().iter().map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap())).collect()
        }
    };
    let marked: Vec<(String, Option<bool>)> = read("SELECT receipt, with_code FROM responses ORDER BY receipt").await;
    let want = [
        ("R-AFTER", None),
        ("R-BEFORE", Some(false)),
        ("R-OLD-CLOCK?", None),
        ("R-OLD-CODED?", None),
        ("R-OLD-INSTANCE", None),
        ("R-OTHER-UNIT", Some(false)),
        ("R-RELEASED", Some(false)),
        ("R-SAME-MINUTE", None),
    ];
    assert_eq!(marked, want.map(|(r, c)| (r.to_owned(), c)));
    // A release marks open what was sent before any code of its unit (the older instance's in a unit
    // without codes) and leaves the unknown ones waiting, counted as waiting.
    let store = wenji::store::Store::connect(&url).await.unwrap();
    store.release_to_leaders(minute + 3 * 86_400_000, 1).await.unwrap();
    let released: Vec<(String, Option<bool>)> =
        read("SELECT receipt, with_code FROM responses WHERE released_at IS NOT NULL ORDER BY receipt").await;
    let released: Vec<&str> = released.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(released, ["R-BEFORE", "R-OLD-INSTANCE", "R-OTHER-UNIT", "R-RELEASED"]);
    let release = store.latest_release().await.unwrap().unwrap();
    assert_eq!(release.waiting, 4, "R-AFTER, R-SAME-MINUTE, R-OLD-CODED? and R-OLD-CLOCK? wait");
}

/// A database upgraded from a build before releases: its leaders saw every response sent before that
/// midnight, small units pooled in the view. The first release starts from that, so a unit of four they
/// saw pooled is not named later with one more (which pointed at the fifth), nor does the pool grow by one;
/// whether that first release is made on a later day or for the upgrade's own midnight.
#[tokio::test]
async fn an_upgrade_from_before_releases_starts_from_what_leaders_already_saw() {
    let now = wenji::store::now_ms();
    let upgrade_midnight = wenji::domain::report::published_until_ms(now);
    for cut in [upgrade_midnight + 86_400_000, upgrade_midnight] {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(dir.path()).await;
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let before = Migrator::migrations().iter().filter(|m| m.name() < "m20261205_000066_leader_releases").count();
        Migrator::up(&db, Some(u32::try_from(before).unwrap())).await.unwrap();
        let version = "INSERT INTO form_versions (id, slug, hash, title, definition, first_seen_at) VALUES (1, 'zhengqiu', 'h', 't', '{}', 0)";
        db.execute_unprepared(version).await.unwrap();
        let send = |receipt: String, unit: &'static str, at: i64| {
            let db = db.clone();
            async move {
                db.execute_unprepared(&format!(
                    "INSERT INTO responses (form_version_id, form_slug, unit_code, receipt, key_hash, body_hash, submitted_at) \
                     VALUES (1, 'zhengqiu', '{unit}', '{receipt}', 'k-{receipt}', 'b', {at})"
                ))
                .await
                .unwrap();
            }
        };
        // Shown to leaders by the older build: 局办公室 named (6), 清溪 (4) and 松岭 (1) pooled.
        for (unit, n) in [("jg-bgs", 6), ("sfs-qingxi", 4), ("sfs-songling", 1)] {
            for i in 0..n {
                send(format!("OLD-{unit}-{i}"), unit, now - 2 * 86_400_000).await;
            }
        }
        wenji::store::Store::connect(&url).await.unwrap().migrate().await.unwrap();
        // After the upgrade, one more of each small unit.
        send("NEW-sfs-qingxi".into(), "sfs-qingxi", now).await;
        send("NEW-sfs-songling".into(), "sfs-songling", now).await;
        let store = wenji::store::Store::connect(&url).await.unwrap();
        store.release_to_leaders(cut, 5).await.unwrap();
        let read = |sql: &'static str| {
            let db = db.clone();
            async move {
                let rows = db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await;
                rows.unwrap().iter().map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap())).collect()
            }
        };
        let released: Vec<(String, i64)> = read(
            "SELECT unit_code, COUNT(*) FROM responses WHERE released_at IS NOT NULL GROUP BY unit_code ORDER BY unit_code",
        )
        .await;
        let want = [("jg-bgs", 6), ("sfs-qingxi", 4), ("sfs-songling", 1)];
        assert_eq!(released, want.map(|(u, n)| (u.to_owned(), n)), "what leaders saw, and nothing sent since");
        let pooled: Vec<(String, i64)> = read(
            "SELECT unit_code, COUNT(*) FROM leader_pooled_units WHERE form_slug = 'zhengqiu' GROUP BY unit_code ORDER BY unit_code",
        )
        .await;
        let want = [("sfs-qingxi", 1), ("sfs-songling", 1)];
        assert_eq!(pooled, want.map(|(u, n)| (u.to_owned(), n)), "the small units stay pooled");
        let (latest, total) = store.release_totals().await.unwrap().unwrap();
        assert_eq!(total, 11, "leaders' total counts what they saw");
        let waiting = if cut > upgrade_midnight { 2 } else { 0 };
        assert_eq!(latest.waiting, waiting, "the two new ones wait for k (sent after the cut: not counted)");
    }
}

/// A secret.key that cannot be read (its owner or mode changed; here a folder in its place) is named as
/// such: it was taken for "none yet", and writing a new one failed with "File exists".
#[test]
fn an_unreadable_secret_key_is_named_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    std::fs::create_dir_all(dir.path().join("data/secret.key")).unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("data/wenji.db").display());
    assert!(wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let out = wenji(dir.path(), &db).args(["links", "list"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("cannot read the secret key"), "{said}");
    assert!(dir.path().join("data/secret.key").is_dir(), "left as it was");
}

/// A PostgreSQL address that answers nothing (a wrong port) is refused at once with the reason, not after
/// the pool's ten seconds with "pool timed out".
#[test]
fn a_wrong_postgresql_port_is_named_with_its_reason_at_once() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let started = Instant::now();
    let out = wenji(dir.path(), "postgres://postgres@127.0.0.1:1/test").arg("migrate").output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("WENJI_DATABASE_URL") && said.contains("refused"), "{said}");
    assert!(!said.contains("pool timed out") && started.elapsed() < Duration::from_secs(5), "{said}");
}

/// A database kept in memory started, said its commits were synced, and lost everything at stop; `backup`
/// of it wrote a 0-byte snapshot and said so. Every command refuses it, naming the setting.
#[test]
fn a_database_kept_in_memory_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    crate::helpers::test_forms(dir.path());
    for url in [
        "sqlite::memory:",
        "sqlite://data/wenji.db?mode=memory",
        "sqlite://data/x.db?mode=%6Demory",
        "sqlite://%3Amemory%3A",
    ] {
        for args in [vec!["serve", "--bind", "127.0.0.1:0"], vec!["migrate"]] {
            let out = wenji(dir.path(), url).args(&args).current_dir(dir.path()).output().unwrap();
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && said.contains("kept in memory"), "{url} {args:?}: {said}");
        }
    }
}

/// WENJI_DATA_DIR naming a file is said as such (it said "wenji must run as its owner" of a secret.key).
#[test]
fn a_data_dir_that_is_a_file_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    std::fs::write(dir.path().join("afile"), b"not a folder").unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("wenji.db").display());
    let data = dir.path().join("afile");
    assert!(wenji(dir.path(), &db).env("WENJI_DATA_DIR", &data).arg("migrate").output().unwrap().status.success());
    let out = wenji(dir.path(), &db).env("WENJI_DATA_DIR", &data).args(["links", "list"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("is a file: it must name a folder"), "{said}");
}
