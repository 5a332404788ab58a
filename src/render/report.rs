//! `golive show`: one deployment as a Markdown report (sign-off sheet, checklist per phase,
//! timeline, duration against plan, outcome), as JSON, or as CSV.

use std::fmt::Write;

use super::{clean, human};
use crate::domain::progress::progress;
use crate::domain::{Deployment, Event, EventKind, Outcome, Status};
use crate::store::DeploymentRow;

/// A one-line reading of an event for timelines.
pub fn details(kind: &EventKind) -> String {
    match kind {
        EventKind::DeploymentStarted { release, plan, platform, channel, go_live: None } => {
            format!("started {release} with plan {} in {platform}:{channel}", plan.id)
        }
        EventKind::DeploymentStarted { release, plan, platform, channel, go_live: Some(t) } => {
            format!("started {release} with plan {} in {platform}:{channel}, go-live (T-0) {}", plan.id, when(*t))
        }
        EventKind::LeadChanged { lead } => format!("handed the lead to {lead}"),
        EventKind::PhaseStarted { phase } => format!("started phase {phase}"),
        EventKind::PhaseCompleted { phase } => format!("completed phase {phase}"),
        EventKind::ItemChecked { phase, item } => format!("checked {item} ({phase})"),
        EventKind::ItemUnchecked { phase, item } => format!("unchecked {item} ({phase})"),
        EventKind::SignedOff { phase, role, note } => match note {
            Some(n) => format!("signed off {phase} as {role}: {n}"),
            None => format!("signed off {phase} as {role}"),
        },
        EventKind::GoDecided { role } => format!("go (as {})", role.as_deref().unwrap_or("lead")),
        EventKind::NoGoDecided { reason, role } => {
            format!("no-go (as {}): {reason}", role.as_deref().unwrap_or("lead"))
        }
        EventKind::TrafficShifted { percent, forced: None } => format!("traffic {percent}%"),
        EventKind::TrafficShifted { percent, forced: Some(why) } => format!("traffic {percent}% FORCED: {why}"),
        EventKind::MilestoneMissed { phase, planned, .. } => {
            format!("milestone missed: phase {phase} planned to start {}", when(*planned))
        }
        EventKind::DeploymentOverdue { planned_secs } => {
            format!("deployment overdue (planned {})", human(std::time::Duration::from_secs(*planned_secs)))
        }
        EventKind::NoteAdded { text } => format!("note: {text}"),
        EventKind::RollbackStarted { reason, level: None } => format!("rollback: {reason}"),
        EventKind::RollbackStarted { reason, level: Some(level) } => format!("rollback ({level}): {reason}"),
        EventKind::EscalationOpened { level, message, .. } => format!("escalated to level {level}: {message}"),
        EventKind::EscalationRaised { level, message } => format!("raised escalation to level {level}: {message}"),
        EventKind::EscalationAcknowledged { level } => format!("acknowledged level {level} escalation"),
        EventKind::EscalationResolved => "resolved the escalation".into(),
        EventKind::RollbackItemChecked { item } => format!("rollback checklist: {item} done"),
        EventKind::RollbackItemUnchecked { item } => format!("rollback checklist: {item} not done after all"),
        EventKind::CheckFailed { item, detail, .. } => format!("check of {item} failing: {detail}"),
        EventKind::CheckPassed { item, detail, .. } => format!("check of {item} passing again: {detail}"),
        EventKind::HookRan { hook, trigger, ok, detail, .. } => {
            format!("hook {hook} on {trigger}: {} ({detail})", if *ok { "ok" } else { "FAILED" })
        }
        EventKind::FreezeOverridden { freeze, reason } => {
            format!("started during the deploy freeze {freeze}: {reason}")
        }
        EventKind::PhaseOverdue { phase, planned_secs, .. } => {
            format!("phase {phase} overdue (planned {})", human(std::time::Duration::from_secs(*planned_secs)))
        }
        EventKind::StatusPosted { slot, late_secs } if *late_secs >= 60 => {
            format!(
                "status post for {} (late by {})",
                slot.format("%H:%M"),
                human(std::time::Duration::from_secs(*late_secs as u64))
            )
        }
        EventKind::StatusPosted { slot, .. } => format!("status post for {}", slot.format("%H:%M")),
        EventKind::BlockerRaised { number, text } => format!("blocker #{number}: {text}"),
        EventKind::BlockerCleared { number } => format!("cleared blocker #{number}"),
        EventKind::StatusSnoozed { until, reason: None } => format!("snoozed status posts until {}", when(*until)),
        EventKind::StatusSnoozed { until, reason: Some(r) } => {
            format!("snoozed status posts until {}: {r}", when(*until))
        }
        EventKind::StatusUnsnoozed => "resumed status posts".into(),
        EventKind::Reminded { phase, waiting, .. } => format!("reminded the owners of {phase}: {}", waiting.join(", ")),
        EventKind::DeploymentCompleted => "completed the deployment".into(),
        EventKind::DeploymentAborted { reason } => format!("aborted: {reason}"),
        EventKind::CommandRefused { command, reason } => format!("REFUSED `{command}`: {reason}"),
        EventKind::DeliveryFailed { channel, error, messages } => {
            format!("COULD NOT POST to {channel}: {error} ({messages} message(s) given up)")
        }
    }
}

/// Markdown table cells: no pipes or line breaks from user text may break the table.
fn cell(text: &str) -> String {
    clean(text).replace('|', "\\|").replace('\n', "<br>")
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The outcome as people read it, and where the deployment ended.
fn outcome(d: &Deployment) -> String {
    let words = d.status.words();
    match (d.status, d.rollback_level) {
        (Status::Ended(Outcome::RolledBack) | Status::RollingBack, Some(level)) => {
            format!("{words} ({level} rollback, {})", level.window())
        }
        _ => words.to_string(),
    }
}

/// The status line of seed 004's sheet ("⏳ Pending / ✅ Complete / ❌ Failed / 🔄 Rolled Back"),
/// with the rollback level where there was one.
fn deployment_status(d: &Deployment) -> String {
    let mark = match d.status {
        Status::Active => "⏳ In progress",
        Status::RollingBack => "🔄 Rolling back",
        Status::Ended(Outcome::Completed) => "✅ Complete",
        Status::Ended(Outcome::RolledBack) => "🔄 Rolled back",
        Status::Ended(Outcome::Aborted) => "❌ Aborted",
    };
    match d.rollback_level {
        Some(level) if matches!(d.status, Status::RollingBack | Status::Ended(Outcome::RolledBack)) => {
            format!("{mark} ({level} rollback, {})", level.window())
        }
        _ => mark.to_string(),
    }
}

/// A timeline line, read against the deployment: closing a rolled-back deployment is not
/// "completing" it.
fn reading(kind: &EventKind, d: &Deployment) -> String {
    match kind {
        EventKind::DeploymentCompleted if d.rollback.is_some() => "closed the rolled-back deployment".into(),
        other => details(other),
    }
}

/// `roles`: role id to the name people know it by (from the config, where there is one).
pub fn markdown(
    row: &DeploymentRow,
    d: &Deployment,
    events: &[Event],
    roles: &std::collections::BTreeMap<String, String>,
) -> String {
    let role = |id: &str| match roles.get(id) {
        Some(name) => format!("{} (`{id}`)", cell(name)),
        None => id.to_string(),
    };
    // One checklist row: the item, its owner, and who ticked it when.
    let item_row = |item: &crate::domain::Item, done: Option<&crate::domain::deployment::Stamp>| {
        let (by, at) = match done {
            Some(s) => (cell(s.by.display()), when(s.at)),
            None => ("—".into(), "—".into()),
        };
        let required = if item.required { "yes" } else { "no" };
        format!("| {} | {} | {} | {required} | {by} | {at} |", item.id, cell(&item.text), role(&item.role))
    };
    let mut md = String::new();
    let took = human((d.ended_at().unwrap_or(d.updated_at) - d.started_at).to_std().unwrap_or_default());
    let _ = writeln!(md, "# Deployment {}: {}\n", row.id, cell(&d.release));
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| Plan | {} (`{}`) |", cell(&d.plan.name), d.plan.id);
    let _ = writeln!(md, "| Channel | {}:{} |", d.platform, cell(&d.channel));
    let _ = writeln!(md, "| Lead | {} |", cell(d.lead.display()));
    let _ = writeln!(md, "| Outcome | {} |", outcome(d));
    let _ = writeln!(md, "| Started | {} |", when(d.started_at));
    match d.ended_at() {
        Some(end) => {
            let _ = writeln!(md, "| Ended | {} |", when(end));
        }
        None => {
            let _ = writeln!(md, "| Last activity | {} |", when(d.updated_at));
        }
    }
    let _ = writeln!(md, "| Duration | {took} of {} planned |", human(d.plan.planned_total()));
    let _ = writeln!(md, "| Progress | {}% |", progress(d).percent());
    if let Some(r) = &d.rollback {
        let level = d.rollback_level.map(|l| format!("{l} ({}): ", l.window())).unwrap_or_default();
        let _ = writeln!(md, "| Rollback | {level}{} ({}, {}) |", cell(&r.text), cell(r.by.display()), when(r.at));
    }

    let _ = writeln!(md, "\n## Sign-off sheet\n");
    let _ = writeln!(md, "| Phase | Role | Signed by | When | Note |\n|---|---|---|---|---|");
    for (phase, state) in d.plan.phases.iter().zip(&d.phases) {
        for r in &phase.signoffs {
            match state.signoffs.get(r) {
                Some(s) => {
                    let note = s.note.as_deref().map(cell).unwrap_or_default();
                    let _ = writeln!(
                        md,
                        "| {} | {} | {} | {} | {note} |",
                        phase.id,
                        role(r),
                        cell(s.by.display()),
                        when(s.at)
                    );
                }
                None => {
                    let _ = writeln!(md, "| {} | {} | — | — | |", phase.id, role(r));
                }
            }
        }
    }

    let _ = writeln!(md, "\n## Checklist\n");
    for (i, (phase, state)) in d.plan.phases.iter().zip(&d.phases).enumerate() {
        let took = match (state.started_at, state.completed_at) {
            (Some(s), Some(e)) => {
                format!("took {} of {} planned", human((e - s).to_std().unwrap_or_default()), human(phase.planned))
            }
            (Some(s), None) => match d.ended_at() {
                Some(end) => format!(
                    "stopped after {} of {} planned: the deployment was {}",
                    human((end - s).to_std().unwrap_or_default()),
                    human(phase.planned),
                    d.status.words()
                ),
                None => format!("running, {} planned", human(phase.planned)),
            },
            _ if !d.status.is_open() => format!("never started, {} planned", human(phase.planned)),
            _ => format!("not started, {} planned", human(phase.planned)),
        };
        let _ = writeln!(md, "### {}. {} — {} ({took})\n", i + 1, phase.id, cell(&phase.name));
        let sectioned = !phase.sections().is_empty();
        let header = if sectioned { "| Section " } else { "" };
        let rule = if sectioned { "|---" } else { "" };
        let _ = writeln!(
            md,
            "{header}| Item | What | Owner | Required | Checked by | When |\n{rule}|---|---|---|---|---|---|"
        );
        // Grouped by section, in the order the sections first appear; unsectioned items last.
        let mut items: Vec<&crate::domain::Item> = Vec::new();
        for section in phase.sections() {
            items.extend(phase.items.iter().filter(|it| it.section.as_deref() == Some(section)));
        }
        items.extend(phase.items.iter().filter(|it| it.section.is_none()));
        for item in items {
            let section = if sectioned {
                format!("| {} ", cell(item.section.as_deref().unwrap_or("—")))
            } else {
                String::new()
            };
            let _ = writeln!(md, "{section}{}", item_row(item, state.checked.get(&item.id)));
        }
        let _ = writeln!(md);
    }

    if d.rollback.is_some() && !d.plan.rollback.items.is_empty() {
        let _ = writeln!(md, "## Rollback checklist\n");
        let _ = writeln!(md, "| Item | What | Owner | Required | Done by | When |\n|---|---|---|---|---|---|");
        for item in &d.plan.rollback.items {
            let _ = writeln!(md, "{}", item_row(item, d.rollback_checked.get(&item.id)));
        }
        let _ = writeln!(md);
    }

    // The closing sheet the plans are written from (seed 004): the final phase's sign-offs,
    // the deployment's status, then the notes.
    let _ = writeln!(md, "## Deployment sign-off\n");
    let last = d.plan.phases.iter().zip(&d.phases).rev().find(|(phase, _)| !phase.signoffs.is_empty());
    if let Some((phase, state)) = last {
        for r in &phase.signoffs {
            let line = match state.signoffs.get(r) {
                Some(s) => format!("- [x] {}: {} · {}", role(r), cell(s.by.display()), when(s.at)),
                None => format!("- [ ] {}: not signed", role(r)),
            };
            let _ = writeln!(md, "{line}");
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "**Deployment Status:** {}\n", deployment_status(d));

    // Like the sign-off sheets the plans are written from: what people wrote down on the way.
    let _ = writeln!(md, "## Notes\n");
    if d.notes.is_empty() && d.blockers.is_empty() && d.rollback.is_none() {
        let _ = writeln!(md, "No notes were recorded.\n");
    }
    for n in &d.notes {
        let _ = writeln!(md, "- {} — {}: {}", when(n.at), cell(n.by.display()), cell(&n.text));
    }
    for b in &d.blockers {
        let cleared = b.cleared.as_ref().map(|c| format!(" (cleared by {}, {})", cell(c.by.display()), when(c.at)));
        let state = cleared.unwrap_or_else(|| " (never cleared)".into());
        let _ = writeln!(
            md,
            "- {} — {}: blocker #{}: {}{state}",
            when(b.at),
            cell(b.by.display()),
            b.number,
            cell(&b.text)
        );
    }
    if let Some(r) = &d.rollback {
        let _ = writeln!(md, "- {} — {}: rollback: {}", when(r.at), cell(r.by.display()), cell(&r.text));
    }
    if !d.notes.is_empty() || !d.blockers.is_empty() || d.rollback.is_some() {
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Timeline\n");
    let _ = writeln!(md, "| # | Time | Who | What |\n|---|---|---|---|");
    for e in events {
        let what = cell(&reading(&e.kind, d));
        let _ = writeln!(md, "| {} | {} | {} | {what} |", e.seq, when(e.at), cell(e.actor.display()));
    }
    md
}

pub fn json(row: &DeploymentRow, events: &[Event]) -> String {
    let value = serde_json::json!({ "deployment": row, "events": events });
    serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// RFC 4180 CSV. A cell that a spreadsheet would run as a formula is prefixed with `'`.
pub fn csv(events: &[Event]) -> String {
    fn field(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
        format!("\"{}\"", s.replace('"', "\"\""))
    }
    let mut out = String::from("seq,at,actor,actor_name,kind,details\r\n");
    for e in events {
        let _ = write!(
            out,
            "{},{},{},{},{},{}\r\n",
            e.seq,
            field(&crate::store::format_time(e.at)),
            field(&e.actor.key()),
            field(e.actor.name.as_deref().unwrap_or("")),
            field(e.kind.name()),
            field(&details(&e.kind))
        );
    }
    out
}
