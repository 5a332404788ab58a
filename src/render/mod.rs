//! What people read. `StatusView` is the platform-neutral status model (the scheduled post and
//! `/deploy status` share it); `text` renders it and event announcements as plain text for the
//! console; `report` renders a whole deployment for `golive show`; `config_summary` is what
//! `golive check-config` prints.

pub mod blocks;
pub mod config_summary;
pub mod digest;
pub mod embeds;
pub mod limits;
pub mod pagerduty;
pub mod post;
pub mod report;
pub mod text;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::progress::progress;
use crate::domain::{Deployment, EscalationLevel, Roles, Status};

#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    pub deployment_id: i64,
    pub release: String,
    pub plan: String,
    pub lead: String,
    pub status: Status,
    pub progress: u8,
    pub phase: Option<PhaseView>,
    /// The phase to start next when none is running.
    pub next_phase: Option<String>,
    pub phases_done: usize,
    pub phases_total: usize,
    pub elapsed: Duration,
    pub planned: Duration,
    pub traffic: Option<u8>,
    pub decision: Option<String>,
    pub escalation: Option<String>,
    /// Automatic checks failing now: item and what was measured.
    pub failing_checks: Vec<(String, String)>,
    /// While rolling back, the rollback checklist: items done, and the open ones (id, text,
    /// role). Empty when the plan has none or nothing is rolling back.
    pub rollback_checklist: Option<RollbackChecklist>,
    pub rollback: Option<String>,
    pub notes: Vec<(String, String)>,
    pub now: DateTime<Utc>,
    pub next_update: Option<DateTime<Utc>>,
    /// Set on a scheduled post delivered later than its slot.
    pub late_by: Option<Duration>,
    /// What someone could do about it right now: the buttons on platforms that have them.
    pub actions: Actions,
    /// The deployment against the clock, one line each: the go-live countdown and what is due
    /// next, the traffic step being watched, the whole plan overrun.
    pub timing: Vec<String>,
    /// The deployment's web page, when `[server] public_url` is set.
    pub page: Option<String>,
    /// A scheduled post with nothing new since the last one: shown as one line.
    pub repeat: bool,
    /// Open blockers: number, text, who raised it.
    pub blockers: Vec<(u32, String, String)>,
    /// "until 21:30 UTC by dana: waiting for the window" while the scheduled posts are snoozed.
    pub snoozed: Option<String>,
    /// When the deployment should be done: now plus the planned time left, or the go-live
    /// plan's end when that is later. `None` once it no longer moves forward.
    pub eta: Option<DateTime<Utc>>,
    /// The last items ticked in the running phase, oldest first: id and who (at most
    /// `DONE_SHOWN`; `PhaseView::items_done` counts them all).
    pub done_recent: Vec<(String, String)>,
    /// The roles the open items and missing sign-offs wait on: who they are.
    pub owners: Vec<Owner>,
    /// What has to happen next, in order, as people would do it.
    pub next_steps: Vec<String>,
}

/// How many of the running phase's ticked items a status post lists; older ones are counted.
pub const DONE_SHOWN: usize = 3;

/// A role the status names as the owner of open work: its name, and its members on the
/// deployment's platform (ids as the platform knows them; `&ID` for a Discord server role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub role: String,
    pub name: String,
    pub members: Vec<String>,
}

impl StatusView {
    /// The owner of `role`, if the status names it.
    pub fn owner(&self, role: &str) -> Option<&Owner> {
        self.owners.iter().find(|o| o.role == role)
    }

    /// "Operations Team: @olga" with `member` writing each member, or the role id when the
    /// status does not know the role.
    pub fn owner_words(&self, role: &str, member: impl Fn(&str) -> String) -> String {
        match self.owner(role) {
            Some(o) if o.members.is_empty() => o.name.clone(),
            Some(o) => format!("{}: {}", o.name, o.members.iter().map(|m| member(m)).collect::<Vec<_>>().join(" ")),
            None => role.to_string(),
        }
    }
}

/// Open items grouped by the role that owns them, in the order they first appear.
pub fn by_role(items: &[(String, String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (id, _, role) in items {
        match out.iter_mut().find(|(r, _)| r == role) {
            Some((_, ids)) => ids.push(id),
            None => out.push((role, vec![id])),
        }
    }
    out
}

/// The rollback checklist as the status shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackChecklist {
    pub done: usize,
    pub total: usize,
    /// The items still open: id, text, owning role.
    pub open: Vec<(String, String, String)>,
}

/// The actions a status post offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// Roles whose sign-off the running phase is missing.
    pub sign_off: Vec<String>,
    /// An escalation is waiting for acknowledgement.
    pub ack: bool,
    /// The lead's go / no-go decision is still open.
    pub decide: bool,
    /// Rollback has not started.
    pub roll_back: bool,
    /// The scheduled posts run and are not snoozed: "Snooze 1h" quiets them.
    pub snooze: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhaseView {
    pub number: usize,
    pub id: String,
    pub name: String,
    pub elapsed: Duration,
    pub planned: Duration,
    pub items_done: usize,
    pub items_total: usize,
    /// Open required items: (id, text, owning role).
    pub open_required: Vec<(String, String, String)>,
    /// (role, who, when)
    pub signed: Vec<(String, String, DateTime<Utc>)>,
    pub missing_signoffs: Vec<String>,
    pub traffic_steps: Vec<u8>,
    /// The checklist's sections in plan order: name, items done, items in it.
    pub sections: Vec<(String, usize, usize)>,
}

impl PhaseView {
    pub fn overdue(&self) -> bool {
        self.elapsed > self.planned
    }
}

fn since(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or(Duration::ZERO)
}

impl StatusView {
    pub fn build(
        id: i64,
        d: &Deployment,
        levels: &[EscalationLevel],
        roles: &Roles,
        now: DateTime<Utc>,
        next_update: Option<DateTime<Utc>>,
    ) -> StatusView {
        // After a rollback the forward plan is abandoned: the status shows the rollback, its
        // checklist and where traffic was, not the phase and items nobody will finish.
        let rolled_back = d.rollback.is_some();
        let phase = d.current.filter(|_| !rolled_back).map(|i| {
            let plan = &d.plan.phases[i];
            let state = &d.phases[i];
            PhaseView {
                number: i + 1,
                id: plan.id.clone(),
                name: plan.name.clone(),
                elapsed: state.started_at.map(|s| since(s, now)).unwrap_or_default(),
                planned: plan.planned,
                items_done: plan.items.iter().filter(|it| state.checked.contains_key(&it.id)).count(),
                items_total: plan.items.len(),
                open_required: plan
                    .items
                    .iter()
                    .filter(|it| it.required && !state.checked.contains_key(&it.id))
                    .map(|it| (it.id.clone(), it.text.clone(), it.role.clone()))
                    .collect(),
                signed: plan
                    .signoffs
                    .iter()
                    .filter_map(|r| state.signoffs.get(r).map(|s| (r.clone(), s.by.display().to_string(), s.at)))
                    .collect(),
                missing_signoffs: d.missing_signoffs(i).into_iter().map(str::to_string).collect(),
                traffic_steps: plan.traffic.clone(),
                sections: plan
                    .sections()
                    .into_iter()
                    .map(|name| {
                        let items = plan.items.iter().filter(|it| it.section.as_deref() == Some(name));
                        let done = items.clone().filter(|it| state.checked.contains_key(&it.id)).count();
                        (name.to_string(), done, items.count())
                    })
                    .collect(),
            }
        });
        let escalation = d.escalation.as_ref().map(|e| {
            let name = levels.get(usize::from(e.level).saturating_sub(1)).map(|l| l.name.as_str()).unwrap_or("");
            let state = match &e.acked {
                Some((stamp, _)) => {
                    format!("acknowledged by {} after {}", stamp.by, human(since(e.raised_at, stamp.at)))
                }
                None => format!("waiting for acknowledgement for {}", human(since(e.raised_at, now))),
            };
            format!("level {} ({name}): {} — {state}", e.level, e.message)
        });
        let decision = d.decision.as_ref().map(|dec| match (dec.go, &dec.reason) {
            (true, _) => format!("GO by {}", dec.by),
            (false, reason) => format!("NO-GO by {}: {}", dec.by, reason.as_deref().unwrap_or("")),
        });
        let end = d.ended_at().unwrap_or(now);
        let open = d.status == Status::Active;
        let actions = Actions {
            sign_off: match (open, d.current) {
                (true, Some(i)) => d.missing_signoffs(i).into_iter().map(str::to_string).collect(),
                _ => Vec::new(),
            },
            ack: d.status.is_open() && d.escalation.as_ref().is_some_and(|e| e.acked.is_none()),
            // Offered when the lead can decide: everything before the gate done, the gate not
            // started, and no go given yet.
            decide: open
                && !d.decision.as_ref().is_some_and(|x| x.go)
                && d.plan
                    .go_gate_index()
                    .is_some_and(|g| d.phases[g].started_at.is_none() && d.phases[..g].iter().all(|p| p.is_done())),
            roll_back: open,
            snooze: d.status.is_open() && d.snoozed(now).is_none(),
        };
        StatusView {
            deployment_id: id,
            release: d.release.clone(),
            plan: d.plan.name.clone(),
            lead: d.lead.display().to_string(),
            status: d.status,
            progress: progress(d).percent(),
            phase,
            next_phase: if d.current.is_none() && !rolled_back {
                d.next_phase().map(|i| d.plan.phases[i].id.clone())
            } else {
                None
            },
            phases_done: d.phases.iter().filter(|p| p.is_done()).count(),
            phases_total: d.phases.len(),
            elapsed: since(d.started_at, end),
            planned: d.plan.planned_total(),
            traffic: d.traffic.filter(|_| !rolled_back),
            decision,
            escalation,
            failing_checks: d.failing_checks.iter().map(|(i, m)| (i.clone(), m.clone())).collect(),
            rollback_checklist: (d.status == Status::RollingBack && !d.plan.rollback.items.is_empty()).then(|| {
                let items = &d.plan.rollback.items;
                let done = items.iter().filter(|i| d.rollback_checked.contains_key(&i.id)).count();
                let open = items
                    .iter()
                    .filter(|i| !d.rollback_checked.contains_key(&i.id))
                    .map(|i| (i.id.clone(), i.text.clone(), i.role.clone()))
                    .collect();
                RollbackChecklist { done, total: items.len(), open }
            }),
            rollback: d.rollback.as_ref().map(|r| {
                let from = d.traffic.map(|t| format!(" (traffic was at {t}%)")).unwrap_or_default();
                match d.rollback_level {
                    Some(level) => format!("({level}, {}) {} by {}{from}", level.window(), r.text, r.by),
                    None => format!("{} by {}{from}", r.text, r.by),
                }
            }),
            notes: d.notes.iter().rev().take(3).rev().map(|n| (n.by.display().to_string(), n.text.clone())).collect(),
            now,
            next_update,
            late_by: None,
            actions,
            timing: timing(d, now),
            page: None,
            repeat: false,
            blockers: d.open_blockers().map(|b| (b.number, b.text.clone(), b.by.display().to_string())).collect(),
            snoozed: d.snoozed(now).map(|s| {
                let why = s.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                format!("until {} UTC by {}{why}", s.until.format("%H:%M"), s.by)
            }),
            eta: eta(d, now),
            done_recent: match d.current.filter(|_| !rolled_back) {
                Some(i) => {
                    let mut done: Vec<_> = d.phases[i].checked.iter().collect();
                    done.sort_by_key(|(_, stamp)| stamp.at);
                    let skip = done.len().saturating_sub(DONE_SHOWN);
                    done.into_iter().skip(skip).map(|(id, s)| (id.clone(), s.by.display().to_string())).collect()
                }
                None => Vec::new(),
            },
            owners: owners(d, roles, rolled_back),
            next_steps: next_steps(d, now),
        }
    }
}

impl StatusView {
    /// The one line a quiet repeat is: where things stand, and when the next update is.
    pub fn repeat_line(&self) -> String {
        let at = match &self.phase {
            Some(p) => format!("phase {} running {} of {} planned", p.id, human(p.elapsed), human(p.planned)),
            None => format!("{}/{} phases done", self.phases_done, self.phases_total),
        };
        let next = self.next_update.map(|t| format!(" · next update {} UTC", t.format("%H:%M"))).unwrap_or_default();
        let blockers = match self.blockers.len() {
            0 => String::new(),
            n => format!(", {} open", crate::domain::words::count(n, "blocker")),
        };
        format!(
            "{} — nothing new since the last update: {at}, {}% done{blockers}{next}",
            typed(&self.release),
            self.progress
        )
    }
}

/// The status's lines about time: "T-3h 12m · next: phase `x` at T-1h (07:00 UTC)",
/// "watching 50% — 12 min to go", "OVERDUE: …".
fn timing(d: &Deployment, now: DateTime<Utc>) -> Vec<String> {
    use crate::domain::timeline::{offset, t_minus};
    let mut out = Vec::new();
    if !d.status.is_open() {
        return out;
    }
    // While rolling back the forward plan is abandoned: no next milestone, no traffic hold.
    let forward = d.status == Status::Active;
    if let Some(go_live) = d.go_live {
        let next = d
            .next_milestone()
            .filter(|_| forward)
            .map(|m| {
                let late = if m.at <= now { " — LATE" } else { "" };
                format!(" · next: phase {} at {} ({} UTC){late}", m.phase, offset(m.offset), m.at.format("%H:%M"))
            })
            .unwrap_or_default();
        out.push(format!("{} (go-live {} UTC){next}", t_minus(go_live, now), go_live.format("%Y-%m-%d %H:%M")));
    }
    if !forward {
        return out;
    }
    if let (Some(t), Some(left)) = (d.traffic, d.hold_left(now)) {
        out.push(format!("watching {t}% — {} to go", minutes_left(left)));
    } else if let (Some(t), false) = (d.traffic, d.open_step_items().is_empty()) {
        out.push(format!("holding {t}% until done: {}", d.open_step_items().join(", ")));
    }
    if now >= d.planned_end() && d.status == Status::Active {
        out.push(format!("OVERDUE: past the whole plan ({} planned)", human(d.plan.planned_total())));
    }
    out
}

/// When the deployment should be done, if it still moves forward: now plus the planned time
/// left (the running phase's remainder and every phase not started), or the end of the
/// go-live plan when the deployment has one and that is later.
fn eta(d: &Deployment, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if d.status != Status::Active {
        return None;
    }
    let left: Duration = d
        .plan
        .phases
        .iter()
        .zip(&d.phases)
        .filter(|(_, state)| !state.is_done())
        .map(|(phase, state)| match state.started_at {
            Some(started) => phase.planned.saturating_sub(since(started, now)),
            None => phase.planned,
        })
        .sum();
    let from_now = now.checked_add_signed(chrono::Duration::from_std(left).ok()?)?;
    let last = d.plan.phases.len().checked_sub(1)?;
    Some(match d.planned_start(last) {
        Some(_) => from_now.max(d.planned_end()),
        None => from_now,
    })
}

/// The roles the open work waits on (open required items, missing sign-offs, or while
/// rolling back the open rollback items), each once, with their members on this platform.
fn owners(d: &Deployment, roles: &Roles, rolled_back: bool) -> Vec<Owner> {
    let mut ids: Vec<&str> = Vec::new();
    if rolled_back {
        if d.status == Status::RollingBack {
            let open = d.plan.rollback.items.iter().filter(|i| !d.rollback_checked.contains_key(&i.id));
            ids.extend(open.map(|i| i.role.as_str()));
        }
    } else if let Some(i) = d.current {
        let open = d.open_required_items(i);
        let items = d.plan.phases[i].items.iter().filter(|it| open.contains(&it.id.as_str()));
        ids.extend(items.map(|it| it.role.as_str()));
        ids.extend(d.missing_signoffs(i));
    }
    let mut out: Vec<Owner> = Vec::new();
    for id in ids {
        if out.iter().any(|o| o.role == id) {
            continue;
        }
        let (name, members) = match roles.get(id) {
            Some(role) => (
                role.name.clone(),
                role.members.iter().filter(|m| m.platform == d.platform).map(|m| m.id.clone()).collect(),
            ),
            None => (id.to_string(), Vec::new()),
        };
        out.push(Owner { role: id.to_string(), name, members });
    }
    out
}

/// What has to happen next, as people would do it: the work of the running phase, the next
/// traffic step, the go decision, the next phase, completion; while rolling back, the
/// rollback checklist and closing the deployment.
fn next_steps(d: &Deployment, now: DateTime<Utc>) -> Vec<String> {
    let mut out = Vec::new();
    match d.status {
        Status::Ended(_) => {}
        Status::RollingBack => {
            let open: Vec<&str> = d
                .plan
                .rollback
                .items
                .iter()
                .filter(|i| i.required && !d.rollback_checked.contains_key(&i.id))
                .map(|i| i.id.as_str())
                .collect();
            if open.is_empty() {
                out.push("`/deploy complete` closes the rolled-back deployment".into());
            } else {
                out.push(format!("tick the rollback checklist: {}", open.join(", ")));
            }
        }
        Status::Active => match d.current {
            Some(i) => {
                let phase = &d.plan.phases[i];
                let open = d.open_required_items(i);
                let missing = d.missing_signoffs(i);
                if !open.is_empty() {
                    out.push(format!("tick {}", open.join(", ")));
                }
                if !missing.is_empty() {
                    out.push(format!("sign-offs from {}", missing.join(", ")));
                }
                let next_step = phase.traffic.iter().copied().find(|s| d.traffic.map_or(true, |t| *s > t));
                if let Some(step) = next_step {
                    let waiting = d.open_step_items();
                    match (d.hold_left(now), waiting.is_empty()) {
                        (Some(left), _) => out.push(format!("traffic {step}% in {}", minutes_left(left))),
                        (None, false) => out.push(format!("finish {} before traffic {step}%", waiting.join(", "))),
                        (None, true) => out.push(format!("`/deploy traffic {step}`")),
                    }
                }
                if open.is_empty() && missing.is_empty() && next_step.is_none() {
                    out.push(format!("`/deploy phase done` completes {}", phase.id));
                }
            }
            None => match d.next_phase() {
                Some(j) if d.plan.go_gate_index() == Some(j) && !d.decision.as_ref().is_some_and(|x| x.go) => {
                    out.push(format!(
                        "the lead's go/no-go for {} (`/deploy go` or `/deploy nogo REASON`)",
                        d.plan.phases[j].id
                    ));
                }
                Some(j) => out.push(format!("`/deploy phase start {}`", d.plan.phases[j].id)),
                None => out.push("`/deploy complete` ends the deployment".into()),
            },
        },
    }
    out
}

/// "12 min", "1h 5m", rounded up so the last minute does not read "0 min".
fn minutes_left(d: Duration) -> String {
    let mins = d.as_secs().div_ceil(60);
    if mins < 60 {
        format!("{mins} min")
    } else {
        human(Duration::from_secs(mins * 60))
    }
}

/// The address of deployment `id`'s web page under `public_url` (`[server] public_url`).
pub fn page_url(public_url: &str, id: i64) -> String {
    format!("{}/deployments/{id}", public_url.trim_end_matches('/'))
}

pub use crate::domain::timeline::human;

/// Control characters from user text must not reach a terminal or a report as such.
pub fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '\u{FFFD}' } else { c }).collect()
}

/// Text people typed, as a chat post shows it: `clean`, with every mention in it (`<@U1>`,
/// `<!channel>`, `<!subteam^S1>`, `<#C1>`, Discord's `<@&1>`) broken by an invisible word
/// joiner after its `<`. It reads the same but pings nobody on any platform, whoever it names:
/// only the mentions golive composes itself (pages, reminders) ping.
pub fn typed(text: &str) -> String {
    clean(text).replace("<@", "<\u{2060}@").replace("<!", "<\u{2060}!").replace("<#", "<\u{2060}#")
}
