//! The commands that change a deployment, as the domain decides them: what each carries, its
//! fixed name for metrics and how it is described on the record.

use crate::domain::event::RollbackLevel;

/// The commands that change a deployment. Queries (status, help, history, on-call) are not
/// decisions and live with the adapters' shared request type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `freeze_override`: why this start cannot wait for the freeze to end.
    Start {
        release: String,
        plan: Option<String>,
        freeze_override: Option<String>,
        /// The go-live time (T-0) as typed: `2026-12-01T07:00`, with or without an offset.
        at: Option<String>,
    },
    /// Hand the lead over to the person named (`<@U123>`, `@alice`, `slack:U123`).
    Lead {
        user: String,
    },
    /// Tick several items at once, all or nothing.
    CheckMany {
        items: Vec<String>,
    },
    /// Tick every open item of a section of the running phase, all or nothing.
    CheckSection {
        section: String,
    },
    PhaseStart {
        phase: String,
    },
    PhaseDone,
    Check {
        item: String,
    },
    Uncheck {
        item: String,
    },
    SignOff {
        role: String,
        note: Option<String>,
    },
    Go,
    NoGo {
        reason: String,
    },
    /// `force`: why the lead moves on before the step's hold or items allow it.
    Traffic {
        percent: u8,
        force: Option<String>,
    },
    Rollback {
        reason: String,
        level: Option<RollbackLevel>,
    },
    Escalate {
        level: Option<u8>,
        message: String,
    },
    EscalateResolve,
    Ack,
    Note {
        text: String,
    },
    Complete,
    Abort {
        reason: String,
    },
    Blocker {
        text: String,
    },
    Unblock {
        number: u32,
    },
    /// Pause the scheduled status posts for `minutes`.
    Snooze {
        minutes: u32,
        reason: Option<String>,
    },
    Unsnooze,
    Remind,
}

impl Command {
    /// A fixed name for the command, for metrics: never anything the user typed.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Start { .. } => "start",
            Command::Lead { .. } => "lead",
            Command::CheckMany { .. } | Command::CheckSection { .. } => "check",
            Command::PhaseStart { .. } => "phase_start",
            Command::PhaseDone => "phase_done",
            Command::Check { .. } => "check",
            Command::Uncheck { .. } => "uncheck",
            Command::SignOff { .. } => "signoff",
            Command::Go => "go",
            Command::NoGo { .. } => "nogo",
            Command::Traffic { .. } => "traffic",
            Command::Rollback { .. } => "rollback",
            Command::Escalate { .. } => "escalate",
            Command::EscalateResolve => "escalate_resolve",
            Command::Ack => "ack",
            Command::Note { .. } => "note",
            Command::Complete => "complete",
            Command::Abort { .. } => "abort",
            Command::Blocker { .. } => "blocker",
            Command::Unblock { .. } => "unblock",
            Command::Snooze { .. } => "snooze",
            Command::Unsnooze => "unsnooze",
            Command::Remind => "remind",
        }
    }

    /// How the command reads in the chat grammar, for refusal records and logs.
    pub fn describe(&self) -> String {
        match self {
            Command::Start { release, plan: None, .. } => format!("start {release}"),
            Command::Start { release, plan: Some(p), .. } => format!("start {release} plan={p}"),
            Command::PhaseStart { phase } => format!("phase start {phase}"),
            Command::PhaseDone => "phase done".into(),
            Command::Lead { user } => format!("lead {user}"),
            Command::Check { item } => format!("check {item}"),
            Command::CheckMany { items } => format!("check {}", items.join(" ")),
            Command::CheckSection { section } => format!("check section={section}"),
            Command::Uncheck { item } => format!("uncheck {item}"),
            Command::SignOff { role, .. } => format!("signoff {role}"),
            Command::Go => "go".into(),
            Command::NoGo { .. } => "nogo".into(),
            Command::Traffic { percent, force: None } => format!("traffic {percent}"),
            Command::Traffic { percent, force: Some(_) } => format!("traffic {percent} force"),
            Command::Rollback { .. } => "rollback".into(),
            Command::Escalate { level: Some(l), .. } => format!("escalate {l}"),
            Command::Escalate { level: None, .. } => "escalate".into(),
            Command::EscalateResolve => "escalate resolve".into(),
            Command::Ack => "ack".into(),
            Command::Note { .. } => "note".into(),
            Command::Complete => "complete".into(),
            Command::Abort { .. } => "abort".into(),
            Command::Blocker { .. } => "blocker".into(),
            Command::Unblock { number } => format!("unblock {number}"),
            Command::Snooze { minutes, .. } => format!("snooze {minutes}m"),
            Command::Unsnooze => "unsnooze".into(),
            Command::Remind => "remind".into(),
        }
    }
}
