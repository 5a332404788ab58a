//! The plans in the config file: phases, checklist items (with their checks, sections, order
//! and traffic steps), sign-offs, the go gate, who may lead and decide, hooks and the rollback
//! plan, validated into `domain::Plan`s.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{duration, id, ConfigError, Locator, LONGEST};
use crate::domain::plan::{Check, Hook, HookAction, Probe, RollbackPlan, HOOK_TRIGGERS};
use crate::domain::{Item, Phase, Plan, Roles};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlan {
    name: Option<String>,
    go_gate: Option<Spanned<String>>,
    status_cron: Option<Spanned<String>>,
    #[serde(default)]
    phases: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    hooks: Vec<RawHook>,
    #[serde(default)]
    auto_rollback: bool,
    rollback: Option<RawRollback>,
    lead_roles: Option<Vec<Spanned<String>>>,
    go_roles: Option<Vec<Spanned<String>>>,
    remind_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollback {
    quick: Option<Vec<Spanned<String>>>,
    planned: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    items: Vec<Spanned<RawItem>>,
}

/// The roles that may start quick and planned rollbacks when the plan does not say:
/// operations, where a role of that id exists.
fn default_rollback_roles(roles: &Roles) -> Vec<String> {
    roles.get("ops").map(|_| vec!["ops".to_string()]).unwrap_or_default()
}

impl RawRollback {
    fn validate(&self, at: &Locator<'_>, key: &str, roles: &Roles) -> Result<RollbackPlan, ConfigError> {
        let role_list = |list: &Option<Vec<Spanned<String>>>, name: &str| -> Result<Vec<String>, ConfigError> {
            match list {
                None => Ok(default_rollback_roles(roles)),
                Some(list) => list
                    .iter()
                    .map(|r| match roles.get(r.get_ref()) {
                        Some(_) => Ok(r.get_ref().clone()),
                        None => at.err(
                            r.span(),
                            format!("{key}.{name}"),
                            format!("unknown role `{}`; roles: {}", r.get_ref(), roles.ids().join(", ")),
                        ),
                    })
                    .collect(),
            }
        };
        let mut items: Vec<Item> = Vec::new();
        for (i, raw) in self.items.iter().enumerate() {
            let item = raw.get_ref();
            let ikey = format!("{key}.items[{i}]");
            let id = id(at, &item.id, &format!("{ikey}.id"))?;
            if items.iter().any(|e| e.id == id) {
                return at.err(item.id.span(), format!("{ikey}.id"), format!("item id `{id}` is used twice"));
            }
            if roles.get(item.role.get_ref()).is_none() {
                return at.err(
                    item.role.span(),
                    format!("{ikey}.role"),
                    format!("unknown role `{}`; roles: {}", item.role.get_ref(), roles.ids().join(", ")),
                );
            }
            if item.text.trim().is_empty() || item.check.is_some() || item.guard {
                return at.err(
                    raw.span(),
                    ikey,
                    "a rollback item needs a text, and is ticked by people (no check or guard)",
                );
            }
            if item.step.is_some() || item.section.is_some() || !item.after.is_empty() {
                return at.err(raw.span(), ikey, "a rollback item has no `step`, `section` or `after`");
            }
            items.push(Item {
                id,
                text: item.text.clone(),
                role: item.role.get_ref().clone(),
                required: item.required,
                check: None,
                guard: false,
                step: None,
                section: None,
                after: Vec::new(),
            });
        }
        Ok(RollbackPlan {
            quick: role_list(&self.quick, "quick")?,
            planned: role_list(&self.planned, "planned")?,
            items,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    id: Spanned<String>,
    name: Option<String>,
    planned: Spanned<String>,
    #[serde(default)]
    signoffs: Vec<Spanned<String>>,
    #[serde(default)]
    items: Vec<Spanned<RawItem>>,
    traffic: Option<Spanned<Vec<u8>>>,
    hold: Option<Spanned<String>>,
    at: Option<Spanned<String>>,
    remind_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    text: String,
    role: Spanned<String>,
    #[serde(default = "yes")]
    required: bool,
    check: Option<Spanned<RawCheck>>,
    #[serde(default)]
    guard: bool,
    step: Option<Spanned<u8>>,
    section: Option<Spanned<String>>,
    #[serde(default)]
    after: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    http: Option<String>,
    status: Option<u16>,
    contains: Option<String>,
    prometheus: Option<String>,
    query: Option<String>,
    below: Option<f64>,
    above: Option<f64>,
    every: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
}

impl RawCheck {
    fn validate(&self, at: &Locator<'_>, span: std::ops::Range<usize>, key: &str) -> Result<Check, ConfigError> {
        let url_ok = |u: &str| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        let probe = match (&self.http, &self.prometheus) {
            (Some(url), None) => {
                if !url_ok(url) {
                    return at.err(span, format!("{key}.http"), format!("`{url}` is not an http(s) URL"));
                }
                if self.query.is_some() || self.below.is_some() || self.above.is_some() {
                    return at.err(span, key, "`query`, `below` and `above` belong to a `prometheus` check");
                }
                Probe::Http { url: url.clone(), status: self.status.unwrap_or(200), contains: self.contains.clone() }
            }
            (None, Some(url)) => {
                if !url_ok(url) {
                    return at.err(span, format!("{key}.prometheus"), format!("`{url}` is not an http(s) URL"));
                }
                let Some(query) = self.query.clone().filter(|q| !q.trim().is_empty()) else {
                    return at.err(span, format!("{key}.query"), "a prometheus check needs the `query` to run");
                };
                if self.below.is_none() && self.above.is_none() {
                    return at.err(span, key, "say what passes: `below = 0.001` (or `above = …`)");
                }
                Probe::Prometheus { url: url.clone(), query, below: self.below, above: self.above }
            }
            _ => return at.err(span, key, "a check is either `http = URL` or `prometheus = URL` with a `query`"),
        };
        let every = match &self.every {
            Some(v) => duration(at, v, &format!("{key}.every"))?,
            None => Duration::from_secs(60),
        };
        let timeout = match &self.timeout {
            Some(v) => duration(at, v, &format!("{key}.timeout"))?,
            None => Duration::from_secs(10),
        };
        Ok(Check { probe, every, timeout })
    }
}

fn yes() -> bool {
    true
}

/// A planned start relative to the go-live time: `T-24h`, `T+30m`, `T-0h`, `T-0`.
fn t_offset(at: &Locator<'_>, value: &Spanned<String>, key: &str) -> Result<i64, ConfigError> {
    let v = value.get_ref().trim();
    let bad = || {
        at.err(
            value.span(),
            key,
            format!("`{v}` is not a time relative to go-live; write e.g. \"T-24h\", \"T-0h\", \"T+1h 30m\""),
        )
    };
    let Some(rest) = v.strip_prefix('T').or_else(|| v.strip_prefix('t')) else {
        return bad();
    };
    let (sign, rest) = match rest.chars().next() {
        Some('-') => (-1, &rest[1..]),
        Some('+') => (1, &rest[1..]),
        _ => return bad(),
    };
    let rest = rest.trim();
    if rest == "0" {
        return Ok(0);
    }
    match humantime::parse_duration(rest) {
        Ok(d) if d <= LONGEST => Ok(sign * d.as_secs() as i64),
        _ => bad(),
    }
}

/// An item's place in its phase: the traffic step it watches, its section, and the items
/// (listed before it) that must be done first.
struct ItemOrder {
    step: Option<u8>,
    section: Option<String>,
    after: Vec<String>,
}

impl ItemOrder {
    fn validate(
        item: &RawItem,
        at: &Locator<'_>,
        key: &str,
        before: &[Item],
        traffic: Option<&Spanned<Vec<u8>>>,
    ) -> Result<ItemOrder, ConfigError> {
        let step = match &item.step {
            Some(step) if traffic.is_some_and(|t| t.get_ref().contains(step.get_ref())) => Some(*step.get_ref()),
            Some(step) => {
                let steps = traffic.map(|t| format!("{:?}", t.get_ref())).unwrap_or_else(|| "none".into());
                return at.err(
                    step.span(),
                    format!("{key}.step"),
                    format!("{}% is not a traffic step of this phase; its steps: {steps}", step.get_ref()),
                );
            }
            None => None,
        };
        let section = match &item.section {
            Some(s) if s.get_ref().trim().is_empty() || s.get_ref().contains(char::is_control) => {
                return at.err(s.span(), format!("{key}.section"), "a section needs a name");
            }
            Some(s) => Some(s.get_ref().trim().to_string()),
            None => None,
        };
        let mut after: Vec<String> = Vec::new();
        for (n, a) in item.after.iter().enumerate() {
            let akey = format!("{key}.after[{n}]");
            if !before.iter().any(|i| &i.id == a.get_ref()) {
                let listed = before.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ");
                let listed = if listed.is_empty() { "none".to_string() } else { listed };
                return at.err(
                    a.span(),
                    akey,
                    format!(
                        "`{}` is not an item listed before this one in the phase; those are: {listed}",
                        a.get_ref()
                    ),
                );
            }
            if after.contains(a.get_ref()) {
                return at.err(a.span(), akey, format!("`{}` is listed twice", a.get_ref()));
            }
            after.push(a.get_ref().clone());
        }
        Ok(ItemOrder { step, section, after })
    }
}

impl RawPlan {
    pub(super) fn validate(&self, at: &Locator<'_>, key: &Spanned<String>, roles: &Roles) -> Result<Plan, ConfigError> {
        let plan_id = id(at, key, &format!("plans.{}", key.get_ref()))?;
        let base = format!("plans.{plan_id}");
        if self.phases.is_empty() {
            return at.err(
                key.span(),
                format!("{base}.phases"),
                "the plan has no phases; add [[plans.NAME.phases]] tables",
            );
        }
        let role_ids = || roles.ids().join(", ");
        let mut phases = Vec::new();
        let mut phase_ids = BTreeSet::new();
        for (p, raw_phase) in self.phases.iter().enumerate() {
            let raw = raw_phase.get_ref();
            let pkey = format!("{base}.phases[{p}]");
            let phase_id = id(at, &raw.id, &format!("{pkey}.id"))?;
            if !phase_ids.insert(phase_id.clone()) {
                return at.err(
                    raw.id.span(),
                    format!("{pkey}.id"),
                    format!("phase id `{phase_id}` is used twice in this plan"),
                );
            }
            let planned = duration(at, &raw.planned, &format!("{pkey}.planned"))?;
            let mut signoffs = Vec::new();
            for (s, role) in raw.signoffs.iter().enumerate() {
                let skey = format!("{pkey}.signoffs[{s}]");
                if roles.get(role.get_ref()).is_none() {
                    return at.err(
                        role.span(),
                        skey,
                        format!("unknown role `{}`; roles: {}", role.get_ref(), role_ids()),
                    );
                }
                if signoffs.contains(role.get_ref()) {
                    return at.err(role.span(), skey, format!("`{}` is listed twice", role.get_ref()));
                }
                signoffs.push(role.get_ref().clone());
            }
            let mut items: Vec<Item> = Vec::new();
            for (i, raw_item) in raw.items.iter().enumerate() {
                let item = raw_item.get_ref();
                let ikey = format!("{pkey}.items[{i}]");
                let item_id = id(at, &item.id, &format!("{ikey}.id"))?;
                if items.iter().any(|existing| existing.id == item_id) {
                    return at.err(
                        item.id.span(),
                        format!("{ikey}.id"),
                        format!("item id `{item_id}` is used twice in phase `{phase_id}`"),
                    );
                }
                if roles.get(item.role.get_ref()).is_none() {
                    return at.err(
                        item.role.span(),
                        format!("{ikey}.role"),
                        format!("unknown role `{}`; roles: {}", item.role.get_ref(), role_ids()),
                    );
                }
                if item.text.trim().is_empty() {
                    return at.err(
                        raw_item.span(),
                        format!("{ikey}.text"),
                        "the item needs a text saying what to check",
                    );
                }
                let check = match &item.check {
                    Some(c) => Some(c.get_ref().validate(at, c.span(), &format!("{ikey}.check"))?),
                    None => None,
                };
                if item.guard && check.is_none() {
                    return at.err(raw_item.span(), format!("{ikey}.guard"), "a guard needs a `check` to watch");
                }
                let order = ItemOrder::validate(item, at, &ikey, &items, raw.traffic.as_ref())?;
                items.push(Item {
                    step: order.step,
                    section: order.section,
                    after: order.after,
                    check,
                    guard: item.guard,
                    id: item_id,
                    text: item.text.clone(),
                    role: item.role.get_ref().clone(),
                    required: item.required,
                });
            }
            let traffic = raw.traffic.as_ref().map(|t| t.get_ref().clone()).unwrap_or_default();
            if traffic.iter().any(|&t| t == 0 || t > 100) || traffic.windows(2).any(|w| w[0] >= w[1]) {
                let span = raw.traffic.as_ref().map(Spanned::span).unwrap_or(0..0);
                return at.err(
                    span,
                    format!("{pkey}.traffic"),
                    "traffic steps are percentages from 1 to 100, rising, e.g. [50, 70, 85, 100]",
                );
            }
            let hold = match &raw.hold {
                Some(h) if traffic.is_empty() => {
                    return at.err(
                        h.span(),
                        format!("{pkey}.hold"),
                        "a hold watches traffic steps; this phase has no `traffic`",
                    )
                }
                Some(h) => Some(duration(at, h, &format!("{pkey}.hold"))?),
                None => None,
            };
            let planned_at = match &raw.at {
                Some(a) => Some(t_offset(at, a, &format!("{pkey}.at"))?),
                None => None,
            };
            let remind_after = match &raw.remind_after {
                Some(r) => Some(duration(at, r, &format!("{pkey}.remind_after"))?),
                None => None,
            };
            phases.push(Phase {
                remind_after,
                id: phase_id.clone(),
                name: raw.name.clone().unwrap_or_else(|| phase_id.clone()),
                planned,
                signoffs,
                items,
                traffic,
                hold,
                at: planned_at,
            });
        }
        let go_gate = match &self.go_gate {
            Some(gate) if phase_ids.contains(gate.get_ref()) => Some(gate.get_ref().clone()),
            Some(gate) => {
                let allowed = phases.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
                return at.err(
                    gate.span(),
                    format!("{base}.go_gate"),
                    format!("no phase `{}`; phases: {allowed}", gate.get_ref()),
                );
            }
            // The first phase that shifts traffic is where the go decision matters.
            None => phases.iter().find(|p| !p.traffic.is_empty()).map(|p| p.id.clone()),
        };
        if let Some(cron) = &self.status_cron {
            if let Err(e) = cron::Schedule::from_str(cron.get_ref()) {
                return at.err(
                    cron.span(),
                    format!("{base}.status_cron"),
                    format!(
                        "`{}` is not a cron schedule ({e}); write six fields, seconds first, e.g. \"0 */15 * * * *\"",
                        cron.get_ref()
                    ),
                );
            }
        }
        let status_cron = self.status_cron.as_ref().map(|c| c.get_ref().clone());
        let mut hooks: Vec<Hook> = Vec::new();
        for (h, raw) in self.hooks.iter().enumerate() {
            let hook = raw.validate(at, &format!("{base}.hooks[{h}]"))?;
            if hooks.iter().any(|existing| existing.name == hook.name) {
                return at.err(
                    raw.name.span(),
                    format!("{base}.hooks[{h}].name"),
                    format!("hook `{}` is defined twice", hook.name),
                );
            }
            hooks.push(hook);
        }
        let role_list = |list: &Option<Vec<Spanned<String>>>, name: &str| -> Result<Vec<String>, ConfigError> {
            let mut out: Vec<String> = Vec::new();
            for (n, r) in list.iter().flatten().enumerate() {
                let key = format!("{base}.{name}[{n}]");
                if roles.get(r.get_ref()).is_none() {
                    return at.err(r.span(), key, format!("unknown role `{}`; roles: {}", r.get_ref(), role_ids()));
                }
                if out.contains(r.get_ref()) {
                    return at.err(r.span(), key, format!("`{}` is listed twice", r.get_ref()));
                }
                out.push(r.get_ref().clone());
            }
            Ok(out)
        };
        let lead_roles = role_list(&self.lead_roles, "lead_roles")?;
        let go_roles = role_list(&self.go_roles, "go_roles")?;
        let remind_after = match &self.remind_after {
            Some(r) => Some(duration(at, r, &format!("{base}.remind_after"))?),
            None => None,
        };
        Ok(Plan {
            remind_after,
            lead_roles,
            go_roles,
            id: plan_id.clone(),
            name: self.name.clone().unwrap_or(plan_id),
            phases,
            go_gate,
            status_cron,
            hooks,
            auto_rollback: self.auto_rollback,
            rollback: match &self.rollback {
                Some(r) => r.validate(at, &format!("{base}.rollback"), roles)?,
                None => RollbackPlan {
                    quick: default_rollback_roles(roles),
                    planned: default_rollback_roles(roles),
                    items: Vec::new(),
                },
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    name: Spanned<String>,
    on: Spanned<Vec<Spanned<String>>>,
    webhook: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
    command: Option<Spanned<Vec<String>>>,
    timeout: Option<Spanned<String>>,
}

/// Hooks wait this long unless they say otherwise.
const HOOK_TIMEOUT: Duration = Duration::from_secs(30);

impl RawHook {
    fn validate(&self, at: &Locator<'_>, key: &str) -> Result<Hook, ConfigError> {
        let name = id(at, &self.name, &format!("{key}.name"))?;
        if self.on.get_ref().is_empty() {
            return at.err(
                self.on.span(),
                format!("{key}.on"),
                format!("say when the hook runs: {}", HOOK_TRIGGERS.join(", ")),
            );
        }
        for trigger in self.on.get_ref() {
            if !HOOK_TRIGGERS.contains(&trigger.get_ref().as_str()) {
                return at.err(
                    trigger.span(),
                    format!("{key}.on"),
                    format!(
                        "`{}` is not an event hooks run on; events: {}",
                        trigger.get_ref(),
                        HOOK_TRIGGERS.join(", ")
                    ),
                );
            }
        }
        let action = match (&self.webhook, &self.command) {
            (Some(url), None) => {
                let ok = url::Url::parse(url.get_ref()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                if !ok {
                    return at.err(
                        url.span(),
                        format!("{key}.webhook"),
                        format!("`{}` is not an http(s) URL", url.get_ref()),
                    );
                }
                let Some(secret_env) = &self.secret_env else {
                    return at.err(
                        url.span(),
                        format!("{key}.secret_env"),
                        "a webhook needs `secret_env`: the environment variable holding the secret its requests are signed with",
                    );
                };
                HookAction::Webhook { url: url.get_ref().clone(), secret_env: secret_env.get_ref().clone() }
            }
            (None, Some(command)) => {
                if !command.get_ref().first().is_some_and(|p| !p.trim().is_empty()) {
                    return at.err(
                        command.span(),
                        format!("{key}.command"),
                        "name the program to run, then its arguments",
                    );
                }
                HookAction::Command { argv: command.get_ref().clone() }
            }
            _ => {
                return at.err(
                    self.name.span(),
                    key,
                    "a hook has either `webhook` (a URL) or `command` (a program and its arguments)",
                )
            }
        };
        let timeout = match &self.timeout {
            Some(t) => duration(at, t, &format!("{key}.timeout"))?,
            None => HOOK_TIMEOUT,
        };
        Ok(Hook { name, on: self.on.get_ref().iter().map(|t| t.get_ref().clone()).collect(), action, timeout })
    }
}
