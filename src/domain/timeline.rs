//! A deployment against the clock: the go-live time (T-0) and the phases planned against it,
//! the milestones that are due or missed, the whole plan's end, and the hold on a traffic step.

use chrono::{DateTime, Duration, Utc};

use super::deployment::{Deployment, Status};
use super::event::EventKind;
use super::plan::{Member, Roles};

/// What is due next against the go-live time: a phase's planned start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub phase: String,
    pub at: DateTime<Utc>,
    /// Its offset from T-0 in seconds, as the plan writes it.
    pub offset: i64,
}

impl Deployment {
    /// When phase `i` is planned to start: the go-live time plus the phase's `at`.
    pub fn planned_start(&self, i: usize) -> Option<DateTime<Utc>> {
        Some(self.go_live? + Duration::seconds(self.plan.phases.get(i)?.at?))
    }

    /// The next phase not yet started that has a planned start, in plan order.
    pub fn next_milestone(&self) -> Option<Milestone> {
        (0..self.plan.phases.len()).filter(|&i| self.phases[i].started_at.is_none()).find_map(|i| {
            let at = self.planned_start(i)?;
            let phase = &self.plan.phases[i];
            Some(Milestone { phase: phase.id.clone(), at, offset: phase.at? })
        })
    }

    /// Phases whose planned start has passed without them starting, not yet recorded.
    fn missed(&self, now: DateTime<Utc>) -> impl Iterator<Item = (usize, DateTime<Utc>)> + '_ {
        (0..self.plan.phases.len()).filter_map(move |i| {
            let planned = self.planned_start(i)?;
            let open = self.phases[i].started_at.is_none()
                && !self.milestones_missed.contains(&self.plan.phases[i].id)
                && self.status == Status::Active;
            (open && planned <= now).then_some((i, planned))
        })
    }

    /// When the next milestone will have been missed, if one is still to come.
    pub fn milestone_due(&self) -> Option<DateTime<Utc>> {
        if self.status != Status::Active {
            return None;
        }
        (0..self.plan.phases.len())
            .filter(|&i| {
                self.phases[i].started_at.is_none() && !self.milestones_missed.contains(&self.plan.phases[i].id)
            })
            .filter_map(|i| self.planned_start(i))
            .min()
    }

    /// The `milestone_missed` events to record at `now`, naming who owns each phase's work.
    pub fn missed_milestones(&self, now: DateTime<Utc>, roles: &Roles) -> Vec<EventKind> {
        self.missed(now)
            .map(|(i, planned)| {
                let phase = &self.plan.phases[i];
                let owning =
                    phase.items.iter().map(|it| it.role.as_str()).chain(phase.signoffs.iter().map(String::as_str));
                EventKind::MilestoneMissed { phase: phase.id.clone(), planned, owners: members_of(owning, roles) }
            })
            .collect()
    }

    /// The `phase_overdue` event to record at `now`, naming the people its open required
    /// items and missing sign-offs wait on.
    pub fn overdue_naming_owners(&self, now: DateTime<Utc>, roles: &Roles) -> Option<EventKind> {
        let EventKind::PhaseOverdue { phase, planned_secs, .. } = self.overdue(now)? else {
            return None;
        };
        let i = self.plan.phase_index(&phase)?;
        let items = &self.plan.phases[i].items;
        let open = self.open_required_items(i);
        let owning = items.iter().filter(|it| open.contains(&it.id.as_str())).map(|it| it.role.as_str());
        let owners = members_of(owning.chain(self.missing_signoffs(i)), roles);
        Some(EventKind::PhaseOverdue { phase, planned_secs, owners })
    }

    /// The `reminded` event for phase `i`: its open required items and missing sign-offs, and
    /// the members of exactly the roles they wait on. `None` when it waits on nobody.
    pub fn reminder(&self, i: usize, roles: &Roles) -> Option<EventKind> {
        let phase = &self.plan.phases[i];
        let open = self.open_required_items(i);
        let missing = self.missing_signoffs(i);
        if open.is_empty() && missing.is_empty() {
            return None;
        }
        let owning = phase.items.iter().filter(|it| open.contains(&it.id.as_str())).map(|it| it.role.as_str());
        let owners = members_of(owning.chain(missing.iter().copied()), roles);
        let waiting = open.iter().map(|id| id.to_string()).chain(missing.iter().map(|r| format!("sign-off {r}")));
        Some(EventKind::Reminded { phase: phase.id.clone(), waiting: waiting.collect(), owners })
    }

    /// When golive reminds the owners of the running phase's open work by itself: its start
    /// plus its `remind_after`, unless it waits on nobody or was reminded already.
    pub fn reminder_due(&self) -> Option<DateTime<Utc>> {
        if self.status != Status::Active {
            return None;
        }
        let i = self.current?;
        if self.reminded.contains(&self.plan.phases[i].id) {
            return None;
        }
        if self.open_required_items(i).is_empty() && self.missing_signoffs(i).is_empty() {
            return None;
        }
        let after = Duration::from_std(self.plan.remind_after(i)?).ok()?;
        self.phases[i].started_at?.checked_add_signed(after)
    }

    /// The `reminded` event golive records by itself at `now`, if the running phase's
    /// `remind_after` has passed with work still open.
    pub fn due_reminder(&self, now: DateTime<Utc>, roles: &Roles) -> Option<EventKind> {
        (self.reminder_due()? <= now).then(|| self.reminder(self.current?, roles)).flatten()
    }

    /// When the whole plan should be over: from the go-live time where the last phase is
    /// planned against it, else from the start with every phase's planned duration.
    pub fn planned_end(&self) -> DateTime<Utc> {
        let total = Duration::from_std(self.plan.planned_total()).unwrap_or(Duration::MAX);
        let from_start = self.started_at.checked_add_signed(total).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let last = self.plan.phases.len().saturating_sub(1);
        let from_go_live = self.planned_start(last).and_then(|s| {
            let planned = Duration::from_std(self.plan.phases[last].planned).ok()?;
            s.checked_add_signed(planned)
        });
        from_go_live.unwrap_or(from_start)
    }

    /// When the deployment becomes overdue as a whole, unless that was already recorded.
    pub fn deployment_overdue_due(&self) -> Option<DateTime<Utc>> {
        (self.status == Status::Active && self.overdue_at.is_none()).then(|| self.planned_end())
    }

    /// The `deployment_overdue` event to record at `now`, if the plan's end has passed.
    pub fn deployment_overdue(&self, now: DateTime<Utc>) -> Option<EventKind> {
        let due = self.deployment_overdue_due()?;
        (now >= due)
            .then(|| EventKind::DeploymentOverdue { planned_secs: (due - self.started_at).num_seconds().max(0) as u64 })
    }

    /// How long the current traffic step is still to be watched, if its phase has a hold.
    pub fn hold_left(&self, now: DateTime<Utc>) -> Option<std::time::Duration> {
        let i = self.current?;
        let hold = Duration::from_std(self.plan.phases[i].hold?).ok()?;
        let since = self.traffic_at?;
        self.traffic?;
        let left = since + hold - now;
        (left > Duration::zero()).then(|| left.to_std().unwrap_or_default())
    }

    /// Items tied to traffic steps up to the current one that are still open.
    pub fn open_step_items(&self) -> Vec<&str> {
        let (Some(i), Some(current)) = (self.current, self.traffic) else {
            return Vec::new();
        };
        self.plan.phases[i]
            .items
            .iter()
            .filter(|item| item.step.is_some_and(|s| s <= current) && !self.phases[i].checked.contains_key(&item.id))
            .map(|item| item.id.as_str())
            .collect()
    }
}

/// The members of `roles`, each once, in the order the roles come.
fn members_of<'a>(role_ids: impl Iterator<Item = &'a str>, roles: &Roles) -> Vec<Member> {
    let mut out: Vec<Member> = Vec::new();
    for member in role_ids.filter_map(|r| roles.get(r)).flat_map(|r| &r.members) {
        if !out.contains(member) {
            out.push(member.clone());
        }
    }
    out
}

/// "T-3h 12m", "T+45m", "T-0": an instant relative to the go-live time.
pub fn t_minus(go_live: DateTime<Utc>, at: DateTime<Utc>) -> String {
    offset((at - go_live).num_seconds())
}

/// A plan's `at` offset as people write it: "T-24h", "T+30m", "T-0".
pub fn offset(secs: i64) -> String {
    if secs == 0 {
        return "T-0".to_string();
    }
    // Before go-live the clock counts down: at 04:48 for a 08:00 go-live it is T-3h 12m.
    let sign = if secs < 0 { '-' } else { '+' };
    format!("T{sign}{}", human(std::time::Duration::from_secs(secs.unsigned_abs())))
}

/// "2h 5m", "45m", "30s": minutes are the resolution people plan in.
pub fn human(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}
