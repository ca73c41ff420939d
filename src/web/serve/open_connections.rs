//! The server's open connections, each idle (new and waiting for headers, kept alive after an answer) or
//! busy (a request in flight, or an answer still being written), so that at the cap the one idle longest
//! can be closed for a new client while no request in flight is ever cut.

use hyper::body::{Body, Frame, SizeHint};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::Notify;

/// Every open connection by id: a map behind one lock, taken when a request starts or ends.
#[derive(Default)]
pub(super) struct OpenConnections {
    open: Mutex<HashMap<u64, Open>>,
    next_id: AtomicU64,
    /// Wakes an accept waiting at the cap when a connection's last request ends (one to evict now).
    became_idle: Notify,
}

struct Open {
    /// Requests in flight and answers being written; idle at 0.
    busy: usize,
    idle_since: Instant,
    close: Arc<Notify>,
}

impl OpenConnections {
    /// Registers a new (idle) connection: its place, and the signal that it was evicted.
    pub(super) fn open(self: &Arc<Self>) -> (Connection, Arc<Notify>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let close = Arc::new(Notify::new());
        self.lock().insert(id, Open { busy: 0, idle_since: Instant::now(), close: close.clone() });
        (Connection { all: self.clone(), id }, close)
    }

    /// Closes the connection idle longest, if one is idle; `false` when every one is busy.
    pub(super) fn evict_longest_idle(&self) -> bool {
        let mut open = self.lock();
        let oldest = open.iter().filter(|(_, c)| c.busy == 0).min_by_key(|(_, c)| c.idle_since).map(|(id, _)| *id);
        let Some(evicted) = oldest.and_then(|id| open.remove(&id)) else { return false };
        // Removed under the lock, so evicted once; `notify_one` keeps the signal until its task waits for it.
        evicted.close.notify_one();
        true
    }

    /// Resolves once some connection's last request has ended (possibly one that ended earlier).
    pub(super) async fn became_idle(&self) {
        self.became_idle.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Open>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's place among the open ones; leaves when dropped (the connection ended).
pub(super) struct Connection {
    all: Arc<OpenConnections>,
    id: u64,
}

impl Connection {
    /// Marks the connection busy until the guard drops.
    pub(super) fn busy(&self) -> Busy {
        if let Some(c) = self.all.lock().get_mut(&self.id) {
            c.busy += 1;
        }
        Busy { all: self.all.clone(), id: self.id }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.all.lock().remove(&self.id);
    }
}

/// A request in flight or an answer being written: while one lives, its connection is never evicted.
pub(super) struct Busy {
    all: Arc<OpenConnections>,
    id: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut open = self.all.lock();
        let Some(c) = open.get_mut(&self.id) else { return };
        c.busy -= 1;
        if c.busy == 0 {
            c.idle_since = Instant::now();
            drop(open);
            self.all.became_idle.notify_one();
        }
    }
}

/// An answer's body holding its connection busy until hyper has taken all of it or dropped it.
pub(super) struct BusyBody<B> {
    pub(super) inner: B,
    pub(super) _busy: Busy,
}

impl<B: Body + Unpin> Body for BusyBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
