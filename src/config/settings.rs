//! The service's own settings: `[server]`, `[web]`, `[database]`, `[slack]`, `[discord]`,
//! `[status]` and `[delivery]` — each as golive uses it, with its defaults, and the raw form
//! read from TOML where a value needs checking (durations, URLs, the cron schedule).

use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::locate::Locator;
use super::values::{duration, timezone};
use super::ConfigError;

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
    /// `sqlite://PATH` (or a bare path; the file is created if missing) or `postgres://…`.
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStatus {
    cron: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    listen: Option<String>,
    shutdown_grace: Option<Spanned<String>>,
    public_url: Option<Spanned<String>>,
}

impl RawServer {
    pub(super) fn validate(&self, at: &Locator<'_>) -> Result<ServerConfig, ConfigError> {
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
pub(super) struct RawDelivery {
    channel_interval: Option<Spanned<String>>,
    give_up_after: Option<Spanned<String>>,
    concurrency: Option<Spanned<u32>>,
    send_timeout: Option<Spanned<String>>,
}

impl RawDelivery {
    pub(super) fn validate(&self, at: &Locator<'_>) -> Result<DeliveryConfig, ConfigError> {
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
    pub(super) fn validate(&self, at: &Locator<'_>) -> Result<StatusConfig, ConfigError> {
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
