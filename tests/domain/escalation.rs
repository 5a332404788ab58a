//! Escalation: opening and raising levels, acknowledging by those paged so far or the lead,
//! and resolving.

use golive::config::Config;
use golive::domain::{Command, EventKind, Refusal};

use crate::desk::*;

// --- escalation ----------------------------------------------------------------------------

#[test]
fn escalate_opens_level_one_by_default() {
    let mut s = Desk::started();
    assert_eq!(
        s.run("bruno", escalate(None, "  latency doubled ")),
        vec![EventKind::EscalationOpened { level: 1, message: "latency doubled".into(), cause: None }]
    );
    let esc = s.d().escalation.clone().unwrap();
    assert_eq!((esc.level, esc.message.as_str(), esc.opened_by), (1, "latency doubled", console("bruno")));
    assert_eq!((esc.opened_at, esc.raised_at, esc.acked), (s.now, s.now, None));
    // An explicit level opens at that level.
    let mut s = Desk::started();
    assert_eq!(
        s.run("bruno", escalate(Some(3), "outage")),
        vec![EventKind::EscalationOpened { level: 3, message: "outage".into(), cause: None }]
    );
}

#[test]
fn escalate_refuses_levels_that_do_not_exist() {
    let mut s = Desk::started();
    for given in [0, 4, 255] {
        let refusal = s.refuse("olga", escalate(Some(given), "help"));
        assert_eq!(refusal, Refusal::UnknownLevel { given, max: 3 });
    }
    assert_eq!(
        Refusal::UnknownLevel { given: 4, max: 3 }.to_string(),
        "there is no escalation level 4; levels: 1 to 3"
    );
}

#[test]
fn escalate_raises_an_open_escalation_to_a_higher_level() {
    let mut s = Desk::started();
    s.run("olga", escalate(None, "latency"));
    let opened_at = s.now;
    s.run("alice", Command::Ack);
    s.wait(5);
    assert_eq!(
        s.run("olga", escalate(Some(2), "still slow")),
        vec![EventKind::EscalationRaised { level: 2, message: "still slow".into() }]
    );
    let esc = s.d().escalation.clone().unwrap();
    assert_eq!((esc.level, esc.message.as_str(), esc.opened_by), (2, "still slow", console("olga")));
    assert_eq!((esc.opened_at, esc.raised_at), (opened_at, s.now));
    assert_eq!(esc.acked, None, "raising needs a new acknowledgement");
    s.run("bruno", escalate(Some(3), "outage"));
    assert_eq!(s.d().escalation.as_ref().unwrap().level, 3);
}

#[test]
fn escalate_refuses_the_same_or_a_lower_level_while_one_is_open() {
    let mut s = Desk::started();
    s.run("olga", escalate(Some(2), "latency"));
    for level in [None, Some(1), Some(2)] {
        assert_eq!(s.refuse("olga", escalate(level, "again")), Refusal::EscalationOpen { level: 2 });
    }
    s.run("maya", Command::Ack);
    assert_eq!(s.refuse("olga", escalate(Some(2), "again")), Refusal::EscalationOpen { level: 2 });
    // Once resolved, a new one opens at any level.
    s.run("maya", Command::EscalateResolve);
    assert_eq!(
        s.run("olga", escalate(None, "again")),
        vec![EventKind::EscalationOpened { level: 1, message: "again".into(), cause: None }]
    );
}

#[test]
fn escalate_is_for_the_team_only() {
    let mut s = Desk::started();
    for command in [escalate(None, "help"), escalate(Some(9), ""), escalate(Some(3), "help")] {
        assert_eq!(s.refuse("eve", command), Refusal::NotOnTeam { action: "escalate" });
    }
}

#[test]
fn escalate_needs_a_message() {
    let mut s = Desk::started();
    for level in [None, Some(2)] {
        assert_eq!(s.refuse("olga", escalate(level, "  ")), Refusal::Empty { what: "the escalation message" });
    }
    // The level is checked before the message.
    assert_eq!(s.refuse("olga", escalate(Some(4), "")), Refusal::UnknownLevel { given: 4, max: 3 });
}

#[test]
fn escalate_without_levels_configured() {
    let mut config = Config::example();
    config.escalation.clear();
    let mut s = Desk::with(config);
    s.run(LEAD, start("v1"));
    let refusal = s.refuse(LEAD, escalate(None, "help"));
    assert_eq!(refusal, Refusal::NoEscalationLevels);
    assert_eq!(refusal.to_string(), "no escalation levels are configured (`[[escalation.levels]]`)");
    assert_eq!(s.refuse("eve", escalate(None, "help")), Refusal::NotOnTeam { action: "escalate" });
    assert_eq!(s.refuse(LEAD, Command::Ack), Refusal::NoEscalation);
}

// --- ack -----------------------------------------------------------------------------------

#[test]
fn ack_needs_an_open_escalation() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::NoEscalation);
    assert_eq!(s.refuse("eve", Command::Ack), Refusal::NoEscalation);
    s.run("olga", escalate(None, "x"));
    s.run("olga", Command::EscalateResolve);
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::NoEscalation);
}

#[test]
fn ack_is_for_those_paged_so_far() {
    let mut s = Desk::started();
    s.run("bruno", escalate(None, "latency"));
    let level_one = Refusal::NotPaged { level: 1, action: "acknowledge it" };
    // maya is level 2 and sol level 3: not paged yet. bruno opened it but is on no level.
    for who in ["maya", "sol", "bruno", "eve"] {
        assert_eq!(s.refuse(who, Command::Ack), level_one);
    }
    assert_eq!(
        level_one.to_string(),
        "only the people paged at escalation level 1 or below, or the lead, may acknowledge it"
    );
    s.run("bruno", escalate(Some(2), "latency, still"));
    assert_eq!(s.refuse("sol", Command::Ack), Refusal::NotPaged { level: 2, action: "acknowledge it" });
    assert_eq!(s.run("maya", Command::Ack), vec![EventKind::EscalationAcknowledged { level: 2 }]);
    let (stamp, level) = s.d().escalation.as_ref().unwrap().acked.clone().unwrap();
    assert_eq!((stamp.by, stamp.at, level), (console("maya"), s.now, 2));
}

#[test]
fn lower_levels_and_the_lead_may_ack_a_raised_escalation() {
    for who in ["alice", "olga", LEAD] {
        let mut s = Desk::started();
        s.run("bruno", escalate(Some(3), "outage"));
        assert_eq!(s.run(who, Command::Ack), vec![EventKind::EscalationAcknowledged { level: 3 }]);
    }
    let mut s = Desk::started();
    s.run("bruno", escalate(None, "latency"));
    assert_eq!(s.run(LEAD, Command::Ack), vec![EventKind::EscalationAcknowledged { level: 1 }]);
}

#[test]
fn ack_happens_once_per_level() {
    let mut s = Desk::started();
    s.run("bruno", escalate(None, "latency"));
    s.run("olga", Command::Ack);
    for who in ["olga", "alice", LEAD] {
        assert_eq!(s.refuse(who, Command::Ack), Refusal::AlreadyAcked { by: "olga".into() });
    }
    // Not being paged is said before it being acked already.
    assert_eq!(s.refuse("maya", Command::Ack), Refusal::NotPaged { level: 1, action: "acknowledge it" });
    s.run("bruno", escalate(Some(2), "worse"));
    s.run("maya", Command::Ack);
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::AlreadyAcked { by: "maya".into() });
}

// --- escalate resolve ----------------------------------------------------------------------

#[test]
fn escalate_resolve_closes_the_escalation() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("olga", Command::EscalateResolve), Refusal::NoEscalation);
    s.run("bruno", escalate(None, "latency"));
    for who in ["maya", "eve", "bruno"] {
        assert_eq!(s.refuse(who, Command::EscalateResolve), Refusal::NotPaged { level: 1, action: "resolve it" });
    }
    // Resolving needs no acknowledgement first.
    assert_eq!(s.run("olga", Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().escalation, None);
    assert_eq!(s.refuse("olga", Command::EscalateResolve), Refusal::NoEscalation);

    s.run("bruno", escalate(Some(2), "db"));
    s.run("maya", Command::Ack);
    // sol is on level 3: not paged at level 2.
    assert_eq!(s.refuse("sol", Command::EscalateResolve), Refusal::NotPaged { level: 2, action: "resolve it" });
    assert_eq!(s.run(LEAD, Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().escalation, None);

    // A lower level, paged before the raise, may resolve it too.
    s.run("bruno", escalate(Some(2), "db again"));
    assert_eq!(s.run("alice", Command::EscalateResolve), vec![EventKind::EscalationResolved]);
}
