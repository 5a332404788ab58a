//! Loading and validating the config file: server, database, chat platforms, status schedule,
//! roles, plans and the escalation path. Every problem is reported with the file, the line and
//! the key, so `golive check-config` can point at it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

mod escalation;
mod freeze;
mod notify;
mod plan;
mod values;

use escalation::RawEscalation;
use freeze::RawFreeze;
pub use notify::NotifyConfig;
use notify::RawNotify;
use plan::RawPlan;
use values::{duration, id, local_time, members, timezone, LONGEST};

use crate::domain::freeze::Freeze;
use crate::domain::{EscalationLevel, Plan, Role, Roles, Rules, Triggers};

/// The example config, built into the binary: `golive demo` runs its plan.
pub const EXAMPLE: &str = include_str!("../../config.example.toml");
pub const EXAMPLE_NAME: &str = "config.example.toml (built in)";

#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from, for messages.
    pub source: String,
    pub server: ServerConfig,
    /// The web pages: `[web]`.
    pub web: WebConfig,
    pub database: DatabaseConfig,
    pub slack: SlackConfig,
    pub discord: DiscordConfig,
    pub status: StatusConfig,
    pub delivery: DeliveryConfig,
    pub roles: Roles,
    pub plans: BTreeMap<String, Plan>,
    pub default_plan: String,
    pub escalation: Vec<EscalationLevel>,
    /// What golive escalates on by itself (`[escalation.triggers]`).
    pub triggers: Triggers,
    /// Deploy freezes (`[[freeze]]`), each with the plans it applies to (empty: all).
    pub freezes: Vec<(Freeze, Vec<String>)>,
    /// The stakeholder digest: `[notify]`.
    pub notify: NotifyConfig,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address `golive serve` listens on.
    pub listen: String,
    /// On SIGTERM/SIGINT, how long queued posts may keep going out before golive exits.
    pub shutdown_grace: Duration,
    /// Where people reach the web pages (`https://golive.example.com`, no trailing slash);
    /// status posts link there when it is set.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: "127.0.0.1:3000".into(), shutdown_grace: Duration::from_secs(10), public_url: None }
    }
}

/// The read-only web pages: `[web]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Serve the pages under `/`.
    pub enabled: bool,
    /// No token needed (for a private network only); otherwise `GOLIVE_WEB_TOKEN` is.
    pub open: bool,
    /// At most this many live-update streams open at once (each open page holds one); more
    /// are answered 503 with Retry-After, so pages left open in many tabs cannot exhaust
    /// golive's connections.
    pub max_streams: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { enabled: true, open: false, max_streams: 256 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// SQLite URL or path; the file is created if missing.
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "sqlite://golive.db".into() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    pub enabled: bool,
    /// Base URL of the Slack Web API; tests point it at a local fake.
    pub api_url: String,
    /// The slash command the Slack app registers.
    pub command: String,
    /// The workspace golive serves: signed requests from any other are refused.
    pub team_id: Option<String>,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            enabled: false,
            api_url: "https://slack.com/api/".into(),
            command: "/deploy".into(),
            team_id: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    pub enabled: bool,
    pub api_url: String,
    pub application_id: String,
    /// Open a gateway connection; false = HTTP interactions endpoint only.
    pub gateway: bool,
    /// The slash command's name (`/deploy`), without the slash.
    pub command: String,
    /// Register the command in this server only (at once), instead of globally (which
    /// Discord may take a while to show everywhere).
    pub guild_id: Option<String>,
    /// Register (overwrite) the command when `golive serve` starts.
    pub register_commands: bool,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            enabled: false,
            api_url: "https://discord.com/api/v10/".into(),
            application_id: "0".into(),
            gateway: true,
            command: "deploy".into(),
            guild_id: None,
            register_commands: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StatusConfig {
    pub cron: String,
    pub schedule: cron::Schedule,
    pub timezone: Tz,
}

/// How the outbox is delivered: `[delivery]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// The least time between two posts to one channel (Slack allows about one a second).
    pub channel_interval: Duration,
    /// A post that still fails with retryable errors this long after it was decided is
    /// given up and recorded as undelivered.
    pub give_up_after: Duration,
    /// Posts in flight at once, across channels.
    pub concurrency: usize,
    /// A send with no answer after this long is abandoned and retried: a hung connection
    /// must not stall a channel for good.
    pub send_timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            channel_interval: Duration::from_secs(1),
            give_up_after: Duration::from_secs(24 * 3600),
            concurrency: 16,
            send_timeout: Duration::from_secs(30),
        }
    }
}

/// A config or plan that cannot be used, with where the problem is.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}: cannot read it: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}:{line}: {key}: {message}")]
    Invalid { file: String, line: usize, key: String, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: file.clone(), source })?;
        Config::parse(&text, &file)
    }

    /// The built-in example config.
    pub fn example() -> Config {
        Config::parse(EXAMPLE, EXAMPLE_NAME).expect("the built-in example config is valid (tested)")
    }

    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let at = Locator { text, file };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| at.line(s.start)).unwrap_or(0);
            ConfigError::Invalid {
                file: file.to_string(),
                line,
                key: key_at(text, e.span().map(|s| s.start)),
                message: e.message().trim().to_string(),
            }
        })?;
        raw.validate(&at)
    }

    /// The rules as they stand at `now` (deploy freezes depend on the time).
    pub fn rules_at(&self, now: chrono::DateTime<chrono::Utc>) -> Rules<'_> {
        Rules {
            plans: &self.plans,
            default_plan: &self.default_plan,
            roles: &self.roles,
            escalation: &self.escalation,
            freezes: &self.freezes,
            now,
            timezone: self.status.timezone,
        }
    }

    pub fn default_plan(&self) -> &Plan {
        &self.plans[&self.default_plan]
    }
}

/// Turns byte offsets into line numbers and builds errors.
struct Locator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: impl fmt::Display,
        message: impl fmt::Display,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::Invalid {
            file: self.file.to_string(),
            line: self.line(span.start),
            key: key.to_string(),
            message: message.to_string(),
        })
    }
}

impl Locator<'_> {
    /// Where `key` is set in the `[table]` table, for errors about keys read without spans;
    /// the table's header, or the file's start, when it is not written out.
    fn key_span(&self, table: &str, key: &str) -> std::ops::Range<usize> {
        let header = format!("[{table}]");
        let mut offset = 0;
        let mut in_table = false;
        let mut found = 0..0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_table = trimmed.starts_with(&header);
                if in_table {
                    found = offset..offset;
                }
            } else if in_table && trimmed.split('=').next().is_some_and(|k| k.trim() == key) {
                return offset..offset + line.len();
            }
            offset += line.len();
        }
        found
    }

    /// Refuses a platform API URL that is not an absolute http(s) URL with a host.
    fn api_url(&self, table: &str, url: &str) -> Result<(), ConfigError> {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
            _ => self.err(
                self.key_span(table, "api_url"),
                format!("{table}.api_url"),
                format!("`{url}` is not an http(s) URL (e.g. https://slack.com/api/)"),
            ),
        }
    }
}

/// Names the key of an error the TOML parser reports only by position: the table whose
/// header is on or above the error's line, plus the key on that line. A line that is an
/// inline table inside an array (`{ id = … }` under `items = [`) is named after the array.
fn key_at(text: &str, offset: Option<usize>) -> String {
    let Some(offset) = offset else { return "(file)".to_string() };
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let mut header = None;
    let mut in_multiline: Option<&str> = None;
    for l in text[..line_end].lines().map(str::trim) {
        // A `[x]` line inside a multi-line string is text, not a header.
        for quote in ["\"\"\"", "'''"] {
            if in_multiline.map_or(true, |q| q == quote) && l.matches(quote).count() % 2 == 1 {
                in_multiline = if in_multiline.is_some() { None } else { Some(quote) };
            }
        }
        if in_multiline.is_none() && l.starts_with('[') {
            let inner = l.trim_start_matches('[');
            header = Some(inner[..inner.find(']').unwrap_or(inner.len())].trim().to_string()).filter(|h| !h.is_empty());
        }
    }
    let line = text[line_start..line_end].trim();
    let key_of = |l: &str| {
        let (k, _) = l.split_once('=')?;
        let k = k.trim();
        (!k.is_empty() && !k.starts_with(['[', '{', '#']) && !k.contains(char::is_whitespace)).then(|| k.to_string())
    };
    let key = if line.starts_with('{') {
        // The array this entry belongs to: the nearest `key = [` above, within the table.
        text[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .take_while(|l| !l.starts_with('['))
            .find(|l| l.split_once('=').is_some_and(|(_, v)| v.trim_start().starts_with('[')))
            .and_then(key_of)
    } else {
        key_of(line)
    };
    match (header, key) {
        (Some(h), Some(k)) => format!("{h}.{k}"),
        (Some(h), None) => h,
        (None, Some(k)) => k.to_string(),
        (None, None) => "(top level)".to_string(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_plan: Option<Spanned<String>>,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    web: WebConfig,
    #[serde(default)]
    database: DatabaseConfig,
    #[serde(default)]
    slack: SlackConfig,
    #[serde(default)]
    discord: DiscordConfig,
    #[serde(default)]
    status: RawStatus,
    #[serde(default)]
    delivery: RawDelivery,
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, RawRole>,
    #[serde(default)]
    plans: BTreeMap<Spanned<String>, RawPlan>,
    #[serde(default)]
    escalation: RawEscalation,
    #[serde(default)]
    freeze: Vec<RawFreeze>,
    #[serde(default)]
    notify: RawNotify,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    cron: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: Option<String>,
    members: Option<Spanned<Vec<Spanned<String>>>>,
}

impl RawConfig {
    fn validate(self, at: &Locator<'_>) -> Result<Config, ConfigError> {
        let status = self.status.validate(at)?;

        let mut roles = BTreeMap::new();
        for (key, raw) in &self.roles {
            let role_id = id(at, key, &format!("roles.{}", key.get_ref()))?;
            let mkey = format!("roles.{role_id}.members");
            let members = members(at, raw.members.as_ref(), &mkey)?;
            if members.is_empty() {
                let span = raw.members.as_ref().map_or(key.span(), Spanned::span);
                return at.err(span, mkey, "the role has no members, so nobody could act as it");
            }
            let name = raw.name.clone().unwrap_or_else(|| role_id.clone());
            roles.insert(role_id.clone(), Role { id: role_id, name, members });
        }
        let roles = Roles(roles);

        let mut plans = BTreeMap::new();
        for (key, raw) in &self.plans {
            let plan = raw.validate(at, key, &roles)?;
            plans.insert(plan.id.clone(), plan);
        }
        if plans.is_empty() {
            return at.err(
                0..0,
                "plans",
                "no plan is defined; add a [plans.NAME] table with its [[plans.NAME.phases]]",
            );
        }

        let default_plan = match &self.default_plan {
            Some(name) if plans.contains_key(name.get_ref()) => name.get_ref().clone(),
            Some(name) => {
                let allowed = plans.keys().cloned().collect::<Vec<_>>().join(", ");
                return at.err(name.span(), "default_plan", format!("no plan `{}`; plans: {allowed}", name.get_ref()));
            }
            None if plans.len() == 1 => plans.keys().next().cloned().unwrap_or_default(),
            None => {
                return at.err(0..0, "default_plan", "several plans are defined; say which one `/deploy start` uses")
            }
        };

        let (escalation, triggers) = self.escalation.validate(at)?;

        let freezes = self
            .freeze
            .iter()
            .enumerate()
            .map(|(i, f)| f.validate(at, i, status.timezone, &plans))
            .collect::<Result<Vec<_>, _>>()?;

        at.api_url("slack", &self.slack.api_url)?;
        at.api_url("discord", &self.discord.api_url)?;
        let notify = self.notify.validate(at, self.slack.enabled, self.discord.enabled)?;

        Ok(Config {
            source: at.file.to_string(),
            server: self.server.validate(at)?,
            web: if self.web.max_streams == 0 {
                return at.err(0..0, "web.max_streams", "must be at least 1 (each open page holds one stream)");
            } else {
                self.web
            },
            database: self.database,
            slack: self.slack,
            discord: self.discord,
            status,
            delivery: self.delivery.validate(at)?,
            roles,
            plans,
            default_plan,
            escalation,
            triggers,
            freezes,
            notify,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    shutdown_grace: Option<Spanned<String>>,
    public_url: Option<Spanned<String>>,
}

impl RawServer {
    fn validate(&self, at: &Locator<'_>) -> Result<ServerConfig, ConfigError> {
        let mut s = ServerConfig::default();
        if let Some(listen) = &self.listen {
            s.listen = listen.clone();
        }
        if let Some(v) = &self.shutdown_grace {
            s.shutdown_grace = duration(at, v, "server.shutdown_grace")?;
        }
        if let Some(v) = &self.public_url {
            let text = v.get_ref().trim().trim_end_matches('/');
            match url::Url::parse(text) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() && u.query().is_none() => {
                    s.public_url = Some(u.as_str().trim_end_matches('/').to_string());
                }
                _ => {
                    return at.err(
                        v.span(),
                        "server.public_url",
                        format!(
                            "`{}` is not an http(s) address; write e.g. \"https://golive.example.com\"",
                            v.get_ref()
                        ),
                    )
                }
            }
        }
        Ok(s)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    channel_interval: Option<Spanned<String>>,
    give_up_after: Option<Spanned<String>>,
    concurrency: Option<Spanned<u32>>,
    send_timeout: Option<Spanned<String>>,
}

impl RawDelivery {
    fn validate(&self, at: &Locator<'_>) -> Result<DeliveryConfig, ConfigError> {
        let mut d = DeliveryConfig::default();
        if let Some(v) = &self.channel_interval {
            d.channel_interval = duration(at, v, "delivery.channel_interval")?;
        }
        if let Some(v) = &self.give_up_after {
            d.give_up_after = duration(at, v, "delivery.give_up_after")?;
        }
        if let Some(v) = &self.send_timeout {
            d.send_timeout = duration(at, v, "delivery.send_timeout")?;
        }
        if let Some(v) = &self.concurrency {
            if !(1..=256).contains(v.get_ref()) {
                return at.err(v.span(), "delivery.concurrency", "must be between 1 and 256");
            }
            d.concurrency = *v.get_ref() as usize;
        }
        Ok(d)
    }
}

impl RawStatus {
    fn validate(&self, at: &Locator<'_>) -> Result<StatusConfig, ConfigError> {
        let cron = self.cron.as_ref().map(|c| c.get_ref().clone()).unwrap_or_else(|| "0 */30 * * * *".into());
        let schedule = match cron::Schedule::from_str(&cron) {
            Ok(s) => s,
            Err(e) => {
                let span = self.cron.as_ref().map(Spanned::span).unwrap_or(0..0);
                return at.err(
                    span,
                    "status.cron",
                    format!(
                        "`{cron}` is not a cron schedule ({e}); it has a seconds field first, e.g. \"0 */30 * * * *\""
                    ),
                );
            }
        };
        let timezone = timezone(at, self.timezone.as_ref(), "status.timezone")?;
        Ok(StatusConfig { cron, schedule, timezone })
    }
}
