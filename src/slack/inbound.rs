//! Inbound Slack over HTTP: `/slack/commands` and `/slack/events`. Every request is verified
//! (v0 signature, five-minute window) before its body is read as anything; a failure is a 401
//! with nothing recorded. A verified request becomes a neutral `(channel, actor, request)` for
//! the engine, and Slack gets its answer from the decision: ephemeral text for the caller,
//! while channel posts go through the outbox. A delivery Slack retries is answered from the
//! record of the first one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::verify::{SigningSecret, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::command::{self, Request};
use crate::domain::{Actor, Channel, Platform};
use crate::engine::{Engine, Outcome};
use crate::store::{NewMessage, Payload};

/// Largest request body accepted on `/slack/*`; Slack's own payloads are far smaller.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct SlackInbound {
    pub engine: Engine,
    pub secret: Arc<SigningSecret>,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl SlackInbound {
    /// 401 unless the request is signed with our secret within the window.
    #[allow(clippy::result_large_err)]
    fn verify(&self, route: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
        let checked = self.secret.verify(
            header(headers, SIGNATURE_HEADER),
            header(headers, TIMESTAMP_HEADER),
            body,
            self.engine.now(),
        );
        checked.map_err(|why| {
            warn!(route, reason = %why, bytes = body.len(), "refused an unverified Slack request");
            (StatusCode::UNAUTHORIZED, "request signature could not be verified\n").into_response()
        })
    }
}

fn ephemeral(text: impl Into<String>) -> Response {
    axum::Json(json!({ "response_type": "ephemeral", "text": text.into() })).into_response()
}

fn bad_request(what: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("{what}\n")).into_response()
}

/// The fields of a slash command golive uses; Slack sends more.
#[derive(Debug, Deserialize)]
struct SlashCommand {
    command: String,
    #[serde(default)]
    text: String,
    user_id: String,
    #[serde(default)]
    user_name: Option<String>,
    channel_id: String,
    #[serde(default)]
    trigger_id: Option<String>,
}

/// What the caller sees: a refusal or a reply, ephemeral; nothing when the channel saw it.
fn answer(outcome: &Outcome) -> Response {
    match &outcome.reply {
        Some(reply) => ephemeral(reply.clone()),
        None => StatusCode::OK.into_response(),
    }
}

pub async fn commands(State(slack): State<SlackInbound>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = slack.verify("/slack/commands", &headers, &body) {
        return refused;
    }
    let form: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(e) => {
            warn!(error = %e, "malformed slash command");
            return bad_request("malformed slash command form");
        }
    };
    let expected = &slack.engine.config().slack.command;
    if !form.command.eq_ignore_ascii_case(expected) {
        return ephemeral(format!("golive answers `{expected}`, not `{}`", form.command));
    }
    let key = form.trigger_id.as_ref().map(|t| format!("slack:command:{t}"));
    let store = slack.engine.store();
    if let Some(key) = &key {
        match store.handled_request(key).await {
            Ok(Some(previous)) => {
                info!(%key, "slash command delivered again; answering as before");
                return stored_answer(&previous);
            }
            Ok(None) => {}
            Err(e) => return unavailable(e),
        }
    }
    let channel = Channel { platform: Platform::Slack, id: form.channel_id.clone() };
    let actor = Actor { platform: Platform::Slack, id: form.user_id.clone(), name: form.user_name.clone() };
    let outcome = match slack.engine.handle(&channel, &actor, &form.text).await {
        Ok(outcome) => outcome,
        Err(e) => return unavailable(e),
    };
    if let Some(key) = &key {
        let stored = outcome.reply.clone().unwrap_or_default();
        if let Err(e) = store.remember_request(key, slack.engine.now(), &stored).await {
            warn!(error = %e, %key, "could not remember a handled slash command");
        }
    }
    answer(&outcome)
}

fn stored_answer(previous: &str) -> Response {
    if previous.is_empty() {
        StatusCode::OK.into_response()
    } else {
        ephemeral(previous.to_string())
    }
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "could not handle a Slack request");
    ephemeral("golive could not record that just now (its database is unavailable); nothing was changed — try again in a moment")
}

/// `/slack/events`: the URL check when the app is set up, and `@golive …` mentions.
pub async fn events(State(slack): State<SlackInbound>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = slack.verify("/slack/events", &headers, &body) {
        return refused;
    }
    let envelope: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return bad_request("malformed event JSON"),
    };
    match envelope["type"].as_str() {
        Some("url_verification") => match envelope["challenge"].as_str() {
            Some(challenge) => axum::Json(json!({ "challenge": challenge })).into_response(),
            None => bad_request("url_verification without a challenge"),
        },
        Some("event_callback") => event_callback(&slack, &envelope).await,
        other => {
            info!(kind = ?other, "ignored a Slack event envelope");
            StatusCode::OK.into_response()
        }
    }
}

async fn event_callback(slack: &SlackInbound, envelope: &Value) -> Response {
    let event = &envelope["event"];
    if event["type"].as_str() != Some("app_mention") {
        return StatusCode::OK.into_response();
    }
    let (Some(channel), Some(user), Some(text)) =
        (event["channel"].as_str(), event["user"].as_str(), event["text"].as_str())
    else {
        return bad_request("app_mention without channel, user or text");
    };
    let store = slack.engine.store();
    let key = envelope["event_id"].as_str().map(|id| format!("slack:event:{id}"));
    if let Some(key) = &key {
        match store.handled_request(key).await {
            Ok(Some(_)) => {
                info!(%key, "event delivered again; already handled");
                return StatusCode::OK.into_response();
            }
            Ok(None) => {}
            Err(e) => {
                // Slack retries on a non-200; let it.
                tracing::error!(error = %e, "could not check a Slack event");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    let channel = Channel { platform: Platform::Slack, id: channel.to_string() };
    let actor = Actor::new(Platform::Slack, user);
    // Mentions carry read-only questions; changes go through the slash command, where the
    // caller gets a private answer.
    let said = strip_mentions(text);
    let reply = match command::parse(&said) {
        Ok(request @ (Request::Help { .. } | Request::Status | Request::Oncall | Request::History)) => {
            match slack.engine.request(&channel, &actor, request).await {
                Ok(outcome) => outcome.reply,
                Err(e) => {
                    tracing::error!(error = %e, "could not answer a mention");
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
            }
        }
        Ok(Request::Change(_)) => Some(format!(
            "<@{user}> changes go through the slash command, e.g. `{} {}`",
            slack.engine.config().slack.command,
            said.trim()
        )),
        Err(e) => Some(format!("<@{user}> {e}")),
    };
    if let Some(reply) = reply {
        let message = NewMessage { deployment_id: None, channel, payload: Payload::text(reply) };
        if let Err(e) = slack.engine.enqueue(vec![message]).await {
            tracing::error!(error = %e, "could not queue the answer to a mention");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    if let Some(key) = &key {
        if let Err(e) = store.remember_request(key, slack.engine.now(), "").await {
            warn!(error = %e, %key, "could not remember a handled event");
        }
    }
    StatusCode::OK.into_response()
}

/// `<@U0GOLIVE> status` → `status`.
fn strip_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}
