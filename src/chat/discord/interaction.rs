//! A Discord interaction read as golive needs it: what kind it is, who sent it (and their guild
//! roles), in which channel, and what they asked for. Read leniently from the JSON, keeping
//! only these fields, so payloads from Discord's newer API versions, and the trimmed ones its
//! own libraries test with, are understood rather than rejected. The `/deploy` subcommand and
//! its options become the line of the shared grammar they stand for, so Discord commands are
//! parsed, refused and recorded exactly as typed commands are.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::{Command, RollbackLevel};

/// Discord's interaction types.
pub mod kind {
    pub const PING: u8 = 1;
    pub const APPLICATION_COMMAND: u8 = 2;
    pub const MESSAGE_COMPONENT: u8 = 3;
    pub const AUTOCOMPLETE: u8 = 4;
    pub const MODAL_SUBMIT: u8 = 5;
}

/// Discord's application command option types golive uses.
mod option {
    pub const SUB_COMMAND: u8 = 1;
    pub const SUB_COMMAND_GROUP: u8 = 2;
}

#[derive(Debug, Clone, Deserialize)]
pub struct Interaction {
    #[serde(default)]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub guild_id: Option<String>,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    channel: Option<IdOnly>,
    /// In a guild: the member, with their user and role ids.
    #[serde(default)]
    member: Option<GuildMember>,
    /// In a DM: the user.
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    pub data: Value,
    /// The message a component was on.
    #[serde(default)]
    pub message: Option<IdOnly>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
struct GuildMember {
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    nick: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    global_name: Option<String>,
}

/// Who sent an interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub id: String,
    pub name: Option<String>,
    /// Guild role ids, as role members are written (`&ROLEID`).
    pub roles: Vec<String>,
}

/// One option as Discord sends it: a value, or (for subcommands) more options.
#[derive(Debug, Clone, Deserialize)]
struct CommandOption {
    name: String,
    #[serde(rename = "type", default)]
    kind: u8,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    options: Vec<CommandOption>,
    #[serde(default)]
    focused: bool,
}

/// What a `/deploy` invocation asked for: the subcommand path and its option values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The command's name (`deploy` for golive's).
    pub command: String,
    /// Subcommand group and subcommand, e.g. `["phase", "start"]`.
    pub path: Vec<String>,
    /// Option name and value, as sent (strings as they are, numbers written out).
    pub options: Vec<(String, String)>,
    /// The option being typed, for autocomplete.
    pub focused: Option<String>,
}

/// A shared-grammar line could not be made from the options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAGrammarLine(pub String);

impl Interaction {
    pub fn parse(body: &[u8]) -> Result<Interaction, serde_json::Error> {
        serde_json::from_slice(body)
    }

    pub fn channel(&self) -> Option<&str> {
        self.channel_id.as_deref().or(self.channel.as_ref().map(|c| c.id.as_str())).filter(|c| !c.is_empty())
    }

    pub fn sender(&self) -> Option<Sender> {
        let (user, nick, roles) = match (&self.member, &self.user) {
            (Some(m), _) if m.user.is_some() => (m.user.as_ref()?, m.nick.clone(), m.roles.clone()),
            (_, Some(u)) => (u, None, Vec::new()),
            _ => return None,
        };
        let name = nick.or_else(|| user.global_name.clone()).or_else(|| user.username.clone());
        let roles = roles.into_iter().map(|r| format!("&{r}")).collect();
        Some(Sender { id: user.id.clone(), name, roles })
    }

    /// The slash command or autocomplete request's subcommand path and options.
    pub fn invocation(&self) -> Invocation {
        let command = self.data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let options: Vec<CommandOption> =
            self.data.get("options").and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
        let mut invocation = Invocation { command, path: Vec::new(), options: Vec::new(), focused: None };
        let mut level = options;
        // Descend through the subcommand group and subcommand (at most two levels).
        while let [only] = level.as_slice() {
            if only.kind != option::SUB_COMMAND && only.kind != option::SUB_COMMAND_GROUP {
                break;
            }
            invocation.path.push(only.name.clone());
            level = only.options.clone();
        }
        for o in level {
            if o.focused {
                invocation.focused = Some(o.name.clone());
            }
            let value = match o.value {
                Some(Value::String(s)) => s,
                Some(Value::Null) | None => continue,
                Some(other) => other.to_string(),
            };
            invocation.options.push((o.name, value));
        }
        invocation
    }

    /// A button's or a modal's `custom_id`.
    pub fn custom_id(&self) -> Option<&str> {
        self.data.get("custom_id").and_then(Value::as_str)
    }

    /// A modal's submitted values by input `custom_id`, from action rows (text inputs) or
    /// labels (text inputs and selects, Discord's newer modals).
    pub fn modal_values(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        collect_inputs(self.data.get("components").unwrap_or(&Value::Null), &mut out);
        out
    }
}

fn collect_inputs(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_inputs(i, out)),
        Value::Object(map) => {
            if let Some(id) = map.get("custom_id").and_then(Value::as_str) {
                let value = match (map.get("value"), map.get("values")) {
                    (Some(Value::String(s)), _) => Some(s.clone()),
                    (_, Some(Value::Array(vs))) => vs.first().and_then(Value::as_str).map(str::to_string),
                    _ => None,
                };
                if let Some(value) = value {
                    out.push((id.to_string(), value));
                }
            }
            for key in ["components", "component"] {
                if let Some(inner) = map.get(key) {
                    collect_inputs(inner, out);
                }
            }
        }
        _ => {}
    }
}

impl Invocation {
    fn get(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// A value that the grammar reads as one word (a release, phase, item or role).
    fn word(&self, name: &str) -> Result<Option<&str>, NotAGrammarLine> {
        match self.get(name) {
            Some(v) if v.chars().any(char::is_whitespace) => {
                Err(NotAGrammarLine(format!("`{name}` must be one word, without spaces: `{v}` is not")))
            }
            other => Ok(other),
        }
    }

    /// The command, built straight from the typed options where free text follows an
    /// optional setting: read back as a line, "3 pods down" would become level 3, and
    /// "level=planned …" in a reason would set the level. `None`: read the grammar line.
    pub fn direct(&self) -> Option<Result<Command, NotAGrammarLine>> {
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["escalate"] => {
                let message = self.get("message").unwrap_or_default().to_string();
                let level = match self.get("level") {
                    None => None,
                    Some(l) => match l.parse::<u8>() {
                        Ok(l) => Some(l),
                        Err(_) => return Some(Err(NotAGrammarLine(format!("`{l}` is not a level number")))),
                    },
                };
                Some(Ok(if level.is_none() && message.eq_ignore_ascii_case("resolve") {
                    Command::EscalateResolve
                } else {
                    Command::Escalate { level, message }
                }))
            }
            ["rollback"] => {
                let reason = self.get("reason").unwrap_or_default().to_string();
                let level = match self.get("level") {
                    None => None,
                    Some(l) => match RollbackLevel::parse(l) {
                        Some(l) => Some(l),
                        None => {
                            return Some(Err(NotAGrammarLine(format!(
                                "`{l}` is not a rollback level; levels: immediate, quick, planned"
                            ))))
                        }
                    },
                };
                Some(Ok(Command::Rollback { reason, level }))
            }
            _ => None,
        }
    }

    /// The shared-grammar line this invocation stands for: `/deploy phase start` with
    /// `phase: staging` is `phase start staging`; free text (a reason, a note) comes last,
    /// as the grammar reads it.
    pub fn grammar_line(&self) -> Result<String, NotAGrammarLine> {
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        let mut words: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        let mut push = |v: Option<&str>| {
            if let Some(v) = v {
                words.push(v.to_string());
            }
        };
        match path.as_slice() {
            ["start"] => {
                push(self.word("release")?);
                push(self.word("plan")?.map(|p| format!("plan={p}")).as_deref());
                push(self.word("at")?.map(|t| format!("at={t}")).as_deref());
                push(self.get("override").map(|why| format!("override {why}")).as_deref());
            }
            ["phase", "start"] => push(self.word("phase")?),
            ["lead"] => push(self.word("user")?.map(|id| format!("<@{id}>")).as_deref()),
            ["check"] => match self.get("section") {
                Some(section) => push(Some(format!("section={section}").as_str())),
                None => {
                    push(self.word("item")?);
                    push(self.get("more"));
                }
            },
            ["uncheck"] => push(self.word("item")?),
            ["signoff"] => {
                push(self.word("role")?);
                push(self.get("note"));
            }
            ["nogo"] | ["abort"] => push(self.get("reason")),
            ["traffic"] => {
                push(self.word("percent")?);
                push(self.get("force").map(|why| format!("force {why}")).as_deref());
            }
            ["rollback"] => {
                push(self.word("level")?.map(|l| format!("level={l}")).as_deref());
                push(self.get("reason"));
            }
            ["escalate"] => {
                push(self.word("level")?);
                push(self.get("message"));
            }
            ["note"] | ["blocker"] => push(self.get("text")),
            ["unblock"] => push(self.word("number")?),
            ["snooze"] => {
                push(self.word("duration")?);
                push(self.get("reason"));
            }
            ["help"] => push(self.word("topic")?),
            _ => {}
        }
        Ok(words.join(" "))
    }
}
