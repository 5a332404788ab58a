//! `/slack/interactions`: the buttons on golive's posts (`block_actions`) and the dialogs they
//! open (`view_submission`), read into `commands::actions` and pressed or submitted through
//! `chat::press`, as on every platform. Slack ignores what a button's HTTP answer says, so a
//! refusal is sent through the interaction's `response_url`, visible only to the person who
//! pressed. A dialog opens at once (the trigger id lives three seconds); a refusal of its
//! submission is shown inside the dialog, where the person can still act on it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::inbound::{bad_request, slack_channel, unavailable, SlackInbound};
use crate::chat::press::{press, submit, Pressed};
use crate::commands::actions::{unrecorded, Again, Button, Dialog, Missing, LEVEL, REASON};
use crate::domain::Channel;
use crate::engine::{Answer, Input, Origin};
use crate::render::blocks::dialog_view;
use crate::store::{Loaded, NewMessage, Payload};

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

pub async fn interactions(State(slack): State<SlackInbound>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = slack.verify("/slack/interactions", &headers, &body) {
        return refused;
    }
    let payload: Value = match serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .map_err(|e| e.to_string())
        .and_then(|form| serde_json::from_str(&form.payload).map_err(|e| e.to_string()))
    {
        Ok(payload) => payload,
        Err(e) => {
            warn!(error = %e, "malformed interaction");
            return bad_request("malformed interaction: expected a form with payload=JSON");
        }
    };
    let team = payload["team"]["id"].as_str().or_else(|| payload["user"]["team_id"].as_str());
    if let Err(refused) = slack.same_workspace("/slack/interactions", team) {
        return refused;
    }
    match payload["type"].as_str() {
        Some("block_actions") => block_actions(&slack, &payload).await,
        Some("view_submission") => view_submission(&slack, &payload).await,
        other => {
            info!(kind = ?other, "ignored a Slack interaction");
            StatusCode::OK.into_response()
        }
    }
}

/// A button's `action_id` and value, as `render::blocks` writes them: the name (`.ROLE` after
/// a sign-off's) and the deployment id (`:ROLE` after a sign-off's).
fn read_button(action_id: &str, value: &str) -> Option<(Button, i64)> {
    let (id, role) = value.split_once(':').map_or((value, None), |(id, role)| (id, Some(role)));
    let id: i64 = id.parse().ok()?;
    let sign_off = Button::SignOff(String::new()).name();
    let name = if action_id.starts_with(sign_off) { sign_off } else { action_id };
    Some((Button::from_name(name, role)?, id))
}

fn text<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

async fn block_actions(slack: &SlackInbound, payload: &Value) -> Response {
    let (Some(user), Some(action_id)) = (text(payload, "/user/id"), text(payload, "/actions/0/action_id")) else {
        return bad_request("block_actions without a user or an action");
    };
    let value = text(payload, "/actions/0/value").unwrap_or_default();
    let Some((button, deployment)) = read_button(action_id, value) else {
        // Another app's button, or one golive no longer draws: nothing to do.
        info!(action_id, "ignored a button that is not golive's");
        return StatusCode::OK.into_response();
    };
    let Some(channel) = text(payload, "/channel/id").or_else(|| text(payload, "/container/channel_id")) else {
        return bad_request("block_actions without a channel");
    };
    let channel = slack_channel(channel);
    let name = text(payload, "/user/username").or_else(|| text(payload, "/user/name"));
    let actor = slack.actor(user, name).await;
    let trigger = text(payload, "/trigger_id");
    let respond = Responder { slack, channel: &channel, user, response_url: text(payload, "/response_url") };
    let key = trigger.map(|t| format!("slack:action:{t}"));
    let origin = Origin { key, deployment: Some(deployment), retry_refused: false };
    let asks = button.dialog().is_some();
    match press(&slack.engine, &channel, &actor, button, origin).await {
        Ok(Pressed::Decided { answer, .. }) if answer.repeated => {}
        Ok(Pressed::Decided { answer, .. }) => {
            if let Some(reply) = answer.reply {
                respond.tell(reply).await;
            }
        }
        Ok(Pressed::Refused(reply)) => respond.tell(reply).await,
        Ok(Pressed::Ask { dialog, deployment }) => open_dialog(slack, &respond, trigger, dialog, &deployment).await,
        Err(e) => {
            // Only a pressed command was lost; a probe that failed opened nothing.
            if !asks {
                respond.tell(unrecorded(Again::Press)).await;
            }
            return unavailable(e);
        }
    }
    StatusCode::OK.into_response()
}

/// Opens the dialog within the trigger id's three seconds, or says what to type instead.
async fn open_dialog(
    slack: &SlackInbound,
    respond: &Responder<'_>,
    trigger: Option<&str>,
    dialog: Dialog,
    on: &Loaded,
) {
    let (Some(api), Some(trigger)) = (&slack.api, trigger) else {
        return respond.tell(format!("golive cannot open a dialog here; use {}", dialog.typed())).await;
    };
    let view = dialog_view(dialog, on.id, &respond.channel.id, &on.state.release);
    if let Err(e) = api.open_view(trigger, view).await {
        warn!(error = %e, "Slack did not open the dialog");
        respond.tell(format!("Slack did not open the dialog ({e}); use {} instead", dialog.typed())).await;
    }
}

/// Says something to the person who pressed a button, and to nobody else.
struct Responder<'a> {
    slack: &'a SlackInbound,
    channel: &'a Channel,
    user: &'a str,
    response_url: Option<&'a str>,
}

impl Responder<'_> {
    async fn tell(&self, text: impl Into<String>) {
        let payload = Payload::text(text.into());
        let api = self.slack.api.as_deref();
        let message = match self.response_url.filter(|url| api.is_some_and(|a| a.response_url(url).is_some())) {
            Some(url) => NewMessage::respond(self.channel.clone(), url, payload),
            // No usable response URL: an ephemeral message in the channel says the same.
            None => NewMessage::ephemeral(self.channel.clone(), self.user, payload),
        };
        if let Err(e) = self.slack.engine.submit(Input::Enqueue { key: None, messages: vec![message] }).await {
            tracing::error!(error = %e, "could not queue an answer to a button");
        }
    }
}

/// What a dialog carried in `private_metadata`.
#[derive(Deserialize)]
struct DialogOf {
    deployment: i64,
    channel: String,
}

async fn view_submission(slack: &SlackInbound, payload: &Value) -> Response {
    let view = &payload["view"];
    let callback = text(view, "/callback_id").unwrap_or_default();
    let Some(dialog) = Dialog::from_name(callback) else {
        info!(callback, "ignored a dialog that is not golive's");
        return StatusCode::OK.into_response();
    };
    let Some(user) = text(payload, "/user/id") else {
        return bad_request("view_submission without a user");
    };
    let Some(of) = text(view, "/private_metadata").and_then(|m| serde_json::from_str::<DialogOf>(m).ok()) else {
        return bad_request("a golive dialog without its deployment");
    };
    let values = &view["state"]["values"];
    let (reason, level) =
        (values[REASON][REASON]["value"].as_str(), values[LEVEL][LEVEL]["selected_option"]["value"].as_str());
    let command = match dialog.submit(reason, level) {
        Ok(command) => command,
        Err(Missing::Reason) => return dialog_errors(&[(REASON, "Say why, so the record shows it.")]),
        Err(Missing::Level) => return dialog_errors(&[(LEVEL, "Choose how fast: immediate, quick or planned.")]),
    };
    let name = text(payload, "/user/username").or_else(|| text(payload, "/user/name"));
    let actor = slack.actor(user, name).await;
    let channel = slack_channel(&of.channel);
    // A view is submitted once; a double click or a retry carries the same view id.
    let key = text(view, "/id").map(|id| format!("slack:view:{id}"));
    match submit(&slack.engine, &channel, &actor, command, of.deployment, key).await {
        Ok(Answer { refused: true, reply: Some(reply), .. }) => dialog_errors(&[(REASON, &reply)]),
        // Accepted (or a repeat of an accepted one): the dialog closes; the channel is told.
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not record a dialog submission");
            dialog_errors(&[(REASON, &unrecorded(Again::Submit))])
        }
    }
}

/// Keeps the dialog open with a message under each named input.
fn dialog_errors(errors: &[(&str, &str)]) -> Response {
    let errors: serde_json::Map<String, Value> =
        errors.iter().map(|(block, text)| (block.to_string(), Value::String(text.to_string()))).collect();
    axum::Json(json!({ "response_action": "errors", "errors": errors })).into_response()
}
