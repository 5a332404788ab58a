//! The stakeholder digest: one short line per milestone for the `[notify]` channels: the
//! release, the plan, what happened, who, and where to read more. Text people typed is shown
//! as typed and pings nobody.

use super::{human, typed};
use crate::domain::{Deployment, Event, EventKind, Outcome, Status};

/// The digest line of `event` (a milestone) of deployment `d`, as it stands after it, with a
/// link to `page` when there is one; `None` for events that are not milestones.
pub fn line(event: &Event, d: &Deployment, page: Option<&str>) -> Option<String> {
    let who = typed(event.actor.display());
    let what = match &event.kind {
        EventKind::DeploymentStarted { .. } => {
            let go_live =
                d.go_live.map(|t| format!(", go-live {} UTC", t.format("%Y-%m-%d %H:%M"))).unwrap_or_default();
            format!("🚀 started by {who} ({} planned{go_live})", human(d.plan.planned_total()))
        }
        EventKind::GoDecided { .. } => {
            let gate = d.plan.go_gate.as_deref().unwrap_or("the release");
            format!("✅ GO for {gate}, given by {who}")
        }
        EventKind::TrafficShifted { percent, forced } => {
            let forced = if forced.is_some() { " (moved on early)" } else { "" };
            format!("↗ {percent}% of traffic on the new version, set by {who}{forced}")
        }
        EventKind::DeploymentCompleted if d.status == Status::Ended(Outcome::Completed) => {
            let took = human((event.at - d.started_at).to_std().unwrap_or_default());
            format!("🎉 completed by {who}, took {took} of {} planned", human(d.plan.planned_total()))
        }
        EventKind::RollbackStarted { reason, level } => {
            let level = level.map(|l| format!(" ({l}, {})", l.window())).unwrap_or_default();
            format!("⏪ ROLLING BACK{level}, started by {who}: {}", typed(reason))
        }
        EventKind::DeploymentAborted { reason } => format!("🛑 aborted by {who}: {}", typed(reason)),
        _ => return None,
    };
    let link = page.map(|p| format!(" · {p}")).unwrap_or_default();
    Some(format!("{} ({}): {what}{link}", typed(&d.release), typed(&d.plan.name)))
}
