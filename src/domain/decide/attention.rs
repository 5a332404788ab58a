//! What asks for people's attention and what quiets it: blockers shown in every status post,
//! the snooze of the scheduled posts (never of pages), and reminders to the people the running
//! phase waits on.

use chrono::Duration;

use super::{Decider, Refusal};
use crate::domain::event::EventKind;

/// The longest snooze: a night's gap between milestones, not a way to forget a deployment.
pub const MAX_SNOOZE_MINUTES: u32 = 8 * 60;

impl Decider<'_> {
    pub(super) fn blocker(&self, text: &str) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("raise a blocker")?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Refusal::Empty { what: "the blocker" });
        }
        let number = u32::try_from(self.d.blockers.len()).unwrap_or(u32::MAX).saturating_add(1);
        Ok(vec![EventKind::BlockerRaised { number, text: text.to_string() }])
    }

    pub(super) fn unblock(&self, number: u32) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("clear a blocker")?;
        if !self.d.open_blockers().any(|b| b.number == number) {
            let open: Vec<String> = self.d.open_blockers().map(|b| format!("#{}", b.number)).collect();
            let open = if open.is_empty() { "none is open".to_string() } else { format!("open: {}", open.join(", ")) };
            return Err(Refusal::UnknownBlocker { given: number, open });
        }
        Ok(vec![EventKind::BlockerCleared { number }])
    }

    pub(super) fn snooze(&self, minutes: u32, reason: Option<&str>) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("snooze the status posts")?;
        if minutes > MAX_SNOOZE_MINUTES {
            return Err(Refusal::SnoozeTooLong {
                given: crate::domain::timeline::human(std::time::Duration::from_secs(u64::from(minutes) * 60)),
                max: "8h".into(),
            });
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        let until = self.rules.now + Duration::minutes(i64::from(minutes));
        Ok(vec![EventKind::StatusSnoozed { until, reason }])
    }

    pub(super) fn unsnooze(&self) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("lift the snooze")?;
        match self.d.snoozed(self.rules.now) {
            Some(_) => Ok(vec![EventKind::StatusUnsnoozed]),
            None => Err(Refusal::NotSnoozed),
        }
    }

    pub(super) fn remind(&self) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("remind people")?;
        self.moving_forward()?;
        let i = self.running()?;
        let phase = &self.d.plan.phases[i];
        match self.d.reminder(i, self.rules.roles) {
            Some(reminder) => Ok(vec![reminder]),
            None => Err(Refusal::NothingToRemind {
                why: format!("phase `{}` has no open required items and no missing sign-offs", phase.id),
            }),
        }
    }
}
