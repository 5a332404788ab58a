//! `golive show --format md` for every outcome, and the status after a rollback: what a
//! release manager reads afterwards, from a real SQLite file recorded through the engine.

use std::collections::BTreeMap;

use crate::harness::{minutes, Ctx};
use golive::config::Config;
use golive::domain::Deployment;
use golive::render::report;

/// The Markdown report of the channel's last deployment, with the example config's role names.
async fn report(ctx: &Ctx) -> String {
    let row = ctx.store.deployments(None, 1).await.unwrap().remove(0);
    let events = ctx.store.events(row.id).await.unwrap();
    let state = Deployment::from_events(&events).unwrap();
    let roles: BTreeMap<String, String> =
        Config::example().roles.0.into_iter().map(|(id, role)| (id, role.name)).collect();
    report::markdown(&row, &state, &events, &roles)
}

fn has(md: &str, expected: &str) {
    assert!(md.contains(expected), "the report lacks {expected:?}:\n{md}");
}

fn lacks(md: &str, unexpected: &str) {
    assert!(!md.contains(unexpected), "the report has {unexpected:?}:\n{md}");
}

#[tokio::test]
async fn a_rolled_back_deployment_reads_as_rolled_back_in_its_status_and_report() {
    let ctx = Ctx::new().await;
    ctx.through_staging().await;
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
    ctx.ok("olga", "traffic 50").await;
    ctx.ok("bruno", "check latency").await;
    ctx.advance(minutes(31));
    ctx.ok("olga", "traffic 70").await;
    ctx.ok("olga", "rollback level=quick error rate at 2%").await;
    ctx.ok("olga", "note traffic is back on v2.3.9").await;

    // The status shows the rollback, not the abandoned forward plan.
    let status = ctx.ok("dana", "status").await.join("\n");
    assert!(
        status.contains("ROLLING BACK: (quick, 5–15 min) error rate at 2% by olga (traffic was at 70%)"),
        "{status}"
    );
    for forward in ["Phase 3/4", "open required", "traffic 70%", "next is", "watching 70%", "next: phase"] {
        assert!(!status.contains(forward), "the status after a rollback shows {forward:?}:\n{status}");
    }

    // Slack's blocks and Discord's embed come from the same model: the rollback, no traffic step.
    let outcome = ctx.say("dana", "status").await;
    let golive::engine::Message::Status(view) = &outcome.posts[0].message else { panic!("expected a status post") };
    let slack = serde_json::to_string(&golive::render::blocks::status_blocks(view)).unwrap();
    let discord = golive::render::embeds::status_message(view).to_string();
    for (platform, shown) in [("slack", &slack), ("discord", &discord)] {
        assert!(shown.contains("error rate at 2% by olga"), "{platform}: {shown}");
        for forward in ["step 2 of 4", "watching 70%", "next: phase"] {
            assert!(!shown.contains(forward), "{platform} shows the abandoned plan's {forward:?}: {shown}");
        }
        assert!(!shown.contains("latency"), "{platform} shows the abandoned checklist: {shown}");
    }

    ctx.ok("olga", "ack").await;
    ctx.ok("dana", "complete").await;
    let md = report(&ctx).await;
    has(&md, "| Outcome | rolled back (quick rollback, 5–15 min) |");
    has(&md, "| Rollback | quick (5–15 min): error rate at 2% (olga, ");
    has(&md, "### 3. production — Production deployment (stopped after ");
    has(&md, "planned: the deployment was rolled back)");
    has(&md, "### 4. post-deployment — Post-deployment validation (never started, ");
    has(&md, "closed the rolled-back deployment");
    lacks(&md, "completed the deployment");
    lacks(&md, "(running, ");
    has(&md, "## Notes\n\n- ");
    has(&md, "olga: traffic is back on v2.3.9");
    has(&md, "olga: rollback: error rate at 2%");
    // Role names, as the plans' sign-off sheets write them.
    has(&md, "| pre-deployment | Technical Lead (`tech-lead`) | alice |");
    has(&md, "| Operations Team (`ops`) |");
    // Closing like seed 004's sheet: the final sign-offs (never given), the status, the notes.
    has(
        &md,
        "## Deployment sign-off\n\n- [ ] Technical Lead (`tech-lead`): not signed\n\
         - [ ] Product Manager (`product`): not signed\n- [ ] Security Review (`security`): not signed\n\
         - [ ] Operations Team (`ops`): not signed\n\n\
         **Deployment Status:** 🔄 Rolled back (quick rollback, 5–15 min)\n\n## Notes\n",
    );
}

#[tokio::test]
async fn an_aborted_deployment_ends_its_running_phase_and_says_aborted() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.ok("olga", "blocker change window withdrawn").await;
    ctx.advance(minutes(30));
    ctx.ok("dana", "abort the change window was withdrawn").await;
    let md = report(&ctx).await;
    has(&md, "| Outcome | aborted |");
    has(&md, "### 1. pre-deployment — Pre-deployment verification (stopped after 30m of ");
    has(&md, "planned: the deployment was aborted)");
    has(&md, "### 2. staging — Staging deployment (never started, ");
    has(&md, "blocker #1: change window withdrawn (never cleared)");
    has(&md, "aborted: the change window was withdrawn");
    lacks(&md, "(running, ");
    lacks(&md, "## Rollback checklist");
    has(&md, "**Deployment Status:** ❌ Aborted\n\n## Notes\n");
    has(&md, "- [ ] Operations Team (`ops`): not signed\n");
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_rolled_back_deployment_reads_as_rolled_back_in_its_status_and_report,
    an_aborted_deployment_ends_its_running_phase_and_says_aborted,
);
