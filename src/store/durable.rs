//! Answering submissions only once they are durable (SQLite): the writer commits without syncing and hands
//! each batch's answers here; a thread of its own syncs the WAL, then answers (see `store::direct`).

use super::StoreError;
use super::direct::{SyncError, WalFile};
use super::submissions::Reply;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A WAL flush that takes longer than this is logged as a warning, with how long it took and how many
/// submissions waited for it. Every submission waits for a flush before it is answered, so a disk that
/// stalls shows here first. The load benchmark's p99 target is 50 ms; on the shared machine it runs on, a
/// loop that only writes a file and flushes it (no SQLite, no Wenji) saw single flushes of 150–310 ms, and
/// the server's p99 rose past the target with them. `tests/bench/load.sh` counts these lines for each run.
pub(crate) const SLOW_FLUSH: Duration = Duration::from_millis(50);

/// Answers submissions only once the WAL holding them is on the disk: a thread of its own syncs the WAL
/// for every batch handed to it (one sync for all that wait) while the writer stores the next batch. Each
/// sync covers every commit before it, so a replayed receipt is never answered before its first commit is
/// durable either.
pub(crate) struct Durable {
    tx: std::sync::mpsc::Sender<Vec<Reply>>,
    /// Batches handed over and not answered yet: while any are, a sync is running or about to.
    pending: Arc<AtomicUsize>,
    /// Notified after each sync has answered its batches.
    synced: Arc<tokio::sync::Notify>,
}

impl Durable {
    pub(crate) fn start(wal: WalFile) -> Durable {
        Self::with_sync(move || wal.sync())
    }

    fn with_sync(mut sync: impl FnMut() -> std::result::Result<(), SyncError> + Send + 'static) -> Durable {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<Reply>>();
        let pending = Arc::new(AtomicUsize::new(0));
        let synced = Arc::new(tokio::sync::Notify::new());
        let (answered, notify) = (Arc::clone(&pending), Arc::clone(&synced));
        std::thread::Builder::new()
            .name("wenji-wal-sync".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut waiting = first;
                    let mut batches = 1;
                    for more in rx.try_iter() {
                        waiting.extend(more);
                        batches += 1;
                    }
                    let began = Instant::now();
                    let synced = sync();
                    let took = began.elapsed();
                    if took >= SLOW_FLUSH {
                        tracing::warn!(
                            millis = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                            submissions = waiting.len(),
                            "the disk was slow to flush the WAL; these submissions waited for it"
                        );
                    }
                    if let Err(e) = &synced {
                        tracing::error!(error = %e, "submissions not confirmed: the WAL was not synced");
                    }
                    for (to, r) in waiting {
                        let r = match &synced {
                            Ok(()) => r,
                            // Committed perhaps, durable unknown: a retry under the same key is answered
                            // with the first receipt once it is.
                            Err(e) => Err(StoreError::Unavailable(e.to_string())),
                        };
                        let _ = to.send(r);
                    }
                    answered.fetch_sub(batches, Ordering::AcqRel);
                    notify.notify_one();
                    if let Err(e @ SyncError::Flush(_)) = &synced {
                        // Nothing unconfirmed was acknowledged.
                        flush_failed("the WAL", e);
                    }
                }
            })
            .expect("WAL sync thread");
        Durable { tx, pending, synced }
    }

    /// Whether a sync is running, or batches wait for one.
    pub(crate) fn syncing(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// Completes once a sync has answered its batches: the next one to, or one that did since the last
    /// call (a single waiter, the writer).
    pub(crate) async fn synced(&self) {
        self.synced.notified().await;
    }

    pub(crate) fn answer_after_sync(&self, replies: Vec<Reply>) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if let Err(std::sync::mpsc::SendError(replies)) = self.tx.send(replies) {
            // No sync will run for them: `syncing` must not stay true.
            self.pending.fetch_sub(1, Ordering::AcqRel);
            for (to, _) in replies {
                let _ = to.send(Err(StoreError::Unavailable("the WAL sync thread has stopped".into())));
            }
        }
    }
}

/// The disk failed to flush `what`, and the kernel may have dropped the failed pages, so what SQLite
/// holds in memory can no longer be trusted to match the disk, and a later flush could report success
/// for writes that never reached it. Like PostgreSQL on a failed fsync, stop: the supervisor restarts
/// the service and SQLite recovers from what is on the disk. Used by every thread that flushes: this
/// one (the WAL), the writer's checkpoints and the backfill thread's.
pub(super) fn flush_failed(what: &str, e: &dyn std::fmt::Display) -> ! {
    tracing::error!(error = %e, "the disk failed to flush {what}; stopping");
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::submission::ReceiptCode;
    use crate::store::submissions::SubmitOutcome;
    use std::sync::mpsc;
    use std::time::Duration;
    use tokio::sync::oneshot;

    fn stored() -> crate::store::Result<SubmitOutcome> {
        Ok(SubmitOutcome::Stored(ReceiptCode::from_random([1; 8])))
    }

    #[tokio::test]
    async fn nothing_is_answered_before_the_wal_sync_returns() {
        let (entered, syncing) = mpsc::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let durable = Durable::with_sync(move || {
            entered.send(()).unwrap();
            released.recv().unwrap();
            Ok(())
        });
        let (to, mut answer) = oneshot::channel();
        durable.answer_after_sync(vec![(to, stored())]);
        syncing.recv_timeout(Duration::from_secs(5)).expect("the sync starts");
        std::thread::sleep(Duration::from_millis(50));
        assert!(answer.try_recv().is_err(), "answered while the sync was still running");
        release.send(()).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), answer).await.expect("answered after the sync");
        assert!(matches!(got, Ok(Ok(SubmitOutcome::Stored(_)))));
    }

    #[tokio::test]
    async fn it_says_a_sync_is_running_until_its_batches_are_answered() {
        let (release, released) = mpsc::channel::<()>();
        let durable = Durable::with_sync(move || {
            released.recv().unwrap();
            Ok(())
        });
        assert!(!durable.syncing(), "nothing handed over yet");
        let (to, answer) = oneshot::channel();
        durable.answer_after_sync(vec![(to, stored())]);
        assert!(durable.syncing(), "a batch waits for its sync");
        release.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), durable.synced()).await.expect("told when the sync is over");
        assert!(!durable.syncing(), "its batch was answered");
        assert!(matches!(answer.await, Ok(Ok(SubmitOutcome::Stored(_)))));
    }

    /// Everything logged at WARN or above in this test binary, from any thread.
    fn logged() -> &'static Arc<std::sync::Mutex<Vec<u8>>> {
        static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
            let to = Arc::clone(&logs);
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_max_level(tracing::Level::WARN)
                .with_writer(move || Capture(Arc::clone(&to)))
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other test sets a subscriber");
            logs
        })
    }

    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(b);
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_slow_flush_is_logged_with_how_long_it_took_and_who_waited() {
        let logs = logged();
        let durable = Durable::with_sync(|| {
            std::thread::sleep(SLOW_FLUSH + Duration::from_millis(30));
            Ok(())
        });
        // Three submissions, a count no other test's flush has: the log is the whole binary's.
        let (tx, answers): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel()).unzip();
        durable.answer_after_sync(tx.into_iter().map(|to| (to, stored())).collect());
        for answer in answers {
            let got = tokio::time::timeout(Duration::from_secs(5), answer).await.expect("answered");
            assert!(matches!(got, Ok(Ok(SubmitOutcome::Stored(_)))));
        }
        let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains("slow to flush the WAL") && l.contains("submissions=3"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains("WARN"), "{line}");
        let millis: u64 = line.split("millis=").nth(1).and_then(|m| m.split(' ').next()?.parse().ok()).expect(line);
        assert!(u128::from(millis) >= (SLOW_FLUSH + Duration::from_millis(30)).as_millis(), "{line}");
    }

    #[tokio::test]
    async fn a_wal_that_cannot_be_opened_confirms_nothing() {
        let durable = Durable::with_sync(|| Err(SyncError::Open(std::io::Error::other("too many open files"))));
        let (to, answer) = oneshot::channel();
        durable.answer_after_sync(vec![(to, stored())]);
        let got = tokio::time::timeout(Duration::from_secs(5), answer).await.expect("answered");
        assert!(matches!(got, Ok(Err(StoreError::Unavailable(_)))), "{got:?}");
    }
}
