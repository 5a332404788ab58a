//! The deployment state machine's decisions: a command, the current state and the caller's
//! roles in; the events to record, or a refusal that says what is wrong and what is allowed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::actor::{Actor, Platform};
use super::deployment::{Deployment, Status};
use super::event::{EventKind, RollbackLevel};
use super::freeze::Freeze;
use super::oncall::EscalationLevel;
use super::plan::{Plan, Roles};
pub use super::refusal::Refusal;
use super::words::{did_you_mean, find, shown};

mod attention;
mod authority;
mod checklist;
mod command;
mod traffic;

pub use command::Command;

/// Everything a decision may consult besides the deployment itself.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub plans: &'a BTreeMap<String, Plan>,
    pub default_plan: &'a str,
    pub roles: &'a Roles,
    pub escalation: &'a [EscalationLevel],
    /// Deploy freezes, with the plans each applies to (empty: all plans).
    pub freezes: &'a [(Freeze, Vec<String>)],
    /// When the command is decided, for freezes, holds and go-live times.
    pub now: DateTime<Utc>,
    /// Where a go-live time written without an offset is read (`[status] timezone`).
    pub timezone: chrono_tz::Tz,
}

/// Where a command was typed: the platform and its channel id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Channel {
    pub platform: Platform,
    pub id: String,
}

/// `platform:id`, as logs and metrics name a channel.
impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

/// Decides `command` by `actor` in `channel`, against the channel's open deployment if any.
pub fn decide(
    rules: &Rules<'_>,
    channel: &Channel,
    deployment: Option<&Deployment>,
    actor: &Actor,
    command: &Command,
) -> Result<Vec<EventKind>, Refusal> {
    match (command, deployment) {
        (Command::Start { release, plan, freeze_override, at }, None) => {
            let started = start(rules, channel, release, plan.as_deref(), freeze_override.as_deref())?;
            authority::may_start(rules, actor, started, at.as_deref())
        }
        (_, None) => Err(Refusal::NoDeployment),
        (command, Some(d)) => Decider { rules, d, actor }.decide(command),
    }
}

fn start(
    rules: &Rules<'_>,
    channel: &Channel,
    release: &str,
    plan: Option<&str>,
    freeze_override: Option<&str>,
) -> Result<Vec<EventKind>, Refusal> {
    if release.trim().is_empty() {
        return Err(Refusal::Empty { what: "the release name" });
    }
    let name = plan.unwrap_or(rules.default_plan);
    let names = || rules.plans.keys().map(String::as_str);
    let plan = find(name, names()).and_then(|n| rules.plans.get(n)).ok_or_else(|| Refusal::UnknownPlan {
        given: shown(name),
        hint: did_you_mean(name, names()),
        allowed: join(names()),
    })?;
    let mut events = vec![EventKind::DeploymentStarted {
        release: release.trim().to_string(),
        platform: channel.platform,
        channel: channel.id.clone(),
        plan: Box::new(plan.clone()),
        go_live: None,
    }];
    let applies = |plans: &Vec<String>| plans.is_empty() || plans.contains(&plan.id);
    let frozen = rules.freezes.iter().filter(|(_, plans)| applies(plans)).map(|(f, _)| f).find(|f| f.covers(rules.now));
    if let Some(freeze) = frozen {
        match freeze_override.map(str::trim).filter(|r| !r.is_empty()) {
            Some(reason) => {
                events.push(EventKind::FreezeOverridden { freeze: freeze.to_string(), reason: reason.to_string() })
            }
            None => return Err(Refusal::Frozen { freeze: freeze.to_string(), release: release.trim().to_string() }),
        }
    }
    Ok(events)
}

struct Decider<'a> {
    rules: &'a Rules<'a>,
    d: &'a Deployment,
    actor: &'a Actor,
}

impl Decider<'_> {
    fn decide(&self, command: &Command) -> Result<Vec<EventKind>, Refusal> {
        match command {
            Command::Start { .. } => {
                Err(Refusal::AlreadyActive { release: self.d.release.clone(), lead: self.d.lead.display().to_string() })
            }
            Command::PhaseStart { phase } => self.moving_forward().and_then(|_| self.phase_start(phase)),
            Command::PhaseDone => self.moving_forward().and_then(|_| self.phase_done()),
            Command::Check { item } | Command::Uncheck { item }
                if self.d.status == Status::RollingBack && !self.d.plan.rollback.items.is_empty() =>
            {
                self.rollback_check(item, matches!(command, Command::Check { .. }))
            }
            Command::Check { item } => self.moving_forward().and_then(|_| self.check(item, true)),
            Command::CheckMany { items } => self.moving_forward().and_then(|_| self.check_many(items)),
            Command::CheckSection { section } => self.moving_forward().and_then(|_| self.check_section(section)),
            Command::Lead { user } => self.hand_over(user),
            Command::Uncheck { item } => self.moving_forward().and_then(|_| self.check(item, false)),
            Command::SignOff { role, note } => self.moving_forward().and_then(|_| self.sign_off(role, note.as_deref())),
            Command::Go => self.moving_forward().and_then(|_| self.decision(None)),
            Command::NoGo { reason } => self.moving_forward().and_then(|_| self.decision(Some(reason))),
            Command::Traffic { percent, force } => {
                self.moving_forward().and_then(|_| self.traffic(*percent, force.as_deref()))
            }
            Command::Note { text } => self.note(text),
            Command::Escalate { level, message } => self.escalate(*level, message),
            Command::EscalateResolve => self.resolve(),
            Command::Ack => self.ack(),
            Command::Complete => self.complete(),
            Command::Abort { reason } => self.abort(reason),
            Command::Rollback { reason, level } => self.rollback(reason, *level),
            Command::Blocker { text } => self.blocker(text),
            Command::Unblock { number } => self.unblock(*number),
            Command::Snooze { minutes, reason } => self.snooze(*minutes, reason.as_deref()),
            Command::Unsnooze => self.unsnooze(),
            Command::Remind => self.remind(),
        }
    }

    /// Commands that move the deployment forward stop once rollback has begun.
    fn moving_forward(&self) -> Result<(), Refusal> {
        if self.d.status == Status::RollingBack {
            Err(Refusal::RollingBack)
        } else {
            Ok(())
        }
    }

    fn is_lead(&self) -> bool {
        self.actor.same_person(&self.d.lead)
    }

    /// Only the lead and the item's role may tick or untick it (forward or rollback checklist).
    fn require_item_owner(&self, item: &str, role: &str, tick: bool) -> Result<(), Refusal> {
        if self.is_lead() || self.rules.roles.holds(self.actor, role) {
            return Ok(());
        }
        let action = if tick { "tick" } else { "untick" };
        Err(Refusal::NotItemOwner { item: item.to_string(), role: role.to_string(), action })
    }

    fn require_lead(&self, action: &'static str) -> Result<(), Refusal> {
        if self.is_lead() {
            Ok(())
        } else {
            Err(Refusal::NotLead { action, lead: self.d.lead.display().to_string() })
        }
    }

    /// The lead, anyone holding a role this plan uses, or anyone on the escalation path.
    fn require_team(&self, action: &'static str) -> Result<(), Refusal> {
        let plan = &self.d.plan;
        let mut roles = plan.phases.iter().flat_map(|p| p.items.iter().map(|i| &i.role).chain(&p.signoffs));
        let on_path = self.rules.escalation.iter().any(|l| l.roster().any(|m| m.is(self.actor)));
        if self.is_lead() || on_path || roles.any(|r| self.rules.roles.holds(self.actor, r)) {
            Ok(())
        } else {
            Err(Refusal::NotOnTeam { action })
        }
    }

    fn running(&self) -> Result<usize, Refusal> {
        match (self.d.current, self.d.next_phase()) {
            (Some(i), _) => Ok(i),
            (None, Some(next)) => {
                let id = self.d.plan.phases[next].id.clone();
                let gated =
                    self.d.plan.go_gate_index() == Some(next) && !self.d.decision.as_ref().is_some_and(|d| d.go);
                Err(if gated {
                    Refusal::NoPhaseRunningBeforeGo { next: id }
                } else {
                    Refusal::NoPhaseRunning { next: id }
                })
            }
            (None, None) => Err(Refusal::AllPhasesDone),
        }
    }

    fn phase_start(&self, phase: &str) -> Result<Vec<EventKind>, Refusal> {
        let plan = &self.d.plan;
        let ids = || plan.phases.iter().map(|p| p.id.as_str());
        let i = find(phase, ids()).and_then(|p| plan.phase_index(p)).ok_or_else(|| Refusal::UnknownPhase {
            given: shown(phase),
            hint: did_you_mean(phase, ids()),
            allowed: join(ids()),
        })?;
        let phase = plan.phases[i].id.as_str();
        self.require_lead("start a phase")?;
        if let Some(running) = self.d.current {
            return Err(Refusal::PhaseRunning { running: plan.phases[running].id.clone() });
        }
        if self.d.phases[i].is_done() {
            return Err(Refusal::PhaseAlreadyDone { phase: phase.to_string() });
        }
        let next = self.d.next_phase().unwrap_or(i);
        if next != i {
            return Err(Refusal::OutOfOrder { given: phase.to_string(), next: plan.phases[next].id.clone() });
        }
        if plan.go_gate_index() == Some(i) {
            match &self.d.decision {
                Some(decision) if decision.go => {}
                Some(decision) => {
                    let why = format!("; the last decision was no-go: {}", decision.reason.as_deref().unwrap_or(""));
                    return Err(Refusal::NeedsGo { phase: phase.to_string(), why });
                }
                None => return Err(Refusal::NeedsGo { phase: phase.to_string(), why: String::new() }),
            }
        }
        Ok(vec![EventKind::PhaseStarted { phase: phase.to_string() }])
    }

    fn phase_done(&self) -> Result<Vec<EventKind>, Refusal> {
        let i = self.running()?;
        self.require_lead("complete a phase")?;
        let phase = &self.d.plan.phases[i];
        let mut missing = Vec::new();
        let items = self.d.open_required_items(i);
        if !items.is_empty() {
            missing.push(format!("open required items: {}", join(items)));
        }
        let signoffs = self.d.missing_signoffs(i);
        if !signoffs.is_empty() {
            missing.push(format!("missing sign-offs: {}", join(signoffs)));
        }
        if let Some(&last) = phase.traffic.last() {
            let now = self.d.traffic.unwrap_or(0);
            if now < last {
                missing.push(format!("traffic is at {now}%, not yet {last}%"));
            }
        }
        if !missing.is_empty() {
            return Err(Refusal::PhaseNotFinished { phase: phase.id.clone(), missing: missing.join("; ") });
        }
        Ok(vec![EventKind::PhaseCompleted { phase: phase.id.clone() }])
    }

    fn sign_off(&self, role: &str, note: Option<&str>) -> Result<Vec<EventKind>, Refusal> {
        let roles = self.rules.roles;
        let Some(found) = find(role, roles.ids()).and_then(|r| roles.get(r)) else {
            return Err(Refusal::UnknownRole {
                given: shown(role),
                hint: did_you_mean(role, roles.ids()),
                allowed: join(roles.ids()),
            });
        };
        let role = found.id.as_str();
        let i = self.running()?;
        let phase = &self.d.plan.phases[i];
        if !phase.signoffs.iter().any(|r| r == role) {
            let allowed = if phase.signoffs.is_empty() {
                "no sign-offs".to_string()
            } else {
                join(phase.signoffs.iter().map(String::as_str))
            };
            return Err(Refusal::SignOffNotNeeded { role: role.to_string(), phase: phase.id.clone(), allowed });
        }
        if !roles.holds(self.actor, role) {
            return Err(Refusal::NotInRole { role: role.to_string(), name: found.name.clone() });
        }
        if let Some(existing) = self.d.phases[i].signoffs.get(role) {
            return Err(Refusal::AlreadySignedOff {
                role: role.to_string(),
                phase: phase.id.clone(),
                by: existing.by.display().to_string(),
            });
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        Ok(vec![EventKind::SignedOff { phase: phase.id.clone(), role: role.to_string(), note }])
    }

    fn note(&self, text: &str) -> Result<Vec<EventKind>, Refusal> {
        if text.trim().is_empty() {
            return Err(Refusal::Empty { what: "the note" });
        }
        Ok(vec![EventKind::NoteAdded { text: text.trim().to_string() }])
    }

    fn rollback(&self, reason: &str, level: Option<RollbackLevel>) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("trigger a rollback")?;
        if reason.trim().is_empty() {
            return Err(Refusal::Empty { what: "the rollback reason" });
        }
        if self.d.status == Status::RollingBack {
            return Err(Refusal::AlreadyRollingBack);
        }
        let roles = match level {
            Some(RollbackLevel::Quick) => Some(&self.d.plan.rollback.quick),
            Some(RollbackLevel::Planned) => Some(&self.d.plan.rollback.planned),
            _ => None,
        };
        if let (Some(roles), Some(level)) = (roles, level) {
            if !self.is_lead() && !roles.iter().any(|r| self.rules.roles.holds(self.actor, r)) {
                let roles =
                    if roles.is_empty() { "nobody else".to_string() } else { join(roles.iter().map(String::as_str)) };
                return Err(Refusal::NotRollbackRole { level: level.as_str().to_string(), roles });
            }
        }
        let reason = reason.trim().to_string();
        // A rollback nobody graded is the urgent kind, and is recorded as such.
        let level = Some(level.unwrap_or(RollbackLevel::Immediate));
        let mut events = vec![EventKind::RollbackStarted { reason: reason.clone(), level }];
        // A rollback always gets a human on it: page level 1 unless someone is already paged.
        if self.d.escalation.is_none() && !self.rules.escalation.is_empty() {
            events.push(EventKind::EscalationOpened {
                level: 1,
                message: format!("rollback: {reason}"),
                cause: Some("rollback".into()),
            });
        }
        Ok(events)
    }

    fn escalate(&self, level: Option<u8>, message: &str) -> Result<Vec<EventKind>, Refusal> {
        self.require_team("escalate")?;
        let max = self.rules.escalation.len();
        if max == 0 {
            return Err(Refusal::NoEscalationLevels);
        }
        let level = level.unwrap_or(1);
        if level == 0 || usize::from(level) > max {
            return Err(Refusal::UnknownLevel { given: level, max });
        }
        if message.trim().is_empty() {
            return Err(Refusal::Empty { what: "the escalation message" });
        }
        let message = message.trim().to_string();
        match &self.d.escalation {
            None => Ok(vec![EventKind::EscalationOpened { level, message, cause: None }]),
            Some(open) if level > open.level => Ok(vec![EventKind::EscalationRaised { level, message }]),
            Some(open) => Err(Refusal::EscalationOpen { level: open.level }),
        }
    }

    /// Members of levels 1..=level (everyone paged so far), and the lead.
    fn is_paged(&self, level: u8) -> bool {
        self.is_lead()
            || self.rules.escalation.iter().take(usize::from(level)).any(|l| l.roster().any(|m| m.is(self.actor)))
    }

    fn ack(&self) -> Result<Vec<EventKind>, Refusal> {
        let open = self.d.escalation.as_ref().ok_or(Refusal::NoEscalation)?;
        if !self.is_paged(open.level) {
            return Err(Refusal::NotPaged { level: open.level, action: "acknowledge it" });
        }
        if let Some((stamp, _)) = &open.acked {
            return Err(Refusal::AlreadyAcked { by: stamp.by.display().to_string() });
        }
        Ok(vec![EventKind::EscalationAcknowledged { level: open.level }])
    }

    fn resolve(&self) -> Result<Vec<EventKind>, Refusal> {
        let open = self.d.escalation.as_ref().ok_or(Refusal::NoEscalation)?;
        if !self.is_paged(open.level) {
            return Err(Refusal::NotPaged { level: open.level, action: "resolve it" });
        }
        Ok(vec![EventKind::EscalationResolved])
    }

    fn rollback_check(&self, item: &str, tick: bool) -> Result<Vec<EventKind>, Refusal> {
        let items = &self.d.plan.rollback.items;
        let ids = || items.iter().map(|i| i.id.as_str());
        let found = find(item, ids()).and_then(|id| items.iter().find(|i| i.id == id)).ok_or_else(|| {
            Refusal::UnknownRollbackItem {
                given: format!("{}{}", shown(item), did_you_mean(item, ids())),
                allowed: join(ids()),
            }
        })?;
        let item = found.id.as_str();
        self.require_item_owner(item, &found.role, tick)?;
        match (tick, self.d.rollback_checked.get(item)) {
            (true, Some(stamp)) => {
                Err(Refusal::AlreadyChecked { item: item.to_string(), by: stamp.by.display().to_string() })
            }
            (true, None) => Ok(vec![EventKind::RollbackItemChecked { item: item.to_string() }]),
            (false, None) => Err(Refusal::NotChecked { item: item.to_string() }),
            (false, Some(_)) => Ok(vec![EventKind::RollbackItemUnchecked { item: item.to_string() }]),
        }
    }

    fn complete(&self) -> Result<Vec<EventKind>, Refusal> {
        self.require_lead("complete the deployment")?;
        if self.d.status == Status::RollingBack {
            let open: Vec<&str> = self
                .d
                .plan
                .rollback
                .items
                .iter()
                .filter(|i| i.required && !self.d.rollback_checked.contains_key(&i.id))
                .map(|i| i.id.as_str())
                .collect();
            if !open.is_empty() {
                return Err(Refusal::RollbackNotFinished { remaining: join(open) });
            }
        }
        if self.d.status == Status::Active {
            let remaining: Vec<&str> = self
                .d
                .plan
                .phases
                .iter()
                .zip(&self.d.phases)
                .filter(|(_, s)| !s.is_done())
                .map(|(p, _)| p.id.as_str())
                .collect();
            if !remaining.is_empty() {
                return Err(Refusal::NotFinished { remaining: join(remaining) });
            }
        }
        Ok(vec![EventKind::DeploymentCompleted])
    }

    fn abort(&self, reason: &str) -> Result<Vec<EventKind>, Refusal> {
        self.require_lead("abort the deployment")?;
        if reason.trim().is_empty() {
            return Err(Refusal::Empty { what: "the abort reason" });
        }
        Ok(vec![EventKind::DeploymentAborted { reason: reason.trim().to_string() }])
    }
}

pub(crate) fn join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.into_iter().collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

fn percents(steps: &[u8]) -> String {
    if steps.is_empty() {
        return "none".to_string();
    }
    steps.iter().map(|p| format!("{p}%")).collect::<Vec<_>>().join(", ")
}
