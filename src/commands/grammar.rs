//! The `/deploy …` grammar shared by every adapter: text in, a `Request` out, or an error that
//! names the bad token and lists what is allowed. No I/O; adapters hand in the text after the
//! slash command itself (Slack's `text` field, a console line without `/deploy`). What each
//! command accepts is its entry in the command table (`commands::table`); this module reads the
//! line by it and writes `help` and the README's command list from it.

use thiserror::Error;

pub use crate::commands::spec::Request;

use crate::commands::spec::{self, word, Refusal, Spec};
use crate::commands::table::{self, TABLE};
use crate::domain::words::{nearest, shown};

/// Longest text accepted after `/deploy`. Slack caps a message at 4,000 characters too.
pub const MAX_LEN: usize = 4000;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("say what to do: {}", summary())]
    Empty,
    #[error("unknown command `{given}`{hint}; commands: {}", names())]
    UnknownCommand { given: String, hint: String },
    #[error("`{command}` needs {what}; usage: `{usage}`")]
    Missing { command: &'static str, what: &'static str, usage: &'static str },
    #[error("unexpected `{token}` after `{command}`; usage: `{usage}`")]
    Unexpected { token: String, command: &'static str, usage: &'static str },
    #[error("`{given}` is not {what}; usage: `{usage}`")]
    BadValue { given: String, what: &'static str, usage: &'static str },
    #[error("the command is {len} characters long; the limit is {MAX_LEN}")]
    TooLong { len: usize },
}

/// Each command's name, usage line and what it does, as `help` shows them, in the table's order.
pub static COMMANDS: &[(&str, &str, &str)] = &{
    let mut out = [("", "", ""); TABLE.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = (TABLE[i].name, TABLE[i].usage, TABLE[i].help);
        i += 1;
    }
    out
};

fn names() -> String {
    TABLE.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

fn summary() -> String {
    format!("`/deploy help` lists the commands ({})", names())
}

/// A refusal of `spec`'s arguments, with the command and its usage.
pub fn refused(spec: &Spec, refusal: Refusal) -> ParseError {
    let (command, usage) = (spec.name, spec.usage);
    match refusal {
        Refusal::Missing(what) => ParseError::Missing { command, what, usage },
        Refusal::Unexpected(token) => ParseError::Unexpected { token: shown(&token), command, usage },
        Refusal::BadValue { given, what } => ParseError::BadValue { given: shown(&given), what, usage },
    }
}

/// `given` is no command.
pub fn unknown(given: &str) -> ParseError {
    ParseError::UnknownCommand { given: shown(given), hint: hint(&given.to_ascii_lowercase()) }
}

/// The full help text, or one command's.
/// A topic that is no command says so first, then lists them all.
pub fn help(topic: Option<&str>) -> String {
    let topic = topic.map(str::trim).filter(|t| !t.is_empty());
    match topic.map(|t| (t, TABLE.iter().find(|s| s.name.eq_ignore_ascii_case(t)))) {
        Some((_, Some(spec))) => format!("`{}`\n{}", spec.usage, spec.help),
        unknown => {
            let mut out = match unknown {
                Some((given, None)) => {
                    format!("`{}` is not a golive command{}. ", shown(given), hint(&given.to_ascii_lowercase()))
                }
                _ => String::new(),
            };
            out.push_str("golive coordinates this channel's deployment. Commands:\n");
            for spec in TABLE {
                out.push_str(&format!("• `{}` — {}\n", spec.usage, spec.help));
            }
            out.pop();
            out
        }
    }
}

/// The README's command table, header included: one or more rows per command.
pub fn readme() -> String {
    let mut out = String::from("| command | what it does | who may |\n|---|---|---|\n");
    for row in TABLE.iter().flat_map(|s| s.readme) {
        let usage: Vec<String> = row.usage.iter().map(|u| format!("`{}`", u.replace('|', "\\|"))).collect();
        out.push_str(&format!("| {} | {} | {} |\n", usage.join(" · "), row.what, row.who));
    }
    out
}

/// Parses a console line or a typed message: an optional leading `/deploy` (or the
/// configured command name) and then the command text.
pub fn parse_line(line: &str, command_name: &str) -> Result<Request, ParseError> {
    let trimmed = line.trim_start();
    let name = command_name.trim_start_matches('/');
    let rest = [format!("/{name}"), name.to_string()]
        .iter()
        .find_map(|prefix| {
            let head = trimmed.get(..prefix.len()).filter(|h| h.eq_ignore_ascii_case(prefix))?;
            let rest = &trimmed[head.len()..];
            (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
        })
        .unwrap_or(trimmed);
    parse(rest.trim_start())
}

/// Parses the text after `/deploy`.
pub fn parse(text: &str) -> Result<Request, ParseError> {
    let len = text.chars().count();
    if len > MAX_LEN {
        return Err(ParseError::TooLong { len });
    }
    let Some((head, rest)) = word(text) else {
        return Err(ParseError::Empty);
    };
    let spec = table::find(head).ok_or_else(|| unknown(head))?;
    let args = spec::read(spec, rest).map_err(|r| refused(spec, r))?;
    (spec.build)(args).map_err(|r| refused(spec, r))
}

/// "did you mean" for a near miss among the commands.
fn hint(given: &str) -> String {
    nearest(given, TABLE.iter().map(|s| s.name)).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's command list is the table's: edit the table, then paste `readme()` there.
    #[test]
    fn the_readmes_command_list_is_the_tables() {
        let file = include_str!("../../README.md");
        let start = file.find("| command | what it does | who may |").expect("README has the command table");
        let end = file[start..].find("\n\n").map_or(file.len(), |e| start + e + 1);
        let generated = readme();
        assert!(
            file[start..end] == generated,
            "README.md's command table differs from the command table; replace it with:\n\n{generated}"
        );
    }
}
