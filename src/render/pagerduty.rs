//! Escalations as paging events: the JSON a PagerDuty Events API v2 compatible webhook takes.
//! Each level an escalation pages is its own incident, with its own `dedup_key`: repeated
//! pings of a level update its incident, a climb opens the next level's (with one routing key
//! for all levels, a single key would fold the climb into the first incident and page nobody
//! new). An acknowledgement or a resolve goes to the incident of every level paged.

use serde_json::{json, Value};

use super::clean;
use crate::domain::deployment::Escalation;
use crate::domain::{Deployment, EscalationLevel, Event, EventKind};

/// One event for one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub url: String,
    pub summary: String,
    pub event: Value,
}

/// The paging events one recorded event causes, read against the state after it.
pub fn pages(
    id: i64,
    event: &Event,
    d: &Deployment,
    open_before: Option<&Escalation>,
    levels: &[EscalationLevel],
) -> Vec<Page> {
    // Resolving concerns the escalation as it was before the event closed it.
    let open = d.escalation.as_ref().or(open_before);
    let Some(esc) = open else { return Vec::new() };
    let dedup_key = |level: u8| format!("golive-{id}-escalation-{}-level-{level}", esc.opened_seq);
    let webhook = |level: u8| levels.get(usize::from(level).checked_sub(1)?)?.webhook.as_deref();
    let follow_up = |action: &str, summary: String| -> Vec<Page> {
        esc.paged_levels
            .iter()
            .filter_map(|&level| {
                Some(Page {
                    url: webhook(level)?.to_string(),
                    summary: summary.clone(),
                    event: json!({ "event_action": action, "dedup_key": dedup_key(level) }),
                })
            })
            .collect()
    };
    match &event.kind {
        EventKind::EscalationOpened { level, message, .. } | EventKind::EscalationRaised { level, message } => {
            let Some(l) = levels.get(usize::from(*level).saturating_sub(1)) else { return Vec::new() };
            let Some(url) = &l.webhook else { return Vec::new() };
            let summary =
                format!("{} in {}: {} (level {level}, {})", clean(&d.release), d.channel, clean(message), l.name);
            let event = json!({
                "event_action": "trigger",
                "dedup_key": dedup_key(*level),
                "payload": {
                    "summary": summary.chars().take(1024).collect::<String>(),
                    "source": "golive",
                    "severity": "critical",
                    "timestamp": event.at.to_rfc3339(),
                    "component": clean(&d.release),
                    "group": format!("{}:{}", d.platform, d.channel),
                    "custom_details": {
                        "deployment": id,
                        "release": clean(&d.release),
                        "level": level,
                        "level_name": l.name,
                        "message": clean(message),
                        "opened_by": esc.opened_by.key(),
                    },
                },
            });
            vec![Page { url: url.clone(), summary, event }]
        }
        EventKind::EscalationAcknowledged { .. } => {
            follow_up("acknowledge", format!("{} acknowledged the escalation", event.actor.display()))
        }
        EventKind::EscalationResolved => {
            follow_up("resolve", format!("{} resolved the escalation", event.actor.display()))
        }
        EventKind::DeploymentCompleted | EventKind::DeploymentAborted { .. } => {
            follow_up("resolve", "the deployment ended".to_string())
        }
        _ => Vec::new(),
    }
}
