//! Backups: `wenji backup PATH` (and `Store::backup_to`) write a consistent snapshot while submissions are
//! being written; the snapshot passes `PRAGMA integrity_check` and serves when a server is started on it.

use crate::helpers::{TestApp, is_postgres};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> String {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
    row.try_get_by_index::<String>(0).or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string())).unwrap()
}

/// Submits through the JSON API until `stop`, returning the receipts acknowledged.
async fn keep_submitting(app: Arc<TestApp>, worker: usize, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut receipts = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let body = json!({"category": "qz", "answers": {
            "team": format!("备份期间提交的第 {n} 条意见，请领导班子重视基层调解工作。"),
            "work": "建议简化法律援助的申请流程。", "has_member": "no", "satisfaction": "2"}});
        let r = app.submit_json("zhengqiu", &format!("backup-{worker}-{n}"), &body).await;
        assert_eq!(r.status(), 201);
        receipts.push(r.json::<serde_json::Value>().await.unwrap()["receipt"].as_str().unwrap().to_owned());
    }
    receipts
}

#[tokio::test]
async fn a_backup_taken_while_submissions_are_written_is_consistent_and_serves() {
    if is_postgres() {
        eprintln!("SKIPPED on PostgreSQL: `wenji backup` is for SQLite; PostgreSQL is backed up with pg_dump");
        return;
    }
    let app = Arc::new(TestApp::spawn().await);
    let before = app.submit_opinion("备份开始前提交的意见，应当出现在备份中。").await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..6).map(|w| tokio::spawn(keep_submitting(app.clone(), w, stop.clone()))).collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // The command a bureau runs from cron, against the live database file.
    let snapshot = app.dir.path().join("snapshot.db");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_wenji"))
        .arg("backup")
        .arg(&snapshot)
        .env("WENJI_DATABASE_URL", &app.config.database_url)
        .env("WENJI_FORMS_DIR", &app.config.forms_dir)
        .env("WENJI_DATA_DIR", &app.config.data_dir)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&snapshot).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the snapshot is readable by others: {mode:o}");
    // And the same from inside the running service.
    let in_process = app.dir.path().join("in-process.db");
    app.store().backup_to(in_process.to_str().unwrap()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = 0;
    for w in writers {
        acknowledged += w.await.unwrap().len();
    }
    assert!(acknowledged > 10, "submissions kept flowing during the backup ({acknowledged})");

    for file in [&snapshot, &in_process] {
        let db = Database::connect(format!("sqlite://{}?mode=ro", file.display())).await.unwrap();
        assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
        let torn =
            "SELECT count(*) FROM responses r WHERE NOT EXISTS (SELECT 1 FROM opinions o WHERE o.response_id = r.id)";
        assert_eq!(scalar(&db, torn).await, "0", "every response in the snapshot has its opinions");
        let stored: i64 = scalar(&db, "SELECT count(*) FROM responses").await.parse().unwrap();
        assert!(stored >= 1 && stored <= acknowledged as i64 + 1, "{stored} of {acknowledged}");
        db.close().await.unwrap();
    }

    // A server started on the snapshot, with the secret kept beside it as the README says, answers health
    // checks and shows a receipt from before the backup.
    let restored_data = app.dir.path().join("restored-data");
    std::fs::create_dir(&restored_data).unwrap();
    std::fs::copy(app.config.data_dir.join("secret.key"), restored_data.join("secret.key")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_wenji"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("WENJI_DATABASE_URL", format!("sqlite://{}?mode=rwc", snapshot.display()))
        .env("WENJI_FORMS_DIR", &app.config.forms_dir)
        .env("WENJI_DATA_DIR", &restored_data)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = app.citizen.get(format!("{base}/healthz")).send().await {
            healthy = r.status() == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "the restored server answers /healthz");
    let page = app.citizen.get(format!("{base}/f/zhengqiu/r/{before}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&before));
    server.kill().await.unwrap();
}

#[tokio::test]
async fn a_backup_cut_short_by_a_full_disk_leaves_no_snapshot_to_restore_by_mistake() {
    if is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    app.submit_opinion("备份写到一半磁盘满了，不应留下残缺的备份文件。").await;
    let snapshot = app.dir.path().join("snapshot.db");
    // The shell makes files over 16 KiB fail to grow (EFBIG), as a full disk would, for `wenji backup` alone.
    let cli = app.cli();
    let program = cli.get_program().to_owned();
    let mut c = std::process::Command::new("sh");
    c.args(["-c", r#"trap "" XFSZ; ulimit -f 32; exec "$0" backup "$1""#]).arg(program).arg(&snapshot);
    c.envs(cli.get_envs().filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))));
    let out = tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a snapshot of 16 KiB at most was reported written");
    assert!(said.contains("no snapshot written"), "{said}");
    assert!(!snapshot.exists(), "a partial snapshot was left: {} bytes", std::fs::metadata(&snapshot).unwrap().len());
    let left: Vec<_> = std::fs::read_dir(app.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().ends_with(".part")), "{left:?}");
    // Two backups to one name at once (cron and a person): one is written whole, the other says the name is
    // taken, and neither removes the other's file.
    let args = ["backup", snapshot.to_str().unwrap()];
    let runs: Vec<_> = (0..2).map(|_| app.run_cli(&args)).collect();
    let outs = futures_util::future::join_all(runs).await;
    assert_eq!(outs.iter().filter(|o| o.status.success()).count(), 1, "{outs:?}");
    let db = Database::connect(format!("sqlite://{}?mode=ro", snapshot.display())).await.unwrap();
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
    assert_eq!(scalar(&db, "SELECT count(*) FROM responses").await, "1");
}

/// `wenji restore` refuses under a running server (what it acknowledged after would go to the file moved
/// aside) and a file that is no Wenji database; on a stopped one it moves the replaced database aside whole,
/// -wal too (left beside the snapshot, SQLite read it as part of it), and ends staff sessions (a session
/// signed out after the snapshot lived again).
#[tokio::test]
async fn a_restore_is_refused_under_a_running_server_and_otherwise_puts_the_snapshot_in_place() {
    if is_postgres() {
        eprintln!("SKIPPED on PostgreSQL: `wenji restore` is for SQLite; PostgreSQL is restored with pg_restore");
        return;
    }
    let app = TestApp::spawn().await;
    let kept = app.submit_opinion("快照之前提交的意见，恢复后应当还在。").await;
    app.login_as(wenji::domain::user::Role::Admin).await;
    let snapshot = app.dir.path().join("snapshot.db");
    let snapshot_s = snapshot.to_str().unwrap();
    assert!(app.run_cli(&["backup", snapshot_s]).await.status.success());
    let later = app.submit_opinion("快照之后提交的意见，恢复后不在。").await;
    let o = app.run_cli(&["restore", snapshot_s]).await;
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && said.contains("stop every server first"), "{said}");
    assert!(app.store().response_by_receipt(&later).await.is_ok(), "nothing changed under the server");

    // The same installation stopped: a copy of it in a folder no server holds, a stray -wal beside it.
    let stopped = app.dir.path().join("stopped");
    std::fs::create_dir(&stopped).unwrap();
    let db = stopped.join("wenji.db");
    assert!(app.run_cli(&["backup", db.to_str().unwrap()]).await.status.success());
    std::fs::write(stopped.join("wenji.db-wal"), b"a journal of the database being replaced").unwrap();
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let restore = |file: &std::path::Path| {
        let mut c = app.cli();
        c.env("WENJI_DATABASE_URL", &url).arg("restore").arg(file);
        tokio::task::spawn_blocking(move || c.output().unwrap())
    };
    let junk = app.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    // Another program's sea-orm database: a migrations table and none of Wenji's (it was taken, the database
    // moved aside, and only then refused).
    let other = app.dir.path().join("other-app.db");
    let conn = Database::connect(format!("sqlite://{}?mode=rwc", other.display())).await.unwrap();
    conn.execute_unprepared("CREATE TABLE seaql_migrations (version TEXT PRIMARY KEY, applied_at BIGINT)")
        .await
        .unwrap();
    // Even with tables named as Wenji's (the verification review: it was restored, and `serve` then hung).
    for t in ["sessions", "responses", "opinions"] {
        conn.execute_unprepared(&format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, x TEXT)")).await.unwrap();
    }
    conn.close().await.unwrap();
    // Refused before anything moves: junk, another program's database, and the database itself (moved aside,
    // it was copied from nowhere and the next start made an empty installation).
    for bad in [junk.clone(), other, db.clone(), stopped.join(".").join("wenji.db")] {
        let o = restore(&bad).await.unwrap();
        assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("nothing was changed"), "{bad:?}");
        assert!(db.exists() && stopped.join("wenji.db-wal").exists(), "{bad:?}: the database stays where it is");
    }
    // The snapshot readable by all, the database the server's own (not root's, who runs the restore).
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    std::fs::set_permissions(&snapshot, std::fs::Permissions::from_mode(0o644)).unwrap();
    let root = rustix::process::geteuid().is_root();
    let server_user = if root { 65534 } else { std::fs::metadata(&db).unwrap().uid() };
    if root {
        std::os::unix::fs::chown(&db, Some(server_user), Some(server_user)).unwrap();
    }
    let o = restore(&snapshot).await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for file in ["wenji.db", "wenji.db-wal", "wenji.db-shm"].map(|f| stopped.join(f)).iter().filter(|f| f.exists()) {
        let meta = std::fs::metadata(file).unwrap();
        assert_eq!((meta.mode() & 0o777, meta.uid()), (0o600, server_user), "{file:?}: the server's user's only");
    }
    let aside: Vec<_> = std::fs::read_dir(&stopped)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(aside[0].join("wenji.db").exists() && aside[0].join("wenji.db-wal").exists(), "moved aside whole");
    let restored = wenji::store::Store::connect(&url).await.unwrap();
    assert!(restored.response_by_receipt(&kept).await.is_ok());
    assert!(restored.response_by_receipt(&later).await.is_err());
    drop(restored);
    let sessions = scalar(&Database::connect(&url).await.unwrap(), "SELECT COUNT(*) FROM sessions").await;
    assert_eq!(sessions, "0", "staff sign in again");

    // A new machine: the server's user's folder with no data folder yet, the restore run as root.
    let fresh = app.dir.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    if root {
        std::os::unix::fs::chown(&fresh, Some(server_user), Some(server_user)).unwrap();
    }
    let data = fresh.join("data");
    let mut c = app.cli();
    c.env("WENJI_DATABASE_URL", format!("sqlite://{}?mode=rwc", data.join("wenji.db").display()));
    let o = tokio::task::spawn_blocking(move || c.arg("restore").arg(&snapshot).output().unwrap()).await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for file in [data.clone(), data.join("wenji.db"), data.join("wenji.db-wal")].iter().filter(|f| f.exists()) {
        assert_eq!(std::fs::metadata(file).unwrap().uid(), server_user, "{file:?}: the server's user's");
    }
}

/// A database file with its write-ahead log beside it (a folder a restore moved aside, restored back; a
/// copy of a running server's folder): its latest commits are only in the log. Restoring the file alone
/// lost acknowledged opinions and said "restored"; they are restored with it.
#[tokio::test]
async fn a_database_restored_with_its_write_ahead_log_beside_it_keeps_every_acknowledged_opinion() {
    if is_postgres() {
        eprintln!("SKIPPED on PostgreSQL: `wenji restore` is for SQLite");
        return;
    }
    let app = TestApp::spawn().await;
    let mut receipts = Vec::new();
    for i in 0..5 {
        receipts.push(app.submit_opinion(&format!("写在预写日志里的意见（{i}）")).await);
    }
    let copy = app.dir.path().join("copied-folder");
    std::fs::create_dir(&copy).unwrap();
    for f in ["wenji.db", "wenji.db-wal"] {
        std::fs::copy(app.dir.path().join(f), copy.join(f)).unwrap();
    }
    assert!(std::fs::metadata(copy.join("wenji.db-wal")).unwrap().len() > 0, "the latest commits are in the log");
    // Named directly, and through a link from another folder (the -wal is beside the file, not the link).
    let linked = app.dir.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(copy.join("wenji.db"), linked.join("snapshot.db")).unwrap();
    for (snapshot, into) in [(copy.join("wenji.db"), "elsewhere"), (linked.join("snapshot.db"), "through-a-link")] {
        let target = app.dir.path().join(into).join("wenji.db");
        let url = format!("sqlite://{}?mode=rwc", target.display());
        let mut c = app.cli();
        c.env("WENJI_DATABASE_URL", &url).arg("restore").arg(&snapshot);
        let o = tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let restored = wenji::store::Store::connect(&url).await.unwrap();
        for r in &receipts {
            assert!(restored.response_by_receipt(r).await.is_ok(), "{into}: {r} was acknowledged and is not restored");
        }
    }
}
