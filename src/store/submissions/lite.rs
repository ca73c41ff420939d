//! SQLite's batch connection: the batch's statements run on one thread that owns a rusqlite connection,
//! so a batch costs one hand-off between the async writer and that thread. Through sqlx every statement,
//! BEGIN and COMMIT each wait for sqlx's worker thread to be scheduled; on two busy CPUs those waits were
//! most of a batch's time (docs/decisions/0002-one-write-path.md). The statements themselves are the
//! same `write_batch` runs on PostgreSQL: only the two calls of [`BatchDb`] differ.

use super::{BatchDb, Prepared, Row, SubmitOutcome, write_batch};
use crate::store::{Result, StoreError};
use rusqlite::types::Value as Lite;
use sea_orm::{DbBackend, Statement, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// A batch handed to the thread.
struct Job {
    subs: Vec<Arc<Prepared>>,
    now: i64,
    reply: oneshot::Sender<Result<Vec<SubmitOutcome>>>,
}

/// What the thread is asked to do.
enum Work {
    Batch(Job),
    /// Empty the write-ahead log of old copies (deleted contacts): answers whether it is empty now, and
    /// when a reader prevents it, keeps trying until it succeeds.
    EmptyLog(oneshot::Sender<bool>),
}

/// The handle of the thread that stores batches on its own SQLite connection.
#[derive(Clone, Debug)]
pub(crate) struct LiteBatches {
    tx: std::sync::mpsc::Sender<Work>,
}

impl LiteBatches {
    /// Opens `path` (WAL, foreign keys, `synchronous=FULL` unless `sync` is false for the power-loss
    /// test) and starts the thread.
    pub(crate) fn open(path: &str, sync: bool) -> Result<LiteBatches> {
        let conn = rusqlite::Connection::open(path).map_err(classify)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(classify)?;
        // A batch's multi-row INSERTs keep statement journals (undo within the transaction, never needed
        // after a crash); past 64 KB SQLite spills them to a temp file, a sixth of a batch's writes.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA synchronous={}; \
             PRAGMA secure_delete=FAST;",
            if sync { "FULL" } else { "OFF" }
        ))
        .map_err(classify)?;
        conn.set_prepared_statement_cache_capacity(64);
        let (tx, rx) = std::sync::mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name("wenji-batches".into())
            .spawn(move || {
                // Owed from the start: a stopped server may have left a deletion's old copies in the log.
                let mut wal = OwedCheckpoint::default();
                wal.owe();
                loop {
                    // Waits for the next batch; while a checkpoint is owed, no longer than its retry.
                    let wait = if wal.since.is_some() { CHECKPOINT_RETRY } else { Duration::MAX };
                    let job = match rx.recv_timeout(wait) {
                        Ok(Work::Batch(job)) => job,
                        Ok(Work::EmptyLog(reply)) => {
                            // A moment's patience first (a tag being saved holds the lock), then retries.
                            wal.owe();
                            wal.try_to_pay(&conn, FIRST_EMPTYING_PATIENCE);
                            let _ = reply.send(wal.since.is_none());
                            continue;
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                            wal.try_to_pay(&conn, Duration::ZERO);
                            continue;
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    let subs: Vec<&Prepared> = job.subs.iter().map(|p| &**p).collect();
                    let (done, spent) = store(&conn, &subs, job.now);
                    let _ = job.reply.send(done);
                    if spent || wal.since.is_some() {
                        wal.try_to_pay(&conn, Duration::ZERO);
                    }
                }
                // Shutting down: a last try, so a reader gone by now does not leave the pair behind.
                wal.try_to_pay(&conn, Duration::ZERO);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the batch thread: {e}")))?;
        Ok(LiteBatches { tx })
    }

    /// Stores one batch in one transaction on the thread; answers once it has committed.
    pub(crate) async fn store(&self, subs: Vec<Arc<Prepared>>, now: i64) -> Result<Vec<SubmitOutcome>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Work::Batch(Job { subs, now, reply }))
            .map_err(|_| StoreError::Unavailable("the batch thread has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Unavailable("the batch thread stopped before answering".into()))?
    }

    /// Empties the write-ahead log (copying it into the database file) unless a reader of an older
    /// snapshot prevents it, and then keeps trying on the thread until it succeeds. True when done now.
    pub(crate) async fn empty_log(&self) -> bool {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Work::EmptyLog(reply)).is_ok() && rx.await.unwrap_or(false)
    }
}

/// BEGIN IMMEDIATE, the batch, COMMIT; ROLLBACK on any failure (unless SQLite already rolled back).
/// Also says whether the commit spent a single-use code (its frames then pair the code with the response).
fn store(conn: &rusqlite::Connection, subs: &[&Prepared], now: i64) -> (Result<Vec<SubmitOutcome>>, bool) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return (Err(classify(e)), false);
    }
    let done = run_now(write_batch(&LiteConn(conn), subs, now))
        .and_then(|o| conn.execute_batch("COMMIT").map_err(classify).map(|()| o));
    if done.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let spent = done.as_ref().is_ok_and(|outcomes| {
        subs.iter()
            .zip(outcomes)
            .any(|(p, o)| p.submission.code_hash.is_some() && matches!(o, SubmitOutcome::Stored(_)))
    });
    (done, spent)
}

/// How often the thread tries again to empty a write-ahead log that a reader kept from being emptied.
const CHECKPOINT_RETRY: Duration = Duration::from_millis(250);
/// How long an asked-for emptying waits for other connections' writes and readers before leaving it to
/// the retries (batches wait meanwhile).
const FIRST_EMPTYING_PATIENCE: Duration = Duration::from_millis(500);
/// After this long still owed, the log says so once (a reader held open: a backup, an export, a shell).
const CHECKPOINT_OWED_WARNING: Duration = Duration::from_secs(60);

/// A write-ahead log that still holds frames that must go, since when: a spent code's commit (its frames
/// show which code row changed in the commit that wrote a response; rows alone keep no such pair), or
/// deleted contacts' old copies. Emptying it needs no reader on an older snapshot, so it is tried again
/// until it succeeds, never waiting on readers.
#[derive(Default)]
struct OwedCheckpoint {
    since: Option<std::time::Instant>,
    warned: bool,
}

impl OwedCheckpoint {
    fn owe(&mut self) {
        self.since.get_or_insert_with(std::time::Instant::now);
    }

    fn try_to_pay(&mut self, conn: &rusqlite::Connection, patience: Duration) {
        let _ = conn.busy_timeout(patience);
        let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
        let _ = conn.busy_timeout(Duration::from_secs(10));
        if busy == Ok(0) {
            *self = OwedCheckpoint::default();
            return;
        }
        let since = *self.since.get_or_insert_with(std::time::Instant::now);
        if !self.warned && since.elapsed() >= CHECKPOINT_OWED_WARNING {
            self.warned = true;
            tracing::warn!(
                "the write-ahead log still holds a spent code's commit or deleted contacts after a minute: a \
                 connection to the database keeps an old read open (a backup, an export or a shell); it is \
                 emptied once that ends"
            );
        }
    }
}

/// Drives `write_batch` to its end here: every call it makes on this connection returns at once, so it
/// never waits (a future that did would be a bug, reported rather than spun on).
fn run_now<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(fut).poll(&mut cx) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => Err(StoreError::Corrupt("a SQLite batch waited on something".into())),
    }
}

/// The thread's connection as a batch sees it.
struct LiteConn<'c>(&'c rusqlite::Connection);

impl BatchDb for LiteConn<'_> {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<()> {
        let mut s = self.0.prepare_cached(&stmt.sql).map_err(classify)?;
        s.execute(rusqlite::params_from_iter(params(stmt.values)?)).map_err(classify)?;
        Ok(())
    }

    async fn rows(&self, stmt: Statement) -> Result<Vec<Row>> {
        let mut s = self.0.prepare_cached(&stmt.sql).map_err(classify)?;
        let width = s.column_count();
        let mut rows = s.query(rusqlite::params_from_iter(params(stmt.values)?)).map_err(classify)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(classify)? {
            out.push(Row::Lite(
                (0..width).map(|i| r.get::<_, Lite>(i)).collect::<rusqlite::Result<_>>().map_err(classify)?,
            ));
        }
        Ok(out)
    }
}

/// The bound values as SQLite values (the batch binds integers, text, booleans and nulls).
fn params(values: Option<sea_orm::Values>) -> Result<Vec<Lite>> {
    let int = |v: Option<i64>| v.map_or(Lite::Null, Lite::Integer);
    values
        .map(|v| v.0)
        .unwrap_or_default()
        .into_iter()
        .map(|v| match v {
            Value::BigInt(n) => Ok(int(n)),
            Value::Int(n) => Ok(int(n.map(i64::from))),
            Value::Bool(b) => Ok(int(b.map(i64::from))),
            Value::String(s) => Ok(s.map_or(Lite::Null, Lite::Text)),
            other => Err(StoreError::Db(sea_orm::DbErr::Custom(format!("a batch bound {other:?}")))),
        })
        .collect()
}

/// SQLite's codes, read as for sqlx's errors: busy, locked, read-only, I/O, full and cannot-open are
/// temporary.
fn classify(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::DatabaseBusy
            | rusqlite::ErrorCode::DatabaseLocked
            | rusqlite::ErrorCode::ReadOnly
            | rusqlite::ErrorCode::SystemIoFailure
            | rusqlite::ErrorCode::DiskFull
            | rusqlite::ErrorCode::CannotOpen,
        ) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Db(sea_orm::DbErr::Custom(format!("SQLite: {e}"))),
    }
}
