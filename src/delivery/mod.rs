//! The delivery worker: takes what the engine wrote to the outbox and sends it through each
//! platform's chat API. The oldest pending message of a channel goes first and the next waits
//! for it, so a channel reads in the order things happened. Retryable failures (network,
//! 5xx, 429, Slack's transient errors) wait with exponential backoff, or as long as the
//! platform's `Retry-After` asks; a permanent failure (the app is not in the channel, the
//! channel is gone) is logged and recorded on the deployment's timeline, never retried.
//!
//! What the worker learns that belongs on a deployment's timeline (a hook's result, posts
//! given up) it hands to a [`Recorder`] — the engine, which decides it in order with every
//! other input. The worker knows nothing of the engine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::{error, field, info, info_span, warn, Instrument, Span};

use crate::clock::SharedClock;
use crate::config::DeliveryConfig;
use crate::domain::EventKind;
use crate::metrics::{Metrics, PostResult};
use crate::store::{Delivered, Destination, Lease, OutboxItem, Route, Store, StoreError};

pub mod hooks;
mod leases;
pub mod pager;
mod queue;
use leases::Leases;
use queue::Queue;

/// The worker looks at the outbox at least this often even when nothing wakes it: another
/// process's channels are taken over when it dies only if someone looks.
const IDLE_POLL: Duration = Duration::from_secs(10);

/// What a chat platform said about one message it accepted.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// The platform's id for the message (Slack `ts`), kept for later updates.
    pub remote_id: Option<String>,
    /// An update was posted as a new message instead (the message it was to change is gone):
    /// the new message is the one later updates change.
    pub reposted: bool,
    /// What a hook run came to, to go on the deployment's timeline.
    pub report: Option<HookReport>,
}

/// What a hook run came to, for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookReport {
    pub hook: String,
    pub trigger: String,
    pub ok: bool,
    pub detail: String,
    pub output: String,
    pub duration_ms: u64,
}

impl HookReport {
    pub fn into_event(self) -> EventKind {
        let HookReport { hook, trigger, ok, detail, output, duration_ms } = self;
        EventKind::HookRan { hook, trigger, ok, detail, output, duration_ms }
    }
}

/// What the worker learned that belongs on a deployment's timeline.
#[derive(Debug, Clone)]
pub enum Report {
    /// A hook ran, or could not be run.
    Hook { deployment: i64, report: HookReport },
    /// The platform refused the deployment's posts for good.
    GaveUp { deployment: i64, destination: Destination, error: String, messages: u64 },
    /// The platforms took these messages.
    Delivered { messages: Vec<Delivered> },
}

/// Where the worker sends its reports; answers once they are recorded.
#[async_trait]
pub trait Recorder: Send + Sync {
    async fn record(&self, report: Report) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// What the worker needs from the rest of golive.
#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub settings: DeliveryConfig,
    pub metrics: Arc<Metrics>,
    /// Notified after every commit that may have queued posts.
    pub enqueued: Arc<Notify>,
    pub recorder: Arc<dyn Recorder>,
}

#[derive(Debug, Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not record what became of a post: {0}")]
    Record(Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Debug, Clone, Error, PartialEq)]
pub enum SendError {
    /// Worth trying again: `after` is what the platform asked for, if it did.
    #[error("{reason}")]
    Retry { reason: String, after: Option<Duration> },
    /// Trying again will not help. `channel_unusable` gives up the channel's other pending
    /// messages too; `hint` tells the operator what to do.
    #[error("{reason}")]
    Permanent { reason: String, channel_unusable: bool, hint: Option<String> },
}

/// What sends one route's outbox rows: a chat platform's Web API, the paging webhook, the
/// hook runner.
#[async_trait]
pub trait Transport: Send + Sync {
    /// The rows this transport sends.
    fn route(&self) -> Route;
    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError>;

    /// How long one send of `item` may take, when not the worker's usual limit.
    fn send_timeout(&self, _item: &OutboxItem) -> Option<Duration> {
        None
    }

    /// What giving up on `item` means for the record, when it is a run rather than a post
    /// (a hook that could not be run failed).
    fn given_up(&self, _item: &OutboxItem, _reason: &str) -> Option<HookReport> {
        None
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl Pass {
    pub fn attempted(&self) -> usize {
        self.sent + self.retried + self.failed
    }
}

/// When each destination last got a post.
type LastSent = HashMap<Destination, DateTime<Utc>>;

#[derive(Clone)]
pub struct Delivery {
    outbox: Outbox,
    clock: SharedClock,
    apis: Arc<Vec<Arc<dyn Transport>>>,
    settings: DeliveryConfig,
    /// When each channel last got a post, for pacing. Only in memory: after a restart the
    /// first post to a channel may come sooner, which Slack's burst allowance absorbs.
    last_sent: Arc<Mutex<LastSent>>,
    /// Messages the platform took that could not be recorded as sent (the database refused
    /// the write): the next pass records them again instead of sending them again, so such a
    /// post repeats at most once, after a restart.
    unrecorded: Arc<Mutex<HashMap<i64, Sent>>>,
    /// What is pending, by channel: one pass at a time holds it.
    queue: Arc<tokio::sync::Mutex<Queue>>,
    /// The destinations this process holds the claim on (several processes on one database):
    /// locked after `queue`, by the pass that holds it.
    leases: Arc<tokio::sync::Mutex<Leases>>,
}

impl Delivery {
    pub fn new(outbox: Outbox, clock: SharedClock, apis: Vec<Arc<dyn Transport>>) -> Delivery {
        let settings = outbox.settings.clone();
        Delivery {
            outbox,
            clock,
            apis: Arc::new(apis),
            settings,
            last_sent: Arc::default(),
            unrecorded: Arc::default(),
            queue: Arc::default(),
            leases: Arc::default(),
        }
    }

    async fn record(&self, report: Report) -> Result<(), DeliveryError> {
        self.outbox.recorder.record(report).await.map_err(DeliveryError::Record)
    }

    /// When a destination may get its next post: its pacing, and when to ask again for a
    /// claim another process held.
    fn ready_at(&self, destination: &Destination, leases: &Leases) -> Option<DateTime<Utc>> {
        let paced = self
            .last_sent
            .lock()
            .ok()
            .and_then(|last| last.get(destination).copied())
            .map(|last| last + chrono::Duration::from_std(self.settings.channel_interval).unwrap_or_default());
        paced.max(leases.busy_until(destination))
    }

    fn routes(&self) -> Vec<Route> {
        self.apis.iter().map(|a| a.route()).collect()
    }

    /// Sends every message that may go now, across channels at once, and records how each
    /// went. Returns what happened; a store error stops the pass.
    pub async fn deliver_due(&self) -> Result<Pass, DeliveryError> {
        let mut queue = self.queue.lock().await;
        let mut leases = self.leases.lock().await;
        let store = &self.outbox.store;
        let now = self.clock.now();
        queue.refresh(store, now).await?;
        let due: Vec<_> = self
            .apis
            .iter()
            .map(|api| (api, queue.due(api.route(), now, |destination| self.ready_at(destination, &leases))))
            .collect();
        // Only destinations this process holds the claim on are sent to (one statement for
        // those it has to take or renew), and only rows still pending once it holds them.
        let wanted: Vec<Destination> = due.iter().flat_map(|(_, d)| d.iter().map(|(_, to)| to.clone())).collect();
        let held = leases.hold(store, wanted, now).await?;
        let mut ready = Vec::new();
        for (api, due) in due {
            let ids: Vec<i64> = due.into_iter().filter(|(_, to)| held.contains(to)).map(|(id, _)| id).collect();
            let items = store.pending_items(&ids).await?;
            // What is queued here but no longer pending went some other way.
            for id in ids.iter().filter(|id| !items.iter().any(|i| i.id == **id)) {
                queue.forget(*id, now);
            }
            for item in items {
                if let Some(lease) = leases.lease(&item.destination) {
                    ready.push((api.clone(), item, lease));
                }
            }
        }
        // Each send is its own task, at most `concurrency` at once across channels.
        let send_timeout = self.settings.send_timeout;
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut sends = JoinSet::new();
        for (api, item, lease) in ready {
            let permits = permits.clone();
            // Sent already, only its record is missing.
            let sent = self.unrecorded.lock().ok().and_then(|u| u.get(&item.id).cloned());
            sends.spawn(async move {
                if let Some(sent) = sent {
                    return (item, lease, Ok(sent));
                }
                let _permit = permits.acquire_owned().await;
                let send = api.send(&item).instrument(post_span(&item));
                // A hook may take as long as its own timeout; a post gets 30 s.
                let limit = api.send_timeout(&item).unwrap_or(send_timeout);
                let result = match tokio::time::timeout(limit, send).await {
                    Ok(result) => result,
                    Err(_) => Err(SendError::Retry { reason: format!("no answer within {limit:?}"), after: None }),
                };
                (item, lease, result)
            });
        }
        let mut results = Vec::new();
        // No renewal is tried before this (a failed one waits a second before the next).
        let mut renew_from = now;
        loop {
            // The claims are renewed while sends take their time (a hook, a slow API), so no
            // other process takes a channel over from a holder that is still at work.
            let renewal = leases.next_renewal().map(|t| t.max(renew_from));
            let joined = tokio::select! {
                joined = sends.join_next() => joined,
                _ = self.clock.sleep_until(renewal.unwrap_or(now)), if renewal.is_some() => {
                    if let Err(e) = leases.renew(store, self.clock.now()).await {
                        warn!(error = %e, "could not renew this process's claims on its channels");
                        renew_from = self.clock.now() + chrono::Duration::seconds(1);
                    }
                    continue;
                }
            };
            let Some(joined) = joined else { break };
            match joined {
                Ok((item, lease, result)) => {
                    if result.is_ok() {
                        // Counted as the platform answers; marked in the outbox with the pass.
                        self.outbox.metrics.post(item.destination.route(), PostResult::Delivered);
                    }
                    results.push((item, lease, result))
                }
                // The message stays pending and is tried again on the next pass.
                Err(e) => error!(error = %e, "a send task failed"),
            }
        }
        // Settle in outbox order, so the log reads in the order things were decided. What was
        // delivered is marked so with one statement: one commit for the whole pass.
        results.sort_by_key(|(item, _, _)| item.id);
        let delivered: Vec<Delivered> = results
            .iter()
            .filter_map(|(item, lease, result)| {
                let sent = result.as_ref().ok()?;
                let (remote_id, reposted, lease) = (sent.remote_id.clone(), sent.reposted, lease.clone());
                Some(Delivered { id: item.id, remote_id, reposted, lease })
            })
            .collect();
        if !delivered.is_empty() {
            // Through the writer: the marks share a commit with whatever it decides meanwhile.
            let recorded = self.record(Report::Delivered { messages: delivered }).await;
            if let Ok(mut unrecorded) = self.unrecorded.lock() {
                for (item, _, result) in &results {
                    match (&recorded, result) {
                        (Ok(_), _) => unrecorded.remove(&item.id),
                        (Err(_), Ok(sent)) => unrecorded.insert(item.id, sent.clone()),
                        (Err(_), Err(_)) => None,
                    };
                }
            }
            recorded?;
        }
        let mut pass = Pass::default();
        for (item, lease, result) in results {
            let span = post_span(&item);
            self.settle(&item, &lease, result, &mut pass, &mut queue).instrument(span).await?;
        }
        // A channel with nothing left queued here is let go, for any process to take.
        leases.release_idle(store, |to| !queue.has(to), self.clock.now()).await?;
        Ok(pass)
    }

    async fn settle(
        &self,
        item: &OutboxItem,
        lease: &Lease,
        result: Result<Sent, SendError>,
        pass: &mut Pass,
        queue: &mut Queue,
    ) -> Result<(), DeliveryError> {
        let now = self.clock.now();
        let store = &self.outbox.store;
        let channel = item.destination.to_string();
        let counted = match &result {
            Ok(_) => None,
            Err(SendError::Retry { .. }) => Some(PostResult::Retried),
            Err(SendError::Permanent { .. }) => Some(PostResult::Failed),
        };
        match result {
            Ok(sent) => {
                if let (Some(report), Some(id)) = (sent.report, item.deployment_id) {
                    self.record(Report::Hook { deployment: id, report }).await?;
                }
                if let Ok(mut last) = self.last_sent.lock() {
                    last.insert(item.destination.clone(), now);
                }
                if item.attempts > 0 {
                    info!(outbox = item.id, %channel, attempts = item.attempts + 1, "delivered after retrying");
                }
                queue.remove(&item.destination, item.id, now);
                pass.sent += 1;
            }
            Err(SendError::Retry { reason, after })
                if now - item.created_at
                    < chrono::Duration::from_std(self.settings.give_up_after).unwrap_or(chrono::TimeDelta::MAX) =>
            {
                let backoff = self.backoff(item.attempts);
                let wait = after.map_or(backoff, |a| a.max(Duration::from_millis(100)));
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                warn!(outbox = item.id, %channel, attempt = item.attempts + 1, %reason, retry_in = ?wait, "post not delivered; will retry");
                if !store.mark_retry(item.id, lease, next, &reason).await? {
                    warn!(outbox = item.id, %channel, "another process took this channel over; its retry is that one's");
                }
                queue.retry_at(&item.destination, next);
                pass.retried += 1;
            }
            Err(SendError::Retry { reason, .. }) => {
                let reason =
                    format!("still failing after {}: {reason}", crate::render::human(self.settings.give_up_after));
                self.give_up(item, lease, &channel, reason, false, None).await?;
                queue.remove(&item.destination, item.id, now);
                pass.failed += 1;
                self.outbox.metrics.post(item.destination.route(), PostResult::Failed);
                return Ok(());
            }
            Err(SendError::Permanent { reason, channel_unusable, hint }) => {
                self.give_up(item, lease, &channel, reason, channel_unusable, hint).await?;
                if channel_unusable {
                    // The channel's other messages were given up with it.
                    queue.invalidate();
                } else {
                    queue.remove(&item.destination, item.id, now);
                }
                pass.failed += 1;
            }
        }
        if let Some(counted) = counted {
            self.outbox.metrics.post(item.destination.route(), counted);
        }
        Ok(())
    }

    async fn give_up(
        &self,
        item: &OutboxItem,
        lease: &Lease,
        channel: &str,
        reason: String,
        whole_channel: bool,
        hint: Option<String>,
    ) -> Result<(), DeliveryError> {
        if item.destination.route() == Route::Hooks {
            // A hook that could not be run is a hook that failed: it goes on the timeline as
            // such (and a rollback's escalates), not as an undelivered post.
            if self.outbox.store.mark_failed(item, lease, &reason, false).await? == 0 {
                lost_claim(item);
                return Ok(());
            }
            error!(outbox = item.id, %reason, "hook given up");
            let api = self.apis.iter().find(|a| a.route() == Route::Hooks);
            if let (Some(id), Some(report)) = (item.deployment_id, api.and_then(|a| a.given_up(item, &reason))) {
                self.record(Report::Hook { deployment: id, report }).await?;
            }
            return Ok(());
        }
        let given_up = self.outbox.store.mark_failed(item, lease, &reason, whole_channel).await?;
        if given_up == 0 {
            lost_claim(item);
            return Ok(());
        }
        let hint = hint.unwrap_or_default();
        error!(outbox = item.id, %channel, messages = given_up, %reason, %hint, "post given up");
        if let Some(id) = item.deployment_id {
            let error = if hint.is_empty() { reason } else { format!("{reason} — {hint}") };
            let failed =
                Report::GaveUp { deployment: id, destination: item.destination.clone(), error, messages: given_up };
            self.record(failed).await?;
        }
        Ok(())
    }

    fn backoff(&self, attempts: i64) -> Duration {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(300))
            .with_jitter()
            .without_max_times()
            .build()
            .nth(usize::try_from(attempts).unwrap_or(0))
            .unwrap_or(Duration::from_secs(300))
    }

    /// When the next pass has something to do: a message's retry time or a channel's pacing.
    pub async fn next_wake(&self) -> Result<Option<DateTime<Utc>>, DeliveryError> {
        let mut queue = self.queue.lock().await;
        let leases = self.leases.lock().await;
        queue.refresh(&self.outbox.store, self.clock.now()).await?;
        Ok(queue.next_due(&self.routes(), |destination| self.ready_at(destination, &leases)))
    }

    /// Posts still waiting for this worker's routes.
    async fn pending(&self) -> Result<usize, DeliveryError> {
        let mut queue = self.queue.lock().await;
        queue.refresh(&self.outbox.store, self.clock.now()).await?;
        Ok(queue.pending(&self.routes()))
    }

    /// On the way out: keeps delivering until nothing is pending or `grace` has passed.
    /// Whatever is left stays in the outbox and goes out at the next start.
    pub async fn flush(&self, grace: Duration) {
        let flushing = async {
            loop {
                match self.deliver_due().await {
                    Ok(pass) if pass.attempted() > 0 => continue,
                    Ok(_) => {}
                    Err(e) => return error!(error = %e, "could not flush the outbox"),
                }
                if !matches!(self.pending().await, Ok(n) if n > 0) {
                    return;
                }
                match self.next_wake().await {
                    Ok(Some(t)) => self.clock.sleep_until(t).await,
                    _ => return,
                }
            }
        };
        let timed_out = tokio::time::timeout(grace, flushing).await.is_err();
        // Another process may take this one's channels at once rather than when the claims lapse.
        let store = &self.outbox.store;
        if let Err(e) = self.leases.lock().await.release_idle(store, |_| true, self.clock.now()).await {
            warn!(error = %e, "could not release this process's claims; they lapse in {:?}", leases::LEASE);
        }
        match self.pending().await {
            Ok(0) => info!("outbox flushed"),
            Ok(left) if timed_out => {
                warn!(
                    left,
                    "stopping with posts still queued after {grace:?}; they are kept and sent at the next start"
                )
            }
            Ok(left) => warn!(left, "stopping with posts still queued; they are kept and sent at the next start"),
            Err(e) => error!(error = %e, "cannot read the outbox"),
        }
    }

    /// Runs until `stop` changes: a pass whenever something is enqueued or falls due.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) {
        let enqueued = self.outbox.enqueued.clone();
        loop {
            // After a failure the same messages are still due: wait a little rather than spin.
            let backoff = self.clock.now() + chrono::Duration::seconds(5);
            let failed = match self.deliver_due().await {
                Ok(pass) if pass.attempted() > 0 => continue,
                Ok(_) => false,
                Err(e) => {
                    error!(error = %e, "outbox pass failed; retrying in 5s");
                    self.queue.lock().await.invalidate();
                    true
                }
            };
            let wake = match self.next_wake().await {
                Ok(_) if failed => backoff,
                // Even with a retry far off, look at the outbox again now and then.
                Ok(Some(t)) => t.min(self.clock.now() + chrono::Duration::from_std(IDLE_POLL).unwrap_or_default()),
                Ok(None) => self.clock.now() + chrono::Duration::from_std(IDLE_POLL).unwrap_or_default(),
                Err(e) => {
                    error!(error = %e, "cannot read the outbox");
                    self.clock.now() + chrono::Duration::seconds(5)
                }
            };
            tokio::select! {
                _ = self.clock.sleep_until(wake) => {}
                _ = enqueued.notified() => {}
                _ = stop.changed() => break,
            }
        }
    }
}

/// A give-up that did not count: the claim it was tried under was lost meanwhile, so the
/// destination's new holder decides what becomes of the post (and records it).
fn lost_claim(item: &OutboxItem) {
    warn!(outbox = item.id, channel = %item.destination, "another process took this channel over; not giving up its post");
}

/// The span one outbox message is sent and settled in.
fn post_span(item: &OutboxItem) -> Span {
    let span = info_span!("post", outbox = item.id, channel = %item.destination, deployment = field::Empty);
    if let Some(id) = item.deployment_id {
        span.record("deployment", id);
    }
    span
}
