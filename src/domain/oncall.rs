//! Who is on call, and how an unacknowledged escalation climbs. Pure functions of the
//! escalation levels, the deployment and a given instant: the engine asks them when a timer
//! fires, so the climb is decided exactly like a command, and a restart continues it from
//! the recorded events.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::deployment::Deployment;
use super::event::EventKind;
use super::plan::Member;

/// One step of the escalation path (level 1 is the first to be pinged).
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationLevel {
    pub name: String,
    /// How long the level has to acknowledge before the next ping.
    pub ack_timeout: Duration,
    /// Extra pings of this level, each `ack_timeout` apart, before climbing to the next.
    pub repeat: u32,
    /// Always on call for this level (unless an override is active).
    pub members: Vec<Member>,
    /// Takes turns instead of fixed members.
    pub rotation: Option<Rotation>,
    /// Temporary replacements, checked before the rotation.
    pub overrides: Vec<Override>,
    /// A PagerDuty Events API v2 compatible endpoint paged alongside the chat ping.
    pub webhook: Option<String>,
}

/// Members taking turns of `every`, the first one's turn starting at `handoff`, a wall-clock
/// time in `timezone`: handoffs stay at the same local time across daylight-saving changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    pub members: Vec<Member>,
    pub every: Duration,
    pub handoff: NaiveDateTime,
    pub timezone: Tz,
}

/// `member` is on call for the level from `from` until `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub member: Member,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// Who is on call for a level at one instant, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct OnCall {
    pub members: Vec<Member>,
    /// When this changes next (end of an override or of a turn), if it does.
    pub until: Option<DateTime<Utc>>,
    pub reason: OnCallReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCallReason {
    Fixed,
    Rotation,
    Override,
}

impl Rotation {
    /// Whose turn it is at `at`, and when their turn ends.
    pub fn at(&self, at: DateTime<Utc>) -> Option<(&Member, DateTime<Utc>)> {
        if self.members.is_empty() || self.every.is_zero() {
            return None;
        }
        let local = at.with_timezone(&self.timezone).naive_local();
        let every = chrono::Duration::from_std(self.every).ok()?;
        let since = local - self.handoff;
        let turns = since.num_seconds().div_euclid(every.num_seconds().max(1));
        let index = turns.rem_euclid(self.members.len() as i64) as usize;
        let next_local = self.handoff.checked_add_signed(every.checked_mul(i32::try_from(turns + 1).ok()?)?)?;
        // A handoff in a daylight-saving gap happens at the first instant after it.
        let next = next_local
            .and_local_timezone(self.timezone)
            .earliest()
            .or_else(|| (next_local + chrono::Duration::hours(1)).and_local_timezone(self.timezone).earliest())?
            .with_timezone(&Utc);
        Some((&self.members[index], next))
    }
}

impl EscalationLevel {
    /// Who is on call for this level at `at`.
    pub fn on_call(&self, at: DateTime<Utc>) -> OnCall {
        let active = self.overrides.iter().filter(|o| o.from <= at && at < o.until);
        let overriding: Vec<&Override> = active.collect();
        if !overriding.is_empty() {
            return OnCall {
                members: overriding.iter().map(|o| o.member.clone()).collect(),
                until: overriding.iter().map(|o| o.until).min(),
                reason: OnCallReason::Override,
            };
        }
        // The next override starting cuts the current turn short, as far as `until` goes.
        let next_override = self.overrides.iter().map(|o| o.from).filter(|f| *f > at).min();
        let (members, until, reason) = match self.rotation.as_ref().and_then(|r| r.at(at)) {
            Some((member, end)) => (vec![member.clone()], Some(end), OnCallReason::Rotation),
            None => (self.members.clone(), None, OnCallReason::Fixed),
        };
        let until = match (until, next_override) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        OnCall { members, until, reason }
    }

    /// Everyone who may be on call for this level at some time: they may acknowledge it.
    pub fn roster(&self) -> impl Iterator<Item = &Member> {
        let rotation = self.rotation.iter().flat_map(|r| r.members.iter());
        self.members.iter().chain(rotation).chain(self.overrides.iter().map(|o| &o.member))
    }
}

/// When the open escalation climbs or pings again unless acknowledged: its last ping plus the
/// pinged level's timeout. `None` when nothing is open, it is acknowledged, or the
/// deployment has ended.
pub fn climb_due(d: &Deployment, levels: &[EscalationLevel]) -> Option<DateTime<Utc>> {
    if !d.status.is_open() {
        return None;
    }
    let e = d.escalation.as_ref().filter(|e| e.acked.is_none())?;
    let level = levels.get(usize::from(e.level).checked_sub(1)?)?;
    e.raised_at.checked_add_signed(chrono::Duration::from_std(level.ack_timeout).ok()?)
}

/// The climb step due at `now`, if any: the same level again while it has repeats left,
/// then the next level, and the last level again at its timeout for as long as nobody
/// acknowledges.
pub fn climb(d: &Deployment, levels: &[EscalationLevel], now: DateTime<Utc>) -> Option<EventKind> {
    if climb_due(d, levels)? > now {
        return None;
    }
    let e = d.escalation.as_ref()?;
    let current = levels.get(usize::from(e.level) - 1)?;
    let last = levels.len() == usize::from(e.level);
    let level = if e.pings <= current.repeat || last { e.level } else { e.level + 1 };
    Some(EventKind::EscalationRaised { level, message: e.message.clone() })
}

/// A rollback's hook failed: the rollback did not happen by itself, so a human must, now.
/// Pages level 1 if nobody is paged yet, or the next level up without waiting for the ack
/// timeout if someone is (a rollback has usually paged level 1 already).
pub fn on_failed_rollback_hook(d: &Deployment, levels: &[EscalationLevel], what: String) -> Option<EventKind> {
    if levels.is_empty() || !d.status.is_open() {
        return None;
    }
    match &d.escalation {
        None => Some(EventKind::EscalationOpened { level: 1, message: what, cause: None }),
        Some(e) => {
            let level = (e.level + 1).min(u8::try_from(levels.len()).unwrap_or(u8::MAX));
            Some(EventKind::EscalationRaised { level, message: what })
        }
    }
}

/// How urgent an automatic trigger is: critical pages at once, warning after its grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Warning,
}

/// An automatic escalation: the level it starts at and how long a warning waits.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub severity: Severity,
    pub level: u8,
    pub grace: Duration,
}

impl Trigger {
    fn delay(&self) -> Duration {
        match self.severity {
            Severity::Critical => Duration::ZERO,
            Severity::Warning => self.grace,
        }
    }
}

/// What golive escalates on by itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Triggers {
    /// The running phase passed its planned duration.
    pub phase_overdue: Option<Trigger>,
    /// Sign-offs of the running phase still missing this long after it started.
    pub signoff_missing: Option<(Duration, Trigger)>,
}

/// An automatic escalation that is, or will be, due.
struct Candidate {
    due: DateTime<Utc>,
    level: u8,
    cause: String,
    message: String,
}

fn later(t: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
    t.checked_add_signed(chrono::Duration::from_std(d).ok()?)
}

fn candidates(d: &Deployment, triggers: &Triggers, levels: &[EscalationLevel]) -> Vec<Candidate> {
    // One escalation at a time: while people are engaged, a second page would be noise; a
    // cause still present when it is resolved is escalated then.
    if levels.is_empty() || d.escalation.is_some() || d.status != super::Status::Active {
        return Vec::new();
    }
    let Some(i) = d.current else { return Vec::new() };
    let (plan, state) = (&d.plan.phases[i], &d.phases[i]);
    let top = u8::try_from(levels.len()).unwrap_or(u8::MAX);
    let mut out = Vec::new();
    if let (Some(t), Some(at)) = (&triggers.phase_overdue, state.overdue_at) {
        out.extend(later(at, t.delay()).map(|due| Candidate {
            due,
            level: t.level.clamp(1, top),
            cause: format!("overdue:{}", plan.id),
            message: format!("phase `{}` ran past its planned {}", plan.id, humantime::format_duration(plan.planned)),
        }));
    }
    let missing = d.missing_signoffs(i);
    if let (Some((after, t)), Some(started), false) = (&triggers.signoff_missing, state.started_at, missing.is_empty())
    {
        out.extend(later(started, after.saturating_add(t.delay())).map(|due| Candidate {
            due,
            level: t.level.clamp(1, top),
            cause: format!("signoff:{}", plan.id),
            message: format!(
                "sign-offs still missing in `{}` {} after it started: {}",
                plan.id,
                humantime::format_duration(*after),
                missing.join(", ")
            ),
        }));
    }
    out.retain(|c| !d.escalated_causes.contains(&c.cause));
    out
}

/// When golive next escalates by itself, if nothing changes before.
pub fn trigger_due(d: &Deployment, triggers: &Triggers, levels: &[EscalationLevel]) -> Option<DateTime<Utc>> {
    candidates(d, triggers, levels).iter().map(|c| c.due).min()
}

/// The escalation golive opens by itself at `now`, if one is due.
pub fn triggered(
    d: &Deployment,
    triggers: &Triggers,
    levels: &[EscalationLevel],
    now: DateTime<Utc>,
) -> Option<EventKind> {
    let c = candidates(d, triggers, levels).into_iter().filter(|c| c.due <= now).min_by_key(|c| c.due)?;
    Some(EventKind::EscalationOpened { level: c.level, message: c.message, cause: Some(c.cause) })
}

/// Closes an escalation golive opened once its cause has gone: the phase completed, or the
/// missing sign-offs given.
pub fn settled(d: &Deployment) -> Option<EventKind> {
    if !d.status.is_open() {
        return None;
    }
    let cause = d.escalation.as_ref()?.cause.as_deref()?;
    let (kind, phase) = cause.split_once(':')?;
    let i = d.plan.phase_index(phase)?;
    let gone = match kind {
        "overdue" => d.phases[i].is_done(),
        "signoff" => d.phases[i].is_done() || d.missing_signoffs(i).is_empty(),
        _ => false,
    };
    gone.then_some(EventKind::EscalationResolved)
}
