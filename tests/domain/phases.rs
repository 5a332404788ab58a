//! Phases: starting them in plan order (the gated one after the go), and completing them once
//! their required items, sign-offs and traffic are done.

use golive::domain::{Actor, Command, EventKind, Platform, Refusal};

use crate::desk::*;

// --- phase start ---------------------------------------------------------------------------

#[test]
fn phase_start_starts_the_next_phase() {
    let mut s = Desk::started();
    s.wait(10);
    assert_eq!(
        s.run(LEAD, phase_start("pre-deployment")),
        vec![EventKind::PhaseStarted { phase: "pre-deployment".into() }]
    );
    assert_eq!(s.d().current, Some(0));
    assert_eq!(s.d().phases[0].started_at, Some(s.now));
    assert_eq!(s.d().phases[0].completed_at, None);
    assert!(s.d().phases[1..].iter().all(|p| p.started_at.is_none()));
}

#[test]
fn phase_start_refuses_an_unknown_phase_listing_the_phases_in_order() {
    let mut s = Desk::started();
    for (who, phase) in [(LEAD, "prod"), ("eve", "prod"), (LEAD, "")] {
        assert_eq!(
            s.refuse(who, phase_start(phase)),
            Refusal::UnknownPhase { given: phase.into(), hint: String::new(), allowed: PHASES.into() }
        );
    }
    // Ids match without regard to case; a near miss gets a suggestion.
    assert_eq!(
        s.refuse(LEAD, phase_start("Production")),
        Refusal::OutOfOrder { given: "production".into(), next: "pre-deployment".into() }
    );
    assert_eq!(
        s.refuse(LEAD, phase_start("stagng")),
        Refusal::UnknownPhase {
            given: "stagng".into(),
            hint: " (did you mean `staging`?)".into(),
            allowed: PHASES.into()
        }
    );
}

#[test]
fn phase_start_refuses_phases_out_of_order() {
    let mut s = Desk::started();
    for phase in ["staging", "production", "post-deployment"] {
        assert_eq!(
            s.refuse(LEAD, phase_start(phase)),
            Refusal::OutOfOrder { given: phase.into(), next: "pre-deployment".into() }
        );
    }
    s.finish("pre-deployment");
    assert_eq!(
        s.refuse(LEAD, phase_start("post-deployment")),
        Refusal::OutOfOrder { given: "post-deployment".into(), next: "staging".into() }
    );
}

#[test]
fn phase_start_refuses_a_phase_already_done() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    assert_eq!(
        s.refuse(LEAD, phase_start("pre-deployment")),
        Refusal::PhaseAlreadyDone { phase: "pre-deployment".into() }
    );
    s.all_phases_done_from_staging();
    for phase in ["pre-deployment", "staging", "production", "post-deployment"] {
        assert_eq!(s.refuse(LEAD, phase_start(phase)), Refusal::PhaseAlreadyDone { phase: phase.into() });
    }
}

#[test]
fn phase_start_refuses_while_a_phase_runs() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for phase in ["pre-deployment", "staging", "post-deployment"] {
        assert_eq!(s.refuse(LEAD, phase_start(phase)), Refusal::PhaseRunning { running: "pre-deployment".into() });
    }
}

#[test]
fn the_gated_phase_needs_the_go() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    assert_eq!(
        s.refuse(LEAD, phase_start("production")),
        Refusal::NeedsGo { phase: "production".into(), why: String::new() }
    );
    assert_eq!(
        Refusal::NeedsGo { phase: "production".into(), why: String::new() }.to_string(),
        "phase `production` needs the lead's go first (`/deploy go`)"
    );
    s.run(LEAD, Command::Go);
    assert_eq!(s.run(LEAD, phase_start("production")), vec![EventKind::PhaseStarted { phase: "production".into() }]);
    assert_eq!(s.d().current, Some(2));
}

#[test]
fn after_a_no_go_the_gated_phase_says_why_it_cannot_start() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, nogo("error budget burned"));
    let refusal = s.refuse(LEAD, phase_start("production"));
    assert_eq!(
        refusal,
        Refusal::NeedsGo {
            phase: "production".into(),
            why: "; the last decision was no-go: error budget burned".into()
        }
    );
    assert_eq!(
        refusal.to_string(),
        "phase `production` needs the lead's go first (`/deploy go`); the last decision was no-go: error budget burned"
    );
}

#[test]
fn only_the_lead_starts_a_phase() {
    let mut s = Desk::started();
    for who in ["alice", "olga", "eve", "maya"] {
        assert_eq!(
            s.refuse(who, phase_start("pre-deployment")),
            Refusal::NotLead { action: "start a phase", lead: "dana".into() }
        );
    }
    // The lead is a platform identity: the same id elsewhere, or a display name, is not the lead.
    let slack_dana = Actor::new(Platform::Slack, LEAD);
    let named_dana =
        Actor { platform: Platform::Console, id: "eve".into(), name: Some(LEAD.into()), groups: Vec::new() };
    for actor in [slack_dana, named_dana] {
        assert_eq!(
            s.refuse_as(&actor, phase_start("pre-deployment")),
            Refusal::NotLead { action: "start a phase", lead: "dana".into() }
        );
    }
}

// --- phase done ----------------------------------------------------------------------------

#[test]
fn phase_done_names_open_items_and_missing_sign_offs() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    let refusal = s.refuse(LEAD, Command::PhaseDone);
    assert_eq!(
        refusal,
        Refusal::PhaseNotFinished {
            phase: "pre-deployment".into(),
            missing:
                "open required items: tests, security-scan, migrations-tested, db-backup, secrets, rollback-plan; \
                      missing sign-offs: tech-lead, security"
                    .into(),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "phase `pre-deployment` cannot be completed yet: open required items: tests, security-scan, \
         migrations-tested, db-backup, secrets, rollback-plan; missing sign-offs: tech-lead, security"
    );
    s.ticks(&PRE_TICKS[..4]);
    s.run("sam", signoff("security"));
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished {
            phase: "pre-deployment".into(),
            missing: "open required items: secrets, rollback-plan; missing sign-offs: tech-lead".into(),
        }
    );
    s.ticks(&PRE_TICKS[4..]);
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished { phase: "pre-deployment".into(), missing: "missing sign-offs: tech-lead".into() }
    );
    s.run("alice", signoff("tech-lead"));
    s.run(LEAD, uncheck("secrets"));
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished { phase: "pre-deployment".into(), missing: "open required items: secrets".into() }
    );
    s.run("olga", check("secrets"));
    // The optional `certificates` item is still open, and does not block.
    assert!(!s.d().phases[0].checked.contains_key("certificates"));
    assert_eq!(s.run(LEAD, Command::PhaseDone), vec![EventKind::PhaseCompleted { phase: "pre-deployment".into() }]);
    assert_eq!(s.d().phases[0].completed_at, Some(s.now));
    assert!(s.d().phases[0].is_done());
    assert_eq!((s.d().current, s.d().next_phase()), (None, Some(1)));
}

#[test]
fn phase_done_names_traffic_below_the_last_step() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, Command::Go);
    s.run(LEAD, phase_start("production"));
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished {
            phase: "production".into(),
            missing: "open required items: prod-deploy, prod-migrate, health, error-rate, latency, old-version-warm; \
                      missing sign-offs: ops; traffic is at 0%, not yet 100%"
                .into(),
        }
    );
    s.ticks(PRODUCTION_TICKS);
    s.signoffs(PRODUCTION_SIGNOFFS);
    for step in [50, 70, 85] {
        s.run("olga", traffic(step));
        assert_eq!(
            s.refuse(LEAD, Command::PhaseDone),
            Refusal::PhaseNotFinished {
                phase: "production".into(),
                missing: format!("traffic is at {step}%, not yet 100%"),
            }
        );
    }
    s.run("olga", traffic(100));
    assert_eq!(s.run(LEAD, Command::PhaseDone), vec![EventKind::PhaseCompleted { phase: "production".into() }]);
}

#[test]
fn phase_done_needs_a_running_phase() {
    let mut s = Desk::started();
    assert_eq!(s.refuse(LEAD, Command::PhaseDone), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.finish("pre-deployment");
    let refusal = s.refuse(LEAD, Command::PhaseDone);
    assert_eq!(refusal, Refusal::NoPhaseRunning { next: "staging".into() });
    assert_eq!(refusal.to_string(), "no phase is running; start the next one with `/deploy phase start staging`");
}

#[test]
fn phase_done_after_every_phase_is_done() {
    let mut s = Desk::started();
    s.all_phases_done();
    assert_eq!(s.refuse(LEAD, Command::PhaseDone), Refusal::AllPhasesDone);
    assert_eq!(s.d().next_phase(), None);
}

#[test]
fn only_the_lead_completes_a_phase() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.ticks(PRE_TICKS);
    s.signoffs(PRE_SIGNOFFS);
    for who in ["alice", "sam", "eve"] {
        assert_eq!(
            s.refuse(who, Command::PhaseDone),
            Refusal::NotLead { action: "complete a phase", lead: "dana".into() }
        );
    }
    s.run(LEAD, Command::PhaseDone);
}
