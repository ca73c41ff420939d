//! The HTTP/1.1 server loop: at most so many connections at once, each with a header-read deadline (which
//! also ends a kept-alive connection left idle) and a write deadline, and [`router`](super::router) adds
//! the body-read and handler deadlines, so a slow or silent client holds a connection for a bounded time
//! only. At the cap a new client takes the place of the connection idle longest (no request in flight, no
//! answer being written), so idle sockets cannot lock citizens out; when every one is busy it waits to be
//! accepted. Graceful shutdown lets requests in flight finish.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

mod open_connections;
use open_connections::{Busy, BusyBody, OpenConnections};

/// How long a client may take; `wenji serve` reads them from flags (`WENJI_*_TIMEOUT_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From a connection being ready for a request (new, or idle after the last answer) to the end of
    /// that request's headers.
    pub header: Duration,
    /// From the headers to the end of the body (a 64 KiB body over a poor phone connection takes seconds);
    /// also how long an answer may wait for the client to read any of it before the connection is closed.
    pub body: Duration,
    /// A handler, body reading included, before the client gets 408.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { header: Duration::from_secs(15), body: Duration::from_secs(60), request: Duration::from_secs(90) }
    }
}

/// Connections open at once unless `WENJI_MAX_CONNECTIONS` says otherwise: with 96 KiB of headers each,
/// about 200 MB at most (12,000 unfinished header blocks took 1.5 GB).
pub const MAX_CONNECTIONS: usize = 2048;

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish. At most
/// `max_connections` are open at once: a further client closes the connection idle longest, or waits
/// (in the listen queue behind it) until one ends or falls idle.
///
/// # Errors
/// Never at present; accept errors (too many open files) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Request line and headers within 96 KiB (hyper's default buffer is ~400 KiB a connection, which a
    // thousand unfinished header blocks turned into 600 MB); bodies stream and have their own limit.
    http.timer(TokioTimer::new()).header_read_timeout(timeouts.header).max_buf_size(96 * 1024);
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.clamp(1, tokio::sync::Semaphore::MAX_PERMITS)));
    let open = Arc::new(OpenConnections::default());
    let mut full_said: Option<std::time::Instant> = None;
    let mut shutdown = std::pin::pin!(shutdown);
    'accept: loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = loop {
            if let Ok(slot) = slots.clone().try_acquire_owned() {
                break slot;
            }
            if full_said.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                tracing::warn!(
                    max_connections,
                    "every connection is in use; new clients close the one idle longest, or wait (WENJI_MAX_CONNECTIONS)"
                );
                full_said = Some(std::time::Instant::now());
            }
            let evicted = open.evict_longest_idle();
            if evicted {
                tracing::debug!("closed the connection idle longest for a new client");
            }
            tokio::select! {
                slot = slots.clone().acquire_owned() => break slot.expect("the semaphore is never closed"),
                // Every connection busy: the first to fall idle makes room (it would keep its slot 15 s).
                () = open.became_idle(), if !evicted => {}
                () = &mut shutdown => break 'accept,
            }
        };
        let _ = stream.set_nodelay(true);
        let (connection, evicted) = open.open();
        let connection = Arc::new(connection);
        let app = app.clone();
        let requests = connection.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let busy = requests.busy();
            let answer = app.clone().oneshot(req.map(axum::body::Body::new));
            async move { answer.await.map(|r| r.map(|inner| BusyBody { inner, _busy: busy })) }
        });
        let stream =
            WriteDeadline { inner: stream, limit: timeouts.body, stalled: None, connection: connection.clone() };
        let served = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            tokio::select! {
                ended = served => if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended");
                },
                () = evicted.notified() => {}
            }
            drop(connection);
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A stream whose writes fail once they have made no progress for `limit`: a client that sends requests
/// but never reads the answers (pipelined GETs) kept its connection past every other deadline.
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    /// When the pending write gives up, and the connection kept busy meanwhile (the end of an answer
    /// may still wait in hyper's buffer after its body was dropped); set when a write first waits,
    /// cleared by any progress.
    stalled: Option<(Pin<Box<tokio::time::Sleep>>, Busy)>,
    connection: Arc<open_connections::Connection>,
}

impl<S> WriteDeadline<S> {
    fn watch<T>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let (limit, connection) = (self.limit, &self.connection);
        let (stalled, _) = self.stalled.get_or_insert_with(|| (Box::pin(tokio::time::sleep(limit)), connection.busy()));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client read nothing"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}
