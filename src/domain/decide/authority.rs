//! Who may lead and decide: the plan's `lead_roles` start deployments and take the lead over;
//! the lead and the plan's `go_roles` give go / no-go, and the record says in which capacity.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use super::{join, Decider, Rules};
use crate::domain::actor::{Actor, Platform};
use crate::domain::event::EventKind;
use crate::domain::plan::Plan;
use crate::domain::refusal::Refusal;
use crate::domain::words::shown;

/// `roles` as a refusal names them: "`release-manager` or `tech-lead`", or any role.
fn named(roles: &[String]) -> String {
    if roles.is_empty() {
        return "a role".to_string();
    }
    roles.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(" or ")
}

/// Whether `actor` may lead a deployment of `plan`: a member of its `lead_roles`, or of any
/// role where the plan names none.
fn may_lead(rules: &Rules<'_>, plan: &Plan, actor: &Actor) -> bool {
    if plan.lead_roles.is_empty() {
        !rules.roles.held_by(actor).is_empty()
    } else {
        plan.lead_roles.iter().any(|r| rules.roles.holds(actor, r))
    }
}

/// Checks the starter against the plan's `lead_roles` and fills in the go-live time.
pub(super) fn may_start(
    rules: &Rules<'_>,
    actor: &Actor,
    mut events: Vec<EventKind>,
    at: Option<&str>,
) -> Result<Vec<EventKind>, Refusal> {
    let Some(EventKind::DeploymentStarted { plan, go_live, .. }) = events.first_mut() else {
        return Ok(events);
    };
    if !may_lead(rules, plan, actor) {
        return Err(Refusal::NotLeadRole { plan: plan.id.clone(), roles: named(&plan.lead_roles) });
    }
    if let Some(at) = at {
        *go_live = Some(
            go_live_time(at, rules.timezone)
                .ok_or_else(|| Refusal::BadGoLive { given: shown(at), timezone: rules.timezone.to_string() })?,
        );
    }
    Ok(events)
}

/// `2026-12-01T07:00` (or with a space, or seconds) in `tz`, or with an offset
/// (`…+01:00`, `…Z`).
fn go_live_time(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"] {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .and_then(|naive| tz.from_local_datetime(&naive).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// The person `/deploy lead` names: a chat mention (`<@U123>`, `<@U123|alice>`, `<@!123>`),
/// `@alice`, a bare id, or a member as the config writes it (`slack:U123`).
fn person(typed: &str, platform: Platform) -> Option<Actor> {
    let typed = typed.trim();
    if let Some(inner) = typed.strip_prefix("<@").and_then(|t| t.strip_suffix('>')) {
        let id = inner.split('|').next()?.trim_start_matches('!');
        return (!id.is_empty()).then(|| Actor::new(platform, id));
    }
    if let Some((p, id)) = typed.split_once(':') {
        if let Some(p) = Platform::parse_member_platform(p) {
            return (!id.is_empty()).then(|| Actor::new(p, id));
        }
    }
    let id = typed.trim_start_matches('@');
    (!id.is_empty()).then(|| Actor::new(platform, id))
}

impl Decider<'_> {
    pub(super) fn hand_over(&self, user: &str) -> Result<Vec<EventKind>, Refusal> {
        let plan = &self.d.plan;
        if !self.is_lead() && !may_lead(self.rules, plan, self.actor) {
            return Err(Refusal::NotLeadOrLeadRole {
                lead: self.d.lead.display().to_string(),
                roles: named(&plan.lead_roles),
            });
        }
        let Some(to) = person(user, self.actor.platform) else {
            return Err(Refusal::Empty { what: "the person to hand the lead to" });
        };
        // Find the member as the roles write them, so a console name matches in any case.
        let to = self
            .rules
            .roles
            .0
            .values()
            .flat_map(|r| &r.members)
            .find(|m| m.platform == to.platform && m.id.eq_ignore_ascii_case(&to.id))
            .map(|m| Actor::new(m.platform, m.id.clone()))
            .unwrap_or(to);
        if to.same_person(&self.d.lead) {
            return Err(Refusal::AlreadyLead { who: to.display().to_string() });
        }
        if !may_lead(self.rules, plan, &to) {
            return Err(Refusal::CannotLead {
                who: shown(to.display()),
                plan: plan.id.clone(),
                roles: named(&plan.lead_roles),
            });
        }
        Ok(vec![EventKind::LeadChanged { lead: to }])
    }

    /// The capacity the caller decides in: `None` as the lead, else the `go_roles` role.
    fn decider(&self, action: &'static str) -> Result<Option<String>, Refusal> {
        if self.is_lead() {
            return Ok(None);
        }
        let roles = &self.d.plan.go_roles;
        match roles.iter().find(|r| self.rules.roles.holds(self.actor, r)) {
            Some(role) => Ok(Some(role.clone())),
            None if roles.is_empty() => Err(Refusal::NotLead { action, lead: self.d.lead.display().to_string() }),
            None => Err(Refusal::NotDecider {
                action,
                lead: self.d.lead.display().to_string(),
                roles: format!(" or members of {}", named(roles)),
            }),
        }
    }

    pub(super) fn decision(&self, no_go: Option<&str>) -> Result<Vec<EventKind>, Refusal> {
        let role = self.decider(if no_go.is_some() { "call no-go" } else { "give the go" })?;
        if let Some(reason) = no_go {
            if reason.trim().is_empty() {
                return Err(Refusal::Empty { what: "the no-go reason" });
            }
        }
        let plan = &self.d.plan;
        if let Some(gate) = plan.go_gate_index() {
            let gate_id = plan.phases[gate].id.clone();
            if self.d.phases[gate].started_at.is_some() {
                return Err(Refusal::TooLateForDecision { gate: gate_id });
            }
            let open: Vec<&str> =
                (0..gate).filter(|&i| !self.d.phases[i].is_done()).map(|i| plan.phases[i].id.as_str()).collect();
            if !open.is_empty() {
                return Err(Refusal::TooEarlyForDecision { gate: gate_id, open: join(open) });
            }
        }
        match (no_go, &self.d.decision) {
            (None, Some(decision)) if decision.go => Err(Refusal::AlreadyGo { by: decision.by.display().to_string() }),
            (None, _) => Ok(vec![EventKind::GoDecided { role }]),
            (Some(reason), _) => Ok(vec![EventKind::NoGoDecided { reason: reason.trim().to_string(), role }]),
        }
    }
}
