//! The pure domain core, driven like a story: commands by named people against the example
//! plan, asserting the events produced, the state they fold into, and every refusal.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{
    POST_DEPLOYMENT_SIGNOFFS, POST_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, PRODUCTION_TICKS,
    STAGING_SIGNOFFS, STAGING_TICKS,
};
use golive::config::Config;
use golive::domain::deployment::FoldError;
use golive::domain::progress::progress;
use golive::domain::{
    decide, Actor, Channel, Command, Deployment, Event, EventKind, Outcome, Platform, Refusal, RollbackLevel, Status,
};

struct Story {
    config: Config,
    channel: Channel,
    events: Vec<Event>,
    state: Option<Deployment>,
    at: DateTime<Utc>,
}

fn who(name: &str) -> Actor {
    Actor::new(Platform::Console, name)
}

impl Story {
    fn new() -> Story {
        Story {
            config: Config::example(),
            channel: Channel { platform: Platform::Console, id: "ops".into() },
            events: Vec::new(),
            state: None,
            at: Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap(),
        }
    }

    fn try_run(&mut self, name: &str, command: Command) -> Result<Vec<EventKind>, Refusal> {
        let open = self.state.as_ref().filter(|d| d.status.is_open());
        let kinds = decide(&self.config.rules_at(chrono::Utc::now()), &self.channel, open, &who(name), &command)?;
        self.at += chrono::Duration::minutes(1);
        if self.state.as_ref().is_some_and(|d| !d.status.is_open()) {
            // A new deployment in the channel after the last one ended.
            self.events.clear();
            self.state = None;
        }
        for kind in &kinds {
            let event = Event { seq: self.events.len() as i64 + 1, at: self.at, actor: who(name), kind: kind.clone() };
            match self.state.as_mut() {
                Some(d) => d.apply(&event).expect("decided events fold"),
                None => self.state = Some(Deployment::from_events([&event]).expect("a start folds")),
            }
            self.events.push(event);
        }
        // State is the fold of the events: refolding from scratch gives the same state.
        assert_eq!(Deployment::from_events(&self.events).as_ref(), Ok(self.d()));
        Ok(kinds)
    }

    fn run(&mut self, name: &str, command: Command) -> Vec<EventKind> {
        self.try_run(name, command.clone()).unwrap_or_else(|r| panic!("{name}: {command:?} refused: {r}"))
    }

    fn refuse(&mut self, name: &str, command: Command) -> Refusal {
        let before = self.events.len();
        let refusal = match self.try_run(name, command.clone()) {
            Err(r) => r,
            Ok(kinds) => panic!("{name}: {command:?} was accepted: {kinds:?}"),
        };
        assert_eq!(self.events.len(), before, "a refusal must not change anything");
        refusal
    }

    fn d(&self) -> &Deployment {
        self.state.as_ref().expect("a deployment")
    }

    fn percent(&self) -> u8 {
        progress(self.d()).percent()
    }

    fn started() -> Story {
        let mut s = Story::new();
        s.run("dana", start("v2.4.0"));
        s
    }

    fn checks(&mut self, items: &[(&str, &str)]) {
        for (name, item) in items {
            self.run(name, check(item));
        }
    }

    /// Starts `phase`, ticks its required items, collects its sign-offs and completes it.
    fn finish_phase(&mut self, phase: &str, ticks: &[(&str, &str)], signoffs: &[(&str, &str)]) {
        self.run("dana", phase_start(phase));
        self.checks(ticks);
        for (name, role) in signoffs {
            self.run(name, signoff(role));
        }
        self.run("dana", Command::PhaseDone);
    }

    fn pre_deployment_done(&mut self) {
        self.finish_phase("pre-deployment", PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS);
    }

    fn staging_done(&mut self) {
        self.finish_phase("staging", STAGING_TICKS, STAGING_SIGNOFFS);
    }

    /// Up to production running with its required items ticked and traffic at 50 %.
    fn in_production(&mut self) {
        self.pre_deployment_done();
        self.staging_done();
        self.run("dana", Command::Go);
        self.run("dana", phase_start("production"));
        self.checks(PRODUCTION_TICKS);
        self.run("olga", traffic(50));
    }
}

fn start(release: &str) -> Command {
    Command::Start { release: release.into(), plan: None, freeze_override: None, at: None }
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
fn traffic(percent: u8) -> Command {
    Command::Traffic { percent, force: None }
}
fn escalate(level: Option<u8>, message: &str) -> Command {
    Command::Escalate { level, message: message.into() }
}

// --- start ---------------------------------------------------------------------------------

#[test]
fn whoever_starts_a_deployment_leads_it_on_the_default_plan() {
    let mut s = Story::new();
    let kinds = s.run("dana", start("v2.4.0"));
    let [EventKind::DeploymentStarted { release, platform, channel, plan, .. }] = kinds.as_slice() else {
        panic!("{kinds:?}")
    };
    assert_eq!(
        (release.as_str(), *platform, channel.as_str(), plan.id.as_str()),
        ("v2.4.0", Platform::Console, "ops", "standard")
    );
    assert_eq!(s.d().lead, who("dana"));
    assert_eq!(s.d().status, Status::Active);
    assert_eq!(s.d().current, None);
    assert_eq!(s.percent(), 0);
}

#[test]
fn start_refusals() {
    let mut s = Story::new();
    assert_eq!(
        s.refuse(
            "dana",
            Command::Start { release: "v1".into(), plan: Some("hotfix".into()), freeze_override: None, at: None }
        ),
        Refusal::UnknownPlan { given: "hotfix".into(), hint: String::new(), allowed: "standard".into() }
    );
    assert_eq!(s.refuse("dana", start("  ")), Refusal::Empty { what: "the release name" });
    assert_eq!(s.refuse("dana", Command::PhaseDone), Refusal::NoDeployment);
    s.run(
        "dana",
        Command::Start { release: "v1".into(), plan: Some("standard".into()), freeze_override: None, at: None },
    );
    assert_eq!(s.refuse("alice", start("v2")), Refusal::AlreadyActive { release: "v1".into(), lead: "dana".into() });
}

// --- phases --------------------------------------------------------------------------------

#[test]
fn phases_run_in_plan_order_and_only_the_lead_moves_them() {
    let mut s = Story::started();
    assert_eq!(
        s.refuse("dana", phase_start("prod")),
        Refusal::UnknownPhase {
            given: "prod".into(),
            hint: String::new(),
            allowed: "pre-deployment, staging, production, post-deployment".into()
        }
    );
    assert_eq!(
        s.refuse("dana", phase_start("staging")),
        Refusal::OutOfOrder { given: "staging".into(), next: "pre-deployment".into() }
    );
    let refusal = s.refuse("alice", phase_start("pre-deployment"));
    assert_eq!(refusal, Refusal::NotLead { action: "start a phase", lead: "dana".into() });
    assert!(refusal.is_permission());
    assert_eq!(s.refuse("dana", Command::PhaseDone), Refusal::NoPhaseRunning { next: "pre-deployment".into() });

    assert_eq!(
        s.run("dana", phase_start("pre-deployment")),
        vec![EventKind::PhaseStarted { phase: "pre-deployment".into() }]
    );
    assert_eq!(s.d().current, Some(0));
    assert_eq!(s.refuse("dana", phase_start("staging")), Refusal::PhaseRunning { running: "pre-deployment".into() });
    assert_eq!(
        s.refuse("alice", Command::PhaseDone),
        Refusal::NotLead { action: "complete a phase", lead: "dana".into() }
    );
}

#[test]
fn a_phase_is_done_only_when_items_sign_offs_and_traffic_are() {
    let mut s = Story::started();
    s.run("dana", phase_start("pre-deployment"));
    assert_eq!(
        s.refuse("dana", Command::PhaseDone),
        Refusal::PhaseNotFinished {
            phase: "pre-deployment".into(),
            missing: "open required items: tests, security-scan, migrations-tested, db-backup, secrets, rollback-plan; missing sign-offs: tech-lead, security".into()
        }
    );
    s.checks(PRE_DEPLOYMENT_TICKS);
    s.run("sam", signoff("security"));
    assert_eq!(
        s.refuse("dana", Command::PhaseDone),
        Refusal::PhaseNotFinished { phase: "pre-deployment".into(), missing: "missing sign-offs: tech-lead".into() }
    );
    s.run("alice", signoff("tech-lead"));
    // The optional `certificates` item never blocks.
    assert_eq!(s.run("dana", Command::PhaseDone), vec![EventKind::PhaseCompleted { phase: "pre-deployment".into() }]);
    assert!(s.d().phases[0].is_done());
    assert_eq!(
        s.refuse("dana", phase_start("pre-deployment")),
        Refusal::PhaseAlreadyDone { phase: "pre-deployment".into() }
    );

    let mut s = Story::started();
    s.in_production();
    s.run("olga", signoff("ops"));
    assert_eq!(
        s.refuse("dana", Command::PhaseDone),
        Refusal::PhaseNotFinished { phase: "production".into(), missing: "traffic is at 50%, not yet 100%".into() }
    );
}

// --- checklist -----------------------------------------------------------------------------

#[test]
fn items_are_ticked_by_their_role_or_the_lead() {
    let mut s = Story::started();
    assert_eq!(s.refuse("olga", check("db-backup")), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.run("dana", phase_start("pre-deployment"));
    assert_eq!(
        s.refuse("olga", check("db")),
        Refusal::UnknownItem {
            given: "db".into(),
            hint: String::new(),
            phase: "pre-deployment".into(),
            allowed: "tests, security-scan, migrations-tested, db-backup, secrets, certificates, rollback-plan".into()
        }
    );
    let refusal = s.refuse("bruno", check("db-backup"));
    assert_eq!(refusal, Refusal::NotItemOwner { item: "db-backup".into(), role: "ops".into(), action: "tick" });
    assert!(refusal.is_permission());
    assert_eq!(
        s.run("olga", check("db-backup")),
        vec![EventKind::ItemChecked { phase: "pre-deployment".into(), item: "db-backup".into() }]
    );
    assert_eq!(s.d().phases[0].checked["db-backup"].by, who("olga"));
    assert_eq!(
        s.refuse("olga", check("db-backup")),
        Refusal::AlreadyChecked { item: "db-backup".into(), by: "olga".into() }
    );
    s.run("dana", check("secrets")); // the lead may tick anything
    assert_eq!(
        s.run("olga", uncheck("db-backup")),
        vec![EventKind::ItemUnchecked { phase: "pre-deployment".into(), item: "db-backup".into() }]
    );
    assert!(!s.d().phases[0].checked.contains_key("db-backup"));
    assert_eq!(s.refuse("olga", uncheck("db-backup")), Refusal::NotChecked { item: "db-backup".into() });
    assert_eq!(
        s.refuse("bruno", uncheck("secrets")),
        Refusal::NotItemOwner { item: "secrets".into(), role: "ops".into(), action: "untick" }
    );
}

// --- sign-offs -----------------------------------------------------------------------------

#[test]
fn only_members_of_a_role_sign_off_as_it_and_only_where_the_phase_needs_it() {
    let mut s = Story::started();
    assert_eq!(
        s.refuse("sam", signoff("sec")),
        Refusal::UnknownRole {
            given: "sec".into(),
            hint: String::new(),
            allowed: "backend, frontend, ops, product, release-manager, security, tech-lead".into()
        }
    );
    assert_eq!(s.refuse("sam", signoff("security")), Refusal::NoPhaseRunning { next: "pre-deployment".into() });
    s.run("dana", phase_start("pre-deployment"));
    assert_eq!(
        s.refuse("priya", signoff("product")),
        Refusal::SignOffNotNeeded {
            role: "product".into(),
            phase: "pre-deployment".into(),
            allowed: "tech-lead, security".into()
        }
    );
    let refusal = s.refuse("bruno", signoff("security"));
    assert_eq!(refusal, Refusal::NotInRole { role: "security".into(), name: "Security Review".into() });
    assert!(refusal.is_permission());
    // Not even the lead signs for a role they do not hold.
    assert_eq!(
        s.refuse("dana", signoff("security")),
        Refusal::NotInRole { role: "security".into(), name: "Security Review".into() }
    );

    let kinds = s.run("sam", Command::SignOff { role: "security".into(), note: Some("  scan clean  ".into()) });
    assert_eq!(
        kinds,
        vec![EventKind::SignedOff {
            phase: "pre-deployment".into(),
            role: "security".into(),
            note: Some("scan clean".into())
        }]
    );
    assert_eq!(
        s.refuse("sam", signoff("security")),
        Refusal::AlreadySignedOff { role: "security".into(), phase: "pre-deployment".into(), by: "sam".into() }
    );
    let kinds = s.run("alice", Command::SignOff { role: "tech-lead".into(), note: Some("   ".into()) });
    assert_eq!(
        kinds,
        vec![EventKind::SignedOff { phase: "pre-deployment".into(), role: "tech-lead".into(), note: None }]
    );
}

// --- go / no-go ----------------------------------------------------------------------------

#[test]
fn the_go_decision_gates_production_and_belongs_to_the_lead() {
    let mut s = Story::started();
    assert_eq!(
        s.refuse("alice", Command::Go),
        Refusal::NotDecider {
            action: "give the go",
            lead: "dana".into(),
            roles: " or members of `release-manager`".into()
        }
    );
    assert_eq!(
        s.refuse("dana", Command::Go),
        Refusal::TooEarlyForDecision { gate: "production".into(), open: "pre-deployment, staging".into() }
    );
    s.pre_deployment_done();
    s.staging_done();
    assert_eq!(
        s.refuse("dana", phase_start("production")),
        Refusal::NeedsGo { phase: "production".into(), why: String::new() }
    );
    assert_eq!(s.refuse("dana", Command::NoGo { reason: " ".into() }), Refusal::Empty { what: "the no-go reason" });
    assert_eq!(
        s.refuse("alice", Command::NoGo { reason: "x".into() }),
        Refusal::NotDecider {
            action: "call no-go",
            lead: "dana".into(),
            roles: " or members of `release-manager`".into()
        }
    );
    assert_eq!(
        s.run("dana", Command::NoGo { reason: "payments vendor down".into() }),
        vec![EventKind::NoGoDecided { reason: "payments vendor down".into(), role: None }]
    );
    assert_eq!(
        s.refuse("dana", phase_start("production")),
        Refusal::NeedsGo {
            phase: "production".into(),
            why: "; the last decision was no-go: payments vendor down".into()
        }
    );
    assert_eq!(s.run("dana", Command::Go), vec![EventKind::GoDecided { role: None }]);
    assert!(s.d().decision.as_ref().unwrap().go);
    assert_eq!(s.refuse("dana", Command::Go), Refusal::AlreadyGo { by: "dana".into() });
    s.run("dana", phase_start("production"));
    assert_eq!(
        s.refuse("dana", Command::NoGo { reason: "late".into() }),
        Refusal::TooLateForDecision { gate: "production".into() }
    );
}

// --- traffic -------------------------------------------------------------------------------

#[test]
fn traffic_moves_up_through_the_phase_steps() {
    let mut s = Story::started();
    s.run("dana", phase_start("pre-deployment"));
    assert_eq!(
        s.refuse("olga", traffic(50)),
        Refusal::NoTrafficHere { phase: "pre-deployment".into(), phases: "production".into() }
    );
    let mut s = Story::started();
    s.in_production(); // traffic at 50
    assert_eq!(s.d().traffic, Some(50));
    assert_eq!(
        s.refuse("olga", traffic(60)),
        Refusal::UnknownTrafficStep { given: 60, phase: "production".into(), allowed: "50%, 70%, 85%, 100%".into() }
    );
    assert_eq!(
        s.refuse("olga", traffic(50)),
        Refusal::TrafficNotIncreasing { current: 50, allowed: "70%, 85%, 100%".into() }
    );
    let refusal = s.refuse("sam", traffic(70));
    assert_eq!(
        refusal,
        Refusal::NotPhaseRole {
            phase: "production".into(),
            roles: "backend, ops, product".into(),
            action: "shift traffic"
        }
    );
    assert!(refusal.is_permission());
    // Steps go in plan order.
    assert_eq!(s.refuse("bruno", traffic(85)), Refusal::SkippedStep { given: 85, next: 70 });
    s.run("bruno", traffic(70));
    assert_eq!(s.run("bruno", traffic(85)), vec![EventKind::TrafficShifted { percent: 85, forced: None }]);
    s.run("dana", traffic(100));
    s.run("olga", signoff("ops"));
    s.run("dana", Command::PhaseDone);
    assert!(s.d().phases[2].is_done());
}

// --- notes, escalation ---------------------------------------------------------------------

#[test]
fn anyone_may_add_a_note_but_not_an_empty_one() {
    let mut s = Story::started();
    assert_eq!(
        s.run("outsider", Command::Note { text: " cache warm ".into() }),
        vec![EventKind::NoteAdded { text: "cache warm".into() }]
    );
    assert_eq!(s.refuse("bruno", Command::Note { text: "  ".into() }), Refusal::Empty { what: "the note" });
}

#[test]
fn escalation_opens_climbs_is_acknowledged_and_resolved() {
    let mut s = Story::started();
    assert_eq!(s.refuse("olga", Command::Ack), Refusal::NoEscalation);
    assert_eq!(s.refuse("olga", Command::EscalateResolve), Refusal::NoEscalation);
    let refusal = s.refuse("outsider", escalate(None, "help"));
    assert_eq!(refusal, Refusal::NotOnTeam { action: "escalate" });
    assert!(refusal.is_permission());
    assert_eq!(s.refuse("olga", escalate(Some(0), "x")), Refusal::UnknownLevel { given: 0, max: 3 });
    assert_eq!(s.refuse("olga", escalate(Some(4), "x")), Refusal::UnknownLevel { given: 4, max: 3 });
    assert_eq!(s.refuse("olga", escalate(None, " ")), Refusal::Empty { what: "the escalation message" });

    assert_eq!(
        s.run("olga", escalate(None, "error rate 0.4%")),
        vec![EventKind::EscalationOpened { level: 1, message: "error rate 0.4%".into(), cause: None }]
    );
    assert_eq!(s.refuse("olga", escalate(Some(1), "again")), Refusal::EscalationOpen { level: 1 });
    // maya is on level 2: not paged yet.
    let refusal = s.refuse("maya", Command::Ack);
    assert_eq!(refusal, Refusal::NotPaged { level: 1, action: "acknowledge it" });
    assert!(refusal.is_permission());

    assert_eq!(
        s.run("olga", escalate(Some(2), "still failing")),
        vec![EventKind::EscalationRaised { level: 2, message: "still failing".into() }]
    );
    assert_eq!(s.run("maya", Command::Ack), vec![EventKind::EscalationAcknowledged { level: 2 }]);
    assert_eq!(s.refuse("alice", Command::Ack), Refusal::AlreadyAcked { by: "maya".into() });
    assert_eq!(s.refuse("sol", Command::EscalateResolve), Refusal::NotPaged { level: 2, action: "resolve it" });
    assert_eq!(s.run("alice", Command::EscalateResolve), vec![EventKind::EscalationResolved]);
    assert_eq!(s.d().escalation, None);

    s.run("bruno", escalate(Some(3), "stakeholders needed"));
    s.run("dana", Command::Ack); // the lead may always acknowledge
}

// --- rollback ------------------------------------------------------------------------------

#[test]
fn rollback_pages_level_one_and_closes_everything_but_the_way_out() {
    let mut s = Story::started();
    s.in_production();
    assert_eq!(
        s.refuse("outsider", Command::Rollback { reason: "x".into(), level: None }),
        Refusal::NotOnTeam { action: "trigger a rollback" }
    );
    assert_eq!(
        s.refuse("olga", Command::Rollback { reason: "".into(), level: None }),
        Refusal::Empty { what: "the rollback reason" }
    );
    assert_eq!(
        s.run("olga", Command::Rollback { reason: "5xx spike".into(), level: None }),
        vec![
            EventKind::RollbackStarted { reason: "5xx spike".into(), level: Some(RollbackLevel::Immediate) },
            EventKind::EscalationOpened {
                level: 1,
                message: "rollback: 5xx spike".into(),
                cause: Some("rollback".into())
            }
        ]
    );
    assert_eq!(s.d().status, Status::RollingBack);
    assert_eq!(
        s.refuse("olga", Command::Rollback { reason: "again".into(), level: None }),
        Refusal::AlreadyRollingBack
    );
    for (name, command) in [
        ("olga", traffic(70)),
        ("olga", check("health")),
        ("olga", signoff("ops")),
        ("dana", Command::PhaseDone),
        ("dana", phase_start("post-deployment")),
        ("dana", Command::Go),
    ] {
        assert_eq!(s.refuse(name, command), Refusal::RollingBack);
    }
    s.run("alice", Command::Ack);
    s.run("olga", Command::Note { text: "old version serving 100%".into() });
    s.run("olga", escalate(Some(2), "data check needed"));
    assert_eq!(s.run("dana", Command::Complete), vec![EventKind::DeploymentCompleted]);
    assert_eq!(s.d().status, Status::Ended(Outcome::RolledBack));
}

#[test]
fn a_rollback_with_an_escalation_already_open_does_not_open_a_second() {
    let mut s = Story::started();
    s.run("olga", escalate(None, "slow"));
    assert_eq!(
        s.run("dana", Command::Rollback { reason: "slow".into(), level: None }),
        vec![EventKind::RollbackStarted { reason: "slow".into(), level: Some(RollbackLevel::Immediate) }]
    );
}

// --- ending --------------------------------------------------------------------------------

#[test]
fn completing_needs_every_phase_and_the_lead() {
    let mut s = Story::started();
    s.pre_deployment_done();
    assert_eq!(
        s.refuse("alice", Command::Complete),
        Refusal::NotLead { action: "complete the deployment", lead: "dana".into() }
    );
    assert_eq!(
        s.refuse("dana", Command::Complete),
        Refusal::NotFinished { remaining: "staging, production, post-deployment".into() }
    );
}

#[test]
fn abort_ends_the_deployment_with_a_reason_from_the_lead() {
    let mut s = Story::started();
    assert_eq!(
        s.refuse("alice", Command::Abort { reason: "x".into() }),
        Refusal::NotLead { action: "abort the deployment", lead: "dana".into() }
    );
    assert_eq!(s.refuse("dana", Command::Abort { reason: "".into() }), Refusal::Empty { what: "the abort reason" });
    s.run("dana", Command::Abort { reason: "wrong branch".into() });
    assert_eq!(s.d().status, Status::Ended(Outcome::Aborted));
    // The channel is free again.
    assert_eq!(s.refuse("alice", Command::Ack), Refusal::NoDeployment);
    s.run("rhea", start("v2.4.1"));
    assert_eq!(s.d().lead, who("rhea"));
}

#[test]
fn a_whole_release_walks_progress_from_0_to_100() {
    let mut s = Story::started();
    let mut seen = vec![s.percent()];
    s.pre_deployment_done();
    seen.push(s.percent());
    s.staging_done();
    seen.push(s.percent());
    s.run("dana", Command::Go);
    s.run("dana", phase_start("production"));
    // An optional item does not move progress.
    let before = s.percent();
    s.run("priya", check("maintenance-notice"));
    assert_eq!(s.percent(), before);
    s.checks(PRODUCTION_TICKS);
    for step in [50, 70, 85, 100] {
        s.run("olga", traffic(step));
    }
    s.run("olga", signoff("ops"));
    s.run("dana", Command::PhaseDone);
    seen.push(s.percent());
    s.run("dana", phase_start("post-deployment"));
    s.checks(POST_DEPLOYMENT_TICKS);
    for (name, role) in POST_DEPLOYMENT_SIGNOFFS {
        s.run(name, signoff(role));
    }
    assert!(s.percent() < 100, "100% only once every phase is done");
    s.run("dana", Command::PhaseDone);
    seen.push(s.percent());
    // 34 steps: 9 + 8 + 8 + 9.
    assert_eq!(seen, vec![0, 26, 50, 73, 100]); // 9/34, 17/34, 25/34 rounded down
    assert_eq!(s.refuse("dana", Command::PhaseDone), Refusal::AllPhasesDone);
    s.run("dana", Command::Complete);
    assert_eq!(s.d().status, Status::Ended(Outcome::Completed));
    assert_eq!(s.events.len() as i64, s.d().seq);
}

#[test]
fn a_log_that_golive_could_not_have_written_does_not_fold() {
    let at = Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap();
    assert_eq!(Deployment::from_events(&[]), Err(FoldError::Empty));
    let note = Event { seq: 1, at, actor: who("x"), kind: EventKind::NoteAdded { text: "hi".into() } };
    assert_eq!(Deployment::from_events([&note]), Err(FoldError::NotStarted("note_added")));

    let mut s = Story::started();
    let bogus = Event { seq: 2, at, actor: who("x"), kind: EventKind::PhaseStarted { phase: "nope".into() } };
    let mut events = s.events.clone();
    events.push(bogus);
    assert!(matches!(Deployment::from_events(&events), Err(FoldError::Inconsistent { seq: 2, .. })));
    let ack = Event { seq: 2, at, actor: who("x"), kind: EventKind::EscalationAcknowledged { level: 1 } };
    assert!(s.d().clone().apply(&ack).is_err());
    s.run("dana", Command::Note { text: "still fine".into() });
}

#[test]
fn without_escalation_levels_escalate_is_refused_and_rollback_pages_nobody() {
    let mut s = Story::started();
    s.config.escalation.clear();
    assert_eq!(s.refuse("olga", escalate(None, "help")), Refusal::NoEscalationLevels);
    assert_eq!(
        s.run("olga", Command::Rollback { reason: "bad".into(), level: None }),
        vec![EventKind::RollbackStarted { reason: "bad".into(), level: Some(RollbackLevel::Immediate) }]
    );
}
