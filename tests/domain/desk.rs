//! The desk the domain suite works at: one channel, its config, and the history of its
//! deployment as the engine would keep it, with a refold after every event and a check that
//! every refusal records nothing; plus the commands people type, built as the domain sees them.
//!
//! The cast (see `config.example.toml`): alice is tech-lead, priya product, sam security,
//! olga ops, bruno backend, fei frontend; alice and olga are escalation level 1, maya level 2,
//! sol level 3. Whoever starts a deployment leads it: here that is dana. eve holds nothing.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use golive::config::Config;
use golive::domain::progress::{progress, Progress};
use golive::domain::{decide, Actor, Channel, Command, Deployment, Event, EventKind, Phase, Plan, Platform, Refusal};

use crate::refusals::about_the_caller;

// Who ticks and signs what in the example plan: the shared cast in tests/common.
pub use crate::common::{
    POST_DEPLOYMENT_OPTIONAL as POST_OPTIONAL, POST_DEPLOYMENT_SIGNOFFS as POST_SIGNOFFS,
    POST_DEPLOYMENT_TICKS as POST_TICKS, PRE_DEPLOYMENT_OPTIONAL as PRE_OPTIONAL,
    PRE_DEPLOYMENT_SIGNOFFS as PRE_SIGNOFFS, PRE_DEPLOYMENT_TICKS as PRE_TICKS, PRODUCTION_OPTIONAL,
    PRODUCTION_SIGNOFFS, PRODUCTION_TICKS, STAGING_OPTIONAL, STAGING_SIGNOFFS, STAGING_TICKS,
};

pub const LEAD: &str = "dana";
pub const PHASES: &str = "pre-deployment, staging, production, post-deployment";
pub const ROLES: &str = "backend, frontend, ops, product, release-manager, security, tech-lead";

pub fn console(name: &str) -> Actor {
    Actor::new(Platform::Console, name)
}

/// One channel, its config, and the history of its deployment as the engine would keep it.
pub struct Desk {
    pub config: Config,
    pub channel: Channel,
    pub history: Vec<Event>,
    pub state: Option<Deployment>,
    pub now: DateTime<Utc>,
}

impl Desk {
    pub fn new() -> Desk {
        Desk::with(Config::example())
    }

    pub fn with(config: Config) -> Desk {
        Desk {
            config,
            channel: Channel { platform: Platform::Console, id: "releases".into() },
            history: Vec::new(),
            state: None,
            now: Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap(),
        }
    }

    /// A deployment of v2.4.0 on the standard plan, led by dana.
    pub fn started() -> Desk {
        let mut s = Desk::new();
        s.run(LEAD, start("v2.4.0"));
        s
    }

    /// The channel's open deployment, as the engine loads it: none once it has ended.
    pub fn open(&self) -> Option<&Deployment> {
        self.state.as_ref().filter(|d| d.status.is_open())
    }

    pub fn attempt_as(&mut self, actor: &Actor, command: &Command) -> Result<Vec<EventKind>, Refusal> {
        let kinds = decide(&self.config.rules_at(chrono::Utc::now()), &self.channel, self.open(), actor, command)?;
        if self.open().is_none() {
            // Accepted with nothing open: a new deployment, with a history of its own.
            self.history.clear();
            self.state = None;
        }
        self.now += Duration::minutes(1);
        for kind in &kinds {
            self.append(actor.clone(), kind.clone());
        }
        Ok(kinds)
    }

    /// Appends one event at `now` and folds it in; the state must equal a refold of the history.
    pub fn append(&mut self, actor: Actor, kind: EventKind) {
        let event = Event { seq: self.history.len() as i64 + 1, at: self.now, actor, kind };
        if let Some(d) = self.state.as_mut() {
            d.apply(&event).unwrap_or_else(|e| panic!("decided event does not fold: {e}"));
        } else {
            self.state = Some(Deployment::from_events([&event]).unwrap_or_else(|e| panic!("start does not fold: {e}")));
        }
        self.history.push(event);
        assert_eq!(Deployment::from_events(&self.history).as_ref(), Ok(self.d()), "state is the fold of the history");
        assert_eq!(self.d().seq, self.history.len() as i64);
        assert_eq!(self.d().updated_at, self.now);
    }

    /// Records an event golive itself decides on (timers), as the engine does.
    pub fn record(&mut self, kind: EventKind) {
        self.append(Actor::golive(), kind);
    }

    pub fn wait(&mut self, minutes: i64) {
        self.now += Duration::minutes(minutes);
    }

    pub fn run_as(&mut self, actor: &Actor, command: Command) -> Vec<EventKind> {
        self.attempt_as(actor, &command).unwrap_or_else(|r| panic!("{actor:?}: {command:?} was refused: {r}"))
    }

    pub fn run(&mut self, name: &str, command: Command) -> Vec<EventKind> {
        self.run_as(&console(name), command)
    }

    pub fn refuse_as(&mut self, actor: &Actor, command: Command) -> Refusal {
        let (events, state, now) = (self.history.clone(), self.state.clone(), self.now);
        let refusal = match self.attempt_as(actor, &command) {
            Err(refusal) => refusal,
            Ok(kinds) => panic!("{actor:?}: {command:?} was accepted: {kinds:?}"),
        };
        assert_eq!(self.history, events, "a refusal records nothing");
        assert_eq!(self.state, state, "a refusal changes nothing");
        assert_eq!(self.now, now);
        assert_eq!(refusal.is_permission(), about_the_caller(&refusal), "is_permission() of {refusal:?} (`{refusal}`)");
        refusal
    }

    pub fn refuse(&mut self, name: &str, command: Command) -> Refusal {
        self.refuse_as(&console(name), command)
    }

    pub fn d(&self) -> &Deployment {
        self.state.as_ref().expect("a deployment was started")
    }

    pub fn progress(&self) -> Progress {
        progress(self.d())
    }

    pub fn percent(&self) -> u8 {
        self.progress().percent()
    }

    pub fn ticks(&mut self, ticks: &[(&str, &str)]) {
        for (name, item) in ticks {
            self.run(name, check(item));
        }
    }

    pub fn signoffs(&mut self, signoffs: &[(&str, &str)]) {
        for (name, role) in signoffs {
            self.run(name, signoff(role));
        }
    }

    /// Starts `phase` (giving the go first for production), ticks its required items, collects
    /// its sign-offs, shifts traffic where it has steps, and completes it.
    pub fn finish(&mut self, phase: &str) {
        let (ticks, signoffs, _) = steps_of(phase);
        if phase == "production" {
            self.run(LEAD, Command::Go);
        }
        self.run(LEAD, phase_start(phase));
        self.ticks(ticks);
        self.signoffs(signoffs);
        if phase == "production" {
            self.all_traffic();
        }
        self.run(LEAD, Command::PhaseDone);
    }

    /// Every traffic step of production, in order (the hold counts on the events' clock, which
    /// the wall clock deciding here is well past).
    pub fn all_traffic(&mut self) {
        for step in [50, 70, 85, 100] {
            self.run("olga", traffic(step));
        }
    }

    /// Pre-deployment and staging done, the go given, production running.
    pub fn in_production(&mut self) {
        self.finish("pre-deployment");
        self.finish("staging");
        self.run(LEAD, Command::Go);
        self.run(LEAD, phase_start("production"));
    }

    pub fn all_phases_done(&mut self) {
        self.finish("pre-deployment");
        self.all_phases_done_from_staging();
    }

    pub fn all_phases_done_from_staging(&mut self) {
        for phase in ["staging", "production", "post-deployment"] {
            self.finish(phase);
        }
    }
}

/// Who ticks, who signs off, and who ticks the optional items, in one phase.
pub type Steps = (
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
);

pub fn steps_of(phase: &str) -> Steps {
    match phase {
        "pre-deployment" => (PRE_TICKS, PRE_SIGNOFFS, PRE_OPTIONAL),
        "staging" => (STAGING_TICKS, STAGING_SIGNOFFS, STAGING_OPTIONAL),
        "production" => (PRODUCTION_TICKS, PRODUCTION_SIGNOFFS, PRODUCTION_OPTIONAL),
        "post-deployment" => (POST_TICKS, POST_SIGNOFFS, POST_OPTIONAL),
        other => panic!("no phase {other} in the example plan"),
    }
}

pub fn start(release: &str) -> Command {
    Command::Start { release: release.into(), plan: None, freeze_override: None, at: None }
}
pub fn start_plan(release: &str, plan: &str) -> Command {
    Command::Start { release: release.into(), plan: Some(plan.into()), freeze_override: None, at: None }
}
pub fn phase_start(phase: &str) -> Command {
    Command::PhaseStart { phase: phase.into() }
}
pub fn check(item: &str) -> Command {
    Command::Check { item: item.into() }
}
pub fn uncheck(item: &str) -> Command {
    Command::Uncheck { item: item.into() }
}
pub fn signoff(role: &str) -> Command {
    Command::SignOff { role: role.into(), note: None }
}
pub fn signoff_with(role: &str, note: &str) -> Command {
    Command::SignOff { role: role.into(), note: Some(note.into()) }
}
pub fn nogo(reason: &str) -> Command {
    Command::NoGo { reason: reason.into() }
}
pub fn traffic(percent: u8) -> Command {
    Command::Traffic { percent, force: None }
}
pub fn note(text: &str) -> Command {
    Command::Note { text: text.into() }
}
pub fn rollback(reason: &str) -> Command {
    Command::Rollback { reason: reason.into(), level: None }
}
pub fn escalate(level: Option<u8>, message: &str) -> Command {
    Command::Escalate { level, message: message.into() }
}
pub fn abort(reason: &str) -> Command {
    Command::Abort { reason: reason.into() }
}

/// A one-phase plan with traffic steps and no go gate: nothing in the example config can
/// build it (the loader gates the first traffic phase), but the domain must still be sound.
pub fn canary_plan() -> Plan {
    Plan {
        id: "canary".into(),
        name: "Canary release".into(),
        phases: vec![Phase {
            id: "canary".into(),
            name: "Canary".into(),
            planned: StdDuration::from_secs(3600),
            signoffs: Vec::new(),
            items: Vec::new(),
            traffic: vec![10, 50, 100],
            hold: None,
            at: None,
            remind_after: None,
        }],
        go_gate: None,
        status_cron: None,
        hooks: Vec::new(),
        auto_rollback: false,
        rollback: Default::default(),
        lead_roles: Vec::new(),
        go_roles: Vec::new(),
        remind_after: None,
    }
}

pub fn with_canary() -> Config {
    let mut config = Config::example();
    config.plans.insert("canary".into(), canary_plan());
    config
}

// The fixtures above rely on this: the example config's plans, roles and escalation path.
#[test]
fn rules_come_from_the_config() {
    let config = with_canary();
    let rules = config.rules_at(chrono::Utc::now());
    let plans: &BTreeMap<String, Plan> = rules.plans;
    assert_eq!(plans.keys().collect::<Vec<_>>(), ["canary", "standard"]);
    assert_eq!(rules.default_plan, "standard");
    assert_eq!(rules.roles.ids(), ROLES.split(", ").collect::<Vec<_>>());
    let levels: Vec<Vec<String>> =
        rules.escalation.iter().map(|l| l.members.iter().map(ToString::to_string).collect()).collect();
    assert_eq!(
        levels,
        [
            vec!["slack:U0TECHLEAD", "console:alice", "console:olga"],
            vec!["slack:U0MANAGER", "console:maya"],
            vec!["slack:U0STAKEHOLDER", "console:sol"]
        ]
    );
}
