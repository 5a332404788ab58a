//! Slack Block Kit rendering of the status model: the same facts as the plain-text post, laid
//! out as a header, phase progress, checklist, sign-offs with who and when, and escalation,
//! with buttons for what can be done right now. The plain text rides along as the
//! notification and accessibility fallback. The buttons and the dialogs they open are
//! `commands::actions`'; they are drawn here under the ids `chat::slack::interactions` reads back.

use serde_json::{json, Value};
use slack_morphism::prelude::*;

use super::{clean, human, text, typed, StatusView};
use crate::commands::actions::{Button, Dialog, LEVEL, REASON};
use crate::domain::RollbackLevel;

/// A button on Slack: its `action_id` is the button's name, with `.ROLE` for a sign-off (Slack
/// wants the ids within one block distinct), and its value the deployment id, with `:ROLE`
/// for a sign-off. `chat::slack::interactions` reads them back.
fn button(
    button: &Button,
    deployment: i64,
    label: &str,
    style: Option<SlackBlockButtonStyle>,
) -> SlackActionBlockElement {
    let (action_id, value) = match button {
        Button::SignOff(role) => (format!("{}.{role}", button.name()), format!("{deployment}:{role}")),
        _ => (button.name().to_string(), deployment.to_string()),
    };
    // Slack cuts button labels at 75 characters.
    let label: String = label.chars().take(75).collect();
    let mut element = SlackBlockButtonElement::new(pt!(label)).with_action_id(action_id.into()).with_value(value);
    if let Some(style) = style {
        element = element.with_style(style);
    }
    SlackActionBlockElement::Button(element)
}

/// The buttons of a status post, or nothing once there is nothing to do.
fn action_buttons(v: &StatusView) -> Option<SlackBlock> {
    let id = v.deployment_id;
    let a = &v.actions;
    let mut elements = Vec::new();
    if a.ack {
        elements.push(button(&Button::Ack, id, "Ack", Some(SlackBlockButtonStyle::Primary)));
    }
    for role in &a.sign_off {
        elements.push(button(&Button::SignOff(role.clone()), id, &format!("Sign off as {role}"), None));
    }
    if a.decide {
        elements.push(button(&Button::Go, id, "Go", Some(SlackBlockButtonStyle::Primary)));
        elements.push(button(&Button::NoGo, id, "No-go…", None));
    }
    if a.snooze {
        elements.push(button(&Button::Snooze, id, "Snooze 1h", None));
    }
    if a.roll_back {
        elements.push(button(&Button::RollBack, id, "Roll back…", Some(SlackBlockButtonStyle::Danger)));
    }
    // Slack takes at most 25 elements in one actions block.
    elements.truncate(25);
    (!elements.is_empty()).then(|| SlackActionsBlock::new(elements).into())
}

/// An escalation page: the announcement, and the Ack button that stops the climb.
/// `mentions` are the mentions golive itself may write (see `escape_except`).
pub fn escalation_blocks(deployment_id: i64, announcement: &str, mentions: &Mentions) -> Vec<SlackBlock> {
    vec![
        section(escape_except(announcement, mentions)),
        SlackActionsBlock::new(vec![button(&Button::Ack, deployment_id, "Ack", Some(SlackBlockButtonStyle::Primary))])
            .into(),
    ]
}

/// The mentions golive writes itself (`<@U123>`, `<!subteam^S1>`): those of the configured
/// Slack members.
pub type Mentions = std::collections::HashSet<String>;

/// Escapes everything that looks like Slack markup except the mentions golive wrote, so text
/// people typed cannot ping the whole channel (`<!channel>`, `<!here>`), a user group, or
/// anyone else, nor dress up a link.
pub fn escape_except(s: &str, mentions: &Mentions) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        out.push_str(&escape(&rest[..start]));
        let tail = &rest[start..];
        match tail.find('>').map(|e| &tail[..=e]) {
            Some(tag) if mentions.contains(tag) => {
                out.push_str(tag);
                rest = &tail[tag.len()..];
            }
            _ => {
                out.push_str("&lt;");
                rest = &tail[1..];
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

/// What a dialog carries back in `private_metadata`: which deployment, in which channel.
pub fn dialog_metadata(deployment_id: i64, channel: &str) -> String {
    json!({ "deployment": deployment_id, "channel": channel }).to_string()
}

/// The view a dialog is on Slack, for a deployment in a channel.
pub fn dialog_view(dialog: Dialog, deployment_id: i64, channel: &str, release: &str) -> Value {
    match dialog {
        Dialog::NoGo => no_go_modal(deployment_id, channel, release),
        Dialog::RollBack => rollback_modal(deployment_id, channel, release),
    }
}

/// The rollback dialog: the reason and the rollback level, as the plan documents define them.
fn rollback_modal(deployment_id: i64, channel: &str, release: &str) -> Value {
    let options: Vec<Value> = RollbackLevel::ALL
        .iter()
        .map(|l| {
            let (title, when) = match l {
                RollbackLevel::Immediate => ("Immediate", "critical failure: fail over to the previous version now"),
                RollbackLevel::Quick => {
                    ("Quick", "major functional issues: manual rollback to the last stable version")
                }
                RollbackLevel::Planned => ("Planned", "performance or experience issues: coordinated, keeping data"),
            };
            json!({
                "text": { "type": "plain_text", "text": format!("{title} ({})", l.window()) },
                "description": { "type": "plain_text", "text": when },
                "value": l.as_str(),
            })
        })
        .collect();
    let question = format!("Roll back *{}*? The channel is told, and on-call is paged.", escape(release));
    let level = json!({ "type": "input", "block_id": LEVEL, "label": { "type": "plain_text", "text": "Rollback level" },
                        "element": { "type": "radio_buttons", "action_id": LEVEL, "options": options } });
    let form = Form { dialog: Dialog::RollBack, title: "Roll back", submit: "Roll back", question };
    form.view(deployment_id, channel, vec![level])
}

/// The no-go dialog: the lead says why not.
fn no_go_modal(deployment_id: i64, channel: &str, release: &str) -> Value {
    let question = format!("Stop *{}* at the go gate?", escape(release));
    let form = Form { dialog: Dialog::NoGo, title: "No-go", submit: "Record no-go", question };
    form.view(deployment_id, channel, Vec::new())
}

/// A golive dialog: a question, the reason, and any further inputs.
struct Form {
    dialog: Dialog,
    title: &'static str,
    submit: &'static str,
    question: String,
}

impl Form {
    fn view(self, deployment_id: i64, channel: &str, more: Vec<Value>) -> Value {
        let mut blocks = vec![
            json!({ "type": "section", "text": { "type": "mrkdwn", "text": self.question } }),
            json!({ "type": "input", "block_id": REASON, "label": { "type": "plain_text", "text": "Reason" },
                    "element": { "type": "plain_text_input", "action_id": REASON, "multiline": true, "max_length": 2000 } }),
        ];
        blocks.extend(more);
        json!({
            "type": "modal",
            "callback_id": self.dialog.name(),
            "private_metadata": dialog_metadata(deployment_id, channel),
            "title": { "type": "plain_text", "text": self.title },
            "submit": { "type": "plain_text", "text": self.submit },
            "close": { "type": "plain_text", "text": "Cancel" },
            "blocks": blocks,
        })
    }
}

/// Slack treats `&`, `<` and `>` as markup; user text must not open links or mentions.
pub fn escape(s: &str) -> String {
    typed(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn section(markdown: String) -> SlackBlock {
    SlackSectionBlock::new().with_text(md!(markdown)).into()
}

pub fn status_blocks(v: &StatusView) -> Vec<SlackBlock> {
    if v.repeat {
        return vec![section(escape(&v.repeat_line()))];
    }
    let mut blocks: Vec<SlackBlock> = Vec::new();
    let late = v.late_by.map(|l| format!(" (late by {})", human(l))).unwrap_or_default();
    let header: SlackBlockPlainTextOnly = pt!(format!("Deploy {} — {}%{late}", clean(&v.release), v.progress));
    blocks.push(SlackHeaderBlock::new(header).into());
    let page = v.page.as_deref().map(|url| format!(" · <{url}|live page>")).unwrap_or_default();
    blocks.push(
        SlackContextBlock::new(vec![md!(format!(
            "{} · lead {} · {} of {} planned{page}",
            escape(&v.plan),
            escape(&v.lead),
            human(v.elapsed),
            human(v.planned)
        ))])
        .into(),
    );
    match &v.phase {
        Some(p) => {
            let overdue = if p.overdue() { " *OVERDUE*" } else { "" };
            blocks.push(section(format!(
                "*Phase {}/{}: {}* (`{}`)\nrunning {} of {} planned{overdue}",
                p.number,
                v.phases_total,
                escape(&p.name),
                escape(&p.id),
                human(p.elapsed),
                human(p.planned)
            )));
            let mut checklist = format!("*Checklist* {}/{} done", p.items_done, p.items_total);
            if !v.done_recent.is_empty() {
                checklist.push_str(&format!("\n*Done:* {}", escape(&text::done_recent(v, p.items_done))));
            }
            for (id, text, role) in &p.open_required {
                let owner = escape(&v.owner_words(role, text::member_plain));
                checklist.push_str(&format!("\n☐ `{}` {} — _{owner}_", escape(id), escape(text)));
            }
            blocks.push(section(checklist));
            if !p.signed.is_empty() || !p.missing_signoffs.is_empty() {
                let mut signoffs = String::from("*Sign-offs*");
                for (role, by, at) in &p.signed {
                    signoffs.push_str(&format!("\n✅ {} — {} at {} UTC", escape(role), escape(by), text::time(*at)));
                }
                for role in &p.missing_signoffs {
                    let who = escape(&v.owner_words(role, text::member_plain));
                    signoffs.push_str(&format!("\n⏳ {} — missing: _{who}_", escape(role)));
                }
                blocks.push(section(signoffs));
            }
        }
        None => {
            let next = v.next_phase.as_deref().map(|n| format!("; next is `{}`", escape(n))).unwrap_or_default();
            blocks.push(section(format!("*Phases* {}/{} done{next}", v.phases_done, v.phases_total)));
        }
    }
    let mut facts = Vec::new();
    if let Some(t) = v.traffic {
        facts.push(format!("*Traffic* {t}%{}", text::traffic_step(v, t)));
    }
    if let Some(d) = &v.decision {
        facts.push(escape(d));
    }
    facts.extend(v.timing.iter().map(|t| format!("⏱ {}", escape(t))));
    if let Some(r) = &v.rollback {
        facts.push(format!("*ROLLING BACK:* {}", escape(r)));
    }
    if let Some(e) = &v.escalation {
        facts.push(format!("🚨 *Escalation* {}", escape(e)));
    }
    for (number, text, by) in &v.blockers {
        facts.push(format!("⛔ *Blocker #{number}* {} — {}", escape(text), escape(by)));
    }
    for (item, measured) in &v.failing_checks {
        facts.push(format!("⚠ *Check failing* `{}` — {}", escape(item), escape(measured)));
    }
    if let Some(super::RollbackChecklist { done, total, open }) = &v.rollback_checklist {
        let mut list = format!("*Rollback checklist* {done}/{total} done");
        for (id, text, role) in open {
            let owner = escape(&v.owner_words(role, text::member_plain));
            list.push_str(&format!("\n☐ `{}` {} — _{owner}_", escape(id), escape(text)));
        }
        facts.push(list);
    }
    if !facts.is_empty() {
        blocks.push(section(facts.join("\n")));
    }
    if !v.notes.is_empty() {
        let notes: Vec<String> =
            v.notes.iter().map(|(by, text)| format!("📝 {}: {}", escape(by), escape(text))).collect();
        blocks.push(section(notes.join("\n")));
    }
    if !v.next_steps.is_empty() {
        let steps: Vec<String> = v.next_steps.iter().map(|s| format!("• {}", escape(s))).collect();
        blocks.push(section(format!("*Next*\n{}", steps.join("\n"))));
    }
    let eta = v.eta.map(|t| format!(" · ETA {}", text::day_time_short(t, v.now))).unwrap_or_default();
    let next = match (&v.snoozed, v.next_update) {
        (Some(snoozed), _) => format!(" · status posts snoozed {}", escape(snoozed)),
        (None, Some(next)) => format!(" · next update {} UTC", text::time(next)),
        (None, None) => String::new(),
    };
    blocks.push(SlackContextBlock::new(vec![md!(format!("As of {} UTC{eta}{next}", text::time(v.now)))]).into());
    blocks.extend(action_buttons(v));
    blocks
}
