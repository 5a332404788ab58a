//! A Discord interaction read as golive needs it: what kind it is, who sent it (and their guild
//! roles), in which channel, and what they asked for. Read leniently from the JSON, keeping
//! only these fields, so payloads from Discord's newer API versions, and the trimmed ones its
//! own libraries test with, are understood rather than rejected. The `/deploy` subcommand and
//! its typed options become the named arguments of the command table's entry, which builds the
//! request from them as it does from a typed line: Discord commands are refused and recorded
//! as typed commands are, without being written out as text and read again.

use serde::Deserialize;
use serde_json::Value;

use crate::commands::grammar::{self, ParseError};
use crate::commands::spec::{Args, Form, Kind, Request};
use crate::commands::table;

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

/// The options are not a request: the grammar's refusal, or a word with spaces in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error(transparent)]
    Refused(#[from] ParseError),
    #[error("`{name}` must be one word, without spaces: `{value}` is not")]
    NotOneWord { name: &'static str, value: String },
}

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

    /// The request this invocation stands for: its subcommand is the table's command, and each
    /// option the argument of the same name. `/deploy phase start` with `phase: staging` is
    /// `PhaseStart { phase: "staging" }`; free text stays as typed, never read as a setting.
    pub fn request(&self) -> Result<Request, OptionsError> {
        let Some(name) = self.path.first() else {
            return Err(ParseError::Empty.into());
        };
        let spec = table::find(name).ok_or_else(|| grammar::unknown(name))?;
        let mut args = Args::new(spec);
        let declared = match spec.form {
            Form::Options(declared) => declared,
            Form::Group(subs) => {
                args.sub = self.path.get(1).cloned();
                let sub =
                    args.sub.as_deref().and_then(|given| subs.iter().find(|s| s.name.eq_ignore_ascii_case(given)));
                sub.map_or(&[][..], |s| s.args)
            }
        };
        for arg in declared {
            let Some(value) = self.get(arg.name) else { continue };
            if arg.kind.one_word() && value.chars().any(char::is_whitespace) {
                return Err(OptionsError::NotOneWord { name: arg.name, value: value.to_string() });
            }
            match arg.kind {
                // Discord sends the picked user's id; the grammar's USER is a mention.
                Kind::User => args.set(arg.name, &format!("<@{value}>")),
                _ => args.set(arg.name, value),
            }
        }
        (spec.build)(args).map_err(|r| grammar::refused(spec, r).into())
    }
}
