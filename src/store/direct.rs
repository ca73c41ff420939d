//! The submission writer's own SQLite connection. sqlx runs every SQLite connection on a worker thread of
//! its own and hands each statement over and back; on the one hot path, the single writer's batches, those
//! hand-offs (two thread wake-ups per statement, several statements per batch) cost more than SQLite's
//! work and left the writer waiting for CPU time between statements. This connection runs on the writer's
//! own thread and calls SQLite directly, with cached prepared statements, inside the batch's one
//! transaction (`batch`). A burst's opinions wait in the intake (`intake`). Everything else still goes through sea-orm; the writer turn keeps the two
//! connections from writing at once.
//!
//! Durability is made explicit: the connection commits without syncing, and [`WalFile::sync`] (an
//! `fdatasync` of the WAL, on a thread of its own) must return before any submission of that batch, or of
//! an earlier one, is answered. The writer meanwhile stores the next batch, so the disk's flush overlaps
//! SQLite's work instead of stopping it. Recovery stays SQLite's own: a commit is whole in the WAL or
//! absent, and frames a checkpoint copies are synced first (`synchronous=FULL` on the store's other
//! connections and the backfill thread's, and on this one for its own checkpoints: see
//! [`DirectWriter::checkpoint`]), with the database file synced before the WAL restarts over them.

mod batch;
mod intake;

pub(crate) use intake::{MOVE_BATCH, MOVE_DURING_BURST};

use super::backfill::Backfill;
use super::durable::flush_failed;
use super::stored_keys::StoredKeys;
use super::{Result, StoreError};
use crate::domain::receipt_key::ReceiptKey;
use rusqlite::{Connection, ErrorCode};
use std::path::Path;
use std::time::{Duration, Instant};

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
        // Stand-in for the writer's `synchronous=OFF` switch until the group-commit writer replaces this.
        if crate::config::unsafe_test_no_sync() {
            return Ok(());
        }
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
        intake::register_fingerprint(&conn)?;
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

    /// After a failure the transaction may still be open (a commit refused by a full disk): end it,
    /// whatever state it is in, so the next one can begin.
    fn end_failed<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result
    }
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
