//! The escalation path in the config: `[[escalation.levels]]` (fixed members or a rotation,
//! optional webhook), `[[escalation.overrides]]` and `[escalation.triggers]`, each checked with
//! the file, line and key of what is wrong.

use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::{duration, local_time, members, timezone, ConfigError, Locator};
use crate::domain::{EscalationLevel, Member, Override, Rotation, Severity, Trigger, Triggers};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEscalation {
    #[serde(default)]
    levels: Vec<Spanned<RawLevel>>,
    #[serde(default)]
    overrides: Vec<Spanned<RawOverride>>,
    #[serde(default)]
    triggers: RawTriggers,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTriggers {
    phase_overdue: Option<RawTrigger>,
    signoff_missing: Option<RawTrigger>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    severity: Option<Spanned<String>>,
    level: Option<Spanned<i64>>,
    grace: Option<Spanned<String>>,
    after: Option<Spanned<String>>,
}

/// How long a warning waits before it pages, unless the trigger says.
const DEFAULT_GRACE: Duration = Duration::from_secs(10 * 60);

impl RawTrigger {
    fn validate(&self, at: &Locator<'_>, key: &str, levels: usize) -> Result<Trigger, ConfigError> {
        let severity = match self.severity.as_ref().map(|s| (s, s.get_ref().as_str())) {
            None | Some((_, "warning")) => Severity::Warning,
            Some((_, "critical")) => Severity::Critical,
            Some((s, other)) => {
                return at.err(
                    s.span(),
                    format!("{key}.severity"),
                    format!("`{other}` is not a severity; use \"critical\" or \"warning\""),
                )
            }
        };
        let level = match &self.level {
            None => 1,
            Some(l) => match u8::try_from(*l.get_ref()).ok().filter(|n| *n >= 1 && usize::from(*n) <= levels) {
                Some(n) => n,
                None => {
                    return at.err(
                        l.span(),
                        format!("{key}.level"),
                        format!("no level {}; levels are 1 to {levels}", l.get_ref()),
                    )
                }
            },
        };
        let grace = match &self.grace {
            None => DEFAULT_GRACE,
            // No grace at all is a fair choice for a warning.
            Some(g) if humantime::parse_duration(g.get_ref()).is_ok_and(|d| d.is_zero()) => Duration::ZERO,
            Some(g) => duration(at, g, &format!("{key}.grace"))?,
        };
        Ok(Trigger { severity, level, grace })
    }
}

impl RawTriggers {
    fn validate(&self, at: &Locator<'_>, levels: usize) -> Result<Triggers, ConfigError> {
        let mut triggers = Triggers::default();
        if let Some(raw) = &self.phase_overdue {
            let key = "escalation.triggers.phase_overdue";
            if let Some(after) = &raw.after {
                return at.err(
                    after.span(),
                    format!("{key}.after"),
                    "a phase is overdue after its own `planned` duration; remove `after`",
                );
            }
            triggers.phase_overdue = Some(raw.validate(at, key, levels)?);
        }
        if let Some(raw) = &self.signoff_missing {
            let key = "escalation.triggers.signoff_missing";
            let Some(after) = &raw.after else {
                return at.err(
                    0..0,
                    format!("{key}.after"),
                    "say how long after a phase starts a missing sign-off escalates, e.g. after = \"2h\"",
                );
            };
            let after = duration(at, after, &format!("{key}.after"))?;
            triggers.signoff_missing = Some((after, raw.validate(at, key, levels)?));
        }
        if levels == 0 && (triggers.phase_overdue.is_some() || triggers.signoff_missing.is_some()) {
            return at.err(0..0, "escalation.triggers", "triggers need at least one `[[escalation.levels]]` to page");
        }
        Ok(triggers)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    name: String,
    ack_timeout: Spanned<String>,
    repeat: Option<u32>,
    members: Option<Spanned<Vec<Spanned<String>>>>,
    rotation: Option<Spanned<RawRotation>>,
    webhook: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotation {
    members: Spanned<Vec<Spanned<String>>>,
    every: Spanned<String>,
    handoff: Spanned<String>,
    timezone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    level: Spanned<i64>,
    member: Spanned<String>,
    from: Spanned<String>,
    until: Spanned<String>,
    timezone: Option<Spanned<String>>,
}

impl RawEscalation {
    /// The levels with their overrides, and the triggers that page them.
    pub(super) fn validate(&self, at: &Locator<'_>) -> Result<(Vec<EscalationLevel>, Triggers), ConfigError> {
        let mut escalation = Vec::new();
        for (i, level) in self.levels.iter().enumerate() {
            escalation.push(level.get_ref().validate(at, level.span(), &format!("escalation.levels[{i}]"))?);
        }
        if escalation.len() > usize::from(u8::MAX) {
            return at.err(0..0, "escalation.levels", "more than 255 levels");
        }
        for (i, o) in self.overrides.iter().enumerate() {
            let key = format!("escalation.overrides[{i}]");
            let raw = o.get_ref();
            let n = *raw.level.get_ref();
            let Some(level) = usize::try_from(n).ok().filter(|n| *n >= 1).and_then(|n| escalation.get_mut(n - 1))
            else {
                return at.err(
                    raw.level.span(),
                    format!("{key}.level"),
                    format!("no level {n}; levels are 1 to {}", self.levels.len()),
                );
            };
            let member = Member::parse(raw.member.get_ref())
                .or_else(|e| at.err(raw.member.span(), format!("{key}.member"), e))?;
            let tz = timezone(at, raw.timezone.as_ref(), &format!("{key}.timezone"))?;
            let from = instant(at, &raw.from, tz, &format!("{key}.from"))?;
            let until = instant(at, &raw.until, tz, &format!("{key}.until"))?;
            if until <= from {
                return at.err(raw.until.span(), format!("{key}.until"), "the override ends before it starts");
            }
            level.overrides.push(Override { member, from, until });
        }

        let triggers = self.triggers.validate(at, escalation.len())?;
        Ok((escalation, triggers))
    }
}

fn instant(
    at: &Locator<'_>,
    value: &Spanned<String>,
    tz: Tz,
    key: &str,
) -> Result<chrono::DateTime<chrono::Utc>, ConfigError> {
    let local = local_time(at, value, key)?;
    match local.and_local_timezone(tz).earliest() {
        Some(t) => Ok(t.with_timezone(&chrono::Utc)),
        None => at.err(value.span(), key, format!("{local} does not exist in {tz} (a daylight-saving gap)")),
    }
}

impl RawLevel {
    fn validate(
        &self,
        at: &Locator<'_>,
        span: std::ops::Range<usize>,
        key: &str,
    ) -> Result<EscalationLevel, ConfigError> {
        let ack_timeout = duration(at, &self.ack_timeout, &format!("{key}.ack_timeout"))?;
        let fixed = members(at, self.members.as_ref(), &format!("{key}.members"))?;
        let rotation = match &self.rotation {
            None => None,
            Some(r) => {
                let rkey = format!("{key}.rotation");
                let raw = r.get_ref();
                let members = members(at, Some(&raw.members), &format!("{rkey}.members"))?;
                if members.is_empty() {
                    return at.err(
                        raw.members.span(),
                        format!("{rkey}.members"),
                        "a rotation needs someone to take turns",
                    );
                }
                let timezone = timezone(at, raw.timezone.as_ref(), &format!("{rkey}.timezone"))?;
                let every = duration(at, &raw.every, &format!("{rkey}.every"))?;
                if every < Duration::from_secs(60) {
                    return at.err(raw.every.span(), format!("{rkey}.every"), "a turn lasts at least a minute");
                }
                Some(Rotation {
                    members,
                    every,
                    handoff: local_time(at, &raw.handoff, &format!("{rkey}.handoff"))?,
                    timezone,
                })
            }
        };
        match (fixed.is_empty(), &rotation) {
            (true, None) => {
                let span = self.members.as_ref().map_or(span, Spanned::span);
                return at.err(
                    span,
                    format!("{key}.members"),
                    "an escalation level needs someone to page: `members` or a `rotation`",
                );
            }
            (false, Some(_)) => {
                let span = self.rotation.as_ref().map_or(span, Spanned::span);
                return at.err(
                    span,
                    format!("{key}.rotation"),
                    "give a level either fixed `members` or a `rotation`, not both",
                );
            }
            _ => {}
        }
        let webhook = match &self.webhook {
            None => None,
            Some(url) => match url::Url::parse(url.get_ref()) {
                Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Some(url.get_ref().clone()),
                _ => {
                    return at.err(
                        url.span(),
                        format!("{key}.webhook"),
                        format!("`{}` is not an http(s) URL", url.get_ref()),
                    )
                }
            },
        };
        Ok(EscalationLevel {
            name: self.name.clone(),
            ack_timeout,
            repeat: self.repeat.unwrap_or(0),
            members: fixed,
            rotation,
            overrides: Vec::new(),
            webhook,
        })
    }
}
