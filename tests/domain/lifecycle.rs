//! Starting a deployment, ending it (complete, abort), notes anyone may add, what is refused
//! with no deployment open, and the deployment's channel and lead as platform identities.

use golive::domain::progress::Progress;
use golive::domain::{Actor, Channel, Command, EventKind, Outcome, Platform, Refusal, Status};

use crate::desk::*;

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
