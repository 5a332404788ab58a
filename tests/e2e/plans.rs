//! Plans as the seed documents write them, driven through the console engine and through
//! signed Slack requests on a manual clock: who may lead (and the hand-over), go by a
//! `go_roles` member, traffic steps in order with a watched hold and the items tied to a step,
//! `force`, bulk and section ticks with `after` order, a go-live time whose missed milestone
//! is announced once, escalation and rollback words, case and did-you-mean.

use crate::harness;
use std::time::Duration;

use crate::harness::{minutes, Ctx, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, STAGING_SIGNOFFS, STAGING_TICKS};
use golive::commands::grammar::{parse_line, Request};
use golive::domain::{Command, EventKind, RollbackLevel};
use golive::engine::Input;

async fn kinds(ctx: &Ctx) -> Vec<EventKind> {
    ctx.store.events(1).await.unwrap().into_iter().map(|e| e.kind).collect()
}

async fn in_production(ctx: &Ctx) {
    ctx.through_staging().await;
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
}

#[tokio::test]
async fn only_lead_roles_start_the_lead_is_handed_over_and_go_roles_decide_in_their_capacity() {
    let ctx = Ctx::new().await;
    let refused = ctx.refused("bruno", "start v2.4.0").await;
    assert_eq!(refused, "only members of `release-manager` may start a deployment of plan `standard`, and so lead it");
    assert!(ctx.store.deployments(None, 10).await.unwrap().is_empty(), "nothing was opened");

    ctx.through_pre_deployment().await;
    // Neither the lead nor a release manager: bruno cannot hand the lead to anyone.
    let refused = ctx.refused("bruno", "lead rhea").await;
    assert!(refused.starts_with("only the lead (dana) or members of `release-manager`"), "{refused}");
    // The new lead must be able to lead.
    let refused = ctx.refused("dana", "lead bruno").await;
    assert!(refused.contains("`bruno` cannot take the lead"), "{refused}");
    let refused = ctx.refused("dana", "lead dana").await;
    assert_eq!(refused, "dana is already the lead");

    let posts = ctx.ok("dana", "lead @Rhea").await;
    assert!(posts[0].starts_with("dana handed the lead to rhea"), "{posts:?}");
    // The lead's powers moved with it.
    let refused = ctx.refused("dana", "phase start staging").await;
    assert_eq!(refused, "only the deployment lead (rhea) may start a phase");
    ctx.ok("rhea", "phase start staging").await;
    ctx.tick_and_sign(STAGING_TICKS, STAGING_SIGNOFFS).await;
    ctx.ok("rhea", "phase done").await;

    // alice is tech-lead, not in go_roles.
    let refused = ctx.refused("alice", "go").await;
    assert_eq!(refused, "only the lead (rhea) or members of `release-manager` may give the go");
    // dana is no longer the lead, but a release manager may decide: in that capacity.
    let posts = ctx.ok("dana", "go").await;
    assert_eq!(posts[0], "GO: dana (as release-manager) gives the go for production.");
    let events = ctx.store.events(1).await.unwrap();
    let go = events.iter().find(|e| matches!(e.kind, EventKind::GoDecided { .. })).unwrap();
    assert_eq!(go.actor.key(), "console:dana");
    assert_eq!(go.kind, EventKind::GoDecided { role: Some("release-manager".into()) });
    let handed = events.iter().find(|e| matches!(e.kind, EventKind::LeadChanged { .. })).unwrap();
    assert_eq!(handed.actor.key(), "console:dana");
    assert!(matches!(&handed.kind, EventKind::LeadChanged { lead } if lead.key() == "console:rhea"));
    // The refusals by the wrong people are on the record too.
    let refused: Vec<String> =
        events.iter().filter(|e| matches!(e.kind, EventKind::CommandRefused { .. })).map(|e| e.actor.key()).collect();
    assert_eq!(refused, ["console:bruno", "console:dana", "console:alice"]);
}

#[tokio::test]
async fn traffic_steps_go_in_order_each_watched_for_its_hold_and_its_items_then_force() {
    let ctx = Ctx::new().await;
    in_production(&ctx).await;
    assert_eq!(
        ctx.refused("olga", "traffic 70").await,
        "traffic steps go in plan order: the next step is 50%, not 70%"
    );
    let posts = ctx.ok("olga", "traffic 50").await;
    assert!(posts[0].contains("Watching it for 30m before the next step."), "{posts:?}");

    ctx.advance(minutes(12));
    let status = ctx.ok("olga", "status").await.join("\n");
    assert!(status.contains("watching 50% — 18 min to go"), "{status}");
    let refused = ctx.refused("olga", "traffic 70").await;
    assert!(refused.starts_with("traffic stays at 50% for 18m more: its hold of 30m is being watched"), "{refused}");
    assert_eq!(
        ctx.refused("olga", "traffic 85").await,
        "traffic steps go in plan order: the next step is 70%, not 85%"
    );

    // At the hold's end, the item tied to the step still keeps traffic at 50%.
    ctx.advance(minutes(18));
    let refused = ctx.refused("olga", "traffic 70").await;
    assert!(refused.starts_with("traffic stays at 50% until its items are done: latency."), "{refused}");
    let status = ctx.ok("olga", "status").await.join("\n");
    assert!(status.contains("holding 50% until done: latency"), "{status}");
    ctx.ok("bruno", "check latency").await;
    ctx.ok("olga", "traffic 70").await;

    // Only the lead may force, with a reason, and only past something that holds.
    let refused = ctx.refused("olga", "traffic 85 force dashboards are flat").await;
    assert_eq!(refused, "only the deployment lead (dana) may force a traffic step");
    let posts = ctx.ok("dana", "traffic 85 force dashboards flat for 20 minutes").await;
    assert!(
        posts[0].starts_with(
            "Traffic on the new version: 85% (FORCED by dana before the step allowed it: dashboards flat for 20 minutes)"
        ),
        "{posts:?}"
    );
    ctx.advance(minutes(30));
    let refused = ctx.refused("dana", "traffic 100 force because").await;
    assert!(refused.starts_with("nothing holds traffic at 85%"), "{refused}");
    ctx.ok("olga", "traffic 100").await;

    let shifts: Vec<EventKind> =
        kinds(&ctx).await.into_iter().filter(|k| matches!(k, EventKind::TrafficShifted { .. })).collect();
    assert_eq!(
        shifts,
        [
            EventKind::TrafficShifted { percent: 50, forced: None },
            EventKind::TrafficShifted { percent: 70, forced: None },
            EventKind::TrafficShifted { percent: 85, forced: Some("dashboards flat for 20 minutes".into()) },
            EventKind::TrafficShifted { percent: 100, forced: None },
        ]
    );
}

#[tokio::test]
async fn bulk_and_section_ticks_are_all_or_nothing_and_after_keeps_the_order() {
    let ctx = Ctx::new().await;
    ctx.through_pre_deployment().await;
    ctx.ok("dana", "phase start staging").await;
    let before = kinds(&ctx).await.len();
    assert_eq!(
        ctx.refused("bruno", "check staging-migrate").await,
        "`staging-migrate` comes after staging-deploy: check it first"
    );
    // olga owns staging-deploy but not staging-migrate: neither is ticked.
    let refused = ctx.refused("olga", "check staging-deploy staging-migrate").await;
    assert_eq!(
        refused,
        "`staging-migrate`: only members of `backend` (the owner of `staging-migrate`) or the lead may tick it. \
         Nothing was ticked: a list is ticked all or nothing"
    );
    let ticked = |k: &EventKind| matches!(k, EventKind::ItemChecked { .. });
    assert_eq!(kinds(&ctx).await[before..].iter().filter(|k| ticked(k)).count(), 0);
    // In the order given, an item may come after one ticked just before it.
    let posts = ctx.ok("dana", "check staging-deploy Staging-Migrate").await;
    assert_eq!(posts.len(), 2);
    assert_eq!(ctx.refused("dana", "check staging-deploy").await, "`staging-deploy` was already checked by dana");

    // A section by name, in any case; one item someone cannot tick refuses the whole section.
    let refused = ctx.refused("fei", "check section=verify").await;
    assert!(refused.starts_with("`load-test`: only members of `backend`"), "{refused}");
    assert_eq!(
        ctx.refused("fei", "check section=Verfy").await,
        "unknown section `Verfy` (did you mean `Verify`?) in phase `staging`; its sections: Deploy, Verify"
    );
    // Typing a section's name as an item points at the section.
    let refused = ctx.refused("fei", "check verify").await;
    assert!(refused.contains("(`Verify` is a section: `/deploy check section=Verify`)"), "{refused}");
    let posts = ctx.ok("dana", "check section=Verify").await;
    assert_eq!(posts.len(), 4, "e2e, load-test, acceptance and the optional bundle-size: {posts:?}");
    assert_eq!(ctx.refused("dana", "check section=Verify").await, "every item of section `Verify` is already checked");
    let status = ctx.ok("dana", "status").await.join("\n");
    assert!(status.contains("Sections: Deploy 2/2 · Verify 4/4"), "{status}");
}

#[tokio::test]
async fn a_go_live_time_plans_the_phases_and_a_missed_milestone_is_announced_once() {
    let ctx = Ctx::new().await; // 09:07 UTC
    let posts = ctx.ok("dana", "start v2.4.0 at=2026-06-02T17:00").await;
    assert!(posts[0].contains("Go-live (T-0): Tue 2026-06-02 17:00 UTC, now T-7h 53m."), "{posts:?}");
    assert!(
        posts[0].contains("First milestone: phase pre-deployment at T-7h (Tue 2026-06-02 10:00 UTC)."),
        "{posts:?}"
    );
    let status = ctx.ok("dana", "status").await.join("\n");
    assert!(
        status.contains("T-7h 53m (go-live 2026-06-02 17:00 UTC) · next: phase pre-deployment at T-7h (10:00 UTC)"),
        "{status}"
    );
    ctx.ok("dana", "phase start pre-deployment").await;

    // Staging is planned for T-5h, 12:00: at 12:00 it has not started.
    ctx.advance(Duration::from_secs(2 * 3600 + 53 * 60));
    let posts = ctx.engine.submit(Input::Timers).await.unwrap().posts;
    let texts = ctx.post_texts(&posts);
    let missed: Vec<&String> = texts.iter().filter(|t| t.contains("Milestone missed")).collect();
    assert_eq!(missed.len(), 1, "{texts:?}");
    assert_eq!(
        missed[0],
        "⚠ Milestone missed: phase staging was planned to start at T-5h, 12:00 UTC and has not started. \
         Owners: @olga @bruno @fei @priya @alice. Lead: dana."
    );
    // Once only.
    ctx.advance(minutes(45));
    let later = ctx.post_texts(&ctx.engine.submit(Input::Timers).await.unwrap().posts);
    assert!(!later.iter().any(|t| t.contains("Milestone missed: phase staging")), "{later:?}");
    let status = ctx.ok("dana", "status").await.join("\n");
    assert!(status.contains("next: phase staging at T-5h (12:00 UTC) — LATE"), "{status}");

    // The plan ends at T+5h, 22:00: past it, the whole deployment is OVERDUE, once.
    ctx.advance(Duration::from_secs(10 * 3600));
    let texts = ctx.post_texts(&ctx.engine.submit(Input::Timers).await.unwrap().posts);
    assert!(
        texts.iter().any(|t| t == "v2.4.0 is OVERDUE: it has run past its whole plan (12h 53m). Lead: dana."),
        "{texts:?}"
    );
    ctx.advance(minutes(30));
    ctx.engine.submit(Input::Timers).await.unwrap();
    let kinds = kinds(&ctx).await;
    let count = |name: &str| kinds.iter().filter(|k| k.name() == name).count();
    assert_eq!((count("deployment_overdue"), count("milestone_missed")), (1, 3), "{kinds:?}");
}

#[tokio::test]
async fn a_go_live_time_that_is_not_a_time_is_refused() {
    let ctx = Ctx::new().await;
    let refused = ctx.refused("dana", "start v1 at=tomorrow").await;
    assert!(refused.starts_with("`tomorrow` is not a time; write it as `at=2026-12-01T07:00` (in UTC)"), "{refused}");
    ctx.ok("dana", "start v1 at=2026-06-02T19:00+02:00").await;
    let status = ctx.ok("dana", "status").await.join("\n");
    assert!(status.contains("T-7h 53m (go-live 2026-06-02 17:00 UTC)"), "{status}");
}

#[tokio::test]
async fn escalate_with_a_level_and_an_unlevelled_rollback_is_immediate() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let posts = ctx.ok("olga", "escalate level=2 db slow").await;
    assert!(posts[0].starts_with("ESCALATION level 2 (Technical managers) from olga: db slow"), "{posts:?}");
    assert!(kinds(&ctx).await.contains(&EventKind::EscalationOpened {
        level: 2,
        message: "db slow".into(),
        cause: None
    }));
    // `rollback quick …` is a quick rollback, which bruno (backend) may not start.
    let refused = ctx.refused("bruno", "rollback quick site down").await;
    assert!(refused.starts_with("a quick rollback is for the lead and ops"), "{refused}");
    let posts = ctx.ok("bruno", "rollback site down").await;
    assert!(posts[0].starts_with("ROLLBACK (immediate, 0–5 min) started by bruno: site down"), "{posts:?}");
    assert!(kinds(&ctx)
        .await
        .contains(&EventKind::RollbackStarted { reason: "site down".into(), level: Some(RollbackLevel::Immediate) }));
}

#[tokio::test]
async fn words_match_without_case_near_misses_get_a_suggestion_and_invisible_characters_show() {
    assert_eq!(
        parse_line("/Deploy START v1 Plan=standard", "/deploy"),
        Ok(Request::Change(Command::Start {
            release: "v1".into(),
            plan: Some("standard".into()),
            freeze_override: None,
            at: None
        }))
    );
    let ctx = Ctx::new().await;
    assert_eq!(
        ctx.refused("dana", "start v1 plan=standrd").await,
        "unknown plan `standrd` (did you mean `standard`?); plans: standard"
    );
    ctx.ok("dana", "start v1 plan=Standard").await;
    let refused = ctx.refused("dana", "phase done").await;
    assert_eq!(refused, "no phase is running; start the next one with `/deploy phase start pre-deployment`");
    assert_eq!(
        ctx.refused("dana", "phase start pre-deploymnt").await,
        "unknown phase `pre-deploymnt` (did you mean `pre-deployment`?); phases of this plan, in order: \
         pre-deployment, staging, production, post-deployment"
    );
    ctx.ok("dana", "phase start Pre-Deployment").await;
    let posts = ctx.ok("olga", "check DB-Backup").await;
    assert!(posts[0].starts_with("olga checked db-backup"), "{posts:?}");
    let refused = ctx.refused("olga", "check db-bakup").await;
    assert!(refused.starts_with("unknown item `db-bakup` (did you mean `db-backup`?) in phase `pre-deployment`"));
    // A zero-width space makes an id that looks right but is not: the echo shows it.
    let refused = ctx.refused("olga", "check secr\u{200b}ets").await;
    assert!(refused.starts_with("unknown item `secr\\u{200b}ets` (did you mean `secrets`?)"), "{refused}");
    assert_eq!(
        ctx.refused("alice", "signoff tech-leed").await,
        "unknown role `tech-leed` (did you mean `tech-lead`?); roles: backend, frontend, ops, product, \
         release-manager, security, tech-lead"
    );
    ctx.ok("alice", "signoff Tech-Lead").await;
    let refused = ctx.refused("alice", "strat v2").await;
    assert!(refused.starts_with("unknown command `strat` (did you mean `start`?)"), "{refused}");
}

#[tokio::test]
async fn before_the_go_phase_done_points_at_the_go_not_at_a_phase_it_would_refuse() {
    let ctx = Ctx::new().await;
    ctx.through_staging().await;
    assert_eq!(
        ctx.refused("dana", "phase done").await,
        "no phase is running; the next one, `production`, needs the lead's go first (`/deploy go`), then \
         `/deploy phase start production`"
    );
}

/// The seed documents, written as golive plans, are valid plans.
#[test]
fn the_seed_plans_pass_check_config() {
    for (file, expect) in [
        ("seed-001.toml", ["phase t+24-review", "starts T-22h", "lead: deployment-lead"]),
        ("seed-004.toml", ["hold 30m per step", "error-rate before leaving 50%", "sections: Code quality (6)"]),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans").join(file);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_golive"))
            .args(["check-config", "--config", path.to_str().unwrap()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{file}: {}{stdout}", String::from_utf8_lossy(&out.stderr));
        for e in expect {
            assert!(stdout.contains(e.trim_start_matches("phase ")), "{file} lacks {e:?}:\n{stdout}");
        }
    }
}

// --- the same through Slack: signed slash commands, answers and posts -------------------------

#[tokio::test]
async fn through_slack_a_non_lead_is_refused_the_lead_handed_over_and_a_held_step_waits() {
    let w = Ctx::on_slack().await;
    let refused = w.slack().slash("U0BACKEND", "start v3.0.0").await;
    assert_eq!(refused.json()["response_type"], "ephemeral");
    assert!(refused.json()["text"].as_str().unwrap().contains("only members of `release-manager` may start"));
    let ok = |who: &'static str, text: String| {
        let w = &w;
        async move {
            let answer = w.slack().slash(harness::slack::slack_user(who), &text).await;
            assert_eq!(answer.body, "", "{who}: {text}: {}", answer.body);
        }
    };
    ok("dana", "start v3.0.0".into()).await;
    // Slack sends a mention as <@ID|name> when the command escapes users.
    assert_eq!(w.slack().slash("U0DANA", "lead <@U0RHEA|rhea>").await.body, "");
    let handed = w.slack().arrives("the hand-over", |c| c.text().contains("handed the lead to")).await;
    assert!(handed.text().contains("handed the lead to U0RHEA"), "{}", handed.text());
    ok("rhea", "phase start pre-deployment".into()).await;
    for (who, item) in PRE_DEPLOYMENT_TICKS {
        ok(who, format!("check {item}")).await;
    }
    for (who, role) in PRE_DEPLOYMENT_SIGNOFFS {
        ok(who, format!("signoff {role}")).await;
    }
    ok("rhea", "phase done".into()).await;
    ok("rhea", "phase start staging".into()).await;
    // Several items in one command.
    ok("rhea", "check staging-deploy staging-migrate e2e load-test acceptance".into()).await;
    for (who, role) in STAGING_SIGNOFFS {
        ok(who, format!("signoff {role}")).await;
    }
    ok("rhea", "phase done".into()).await;
    ok("dana", "go".into()).await;
    ok("rhea", "phase start production".into()).await;
    ok("olga", "traffic 50".into()).await;
    w.advance(minutes(20));
    let held = w.slack().slash("U0OPS", "traffic 70").await;
    let text = held.json()["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("traffic stays at 50% for 10m more"), "{text}");
    w.advance(minutes(10));
    ok("bruno", "check latency".into()).await;
    ok("olga", "traffic 70".into()).await;
    w.slack().arrives("the 70% step", |c| c.text().contains("Traffic on the new version: 70%")).await;
    let go = w.store.events(1).await.unwrap().into_iter().find(|e| matches!(e.kind, EventKind::GoDecided { .. }));
    assert_eq!(go.map(|e| e.kind), Some(EventKind::GoDecided { role: Some("release-manager".into()) }));
    // The late 09:30 slot fires while bruno ticks latency: if its post is on screen first, the
    // tick only edits it, else the tick is posted too; either is right.
    w.slack().skips("u0backend's latency tick", "a race with the late status slot", |c| {
        c.text().starts_with("u0backend checked latency ")
    });
    // The 09:30 status slot, found late once the clock moved, shows the new lead.
    let status = w.status_on_slack().await;
    assert!(status.text().contains("lead U0RHEA"), "{}", status.text());
    // The channel heard the walk under the new lead: one command ticked five items.
    let slack = w.slack();
    slack.reads_started("v3.0.0").await;
    slack.reads_phase("pre-deployment", PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS).await;
    let five = ["staging-deploy", "staging-migrate", "e2e", "load-test", "acceptance"].map(|i| ("rhea", i));
    slack.reads_phase("staging", &five, STAGING_SIGNOFFS).await;
    slack.reads("GO: u0dana (as release-manager) gives the go for production").await;
    slack.reads_all(&["Phase 3/4 production (", "Traffic on the new version: 50% (set by u0ops)"]).await;
    w.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    only_lead_roles_start_the_lead_is_handed_over_and_go_roles_decide_in_their_capacity,
    traffic_steps_go_in_order_each_watched_for_its_hold_and_its_items_then_force,
    bulk_and_section_ticks_are_all_or_nothing_and_after_keeps_the_order,
    a_go_live_time_plans_the_phases_and_a_missed_milestone_is_announced_once,
    a_go_live_time_that_is_not_a_time_is_refused,
    escalate_with_a_level_and_an_unlevelled_rollback_is_immediate,
    words_match_without_case_near_misses_get_a_suggestion_and_invisible_characters_show,
    before_the_go_phase_done_points_at_the_go_not_at_a_phase_it_would_refuse,
    through_slack_a_non_lead_is_refused_the_lead_handed_over_and_a_held_step_waits,
);
