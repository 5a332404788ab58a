//! `[notify]`: the stakeholder digest. The channels that hear of each deployment's milestones
//! (never commands), and which milestones.

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::domain::digest::MILESTONES;
use crate::domain::{Channel, Platform};

/// Where and about what stakeholders hear; no channels: nobody does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    pub channels: Vec<Channel>,
    /// Milestone names (see `domain::digest::MILESTONES`).
    pub events: Vec<String>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig { channels: Vec::new(), events: MILESTONES.iter().map(|m| m.to_string()).collect() }
    }
}

impl NotifyConfig {
    /// The channels that hear of `milestone`.
    pub fn channels_for(&self, milestone: &str) -> &[Channel] {
        if self.events.iter().any(|e| e == milestone) {
            &self.channels
        } else {
            &[]
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    #[serde(default)]
    channels: Vec<Spanned<String>>,
    events: Option<Vec<Spanned<String>>>,
}

const CHANNEL_FORM: &str =
    "write slack:CHANNELID (e.g. slack:C0STAKEHOLDERS) or discord:CHANNELID (digits, e.g. discord:500000000000000001)";

impl RawNotify {
    /// `enabled`: whether Slack and Discord are switched on, as a channel there is only
    /// reached when its platform is.
    pub(super) fn validate(&self, at: &Locator<'_>, slack: bool, discord: bool) -> Result<NotifyConfig, ConfigError> {
        let mut channels: Vec<Channel> = Vec::new();
        for (i, raw) in self.channels.iter().enumerate() {
            let key = format!("notify.channels[{i}]");
            let text = raw.get_ref().trim();
            let bad = |why: String| at.err(raw.span(), &key, why);
            let Some((platform, id)) = text.split_once(':') else {
                return bad(format!("`{text}` is not a channel; {CHANNEL_FORM}"));
            };
            let (platform, ok, enabled) = match platform {
                "slack" => (
                    Platform::Slack,
                    id.starts_with(['C', 'G'])
                        && id.len() > 1
                        && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                    slack,
                ),
                "discord" => (Platform::Discord, !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()), discord),
                other => {
                    return bad(format!("`{other}` is not a platform stakeholders can be told on; {CHANNEL_FORM}"))
                }
            };
            if !ok {
                return bad(format!("`{text}` is not a {platform} channel id; {CHANNEL_FORM}"));
            }
            if !enabled {
                return bad(format!("`{text}` is on {platform}, which is not enabled ([{platform}] enabled = true)"));
            }
            let channel = Channel { platform, id: id.to_string() };
            if channels.contains(&channel) {
                return bad(format!("`{text}` is listed twice"));
            }
            channels.push(channel);
        }
        let events = match &self.events {
            None => NotifyConfig::default().events,
            Some(list) => {
                let mut events: Vec<String> = Vec::new();
                for (i, e) in list.iter().enumerate() {
                    let key = format!("notify.events[{i}]");
                    let name = e.get_ref().trim();
                    if !MILESTONES.contains(&name) {
                        return at.err(
                            e.span(),
                            key,
                            format!("`{name}` is not a milestone; milestones: {}", MILESTONES.join(", ")),
                        );
                    }
                    if events.iter().any(|x| x == name) {
                        return at.err(e.span(), key, format!("`{name}` is listed twice"));
                    }
                    events.push(name.to_string());
                }
                events
            }
        };
        Ok(NotifyConfig { channels, events })
    }
}
