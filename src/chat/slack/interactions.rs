//! `/slack/interactions`: the buttons on golive's posts (`block_actions`) and the dialogs they
//! open (`view_submission`). A button is a command like any other: it goes through the engine
//! with the deployment it was drawn for, so a button on an old post cannot act on a newer
//! deployment. Slack ignores what a button's HTTP answer says, so a refusal is sent through
//! the interaction's `response_url`, visible only to the person who pressed. Buttons that
//! need a reason open a dialog at once (the trigger id lives three seconds); its submission
//! is checked, and a refusal is shown inside the dialog, where the person can still act on it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::inbound::{bad_request, slack_channel, unavailable, SlackInbound};
use crate::domain::{Channel, Command, RollbackLevel};
use crate::engine::{Answer, Input, Origin};
use crate::render::slack::{ids, no_go_modal, rollback_modal};
use crate::store::{NewMessage, Payload};

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

/// What one of golive's buttons asks for.
enum Pressed {
    SignOff(String),
    Ack,
    Go,
    NoGo,
    RollBack,
    Snooze,
}

impl Pressed {
    fn read(action_id: &str, value: &str) -> Option<(Pressed, i64)> {
        let (id, rest) = value.split_once(':').map_or((value, None), |(id, rest)| (id, Some(rest)));
        let id: i64 = id.parse().ok()?;
        let pressed = match action_id {
            ids::ACK => Pressed::Ack,
            ids::GO => Pressed::Go,
            ids::NO_GO => Pressed::NoGo,
            ids::ROLL_BACK => Pressed::RollBack,
            ids::SNOOZE => Pressed::Snooze,
            other if other.starts_with(ids::SIGN_OFF) => Pressed::SignOff(rest?.to_string()),
            _ => return None,
        };
        Some((pressed, id))
    }
}

fn text<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

async fn block_actions(slack: &SlackInbound, payload: &Value) -> Response {
    let (Some(user), Some(action_id)) = (text(payload, "/user/id"), text(payload, "/actions/0/action_id")) else {
        return bad_request("block_actions without a user or an action");
    };
    let value = text(payload, "/actions/0/value").unwrap_or_default();
    let Some((pressed, deployment)) = Pressed::read(action_id, value) else {
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
    let command = match pressed {
        Pressed::SignOff(role) => Command::SignOff { role, note: None },
        Pressed::Ack => Command::Ack,
        Pressed::Go => Command::Go,
        Pressed::Snooze => Command::Snooze { minutes: crate::render::SNOOZE_BUTTON_MINUTES, reason: None },
        Pressed::NoGo => {
            let probe = Command::NoGo { reason: "(asked in the dialog)".into() };
            return open_dialog(slack, &respond, &actor, probe, origin, trigger, no_go_modal).await;
        }
        Pressed::RollBack => {
            let probe = Command::Rollback { reason: "(asked in the dialog)".into(), level: None };
            return open_dialog(slack, &respond, &actor, probe, origin, trigger, rollback_modal).await;
        }
    };
    match slack.engine.submit(Input::command(&channel, &actor, command, origin)).await {
        Ok(outcome) if outcome.repeated => StatusCode::OK.into_response(),
        Ok(outcome) => {
            if let Some(reply) = outcome.reply {
                respond.tell(reply).await;
            }
            StatusCode::OK.into_response()
        }
        Err(e) => {
            respond.tell("golive could not record that just now (its database is unavailable); nothing was changed — press again in a moment").await;
            unavailable(e)
        }
    }
}

/// Checks that the person may do what the dialog would do, then opens it. Asking first
/// spares them a form that ends in a refusal; the submission is decided again anyway.
async fn open_dialog(
    slack: &SlackInbound,
    respond: &Responder<'_>,
    actor: &crate::domain::Actor,
    probe: Command,
    origin: Origin,
    trigger: Option<&str>,
    dialog: fn(i64, &str, &str) -> Value,
) -> Response {
    let input = Input::Probe { channel: respond.channel.clone(), actor: actor.clone(), command: probe.clone(), origin };
    let loaded = match slack.engine.submit(input).await.map(Answer::into_probe) {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(refused)) => {
            respond.tell(refused.reply.unwrap_or_default()).await;
            return StatusCode::OK.into_response();
        }
        Err(e) => return unavailable(e),
    };
    let fallback = match probe {
        Command::NoGo { .. } => "`/deploy nogo REASON`",
        _ => "`/deploy rollback [level=immediate|quick|planned] REASON`",
    };
    let (Some(api), Some(trigger)) = (&slack.api, trigger) else {
        respond.tell(format!("golive cannot open a dialog here; use {fallback}")).await;
        return StatusCode::OK.into_response();
    };
    let view = dialog(loaded.id, &respond.channel.id, &loaded.state.release);
    if let Err(e) = api.open_view(trigger, view).await {
        warn!(error = %e, "Slack did not open the dialog");
        respond.tell(format!("Slack did not open the dialog ({e}); use {fallback} instead")).await;
    }
    StatusCode::OK.into_response()
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
    if callback != ids::ROLLBACK_VIEW && callback != ids::NO_GO_VIEW {
        info!(callback, "ignored a dialog that is not golive's");
        return StatusCode::OK.into_response();
    }
    let Some(user) = text(payload, "/user/id") else {
        return bad_request("view_submission without a user");
    };
    let Some(of) = text(view, "/private_metadata").and_then(|m| serde_json::from_str::<DialogOf>(m).ok()) else {
        return bad_request("a golive dialog without its deployment");
    };
    let values = &view["state"]["values"];
    let reason = values[ids::REASON][ids::REASON]["value"].as_str().unwrap_or_default().trim().to_string();
    if reason.is_empty() {
        return dialog_errors(&[(ids::REASON, "Say why, so the record shows it.")]);
    }
    let command = if callback == ids::ROLLBACK_VIEW {
        let chosen = values[ids::LEVEL][ids::LEVEL]["selected_option"]["value"].as_str();
        let Some(level) = chosen.and_then(RollbackLevel::parse) else {
            return dialog_errors(&[(ids::LEVEL, "Choose how fast: immediate, quick or planned.")]);
        };
        Command::Rollback { reason, level: Some(level) }
    } else {
        Command::NoGo { reason }
    };
    let name = text(payload, "/user/username").or_else(|| text(payload, "/user/name"));
    let actor = slack.actor(user, name).await;
    let channel = slack_channel(&of.channel);
    // A view is submitted once; a double click or a retry carries the same view id.
    let key = text(view, "/id").map(|id| format!("slack:view:{id}"));
    let origin = Origin { key, deployment: Some(of.deployment), retry_refused: true };
    match slack.engine.submit(Input::command(&channel, &actor, command, origin)).await {
        Ok(Answer { refused: true, reply: Some(reply), .. }) => dialog_errors(&[(ids::REASON, &reply)]),
        // Accepted (or a repeat of an accepted one): the dialog closes; the channel is told.
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not record a dialog submission");
            dialog_errors(&[(
                ids::REASON,
                "golive could not record this just now (its database is unavailable); nothing was changed — submit again in a moment",
            )])
        }
    }
}

/// Keeps the dialog open with a message under each named input.
fn dialog_errors(errors: &[(&str, &str)]) -> Response {
    let errors: serde_json::Map<String, Value> =
        errors.iter().map(|(block, text)| (block.to_string(), Value::String(text.to_string()))).collect();
    axum::Json(json!({ "response_action": "errors", "errors": errors })).into_response()
}
