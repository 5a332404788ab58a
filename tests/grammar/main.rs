//! The shared `/deploy …` chat grammar (`golive::commands::grammar`), as a person types it: every
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
use golive::commands::grammar::{help, parse, parse_line, ParseError, Request, COMMANDS, MAX_LEN};
use golive::domain::Command;

/// Every command of the grammar with its usage line, in the order `help` lists them. They come
/// from the crate's command table; the copy written out for people is the README's command
/// table, which the crate's own unit test compares with the table, so a command dropped or
/// changed shows there. Here each one is exercised.
pub fn grammar() -> impl Iterator<Item = (&'static str, &'static str)> {
    COMMANDS.iter().map(|(name, usage, _)| (*name, *usage))
}

/// The command names as refusals list them.
pub fn all_names() -> String {
    grammar().map(|(name, _)| name).collect::<Vec<_>>().join(", ")
}

pub fn usage_of(name: &str) -> &'static str {
    grammar().find(|(n, _)| *n == name).map(|(_, u)| u).unwrap_or_else(|| panic!("no command {name}"))
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
