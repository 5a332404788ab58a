//! Moving traffic to the new version: the phase's steps in plan order, each watched for the
//! phase's `hold` and kept until the items tied to it are done, unless the lead forces it.

use super::{join, percents, Decider};
use crate::domain::event::EventKind;
use crate::domain::refusal::Refusal;

impl Decider<'_> {
    pub(super) fn traffic(&self, percent: u8, force: Option<&str>) -> Result<Vec<EventKind>, Refusal> {
        let plan = &self.d.plan;
        let traffic_phases = || join(plan.phases.iter().filter(|p| !p.traffic.is_empty()).map(|p| p.id.as_str()));
        let i = self.running()?;
        let phase = &plan.phases[i];
        if phase.traffic.is_empty() {
            return Err(Refusal::NoTrafficHere { phase: phase.id.clone(), phases: traffic_phases() });
        }
        if force.is_some() {
            self.require_lead("force a traffic step")?;
        }
        let mut phase_roles: Vec<&str> =
            phase.items.iter().map(|i| i.role.as_str()).chain(phase.signoffs.iter().map(String::as_str)).collect();
        phase_roles.sort_unstable();
        phase_roles.dedup();
        if !self.is_lead() && !phase_roles.iter().any(|r| self.rules.roles.holds(self.actor, r)) {
            let roles = join(phase_roles);
            return Err(Refusal::NotPhaseRole { phase: phase.id.clone(), roles, action: "shift traffic" });
        }
        if !phase.traffic.contains(&percent) {
            return Err(Refusal::UnknownTrafficStep {
                given: percent,
                phase: phase.id.clone(),
                allowed: percents(&phase.traffic),
            });
        }
        let current = self.d.traffic.unwrap_or(0);
        if percent <= current {
            let higher: Vec<u8> = phase.traffic.iter().copied().filter(|&p| p > current).collect();
            if higher.is_empty() {
                return Err(Refusal::TrafficAtLastStep { current, phase: phase.id.clone() });
            }
            return Err(Refusal::TrafficNotIncreasing { current, allowed: percents(&higher) });
        }
        if let Some(&next) = phase.traffic.iter().find(|&&p| p > current) {
            if percent > next {
                return Err(Refusal::SkippedStep { given: percent, next });
            }
        }
        if self.d.decision.as_ref().is_some_and(|d| !d.go) {
            return Err(Refusal::NeedsGo {
                phase: phase.id.clone(),
                why: " again: the last decision was no-go".to_string(),
            });
        }
        let held = self.held(current, percent);
        let forced = match (force.map(str::trim), held) {
            (None, Some(refusal)) => return Err(refusal),
            (None, None) => None,
            (Some(""), _) => return Err(Refusal::Empty { what: "the reason for forcing the step" }),
            (Some(_), None) => return Err(Refusal::NothingToForce { current, given: percent }),
            (Some(reason), Some(_)) => Some(reason.to_string()),
        };
        Ok(vec![EventKind::TrafficShifted { percent, forced }])
    }

    /// What keeps traffic at `current` now: its hold still running, or its items open.
    fn held(&self, current: u8, given: u8) -> Option<Refusal> {
        if let Some(left) = self.d.hold_left(self.rules.now) {
            let hold = self.d.current.and_then(|i| self.d.plan.phases[i].hold).unwrap_or_default();
            return Some(Refusal::HoldRunning {
                current,
                given,
                left: crate::domain::timeline::human(left),
                hold: crate::domain::timeline::human(hold),
            });
        }
        let open = self.d.open_step_items();
        (!open.is_empty()).then(|| Refusal::StepItemsOpen { current, given, open: join(open) })
    }
}
