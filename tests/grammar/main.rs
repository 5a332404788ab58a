//! The shared `/deploy …` chat grammar (`golive::chat::grammar`), as a person types it: every
//! command and the exact domain command it produces (`commands`), the optional slash command in
//! front (`line`), the refusals people read (`errors`), hostile and random input that must
//! neither panic nor be altered (`hostile`, `random`), and the help text (`help`).

#[path = "../common/mod.rs"]
mod common;

mod commands;
mod errors;
mod help;
mod hostile;
mod line;
mod random;

// The grammar under test, named once here so each module reaches it through `crate::`.
use golive::chat::grammar::{help, parse, parse_line, ParseError, Request, COMMANDS, MAX_LEN};
use golive::domain::Command;

/// Every command of the grammar with its usage line, written out here rather than read from
/// the crate, so a command dropped from the grammar or the help makes a test fail.
pub const GRAMMAR: &[(&str, &str)] = &[
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

pub const ALL_NAMES: &str =
    "help, start, lead, status, phase, check, uncheck, signoff, go, nogo, traffic, rollback, escalate, ack, oncall, note, \
     complete, abort, history, blocker, unblock, snooze, unsnooze, remind";

pub fn usage_of(name: &str) -> &'static str {
    GRAMMAR.iter().find(|(n, _)| *n == name).map(|(_, u)| *u).unwrap_or_else(|| panic!("no command {name}"))
}

/// The domain command `text` parses to; fails the test for anything else.
pub fn change(text: &str) -> Command {
    match parse(text) {
        Ok(Request::Change(c)) => c,
        other => panic!("{text:?} gave {other:?}, not a change"),
    }
}

pub fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(r) => panic!("{text:?} was accepted as {r:?}"),
        Err(e) => e,
    }
}

pub fn missing(command: &'static str, what: &'static str) -> ParseError {
    ParseError::Missing { command, what, usage: usage_of(command) }
}

pub fn unexpected(token: &str, command: &'static str) -> ParseError {
    ParseError::Unexpected { token: token.to_string(), command, usage: usage_of(command) }
}

pub fn bad_value(given: &str, what: &'static str, command: &str) -> ParseError {
    ParseError::BadValue { given: given.to_string(), what, usage: usage_of(command) }
}

pub fn s(text: &str) -> String {
    text.to_string()
}
