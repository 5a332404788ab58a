//! How `golive serve` holds its HTTP connections, so slow or idle clients cannot lock everyone
//! out: hyper's HTTP/1 connections with a timer installed (`axum::serve` installs none, so
//! hyper's header timeout never fired), a header read timeout that also closes idle
//! keep-alive connections (hyper starts it whenever it waits for a request head), a timeout on
//! the whole request including its body, and a cap on open connections below the file limit,
//! which is raised to its hard maximum at start.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;
use tracing::{info, warn};

/// File descriptors kept for everything that is not a client connection: the database,
/// outgoing HTTPS, logs.
const RESERVED_FILES: u64 = 128;

/// The connection settings of `golive serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// A client must send a request's whole head within this, counted from when the server
    /// starts waiting for it: a connection that dribbles headers or sits idle is closed.
    pub header_read: Duration,
    /// A request must be read and answered within this (a body that never ends gets 408).
    pub request: Duration,
    /// At most this many open connections; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits { header_read: Duration::from_secs(10), request: Duration::from_secs(30), max_connections: 8192 }
    }
}

impl ConnLimits {
    /// The default limits, with the connection cap fitted under this process's file limit
    /// after raising it as far as the system allows.
    pub fn for_this_process() -> ConnLimits {
        let files = raise_file_limit();
        let mut limits = ConnLimits::default();
        if let Some(files) = files {
            let fits = usize::try_from(files.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX);
            limits.max_connections = limits.max_connections.min(fits);
        }
        limits
    }
}

/// Raises the soft limit on open files to the hard limit (as Go's runtime does at start) and
/// returns the limit now in force; `None` when it cannot be read.
#[cfg(unix)]
fn raise_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    match limit.maximum {
        Some(max) if max > current => match setrlimit(Resource::Nofile, Rlimit { current: Some(max), ..limit }) {
            Ok(()) => {
                info!(from = current, to = max, "raised the open-file limit");
                Some(max)
            }
            Err(e) => {
                warn!(error = %e, limit = current, "could not raise the open-file limit");
                Some(current)
            }
        },
        // No hard limit: leave the soft one, it is what the operator chose.
        _ => Some(current),
    }
}

#[cfg(not(unix))]
fn raise_file_limit() -> Option<u64> {
    None
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets the
/// requests in flight finish (idle connections close at once), and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read).keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    info!(max_connections = limits.max_connections, header_timeout = ?limits.header_read, "accepting connections");
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of files or a connection reset before it was taken: the listener
                    // itself is fine. Give connections a moment to close before trying again.
                    warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that hangs up or times out ends its connection; nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    // Requests in flight get their request timeout to finish, and no longer.
    if tokio::time::timeout(limits.request + limits.header_read, graceful.shutdown()).await.is_err() {
        warn!("connections still open after the request timeout; closing them");
    }
    Ok(())
}
