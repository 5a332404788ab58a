//! The state of one deployment, and the only way to get it: folding its events in order.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::actor::{Actor, Platform};
use super::event::{Event, EventKind, RollbackLevel};
use super::plan::Plan;

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub release: String,
    pub platform: Platform,
    pub channel: String,
    /// Shared: every clone of the state (the writer keeps one per open deployment, each post
    /// another) points at the one plan it was started with.
    pub plan: Arc<Plan>,
    pub lead: Actor,
    pub started_at: DateTime<Utc>,
    pub status: Status,
    /// One entry per plan phase, in plan order.
    pub phases: Vec<PhaseState>,
    /// Index of the running phase, if one is running.
    pub current: Option<usize>,
    pub decision: Option<Decision>,
    pub traffic: Option<u8>,
    /// When traffic was last moved: a step's hold counts from here.
    pub traffic_at: Option<DateTime<Utc>>,
    /// The go-live time (T-0) the deployment was started with, if any.
    pub go_live: Option<DateTime<Utc>>,
    /// Phases whose planned start was announced as missed.
    pub milestones_missed: std::collections::BTreeSet<String>,
    /// When golive recorded that the whole deployment ran past its plan.
    pub overdue_at: Option<DateTime<Utc>>,
    pub escalation: Option<Escalation>,
    /// The rollback checklist's ticked items.
    pub rollback_checked: BTreeMap<String, Stamp>,
    /// Automatic checks failing now, by item: what was measured.
    pub failing_checks: BTreeMap<String, String>,
    /// Causes golive has escalated on: each only once, even after it was resolved.
    pub escalated_causes: std::collections::BTreeSet<String>,
    /// A persistent vector: cloning the state does not copy a long channel's notes.
    pub notes: imbl::Vector<Note>,
    pub rollback: Option<Note>,
    pub rollback_level: Option<RollbackLevel>,
    pub last_status_slot: Option<DateTime<Utc>>,
    /// The sequence numbers of the last two scheduled status posts: equal neighbours mean
    /// nothing happened between them.
    pub status_seqs: (Option<i64>, Option<i64>),
    /// Every blocker raised, in order (`number` is its place + 1); cleared ones stay.
    pub blockers: Vec<Blocker>,
    /// The last snooze of the status posts; over once `until` has passed.
    pub snooze: Option<Snooze>,
    /// Phases whose owners were reminded (golive reminds by itself once per phase).
    pub reminded: std::collections::BTreeSet<String>,
    pub refusals: usize,
    /// Sequence number of the last event folded in.
    pub seq: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Rollback was triggered: the deployment is still open (notes, escalation, completion
    /// of the rollback) but no longer moves forward.
    RollingBack,
    Ended(Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    RolledBack,
    Aborted,
}

impl Status {
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Ended(_))
    }

    /// The word stored in `deployments.status` and shown in history.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::RollingBack => "rolling_back",
            Status::Ended(Outcome::Completed) => "completed",
            Status::Ended(Outcome::RolledBack) => "rolled_back",
            Status::Ended(Outcome::Aborted) => "aborted",
        }
    }

    /// The same, as people read it: `rolled back`, never `rolled_back`.
    pub fn words(self) -> &'static str {
        match self {
            Status::RollingBack => "rolling back",
            Status::Ended(Outcome::RolledBack) => "rolled back",
            other => other.as_str(),
        }
    }

    /// A stored word (`deployments.status`) as people read it; an unknown word as it is.
    pub fn stored_words(stored: &str) -> &str {
        const ALL: [Status; 5] = [
            Status::Active,
            Status::RollingBack,
            Status::Ended(Outcome::Completed),
            Status::Ended(Outcome::RolledBack),
            Status::Ended(Outcome::Aborted),
        ];
        ALL.into_iter().find(|s| s.as_str() == stored).map_or(stored, |s| s.words())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseState {
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// When golive recorded that the phase ran past its planned duration.
    pub overdue_at: Option<DateTime<Utc>>,
    pub checked: BTreeMap<String, Stamp>,
    pub signoffs: BTreeMap<String, SignOff>,
}

impl PhaseState {
    pub fn is_done(&self) -> bool {
        self.completed_at.is_some()
    }
}

/// Who did it and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignOff {
    pub by: Actor,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub go: bool,
    pub reason: Option<String>,
    pub by: Actor,
    /// The `go_roles` role it was made as; `None`: as the lead.
    pub role: Option<String>,
    pub at: DateTime<Utc>,
}

impl Decision {
    /// In which capacity it was made: "lead" or the role's id.
    pub fn capacity(&self) -> &str {
        self.role.as_deref().unwrap_or("lead")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub level: u8,
    pub message: String,
    pub opened_by: Actor,
    pub opened_at: DateTime<Utc>,
    pub cause: Option<String>,
    /// The sequence number of the event that opened it: with the deployment id, a stable
    /// name for the escalation (the paging webhook's `dedup_key`).
    pub opened_seq: i64,
    /// The last ping (opening, a climb, or a repeat).
    pub raised_at: DateTime<Utc>,
    /// Pings of the current level so far (1 after it is first paged).
    pub pings: u32,
    /// Every level paged so far: those whose webhooks hear of the acknowledgement.
    pub paged_levels: std::collections::BTreeSet<u8>,
    pub acked: Option<(Stamp, u8)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub by: Actor,
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Blocker {
    pub number: u32,
    pub text: String,
    pub by: Actor,
    pub at: DateTime<Utc>,
    pub cleared: Option<Stamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Snooze {
    pub until: DateTime<Utc>,
    pub reason: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// The events could not have come from golive: the log is damaged.
#[derive(Debug, Error, PartialEq)]
pub enum FoldError {
    #[error("the first event is `{0}`, not `deployment_started`")]
    NotStarted(&'static str),
    #[error("there are no events")]
    Empty,
    #[error("event {seq} (`{kind}`) does not fit the deployment's state: {why}")]
    Inconsistent { seq: i64, kind: &'static str, why: String },
}

impl Deployment {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Deployment, FoldError> {
        let mut events = events.into_iter();
        let first = events.next().ok_or(FoldError::Empty)?;
        let mut deployment = Deployment::started(first)?;
        for event in events {
            deployment.apply(event)?;
        }
        Ok(deployment)
    }

    fn started(event: &Event) -> Result<Deployment, FoldError> {
        let EventKind::DeploymentStarted { release, platform, channel, plan, go_live } = &event.kind else {
            return Err(FoldError::NotStarted(event.kind.name()));
        };
        Ok(Deployment {
            release: release.clone(),
            platform: *platform,
            channel: channel.clone(),
            phases: vec![PhaseState::default(); plan.phases.len()],
            plan: Arc::new(plan.as_ref().clone()),
            lead: event.actor.clone(),
            started_at: event.at,
            status: Status::Active,
            current: None,
            decision: None,
            traffic: None,
            traffic_at: None,
            go_live: *go_live,
            milestones_missed: Default::default(),
            overdue_at: None,
            escalation: None,
            escalated_causes: Default::default(),
            failing_checks: BTreeMap::new(),
            rollback_checked: BTreeMap::new(),
            notes: imbl::Vector::new(),
            rollback: None,
            rollback_level: None,
            last_status_slot: None,
            status_seqs: (None, None),
            blockers: Vec::new(),
            snooze: None,
            reminded: Default::default(),
            refusals: 0,
            seq: event.seq,
            updated_at: event.at,
        })
    }

    /// Folds one more event in. Events were checked by `decide` before they were stored,
    /// so a mismatch here means the stored log was damaged, and is reported as such.
    pub fn apply(&mut self, event: &Event) -> Result<(), FoldError> {
        let bad = |why: String| FoldError::Inconsistent { seq: event.seq, kind: event.kind.name(), why };
        let stamp = || Stamp { by: event.actor.clone(), at: event.at };
        match &event.kind {
            EventKind::DeploymentStarted { .. } => return Err(bad("a deployment starts only once".into())),
            EventKind::PhaseStarted { phase } => {
                let i = self.plan.phase_index(phase).ok_or_else(|| bad(format!("no phase `{phase}`")))?;
                self.phases[i].started_at = Some(event.at);
                self.current = Some(i);
            }
            EventKind::PhaseCompleted { phase } => {
                let i = self.plan.phase_index(phase).ok_or_else(|| bad(format!("no phase `{phase}`")))?;
                self.phases[i].completed_at = Some(event.at);
                self.current = None;
                self.failing_checks.clear();
            }
            EventKind::RollbackItemChecked { item } => {
                self.rollback_checked.insert(item.clone(), stamp());
            }
            EventKind::RollbackItemUnchecked { item } => {
                self.rollback_checked.remove(item);
            }
            EventKind::CheckFailed { item, detail, .. } => {
                self.failing_checks.insert(item.clone(), detail.clone());
            }
            EventKind::CheckPassed { item, .. } => {
                self.failing_checks.remove(item);
            }
            EventKind::ItemChecked { phase, item } => {
                self.phase_mut(phase).map_err(bad)?.checked.insert(item.clone(), stamp());
            }
            EventKind::ItemUnchecked { phase, item } => {
                self.phase_mut(phase).map_err(bad)?.checked.remove(item);
            }
            EventKind::SignedOff { phase, role, note } => {
                let signoff = SignOff { by: event.actor.clone(), at: event.at, note: note.clone() };
                self.phase_mut(phase).map_err(bad)?.signoffs.insert(role.clone(), signoff);
            }
            EventKind::LeadChanged { lead } => self.lead = lead.clone(),
            EventKind::GoDecided { role } => {
                self.decision =
                    Some(Decision { go: true, reason: None, by: event.actor.clone(), role: role.clone(), at: event.at })
            }
            EventKind::NoGoDecided { reason, role } => {
                self.decision = Some(Decision {
                    go: false,
                    reason: Some(reason.clone()),
                    by: event.actor.clone(),
                    role: role.clone(),
                    at: event.at,
                })
            }
            EventKind::TrafficShifted { percent, .. } => {
                self.traffic = Some(*percent);
                self.traffic_at = Some(event.at);
            }
            EventKind::MilestoneMissed { phase, .. } => {
                self.milestones_missed.insert(phase.clone());
            }
            EventKind::DeploymentOverdue { .. } => self.overdue_at = Some(event.at),
            EventKind::NoteAdded { text } => {
                self.notes.push_back(Note { by: event.actor.clone(), at: event.at, text: text.clone() })
            }
            EventKind::RollbackStarted { reason, level } => {
                self.status = Status::RollingBack;
                self.rollback_level = *level;
                self.rollback = Some(Note { by: event.actor.clone(), at: event.at, text: reason.clone() });
            }
            EventKind::EscalationOpened { level, message, cause } => {
                self.escalated_causes.extend(cause.iter().cloned());
                self.escalation = Some(Escalation {
                    cause: cause.clone(),
                    level: *level,
                    message: message.clone(),
                    opened_by: event.actor.clone(),
                    opened_at: event.at,
                    opened_seq: event.seq,
                    raised_at: event.at,
                    pings: 1,
                    paged_levels: [*level].into(),
                    acked: None,
                })
            }
            EventKind::EscalationRaised { level, message } => {
                let esc = self.escalation.as_mut().ok_or_else(|| bad("no escalation is open".into()))?;
                esc.pings = if *level == esc.level { esc.pings.saturating_add(1) } else { 1 };
                esc.paged_levels.insert(*level);
                // A person who raises golive's escalation makes it theirs: it no longer
                // closes by itself when golive's cause goes away.
                if event.actor.platform != Platform::Golive {
                    esc.cause = None;
                }
                esc.level = *level;
                esc.message = message.clone();
                esc.raised_at = event.at;
                esc.acked = None;
            }
            EventKind::EscalationAcknowledged { level } => {
                let esc = self.escalation.as_mut().ok_or_else(|| bad("no escalation is open".into()))?;
                esc.acked = Some((stamp(), *level));
            }
            EventKind::EscalationResolved => self.escalation = None,
            EventKind::PhaseOverdue { phase, .. } => self.phase_mut(phase).map_err(bad)?.overdue_at = Some(event.at),
            EventKind::StatusPosted { slot, .. } => {
                self.last_status_slot = Some(*slot);
                self.status_seqs = (self.status_seqs.1, Some(event.seq));
            }
            EventKind::BlockerRaised { number, text } => self.blockers.push(Blocker {
                number: *number,
                text: text.clone(),
                by: event.actor.clone(),
                at: event.at,
                cleared: None,
            }),
            EventKind::BlockerCleared { number } => {
                let blocker = self
                    .blockers
                    .iter_mut()
                    .find(|b| b.number == *number && b.cleared.is_none())
                    .ok_or_else(|| bad(format!("no open blocker {number}")))?;
                blocker.cleared = Some(stamp());
            }
            EventKind::StatusSnoozed { until, reason } => {
                self.snooze =
                    Some(Snooze { until: *until, reason: reason.clone(), by: event.actor.clone(), at: event.at })
            }
            // Lifted now: the posts resume from this moment, not from the slots it skipped.
            EventKind::StatusUnsnoozed => {
                if let Some(snooze) = self.snooze.as_mut() {
                    snooze.until = event.at;
                }
            }
            EventKind::Reminded { phase, .. } => {
                self.reminded.insert(phase.clone());
            }
            EventKind::DeploymentCompleted => {
                let outcome = match self.status {
                    Status::RollingBack => Outcome::RolledBack,
                    _ => Outcome::Completed,
                };
                self.end(outcome);
            }
            EventKind::DeploymentAborted { .. } => self.end(Outcome::Aborted),
            EventKind::CommandRefused { .. } => self.refusals += 1,
            // Facts for the record that change no state: a post that could not go out, and
            // why a freeze was overridden.
            EventKind::DeliveryFailed { .. } | EventKind::FreezeOverridden { .. } | EventKind::HookRan { .. } => {}
        }
        self.seq = event.seq;
        self.updated_at = event.at;
        Ok(())
    }

    fn end(&mut self, outcome: Outcome) {
        self.status = Status::Ended(outcome);
        self.current = None;
        self.escalation = None;
    }

    fn phase_mut(&mut self, phase: &str) -> Result<&mut PhaseState, String> {
        let i = self.plan.phase_index(phase).ok_or_else(|| format!("no phase `{phase}`"))?;
        Ok(&mut self.phases[i])
    }

    /// The first phase not yet done, in plan order.
    pub fn next_phase(&self) -> Option<usize> {
        self.phases.iter().position(|p| !p.is_done())
    }

    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self.status {
            Status::Ended(_) => Some(self.updated_at),
            _ => None,
        }
    }

    /// When the running phase becomes overdue, unless that was already recorded.
    pub fn overdue_due(&self) -> Option<DateTime<Utc>> {
        if self.status != Status::Active {
            return None;
        }
        let i = self.current?;
        let state = &self.phases[i];
        if state.overdue_at.is_some() {
            return None;
        }
        let planned = chrono::Duration::from_std(self.plan.phases[i].planned).ok()?;
        Some(state.started_at? + planned)
    }

    /// The `phase_overdue` event to record at `now`, if the running phase has become overdue.
    pub fn overdue(&self, now: DateTime<Utc>) -> Option<EventKind> {
        let due = self.overdue_due()?;
        let i = self.current?;
        let phase = &self.plan.phases[i];
        (now >= due).then(|| EventKind::PhaseOverdue {
            phase: phase.id.clone(),
            planned_secs: phase.planned.as_secs(),
            owners: Vec::new(),
        })
    }

    /// The last scheduled status post followed the one before it with nothing recorded in
    /// between: it would repeat everything, so it says so in one line instead.
    pub fn quiet_repeat(&self) -> bool {
        matches!(self.status_seqs, (Some(before), Some(last)) if last == before + 1 && last == self.seq)
    }

    /// The blockers not cleared yet.
    pub fn open_blockers(&self) -> impl Iterator<Item = &Blocker> {
        self.blockers.iter().filter(|b| b.cleared.is_none())
    }

    /// The snooze in force at `now`, if any.
    pub fn snoozed(&self, now: DateTime<Utc>) -> Option<&Snooze> {
        self.snooze.as_ref().filter(|s| s.until > now)
    }

    /// Where the status slots count from: the last slot posted, or the end of a snooze, so
    /// slots that fell inside a snooze are skipped rather than posted late.
    pub fn status_slots_from(&self) -> DateTime<Utc> {
        let last = self.last_status_slot.unwrap_or(self.started_at);
        self.snooze.as_ref().map_or(last, |s| last.max(s.until))
    }

    /// Required items of phase `i` that are not ticked.
    pub fn open_required_items(&self, i: usize) -> Vec<&str> {
        self.plan.phases[i]
            .items
            .iter()
            .filter(|item| item.required && !self.phases[i].checked.contains_key(&item.id))
            .map(|item| item.id.as_str())
            .collect()
    }

    /// Sign-off roles of phase `i` still missing.
    pub fn missing_signoffs(&self, i: usize) -> Vec<&str> {
        self.plan.phases[i]
            .signoffs
            .iter()
            .filter(|role| !self.phases[i].signoffs.contains_key(*role))
            .map(String::as_str)
            .collect()
    }
}
