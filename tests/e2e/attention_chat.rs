//! Reminders before pages, the stakeholder digest and the "Snooze 1h" button, through golive
//! serve's real routes with signed requests, a real SQLite file, the manual clock and the fake
//! Slack and Discord APIs: what each channel receives, once, and what is recorded.

use crate::harness;
use crate::harness::discord::{APP, GUILD};
use crate::harness::minutes;
use crate::harness::slack::slack_user;
use crate::harness::Ctx;
use golive::clock::Clock;
use serde_json::json;

/// Every `<@…>` mention in a text.
fn mentions(text: &str) -> Vec<&str> {
    text.split("<@").skip(1).filter_map(|rest| rest.split_once('>').map(|(id, _)| id)).collect()
}

async fn slash_ok(w: &Ctx, who: &str, text: &str) {
    let answer = w.slack().slash(slack_user(who), text).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(!answer.body.contains("\"ephemeral\""), "`{who}: {text}` was refused: {}", answer.body);
}

#[tokio::test]
async fn golive_reminds_exactly_the_owners_once_at_remind_after_and_pages_only_at_escalate_after() {
    let w = Ctx::on_slack_with(|c| {
        c.replacen("go_gate = \"production\"\n", "go_gate = \"production\"\nremind_after = \"20m\"\n", 1).replacen(
            "signoff_missing = { after = \"4h\", severity = \"warning\", grace = \"0s\" }",
            "signoff_missing = { after = \"1h\", severity = \"critical\" }",
            1,
        )
    })
    .await; // 09:07
    slash_ok(&w, "dana", "start v2.4.0").await;
    slash_ok(&w, "dana", "phase start pre-deployment").await;
    for (who, item) in [("bruno", "tests"), ("sam", "security-scan"), ("bruno", "migrations-tested")] {
        slash_ok(&w, who, &format!("check {item}")).await;
    }
    slash_ok(&w, "sam", "signoff security").await;
    let reminders = || w.slack().fake.delivered().into_iter().filter(|c| c.text().starts_with("Reminder")).count();

    // 19 minutes in: nobody is reminded yet.
    w.clock.advance(minutes(19));
    w.settle().await;
    assert_eq!(reminders(), 0);
    // 20 minutes in: ops (db-backup, secrets) and the tech lead (rollback-plan, the sign-off),
    // and nobody who is done.
    w.clock.advance(minutes(1));
    let reminder = w.slack().arrives("the reminder", |c| c.text().starts_with("Reminder")).await;
    assert_eq!(
        reminder.text(),
        "Reminder: phase pre-deployment is waiting on db-backup, secrets, rollback-plan, sign-off tech-lead. \
         Owners: <@U0OPS> <@U0TECHLEAD>."
    );
    assert_eq!(mentions(reminder.text()), ["U0OPS", "U0TECHLEAD"]);
    assert!(!w.slack().fake.delivered().iter().any(|c| c.text().contains("ESCALATION")));

    // Once per phase: 40 minutes in, still one reminder and no page.
    w.clock.advance(minutes(20));
    w.settle().await;
    assert_eq!(reminders(), 1);
    assert!(!w.slack().fake.delivered().iter().any(|c| c.text().contains("ESCALATION")));
    // An hour in, the missing sign-off pages on-call.
    w.clock.advance(minutes(20));
    let page = w.slack().arrives("the page", |c| c.text().starts_with("ESCALATION level 1")).await;
    assert!(page.text().contains("sign-offs still missing in `pre-deployment`"), "{}", page.text());
    assert_eq!(reminders(), 1);

    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    let events = w.store.events(id).await.unwrap();
    let reminded: Vec<_> = events.iter().filter(|e| e.kind.name() == "reminded").collect();
    assert_eq!(reminded.len(), 1);
    assert_eq!(reminded[0].actor.id, "golive");
    // Recorded when the scheduler woke for it: at 20 minutes (plus the seconds the test's
    // waiting moved the clock on), not before.
    let after = reminded[0].at - events[0].at;
    assert!(after >= chrono::Duration::minutes(20) && after < chrono::Duration::minutes(21), "{after}");
    // The 09:30 status slot, due while the clock jumped, posts late and shows the ticks.
    let status = w.status_on_slack().await;
    assert!(status.text().contains("Checklist: 3/7 done"), "{}", status.text());
    w.finish().await;
}

#[tokio::test]
async fn the_digest_channel_hears_each_configured_milestone_once_and_nothing_else() {
    let w = Ctx::on_slack_with(|c| {
        c.replacen("# public_url = \"https://golive.example.com\"", "public_url = \"https://golive.example.com\"", 1)
            + "\n[notify]\nchannels = [\"slack:C0STAKE\"]\nevents = [\"started\", \"go\", \"completed\", \"rolled_back\", \"aborted\"]\n"
    })
    .await;
    slash_ok(&w, "dana", "start v2.4.0").await;
    slash_ok(&w, "olga", "note the CDN is warm").await;
    slash_ok(&w, "dana", "phase start pre-deployment").await;
    for (who, item) in harness::PRE_DEPLOYMENT_TICKS {
        slash_ok(&w, who, &format!("check {item}")).await;
    }
    for (who, role) in harness::PRE_DEPLOYMENT_SIGNOFFS {
        slash_ok(&w, who, &format!("signoff {role}")).await;
    }
    slash_ok(&w, "dana", "phase done").await;
    slash_ok(&w, "dana", "phase start staging").await;
    for (who, item) in harness::STAGING_TICKS {
        slash_ok(&w, who, &format!("check {item}")).await;
    }
    for (who, role) in harness::STAGING_SIGNOFFS {
        slash_ok(&w, who, &format!("signoff {role}")).await;
    }
    slash_ok(&w, "dana", "phase done").await;
    slash_ok(&w, "dana", "go").await;
    slash_ok(&w, "dana", "phase start production").await;
    slash_ok(&w, "olga", "traffic 50").await; // not configured: not in the digest
    slash_ok(&w, "olga", "rollback error rate at 2%").await;
    slash_ok(&w, "dana", "complete").await; // closes the rolled-back one: not "completed"
    slash_ok(&w, "dana", "start v2.4.1").await;
    slash_ok(&w, "dana", "abort wrong build").await;
    w.slack().arrives("the abort in the digest", |c| c.channel() == "C0STAKE" && c.text().contains("aborted")).await;
    // Timers and the status slot pass too: none of it reaches the digest.
    w.clock.advance(minutes(30));
    w.settle().await;

    let digest: Vec<_> = w.slack().fake.peek_delivered().into_iter().filter(|c| c.channel() == "C0STAKE").collect();
    w.slack().fake.read(&digest);
    let digest: Vec<String> = digest.iter().map(|c| c.text().to_string()).collect();
    let plan = "(Standard production release)";
    assert_eq!(
        digest,
        [
            format!("v2.4.0 {plan}: 🚀 started by u0dana (10h planned) · https://golive.example.com/deployments/1"),
            format!("v2.4.0 {plan}: ✅ GO for production, given by u0dana · https://golive.example.com/deployments/1"),
            format!(
                "v2.4.0 {plan}: ⏪ ROLLING BACK (immediate, 0–5 min), started by u0ops: error rate at 2% · \
                 https://golive.example.com/deployments/1"
            ),
            format!("v2.4.1 {plan}: 🚀 started by u0dana (10h planned) · https://golive.example.com/deployments/2"),
            format!("v2.4.1 {plan}: 🛑 aborted by u0dana: wrong build · https://golive.example.com/deployments/2"),
        ]
    );
    // The working channel heard everything as before.
    w.slack()
        .arrives("the traffic step in the working channel", |c| {
            c.channel() == "C0DEPLOY" && c.text().contains("Traffic on the new version: 50%")
        })
        .await;
    // The working channel heard the whole story, in order.
    let slack = w.slack();
    slack.reads_started("v2.4.0").await;
    slack.reads("Note from u0ops: the CDN is warm").await;
    slack.reads_phase("pre-deployment", harness::PRE_DEPLOYMENT_TICKS, harness::PRE_DEPLOYMENT_SIGNOFFS).await;
    slack.reads_phase("staging", harness::STAGING_TICKS, harness::STAGING_SIGNOFFS).await;
    slack.reads_all(&["GO: u0dana (as lead)", "Phase 3/4 production ("]).await;
    slack.reads("ROLLBACK (immediate, 0–5 min) started by u0ops: error rate at 2%").await;
    slack.reads("ESCALATION level 1 (Team leads) from u0ops: rollback: error rate at 2%").await;
    slack.reads("v2.4.0 rolled back and closed by u0dana").await;
    slack.reads_started("v2.4.1").await;
    slack.reads("v2.4.1 ABORTED by u0dana: wrong build").await;
    w.finish().await;
}

#[tokio::test]
async fn the_digest_hears_every_traffic_step_and_a_completion_once() {
    // Only traffic and completed are configured: the start, the go and the status posts of a
    // whole deployment stay out of the digest; each traffic step and the completion come once.
    let w = Ctx::on_slack_with(|c| {
        c + "\n[notify]\nchannels = [\"slack:C0STAKE\"]\nevents = [\"traffic\", \"completed\"]\n"
    })
    .await;
    let phase = |name: &'static str,
                 ticks: &'static [(&'static str, &'static str)],
                 signoffs: &'static [(&'static str, &'static str)]| {
        let w = &w;
        async move {
            slash_ok(w, "dana", &format!("phase start {name}")).await;
            for (who, item) in ticks {
                slash_ok(w, who, &format!("check {item}")).await;
            }
            if name == "production" {
                slash_ok(w, "olga", "traffic 50").await;
                for step in [70, 85, 100] {
                    w.clock.advance(minutes(31));
                    w.settle().await;
                    slash_ok(w, "olga", &format!("traffic {step}")).await;
                }
                w.clock.advance(minutes(31));
                w.settle().await;
            }
            for (who, role) in signoffs {
                slash_ok(w, who, &format!("signoff {role}")).await;
            }
            slash_ok(w, "dana", "phase done").await;
        }
    };
    slash_ok(&w, "dana", "start v2.4.0").await;
    phase("pre-deployment", harness::PRE_DEPLOYMENT_TICKS, harness::PRE_DEPLOYMENT_SIGNOFFS).await;
    phase("staging", harness::STAGING_TICKS, harness::STAGING_SIGNOFFS).await;
    slash_ok(&w, "dana", "go").await;
    phase("production", harness::PRODUCTION_TICKS, harness::PRODUCTION_SIGNOFFS).await;
    phase("post-deployment", harness::POST_DEPLOYMENT_TICKS, harness::POST_DEPLOYMENT_SIGNOFFS).await;
    slash_ok(&w, "dana", "complete").await;
    w.slack()
        .arrives("the completion in the digest", |c| c.channel() == "C0STAKE" && c.text().contains("completed"))
        .await;
    w.clock.advance(minutes(30));
    w.settle().await;
    // #deploys hears the completion too, and its status post is brought up to date; both are
    // waited for, so a slow machine cannot deliver them after the digest is read below.
    let deploys = |c: &harness::fake_slack::Call| c.channel() == "C0DEPLOY";
    w.slack().arrives("the completion in #deploys", |c| deploys(c) && c.text().contains("completed by u0dana")).await;
    w.slack()
        .arrives("the status post, completed", |c| {
            deploys(c) && c.method == "chat.update" && c.text().contains("· completed")
        })
        .await;

    let digest: Vec<String> = w
        .slack()
        .fake
        .delivered()
        .into_iter()
        .filter(|c| c.channel() == "C0STAKE")
        .map(|c| c.text().to_string())
        .collect();
    let head = "v2.4.0 (Standard production release):";
    let mut expected: Vec<String> = [50, 70, 85, 100]
        .iter()
        .map(|p| format!("{head} ↗ {p}% of traffic on the new version, set by u0ops"))
        .collect();
    expected.push(format!("{head} 🎉 completed by u0dana, took 2h 4m of 10h planned"));
    assert_eq!(digest, expected);
    // The working channel had its status posts meanwhile; none reached the digest.
    assert!(w.slack().fake.delivered().iter().any(|c| c.channel() == "C0DEPLOY" && c.text().starts_with("STATUS")));
    w.finish().await;
}

#[tokio::test]
async fn a_slack_deployment_s_milestones_reach_a_discord_digest_channel_pinging_nobody() {
    const STAKE: &str = "600000000000000001";
    let g = Ctx::serve()
        .discord()
        .slack()
        .config(|c| c + &format!("\n[notify]\nchannels = [\"discord:{STAKE}\"]\nevents = [\"started\", \"aborted\"]\n"))
        .start()
        .await;
    let ok = |a: harness::http::Answer| assert_eq!((a.status, a.body.clone()), (200, String::new()), "{a:?}");
    ok(g.slack().slash("U0DANA", "start v2.4.0").await);
    ok(g.slack().slash("U0OPS", "note the CDN is warm").await);
    ok(g.slack().slash("U0DANA", "abort wrong build @everyone").await);
    g.discord().arrives("the abort in the digest", |c| c.path.contains(STAKE) && c.content().contains("aborted")).await;
    g.settle().await;

    let digest = g.discord().fake.posts_to(STAKE);
    let lines: Vec<&str> = digest.iter().map(|c| c.content()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("v2.4.0 (Standard production release): 🚀 started by "), "{lines:?}");
    assert!(
        lines[1].contains("(Standard production release): 🛑 aborted by ")
            && lines[1].ends_with(": wrong build @everyone"),
        "{lines:?}"
    );
    for post in &digest {
        // Text people typed is shown as typed: a digest line pings nobody on Discord.
        assert_eq!(post.body["allowed_mentions"]["parse"], serde_json::json!([]), "{:#}", post.body);
        assert!(post.body["allowed_mentions"]["users"].as_array().is_none_or(Vec::is_empty), "{:#}", post.body);
    }
    // The Slack channel itself heard all three.
    let slack = g.slack();
    slack.reads_started("v2.4.0").await;
    slack.reads("Note from u0ops: the CDN is warm").await;
    slack.reads("v2.4.0 ABORTED by u0dana: wrong build @everyone").await;
    g.finish().await;
}

#[test]
fn notify_rejects_unknown_milestones_and_malformed_channels_naming_what_is_allowed() {
    let config = |notify: &str| {
        let text = golive::config::EXAMPLE.replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
            + "\n[notify]\n"
            + notify;
        golive::config::Config::parse(&text, "n.toml").map(|c| c.notify).map_err(|e| e.to_string())
    };
    let ok = config("channels = [\"slack:C0STAKE\"]\n").unwrap();
    assert_eq!(ok.events, ["started", "go", "traffic", "completed", "rolled_back", "aborted"]);
    let err = config("channels = [\"slack:C0STAKE\"]\nevents = [\"started\", \"deployed\"]\n").unwrap_err();
    assert!(
        err.ends_with(
            "notify.events[1]: `deployed` is not a milestone; milestones: started, go, traffic, completed, rolled_back, aborted"
        ),
        "{err}"
    );
    let err = config("channels = [\"#stakeholders\"]\n").unwrap_err();
    assert!(err.contains("notify.channels[0]: `#stakeholders` is not a channel; write slack:CHANNELID"), "{err}");
    let err = config("channels = [\"slack:stakeholders\"]\n").unwrap_err();
    assert!(err.contains("`slack:stakeholders` is not a slack channel id"), "{err}");
    let err = config("channels = [\"discord:500\"]\n").unwrap_err();
    assert!(err.contains("`discord:500` is on discord, which is not enabled"), "{err}");
    let err = config("channels = [\"slack:C0STAKE\"]\nevents = [\"go\", \"go\"]\n").unwrap_err();
    assert!(err.contains("notify.events[1]: `go` is listed twice"), "{err}");
}

#[tokio::test]
async fn the_snooze_button_on_the_slack_status_post_snoozes_the_posts_for_an_hour() {
    let w = Ctx::on_slack().await; // 09:07
    slash_ok(&w, "dana", "start v2.4.0").await;
    slash_ok(&w, "dana", "status").await;
    let status = w.slack().arrives("the status post", |c| c.text().starts_with("STATUS")).await;
    let snooze = status.body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == "golive.snooze")
        .unwrap_or_else(|| panic!("no Snooze button on {:#}", status.body["blocks"]));
    assert_eq!(snooze["text"]["text"], "Snooze 1h");
    let answer = w.slack().press("U0OPS", "golive.snooze", snooze["value"].as_str().unwrap()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    w.slack()
        .arrives("the snooze", |c| {
            c.text().starts_with("u0ops snoozed the scheduled status posts for 1h, until 10:07 UTC")
        })
        .await;
    // The 09:30 and 10:00 slots pass without a post; 10:30 posts.
    w.clock.advance(minutes(55));
    w.settle().await;
    // New status posts, not the edits of the one on screen.
    let statuses = || {
        w.slack()
            .fake
            .delivered()
            .iter()
            .filter(|c| c.method == "chat.postMessage" && c.text().starts_with("STATUS"))
            .count()
    };
    assert_eq!(statuses(), 1);
    w.clock.advance(minutes(30));
    w.slack().arrives("the 10:30 post", |c| c.text().contains("next update 11:00 UTC")).await;
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    let snoozed: Vec<_> =
        w.store.events(id).await.unwrap().into_iter().filter(|e| e.kind.name() == "status_snoozed").collect();
    assert_eq!(snoozed.len(), 1);
    assert_eq!((snoozed[0].actor.id.as_str(), snoozed[0].at.format("%H:%M").to_string()), ("U0OPS", "09:07".into()));
    w.finish().await;
}

#[tokio::test]
async fn a_scheduled_slack_post_with_nothing_new_is_one_line() {
    let w = Ctx::on_slack().await; // 09:07
    slash_ok(&w, "dana", "start v2.4.0").await;
    slash_ok(&w, "dana", "phase start pre-deployment").await;
    let scheduled = || {
        w.slack()
            .fake
            .delivered()
            .into_iter()
            .filter(|c| c.channel() == "C0DEPLOY" && c.text().starts_with("STATUS"))
            .collect::<Vec<_>>()
    };
    // 09:30: news since the start, the whole post.
    w.clock.advance(minutes(23));
    let full = w.slack().arrives("the 09:30 post", |c| c.text().starts_with("STATUS")).await;
    assert!(full.text().contains("Checklist: 0/7 done"), "{}", full.text());
    assert!(full.body["blocks"].as_array().unwrap().len() > 3, "{:#}", full.body["blocks"]);
    // 10:00: nothing happened, one line.
    w.clock.advance(minutes(30));
    w.slack().arrives("the 10:00 post", |c| c.text().contains("nothing new")).await;
    let posts = scheduled();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(
        posts[1].text(),
        "STATUS v2.4.0 — nothing new since the last update: phase pre-deployment running 53m of 2h planned, \
         0% done · next update 10:30 UTC"
    );
    assert_eq!(posts[1].body["blocks"].as_array().map(Vec::len), Some(1), "{:#}", posts[1].body["blocks"]);
    // A tick is news: 10:30 is whole again.
    slash_ok(&w, "bruno", "check tests").await;
    w.clock.advance(minutes(30));
    w.slack().arrives("the 10:30 post", |c| c.text().contains("Checklist: 1/7 done")).await;
    // The wait above took the edit the tick made to the status post on screen; the 10:30 post
    // itself follows, whole.
    w.slack().reads("running 1h 23m of 2h planned\nChecklist: 1/7 done").await;
    w.finish().await;
}

#[tokio::test]
async fn discord_has_the_attention_commands_and_the_snooze_button() {
    let g = Ctx::on_discord().await;
    let registered =
        g.discord().fake.calls().into_iter().find(|c| c.method == "PUT").expect("the command was registered");
    assert_eq!(registered.path, format!("/api/v10/applications/{APP}/guilds/{GUILD}/commands"));
    let subs = registered.body[0]["options"].as_array().unwrap().clone();
    let sub =
        |name: &str| subs.iter().find(|o| o["name"] == name).cloned().unwrap_or_else(|| panic!("no /deploy {name}"));
    assert_eq!(sub("unblock")["options"][0]["type"], 4, "the blocker's number is an integer");
    assert_eq!(sub("snooze")["options"][0]["name"], "duration");
    for name in ["blocker", "unsnooze", "remind"] {
        sub(name);
    }

    let told = g.discord().told("dana", &["start"], &[("release", json!("v2.4.0"))]).await;
    assert!(told.starts_with('✓'), "{told}");
    let told = g.discord().told("olga", &["blocker"], &[("text", json!("DB replica lag at 40s"))]).await;
    assert!(told.starts_with('✓'), "{told}");
    g.discord()
        .arrives("the blocker", |c| c.body["content"].as_str().is_some_and(|t| t.starts_with("⛔ Blocker #1")))
        .await;
    let told = g.discord().told("olga", &["unblock"], &[("number", json!(1))]).await;
    assert!(told.starts_with('✓'), "{told}");
    let told = g.discord().told("olga", &["remind"], &[]).await;
    assert!(told.contains("no phase is running"), "{told}");
    let told = g
        .discord()
        .told("dana", &["snooze"], &[("duration", json!("2h")), ("reason", json!("waiting for the window"))])
        .await;
    assert!(told.starts_with('✓'), "{told}");
    g.discord()
        .arrives("the snooze", |c| {
            c.body["content"].as_str().is_some_and(|t| t.contains("until 11:07 UTC: waiting for the window"))
        })
        .await;
    let told = g.discord().told("dana", &["unsnooze"], &[]).await;
    assert!(told.starts_with('✓'), "{told}");

    // The status post's button snoozes for an hour, from the person who pressed it.
    let told = g.discord().told("dana", &["status"], &[]).await;
    assert!(told.starts_with('✓') || told.is_empty(), "{told}");
    let status = g
        .discord()
        .arrives("the status post", |c| {
            c.body["embeds"][0]["title"].as_str().is_some_and(|t| t.starts_with("Deploy v2.4.0"))
        })
        .await;
    let rows = status.body["components"].to_string();
    assert!(rows.contains(r#""custom_id":"golive.snooze:1","label":"Snooze 1h""#), "{rows}");
    let answer = g.discord().press("olga", "golive.snooze:1").await;
    assert_eq!(answer["type"], 4, "{answer}");
    g.discord()
        .arrives("the button's snooze", |c| {
            c.body["content"]
                .as_str()
                .is_some_and(|t| t.contains("snoozed the scheduled status posts for 1h, until 10:07 UTC"))
        })
        .await;
    let id = g.store.deployments(None, 1).await.unwrap()[0].id;
    let kinds = g.event_kinds(id).await;
    for kind in ["blocker_raised", "blocker_cleared", "status_snoozed", "status_unsnoozed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} not in {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| *k == "status_snoozed").count(), 2);
    let _ = g.clock.now();
    // The channel heard the start, the cleared blocker and the resumed posts; the status post
    // now says it is snoozed.
    let discord = g.discord();
    discord.reads_started("v2.4.0").await;
    discord.reads("olga cleared blocker #1: DB replica lag at 40s").await;
    discord.reads("dana resumed the scheduled status posts.").await;
    let status = g.status_on_discord().await;
    assert!(status.seen().contains("Deploy v2.4.0"), "{}", status.seen());
    g.finish().await;
}

#[test]
fn remind_after_must_be_a_duration_on_a_plan_or_a_phase() {
    let parse = |from: &str, to: &str| {
        golive::config::Config::parse(&golive::config::EXAMPLE.replacen(from, to, 1), "r.toml")
            .map_err(|e| e.to_string())
    };
    let err = parse("go_gate = \"production\"\n", "go_gate = \"production\"\nremind_after = \"soon\"\n").unwrap_err();
    assert!(err.contains("plans.standard.remind_after: `soon` is not a duration"), "{err}");
    let err = parse("id = \"staging\"\n", "id = \"staging\"\nremind_after = \"0s\"\n").unwrap_err();
    assert!(err.contains("plans.standard.phases[1].remind_after: the duration must be longer than zero"), "{err}");
    let ok = parse("id = \"staging\"\n", "id = \"staging\"\nremind_after = \"25m\"\n").unwrap();
    assert_eq!(ok.default_plan().remind_after(1), Some(minutes(25)));
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    golive_reminds_exactly_the_owners_once_at_remind_after_and_pages_only_at_escalate_after,
    the_digest_channel_hears_each_configured_milestone_once_and_nothing_else,
    the_digest_hears_every_traffic_step_and_a_completion_once,
    a_slack_deployment_s_milestones_reach_a_discord_digest_channel_pinging_nobody,
    the_snooze_button_on_the_slack_status_post_snoozes_the_posts_for_an_hour,
    a_scheduled_slack_post_with_nothing_new_is_one_line,
    discord_has_the_attention_commands_and_the_snooze_button,
);
