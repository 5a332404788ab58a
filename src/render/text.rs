//! Plain-text rendering for the console channel: status posts, event announcements, lists.

use chrono::{DateTime, Utc};

use super::{human, typed, StatusView};
use crate::domain::progress::progress;
use crate::domain::words::count;
use crate::domain::{Deployment, EscalationLevel, Event, EventKind, Member, OnCallReason, Outcome, Platform, Status};

pub fn time(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

pub fn status(v: &StatusView) -> String {
    if v.repeat {
        return format!("STATUS {}", v.repeat_line());
    }
    let mut out = Vec::new();
    let late = v
        .late_by
        .map(|l| format!(" (late by {}: golive was not running at the due time)", human(l)))
        .unwrap_or_default();
    out.push(format!(
        "STATUS {} — {} · lead {} · {}% done · {}{late}",
        typed(&v.release),
        typed(&v.plan),
        v.lead,
        v.progress,
        status_word(v.status)
    ));
    match &v.phase {
        Some(p) => {
            let overdue = if p.overdue() { " — OVERDUE" } else { "" };
            out.push(format!(
                "Phase {}/{} {} ({}): running {} of {} planned{overdue}",
                p.number,
                v.phases_total,
                p.id,
                p.name,
                human(p.elapsed),
                human(p.planned)
            ));
            let open = if p.open_required.is_empty() {
                "no required items open".to_string()
            } else {
                let list: Vec<String> = super::by_role(&p.open_required)
                    .into_iter()
                    .map(|(role, ids)| format!("{} ({})", ids.join(", "), v.owner_words(role, member_plain)))
                    .collect();
                format!("open required: {}", list.join(" · "))
            };
            out.push(format!("Checklist: {}/{} done · {open}", p.items_done, p.items_total));
            if !v.done_recent.is_empty() {
                out.push(format!("Done: {}", done_recent(v, p.items_done)));
            }
            if !p.sections.is_empty() {
                let sections: Vec<String> =
                    p.sections.iter().map(|(name, done, total)| format!("{} {done}/{total}", typed(name))).collect();
                out.push(format!("Sections: {}", sections.join(" · ")));
            }
            if !p.signed.is_empty() || !p.missing_signoffs.is_empty() {
                let signed: Vec<String> =
                    p.signed.iter().map(|(role, by, at)| format!("{role} ✓ {by} {}", time(*at))).collect();
                let missing = if p.missing_signoffs.is_empty() {
                    "none missing".to_string()
                } else {
                    let who: Vec<String> = p
                        .missing_signoffs
                        .iter()
                        .map(|r| format!("{r} ({})", v.owner_words(r, member_plain)))
                        .collect();
                    format!("missing: {}", who.join(", "))
                };
                let signed = if signed.is_empty() { String::new() } else { format!("{} · ", signed.join(", ")) };
                out.push(format!("Sign-offs: {signed}{missing}"));
            }
        }
        None => match (&v.next_phase, v.status) {
            (Some(next), Status::Active) => out.push(format!(
                "Between phases: {}/{} done; next is {next} (`/deploy phase start {next}`)",
                v.phases_done, v.phases_total
            )),
            _ => out.push(format!("Phases: {}/{} done", v.phases_done, v.phases_total)),
        },
    }
    let mut facts = Vec::new();
    if let Some(t) = v.traffic {
        facts.push(format!("traffic {t}%{}", traffic_step(v, t)));
    }
    if let Some(d) = &v.decision {
        facts.push(typed(d));
    }
    if !facts.is_empty() {
        out.push(facts.join(" · "));
    }
    out.extend(v.timing.iter().cloned());
    if let Some(r) = &v.rollback {
        out.push(format!("ROLLING BACK: {}", typed(r)));
    }
    if let Some(e) = &v.escalation {
        out.push(format!("Escalation {}", typed(e)));
    }
    for (number, text, by) in &v.blockers {
        out.push(format!("BLOCKER #{number}: {} ({by})", typed(text)));
    }
    for (item, measured) in &v.failing_checks {
        out.push(format!("CHECK FAILING: {item} — {}", typed(measured)));
    }
    if let Some(super::RollbackChecklist { done, total, open }) = &v.rollback_checklist {
        out.push(format!("Rollback checklist {done}/{total} done"));
        for (id, text, role) in open {
            out.push(format!("  [ ] {id} — {} ({})", typed(text), v.owner_words(role, member_plain)));
        }
    }
    for (by, text) in &v.notes {
        out.push(format!("Note from {by}: {}", typed(text)));
    }
    if !v.next_steps.is_empty() {
        out.push(format!("Next: {}", v.next_steps.join(" · ")));
    }
    let next = match (&v.snoozed, v.next_update) {
        (Some(snoozed), _) => format!(" · status posts snoozed {}", typed(snoozed)),
        (None, Some(t)) => format!(" · next update {} UTC", time(t)),
        (None, None) => String::new(),
    };
    let eta = v.eta.map(|t| format!(" · ETA {}", day_time_short(t, v.now))).unwrap_or_default();
    out.push(format!("Running {} of {} planned{eta}{next}", human(v.elapsed), human(v.planned)));
    if let Some(page) = &v.page {
        out.push(format!("Live page: {page}"));
    }
    out.join("\n")
}

/// A member as the status names them: `@id`, plainly (a status post pings nobody).
pub fn member_plain(member: &str) -> String {
    format!("@{member}")
}

/// "security-scan ✓ sam, db-backup ✓ olga (+4 earlier)": the last items ticked.
pub fn done_recent(v: &StatusView, done: usize) -> String {
    let list: Vec<String> = v.done_recent.iter().map(|(id, by)| format!("{id} ✓ {by}")).collect();
    let earlier = done.saturating_sub(v.done_recent.len());
    let earlier = if earlier > 0 { format!(" (+{earlier} earlier)") } else { String::new() };
    format!("{}{earlier}", list.join(", "))
}

/// " (step 2 of 4)": where the traffic step stands among the phase's steps.
pub fn traffic_step(v: &StatusView, t: u8) -> String {
    match v.phase.as_ref().map(|p| &p.traffic_steps) {
        Some(steps) if !steps.is_empty() => match steps.iter().position(|s| *s == t) {
            Some(n) => format!(" (step {} of {})", n + 1, steps.len()),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// "14:30 UTC", or "Tue 14:30 UTC" when it is not on the day of `now`.
pub fn day_time_short(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t.date_naive() == now.date_naive() {
        format!("{} UTC", time(t))
    } else {
        t.format("%a %H:%M UTC").to_string()
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::RollingBack => "ROLLING BACK",
        Status::Ended(Outcome::Completed) => "completed",
        Status::Ended(Outcome::RolledBack) => "rolled back",
        Status::Ended(Outcome::Aborted) => "aborted",
    }
}

/// How a member is named in this platform's channel: a real mention on Slack and Discord
/// (`<@U123>`, a user group as `<!subteam^S123>`), `@name` in the console.
pub fn mention(member: &Member) -> String {
    match member.platform {
        Platform::Slack if member.is_group() => format!("<!subteam^{}>", member.id),
        // A Discord role member is written `&ROLEID`, so this is Discord's `<@&ROLEID>`.
        Platform::Slack | Platform::Discord => format!("<@{}>", member.id),
        _ => format!("@{}", member.id),
    }
}

/// Who is on call for an escalation level at `at` on this platform, mentioned.
pub fn mentions(level: &EscalationLevel, platform: Platform, at: DateTime<Utc>) -> String {
    let on_call = level.on_call(at);
    let here: Vec<String> = on_call.members.iter().filter(|m| m.platform == platform).map(mention).collect();
    if here.is_empty() {
        format!("(nobody of `{}` is on {platform})", level.name)
    } else {
        here.join(" ")
    }
}

/// `/deploy oncall`: who is on call for each level now, and until when.
pub fn oncall(levels: &[EscalationLevel], platform: Platform, now: DateTime<Utc>) -> String {
    if levels.is_empty() {
        return "no escalation levels are configured (`[[escalation.levels]]` in the config)".into();
    }
    let mut out = String::from("On call now, in escalation order:");
    for (i, level) in levels.iter().enumerate() {
        let on_call = level.on_call(now);
        let why = match (on_call.reason, on_call.until) {
            (OnCallReason::Override, Some(t)) => format!(", override until {}", day_time(t)),
            (OnCallReason::Rotation, Some(t)) => format!(", rotation hands off {}", day_time(t)),
            _ => String::new(),
        };
        let repeat = match level.repeat {
            0 => String::new(),
            n => format!(", pinged {} times", n.saturating_add(1)),
        };
        out.push_str(&format!(
            "\n{}. {} — {} (ack within {}{repeat}{why})",
            i + 1,
            level.name,
            mentions(level, platform, now),
            human(level.ack_timeout)
        ));
    }
    out
}

fn day_time(t: DateTime<Utc>) -> String {
    t.format("%a %Y-%m-%d %H:%M UTC").to_string()
}

/// The channel announcement for one recorded event, read against the state after it.
/// `None` for events that are not announced (refusals go only to the person refused).
pub fn announce(event: &Event, d: &Deployment, levels: &[EscalationLevel]) -> Option<String> {
    let who = event.actor.display();
    let n = d.plan.phases.len();
    let text = match &event.kind {
        EventKind::DeploymentStarted { release, plan, .. } => {
            let first = plan.phases.first().map(|p| p.id.as_str()).unwrap_or("");
            format!(
                "{who} started deploying {} with the plan \"{}\": {} ({}), {} planned. {who} is the lead. Begin with `/deploy phase start {first}`.",
                typed(release),
                plan.name,
                count(n, "phase"),
                plan.phases.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(" → "),
                human(plan.planned_total())
            ) + &go_live(d, event.at)
        }
        EventKind::PhaseStarted { phase } => {
            let i = d.plan.phase_index(phase)? + 1;
            let p = &d.plan.phases[i - 1];
            let mut items: Vec<String> = Vec::new();
            let mut section = None;
            for it in &p.items {
                if it.section.is_some() && it.section != section {
                    items.push(format!("  {}:", it.section.as_deref().unwrap_or_default()));
                    section = it.section.clone();
                }
                let step = it.step.map(|s| format!(", before leaving {s}%")).unwrap_or_default();
                let after =
                    if it.after.is_empty() { String::new() } else { format!(", after {}", it.after.join(", ")) };
                items.push(format!(
                    "  [ ] {} — {} ({}{}{step}{after})",
                    it.id,
                    it.text,
                    it.role,
                    if it.required { "" } else { ", optional" }
                ));
            }
            let signoffs = if p.signoffs.is_empty() {
                String::new()
            } else {
                format!("\nSign-offs needed: {}", p.signoffs.join(", "))
            };
            let traffic = if p.traffic.is_empty() {
                String::new()
            } else {
                let hold = p.hold.map(|h| format!(", each watched for {}", human(h))).unwrap_or_default();
                format!(
                    "\nTraffic steps: {}{hold}",
                    p.traffic.iter().map(|t| format!("{t}%")).collect::<Vec<_>>().join(" → ")
                )
            };
            format!(
                "Phase {i}/{n} {} ({}) started by {who}, {} planned.\n{}{signoffs}{traffic}",
                p.id,
                p.name,
                human(p.planned),
                items.join("\n")
            )
        }
        EventKind::PhaseCompleted { phase } => {
            let i = d.plan.phase_index(phase)? + 1;
            let state = &d.phases[i - 1];
            let took = match (state.started_at, state.completed_at) {
                (Some(s), Some(e)) => human((e - s).to_std().unwrap_or_default()),
                _ => "?".into(),
            };
            let next = match d.next_phase() {
                Some(j) => format!("Next: `/deploy phase start {}`", d.plan.phases[j].id),
                None => "Every phase is done: `/deploy complete` ends the deployment.".into(),
            };
            let gate = d.plan.go_gate_index();
            let next = match (d.next_phase(), gate) {
                (Some(j), Some(g)) if j == g && !d.decision.as_ref().is_some_and(|x| x.go) => {
                    format!(
                        "Next: the lead's go/no-go for {} (`/deploy go` or `/deploy nogo REASON`).",
                        d.plan.phases[g].id
                    )
                }
                _ => next,
            };
            format!(
                "Phase {i}/{n} {phase} is done (took {took} of {} planned). Progress {}%. {next}",
                human(d.plan.phases[i - 1].planned),
                progress(d).percent()
            )
        }
        EventKind::ItemChecked { phase, item } => {
            let i = d.plan.phase_index(phase)?;
            let p = &d.plan.phases[i];
            let text = p.item(item).map(|it| it.text.as_str()).unwrap_or("");
            let open = d.open_required_items(i);
            let left = if open.is_empty() {
                "all required items done".to_string()
            } else {
                format!("open: {}", open.join(", "))
            };
            format!(
                "{who} checked {item} — {text} ({}/{} in {phase}; {left})",
                d.phases[i].checked.len(),
                p.items.len()
            )
        }
        EventKind::ItemUnchecked { phase, item } => format!("{who} unchecked {item} in {phase}"),
        EventKind::SignedOff { phase, role, note } => {
            let i = d.plan.phase_index(phase)?;
            let missing = d.missing_signoffs(i);
            let note = note.as_deref().map(|n| format!(" — \"{}\"", typed(n))).unwrap_or_default();
            let left = if missing.is_empty() {
                "all sign-offs in".to_string()
            } else {
                format!("still missing: {}", missing.join(", "))
            };
            format!("{who} signed off {phase} as {role}{note} ({left})")
        }
        EventKind::GoDecided { role } => {
            let gate = d.plan.go_gate.as_deref().unwrap_or("the release");
            format!("GO: {who} (as {}) gives the go for {gate}.", role.as_deref().unwrap_or("lead"))
        }
        EventKind::NoGoDecided { reason, role } => {
            format!("NO-GO from {who} (as {}): {}", role.as_deref().unwrap_or("lead"), typed(reason))
        }
        EventKind::TrafficShifted { percent, forced } => {
            let how = match forced {
                Some(why) => format!("FORCED by {who} before the step allowed it: {}", typed(why)),
                None => format!("set by {who}"),
            };
            let hold = d.current.and_then(|i| d.plan.phases[i].hold);
            let watch = match hold {
                Some(h) if d.plan.phases[d.current.unwrap_or(0)].traffic.last() != Some(percent) => {
                    format!(" Watching it for {} before the next step.", human(h))
                }
                _ => String::new(),
            };
            format!("Traffic on the new version: {percent}% ({how}).{watch}")
        }
        EventKind::LeadChanged { lead } if event.actor.same_person(lead) => {
            format!("{lead} took over the lead: go / no-go, phases, complete and abort are theirs now.")
        }
        EventKind::LeadChanged { lead } => {
            format!("{who} handed the lead to {lead}: go / no-go, phases, complete and abort are theirs now.")
        }
        EventKind::MilestoneMissed { phase, planned, owners } => {
            let owners = owners_here(owners, d.platform);
            let offset = d
                .plan
                .phase_index(phase)
                .and_then(|i| d.plan.phases[i].at)
                .map(|a| format!("{}, ", crate::domain::timeline::offset(a)))
                .unwrap_or_default();
            format!(
                "⚠ Milestone missed: phase {phase} was planned to start at {offset}{} UTC and has not started.{owners} Lead: {}.",
                time(*planned),
                d.lead
            )
        }
        EventKind::DeploymentOverdue { planned_secs } => format!(
            "{} is OVERDUE: it has run past its whole plan ({}). Lead: {}.",
            typed(&d.release),
            human(std::time::Duration::from_secs(*planned_secs)),
            d.lead
        ),
        EventKind::NoteAdded { text } => format!("Note from {who}: {}", typed(text)),
        EventKind::RollbackStarted { reason, level } => {
            let level = level.map(|l| format!(" ({l}, {})", l.window())).unwrap_or_default();
            format!("ROLLBACK{level} started by {who}: {}", typed(reason))
        }
        EventKind::EscalationOpened { level, message, .. } | EventKind::EscalationRaised { level, message } => {
            let l = levels.get(usize::from(*level).saturating_sub(1));
            let name = l.map(|l| l.name.as_str()).unwrap_or("");
            let pings = l.map(|l| mentions(l, d.platform, event.at)).unwrap_or_default();
            let within = l.map(|l| format!(" within {}", human(l.ack_timeout))).unwrap_or_default();
            // A climb is golive's own doing: say why it pinged.
            let from = match (&event.kind, d.escalation.as_ref()) {
                (EventKind::EscalationRaised { .. }, Some(e)) if event.actor.is_golive() => {
                    let again = if e.pings > 1 { format!(" (ping {})", e.pings) } else { String::new() };
                    format!("not acknowledged in time{again}")
                }
                _ => format!("from {who}"),
            };
            format!(
                "ESCALATION level {level} ({name}) {from}: {} — {pings} please `/deploy ack`{within}.",
                typed(message)
            )
        }
        EventKind::EscalationAcknowledged { level } => {
            let after = d
                .escalation
                .as_ref()
                .map(|e| format!(" after {}", human((event.at - e.raised_at).to_std().unwrap_or_default())))
                .unwrap_or_default();
            format!("{who} acknowledged the level {level} escalation{after}.")
        }
        EventKind::EscalationResolved if event.actor.is_golive() => {
            "The escalation is resolved: what caused it is gone.".to_string()
        }
        EventKind::EscalationResolved => format!("{who} resolved the escalation."),
        EventKind::RollbackItemChecked { item } => format!("{who} ticked `{item}` on the rollback checklist."),
        EventKind::RollbackItemUnchecked { item } => format!("{who} unticked `{item}` on the rollback checklist."),
        EventKind::CheckFailed { item, detail, .. } => format!("⚠ Check of `{item}` failing: {}", typed(detail)),
        EventKind::CheckPassed { item, detail, .. } => format!("Check of `{item}` passing again: {}", typed(detail)),
        EventKind::HookRan { hook, trigger, ok: true, detail, duration_ms, .. } => {
            format!("Hook `{hook}` on {trigger}: ok ({detail}, {})", millis(*duration_ms))
        }
        EventKind::HookRan { hook, trigger, ok: false, detail, output, duration_ms } => {
            let tail =
                if output.trim().is_empty() { String::new() } else { format!("\n```\n{}\n```", typed(output.trim())) };
            format!("⚠ Hook `{hook}` on {trigger} FAILED: {detail} after {}{tail}", millis(*duration_ms))
        }
        EventKind::FreezeOverridden { freeze, reason } => {
            format!("⚠ {who} started this deployment during the deploy freeze {freeze}. Why: {}", typed(reason))
        }
        EventKind::PhaseOverdue { phase, planned_secs, owners } => {
            let i = d.plan.phase_index(phase)?;
            let open = d.open_required_items(i);
            let missing = d.missing_signoffs(i);
            let mut waiting = Vec::new();
            if !open.is_empty() {
                waiting.push(format!("open required items: {}", open.join(", ")));
            }
            if !missing.is_empty() {
                waiting.push(format!("missing sign-offs: {}", missing.join(", ")));
            }
            let waiting =
                if waiting.is_empty() { String::new() } else { format!(" Waiting on {}.", waiting.join("; ")) };
            format!(
                "Phase {phase} is OVERDUE: it has run past its planned {}.{waiting}{} Lead: {}.",
                human(std::time::Duration::from_secs(*planned_secs)),
                owners_here(owners, d.platform),
                d.lead
            )
        }
        EventKind::StatusPosted { .. } => return None,
        EventKind::BlockerRaised { number, text } => {
            format!("⛔ Blocker #{number} from {who}: {}. `/deploy unblock {number}` clears it.", typed(text))
        }
        EventKind::BlockerCleared { number } => {
            let text = d.blockers.iter().find(|b| b.number == *number).map(|b| typed(&b.text)).unwrap_or_default();
            format!("{who} cleared blocker #{number}: {text}")
        }
        EventKind::StatusSnoozed { until, reason } => {
            let why = reason.as_deref().map(|r| format!(": {}", typed(r))).unwrap_or_default();
            format!(
                "{who} snoozed the scheduled status posts for {}, until {} UTC{why}. Pages and announcements go on; `/deploy unsnooze` resumes the posts.",
                human((*until - event.at).to_std().unwrap_or_default()),
                time(*until)
            )
        }
        EventKind::StatusUnsnoozed => format!("{who} resumed the scheduled status posts."),
        EventKind::Reminded { phase, waiting, owners } => {
            let from = if event.actor.is_golive() { String::new() } else { format!(" from {who}") };
            format!(
                "Reminder{from}: phase {phase} is waiting on {}.{}",
                waiting.join(", "),
                owners_here(owners, d.platform)
            )
        }
        EventKind::DeploymentCompleted => {
            let took = human((event.at - d.started_at).to_std().unwrap_or_default());
            let outcome =
                if d.status == Status::Ended(Outcome::RolledBack) { "rolled back and closed" } else { "completed" };
            format!(
                "{} {outcome} by {who}: took {took} of {} planned, progress {}%.",
                typed(&d.release),
                human(d.plan.planned_total()),
                progress(d).percent()
            )
        }
        EventKind::DeploymentAborted { reason } => format!("{} ABORTED by {who}: {}", typed(&d.release), typed(reason)),
        EventKind::CommandRefused { .. } => return None,
        // Posting it would fail the same way.
        EventKind::DeliveryFailed { .. } => return None,
    };
    Some(text)
}

/// " Owners: @olga @bruno." for the members on this platform, or nothing.
fn owners_here(owners: &[Member], platform: Platform) -> String {
    let here: Vec<String> = owners.iter().filter(|m| m.platform == platform).map(mention).collect();
    if here.is_empty() {
        String::new()
    } else {
        format!(" Owners: {}.", here.join(" "))
    }
}

/// The go-live line of a start announcement: T-0 and the first milestone.
fn go_live(d: &Deployment, now: DateTime<Utc>) -> String {
    let Some(t0) = d.go_live else {
        return String::new();
    };
    let next = d
        .next_milestone()
        .map(|m| {
            format!(
                " First milestone: phase {} at {} ({}).",
                m.phase,
                crate::domain::timeline::offset(m.offset),
                day_time(m.at)
            )
        })
        .unwrap_or_default();
    format!("\nGo-live (T-0): {}, now {}.{next}", day_time(t0), crate::domain::timeline::t_minus(t0, now))
}

/// A duration in milliseconds, as people read it: `120 ms`, `2.4 s`.
fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
