//! When a deployment next needs golive without anyone asking: its status slots (its plan's
//! schedule or the global one), a phase running past its plan, an escalation's next step.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Core;
use crate::domain::{oncall, Deployment, EventKind};
use crate::engine::status_slots::StatusSchedule;
use crate::render::StatusView;

impl Core {
    /// The status schedule a deployment runs on: that of the plan it started with (stored in
    /// its history, so a config change does not move a running deployment), or the global one.
    fn schedule_for(&self, d: &Deployment) -> Cow<'_, StatusSchedule> {
        match &d.plan.status_cron {
            None => Cow::Borrowed(&self.schedule),
            Some(cron) => match self.plan_schedules.get(cron) {
                Some(s) => Cow::Borrowed(s),
                None => StatusSchedule::for_plan(&d.plan, &self.config.status)
                    .map_or(Cow::Borrowed(&self.schedule), Cow::Owned),
            },
        }
    }

    /// The status view of deployment `id`, as posted now.
    pub(super) fn view(&self, id: i64, d: &Deployment, now: DateTime<Utc>, late_by: Option<Duration>) -> StatusView {
        let mut view =
            StatusView::build(id, d, &self.config.escalation, &self.config.roles, now, self.next_status_for(d));
        view.late_by = late_by;
        view.page = self.config.server.public_url.as_deref().map(|url| crate::render::page_url(url, id));
        view
    }

    /// The next status slot of one deployment.
    fn next_status_for(&self, d: &Deployment) -> Option<DateTime<Utc>> {
        if !d.status.is_open() {
            return None;
        }
        self.schedule_for(d).next_after(d.status_slots_from())
    }

    /// The deployment's next timer: a status slot, its phase running past its plan, a
    /// reminder to the owners of open work, an escalation step or a milestone.
    /// `None` once it has ended, which drops its timer.
    pub(super) fn next_timer_for(&self, d: &Deployment) -> Option<DateTime<Utc>> {
        let levels = &self.config.escalation;
        let climb = oncall::climb_due(d, levels);
        let trigger = oncall::trigger_due(d, &self.config.triggers, levels);
        let clock = [d.milestone_due(), d.deployment_overdue_due(), d.reminder_due()];
        [self.next_status_for(d), d.overdue_due(), climb, trigger].into_iter().chain(clock).flatten().min()
    }

    /// What is due for one deployment at `now`: the status slot to post (the latest one that
    /// passed, so many missed slots make one post), an overdue phase to record, and the next
    /// step of an unacknowledged escalation (one step, however late: a restart after a long
    /// outage pings once and the climb goes on from there).
    pub(super) fn due(&self, d: &Deployment, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Vec<EventKind>) {
        if !d.status.is_open() {
            return (None, Vec::new());
        }
        let slot = self.schedule_for(d).latest_due(d.status_slots_from(), now);
        let levels = &self.config.escalation;
        let climb = oncall::climb(d, levels, now);
        let trigger = oncall::triggered(d, &self.config.triggers, levels, now);
        let clock = d.missed_milestones(now, &self.config.roles).into_iter().chain(d.deployment_overdue(now));
        // The owners are asked before on-call is paged about the same phase.
        let reminder = d.due_reminder(now, &self.config.roles);
        (
            slot,
            d.overdue_naming_owners(now, &self.config.roles)
                .into_iter()
                .chain(reminder)
                .chain(climb)
                .chain(trigger)
                .chain(clock)
                .collect(),
        )
    }
}
