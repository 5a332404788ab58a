//! Outbound Slack through slack-morphism's hyper client: `chat.postMessage`, `chat.update`,
//! `chat.postEphemeral` and `response_url` answers for the outbox; `views.open` and
//! `usergroups.users.list` for the inbound side, which cannot wait for the outbox. Slack's
//! answers are sorted into "try again" (network, 5xx, 429 with its `Retry-After`, Slack's
//! transient error codes) and "give up" (the app is not in the channel, the channel is gone,
//! the token is wrong), so the delivery worker knows what to do.

use std::sync::Arc;

use async_trait::async_trait;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use thiserror::Error;

use crate::delivery::{SendError, Sent, Transport};
use crate::domain::Platform;
use crate::store::{Action, OutboxItem, Route};

/// `views.open` must beat the trigger id's three seconds; past this it has lost anyway.
const VIEW_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(2500);

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
    /// The origin (scheme, host, port) of the Web API, besides Slack's own hooks host, that
    /// response URLs may point at (a proxy, or the tests' fake).
    api_origin: Option<url::Origin>,
}

/// Slack's host for response URLs.
const HOOKS_HOST: &str = "hooks.slack.com";

/// Slack error codes that mean "the same request may work later".
const TRANSIENT: &[&str] =
    &["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"];
/// Slack error codes that mean "this channel will not take golive's posts".
const CHANNEL_UNUSABLE: &[&str] = &["channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"];
/// Slack error codes that mean "the message to edit is gone or cannot be edited".
const MESSAGE_GONE: &[&str] = &["message_not_found", "cant_update_message", "edit_window_closed"];
/// Slack error codes that mean "the app itself is not allowed to post".
const AUTH: &[&str] =
    &["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope"];

impl SlackApi {
    /// A client for the Web API at `api_url` (with or without a trailing slash).
    pub fn new(api_url: &str, token: &str) -> Result<SlackApi, SlackSetupError> {
        let https = crate::https::connector().map_err(SlackSetupError::Tls)?;
        let connector =
            SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url.trim_end_matches('/'));
        Ok(SlackApi {
            client: Arc::new(SlackClient::new(connector)),
            token: SlackApiToken::new(token.to_string().into()),
            api_origin: url::Url::parse(api_url).ok().map(|u| u.origin()),
        })
    }

    /// A response URL golive will answer: Slack's hooks host, or the configured API's host.
    /// Anything else is refused, so a request cannot make golive post to an arbitrary URL.
    pub fn response_url(&self, raw: &str) -> Option<url::Url> {
        let url = url::Url::parse(raw).ok()?;
        let host = url.host_str()?;
        let allowed =
            (host == HOOKS_HOST && url.scheme() == "https") || self.api_origin.as_ref() == Some(&url.origin());
        allowed.then_some(url)
    }

    /// Opens a dialog for the person who pressed a button. Called straight from the request
    /// that carried `trigger_id`: Slack honours it for three seconds only.
    pub async fn open_view(&self, trigger_id: &str, view: serde_json::Value) -> Result<(), SendError> {
        let view: SlackView = serde_json::from_value(view).map_err(|e| SendError::Permanent {
            reason: format!("golive built a dialog Slack's model rejects: {e}"),
            channel_unusable: false,
            hint: None,
        })?;
        let request = SlackApiViewsOpenRequest::new(trigger_id.to_string().into(), view);
        let session = self.client.open_session(&self.token);
        match tokio::time::timeout(VIEW_TIMEOUT, session.views_open(&request)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(e, "")),
            Err(_) => {
                Err(SendError::Retry { reason: format!("views.open took longer than {VIEW_TIMEOUT:?}"), after: None })
            }
        }
    }

    /// The members of a Slack user group.
    pub async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, SendError> {
        let request = SlackApiUserGroupsUsersListRequest::new(group.to_string().into());
        let session = self.client.open_session(&self.token);
        match session.usergroups_users_list(&request).await {
            Ok(response) => Ok(response.users.into_iter().map(|u| u.to_string()).collect()),
            Err(e) => Err(classify(e, "")),
        }
    }

    /// A client with the token from the environment.
    pub fn from_env(api_url: &str) -> Result<SlackApi, SlackSetupError> {
        let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.trim().is_empty()).ok_or(SlackSetupError::NoToken)?;
        SlackApi::new(api_url, token.trim())
    }
}

#[async_trait]
impl Transport for SlackApi {
    fn route(&self) -> Route {
        Route::Chat(Platform::Slack)
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let (mut text, mut blocks) = (item.payload.text.clone(), item.payload.blocks.clone());
        crate::render::limits::fit_slack(&mut text, blocks.as_mut());
        let plain = SlackMessageContent::new().with_text(text);
        let mut content = plain.clone();
        if let Some(blocks) = blocks {
            match serde_json::from_value::<Vec<SlackBlock>>(blocks) {
                Ok(blocks) => content = content.with_blocks(blocks),
                // Rendered by this program, so this is a bug; the text still says it all.
                Err(e) => {
                    tracing::error!(outbox = item.id, error = %e, "stored blocks do not parse; sending text only")
                }
            }
        }
        match self.send_content(item, content).await {
            // Slack refused the layout; the same message as plain text still says it all.
            Err(SendError::Permanent { reason, .. })
                if reason.contains("`invalid_blocks`") && item.payload.blocks.is_some() =>
            {
                tracing::warn!(outbox = item.id, %reason, "Slack refused the blocks; sending the plain-text version");
                self.send_content(item, plain).await
            }
            sent => sent,
        }
    }
}

impl SlackApi {
    /// Sends one outbox message's content as its action says.
    async fn send_content(&self, item: &OutboxItem, content: SlackMessageContent) -> Result<Sent, SendError> {
        let channel: SlackChannelId = item.destination.address().to_string().into();
        let session = self.client.open_session(&self.token);
        let failed = |e| classify(e, item.destination.address());
        let post = |channel: SlackChannelId, content: SlackMessageContent, reposted: bool| {
            let session = self.client.open_session(&self.token);
            async move {
                let request = SlackApiChatPostMessageRequest::new(channel, content);
                let response = session.chat_post_message(&request).await.map_err(failed)?;
                Ok(Sent { remote_id: Some(response.ts.to_string()), reposted, ..Sent::default() })
            }
        };
        match (&item.action, &item.target_remote_id) {
            (Action::Update { .. }, Some(ts)) => {
                let request = SlackApiChatUpdateRequest::new(channel.clone(), content.clone(), ts.clone().into());
                match session.chat_update(&request).await {
                    Ok(response) => Ok(Sent { remote_id: Some(response.ts.to_string()), ..Sent::default() }),
                    // Someone deleted the status message, or it is too old to edit: post the
                    // current status as a new one, which later changes will edit.
                    Err(SlackClientError::ApiError(e)) if MESSAGE_GONE.contains(&e.code.as_str()) => {
                        tracing::info!(outbox = item.id, code = %e.code, "the status message cannot be edited; posting it anew");
                        post(channel, content, true).await
                    }
                    Err(e) => Err(failed(e)),
                }
            }
            // The message to update never arrived: say it as a new message instead.
            (Action::Update { .. }, None) => post(channel, content, true).await,
            (Action::Post, _) => post(channel, content, false).await,
            (Action::Ephemeral { user }, _) => {
                let request = SlackApiChatPostEphemeralRequest::new(channel, user.clone().into(), content);
                session.chat_post_ephemeral(&request).await.map_err(failed)?;
                Ok(Sent::default())
            }
            (Action::Respond { url }, _) => {
                let Some(url) = self.response_url(url) else {
                    return Err(SendError::Permanent {
                        reason: "the response URL is not Slack's".into(),
                        channel_unusable: false,
                        hint: None,
                    });
                };
                // slack-morphism's webhook request has no `response_type`; without it an
                // answer could land in the channel for everyone.
                let mut body = serde_json::to_value(&content).unwrap_or_default();
                body["response_type"] = "ephemeral".into();
                body["replace_original"] = false.into();
                let span = tracing::debug_span!("Slack response_url");
                let context = SlackClientApiCallContext {
                    rate_control_params: None,
                    token: None,
                    tracing_span: &span,
                    is_sensitive_url: true,
                };
                let answered: Result<serde_json::Value, _> =
                    self.client.http_api.connector.http_post_uri(url, &body, context).await;
                answered.map_err(failed)?;
                Ok(Sent::default())
            }
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
