//! The gateway: a bot connection to Discord for teams that run golive without a public URL.
//! Interactions arrive as events instead of HTTP requests; each is turned back into the JSON
//! Discord would have POSTed, answered by the same `DiscordInbound::answer`, and the answer
//! sent through the REST API. So both ways in share one path, and the HTTP tests cover it.

use std::sync::Arc;

use serenity::all::{Context, EventHandler, GatewayIntents, Ready};
use serenity::Client;
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::api::DiscordApi;
use super::inbound::DiscordInbound;
use super::interaction::{kind, Interaction};

struct Handler {
    inbound: DiscordInbound,
    api: Arc<DiscordApi>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        info!(bot = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord's gateway");
    }

    async fn interaction_create(&self, _ctx: Context, event: serenity::all::Interaction) {
        handle(&self.inbound, &self.api, &event).await;
    }
}

/// Answers one interaction from the gateway through the REST API.
pub async fn handle(inbound: &DiscordInbound, api: &DiscordApi, event: &serenity::all::Interaction) {
    let interaction = match as_posted(event) {
        Ok(i) => i,
        Err(e) => return warn!(error = %e, "could not read an interaction from the gateway"),
    };
    if interaction.kind == kind::PING {
        return;
    }
    let answer = inbound.answer_in_time(interaction.clone()).await;
    if let Err(e) = api.respond(&interaction.id, &interaction.token, &answer).await {
        warn!(error = %e, "could not answer a Discord interaction");
    }
}

/// An interaction from the gateway as Discord would have POSTed it. serenity writes each
/// kind's fields but not the `type` that tells the kinds apart, so it is put back.
pub fn as_posted(event: &serenity::all::Interaction) -> Result<Interaction, serde_json::Error> {
    let mut json = serde_json::to_value(event)?;
    json["type"] = u8::from(event.kind()).into();
    serde_json::from_value(json)
}

/// Keeps the gateway connection (serenity reconnects by itself) until `stop` changes.
pub async fn run(token: String, inbound: DiscordInbound, api: Arc<DiscordApi>, mut stop: watch::Receiver<bool>) {
    // Slash commands and buttons need no privileged intent.
    let client = Client::builder(&token, GatewayIntents::GUILDS).event_handler(Handler { inbound, api }).await;
    let mut client = match client {
        Ok(c) => c,
        Err(e) => return error!(error = %e, "cannot set up Discord's gateway connection"),
    };
    let shards = client.shard_manager.clone();
    tokio::select! {
        ended = client.start() => match ended {
            Ok(()) => info!("Discord's gateway connection ended"),
            Err(e) => error!(error = %e, "Discord's gateway connection failed; check GOLIVE_DISCORD_TOKEN"),
        },
        _ = stop.changed() => shards.shutdown_all().await,
    }
}
