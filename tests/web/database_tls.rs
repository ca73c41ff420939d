//! PostgreSQL across TLS: with `sslmode=verify-full` every connection an instance holds is encrypted to the
//! server its certificate names, and a server the given certificate authority does not vouch for is refused.
//! The machine's PostgreSQL serves Debian's self-signed `localhost` certificate, its own authority; the
//! system's trust store (which holds that file too) is narrowed to one public authority, so only
//! `sslrootcert` can vouch for the server.

use crate::helpers::{fresh_database, is_postgres, test_forms};
use crate::process::{ServerProcess, wenji};
use sea_orm::{ConnectionTrait, Database, Statement};

const SERVER_CERTIFICATE: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
const ANOTHER_AUTHORITY: &str = "/etc/ssl/certs/ISRG_Root_X1.pem";

/// The system's trust store as the TLS library reads it, narrowed to `ANOTHER_AUTHORITY` (an empty
/// folder for `SSL_CERT_DIR`).
fn narrow_trust_store(dir: &std::path::Path) -> [(&'static str, String); 2] {
    let empty = dir.join("no-certificates");
    std::fs::create_dir_all(&empty).unwrap();
    [("SSL_CERT_FILE", ANOTHER_AUTHORITY.to_owned()), ("SSL_CERT_DIR", empty.display().to_string())]
}

/// `db` (a test schema on 127.0.0.1) reached by the name in the server's certificate, across TLS checked
/// against `authority`, its connections named `name` in `pg_stat_activity`.
fn across_tls(db: &str, host: &str, authority: &str, name: &str) -> String {
    assert!(db.contains("@127.0.0.1"), "the test database is on 127.0.0.1: {db}");
    let db = db.replace("@127.0.0.1", &format!("@{host}"));
    format!("{db}&sslmode=verify-full&sslrootcert={authority}&application_name={name}")
}

#[tokio::test]
async fn postgresql_across_tls_with_a_checked_certificate_encrypts_every_connection() {
    if !is_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let plain = fresh_database(dir.path()).await;
    let name = format!("wenji_tls_{}", hex::encode(rand::random::<[u8; 4]>()));
    let trust = narrow_trust_store(dir.path());
    let env: Vec<(&str, &str)> = trust.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server =
        ServerProcess::start(dir.path(), &across_tls(&plain, "localhost", SERVER_CERTIFICATE, &name), &env).await;
    assert!(server.log().contains("certificate verified"), "the start-up log says how: {}", server.log());
    assert!(!server.log().contains("WARN"), "{}", server.log());

    let body = serde_json::json!({"category": "qz", "answers": {"team": "加密连接测试：希望窗口延长服务时间。", "work": "多下基层。", "has_member": "no", "satisfaction": "3"}});
    let sent = reqwest::Client::new()
        .post(format!("{}/api/v1/forms/zhengqiu/responses", server.base))
        .header("Idempotency-Key", "tls-opinion-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201, "{}", sent.text().await.unwrap());

    let db = Database::connect(&plain).await.unwrap();
    let sql = format!(
        "SELECT count(*) AS held, count(*) FILTER (WHERE s.ssl) AS encrypted \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = '{name}'"
    );
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let (held, encrypted): (i64, i64) = (row.try_get("", "held").unwrap(), row.try_get("", "encrypted").unwrap());
    assert!(held >= 2, "the instance holds its connections ({held})");
    assert_eq!(encrypted, held, "every connection is encrypted");
}

#[tokio::test]
async fn a_postgresql_server_the_certificate_authority_does_not_vouch_for_is_refused() {
    if !is_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let plain = fresh_database(dir.path()).await;
    let cases = [
        ("localhost", ANOTHER_AUTHORITY, "another authority"),
        ("127.0.0.1", SERVER_CERTIFICATE, "a name the certificate does not hold"),
    ];
    for (host, authority, case) in cases {
        let url = across_tls(&plain, host, authority, "wenji_tls_refused");
        let out = wenji(dir.path(), &url).envs(narrow_trust_store(dir.path())).arg("migrate").output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{case}: refused");
        assert!(said.contains("cannot open the database") && said.contains("certificate"), "{case}: says why: {said}");
    }
}
