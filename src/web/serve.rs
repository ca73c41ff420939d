//! The HTTP/1.1 server loop: every connection gets a header-read deadline (which also ends a kept-alive
//! connection left idle), and [`router`](super::router) adds the body-read and handler deadlines, so a
//! slow or silent client holds a connection for a bounded time only. Graceful shutdown lets requests in
//! flight finish.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a client may take; `wenji serve` reads them from flags (`WENJI_*_TIMEOUT_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From a connection being ready for a request (new, or idle after the last answer) to the end of
    /// that request's headers.
    pub header: Duration,
    /// From the headers to the end of the body (a 64 KiB body over a poor phone connection takes seconds).
    pub body: Duration,
    /// A handler, body reading included, before the client gets 408.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { header: Duration::from_secs(15), body: Duration::from_secs(60), request: Duration::from_secs(90) }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
///
/// # Errors
/// Never at present; accept errors (too many open files) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Request line and headers within 96 KiB (hyper's default buffer is ~400 KiB a connection, which a
    // thousand unfinished header blocks turned into 600 MB); bodies stream and have their own limit.
    http.timer(TokioTimer::new()).header_read_timeout(header_timeout).max_buf_size(96 * 1024);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
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
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
