//! Slack user groups standing for a role's members (`slack:S0123ABCD` in `members`). Before a
//! Slack request reaches the engine, the adapter looks up which of the configured groups the
//! caller is in, so the domain's role check stays a plain membership test. Members are read
//! with `usergroups.users.list` and kept for a few minutes: a request must not wait on Slack
//! each time, and a change to a group reaches golive within that time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::SlackApi;
use crate::clock::SharedClock;
use crate::config::Config;

/// How long a group's member list is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(5 * 60);
/// After a failed lookup, Slack is asked again only after this long: a missing scope must
/// not cost every request a round trip.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// A lookup may take this long; a request has three seconds in all.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(800);

type Cache = HashMap<String, (DateTime<Utc>, Arc<HashSet<String>>)>;

pub struct Groups {
    api: Arc<SlackApi>,
    clock: SharedClock,
    /// Every Slack user group the config names, in roles or escalation levels.
    groups: Vec<String>,
    cache: Mutex<Cache>,
}

impl Groups {
    /// `None` when the config names no Slack user group: then nothing is ever looked up.
    pub fn from_config(config: &Config, api: Arc<SlackApi>, clock: SharedClock) -> Option<Groups> {
        let roles = config.roles.0.values().flat_map(|r| r.members.iter());
        let levels = config.escalation.iter().flat_map(|l| l.roster());
        let mut groups: Vec<String> = roles.chain(levels).filter(|m| m.is_group()).map(|m| m.id.clone()).collect();
        groups.sort();
        groups.dedup();
        if groups.is_empty() {
            return None;
        }
        info!(groups = ?groups, "Slack user groups stand for role members");
        Some(Groups { api, clock, groups, cache: Mutex::default() })
    }

    /// The configured groups `user` belongs to. A group Slack cannot list right now counts
    /// with its last known members, or as not containing the user if there are none: a
    /// refusal the user can retry beats letting someone act on a role they may not hold.
    pub async fn of(&self, user: &str) -> Vec<String> {
        let mut held = Vec::new();
        for group in &self.groups {
            if self.members(group).await.is_some_and(|m| m.contains(user)) {
                held.push(group.clone());
            }
        }
        held
    }

    async fn members(&self, group: &str) -> Option<Arc<HashSet<String>>> {
        let now = self.clock.now();
        let cached = self.cache.lock().ok().and_then(|c| c.get(group).cloned());
        if let Some((at, members)) = &cached {
            if now - *at < chrono::Duration::from_std(FRESH_FOR).unwrap_or_default() {
                return Some(members.clone());
            }
        }
        let looked_up = tokio::time::timeout(LOOKUP_TIMEOUT, self.api.usergroup_members(group)).await;
        match looked_up.unwrap_or_else(|_| {
            Err(crate::delivery::SendError::Retry { reason: "no answer in time".into(), after: None })
        }) {
            Ok(users) => {
                let members: Arc<HashSet<String>> = Arc::new(users.into_iter().collect());
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(group.to_string(), (now, members.clone()));
                }
                Some(members)
            }
            Err(e) => {
                warn!(group, error = %e, "could not list a Slack user group's members (the app needs usergroups:read); using what was known");
                let known = cached.map(|(_, members)| members).unwrap_or_default();
                // Remembered as if fetched long enough ago that the next try is RETRY_AFTER away.
                let stale = chrono::Duration::from_std(FRESH_FOR.saturating_sub(RETRY_AFTER)).unwrap_or_default();
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(group.to_string(), (now - stale, known.clone()));
                }
                Some(known)
            }
        }
    }
}
