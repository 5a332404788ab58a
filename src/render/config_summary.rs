//! What `golive check-config` prints about a configuration that passed its checks: the roles,
//! each plan's phases with their timing, checklist order and gates, the escalation path, the
//! triggers that escalate by themselves, the stakeholder digest and the deploy freezes.

use super::human;
use crate::config::Config;
use crate::domain::words::count;
use crate::domain::{timeline, Phase};

/// A phase's timing and checklist order for `check-config`: planned start, hold, the items
/// tied to traffic steps, sections, and the items that come after others.
fn phase_extras(p: &Phase) -> String {
    let mut out = String::new();
    if let Some(at) = p.at {
        out.push_str(&format!(" · starts {}", timeline::offset(at)));
    }
    if let Some(hold) = p.hold {
        out.push_str(&format!(" · hold {} per step", human(hold)));
    }
    if let Some(after) = p.remind_after {
        out.push_str(&format!(" · remind after {}", human(after)));
    }
    let steps: Vec<String> =
        p.items.iter().filter_map(|it| it.step.map(|st| format!("{} before leaving {st}%", it.id))).collect();
    if !steps.is_empty() {
        out.push_str(&format!(" · {}", steps.join(", ")));
    }
    let sections: Vec<String> = p
        .sections()
        .iter()
        .map(|name| format!("{name} ({})", p.items.iter().filter(|it| it.section.as_deref() == Some(name)).count()))
        .collect();
    if !sections.is_empty() {
        out.push_str(&format!(" · sections: {}", sections.join(", ")));
    }
    let ordered: Vec<String> = p
        .items
        .iter()
        .filter(|it| !it.after.is_empty())
        .map(|it| format!("{} after {}", it.id, it.after.join(" & ")))
        .collect();
    if !ordered.is_empty() {
        out.push_str(&format!(" · order: {}", ordered.join(", ")));
    }
    out
}

/// `golive check-config`'s report.
pub fn summary(config: &Config) -> String {
    let mut s = format!("{}: ok\n", config.source);
    s.push_str(&format!(
        "roles: {}\n",
        config
            .roles
            .0
            .values()
            .map(|r| format!("{} ({})", r.id, count(r.members.len(), "member")))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s.push_str(&format!("status posts: \"{}\" in {}\n", config.status.cron, config.status.timezone));
    for plan in config.plans.values() {
        let default = if plan.id == config.default_plan { ", the default" } else { "" };
        s.push_str(&format!("\nplan {} — {}{default}: {} planned\n", plan.id, plan.name, human(plan.planned_total())));
        let roles = |r: &[String], none: &str| if r.is_empty() { none.to_string() } else { r.join(", ") };
        s.push_str(&format!(
            "  lead: {} · go / no-go: the lead{}\n",
            roles(&plan.lead_roles, "any role's members"),
            if plan.go_roles.is_empty() { String::new() } else { format!(" and {}", plan.go_roles.join(", ")) }
        ));
        if let Some(after) = plan.remind_after {
            s.push_str(&format!(
                "  reminds the owners of open required items and missing sign-offs {} into a phase\n",
                human(after)
            ));
        }
        for (i, p) in plan.phases.iter().enumerate() {
            let required = p.items.iter().filter(|it| it.required).count();
            let gate = if plan.go_gate.as_deref() == Some(p.id.as_str()) { " · needs go" } else { "" };
            let traffic = if p.traffic.is_empty() {
                String::new()
            } else {
                format!(" · traffic {}", p.traffic.iter().map(|t| format!("{t}%")).collect::<Vec<_>>().join("→"))
            };
            s.push_str(&format!(
                "  {}. {} ({}, {}): {} ({required} required) · sign-offs: {}{traffic}{gate}{}\n",
                i + 1,
                p.id,
                p.name,
                human(p.planned),
                count(p.items.len(), "item"),
                if p.signoffs.is_empty() { "none".to_string() } else { p.signoffs.join(", ") },
                phase_extras(p)
            ));
        }
    }
    s.push_str("\nescalation:\n");
    if config.escalation.is_empty() {
        s.push_str("  none configured\n");
    }
    for (i, l) in config.escalation.iter().enumerate() {
        let who = match &l.rotation {
            Some(r) => format!("rotation of {} every {}", r.members.len(), human(r.every)),
            None => count(l.members.len(), "member"),
        };
        let repeat =
            if l.repeat > 0 { format!(" · paged {} times", l.repeat.saturating_add(1)) } else { String::new() };
        let overrides = match l.overrides.len() {
            0 => String::new(),
            n => format!(" · {}", count(n, "override")),
        };
        let webhook = if l.webhook.is_some() { " · paging webhook" } else { "" };
        s.push_str(&format!(
            "  {}. {} — ack within {} — {who}{repeat}{overrides}{webhook}\n",
            i + 1,
            l.name,
            human(l.ack_timeout),
        ));
    }
    let t = &config.triggers;
    if let Some(o) = &t.phase_overdue {
        let severity = format!("{:?}", o.severity).to_lowercase();
        s.push_str(&format!("  escalates by itself: an overdue phase ({severity}, level {})\n", o.level));
    }
    if let Some((after, m)) = &t.signoff_missing {
        let severity = format!("{:?}", m.severity).to_lowercase();
        s.push_str(&format!(
            "  escalates by itself: sign-offs missing {} into a phase ({severity}, level {})\n",
            human(*after),
            m.level
        ));
    }
    let notify = &config.notify;
    if notify.channels.is_empty() {
        s.push_str("\nstakeholder digest: off (no [notify] channels)\n");
    } else {
        let channels: Vec<String> = notify.channels.iter().map(|c| c.to_string()).collect();
        s.push_str(&format!(
            "\nstakeholder digest: {} hear of {}\n",
            channels.join(", "),
            if notify.events.is_empty() { "nothing (events is empty)".to_string() } else { notify.events.join(", ") }
        ));
    }
    if !config.freezes.is_empty() {
        s.push_str("\ndeploy freezes:\n");
        for (freeze, plans) in &config.freezes {
            let only = if plans.is_empty() { String::new() } else { format!(" · plans {}", plans.join(", ")) };
            s.push_str(&format!("  {freeze}{only}\n"));
        }
    }
    s.pop();
    s
}
