//! The shape of a command table entry ([`Spec`]) and what passes through one: the named
//! arguments ([`Args`]) a typed line or Discord's options give, the [`Request`] they become,
//! and the [`Refusal`] when they do not. The entries themselves are in `commands::table`.
//!
//! Text and Discord options meet in [`Args`]: a command's reader turns the typed line into named
//! arguments, Discord's typed options are named arguments already, and one `build` per command
//! makes the request from them, so both say the same thing about the same values.

use crate::domain::Command;

/// What a person asked for: a query answered on the spot, or a change the domain decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Help { topic: Option<String> },
    Status,
    Oncall,
    History,
    Change(Command),
}

impl Request {
    /// A fixed name for the request, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Help { .. } => "help",
            Request::Status => "status",
            Request::Oncall => "oncall",
            Request::History => "history",
            Request::Change(command) => command.kind(),
        }
    }

    /// How the request reads in the chat grammar, for receipts and logs.
    pub fn describe(&self) -> String {
        match self {
            Request::Help { topic: Some(topic) } => format!("help {topic}"),
            Request::Change(command) => command.describe(),
            other => other.kind().to_string(),
        }
    }
}

/// One command of the table.
pub struct Spec {
    pub name: &'static str,
    /// Other spellings the grammar accepts (`sign-off`).
    pub aliases: &'static [&'static str],
    /// The usage line `help` and refusals show.
    pub usage: &'static str,
    /// What `help` says it does.
    pub help: &'static str,
    /// Discord's description of the subcommand (at most 100 characters).
    pub discord: &'static str,
    pub form: Form,
    pub read: Reader,
    /// The request from the named arguments, typed or from Discord's options.
    pub build: fn(Args) -> Result<Request, Refusal>,
    /// The command's rows in the README's command table.
    pub readme: &'static [Row],
}

/// A command's arguments, or its subcommands (each with its own) as Discord groups them.
pub enum Form {
    Options(&'static [Arg]),
    Group(&'static [Sub]),
}

pub struct Sub {
    pub name: &'static str,
    pub discord: &'static str,
    pub args: &'static [Arg],
}

/// How a command's text after its name is read into [`Args`].
pub enum Reader {
    /// Each argument in order: one word each, free text for the rest of the line; anything left
    /// over is refused.
    Positional,
    /// The command's own syntax (`key=value` settings, subcommands, `force WHY`).
    Custom(fn(&str, &mut Args) -> Result<(), Refusal>),
}

#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub name: &'static str,
    pub kind: Kind,
    /// Discord asks for it before the command can be sent.
    pub required: bool,
    pub description: &'static str,
    /// What the grammar says is missing when it is left out (`the item id`).
    pub missing: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An id from the plan (release, phase, item, role, plan, command): one word, offered by
    /// Discord's autocomplete.
    Id,
    /// A name offered by autocomplete that may have spaces (a section).
    Name,
    /// One word that is not offered (a time, a duration), at most `max_length` characters.
    Word { max_length: u16 },
    /// Free text, kept as typed.
    Text,
    /// A whole number; Discord checks the range.
    Number { min: i64, max: Option<i64> },
    /// An escalation level: Discord allows 1 to the number of levels configured.
    EscalationLevel,
    /// A person: a mention in text, Discord's user picker.
    User,
    /// One of a fixed set.
    Choice(&'static [&'static str]),
}

impl Kind {
    /// Whether a value must be one word: the grammar reads ids and settings as words.
    pub fn one_word(self) -> bool {
        matches!(self, Kind::Id | Kind::Word { .. } | Kind::Number { .. } | Kind::User | Kind::EscalationLevel)
    }
}

impl Arg {
    pub const fn new(name: &'static str, kind: Kind, description: &'static str) -> Arg {
        Arg { name, kind, required: false, description, missing: "" }
    }

    /// Required, and what the grammar says when it is missing.
    pub const fn needs(self, missing: &'static str) -> Arg {
        Arg { required: true, missing, ..self }
    }

    /// Optional on Discord, but the grammar still names it when nothing is given.
    pub const fn said(self, missing: &'static str) -> Arg {
        Arg { missing, ..self }
    }
}

/// One row of the README's command table.
pub struct Row {
    /// The usage of the command, or of it and the commands documented with it.
    pub usage: &'static [&'static str],
    pub what: &'static str,
    pub who: &'static str,
}

/// Why a command's arguments are not a request; the grammar adds the command and its usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Missing(&'static str),
    Unexpected(String),
    BadValue { given: String, what: &'static str },
}

/// A command's arguments by name: trimmed, never empty. `sub` is the subcommand of a group.
pub struct Args {
    spec: &'static Spec,
    pub sub: Option<String>,
    values: Vec<(&'static str, String)>,
}

impl Args {
    pub fn new(spec: &'static Spec) -> Args {
        Args { spec, sub: None, values: Vec::new() }
    }

    /// Sets `name` unless the value is blank.
    pub fn set(&mut self, name: &'static str, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.values.retain(|(n, _)| *n != name);
            self.values.push((name, value.to_string()));
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// A required argument, or the refusal naming it.
    pub fn need(&self, name: &str) -> Result<String, Refusal> {
        self.opt(name).ok_or_else(|| Refusal::Missing(self.spec.arg(name).map_or("", |a| a.missing)))
    }
}

impl Spec {
    /// Every argument, those of its subcommands included.
    pub fn args(&self) -> impl Iterator<Item = &'static Arg> {
        let (options, subs): (&'static [Arg], &'static [Sub]) = match self.form {
            Form::Options(args) => (args, &[]),
            Form::Group(subs) => (&[], subs),
        };
        options.iter().chain(subs.iter().flat_map(|s| s.args))
    }

    fn arg(&self, name: &str) -> Option<&'static Arg> {
        self.args().find(|a| a.name == name)
    }

    /// Whether `given` names this command, in any case.
    pub fn is(&self, given: &str) -> bool {
        self.name.eq_ignore_ascii_case(given) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(given))
    }
}

/// Splits off the first whitespace-separated word; the rest keeps its own spacing.
pub fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], s[end..].trim_start()))
}

/// The value of `key=value`, the key in any case.
pub fn key_value<'a>(token: &'a str, key: &str) -> Option<&'a str> {
    let (k, v) = token.split_once('=')?;
    k.eq_ignore_ascii_case(key).then_some(v)
}

pub fn is_word(token: &str, word: &str) -> bool {
    token.eq_ignore_ascii_case(word)
}

/// Reads `text` by `spec`'s reader; the arguments it names, or why not.
pub fn read(spec: &'static Spec, text: &str) -> Result<Args, Refusal> {
    let mut args = Args::new(spec);
    match spec.read {
        Reader::Custom(read) => read(text, &mut args)?,
        Reader::Positional => {
            let mut rest = text;
            for arg in spec.args() {
                if arg.kind == Kind::Text {
                    args.set(arg.name, rest);
                    rest = "";
                } else if let Some((token, after)) = word(rest) {
                    args.set(arg.name, token);
                    rest = after;
                }
            }
            if let Some((token, _)) = word(rest) {
                return Err(Refusal::Unexpected(token.to_string()));
            }
        }
    }
    Ok(args)
}
