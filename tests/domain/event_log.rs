//! The event log: which histories fold into a deployment, the names events are stored under,
//! their round trip through JSON, and how commands describe themselves in the log.

use chrono::{TimeZone, Utc};
use golive::config::Config;
use golive::domain::deployment::FoldError;
use golive::domain::{Command, Deployment, Event, EventKind, Platform};

use crate::desk::*;

// --- folding ---------------------------------------------------------------------------------

fn event(seq: i64, kind: EventKind) -> Event {
    Event { seq, at: Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap(), actor: console(LEAD), kind }
}

fn started_event() -> Event {
    let config = Config::example();
    event(
        1,
        EventKind::DeploymentStarted {
            release: "v1".into(),
            platform: Platform::Console,
            channel: "releases".into(),
            plan: Box::new(config.default_plan().clone()),
            go_live: None,
        },
    )
}

#[test]
fn an_empty_history_does_not_fold() {
    assert_eq!(Deployment::from_events(&Vec::<Event>::new()), Err(FoldError::Empty));
}

#[test]
fn a_history_must_begin_with_deployment_started() {
    let phase = event(1, EventKind::PhaseStarted { phase: "pre-deployment".into() });
    assert_eq!(Deployment::from_events([&phase, &started_event()]), Err(FoldError::NotStarted("phase_started")));
    let note = event(1, EventKind::NoteAdded { text: "hi".into() });
    let err = Deployment::from_events([&note]).unwrap_err();
    assert_eq!(err, FoldError::NotStarted("note_added"));
    assert_eq!(err.to_string(), "the first event is `note_added`, not `deployment_started`");
}

#[test]
fn events_that_do_not_fit_the_state_are_reported() {
    let start = started_event();
    let mut twice = started_event();
    twice.seq = 2;
    assert_eq!(
        Deployment::from_events([&start, &twice]),
        Err(FoldError::Inconsistent {
            seq: 2,
            kind: "deployment_started",
            why: "a deployment starts only once".into()
        })
    );
    for kind in [
        EventKind::PhaseStarted { phase: "canary".into() },
        EventKind::PhaseCompleted { phase: "canary".into() },
        EventKind::ItemChecked { phase: "canary".into(), item: "x".into() },
        EventKind::SignedOff { phase: "canary".into(), role: "ops".into(), note: None },
    ] {
        let name = kind.name();
        assert_eq!(
            Deployment::from_events([&start, &event(2, kind)]),
            Err(FoldError::Inconsistent { seq: 2, kind: name, why: "no phase `canary`".into() })
        );
    }
    for kind in
        [EventKind::EscalationRaised { level: 2, message: "x".into() }, EventKind::EscalationAcknowledged { level: 1 }]
    {
        let name = kind.name();
        assert_eq!(
            Deployment::from_events([&start, &event(2, kind)]),
            Err(FoldError::Inconsistent { seq: 2, kind: name, why: "no escalation is open".into() })
        );
    }
}

#[test]
fn the_stored_kind_name_is_the_serialized_tag_and_events_round_trip() {
    let at = Utc.with_ymd_and_hms(2026, 6, 2, 9, 30, 0).unwrap();
    let kinds = vec![
        started_event().kind,
        EventKind::PhaseStarted { phase: "p".into() },
        EventKind::PhaseCompleted { phase: "p".into() },
        EventKind::ItemChecked { phase: "p".into(), item: "i".into() },
        EventKind::ItemUnchecked { phase: "p".into(), item: "i".into() },
        EventKind::SignedOff { phase: "p".into(), role: "r".into(), note: Some("n".into()) },
        EventKind::GoDecided { role: None },
        EventKind::NoGoDecided { reason: "r".into(), role: None },
        EventKind::TrafficShifted { percent: 50, forced: None },
        EventKind::NoteAdded { text: "t".into() },
        EventKind::RollbackStarted { reason: "r".into(), level: None },
        EventKind::EscalationOpened { level: 1, message: "m".into(), cause: None },
        EventKind::EscalationRaised { level: 2, message: "m".into() },
        EventKind::EscalationAcknowledged { level: 2 },
        EventKind::EscalationResolved,
        EventKind::PhaseOverdue { phase: "p".into(), planned_secs: 60, owners: vec![] },
        EventKind::StatusPosted { slot: at, late_secs: 3 },
        EventKind::DeploymentCompleted,
        EventKind::DeploymentAborted { reason: "r".into() },
        EventKind::CommandRefused { command: "go".into(), reason: "r".into() },
    ];
    let mut names = Vec::new();
    for kind in kinds {
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(json["kind"], kind.name(), "{json}");
        let back: EventKind = serde_json::from_value(json).unwrap();
        assert_eq!(back, kind);
        names.push(kind.name());
    }
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 20, "every kind has its own name");
    // The stored plan keeps durations as whole seconds.
    let json = serde_json::to_value(started_event().kind).unwrap();
    assert_eq!(json["plan"]["phases"][0]["planned"], 7200);
}

#[test]
fn commands_describe_themselves_in_the_chat_grammar() {
    let cases = [
        (start("v1"), "start v1"),
        (start_plan("v1", "canary"), "start v1 plan=canary"),
        (phase_start("staging"), "phase start staging"),
        (Command::PhaseDone, "phase done"),
        (check("tests"), "check tests"),
        (uncheck("tests"), "uncheck tests"),
        (signoff_with("ops", "fine"), "signoff ops"),
        (Command::Go, "go"),
        (nogo("secret reason"), "nogo"),
        (traffic(70), "traffic 70"),
        (rollback("r"), "rollback"),
        (escalate(Some(2), "m"), "escalate 2"),
        (escalate(None, "m"), "escalate"),
        (Command::EscalateResolve, "escalate resolve"),
        (Command::Ack, "ack"),
        (note("n"), "note"),
        (Command::Complete, "complete"),
        (abort("r"), "abort"),
    ];
    for (command, text) in cases {
        assert_eq!(command.describe(), text);
    }
}
