//! Rollback: who may start it, that it pages escalation level one, that it closes every forward
//! command, and that completing it ends the deployment as rolled back.

use golive::config::Config;
use golive::domain::{Command, EventKind, Outcome, Refusal, RollbackLevel, Status};

use crate::desk::*;

// --- rollback ------------------------------------------------------------------------------

#[test]
fn rollback_is_for_the_team_only() {
    let mut s = Desk::started();
    let refusal = s.refuse("eve", rollback("it is on fire"));
    assert_eq!(refusal, Refusal::NotOnTeam { action: "trigger a rollback" });
    assert_eq!(
        refusal.to_string(),
        "only the deployment team (the lead and members of this plan's roles) may trigger a rollback"
    );
    // Who may is checked before what was said.
    assert_eq!(s.refuse("eve", rollback("")), Refusal::NotOnTeam { action: "trigger a rollback" });
    // Role holders, the escalation path and the lead are the team.
    for who in ["fei", "maya", "sol", LEAD] {
        let mut s = Desk::started();
        assert!(matches!(&s.run(who, rollback("bad build"))[0], EventKind::RollbackStarted { .. }));
    }
    // The team is the roles *this plan* uses: the canary plan uses none.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v1", "canary"));
    assert_eq!(s.refuse("bruno", rollback("bad build")), Refusal::NotOnTeam { action: "trigger a rollback" });
    s.run("olga", rollback("bad build"));
}

#[test]
fn rollback_needs_a_reason() {
    let mut s = Desk::started();
    for reason in ["", "   "] {
        assert_eq!(s.refuse("olga", rollback(reason)), Refusal::Empty { what: "the rollback reason" });
    }
}

#[test]
fn rollback_pages_escalation_level_one() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("bruno", rollback("  migrations failed ")),
        vec![
            EventKind::RollbackStarted { reason: "migrations failed".into(), level: Some(RollbackLevel::Immediate) },
            EventKind::EscalationOpened {
                level: 1,
                message: "rollback: migrations failed".into(),
                cause: Some("rollback".into())
            },
        ]
    );
    let d = s.d();
    assert_eq!(d.status, Status::RollingBack);
    assert!(d.status.is_open());
    let rb = d.rollback.as_ref().unwrap();
    assert_eq!((&rb.by, rb.at, rb.text.as_str()), (&console("bruno"), s.now, "migrations failed"));
    let esc = d.escalation.as_ref().unwrap();
    assert_eq!(
        (esc.level, esc.message.as_str(), &esc.opened_by),
        (1, "rollback: migrations failed", &console("bruno"))
    );
    assert_eq!((esc.opened_at, esc.raised_at, &esc.acked), (s.now, s.now, &None));
    // The running phase is left as it was.
    assert_eq!(d.current, Some(0));
    assert_eq!(s.history.len(), 4);
}

#[test]
fn rollback_does_not_open_a_second_escalation() {
    let mut s = Desk::started();
    s.run("olga", escalate(Some(2), "db slow"));
    let before = s.d().escalation.clone();
    assert_eq!(
        s.run("olga", rollback("db slow")),
        vec![EventKind::RollbackStarted { reason: "db slow".into(), level: Some(RollbackLevel::Immediate) }]
    );
    assert_eq!(s.d().escalation, before);
    assert_eq!(s.d().status, Status::RollingBack);

    // Acknowledged counts as open too.
    let mut s = Desk::started();
    s.run("olga", escalate(None, "db slow"));
    s.run("alice", Command::Ack);
    assert_eq!(s.run("olga", rollback("db slow")).len(), 1);
}

#[test]
fn rollback_without_escalation_levels_pages_nobody() {
    let mut config = Config::example();
    config.escalation.clear();
    let mut s = Desk::with(config);
    s.run(LEAD, start("v1"));
    assert_eq!(
        s.run(LEAD, rollback("bad")),
        vec![EventKind::RollbackStarted { reason: "bad".into(), level: Some(RollbackLevel::Immediate) }]
    );
    assert_eq!(s.d().escalation, None);
}

#[test]
fn rollback_happens_once() {
    let mut s = Desk::started();
    s.run("olga", rollback("bad build"));
    assert_eq!(s.refuse("olga", rollback("really bad")), Refusal::AlreadyRollingBack);
    assert_eq!(s.refuse(LEAD, rollback("really bad")), Refusal::AlreadyRollingBack);
    // Team and reason are checked first.
    assert_eq!(s.refuse("eve", rollback("x")), Refusal::NotOnTeam { action: "trigger a rollback" });
    assert_eq!(s.refuse("olga", rollback(" ")), Refusal::Empty { what: "the rollback reason" });
}

#[test]
fn rolling_back_closes_every_forward_command() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", check("db-backup"));
    s.run("olga", rollback("bad build"));
    let forward = [
        phase_start("staging"),
        phase_start("no-such-phase"),
        Command::PhaseDone,
        check("secrets"),
        uncheck("db-backup"),
        check("no-such-item"),
        signoff("security"),
        signoff("no-such-role"),
        Command::Go,
        nogo("why"),
        nogo(""),
        traffic(50),
    ];
    // For everyone, lead or not: the state, not the person, closes them.
    for who in [LEAD, "olga", "sam", "eve"] {
        for command in forward.clone() {
            assert_eq!(s.refuse(who, command.clone()), Refusal::RollingBack, "{who}: {command:?}");
        }
    }

    // Rolling back out of production closes what production would otherwise accept: the next
    // traffic step, a tick already given, its sign-off, its completion, the next phase.
    let mut s = Desk::started();
    s.in_production();
    s.ticks(PRODUCTION_TICKS);
    s.run("olga", traffic(50));
    s.run("olga", rollback("5xx spike"));
    for (who, command) in [
        ("olga", traffic(70)),
        ("olga", check("health")),
        ("olga", signoff("ops")),
        (LEAD, Command::PhaseDone),
        (LEAD, phase_start("post-deployment")),
        (LEAD, Command::Go),
    ] {
        assert_eq!(s.refuse(who, command.clone()), Refusal::RollingBack, "{who}: {command:?}");
    }
}

#[test]
fn rolling_back_keeps_notes_escalation_ack_and_the_way_out() {
    let mut s = Desk::started();
    s.run("olga", rollback("bad build"));
    assert_eq!(
        s.run("eve", note("customers see 502s")),
        vec![EventKind::NoteAdded { text: "customers see 502s".into() }]
    );
    assert_eq!(
        s.run("olga", escalate(Some(2), "rollback stuck")),
        vec![EventKind::EscalationRaised { level: 2, message: "rollback stuck".into() }]
    );
    assert_eq!(s.run("maya", Command::Ack), vec![EventKind::EscalationAcknowledged { level: 2 }]);
    assert_eq!(s.run("maya", Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().status, Status::RollingBack);

    // Abort still works.
    let mut aborted = Desk::started();
    aborted.run("olga", rollback("bad build"));
    assert_eq!(
        aborted.run(LEAD, abort("giving up")),
        vec![EventKind::DeploymentAborted { reason: "giving up".into() }]
    );
    assert_eq!(aborted.d().status, Status::Ended(Outcome::Aborted));
}

#[test]
fn completing_a_rollback_ends_the_deployment_as_rolled_back() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", rollback("bad build"));
    // Still the lead's call, but no phases need to be done.
    assert_eq!(
        s.refuse("olga", Command::Complete),
        Refusal::NotLead { action: "complete the deployment", lead: "dana".into() }
    );
    assert_eq!(s.run(LEAD, Command::Complete), vec![EventKind::DeploymentCompleted]);
    let d = s.d();
    assert_eq!(d.status, Status::Ended(Outcome::RolledBack));
    assert_eq!(d.status.as_str(), "rolled_back");
    assert!(!d.status.is_open());
    assert_eq!((d.current, d.escalation.as_ref(), d.ended_at()), (None, None, Some(s.now)));
    assert!(d.rollback.is_some());
}
