//! When status posts fall due. The slots come from the `[status] cron` schedule in its
//! timezone; which slot was last posted is recorded as an event, so after a restart the next
//! post is computed from the database and a slot missed while down is posted once, late.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use std::str::FromStr;

use crate::config::StatusConfig;
use crate::domain::Plan;

/// Slots missed while golive was down are not walked one by one beyond this many; the post
/// made on start covers them all anyway.
const MAX_WALK: usize = 100_000;

#[derive(Debug, Clone)]
pub struct StatusSchedule {
    schedule: cron::Schedule,
    tz: Tz,
}

impl StatusSchedule {
    pub fn new(config: &StatusConfig) -> StatusSchedule {
        StatusSchedule { schedule: config.schedule.clone(), tz: config.timezone }
    }

    /// The plan's own `status_cron`, in the global timezone; `None` when the plan has none
    /// (config validation already rejected one that does not parse).
    pub fn for_plan(plan: &Plan, config: &StatusConfig) -> Option<StatusSchedule> {
        let cron = plan.status_cron.as_deref()?;
        Some(StatusSchedule { schedule: cron::Schedule::from_str(cron).ok()?, tz: config.timezone })
    }

    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&t.with_timezone(&self.tz)).next().map(|s| s.with_timezone(&Utc))
    }

    /// The latest slot in `(since, now]`, if any fell due.
    pub fn latest_due(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&since.with_timezone(&self.tz))
            .take(MAX_WALK)
            .map(|s| s.with_timezone(&Utc))
            .take_while(|s| *s <= now)
            .last()
    }
}
