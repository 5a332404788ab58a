//! `GET /deployments/ID`: one deployment as one page — its facts, an open escalation or
//! rollback, the blockers (open and cleared), the timeline chart, the checklist by phase and
//! section with who ticked what and when, the sign-off sheet, the rollback checklist, and every recorded event. Everything that changes
//! sits in `#live`, which the page's script swaps for a fresh copy on each streamed event.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::list::{lead, status_label};
use super::{chart, layout, time, Links};
use crate::domain::progress::progress;
use crate::domain::{Deployment, Event, EventKind, Item, Phase, Roles};
use crate::render::report::details;
use crate::render::{clean, human};
use crate::store::DeploymentRow;

/// What the page is drawn from.
pub struct View<'a> {
    pub row: &'a DeploymentRow,
    pub state: &'a Deployment,
    pub events: &'a [Event],
    pub roles: &'a Roles,
    pub now: DateTime<Utc>,
    pub links: &'a Links,
}

impl View<'_> {
    /// A role's name from the config, with its id; the id alone when the config no longer
    /// has it.
    fn role(&self, id: &str) -> Markup {
        match self.roles.0.get(id) {
            Some(role) if role.name != id => html! { (clean(&role.name)) " " span.id { "(" (id) ")" } },
            _ => html! { (id) },
        }
    }
}

pub fn render(v: &View<'_>) -> Markup {
    let (d, id) = (v.state, v.row.id);
    let last_seq = v.events.last().map_or(0, |e| e.seq);
    let stream = v.links.to(&format!("/deployments/{id}/events?after={last_seq}"));
    let title = format!("Deployment #{id}: {}", clean(&d.release));
    let body = html! {
        p.live #live-status role="status" {
            @if d.status.is_open() { "Reload to update (live updates need JavaScript)" } @else { "This deployment has ended." }
        }
        p #live-news .visually-hidden aria-live="polite" {}
        // An ended deployment's page has no stream to follow.
        div #live data-stream=[d.status.is_open().then_some(&stream)] {
            h1 {
                "Deployment #" (id) ": " (clean(&d.release)) " "
                span class={ "status " (v.row.status) } { (status_label(&v.row.status)) }
            }
            (facts(v))
            (alerts(v))
            h2 #blockers { "Blockers" }
            (blockers(v))
            h2 #timeline { "Timeline" }
            (chart::timeline(d, v.events, v.now))
            h2 #checklist { "Checklist" }
            (checklist(v))
            h2 #signoffs { "Sign-off sheet" }
            (signoffs(v))
            @if !d.plan.rollback.items.is_empty() && (d.rollback.is_some() || !d.rollback_checked.is_empty()) {
                h2 #rollback-checklist { "Rollback checklist" }
                (rollback_checklist(v))
            }
            h2 #events { "Events" }
            (events(v))
        }
        p.exports {
            "Download: "
            a href=(v.links.to(&format!("/deployments/{id}.md"))) { "Markdown report" } " · "
            a href=(v.links.to(&format!("/deployments/{id}.json"))) { "JSON" } " · "
            a href=(v.links.to(&format!("/deployments/{id}.csv"))) { "CSV" }
        }
    };
    layout::page(&title, v.links, body)
}

fn facts(v: &View<'_>) -> Markup {
    let d = v.state;
    let end = d.ended_at();
    let took = human(
        ((end.unwrap_or(if d.status.is_open() { v.now } else { d.updated_at })) - d.started_at)
            .to_std()
            .unwrap_or_default(),
    );
    let percent = progress(d).percent();
    html! {
        dl.facts {
            div { dt { "Plan" } dd { (clean(&d.plan.name)) " " span.id { "(" (d.plan.id) ")" } } }
            div { dt { "Channel" } dd { (d.platform) ":" (clean(&d.channel)) } }
            div { dt { "Lead" } dd { (lead(v.row)) } }
            div {
                dt { "Progress" }
                dd.bar { progress max="100" value=(percent) aria-label="Progress" { (percent) "%" } (percent) "%" }
            }
            div { dt { "Started" } dd { (time(d.started_at)) } }
            @match end {
                Some(end) => div { dt { "Ended" } dd { (time(end)) } },
                None => div { dt { "Last activity" } dd { (time(d.updated_at)) } },
            }
            div { dt { "Duration" } dd { (took) " of " (human(d.plan.planned_total())) " planned" } }
            @if let Some(i) = d.current {
                div { dt { "Current phase" } dd { (clean(&d.plan.phases[i].name)) } }
            }
            div { dt { "Traffic" } dd { @match d.traffic { Some(t) => { (t) "%" }, None => "—" } } }
            div {
                dt { "Go / no-go" }
                dd {
                    @match &d.decision {
                        Some(x) if x.go => { "GO by " (clean(x.by.display())) }
                        Some(x) => { "NO-GO by " (clean(x.by.display())) @if let Some(r) = &x.reason { ": " (clean(r)) } }
                        None => "not decided yet",
                    }
                }
            }
        }
    }
}

fn alerts(v: &View<'_>) -> Markup {
    let d = v.state;
    html! {
        @if let (true, Some(e)) = (d.status.is_open(), &d.escalation) {
            section.alert aria-labelledby="escalation" {
                h2 #escalation { "Open escalation: level " (e.level) }
                p { (clean(&e.message)) " — raised by " (clean(e.opened_by.display())) " at " (time(e.opened_at)) "." }
                p {
                    @match &e.acked {
                        Some((stamp, level)) => { "Acknowledged at level " (level) " by " (clean(stamp.by.display())) " at " (time(stamp.at)) "." }
                        None => { "Waiting for acknowledgement since " (time(e.raised_at)) "." }
                    }
                }
            }
        }
        @if let Some(r) = &d.rollback {
            section.alert aria-labelledby="rollback" {
                h2 #rollback { "Rollback" @if let Some(l) = d.rollback_level { " (" (l.as_str()) ")" } }
                p { (clean(&r.text)) " — " (clean(r.by.display())) " at " (time(r.at)) "." }
            }
        }
        @if !d.failing_checks.is_empty() {
            section.alert.warn aria-labelledby="failing" {
                h2 #failing { "Checks failing" }
                ul { @for (item, measured) in &d.failing_checks { li { code { (item) } " — " (clean(measured)) } } }
            }
        }
    }
}

fn checklist(v: &View<'_>) -> Markup {
    let d = v.state;
    html! {
        @for (i, (phase, state)) in d.plan.phases.iter().zip(&d.phases).enumerate() {
            h3 {
                (i + 1) ". " (clean(&phase.name)) " " span.id { "(" (phase.id) ")" }
                " — "
                @match (state.started_at, state.completed_at) {
                    (Some(s), Some(e)) => {
                        @let took = (e - s).to_std().unwrap_or_default();
                        span.late[took > phase.planned] { "took " (human(took)) } " of " (human(phase.planned)) " planned"
                    }
                    (Some(_), None) => { "running, " (human(phase.planned)) " planned" }
                    _ => { "not started, " (human(phase.planned)) " planned" }
                }
            }
            @if phase.items.is_empty() {
                p.muted { "No checklist items." }
            } @else {
                div.table-scroll {
                    table.checklist {
                        caption.visually-hidden { "Checklist of " (clean(&phase.name)) }
                        thead { tr { th scope="col" { "Item" } th scope="col" { "What" } th scope="col" { "Owner" } th scope="col" { "Done" } th scope="col" { "By" } th scope="col" { "When" } } }
                        @for (section, items) in sections(phase) {
                            tbody.section {
                                @if let Some(section) = section {
                                    @let done = items.iter().filter(|item| state.checked.contains_key(&item.id)).count();
                                    tr.section-head {
                                        th colspan="6" scope="rowgroup" {
                                            "Section: " (clean(section)) " " span.muted { "(" (done) " of " (items.len()) " done)" }
                                        }
                                    }
                                }
                                @for item in items {
                                    tr {
                                        th scope="row" { code { (item.id) } }
                                        td { (clean(&item.text)) @if !item.required { " " span.muted { "(optional)" } } }
                                        td { (v.role(&item.role)) }
                                        @match state.checked.get(&item.id) {
                                            Some(s) => { td.done { "✓ done" } td { (clean(s.by.display())) } td { (time(s.at)) } }
                                            None => { td.open { "open" } td { "—" } td { "—" } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A phase's items grouped by section, in plan order: those without a section first (as
/// status posts list them), then each section in the order its first item appears.
fn sections(phase: &Phase) -> Vec<(Option<&str>, Vec<&Item>)> {
    let loose: Vec<&Item> = phase.items.iter().filter(|i| i.section.is_none()).collect();
    let named = phase.sections().into_iter().map(|name| {
        (Some(name), phase.items.iter().filter(|i| i.section.as_deref() == Some(name)).collect::<Vec<_>>())
    });
    (!loose.is_empty()).then_some((None, loose)).into_iter().chain(named).collect()
}

/// Every blocker raised, open ones first, cleared ones with who cleared them and when.
fn blockers(v: &View<'_>) -> Markup {
    let d = v.state;
    let open = d.open_blockers().count();
    let ordered =
        d.blockers.iter().filter(|b| b.cleared.is_none()).chain(d.blockers.iter().filter(|b| b.cleared.is_some()));
    html! {
        @if d.blockers.is_empty() {
            p.muted { "No blockers raised. " span.id { "(" code { "/deploy blocker TEXT" } " raises one.)" } }
        } @else {
            p {
                @match open { 0 => "None open; ", 1 => strong.bad { "1 open; " }, n => strong.bad { (n) " open; " } }
                (d.blockers.len() - open) " cleared."
            }
            div.table-scroll {
                table.blockers {
                    caption.visually-hidden { "Blockers, open ones first" }
                    thead { tr { th scope="col" class="num" { "#" } th scope="col" { "Blocker" } th scope="col" { "Raised by" } th scope="col" { "Raised" } th scope="col" { "State" } } }
                    tbody {
                        @for b in ordered {
                            tr id={ "blocker-" (b.number) } class=(if b.cleared.is_some() { "cleared" } else { "blocking" }) {
                                th.num scope="row" { (b.number) }
                                td { (clean(&b.text)) }
                                td { (clean(b.by.display())) }
                                td { (time(b.at)) }
                                @match &b.cleared {
                                    Some(s) => td.done { "cleared by " (clean(s.by.display())) " at " (time(s.at)) },
                                    None => td.bad { "open" },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn signoffs(v: &View<'_>) -> Markup {
    let d = v.state;
    let any = d.plan.phases.iter().any(|p| !p.signoffs.is_empty());
    html! {
        @if !any {
            p.muted { "This plan asks for no sign-offs." }
        } @else {
            div.table-scroll {
                table {
                    caption.visually-hidden { "Sign-offs by phase and role" }
                    thead { tr { th scope="col" { "Phase" } th scope="col" { "Role" } th scope="col" { "Signed by" } th scope="col" { "When" } th scope="col" { "Note" } } }
                    tbody {
                        @for (phase, state) in d.plan.phases.iter().zip(&d.phases) {
                            @for role in &phase.signoffs {
                                tr {
                                    td { (clean(&phase.name)) }
                                    th scope="row" { (v.role(role)) }
                                    @match state.signoffs.get(role) {
                                        Some(s) => {
                                            td.done { "✓ " (clean(s.by.display())) }
                                            td { (time(s.at)) }
                                            td { @if let Some(n) = &s.note { (clean(n)) } }
                                        }
                                        None => { td.open { "missing" } td { "—" } td {} }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn rollback_checklist(v: &View<'_>) -> Markup {
    let d = v.state;
    html! {
        div.table-scroll {
            table {
                thead { tr { th scope="col" { "Item" } th scope="col" { "What" } th scope="col" { "Owner" } th scope="col" { "Done by" } th scope="col" { "When" } } }
                tbody {
                    @for item in &d.plan.rollback.items {
                        tr {
                            th scope="row" { code { (item.id) } }
                            td { (clean(&item.text)) }
                            td { (v.role(&item.role)) }
                            @match d.rollback_checked.get(&item.id) {
                                Some(s) => { td.done { "✓ " (clean(s.by.display())) } td { (time(s.at)) } }
                                None => { td.open { "open" } td { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn events(v: &View<'_>) -> Markup {
    html! {
        div.table-scroll {
            table.events {
                caption.visually-hidden { "Every recorded event, oldest first" }
                thead { tr { th scope="col" class="num" { "#" } th scope="col" { "Time" } th scope="col" { "Who" } th scope="col" { "What" } } }
                tbody {
                    @for e in v.events {
                        tr id={ "event-" (e.seq) } {
                            td.num { (e.seq) }
                            td { (time(e.at)) }
                            td { (clean(e.actor.display())) }
                            td.refused[matches!(e.kind, EventKind::CommandRefused { .. } | EventKind::DeliveryFailed { .. })] { (clean(&details(&e.kind))) }
                        }
                    }
                }
            }
        }
    }
}
