//! The shared `/deploy` grammar: every command, the errors that name the bad token and the
//! allowed choices, and hostile input that must neither panic nor be altered.

mod common;

use common::XorShift;
use golive::chat::grammar::{help, parse, parse_line, ParseError, Request, COMMANDS, MAX_LEN};
use golive::domain::Command;

fn change(text: &str) -> Command {
    match parse(text) {
        Ok(Request::Change(c)) => c,
        other => panic!("`{text}` gave {other:?}"),
    }
}

fn error(text: &str) -> String {
    parse(text).expect_err(text).to_string()
}

#[test]
fn every_command_parses_to_what_it_says() {
    let cases: Vec<(&str, Command)> = vec![
        ("start v2.4.0", Command::Start { release: "v2.4.0".into(), plan: None, freeze_override: None, at: None }),
        (
            "start v2.4.0 plan=hotfix",
            Command::Start { release: "v2.4.0".into(), plan: Some("hotfix".into()), freeze_override: None, at: None },
        ),
        ("phase start staging", Command::PhaseStart { phase: "staging".into() }),
        ("phase done", Command::PhaseDone),
        ("check db-backup", Command::Check { item: "db-backup".into() }),
        ("uncheck db-backup", Command::Uncheck { item: "db-backup".into() }),
        ("signoff security", Command::SignOff { role: "security".into(), note: None }),
        (
            "signoff security  scan  clean ",
            Command::SignOff { role: "security".into(), note: Some("scan  clean".into()) },
        ),
        ("go", Command::Go),
        ("nogo vendor down", Command::NoGo { reason: "vendor down".into() }),
        ("traffic 70", Command::Traffic { percent: 70, force: None }),
        ("traffic 85%", Command::Traffic { percent: 85, force: None }),
        ("rollback 5xx spike", Command::Rollback { reason: "5xx spike".into(), level: None }),
        ("escalate db is slow", Command::Escalate { level: None, message: "db is slow".into() }),
        ("escalate 2 db is slow", Command::Escalate { level: Some(2), message: "db is slow".into() }),
        ("escalate resolve", Command::EscalateResolve),
        ("ack", Command::Ack),
        ("note  cache   warm  ", Command::Note { text: "cache   warm".into() }),
        ("complete", Command::Complete),
        ("abort wrong branch", Command::Abort { reason: "wrong branch".into() }),
        ("SIGNOFF security", Command::SignOff { role: "security".into(), note: None }),
        ("Phase Done", Command::PhaseDone),
    ];
    for (text, expected) in cases {
        assert_eq!(change(text), expected, "`{text}`");
    }
    assert_eq!(parse("status"), Ok(Request::Status));
    assert_eq!(parse("oncall"), Ok(Request::Oncall));
    assert_eq!(parse("history"), Ok(Request::History));
    assert_eq!(parse("help"), Ok(Request::Help { topic: None }));
    assert_eq!(parse("help signoff"), Ok(Request::Help { topic: Some("signoff".into()) }));
}

#[test]
fn a_console_line_may_carry_the_slash_command() {
    assert_eq!(parse_line("/deploy go", "/deploy"), Ok(Request::Change(Command::Go)));
    assert_eq!(parse_line("  deploy go", "/deploy"), Ok(Request::Change(Command::Go)));
    assert_eq!(parse_line("go", "/deploy"), Ok(Request::Change(Command::Go)));
    assert_eq!(parse_line("/ship go", "/ship"), Ok(Request::Change(Command::Go)));
    // "/deployx" is not "/deploy" followed by a command.
    assert!(parse_line("/deployx go", "/deploy").is_err());
}

#[test]
fn errors_name_the_bad_token_and_what_is_allowed() {
    assert!(error("").starts_with("say what to do: `/deploy help` lists the commands (help, start, lead, status"));
    assert!(error("   \t ").starts_with("say what to do"));
    let e = error("signof security");
    assert!(
        e.starts_with("unknown command `signof` (did you mean `signoff`?); commands: help, start, lead, status, phase"),
        "{e}"
    );
    assert!(error("shipit").starts_with("unknown command `shipit`; commands:"));
    assert_eq!(
        error("start"),
        "`start` needs a release name; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`"
    );
    assert_eq!(
        error("start v1 hotfix"),
        "unexpected `hotfix` after `start`; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`"
    );
    assert_eq!(
        error("start v1 plan="),
        "unexpected `plan=` after `start`; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`"
    );
    assert_eq!(
        error("phase"),
        "`phase` needs `start PHASE` or `done`; usage: `/deploy phase start PHASE | /deploy phase done`"
    );
    assert_eq!(
        error("phase begin x"),
        "unexpected `begin` after `phase`; usage: `/deploy phase start PHASE | /deploy phase done`"
    );
    assert_eq!(
        error("phase done now"),
        "unexpected `now` after `phase`; usage: `/deploy phase start PHASE | /deploy phase done`"
    );
    assert_eq!(
        error("check"),
        "`check` needs the item id; usage: `/deploy check ITEM [ITEM…] | /deploy check section=NAME`"
    );
    assert_eq!(error("uncheck a b"), "unexpected `b` after `uncheck`; usage: `/deploy uncheck ITEM`");
    assert_eq!(error("signoff"), "`signoff` needs the role you sign off as; usage: `/deploy signoff ROLE [NOTE]`");
    assert_eq!(error("go now"), "unexpected `now` after `go`; usage: `/deploy go`");
    assert_eq!(error("nogo"), "`nogo` needs the reason; usage: `/deploy nogo REASON`");
    for bad in ["0", "101", "abc", "-5", "50.5", "%"] {
        assert_eq!(
            error(&format!("traffic {bad}")),
            format!("`{bad}` is not a percentage from 1 to 100; usage: `/deploy traffic PERCENT [force REASON]`")
        );
    }
    assert_eq!(
        error("escalate 2"),
        "`escalate` needs a message; usage: `/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve`"
    );
    assert!(error("escalate 999 x").starts_with("`999` is not a level number"));
    assert_eq!(
        error("rollback"),
        "`rollback` needs the reason; usage: `/deploy rollback [level=immediate|quick|planned] REASON`"
    );
    assert_eq!(error("note"), "`note` needs the text; usage: `/deploy note TEXT`");
    assert_eq!(error("abort"), "`abort` needs the reason; usage: `/deploy abort REASON`");
}

#[test]
fn free_text_is_kept_exactly_however_hostile() {
    for text in [
        "'); DROP TABLE events; --",
        "<!channel> <@U123> <#C1|general> <https://evil.example|click>",
        "ünïcødé · 日本語 · مرحبا · e\u{301} · 🚀🔥",
        "\"quoted\" 'single' `tick` \\ back\\slash",
        "tab\there and\u{7} bell \u{1b}[31mred",
        "multi\nline",
    ] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: text.to_string() }, "{text:?}");
    }
}

#[test]
fn long_input_is_refused_past_the_limit_and_fine_up_to_it() {
    let at_limit = format!("note {}", "x".repeat(MAX_LEN - 5));
    assert_eq!(at_limit.chars().count(), MAX_LEN);
    assert!(parse(&at_limit).is_ok());
    let over = format!("{at_limit}y");
    assert_eq!(parse(&over), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    // Counted in characters, not bytes.
    assert!(parse(&format!("note {}", "é".repeat(MAX_LEN - 5))).is_ok());
    // A huge single unknown word: answered at once, without a hint, without panicking.
    let e = error(&"z".repeat(MAX_LEN));
    assert!(e.starts_with("unknown command `zzzz"));
    assert!(!e.contains("did you mean"));
}

#[test]
fn random_input_never_panics_and_every_error_says_something() {
    let words = [
        "start", "phase", "start", "done", "check", "uncheck", "signoff", "go", "nogo", "traffic", "rollback",
        "escalate", "resolve", "ack", "note", "complete", "abort", "help", "status", "plan=", "plan=x", "100", "0",
        "%", "2", "  ", "\n", "é", "🚀", "<!here>", "'", "\"", "\\", "\u{0}", "-", "--", "/deploy",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        let text = if rng.below(2) == 0 {
            let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..rng.below(8)).map(|_| words[rng.below(words.len())]).collect::<Vec<_>>().join(" ")
        };
        for result in [parse(&text), parse_line(&text, "/deploy")] {
            if let Err(e) = result {
                assert!(!e.to_string().trim().is_empty(), "empty error for {text:?}");
            }
        }
    }
}

#[test]
fn help_lists_every_command_and_explains_one() {
    let all = help(None);
    for (name, usage, _) in COMMANDS {
        assert!(all.contains(usage), "help lacks {name}");
    }
    assert_eq!(
        help(Some("SIGNOFF")),
        "`/deploy signoff ROLE [NOTE]`\nSign off the running phase as ROLE (members of ROLE only)."
    );
    // A topic that is no command says so, with a near miss, before listing them all.
    assert_eq!(help(Some("frobnicate")), format!("`frobnicate` is not a golive command. {all}"));
    assert_eq!(help(Some("signof")), format!("`signof` is not a golive command (did you mean `signoff`?). {all}"));
}
