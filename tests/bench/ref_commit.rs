//! References (b) and (c) for the load benchmark: what most web apps do. A minimal axum handler that stores
//! each posted body as one row in its own transaction through sqlx, SQLite in WAL mode, and answers after
//! the commit: (b) with `synchronous=NORMAL` (not durable on power loss), (c) with `synchronous=FULL`.
//! `cargo run --release --example ref_commit -- ADDR DB_PATH [normal|full]`

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::sqlx::{self, SqlitePool};
use std::time::Duration;

async fn store(State(pool): State<SqlitePool>, body: Bytes) -> StatusCode {
    let text = String::from_utf8_lossy(&body).into_owned();
    let result = async {
        let mut txn = pool.begin().await?;
        sqlx::query("INSERT INTO submissions (body, received_at) VALUES (?, strftime('%s','now'))")
            .bind(text)
            .execute(&mut *txn)
            .await?;
        txn.commit().await
    }
    .await;
    match result {
        Ok(()) => StatusCode::CREATED,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18082".into());
    let path = args.next().unwrap_or_else(|| "ref_commit.db".into());
    let sync = match args.next().as_deref() {
        Some("full") => SqliteSynchronous::Full,
        _ => SqliteSynchronous::Normal,
    };
    let opts = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(sync)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await.expect("open database");
    sqlx::query("CREATE TABLE IF NOT EXISTS submissions (id INTEGER PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    let app = Router::new().route("/submit", post(store)).with_state(pool);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("ref_commit serving on {addr}");
    axum::serve(listener, app).await.expect("serve");
}
