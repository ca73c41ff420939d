//! Numbered receipts and stored keys (SQLite; migration 000023): a database from the release before keeps
//! its receipts, its submission keys and its id counter through the upgrade; the keys the writer keeps in
//! memory are all there again after a kill and a restart; and a second server on the same file refuses
//! submissions rather than store a retried one twice.

use crate::helpers::{is_postgres, test_forms};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use tokio::process::{Child, Command};
use wenji::domain::form::answers::Answer;
use wenji::domain::submission::SubmissionKey;

async fn scalar(db: &DatabaseConnection, sql: &str) -> String {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
    row.try_get_by_index::<String>(0).or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string())).unwrap()
}

struct Server {
    child: Child,
    base: String,
}

/// `wenji serve` on the database in `dir`, once it answers `/healthz`.
async fn serve(dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_wenji"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("WENJI_DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.join("wenji.db").display()))
        .env("WENJI_FORMS_DIR", dir.join("forms"))
        .env("WENJI_DATA_DIR", dir.join("data"))
        .env("WENJI_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return Server { child, base };
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("wenji serve did not start");
}

impl Server {
    /// `kill -9`, waiting until the process is gone (and its lock with it).
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    async fn submit(&self, key: &str, team: &str) -> (u16, String) {
        let body = json!({"category": "qz", "answers": {
            "team": team, "work": "建议简化法律援助的申请流程。", "has_member": "no", "satisfaction": "2"}});
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/forms/zhengqiu/responses", self.base))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        (status, v["receipt"].as_str().unwrap_or_default().to_owned())
    }

    async fn receipt_page(&self, receipt: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}/f/zhengqiu/r/{receipt}", self.base)).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

#[tokio::test]
async fn receipts_and_keys_from_before_the_upgrade_survive_it_a_kill_and_a_second_server() {
    if is_postgres() {
        return; // PostgreSQL keeps random receipts and its UNIQUE constraints.
    }
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("wenji.db").display());

    // The database as the release before left it: migrated up to 000022, the forms stored, three
    // responses with random receipts, the last one since deleted (the id counter stays at 3).
    let config = wenji::config::Config {
        database_url: url.clone(),
        forms_dir: dir.path().join("forms"),
        data_dir: dir.path().join("data"),
        exports_dir: dir.path().join("exports"),
        public_url: None,
    };
    let store = wenji::cli::open_and_migrate(&config).await.unwrap();
    let versions = store.sync_catalog(&wenji::cli::load_forms(&config).unwrap()).await.unwrap();
    drop(store);
    let db = Database::connect(&url).await.unwrap();
    Migrator::down(&db, Some(1)).await.unwrap();
    let legacy = ["WJ-2345-6789", "WJ-ABCD-EFGH", "WJ-JKMN-PQRS"];
    for (i, receipt) in legacy.iter().enumerate() {
        let id = i + 1;
        let key = SubmissionKey::parse(&format!("legacy-key-{id}")).unwrap().stored_hash("zhengqiu");
        let answer = serde_json::to_string(&Answer::Text(format!("升级前提交的第 {id} 条意见"))).unwrap();
        db.execute_unprepared(&format!(
            "INSERT INTO responses (id, form_version_id, form_slug, receipt, key_hash, body_hash, submitted_at) \
             VALUES ({id}, {}, 'zhengqiu', '{receipt}', '{key}', 'a body from before', 1764000000000); \
             INSERT INTO answers (response_id, question_id, value) VALUES ({id}, 'team', '{answer}')",
            versions["zhengqiu"]
        ))
        .await
        .unwrap();
    }
    db.execute_unprepared("DELETE FROM responses WHERE id = 3").await.unwrap();
    db.close().await.unwrap();

    // The upgrade runs as the server starts.
    let first = serve(dir.path()).await;
    let (status, page) = first.receipt_page(legacy[0]).await;
    assert_eq!(status, 200, "a receipt from before still opens");
    assert!(page.contains(legacy[0]));
    assert_eq!(first.receipt_page(legacy[2]).await.0, 404, "a deleted response's receipt is gone");
    assert_eq!(
        first.submit("legacy-key-1", "另一份不同的内容，请重视调解工作。").await.0,
        409,
        "a key from before is still known"
    );

    let (status, receipt) = first.submit("new-key-0001", "升级后提交的意见，请重视调解工作。").await;
    assert_eq!(status, 201);
    assert_eq!(receipt.len(), "WJ-XXXX-XXXXX".len(), "a numbered receipt: {receipt}");
    let (status, page) = first.receipt_page(&receipt).await;
    assert_eq!(status, 200);
    assert!(page.contains(&receipt));
    let mut typo = receipt.clone().into_bytes();
    typo[5] = if typo[5] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        first.receipt_page(std::str::from_utf8(&typo).unwrap()).await.0,
        404,
        "a mistyped receipt finds nothing"
    );

    // A second server on the same file would not know the first one's keys: it refuses to store.
    let second = serve(dir.path()).await;
    assert_eq!(second.submit("new-key-0002", "第二个服务收到的意见").await.0, 503);
    second.kill().await;

    // Killed and started again, the server knows every key stored so far.
    first.kill().await;
    let again = serve(dir.path()).await;
    assert_eq!(again.submit("new-key-0001", "升级后提交的意见，请重视调解工作。").await, (200, receipt.clone()));
    assert_eq!(again.submit("new-key-0001", "换了一份不同的内容，请重视调解工作。").await.0, 409);
    assert_eq!(again.submit("legacy-key-2", "另一份不同的内容，请重视调解工作。").await.0, 409);
    let (status, next) = again.submit("new-key-0002", "重启后提交的意见").await;
    assert_eq!(status, 201);
    again.kill().await;

    let db = Database::connect(&url).await.unwrap();
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM answers WHERE response_id IN (1, 2)").await, "2", "answers kept");
    let ids = |r: &str| format!("SELECT id FROM responses WHERE receipt = '{r}'");
    assert_eq!(scalar(&db, &ids(&receipt)).await, "4", "the deleted response's id is not given again");
    assert_eq!(scalar(&db, &ids(&next)).await, "5");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM responses").await, "4", "nothing stored twice");
    db.close().await.unwrap();
}
