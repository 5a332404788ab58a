//! The go/no-go decision before the gated phase: when it may be given, by whom, and that it
//! can be changed until the gated phase starts.

use golive::domain::{Command, EventKind, Refusal};

use crate::desk::*;

// --- go / no-go ----------------------------------------------------------------------------

#[test]
fn go_is_too_early_until_every_phase_before_the_gate_is_done() {
    let mut s = Desk::started();
    let early = |open: &str| Refusal::TooEarlyForDecision { gate: "production".into(), open: open.into() };
    assert_eq!(s.refuse(LEAD, Command::Go), early("pre-deployment, staging"));
    assert_eq!(s.refuse(LEAD, nogo("not yet")), early("pre-deployment, staging"));
    s.finish("pre-deployment");
    assert_eq!(s.refuse(LEAD, Command::Go), early("staging"));
    s.run(LEAD, phase_start("staging"));
    assert_eq!(s.refuse(LEAD, Command::Go), early("staging"));
    assert_eq!(
        early("staging").to_string(),
        "the go/no-go decision comes when every phase before `production` is done; still open: staging"
    );
    s.ticks(STAGING_TICKS);
    s.signoffs(STAGING_SIGNOFFS);
    s.run(LEAD, Command::PhaseDone);
    assert_eq!(s.run(LEAD, Command::Go), vec![EventKind::GoDecided { role: None }]);
    let decision = s.d().decision.as_ref().unwrap();
    assert_eq!((decision.go, &decision.reason, &decision.by, decision.at), (true, &None, &console(LEAD), s.now));
}

#[test]
fn go_and_nogo_are_too_late_once_the_gated_phase_started() {
    let mut s = Desk::started();
    s.in_production();
    let late = Refusal::TooLateForDecision { gate: "production".into() };
    assert_eq!(s.refuse(LEAD, Command::Go), late);
    assert_eq!(s.refuse(LEAD, nogo("second thoughts")), late);
    s.ticks(PRODUCTION_TICKS);
    s.signoffs(PRODUCTION_SIGNOFFS);
    s.all_traffic();
    s.run(LEAD, Command::PhaseDone);
    assert_eq!(s.refuse(LEAD, Command::Go), late);
    assert_eq!(s.refuse(LEAD, nogo("second thoughts")), late);
}

#[test]
fn go_is_given_once() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, Command::Go);
    assert_eq!(s.refuse(LEAD, Command::Go), Refusal::AlreadyGo { by: "dana".into() });
}

#[test]
fn a_nogo_can_be_followed_by_a_go_and_a_go_by_a_nogo() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    assert_eq!(
        s.run(LEAD, nogo("  error budget burned  ")),
        vec![EventKind::NoGoDecided { reason: "error budget burned".into(), role: None }]
    );
    let decision = s.d().decision.clone().unwrap();
    assert_eq!(
        (decision.go, decision.reason.as_deref(), decision.by),
        (false, Some("error budget burned"), console(LEAD))
    );
    assert_eq!(s.run(LEAD, Command::Go), vec![EventKind::GoDecided { role: None }]);
    assert_eq!(s.d().decision.as_ref().map(|d| (d.go, d.reason.clone())), Some((true, None)));
    // Changing one's mind again before the gated phase starts.
    assert_eq!(
        s.run(LEAD, nogo("pager storm")),
        vec![EventKind::NoGoDecided { reason: "pager storm".into(), role: None }]
    );
    assert!(matches!(s.refuse(LEAD, phase_start("production")), Refusal::NeedsGo { .. }));
    s.run(LEAD, Command::Go);
    s.run(LEAD, phase_start("production"));
}

#[test]
fn nogo_needs_a_reason() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    for reason in ["", "  "] {
        assert_eq!(s.refuse(LEAD, nogo(reason)), Refusal::Empty { what: "the no-go reason" });
    }
    assert_eq!(Refusal::Empty { what: "the no-go reason" }.to_string(), "the no-go reason must not be empty");
}

#[test]
fn only_the_lead_decides_go_or_nogo() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    for who in ["alice", "olga", "eve"] {
        // Besides the lead, the plan's go_roles (release-manager) decide.
        let not = |action| Refusal::NotDecider {
            action,
            lead: "dana".into(),
            roles: " or members of `release-manager`".into(),
        };
        assert_eq!(s.refuse(who, Command::Go), not("give the go"));
        assert_eq!(s.refuse(who, nogo("no")), not("call no-go"));
        // Who may decide is checked before what was said.
        assert_eq!(s.refuse(who, nogo("")), not("call no-go"));
    }
    // ... and before the timing.
    let mut s = Desk::started();
    assert!(matches!(s.refuse("alice", Command::Go), Refusal::NotDecider { action: "give the go", .. }));
}
