//! The history benchmark's database: many deployments with realistic timelines, recorded
//! through golive's own store (`Tx::append`: its event encoding, hash chain and projection).
//!
//! Every deployment is simulated with the domain itself: each step is a `/deploy` command
//! decided by `decide` for a person holding the right role (or refused, and recorded as a
//! refusal, for one who does not), and the timers fire exactly as the engine fires them (status
//! slots of the `[status] cron`, overdue phases, automatic escalations and their climb). The
//! deployments of all channels are then merged by time and appended in that order, so the chain
//! interleaves deployments as a real log does. Only the transactions differ from `golive serve`:
//! tens of thousands of events per commit instead of one command, which is what makes a million
//! events take a minute instead of hours. The outbox is not filled: `history`, `show` and
//! `audit` never read it.

#![allow(dead_code)]

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use golive::config::Config;
use golive::domain::progress::progress;
use golive::domain::{
    decide, oncall, Actor, Channel, Command, Deployment, Event, EventKind, Platform, RollbackLevel, Status,
};
use golive::engine::status_slots::StatusSchedule;
use golive::store::{Store, StoreError};

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub deployments: usize,
    pub events: usize,
    pub channels: usize,
    pub seed: u64,
}

/// What was built, for the report.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub deployments: usize,
    pub events: usize,
    pub open: usize,
    pub simulate_secs: f64,
    pub write_secs: f64,
}

/// Events appended per write transaction while building.
const EVENTS_PER_TX: usize = 50_000;

/// splitmix64: deterministic, so the same spec builds the same database.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }

    /// Log-uniform between `lo` and `hi`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Complete,
    Abort,
    RollBack,
    /// Still running when the history ends.
    Open,
}

/// One deployment to simulate: where, how it ends, and roughly how many events it gets.
#[derive(Debug, Clone)]
struct Planned {
    channel: usize,
    release: String,
    ending: Ending,
    target: usize,
    /// For `Abort`: the progress % at which the lead gives up.
    abort_at: u8,
    /// Mean seconds between two human commands: quiet or busy deployments.
    gap_secs: f64,
    /// Hours between the previous deployment in the channel and this one.
    pause_hours: f64,
}

/// A simulated deployment: its events, and its next timer when it is still open.
struct Simulated {
    events: Vec<Event>,
    next_timer: Option<DateTime<Utc>>,
}

const SERVICES: [&str; 20] = [
    "payments",
    "checkout",
    "search",
    "accounts",
    "catalog",
    "billing",
    "gateway",
    "notifications",
    "reports",
    "inventory",
    "shipping",
    "pricing",
    "identity",
    "media",
    "ledger",
    "analytics",
    "mobile-api",
    "web",
    "admin",
    "partner-api",
];

const NOTES: [&str; 24] = [
    "canary looks healthy, p95 {n} ms",
    "waiting for the DBA to confirm the index build ({n}% done)",
    "error rate {n} per 10k requests, within budget",
    "rolled the config change to {n} pods",
    "cache hit ratio back to {n}% after warm-up",
    "support reports {n} tickets about slow logins, looking",
    "migration batch {n} of 40 applied",
    "pausing for the {n}:00 sync with the mobile team",
    "CDN purge requested, ticket INC-{n}",
    "load test: {n} rps sustained, no errors",
    "feature flag `new-checkout` at {n}%",
    "replica lag {n} s, watching before the next step",
    "on the bridge call now",
    "vendor confirmed the webhook change on their side",
    "dashboards updated with the new version label",
    "holding here until the marketing email goes out",
    "queue depth {n}, draining",
    "restarted {n} workers that held the old schema",
    "alert noise from the old version can be ignored",
    "security scan finished, {n} low findings, none blocking",
    "backfill job at row {n}000",
    "heap on api-{n} looks fine after GC tuning",
    "staging data refreshed from last night's snapshot",
    "note for the retro: the checklist item for certificates was unclear, we checked all {n} domains by hand and \
     found one expiring within 30 days; renewed it before continuing. Next time the runbook should link the \
     certificate inventory.",
];

fn note_text(rng: &mut Rng) -> String {
    rng.pick(&NOTES).replace("{n}", &(rng.below(997) + 3).to_string())
}

fn slack_person(id: &str) -> Actor {
    let name = id.trim_start_matches("U0").to_lowercase();
    Actor { name: Some(name), ..Actor::new(Platform::Slack, id) }
}

/// Plans every deployment: channels, endings and sizes (a heavy tail: most are a few hundred
/// events, a few run for days and reach many thousands).
fn plan_all(spec: &Spec, rng: &mut Rng) -> Vec<Planned> {
    let mut planned = Vec::with_capacity(spec.deployments);
    let per_channel = spec.deployments / spec.channels;
    let mut extra = spec.deployments % spec.channels;
    for channel in 0..spec.channels {
        let count = per_channel + usize::from(extra > 0);
        extra = extra.saturating_sub(1);
        let service = SERVICES[channel % SERVICES.len()];
        let (mut minor, mut patch) = (rng.below(20), 0);
        for n in 0..count {
            if rng.chance(0.3) {
                minor += 1;
                patch = 0;
            } else {
                patch += 1;
            }
            let last = n + 1 == count;
            let ending = if last && (channel % 2 == 0 || channel == 0) {
                Ending::Open
            } else {
                match rng.below(100) {
                    0..=6 => Ending::Abort,
                    7..=12 => Ending::RollBack,
                    _ => Ending::Complete,
                }
            };
            planned.push(Planned {
                channel,
                release: format!("{service}-v{}.{minor}.{patch}", 1 + channel % 4),
                ending,
                // Log-normal sizes; scaled to the total below.
                target: ((1.1 * rng.normal()).exp() * 1000.0) as usize,
                abort_at: rng.below(90) as u8,
                gap_secs: rng.log_uniform(90.0, 1200.0),
                pause_hours: rng.log_uniform(1.0, 120.0),
            });
        }
    }
    planned
}

/// Builds the database at `url` (which must not exist yet).
pub async fn build(url: &str, spec: &Spec, config: &Config) -> Result<Built, StoreError> {
    let started = Instant::now();
    let mut rng = Rng::new(spec.seed);
    let mut planned = plan_all(spec, &mut rng);
    let weight: f64 = planned.iter().map(|p| p.target as f64).sum();
    let scale = spec.events as f64 / weight;
    for p in &mut planned {
        // Below about a hundred events a deployment cannot get through the example plan.
        p.target = ((p.target as f64 * scale) as usize).max(100);
    }

    // Closed deployments end where their plan takes them, a little past their target; the
    // open ones, last in their channels, are cut to exactly what is left of the total.
    let mut closed_share = 1.0;
    let mut tries = 0;
    let (simulated, starts) = loop {
        tries += 1;
        let mut sim_rng = Rng::new(spec.seed ^ 0x5EED);
        let open_weight: usize = planned.iter().filter(|p| p.ending == Ending::Open).map(|p| p.target).sum();
        let mut trial = planned.clone();
        for p in trial.iter_mut().filter(|p| p.ending != Ending::Open) {
            p.target = ((p.target as f64 * closed_share) as usize).max(100);
        }
        let (simulated, starts) = simulate_closed(&trial, config, &mut sim_rng);
        let closed: usize = simulated.iter().flatten().map(|s| s.events.len()).sum();
        let left = spec.events as i64 - closed as i64;
        let open_count = trial.iter().filter(|p| p.ending == Ending::Open).count();
        let fits = left >= 50 * open_count as i64 && left <= (3 * open_weight).max(100 * open_count) as i64;
        if (fits && open_count > 0) || tries == 10 {
            assert!(left >= open_count as i64, "could not size the deployments to {} events", spec.events);
            // Shares of what is left, proportional to the planned sizes, summing exactly.
            let mut remaining = left as usize;
            let mut weight_left = open_weight.max(1);
            for p in trial.iter_mut().filter(|p| p.ending == Ending::Open) {
                let share = (remaining as f64 * p.target as f64 / weight_left as f64).round() as usize;
                weight_left = weight_left.saturating_sub(p.target).max(1);
                p.target = share.min(remaining);
                remaining -= p.target;
            }
            if let Some(p) = trial.iter_mut().rev().find(|p| p.ending == Ending::Open) {
                p.target += remaining;
            }
            let mut simulated = simulated;
            for (i, p) in trial.iter().enumerate().filter(|(_, p)| p.ending == Ending::Open) {
                simulated[i] = Some(Simulator::new(config, &mut sim_rng).run(p, starts[i]));
            }
            break (simulated, starts);
        }
        // Too little (or too much) left for the open deployments: resize the closed ones.
        let want_closed = spec.events as f64 - (open_weight as f64).min(spec.events as f64 / 2.0);
        closed_share *= want_closed / closed.max(1) as f64;
    };
    let simulated: Vec<Simulated> = simulated.into_iter().map(|s| s.expect("every deployment simulated")).collect();
    let simulate_secs = started.elapsed().as_secs_f64();

    // Deployment ids follow start times, as they would have been assigned.
    let mut order: Vec<usize> = (0..simulated.len()).collect();
    order.sort_by_key(|&i| (starts[i], i));
    let mut rank = vec![0usize; order.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut merged: Vec<(DateTime<Utc>, usize, Event)> = Vec::with_capacity(spec.events);
    let mut next_timers = Vec::with_capacity(simulated.len());
    for (i, sim) in simulated.into_iter().enumerate() {
        next_timers.push(sim.next_timer);
        merged.extend(sim.events.into_iter().map(|e| (e.at, rank[i], e)));
    }
    // Stable: a deployment's events keep their order at one instant.
    merged.sort_by_key(|(at, r, _)| (*at, *r));
    let next_timers: Vec<_> = order.iter().map(|&i| next_timers[i]).collect();

    let written = Instant::now();
    let store = Store::open(url).await?;
    let mut states: Vec<Option<Deployment>> = vec![None; order.len()];
    let mut ids: Vec<Option<i64>> = vec![None; order.len()];
    let mut tx = store.begin().await?;
    let mut in_tx = 0;
    let mut events = merged.into_iter().peekable();
    let mut group = Vec::new();
    while let Some((_, r, event)) = events.next() {
        group.clear();
        group.push(event);
        while let Some((_, _, e)) = events.next_if(|(_, next, _)| *next == r) {
            group.push(e);
        }
        let state = match &mut states[r] {
            Some(s) => {
                for e in &group {
                    s.apply(e).expect("simulated events fold");
                }
                s
            }
            slot => slot.insert(Deployment::from_events(&group).expect("simulated events fold")),
        };
        ids[r] = Some(tx.append(ids[r], &group, state).await?);
        in_tx += group.len();
        if in_tx >= EVENTS_PER_TX {
            tx.commit().await?;
            tx = store.begin().await?;
            in_tx = 0;
        }
    }
    let mut open = 0;
    for (r, state) in states.iter().enumerate() {
        if state.as_ref().is_some_and(|s| s.status.is_open()) {
            open += 1;
            tx.set_timer(ids[r].expect("appended"), next_timers[r]);
        }
    }
    tx.commit().await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.sqlite_pool().expect("a SQLite store")).await?;
    store.close().await;
    Ok(Built {
        deployments: states.len(),
        events: spec.events,
        open,
        simulate_secs,
        write_secs: written.elapsed().as_secs_f64(),
    })
}

/// Simulates every deployment but the open ones, channel by channel; returns them (`None`
/// where open) and every deployment's start time.
fn simulate_closed(
    planned: &[Planned],
    config: &Config,
    rng: &mut Rng,
) -> (Vec<Option<Simulated>>, Vec<DateTime<Utc>>) {
    let origin = Utc.with_ymd_and_hms(2025, 1, 6, 8, 0, 0).single().expect("a valid date");
    let mut clocks: Vec<DateTime<Utc>> = Vec::new();
    let mut out = Vec::with_capacity(planned.len());
    let mut starts = Vec::with_capacity(planned.len());
    for p in planned {
        if clocks.len() <= p.channel {
            clocks.resize(p.channel + 1, origin);
            clocks[p.channel] = origin + Duration::minutes(rng.below(3 * 24 * 60) as i64);
        }
        let start = clocks[p.channel] + Duration::seconds((p.pause_hours * 3600.0) as i64);
        starts.push(start);
        if p.ending == Ending::Open {
            out.push(None);
            continue;
        }
        let sim = Simulator::new(config, rng).run(p, start);
        clocks[p.channel] = sim.events.last().map_or(start, |e| e.at);
        out.push(Some(sim));
    }
    (out, starts)
}

/// One deployment, run forward in time: people's commands at random gaps, and the engine's
/// timers exactly when they fall due.
struct Simulator<'a> {
    config: &'a Config,
    schedule: StatusSchedule,
    rng: &'a mut Rng,
    channel: Channel,
    state: Option<Deployment>,
    events: Vec<Event>,
    now: DateTime<Utc>,
    lead: Actor,
    gap_secs: f64,
    no_go_given: bool,
}

impl<'a> Simulator<'a> {
    fn new(config: &'a Config, rng: &'a mut Rng) -> Simulator<'a> {
        Simulator {
            config,
            schedule: StatusSchedule::new(&config.status),
            rng,
            channel: Channel { platform: Platform::Slack, id: String::new() },
            state: None,
            events: Vec::new(),
            now: Utc::now(),
            lead: slack_person("U0TECHLEAD"),
            gap_secs: 60.0,
            no_go_given: false,
        }
    }

    fn run(mut self, p: &Planned, start: DateTime<Utc>) -> Simulated {
        self.channel.id = format!("C0DEPLOY{:02}", p.channel);
        self.now = start;
        self.gap_secs = p.gap_secs;
        // One of the plan's release managers leads (only its `lead_roles` may start it).
        self.lead = member(self.config, self.rng, "release-manager");
        let lead = self.lead.clone();
        self.command(&lead, Command::Start { release: p.release.clone(), plan: None, freeze_override: None, at: None });
        let mut next_human = self.now + self.gap();
        loop {
            let state = self.state();
            if !state.status.is_open() || (p.ending == Ending::Open && self.events.len() >= p.target) {
                break;
            }
            match self.next_timer() {
                Some(due) if due <= next_human => {
                    // A timer can come due in the past (a trigger held back while a person's
                    // escalation was open): the engine fires it at once.
                    self.now = due.max(self.now);
                    self.fire();
                }
                _ => {
                    self.now = next_human;
                    self.human(p);
                    next_human = self.now + self.gap();
                }
            }
        }
        if p.ending == Ending::Open {
            self.events.truncate(p.target);
            self.state = Some(Deployment::from_events(&self.events).expect("a prefix folds"));
        }
        let next_timer = self.next_timer();
        Simulated { events: self.events, next_timer }
    }

    fn state(&self) -> &Deployment {
        self.state.as_ref().expect("started")
    }

    fn gap(&mut self) -> Duration {
        // Exponential gaps: people answer in bursts, with long quiet stretches.
        let secs = -self.gap_secs * (1.0 - self.rng.unit()).ln();
        Duration::seconds(secs.clamp(5.0, 6.0 * 3600.0) as i64)
    }

    /// Decides `command` as the engine would, and records the result: its events, or the
    /// refusal when it is one the engine records. Any other refusal is a bug here.
    fn command(&mut self, actor: &Actor, command: Command) {
        let rules = self.config.rules_at(chrono::Utc::now());
        match decide(&rules, &self.channel, self.state.as_ref(), actor, &command) {
            Ok(kinds) => self.record(actor, kinds),
            Err(refusal) if refusal.is_permission() => self.record(
                actor,
                vec![EventKind::CommandRefused { command: command.describe(), reason: refusal.to_string() }],
            ),
            Err(refusal) => panic!("the simulation chose a command golive refuses: {command:?}: {refusal}"),
        }
    }

    fn record(&mut self, actor: &Actor, kinds: Vec<EventKind>) {
        for kind in kinds {
            self.push(actor.recorded(), kind);
        }
        // As the engine does: golive's own escalation closes once its cause is gone.
        if let Some(kind) = self.state.as_ref().and_then(oncall::settled) {
            self.push(Actor::golive(), kind);
        }
    }

    fn push(&mut self, actor: Actor, kind: EventKind) {
        let event = Event { seq: self.events.len() as i64 + 1, at: self.now, actor, kind };
        match &mut self.state {
            Some(state) => state.apply(&event).expect("decided events fold"),
            None => self.state = Some(Deployment::from_events([&event]).expect("a start folds")),
        }
        self.events.push(event);
    }

    /// The engine's next timer for this deployment (`Engine::next_timer_for`).
    fn next_timer(&self) -> Option<DateTime<Utc>> {
        let d = self.state.as_ref()?;
        if !d.status.is_open() {
            return None;
        }
        let levels = &self.config.escalation;
        let status = self.schedule.next_after(d.last_status_slot.unwrap_or(d.started_at));
        let climb = oncall::climb_due(d, levels);
        let trigger = oncall::trigger_due(d, &self.config.triggers, levels);
        [status, d.overdue_due(), climb, trigger].into_iter().flatten().min()
    }

    /// What the engine records when the timer fires (`Engine::due` and `fire_due`), on time.
    fn fire(&mut self) {
        let d = self.state();
        let levels = &self.config.escalation;
        let now = self.now;
        let slot = self.schedule.latest_due(d.last_status_slot.unwrap_or(d.started_at), now);
        let mut kinds: Vec<EventKind> = d
            .overdue(now)
            .into_iter()
            .chain(oncall::climb(d, levels, now))
            .chain(oncall::triggered(d, &self.config.triggers, levels, now))
            .collect();
        if let Some(slot) = slot {
            kinds.push(EventKind::StatusPosted { slot, late_secs: 0 });
        }
        assert!(!kinds.is_empty(), "a timer fell due with nothing to do");
        self.record(&Actor::golive(), kinds);
    }

    /// Steps still needed to finish the plan: ticks, sign-offs, traffic, phase starts and
    /// completions, the go and the completion.
    fn steps_left(&self) -> usize {
        let d = self.state();
        let mut n = 2;
        for (i, (phase, state)) in d.plan.phases.iter().zip(&d.phases).enumerate() {
            if state.is_done() {
                continue;
            }
            let traffic = phase.traffic.iter().filter(|t| Some(**t) > d.traffic).count();
            n += d.open_required_items(i).len() + d.missing_signoffs(i).len() + traffic + 2;
        }
        n
    }

    /// One command by a person.
    fn human(&mut self, p: &Planned) {
        let remaining = p.target.saturating_sub(self.events.len());
        let steps = self.steps_left();
        let forward = if remaining <= steps + 5 { 1.0 } else { (steps as f64 / remaining as f64).max(0.02) };
        let (who, command) = match self.escalation_step() {
            Some(step) => step,
            None if self.rng.chance(forward) => match self.forward(p) {
                Some(step) => step,
                None => self.aside(),
            },
            None => self.aside(),
        };
        self.command(&who, command)
    }

    /// An acknowledgement or a resolution, now and then, of the open escalation.
    fn escalation_step(&mut self) -> Option<(Actor, Command)> {
        let e = self.state.as_ref()?.escalation.as_ref()?;
        let (level, acked, manual) = (e.level, e.acked.is_some(), e.cause.is_none());
        if !acked && self.rng.chance(0.3) {
            let who = if self.rng.chance(0.5) { self.lead.clone() } else { on_level(self.config, self.rng, level) };
            return Some((who, Command::Ack));
        }
        (acked && manual && self.rng.chance(0.15)).then(|| (self.lead.clone(), Command::EscalateResolve))
    }

    /// A step along the plan, or the ending planned for this deployment; `None` when there is
    /// nothing left to do but talk.
    fn forward(&mut self, p: &Planned) -> Option<(Actor, Command)> {
        // Field by field, so the state is read in place while the dice roll.
        let (config, rng, lead) = (self.config, &mut *self.rng, self.lead.clone());
        let d = self.state.as_ref().expect("started");
        if d.status == Status::RollingBack {
            return (p.ending != Ending::Open).then_some((lead, Command::Complete));
        }
        if p.ending == Ending::Abort && progress(d).percent() >= p.abort_at {
            let reason = format!("{} — trying again tomorrow", note_text(rng));
            return Some((lead, Command::Abort { reason }));
        }
        let shifting = d.current.is_some_and(|i| !d.plan.phases[i].traffic.is_empty()) && d.traffic.is_some();
        if p.ending == Ending::RollBack && shifting {
            let who = if rng.chance(0.5) { lead } else { member(config, rng, "ops") };
            let level = *rng.pick(&[None, Some(RollbackLevel::Immediate), Some(RollbackLevel::Quick)]);
            let reason = format!("error rate {}% after the traffic step", rng.below(40) + 2);
            return Some((who, Command::Rollback { reason, level }));
        }
        let Some(i) = d.current else {
            return match d.next_phase() {
                None if p.ending == Ending::Open => None,
                None => Some((lead, Command::Complete)),
                Some(next) if d.plan.go_gate_index() == Some(next) && !d.decision.as_ref().is_some_and(|x| x.go) => {
                    if !self.no_go_given && rng.chance(0.2) {
                        self.no_go_given = true;
                        let reason = format!("open incident INC-{} on a dependency", rng.below(9000) + 1000);
                        Some((lead, Command::NoGo { reason }))
                    } else {
                        Some((lead, Command::Go))
                    }
                }
                Some(next) => Some((lead, Command::PhaseStart { phase: d.plan.phases[next].id.clone() })),
            };
        };
        let phase = &d.plan.phases[i];
        let state = &d.phases[i];
        // Ticks (optional ones sometimes) and traffic steps in any order; sign-offs once the
        // list is done; then the phase.
        let mut choices: Vec<Command> = phase
            .items
            .iter()
            .filter(|item| !state.checked.contains_key(&item.id))
            // An item that comes after others waits for them (the plan's `after`).
            .filter(|item| item.after.iter().all(|before| state.checked.contains_key(before)))
            .filter(|item| item.required || rng.chance(0.3))
            .map(|item| Command::Check { item: item.id.clone() })
            .collect();
        if let Some(&step) = phase.traffic.iter().find(|t| Some(**t) > d.traffic) {
            // A step still held (its hold running, its items open) is forced by the lead.
            let plain = Command::Traffic { percent: step, force: None };
            let rules = config.rules_at(Utc::now());
            match decide(&rules, &self.channel, Some(d), &lead, &plain) {
                Ok(_) => choices.push(plain),
                Err(_) => {
                    let why = Some("watched long enough".to_string());
                    return Some((lead, Command::Traffic { percent: step, force: why }));
                }
            }
        }
        if choices.is_empty() {
            choices = d
                .missing_signoffs(i)
                .into_iter()
                .map(|role| Command::SignOff { role: role.to_string(), note: None })
                .collect();
        }
        if choices.is_empty() {
            return Some((lead, Command::PhaseDone));
        }
        Some(match choices.swap_remove(rng.below(choices.len())) {
            Command::Check { item } => {
                let role = &phase.item(&item).expect("item of the phase").role;
                let who = if rng.chance(0.1) { lead } else { member(config, rng, role) };
                (who, Command::Check { item })
            }
            Command::SignOff { role, .. } => {
                let note = rng.chance(0.3).then(|| note_text(rng));
                (member(config, rng, &role), Command::SignOff { role, note })
            }
            traffic => (if rng.chance(0.6) { member(config, rng, "ops") } else { lead }, traffic),
        })
    }

    /// Something beside the plan: mostly a note; an item unticked (to be ticked again), a
    /// refused command, an escalation by hand.
    fn aside(&mut self) -> (Actor, Command) {
        let (config, rng) = (self.config, &mut *self.rng);
        let d = self.state.as_ref().expect("started");
        let roll = rng.below(100);
        let running = d.current.filter(|_| d.status == Status::Active);
        if let (true, Some(i)) = (roll < 35, running) {
            // Not one a ticked item comes after: unticking it would be refused.
            let items = &d.plan.phases[i].items;
            let checked: Vec<&String> = d.phases[i]
                .checked
                .keys()
                .filter(|id| !items.iter().any(|it| it.after.contains(id) && d.phases[i].checked.contains_key(&it.id)))
                .collect();
            if !checked.is_empty() {
                let item = checked[rng.below(checked.len())].clone();
                let role = &d.plan.phases[i].item(&item).expect("item of the phase").role;
                return (member(config, rng, role), Command::Uncheck { item });
            }
        }
        if roll >= 96 {
            // Someone outside the team tries something; golive records the refusal.
            let visitor = slack_person("U0VISITOR");
            let command = match (running, rng.below(3)) {
                (Some(i), 0) => Command::Check { item: rng.pick(&d.plan.phases[i].items).id.clone() },
                (_, 1) => Command::Abort { reason: "wrong channel?".into() },
                _ => Command::Complete,
            };
            return (visitor, command);
        }
        if (94..96).contains(&roll) && d.escalation.is_none() {
            let role = if rng.chance(0.5) { "ops" } else { "backend" };
            let who = member(config, rng, role);
            let level = if rng.chance(0.8) { None } else { Some(2) };
            let message = format!("need eyes on {}", note_text(rng));
            return (who, Command::Escalate { level, message });
        }
        let who = match rng.below(10) {
            0..=3 => self.lead.clone(),
            4 => on_level(config, rng, 2),
            _ => {
                let role = *rng.pick(&["ops", "backend", "frontend", "product", "security"]);
                member(config, rng, role)
            }
        };
        (who, Command::Note { text: note_text(rng) })
    }
}

/// A Slack member of `role` in the config.
fn member(config: &Config, rng: &mut Rng, role: &str) -> Actor {
    let role = config.roles.get(role).expect("role in the example config");
    let slack: Vec<_> = role.members.iter().filter(|m| m.platform == Platform::Slack).collect();
    slack_person(&rng.pick(&slack).id)
}

/// Someone on escalation level `level` (1-based).
fn on_level(config: &Config, rng: &mut Rng, level: u8) -> Actor {
    let l = &config.escalation[usize::from(level) - 1];
    let slack: Vec<_> = l.members.iter().filter(|m| m.platform == Platform::Slack).collect();
    slack_person(&rng.pick(&slack).id)
}
