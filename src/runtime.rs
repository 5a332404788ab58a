//! `golive serve` assembled: the HTTP routes, the timer loop and the delivery worker over one
//! engine, stopped together. Tests run the same assembly on a manual clock.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::chat::discord::api::{DiscordSetupError, TOKEN_VAR as DISCORD_TOKEN_VAR};
use crate::chat::discord::inbound::DiscordInbound;
use crate::chat::discord::verify::{BadKey, PublicKey, KEY_VAR};
use crate::chat::discord::{self, DiscordApi};
use crate::chat::slack::api::SlackSetupError;
use crate::chat::slack::inbound::SlackInbound;
use crate::chat::slack::verify::{SigningSecret, SECRET_VAR};
use crate::chat::slack::SlackApi;
use crate::clock::SharedClock;
use crate::config::{Config, DiscordConfig};
use crate::delivery::hooks::HookRunner;
use crate::delivery::pager::{PagingApi, PagingSetupError};
use crate::delivery::{Delivery, Transport};
use crate::domain::plan::HookAction;
use crate::engine::Engine;
use crate::liveness::Liveness;
use crate::store::Route;
use crate::store::Store;
use crate::workers::{check_runner, timer_loop};
use crate::{server, web};

/// Background work gets this long, beyond the outbox's grace, to finish its current step
/// after the HTTP side stops.
const DRAIN: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum SetupError {
    #[error(transparent)]
    Slack(#[from] SlackSetupError),
    #[error("{SECRET_VAR} is not set; golive needs the Slack app's signing secret to verify requests to /slack/*")]
    NoSigningSecret,
    #[error(transparent)]
    Discord(#[from] DiscordSetupError),
    #[error(transparent)]
    DiscordKey(#[from] BadKey),
    #[error("{KEY_VAR} is not set; with [discord] gateway = false golive only hears Discord on /discord/interactions, which needs the application's public key")]
    NoDiscordKey,
    #[error(transparent)]
    Paging(#[from] PagingSetupError),
    #[error("plan `{plan}`'s hook `{hook}` signs its webhook with {var}, which is not set")]
    NoHookSecret { plan: String, hook: String, var: String },
}

/// The chat platforms the config enables: their Web APIs for posting, and what verifies
/// their requests.
#[derive(Default)]
pub struct Adapters {
    pub apis: Vec<Arc<dyn Transport>>,
    pub slack_secret: Option<SigningSecret>,
    /// Slack's Web API for the inbound side (dialogs, user groups); the same client as the
    /// one in `apis`.
    pub slack_api: Option<Arc<SlackApi>>,
    /// Discord's REST API (also in `apis`), for registering the command and answering
    /// gateway interactions.
    pub discord_api: Option<Arc<DiscordApi>>,
    /// Verifies `/discord/interactions`; without it that route is not served.
    pub discord_key: Option<PublicKey>,
    /// The bot token, when golive should hold a gateway connection.
    pub discord_gateway: Option<String>,
    /// `GOLIVE_WEB_TOKEN`: what the web pages ask for unless `[web] open = true`.
    pub web_token: Option<String>,
}

impl Adapters {
    /// The adapters the config enables, with secrets from the environment.
    pub fn from_env(config: &Config) -> Result<Adapters, SetupError> {
        let mut adapters = Adapters { web_token: std::env::var(web::access::TOKEN_VAR).ok(), ..Adapters::default() };
        if config.slack.enabled {
            let api = Arc::new(SlackApi::from_env(&config.slack.api_url)?);
            adapters.apis.push(api.clone());
            adapters.slack_api = Some(api);
            let secret = std::env::var(SECRET_VAR).ok().filter(|s| !s.trim().is_empty());
            adapters.slack_secret = Some(SigningSecret::new(secret.ok_or(SetupError::NoSigningSecret)?.trim()));
        }
        if config.discord.enabled {
            let d = &config.discord;
            let api = Arc::new(DiscordApi::from_env(&d.api_url, &d.application_id)?);
            adapters.apis.push(api.clone());
            adapters.discord_api = Some(api);
            let key = std::env::var(KEY_VAR).ok().filter(|k| !k.trim().is_empty());
            adapters.discord_key = key.map(|k| PublicKey::from_hex(&k)).transpose()?;
            if d.gateway {
                adapters.discord_gateway = std::env::var(DISCORD_TOKEN_VAR).ok().map(|t| t.trim().to_string());
            } else if adapters.discord_key.is_none() {
                return Err(SetupError::NoDiscordKey);
            }
        }
        if config.escalation.iter().any(|l| l.webhook.is_some()) {
            adapters.apis.push(Arc::new(PagingApi::from_env()?));
        }
        let hooks: Vec<_> = config.plans.values().flat_map(|p| p.hooks.iter().map(move |h| (p, h))).collect();
        for (plan, hook) in &hooks {
            if let HookAction::Webhook { secret_env, .. } = &hook.action {
                if std::env::var(secret_env).ok().filter(|s| !s.is_empty()).is_none() {
                    return Err(SetupError::NoHookSecret {
                        plan: plan.id.clone(),
                        hook: hook.name.clone(),
                        var: secret_env.clone(),
                    });
                }
            }
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
    // A damaged file keeps `/readyz` at 503; golive still starts, so the operator can look.
    if let Err(e) = store.quick_check().await {
        tracing::error!(error = %e, "the database is damaged; run `golive audit verify` and restore it from a backup");
    }
    let engine = Engine::new(store, config, clock.clone());
    let workers = Liveness::default();
    let (stop, stopped) = watch::channel(false);
    let stopped_for_gateway = stopped.clone();
    let scheduler_running = workers.start("scheduler");
    let timers = tokio::spawn({
        let (engine, stopped) = (engine.clone(), stopped.clone());
        async move {
            let _running = scheduler_running;
            timer_loop::run(engine, stopped).await
        }
    });
    let mut apis = adapters.apis;
    // Always: a running deployment's hooks come from the plan it started with, which a
    // config edit since may have dropped.
    if !apis.iter().any(|a| a.route() == Route::Hooks) {
        match HookRunner::new() {
            Ok(runner) => apis.push(Arc::new(runner)),
            Err(e) => warn!(error = %e, "cannot set up HTTPS for hooks; webhooks will wait in the outbox"),
        }
    }
    let checks_running = workers.start("checks");
    let probes = tokio::spawn({
        let (engine, stopped) = (engine.clone(), stopped.clone());
        async move {
            let _running = checks_running;
            check_runner::run(engine, stopped).await
        }
    });
    let platforms: Vec<&str> = apis.iter().map(|a| a.route().as_str()).collect();
    info!(platforms = ?platforms, "delivering posts");
    let delivery = Delivery::new(engine.outbox(), clock, apis);
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
    let mut gateway = None;
    let discord = match adapters.discord_api {
        Some(api) => {
            let inbound = DiscordInbound {
                engine: engine.clone(),
                key: adapters.discord_key.map(Arc::new),
                api: Some(api.clone()),
            };
            if inbound.key.is_some() {
                info!("answering Discord on /discord/interactions");
            }
            if engine.config().discord.register_commands {
                tokio::spawn(register_commands(
                    engine.config().discord.clone(),
                    engine.config().escalation.len(),
                    api.clone(),
                ));
            }
            if let Some(token) = adapters.discord_gateway {
                let stopped = stopped_for_gateway.clone();
                // Readiness fails if the gateway connection ends (a bad token, say).
                let running = workers.start("discord gateway");
                let inbound = inbound.clone();
                gateway = Some(tokio::spawn(async move {
                    let _running = running;
                    discord::gateway::run(token, inbound, api, stopped).await
                }));
            }
            Some(inbound)
        }
        None => None,
    };
    let pages = web_pages(&engine, adapters.web_token.as_deref());
    let ops = server::Ops { engine, workers };
    // Pages left open would hold a graceful shutdown for the whole request timeout: their
    // streams end as the shutdown begins.
    let shutdown = web::Pages::closing_with(pages.as_ref(), shutdown);
    let served = server::serve(listener, server::router(ops, slack, discord, pages), shutdown).await;
    info!("no longer accepting requests; stopping the scheduler and flushing the outbox");
    let _ = stop.send(true);
    let patience = grace + DRAIN;
    let tasks = [
        ("scheduler", Some(timers)),
        ("checks", Some(probes)),
        ("delivery", Some(courier)),
        ("Discord gateway", gateway),
    ];
    for (name, task) in tasks.into_iter().filter_map(|(n, t)| Some((n, t?))) {
        match tokio::time::timeout(patience, task).await {
            Ok(Ok(())) => info!("{name} stopped"),
            Ok(Err(e)) => warn!(error = %e, "{name} ended abnormally"),
            Err(_) => warn!("{name} did not stop within {patience:?}; leaving it (its work is in the database)"),
        }
    }
    served
}

/// The web pages over this engine's database when `[web] enabled`, woken by its commits.
fn web_pages(engine: &Engine, token: Option<&str>) -> Option<web::Pages> {
    let config = engine.config();
    if !config.web.enabled {
        return None;
    }
    let access = web::Access::new(&config.web, token);
    match (&access, &config.server.public_url) {
        (web::Access::Open, _) => warn!("serving the web pages under / to anyone ([web] open = true)"),
        (web::Access::Closed, _) => warn!(
            "[web] is enabled but {} is not set: every page answers 401 (set it, or [web] enabled = false)",
            web::access::TOKEN_VAR
        ),
        (_, Some(url)) => info!(%url, "serving the web pages under /; posts link there"),
        (_, None) => info!("serving the web pages under / (set [server] public_url for posts to link there)"),
    }
    Some(web::Pages::new(engine.store().clone(), Arc::new(config.clone()), engine.clock(), access, engine.commits()))
}

/// Registers (overwrites) the `/deploy` command with Discord, in the configured server or
/// globally. A failure is logged with what to fix; golive keeps serving what it can.
pub async fn register_commands(config: DiscordConfig, levels: usize, api: Arc<DiscordApi>) {
    let commands = discord::registration::definition(&config.command, levels);
    let scope = config.guild_id.as_deref().map_or("globally".to_string(), |g| format!("in server {g}"));
    match api.register(&commands, config.guild_id.as_deref()).await {
        Ok(n) => info!(commands = n, "registered /{} with Discord {scope}", config.command),
        Err(e) => warn!(error = %e, "could not register /{} with Discord {scope}", config.command),
    }
}
