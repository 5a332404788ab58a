//! `GET /deployments/ID/events`: server-sent events, one message per new event of that
//! deployment, in order, with the event's sequence number as the SSE id so a reconnecting
//! browser (which sends `Last-Event-ID`) misses nothing. A commit in this process that gave
//! the deployment events wakes the stream at once; a periodic look catches commits of other
//! processes on the same database. At most `[web] max_streams` are open at once (more get 503
//! with Retry-After), and all of them end when golive shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit};
use tracing::{debug, warn};

use super::{PageError, Pages};
use crate::domain::Event;
use crate::render::clean;
use crate::render::report::details;

/// How often a stream looks for events written by another process.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// What a browser turned away for too many streams is told to wait before it tries again.
const RETRY_AFTER_SECS: u64 = 30;

/// Where a stream is: the deployment, the last event sent, and what is waiting to go.
struct Follow {
    pages: Arc<Pages>,
    id: i64,
    after: i64,
    /// `None` once the engine's commits ended: then looking is all there is.
    commits: Option<broadcast::Receiver<i64>>,
    closing: watch::Receiver<bool>,
    queue: VecDeque<Event>,
    /// When to look for other processes' events. `None` first: events between the page's
    /// rendering and the stream's opening are sent at once.
    next_look: Option<DateTime<Utc>>,
    /// This stream's place under `[web] max_streams`, given back when the stream is dropped
    /// (the browser went away, or golive is shutting down).
    _slot: OwnedSemaphorePermit,
}

/// Why the stream stops waiting.
enum Wake {
    /// Something may be new: read.
    Look,
    /// A commit for another deployment: keep waiting.
    Other,
    /// golive is shutting down: end the stream.
    Closing,
}

pub async fn events(
    State(pages): State<Arc<Pages>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, PageError> {
    pages.store.deployment_row(id).await?;
    let closing = pages.closing.subscribe();
    let slot = match pages.streams.clone().try_acquire_owned() {
        Ok(slot) if !*closing.borrow() => slot,
        _ => return Ok(busy(&pages)),
    };
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let after = match resume.or_else(|| after_param(uri.query())) {
        Some(seq) => seq,
        None => pages.store.last_seq(id).await?,
    };
    let commits = Some(pages.commits.subscribe());
    let follow = Follow { pages, id, after, commits, closing, queue: VecDeque::new(), next_look: None, _slot: slot };
    let stream = stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(event) = f.queue.pop_front() {
                f.after = event.seq;
                return Some((Ok::<_, Infallible>(message(&event)), f));
            }
            if let Some(next_look) = f.next_look {
                match f.wait(next_look).await {
                    Wake::Closing => {
                        debug!(deployment = f.id, "live stream ended: golive is shutting down");
                        return None;
                    }
                    Wake::Other => continue,
                    Wake::Look => {}
                }
            }
            f.next_look = Some(f.pages.clock.now() + LOOK_EVERY);
            match f.pages.store.events_after(f.id, f.after).await {
                Ok(events) => f.queue.extend(events),
                Err(e) => {
                    warn!(error = %e, deployment = f.id, "live stream: cannot read new events; closing it");
                    return None;
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

impl Follow {
    /// Waits for a commit, the next look, or shutdown, whichever comes first.
    async fn wait(&mut self, next_look: DateTime<Utc>) -> Wake {
        if *self.closing.borrow() {
            return Wake::Closing;
        }
        let look = self.pages.clock.sleep_until(next_look);
        let commit = async {
            match self.commits.as_mut() {
                Some(commits) => commits.recv().await,
                None => std::future::pending().await,
            }
        };
        let got = tokio::select! {
            got = commit => got,
            () = look => return Wake::Look,
            Ok(_) = self.closing.wait_for(|c| *c) => return Wake::Closing,
        };
        match got {
            Ok(id) if id == self.id => Wake::Look,
            Ok(_) => Wake::Other,
            // Missed some: one of them may have been ours.
            Err(RecvError::Lagged(_)) => Wake::Look,
            Err(RecvError::Closed) => {
                self.commits = None;
                Wake::Look
            }
        }
    }
}

/// 503 for a stream over `[web] max_streams` (or one asked for while golive shuts down): the
/// page still works, a reload updates it, and its script tries again after Retry-After.
fn busy(pages: &Pages) -> Response {
    warn!(max_streams = pages.config.web.max_streams, "refused a live stream: all are in use ([web] max_streams)");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())],
        "503 Service Unavailable: too many live pages are open; reload to update, or try again later.\n",
    )
        .into_response()
}

fn after_param(query: Option<&str>) -> Option<i64> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs.into_iter().find(|(k, _)| k == "after").and_then(|(_, v)| v.parse().ok())
}

/// One event as an SSE message: `event: event`, the sequence number as id, and a small JSON
/// body saying who did what (the page fetches itself again for the rest).
fn message(e: &Event) -> SseEvent {
    let data = serde_json::json!({
        "seq": e.seq,
        "at": e.at.to_rfc3339(),
        "kind": e.kind.name(),
        "who": clean(e.actor.display()),
        "what": clean(&details(&e.kind)),
    });
    SseEvent::default().event("event").id(e.seq.to_string()).data(data.to_string())
}
