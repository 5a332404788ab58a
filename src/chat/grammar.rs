//! The `/deploy …` grammar shared by every adapter: text in, a `Request` out, or an error that
//! names the bad token and lists what is allowed. No I/O; adapters hand in the text after the
//! slash command itself (Slack's `text` field, a console line without `/deploy`).

use thiserror::Error;

use crate::domain::words::{nearest, shown};
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
        "/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]",
        "Open a deployment of RELEASE in this channel; you become its lead (members of the plan's lead roles). `at=2026-12-01T07:00` sets the go-live time (T-0) the plan's milestones count from. Inside a deploy freeze, say why with `override`.",
    ),
    ("lead", "/deploy lead USER", "Hand the lead over to USER, a member of the plan's lead roles (the lead, or a lead role)."),
    ("status", "/deploy status", "Post the current status to the channel."),
    (
        "phase",
        "/deploy phase start PHASE | /deploy phase done",
        "Start the next phase; complete the running one (lead).",
    ),
    (
        "check",
        "/deploy check ITEM [ITEM…] | /deploy check section=NAME",
        "Tick checklist items of the running phase (their role, or the lead): several at once, or a whole section; all or nothing.",
    ),
    ("uncheck", "/deploy uncheck ITEM", "Untick a checklist item of the running phase."),
    ("signoff", "/deploy signoff ROLE [NOTE]", "Sign off the running phase as ROLE (members of ROLE only)."),
    ("go", "/deploy go", "The lead's go decision for the gated phase."),
    ("nogo", "/deploy nogo REASON", "The lead's no-go decision, with the reason."),
    (
        "traffic",
        "/deploy traffic PERCENT [force REASON]",
        "Record the next traffic step of the running phase (e.g. 50, 70, 85, 100), once the current step's hold and items allow; the lead may `force` it.",
    ),
    (
        "rollback",
        "/deploy rollback [level=immediate|quick|planned] REASON",
        "Start rolling back (immediate unless a level is given): recorded, announced, and on-call is paged.",
    ),
    (
        "escalate",
        "/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve",
        "Page an escalation level (default 1), or close the open escalation.",
    ),
    ("ack", "/deploy ack", "Acknowledge the open escalation."),
    ("oncall", "/deploy oncall", "Who is on the escalation path now, per level."),
    ("note", "/deploy note TEXT", "Add a note to the timeline; the channel sees it."),
    ("complete", "/deploy complete", "End the deployment once every phase is done (lead)."),
    ("abort", "/deploy abort REASON", "End the deployment without finishing it (lead)."),
    ("history", "/deploy history", "Recent deployments in this channel."),
    ("blocker", "/deploy blocker TEXT", "Record what stands in the way; every status post shows it until it is cleared."),
    ("unblock", "/deploy unblock N", "Clear blocker number N."),
    (
        "snooze",
        "/deploy snooze DURATION [REASON]",
        "Pause this deployment's scheduled status posts for DURATION (e.g. 30m, 2h; at most 8h). Pages and announcements go on.",
    ),
    ("unsnooze", "/deploy unsnooze", "Resume the scheduled status posts now."),
    (
        "remind",
        "/deploy remind",
        "Mention the owners of the running phase's open required items and the holders of its missing sign-offs, once.",
    ),
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
/// A topic that is no command says so first, then lists them all.
pub fn help(topic: Option<&str>) -> String {
    let topic = topic.map(str::trim).filter(|t| !t.is_empty());
    match topic.map(|t| (t, COMMANDS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(t)))) {
        Some((_, Some((_, usage, what)))) => format!("`{usage}`\n{what}"),
        unknown => {
            let mut out = match unknown {
                Some((given, None)) => {
                    format!("`{}` is not a golive command{}. ", shown(given), hint(&given.to_ascii_lowercase()))
                }
                _ => String::new(),
            };
            out.push_str("golive coordinates this channel's deployment. Commands:\n");
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
    let name = head.to_ascii_lowercase();
    let change = |c| Ok(Request::Change(c));
    match name.as_str() {
        "help" => Ok(Request::Help { topic: word(rest).map(|(t, _)| t.to_string()) }),
        "status" => nothing_after("status", rest).map(|_| Request::Status),
        "oncall" => nothing_after("oncall", rest).map(|_| Request::Oncall),
        "history" => nothing_after("history", rest).map(|_| Request::History),
        "start" => {
            let (release, mut rest) = word(rest)
                .filter(|(release, _)| {
                    key_value(release, "plan").is_none()
                        && key_value(release, "at").is_none()
                        && !release.eq_ignore_ascii_case("override")
                })
                .ok_or(missing("start", "a release name"))?;
            let (mut plan, mut at) = (None, None);
            while let Some((token, after)) = word(rest) {
                let slot = match (key_value(token, "plan"), key_value(token, "at")) {
                    (Some(v), _) if plan.is_none() => (&mut plan, v),
                    (_, Some(v)) if at.is_none() => (&mut at, v),
                    _ => break,
                };
                if slot.1.is_empty() {
                    return Err(unexpected("start", token));
                }
                *slot.0 = Some(slot.1.to_string());
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
            change(Command::Start { release: release.to_string(), plan, freeze_override, at })
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
        "uncheck" => {
            let (item, after) = word(rest).ok_or(missing("uncheck", "the item id"))?;
            nothing_after("uncheck", after)?;
            change(Command::Uncheck { item: item.to_string() })
        }
        "check" => {
            let (first, after) = word(rest).ok_or(missing("check", "the item id"))?;
            if let Some(section) = key_value(first, "section") {
                // A section's name may have spaces: it is the rest of the line.
                let section = format!("{section} {after}").trim().to_string();
                if section.is_empty() {
                    return Err(missing("check", "the section's name after `section=`"));
                }
                return change(Command::CheckSection { section });
            }
            let mut items = vec![first.to_string()];
            let mut rest = after;
            while let Some((item, after)) = word(rest) {
                items.push(item.to_string());
                rest = after;
            }
            change(match <[String; 1]>::try_from(items) {
                Ok([item]) => Command::Check { item },
                Err(items) => Command::CheckMany { items },
            })
        }
        "lead" => {
            let (user, after) = word(rest).ok_or(missing("lead", "the person to hand the lead to"))?;
            nothing_after("lead", after)?;
            change(Command::Lead { user: user.to_string() })
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
            let force = match word(after) {
                None => None,
                Some((f, why)) if f.eq_ignore_ascii_case("force") => {
                    Some(text_of("traffic", why, "the reason after `force`")?)
                }
                Some((other, _)) => return Err(unexpected("traffic", other)),
            };
            let percent = token
                .trim_end_matches('%')
                .parse::<u8>()
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| bad_value("traffic", token, "a percentage from 1 to 100"))?;
            change(Command::Traffic { percent, force })
        }
        "rollback" => {
            let (level, reason) = match word(rest) {
                Some((token, after)) if key_value(token, "level").is_some() => {
                    let level = key_value(token, "level")
                        .and_then(RollbackLevel::parse)
                        .ok_or_else(|| bad_value("rollback", token, "level=immediate, level=quick or level=planned"))?;
                    (Some(level), after)
                }
                // `rollback quick 5xx at 70%`: the level's own name first is the level.
                Some((token, after)) if RollbackLevel::parse(token).is_some() => (RollbackLevel::parse(token), after),
                _ => (None, rest),
            };
            change(Command::Rollback { reason: text_of("rollback", reason, "the reason")?, level })
        }
        "escalate" => match word(rest) {
            Some((token, after)) if token.eq_ignore_ascii_case("resolve") => {
                nothing_after("escalate", after)?;
                change(Command::EscalateResolve)
            }
            Some((token, after))
                if key_value(token, "level").is_some() || token.chars().all(|c| c.is_ascii_digit()) =>
            {
                let number = key_value(token, "level").unwrap_or(token);
                let level = number.parse::<u8>().map_err(|_| bad_value("escalate", token, "a level number"))?;
                change(Command::Escalate { level: Some(level), message: text_of("escalate", after, "a message")? })
            }
            _ => change(Command::Escalate { level: None, message: text_of("escalate", rest, "a message")? }),
        },
        "ack" => nothing_after("ack", rest).and_then(|_| change(Command::Ack)),
        "note" => change(Command::Note { text: text_of("note", rest, "the text")? }),
        "complete" => nothing_after("complete", rest).and_then(|_| change(Command::Complete)),
        "abort" => change(Command::Abort { reason: text_of("abort", rest, "the reason")? }),
        "blocker" => change(Command::Blocker { text: text_of("blocker", rest, "what blocks")? }),
        "unblock" => {
            let (token, after) = word(rest).ok_or(missing("unblock", "the blocker's number"))?;
            nothing_after("unblock", after)?;
            let number = token
                .trim_start_matches('#')
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad_value("unblock", token, "a blocker's number"))?;
            change(Command::Unblock { number })
        }
        "snooze" => {
            let (token, reason) = word(rest).ok_or(missing("snooze", "how long, e.g. 30m or 2h"))?;
            let minutes = humantime::parse_duration(token)
                .ok()
                .filter(|d| !d.is_zero())
                .map(|d| u32::try_from(d.as_secs().div_ceil(60)).unwrap_or(u32::MAX))
                .ok_or_else(|| bad_value("snooze", token, "a duration such as 30m, 1h or 2h"))?;
            let reason = (!reason.trim().is_empty()).then(|| reason.trim().to_string());
            change(Command::Snooze { minutes, reason })
        }
        "unsnooze" => nothing_after("unsnooze", rest).and_then(|_| change(Command::Unsnooze)),
        "remind" => nothing_after("remind", rest).and_then(|_| change(Command::Remind)),
        _ => Err(ParseError::UnknownCommand { given: shown(head), hint: hint(&name) }),
    }
}

/// The value of `key=value`, the key in any case.
fn key_value<'a>(token: &'a str, key: &str) -> Option<&'a str> {
    let (k, v) = token.split_once('=')?;
    k.eq_ignore_ascii_case(key).then_some(v)
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
    ParseError::Unexpected { token: shown(token), command, usage: usage(command) }
}

fn bad_value(command: &str, given: &str, what: &'static str) -> ParseError {
    let command = canonical(command);
    ParseError::BadValue { given: shown(given), what, usage: usage(command) }
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

/// "did you mean" for a near miss among the commands.
fn hint(given: &str) -> String {
    nearest(given, COMMANDS.iter().map(|(n, _, _)| *n)).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
}
