//! Discord rendering: the status model as an embed with buttons for what can be done right
//! now, the escalation page with its Ack button, the modals the No-go and Roll back buttons
//! open, and the `allowed_mentions` that let only golive's own mentions ping. The buttons are
//! `commands::actions`'; their custom ids are written here and read back by `chat::discord::inbound`
//! through `read_custom_id`, so a button and its handler cannot drift apart.

use serde_json::{json, Value};

use super::{clean, human, text, typed, StatusView};
use crate::commands::actions::{Button, Dialog, LEVEL, REASON};
use crate::domain::RollbackLevel;

/// Discord's limits: message content, embed description and field values.
const CONTENT_MAX: usize = 2000;
const FIELD_MAX: usize = 1024;
const DESCRIPTION_MAX: usize = 4096;
/// Discord refuses an embed whose texts add up to more than 6,000 characters.
const EMBED_MAX: usize = 6000;

/// Embed colours: running, needs attention, rolling back.
const BLUE: u32 = 0x3B82F6;
const AMBER: u32 = 0xF59E0B;
const RED: u32 = 0xDC2626;

/// A button's `custom_id`: its name, the deployment it was drawn for and, for a sign-off,
/// the role: `golive.signoff:42:security`, `golive.ack:42`. The modals of No-go and Roll back
/// use their buttons' ids.
pub fn custom_id(button: &Button, deployment: i64) -> String {
    match button {
        Button::SignOff(role) => format!("{}:{deployment}:{role}", button.name()),
        _ => format!("{}:{deployment}", button.name()),
    }
}

/// The button (or modal) a `custom_id` names, and its deployment.
pub fn read_custom_id(custom_id: &str) -> Option<(Button, i64)> {
    let mut parts = custom_id.splitn(3, ':');
    let (name, deployment) = (parts.next()?, parts.next()?.parse().ok()?);
    Some((Button::from_name(name, parts.next().filter(|r| !r.is_empty()))?, deployment))
}

/// Backslash-escapes Discord markdown in text people typed, so a note cannot restyle the
/// post. Mentions in it are harmless: only the ids in `allowed_mentions` ping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in typed(s).chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '(' | ')') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn cut(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A message's content, within Discord's limit: cut visibly, keeping golive's mentions.
pub fn content(s: &str) -> String {
    super::limits::clip(s, CONTENT_MAX)
}

fn button(label: &str, id: String, style: u8) -> Value {
    // Discord cuts labels at 80 characters and custom ids at 100.
    let label: String = label.chars().take(80).collect();
    json!({ "type": 2, "style": style, "label": label, "custom_id": cut(id, 100) })
}

const PRIMARY: u8 = 1;
const SECONDARY: u8 = 2;
const DANGER: u8 = 4;

/// Action rows of at most five buttons each, at most five rows.
fn rows(buttons: Vec<Value>) -> Vec<Value> {
    buttons.chunks(5).take(5).map(|row| json!({ "type": 1, "components": row })).collect()
}

fn status_buttons(v: &StatusView) -> Vec<Value> {
    let id = v.deployment_id;
    let a = &v.actions;
    let mut buttons = Vec::new();
    if a.ack {
        buttons.push(button("Ack", custom_id(&Button::Ack, id), PRIMARY));
    }
    for role in &a.sign_off {
        buttons.push(button(&format!("Sign off as {role}"), custom_id(&Button::SignOff(role.clone()), id), SECONDARY));
    }
    if a.decide {
        buttons.push(button("Go", custom_id(&Button::Go, id), PRIMARY));
        buttons.push(button("No-go…", custom_id(&Button::NoGo, id), SECONDARY));
    }
    if a.snooze {
        buttons.push(button("Snooze 1h", custom_id(&Button::Snooze, id), SECONDARY));
    }
    if a.roll_back {
        buttons.push(button("Roll back…", custom_id(&Button::RollBack, id), DANGER));
    }
    rows(buttons)
}

/// The status post: an embed with the same facts as the text post, and its buttons.
pub fn status_message(v: &StatusView) -> Value {
    if v.repeat {
        return json!({ "embeds": [{ "description": escape(&v.repeat_line()), "color": BLUE }] });
    }
    let late = v.late_by.map(|l| format!(" (late by {})", human(l))).unwrap_or_default();
    let title = format!("Deploy {} — {}%{late}", clean(&v.release), v.progress);
    let description = format!(
        "{} · lead {} · {} of {} planned",
        escape(&v.plan),
        escape(&v.lead),
        human(v.elapsed),
        human(v.planned)
    );
    let mut fields = Vec::new();
    let mut field = |name: String, value: String| {
        fields.push(json!({ "name": cut(name, 256), "value": cut(value, FIELD_MAX), "inline": false }));
    };
    match &v.phase {
        Some(p) => {
            let overdue = if p.overdue() { " **OVERDUE**" } else { "" };
            field(
                format!("Phase {}/{}: {}", p.number, v.phases_total, clean(&p.name)),
                format!("`{}` running {} of {} planned{overdue}", escape(&p.id), human(p.elapsed), human(p.planned)),
            );
            let mut checklist = format!("{}/{} done", p.items_done, p.items_total);
            if !v.done_recent.is_empty() {
                checklist.push_str(&format!("\nDone: {}", escape(&text::done_recent(v, p.items_done))));
            }
            for (id, text, role) in &p.open_required {
                let owner = owner(v, role);
                checklist.push_str(&format!("\n☐ `{}` {} — {owner}", escape(id), escape(text)));
            }
            field("Checklist".into(), checklist);
            if !p.signed.is_empty() || !p.missing_signoffs.is_empty() {
                let mut signoffs = Vec::new();
                for (role, by, at) in &p.signed {
                    signoffs.push(format!("✅ {} — {} at {} UTC", escape(role), escape(by), text::time(*at)));
                }
                for role in &p.missing_signoffs {
                    signoffs.push(format!("⏳ {} — missing: {}", escape(role), owner(v, role)));
                }
                field("Sign-offs".into(), signoffs.join("\n"));
            }
        }
        None => {
            let next = v.next_phase.as_deref().map(|n| format!("; next is `{}`", escape(n))).unwrap_or_default();
            field("Phases".into(), format!("{}/{} done{next}", v.phases_done, v.phases_total));
        }
    }
    if let Some(t) = v.traffic {
        field("Traffic".into(), format!("{t}%{}", text::traffic_step(v, t)));
    }
    if let Some(d) = &v.decision {
        field("Decision".into(), escape(d));
    }
    if !v.timing.is_empty() {
        field("⏱ Time".into(), escape(&v.timing.join("\n")));
    }
    if let Some(r) = &v.rollback {
        field("ROLLING BACK".into(), escape(r));
    }
    if let Some(e) = &v.escalation {
        field("🚨 Escalation".into(), escape(e));
    }
    if !v.blockers.is_empty() {
        let blockers: Vec<String> =
            v.blockers.iter().map(|(n, text, by)| format!("#{n} {} — {}", escape(text), escape(by))).collect();
        field("⛔ Blockers".into(), blockers.join("\n"));
    }
    if let Some(super::RollbackChecklist { done, total, open }) = &v.rollback_checklist {
        let mut list = format!("{done}/{total} done");
        for (id, text, role) in open {
            list.push_str(&format!("\n☐ `{}` {} — {}", escape(id), escape(text), owner(v, role)));
        }
        field("Rollback checklist".into(), list);
    }
    if !v.failing_checks.is_empty() {
        let failing: Vec<String> =
            v.failing_checks.iter().map(|(item, m)| format!("`{}` — {}", escape(item), escape(m))).collect();
        field("⚠ Checks failing".into(), failing.join("\n"));
    }
    if !v.notes.is_empty() {
        let notes: Vec<String> =
            v.notes.iter().map(|(by, text)| format!("📝 {}: {}", escape(by), escape(text))).collect();
        field("Notes".into(), notes.join("\n"));
    }
    if !v.next_steps.is_empty() {
        let steps: Vec<String> = v.next_steps.iter().map(|s| format!("• {}", escape(s))).collect();
        field("Next".into(), steps.join("\n"));
    }
    fields.truncate(25);
    let fixed = title.chars().count() + description.chars().count().min(DESCRIPTION_MAX) + 100;
    fit(&mut fields, EMBED_MAX.saturating_sub(fixed));
    let color = if v.rollback.is_some() {
        RED
    } else if v.escalation.is_some() || v.late_by.is_some() || v.phase.as_ref().is_some_and(|p| p.overdue()) {
        AMBER
    } else {
        BLUE
    };
    let eta = v.eta.map(|t| format!(" · ETA {}", text::day_time_short(t, v.now))).unwrap_or_default();
    let footer = match (&v.snoozed, v.next_update) {
        (Some(snoozed), _) => format!("As of {} UTC{eta} · status posts snoozed {}", text::time(v.now), typed(snoozed)),
        (None, Some(next)) => format!("As of {} UTC{eta} · next update {} UTC", text::time(v.now), text::time(next)),
        (None, None) => format!("As of {} UTC{eta}", text::time(v.now)),
    };
    let mut message = json!({
        "embeds": [{
            "title": cut(title, 256),
            "description": cut(description, DESCRIPTION_MAX),
            "color": color,
            "fields": fields,
            "footer": { "text": footer },
        }],
        "components": status_buttons(v),
    });
    if let Some(page) = &v.page {
        // The title links to the deployment's web page.
        message["embeds"][0]["url"] = json!(page);
    }
    message
}

/// "*Operations Team:* <@id>": a role and its members. Discord shows a mention in an embed as
/// the person's name and never pings from an embed.
fn owner(v: &StatusView, role: &str) -> String {
    match v.owner(role) {
        Some(o) if o.members.is_empty() => format!("*{}*", escape(&o.name)),
        Some(o) => {
            let members: Vec<String> = o.members.iter().map(|m| format!("<@{m}>")).collect();
            format!("*{}:* {}", escape(&o.name), members.join(" "))
        }
        None => format!("*{}*", escape(role)),
    }
}

/// Shortens the longest field values until all the fields' texts fit in `budget`
/// characters, so a long reason or many notes cannot get the whole status post refused.
fn fit(fields: &mut [Value], budget: usize) {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    loop {
        let total: usize = fields.iter().map(|f| len(&f["name"]) + len(&f["value"])).sum();
        if total <= budget {
            return;
        }
        let Some(longest) = fields.iter_mut().max_by_key(|f| len(&f["value"])) else { return };
        let value = longest["value"].as_str().unwrap_or_default().to_string();
        let keep = value.chars().count().saturating_sub(total - budget).max(40);
        if keep >= value.chars().count() {
            return;
        }
        longest["value"] = Value::String(cut(value, keep));
    }
}

/// An escalation page: the Ack button that stops the climb (the announcement is the content).
pub fn escalation_message(deployment_id: i64) -> Value {
    json!({ "components": rows(vec![button("Ack", custom_id(&Button::Ack, deployment_id), PRIMARY)]) })
}

/// Who a message may ping: the users and roles golive mentioned itself (`<@id>`, `<@&id>`)
/// among `mentions`, the configured Discord members, and nobody else, whatever the text.
pub fn allowed_mentions(text: &str, mentions: &super::blocks::Mentions) -> Value {
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        let tail = &rest[start..];
        let Some(end) = tail.find('>') else { break };
        let tag = &tail[..=end];
        if mentions.contains(tag) {
            match tag[2..end].strip_prefix('&') {
                Some(role) => roles.push(role.to_string()),
                None => users.push(tag[2..end].to_string()),
            }
        }
        rest = &tail[end + 1..];
    }
    users.dedup();
    roles.dedup();
    json!({ "parse": [], "users": users, "roles": roles })
}

fn text_input(id: &str, label: &str, style: u8, placeholder: &str, max: u32) -> Value {
    json!({ "type": 1, "components": [{
        "type": 4, "custom_id": id, "label": label, "style": style, "required": true,
        "placeholder": placeholder, "max_length": max,
    }] })
}

/// The modal a dialog is on Discord.
pub fn modal(dialog: Dialog, deployment_id: i64, release: &str) -> Value {
    match dialog {
        Dialog::NoGo => no_go_modal(deployment_id, release),
        Dialog::RollBack => rollback_modal(deployment_id, release),
    }
}

/// The modal the Roll back button opens: why, and how fast.
fn rollback_modal(deployment_id: i64, release: &str) -> Value {
    let levels: Vec<&str> = RollbackLevel::ALL.iter().map(|l| l.as_str()).collect();
    json!({
        "custom_id": custom_id(&Button::RollBack, deployment_id),
        "title": cut(format!("Roll back {}", clean(release)), 45),
        "components": [
            text_input(REASON, "Why roll back?", 2, "what went wrong", 2000),
            text_input(LEVEL, "How fast", 1, &levels.join(", "), 20),
        ],
    })
}

/// The modal the No-go button opens: why.
fn no_go_modal(deployment_id: i64, release: &str) -> Value {
    json!({
        "custom_id": custom_id(&Button::NoGo, deployment_id),
        "title": cut(format!("No-go for {}", clean(release)), 45),
        "components": [text_input(REASON, "Why not go?", 2, "what is missing or wrong", 2000)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_are_read_back_as_the_buttons_they_were_written_for() {
        for button in [Button::SignOff("tech-lead".into()), Button::Ack, Button::NoGo, Button::RollBack] {
            assert_eq!(read_custom_id(&custom_id(&button, 42)), Some((button, 42)));
        }
        assert_eq!(read_custom_id("golive.signoff:42:"), None, "a sign-off names its role");
        assert_eq!(read_custom_id("golive.ack:x"), None);
    }

    #[test]
    fn fields_are_shortened_to_fit_the_embed_budget() {
        let mut fields: Vec<Value> =
            (0..8).map(|i| json!({ "name": format!("field {i}"), "value": "v".repeat(FIELD_MAX) })).collect();
        fit(&mut fields, 5000);
        let total: usize = fields
            .iter()
            .map(|f| f["name"].as_str().unwrap().chars().count() + f["value"].as_str().unwrap().chars().count())
            .sum();
        assert!(total <= 5000, "{total}");
        assert!(fields.iter().all(|f| f["value"].as_str().unwrap().chars().count() >= 40));
    }
}
