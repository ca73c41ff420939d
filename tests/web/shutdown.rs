//! Stopping the server: SIGTERM (what systemd and docker send) ends `wenji serve` as Ctrl-C does,
//! answering the submissions in flight. None is half-stored: an acknowledged one is stored with all its
//! opinions; an unanswered one is stored whole or not at all, and its retry under the same key after the
//! restart gives one response.

use crate::helpers::{fresh_database, test_forms};
use crate::process::ServerProcess;
use sea_orm::{ConnectionTrait, Database, Statement};
use std::collections::HashMap;
use std::time::Duration;

const CLIENTS: usize = 16;
const NO_LIMIT: [(&str, &str); 2] = [("WENJI_SUBMIT_BURST", "1000000"), ("WENJI_SUBMIT_PER_MINUTE", "1000000")];

struct Attempt {
    key: String,
    body: serde_json::Value,
    opinions: i64,
    receipt: Option<String>,
}

/// A submission of two or three opinions (the member question only when `has_member` is yes).
fn submission(client: usize, n: usize) -> (serde_json::Value, i64) {
    let text = format!("关机测试：第 {client} 位的第 {n} 条意见，希望简化办事流程。");
    if n.is_multiple_of(2) {
        let body = serde_json::json!({"category": "qz", "answers": {"team": text, "work": "多下基层。", "has_member": "yes", "member": "作风扎实。", "satisfaction": "2"}});
        (body, 3)
    } else {
        (
            serde_json::json!({"category": "qz", "answers": {"team": text, "work": "少开会。", "has_member": "no", "satisfaction": "3"}}),
            2,
        )
    }
}

async fn post(c: &reqwest::Client, base: &str, key: &str, body: &serde_json::Value) -> Option<String> {
    let r = c
        .post(format!("{base}/api/v1/forms/zhengqiu/responses"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .ok()?;
    match r.status().as_u16() {
        200 | 201 => Some(r.json::<serde_json::Value>().await.ok()?["receipt"].as_str()?.to_owned()),
        503 => None,
        s => panic!("unexpected {s}: {}", r.text().await.unwrap_or_default()),
    }
}

/// Submits one after another until the server stops answering; the last attempt is the unanswered one.
async fn submit_until_cut(base: String, client: usize) -> Vec<Attempt> {
    let c = reqwest::Client::new();
    let mut attempts = Vec::new();
    for n in 0.. {
        let (body, opinions) = submission(client, n);
        let key = format!("shutdown-{client}-{n}");
        let receipt = post(&c, &base, &key, &body).await;
        let cut = receipt.is_none();
        attempts.push(Attempt { key, body, opinions, receipt });
        if cut {
            return attempts;
        }
    }
    unreachable!()
}

/// Each stored response's receipt and its opinions.
async fn stored(db_url: &str) -> HashMap<String, i64> {
    let db = Database::connect(db_url).await.unwrap();
    let sql = "SELECT r.receipt AS receipt, \
               (SELECT count(*) FROM opinions o WHERE o.response_id = r.id) AS n FROM responses r";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    db.close().await.unwrap();
    rows.iter().map(|r| (r.try_get::<String>("", "receipt").unwrap(), r.try_get::<i64>("", "n").unwrap())).collect()
}

#[tokio::test]
async fn sigterm_during_submissions_answers_those_in_flight_and_leaves_none_half_stored() {
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    let mut server = ServerProcess::start(dir.path(), &db, &NO_LIMIT).await;
    let clients: Vec<_> = (0..CLIENTS).map(|i| tokio::spawn(submit_until_cut(server.base.clone(), i))).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.terminate();
    let status = server.exit_within(Duration::from_secs(40)).await;
    let mut attempts = Vec::new();
    for c in clients {
        attempts.extend(c.await.unwrap());
    }
    assert!(status.success(), "SIGTERM stops wenji cleanly, not by the signal: {status:?}\n{}", server.log());
    assert!(server.log().contains("shutting down"), "{}", server.log());
    let acknowledged: Vec<&Attempt> = attempts.iter().filter(|a| a.receipt.is_some()).collect();
    assert!(acknowledged.len() >= CLIENTS, "the load ran before the signal ({} acknowledged)", acknowledged.len());

    let after_stop = stored(&db).await;
    for a in &acknowledged {
        let receipt = a.receipt.as_ref().unwrap();
        assert_eq!(after_stop.get(receipt), Some(&a.opinions), "acknowledged {} is stored whole", a.key);
    }
    let unanswered = attempts.len() - acknowledged.len();
    assert!(after_stop.len() <= attempts.len() && after_stop.len() >= acknowledged.len());
    assert!(after_stop.values().all(|&n| n == 2 || n == 3), "no response is stored without all its opinions");

    // After the restart, each unanswered submission is retried under its key: one response each.
    let server = ServerProcess::start(dir.path(), &db, &NO_LIMIT).await;
    let c = reqwest::Client::new();
    let mut receipts = HashMap::new();
    for a in &attempts {
        let receipt = post(&c, &server.base, &a.key, &a.body).await.expect("the retry is answered");
        if let Some(first) = &a.receipt {
            assert_eq!(&receipt, first, "a replay of {} gives its first receipt", a.key);
        }
        receipts.insert(receipt, a.opinions);
    }
    drop(server);
    let after_retry = stored(&db).await;
    assert_eq!(receipts.len(), attempts.len(), "every key has its own receipt");
    assert_eq!(after_retry, receipts, "one response per key, each with all its opinions");
    eprintln!(
        "{} acknowledged before the stop, {unanswered} unanswered, {} stored before the retry",
        acknowledged.len(),
        after_stop.len()
    );
}

/// Refused sign-ins counted in memory since the last sweep are written to the audit log when the server
/// stops, not lost with the process (the sweep ran only every five minutes).
#[tokio::test]
async fn sign_ins_refused_before_a_stop_are_in_the_audit_log_after_it() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    test_forms(dir.path());
    let db = fresh_database(dir.path()).await;
    assert!(crate::process::wenji(dir.path(), &db).arg("migrate").output().unwrap().status.success());
    let mut add = crate::process::wenji(dir.path(), &db)
        .args(["user", "add", "guessed", "--role", "leader"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"Winter-Plum-Blossom-7\n").unwrap();
    assert!(add.wait().unwrap().success());
    let mut server = ServerProcess::start(dir.path(), &db, &[]).await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut throttled = 0;
    for i in 0..25 {
        let form = [("username", "guessed".to_owned()), ("password", format!("wrong-guess-{i}"))];
        let r = c.post(format!("{}/login", server.base)).form(&form).send().await.unwrap();
        throttled += u64::from(r.status() == 429);
    }
    assert!(throttled >= 3, "the guesses were throttled ({throttled})");
    server.terminate();
    assert!(server.exit_within(Duration::from_secs(40)).await.success(), "{}", server.log());
    let conn = Database::connect(&db).await.unwrap();
    let sql = "SELECT action, after FROM audit_log WHERE action = 'sign_in_throttled'";
    let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
    conn.close().await.unwrap();
    let counted: u64 = rows
        .iter()
        .map(|r| r.try_get::<Option<String>>("", "after").unwrap().unwrap_or_default())
        .filter_map(|a| a.strip_prefix("count=").and_then(|n| n.parse::<u64>().ok()))
        .sum();
    assert!(counted >= throttled, "{counted} refusals audited of {throttled}: {rows:?}");
}
