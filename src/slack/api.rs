//! Outbound Slack: `chat.postMessage` through slack-morphism's hyper client. Slack's answers
//! are sorted into "try again" (network, 5xx, 429 with its `Retry-After`, Slack's transient
//! error codes) and "give up" (the app is not in the channel, the channel is gone, the token
//! is wrong), so the delivery worker knows what to do.

use std::sync::Arc;

use async_trait::async_trait;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use thiserror::Error;

use crate::delivery::{ChatApi, SendError, Sent};
use crate::domain::Platform;
use crate::store::OutboxItem;

/// The environment variable that holds the bot token.
pub const TOKEN_VAR: &str = "GOLIVE_SLACK_BOT_TOKEN";

#[derive(Debug, Error)]
pub enum SlackSetupError {
    #[error("{TOKEN_VAR} is not set; golive needs the Slack app's bot token (xoxb-…) to post")]
    NoToken,
    #[error("cannot set up HTTPS for the Slack API: {0}")]
    Tls(std::io::Error),
}

pub struct SlackApi {
    client: Arc<SlackHyperClient>,
    token: SlackApiToken,
}

/// Slack error codes that mean "the same request may work later".
const TRANSIENT: &[&str] =
    &["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"];
/// Slack error codes that mean "this channel will not take golive's posts".
const CHANNEL_UNUSABLE: &[&str] = &["channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"];
/// Slack error codes that mean "the app itself is not allowed to post".
const AUTH: &[&str] =
    &["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope"];

impl SlackApi {
    /// A client for the Web API at `api_url` (with or without a trailing slash).
    pub fn new(api_url: &str, token: &str) -> Result<SlackApi, SlackSetupError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(SlackSetupError::Tls)?
            // The fake Slack of the tests, or a local proxy, speaks plain HTTP.
            .https_or_http()
            .enable_http1()
            .build();
        let connector =
            SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url.trim_end_matches('/'));
        Ok(SlackApi {
            client: Arc::new(SlackClient::new(connector)),
            token: SlackApiToken::new(token.to_string().into()),
        })
    }

    /// A client with the token from the environment.
    pub fn from_env(api_url: &str) -> Result<SlackApi, SlackSetupError> {
        let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.trim().is_empty()).ok_or(SlackSetupError::NoToken)?;
        SlackApi::new(api_url, token.trim())
    }
}

#[async_trait]
impl ChatApi for SlackApi {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let mut content = SlackMessageContent::new().with_text(item.payload.text.clone());
        if let Some(blocks) = &item.payload.blocks {
            match serde_json::from_value::<Vec<SlackBlock>>(blocks.clone()) {
                Ok(blocks) => content = content.with_blocks(blocks),
                // Rendered by this program, so this is a bug; the text still says it all.
                Err(e) => {
                    tracing::error!(outbox = item.id, error = %e, "stored blocks do not parse; sending text only")
                }
            }
        }
        let request = SlackApiChatPostMessageRequest::new(item.channel.id.clone().into(), content);
        let session = self.client.open_session(&self.token);
        match session.chat_post_message(&request).await {
            Ok(response) => Ok(Sent { remote_id: Some(response.ts.to_string()) }),
            Err(e) => Err(classify(e, &item.channel.id)),
        }
    }
}

/// Sorts a Slack client error into retry or give up.
pub fn classify(e: SlackClientError, channel: &str) -> SendError {
    let retry = |reason: String| SendError::Retry { reason, after: None };
    match e {
        SlackClientError::RateLimitError(r) => {
            SendError::Retry { reason: "rate limited by Slack (429)".into(), after: r.retry_after }
        }
        SlackClientError::ApiError(api) => {
            let code = api.code.as_str();
            if TRANSIENT.contains(&code) {
                retry(format!("Slack answered `{code}`"))
            } else if CHANNEL_UNUSABLE.contains(&code) {
                SendError::Permanent {
                    reason: format!("Slack answered `{code}` for channel {channel}"),
                    channel_unusable: true,
                    hint: Some(format!(
                        "invite the app to the channel (type `/invite @golive` in {channel}), or check the channel id"
                    )),
                }
            } else if AUTH.contains(&code) {
                SendError::Permanent {
                    reason: format!("Slack answered `{code}`"),
                    channel_unusable: false,
                    hint: Some(format!("check {TOKEN_VAR} and the app's scopes (chat:write)")),
                }
            } else {
                SendError::Permanent { reason: format!("Slack answered `{code}`"), channel_unusable: false, hint: None }
            }
        }
        SlackClientError::HttpError(h) if h.status_code.is_server_error() => {
            retry(format!("Slack answered HTTP {}", h.status_code.as_u16()))
        }
        SlackClientError::HttpError(h) if h.status_code.as_u16() == 429 => {
            SendError::Retry { reason: "rate limited by Slack (429)".into(), after: None }
        }
        SlackClientError::HttpError(h) => SendError::Permanent {
            reason: format!("Slack answered HTTP {}", h.status_code.as_u16()),
            channel_unusable: false,
            hint: Some("check `[slack] api_url`".into()),
        },
        other => retry(format!("could not reach Slack: {other}")),
    }
}
