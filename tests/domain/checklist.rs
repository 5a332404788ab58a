//! The running phase's checklist: ticking and unticking items by their owners or the lead,
//! and sign-offs by members of the roles the phase needs.

use golive::domain::{Actor, Command, EventKind, Platform, Refusal};

use crate::desk::*;

// --- check / uncheck -----------------------------------------------------------------------

#[test]
fn check_and_uncheck_by_the_item_owner() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("olga", check("db-backup")),
        vec![EventKind::ItemChecked { phase: "pre-deployment".into(), item: "db-backup".into() }]
    );
    let stamp = &s.d().phases[0].checked["db-backup"];
    assert_eq!((&stamp.by, stamp.at), (&console("olga"), s.now));
    assert_eq!(
        s.run("olga", uncheck("db-backup")),
        vec![EventKind::ItemUnchecked { phase: "pre-deployment".into(), item: "db-backup".into() }]
    );
    assert!(s.d().phases[0].checked.is_empty());
    // Optional items are ticked the same way.
    s.run("olga", check("certificates"));
    assert!(s.d().phases[0].checked.contains_key("certificates"));
}

#[test]
fn check_refuses_an_unknown_item_listing_the_phase_items() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    let allowed = "tests, security-scan, migrations-tested, db-backup, secrets, certificates, rollback-plan";
    // Typos, and items of other phases, are unknown in the running phase.
    for (item, hint) in [("db-bakup", " (did you mean `db-backup`?)"), ("db", ""), ("staging-deploy", ""), ("", "")] {
        for command in [check(item), uncheck(item)] {
            assert_eq!(
                s.refuse("olga", command),
                Refusal::UnknownItem {
                    given: item.into(),
                    hint: hint.into(),
                    phase: "pre-deployment".into(),
                    allowed: allowed.into()
                }
            );
        }
    }
    assert_eq!(
        Refusal::UnknownItem {
            given: "db-bakup".into(),
            hint: String::new(),
            phase: "pre-deployment".into(),
            allowed: allowed.into()
        }
        .to_string(),
        format!("unknown item `db-bakup` in phase `pre-deployment`; its items: {allowed}")
    );
}

#[test]
fn check_refuses_someone_who_does_not_own_the_item() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for (who, item, role) in [("bruno", "db-backup", "ops"), ("eve", "tests", "backend"), ("alice", "secrets", "ops")] {
        assert_eq!(
            s.refuse(who, check(item)),
            Refusal::NotItemOwner { item: item.into(), role: role.into(), action: "tick" }
        );
    }
    // Members are platform identities: a display name proves nothing, another platform's id is another person.
    let eve_as_olga =
        Actor { platform: Platform::Console, id: "eve".into(), name: Some("olga".into()), groups: Vec::new() };
    let slack_olga = Actor::new(Platform::Slack, "olga");
    for actor in [eve_as_olga, slack_olga] {
        assert_eq!(
            s.refuse_as(&actor, check("db-backup")),
            Refusal::NotItemOwner { item: "db-backup".into(), role: "ops".into(), action: "tick" }
        );
    }
    // ops on Slack is an owner too.
    s.run_as(&Actor::new(Platform::Slack, "U0OPS"), check("db-backup"));
    // Unticking someone else's item is just as restricted, and the refusal says untick.
    let refusal = s.refuse("bruno", uncheck("db-backup"));
    assert_eq!(refusal, Refusal::NotItemOwner { item: "db-backup".into(), role: "ops".into(), action: "untick" });
    assert_eq!(refusal.to_string(), "only members of `ops` (the owner of `db-backup`) or the lead may untick it");
}

#[test]
fn the_lead_may_tick_and_untick_any_item() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run(LEAD, check("db-backup"));
    assert_eq!(s.d().phases[0].checked["db-backup"].by, console(LEAD));
    s.run("olga", check("secrets"));
    assert_eq!(
        s.run(LEAD, uncheck("secrets")),
        vec![EventKind::ItemUnchecked { phase: "pre-deployment".into(), item: "secrets".into() }]
    );
    assert_eq!(s.d().phases[0].checked.keys().collect::<Vec<_>>(), ["db-backup"]);
}

#[test]
fn check_refuses_an_item_already_checked_naming_who() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    let olga =
        Actor { platform: Platform::Console, id: "olga".into(), name: Some("Olga Ops".into()), groups: Vec::new() };
    s.run_as(&olga, check("db-backup"));
    assert_eq!(
        s.refuse("olga", check("db-backup")),
        Refusal::AlreadyChecked { item: "db-backup".into(), by: "Olga Ops".into() }
    );
    assert_eq!(
        s.refuse(LEAD, check("db-backup")),
        Refusal::AlreadyChecked { item: "db-backup".into(), by: "Olga Ops".into() }
    );
    // Without a display name, the refusal names the id.
    s.run("olga", check("secrets"));
    assert_eq!(
        s.refuse("olga", check("secrets")),
        Refusal::AlreadyChecked { item: "secrets".into(), by: "olga".into() }
    );
}

#[test]
fn uncheck_refuses_an_item_not_checked() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(s.refuse("olga", uncheck("secrets")), Refusal::NotChecked { item: "secrets".into() });
    s.run("olga", check("secrets"));
    s.run("olga", uncheck("secrets"));
    assert_eq!(s.refuse("olga", uncheck("secrets")), Refusal::NotChecked { item: "secrets".into() });
}

#[test]
fn check_and_uncheck_need_a_running_phase() {
    let mut s = Desk::started();
    for command in [check("db-backup"), uncheck("db-backup"), check("no-such-item")] {
        assert_eq!(s.refuse("olga", command), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    }
    s.finish("pre-deployment");
    assert_eq!(s.refuse("olga", check("staging-deploy")), Refusal::NoPhaseRunning { next: "staging".into() });
    s.all_phases_done_from_staging();
    assert_eq!(s.refuse("olga", check("monitoring")), Refusal::AllPhasesDone);
    assert_eq!(s.refuse("olga", uncheck("monitoring")), Refusal::AllPhasesDone);
}

// --- sign-off ------------------------------------------------------------------------------

#[test]
fn signoff_by_a_member_of_the_role() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("sam", signoff("security")),
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "security".into(), note: None }]
    );
    let signed = &s.d().phases[0].signoffs["security"];
    assert_eq!((&signed.by, signed.at, &signed.note), (&console("sam"), s.now, &None));
    assert_eq!(s.d().missing_signoffs(0), ["tech-lead"]);
}

#[test]
fn signoff_notes_are_trimmed_and_empty_notes_dropped() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("sam", signoff_with("security", "  scan clean, 0 criticals \n")),
        vec![EventKind::SignedOff {
            phase: "pre-deployment".into(),
            role: "security".into(),
            note: Some("scan clean, 0 criticals".into()),
        }]
    );
    assert_eq!(s.d().phases[0].signoffs["security"].note.as_deref(), Some("scan clean, 0 criticals"));
    assert_eq!(
        s.run("alice", signoff_with("tech-lead", "   ")),
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "tech-lead".into(), note: None }]
    );
    assert_eq!(s.d().phases[0].signoffs["tech-lead"].note, None);
}

#[test]
fn signoff_refuses_an_unknown_role_listing_the_roles() {
    let mut s = Desk::started();
    // Even before any phase runs, and for anyone.
    for (who, role) in [("sam", "qa"), ("eve", "qa"), ("sam", "sec")] {
        assert_eq!(
            s.refuse(who, signoff(role)),
            Refusal::UnknownRole { given: role.into(), hint: String::new(), allowed: ROLES.into() }
        );
    }
    s.run(LEAD, phase_start("pre-deployment"));
    // Role ids match without regard to case, and are recorded as the config writes them.
    assert_eq!(
        s.run("sam", signoff("Security")),
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "security".into(), note: None }]
    );
}

#[test]
fn signoff_refuses_a_role_the_phase_does_not_need() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for (who, role) in [("priya", "product"), ("olga", "ops"), ("eve", "backend")] {
        assert_eq!(
            s.refuse(who, signoff(role)),
            Refusal::SignOffNotNeeded {
                role: role.into(),
                phase: "pre-deployment".into(),
                allowed: "tech-lead, security".into()
            }
        );
    }
    // A phase without sign-offs says so.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v1", "canary"));
    s.run(LEAD, phase_start("canary"));
    assert_eq!(
        s.refuse("olga", signoff("ops")),
        Refusal::SignOffNotNeeded { role: "ops".into(), phase: "canary".into(), allowed: "no sign-offs".into() }
    );
}

#[test]
fn signoff_refuses_someone_not_in_the_role() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for who in ["bruno", "eve", "alice", LEAD] {
        assert_eq!(
            s.refuse(who, signoff("security")),
            Refusal::NotInRole { role: "security".into(), name: "Security Review".into() }
        );
    }
    // Not even the lead signs off a role they do not hold.
    assert_eq!(
        s.refuse(LEAD, signoff("tech-lead")),
        Refusal::NotInRole { role: "tech-lead".into(), name: "Technical Lead".into() }
    );
}

#[test]
fn signoff_refuses_a_role_already_signed() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("sam", signoff("security"));
    let twice = Refusal::AlreadySignedOff { role: "security".into(), phase: "pre-deployment".into(), by: "sam".into() };
    assert_eq!(s.refuse("sam", signoff("security")), twice);
    assert_eq!(s.refuse_as(&Actor::new(Platform::Slack, "U0SECURITY"), signoff("security")), twice);
    // A sign-off of one phase does not carry into the next.
    s.run("alice", signoff("tech-lead"));
    s.ticks(PRE_TICKS);
    s.run(LEAD, Command::PhaseDone);
    s.run(LEAD, phase_start("staging"));
    s.run("alice", signoff("tech-lead"));
    assert_eq!(s.d().phases[1].signoffs.keys().collect::<Vec<_>>(), ["tech-lead"]);
}

#[test]
fn signoff_needs_a_running_phase() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("sam", signoff("security")), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.all_phases_done();
    assert_eq!(s.refuse("sam", signoff("security")), Refusal::AllPhasesDone);
}
