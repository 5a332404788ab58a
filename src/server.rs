//! `golive serve`'s HTTP side: liveness, readiness, metrics, the Slack and Discord routes
//! of the adapters that are enabled, and the web pages when `[web]` is on. Every request is timed and counted by route, in a span
//! naming the route, so what a command logs reads with the request it came in on. Shutdown is
//! an argument, so tests and signals stop it the same way.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tracing::{debug, info_span, warn, Instrument};

use crate::chat::discord::inbound::{self as discord_inbound, DiscordInbound};
use crate::chat::signature::BODY_LIMIT;
use crate::chat::slack::inbound::{self, SlackInbound};
use crate::chat::slack::interactions;
use crate::engine::Engine;
use crate::liveness::Liveness;
use crate::metrics;
use crate::web;

/// What the operator routes read: the engine (database, clock, counters) and whether the
/// background workers still run.
#[derive(Clone)]
pub struct Ops {
    pub engine: Engine,
    pub workers: Liveness,
}

/// Health, readiness and metrics, plus the Slack and Discord routes when they are enabled,
/// and the web pages when given.
pub fn router(
    ops: Ops,
    slack: Option<SlackInbound>,
    discord: Option<DiscordInbound>,
    pages: Option<web::Pages>,
) -> Router {
    let engine = ops.engine.clone();
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .with_state(ops);
    if let Some(slack) = slack {
        router = router.merge(
            Router::new()
                .route("/slack/commands", post(inbound::commands))
                .route("/slack/events", post(inbound::events))
                .route("/slack/interactions", post(interactions::interactions))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .with_state(slack),
        );
    }
    if let Some(discord) = discord.filter(|d| d.key.is_some()) {
        router = router.merge(
            Router::new()
                .route("/discord/interactions", post(discord_inbound::interactions))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .with_state(discord),
        );
    }
    if let Some(pages) = pages {
        router = router.merge(web::router(pages));
    }
    router.layer(middleware::from_fn_with_state(engine, observe))
}

/// Times and counts every request by route, inside a span naming it.
async fn observe(State(engine): State<Engine>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let span = info_span!("request", method = %request.method(), %route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| debug!(status, ms = elapsed.as_secs_f64() * 1000.0, "answered"));
    engine.metrics().request(&route, status, elapsed.as_secs_f64());
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// How long `/readyz` waits for the database before it says the database is unreachable: a
/// load balancer's probe gives up after a few seconds, and a replica whose database does not
/// answer (a network partition) should be taken out of rotation, not time the probe out.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// Ready once the database answers, every migration is applied, it can be written (the same
/// file golive opened, sound at start, a probe write commits), and the background workers
/// (the outbox's delivery worker, the scheduler) still run.
async fn readyz(State(ops): State<Ops>) -> (StatusCode, String) {
    // Spawned, so a check that outlasts the wait still runs to its end: cancelled half way, a
    // probe write could leave its transaction (and the database's write lock) open.
    let check = tokio::spawn(readiness(ops));
    match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            warn!(error = %e, "the readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "the readiness check failed\n".into())
        }
        Err(_) => {
            warn!(within = ?READY_WITHIN, "not ready: the database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, format!("database unreachable: no answer within {READY_WITHIN:?}\n"))
        }
    }
}

async fn readiness(ops: Ops) -> (StatusCode, String) {
    let stopped = ops.workers.stopped();
    if !stopped.is_empty() {
        warn!(workers = ?stopped, "not ready: background workers stopped");
        return (StatusCode::SERVICE_UNAVAILABLE, format!("not running: {}\n", stopped.join(", ")));
    }
    // Checked first: a pool connection to a file deleted meanwhile reads nothing useful.
    if let Err(e) = ops.engine.store().same_file() {
        warn!(error = %e, "not ready");
        return (StatusCode::SERVICE_UNAVAILABLE, format!("database not writable: {e}\n"));
    }
    match ops.engine.store().is_migrated().await {
        Ok(true) => match ops.engine.store().writable(ops.engine.now()).await {
            Ok(()) => (StatusCode::OK, "ready\n".into()),
            Err(e) => {
                warn!(error = %e, "not ready: the database cannot be written");
                (StatusCode::SERVICE_UNAVAILABLE, format!("database not writable: {e}\n"))
            }
        },
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database migrations are not applied\n".into()),
        Err(e) => {
            warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n".into())
        }
    }
}

/// Prometheus' scrape: the counters, and the database's figures read now.
async fn metrics_page(State(ops): State<Ops>) -> Response {
    match ops.engine.store().vitals(ops.engine.now()).await {
        Ok(vitals) => {
            ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], ops.engine.metrics().render(&vitals)).into_response()
        }
        Err(e) => {
            warn!(error = %e, "metrics: cannot read the database");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// Serves with the connection limits of `crate::listen` (header, idle and request timeouts,
/// a cap on connections), not `axum::serve`, which has none of them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::listen::serve(listener, router, crate::listen::ConnLimits::for_this_process(), shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
