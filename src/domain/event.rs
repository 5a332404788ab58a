//! What happened to a deployment: the events that are stored, chained and folded into state.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::actor::{Actor, Platform};
use super::plan::Plan;

/// The rollback levels of the plan documents: how fast, and so who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackLevel {
    /// 0–5 minutes, for a critical failure: fail over to the previous version now.
    Immediate,
    /// 5–15 minutes, for major functional issues: manual rollback to the last stable version.
    Quick,
    /// 15–60 minutes, for performance or experience issues: coordinated, preserving data.
    Planned,
}

impl RollbackLevel {
    pub const ALL: [RollbackLevel; 3] = [RollbackLevel::Immediate, RollbackLevel::Quick, RollbackLevel::Planned];

    pub fn as_str(self) -> &'static str {
        match self {
            RollbackLevel::Immediate => "immediate",
            RollbackLevel::Quick => "quick",
            RollbackLevel::Planned => "planned",
        }
    }

    pub fn parse(s: &str) -> Option<RollbackLevel> {
        RollbackLevel::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(s))
    }

    /// The time frame people read next to the level's name.
    pub fn window(self) -> &'static str {
        match self {
            RollbackLevel::Immediate => "0–5 min",
            RollbackLevel::Quick => "5–15 min",
            RollbackLevel::Planned => "15–60 min",
        }
    }
}

impl fmt::Display for RollbackLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded fact. `seq` counts from 1 within its deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    DeploymentStarted {
        release: String,
        platform: Platform,
        channel: String,
        /// Boxed: the plan is by far the largest payload, and every other event stays small.
        plan: Box<Plan>,
        /// The go-live time (T-0) that phases' planned `at` count from, where one was given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        go_live: Option<DateTime<Utc>>,
    },
    /// The lead was handed over to `lead` (by the event's actor).
    LeadChanged {
        lead: Actor,
    },
    PhaseStarted {
        phase: String,
    },
    PhaseCompleted {
        phase: String,
    },
    ItemChecked {
        phase: String,
        item: String,
    },
    ItemUnchecked {
        phase: String,
        item: String,
    },
    SignedOff {
        phase: String,
        role: String,
        note: Option<String>,
    },
    /// `role`: the role of `go_roles` the decision was made as; absent when the lead made it.
    GoDecided {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    NoGoDecided {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    TrafficShifted {
        percent: u8,
        /// Set when the lead moved on before the step's hold or items allowed it: why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forced: Option<String>,
    },
    NoteAdded {
        text: String,
    },
    RollbackStarted {
        reason: String,
        /// How fast the rollback has to happen; absent where the caller did not say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<RollbackLevel>,
    },
    EscalationOpened {
        level: u8,
        message: String,
        /// What golive escalated on by itself (`overdue:PHASE`, `signoff:PHASE`) or
        /// `rollback`; absent for a person's `/deploy escalate`. A cause is escalated once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    EscalationRaised {
        level: u8,
        message: String,
    },
    /// An item of the rollback checklist was ticked / unticked.
    RollbackItemChecked {
        item: String,
    },
    RollbackItemUnchecked {
        item: String,
    },
    /// An automatic check of an item started failing: what was measured.
    CheckFailed {
        phase: String,
        item: String,
        detail: String,
    },
    /// A failing check passes again.
    CheckPassed {
        phase: String,
        item: String,
        detail: String,
    },
    /// A hook ran (or could not be run): how it went, for the record.
    HookRan {
        hook: String,
        trigger: String,
        ok: bool,
        /// What happened: `HTTP 200`, `exit 0`, `exit 3`, `timed out after 30s`, …
        detail: String,
        /// The end of what it printed (a command) or answered (a webhook).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        output: String,
        duration_ms: u64,
    },
    /// The deployment was started inside a deploy freeze, for this reason.
    FreezeOverridden {
        freeze: String,
        reason: String,
    },
    EscalationAcknowledged {
        level: u8,
    },
    EscalationResolved,
    /// The running phase passed its planned duration (recorded once per phase).
    PhaseOverdue {
        phase: String,
        planned_secs: u64,
        /// The members of the roles its open work waits on, to mention.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        owners: Vec<super::plan::Member>,
    },
    /// A phase's planned start (go-live time plus its `at`) passed without it starting
    /// (recorded once per phase).
    MilestoneMissed {
        phase: String,
        planned: DateTime<Utc>,
        /// The members of the roles that own the phase's items and sign-offs, to mention.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        owners: Vec<super::plan::Member>,
    },
    /// The whole deployment ran past its plan (recorded once).
    DeploymentOverdue {
        planned_secs: u64,
    },
    StatusPosted {
        slot: DateTime<Utc>,
        late_secs: i64,
    },
    /// Something stands in the way; `number` names it for `/deploy unblock N` (1, 2, … in the
    /// order blockers were raised).
    BlockerRaised {
        number: u32,
        text: String,
    },
    BlockerCleared {
        number: u32,
    },
    /// The scheduled status posts pause until `until` (pages and announcements do not).
    StatusSnoozed {
        until: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The snooze was lifted before it ran out; posts resume from now.
    StatusUnsnoozed,
    /// The owners of the running phase's open required items and the holders of its missing
    /// sign-offs were mentioned (`/deploy remind`, or golive at the phase's `remind_after`).
    Reminded {
        phase: String,
        /// The open required items and missing sign-off roles asked about.
        waiting: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        owners: Vec<super::plan::Member>,
    },
    DeploymentCompleted,
    DeploymentAborted {
        reason: String,
    },
    /// Someone tried something their roles do not allow. Recorded; changes nothing else.
    CommandRefused {
        command: String,
        reason: String,
    },
    /// The chat platform refused golive's posts for good (the app is not in the channel, the
    /// channel is gone): `messages` posts were given up, so the record says who never saw them.
    DeliveryFailed {
        channel: String,
        error: String,
        messages: u64,
    },
}

impl EventKind {
    /// The name stored in the `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::DeploymentStarted { .. } => "deployment_started",
            EventKind::LeadChanged { .. } => "lead_changed",
            EventKind::PhaseStarted { .. } => "phase_started",
            EventKind::PhaseCompleted { .. } => "phase_completed",
            EventKind::ItemChecked { .. } => "item_checked",
            EventKind::ItemUnchecked { .. } => "item_unchecked",
            EventKind::SignedOff { .. } => "signed_off",
            EventKind::GoDecided { .. } => "go_decided",
            EventKind::NoGoDecided { .. } => "no_go_decided",
            EventKind::TrafficShifted { .. } => "traffic_shifted",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::RollbackStarted { .. } => "rollback_started",
            EventKind::EscalationOpened { .. } => "escalation_opened",
            EventKind::EscalationRaised { .. } => "escalation_raised",
            EventKind::EscalationAcknowledged { .. } => "escalation_acknowledged",
            EventKind::EscalationResolved => "escalation_resolved",
            EventKind::FreezeOverridden { .. } => "freeze_overridden",
            EventKind::HookRan { .. } => "hook_ran",
            EventKind::CheckFailed { .. } => "check_failed",
            EventKind::RollbackItemChecked { .. } => "rollback_item_checked",
            EventKind::RollbackItemUnchecked { .. } => "rollback_item_unchecked",
            EventKind::CheckPassed { .. } => "check_passed",
            EventKind::PhaseOverdue { .. } => "phase_overdue",
            EventKind::MilestoneMissed { .. } => "milestone_missed",
            EventKind::DeploymentOverdue { .. } => "deployment_overdue",
            EventKind::StatusPosted { .. } => "status_posted",
            EventKind::BlockerRaised { .. } => "blocker_raised",
            EventKind::BlockerCleared { .. } => "blocker_cleared",
            EventKind::StatusSnoozed { .. } => "status_snoozed",
            EventKind::StatusUnsnoozed => "status_unsnoozed",
            EventKind::Reminded { .. } => "reminded",
            EventKind::DeploymentCompleted => "deployment_completed",
            EventKind::DeploymentAborted { .. } => "deployment_aborted",
            EventKind::CommandRefused { .. } => "command_refused",
            EventKind::DeliveryFailed { .. } => "delivery_failed",
        }
    }
}
