//! Discord interactions, however they arrive: `POST /discord/interactions` (verified first;
//! a bad or stale signature is a 401 with nothing recorded) or the gateway, which hands the
//! same JSON to `answer`. A slash command's options become its request through the command
//! table, as a typed line's words do; a button or a modal is read into `commands::actions` and
//! pressed or submitted through `chat::press`, as on every platform. The person who acted
//! gets the answer privately (an ephemeral response); what changed reaches the channel
//! through the outbox, as on every platform.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tracing::{info, warn};

use super::api::DiscordApi;
use super::interaction::{kind, Interaction, Sender};
use super::verify::PublicKey;
use crate::chat::press::{press, submit, Pressed};
use crate::chat::signature::{self, Refused};
use crate::commands::actions::{unrecorded, Again, Button, Missing, LEVEL, REASON};
use crate::commands::table::TABLE;
use crate::domain::{Actor, Channel, Platform};
use crate::engine::{Answer, Engine, Input, Origin};
use crate::metrics::CommandOutcome;
use crate::render::embeds as render;

/// Discord's interaction callback types.
mod callback {
    pub const PONG: u8 = 1;
    pub const MESSAGE: u8 = 4;
    pub const DEFERRED: u8 = 5;
    pub const AUTOCOMPLETE: u8 = 8;
    pub const MODAL: u8 = 9;
}
/// Message flag: only the person who acted sees it.
const EPHEMERAL: u64 = 1 << 6;

#[derive(Clone)]
pub struct DiscordInbound {
    pub engine: Engine,
    /// `None` when only the gateway is used: then the HTTP route is not served.
    pub key: Option<Arc<PublicKey>>,
    /// For answers that take longer than Discord waits: the real answer replaces a
    /// deferred one. Without it, a slow answer is simply late.
    pub api: Option<Arc<DiscordApi>>,
}

/// Discord waits 3 s for an answer; after this long golive says it is working on it.
const DEFER_AFTER: Duration = Duration::from_secs(2);

/// A private answer to the person who acted.
pub fn ephemeral(text: impl Into<String>) -> Value {
    json!({ "type": callback::MESSAGE, "data": {
        "content": render::content(&text.into()), "flags": EPHEMERAL, "allowed_mentions": { "parse": [] },
    } })
}

pub async fn interactions(State(discord): State<DiscordInbound>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(key) = &discord.key else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match signature::check(&**key, &headers, &body, discord.engine.now()) {
        Ok(()) => {}
        Err(Refused::Unverified(why)) => {
            warn!(reason = %why, bytes = body.len(), "refused an unverified Discord request");
            return (StatusCode::UNAUTHORIZED, "invalid request signature\n").into_response();
        }
        Err(Refused::NotUtf8) => return (StatusCode::BAD_REQUEST, "the request body is not UTF-8\n").into_response(),
    }
    let interaction = match Interaction::parse(&body) {
        Ok(i) => i,
        Err(e) => {
            warn!(error = %e, "malformed Discord interaction");
            return (StatusCode::BAD_REQUEST, "malformed interaction: expected Discord's interaction JSON\n")
                .into_response();
        }
    };
    axum::Json(discord.answer_in_time(interaction).await).into_response()
}

impl DiscordInbound {
    /// The answer if it is ready within Discord's deadline; otherwise a deferred answer now
    /// (the person sees golive thinking) and the real one as an edit of it when it is ready.
    /// A command waiting for the database (another process writing, say) still commits.
    pub async fn answer_in_time(&self, interaction: Interaction) -> Value {
        let this = self.clone();
        let token = interaction.token.clone();
        let mut work = tokio::spawn(async move { this.answer(&interaction).await });
        match tokio::time::timeout(DEFER_AFTER, &mut work).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "answering a Discord interaction failed");
                ephemeral("golive failed while answering this; nothing was changed unless the channel says so")
            }
            Err(_) => {
                let Some(api) = self.api.clone() else {
                    return work.await.unwrap_or_else(|_| ephemeral("golive failed while answering this"));
                };
                tokio::spawn(async move {
                    let Ok(answer) = work.await else { return };
                    let data = if answer["type"] == callback::MESSAGE {
                        answer["data"].clone()
                    } else {
                        json!({ "content": "golive took too long to open that; press the button again" })
                    };
                    if let Err(e) = api.edit_original(&token, &data).await {
                        warn!(error = %e, "could not replace a deferred Discord answer");
                    }
                });
                json!({ "type": callback::DEFERRED, "data": { "flags": EPHEMERAL } })
            }
        }
    }

    /// The response body for one interaction (Discord's interaction callback).
    pub async fn answer(&self, i: &Interaction) -> Value {
        match i.kind {
            kind::PING => json!({ "type": callback::PONG }),
            kind::APPLICATION_COMMAND => self.command(i).await,
            kind::MESSAGE_COMPONENT => self.component(i).await,
            kind::AUTOCOMPLETE => self.autocomplete(i).await,
            kind::MODAL_SUBMIT => self.modal(i).await,
            other => {
                info!(kind = other, "ignored a Discord interaction of a kind golive does not handle");
                ephemeral("golive does not handle this kind of interaction")
            }
        }
    }

    fn command_name(&self) -> &str {
        &self.engine.config().discord.command
    }

    /// Who acted and where, or the answer saying what is missing.
    fn origin_of(i: &Interaction) -> Result<(Channel, Actor), Value> {
        let Some(Sender { id, name, roles }) = i.sender() else {
            return Err(ephemeral("golive cannot tell who sent this interaction"));
        };
        let Some(channel) = i.channel() else {
            return Err(ephemeral("golive works in a server's channels; this interaction names none"));
        };
        let channel = Channel { platform: Platform::Discord, id: channel.to_string() };
        Ok((channel, Actor { platform: Platform::Discord, id, name, groups: roles }))
    }

    fn key(i: &Interaction) -> Option<String> {
        (!i.id.is_empty()).then(|| format!("discord:interaction:{}", i.id))
    }

    async fn command(&self, i: &Interaction) -> Value {
        let invocation = i.invocation();
        if !invocation.command.eq_ignore_ascii_case(self.command_name()) {
            return ephemeral(format!(
                "golive answers `/{}`, not `/{}`",
                self.command_name(),
                if invocation.command.is_empty() { "?" } else { &invocation.command }
            ));
        }
        let (channel, actor) = match Self::origin_of(i) {
            Ok(o) => o,
            Err(answer) => return answer,
        };
        let request = match invocation.request() {
            Ok(request) => request,
            Err(e) => {
                // Counted as a typed line the grammar refused is.
                self.engine.metrics().command("unparsed", CommandOutcome::Refused);
                return ephemeral(e.to_string());
            }
        };
        let what = request.describe();
        let origin = Origin { key: Self::key(i), ..Origin::default() };
        Self::told(self.engine.submit(Input::Request { channel, actor, request, origin }).await, &what)
    }

    /// The private answer to a command or button: the reply or refusal, or a short receipt
    /// when the channel was told.
    fn told(outcome: Result<Answer, crate::engine::EngineError>, what: &str) -> Value {
        match outcome {
            Ok(Answer { reply: Some(reply), .. }) if !reply.trim().is_empty() => ephemeral(reply),
            Ok(Answer { refused: true, .. }) => ephemeral(format!("golive could not do `{what}` now")),
            Ok(_) => ephemeral(format!("✓ `{what}` — the channel has it")),
            Err(e) => {
                tracing::error!(error = %e, "could not handle a Discord interaction");
                ephemeral(unrecorded(Again::Try))
            }
        }
    }

    /// The golive button (or its modal, a "form") an interaction is about, the deployment it
    /// was drawn for, and who acted where; or the answer saying what is wrong.
    fn pressed(i: &Interaction, what: &str) -> Result<(Button, i64, Channel, Actor), Value> {
        let Some((button, deployment)) = i.custom_id().and_then(render::read_custom_id) else {
            info!(custom_id = ?i.custom_id(), what, "ignored a component or modal that is not golive's");
            return Err(ephemeral(format!("that {what} is not golive's")));
        };
        let (channel, actor) = Self::origin_of(i)?;
        Ok((button, deployment, channel, actor))
    }

    async fn component(&self, i: &Interaction) -> Value {
        let (button, deployment, channel, actor) = match Self::pressed(i, "button") {
            Ok(pressed) => pressed,
            Err(answer) => return answer,
        };
        let origin = Origin { key: Self::key(i), deployment: Some(deployment), retry_refused: false };
        match press(&self.engine, &channel, &actor, button, origin).await {
            Ok(Pressed::Decided { answer, what }) => Self::told(Ok(answer), &what),
            Ok(Pressed::Ask { dialog, deployment }) => {
                json!({ "type": callback::MODAL, "data": render::modal(dialog, deployment.id, &deployment.state.release) })
            }
            Ok(Pressed::Refused(reply)) => ephemeral(reply),
            Err(e) => Self::told(Err(e), ""),
        }
    }

    async fn modal(&self, i: &Interaction) -> Value {
        let (dialog, deployment, channel, actor) = match Self::pressed(i, "form") {
            Ok((button, deployment, channel, actor)) => match button.dialog() {
                Some(dialog) => (dialog, deployment, channel, actor),
                None => return ephemeral("that form is not golive's"),
            },
            Err(answer) => return answer,
        };
        let values = i.modal_values();
        let value = |id: &str| values.iter().find(|(k, _)| k == id).map(|(_, v)| v.as_str());
        let command = match dialog.submit(value(REASON), value(LEVEL)) {
            Ok(command) => command,
            Err(Missing::Reason) => return ephemeral("Say why, so the record shows it; nothing was changed."),
            Err(Missing::Level) => {
                return ephemeral("How fast: write immediate, quick or planned; nothing was changed.")
            }
        };
        let what = command.describe();
        Self::told(submit(&self.engine, &channel, &actor, command, deployment, Self::key(i)).await, &what)
    }

    /// Choices for the option being typed, from the channel's running deployment (or the
    /// default plan when none runs), best matches first.
    async fn autocomplete(&self, i: &Interaction) -> Value {
        let invocation = i.invocation();
        let typed = invocation
            .focused
            .as_ref()
            .and_then(|f| invocation.options.iter().find(|(n, _)| n == f))
            .map(|(_, v)| v.to_lowercase())
            .unwrap_or_default();
        let config = self.engine.config();
        let running = match i.channel() {
            Some(c) => {
                let channel = Channel { platform: Platform::Discord, id: c.to_string() };
                self.engine.store().open_deployment(&channel).await.ok().flatten()
            }
            None => None,
        };
        let plan = running.as_ref().map(|l| l.state.plan.as_ref()).unwrap_or_else(|| config.default_plan());
        let current = running.as_ref().and_then(|l| l.state.current).and_then(|c| plan.phases.get(c));
        let candidates: Vec<(String, String)> = match invocation.focused.as_deref() {
            Some("phase") => plan.phases.iter().map(|p| (p.id.clone(), format!("{} — {}", p.id, p.name))).collect(),
            Some("item") => {
                let phases: Vec<_> = current.map_or_else(|| plan.phases.iter().collect(), |p| vec![p]);
                phases
                    .iter()
                    .flat_map(|p| &p.items)
                    .map(|it| (it.id.clone(), format!("{} — {}", it.id, it.text)))
                    .collect()
            }
            Some("section") => {
                let phases: Vec<_> = current.map_or_else(|| plan.phases.iter().collect(), |p| vec![p]);
                let mut sections: Vec<&str> = phases.iter().flat_map(|p| p.sections()).collect();
                sections.dedup();
                sections.into_iter().map(|s| (s.to_string(), s.to_string())).collect()
            }
            Some("role") => {
                let mut roles: Vec<String> = current.map(|p| p.signoffs.clone()).unwrap_or_default();
                roles.extend(config.roles.0.keys().filter(|r| !roles.contains(r)).cloned().collect::<Vec<_>>());
                roles.into_iter().map(|r| (r.clone(), r)).collect()
            }
            Some("plan") => config.plans.values().map(|p| (p.id.clone(), format!("{} — {}", p.id, p.name))).collect(),
            Some("topic") => TABLE.iter().map(|s| (s.name.to_string(), s.name.to_string())).collect(),
            _ => Vec::new(),
        };
        let mut matching: Vec<&(String, String)> =
            candidates.iter().filter(|(_, label)| label.to_lowercase().contains(&typed)).collect();
        matching.sort_by_key(|(value, _)| !value.to_lowercase().starts_with(&typed));
        let choices: Vec<Value> = matching
            .into_iter()
            .take(25)
            .map(|(value, label)| json!({ "name": label.chars().take(100).collect::<String>(), "value": value }))
            .collect();
        json!({ "type": callback::AUTOCOMPLETE, "data": { "choices": choices } })
    }
}
