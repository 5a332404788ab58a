//! `golive serve`'s HTTP side: liveness, readiness and the Slack routes; Discord joins here
//! when its adapter lands. Shutdown is an argument, so tests and signals stop it the
//! same way.

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tracing::warn;

use crate::slack::inbound::{self, SlackInbound};
use crate::slack::interactions;
use crate::store::Store;

/// Health and readiness, plus the Slack routes when Slack is enabled.
pub fn router(store: Store, slack: Option<SlackInbound>) -> Router {
    let mut router = Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(store);
    if let Some(slack) = slack {
        router = router.merge(
            Router::new()
                .route("/slack/commands", post(inbound::commands))
                .route("/slack/events", post(inbound::events))
                .route("/slack/interactions", post(interactions::interactions))
                .layer(DefaultBodyLimit::max(inbound::BODY_LIMIT))
                .with_state(slack),
        );
    }
    router
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once the database answers and every migration is applied.
async fn readyz(State(store): State<Store>) -> (StatusCode, String) {
    match store.is_migrated().await {
        Ok(true) => (StatusCode::OK, "ready\n".into()),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database migrations are not applied\n".into()),
        Err(e) => {
            warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n".into())
        }
    }
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
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
