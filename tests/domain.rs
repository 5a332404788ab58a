//! The pure domain core, exhaustively: every transition of the deployment state machine and
//! every `Refusal`, driven as a story against the example config (no I/O, no database).
//!
//! The cast (see `config.example.toml`): alice is tech-lead, priya product, sam security,
//! olga ops, bruno backend, fei frontend; alice and olga are escalation level 1, maya level 2,
//! sol level 3. Whoever starts a deployment leads it: here that is dana. eve holds nothing.

mod common;

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use golive::config::Config;
use golive::domain::deployment::FoldError;
use golive::domain::progress::{progress, Progress};
use golive::domain::{
    decide, Actor, Channel, Command, Deployment, Event, EventKind, Outcome, Phase, Plan, Platform, Refusal,
    RollbackLevel, Status,
};

const LEAD: &str = "dana";
const PHASES: &str = "pre-deployment, staging, production, post-deployment";
const ROLES: &str = "backend, frontend, ops, product, release-manager, security, tech-lead";

fn console(name: &str) -> Actor {
    Actor::new(Platform::Console, name)
}

/// The refusals that are about who the caller is rather than what they asked for. Spelled out
/// without a wildcard, so a new `Refusal` variant does not compile until it is classified here.
fn about_the_caller(refusal: &Refusal) -> bool {
    match refusal {
        Refusal::NotLead { .. }
        | Refusal::NotInRole { .. }
        | Refusal::NotItemOwner { .. }
        | Refusal::NotOnTeam { .. }
        | Refusal::NotPhaseRole { .. }
        | Refusal::NotPaged { .. }
        | Refusal::NotRollbackRole { .. }
        | Refusal::NotLeadRole { .. }
        | Refusal::NotLeadOrLeadRole { .. }
        | Refusal::NotDecider { .. } => true,
        Refusal::InBatch { why, .. } => about_the_caller(why),
        Refusal::NoDeployment
        | Refusal::AlreadyActive { .. }
        | Refusal::Frozen { .. }
        | Refusal::UnknownPlan { .. }
        | Refusal::UnknownPhase { .. }
        | Refusal::PhaseRunning { .. }
        | Refusal::PhaseAlreadyDone { .. }
        | Refusal::OutOfOrder { .. }
        | Refusal::NoPhaseRunning { .. }
        | Refusal::AllPhasesDone
        | Refusal::PhaseNotFinished { .. }
        | Refusal::UnknownItem { .. }
        | Refusal::AlreadyChecked { .. }
        | Refusal::NotChecked { .. }
        | Refusal::UnknownRole { .. }
        | Refusal::SignOffNotNeeded { .. }
        | Refusal::AlreadySignedOff { .. }
        | Refusal::TooEarlyForDecision { .. }
        | Refusal::TooLateForDecision { .. }
        | Refusal::AlreadyGo { .. }
        | Refusal::NeedsGo { .. }
        | Refusal::NoTrafficHere { .. }
        | Refusal::UnknownTrafficStep { .. }
        | Refusal::TrafficNotIncreasing { .. }
        | Refusal::TrafficAtLastStep { .. }
        | Refusal::UnknownBlocker { .. }
        | Refusal::SnoozeTooLong { .. }
        | Refusal::NotSnoozed
        | Refusal::NothingToRemind { .. }
        | Refusal::NoEscalationLevels
        | Refusal::UnknownLevel { .. }
        | Refusal::EscalationOpen { .. }
        | Refusal::NoEscalation
        | Refusal::AlreadyAcked { .. }
        | Refusal::RollingBack
        | Refusal::AlreadyRollingBack
        | Refusal::UnknownRollbackItem { .. }
        | Refusal::RollbackNotFinished { .. }
        | Refusal::NotFinished { .. }
        | Refusal::Empty { .. }
        | Refusal::CannotLead { .. }
        | Refusal::AlreadyLead { .. }
        | Refusal::BadGoLive { .. }
        | Refusal::NoPhaseRunningBeforeGo { .. }
        | Refusal::UnknownSection { .. }
        | Refusal::SectionDone { .. }
        | Refusal::AfterOpen { .. }
        | Refusal::SkippedStep { .. }
        | Refusal::HoldRunning { .. }
        | Refusal::StepItemsOpen { .. }
        | Refusal::NothingToForce { .. } => false,
    }
}

/// One channel, its config, and the history of its deployment as the engine would keep it.
struct Desk {
    config: Config,
    channel: Channel,
    history: Vec<Event>,
    state: Option<Deployment>,
    now: DateTime<Utc>,
}

impl Desk {
    fn new() -> Desk {
        Desk::with(Config::example())
    }

    fn with(config: Config) -> Desk {
        Desk {
            config,
            channel: Channel { platform: Platform::Console, id: "releases".into() },
            history: Vec::new(),
            state: None,
            now: Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap(),
        }
    }

    /// A deployment of v2.4.0 on the standard plan, led by dana.
    fn started() -> Desk {
        let mut s = Desk::new();
        s.run(LEAD, start("v2.4.0"));
        s
    }

    /// The channel's open deployment, as the engine loads it: none once it has ended.
    fn open(&self) -> Option<&Deployment> {
        self.state.as_ref().filter(|d| d.status.is_open())
    }

    fn attempt_as(&mut self, actor: &Actor, command: &Command) -> Result<Vec<EventKind>, Refusal> {
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
    fn append(&mut self, actor: Actor, kind: EventKind) {
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
    fn record(&mut self, kind: EventKind) {
        self.append(Actor::golive(), kind);
    }

    fn wait(&mut self, minutes: i64) {
        self.now += Duration::minutes(minutes);
    }

    fn run_as(&mut self, actor: &Actor, command: Command) -> Vec<EventKind> {
        self.attempt_as(actor, &command).unwrap_or_else(|r| panic!("{actor:?}: {command:?} was refused: {r}"))
    }

    fn run(&mut self, name: &str, command: Command) -> Vec<EventKind> {
        self.run_as(&console(name), command)
    }

    fn refuse_as(&mut self, actor: &Actor, command: Command) -> Refusal {
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

    fn refuse(&mut self, name: &str, command: Command) -> Refusal {
        self.refuse_as(&console(name), command)
    }

    fn d(&self) -> &Deployment {
        self.state.as_ref().expect("a deployment was started")
    }

    fn progress(&self) -> Progress {
        progress(self.d())
    }

    fn percent(&self) -> u8 {
        self.progress().percent()
    }

    fn ticks(&mut self, ticks: &[(&str, &str)]) {
        for (name, item) in ticks {
            self.run(name, check(item));
        }
    }

    fn signoffs(&mut self, signoffs: &[(&str, &str)]) {
        for (name, role) in signoffs {
            self.run(name, signoff(role));
        }
    }

    /// Starts `phase` (giving the go first for production), ticks its required items, collects
    /// its sign-offs, shifts traffic where it has steps, and completes it.
    fn finish(&mut self, phase: &str) {
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
    fn all_traffic(&mut self) {
        for step in [50, 70, 85, 100] {
            self.run("olga", traffic(step));
        }
    }

    /// Pre-deployment and staging done, the go given, production running.
    fn in_production(&mut self) {
        self.finish("pre-deployment");
        self.finish("staging");
        self.run(LEAD, Command::Go);
        self.run(LEAD, phase_start("production"));
    }

    fn all_phases_done(&mut self) {
        self.finish("pre-deployment");
        self.all_phases_done_from_staging();
    }

    fn all_phases_done_from_staging(&mut self) {
        for phase in ["staging", "production", "post-deployment"] {
            self.finish(phase);
        }
    }
}

// Who ticks and signs what in the example plan: the shared cast in tests/common.
use common::{
    POST_DEPLOYMENT_OPTIONAL as POST_OPTIONAL, POST_DEPLOYMENT_SIGNOFFS as POST_SIGNOFFS,
    POST_DEPLOYMENT_TICKS as POST_TICKS, PRE_DEPLOYMENT_OPTIONAL as PRE_OPTIONAL,
    PRE_DEPLOYMENT_SIGNOFFS as PRE_SIGNOFFS, PRE_DEPLOYMENT_TICKS as PRE_TICKS, PRODUCTION_OPTIONAL,
    PRODUCTION_SIGNOFFS, PRODUCTION_TICKS, STAGING_OPTIONAL, STAGING_SIGNOFFS, STAGING_TICKS,
};

type Steps = (
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
);

fn steps_of(phase: &str) -> Steps {
    match phase {
        "pre-deployment" => (PRE_TICKS, PRE_SIGNOFFS, PRE_OPTIONAL),
        "staging" => (STAGING_TICKS, STAGING_SIGNOFFS, STAGING_OPTIONAL),
        "production" => (PRODUCTION_TICKS, PRODUCTION_SIGNOFFS, PRODUCTION_OPTIONAL),
        "post-deployment" => (POST_TICKS, POST_SIGNOFFS, POST_OPTIONAL),
        other => panic!("no phase {other} in the example plan"),
    }
}

fn start(release: &str) -> Command {
    Command::Start { release: release.into(), plan: None, freeze_override: None, at: None }
}
fn start_plan(release: &str, plan: &str) -> Command {
    Command::Start { release: release.into(), plan: Some(plan.into()), freeze_override: None, at: None }
}
fn phase_start(phase: &str) -> Command {
    Command::PhaseStart { phase: phase.into() }
}
fn check(item: &str) -> Command {
    Command::Check { item: item.into() }
}
fn uncheck(item: &str) -> Command {
    Command::Uncheck { item: item.into() }
}
fn signoff(role: &str) -> Command {
    Command::SignOff { role: role.into(), note: None }
}
fn signoff_with(role: &str, note: &str) -> Command {
    Command::SignOff { role: role.into(), note: Some(note.into()) }
}
fn nogo(reason: &str) -> Command {
    Command::NoGo { reason: reason.into() }
}
fn traffic(percent: u8) -> Command {
    Command::Traffic { percent, force: None }
}
fn note(text: &str) -> Command {
    Command::Note { text: text.into() }
}
fn rollback(reason: &str) -> Command {
    Command::Rollback { reason: reason.into(), level: None }
}
fn escalate(level: Option<u8>, message: &str) -> Command {
    Command::Escalate { level, message: message.into() }
}
fn abort(reason: &str) -> Command {
    Command::Abort { reason: reason.into() }
}

/// A one-phase plan with traffic steps and no go gate: nothing in the example config can
/// build it (the loader gates the first traffic phase), but the domain must still be sound.
fn canary_plan() -> Plan {
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

fn with_canary() -> Config {
    let mut config = Config::example();
    config.plans.insert("canary".into(), canary_plan());
    config
}

// --- start ---------------------------------------------------------------------------------

#[test]
fn start_opens_a_deployment_on_the_default_plan_led_by_whoever_started_it() {
    let mut s = Desk::new();
    let plan = s.config.default_plan().clone();
    assert_eq!(plan.id, "standard");
    assert_eq!(
        s.run(LEAD, start("v2.4.0")),
        vec![EventKind::DeploymentStarted {
            release: "v2.4.0".into(),
            platform: Platform::Console,
            channel: "releases".into(),
            plan: Box::new(plan.clone()),
            go_live: None,
        }]
    );
    let d = s.d();
    assert_eq!(d.release, "v2.4.0");
    assert_eq!((d.platform, d.channel.as_str()), (Platform::Console, "releases"));
    assert_eq!(*d.plan, plan);
    assert_eq!(d.lead, console(LEAD));
    assert_eq!(d.started_at, s.now);
    assert_eq!(d.status, Status::Active);
    assert_eq!(d.phases.len(), 4);
    assert!(d.phases.iter().all(|p| *p == Default::default()));
    assert_eq!((d.current, d.next_phase()), (None, Some(0)));
    assert_eq!((d.decision.as_ref(), d.traffic, d.escalation.as_ref(), d.rollback.as_ref()), (None, None, None, None));
    assert!(d.notes.is_empty());
    assert_eq!((d.refusals, d.seq, d.ended_at()), (0, 1, None));
    assert_eq!(s.progress(), Progress { done: 0, total: 34 });
}

#[test]
fn start_trims_the_release_name() {
    let mut s = Desk::new();
    let kinds = s.run(LEAD, start("  v2.4.1 \t"));
    assert!(matches!(&kinds[..], [EventKind::DeploymentStarted { release, .. }] if release == "v2.4.1"));
    assert_eq!(s.d().release, "v2.4.1");
}

#[test]
fn start_with_plan_name_uses_that_plan() {
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v2.4.0-canary", "canary"));
    assert_eq!(*s.d().plan, canary_plan());
    assert_eq!(s.d().phases.len(), 1);

    let mut s = Desk::new();
    s.run(LEAD, start_plan("v2.4.0", "standard"));
    assert_eq!(s.d().plan.id, "standard");
}

#[test]
fn start_refuses_an_unknown_plan_listing_the_plans() {
    let mut s = Desk::new();
    assert_eq!(
        s.refuse(LEAD, start_plan("v2.4.0", "hotfix")),
        Refusal::UnknownPlan { given: "hotfix".into(), hint: String::new(), allowed: "standard".into() }
    );
    let mut s = Desk::with(with_canary());
    assert_eq!(
        s.refuse(LEAD, start_plan("v2.4.0", "standrd")),
        Refusal::UnknownPlan {
            given: "standrd".into(),
            hint: " (did you mean `standard`?)".into(),
            allowed: "canary, standard".into()
        }
    );
    assert!(s.state.is_none());
    // Plan names match without regard to case.
    s.run(LEAD, start_plan("v2.4.0", "Standard"));
    assert_eq!(s.d().plan.id, "standard");
}

#[test]
fn start_refuses_an_empty_release() {
    let mut s = Desk::new();
    for release in ["", "   ", "\t\n"] {
        assert_eq!(s.refuse(LEAD, start(release)), Refusal::Empty { what: "the release name" });
    }
    // The release is checked before the plan.
    assert_eq!(s.refuse(LEAD, start_plan(" ", "hotfix")), Refusal::Empty { what: "the release name" });
    assert!(s.state.is_none());
}

#[test]
fn start_is_refused_while_a_deployment_is_open() {
    let mut s = Desk::started();
    let active = Refusal::AlreadyActive { release: "v2.4.0".into(), lead: "dana".into() };
    assert_eq!(s.refuse("alice", start("v2.5.0")), active);
    assert_eq!(s.refuse(LEAD, start_plan("v2.5.0", "nope")), active);
    assert_eq!(s.refuse(LEAD, start("")), active);
    s.run("olga", rollback("bad build"));
    // Still open while rolling back.
    assert_eq!(s.refuse(LEAD, start("v2.5.0")), active);
    assert_eq!(
        active.to_string(),
        "v2.4.0 is already being deployed in this channel (lead: dana); complete or abort it first"
    );
}

// --- phase start ---------------------------------------------------------------------------

#[test]
fn phase_start_starts_the_next_phase() {
    let mut s = Desk::started();
    s.wait(10);
    assert_eq!(
        s.run(LEAD, phase_start("pre-deployment")),
        vec![EventKind::PhaseStarted { phase: "pre-deployment".into() }]
    );
    assert_eq!(s.d().current, Some(0));
    assert_eq!(s.d().phases[0].started_at, Some(s.now));
    assert_eq!(s.d().phases[0].completed_at, None);
    assert!(s.d().phases[1..].iter().all(|p| p.started_at.is_none()));
}

#[test]
fn phase_start_refuses_an_unknown_phase_listing_the_phases_in_order() {
    let mut s = Desk::started();
    for (who, phase) in [(LEAD, "prod"), ("eve", "prod"), (LEAD, "")] {
        assert_eq!(
            s.refuse(who, phase_start(phase)),
            Refusal::UnknownPhase { given: phase.into(), hint: String::new(), allowed: PHASES.into() }
        );
    }
    // Ids match without regard to case; a near miss gets a suggestion.
    assert_eq!(
        s.refuse(LEAD, phase_start("Production")),
        Refusal::OutOfOrder { given: "production".into(), next: "pre-deployment".into() }
    );
    assert_eq!(
        s.refuse(LEAD, phase_start("stagng")),
        Refusal::UnknownPhase {
            given: "stagng".into(),
            hint: " (did you mean `staging`?)".into(),
            allowed: PHASES.into()
        }
    );
}

#[test]
fn phase_start_refuses_phases_out_of_order() {
    let mut s = Desk::started();
    for phase in ["staging", "production", "post-deployment"] {
        assert_eq!(
            s.refuse(LEAD, phase_start(phase)),
            Refusal::OutOfOrder { given: phase.into(), next: "pre-deployment".into() }
        );
    }
    s.finish("pre-deployment");
    assert_eq!(
        s.refuse(LEAD, phase_start("post-deployment")),
        Refusal::OutOfOrder { given: "post-deployment".into(), next: "staging".into() }
    );
}

#[test]
fn phase_start_refuses_a_phase_already_done() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    assert_eq!(
        s.refuse(LEAD, phase_start("pre-deployment")),
        Refusal::PhaseAlreadyDone { phase: "pre-deployment".into() }
    );
    s.all_phases_done_from_staging();
    for phase in ["pre-deployment", "staging", "production", "post-deployment"] {
        assert_eq!(s.refuse(LEAD, phase_start(phase)), Refusal::PhaseAlreadyDone { phase: phase.into() });
    }
}

#[test]
fn phase_start_refuses_while_a_phase_runs() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for phase in ["pre-deployment", "staging", "post-deployment"] {
        assert_eq!(s.refuse(LEAD, phase_start(phase)), Refusal::PhaseRunning { running: "pre-deployment".into() });
    }
}

#[test]
fn the_gated_phase_needs_the_go() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    assert_eq!(
        s.refuse(LEAD, phase_start("production")),
        Refusal::NeedsGo { phase: "production".into(), why: String::new() }
    );
    assert_eq!(
        Refusal::NeedsGo { phase: "production".into(), why: String::new() }.to_string(),
        "phase `production` needs the lead's go first (`/deploy go`)"
    );
    s.run(LEAD, Command::Go);
    assert_eq!(s.run(LEAD, phase_start("production")), vec![EventKind::PhaseStarted { phase: "production".into() }]);
    assert_eq!(s.d().current, Some(2));
}

#[test]
fn after_a_no_go_the_gated_phase_says_why_it_cannot_start() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, nogo("error budget burned"));
    let refusal = s.refuse(LEAD, phase_start("production"));
    assert_eq!(
        refusal,
        Refusal::NeedsGo {
            phase: "production".into(),
            why: "; the last decision was no-go: error budget burned".into()
        }
    );
    assert_eq!(
        refusal.to_string(),
        "phase `production` needs the lead's go first (`/deploy go`); the last decision was no-go: error budget burned"
    );
}

#[test]
fn only_the_lead_starts_a_phase() {
    let mut s = Desk::started();
    for who in ["alice", "olga", "eve", "maya"] {
        assert_eq!(
            s.refuse(who, phase_start("pre-deployment")),
            Refusal::NotLead { action: "start a phase", lead: "dana".into() }
        );
    }
    // The lead is a platform identity: the same id elsewhere, or a display name, is not the lead.
    let slack_dana = Actor::new(Platform::Slack, LEAD);
    let named_dana =
        Actor { platform: Platform::Console, id: "eve".into(), name: Some(LEAD.into()), groups: Vec::new() };
    for actor in [slack_dana, named_dana] {
        assert_eq!(
            s.refuse_as(&actor, phase_start("pre-deployment")),
            Refusal::NotLead { action: "start a phase", lead: "dana".into() }
        );
    }
}

// --- phase done ----------------------------------------------------------------------------

#[test]
fn phase_done_names_open_items_and_missing_sign_offs() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    let refusal = s.refuse(LEAD, Command::PhaseDone);
    assert_eq!(
        refusal,
        Refusal::PhaseNotFinished {
            phase: "pre-deployment".into(),
            missing:
                "open required items: tests, security-scan, migrations-tested, db-backup, secrets, rollback-plan; \
                      missing sign-offs: tech-lead, security"
                    .into(),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "phase `pre-deployment` cannot be completed yet: open required items: tests, security-scan, \
         migrations-tested, db-backup, secrets, rollback-plan; missing sign-offs: tech-lead, security"
    );
    s.ticks(&PRE_TICKS[..4]);
    s.run("sam", signoff("security"));
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished {
            phase: "pre-deployment".into(),
            missing: "open required items: secrets, rollback-plan; missing sign-offs: tech-lead".into(),
        }
    );
    s.ticks(&PRE_TICKS[4..]);
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished { phase: "pre-deployment".into(), missing: "missing sign-offs: tech-lead".into() }
    );
    s.run("alice", signoff("tech-lead"));
    s.run(LEAD, uncheck("secrets"));
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished { phase: "pre-deployment".into(), missing: "open required items: secrets".into() }
    );
    s.run("olga", check("secrets"));
    // The optional `certificates` item is still open, and does not block.
    assert!(!s.d().phases[0].checked.contains_key("certificates"));
    assert_eq!(s.run(LEAD, Command::PhaseDone), vec![EventKind::PhaseCompleted { phase: "pre-deployment".into() }]);
    assert_eq!(s.d().phases[0].completed_at, Some(s.now));
    assert!(s.d().phases[0].is_done());
    assert_eq!((s.d().current, s.d().next_phase()), (None, Some(1)));
}

#[test]
fn phase_done_names_traffic_below_the_last_step() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, Command::Go);
    s.run(LEAD, phase_start("production"));
    assert_eq!(
        s.refuse(LEAD, Command::PhaseDone),
        Refusal::PhaseNotFinished {
            phase: "production".into(),
            missing: "open required items: prod-deploy, prod-migrate, health, error-rate, latency, old-version-warm; \
                      missing sign-offs: ops; traffic is at 0%, not yet 100%"
                .into(),
        }
    );
    s.ticks(PRODUCTION_TICKS);
    s.signoffs(PRODUCTION_SIGNOFFS);
    for step in [50, 70, 85] {
        s.run("olga", traffic(step));
        assert_eq!(
            s.refuse(LEAD, Command::PhaseDone),
            Refusal::PhaseNotFinished {
                phase: "production".into(),
                missing: format!("traffic is at {step}%, not yet 100%"),
            }
        );
    }
    s.run("olga", traffic(100));
    assert_eq!(s.run(LEAD, Command::PhaseDone), vec![EventKind::PhaseCompleted { phase: "production".into() }]);
}

#[test]
fn phase_done_needs_a_running_phase() {
    let mut s = Desk::started();
    assert_eq!(s.refuse(LEAD, Command::PhaseDone), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.finish("pre-deployment");
    let refusal = s.refuse(LEAD, Command::PhaseDone);
    assert_eq!(refusal, Refusal::NoPhaseRunning { next: "staging".into() });
    assert_eq!(refusal.to_string(), "no phase is running; start the next one with `/deploy phase start staging`");
}

#[test]
fn phase_done_after_every_phase_is_done() {
    let mut s = Desk::started();
    s.all_phases_done();
    assert_eq!(s.refuse(LEAD, Command::PhaseDone), Refusal::AllPhasesDone);
    assert_eq!(s.d().next_phase(), None);
}

#[test]
fn only_the_lead_completes_a_phase() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.ticks(PRE_TICKS);
    s.signoffs(PRE_SIGNOFFS);
    for who in ["alice", "sam", "eve"] {
        assert_eq!(
            s.refuse(who, Command::PhaseDone),
            Refusal::NotLead { action: "complete a phase", lead: "dana".into() }
        );
    }
    s.run(LEAD, Command::PhaseDone);
}

// --- check / uncheck -----------------------------------------------------------------------

#[test]
fn check_and_uncheck_by_the_item_owner() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("olga", check("db-backup")),
        vec![EventKind::ItemChecked { phase: "pre-deployment".into(), item: "db-backup".into() }]
    );
    let stamp = &s.d().phases[0].checked["db-backup"];
    assert_eq!((&stamp.by, stamp.at), (&console("olga"), s.now));
    assert_eq!(
        s.run("olga", uncheck("db-backup")),
        vec![EventKind::ItemUnchecked { phase: "pre-deployment".into(), item: "db-backup".into() }]
    );
    assert!(s.d().phases[0].checked.is_empty());
    // Optional items are ticked the same way.
    s.run("olga", check("certificates"));
    assert!(s.d().phases[0].checked.contains_key("certificates"));
}

#[test]
fn check_refuses_an_unknown_item_listing_the_phase_items() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    let allowed = "tests, security-scan, migrations-tested, db-backup, secrets, certificates, rollback-plan";
    // Typos, and items of other phases, are unknown in the running phase.
    for (item, hint) in [("db-bakup", " (did you mean `db-backup`?)"), ("staging-deploy", ""), ("", "")] {
        for command in [check(item), uncheck(item)] {
            assert_eq!(
                s.refuse("olga", command),
                Refusal::UnknownItem {
                    given: item.into(),
                    hint: hint.into(),
                    phase: "pre-deployment".into(),
                    allowed: allowed.into()
                }
            );
        }
    }
    assert_eq!(
        Refusal::UnknownItem {
            given: "db-bakup".into(),
            hint: String::new(),
            phase: "pre-deployment".into(),
            allowed: allowed.into()
        }
        .to_string(),
        format!("unknown item `db-bakup` in phase `pre-deployment`; its items: {allowed}")
    );
}

#[test]
fn check_refuses_someone_who_does_not_own_the_item() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for (who, item, role) in [("bruno", "db-backup", "ops"), ("eve", "tests", "backend"), ("alice", "secrets", "ops")] {
        assert_eq!(
            s.refuse(who, check(item)),
            Refusal::NotItemOwner { item: item.into(), role: role.into(), action: "tick" }
        );
    }
    // Members are platform identities: a display name proves nothing, another platform's id is another person.
    let eve_as_olga =
        Actor { platform: Platform::Console, id: "eve".into(), name: Some("olga".into()), groups: Vec::new() };
    let slack_olga = Actor::new(Platform::Slack, "olga");
    for actor in [eve_as_olga, slack_olga] {
        assert_eq!(
            s.refuse_as(&actor, check("db-backup")),
            Refusal::NotItemOwner { item: "db-backup".into(), role: "ops".into(), action: "tick" }
        );
    }
    // ops on Slack is an owner too.
    s.run_as(&Actor::new(Platform::Slack, "U0OPS"), check("db-backup"));
    // Unticking someone else's item is just as restricted, and the refusal says untick.
    let refusal = s.refuse("bruno", uncheck("db-backup"));
    assert_eq!(refusal, Refusal::NotItemOwner { item: "db-backup".into(), role: "ops".into(), action: "untick" });
    assert_eq!(refusal.to_string(), "only members of `ops` (the owner of `db-backup`) or the lead may untick it");
}

#[test]
fn the_lead_may_tick_and_untick_any_item() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run(LEAD, check("db-backup"));
    assert_eq!(s.d().phases[0].checked["db-backup"].by, console(LEAD));
    s.run("olga", check("secrets"));
    assert_eq!(
        s.run(LEAD, uncheck("secrets")),
        vec![EventKind::ItemUnchecked { phase: "pre-deployment".into(), item: "secrets".into() }]
    );
    assert_eq!(s.d().phases[0].checked.keys().collect::<Vec<_>>(), ["db-backup"]);
}

#[test]
fn check_refuses_an_item_already_checked_naming_who() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    let olga =
        Actor { platform: Platform::Console, id: "olga".into(), name: Some("Olga Ops".into()), groups: Vec::new() };
    s.run_as(&olga, check("db-backup"));
    assert_eq!(
        s.refuse("olga", check("db-backup")),
        Refusal::AlreadyChecked { item: "db-backup".into(), by: "Olga Ops".into() }
    );
    assert_eq!(
        s.refuse(LEAD, check("db-backup")),
        Refusal::AlreadyChecked { item: "db-backup".into(), by: "Olga Ops".into() }
    );
}

#[test]
fn uncheck_refuses_an_item_not_checked() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(s.refuse("olga", uncheck("secrets")), Refusal::NotChecked { item: "secrets".into() });
    s.run("olga", check("secrets"));
    s.run("olga", uncheck("secrets"));
    assert_eq!(s.refuse("olga", uncheck("secrets")), Refusal::NotChecked { item: "secrets".into() });
}

#[test]
fn check_and_uncheck_need_a_running_phase() {
    let mut s = Desk::started();
    for command in [check("db-backup"), uncheck("db-backup"), check("no-such-item")] {
        assert_eq!(s.refuse("olga", command), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    }
    s.finish("pre-deployment");
    assert_eq!(s.refuse("olga", check("staging-deploy")), Refusal::NoPhaseRunning { next: "staging".into() });
    s.all_phases_done_from_staging();
    assert_eq!(s.refuse("olga", check("monitoring")), Refusal::AllPhasesDone);
    assert_eq!(s.refuse("olga", uncheck("monitoring")), Refusal::AllPhasesDone);
}

// --- sign-off ------------------------------------------------------------------------------

#[test]
fn signoff_by_a_member_of_the_role() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("sam", signoff("security")),
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "security".into(), note: None }]
    );
    let signed = &s.d().phases[0].signoffs["security"];
    assert_eq!((&signed.by, signed.at, &signed.note), (&console("sam"), s.now, &None));
    assert_eq!(s.d().missing_signoffs(0), ["tech-lead"]);
}

#[test]
fn signoff_notes_are_trimmed_and_empty_notes_dropped() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("sam", signoff_with("security", "  scan clean, 0 criticals \n")),
        vec![EventKind::SignedOff {
            phase: "pre-deployment".into(),
            role: "security".into(),
            note: Some("scan clean, 0 criticals".into()),
        }]
    );
    assert_eq!(s.d().phases[0].signoffs["security"].note.as_deref(), Some("scan clean, 0 criticals"));
    assert_eq!(
        s.run("alice", signoff_with("tech-lead", "   ")),
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "tech-lead".into(), note: None }]
    );
    assert_eq!(s.d().phases[0].signoffs["tech-lead"].note, None);
}

#[test]
fn signoff_refuses_an_unknown_role_listing_the_roles() {
    let mut s = Desk::started();
    // Even before any phase runs, and for anyone.
    for who in ["sam", "eve"] {
        assert_eq!(
            s.refuse(who, signoff("qa")),
            Refusal::UnknownRole { given: "qa".into(), hint: String::new(), allowed: ROLES.into() }
        );
    }
    s.run(LEAD, phase_start("pre-deployment"));
    // Role ids match without regard to case, and are recorded as the config writes them.
    assert_eq!(
        s.run("sam", signoff("Security")),
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "security".into(), note: None }]
    );
}

#[test]
fn signoff_refuses_a_role_the_phase_does_not_need() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for (who, role) in [("priya", "product"), ("olga", "ops"), ("eve", "backend")] {
        assert_eq!(
            s.refuse(who, signoff(role)),
            Refusal::SignOffNotNeeded {
                role: role.into(),
                phase: "pre-deployment".into(),
                allowed: "tech-lead, security".into()
            }
        );
    }
    // A phase without sign-offs says so.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v1", "canary"));
    s.run(LEAD, phase_start("canary"));
    assert_eq!(
        s.refuse("olga", signoff("ops")),
        Refusal::SignOffNotNeeded { role: "ops".into(), phase: "canary".into(), allowed: "no sign-offs".into() }
    );
}

#[test]
fn signoff_refuses_someone_not_in_the_role() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    for who in ["bruno", "eve", "alice", LEAD] {
        assert_eq!(
            s.refuse(who, signoff("security")),
            Refusal::NotInRole { role: "security".into(), name: "Security Review".into() }
        );
    }
    // Not even the lead signs off a role they do not hold.
    assert_eq!(
        s.refuse(LEAD, signoff("tech-lead")),
        Refusal::NotInRole { role: "tech-lead".into(), name: "Technical Lead".into() }
    );
}

#[test]
fn signoff_refuses_a_role_already_signed() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("sam", signoff("security"));
    let twice = Refusal::AlreadySignedOff { role: "security".into(), phase: "pre-deployment".into(), by: "sam".into() };
    assert_eq!(s.refuse("sam", signoff("security")), twice);
    assert_eq!(s.refuse_as(&Actor::new(Platform::Slack, "U0SECURITY"), signoff("security")), twice);
    // A sign-off of one phase does not carry into the next.
    s.run("alice", signoff("tech-lead"));
    s.ticks(PRE_TICKS);
    s.run(LEAD, Command::PhaseDone);
    s.run(LEAD, phase_start("staging"));
    s.run("alice", signoff("tech-lead"));
    assert_eq!(s.d().phases[1].signoffs.keys().collect::<Vec<_>>(), ["tech-lead"]);
}

#[test]
fn signoff_needs_a_running_phase() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("sam", signoff("security")), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.all_phases_done();
    assert_eq!(s.refuse("sam", signoff("security")), Refusal::AllPhasesDone);
}

// --- go / no-go ----------------------------------------------------------------------------

#[test]
fn go_is_too_early_until_every_phase_before_the_gate_is_done() {
    let mut s = Desk::started();
    let early = |open: &str| Refusal::TooEarlyForDecision { gate: "production".into(), open: open.into() };
    assert_eq!(s.refuse(LEAD, Command::Go), early("pre-deployment, staging"));
    assert_eq!(s.refuse(LEAD, nogo("not yet")), early("pre-deployment, staging"));
    s.finish("pre-deployment");
    assert_eq!(s.refuse(LEAD, Command::Go), early("staging"));
    s.run(LEAD, phase_start("staging"));
    assert_eq!(s.refuse(LEAD, Command::Go), early("staging"));
    assert_eq!(
        early("staging").to_string(),
        "the go/no-go decision comes when every phase before `production` is done; still open: staging"
    );
    s.ticks(STAGING_TICKS);
    s.signoffs(STAGING_SIGNOFFS);
    s.run(LEAD, Command::PhaseDone);
    assert_eq!(s.run(LEAD, Command::Go), vec![EventKind::GoDecided { role: None }]);
    let decision = s.d().decision.as_ref().unwrap();
    assert_eq!((decision.go, &decision.reason, &decision.by, decision.at), (true, &None, &console(LEAD), s.now));
}

#[test]
fn go_and_nogo_are_too_late_once_the_gated_phase_started() {
    let mut s = Desk::started();
    s.in_production();
    let late = Refusal::TooLateForDecision { gate: "production".into() };
    assert_eq!(s.refuse(LEAD, Command::Go), late);
    assert_eq!(s.refuse(LEAD, nogo("second thoughts")), late);
    s.ticks(PRODUCTION_TICKS);
    s.signoffs(PRODUCTION_SIGNOFFS);
    s.all_traffic();
    s.run(LEAD, Command::PhaseDone);
    assert_eq!(s.refuse(LEAD, Command::Go), late);
    assert_eq!(s.refuse(LEAD, nogo("second thoughts")), late);
}

#[test]
fn go_is_given_once() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, Command::Go);
    assert_eq!(s.refuse(LEAD, Command::Go), Refusal::AlreadyGo { by: "dana".into() });
}

#[test]
fn a_nogo_can_be_followed_by_a_go_and_a_go_by_a_nogo() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    assert_eq!(
        s.run(LEAD, nogo("  error budget burned  ")),
        vec![EventKind::NoGoDecided { reason: "error budget burned".into(), role: None }]
    );
    let decision = s.d().decision.clone().unwrap();
    assert_eq!(
        (decision.go, decision.reason.as_deref(), decision.by),
        (false, Some("error budget burned"), console(LEAD))
    );
    assert_eq!(s.run(LEAD, Command::Go), vec![EventKind::GoDecided { role: None }]);
    assert_eq!(s.d().decision.as_ref().map(|d| (d.go, d.reason.clone())), Some((true, None)));
    // Changing one's mind again before the gated phase starts.
    assert_eq!(
        s.run(LEAD, nogo("pager storm")),
        vec![EventKind::NoGoDecided { reason: "pager storm".into(), role: None }]
    );
    assert!(matches!(s.refuse(LEAD, phase_start("production")), Refusal::NeedsGo { .. }));
    s.run(LEAD, Command::Go);
    s.run(LEAD, phase_start("production"));
}

#[test]
fn nogo_needs_a_reason() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    for reason in ["", "  "] {
        assert_eq!(s.refuse(LEAD, nogo(reason)), Refusal::Empty { what: "the no-go reason" });
    }
    assert_eq!(Refusal::Empty { what: "the no-go reason" }.to_string(), "the no-go reason must not be empty");
}

#[test]
fn only_the_lead_decides_go_or_nogo() {
    let mut s = Desk::started();
    s.finish("pre-deployment");
    s.finish("staging");
    for who in ["alice", "olga", "eve"] {
        // Besides the lead, the plan's go_roles (release-manager) decide.
        let not = |action| Refusal::NotDecider {
            action,
            lead: "dana".into(),
            roles: " or members of `release-manager`".into(),
        };
        assert_eq!(s.refuse(who, Command::Go), not("give the go"));
        assert_eq!(s.refuse(who, nogo("no")), not("call no-go"));
        // Who may decide is checked before what was said.
        assert_eq!(s.refuse(who, nogo("")), not("call no-go"));
    }
    // ... and before the timing.
    let mut s = Desk::started();
    assert!(matches!(s.refuse("alice", Command::Go), Refusal::NotDecider { action: "give the go", .. }));
}

// --- traffic -------------------------------------------------------------------------------

#[test]
fn traffic_moves_up_through_the_steps_of_the_phase() {
    let mut s = Desk::started();
    s.in_production();
    assert_eq!(s.d().traffic, None);
    assert_eq!(s.run("olga", traffic(50)), vec![EventKind::TrafficShifted { percent: 50, forced: None }]);
    assert_eq!(s.d().traffic, Some(50));
    // In plan order only; latency is tied to the 50% step.
    assert_eq!(s.refuse("bruno", traffic(85)), Refusal::SkippedStep { given: 85, next: 70 });
    s.run("bruno", check("latency"));
    assert_eq!(s.run("bruno", traffic(70)), vec![EventKind::TrafficShifted { percent: 70, forced: None }]);
    assert_eq!(s.run("bruno", traffic(85)), vec![EventKind::TrafficShifted { percent: 85, forced: None }]);
    assert_eq!(s.d().traffic, Some(85));
    assert_eq!(s.run(LEAD, traffic(100)), vec![EventKind::TrafficShifted { percent: 100, forced: None }]);
    assert_eq!(s.d().traffic, Some(100));
}

#[test]
fn traffic_is_refused_in_a_phase_without_steps() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("olga", traffic(50)), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.run(LEAD, phase_start("pre-deployment"));
    let refusal = s.refuse("olga", traffic(50));
    assert_eq!(refusal, Refusal::NoTrafficHere { phase: "pre-deployment".into(), phases: "production".into() });
    assert_eq!(refusal.to_string(), "phase `pre-deployment` has no traffic steps; traffic moves during: production");
    // Also for outsiders: nothing about their roles to say there.
    assert_eq!(
        s.refuse("eve", traffic(50)),
        Refusal::NoTrafficHere { phase: "pre-deployment".into(), phases: "production".into() }
    );
}

#[test]
fn traffic_refuses_a_step_the_phase_does_not_have() {
    let mut s = Desk::started();
    s.in_production();
    for given in [0, 60, 101, 255] {
        assert_eq!(
            s.refuse("olga", traffic(given)),
            Refusal::UnknownTrafficStep { given, phase: "production".into(), allowed: "50%, 70%, 85%, 100%".into() }
        );
    }
}

#[test]
fn traffic_never_goes_back_down() {
    let mut s = Desk::started();
    s.in_production();
    s.run("olga", traffic(50));
    s.run("bruno", check("latency"));
    s.run("olga", traffic(70));
    for step in [50, 70] {
        assert_eq!(
            s.refuse("olga", traffic(step)),
            Refusal::TrafficNotIncreasing { current: 70, allowed: "85%, 100%".into() }
        );
    }
    s.run("olga", traffic(85));
    s.run("olga", traffic(100));
    let refusal = s.refuse("olga", traffic(100));
    assert_eq!(refusal, Refusal::TrafficAtLastStep { current: 100, phase: "production".into() });
    assert_eq!(
        refusal.to_string(),
        "traffic is already at 100%, the last step of phase `production`; `/deploy phase done` completes the phase"
    );
}

#[test]
fn traffic_after_a_nogo_needs_a_go_again() {
    // Reachable only in a plan whose traffic phase is not gated.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v2.4.0", "canary"));
    s.run(LEAD, phase_start("canary"));
    s.run(LEAD, traffic(10));
    s.run(LEAD, nogo("latency spike"));
    let refusal = s.refuse(LEAD, traffic(50));
    assert_eq!(refusal, Refusal::NeedsGo { phase: "canary".into(), why: " again: the last decision was no-go".into() });
    assert_eq!(
        refusal.to_string(),
        "phase `canary` needs the lead's go first (`/deploy go`) again: the last decision was no-go"
    );
    s.run(LEAD, Command::Go);
    assert_eq!(s.run(LEAD, traffic(50)), vec![EventKind::TrafficShifted { percent: 50, forced: None }]);
}

#[test]
fn traffic_is_refused_to_people_outside_the_phase_roles() {
    let mut s = Desk::started();
    s.in_production();
    let refusal = Refusal::NotPhaseRole {
        phase: "production".into(),
        roles: "backend, ops, product".into(),
        action: "shift traffic",
    };
    // fei (frontend), sam (security) and alice (tech-lead) are on the team but hold none of
    // production's roles; maya is on the escalation path only; eve is nobody.
    for who in ["fei", "sam", "alice", "maya", "eve"] {
        assert_eq!(s.refuse(who, traffic(50)), refusal);
    }
    assert!(refusal.is_permission());
    assert_eq!(
        refusal.to_string(),
        "only the lead or holders of phase `production`'s roles (backend, ops, product) may shift traffic"
    );
    // Who may is checked before which step.
    assert_eq!(s.refuse("eve", traffic(60)), refusal);
}

#[test]
fn traffic_by_holders_of_the_phase_roles_and_the_lead() {
    let mut s = Desk::started();
    s.in_production();
    // ops (items and sign-off), backend (items) and product (the optional notice item).
    s.run("bruno", check("latency"));
    for (who, step) in [("olga", 50), ("bruno", 70), ("priya", 85), (LEAD, 100)] {
        assert_eq!(s.run(who, traffic(step)), vec![EventKind::TrafficShifted { percent: step, forced: None }]);
        assert_eq!(s.history.last().unwrap().actor, console(who));
    }
    // In a plan without roles only the lead shifts traffic.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v1", "canary"));
    s.run(LEAD, phase_start("canary"));
    assert_eq!(
        s.refuse("olga", traffic(10)),
        Refusal::NotPhaseRole { phase: "canary".into(), roles: "none".into(), action: "shift traffic" }
    );
}

// --- notes ---------------------------------------------------------------------------------

#[test]
fn anyone_may_add_a_note() {
    let mut s = Desk::started();
    assert_eq!(
        s.run("eve", note("  watching the dashboards ")),
        vec![EventKind::NoteAdded { text: "watching the dashboards".into() }]
    );
    s.run("olga", note("backup at 09:02"));
    let notes: Vec<_> = s.d().notes.iter().map(|n| (n.by.id.as_str(), n.text.as_str())).collect();
    assert_eq!(notes, [("eve", "watching the dashboards"), ("olga", "backup at 09:02")]);
    assert_eq!(s.d().notes[1].at, s.now);
}

#[test]
fn an_empty_note_is_refused() {
    let mut s = Desk::started();
    for text in ["", " \t "] {
        assert_eq!(s.refuse("eve", note(text)), Refusal::Empty { what: "the note" });
    }
}

// --- rollback ------------------------------------------------------------------------------

#[test]
fn rollback_is_for_the_team_only() {
    let mut s = Desk::started();
    let refusal = s.refuse("eve", rollback("it is on fire"));
    assert_eq!(refusal, Refusal::NotOnTeam { action: "trigger a rollback" });
    assert_eq!(
        refusal.to_string(),
        "only the deployment team (the lead and members of this plan's roles) may trigger a rollback"
    );
    // Who may is checked before what was said.
    assert_eq!(s.refuse("eve", rollback("")), Refusal::NotOnTeam { action: "trigger a rollback" });
    // Role holders, the escalation path and the lead are the team.
    for who in ["fei", "maya", "sol", LEAD] {
        let mut s = Desk::started();
        assert!(matches!(&s.run(who, rollback("bad build"))[0], EventKind::RollbackStarted { .. }));
    }
    // The team is the roles *this plan* uses: the canary plan uses none.
    let mut s = Desk::with(with_canary());
    s.run(LEAD, start_plan("v1", "canary"));
    assert_eq!(s.refuse("bruno", rollback("bad build")), Refusal::NotOnTeam { action: "trigger a rollback" });
    s.run("olga", rollback("bad build"));
}

#[test]
fn rollback_needs_a_reason() {
    let mut s = Desk::started();
    for reason in ["", "   "] {
        assert_eq!(s.refuse("olga", rollback(reason)), Refusal::Empty { what: "the rollback reason" });
    }
}

#[test]
fn rollback_pages_escalation_level_one() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    assert_eq!(
        s.run("bruno", rollback("  migrations failed ")),
        vec![
            EventKind::RollbackStarted { reason: "migrations failed".into(), level: Some(RollbackLevel::Immediate) },
            EventKind::EscalationOpened {
                level: 1,
                message: "rollback: migrations failed".into(),
                cause: Some("rollback".into())
            },
        ]
    );
    let d = s.d();
    assert_eq!(d.status, Status::RollingBack);
    assert!(d.status.is_open());
    let rb = d.rollback.as_ref().unwrap();
    assert_eq!((&rb.by, rb.at, rb.text.as_str()), (&console("bruno"), s.now, "migrations failed"));
    let esc = d.escalation.as_ref().unwrap();
    assert_eq!(
        (esc.level, esc.message.as_str(), &esc.opened_by),
        (1, "rollback: migrations failed", &console("bruno"))
    );
    assert_eq!((esc.opened_at, esc.raised_at, &esc.acked), (s.now, s.now, &None));
    // The running phase is left as it was.
    assert_eq!(d.current, Some(0));
    assert_eq!(s.history.len(), 4);
}

#[test]
fn rollback_does_not_open_a_second_escalation() {
    let mut s = Desk::started();
    s.run("olga", escalate(Some(2), "db slow"));
    let before = s.d().escalation.clone();
    assert_eq!(
        s.run("olga", rollback("db slow")),
        vec![EventKind::RollbackStarted { reason: "db slow".into(), level: Some(RollbackLevel::Immediate) }]
    );
    assert_eq!(s.d().escalation, before);
    assert_eq!(s.d().status, Status::RollingBack);

    // Acknowledged counts as open too.
    let mut s = Desk::started();
    s.run("olga", escalate(None, "db slow"));
    s.run("alice", Command::Ack);
    assert_eq!(s.run("olga", rollback("db slow")).len(), 1);
}

#[test]
fn rollback_without_escalation_levels_pages_nobody() {
    let mut config = Config::example();
    config.escalation.clear();
    let mut s = Desk::with(config);
    s.run(LEAD, start("v1"));
    assert_eq!(
        s.run(LEAD, rollback("bad")),
        vec![EventKind::RollbackStarted { reason: "bad".into(), level: Some(RollbackLevel::Immediate) }]
    );
    assert_eq!(s.d().escalation, None);
}

#[test]
fn rollback_happens_once() {
    let mut s = Desk::started();
    s.run("olga", rollback("bad build"));
    assert_eq!(s.refuse("olga", rollback("really bad")), Refusal::AlreadyRollingBack);
    assert_eq!(s.refuse(LEAD, rollback("really bad")), Refusal::AlreadyRollingBack);
    // Team and reason are checked first.
    assert_eq!(s.refuse("eve", rollback("x")), Refusal::NotOnTeam { action: "trigger a rollback" });
    assert_eq!(s.refuse("olga", rollback(" ")), Refusal::Empty { what: "the rollback reason" });
}

#[test]
fn rolling_back_closes_every_forward_command() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", check("db-backup"));
    s.run("olga", rollback("bad build"));
    let forward = [
        phase_start("staging"),
        phase_start("no-such-phase"),
        Command::PhaseDone,
        check("secrets"),
        uncheck("db-backup"),
        check("no-such-item"),
        signoff("security"),
        signoff("no-such-role"),
        Command::Go,
        nogo("why"),
        nogo(""),
        traffic(50),
    ];
    // For everyone, lead or not: the state, not the person, closes them.
    for who in [LEAD, "olga", "sam", "eve"] {
        for command in forward.clone() {
            assert_eq!(s.refuse(who, command.clone()), Refusal::RollingBack, "{who}: {command:?}");
        }
    }
}

#[test]
fn rolling_back_keeps_notes_escalation_ack_and_the_way_out() {
    let mut s = Desk::started();
    s.run("olga", rollback("bad build"));
    assert_eq!(
        s.run("eve", note("customers see 502s")),
        vec![EventKind::NoteAdded { text: "customers see 502s".into() }]
    );
    assert_eq!(
        s.run("olga", escalate(Some(2), "rollback stuck")),
        vec![EventKind::EscalationRaised { level: 2, message: "rollback stuck".into() }]
    );
    assert_eq!(s.run("maya", Command::Ack), vec![EventKind::EscalationAcknowledged { level: 2 }]);
    assert_eq!(s.run("maya", Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().status, Status::RollingBack);

    // Abort still works.
    let mut aborted = Desk::started();
    aborted.run("olga", rollback("bad build"));
    assert_eq!(
        aborted.run(LEAD, abort("giving up")),
        vec![EventKind::DeploymentAborted { reason: "giving up".into() }]
    );
    assert_eq!(aborted.d().status, Status::Ended(Outcome::Aborted));
}

#[test]
fn completing_a_rollback_ends_the_deployment_as_rolled_back() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", rollback("bad build"));
    // Still the lead's call, but no phases need to be done.
    assert_eq!(
        s.refuse("olga", Command::Complete),
        Refusal::NotLead { action: "complete the deployment", lead: "dana".into() }
    );
    assert_eq!(s.run(LEAD, Command::Complete), vec![EventKind::DeploymentCompleted]);
    let d = s.d();
    assert_eq!(d.status, Status::Ended(Outcome::RolledBack));
    assert_eq!(d.status.as_str(), "rolled_back");
    assert!(!d.status.is_open());
    assert_eq!((d.current, d.escalation.as_ref(), d.ended_at()), (None, None, Some(s.now)));
    assert!(d.rollback.is_some());
}

// --- escalation ----------------------------------------------------------------------------

#[test]
fn escalate_opens_level_one_by_default() {
    let mut s = Desk::started();
    assert_eq!(
        s.run("bruno", escalate(None, "  latency doubled ")),
        vec![EventKind::EscalationOpened { level: 1, message: "latency doubled".into(), cause: None }]
    );
    let esc = s.d().escalation.clone().unwrap();
    assert_eq!((esc.level, esc.message.as_str(), esc.opened_by), (1, "latency doubled", console("bruno")));
    assert_eq!((esc.opened_at, esc.raised_at, esc.acked), (s.now, s.now, None));
    // An explicit level opens at that level.
    let mut s = Desk::started();
    assert_eq!(
        s.run("bruno", escalate(Some(3), "outage")),
        vec![EventKind::EscalationOpened { level: 3, message: "outage".into(), cause: None }]
    );
}

#[test]
fn escalate_refuses_levels_that_do_not_exist() {
    let mut s = Desk::started();
    for given in [0, 4, 255] {
        let refusal = s.refuse("olga", escalate(Some(given), "help"));
        assert_eq!(refusal, Refusal::UnknownLevel { given, max: 3 });
    }
    assert_eq!(
        Refusal::UnknownLevel { given: 4, max: 3 }.to_string(),
        "there is no escalation level 4; levels: 1 to 3"
    );
}

#[test]
fn escalate_raises_an_open_escalation_to_a_higher_level() {
    let mut s = Desk::started();
    s.run("olga", escalate(None, "latency"));
    let opened_at = s.now;
    s.run("alice", Command::Ack);
    s.wait(5);
    assert_eq!(
        s.run("olga", escalate(Some(2), "still slow")),
        vec![EventKind::EscalationRaised { level: 2, message: "still slow".into() }]
    );
    let esc = s.d().escalation.clone().unwrap();
    assert_eq!((esc.level, esc.message.as_str(), esc.opened_by), (2, "still slow", console("olga")));
    assert_eq!((esc.opened_at, esc.raised_at), (opened_at, s.now));
    assert_eq!(esc.acked, None, "raising needs a new acknowledgement");
    s.run("bruno", escalate(Some(3), "outage"));
    assert_eq!(s.d().escalation.as_ref().unwrap().level, 3);
}

#[test]
fn escalate_refuses_the_same_or_a_lower_level_while_one_is_open() {
    let mut s = Desk::started();
    s.run("olga", escalate(Some(2), "latency"));
    for level in [None, Some(1), Some(2)] {
        assert_eq!(s.refuse("olga", escalate(level, "again")), Refusal::EscalationOpen { level: 2 });
    }
    s.run("maya", Command::Ack);
    assert_eq!(s.refuse("olga", escalate(Some(2), "again")), Refusal::EscalationOpen { level: 2 });
    // Once resolved, a new one opens at any level.
    s.run("maya", Command::EscalateResolve);
    assert_eq!(
        s.run("olga", escalate(None, "again")),
        vec![EventKind::EscalationOpened { level: 1, message: "again".into(), cause: None }]
    );
}

#[test]
fn escalate_is_for_the_team_only() {
    let mut s = Desk::started();
    for command in [escalate(None, "help"), escalate(Some(9), ""), escalate(Some(3), "help")] {
        assert_eq!(s.refuse("eve", command), Refusal::NotOnTeam { action: "escalate" });
    }
}

#[test]
fn escalate_needs_a_message() {
    let mut s = Desk::started();
    for level in [None, Some(2)] {
        assert_eq!(s.refuse("olga", escalate(level, "  ")), Refusal::Empty { what: "the escalation message" });
    }
    // The level is checked before the message.
    assert_eq!(s.refuse("olga", escalate(Some(4), "")), Refusal::UnknownLevel { given: 4, max: 3 });
}

#[test]
fn escalate_without_levels_configured() {
    let mut config = Config::example();
    config.escalation.clear();
    let mut s = Desk::with(config);
    s.run(LEAD, start("v1"));
    let refusal = s.refuse(LEAD, escalate(None, "help"));
    assert_eq!(refusal, Refusal::NoEscalationLevels);
    assert_eq!(refusal.to_string(), "no escalation levels are configured (`[[escalation.levels]]`)");
    assert_eq!(s.refuse("eve", escalate(None, "help")), Refusal::NotOnTeam { action: "escalate" });
    assert_eq!(s.refuse(LEAD, Command::Ack), Refusal::NoEscalation);
}

// --- ack -----------------------------------------------------------------------------------

#[test]
fn ack_needs_an_open_escalation() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::NoEscalation);
    assert_eq!(s.refuse("eve", Command::Ack), Refusal::NoEscalation);
    s.run("olga", escalate(None, "x"));
    s.run("olga", Command::EscalateResolve);
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::NoEscalation);
}

#[test]
fn ack_is_for_those_paged_so_far() {
    let mut s = Desk::started();
    s.run("bruno", escalate(None, "latency"));
    let level_one = Refusal::NotPaged { level: 1, action: "acknowledge it" };
    // maya is level 2 and sol level 3: not paged yet. bruno opened it but is on no level.
    for who in ["maya", "sol", "bruno", "eve"] {
        assert_eq!(s.refuse(who, Command::Ack), level_one);
    }
    assert_eq!(
        level_one.to_string(),
        "only the people paged at escalation level 1 or below, or the lead, may acknowledge it"
    );
    s.run("bruno", escalate(Some(2), "latency, still"));
    assert_eq!(s.refuse("sol", Command::Ack), Refusal::NotPaged { level: 2, action: "acknowledge it" });
    assert_eq!(s.run("maya", Command::Ack), vec![EventKind::EscalationAcknowledged { level: 2 }]);
    let (stamp, level) = s.d().escalation.as_ref().unwrap().acked.clone().unwrap();
    assert_eq!((stamp.by, stamp.at, level), (console("maya"), s.now, 2));
}

#[test]
fn lower_levels_and_the_lead_may_ack_a_raised_escalation() {
    for who in ["alice", "olga", LEAD] {
        let mut s = Desk::started();
        s.run("bruno", escalate(Some(3), "outage"));
        assert_eq!(s.run(who, Command::Ack), vec![EventKind::EscalationAcknowledged { level: 3 }]);
    }
    let mut s = Desk::started();
    s.run("bruno", escalate(None, "latency"));
    assert_eq!(s.run(LEAD, Command::Ack), vec![EventKind::EscalationAcknowledged { level: 1 }]);
}

#[test]
fn ack_happens_once_per_level() {
    let mut s = Desk::started();
    s.run("bruno", escalate(None, "latency"));
    s.run("olga", Command::Ack);
    for who in ["olga", "alice", LEAD] {
        assert_eq!(s.refuse(who, Command::Ack), Refusal::AlreadyAcked { by: "olga".into() });
    }
    // Not being paged is said before it being acked already.
    assert_eq!(s.refuse("maya", Command::Ack), Refusal::NotPaged { level: 1, action: "acknowledge it" });
    s.run("bruno", escalate(Some(2), "worse"));
    s.run("maya", Command::Ack);
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::AlreadyAcked { by: "maya".into() });
}

// --- escalate resolve ----------------------------------------------------------------------

#[test]
fn escalate_resolve_closes_the_escalation() {
    let mut s = Desk::started();
    assert_eq!(s.refuse("olga", Command::EscalateResolve), Refusal::NoEscalation);
    s.run("bruno", escalate(None, "latency"));
    for who in ["maya", "eve", "bruno"] {
        assert_eq!(s.refuse(who, Command::EscalateResolve), Refusal::NotPaged { level: 1, action: "resolve it" });
    }
    // Resolving needs no acknowledgement first.
    assert_eq!(s.run("olga", Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().escalation, None);
    assert_eq!(s.refuse("olga", Command::EscalateResolve), Refusal::NoEscalation);

    s.run("bruno", escalate(Some(2), "db"));
    s.run("maya", Command::Ack);
    assert_eq!(s.run(LEAD, Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().escalation, None);
}

// --- complete / abort ----------------------------------------------------------------------

#[test]
fn complete_names_the_phases_not_done() {
    let mut s = Desk::started();
    let refusal = s.refuse(LEAD, Command::Complete);
    assert_eq!(refusal, Refusal::NotFinished { remaining: PHASES.into() });
    assert_eq!(
        refusal.to_string(),
        format!(
            "the deployment cannot be completed yet: phases not done: {PHASES}. \
             To end it without finishing them, the lead can `/deploy abort REASON`"
        )
    );
    s.finish("pre-deployment");
    s.finish("staging");
    s.run(LEAD, Command::Go);
    s.run(LEAD, phase_start("production"));
    assert_eq!(
        s.refuse(LEAD, Command::Complete),
        Refusal::NotFinished { remaining: "production, post-deployment".into() }
    );
}

#[test]
fn only_the_lead_completes_the_deployment() {
    let mut s = Desk::started();
    s.all_phases_done();
    for who in ["alice", "olga", "eve"] {
        assert_eq!(
            s.refuse(who, Command::Complete),
            Refusal::NotLead { action: "complete the deployment", lead: "dana".into() }
        );
    }
    // Before the phases, too: who may is said first.
    let mut s = Desk::started();
    assert_eq!(
        s.refuse("alice", Command::Complete),
        Refusal::NotLead { action: "complete the deployment", lead: "dana".into() }
    );
}

#[test]
fn complete_ends_a_finished_deployment() {
    let mut s = Desk::started();
    s.all_phases_done();
    s.run("olga", escalate(None, "watching error rate"));
    assert_eq!(s.run(LEAD, Command::Complete), vec![EventKind::DeploymentCompleted]);
    let d = s.d();
    assert_eq!(d.status, Status::Ended(Outcome::Completed));
    assert_eq!(d.status.as_str(), "completed");
    assert_eq!((d.current, d.escalation.as_ref(), d.ended_at()), (None, None, Some(s.now)));
}

#[test]
fn abort_ends_the_deployment_with_a_reason_from_the_lead() {
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", escalate(None, "x"));
    for who in ["alice", "eve"] {
        assert_eq!(
            s.refuse(who, abort("no")),
            Refusal::NotLead { action: "abort the deployment", lead: "dana".into() }
        );
    }
    assert_eq!(s.refuse("eve", abort("")), Refusal::NotLead { action: "abort the deployment", lead: "dana".into() });
    for reason in ["", "  "] {
        assert_eq!(s.refuse(LEAD, abort(reason)), Refusal::Empty { what: "the abort reason" });
    }
    assert_eq!(
        s.run(LEAD, abort(" release pulled ")),
        vec![EventKind::DeploymentAborted { reason: "release pulled".into() }]
    );
    let d = s.d();
    assert_eq!(d.status, Status::Ended(Outcome::Aborted));
    assert_eq!(d.status.as_str(), "aborted");
    assert_eq!((d.current, d.escalation.as_ref(), d.ended_at()), (None, None, Some(s.now)));
}

// --- no deployment -------------------------------------------------------------------------

fn every_command_but_start() -> Vec<Command> {
    vec![
        phase_start("pre-deployment"),
        Command::PhaseDone,
        check("db-backup"),
        uncheck("db-backup"),
        signoff("security"),
        Command::Go,
        nogo("no"),
        traffic(50),
        rollback("bad"),
        escalate(None, "help"),
        Command::EscalateResolve,
        Command::Ack,
        note("hello"),
        Command::Complete,
        abort("no"),
    ]
}

#[test]
fn without_a_deployment_every_command_but_start_is_refused() {
    let mut s = Desk::new();
    for command in every_command_but_start() {
        let refusal = s.refuse(LEAD, command);
        assert_eq!(refusal, Refusal::NoDeployment);
        assert_eq!(
            refusal.to_string(),
            "there is no active deployment in this channel; start one with `/deploy start RELEASE`"
        );
    }
    assert!(s.state.is_none());
}

#[test]
fn after_the_deployment_ended_only_a_new_start_is_accepted() {
    for end in [Command::Complete, abort("pulled")] {
        let mut s = Desk::started();
        if end == Command::Complete {
            s.all_phases_done();
        }
        s.run(LEAD, end);
        let ended = s.d().clone();
        for command in every_command_but_start() {
            assert_eq!(s.refuse(LEAD, command), Refusal::NoDeployment);
        }
        assert_eq!(s.d(), &ended);
        // A new deployment in the same channel, with a history of its own, led by its starter.
        s.run("rhea", start("v2.4.1"));
        assert_eq!(s.history.len(), 1);
        assert_eq!((s.d().release.as_str(), s.d().lead.id.as_str(), s.d().seq), ("v2.4.1", "rhea", 1));
        assert_eq!(s.d().status, Status::Active);
    }
}

// --- the whole story and progress ----------------------------------------------------------

#[test]
fn a_whole_release_walks_progress_from_0_to_100() {
    let mut s = Desk::started();
    let mut seen = vec![s.percent()];
    // Each step must move progress by exactly `delta` steps, and 100 % must mean every phase is done.
    let mut step = |s: &mut Desk, who: &str, command: Command, delta: usize| {
        let before = s.progress();
        s.run(who, command.clone());
        let after = s.progress();
        assert_eq!(after.total, 34);
        assert_eq!(after.done, before.done + delta, "{who}: {command:?}");
        let all_done = s.d().phases.iter().all(|p| p.is_done());
        assert_eq!(after.percent() == 100, all_done, "{after:?}");
        assert!(after.percent() >= *seen.last().unwrap());
        seen.push(after.percent());
    };
    let mut checkpoints = Vec::new();
    for phase in ["pre-deployment", "staging", "production", "post-deployment"] {
        let (ticks, signoffs, optional) = steps_of(phase);
        if phase == "production" {
            step(&mut s, LEAD, Command::Go, 0);
        }
        step(&mut s, LEAD, phase_start(phase), 0);
        for (who, item) in optional {
            step(&mut s, who, check(item), 0);
        }
        for (who, item) in ticks {
            step(&mut s, who, check(item), 1);
        }
        for (who, role) in signoffs {
            step(&mut s, who, signoff(role), 1);
        }
        if phase == "production" {
            for percent in [50, 70, 85, 100] {
                step(&mut s, "olga", traffic(percent), 0);
            }
        }
        step(&mut s, "eve", note(&format!("{phase} looks good")), 0);
        checkpoints.push(s.percent());
        step(&mut s, LEAD, Command::PhaseDone, 1);
        checkpoints.push(s.percent());
    }
    // 9 + 8 + 8 + 9 steps; rounded down.
    assert_eq!(seen[0], 0);
    assert_eq!(checkpoints, [23, 26, 47, 50, 70, 73, 97, 100]);
    assert_eq!(s.progress(), Progress { done: 34, total: 34 });
    assert_eq!(s.run(LEAD, Command::Complete), vec![EventKind::DeploymentCompleted]);
    assert_eq!(s.d().status, Status::Ended(Outcome::Completed));
    assert_eq!(s.percent(), 100);

    // The history is contiguous and in order, and every phase was started and completed once, in plan order.
    assert!(s.history.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1));
    assert!(s.history.windows(2).all(|w| w[0].at < w[1].at));
    let phases: Vec<String> = s
        .history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PhaseStarted { phase } => Some(format!("start {phase}")),
            EventKind::PhaseCompleted { phase } => Some(format!("done {phase}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [
            "start pre-deployment",
            "done pre-deployment",
            "start staging",
            "done staging",
            "start production",
            "done production",
            "start post-deployment",
            "done post-deployment"
        ]
    );
    assert_eq!(s.history.last().unwrap().kind, EventKind::DeploymentCompleted);
}

#[test]
fn optional_items_never_change_progress() {
    let mut s = Desk::started();
    for phase in ["pre-deployment", "staging", "production", "post-deployment"] {
        let (ticks, signoffs, optional) = steps_of(phase);
        if phase == "production" {
            s.run(LEAD, Command::Go);
        }
        s.run(LEAD, phase_start(phase));
        for (who, item) in optional {
            let before = s.progress();
            s.run(who, check(item));
            assert_eq!(s.progress(), before, "ticking optional {item}");
            s.run(who, uncheck(item));
            assert_eq!(s.progress(), before, "unticking optional {item}");
        }
        // A required item moves it, and unticking it moves it back.
        let before = s.progress();
        let (who, item) = ticks[0];
        s.run(who, check(item));
        assert_eq!(s.progress().done, before.done + 1);
        s.run(who, uncheck(item));
        assert_eq!(s.progress(), before);
        s.ticks(ticks);
        s.signoffs(signoffs);
        if phase == "production" {
            s.all_traffic();
        }
        // Every phase completes with its optional items unticked.
        s.run(LEAD, Command::PhaseDone);
    }
    assert_eq!(s.percent(), 100);
    assert!(s.d().phases.iter().enumerate().all(|(i, p)| {
        let optional: Vec<_> = s.d().plan.phases[i].items.iter().filter(|it| !it.required).collect();
        optional.len() == 1 && !p.checked.contains_key(&optional[0].id)
    }));
}

#[test]
fn progress_counts_required_items_sign_offs_and_completion_per_phase() {
    let s = Desk::started();
    let plan = &s.d().plan;
    let steps: Vec<usize> =
        plan.phases.iter().map(|p| p.items.iter().filter(|i| i.required).count() + p.signoffs.len() + 1).collect();
    assert_eq!(steps, [9, 8, 8, 9]);
    assert_eq!(Progress { done: 0, total: 0 }.percent(), 100);
    assert_eq!(Progress { done: 33, total: 34 }.percent(), 97);
    assert_eq!(Progress { done: 1, total: 3 }.percent(), 33);
}

// --- timers golive records itself ----------------------------------------------------------

#[test]
fn a_running_phase_becomes_overdue_once() {
    let mut s = Desk::started();
    assert_eq!(s.d().overdue_due(), None, "no phase running");
    s.run(LEAD, phase_start("pre-deployment"));
    let started = s.now;
    let due = started + Duration::hours(2);
    assert_eq!(s.d().overdue_due(), Some(due));
    assert_eq!(s.d().overdue(due - Duration::seconds(1)), None);
    let overdue = s.d().overdue(due).expect("overdue at the planned end");
    assert_eq!(overdue, EventKind::PhaseOverdue { phase: "pre-deployment".into(), planned_secs: 7200, owners: vec![] });
    s.now = due;
    s.record(overdue);
    assert_eq!(s.d().phases[0].overdue_at, Some(due));
    assert_eq!(s.d().overdue_due(), None, "recorded once");
    assert_eq!(s.d().overdue(due + Duration::hours(5)), None);

    // Rolling back stops the timer.
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", rollback("bad"));
    assert_eq!(s.d().overdue_due(), None);
}

#[test]
fn status_posts_and_recorded_refusals_fold() {
    let mut s = Desk::started();
    let slot = Utc.with_ymd_and_hms(2026, 6, 2, 9, 30, 0).unwrap();
    s.record(EventKind::StatusPosted { slot, late_secs: 2 });
    assert_eq!(s.d().last_status_slot, Some(slot));
    let refusal = s.refuse("eve", rollback("x"));
    s.append(
        console("eve"),
        EventKind::CommandRefused { command: rollback("x").describe(), reason: refusal.to_string() },
    );
    assert_eq!(s.d().refusals, 1);
    assert_eq!(s.d().status, Status::Active);
}

// --- folding ---------------------------------------------------------------------------------

fn event(seq: i64, kind: EventKind) -> Event {
    Event { seq, at: Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap(), actor: console(LEAD), kind }
}

fn started_event() -> Event {
    let config = Config::example();
    event(
        1,
        EventKind::DeploymentStarted {
            release: "v1".into(),
            platform: Platform::Console,
            channel: "releases".into(),
            plan: Box::new(config.default_plan().clone()),
            go_live: None,
        },
    )
}

#[test]
fn an_empty_history_does_not_fold() {
    assert_eq!(Deployment::from_events(&Vec::<Event>::new()), Err(FoldError::Empty));
}

#[test]
fn a_history_must_begin_with_deployment_started() {
    let phase = event(1, EventKind::PhaseStarted { phase: "pre-deployment".into() });
    assert_eq!(Deployment::from_events([&phase, &started_event()]), Err(FoldError::NotStarted("phase_started")));
    let note = event(1, EventKind::NoteAdded { text: "hi".into() });
    let err = Deployment::from_events([&note]).unwrap_err();
    assert_eq!(err, FoldError::NotStarted("note_added"));
    assert_eq!(err.to_string(), "the first event is `note_added`, not `deployment_started`");
}

#[test]
fn events_that_do_not_fit_the_state_are_reported() {
    let start = started_event();
    let mut twice = started_event();
    twice.seq = 2;
    assert_eq!(
        Deployment::from_events([&start, &twice]),
        Err(FoldError::Inconsistent {
            seq: 2,
            kind: "deployment_started",
            why: "a deployment starts only once".into()
        })
    );
    for kind in [
        EventKind::PhaseStarted { phase: "canary".into() },
        EventKind::PhaseCompleted { phase: "canary".into() },
        EventKind::ItemChecked { phase: "canary".into(), item: "x".into() },
        EventKind::SignedOff { phase: "canary".into(), role: "ops".into(), note: None },
    ] {
        let name = kind.name();
        assert_eq!(
            Deployment::from_events([&start, &event(2, kind)]),
            Err(FoldError::Inconsistent { seq: 2, kind: name, why: "no phase `canary`".into() })
        );
    }
    for kind in
        [EventKind::EscalationRaised { level: 2, message: "x".into() }, EventKind::EscalationAcknowledged { level: 1 }]
    {
        let name = kind.name();
        assert_eq!(
            Deployment::from_events([&start, &event(2, kind)]),
            Err(FoldError::Inconsistent { seq: 2, kind: name, why: "no escalation is open".into() })
        );
    }
}

#[test]
fn the_stored_kind_name_is_the_serialized_tag_and_events_round_trip() {
    let at = Utc.with_ymd_and_hms(2026, 6, 2, 9, 30, 0).unwrap();
    let kinds = vec![
        started_event().kind,
        EventKind::PhaseStarted { phase: "p".into() },
        EventKind::PhaseCompleted { phase: "p".into() },
        EventKind::ItemChecked { phase: "p".into(), item: "i".into() },
        EventKind::ItemUnchecked { phase: "p".into(), item: "i".into() },
        EventKind::SignedOff { phase: "p".into(), role: "r".into(), note: Some("n".into()) },
        EventKind::GoDecided { role: None },
        EventKind::NoGoDecided { reason: "r".into(), role: None },
        EventKind::TrafficShifted { percent: 50, forced: None },
        EventKind::NoteAdded { text: "t".into() },
        EventKind::RollbackStarted { reason: "r".into(), level: None },
        EventKind::EscalationOpened { level: 1, message: "m".into(), cause: None },
        EventKind::EscalationRaised { level: 2, message: "m".into() },
        EventKind::EscalationAcknowledged { level: 2 },
        EventKind::EscalationResolved,
        EventKind::PhaseOverdue { phase: "p".into(), planned_secs: 60, owners: vec![] },
        EventKind::StatusPosted { slot: at, late_secs: 3 },
        EventKind::DeploymentCompleted,
        EventKind::DeploymentAborted { reason: "r".into() },
        EventKind::CommandRefused { command: "go".into(), reason: "r".into() },
    ];
    let mut names = Vec::new();
    for kind in kinds {
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(json["kind"], kind.name(), "{json}");
        let back: EventKind = serde_json::from_value(json).unwrap();
        assert_eq!(back, kind);
        names.push(kind.name());
    }
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 20, "every kind has its own name");
    // The stored plan keeps durations as whole seconds.
    let json = serde_json::to_value(started_event().kind).unwrap();
    assert_eq!(json["plan"]["phases"][0]["planned"], 7200);
}

// --- refusals ------------------------------------------------------------------------------

#[test]
fn is_permission_is_true_exactly_for_refusals_about_the_caller() {
    let s = String::new;
    let table: Vec<(Refusal, bool)> = vec![
        (Refusal::NotLead { action: "a", lead: s() }, true),
        (Refusal::NotInRole { role: s(), name: s() }, true),
        (Refusal::NotItemOwner { item: s(), role: s(), action: "tick" }, true),
        (Refusal::NotOnTeam { action: "a" }, true),
        (Refusal::NotPhaseRole { phase: s(), roles: s(), action: "a" }, true),
        (Refusal::NotPaged { level: 1, action: "a" }, true),
        (Refusal::NoDeployment, false),
        (Refusal::AlreadyActive { release: s(), lead: s() }, false),
        (Refusal::UnknownPlan { given: s(), hint: s(), allowed: s() }, false),
        (Refusal::UnknownPhase { given: s(), hint: s(), allowed: s() }, false),
        (Refusal::PhaseRunning { running: s() }, false),
        (Refusal::PhaseAlreadyDone { phase: s() }, false),
        (Refusal::OutOfOrder { given: s(), next: s() }, false),
        (Refusal::NoPhaseRunning { next: s() }, false),
        (Refusal::AllPhasesDone, false),
        (Refusal::PhaseNotFinished { phase: s(), missing: s() }, false),
        (Refusal::UnknownItem { given: s(), hint: s(), phase: s(), allowed: s() }, false),
        (Refusal::AlreadyChecked { item: s(), by: s() }, false),
        (Refusal::NotChecked { item: s() }, false),
        (Refusal::UnknownRole { given: s(), hint: s(), allowed: s() }, false),
        (Refusal::SignOffNotNeeded { role: s(), phase: s(), allowed: s() }, false),
        (Refusal::AlreadySignedOff { role: s(), phase: s(), by: s() }, false),
        (Refusal::TooEarlyForDecision { gate: s(), open: s() }, false),
        (Refusal::TooLateForDecision { gate: s() }, false),
        (Refusal::AlreadyGo { by: s() }, false),
        (Refusal::NeedsGo { phase: s(), why: s() }, false),
        (Refusal::NoTrafficHere { phase: s(), phases: s() }, false),
        (Refusal::UnknownTrafficStep { given: 1, phase: s(), allowed: s() }, false),
        (Refusal::TrafficNotIncreasing { current: 1, allowed: s() }, false),
        (Refusal::TrafficAtLastStep { current: 1, phase: s() }, false),
        (Refusal::UnknownBlocker { given: 1, open: s() }, false),
        (Refusal::SnoozeTooLong { given: s(), max: s() }, false),
        (Refusal::NotSnoozed, false),
        (Refusal::NothingToRemind { why: s() }, false),
        (Refusal::NoEscalationLevels, false),
        (Refusal::UnknownLevel { given: 1, max: 1 }, false),
        (Refusal::EscalationOpen { level: 1 }, false),
        (Refusal::NoEscalation, false),
        (Refusal::AlreadyAcked { by: s() }, false),
        (Refusal::RollingBack, false),
        (Refusal::AlreadyRollingBack, false),
        (Refusal::NotFinished { remaining: s() }, false),
        (Refusal::Empty { what: "x" }, false),
        (Refusal::NotLeadRole { plan: s(), roles: s() }, true),
        (Refusal::NotLeadOrLeadRole { lead: s(), roles: s() }, true),
        (Refusal::NotDecider { action: "a", lead: s(), roles: s() }, true),
        (
            Refusal::InBatch {
                item: s(),
                why: Box::new(Refusal::NotItemOwner { item: s(), role: s(), action: "tick" }),
            },
            true,
        ),
        (Refusal::InBatch { item: s(), why: Box::new(Refusal::AlreadyChecked { item: s(), by: s() }) }, false),
        (Refusal::CannotLead { who: s(), plan: s(), roles: s() }, false),
        (Refusal::AlreadyLead { who: s() }, false),
        (Refusal::BadGoLive { given: s(), timezone: s() }, false),
        (Refusal::NoPhaseRunningBeforeGo { next: s() }, false),
        (Refusal::UnknownSection { given: s(), hint: s(), phase: s(), allowed: s() }, false),
        (Refusal::SectionDone { section: s() }, false),
        (Refusal::AfterOpen { item: s(), open: s(), them: "it" }, false),
        (Refusal::SkippedStep { given: 1, next: 1 }, false),
        (Refusal::HoldRunning { current: 1, given: 1, left: s(), hold: s() }, false),
        (Refusal::StepItemsOpen { current: 1, given: 1, open: s() }, false),
        (Refusal::NothingToForce { current: 1, given: 1 }, false),
    ];
    assert_eq!(table.len(), 59, "one row per variant");
    for (refusal, expected) in &table {
        assert_eq!(refusal.is_permission(), *expected, "{refusal:?}");
        assert_eq!(about_the_caller(refusal), *expected, "{refusal:?}");
        assert!(!refusal.to_string().is_empty());
    }
}

#[test]
fn commands_describe_themselves_in_the_chat_grammar() {
    let cases = [
        (start("v1"), "start v1"),
        (start_plan("v1", "canary"), "start v1 plan=canary"),
        (phase_start("staging"), "phase start staging"),
        (Command::PhaseDone, "phase done"),
        (check("tests"), "check tests"),
        (uncheck("tests"), "uncheck tests"),
        (signoff_with("ops", "fine"), "signoff ops"),
        (Command::Go, "go"),
        (nogo("secret reason"), "nogo"),
        (traffic(70), "traffic 70"),
        (rollback("r"), "rollback"),
        (escalate(Some(2), "m"), "escalate 2"),
        (escalate(None, "m"), "escalate"),
        (Command::EscalateResolve, "escalate resolve"),
        (Command::Ack, "ack"),
        (note("n"), "note"),
        (Command::Complete, "complete"),
        (abort("r"), "abort"),
    ];
    for (command, text) in cases {
        assert_eq!(command.describe(), text);
    }
}

#[test]
fn the_deployment_records_its_channel_and_the_lead_is_a_platform_identity() {
    let mut s = Desk::new();
    s.channel = Channel { platform: Platform::Slack, id: "C0DEPLOY".into() };
    s.run_as(&Actor::new(Platform::Slack, "U0DANA"), start("v1"));
    assert_eq!((s.d().platform, s.d().channel.as_str()), (Platform::Slack, "C0DEPLOY"));
    assert_eq!(s.d().lead, Actor::new(Platform::Slack, "U0DANA"));
    // The console user with the same id is someone else.
    assert_eq!(
        s.refuse("U0DANA", phase_start("pre-deployment")),
        Refusal::NotLead { action: "start a phase", lead: "U0DANA".into() }
    );
    s.run_as(&Actor::new(Platform::Slack, "U0DANA"), phase_start("pre-deployment"));
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
