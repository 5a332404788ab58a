//! The deployment page's timeline chart, drawn on the server as SVG: each phase's planned
//! span against the span it actually ran, the traffic steps as a step band with each step's
//! hold, and go/no-go, rollback and escalations marked on one time axis. A phase is planned
//! from its `at` (counted from the deployment's go-live time, T-0) when the plan and the
//! deployment have them, otherwise right after the phase before it (the first from the
//! start). A table and a list say the same in text, for screen readers and for print.

use std::fmt::Write;

use chrono::{DateTime, Duration as Span, Utc};
use maud::{html, Markup, PreEscaped};

use super::{clock, when};
use crate::domain::timeline::offset;
use crate::domain::{Deployment, Event, EventKind};
use crate::render::human;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 190.0;
const RIGHT: f64 = 24.0;
const PHASE_ROW: f64 = 38.0;
const TRAFFIC_ROW: f64 = 52.0;
/// One lane of marks; close marks take further lanes so their labels do not overlap.
const MARK_LANE: f64 = 17.0;
const AXIS: f64 = 28.0;

/// One phase's planned and actual spans.
struct Row<'a> {
    id: &'a str,
    name: &'a str,
    planned: (DateTime<Utc>, DateTime<Utc>),
    /// The phase's `at` (seconds from T-0) when its planned start came from it.
    from_t0: Option<i64>,
    /// Start, end (now, while it runs) and whether it ran longer than planned.
    actual: Option<(DateTime<Utc>, DateTime<Utc>, bool)>,
    running: bool,
}

/// A traffic step: when it was set, how long the plan holds it before the next, and why it
/// was forced if it was.
struct Step {
    at: DateTime<Utc>,
    percent: u8,
    /// The hold and when it is over.
    hold: Option<(Span, DateTime<Utc>)>,
    forced: Option<String>,
}

/// Something that happened at a moment: shown as a mark on the axis.
struct Mark {
    at: DateTime<Utc>,
    class: &'static str,
    label: String,
    what: String,
}

/// The chart and its text equivalent, as one `<figure>`.
pub fn timeline(d: &Deployment, events: &[Event], now: DateTime<Utc>) -> Markup {
    let end_of_open = if d.status.is_open() { now.max(d.updated_at) } else { d.updated_at };
    let rows = rows(d, end_of_open);
    let traffic = steps(d, events);
    let marks: Vec<Mark> = events.iter().filter_map(mark).collect();

    let first = rows.iter().map(|r| r.planned.0).chain(d.go_live).fold(d.started_at, DateTime::min);
    let last = [Some(end_of_open), d.ended_at(), d.go_live]
        .into_iter()
        .flatten()
        .chain(rows.iter().map(|r| r.planned.1))
        .chain(rows.iter().filter_map(|r| r.actual.map(|a| a.1)))
        .chain(traffic.iter().filter_map(|t| Some(t.hold?.1)))
        .chain(marks.iter().map(|m| m.at))
        .max()
        .unwrap_or(first);
    let axis = Axis { first, last: last.max(first + Span::minutes(1)) };

    let mark_lanes = lanes(marks.iter().map(|m| (axis.x(m.at), 22.0 + 6.5 * m.label.chars().count() as f64)));
    let traffic_lanes =
        lanes(traffic.iter().map(|t| (axis.x(t.at), 8.0 + 6.5 * (t.percent.to_string().len() + 1) as f64)));
    let lanes_used = mark_lanes.iter().max().map_or(1, |l| l + 1) as f64;
    let height = rows.len() as f64 * PHASE_ROW + TRAFFIC_ROW + 8.0 + lanes_used * MARK_LANE + AXIS + 8.0;
    let layout = Layout {
        axis: &axis,
        end: d.ended_at().unwrap_or(end_of_open),
        go_live: d.go_live,
        height,
        mark_lanes,
        traffic_lanes,
    };
    let svg = draw(&layout, &rows, &traffic, &marks, d.status.is_open().then_some(now));
    let planned_how = match d.go_live {
        Some(t0) if rows.iter().any(|r| r.from_t0.is_some()) => {
            format!("Phases are planned from the go-live time T-0 = {} and the plan's `at`.", when(t0))
        }
        _ => "Phases are planned back to back from the start, by the plan's durations.".to_string(),
    };
    html! {
        figure.chart aria-labelledby="chart-caption" {
            figcaption #chart-caption {
                "Timeline: each phase as planned (thin bar) and as it ran (thick bar; orange when it ran long), "
                "traffic steps with their holds (striped), and decisions, rollback and escalations on one time axis (UTC). "
                (planned_how)
            }
            div.chart-scroll { (PreEscaped(svg)) }
            details.chart-text open {
                summary { "The timeline in text" }
                table {
                    caption.visually-hidden { "Phases planned against actual" }
                    thead { tr { th scope="col" { "Phase" } th scope="col" { "Planned" } th scope="col" { "Actual" } th scope="col" { "Took" } } }
                    tbody {
                        @for row in &rows {
                            tr {
                                th scope="row" { (row.name) " " span.id { "(" (row.id) ")" } }
                                td {
                                    (clock(row.planned.0)) "–" (clock(row.planned.1)) " (" (human(duration(row.planned)))
                                    @if let Some(at) = row.from_t0 { ", from " (offset(at)) }
                                    ")"
                                }
                                @match row.actual {
                                    Some((s, e, late)) => {
                                        td { (clock(s)) "–" @if row.running { "now" } @else { (clock(e)) } }
                                        td.late[late] { (human(duration((s, e)))) @if late { " — longer than planned" } }
                                    }
                                    None => { td { "not started" } td { "—" } }
                                }
                            }
                        }
                    }
                }
                @if !traffic.is_empty() || !marks.is_empty() || d.go_live.is_some() {
                    ul.marks {
                        @if let Some(t0) = d.go_live {
                            li { time datetime=(t0.to_rfc3339()) { (when(t0)) } " — go-live time (T-0)" }
                        }
                        @for t in &traffic {
                            li {
                                time datetime=(t.at.to_rfc3339()) { (when(t.at)) } " — traffic " (t.percent) "%"
                                @if let Some((hold, until)) = t.hold {
                                    ", held " (human(hold.to_std().unwrap_or_default())) " (until " (clock(until)) ")"
                                }
                                @if let Some(why) = &t.forced { ", forced: " (why) }
                            }
                        }
                        @for m in &marks {
                            li { time datetime=(m.at.to_rfc3339()) { (when(m.at)) } " — " (m.what) }
                        }
                    }
                }
            }
        }
    }
}

/// Each phase planned (from its `at` where there is one, else after the phase before) and as
/// it ran; an open phase runs until `end_of_open`.
fn rows(d: &Deployment, end_of_open: DateTime<Utc>) -> Vec<Row<'_>> {
    let mut after = d.started_at;
    (d.plan.phases.iter().zip(&d.phases).enumerate())
        .map(|(i, (phase, state))| {
            let from_t0 = d.planned_start(i);
            let start = from_t0.unwrap_or(after);
            let planned = (start, start.checked_add_signed(span(phase.planned)).unwrap_or(start));
            after = planned.1;
            let actual = state.started_at.map(|s| {
                let e = state.completed_at.unwrap_or(end_of_open).max(s);
                (s, e, e - s > span(phase.planned))
            });
            let running = state.started_at.is_some() && state.completed_at.is_none();
            Row { id: &phase.id, name: &phase.name, planned, from_t0: from_t0.and(phase.at), actual, running }
        })
        .collect()
}

/// The traffic steps in order, each with the hold of the phase it was set in.
fn steps(d: &Deployment, events: &[Event]) -> Vec<Step> {
    let mut phase = None;
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PhaseStarted { phase: id } => {
                phase = d.plan.phases.iter().find(|p| &p.id == id);
                None
            }
            EventKind::TrafficShifted { percent, forced } => Some(Step {
                at: e.at,
                percent: *percent,
                hold: phase.and_then(|p| p.hold).map(span).and_then(|h| Some((h, e.at.checked_add_signed(h)?))),
                forced: forced.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn span(d: std::time::Duration) -> Span {
    Span::from_std(d).unwrap_or(Span::MAX)
}

fn duration((from, to): (DateTime<Utc>, DateTime<Utc>)) -> std::time::Duration {
    (to - from).to_std().unwrap_or_default()
}

fn mark(e: &Event) -> Option<Mark> {
    let (class, label, what) = match &e.kind {
        EventKind::GoDecided { .. } => ("go", "GO".to_string(), format!("go given by {}", e.actor.display())),
        EventKind::NoGoDecided { reason, .. } => {
            ("nogo", "NO-GO".to_string(), format!("no-go by {}: {reason}", e.actor.display()))
        }
        EventKind::RollbackStarted { reason, level } => {
            let level = level.map(|l| format!(" ({l})")).unwrap_or_default();
            ("rollback", "rollback".to_string(), format!("rollback{level} by {}: {reason}", e.actor.display()))
        }
        EventKind::EscalationOpened { level, message, .. } | EventKind::EscalationRaised { level, message } => {
            ("escalation", format!("L{level}"), format!("escalated to level {level}: {message}"))
        }
        EventKind::EscalationAcknowledged { level } => {
            ("ack", "ack".to_string(), format!("level {level} acknowledged by {}", e.actor.display()))
        }
        _ => return None,
    };
    Some(Mark { at: e.at, class, label, what })
}

/// Maps times to x positions and picks readable ticks.
struct Axis {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

impl Axis {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let total = (self.last - self.first).num_milliseconds().max(1) as f64;
        let at = (t - self.first).num_milliseconds() as f64;
        LEFT + (at / total).clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    /// Tick times on round minutes, at most about eight of them.
    fn ticks(&self) -> Vec<DateTime<Utc>> {
        const STEPS: [i64; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10080];
        let minutes = (self.last - self.first).num_minutes().max(1);
        let step = STEPS.iter().copied().find(|s| minutes / s <= 8).unwrap_or(minutes / 8 + 1);
        let start = self.first.timestamp().div_euclid(step * 60) * step * 60 + step * 60;
        (0..)
            .map(|i| start + i * step * 60)
            .map_while(|secs| DateTime::from_timestamp(secs, 0).filter(|t| *t <= self.last))
            .take(16)
            .collect()
    }
}

/// For labels at x with a width, in time order: the lane (0, 1, …) of each, the first where it
/// does not run into the label before it.
fn lanes(labels: impl Iterator<Item = (f64, f64)>) -> Vec<usize> {
    let mut ends: Vec<f64> = Vec::new();
    labels
        .map(|(x, width)| {
            let lane = ends.iter().position(|end| x >= end + 4.0).unwrap_or(ends.len());
            if lane == ends.len() {
                ends.push(0.0);
            }
            ends[lane] = x + width;
            lane
        })
        .collect()
}

/// Where things go: the axis, the deployment's end (traffic runs until then), its go-live
/// time, the height, and the lane of each mark's and each traffic step's label.
struct Layout<'a> {
    axis: &'a Axis,
    end: DateTime<Utc>,
    go_live: Option<DateTime<Utc>>,
    height: f64,
    mark_lanes: Vec<usize>,
    traffic_lanes: Vec<usize>,
}

fn draw(layout: &Layout<'_>, rows: &[Row<'_>], traffic: &[Step], marks: &[Mark], now: Option<DateTime<Utc>>) -> String {
    let (axis, height) = (layout.axis, layout.height);
    let mut s = String::with_capacity(8192);
    let _ = write!(
        s,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-svg-title" xmlns="http://www.w3.org/2000/svg"><title id="chart-svg-title">Timeline chart; the same in text follows it</title>"#
    );
    s.push_str(
        r#"<defs><pattern id="hold-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect class="hold-stripe" width="3" height="6"/></pattern></defs>"#,
    );
    let plot_bottom = height - AXIS;
    for t in axis.ticks() {
        let x = axis.x(t);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{x:.1}" y1="4" x2="{x:.1}" y2="{plot_bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            plot_bottom + 18.0,
            clock(t)
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * PHASE_ROW;
        let _ = write!(
            s,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 10.0,
            y + 23.0,
            escape(&truncate(row.name, 21))
        );
        let (px1, px2) = (axis.x(row.planned.0), axis.x(row.planned.1));
        let _ = write!(
            s,
            r#"<rect class="planned" x="{px1:.1}" y="{:.1}" width="{:.1}" height="8" rx="2"><title>{} planned {}–{}</title></rect>"#,
            y + 6.0,
            (px2 - px1).max(1.0),
            escape(row.id),
            clock(row.planned.0),
            clock(row.planned.1)
        );
        if let Some((a, b, late)) = row.actual {
            let (ax1, ax2) = (axis.x(a), axis.x(b));
            let _ = write!(
                s,
                r#"<rect class="actual{}" x="{ax1:.1}" y="{:.1}" width="{:.1}" height="14" rx="2"><title>{} ran {}–{} ({})</title></rect>"#,
                if late { " late" } else { "" },
                y + 17.0,
                (ax2 - ax1).max(2.0),
                escape(row.id),
                clock(a),
                clock(b),
                human(duration((a, b)))
            );
        }
    }
    let ty = 4.0 + rows.len() as f64 * PHASE_ROW;
    let _ = write!(
        s,
        r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">Traffic</text>"#,
        LEFT - 10.0,
        ty + 28.0
    );
    for (i, step) in traffic.iter().enumerate() {
        let (at, percent) = (step.at, step.percent);
        let until = traffic.get(i + 1).map_or(layout.end, |next| next.at);
        let (x1, x2) = (axis.x(at), axis.x(until));
        let h = (TRAFFIC_ROW - 22.0) * f64::from(percent) / 100.0;
        let _ = write!(
            s,
            r#"<rect class="traffic{}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"><title>traffic {percent}% from {}{}</title></rect><text class="step" x="{:.1}" y="{:.1}">{percent}%{}</text>"#,
            if step.forced.is_some() { " forced" } else { "" },
            ty + TRAFFIC_ROW - 6.0 - h,
            (x2 - x1).max(1.0),
            clock(at),
            if step.forced.is_some() { " (forced)" } else { "" },
            x1 + 3.0,
            ty + 11.0 + 11.0 * layout.traffic_lanes.get(i).copied().unwrap_or(0) as f64,
            if step.forced.is_some() { "!" } else { "" },
        );
        if let Some((hold, held)) = step.hold {
            let x2 = axis.x(held.min(layout.end.max(at)));
            let _ = write!(
                s,
                r#"<rect class="hold" x="{x1:.1}" y="{:.1}" width="{:.1}" height="5"><title>{percent}% held {} until {}</title></rect>"#,
                ty + TRAFFIC_ROW - 5.0,
                (x2 - x1).max(1.0),
                human(hold.to_std().unwrap_or_default()),
                clock(held)
            );
        }
    }
    let my = ty + TRAFFIC_ROW;
    let _ =
        write!(s, r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">Events</text>"#, LEFT - 10.0, my + 20.0);
    for (m, lane) in marks.iter().zip(&layout.mark_lanes) {
        let x = axis.x(m.at);
        let my = my + *lane as f64 * MARK_LANE;
        if m.class == "rollback" {
            let _ = write!(s, r#"<line class="rollback-line" x1="{x:.1}" y1="4" x2="{x:.1}" y2="{plot_bottom:.1}"/>"#);
        }
        let _ = write!(
            s,
            r#"<g class="mark {}"><path d="M{x:.1} {:.1} l6 8 l-6 8 l-6 -8 z"/><text x="{:.1}" y="{:.1}">{}</text><title>{} — {}</title></g>"#,
            m.class,
            my + 6.0,
            x + 8.0,
            my + 19.0,
            escape(&m.label),
            clock(m.at),
            escape(&m.what)
        );
    }
    if let Some(t0) = layout.go_live {
        let x = axis.x(t0);
        let _ = write!(
            s,
            r#"<line class="t0" x1="{x:.1}" y1="4" x2="{x:.1}" y2="{plot_bottom:.1}"><title>go-live time (T-0) {}</title></line><text class="t0-label" x="{:.1}" y="{:.1}">T-0</text>"#,
            clock(t0),
            x + 3.0,
            plot_bottom - 4.0
        );
    }
    if let Some(now) = now {
        let x = axis.x(now);
        let _ = write!(
            s,
            r#"<line class="now" x1="{x:.1}" y1="4" x2="{x:.1}" y2="{plot_bottom:.1}"/><text class="tick now-label" x="{x:.1}" y="{:.1}" text-anchor="middle">now</text>"#,
            plot_bottom + 18.0
        );
    }
    s.push_str("</svg>");
    s
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// SVG text content and attribute values: the five XML specials.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ticks_fall_on_round_times_inside_the_axis() {
        let first = Utc.with_ymd_and_hms(2026, 6, 2, 9, 7, 0).unwrap();
        let axis = Axis { first, last: first + Span::hours(3) };
        let ticks = axis.ticks();
        assert!((3..=9).contains(&ticks.len()), "{ticks:?}");
        assert!(ticks.iter().all(|t| *t > first && *t <= axis.last && t.timestamp() % 1800 == 0), "{ticks:?}");
        assert_eq!(axis.x(first), LEFT);
        assert_eq!(axis.x(axis.last), WIDTH - RIGHT);
    }

    #[test]
    fn close_labels_take_the_next_free_lane() {
        assert_eq!(
            lanes([(0.0, 30.0), (20.0, 30.0), (25.0, 10.0), (40.0, 10.0), (200.0, 10.0)].into_iter()),
            [0, 1, 2, 0, 0]
        );
    }

    #[test]
    fn text_in_the_svg_is_escaped() {
        assert_eq!(escape("<b>\"x\" & 'y'"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;");
    }
}
