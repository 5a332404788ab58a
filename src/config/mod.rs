//! The config file as a whole: reads it, checks it, and assembles a `Config` from its parts —
//! the service's settings (`settings`), roles and plans (`plan`), the escalation path
//! (`escalation`), deploy freezes (`freeze`), the stakeholder digest (`notify`) — with the
//! value parsers they share (`values`). Every problem is reported with the file, the line and
//! the key (`locate`), so `golive check-config` can point at it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

mod escalation;
mod freeze;
mod locate;
mod notify;
mod plan;
mod settings;
mod values;

use escalation::RawEscalation;
use freeze::RawFreeze;
use locate::{key_at, Locator};
pub use notify::NotifyConfig;
use notify::RawNotify;
use plan::RawPlan;
pub use settings::{DatabaseConfig, DeliveryConfig, DiscordConfig, ServerConfig, SlackConfig, StatusConfig, WebConfig};
use settings::{RawDelivery, RawServer, RawStatus};
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

        at.database_url(&self.database.url)?;
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
