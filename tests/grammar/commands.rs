//! Every command of the grammar and the exact domain command (or read-only request) it
//! produces: arguments, free text, case and whitespace.

use crate::*;

#[test]
fn help_with_and_without_a_topic() {
    assert_eq!(parse("help"), Ok(Request::Help { topic: None }));
    assert_eq!(parse("help signoff"), Ok(Request::Help { topic: Some(s("signoff")) }));
    assert_eq!(parse("help   traffic  "), Ok(Request::Help { topic: Some(s("traffic")) }));
    // The topic is passed on as typed; `help()` matches it case-insensitively.
    assert_eq!(parse("help SignOff"), Ok(Request::Help { topic: Some(s("SignOff")) }));
}

#[test]
fn start_with_and_without_a_plan() {
    assert_eq!(
        change("start v2.4.0"),
        Command::Start { release: s("v2.4.0"), plan: None, freeze_override: None, at: None }
    );
    assert_eq!(
        change("start v2.4.0 plan=hotfix"),
        Command::Start { release: s("v2.4.0"), plan: Some(s("hotfix")), freeze_override: None, at: None }
    );
    assert_eq!(
        change("start  release-2024.11.22   plan=std "),
        Command::Start { release: s("release-2024.11.22"), plan: Some(s("std")), freeze_override: None, at: None }
    );
    // Everything after `plan=` is the plan name, even odd characters.
    assert_eq!(
        change("start v1 plan=a=b"),
        Command::Start { release: s("v1"), plan: Some(s("a=b")), freeze_override: None, at: None }
    );
    // The release keeps its case.
    assert_eq!(
        change("start RC-1"),
        Command::Start { release: s("RC-1"), plan: None, freeze_override: None, at: None }
    );
}

#[test]
fn read_only_requests() {
    assert_eq!(parse("status"), Ok(Request::Status));
    assert_eq!(parse("oncall"), Ok(Request::Oncall));
    assert_eq!(parse("history"), Ok(Request::History));
    assert_eq!(parse("  status  "), Ok(Request::Status));
}

#[test]
fn phase_start_and_phase_done() {
    assert_eq!(change("phase start staging"), Command::PhaseStart { phase: s("staging") });
    assert_eq!(change("phase start post-deployment"), Command::PhaseStart { phase: s("post-deployment") });
    assert_eq!(change("phase done"), Command::PhaseDone);
    assert_eq!(change("phase\tstart\tprod"), Command::PhaseStart { phase: s("prod") });
}

#[test]
fn check_and_uncheck_an_item() {
    assert_eq!(change("check db-backup"), Command::Check { item: s("db-backup") });
    assert_eq!(change("uncheck db-backup"), Command::Uncheck { item: s("db-backup") });
    // The id is passed on exactly; ids are matched against the plan elsewhere.
    assert_eq!(change("check DB-Backup"), Command::Check { item: s("DB-Backup") });
    assert_eq!(change("uncheck élément_1"), Command::Uncheck { item: s("élément_1") });
}

#[test]
fn signoff_with_and_without_a_note() {
    assert_eq!(change("signoff security"), Command::SignOff { role: s("security"), note: None });
    assert_eq!(change("signoff security   "), Command::SignOff { role: s("security"), note: None });
    assert_eq!(
        change("signoff security scan clean, 0 criticals"),
        Command::SignOff { role: s("security"), note: Some(s("scan clean, 0 criticals")) }
    );
    assert_eq!(
        change("signoff ops   looks   good  "),
        Command::SignOff { role: s("ops"), note: Some(s("looks   good")) }
    );
    // The `sign-off` spelling is accepted too.
    assert_eq!(change("sign-off ops"), Command::SignOff { role: s("ops"), note: None });
}

#[test]
fn go_and_nogo() {
    assert_eq!(change("go"), Command::Go);
    assert_eq!(change("nogo vendor API is down"), Command::NoGo { reason: s("vendor API is down") });
    assert_eq!(change("no-go vendor down"), Command::NoGo { reason: s("vendor down") });
}

#[test]
fn traffic_takes_a_percentage_with_or_without_the_sign() {
    for (text, percent) in
        [("traffic 50", 50), ("traffic 70%", 70), ("traffic 85", 85), ("traffic 100", 100), ("traffic 100%", 100)]
    {
        assert_eq!(change(text), Command::Traffic { percent, force: None }, "{text}");
    }
    assert_eq!(change("traffic 1"), Command::Traffic { percent: 1, force: None });
    assert_eq!(change("traffic 007"), Command::Traffic { percent: 7, force: None });
}

#[test]
fn traffic_out_of_range_or_not_a_number_is_refused_naming_the_value() {
    for bad in ["0", "0%", "101", "101%", "255", "256", "1000", "abc", "-5", "50.5", "%", "fifty", "5O"] {
        let e = err(&format!("traffic {bad}"));
        assert_eq!(e, bad_value(bad, "a percentage from 1 to 100", "traffic"), "traffic {bad}");
        assert_eq!(
            e.to_string(),
            format!("`{bad}` is not a percentage from 1 to 100; usage: `/deploy traffic PERCENT [force REASON]`")
        );
    }
}

#[test]
fn rollback_abort_and_note_take_free_text() {
    assert_eq!(
        change("rollback 5xx spike after 70%"),
        Command::Rollback { reason: s("5xx spike after 70%"), level: None }
    );
    assert_eq!(change("abort wrong branch"), Command::Abort { reason: s("wrong branch") });
    assert_eq!(change("note cache warmed"), Command::Note { text: s("cache warmed") });
}

#[test]
fn escalate_with_a_level_without_one_and_resolve() {
    assert_eq!(change("escalate db is slow"), Command::Escalate { level: None, message: s("db is slow") });
    assert_eq!(change("escalate 2 db is slow"), Command::Escalate { level: Some(2), message: s("db is slow") });
    assert_eq!(
        change("escalate 3   call   everyone "),
        Command::Escalate { level: Some(3), message: s("call   everyone") }
    );
    assert_eq!(change("escalate resolve"), Command::EscalateResolve);
    assert_eq!(change("escalate RESOLVE"), Command::EscalateResolve);
    // Only the bare word `resolve` closes; anything else is the message.
    assert_eq!(
        change("escalate resolved? not yet"),
        Command::Escalate { level: None, message: s("resolved? not yet") }
    );
    // A number that is not the first word is part of the message.
    assert_eq!(change("escalate db 2 slow"), Command::Escalate { level: None, message: s("db 2 slow") });
}

#[test]
fn escalate_level_that_is_not_a_small_number_is_refused() {
    assert_eq!(err("escalate 256 everything is down"), bad_value("256", "a level number", "escalate"));
    assert_eq!(err("escalate 99999999999999999999 x"), bad_value("99999999999999999999", "a level number", "escalate"));
    assert!(err("escalate 999 x").to_string().starts_with("`999` is not a level number; usage: `/deploy escalate"));
}

#[test]
fn ack_complete() {
    assert_eq!(change("ack"), Command::Ack);
    assert_eq!(change("complete"), Command::Complete);
}

#[test]
fn the_command_word_is_case_insensitive() {
    let cases: Vec<(&str, Request)> = vec![
        ("HELP", Request::Help { topic: None }),
        ("Status", Request::Status),
        ("ONCALL", Request::Oncall),
        ("HiStOrY", Request::History),
        ("START v1", Request::Change(Command::Start { release: s("v1"), plan: None, freeze_override: None, at: None })),
        ("Phase Start staging", Request::Change(Command::PhaseStart { phase: s("staging") })),
        ("PHASE DONE", Request::Change(Command::PhaseDone)),
        ("Check tests", Request::Change(Command::Check { item: s("tests") })),
        ("UNCHECK tests", Request::Change(Command::Uncheck { item: s("tests") })),
        ("SIGNOFF ops", Request::Change(Command::SignOff { role: s("ops"), note: None })),
        ("Sign-Off ops", Request::Change(Command::SignOff { role: s("ops"), note: None })),
        ("GO", Request::Change(Command::Go)),
        ("Go", Request::Change(Command::Go)),
        ("NOGO Bad Idea", Request::Change(Command::NoGo { reason: s("Bad Idea") })),
        ("No-Go x", Request::Change(Command::NoGo { reason: s("x") })),
        ("TRAFFIC 70%", Request::Change(Command::Traffic { percent: 70, force: None })),
        ("RollBack Errors UP", Request::Change(Command::Rollback { reason: s("Errors UP"), level: None })),
        ("ESCALATE 2 DB", Request::Change(Command::Escalate { level: Some(2), message: s("DB") })),
        ("Escalate Resolve", Request::Change(Command::EscalateResolve)),
        ("ACK", Request::Change(Command::Ack)),
        ("NOTE Keep THIS case", Request::Change(Command::Note { text: s("Keep THIS case") })),
        ("COMPLETE", Request::Change(Command::Complete)),
        ("ABORT Because", Request::Change(Command::Abort { reason: s("Because") })),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text), Ok(expected), "{text:?}");
    }
}

#[test]
fn free_text_is_trimmed_but_keeps_its_inner_spacing() {
    let inner = "a  b\t\tc \n d";
    for (word, make) in [
        ("note", (|t: String| Command::Note { text: t }) as fn(String) -> Command),
        ("nogo", |t| Command::NoGo { reason: t }),
        ("rollback", |t| Command::Rollback { reason: t, level: None }),
        ("abort", |t| Command::Abort { reason: t }),
        ("escalate", |t| Command::Escalate { level: None, message: t }),
        ("escalate 1", |t| Command::Escalate { level: Some(1), message: t }),
        ("signoff ops", |t| Command::SignOff { role: s("ops"), note: Some(t) }),
    ] {
        let text = format!("{word}  \t {inner} \t\n ");
        assert_eq!(change(&text), make(inner.to_string()), "{text:?}");
    }
}

#[test]
fn any_whitespace_separates_tokens() {
    assert_eq!(change("\t phase \n start \r\n staging \t"), Command::PhaseStart { phase: s("staging") });
    assert_eq!(
        change("start\tv1\nplan=hotfix"),
        Command::Start { release: s("v1"), plan: Some(s("hotfix")), freeze_override: None, at: None }
    );
    // Unicode spaces count as whitespace too (a pasted no-break space, an ideographic space).
    assert_eq!(change("\u{a0}go\u{a0}"), Command::Go);
    assert_eq!(change("check\u{3000}tests"), Command::Check { item: s("tests") });
}
