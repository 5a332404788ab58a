//! `golive serve` assembled: the HTTP routes, the timer loop and the delivery worker over one
//! engine, stopped together. Tests run the same assembly on a manual clock.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::SharedClock;
use crate::config::Config;
use crate::delivery::{ChatApi, Delivery};
use crate::engine::Engine;
use crate::liveness::Liveness;
use crate::paging::{PagingApi, PagingSetupError};
use crate::slack::api::SlackSetupError;
use crate::slack::inbound::SlackInbound;
use crate::slack::verify::{SigningSecret, SECRET_VAR};
use crate::slack::SlackApi;
use crate::store::Store;
use crate::{scheduler, server};

/// Background work gets this long, beyond the outbox's grace, to finish its current step
/// after the HTTP side stops.
const DRAIN: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum SetupError {
    #[error(transparent)]
    Slack(#[from] SlackSetupError),
    #[error("{SECRET_VAR} is not set; golive needs the Slack app's signing secret to verify requests to /slack/*")]
    NoSigningSecret,
    #[error("[discord] enabled = true, but this build of golive has no Discord adapter yet; set it to false")]
    NoDiscord,
    #[error(transparent)]
    Paging(#[from] PagingSetupError),
}

/// The chat platforms the config enables: their Web APIs for posting, and what verifies
/// their requests.
#[derive(Default)]
pub struct Adapters {
    pub apis: Vec<Arc<dyn ChatApi>>,
    pub slack_secret: Option<SigningSecret>,
    /// Slack's Web API for the inbound side (dialogs, user groups); the same client as the
    /// one in `apis`.
    pub slack_api: Option<Arc<SlackApi>>,
}

impl Adapters {
    /// The adapters the config enables, with secrets from the environment.
    pub fn from_env(config: &Config) -> Result<Adapters, SetupError> {
        let mut adapters = Adapters::default();
        if config.slack.enabled {
            let api = Arc::new(SlackApi::from_env(&config.slack.api_url)?);
            adapters.apis.push(api.clone());
            adapters.slack_api = Some(api);
            let secret = std::env::var(SECRET_VAR).ok().filter(|s| !s.trim().is_empty());
            adapters.slack_secret = Some(SigningSecret::new(secret.ok_or(SetupError::NoSigningSecret)?.trim()));
        }
        if config.discord.enabled {
            return Err(SetupError::NoDiscord);
        }
        if config.escalation.iter().any(|l| l.webhook.is_some()) {
            adapters.apis.push(Arc::new(PagingApi::from_env()?));
        }
        Ok(adapters)
    }
}

/// Serves until `shutdown` resolves. Then: no new connections, requests in flight are
/// answered, the scheduler stops after its current step, and the delivery worker keeps
/// posting what is queued for up to `[server] shutdown_grace` before it stops too.
pub async fn serve(
    config: Arc<Config>,
    store: Store,
    clock: SharedClock,
    adapters: Adapters,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = config.server.shutdown_grace;
    let engine = Engine::new(store, config, clock.clone());
    let workers = Liveness::default();
    let (stop, stopped) = watch::channel(false);
    let scheduler_running = workers.start("scheduler");
    let timers = tokio::spawn({
        let (engine, stopped) = (engine.clone(), stopped.clone());
        async move {
            let _running = scheduler_running;
            scheduler::run(engine, stopped).await
        }
    });
    let platforms: Vec<&str> = adapters.apis.iter().map(|a| a.platform().as_str()).collect();
    info!(platforms = ?platforms, "delivering posts");
    let delivery = Delivery::new(engine.clone(), clock, adapters.apis);
    let delivery_running = workers.start("delivery");
    let courier = tokio::spawn(async move {
        let _running = delivery_running;
        delivery.run(stopped).await;
        delivery.flush(grace).await;
    });
    let slack = adapters.slack_secret.map(|secret| SlackInbound::new(engine.clone(), secret, adapters.slack_api));
    if slack.is_some() {
        info!("answering Slack on /slack/commands, /slack/interactions and /slack/events");
    }
    let ops = server::Ops { engine, workers };
    let served = server::serve(listener, server::router(ops, slack), shutdown).await;
    info!("no longer accepting requests; stopping the scheduler and flushing the outbox");
    let _ = stop.send(true);
    let patience = grace + DRAIN;
    for (name, task) in [("scheduler", timers), ("delivery", courier)] {
        match tokio::time::timeout(patience, task).await {
            Ok(Ok(())) => info!("{name} stopped"),
            Ok(Err(e)) => warn!(error = %e, "{name} ended abnormally"),
            Err(_) => warn!("{name} did not stop within {patience:?}; leaving it (its work is in the database)"),
        }
    }
    served
}
