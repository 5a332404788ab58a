//! The milestones of a deployment that stakeholders hear about (`[notify] events`): which
//! recorded events they are.

use super::event::EventKind;

/// Every milestone `[notify] events` may name, in the order a deployment reaches them.
pub const MILESTONES: [&str; 6] = ["started", "go", "traffic", "completed", "rolled_back", "aborted"];

/// The milestone an event is, if it is one. A rollback is announced when it starts (that is
/// when stakeholders need to know); closing a rolled-back deployment is not `completed`.
pub fn milestone(kind: &EventKind, rolled_back: bool) -> Option<&'static str> {
    match kind {
        EventKind::DeploymentStarted { .. } => Some("started"),
        EventKind::GoDecided { .. } => Some("go"),
        EventKind::TrafficShifted { .. } => Some("traffic"),
        EventKind::DeploymentCompleted if !rolled_back => Some("completed"),
        EventKind::RollbackStarted { .. } => Some("rolled_back"),
        EventKind::DeploymentAborted { .. } => Some("aborted"),
        _ => None,
    }
}
