//! The single submission writer: group commit. Requests put their submission on a queue; the writer
//! takes whatever has arrived (up to `MAX_BATCH`), stores it in one write transaction, commits under the
//! database's own durability (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`), and only
//! then answers each request. Between bursts it fills SQLite's search index.

use super::{LiteBatches, Prepared, SubmitOutcome};
use crate::domain::submission::Submission;
use crate::store::{Result, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

struct Job {
    prepared: Arc<Prepared>,
    reply: oneshot::Sender<Result<SubmitOutcome>>,
}

/// The handle requests use to hand submissions to the single writer.
#[derive(Clone, Debug)]
pub struct SubmissionWriter {
    tx: mpsc::Sender<Job>,
    activity: Arc<Activity>,
    lite: Option<LiteBatches>,
}

/// Batches in flight and when the last one finished: background work waits for a pause in submissions.
#[derive(Debug)]
struct Activity {
    since: Instant,
    in_flight: AtomicUsize,
    last_done_micros: AtomicU64,
}

impl Activity {
    fn micros(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// A batch being stored: in flight until dropped, also when its task panics.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last_done_micros.store(self.0.micros(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// The most submissions committed in one transaction.
const MAX_BATCH: usize = 256;
/// The fewest submissions a batch takes while another is still committing (PostgreSQL only).
const SHARED_BATCH_MIN: usize = 8;
/// The most opinions indexed in one transaction: a submission arriving meanwhile waits for at most this.
const INDEX_BATCH: usize = 64;

/// A batch's turn: given back when the batch is done (or its task panicked), waking a batch that waits.
struct Turn {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    finished: Arc<tokio::sync::Notify>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.permit.take());
        self.finished.notify_one();
    }
}

impl SubmissionWriter {
    /// How long the writer waits without a submission before it fills the search index: long enough that
    /// under a burst it only stores, short enough that the index catches up between bursts.
    pub const INDEX_AFTER_IDLE: Duration = Duration::from_millis(5);

    /// Starts the writer task for `store`. After `index_after_idle` without a submission it indexes
    /// opinions for search, in small batches; `None` leaves that to explicit calls.
    ///
    /// # Errors
    /// When a SQLite file cannot be opened for the batch thread.
    pub async fn start(store: Store, index_after_idle: Option<Duration>) -> Result<SubmissionWriter> {
        let lite = match store.sqlite_file().await? {
            Some(path) => Some(LiteBatches::open(&path, store.commit_sync())?),
            None => None,
        };
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        // SQLite has one writer; PostgreSQL commits several batches at once, each on a connection of the
        // batches' own pool.
        let turns = if store.is_sqlite() { 1 } else { crate::store::SUBMISSION_BATCHES_AT_ONCE };
        let at_once = Arc::new(tokio::sync::Semaphore::new(turns));
        let finished = Arc::new(tokio::sync::Notify::new());
        let activity = Arc::new(Activity {
            since: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done_micros: AtomicU64::new(0),
        });
        let seen = Arc::clone(&activity);
        let lite_handle = lite.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            let mut backlog = index_after_idle.is_some();
            loop {
                // Taken before the queue is read: while every turn is busy, submissions gather into the next batch.
                let Ok(permit) = Arc::clone(&at_once).acquire_owned().await else { break };
                let turn = Turn { permit: Some(permit), finished: Arc::clone(&finished) };
                let received = match index_after_idle.filter(|_| backlog) {
                    Some(idle) => match tokio::time::timeout(idle, rx.recv_many(&mut batch, MAX_BATCH)).await {
                        Ok(n) => n,
                        // Idle means no batch in flight either: under a sustained load the index waits.
                        Err(_) if at_once.available_permits() + 1 < turns => continue,
                        Err(_) => {
                            backlog =
                                matches!(store.index_search_backlog(INDEX_BATCH).await, Ok(n) if n == INDEX_BATCH);
                            continue;
                        }
                    },
                    None => rx.recv_many(&mut batch, MAX_BATCH).await,
                };
                if received == 0 {
                    break;
                }
                // Beside batches still committing (PostgreSQL), a batch waits for SHARED_BATCH_MIN or for them to
                // finish: fewer, larger commits cost the database less than many of one or two.
                while batch.len() < SHARED_BATCH_MIN && at_once.available_permits() + 1 < turns {
                    let room = MAX_BATCH - batch.len();
                    tokio::select! {
                        n = rx.recv_many(&mut batch, room) => if n == 0 { break },
                        () = finished.notified() => {}
                    }
                }
                let flight = InFlight::start(&seen);
                let jobs = std::mem::take(&mut batch);
                let (store, lite) = (store.clone(), lite.clone());
                tokio::spawn(async move {
                    // Nothing is logged per batch: the n-th line would be the n-th response, to the microsecond.
                    for (to, outcome) in store.commit_batch(lite.as_ref(), jobs).await {
                        let _ = to.send(outcome);
                    }
                    drop(flight);
                    drop(turn);
                });
                backlog = index_after_idle.is_some();
            }
        });
        Ok(SubmissionWriter { tx, activity, lite: lite_handle })
    }

    /// Empties SQLite's write-ahead log (after a deletion whose old copies must go): now unless a reader of
    /// an older snapshot prevents it, then as soon as that read ends. True when emptied now, and when
    /// there is no such log (PostgreSQL).
    pub async fn empty_write_ahead_log(&self) -> bool {
        match &self.lite {
            Some(lite) => lite.empty_log().await,
            None => true,
        }
    }

    /// Whether no batch is being stored and none finished within `pause`: the moment for background work
    /// that writes (near-duplicate groups) without making submitters wait behind it.
    pub fn quiet_for(&self, pause: Duration) -> bool {
        let a = &self.activity;
        a.in_flight.load(Ordering::Relaxed) == 0
            && a.micros().saturating_sub(a.last_done_micros.load(Ordering::Relaxed)) >= pause.as_micros() as u64
    }

    /// Stores one submission and answers only once its transaction has committed.
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
        rx.await.map_err(|_| StoreError::Unavailable("the submission writer stopped before answering".into()))?
    }
}

impl Store {
    /// Stores a batch and returns each submission's answer, in order.
    async fn commit_batch(
        &self,
        lite: Option<&LiteBatches>,
        jobs: Vec<Job>,
    ) -> Vec<(oneshot::Sender<Result<SubmitOutcome>>, Result<SubmitOutcome>)> {
        let subs: Vec<Arc<Prepared>> = jobs.iter().map(|j| Arc::clone(&j.prepared)).collect();
        match self.store_batch(lite, subs).await {
            Ok(outcomes) => jobs.into_iter().zip(outcomes).map(|(job, outcome)| (job.reply, Ok(outcome))).collect(),
            Err(StoreError::Unavailable(e)) => {
                // A full disk refuses them all alike: no point in trying each.
                jobs.into_iter().map(|job| (job.reply, Err(StoreError::Unavailable(e.clone())))).collect()
            }
            Err(_) if jobs.len() > 1 => {
                // One bad submission must not fail the others: retry each on its own.
                let mut replies = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let r = self.store_batch(lite, vec![Arc::clone(&job.prepared)]).await.map(|mut o| o.remove(0));
                    replies.push((job.reply, r));
                }
                replies
            }
            Err(e) => jobs.into_iter().next().map(|job| (job.reply, Err(e))).into_iter().collect(),
        }
    }
}
