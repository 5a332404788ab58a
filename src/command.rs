//! The `/deploy …` grammar shared by every adapter: text in, a `Request` out, or an error that
//! names the bad token and lists what is allowed. No I/O; adapters hand in the text after the
//! slash command itself (Slack's `text` field, a console line without `/deploy`).

use thiserror::Error;

use crate::domain::{Command, RollbackLevel};

/// Longest text accepted after `/deploy`. Slack caps a message at 4,000 characters too.
pub const MAX_LEN: usize = 4000;

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
}

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

/// One entry per command: its name, its usage line and what it does. The parser, `help` and
/// the README's command table all read from here.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("help", "/deploy help [COMMAND]", "Show usage, for all commands or one."),
    (
        "start",
        "/deploy start RELEASE [plan=NAME] [override WHY]",
        "Open a deployment of RELEASE in this channel; you become its lead. Inside a deploy freeze, say why with `override`.",
    ),
    ("status", "/deploy status", "Post the current status to the channel."),
    (
        "phase",
        "/deploy phase start PHASE | /deploy phase done",
        "Start the next phase; complete the running one (lead).",
    ),
    ("check", "/deploy check ITEM", "Tick a checklist item of the running phase (its role, or the lead)."),
    ("uncheck", "/deploy uncheck ITEM", "Untick a checklist item of the running phase."),
    ("signoff", "/deploy signoff ROLE [NOTE]", "Sign off the running phase as ROLE (members of ROLE only)."),
    ("go", "/deploy go", "The lead's go decision for the gated phase."),
    ("nogo", "/deploy nogo REASON", "The lead's no-go decision, with the reason."),
    ("traffic", "/deploy traffic PERCENT", "Record a traffic step of the running phase (e.g. 50, 70, 85, 100)."),
    (
        "rollback",
        "/deploy rollback [level=immediate|quick|planned] REASON",
        "Start rolling back: recorded, announced, and on-call is paged.",
    ),
    (
        "escalate",
        "/deploy escalate [LEVEL] MESSAGE | /deploy escalate resolve",
        "Page an escalation level (default 1), or close the open escalation.",
    ),
    ("ack", "/deploy ack", "Acknowledge the open escalation."),
    ("oncall", "/deploy oncall", "Who is on the escalation path now, per level."),
    ("note", "/deploy note TEXT", "Add a note to the timeline; the channel sees it."),
    ("complete", "/deploy complete", "End the deployment once every phase is done (lead)."),
    ("abort", "/deploy abort REASON", "End the deployment without finishing it (lead)."),
    ("history", "/deploy history", "Recent deployments in this channel."),
];

fn names() -> String {
    COMMANDS.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ")
}

fn summary() -> String {
    format!("`/deploy help` lists the commands ({})", names())
}

fn usage(name: &str) -> &'static str {
    COMMANDS.iter().find(|(n, _, _)| *n == name).map(|(_, u, _)| *u).unwrap_or("/deploy help")
}

/// The full help text, or one command's.
pub fn help(topic: Option<&str>) -> String {
    match topic.and_then(|t| COMMANDS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(t))) {
        Some((_, usage, what)) => format!("`{usage}`\n{what}"),
        None => {
            let mut out = String::from("golive coordinates this channel's deployment. Commands:\n");
            for (_, usage, what) in COMMANDS {
                out.push_str(&format!("• `{usage}` — {what}\n"));
            }
            out.pop();
            out
        }
    }
}

/// Splits off the first whitespace-separated word; the rest keeps its own spacing.
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], s[end..].trim_start()))
}

/// Parses a console line or a typed message: an optional leading `/deploy` (or the
/// configured command name) and then the command text.
pub fn parse_line(line: &str, command_name: &str) -> Result<Request, ParseError> {
    let trimmed = line.trim_start();
    let name = command_name.trim_start_matches('/');
    let rest = [format!("/{name}"), name.to_string()]
        .iter()
        .find_map(|prefix| {
            trimmed.strip_prefix(prefix.as_str()).filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
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
    let name = head.to_ascii_lowercase();
    let change = |c| Ok(Request::Change(c));
    match name.as_str() {
        "help" => Ok(Request::Help { topic: word(rest).map(|(t, _)| t.to_string()) }),
        "status" => nothing_after("status", rest).map(|_| Request::Status),
        "oncall" => nothing_after("oncall", rest).map(|_| Request::Oncall),
        "history" => nothing_after("history", rest).map(|_| Request::History),
        "start" => {
            let (release, mut rest) = word(rest)
                .filter(|(release, _)| !release.starts_with("plan=") && !release.eq_ignore_ascii_case("override"))
                .ok_or(missing("start", "a release name"))?;
            let mut plan = None;
            if let Some((token, after)) = word(rest).filter(|(t, _)| t.starts_with("plan=")) {
                plan = Some(token["plan=".len()..].to_string()).filter(|p| !p.is_empty());
                if plan.is_none() {
                    return Err(unexpected("start", token));
                }
                rest = after;
            }
            // `override WHY…` starts inside a deploy freeze; the reason is the rest of the line.
            let freeze_override = match word(rest) {
                None => None,
                Some((token, why)) if token.eq_ignore_ascii_case("override") => {
                    let why = why.trim();
                    if why.is_empty() {
                        return Err(missing("start", "the reason after `override`"));
                    }
                    Some(why.to_string())
                }
                Some((token, _)) => return Err(unexpected("start", token)),
            };
            change(Command::Start { release: release.to_string(), plan, freeze_override })
        }
        "phase" => match word(rest) {
            Some((sub, after)) if sub.eq_ignore_ascii_case("start") => {
                let (phase, after) = word(after).ok_or(missing("phase", "the phase to start"))?;
                nothing_after("phase", after)?;
                change(Command::PhaseStart { phase: phase.to_string() })
            }
            Some((sub, after)) if sub.eq_ignore_ascii_case("done") => {
                nothing_after("phase", after)?;
                change(Command::PhaseDone)
            }
            Some((other, _)) => Err(unexpected("phase", other)),
            None => Err(missing("phase", "`start PHASE` or `done`")),
        },
        "check" | "uncheck" => {
            let command = if name == "check" { "check" } else { "uncheck" };
            let (item, after) = word(rest).ok_or(missing(command, "the item id"))?;
            nothing_after(command, after)?;
            let item = item.to_string();
            change(if command == "check" { Command::Check { item } } else { Command::Uncheck { item } })
        }
        "signoff" | "sign-off" => {
            let (role, note) = word(rest).ok_or(missing("signoff", "the role you sign off as"))?;
            let note = (!note.trim().is_empty()).then(|| note.trim().to_string());
            change(Command::SignOff { role: role.to_string(), note })
        }
        "go" => nothing_after("go", rest).and_then(|_| change(Command::Go)),
        "nogo" | "no-go" => change(Command::NoGo { reason: text_of("nogo", rest, "the reason")? }),
        "traffic" => {
            let (token, after) = word(rest).ok_or(missing("traffic", "the percentage"))?;
            nothing_after("traffic", after)?;
            let percent = token
                .trim_end_matches('%')
                .parse::<u8>()
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| bad_value("traffic", token, "a percentage from 1 to 100"))?;
            change(Command::Traffic { percent })
        }
        "rollback" => {
            let (level, reason) = match word(rest) {
                Some((token, after)) if token.to_ascii_lowercase().starts_with("level=") => {
                    let level = RollbackLevel::parse(&token["level=".len()..])
                        .ok_or_else(|| bad_value("rollback", token, "level=immediate, level=quick or level=planned"))?;
                    (Some(level), after)
                }
                _ => (None, rest),
            };
            change(Command::Rollback { reason: text_of("rollback", reason, "the reason")?, level })
        }
        "escalate" => match word(rest) {
            Some((token, after)) if token.eq_ignore_ascii_case("resolve") => {
                nothing_after("escalate", after)?;
                change(Command::EscalateResolve)
            }
            Some((token, after)) if token.chars().all(|c| c.is_ascii_digit()) => {
                let level = token.parse::<u8>().map_err(|_| bad_value("escalate", token, "a level number"))?;
                change(Command::Escalate { level: Some(level), message: text_of("escalate", after, "a message")? })
            }
            _ => change(Command::Escalate { level: None, message: text_of("escalate", rest, "a message")? }),
        },
        "ack" => nothing_after("ack", rest).and_then(|_| change(Command::Ack)),
        "note" => change(Command::Note { text: text_of("note", rest, "the text")? }),
        "complete" => nothing_after("complete", rest).and_then(|_| change(Command::Complete)),
        "abort" => change(Command::Abort { reason: text_of("abort", rest, "the reason")? }),
        _ => Err(ParseError::UnknownCommand { given: head.to_string(), hint: hint(&name) }),
    }
}

fn canonical(command: &str) -> &'static str {
    COMMANDS.iter().find(|(n, _, _)| *n == command).map(|(n, _, _)| *n).unwrap_or("help")
}

fn missing(command: &str, what: &'static str) -> ParseError {
    let command = canonical(command);
    ParseError::Missing { command, what, usage: usage(command) }
}

fn unexpected(command: &str, token: &str) -> ParseError {
    let command = canonical(command);
    ParseError::Unexpected { token: token.to_string(), command, usage: usage(command) }
}

fn bad_value(command: &str, given: &str, what: &'static str) -> ParseError {
    let command = canonical(command);
    ParseError::BadValue { given: given.to_string(), what, usage: usage(command) }
}

fn nothing_after(command: &str, rest: &str) -> Result<(), ParseError> {
    match word(rest) {
        None => Ok(()),
        Some((token, _)) => Err(unexpected(command, token)),
    }
}

fn text_of(command: &str, rest: &str, what: &'static str) -> Result<String, ParseError> {
    let text = rest.trim();
    if text.is_empty() {
        Err(missing(command, what))
    } else {
        Ok(text.to_string())
    }
}

/// "did you mean" for a near miss: one edit for short words, two for longer ones, so a
/// stray `x` is not steered towards `go`. A swapped pair of letters counts as one edit.
fn hint(given: &str) -> String {
    let allowed = if given.chars().count() <= 4 { 1 } else { 2 };
    COMMANDS
        .iter()
        .filter(|(n, _, _)| given.chars().count().abs_diff(n.len()) <= allowed)
        .map(|(n, _, _)| (*n, distance(given, n)))
        .filter(|(_, d)| *d <= allowed)
        .min_by_key(|(_, d)| *d)
        .map(|(n, _)| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

fn distance(a: &str, b: &str) -> usize {
    // Optimal string alignment distance: Levenshtein plus adjacent transpositions.
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}
