//! Traffic shifts: up through the running phase's steps, in order, by the lead or holders of
//! the phase's roles.

use golive::domain::{Command, EventKind, Refusal};

use crate::desk::*;

// --- traffic -------------------------------------------------------------------------------

#[test]
fn traffic_moves_up_through_the_steps_of_the_phase() {
    let mut s = Desk::started();
    s.in_production();
    assert_eq!(s.d().traffic, None);
    assert_eq!(s.run("olga", traffic(50)), vec![EventKind::TrafficShifted { percent: 50, forced: None }]);
    assert_eq!(s.d().traffic, Some(50));
    // In plan order only; latency is tied to the 50% step.
    assert_eq!(s.refuse("bruno", traffic(85)), Refusal::SkippedStep { given: 85, next: 70 });
    s.run("bruno", check("latency"));
    assert_eq!(s.run("bruno", traffic(70)), vec![EventKind::TrafficShifted { percent: 70, forced: None }]);
    assert_eq!(s.run("bruno", traffic(85)), vec![EventKind::TrafficShifted { percent: 85, forced: None }]);
    assert_eq!(s.d().traffic, Some(85));
    assert_eq!(s.run(LEAD, traffic(100)), vec![EventKind::TrafficShifted { percent: 100, forced: None }]);
    assert_eq!(s.d().traffic, Some(100));
}

#[test]
fn traffic_is_refused_in_a_phase_without_steps() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("olga", traffic(50)), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.run(LEAD, phase_start("pre-deployment"));
    let refusal = s.refuse("olga", traffic(50));
    assert_eq!(refusal, Refusal::NoTrafficHere { phase: "pre-deployment".into(), phases: "production".into() });
    assert_eq!(refusal.to_string(), "phase `pre-deployment` has no traffic steps; traffic moves during: production");
    // Also for outsiders: nothing about their roles to say there.
    assert_eq!(
        s.refuse("eve", traffic(50)),
        Refusal::NoTrafficHere { phase: "pre-deployment".into(), phases: "production".into() }
    );
}

#[test]
fn traffic_refuses_a_step_the_phase_does_not_have() {
    let mut s = Desk::started();
    s.in_production();
    for given in [0, 60, 101, 255] {
        assert_eq!(
            s.refuse("olga", traffic(given)),
            Refusal::UnknownTrafficStep { given, phase: "production".into(), allowed: "50%, 70%, 85%, 100%".into() }
        );
    }
}

#[test]
fn traffic_never_goes_back_down() {
    let mut s = Desk::started();
    s.in_production();
    s.run("olga", traffic(50));
    s.run("bruno", check("latency"));
    s.run("olga", traffic(70));
    for step in [50, 70] {
        assert_eq!(
            s.refuse("olga", traffic(step)),
            Refusal::TrafficNotIncreasing { current: 70, allowed: "85%, 100%".into() }
        );
    }
    s.run("olga", traffic(85));
    s.run("olga", traffic(100));
    let refusal = s.refuse("olga", traffic(100));
    assert_eq!(refusal, Refusal::TrafficAtLastStep { current: 100, phase: "production".into() });
    assert_eq!(
        refusal.to_string(),
        "traffic is already at 100%, the last step of phase `production`; `/deploy phase done` completes the phase"
    );
}

#[test]
fn traffic_after_a_nogo_needs_a_go_again() {
    // Reachable only in a plan whose traffic phase is not gated.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v2.4.0", "canary"));
    s.run(LEAD, phase_start("canary"));
    s.run(LEAD, traffic(10));
    s.run(LEAD, nogo("latency spike"));
    let refusal = s.refuse(LEAD, traffic(50));
    assert_eq!(refusal, Refusal::NeedsGo { phase: "canary".into(), why: " again: the last decision was no-go".into() });
    assert_eq!(
        refusal.to_string(),
        "phase `canary` needs the lead's go first (`/deploy go`) again: the last decision was no-go"
    );
    s.run(LEAD, Command::Go);
    assert_eq!(s.run(LEAD, traffic(50)), vec![EventKind::TrafficShifted { percent: 50, forced: None }]);
}

#[test]
fn traffic_is_refused_to_people_outside_the_phase_roles() {
    let mut s = Desk::started();
    s.in_production();
    let refusal = Refusal::NotPhaseRole {
        phase: "production".into(),
        roles: "backend, ops, product".into(),
        action: "shift traffic",
    };
    // fei (frontend), sam (security) and alice (tech-lead) are on the team but hold none of
    // production's roles; maya is on the escalation path only; eve is nobody.
    for who in ["fei", "sam", "alice", "maya", "eve"] {
        assert_eq!(s.refuse(who, traffic(50)), refusal);
    }
    assert!(refusal.is_permission());
    assert_eq!(
        refusal.to_string(),
        "only the lead or holders of phase `production`'s roles (backend, ops, product) may shift traffic"
    );
    // Who may is checked before which step.
    assert_eq!(s.refuse("eve", traffic(60)), refusal);
}

#[test]
fn traffic_by_holders_of_the_phase_roles_and_the_lead() {
    let mut s = Desk::started();
    s.in_production();
    // ops (items and sign-off), backend (items) and product (the optional notice item).
    s.run("bruno", check("latency"));
    for (who, step) in [("olga", 50), ("bruno", 70), ("priya", 85), (LEAD, 100)] {
        assert_eq!(s.run(who, traffic(step)), vec![EventKind::TrafficShifted { percent: step, forced: None }]);
        assert_eq!(s.history.last().unwrap().actor, console(who));
    }
    // In a plan without roles only the lead shifts traffic.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v1", "canary"));
    s.run(LEAD, phase_start("canary"));
    assert_eq!(
        s.refuse("olga", traffic(10)),
        Refusal::NotPhaseRole { phase: "canary".into(), roles: "none".into(), action: "shift traffic" }
    );
}
