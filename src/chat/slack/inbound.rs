//! Inbound Slack over HTTP: `/slack/commands` and `/slack/events` (the buttons and dialogs of
//! `/slack/interactions` are in `interactions`). Every request is verified (v0 signature,
//! five-minute window) before its body is read as anything; a failure is a 401 with nothing
//! recorded. A verified request becomes a neutral `(channel, actor, request)` for the engine,
//! and Slack gets its answer from the decision: ephemeral text for the caller, while channel
//! posts go through the outbox. A delivery Slack retries is answered from the record of the
//! first one, claimed in the same transaction as its effects.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::groups::Groups;
use super::verify::{SigningSecret, SIGNATURE_HEADER};
use super::SlackApi;
use crate::chat::signature::{self, header, Refused};
use crate::commands::actions::{unrecorded, Again};
use crate::commands::grammar::{self, Request};
use crate::domain::{Actor, Channel, Platform};
use crate::engine::{Answer, Engine, Input, Origin};
use crate::store::{NewMessage, Payload};

#[derive(Clone)]
pub struct SlackInbound {
    pub engine: Engine,
    pub secret: Arc<SigningSecret>,
    /// The Web API, for what cannot wait for the outbox: opening a dialog within the
    /// trigger id's three seconds, and reading user groups. `None` only in setups that
    /// never post (then buttons that open dialogs say so).
    pub api: Option<Arc<SlackApi>>,
    /// The configured user groups, when roles name any.
    pub groups: Option<Arc<Groups>>,
}

impl SlackInbound {
    pub fn new(engine: Engine, secret: SigningSecret, api: Option<Arc<SlackApi>>) -> SlackInbound {
        let groups = api
            .as_ref()
            .and_then(|api| Groups::from_config(engine.config(), api.clone(), engine.clock()))
            .map(Arc::new);
        SlackInbound { engine, secret: Arc::new(secret), api, groups }
    }

    /// 401 unless the request is signed with our secret within the window.
    #[allow(clippy::result_large_err)]
    pub(super) fn verify(&self, route: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
        match signature::check(&*self.secret, headers, body, self.engine.now()) {
            Ok(()) => Ok(()),
            Err(Refused::Unverified(why)) => {
                warn!(route, reason = %why, bytes = body.len(), "refused an unverified Slack request");
                Err((StatusCode::UNAUTHORIZED, "request signature could not be verified\n").into_response())
            }
            Err(Refused::NotUtf8) => Err(bad_request("the request body is not UTF-8")),
        }
    }

    /// 401 when `[slack] team_id` is set and the request names another workspace, or none: a
    /// request signed by another install of the same app changes nothing here.
    #[allow(clippy::result_large_err)]
    pub(super) fn same_workspace(&self, route: &str, team: Option<&str>) -> Result<(), Response> {
        match self.engine.config().slack.team_id.as_deref() {
            Some(ours) if team != Some(ours) => {
                warn!(route, team = ?team, "refused a request from another Slack workspace");
                Err((StatusCode::UNAUTHORIZED, "this golive serves another Slack workspace\n").into_response())
            }
            _ => Ok(()),
        }
    }

    /// The Slack user as the domain sees them: with the configured user groups they are in.
    pub(super) async fn actor(&self, user: &str, name: Option<&str>) -> Actor {
        let mut actor = Actor::new(Platform::Slack, user);
        actor.name = name.filter(|n| !n.is_empty()).map(str::to_string);
        if let Some(groups) = &self.groups {
            actor.groups = groups.of(user).await;
        }
        actor
    }
}

pub(super) fn ephemeral(text: impl Into<String>) -> Response {
    axum::Json(json!({ "response_type": "ephemeral", "text": text.into() })).into_response()
}

pub(super) fn bad_request(what: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("{what}\n")).into_response()
}

pub(super) fn slack_channel(id: &str) -> Channel {
    Channel { platform: Platform::Slack, id: id.to_string() }
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
    #[serde(default)]
    team_id: Option<String>,
}

/// What the caller sees: a refusal or a reply, ephemeral; nothing when the channel saw it.
fn answer(outcome: &Answer) -> Response {
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
    if let Err(refused) = slack.same_workspace("/slack/commands", form.team_id.as_deref()) {
        return refused;
    }
    let expected = &slack.engine.config().slack.command;
    if !form.command.eq_ignore_ascii_case(expected) {
        return ephemeral(format!("golive answers `{expected}`, not `{}`", form.command));
    }
    let channel = slack_channel(&form.channel_id);
    let actor = slack.actor(&form.user_id, form.user_name.as_deref()).await;
    // Without a trigger id, the signature names the request: a replay within the timestamp
    // window carries the same one and is answered from the record of the first.
    let key = match (&form.trigger_id, header(&headers, SIGNATURE_HEADER)) {
        (Some(t), _) => Some(format!("slack:command:{t}")),
        (None, Some(signature)) => Some(format!("slack:signed:{signature}")),
        (None, None) => None,
    };
    let origin = Origin { key, ..Origin::default() };
    match slack.engine.submit(Input::Text { channel, actor, text: form.text.clone(), origin }).await {
        Ok(outcome) => answer(&outcome),
        Err(e) => unavailable(e),
    }
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "could not handle a Slack request");
    ephemeral(unrecorded(Again::Try))
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
        Some("event_callback") => match slack.same_workspace("/slack/events", envelope["team_id"].as_str()) {
            Ok(()) => event_callback(&slack, &envelope).await,
            Err(refused) => refused,
        },
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
    let key = envelope["event_id"].as_str().map(|id| format!("slack:event:{id}"));
    let channel = slack_channel(channel);
    let actor = slack.actor(user, None).await;
    // Mentions carry read-only questions; changes go through the slash command, where the
    // caller gets a private answer. Answers only the asker needs are ephemeral; the status
    // is for everyone.
    let said = strip_mentions(text);
    let engine = &slack.engine;
    let mut key = key;
    let reply = match grammar::parse(&said) {
        Ok(Request::Status) => {
            let origin = Origin { key: key.take(), deployment: None, retry_refused: false };
            let status =
                Input::Request { channel: channel.clone(), actor: actor.clone(), request: Request::Status, origin };
            match engine.submit(status).await {
                Ok(outcome) if outcome.repeated => return StatusCode::OK.into_response(),
                // The key is claimed; the answer, if any, goes out without it.
                Ok(outcome) => outcome.reply,
                Err(e) => return retry_later(e),
            }
        }
        Ok(Request::Change(_)) => Some(format!(
            "changes go through the slash command, e.g. `{} {}`",
            engine.config().slack.command,
            said.trim()
        )),
        // Every other query (help, on-call, history) is answered here.
        Ok(request) => {
            let request =
                Input::Request { channel: channel.clone(), actor: actor.clone(), request, origin: Origin::default() };
            match engine.submit(request).await {
                Ok(outcome) => outcome.reply,
                Err(e) => return retry_later(e),
            }
        }
        Err(e) => Some(e.to_string()),
    };
    if let Some(reply) = reply {
        let message = NewMessage::ephemeral(channel, user, Payload::text(reply));
        match engine.submit(Input::Enqueue { key: key.clone(), messages: vec![message] }).await {
            Ok(outcome) if !outcome.repeated => {}
            Ok(_) => info!(key = ?key, "event delivered again; already answered"),
            Err(e) => return retry_later(e),
        }
    }
    StatusCode::OK.into_response()
}

/// Slack delivers an event again when it gets no 200: let it, when the database is down.
fn retry_later(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "could not handle a Slack event; Slack will retry it");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
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
