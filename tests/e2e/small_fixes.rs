//! The small things people tripped on (issue #19), as they meet them in Slack: golive serve's
//! real routes, signed slash commands, a fake Slack Web API, a real SQLite file and the manual
//! clock; a whole deployment's way to 100% traffic goes through the engine on the console.
//! Each answer is read as the person who typed the command reads it.

use crate::harness;
use crate::harness::Ctx;

/// The private answer to `/deploy TEXT` from `user`.
async fn answer(w: &Ctx, user: &str, text: &str) -> String {
    let answer = w.slack().slash(user, text).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["response_type"], "ephemeral", "`{text}`: {answer:?}");
    answer.json()["text"].as_str().expect("an answer has text").to_string()
}

/// `golive ARGS` run as a person would run it, from an empty directory; its stdout.
fn golive_stdout(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(args)
        .current_dir(dir.path())
        .env_remove("GOLIVE_CONFIG")
        .output()
        .expect("run golive");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `/deploy TEXT` that changes something: no private answer, the change is posted.
async fn accepted(w: &Ctx, user: &str, text: &str) {
    let answer = w.slack().slash(user, text).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, ""), "`{text}` was not accepted: {answer:?}");
}

#[tokio::test]
async fn help_on_a_word_that_is_no_command_says_so_and_lists_the_commands() {
    let w = Ctx::on_slack().await;
    let text = answer(&w, "U0DANA", "help foo").await;
    assert!(text.starts_with("`foo` is not a golive command. "), "{text}");
    assert!(text.contains("/deploy start RELEASE"), "the commands are listed after it: {text}");
    let near = answer(&w, "U0DANA", "help stauts").await;
    assert!(near.starts_with("`stauts` is not a golive command (did you mean `status`?). "), "{near}");
    // A known topic explains that command and does not call it unknown.
    let known = answer(&w, "U0DANA", "help snooze").await;
    assert!(known.starts_with("`/deploy snooze"), "{known}");
    assert!(!known.contains("not a golive command"), "{known}");
    assert_eq!(w.deployments().await, 0);
    assert!(w.slack().fake.delivered().is_empty(), "help posted to the channel: {:?}", w.slack().fake.delivered());
    w.finish().await;
}

#[tokio::test]
async fn a_one_phase_plan_is_announced_as_one_phase() {
    let w = Ctx::on_slack_with(|c| {
        c + r#"
[plans.hotfix]
name = "Hotfix"

[[plans.hotfix.phases]]
id = "ship"
name = "Ship the fix"
planned = "30m"
items = [{ id = "deployed", text = "The fix is deployed", role = "ops" }]
"#
    })
    .await;
    accepted(&w, "U0DANA", "start v2.4.1 plan=hotfix").await;
    let posts = w.slack().posts(1).await;
    let text = posts[0].text();
    assert!(text.contains("with the plan \"Hotfix\": 1 phase (ship), 30m planned."), "{text}");
    assert!(!text.contains("1 phases"), "{text}");
    w.finish().await;
}

#[tokio::test]
async fn refusals_of_complete_and_untick_say_what_to_do_instead() {
    let w = Ctx::on_slack().await;
    accepted(&w, "U0DANA", "start v2.4.0").await;
    let complete = answer(&w, "U0DANA", "complete").await;
    assert!(
        complete.starts_with("the deployment cannot be completed yet: phases not done: pre-deployment"),
        "{complete}"
    );
    assert!(complete.ends_with("To end it without finishing them, the lead can `/deploy abort REASON`"), "{complete}");

    accepted(&w, "U0DANA", "phase start pre-deployment").await;
    accepted(&w, "U0OPS", "check db-backup").await;
    let untick = answer(&w, "U0BACKEND", "uncheck db-backup").await;
    assert!(untick.contains("only members of `ops` (the owner of `db-backup`) or the lead may untick it"), "{untick}");
    assert!(!untick.contains("may tick"), "{untick}");
    // Still ticked: the refusal changed nothing.
    let row = &w.store.deployments(None, 1).await.unwrap()[0];
    let kinds = w.event_kinds(row.id).await;
    assert!(!kinds.iter().any(|k| k == "item_unchecked"), "{kinds:?}");
    // The channel heard the start, the phase and the tick the refusal left alone.
    w.slack().reads_started("v2.4.0").await;
    w.slack().reads_all(&["Phase 1/4 pre-deployment (", "u0ops checked db-backup "]).await;
    w.finish().await;
}

#[tokio::test]
async fn history_says_rolling_back_in_words_and_finds_a_slack_channel_in_the_form_it_prints() {
    let w = Ctx::on_slack().await;
    accepted(&w, "U0DANA", "start v2.4.0").await;
    accepted(&w, "U0OPS", "rollback level=immediate smoke tests fail").await;

    let history = answer(&w, "U0DANA", "history").await;
    assert!(history.contains("v2.4.0 — rolling back ·"), "{history}");
    assert!(!history.contains("rolling_back"), "{history}");
    let db = w.dir.path().join("golive.db");
    let cli = golive_stdout(&["history", "--db", db.to_str().unwrap()]);
    assert!(cli.contains(" rolling back "), "{cli}");
    assert!(!cli.contains("rolling_back"), "{cli}");
    // The channel as the list prints it (slack:C0DEPLOY) finds it, as does the bare id.
    assert!(cli.contains(" slack:C0DEPLOY "), "{cli}");
    for channel in ["slack:C0DEPLOY", "C0DEPLOY"] {
        let found = golive_stdout(&["history", "--db", db.to_str().unwrap(), "--channel", channel]);
        assert!(found.contains("v2.4.0") && found.contains(" rolling back "), "--channel {channel}: {found}");
    }
    let other = golive_stdout(&["history", "--db", db.to_str().unwrap(), "--channel", "slack:C0OTHER"]);
    assert!(other.starts_with("no deployments recorded in channel slack:C0OTHER in "), "{other}");
    assert!(other.trim_end().ends_with("(others are; list them without --channel)"), "{other}");

    accepted(&w, "U0DANA", "complete").await;
    let history = answer(&w, "U0DANA", "history").await;
    assert!(history.contains("v2.4.0 — rolled back ·"), "{history}");
    assert!(!history.contains("rolled_back"), "{history}");
    let cli = golive_stdout(&["history", "--db", db.to_str().unwrap()]);
    assert!(cli.contains(" rolled back "), "{cli}");
    assert!(!cli.contains("rolled_back"), "{cli}");
    // The channel heard the rollback, its page and the close, in words.
    let slack = w.slack();
    slack.reads_started("v2.4.0").await;
    slack.reads("ROLLBACK (immediate, 0–5 min) started by u0ops: smoke tests fail").await;
    slack.reads("ESCALATION level 1 (Team leads) from u0ops: rollback: smoke tests fail").await;
    slack.reads("v2.4.0 rolled back and closed by u0dana").await;
    w.finish().await;
}

#[tokio::test]
async fn traffic_at_its_last_step_says_how_to_finish_the_phase_not_that_the_next_steps_are_none() {
    let ctx = harness::Ctx::new().await;
    ctx.through_staging().await;
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
    ctx.tick_and_sign(harness::PRODUCTION_TICKS, &[]).await;
    ctx.ok("olga", "traffic 50").await;
    for step in [70, 85, 100] {
        ctx.advance(harness::minutes(31));
        ctx.ok("olga", &format!("traffic {step}")).await;
    }
    for again in ["traffic 100", "traffic 85"] {
        let refusal = ctx.refused("olga", again).await;
        assert_eq!(
            refusal,
            "traffic is already at 100%, the last step of phase `production`; `/deploy phase done` completes the phase"
        );
        assert!(!refusal.contains("none"), "{refusal}");
    }
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    help_on_a_word_that_is_no_command_says_so_and_lists_the_commands,
    a_one_phase_plan_is_announced_as_one_phase,
    refusals_of_complete_and_untick_say_what_to_do_instead,
    traffic_at_its_last_step_says_how_to_finish_the_phase_not_that_the_next_steps_are_none,
);
