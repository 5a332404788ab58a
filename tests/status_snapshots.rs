//! Snapshots of one rich status post, rendered from the one status model as the console text,
//! Slack's blocks and Discord's embed: every field a release manager reads (phase and T-time,
//! progress, ETA, done and open items with owners, sign-offs, traffic step and hold, blockers,
//! escalation, notes, next steps, next update) in each platform's form. A change to what people
//! read shows up here as a diff to review (`cargo insta review`, or INSTA_UPDATE=always).

mod common;

use common::{minutes, Ctx};
use golive::engine::Message;
use golive::render::{discord, slack, text, StatusView};

async fn rich_status() -> StatusView {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0 at=2026-06-02T12:00").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.tick_and_sign(common::PRE_DEPLOYMENT_TICKS, common::PRE_DEPLOYMENT_SIGNOFFS).await;
    ctx.ok("dana", "phase done").await;
    ctx.ok("dana", "phase start staging").await;
    ctx.tick_and_sign(common::STAGING_TICKS, common::STAGING_SIGNOFFS).await;
    ctx.ok("dana", "phase done").await;
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
    for (who, item) in [("olga", "prod-deploy"), ("bruno", "prod-migrate"), ("olga", "health"), ("olga", "error-rate")]
    {
        ctx.advance(minutes(1));
        ctx.ok(who, &format!("check {item}")).await;
    }
    ctx.ok("olga", "traffic 50").await;
    ctx.advance(minutes(12));
    ctx.ok("olga", "blocker CDN purge still running").await;
    ctx.ok("bruno", "note p99 at 420 ms on the new version").await;
    ctx.ok("olga", "escalate error budget burning at 2x").await;
    ctx.advance(minutes(2));
    let outcome = ctx.say("dana", "status").await;
    let Message::Status(view) = &outcome.posts[0].message else { panic!("expected a status post") };
    (**view).clone()
}

#[tokio::test]
async fn the_status_post_as_console_text() {
    insta::assert_snapshot!(text::status(&rich_status().await));
}

#[tokio::test]
async fn the_status_post_as_slack_blocks() {
    let blocks = serde_json::to_value(slack::status_blocks(&rich_status().await)).unwrap();
    insta::assert_json_snapshot!(blocks);
}

#[tokio::test]
async fn the_status_post_as_a_discord_embed() {
    insta::assert_json_snapshot!(discord::status_message(&rich_status().await));
}
