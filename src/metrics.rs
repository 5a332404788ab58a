//! What golive counts for its operators, and its `/metrics` page. Counters and histograms are
//! kept in memory as things happen (commands, HTTP requests, posts, timers); what lives in the
//! database (outbox depth, active deployments, open escalations) is read when Prometheus
//! scrapes, so it is never stale. Each `Engine` has its own registry, so tests and benches
//! running several servers in one process do not share counts.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::store::{Route, Vitals};

/// The content type of the page `render` writes (OpenMetrics text, which Prometheus scrapes
/// natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PostLabels {
    platform: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabels {
    platform: &'static str,
}

/// How a command ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Recorded, or answered when it was a question.
    Ok,
    /// Refused: not allowed, not valid now, or not understood.
    Refused,
    /// A redelivery answered with the first answer.
    Repeated,
    /// The database failed; nothing was recorded.
    Error,
}

impl CommandOutcome {
    fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Ok => "ok",
            CommandOutcome::Refused => "refused",
            CommandOutcome::Repeated => "repeated",
            CommandOutcome::Error => "error",
        }
    }
}

/// What happened to one attempt to post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostResult {
    Delivered,
    /// Failed for now; it stays queued.
    Retried,
    /// Given up: the platform refused it for good, or it waited too long.
    Failed,
}

impl PostResult {
    fn as_str(self) -> &'static str {
        match self {
            PostResult::Delivered => "delivered",
            PostResult::Retried => "retried",
            PostResult::Failed => "failed",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    posts: Family<PostLabels, Counter>,
    timers_fired: Counter,
    commits: Counter,
    committed_inputs: Counter,
    scheduler_lag: Gauge<f64, AtomicU64>,
    timers_overdue: Gauge<f64, AtomicU64>,
    outbox_depth: Family<PlatformLabels, Gauge>,
    outbox_oldest: Gauge<f64, AtomicU64>,
    active: Gauge,
    escalations: Gauge,
}

/// 0.5 ms to about 8 s: a command is a few milliseconds, Slack gives up at 3 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("golive");
        let commands = Family::default();
        registry.register("commands", "Chat commands handled, by kind and outcome", commands.clone());
        let requests = Family::default();
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route",
            latency.clone(),
        );
        let posts = Family::default();
        registry.register(
            "posts",
            "Attempts to post to a chat platform or pager, by platform and result",
            posts.clone(),
        );
        let timers_fired = Counter::default();
        registry.register("timers_fired", "Deployment timers fired by the scheduler", timers_fired.clone());
        let commits = Counter::default();
        registry.register("writer_commits", "Transactions the writer committed (one fsync each)", commits.clone());
        let committed_inputs = Counter::default();
        registry.register(
            "writer_inputs",
            "Inputs the writer decided; over writer_commits, how many share a commit",
            committed_inputs.clone(),
        );
        let scheduler_lag = Gauge::default();
        registry.register(
            "scheduler_lag_seconds",
            "How late the scheduler's latest pass fired its most overdue timer",
            scheduler_lag.clone(),
        );
        let timers_overdue = Gauge::default();
        registry.register(
            "timers_overdue_seconds",
            "How long the earliest deployment timer has been due without firing (0 when none is); grows if the scheduler is stuck",
            timers_overdue.clone(),
        );
        let outbox_depth = Family::default();
        registry.register("outbox_pending", "Posts waiting in the outbox, by platform", outbox_depth.clone());
        let outbox_oldest = Gauge::default();
        registry.register(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest post waiting in the outbox (0 when it is empty)",
            outbox_oldest.clone(),
        );
        let active = Gauge::default();
        registry.register("deployments_active", "Deployments not yet completed or aborted", active.clone());
        let escalations = Gauge::default();
        registry.register("escalations_open", "Escalations opened and not yet resolved", escalations.clone());
        Metrics {
            registry,
            commands,
            requests,
            latency,
            posts,
            timers_fired,
            commits,
            committed_inputs,
            scheduler_lag,
            timers_overdue,
            outbox_depth,
            outbox_oldest,
            active,
            escalations,
        }
    }

    pub fn command(&self, kind: &'static str, outcome: CommandOutcome) {
        self.commands.get_or_create(&CommandLabels { kind, outcome: outcome.as_str() }).inc();
    }

    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { route: route.to_string(), status }).inc();
        self.latency.get_or_create(&RouteLabels { route: route.to_string() }).observe(seconds);
    }

    pub fn post(&self, route: Route, result: PostResult) {
        self.posts.get_or_create(&PostLabels { platform: route.as_str(), result: result.as_str() }).inc();
    }

    /// A scheduler pass fired `fired` timers, the most overdue of them `lag_seconds` late.
    pub fn timers(&self, fired: usize, lag_seconds: f64) {
        self.timers_fired.inc_by(fired as u64);
        self.scheduler_lag.set(lag_seconds);
    }

    /// The writer committed one transaction holding `inputs` inputs.
    pub fn commit(&self, inputs: usize) {
        self.commits.inc();
        self.committed_inputs.inc_by(inputs as u64);
    }

    /// The page Prometheus scrapes, with the database's figures as of `vitals`.
    pub fn render(&self, vitals: &Vitals) -> String {
        for route in Route::ALL {
            let depth = vitals.pending.iter().find(|(r, _)| *r == route).map_or(0, |(_, n)| *n);
            self.outbox_depth.get_or_create(&PlatformLabels { platform: route.as_str() }).set(depth);
        }
        self.outbox_oldest.set(vitals.oldest_pending_secs);
        self.timers_overdue.set(vitals.overdue_timer_secs);
        self.active.set(vitals.active_deployments);
        self.escalations.set(vitals.open_escalations);
        let mut page = String::new();
        // Writing to a String cannot fail.
        let _ = text::encode(&mut page, &self.registry);
        page
    }
}
