//! The upgrade to one write path (SQLite; migration 000031): a database made by the release before, with
//! numbered and random receipts and opinions still waiting in the intake, comes through with nothing lost:
//! the waiting opinions are listed (with the fingerprint they would have had), every receipt is found,
//! every key is known, and from then on the UNIQUE constraints keep keys and receipts unique, even with
//! two servers on one file.

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

/// Opinions of `response` as the inbox lists them: (question, text, fingerprint).
async fn opinions_of(db: &DatabaseConnection, response: i64) -> Vec<(String, String, String)> {
    let sql = format!("SELECT question_id, text, fingerprint FROM opinions WHERE response_id = {response} ORDER BY id");
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap();
    rows.iter()
        .map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap(), r.try_get_by_index(2).unwrap()))
        .collect()
}

/// A SQLite database migrated up to the release before 000031, the forms stored: its folder, URL, the
/// configuration, the form version of `zhengqiu`, and an open connection.
async fn database_from_before() -> (tempfile::TempDir, String, wenji::config::Config, i64, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("wenji.db").display());
    let config = wenji::config::Config {
        database_url: url.clone(),
        forms_dir: dir.path().join("forms"),
        data_dir: dir.path().join("data"),
        exports_dir: dir.path().join("exports"),
        public_url: None,
        unsafe_test_no_sync: false,
    };
    let store = wenji::cli::open_and_migrate(&config).await.unwrap();
    let versions = store.sync_catalog(&wenji::cli::load_forms(&config).unwrap()).await.unwrap();
    drop(store);
    let db = Database::connect(&url).await.unwrap();
    // Back to 000030: every migration after it is undone, newest first.
    let after = Migrator::migrations().iter().filter(|m| m.name() > "m20261202_000030_setup_tokens").count();
    Migrator::down(&db, Some(u32::try_from(after).unwrap())).await.unwrap();
    (dir, url, config, versions["zhengqiu"], db)
}

#[tokio::test]
async fn a_database_from_before_keeps_its_receipts_keys_and_waiting_opinions_through_the_upgrade() {
    if is_postgres() {
        return; // PostgreSQL never used the intake or numbered receipts; it kept its UNIQUE constraints.
    }
    // The database as the release before left it (migrated up to 000030): a random receipt (eight
    // letters), two numbered ones (nine), the last response's opinion still waiting in the intake.
    let (dir, url, _, version, db) = database_from_before().await;
    let legacy = ["WJ-2345-6789", "WJ-ABCD-EFGHJ", "WJ-KMNP-QRSTU"];
    let text = |id: usize| format!("升级前提交的第 {id} 条意见，法律援助");
    for (i, receipt) in legacy.iter().enumerate() {
        let id = i + 1;
        let key = SubmissionKey::parse(&format!("legacy-key-{id}")).unwrap().stored_hash("zhengqiu");
        let answer = serde_json::to_string(&Answer::Text(text(id))).unwrap().replace('\'', "''");
        let opinion = if id == 3 {
            // Waiting in the intake, with no fingerprint yet (as a burst left it).
            format!("INSERT INTO opinion_intake (response_id, question_id, fingerprint) VALUES ({id}, 'work', '')")
        } else {
            format!(
                "INSERT INTO opinions (response_id, form_slug, question_id, text, fingerprint, state, \
                 representative, submitted_at, updated_at) VALUES ({id}, 'zhengqiu', 'work', '{}', '{}', \
                 'pending', 0, 1764000000000, 1764000000000)",
                text(id),
                wenji::domain::text::fingerprint(&text(id))
            )
        };
        db.execute_unprepared(&format!(
            "INSERT INTO responses (id, form_version_id, form_slug, receipt, key_hash, body_hash, submitted_at) \
             VALUES ({id}, {}, 'zhengqiu', '{receipt}', '{key}', 'a body from before', 1764000000000); \
             INSERT INTO answers (response_id, question_id, value) VALUES ({id}, 'work', '{answer}'); {opinion}",
            version
        ))
        .await
        .unwrap();
    }
    db.close().await.unwrap();

    // The upgrade runs as the server starts.
    let first = serve(dir.path()).await;
    for receipt in legacy {
        let (status, page) = first.receipt_page(receipt).await;
        assert_eq!(status, 200, "a receipt from before still opens: {receipt}");
        assert!(page.contains(receipt));
    }
    assert_eq!(
        first.submit("legacy-key-1", "另一份不同的内容，请重视调解工作。").await.0,
        409,
        "a key from before is still known"
    );
    let (status, receipt) = first.submit("new-key-0001", "升级后提交的意见，请重视调解工作。").await;
    assert_eq!(status, 201);
    assert_eq!(receipt.len(), "WJ-XXXX-XXXX".len(), "a random receipt: {receipt}");
    assert_eq!(first.receipt_page(&receipt).await.0, 200);

    // A second server on the same file: the constraints, not memory, keep each key stored once.
    let second = serve(dir.path()).await;
    assert_eq!(second.submit("new-key-0001", "升级后提交的意见，请重视调解工作。").await, (200, receipt.clone()));
    assert_eq!(second.submit("legacy-key-2", "另一份不同的内容，请重视调解工作。").await.0, 409);
    let (status, next) = second.submit("new-key-0002", "第二个服务收到的意见").await;
    assert_eq!(status, 201);
    assert_eq!(first.submit("new-key-0002", "第二个服务收到的意见").await, (200, next.clone()));
    second.kill().await;
    first.kill().await;

    let db = Database::connect(&url).await.unwrap();
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM responses").await, "5", "nothing stored twice");
    assert_eq!(
        opinions_of(&db, 3).await,
        vec![("work".to_owned(), text(3), wenji::domain::text::fingerprint(&text(3)))],
        "the waiting opinion is listed, with the fingerprint storing it at once would have given"
    );
    assert_eq!(opinions_of(&db, 1).await.len(), 1, "listed opinions kept");
    let tables = "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('opinion_intake', 'receipt_key')";
    assert_eq!(scalar(&db, tables).await, "0", "the intake and the receipt secret are gone");
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_upgrade_refuses_a_database_holding_a_key_twice_and_changes_nothing() {
    if is_postgres() {
        return;
    }
    let (_dir, url, config, version, db) = database_from_before().await;
    for (id, receipt) in [(1, "WJ-2345-6789"), (2, "WJ-ABCD-EFGH")] {
        db.execute_unprepared(&format!(
            "INSERT INTO responses (id, form_version_id, form_slug, receipt, key_hash, body_hash, submitted_at) \
             VALUES ({id}, {}, 'zhengqiu', '{receipt}', 'the-same-key', 'b', 1764000000000)",
            version
        ))
        .await
        .unwrap();
    }
    db.close().await.unwrap();
    let err = wenji::cli::open_and_migrate(&config).await.unwrap_err().to_string();
    assert!(err.contains("key_hash") && err.contains("more than once"), "{err}");
    let db = Database::connect(&url).await.unwrap();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM responses").await, "2");
    db.close().await.unwrap();
}

/// An unknown receipt and another form's get one answer, saying what to check (they read "找不到该记录"
/// and "找不到该回执").
#[tokio::test]
async fn an_unknown_receipt_and_another_forms_get_one_answer_saying_what_to_check() {
    let app = crate::helpers::TestApp::spawn().await;
    let receipt = app.submit_opinion("回执页核对测试").await;
    let ok = app.citizen.get(app.url(&format!("/f/zhengqiu/r/{receipt}"))).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    for path in ["/f/zhengqiu/r/WJ-FAKE-0000".to_owned(), format!("/f/ceping/r/{receipt}")] {
        let r = app.citizen.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.unwrap().contains("请核对编号"), "{path}");
    }
}
