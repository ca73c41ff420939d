//! The submission writer's own SQLite connection. sqlx runs every SQLite connection on a worker thread of
//! its own and hands each statement over and back; on the one hot path, the single writer's batches, those
//! hand-offs (two thread wake-ups per statement, several statements per batch) cost more than SQLite's
//! work and left the writer waiting for CPU time between statements. This connection runs on the writer's
//! own thread and calls SQLite directly, with cached prepared statements, one row at a time inside the
//! batch's one transaction. Everything else still goes through sea-orm; the writer turn keeps the two
//! connections from writing at once.
//!
//! Durability is made explicit: the connection commits without syncing, and [`WalFile::sync`] (an
//! `fdatasync` of the WAL, on a thread of its own) must return before any submission of that batch, or of
//! an earlier one, is answered. The writer meanwhile stores the next batch, so the disk's flush overlaps
//! SQLite's work instead of stopping it. Recovery stays SQLite's own: a commit is whole in the WAL or
//! absent, and frames a checkpoint copies are synced first (`synchronous=FULL` on the store's other
//! connections and the backfill thread's, and on this one for its own checkpoints: see
//! [`DirectWriter::checkpoint`]), with the database file synced before the WAL restarts over them.

use super::backfill::Backfill;
use super::durable::flush_failed;
use super::stored_keys::StoredKeys;
use super::submissions::{Prepared, SubmitOutcome};
use super::{Result, StoreError};
use crate::domain::receipt_key::ReceiptKey;
use crate::domain::submission::ReceiptCode;
use crate::domain::tagging::OpinionState;
use crate::domain::text::fingerprint;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, ErrorCode, ToSql, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The most waiting opinions moved from the intake into `opinions` in one transaction while the writer
/// is idle.
pub(crate) const MOVE_BATCH: usize = 512;

/// The fingerprint an opinion waits in the intake with: none yet. Moving it computes it from its text
/// (`wenji_fingerprint`, the writer connection's SQL function for `domain::text::fingerprint`), so a
/// burst's requests do not: it was about 4% of the server's CPU under load. Opinions that waited with a
/// fingerprint (stored before this) keep it.
const FINGERPRINT_LATER: &str = "";
/// Under a burst the writer is never idle; it still moves this many waiting opinions every
/// `MOVE_AT_LEAST_EVERY`, so the analysts see the burst arrive, if slowly (640 a second); the rest is
/// moved at full speed once the burst is over. The citizens come first: submissions that arrive during a
/// move wait for it. Measured here (the HTML then the JSON load on one server, 10 s each): 512 every
/// 200 ms gave 7.0k and 7.5k req/s with the JSON run's p99 at 54–58 ms; no moves at all, 8.1k and 8.5k
/// with 30 and 47 ms.
pub(crate) const MOVE_DURING_BURST: usize = 128;
const MOVE_AT_LEAST_EVERY: Duration = Duration::from_millis(200);
/// During a burst the writer checkpoints this often, right after a pass of the backfill thread: only the
/// frames written since that pass began are left for it to copy, and the pass has flushed the rest of
/// the database file, so the flush that ends the writer's checkpoint is short too.
///
/// Measured here (the HTML then the JSON load on one server, 10 s each, three runs): SQLite flushes the
/// database file only at the end of a checkpoint that reaches the end of the WAL, which under a burst was
/// always the writer's. With passes every 200 ms and the writer following each, its checkpoints took
/// 33 ms at the median and 72 ms at worst, mostly flushing what the passes had copied, while every
/// submission waited: p99 42–46 ms (HTML) and 67–72 ms (JSON). With the passes flushing their own copies
/// and the writer following one a second: p99 13–20 and 16–35 ms with passes every 20 ms (about 10%
/// fewer requests a second: a page changed many times is copied many times), 13–20 and 31–39 ms every
/// 60 ms (as many requests as before). In `tests/bench/load.sh` at 40 ms: p99 18 and 24 ms. The WAL
/// grows to a few hundred MB between two restarts.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How recently a backfill pass must have ended for the writer's checkpoint to follow it.
const RIGHT_AFTER_A_PASS: Duration = Duration::from_millis(3);
/// The writer checkpoints at least this often during a burst, whatever the backfill thread does (its
/// passes may be slow, it may have failed to open, or the disk may refuse it).
const CHECKPOINT_AT_LEAST_EVERY: Duration = Duration::from_secs(2);
/// Without the backfill thread the writer copies everything itself, this often during a burst.
const CHECKPOINT_ALONE_EVERY: Duration = Duration::from_millis(50);
/// A burst: at least this many batches since the writer's last checkpoint.
const CHECKPOINT_AFTER_BATCHES: usize = 16;

/// A SQLite connection used only by the submission writer, on its thread.
pub(crate) struct DirectWriter {
    conn: Connection,
    wal: WalFile,
    /// Batches of more than this many submissions leave their opinions in `opinion_intake` (see
    /// [`DirectWriter::move_intake`]); `None` stores them into `opinions` at once, always.
    defer_over: Option<usize>,
    /// Opinions waiting in `opinion_intake`. While any wait, new ones queue behind them, so opinion ids
    /// keep the order of arrival.
    waiting: u64,
    moved_at: Instant,
    checkpointed_at: Instant,
    batches_since_checkpoint: usize,
    /// The backfill thread's state, `None` when its connection did not open.
    backfill: Option<std::sync::Arc<Backfill>>,
    /// Every stored submission key: see [`StoredKeys`].
    keys: StoredKeys,
    receipts: ReceiptKey,
    /// Held while the writer lives: see [`DirectWriter::open`].
    _lock: std::fs::File,
}

/// The WAL file of the writer's database, synced before submissions are answered.
#[derive(Debug, Clone)]
pub(crate) struct WalFile(std::path::PathBuf);

impl WalFile {
    /// Flushes everything written to the WAL so far to the disk (`fdatasync`). The file is opened anew
    /// each time, so a WAL that SQLite has replaced is never mistaken for the one in use. Opening and
    /// closing it is safe because SQLite keeps its WAL locks in the `-shm` file, never on the WAL itself.
    /// The database file is different: see [`DirectWriter::checkpoint`].
    ///
    /// # Errors
    /// [`SyncError::Open`] when the file could not be opened (nothing is known about the disk: the commits
    /// stay unconfirmed until a later sync), [`SyncError::Flush`] when the disk failed to flush.
    pub(crate) fn sync(&self) -> Result<(), SyncError> {
        let file = std::fs::OpenOptions::new().write(true).open(&self.0).map_err(SyncError::Open)?;
        file.sync_data().map_err(SyncError::Flush)
    }
}

/// Why a WAL sync did not confirm durability.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error("opening the WAL to sync it: {0}")]
    Open(std::io::Error),
    #[error("flushing the WAL to the disk: {0}")]
    Flush(std::io::Error),
}

impl std::fmt::Debug for DirectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectWriter")
    }
}

impl DirectWriter {
    /// Opens `path` in WAL mode. Its commits do not sync (`synchronous=OFF`): see the module's note on
    /// durability. It never checkpoints on commit, like the store's writer connection (see
    /// `Store::connect`).
    ///
    /// It takes a lock (`flock` on `<database>-writer.lock`) that another process's writer would hold:
    /// the stored keys it keeps in memory are all the keys only if no one else stores submissions.
    ///
    /// # Errors
    /// `Conflict` when another process holds the lock; otherwise when the file cannot be opened.
    pub(crate) fn open(path: &Path, defer_over: Option<usize>, receipts: ReceiptKey) -> Result<DirectWriter> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push("-writer.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", Path::new(&lock_path).display())))?;
        if let Err(e) = lock.try_lock() {
            return Err(StoreError::Conflict(format!(
                "another process stores submissions into this database ({} is locked: {e}); \
                 a SQLite database is served by one process",
                Path::new(&lock_path).display()
            )));
        }
        let conn = Connection::open(path).map_err(classify)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(classify)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON; \
             PRAGMA wal_autocheckpoint=0; PRAGMA temp_store=MEMORY;",
        )
        .map_err(classify)?;
        conn.set_prepared_statement_cache_capacity(32);
        // For moving opinions out of the intake: see `FINGERPRINT_LATER`.
        conn.create_scalar_function(
            "wenji_fingerprint",
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| Ok(fingerprint(ctx.get_raw(0).as_str()?)),
        )
        .map_err(classify)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let waiting: i64 = conn.query_row("SELECT COUNT(*) FROM opinion_intake", [], |r| r.get(0)).map_err(classify)?;
        let keys = StoredKeys::load(&conn)?;
        let backfill = Backfill::start(path)
            .inspect_err(|e| tracing::warn!(error = %e, "no backfill thread: the writer copies the whole WAL itself"))
            .ok();
        Ok(DirectWriter {
            conn,
            wal: WalFile(wal.into()),
            defer_over,
            waiting: waiting.unsigned_abs(),
            moved_at: Instant::now(),
            checkpointed_at: Instant::now(),
            batches_since_checkpoint: 0,
            backfill,
            keys,
            receipts,
            _lock: lock,
        })
    }

    /// Called after each batch of submissions, and after each move of waiting opinions while no one
    /// submits: during a burst, or while a burst's opinions are moved, checkpoints right after a pass of
    /// the backfill thread once `CHECKPOINT_EVERY` has passed, and in any case every
    /// `CHECKPOINT_AT_LEAST_EVERY`. (Left to the backfill thread alone, the WAL grew to 4.2 GB while
    /// 550,000 opinions were moved after the load bench's two runs.)
    pub(crate) fn after_batch(&mut self) {
        self.batches_since_checkpoint += 1;
        if self.batches_since_checkpoint < CHECKPOINT_AFTER_BATCHES {
            return;
        }
        let since = self.checkpointed_at.elapsed();
        let due = match &self.backfill {
            Some(b) => {
                (since >= CHECKPOINT_EVERY && b.passed_within(RIGHT_AFTER_A_PASS)) || since >= CHECKPOINT_AT_LEAST_EVERY
            }
            None => since >= CHECKPOINT_ALONE_EVERY,
        };
        if !due {
            return;
        }
        self.batches_since_checkpoint = 0;
        let _ = self.checkpoint();
        self.checkpointed_at = Instant::now();
    }

    /// Whether the writer, busy with a burst, should move a chunk of waiting opinions now anyway.
    pub(crate) fn move_due(&self) -> bool {
        self.waiting > 0 && self.moved_at.elapsed() >= MOVE_AT_LEAST_EVERY
    }

    /// Copies the WAL into the database file (PASSIVE: it never waits for readers or writers), so that
    /// the next batch can start the WAL over. Under a long burst no other connection's checkpoint (the
    /// backfill thread's) catches up with a writer that appends all the time,
    /// and the WAL only starts over once a checkpoint has copied all of it: until then it grows without
    /// end, every page lookup walks a longer WAL index, and every append lands on a new, zeroed page of
    /// the file. For the checkpoint only, the connection syncs as `synchronous=FULL` does: SQLite syncs
    /// the WAL before copying any of it (so the database file never holds a page newer than what the WAL
    /// can replay) and the database file before the WAL is reused. SQLite does that on its own file
    /// handles; opening and closing another handle on the database file here would drop the process's
    /// POSIX locks on it, and other processes could then take the database for unused. (The backfill
    /// thread's connection is SQLite's own too: SQLite keeps one set of locks per file for all the
    /// connections of a process, and closing one defers closing its file while others hold locks.)
    ///
    /// # Errors
    /// When the disk refuses; the WAL then simply keeps growing until the next try. A failed flush stops
    /// the process instead (see `checkpoint_failed`).
    fn checkpoint(&mut self) -> Result<()> {
        self.conn.execute_batch("PRAGMA synchronous=FULL").map_err(classify)?;
        let done = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = &done {
            checkpoint_failed(e, "the writer's checkpoint failed; trying again later");
        }
        self.conn.execute_batch("PRAGMA synchronous=OFF").map_err(classify)?;
        done.map(|_| ()).map_err(classify)
    }

    /// The WAL to sync before answering (see the module's note on durability).
    pub(crate) fn wal(&self) -> WalFile {
        self.wal.clone()
    }

    /// Stores a batch in one IMMEDIATE transaction, answering each submission in order: a key seen before
    /// (stored earlier or earlier in this batch) replays its receipt or is a conflict. A batch of more than
    /// `defer_over` submissions, or any batch while opinions wait, puts its opinions in the intake.
    ///
    /// # Errors
    /// Classified database errors (a full disk is `Unavailable`); nothing of the batch is stored then.
    pub(crate) fn store_batch(&mut self, subs: &[&Prepared], now: i64) -> Result<Vec<SubmitOutcome>> {
        let defer = self.waiting > 0 || self.defer_over.is_some_and(|n| subs.len() > n);
        let result = self.try_store_batch(subs, now, defer);
        if let Ok((_, deferred)) = &result {
            self.waiting += deferred;
        }
        self.end_failed(result).map(|(outcomes, _)| outcomes)
    }

    /// Opinions waiting in `opinion_intake`.
    pub(crate) fn waiting(&self) -> u64 {
        self.waiting
    }

    /// Moves up to `limit` of the oldest waiting opinions into `opinions`, in one transaction, and
    /// returns how many it moved. Each becomes exactly what storing it at once would have made: state
    /// pending, the response's form, unit, category and (minute) time, and the text of its answer (the
    /// intake keeps no copy of it).
    ///
    /// # Errors
    /// Classified database errors; nothing moves then.
    pub(crate) fn move_intake(&mut self, limit: usize) -> Result<u64> {
        let result = self.try_move_intake(limit);
        self.moved_at = Instant::now();
        if let Ok(moved) = &result {
            self.waiting = self.waiting.saturating_sub(*moved);
        }
        self.end_failed(result)
    }

    fn try_move_intake(&mut self, limit: usize) -> Result<u64> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let upto: Option<i64> = tx
            .query_row(
                "SELECT MAX(id) FROM (SELECT id FROM opinion_intake ORDER BY id LIMIT ?1)",
                [i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .map_err(classify)?;
        let Some(upto) = upto else {
            return Ok(0);
        };
        let inserted = tx
            .execute(
                "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
             fingerprint, state, representative, submitted_at, updated_at) \
             SELECT i.response_id, r.form_slug, i.question_id, r.unit_code, r.category_code, \
             json_extract(a.value, '$.value'), \
             COALESCE(NULLIF(i.fingerprint, ''), wenji_fingerprint(json_extract(a.value, '$.value'))), \
             ?2, 0, r.submitted_at, r.submitted_at \
             FROM opinion_intake i JOIN responses r ON r.id = i.response_id \
             JOIN answers a ON a.response_id = i.response_id AND a.question_id = i.question_id \
             WHERE i.id <= ?1 ORDER BY i.id",
                params![upto, OpinionState::Pending.as_str()],
            )
            .map_err(classify)?;
        let moved = tx.execute("DELETE FROM opinion_intake WHERE id <= ?1", [upto]).map_err(classify)?;
        if inserted != moved {
            // An opinion whose answer could not be found would vanish: keep them all waiting instead.
            return Err(StoreError::Corrupt(format!("{moved} waiting opinions but {inserted} answers found for them")));
        }
        tx.commit().map_err(classify)?;
        Ok(moved as u64)
    }

    /// After a failure the transaction may still be open (a commit refused by a full disk): end it,
    /// whatever state it is in, so the next one can begin.
    fn end_failed<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result
    }

    /// Returns the outcomes and how many opinions went to the intake.
    fn try_store_batch(&mut self, subs: &[&Prepared], now: i64, defer: bool) -> Result<(Vec<SubmitOutcome>, u64)> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let mut outcomes = Vec::with_capacity(subs.len());
        // (response id, submission, receipt) of each submission this batch stores.
        let mut stored: Vec<(i64, &Prepared, String)> = Vec::with_capacity(subs.len());
        {
            let mut by_id = tx
                .prepare_cached("SELECT key_hash, receipt, body_hash FROM responses WHERE id = ?1")
                .map_err(classify)?;
            // The id the next response gets, as AUTOINCREMENT would give it (never one used before, even
            // by a deleted response), chosen here so that its receipt is stored with it.
            let mut next_id: i64 = tx
                .prepare_cached(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'responses'), 0), \
                     COALESCE((SELECT MAX(id) FROM responses), 0)) + 1",
                )
                .and_then(|mut next| next.query_row([], |r| r.get(0)))
                .map_err(classify)?;
            // Keys stored earlier in this batch: (receipt, body hash).
            let mut fresh: HashMap<&str, (String, &str)> = HashMap::with_capacity(subs.len());
            for p in subs {
                let s = &p.submission;
                let seen = match fresh.get(s.key_hash.as_str()) {
                    Some((receipt, body)) => Some((receipt.clone(), (*body).to_owned())),
                    None => self.keys.find(&tx, &mut by_id, &s.key_hash)?,
                };
                if let Some((receipt, body)) = seen {
                    outcomes.push(if body == s.body_hash {
                        SubmitOutcome::Replayed(ReceiptCode::from_stored(receipt))
                    } else {
                        SubmitOutcome::KeyConflict
                    });
                    continue;
                }
                let id = next_id;
                next_id += 1;
                let receipt = self
                    .receipts
                    .receipt(id)
                    .ok_or_else(|| StoreError::Corrupt(format!("response id {id} is past the last receipt")))?;
                let code = receipt.to_string();
                fresh.insert(&s.key_hash, (code.clone(), &s.body_hash));
                stored.push((id, p, code));
                outcomes.push(SubmitOutcome::Stored(receipt));
            }
        }
        let responses: Vec<[&dyn ToSql; 10]> = stored
            .iter()
            .map(|(id, p, code)| {
                let s = &p.submission;
                [
                    id,
                    &p.version_id,
                    &s.form_slug,
                    &s.link_id,
                    &s.unit_code,
                    &s.category_code,
                    code,
                    &s.key_hash,
                    &s.body_hash,
                    &now,
                ] as [&dyn ToSql; 10]
            })
            .collect();
        insert_rows(
            &tx,
            "responses (id, form_version_id, form_slug, link_id, unit_code, category_code, receipt, key_hash, \
             body_hash, submitted_at)",
            &responses,
        )?;
        let answers: Vec<[&dyn ToSql; 3]> =
            stored.iter().flat_map(|(id, p, _)| p.answers.iter().map(move |(q, v)| [id as &dyn ToSql, q, v])).collect();
        insert_rows(&tx, "answers (response_id, question_id, value)", &answers)?;
        let contacts: Vec<[&dyn ToSql; 3]> = stored
            .iter()
            .flat_map(|(id, p, _)| p.submission.contacts.iter().map(move |(q, v)| [id as &dyn ToSql, q, v]))
            .collect();
        insert_rows(&tx, "contacts (response_id, question_id, value)", &contacts)?;
        let opinions = stored.iter().flat_map(|(id, p, _)| p.submission.opinions.iter().map(move |o| (id, p, o)));
        let mut deferred = 0;
        if defer {
            // The fingerprint is left to the move (`FINGERPRINT_LATER`): it is made from the whole text.
            let intake: Vec<[&dyn ToSql; 3]> =
                opinions.map(|(id, _, (q, _))| [id as &dyn ToSql, q, &FINGERPRINT_LATER]).collect();
            insert_rows(&tx, "opinion_intake (response_id, question_id, fingerprint)", &intake)?;
            deferred = intake.len() as u64;
        } else {
            let mut opinion = tx
                .prepare_cached(
                    "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
                     fingerprint, state, representative, submitted_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?9)",
                )
                .map_err(classify)?;
            for (id, p, (q, text)) in opinions {
                let s = &p.submission;
                opinion
                    .execute(params![
                        id,
                        s.form_slug,
                        q,
                        s.unit_code,
                        s.category_code,
                        text,
                        fingerprint(text),
                        OpinionState::Pending.as_str(),
                        now
                    ])
                    .map_err(classify)?;
            }
        }
        // (key slot, response id) of the keys this batch stores.
        let added: Vec<(u64, i64)> =
            stored.iter().map(|(id, p, _)| (StoredKeys::slot(&p.submission.key_hash), *id)).collect();
        drop((responses, answers, contacts));
        tx.commit().map_err(classify)?;
        // Only once committed: a batch that failed stored none of its keys.
        self.keys.add(added);
        Ok((outcomes, deferred))
    }
}

/// Rows go in this many to an `INSERT` (the rest one by one): SQLite's work for each statement (opening
/// the table's and its indexes' cursors, and for an AUTOINCREMENT table reading and writing its row of
/// `sqlite_sequence`) is then shared by the rows. Storing a batch went from about 134,000 to 116,000
/// instructions per submission (callgrind, JSON submissions at 16 connections).
const ROWS_PER_INSERT: usize = 16;

/// Inserts `rows` into `table (columns)`, in order.
fn insert_rows<const N: usize>(tx: &rusqlite::Transaction<'_>, table: &str, rows: &[[&dyn ToSql; N]]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let row = format!("({})", ["?"; N].join(", "));
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    if chunks.len() > 0 {
        let mut many = tx
            .prepare_cached(&format!("INSERT INTO {table} VALUES {}", vec![row.as_str(); ROWS_PER_INSERT].join(", ")))
            .map_err(classify)?;
        for chunk in chunks.by_ref() {
            many.execute(rusqlite::params_from_iter(chunk.iter().flatten())).map_err(classify)?;
        }
    }
    let mut one = tx.prepare_cached(&format!("INSERT INTO {table} VALUES {row}")).map_err(classify)?;
    for r in chunks.remainder() {
        one.execute(rusqlite::params_from_iter(r.iter())).map_err(classify)?;
    }
    Ok(())
}

/// Logs a failed checkpoint, which is retried later, unless the disk failed to flush (the WAL before
/// copying it, or the database file after): the kernel may then have dropped the failed pages, and a
/// later sync of the WAL could report success for commits that never reached the disk. As the WAL sync
/// thread does (`store::durable`), stop the process then: SQLite recovers from what is on the disk.
pub(super) fn checkpoint_failed(e: &rusqlite::Error, message: &str) {
    let fsync = e.sqlite_error().is_some_and(|e| {
        [rusqlite::ffi::SQLITE_IOERR_FSYNC, rusqlite::ffi::SQLITE_IOERR_DIR_FSYNC].contains(&e.extended_code)
    });
    if fsync {
        flush_failed("during a checkpoint", e);
    }
    tracing::warn!(error = %e, "{message}");
}

/// A full disk, an I/O failure or a lock that outlasted the busy timeout is temporary (`Unavailable`: a
/// 503 and a retry); anything else is a database failure.
pub(super) fn classify(e: rusqlite::Error) -> StoreError {
    let temporary = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure | ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    if temporary {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Db(sea_orm::DbErr::Custom(e.to_string()))
    }
}
