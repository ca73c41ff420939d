//! The backfill thread: a second SQLite connection that copies the WAL into the database file while the
//! submission writer goes on appending, and flushes what it copied, so that the writer's own checkpoint
//! (see `direct`) is left with only the last few milliseconds of frames and a small flush.

use super::direct::{checkpoint_failed, classify};
use super::durable::flush_failed;
use super::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

/// A second connection, on a thread of its own, copies the WAL into the database file this often, then
/// flushes what it copied to the disk (see [`Backfill`]). During a burst the writer still has to
/// checkpoint itself now and then, since only a checkpoint that reaches the end of the WAL lets it start
/// over, and no other connection's can while the writer appends: see `direct::CHECKPOINT_EVERY`.
const BACKFILL_EVERY: Duration = Duration::from_millis(40);

/// What the writer and the backfill thread share. The thread copies the WAL into the database file
/// (a PASSIVE checkpoint on its own connection, syncing the WAL first as `synchronous=FULL` does) every
/// `BACKFILL_EVERY`, whoever wrote it (the submission writer, or the store's connection for tags and the like), and
/// flushes the database file after each pass that copied something (SQLite flushes it only when a
/// checkpoint reaches the end of the WAL). A pass with nothing to copy costs next to nothing. It stops
/// when the writer is gone.
#[derive(Debug)]
pub(super) struct Backfill {
    started: Instant,
    /// When the last pass that copied everything it could ended, in microseconds since `started`.
    last_pass: std::sync::atomic::AtomicU64,
}

impl Backfill {
    pub(super) fn start(path: &Path) -> Result<std::sync::Arc<Backfill>> {
        let conn = Connection::open(path).map_err(classify)?;
        conn.busy_timeout(Duration::from_secs(1)).map_err(classify)?;
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;").map_err(classify)?;
        // Only for flushing. Never closed: closing any descriptor of the database file would drop the
        // POSIX locks SQLite's connections in this process hold on it (see `DirectWriter::checkpoint`).
        let database = std::fs::File::open(path)
            .inspect_err(|e| tracing::warn!(error = %e, "the backfill thread leaves flushing the database to SQLite"))
            .ok();
        let shared = std::sync::Arc::new(Backfill { started: Instant::now(), last_pass: Default::default() });
        let weak = std::sync::Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("wenji-backfill".into())
            .spawn(move || {
                // The frames already copied and flushed, as the last pass counted them.
                let mut flushed = 0;
                loop {
                    std::thread::sleep(BACKFILL_EVERY);
                    let Some(shared) = weak.upgrade() else { break };
                    // Busy (1) when another checkpoint was running and nothing was copied; then the
                    // number of frames in the WAL and of those copied so far (-1 when nothing ran).
                    let pass = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(2)?))
                    });
                    match pass {
                        Ok((0, copied)) => {
                            if copied > 0
                                && copied != flushed
                                && let Some(file) = &database
                                && let Err(e) = file.sync_data()
                            {
                                flush_failed("the database file after a backfill pass", &e);
                            }
                            flushed = copied;
                            shared.pass_ended();
                        }
                        Ok(_) => {}
                        Err(e) => checkpoint_failed(&e, "copying the WAL into the database failed; trying again later"),
                    }
                }
                std::mem::forget(database);
            })
            .map_err(|e| StoreError::Unavailable(format!("starting the backfill thread: {e}")))?;
        Ok(shared)
    }

    fn pass_ended(&self) {
        let now = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last_pass.store(now, std::sync::atomic::Ordering::Release);
    }

    /// Whether a pass ended within `within`.
    pub(super) fn passed_within(&self, within: Duration) -> bool {
        let now = self.started.elapsed().as_micros();
        let ended = u128::from(self.last_pass.load(std::sync::atomic::Ordering::Acquire));
        ended > 0 && now.saturating_sub(ended) < within.as_micros()
    }
}
