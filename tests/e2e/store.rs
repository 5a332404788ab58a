//! The store and engine over a real SQLite file: what gets recorded, the hash chain under
//! concurrent writers, one open deployment per channel, and status posts across a restart.

use crate::harness;
use crate::harness::{minutes, Ctx};
use golive::domain::{Actor, Channel, Platform};
use golive::engine::Input;
use golive::engine::Message;

#[tokio::test]
async fn a_refused_sign_off_is_recorded_with_who_and_why_and_changes_nothing() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;

    let reply = ctx.refused("bruno", "signoff security looks fine").await;
    assert_eq!(reply, "only members of `security` (Security Review) may sign off as `security`; you are not one");

    let events = ctx.store.events(1).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.actor.key(), "console:bruno");
    assert_eq!(
        serde_json::to_value(&last.kind).unwrap(),
        serde_json::json!({
            "kind": "command_refused",
            "command": "signoff security",
            "reason": "only members of `security` (Security Review) may sign off as `security`; you are not one"
        })
    );
    let state = ctx.store.load(1).await.unwrap().state;
    assert!(state.phases[0].signoffs.is_empty(), "the refused sign-off must not count");
}

#[tokio::test]
async fn unknown_items_and_commands_the_state_does_not_allow_record_nothing() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let before = ctx.store.events(1).await.unwrap().len();

    let reply = ctx.refused("olga", "check db-backup").await;
    assert_eq!(reply, "no phase is running; start the next one with `/deploy phase start pre-deployment`");
    ctx.ok("dana", "phase start pre-deployment").await;
    let reply = ctx.refused("olga", "check db-bakup").await;
    assert!(reply.starts_with(
        "unknown item `db-bakup` (did you mean `db-backup`?) in phase `pre-deployment`; its items: tests, security-scan"
    ));
    let reply = ctx.refused("olga", "frobnicate").await;
    assert!(reply.starts_with("unknown command `frobnicate`"), "{reply}");

    assert_eq!(ctx.store.events(1).await.unwrap().len(), before + 1, "only the phase start was recorded");
}

#[tokio::test]
async fn a_note_with_injection_looking_text_is_stored_verbatim() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let note = "'); DROP TABLE events; -- <!channel> ünïcødé 🚀 \"quoted\" \\ back";
    let posts = ctx.ok("bruno", &format!("note {note}")).await;
    // Shown as typed, except that the mention in it is broken so it pings nobody.
    assert_eq!(posts, vec![format!("Note from bruno: {}", golive::render::typed(note))]);
    let state = ctx.store.load(1).await.unwrap().state;
    assert_eq!(state.notes[0].text, note);
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

#[tokio::test]
async fn the_database_allows_one_open_deployment_per_channel() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let reply = ctx.refused("alice", "start v2.5.0").await;
    assert_eq!(reply, "v2.4.0 is already being deployed in this channel (lead: dana); complete or abort it first");

    // Not only the code: the schema itself refuses a second open row for the channel.
    // (The id is given: PostgreSQL has no implicit one.)
    let insert =
        "INSERT INTO deployments (id, release, plan, platform, channel, lead, status, progress, started_at, updated_at)
                  VALUES (99, 'v9', 'standard', 'console', 'ops', 'console:eve', 'active', 0, 'x', 'x')";
    let second = crate::on_pool!(ctx.store, |pool| sqlx::query(insert).execute(pool).await.map(drop));
    let err = second.expect_err("a second open deployment in one channel must be rejected");
    let said = err.to_string();
    assert!(said.contains("UNIQUE") || said.contains("deployments_one_open_per_channel"), "{said}");

    // Another channel is fine, and so is the same channel once the first has ended.
    let other = Channel { platform: Platform::Console, id: "other".into() };
    let started =
        ctx.engine.submit(Input::text(&other, &Actor::new(Platform::Console, "rhea"), "start v3")).await.unwrap();
    assert!(!started.refused);
    ctx.ok("dana", "abort wrong branch").await;
    ctx.ok("rhea", "start v2.5.0").await;
}

#[tokio::test]
async fn concurrent_commands_on_one_deployment_keep_a_gap_free_sequence_and_an_intact_chain() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;

    let mut tasks = Vec::new();
    for i in 0..40 {
        let engine = ctx.engine.clone();
        let channel = ctx.channel.clone();
        tasks.push(tokio::spawn(async move {
            let (who, text) = match i % 4 {
                0 => ("olga", format!("note olga {i}")),
                1 => ("bruno", format!("note bruno {i}")),
                2 => ("sam", "check security-scan".to_string()),
                _ => ("alice", "signoff tech-lead".to_string()),
            };
            engine.submit(Input::text(&channel, &Actor::new(Platform::Console, who), &text)).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        if !t.await.unwrap().refused {
            accepted += 1;
        }
    }
    // 20 notes, plus exactly one tick and one sign-off: the rest were refused as duplicates.
    assert_eq!(accepted, 22);

    let events = ctx.store.events(1).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    assert_eq!(events.len(), 2 + 22);
    let report = ctx.store.verify().await.unwrap().expect("chain intact");
    assert_eq!(report.events, 24);
}

#[tokio::test]
async fn concurrent_starts_in_one_channel_open_exactly_one_deployment() {
    let ctx = Ctx::new().await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let engine = ctx.engine.clone();
        let channel = ctx.channel.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .submit(Input::text(&channel, &Actor::new(Platform::Console, "dana"), &format!("start v{i}")))
                .await
                .unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(!t.await.unwrap().refused);
    }
    assert_eq!(accepted, 1);
    assert_eq!(ctx.store.deployments(None, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn status_posts_follow_the_half_hour_schedule() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    assert_eq!(ctx.engine.next_due().await.unwrap(), Some(harness::start_time() + chrono::Duration::minutes(23)));
    assert!(ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap().is_empty(), "nothing is due before 09:30");

    ctx.advance(minutes(23)); // 09:30
    let posts = ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap();
    assert_eq!(posts.len(), 1);
    let Message::Status(view) = &posts[0].message else { panic!("expected a status post") };
    assert_eq!(view.late_by, None);
    assert_eq!(view.next_update.unwrap().format("%H:%M").to_string(), "10:00");
    assert!(
        ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap().is_empty(),
        "the same slot is never posted twice"
    );
}

#[tokio::test]
async fn after_a_restart_a_missed_status_is_posted_once_saying_it_is_late() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.advance(minutes(23));
    assert_eq!(ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap().len(), 1); // 09:30

    // Down from 09:31 until 11:12: the 10:00, 10:30 and 11:00 slots pass unposted.
    ctx.advance(minutes(102));
    let restarted = ctx.restart().await;
    let posts = restarted.submit(Input::Timers).await.map(|o| o.posts).unwrap();
    assert_eq!(posts.len(), 1, "one post for all missed slots, not one per slot");
    let Message::Status(view) = &posts[0].message else { panic!("expected a status post") };
    assert_eq!(view.late_by, Some(minutes(12)));
    assert!(golive::render::text::status(view).contains("late by 12m"));
    assert!(restarted.submit(Input::Timers).await.map(|o| o.posts).unwrap().is_empty());
    assert_eq!(restarted.next_due().await.unwrap().unwrap().format("%H:%M").to_string(), "11:30");

    let kinds = ctx.event_kinds(1).await;
    assert_eq!(kinds.iter().filter(|k| *k == "status_posted").count(), 2);
}

#[tokio::test]
async fn ended_deployments_get_no_more_status_posts() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "abort wrong branch").await;
    assert_eq!(ctx.engine.next_due().await.unwrap(), None);
    ctx.advance(minutes(120));
    assert!(ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap().is_empty());
}

#[tokio::test]
async fn history_lists_this_channels_deployments_newest_first() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v1").await;
    ctx.ok("dana", "abort not today").await;
    ctx.ok("dana", "start v2").await;
    let reply = ctx.say("bruno", "history").await.reply.unwrap();
    let lines: Vec<&str> = reply.lines().collect();
    assert_eq!(lines[0], "Recent deployments here:");
    assert!(lines[1].starts_with("#2 v2 — active · 0% · lead dana"), "{reply}");
    assert!(lines[2].starts_with("#1 v1 — aborted · 0% · lead dana"), "{reply}");
}

#[tokio::test]
async fn progress_is_kept_in_the_listing() {
    let ctx = Ctx::new().await;
    ctx.through_pre_deployment().await;
    let rows = ctx.store.deployments(None, 10).await.unwrap();
    // Steps per phase (required items + sign-offs + done): 9, 8, 8 and 9, so 34 in all.
    assert_eq!(rows[0].progress, 9 * 100 / 34);
}

#[tokio::test]
async fn a_phase_running_past_its_plan_is_recorded_once_and_announced() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await; // planned 2h: overdue at 11:07
    ctx.ok("olga", "check db-backup").await;

    // Walk the clock like the console loop does: wake at each due time, fire what is due.
    let mut announced = Vec::new();
    while let Some(due) = ctx.engine.next_due().await.unwrap() {
        if due > harness::start_time() + chrono::Duration::hours(3) {
            break;
        }
        ctx.clock.set(due);
        for post in ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap() {
            if let Message::Event { .. } = post.message {
                announced
                    .push(ctx.texts(&golive::engine::Answer { posts: vec![post], ..Default::default() }).remove(0));
            }
        }
    }
    // What the overdue phase escalates to is tests/escalation.rs's story.
    announced.retain(|t| !t.starts_with("ESCALATION"));
    assert_eq!(
        announced,
        vec![
            "Phase pre-deployment is OVERDUE: it has run past its planned 2h. Waiting on open required items: tests, \
             security-scan, migrations-tested, secrets, rollback-plan; missing sign-offs: tech-lead, security. Owners: @bruno @sam @olga @alice. \
             Lead: dana."
        ]
    );
    let events = ctx.store.events(1).await.unwrap();
    let overdue: Vec<_> = events.iter().filter(|e| e.kind.name() == "phase_overdue").collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].at.format("%H:%M").to_string(), "11:07");
    assert_eq!(overdue[0].actor.key(), "golive:golive");

    // A restart does not raise it again.
    let restarted = ctx.restart().await;
    ctx.advance(minutes(10));
    restarted.submit(Input::Timers).await.map(|o| o.posts).unwrap();
    let overdue = ctx.store.events(1).await.unwrap().into_iter().filter(|e| e.kind.name() == "phase_overdue").count();
    assert_eq!(overdue, 1);
    let status = ctx.say("dana", "status").await;
    assert!(ctx.texts(&status)[0].contains("of 2h planned — OVERDUE"), "{:?}", ctx.texts(&status));
}

#[tokio::test]
async fn a_phase_finished_in_time_is_never_overdue_and_the_next_one_counts_from_its_own_start() {
    let ctx = Ctx::new().await;
    ctx.through_pre_deployment().await; // all at 09:07
    ctx.advance(minutes(150));
    assert!(ctx
        .engine
        .submit(Input::Timers)
        .await
        .map(|o| o.posts)
        .unwrap()
        .iter()
        .all(|p| matches!(p.message, Message::Status(_))));
    ctx.ok("dana", "phase start staging").await; // 11:37, planned 3h
    let overdue_at = ctx.store.load(1).await.unwrap().state.overdue_due().unwrap();
    assert_eq!(overdue_at.format("%H:%M").to_string(), "14:37");
    assert!(!ctx.event_kinds(1).await.contains(&"phase_overdue".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_transaction_dropped_without_commit_leaves_nothing_and_frees_the_file() {
    use golive::domain::{Event, EventKind};
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let before = ctx.store.events(1).await.unwrap();
    let loaded = ctx.store.load(1).await.unwrap();

    let mut tx = ctx.store.begin().await.unwrap();
    let note = Event {
        seq: loaded.state.seq + 1,
        at: loaded.state.updated_at,
        actor: Actor::new(Platform::Console, "dana"),
        kind: EventKind::NoteAdded { text: "never recorded".into() },
    };
    tx.append(Some(1), &[note], &loaded.state).await.unwrap();
    let mut elsewhere = loaded.state.clone();
    elsewhere.channel = "elsewhere".into();
    let opened = tx.insert_deployment(&elsewhere).await.unwrap();
    // Writes are buffered, but a read in the transaction sees every write issued before it.
    let channel = Channel { platform: Platform::Console, id: "elsewhere".into() };
    assert_eq!(tx.open_in_channel(&channel).await.unwrap(), Some(opened));
    drop(tx);

    // The file is free at once: another process's writer gets the lock (within its 10 s busy
    // timeout) although this process writes nothing more.
    let other = golive::store::Store::open(&ctx.url).await.unwrap();
    other.begin().await.expect("the dropped transaction let go of the write lock").commit().await.unwrap();
    other.close().await;

    assert_eq!(ctx.store.events(1).await.unwrap(), before, "nothing of the dropped transaction is kept");
    assert_eq!(ctx.store.deployments(None, 10).await.unwrap().len(), 1);
    ctx.ok("dana", "note after the drop").await;
    assert_eq!(ctx.store.events(1).await.unwrap().len(), before.len() + 1);
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

/// The value of a counter on the engine's /metrics page.
async fn counter(ctx: &Ctx, name: &str) -> f64 {
    let vitals = ctx.store.vitals(ctx.engine.now()).await.unwrap();
    let page = ctx.engine.metrics().render(&vitals);
    let line = page.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {page}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_abort_and_a_new_start_in_one_commit_both_take_effect() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let commits = counter(&ctx, "golive_writer_commits_total").await;

    // One task sends both before the writer runs (the test runtime has one thread), so the
    // writer decides them in one batch: the start must see the channel freed by the abort.
    let (aborted, started) =
        tokio::join!(ctx.say("dana", "abort superseded by v2.4.1"), ctx.say("dana", "start v2.4.1"));
    assert!(!aborted.refused, "{:?}", aborted.reply);
    assert!(!started.refused, "the start after an abort in the same commit was refused: {:?}", started.reply);
    assert_eq!(counter(&ctx, "golive_writer_commits_total").await, commits + 1.0, "both shared one commit");

    let rows = ctx.store.deployments(None, 10).await.unwrap();
    let listed: Vec<(String, String)> = rows.iter().map(|r| (r.release.clone(), r.status.clone())).collect();
    assert_eq!(listed, [("v2.4.1".to_string(), "active".to_string()), ("v2.4.0".to_string(), "aborted".to_string())]);
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

/// Upgrading replicas one at a time: the new version migrates the database while old ones
/// still run, and an old one restarting must not refuse a database with migrations it does
/// not know.
#[tokio::test]
async fn a_database_migrated_by_a_newer_golive_still_opens() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let newer = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (99990101000000, 'from a newer golive', true, $1, 0)";
    crate::on_pool!(ctx.store, |pool| sqlx::query(newer).bind(vec![0u8; 48]).execute(pool).await.map(drop)).unwrap();

    let older = golive::store::Store::open(&ctx.url).await.expect("an older golive opens and migrates it");
    assert!(older.is_migrated().await.unwrap());
    assert_eq!(older.deployments(None, 10).await.unwrap().len(), 1);
    older.close().await;
    ctx.ok("dana", "note still here").await;
}

/// The write-ahead log is checkpointed as commands commit, and stays small: 600 commands leave
/// it at a few megabytes at most, where without checkpoints it would hold every page they
/// wrote (18 MB). A checkpoint that cannot catch up (one run beside the writer on another
/// connection, tried and measured in BENCHMARKS.md) lets it grow.
#[tokio::test]
async fn the_write_ahead_log_is_checkpointed_and_stays_small() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    for n in 0..600 {
        ctx.ok("olga", &format!("note {n}: error rate flat, p99 under 300 ms, no new alerts")).await;
    }
    let wal = std::fs::metadata(ctx.dir.path().join("golive.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert!(wal < 8 << 20, "the write-ahead log grew to {wal} bytes");
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

/// A command the database cannot take (PostgreSQL's text holds no NUL character, SQLite's
/// does) fails alone: another command decided in the same batch is recorded all the same.
#[tokio::test]
async fn a_command_the_database_refuses_does_not_spoil_the_others_in_its_batch() {
    let ctx = Ctx::new().await;
    let dana = Actor::new(Platform::Console, "dana");
    let (a, b) = (
        Channel { platform: Platform::Console, id: "a".into() },
        Channel { platform: Platform::Console, id: "b".into() },
    );
    // Submitted together, so the writer decides them in one batch.
    let (good, odd) = tokio::join!(
        ctx.engine.submit(Input::text(&b, &dana, "start v2")),
        ctx.engine.submit(Input::text(&a, &dana, "start v1\u{0}")),
    );
    assert!(!good.expect("the innocent command is answered").refused);
    let releases: Vec<String> = ctx.store.deployments(None, 10).await.unwrap().into_iter().map(|d| d.release).collect();
    assert!(releases.contains(&"v2".to_string()), "{releases:?}");
    match odd {
        // SQLite keeps the text as it is.
        Ok(answer) => assert!(!answer.refused && releases.len() == 2, "{releases:?}"),
        // PostgreSQL refuses it: that command fails, and changes nothing.
        Err(e) => assert!(ctx.store.is_postgres() && releases == ["v2"], "{e}: {releases:?}"),
    }
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_command_the_database_refuses_does_not_spoil_the_others_in_its_batch,
    a_database_migrated_by_a_newer_golive_still_opens,
    the_database_allows_one_open_deployment_per_channel,
    a_refused_sign_off_is_recorded_with_who_and_why_and_changes_nothing,
    unknown_items_and_commands_the_state_does_not_allow_record_nothing,
    a_note_with_injection_looking_text_is_stored_verbatim,
    concurrent_commands_on_one_deployment_keep_a_gap_free_sequence_and_an_intact_chain,
    concurrent_starts_in_one_channel_open_exactly_one_deployment,
    status_posts_follow_the_half_hour_schedule,
    after_a_restart_a_missed_status_is_posted_once_saying_it_is_late,
    ended_deployments_get_no_more_status_posts,
    history_lists_this_channels_deployments_newest_first,
    progress_is_kept_in_the_listing,
    a_phase_running_past_its_plan_is_recorded_once_and_announced,
    a_phase_finished_in_time_is_never_overdue_and_the_next_one_counts_from_its_own_start,
    a_write_transaction_dropped_without_commit_leaves_nothing_and_frees_the_file,
    an_abort_and_a_new_start_in_one_commit_both_take_effect,
);
