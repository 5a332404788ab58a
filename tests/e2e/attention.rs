//! Blockers, the snooze of the scheduled status posts, and reminders, through the engine with
//! a real SQLite file and the manual clock: what the channel reads, what is recorded, and
//! that a snooze never quiets a page.

use crate::harness;
use crate::harness::{minutes, Ctx};
use golive::engine::{Answer, Input, Message};

/// Moves the clock and fires what fell due; returns the posts as the console shows them, and
/// how many of them were scheduled status posts.
async fn after(ctx: &Ctx, d: std::time::Duration) -> (Vec<String>, usize) {
    ctx.advance(d);
    let posts = ctx.engine.submit(Input::Timers).await.unwrap().posts;
    let statuses = posts.iter().filter(|p| matches!(p.message, Message::Status(_))).count();
    (ctx.texts(&Answer { posts, ..Default::default() }), statuses)
}

async fn status(ctx: &Ctx) -> String {
    ctx.ok("dana", "status").await.join("\n")
}

#[tokio::test]
async fn a_blocker_is_shown_in_every_status_until_it_is_cleared() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let posted = ctx.ok("olga", "blocker DB replica lag at 40s").await;
    assert_eq!(posted, ["⛔ Blocker #1 from olga: DB replica lag at 40s. `/deploy unblock 1` clears it."]);
    ctx.ok("bruno", "Blocker waiting on the CDN purge").await;
    let shown = status(&ctx).await;
    assert!(shown.contains("BLOCKER #1: DB replica lag at 40s (olga)\nBLOCKER #2: waiting on the CDN purge (bruno)"));
    // The scheduled post shows them too.
    let (posts, statuses) = after(&ctx, minutes(25)).await;
    assert_eq!(statuses, 1);
    assert!(posts.iter().any(|p| p.contains("BLOCKER #2: waiting on the CDN purge (bruno)")), "{posts:?}");

    assert_eq!(ctx.refused("olga", "unblock 3").await, "there is no open blocker #3; open: #1, #2");
    assert!(ctx.refused("olga", "unblock x").await.starts_with("`x` is not a blocker's number"));
    assert!(ctx.refused("olga", "blocker").await.starts_with("`blocker` needs what blocks"));
    assert_eq!(ctx.ok("olga", "unblock #1").await, ["olga cleared blocker #1: DB replica lag at 40s"]);
    assert_eq!(ctx.refused("olga", "unblock 1").await, "there is no open blocker #1; open: #2");
    let shown = status(&ctx).await;
    assert!(!shown.contains("BLOCKER #1") && shown.contains("BLOCKER #2"), "{shown}");
    ctx.ok("bruno", "unblock 2").await;
    assert!(!status(&ctx).await.contains("BLOCKER"));
    assert_eq!(ctx.refused("olga", "unblock 2").await, "there is no open blocker #2; none is open");

    let id = ctx.store.deployments(None, 1).await.unwrap()[0].id;
    let kinds = ctx.event_kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "blocker_raised").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "blocker_cleared").count(), 2);
}

#[tokio::test]
async fn a_snooze_pauses_the_scheduled_posts_but_not_pages_and_ends_by_itself() {
    let ctx = Ctx::new().await; // 09:07; status slots every half hour
    ctx.ok("dana", "start v2.4.0").await;
    assert_eq!(
        ctx.ok("dana", "snooze 2h waiting for the window").await,
        ["dana snoozed the scheduled status posts for 2h, until 11:07 UTC: waiting for the window. \
          Pages and announcements go on; `/deploy unsnooze` resumes the posts."]
    );
    assert!(status(&ctx).await.contains("status posts snoozed until 11:07 UTC by dana: waiting for the window"));

    // 09:30 passes with no post; a page opened now still climbs on time.
    let (posts, statuses) = after(&ctx, minutes(25)).await;
    assert_eq!((statuses, posts.len()), (0, 0), "{posts:?}");
    assert!(ctx.ok("olga", "escalate error rate at 0.4%").await[0].starts_with("ESCALATION level 1"));
    let (posts, statuses) = after(&ctx, minutes(5)).await;
    assert_eq!(statuses, 0);
    assert!(posts.iter().any(|p| p.starts_with("ESCALATION level 2")), "{posts:?}");
    ctx.ok("maya", "ack").await;

    // Until 11:07 nothing; the first slot after the snooze (11:30) posts, on time, once.
    let (_, statuses) = after(&ctx, minutes(92)).await; // 11:09
    assert_eq!(statuses, 0);
    let (posts, statuses) = after(&ctx, minutes(21)).await; // 11:30
    assert_eq!(statuses, 1, "{posts:?}");
    assert!(!posts.iter().any(|p| p.contains("late by")), "{posts:?}");
    assert!(posts.iter().any(|p| p.contains("next update 12:00 UTC")), "{posts:?}");

    // Limits and wrong uses change nothing.
    assert_eq!(ctx.refused("dana", "snooze 9h").await, "status posts can be snoozed for at most 8h; `9h` is longer");
    assert!(ctx.refused("dana", "snooze soon").await.starts_with("`soon` is not a duration such as 30m, 1h or 2h"));
    assert_eq!(ctx.refused("dana", "unsnooze").await, "the status posts are not snoozed");
    assert_eq!(
        ctx.refused("dana", "snooze 8h1m").await,
        "status posts can be snoozed for at most 8h; `8h 1m` is longer"
    );
    let zero = ctx.refused("dana", "snooze 0m").await;
    assert!(zero.contains("0m"), "{zero}");
    // Exactly 8 hours is allowed.
    let eight = ctx.ok("dana", "snooze 8h").await;
    assert!(eight[0].starts_with("dana snoozed the scheduled status posts for 8h, until 19:30 UTC."), "{eight:?}");

    let id = ctx.store.deployments(None, 1).await.unwrap()[0].id;
    let kinds = ctx.event_kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "status_snoozed").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "status_posted").count(), 1);
}

#[tokio::test]
async fn unsnooze_resumes_from_now_without_a_late_post_for_the_skipped_slots() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("olga", "snooze 1h30m").await;
    let (_, statuses) = after(&ctx, minutes(40)).await; // 09:47: 09:30 skipped
    assert_eq!(statuses, 0);
    assert_eq!(ctx.ok("olga", "unsnooze").await, ["olga resumed the scheduled status posts."]);
    let (_, statuses) = after(&ctx, minutes(5)).await; // 09:52
    assert_eq!(statuses, 0, "a skipped slot was posted late");
    let (posts, statuses) = after(&ctx, minutes(8)).await; // 10:00
    assert_eq!(statuses, 1);
    assert!(!posts.iter().any(|p| p.contains("late by")), "{posts:?}");
}

#[tokio::test]
async fn remind_mentions_exactly_the_owners_of_what_the_running_phase_waits_on() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    assert_eq!(
        ctx.refused("dana", "remind").await,
        "no phase is running; start the next one with `/deploy phase start pre-deployment`"
    );
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.tick_and_sign(
        &[("bruno", "tests"), ("sam", "security-scan"), ("bruno", "migrations-tested")],
        &[("sam", "security")],
    )
    .await;
    // Open: db-backup and secrets (ops: olga), rollback-plan (tech-lead: alice), and the
    // tech-lead sign-off (alice). bruno and sam are done and not mentioned.
    assert_eq!(
        ctx.ok("priya", "remind").await,
        ["Reminder from priya: phase pre-deployment is waiting on db-backup, secrets, rollback-plan, \
          sign-off tech-lead. Owners: @olga @alice."]
    );
    ctx.tick_and_sign(
        &[("olga", "db-backup"), ("olga", "secrets"), ("alice", "rollback-plan")],
        &[("alice", "tech-lead")],
    )
    .await;
    assert_eq!(
        ctx.refused("dana", "remind").await,
        "nothing to remind anyone of: phase `pre-deployment` has no open required items and no missing sign-offs"
    );
}

#[tokio::test]
async fn a_scheduled_post_with_nothing_new_is_one_line() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.ok("olga", "blocker waiting on the CDN purge").await;
    let (first, _) = after(&ctx, minutes(23)).await; // 09:30: news since the start
    assert!(first[0].starts_with("STATUS v2.4.0 — Standard production release"), "{first:?}");
    let (quiet, statuses) = after(&ctx, minutes(30)).await; // 10:00: nothing happened
    assert_eq!(statuses, 1);
    assert_eq!(
        quiet,
        ["STATUS v2.4.0 — nothing new since the last update: phase pre-deployment running 53m of 2h planned, \
          0% done, 1 blocker open · next update 10:30 UTC"]
    );
    // Something happens: the next post is whole again.
    ctx.ok("bruno", "check tests").await;
    let (full, _) = after(&ctx, minutes(30)).await;
    assert!(full[0].contains("Checklist: 1/7 done"), "{full:?}");
}

#[tokio::test]
async fn slack_blocks_and_the_discord_embed_show_blockers_the_snooze_and_a_quiet_repeat() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("olga", "blocker DB replica lag at 40s").await;
    ctx.ok("dana", "snooze 1h waiting for the window").await;
    let outcome = ctx.say("dana", "status").await;
    let Message::Status(view) = &outcome.posts[0].message else { panic!("expected a status post") };
    let slack = serde_json::to_string(&golive::render::blocks::status_blocks(view)).unwrap();
    assert!(slack.contains("⛔ *Blocker #1* DB replica lag at 40s — olga"), "{slack}");
    assert!(slack.contains("status posts snoozed until 10:07 UTC by dana: waiting for the window"), "{slack}");
    let discord = golive::render::embeds::status_message(view).to_string();
    assert!(discord.contains(r##""name":"⛔ Blockers","value":"#1 DB replica lag at 40s — olga""##), "{discord}");
    assert!(discord.contains("status posts snoozed until 10:07 UTC by dana: waiting for the window"), "{discord}");

    let mut quiet = (**view).clone();
    quiet.repeat = true;
    let line = "v2.4.0 — nothing new since the last update: 0/4 phases done, 0% done, 1 blocker open";
    let slack = serde_json::to_value(golive::render::blocks::status_blocks(&quiet)).unwrap();
    assert_eq!(slack.as_array().unwrap().len(), 1, "{slack}");
    assert!(slack.to_string().contains(line), "{slack}");
    let discord = golive::render::embeds::status_message(&quiet);
    assert!(discord["embeds"][0]["description"].as_str().unwrap().starts_with(line), "{discord}");
}

#[tokio::test]
async fn the_status_post_names_owners_the_last_items_done_the_eta_and_the_next_steps() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    for (who, item) in
        [("bruno", "tests"), ("sam", "security-scan"), ("bruno", "migrations-tested"), ("olga", "db-backup")]
    {
        ctx.advance(minutes(1));
        ctx.ok(who, &format!("check {item}")).await;
    }
    ctx.ok("olga", "note backup took 3 minutes").await; // 09:11
    let shown = status(&ctx).await;
    assert_eq!(
        shown,
        "STATUS v2.4.0 — Standard production release · lead dana · 11% done · active\n\
         Phase 1/4 pre-deployment (Pre-deployment verification): running 4m of 2h planned\n\
         Checklist: 4/7 done · open required: secrets (Operations Team: @olga) · rollback-plan (Technical Lead: @alice)\n\
         Done: security-scan ✓ sam, migrations-tested ✓ bruno, db-backup ✓ olga (+1 earlier)\n\
         Sign-offs: missing: tech-lead (Technical Lead: @alice), security (Security Review: @sam)\n\
         Note from olga: backup took 3 minutes\n\
         Next: tick secrets, rollback-plan · sign-offs from tech-lead, security\n\
         Running 4m of 10h planned · ETA 19:07 UTC · next update 09:30 UTC"
    );

    // The same model on Slack and Discord: owners with their members, the last items done,
    // what comes next, the ETA.
    let outcome = ctx.say("dana", "status").await;
    let Message::Status(view) = &outcome.posts[0].message else { panic!("expected a status post") };
    let slack = serde_json::to_string(&golive::render::blocks::status_blocks(view)).unwrap();
    for part in [
        "☐ `secrets` Production secrets and API keys in place — _Operations Team: @olga_",
        "*Done:* security-scan ✓ sam, migrations-tested ✓ bruno, db-backup ✓ olga (+1 earlier)",
        "⏳ tech-lead — missing: _Technical Lead: @alice_",
        "*Next*\\n• tick secrets, rollback-plan\\n• sign-offs from tech-lead, security",
        "ETA 19:07 UTC · next update 09:30 UTC",
        r#""action_id":"golive.snooze","#,
    ] {
        assert!(slack.contains(part), "{part} not in {slack}");
    }
    let discord = golive::render::embeds::status_message(view);
    let embed = discord["embeds"][0].to_string();
    for part in [
        "☐ `secrets` Production secrets and API keys in place — *Operations Team:* <@olga>",
        "⏳ tech-lead — missing: *Technical Lead:* <@alice>",
        r#""name":"Next","value":"• tick secrets, rollback-plan\n• sign-offs from tech-lead, security""#,
        "ETA 19:07 UTC · next update 09:30 UTC",
    ] {
        assert!(embed.contains(part), "{part} not in {embed}");
    }
    let buttons = discord["components"].to_string();
    assert!(buttons.contains(r#""custom_id":"golive.snooze:1","label":"Snooze 1h""#), "{buttons}");

    // Between phases the next step is the next phase; at the gate, the lead's decision.
    ctx.tick_and_sign(&[("olga", "secrets"), ("alice", "rollback-plan")], harness::PRE_DEPLOYMENT_SIGNOFFS).await;
    assert!(status(&ctx).await.contains("Next: `/deploy phase done` completes pre-deployment"));
    ctx.ok("dana", "phase done").await;
    assert!(status(&ctx).await.contains("Next: `/deploy phase start staging`"));
    ctx.ok("dana", "phase start staging").await;
    ctx.tick_and_sign(harness::STAGING_TICKS, harness::STAGING_SIGNOFFS).await;
    ctx.ok("dana", "phase done").await;
    assert!(status(&ctx).await.contains("Next: the lead's go/no-go for production"));
    // With traffic: the step, its place among the steps, and when the next may be set.
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
    ctx.ok("olga", "traffic 50").await;
    ctx.advance(minutes(10));
    let shown = status(&ctx).await;
    assert!(shown.contains("traffic 50% (step 1 of 4)"), "{shown}");
    assert!(shown.contains("watching 50% — 20 min to go"), "{shown}");
    assert!(shown.contains("· traffic 70% in 20 min"), "{shown}");
    // A snoozed deployment offers no second snooze.
    ctx.ok("dana", "snooze 1h").await;
    let outcome = ctx.say("dana", "status").await;
    let Message::Status(view) = &outcome.posts[0].message else { panic!("expected a status post") };
    assert!(!view.actions.snooze);
}

#[tokio::test]
async fn a_reminder_on_discord_pings_exactly_the_owners_it_names() {
    let ctx = Ctx::new().await;
    let channel = golive::domain::Channel { platform: golive::domain::Platform::Discord, id: "500".into() };
    let dana = golive::domain::Actor::new(golive::domain::Platform::Discord, "100000000000000009");
    for line in ["start v2.4.0", "phase start pre-deployment"] {
        assert!(!ctx.engine.submit(Input::text(&channel, &dana, line)).await.unwrap().refused);
    }
    let outcome = ctx.engine.submit(Input::text(&channel, &dana, "remind <@100000000000000099>")).await.unwrap();
    assert!(outcome.refused, "remind takes nothing after it");
    let outcome = ctx.engine.submit(Input::text(&channel, &dana, "remind")).await.unwrap();
    let renderer = golive::render::post::Renderer::new(ctx.engine.config());
    let payload = renderer.render(&outcome.posts[0]).unwrap();
    // Of everyone the phase waits on, only ops and the tech lead are on Discord.
    assert!(payload.text.ends_with("Owners: <@100000000000000002> <@100000000000000001>."), "{}", payload.text);
    let allowed = &payload.blocks.unwrap()["allowed_mentions"];
    assert_eq!(
        allowed,
        &serde_json::json!({ "parse": [], "users": ["100000000000000002", "100000000000000001"], "roles": [] })
    );
}

#[tokio::test]
async fn a_reminder_due_before_a_restart_comes_after_it_once() {
    use std::sync::Arc;
    let ctx = Ctx::new().await; // 09:07
    let text = golive::config::EXAMPLE.replacen(
        "id = \"pre-deployment\"\n",
        "id = \"pre-deployment\"\nremind_after = \"45m\"\n",
        1,
    );
    let config = Arc::new(golive::config::Config::parse(&text, "remind.toml").unwrap());
    assert_eq!(config.default_plan().remind_after(0), Some(minutes(45)));
    assert_eq!(config.default_plan().remind_after(1), None);
    let console = |name: &str| golive::domain::Actor::new(golive::domain::Platform::Console, name);
    let first = golive::engine::Engine::new(ctx.store.clone(), config.clone(), Arc::new(ctx.clock.clone()));
    for (who, line) in [("dana", "start v2.4.0"), ("dana", "phase start pre-deployment"), ("olga", "check db-backup")] {
        assert!(!first.submit(Input::text(&ctx.channel, &console(who), line)).await.unwrap().refused);
    }
    ctx.advance(minutes(44));
    let posts = first.submit(Input::Timers).await.unwrap().posts;
    assert!(ctx.post_texts(&posts).iter().all(|p| !p.starts_with("Reminder")), "{:?}", ctx.post_texts(&posts));
    drop(first);

    // golive was down when the reminder fell due; the next process sends it, once.
    ctx.advance(minutes(30));
    let store = golive::store::Store::open(&ctx.url).await.unwrap();
    let second = golive::engine::Engine::new(store, config, Arc::new(ctx.clock.clone()));
    let posts = ctx.post_texts(&second.submit(Input::Timers).await.unwrap().posts);
    let reminders: Vec<&String> = posts.iter().filter(|p| p.starts_with("Reminder")).collect();
    assert_eq!(
        reminders,
        ["Reminder: phase pre-deployment is waiting on tests, security-scan, migrations-tested, secrets, \
          rollback-plan, sign-off tech-lead, sign-off security. Owners: @bruno @sam @olga @alice."]
    );
    ctx.advance(minutes(30));
    let posts = ctx.post_texts(&second.submit(Input::Timers).await.unwrap().posts);
    assert!(posts.iter().all(|p| !p.starts_with("Reminder")), "{posts:?}");
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_blocker_is_shown_in_every_status_until_it_is_cleared,
    a_snooze_pauses_the_scheduled_posts_but_not_pages_and_ends_by_itself,
    unsnooze_resumes_from_now_without_a_late_post_for_the_skipped_slots,
    remind_mentions_exactly_the_owners_of_what_the_running_phase_waits_on,
    a_scheduled_post_with_nothing_new_is_one_line,
    slack_blocks_and_the_discord_embed_show_blockers_the_snooze_and_a_quiet_repeat,
    the_status_post_names_owners_the_last_items_done_the_eta_and_the_next_steps,
    a_reminder_on_discord_pings_exactly_the_owners_it_names,
    a_reminder_due_before_a_restart_comes_after_it_once,
);
