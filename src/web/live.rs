//! `GET /deployments/ID/events`: server-sent events, one message per new event of that
//! deployment, in order, with the event's sequence number as the SSE id so a reconnecting
//! browser (which sends `Last-Event-ID`) misses nothing. A commit in this process wakes the
//! stream at once; a periodic look catches commits of other processes on the same database.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::watch;
use tracing::warn;

use super::{PageError, Pages};
use crate::clock;
use crate::domain::Event;
use crate::render::clean;
use crate::render::report::details;

/// How often a stream looks for events written by another process.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Where a stream is: the deployment, the last event sent, and what is waiting to go.
struct Follow {
    pages: Arc<Pages>,
    id: i64,
    after: i64,
    commits: watch::Receiver<u64>,
    queue: VecDeque<Event>,
    /// The first look happens at once: events between the page's rendering and the
    /// stream's opening are sent too.
    looked: bool,
}

pub async fn events(
    State(pages): State<Arc<Pages>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, PageError> {
    pages.store.deployment_row(id).await?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let after = match resume.or_else(|| after_param(uri.query())) {
        Some(seq) => seq,
        None => pages.store.last_seq(id).await?,
    };
    let mut commits = pages.commits.clone();
    commits.mark_unchanged();
    let follow = Follow { pages, id, after, commits, queue: VecDeque::new(), looked: false };
    let stream = stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(event) = f.queue.pop_front() {
                f.after = event.seq;
                return Some((Ok(message(&event)), f));
            }
            if f.looked {
                let look = clock::sleep_for(f.pages.clock.as_ref(), LOOK_EVERY);
                tokio::select! {
                    changed = f.commits.changed() => if changed.is_err() {
                        // No engine in this process (`golive web`): looking is all there is.
                        clock::sleep_for(f.pages.clock.as_ref(), LOOK_EVERY).await;
                    },
                    () = look => {}
                }
            }
            f.looked = true;
            match f.pages.store.events_after(f.id, f.after).await {
                Ok(events) => f.queue.extend(events),
                Err(e) => {
                    warn!(error = %e, deployment = f.id, "live stream: cannot read new events; closing it");
                    return None;
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
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
