//! What automatic check results mean for a deployment: a pass ticks the item (as golive); a
//! failure keeps it open and is recorded once, with what was measured, until it passes
//! again; and a guard failing while traffic is shifted escalates — or, when the plan says so,
//! rolls back at once. Pure: the checks worker measures, the engine records what this says.

use super::deployment::{Deployment, Status};
use super::event::{EventKind, RollbackLevel};
use super::plan::Item;

/// One check's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub item: String,
    pub ok: bool,
    /// What was measured: `HTTP 200`, `0.0042 (wants below 0.001)`, `no answer within 5s`.
    pub detail: String,
}

/// The items whose checks should run now: those of the running phase not yet ticked, and
/// its guards while traffic is shifted (a guard keeps watching after its item is ticked).
pub fn to_run(d: &Deployment) -> Vec<&Item> {
    let Some(i) = d.current else { return Vec::new() };
    if d.status != Status::Active {
        return Vec::new();
    }
    let (phase, state) = (&d.plan.phases[i], &d.phases[i]);
    let shifting = d.traffic.is_some_and(|t| t > 0) && !phase.traffic.is_empty();
    phase
        .items
        .iter()
        .filter(|item| item.check.is_some() && (!state.checked.contains_key(&item.id) || (item.guard && shifting)))
        .collect()
}

/// The events a round of results calls for.
pub fn decide(d: &Deployment, results: &[Measured], escalation_levels: usize) -> Vec<EventKind> {
    let Some(i) = d.current else { return Vec::new() };
    let (phase, state) = (&d.plan.phases[i], &d.phases[i]);
    let shifting = d.traffic.is_some_and(|t| t > 0) && !phase.traffic.is_empty();
    let mut events = Vec::new();
    let mut acted = false;
    for m in results {
        let Some(item) = phase.item(&m.item) else { continue };
        let failing = d.failing_checks.contains_key(&m.item);
        let p = phase.id.clone();
        if m.ok {
            if failing {
                events.push(EventKind::CheckPassed {
                    phase: p.clone(),
                    item: m.item.clone(),
                    detail: m.detail.clone(),
                });
            }
            if !state.checked.contains_key(&m.item) {
                events.push(EventKind::ItemChecked { phase: p, item: m.item.clone() });
            }
            continue;
        }
        if failing {
            continue;
        }
        events.push(EventKind::CheckFailed { phase: p, item: m.item.clone(), detail: m.detail.clone() });
        if !(item.guard && shifting) || acted || d.status != Status::Active {
            continue;
        }
        // A guard breached while traffic is on the new release.
        acted = true;
        let why = format!("guard `{}` failed at {}% traffic: {}", m.item, d.traffic.unwrap_or(0), m.detail);
        if d.plan.auto_rollback {
            events.push(EventKind::RollbackStarted { reason: why.clone(), level: Some(RollbackLevel::Immediate) });
        }
        if d.escalation.is_none() && escalation_levels > 0 {
            // A person resolves it: the breach is not something golive can see end by itself.
            events.push(EventKind::EscalationOpened { level: 1, message: why, cause: None });
        }
    }
    events
}
