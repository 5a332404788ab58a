//! `golive show`: one deployment as a Markdown report (sign-off sheet, checklist per phase,
//! timeline, duration against plan, outcome), as JSON, or as CSV.

use std::fmt::{self, Write};

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{clean, human};
use crate::domain::progress::progress;
use crate::domain::{Deployment, Event, EventKind, Outcome, Status};
use crate::store::DeploymentRow;

/// A one-line reading of an event for timelines.
pub fn details(kind: &EventKind) -> String {
    let mut out = String::new();
    write_details(&mut out, kind);
    out
}

/// [`details`], appended to `out`: a report of thousands of events reuses one buffer.
fn write_details(out: &mut String, kind: &EventKind) {
    let _ = match kind {
        EventKind::DeploymentStarted { release, plan, platform, channel, go_live: None } => {
            write!(out, "started {release} with plan {} in {platform}:{channel}", plan.id)
        }
        EventKind::DeploymentStarted { release, plan, platform, channel, go_live: Some(t) } => {
            write!(out, "started {release} with plan {} in {platform}:{channel}, go-live (T-0) {}", plan.id, When(*t))
        }
        EventKind::LeadChanged { lead } => write!(out, "handed the lead to {lead}"),
        EventKind::PhaseStarted { phase } => write!(out, "started phase {phase}"),
        EventKind::PhaseCompleted { phase } => write!(out, "completed phase {phase}"),
        EventKind::ItemChecked { phase, item } => write!(out, "checked {item} ({phase})"),
        EventKind::ItemUnchecked { phase, item } => write!(out, "unchecked {item} ({phase})"),
        EventKind::SignedOff { phase, role, note } => match note {
            Some(n) => write!(out, "signed off {phase} as {role}: {n}"),
            None => write!(out, "signed off {phase} as {role}"),
        },
        EventKind::GoDecided { role } => write!(out, "go (as {})", role.as_deref().unwrap_or("lead")),
        EventKind::NoGoDecided { reason, role } => {
            write!(out, "no-go (as {}): {reason}", role.as_deref().unwrap_or("lead"))
        }
        EventKind::TrafficShifted { percent, forced: None } => write!(out, "traffic {percent}%"),
        EventKind::TrafficShifted { percent, forced: Some(why) } => write!(out, "traffic {percent}% FORCED: {why}"),
        EventKind::MilestoneMissed { phase, planned, .. } => {
            write!(out, "milestone missed: phase {phase} planned to start {}", When(*planned))
        }
        EventKind::DeploymentOverdue { planned_secs } => {
            write!(out, "deployment overdue (planned {})", human(std::time::Duration::from_secs(*planned_secs)))
        }
        EventKind::NoteAdded { text } => write!(out, "note: {text}"),
        EventKind::RollbackStarted { reason, level: None } => write!(out, "rollback: {reason}"),
        EventKind::RollbackStarted { reason, level: Some(level) } => write!(out, "rollback ({level}): {reason}"),
        EventKind::EscalationOpened { level, message, .. } => write!(out, "escalated to level {level}: {message}"),
        EventKind::EscalationRaised { level, message } => write!(out, "raised escalation to level {level}: {message}"),
        EventKind::EscalationAcknowledged { level } => write!(out, "acknowledged level {level} escalation"),
        EventKind::EscalationResolved => out.write_str("resolved the escalation"),
        EventKind::RollbackItemChecked { item } => write!(out, "rollback checklist: {item} done"),
        EventKind::RollbackItemUnchecked { item } => write!(out, "rollback checklist: {item} not done after all"),
        EventKind::CheckFailed { item, detail, .. } => write!(out, "check of {item} failing: {detail}"),
        EventKind::CheckPassed { item, detail, .. } => write!(out, "check of {item} passing again: {detail}"),
        EventKind::HookRan { hook, trigger, ok, detail, .. } => {
            write!(out, "hook {hook} on {trigger}: {} ({detail})", if *ok { "ok" } else { "FAILED" })
        }
        EventKind::FreezeOverridden { freeze, reason } => {
            write!(out, "started during the deploy freeze {freeze}: {reason}")
        }
        EventKind::PhaseOverdue { phase, planned_secs, .. } => {
            write!(out, "phase {phase} overdue (planned {})", human(std::time::Duration::from_secs(*planned_secs)))
        }
        EventKind::StatusPosted { slot, late_secs } if *late_secs >= 60 => {
            write!(
                out,
                "status post for {} (late by {})",
                Clock(*slot),
                human(std::time::Duration::from_secs(*late_secs as u64))
            )
        }
        EventKind::StatusPosted { slot, .. } => write!(out, "status post for {}", Clock(*slot)),
        EventKind::BlockerRaised { number, text } => write!(out, "blocker #{number}: {text}"),
        EventKind::BlockerCleared { number } => write!(out, "cleared blocker #{number}"),
        EventKind::StatusSnoozed { until, reason: None } => write!(out, "snoozed status posts until {}", When(*until)),
        EventKind::StatusSnoozed { until, reason: Some(r) } => {
            write!(out, "snoozed status posts until {}: {r}", When(*until))
        }
        EventKind::StatusUnsnoozed => out.write_str("resumed status posts"),
        EventKind::Reminded { phase, waiting, .. } => {
            write!(out, "reminded the owners of {phase}: {}", waiting.join(", "))
        }
        EventKind::DeploymentCompleted => out.write_str("completed the deployment"),
        EventKind::DeploymentAborted { reason } => write!(out, "aborted: {reason}"),
        EventKind::CommandRefused { command, reason } => write!(out, "REFUSED `{command}`: {reason}"),
        EventKind::DeliveryFailed { channel, error, messages } => {
            write!(out, "COULD NOT POST to {channel}: {error} ({messages} message(s) given up)")
        }
    };
}

/// Markdown table cells: no pipes or line breaks from user text may break the table.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_cell(&mut out, text);
    out
}

/// [`cell`], appended to `out`. Text with nothing to replace (nearly all) is copied as it is.
fn push_cell(out: &mut String, text: &str) {
    // Control characters are below 0x20, 0x7f, or U+0080 to U+009F (0xc2 0x80..0x9f in UTF-8).
    if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == b'|') {
        out.push_str(text);
        return;
    }
    for c in clean(text).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
}

fn when(t: DateTime<Utc>) -> String {
    When(t).to_string()
}

/// A time as reports show it, `2026-11-30 14:05 UTC`: the fields written as numbers, which is
/// many times faster than interpreting a format string for each of thousands of events.
struct When(DateTime<Utc>);

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.0;
        match t.year() {
            year @ 0..=9999 => {
                write!(f, "{year:04}-{:02}-{:02} {:02}:{:02} UTC", t.month(), t.day(), t.hour(), t.minute())
            }
            _ => write!(f, "{}", t.format("%Y-%m-%d %H:%M UTC")),
        }
    }
}

/// The time of day of a status slot, `14:30`.
struct Clock(DateTime<Utc>);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
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
fn reading(out: &mut String, kind: &EventKind, d: &Deployment) {
    match kind {
        EventKind::DeploymentCompleted if d.rollback.is_some() => out.push_str("closed the rolled-back deployment"),
        other => write_details(out, other),
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
    // Most of a long report is its timeline and notes, under 200 bytes an event: one
    // allocation instead of a copy of megabytes at every doubling.
    let mut md = String::with_capacity(4096 + 256 * events.len());
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
        let _ = write!(md, "- {} — ", When(n.at));
        push_cell(&mut md, n.by.display());
        md.push_str(": ");
        push_cell(&mut md, &n.text);
        md.push('\n');
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
    let mut what = String::new();
    for e in events {
        what.clear();
        reading(&mut what, &e.kind, d);
        let _ = write!(md, "| {} | {} | ", e.seq, When(e.at));
        push_cell(&mut md, e.actor.display());
        md.push_str(" | ");
        push_cell(&mut md, &what);
        md.push_str(" |\n");
    }
    md
}

/// `golive show --format json`: the deployments row and every event.
pub fn json(row: &DeploymentRow, events: &[Event]) -> String {
    let mut out = Vec::with_capacity(512 + 300 * events.len());
    match write_json(&mut out, row, events) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(e) => format!("{{\"error\": \"{e}\"}}"),
    }
}

/// [`json`], serialised straight into `out` (stdout, for `golive show`): no copy of the
/// events as a JSON tree first.
pub fn write_json(out: impl std::io::Write, row: &DeploymentRow, events: &[Event]) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Export<'a> {
        deployment: &'a DeploymentRow,
        events: &'a [Event],
    }
    serde_json::to_writer_pretty(out, &Export { deployment: row, events }).map_err(std::io::Error::from)
}

/// RFC 4180 CSV. A cell that a spreadsheet would run as a formula is prefixed with `'`.
pub fn csv(events: &[Event]) -> String {
    fn field(out: &mut String, s: &str) {
        out.push('"');
        if s.starts_with(['=', '+', '-', '@']) {
            out.push('\'');
        }
        match s.contains('"') {
            true => out.push_str(&s.replace('"', "\"\"")),
            false => out.push_str(s),
        }
        out.push('"');
    }
    let mut out = String::with_capacity(64 + 128 * events.len());
    out.push_str("seq,at,actor,actor_name,kind,details\r\n");
    let mut scratch = String::new();
    for e in events {
        let _ = write!(out, "{},", e.seq);
        field(&mut out, &crate::store::format_time(e.at));
        out.push(',');
        field(&mut out, &e.actor.key());
        out.push(',');
        field(&mut out, e.actor.name.as_deref().unwrap_or(""));
        out.push(',');
        field(&mut out, e.kind.name());
        out.push(',');
        scratch.clear();
        write_details(&mut scratch, &e.kind);
        field(&mut out, &scratch);
        out.push_str("\r\n");
    }
    out
}
