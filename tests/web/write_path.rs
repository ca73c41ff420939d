//! The write path on the database's own guarantees (issue 18): uniqueness by constraint even with two
//! writers on one database, and every acknowledged opinion visible at once to every reader.

use crate::helpers::TestApp;
use serde_json::json;
use wenji::domain::user::Role;
use wenji::store::inbox::{InboxFilter, Matching};

fn body(text: &str) -> serde_json::Value {
    json!({"category": "qz", "answers": {"team": text, "work": text, "has_member": "no", "satisfaction": "2"}})
}

#[tokio::test]
async fn keys_sent_to_two_servers_on_one_database_at_once_are_each_stored_once() {
    let app = TestApp::spawn().await;
    let second = app.second_server().await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        for base in [app.base.clone(), second.clone(), app.base.clone()] {
            let (c, b) = (app.citizen.clone(), body(&format!("两个服务同时收到的第 {n} 条意见")));
            tasks.push(tokio::spawn(async move {
                let r = c
                    .post(format!("{base}/api/v1/forms/zhengqiu/responses"))
                    .header("Idempotency-Key", format!("two-servers-key-{n:03}"))
                    .json(&b)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (
                    status,
                    r.json::<serde_json::Value>().await.unwrap()["receipt"].as_str().unwrap_or_default().to_owned(),
                )
            }));
        }
    }
    let mut receipts = std::collections::HashMap::new();
    for t in tasks {
        let (status, receipt) = t.await.unwrap();
        assert!(status == 201 || status == 200, "stored or replayed: {status}");
        *receipts.entry(receipt).or_insert(0) += 1;
    }
    assert_eq!(receipts.len(), 40, "one receipt per key");
    assert!(receipts.values().all(|&n| n == 3));
    assert_eq!(app.store().count_responses(None).await.unwrap(), 40, "each key stored once");
}

#[tokio::test]
async fn every_acknowledged_opinion_is_at_once_in_the_inbox_search_dashboard_and_export() {
    let app = TestApp::spawn_with(|s| s.index_search_after_idle = None).await;
    // A burst: 60 submissions at once, so the writer commits them in batches.
    let mut tasks = Vec::new();
    for n in 0..60 {
        let (c, url) = (app.citizen.clone(), app.url("/api/v1/forms/zhengqiu/responses"));
        let b = body(&format!("突发提交的第{n}条意见，关于调解员补贴"));
        tasks.push(tokio::spawn(async move {
            c.post(url).header("Idempotency-Key", format!("burst-key-{n:04}")).json(&b).send().await.unwrap().status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    // No waiting from here on: acknowledged means visible.
    let store = app.store();
    let all = store.inbox_count(&InboxFilter::default(), 10_000).await.unwrap();
    let searched = InboxFilter { q: Some("调解员补贴".into()), ..Default::default() };
    assert_eq!(all, Matching::Exact(120), "the inbox lists both opinions of every submission");
    assert_eq!(store.inbox_count(&searched, 10_000).await.unwrap(), Matching::Exact(120), "search finds them");
    assert_eq!(store.progress().await.unwrap().total, 120, "the dashboard counts them");
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let page = analyst.get(app.url("/w/inbox?q=%E7%AC%AC59%E6%9D%A1")).send().await.unwrap().text().await.unwrap();
    // The inbox marks the search match in the text.
    let page = page.replace("<mark>", "").replace("</mark>", "");
    assert!(page.contains("突发提交的第59条意见"), "the inbox page shows the last one");
    let (admin, csrf) = app.login_as(Role::Admin).await;
    // The office's file; leaders' protected files take today's responses from tomorrow (disclosure).
    let full = [("form", "zhengqiu"), ("format", "csv"), ("unprotected", "1")];
    let csv = app.export_as(&admin, &csrf, &full).await.unwrap();
    let rows = csv::Reader::from_reader(csv.as_slice()).records().count();
    assert_eq!(rows, 60, "the export holds every response");
    assert_eq!(store.search_backlog().await.unwrap(), 120, "found though none is indexed yet");
}

#[tokio::test]
async fn two_servers_fill_one_search_index_together_and_search_finds_each_opinion_once() {
    let app = TestApp::spawn_with(|s| s.index_search_after_idle = None).await;
    for n in 0..30 {
        let r = app
            .citizen
            .post(app.url("/api/v1/forms/zhengqiu/responses"))
            .header("Idempotency-Key", format!("index-key-{n:03}"))
            .json(&body(&format!("第{n}条：公证处排队时间太长")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let store = app.store();
    assert_eq!(store.search_backlog().await.unwrap(), 60);
    // A second instance on the same database indexes the same backlog at the same time, in small steps.
    let other = wenji::store::Store::connect(&app.config.database_url).await.unwrap();
    let drain = |s: wenji::store::Store| async move {
        let mut total = 0;
        loop {
            let n = s.index_search_backlog(7).await.unwrap();
            total += n;
            if n == 0 {
                return total;
            }
        }
    };
    let (a, b) = tokio::join!(drain(store.clone()), drain(other));
    assert_eq!(a + b, 60, "each opinion indexed once ({a} + {b})");
    assert_eq!(store.search_backlog().await.unwrap(), 0);
    let searched = InboxFilter { q: Some("排队时间".into()), ..Default::default() };
    assert_eq!(store.inbox_count(&searched, 10_000).await.unwrap(), Matching::Exact(60), "found once each");
    let one = InboxFilter { q: Some("第17条".into()), ..Default::default() };
    assert_eq!(store.inbox_count(&one, 10_000).await.unwrap(), Matching::Exact(2), "both opinions of one submission");
}

#[tokio::test]
async fn the_writer_reports_no_pause_while_a_batch_is_stored_nor_just_after_it() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use wenji::store::submissions::SubmissionWriter;
    // The writer's own search indexing also waits on the lock held below; here only batches are asked about.
    let app = TestApp::spawn_with(|s| s.index_search_after_idle = None).await;
    let writer = app.state.writer.clone();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(writer.quiet_for(std::time::Duration::from_millis(50)), "nothing submitted yet");
    // Another connection holds the write lock (SQLite) or the responses table (PostgreSQL), so the next
    // batch waits in flight.
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let hold = if crate::helpers::is_postgres() {
        "LOCK TABLE responses IN EXCLUSIVE MODE"
    } else {
        "DELETE FROM responses WHERE id < 0"
    };
    let mut holder = None;
    for _ in 0..100 {
        // A SQLite transaction that read before another connection wrote must start again.
        let txn = db.begin().await.unwrap();
        if txn.execute_unprepared(hold).await.is_ok() {
            holder = Some(txn);
            break;
        }
        txn.rollback().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let holder = holder.expect("the lock is taken");
    let submitted = tokio::spawn({
        let (c, url) = (app.citizen.clone(), app.url("/api/v1/forms/zhengqiu/responses"));
        async move {
            c.post(url).header("Idempotency-Key", "held-batch-key").json(&body("等待提交的意见")).send().await.unwrap()
        }
    });
    let mut busy = false;
    for _ in 0..500 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        if !writer.quiet_for(std::time::Duration::ZERO) {
            busy = true;
            break;
        }
    }
    assert!(busy, "a batch waiting to commit is not a pause");
    holder.rollback().await.unwrap();
    assert_eq!(submitted.await.unwrap().status(), 201);
    let pause = SubmissionWriter::INDEX_AFTER_IDLE * 100;
    assert!(!writer.quiet_for(pause), "a batch finished just now");
    tokio::time::sleep(pause * 2).await;
    assert!(writer.quiet_for(pause), "the pause after it");
}

/// Commits are flushed before a submission is acknowledged whatever the database's own default says: on
/// PostgreSQL a role (or database) set to `synchronous_commit = off` would otherwise acknowledge what a
/// crash can lose. Wenji's connections ask for `on` themselves.
#[tokio::test]
async fn commits_are_flushed_before_acknowledgement_whatever_the_databases_default() {
    use sea_orm::{ConnectionTrait, Database};
    let app = TestApp::spawn().await;
    if !crate::helpers::is_postgres() {
        assert_eq!(app.store().commit_durability().await.unwrap(), "FULL");
        return;
    }
    let pg = std::env::var("WENJI_TEST_PG_URL").unwrap();
    let name = format!("wj_async_{}", hex::encode(rand::random::<[u8; 4]>()));
    let admin = Database::connect(&pg).await.unwrap();
    for sql in [
        format!("CREATE ROLE {name} LOGIN"),
        format!("ALTER ROLE {name} SET synchronous_commit = off"),
        format!("CREATE SCHEMA {name} AUTHORIZATION {name}"),
    ] {
        admin.execute_unprepared(&sql).await.unwrap();
    }
    let (_, rest) = pg.split_once("://").unwrap();
    let host_and_db = rest.split_once('@').map_or(rest, |(_, h)| h).split('?').next().unwrap();
    let url = format!("postgres://{name}@{host_and_db}?options[search_path]={name}");
    let store = wenji::store::Store::connect(&url).await.unwrap();
    let durability = store.commit_durability().await.unwrap();
    drop(store);
    for sql in [format!("DROP SCHEMA {name} CASCADE"), format!("DROP OWNED BY {name}"), format!("DROP ROLE {name}")] {
        admin.execute_unprepared(&sql).await.ok();
    }
    assert_eq!(durability, "on", "a role defaulting to synchronous_commit = off");
}

/// PostgreSQL: staff writes waiting on an opinion's row (saves behind a long bulk undo) can take every
/// connection staff writes have; a citizen's submission still goes through at once, on the batches' own.
#[tokio::test]
async fn a_citizen_is_not_kept_waiting_behind_staff_writes_that_wait_on_rows() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    // The writer indexes for search whenever submissions pause, as a server's does.
    let app = TestApp::spawn_with(|s| s.index_search_after_idle = Some(std::time::Duration::from_millis(5))).await;
    if !crate::helpers::is_postgres() {
        return; // SQLite has one writer for everything, and no row locks.
    }
    let id = crate::workspace::submit(&app, "调解室太小，群众排队久").await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    app.create_user("signs-in-meanwhile", Role::Leader).await;
    let db = Database::connect(&app.config.database_url).await.unwrap();
    let holder = db.begin().await.unwrap();
    holder.execute_unprepared(&format!("SELECT id FROM opinions WHERE id = {id} FOR UPDATE")).await.unwrap();
    let saves: Vec<_> = (0..6)
        .map(|_| {
            let (c, csrf, url) = (analyst.clone(), csrf.clone(), app.url(&format!("/w/tag/{id}")));
            tokio::spawn(async move {
                c.post(url)
                    .form(&[("_csrf", csrf.as_str()), ("op", "save"), ("area", "3")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    // Time for the saves to take their connections and queue on the row.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for i in 0..3 {
        let receipt = app.submit_opinion(&format!("窗口服务态度有待改进（第 {i} 条）")).await;
        assert!(app.store().response_by_receipt(&receipt).await.is_ok());
    }
    // Signing in and out (a session row and an audit entry each) waits for no staff writer either: they
    // got 503 when the pool's wait ran out.
    let (leader, lcsrf) = app.login("signs-in-meanwhile", crate::helpers::PASSWORD).await;
    let out = leader.post(app.url("/logout")).form(&[("_csrf", lcsrf.as_str())]).send().await.unwrap();
    assert_eq!(out.status(), 303, "signed out");
    // Not after a save gave up and freed its connection: every save still waits on the row.
    assert!(saves.iter().all(|s| !s.is_finished()), "the submissions waited for a staff write to give up");
    holder.rollback().await.unwrap();
    for s in saves {
        assert!(s.await.unwrap().is_redirection(), "each save goes through once the row is free");
    }
    // The saves counted the tagged opinion in the staff writes' own slots, which no batch draws.
    let check = db.begin().await.unwrap();
    let slot = one(&check, "SELECT MIN(slot)::INT FROM opinion_counts WHERE state = 'tagged'").await;
    assert!(slot >= 16, "a save counted in slot {slot}, which a citizen's batch may draw");
}

/// PostgreSQL: the state counts are kept in slots, each a connection's by its process id, and a staff
/// transaction that changed states holds its slot's counters until it commits (a bulk undo: seconds). Staff
/// writes count in slots of their own (16 to 23), so a citizen's batch (0 to 15) never waits for one.
#[tokio::test]
async fn a_citizen_is_not_kept_waiting_behind_a_staff_write_holding_the_state_counts() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let app = TestApp::spawn().await;
    if !crate::helpers::is_postgres() {
        return; // SQLite keeps one count per state and has one writer.
    }
    let mut opinions = Vec::new();
    for i in 0..8 {
        opinions.push(crate::workspace::submit(&app, &format!("调解室太小（第 {i} 条）")).await);
    }
    // Staff transactions (as the staff writes' connections say they are), each changing a state and holding
    // its slot's counters until the end, in every staff slot.
    let mut held = Vec::new();
    let mut slots = std::collections::BTreeSet::new();
    while slots.len() < 8 {
        let db = Database::connect(&app.config.database_url).await.unwrap();
        let txn = db.begin().await.unwrap();
        if !slots.insert(one(&txn, "SELECT pg_backend_pid() % 8").await) {
            continue;
        }
        txn.execute_unprepared("SET LOCAL wenji.count_slots = 'staff'").await.unwrap();
        let id = opinions[held.len()];
        txn.execute_unprepared(&format!("UPDATE opinions SET state = 'verify' WHERE id = {id}")).await.unwrap();
        let slot = one(&txn, "SELECT MAX(slot)::INT FROM opinion_counts WHERE state = 'verify'").await;
        assert!(slot >= 16, "a staff write counted in slot {slot}, which a citizen's batch may draw");
        held.push((db, txn));
    }
    for i in 0..3 {
        let receipt = app.submit_opinion(&format!("窗口服务态度有待改进（第 {i} 条）")).await;
        assert!(app.store().response_by_receipt(&receipt).await.is_ok());
    }
    for (_, txn) in held {
        txn.rollback().await.unwrap();
    }
}

/// The one integer `sql` gives in `txn`.
async fn one(txn: &sea_orm::DatabaseTransaction, sql: &str) -> i32 {
    use sea_orm::ConnectionTrait;
    let statement = sea_orm::Statement::from_string(txn.get_database_backend(), sql);
    txn.query_one_raw(statement).await.unwrap().unwrap().try_get_by_index(0).unwrap()
}
