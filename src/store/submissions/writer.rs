//! The single submission writer: requests hand it their submissions through a queue; it commits them in
//! batches (group commit), answers each only once its batch is durable, and between bursts moves the
//! intake and fills the search index. What a batch writes is `super`'s (`Store::store_batch`).

use super::{Prepared, SubmitOutcome};
use crate::domain::submission::Submission;
use crate::store::direct::{DirectWriter, MOVE_BATCH, MOVE_DURING_BURST};
use crate::store::durable::Durable;
use crate::store::{Result, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

struct Job {
    prepared: Arc<Prepared>,
    reply: oneshot::Sender<Result<SubmitOutcome>>,
}

/// An answer the writer has ready, and where it goes.
pub(crate) type Reply = (oneshot::Sender<Result<SubmitOutcome>>, Result<SubmitOutcome>);

/// The handle requests use to hand submissions to the single writer.
#[derive(Clone, Debug)]
pub struct SubmissionWriter {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// The most submissions committed in one transaction.
const MAX_BATCH: usize = 256;
/// While the WAL sync thread is busy, a batch of fewer submissions than this waits for more to arrive or
/// for the sync to end before it is committed (SQLite). Its own sync could not start before then anyway,
/// so waiting costs its submissions only the commit's time (about half a millisecond), and a bigger
/// batch costs the writer less per submission: a commit's fixed part (about 150 µs here) is shared by
/// more, and the pages every commit rewrites are written to the WAL fewer times. Measured here (HTML
/// form, `wrk`, 64 connections, 8 s, alternating runs): batches of 6 on average became 14, and the
/// server answered 9,600-9,900 req/s instead of 8,600-9,000.
const GATHER_WHILE_SYNCING: usize = 16;
/// The most opinions indexed in one transaction: a submission arriving meanwhile waits for at most this.
const INDEX_BATCH: usize = 64;

impl SubmissionWriter {
    /// How long the writer waits without a submission before it fills the search index: long enough that
    /// under a burst it only stores, short enough that the index catches up between bursts.
    pub const INDEX_AFTER_IDLE: std::time::Duration = std::time::Duration::from_millis(5);

    /// Batches of more submissions than this (a burst) leave their opinions in the intake, to be moved
    /// into `opinions` when the writer has a moment (SQLite; see `store::direct`).
    pub const DEFER_OPINIONS_OVER: usize = 8;

    /// After a burst's batch (more submissions than the deferral threshold), the writer starts moving
    /// or indexing only once this long has passed without a submission, not `INDEX_AFTER_IDLE`. Under
    /// a burst every client is waiting for its answer, so the queue empties between two batches for as
    /// long as a round trip takes (the WAL sync, the reply, the next request); where that round trip
    /// outlasted 5 ms, the writer started a move of `MOVE_BATCH` opinions in every gap, the next batch
    /// waited for it, and the longer round trip made the next gap. Measured here (HTML form, `wrk`, 64
    /// connections, 10 s): moves took 78% of the writer's time and the server answered 4,500-4,800
    /// req/s; waiting this long after a burst's batch, 9,600.
    pub const QUIET_AFTER_BURST: std::time::Duration = std::time::Duration::from_millis(50);

    /// Starts the writer task for `store`. After `after_idle` without a submission it moves opinions
    /// waiting in the intake into `opinions`, then indexes opinions for search, in small batches (SQLite);
    /// `None` leaves both to explicit calls. `defer_opinions_over`: see [`Self::DEFER_OPINIONS_OVER`];
    /// `None` stores every opinion at once.
    pub fn start(
        store: Store,
        after_idle: Option<std::time::Duration>,
        defer_opinions_over: Option<usize>,
    ) -> SubmissionWriter {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let sqlite = store.is_sqlite();
        let work = async move {
            let mut direct = match store.direct_writer(defer_opinions_over).await {
                Ok(direct) => direct,
                Err(e) => {
                    // The keys stored by the other process are not all known here: storing could store
                    // a retried submission twice. Refuse every submission, and say why.
                    tracing::error!(error = %e, "submissions are refused");
                    while let Some(job) = rx.recv().await {
                        let _ = job.reply.send(Err(StoreError::Unavailable(e.to_string())));
                    }
                    return;
                }
            };
            let durable = direct.as_ref().map(|d| Durable::start(d.wal()));
            if sqlite && direct.is_none() {
                // The writer's own connection has a backfill thread that checkpoints (see `direct`);
                // without it, checkpoint from here. Ends with the writer.
                let store = store.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
                    loop {
                        tick.tick().await;
                        let _ = store.checkpoint().await;
                    }
                });
            }
            let mut batch = Vec::with_capacity(MAX_BATCH);
            // Opinions may wait in the intake and for the search index (SQLite): move and index them while
            // no one is submitting.
            let indexing = sqlite && after_idle.is_some();
            let mut quiet = Quiet {
                idle: after_idle.unwrap_or_default(),
                burst_over: defer_opinions_over.unwrap_or(Self::DEFER_OPINIONS_OVER),
                burst_at: None,
            };
            let mut backlog = indexing;
            loop {
                let waiting = after_idle.is_some() && direct.as_ref().is_some_and(|d| d.waiting() > 0);
                let received = if backlog || waiting {
                    match tokio::time::timeout(quiet.left(), rx.recv_many(&mut batch, MAX_BATCH)).await {
                        Ok(n) => n,
                        Err(_) => {
                            if quiet.ran_out(durable.as_ref().is_some_and(Durable::syncing), Instant::now()) {
                                backlog = store.idle_work(direct.as_mut().filter(|_| waiting), indexing).await;
                            }
                            continue;
                        }
                    }
                } else {
                    rx.recv_many(&mut batch, MAX_BATCH).await
                };
                if received == 0 {
                    break;
                }
                if let Some(durable) = &durable {
                    gather_while_syncing(&mut rx, &mut batch, durable).await;
                }
                if let Some(d) = direct.as_mut().filter(|d| waiting && d.move_due()) {
                    let _ = store.move_intake(d, MOVE_DURING_BURST).await;
                }
                let jobs = std::mem::take(&mut batch);
                let (size, started) = (jobs.len(), Instant::now());
                quiet.batch_began(size, started);
                let replies = store.commit_batch(direct.as_mut(), jobs).await;
                match &durable {
                    Some(durable) => durable.answer_after_sync(replies),
                    None => replies.into_iter().for_each(|(to, r)| drop(to.send(r))),
                }
                if let Some(d) = direct.as_mut() {
                    d.after_batch();
                }
                tracing::debug!(size, micros = started.elapsed().as_micros(), "submission batch committed");
                backlog = indexing;
            }
        };
        if sqlite {
            // Its own thread, so the single writer never waits behind request handlers for a turn on the
            // runtime's workers: every pause here delays every submission in the batch.
            std::thread::Builder::new()
                .name("wenji-writer".into())
                .spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .build()
                        .expect("writer runtime")
                        .block_on(work)
                })
                .expect("writer thread");
        } else {
            tokio::spawn(work);
        }
        SubmissionWriter { tx }
    }

    /// Stores one submission and answers only after it is durable.
    ///
    /// # Errors
    /// `Unavailable` when the writer has stopped or the disk refuses; other store errors as they come.
    pub async fn submit(&self, submission: Submission, version_id: i64) -> Result<SubmitOutcome> {
        let prepared = Arc::new(Prepared::new(submission, version_id));
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { prepared: Arc::clone(&prepared), reply })
            .await
            .map_err(|_| StoreError::Unavailable("the submission writer has stopped".into()))?;
        let outcome =
            rx.await.map_err(|_| StoreError::Unavailable("the submission writer stopped before answering".into()))?;
        // Freed here, by the request's thread, which allocated it, once the writer is done with it: the
        // allocator frees memory of another thread's far more slowly (about 3% of the server's CPU).
        drop(prepared);
        outcome
    }
}

/// When the writer may turn from storing to its own work (moving the intake, filling the search index):
/// after `idle` without a submission, after a burst's batch not before
/// [`SubmissionWriter::QUIET_AFTER_BURST`], and never while submissions wait for the WAL to be flushed.
struct Quiet {
    idle: Duration,
    /// A batch of more submissions than this is a burst's.
    burst_over: usize,
    /// When the writer began committing the last batch of a burst.
    burst_at: Option<Instant>,
}

impl Quiet {
    /// How long to wait without a submission before turning to other work.
    fn left(&self) -> Duration {
        self.burst_at
            .map_or(self.idle, |at| self.idle.max(SubmissionWriter::QUIET_AFTER_BURST.saturating_sub(at.elapsed())))
    }

    fn batch_began(&mut self, size: usize, at: Instant) {
        if size > self.burst_over {
            self.burst_at = Some(at);
        }
    }

    /// The writer waited [`Quiet::left`] without a submission; `flushing`: submissions it stored wait for
    /// their WAL flush. Whether it may turn to its own work now.
    ///
    /// Not while they wait: no new submission comes from clients waiting for their answers, so a disk that
    /// stalls a flush looks like a pause. The writer then moved the intake, 512 opinions about every 17 ms
    /// (about 50 times in one 900 ms stall, with debug logging here), and the flush that followed had all
    /// of those moves to write too. A burst's quiet time starts over for as long as the flush lasts.
    fn ran_out(&mut self, flushing: bool, now: Instant) -> bool {
        if flushing && self.burst_at.is_some() {
            self.burst_at = Some(now);
        }
        !flushing
    }
}

/// Adds to `batch` until it holds `GATHER_WHILE_SYNCING` submissions, or no sync is running or waiting,
/// or the running one ends, or the queue closes.
async fn gather_while_syncing(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>, durable: &Durable) {
    while batch.len() < GATHER_WHILE_SYNCING && durable.syncing() {
        let room = MAX_BATCH - batch.len();
        tokio::select! {
            n = rx.recv_many(batch, room) => if n == 0 { return },
            () = durable.synced() => return,
        }
    }
}

impl Store {
    /// The writer's own work while no one submits, one chunk at a time: moving opinions out of the intake
    /// when `direct` is given (they wait there), otherwise filling the search index. Returns whether work
    /// is left for the next pause (`indexing`, after a move: the index has caught up with nothing yet).
    async fn idle_work(&self, direct: Option<&mut DirectWriter>, indexing: bool) -> bool {
        match direct {
            Some(d) => {
                let _ = self.move_intake(d, MOVE_BATCH).await;
                // Moves follow one another with hardly a pause, so the backfill thread's checkpoints
                // never reach the end of the WAL either.
                d.after_batch();
                indexing
            }
            None => matches!(self.index_search_backlog(INDEX_BATCH).await, Ok(n) if n == INDEX_BATCH),
        }
    }

    /// Stores a batch and returns each submission's answer, in order.
    async fn commit_batch(&self, mut direct: Option<&mut DirectWriter>, jobs: Vec<Job>) -> Vec<Reply> {
        let subs: Vec<&Prepared> = jobs.iter().map(|j| &*j.prepared).collect();
        match self.store_batch(direct.as_deref_mut(), &subs).await {
            Ok(outcomes) => jobs.into_iter().zip(outcomes).map(|(job, outcome)| (job.reply, Ok(outcome))).collect(),
            Err(_) if jobs.len() > 1 => {
                // One bad submission must not fail the others: retry each on its own.
                let mut replies = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let r = self.store_batch(direct.as_deref_mut(), &[&*job.prepared]).await.map(|mut o| o.remove(0));
                    replies.push((job.reply, r));
                }
                replies
            }
            Err(e) => jobs.into_iter().next().map(|job| (job.reply, Err(e))).into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> Quiet {
        Quiet {
            idle: SubmissionWriter::INDEX_AFTER_IDLE,
            burst_over: SubmissionWriter::DEFER_OPINIONS_OVER,
            burst_at: None,
        }
    }

    #[test]
    fn the_writer_turns_to_its_own_work_after_a_pause_but_not_while_a_flush_is_awaited() {
        let mut q = quiet();
        assert_eq!(q.left(), SubmissionWriter::INDEX_AFTER_IDLE);
        assert!(!q.ran_out(true, Instant::now()), "submissions wait for their flush");
        assert!(q.ran_out(false, Instant::now()), "nothing waits: a pause");
    }

    #[test]
    fn a_bursts_quiet_time_starts_over_while_its_flush_lasts() {
        let mut q = quiet();
        let began = Instant::now();
        q.batch_began(SubmissionWriter::DEFER_OPINIONS_OVER + 1, began);
        assert!(q.left() > SubmissionWriter::QUIET_AFTER_BURST / 2, "a burst's batch: the long wait");
        // The flush stalls; long after the batch, the writer is still not to start its own work.
        let later = began + SubmissionWriter::QUIET_AFTER_BURST * 4;
        assert!(!q.ran_out(true, later));
        assert_eq!(q.burst_at, Some(later), "the quiet time counts from the stall, not from the batch");
        assert!(q.ran_out(false, later + SubmissionWriter::QUIET_AFTER_BURST));
    }

    #[test]
    fn a_small_batch_leaves_the_short_wait() {
        let mut q = quiet();
        q.batch_began(SubmissionWriter::DEFER_OPINIONS_OVER, Instant::now());
        assert_eq!(q.left(), SubmissionWriter::INDEX_AFTER_IDLE);
        assert!(!q.ran_out(true, Instant::now()));
        assert_eq!(q.burst_at, None);
    }
}
