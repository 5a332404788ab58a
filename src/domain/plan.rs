//! What a deployment is planned to be: phases, checklist items, sign-offs, traffic steps,
//! and who holds which role. Validated types: the config loader builds them, nothing else.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::actor::{Actor, Platform};

/// A deployment plan. A copy of it is stored in the `deployment_started` event, so a
/// deployment keeps running against the plan it started with even if the config changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub phases: Vec<Phase>,
    /// The phase that may only start after the lead's go decision.
    pub go_gate: Option<String>,
    /// This plan's own status-post schedule (cron, seconds first), overriding `[status] cron`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_cron: Option<String>,
    /// What golive runs by itself when the deployment reaches certain events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    /// A guard failing while traffic is shifted rolls back at once (level immediate).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_rollback: bool,
    /// Who may start each level of rollback, and what must be done before a rolled-back
    /// deployment is complete.
    #[serde(default, skip_serializing_if = "RollbackPlan::is_empty")]
    pub rollback: RollbackPlan,
    /// Roles whose members may start a deployment of this plan, and so lead it, and take the
    /// lead over. Empty: any member of any role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_roles: Vec<String>,
    /// Roles whose members, besides the lead, may give go / no-go. Empty: the lead only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go_roles: Vec<String>,
    /// How long a phase may run with open required items or missing sign-offs before golive
    /// mentions their owners (once per phase); a phase's own `remind_after` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub remind_after: Option<Duration>,
}

/// The rollback levels' permissions and the rollback checklist. An immediate rollback may
/// be started by anyone on the deployment team (and by golive's guards); quick and planned
/// ones by the lead and the roles listed here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RollbackPlan {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

impl RollbackPlan {
    pub fn is_empty(&self) -> bool {
        self.quick.is_empty() && self.planned.is_empty() && self.items.is_empty()
    }
}

/// A hook: a webhook to POST or a program to run when one of the `on` events is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub name: String,
    /// Trigger names (see `HOOK_TRIGGERS`); `rollback:LEVEL` fires on that rollback level only.
    pub on: Vec<String>,
    pub action: HookAction,
    #[serde(with = "secs")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookAction {
    /// POST the event as JSON, signed with HMAC-SHA256 under the secret in `secret_env`.
    Webhook { url: String, secret_env: String },
    /// Run a program (no shell) with the deployment in its environment.
    Command { argv: Vec<String> },
}

/// The events a hook can name in `on`.
pub const HOOK_TRIGGERS: &[&str] = &[
    "started",
    "phase_started",
    "phase_done",
    "go",
    "traffic",
    "rollback",
    "rollback:immediate",
    "rollback:quick",
    "rollback:planned",
    "completed",
    "aborted",
];

impl Hook {
    /// Whether this hook fires on `trigger` (and, for a rollback, its level).
    pub fn fires_on(&self, trigger: &str, level: Option<&str>) -> bool {
        self.on.iter().any(|on| match on.split_once(':') {
            Some((name, want)) => name == trigger && level == Some(want),
            None => on == trigger,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub id: String,
    pub name: String,
    #[serde(with = "secs")]
    pub planned: Duration,
    pub signoffs: Vec<String>,
    pub items: Vec<Item>,
    /// Allowed traffic steps in percent, ascending. Empty: no traffic shifting in this phase.
    pub traffic: Vec<u8>,
    /// How long each traffic step is watched before the next may be set.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub hold: Option<Duration>,
    /// Planned start, in seconds relative to the deployment's go-live time (T-0); negative
    /// before it. Only meaningful when the deployment was started with a go-live time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// This phase's own reminder delay, overriding the plan's.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub remind_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub text: String,
    pub role: String,
    pub required: bool,
    /// golive checks this item itself while its phase runs: a pass ticks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// While traffic is shifted, a failing check here escalates (or rolls back, if the plan
    /// says so) instead of only keeping the item open.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guard: bool,
    /// The traffic step this item watches: it must be done before traffic leaves that step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u8>,
    /// The checklist section it is listed under (status posts and reports group by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Items of the same phase that must be done before this one may be ticked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

/// An automatic check and how often it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub probe: Probe,
    #[serde(with = "secs")]
    pub every: Duration,
    #[serde(with = "secs")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// GET a URL; pass on this status (and, if given, with this text in the body).
    Http { url: String, status: u16, contains: Option<String> },
    /// An instant query against a Prometheus-compatible API; pass while the value is below
    /// (or above) the threshold.
    Prometheus { url: String, query: String, below: Option<f64>, above: Option<f64> },
}

impl Plan {
    pub fn phase_index(&self, id: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.id == id)
    }

    pub fn go_gate_index(&self) -> Option<usize> {
        self.go_gate.as_deref().and_then(|g| self.phase_index(g))
    }

    pub fn planned_total(&self) -> Duration {
        self.phases.iter().map(|p| p.planned).sum()
    }

    /// How long phase `i` runs with open work before golive reminds its owners, if at all.
    pub fn remind_after(&self, i: usize) -> Option<Duration> {
        self.phases.get(i)?.remind_after.or(self.remind_after)
    }
}

impl Phase {
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The sections of this phase's checklist, in the order their first items appear.
    pub fn sections(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in self.items.iter().filter_map(|i| i.section.as_deref()) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

/// A person as a role lists them: `slack:U0123`, `discord:8035…`, `console:alice`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Member {
    pub platform: Platform,
    pub id: String,
}

impl Member {
    pub fn parse(s: &str) -> Result<Member, String> {
        let (platform, id) = s.split_once(':').ok_or_else(|| {
            format!("`{s}` is not a member; write it as platform:id, e.g. slack:U0123ABCD or console:alice")
        })?;
        let platform = Platform::parse_member_platform(platform).ok_or_else(|| {
            format!("`{platform}` is not a platform; members are slack:ID, discord:ID or console:NAME")
        })?;
        if id.is_empty() || id.chars().any(char::is_whitespace) {
            return Err(format!("`{s}` has an empty id or whitespace in it"));
        }
        Ok(Member { platform, id: id.to_string() })
    }

    /// The actor is this person, or belongs to this group.
    pub fn is(&self, actor: &Actor) -> bool {
        self.platform == actor.platform && (self.id == actor.id || actor.groups.contains(&self.id))
    }

    /// A group rather than a person: a Slack user group (`slack:S0123ABCD`; Slack's user
    /// group ids start with `S`, user ids with `U` or `W`) or a Discord server role
    /// (`discord:&ROLEID`, written as Discord writes a role mention).
    pub fn is_group(&self) -> bool {
        match self.platform {
            Platform::Slack => self.id.starts_with('S'),
            Platform::Discord => self.id.starts_with('&'),
            _ => false,
        }
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub members: Vec<Member>,
}

/// Every role the config defines, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(pub BTreeMap<String, Role>);

impl Roles {
    pub fn get(&self, id: &str) -> Option<&Role> {
        self.0.get(id)
    }

    pub fn holds(&self, actor: &Actor, role: &str) -> bool {
        self.get(role).is_some_and(|r| r.members.iter().any(|m| m.is(actor)))
    }

    pub fn held_by(&self, actor: &Actor) -> Vec<&Role> {
        self.0.values().filter(|r| r.members.iter().any(|m| m.is(actor))).collect()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Optional durations, as whole seconds too.
mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}

/// Durations travel as whole seconds in stored plans.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}
