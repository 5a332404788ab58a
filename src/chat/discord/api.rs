//! Discord's REST API through serenity's HTTP client: posts and edits for the outbox, answers
//! to interactions that came over the gateway, and registering the `/deploy` command. The
//! configured `[discord] api_url` is honoured through serenity's proxy setting, which sends
//! every call to that origin (keeping Discord's `/api/v10/…` paths), so tests and proxies can
//! stand in for discord.com. Against discord.com serenity's rate limiter reads Discord's
//! `X-RateLimit-*` headers, waits before a call that would be limited and honours
//! `Retry-After` on a 429; through a proxy, serenity leaves rate limiting to the proxy (as
//! twilight-http-proxy does it) and a 429 or 5xx comes back here to be retried by the outbox.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use serenity::http::{Http, HttpBuilder, HttpError};
use serenity::model::id::{ApplicationId, ChannelId, GuildId, InteractionId, MessageId};
use thiserror::Error;

use crate::delivery::{SendError, Sent, Transport};
use crate::domain::Platform;
use crate::store::{Action, OutboxItem, Route};

/// The environment variable that holds the bot token.
pub const TOKEN_VAR: &str = "GOLIVE_DISCORD_TOKEN";
const DISCORD_ORIGIN: &str = "https://discord.com";

/// Discord's JSON error codes golive tells apart.
mod code {
    pub const UNKNOWN_CHANNEL: isize = 10003;
    pub const UNKNOWN_MESSAGE: isize = 10008;
    pub const MISSING_ACCESS: isize = 50001;
    pub const MISSING_PERMISSIONS: isize = 50013;
}

#[derive(Debug, Error)]
pub enum DiscordSetupError {
    #[error("{TOKEN_VAR} is not set; golive needs the Discord bot token to post")]
    NoToken,
    #[error("[discord] api_url `{0}` is not an http(s) URL")]
    BadUrl(String),
    #[error("[discord] application_id `{0}` is not a Discord application id (the number on the developer portal's General Information page)")]
    BadApplication(String),
}

pub struct DiscordApi {
    http: Arc<Http>,
}

/// The origin to send calls to, when it is not discord.com.
fn proxy_for(api_url: &str) -> Result<Option<String>, DiscordSetupError> {
    let url = url::Url::parse(api_url).map_err(|_| DiscordSetupError::BadUrl(api_url.into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(DiscordSetupError::BadUrl(api_url.into()));
    }
    let origin = url.origin().ascii_serialization();
    Ok((origin != DISCORD_ORIGIN).then_some(origin))
}

impl DiscordApi {
    pub fn new(api_url: &str, token: &str, application_id: &str) -> Result<DiscordApi, DiscordSetupError> {
        let app: u64 = match application_id.trim() {
            "" | "0" => 0,
            id => id.parse().ok().filter(|id| *id != 0).ok_or_else(|| DiscordSetupError::BadApplication(id.into()))?,
        };
        let mut builder = HttpBuilder::new(token);
        if app != 0 {
            builder = builder.application_id(ApplicationId::new(app));
        }
        if let Some(origin) = proxy_for(api_url)? {
            // serenity's rate limiter ignores the proxy setting, so with a proxy it must be off.
            builder = builder.proxy(origin).ratelimiter_disabled(true);
        }
        Ok(DiscordApi { http: Arc::new(builder.build()) })
    }

    /// A client with the token from the environment.
    pub fn from_env(api_url: &str, application_id: &str) -> Result<DiscordApi, DiscordSetupError> {
        let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.trim().is_empty()).ok_or(DiscordSetupError::NoToken)?;
        DiscordApi::new(api_url, token.trim(), application_id)
    }

    pub fn http(&self) -> Arc<Http> {
        self.http.clone()
    }

    /// Answers an interaction that came over the gateway with the same body the HTTP endpoint
    /// would have returned.
    pub async fn respond(&self, interaction_id: &str, token: &str, answer: &Value) -> Result<(), SendError> {
        let id: u64 = interaction_id.parse().ok().filter(|id| *id != 0).ok_or_else(|| SendError::Permanent {
            reason: format!("`{interaction_id}` is not an interaction id"),
            channel_unusable: false,
            hint: None,
        })?;
        self.http.create_interaction_response(InteractionId::new(id), token, answer, Vec::new()).await.map_err(classify)
    }

    /// Replaces a deferred answer ("golive is thinking…") with the real one.
    pub async fn edit_original(&self, token: &str, data: &Value) -> Result<(), SendError> {
        self.http.edit_original_interaction_response(token, data, Vec::new()).await.map(|_| ()).map_err(classify)
    }

    /// Replaces golive's commands with `commands`: in one guild (available at once), or
    /// globally (Discord may take a while to show them everywhere).
    pub async fn register(&self, commands: &Value, guild: Option<&str>) -> Result<usize, SendError> {
        if self.http.application_id().is_none() {
            return Err(SendError::Permanent {
                reason: "[discord] application_id is not set".into(),
                channel_unusable: false,
                hint: Some("set it to the application id from the Discord developer portal".into()),
            });
        }
        let registered = match guild {
            Some(guild) => {
                let id: u64 = guild.trim().parse().ok().filter(|id| *id != 0).ok_or_else(|| SendError::Permanent {
                    reason: format!("[discord] guild_id `{guild}` is not a Discord server id"),
                    channel_unusable: false,
                    hint: None,
                })?;
                self.http.create_guild_commands(GuildId::new(id), commands).await
            }
            None => self.http.create_global_commands(commands).await,
        };
        registered.map(|c| c.len()).map_err(classify)
    }

    async fn post(&self, channel: ChannelId, body: &Value, reposted: bool) -> Result<Sent, SendError> {
        let message = self.http.send_message(channel, Vec::new(), body).await.map_err(classify)?;
        Ok(Sent { remote_id: Some(message.id.to_string()), reposted, ..Sent::default() })
    }
}

/// The message body: content, with the embeds, components and allowed mentions rendered for
/// Discord. Nobody is pinged unless the rendering named them.
fn body(item: &OutboxItem) -> Value {
    let mut body = item.payload.blocks.clone().filter(Value::is_object).unwrap_or_else(|| json!({}));
    let has_embed = body.get("embeds").and_then(Value::as_array).is_some_and(|e| !e.is_empty());
    // A status post is its embed; everything else is said in the content.
    body["content"] = if has_embed { json!("") } else { json!(crate::render::embeds::content(&item.payload.text)) };
    if body.get("allowed_mentions").is_none() {
        body["allowed_mentions"] = json!({ "parse": [] });
    }
    body
}

fn id_of(s: &str) -> Option<u64> {
    s.trim().parse().ok().filter(|id| *id != 0)
}

#[async_trait]
impl Transport for DiscordApi {
    fn route(&self) -> Route {
        Route::Chat(Platform::Discord)
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let Some(channel) = id_of(item.destination.address()).map(ChannelId::new) else {
            return Err(SendError::Permanent {
                reason: format!("`{}` is not a Discord channel id", item.destination.address()),
                channel_unusable: true,
                hint: None,
            });
        };
        let body = body(item);
        match (&item.action, item.target_remote_id.as_deref().and_then(id_of)) {
            (Action::Update { .. }, Some(message)) => {
                match self.http.edit_message(channel, MessageId::new(message), &body, Vec::new()).await {
                    Ok(edited) => Ok(Sent { remote_id: Some(edited.id.to_string()), ..Sent::default() }),
                    // Someone deleted the status message: post the current status anew, and
                    // later changes edit that one.
                    Err(e) if json_code(&e) == Some(code::UNKNOWN_MESSAGE) => {
                        tracing::info!(outbox = item.id, "the status message is gone; posting it anew");
                        self.post(channel, &body, true).await
                    }
                    Err(e) => Err(classify(e)),
                }
            }
            (Action::Update { .. }, None) => self.post(channel, &body, true).await,
            (Action::Post, _) => self.post(channel, &body, false).await,
            // Discord shows a message to one person only as the answer to their interaction,
            // which the interaction handler gives directly; nothing queues these for Discord.
            (Action::Ephemeral { .. } | Action::Respond { .. }, _) => Err(SendError::Permanent {
                reason: "Discord has no private messages outside an interaction's answer".into(),
                channel_unusable: false,
                hint: None,
            }),
        }
    }
}

fn json_code(e: &serenity::Error) -> Option<isize> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

/// Sorts a failed call into retry or give up, with what the operator should do.
pub fn classify(e: serenity::Error) -> SendError {
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = &e else {
        // Network errors, timeouts, bodies that do not parse: worth another try.
        return SendError::Retry { reason: format!("Discord did not answer usably: {e}"), after: None };
    };
    let status = r.status_code.as_u16();
    let what = format!("Discord answered {status} `{}` (code {})", r.error.message, r.error.code);
    match (status, r.error.code) {
        (429, _) | (500..=599, _) => SendError::Retry { reason: what, after: None },
        (_, code::UNKNOWN_CHANNEL) | (404, _) => SendError::Permanent {
            reason: what,
            channel_unusable: true,
            hint: Some("the channel is gone, or golive's bot cannot see it".into()),
        },
        (_, code::MISSING_ACCESS | code::MISSING_PERMISSIONS) | (403, _) => SendError::Permanent {
            reason: what,
            channel_unusable: true,
            hint: Some(
                "give golive's bot View Channel, Send Messages and Embed Links in this channel (or invite it to the server)"
                    .into(),
            ),
        },
        (401, _) => SendError::Permanent {
            reason: what,
            channel_unusable: false,
            hint: Some(format!("check {TOKEN_VAR}: Discord does not accept the bot token")),
        },
        _ => SendError::Permanent { reason: what, channel_unusable: false, hint: None },
    }
}
