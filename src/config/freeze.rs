//! Deploy freezes in the config (`[[freeze]]`): a weekly window or a dated one, in a timezone,
//! for all plans or the ones named.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::{local_time, timezone, ConfigError, Locator};
use crate::domain::freeze::{self, Freeze, Window};
use crate::domain::Plan;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFreeze {
    name: Option<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    plans: Vec<Spanned<String>>,
}

impl RawFreeze {
    pub(super) fn validate(
        &self,
        at: &Locator<'_>,
        i: usize,
        default_tz: Tz,
        plans: &BTreeMap<String, Plan>,
    ) -> Result<(Freeze, Vec<String>), ConfigError> {
        let key = format!("freeze[{i}]");
        let tz = match &self.timezone {
            Some(_) => timezone(at, self.timezone.as_ref(), &format!("{key}.timezone"))?,
            None => default_tz,
        };
        let name = self.name.clone().unwrap_or_else(|| format!("freeze {}", i + 1));
        let weekly = (freeze::parse_weekly(self.from.get_ref()), freeze::parse_weekly(self.to.get_ref()));
        let window = match weekly {
            (Some(from), Some(to)) => {
                if freeze::weekly_minutes(from, to) == 0 {
                    return at.err(self.to.span(), format!("{key}.to"), "the freeze ends when it starts; it would never hold");
                }
                Window::Weekly { from, to }
            }
            (None, None) => {
                let from = local_time(at, &self.from, &format!("{key}.from"))?;
                let to = local_time(at, &self.to, &format!("{key}.to"))?;
                if to <= from {
                    return at.err(self.to.span(), format!("{key}.to"), "the freeze must end after it starts");
                }
                Window::Dated { from, to }
            }
            _ => {
                return at.err(
                    self.from.span(),
                    format!("{key}.from"),
                    "write both ends the same way: weekly as \"Fri 16:00\" and \"Mon 08:00\", or dates as \"2026-12-24 00:00\"",
                )
            }
        };
        let mut applies = Vec::new();
        for plan in &self.plans {
            if !plans.contains_key(plan.get_ref()) {
                let allowed = plans.keys().cloned().collect::<Vec<_>>().join(", ");
                return at.err(
                    plan.span(),
                    format!("{key}.plans"),
                    format!("no plan `{}`; plans: {allowed}", plan.get_ref()),
                );
            }
            applies.push(plan.get_ref().clone());
        }
        Ok((Freeze { name, window, timezone: tz }, applies))
    }
}
