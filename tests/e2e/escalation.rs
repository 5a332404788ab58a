//! On-call and escalation: who is on call (fixed, rotation, override), the climb of an
//! unacknowledged escalation on a manual clock over a real SQLite file, an ack stopping it,
//! a restart in the middle of a climb, and the paging webhook receiving trigger, acknowledge
//! and resolve through golive serve's outbox.

use std::sync::Arc;
use std::time::Duration;

use crate::harness::fake_slack::{Call, Reply};
use crate::harness::Ctx;
use chrono::{TimeZone, Utc};
use golive::config::{Config, EXAMPLE};
use golive::domain::{Actor, EventKind, Member, OnCallReason, Platform};
use golive::engine::Engine;
use golive::engine::Input;

const MIN: Duration = Duration::from_secs(60);

/// The example config with level 1 taking weekly turns and an override on it.
fn rostered() -> Config {
    let toml = EXAMPLE.replacen(
        "ack_timeout = \"5m\"\nmembers = [\"slack:U0TECHLEAD\", \"console:alice\", \"console:olga\"]",
        "ack_timeout = \"5m\"\n\
         rotation = { members = [\"console:alice\", \"console:olga\", \"console:bruno\"], every = \"1w\", \
         handoff = \"2026-01-05 09:00\", timezone = \"Europe/Berlin\" }\n\
         \n\
         [[escalation.overrides]]\n\
         level = 1\n\
         member = \"console:fei\"\n\
         from = \"2026-06-03 12:00\"\n\
         until = \"2026-06-04 12:00\"\n\
         timezone = \"Europe/Berlin\"",
        1,
    );
    Config::parse(&toml, "rostered.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

fn console(id: &str) -> Member {
    Member { platform: Platform::Console, id: id.into() }
}

#[test]
fn a_rotation_hands_off_at_its_local_time_and_an_override_takes_precedence() {
    let config = rostered();
    let level = &config.escalation[0];
    // 2026-06-01 is a Monday, 21 weeks after the first handoff; 09:00 in Berlin (summer time)
    // is 07:00 UTC, though the first handoff was in winter (08:00 UTC).
    let before = Utc.with_ymd_and_hms(2026, 6, 1, 6, 59, 59).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap();
    let on = level.on_call(before);
    assert_eq!((on.members, on.until, on.reason), (vec![console("bruno")], Some(at), OnCallReason::Rotation));
    let on = level.on_call(at);
    // Alice's turn would last a week, but the override starting on Wednesday cuts it short.
    let override_from = Utc.with_ymd_and_hms(2026, 6, 3, 10, 0, 0).unwrap();
    assert_eq!((on.members, on.until), (vec![console("alice")], Some(override_from)));
    let on = level.on_call(override_from);
    assert_eq!((on.members, on.reason), (vec![console("fei")], OnCallReason::Override));
    assert_eq!(on.until, Some(Utc.with_ymd_and_hms(2026, 6, 4, 10, 0, 0).unwrap()));
    assert_eq!(level.on_call(Utc.with_ymd_and_hms(2026, 6, 4, 10, 0, 0).unwrap()).members, vec![console("alice")]);
    // Everyone on the roster may acknowledge, whoever's turn it is.
    let roster: Vec<&Member> = level.roster().collect();
    assert_eq!(roster.len(), 4);
}

#[tokio::test]
async fn oncall_names_the_person_on_call_now_and_until_when() {
    let ctx = Ctx::new().await;
    let engine = Engine::new(ctx.store.clone(), Arc::new(rostered()), Arc::new(ctx.clock.clone()));
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 6, 3, 12, 30, 0).unwrap());
    let reply =
        engine.submit(Input::text(&ctx.channel, &Actor::new(Platform::Console, "dana"), "oncall")).await.unwrap().reply;
    let reply = reply.unwrap();
    assert!(reply.contains("1. Team leads — @fei (ack within 5m, override until Thu 2026-06-04 10:00 UTC)"), "{reply}");
    assert!(reply.contains("2. Technical managers — @maya (ack within 10m)"), "{reply}");
}

#[test]
fn bad_rosters_are_refused_with_the_key_that_is_wrong() {
    let both = EXAMPLE.replacen(
        "ack_timeout = \"5m\"\n",
        "ack_timeout = \"5m\"\nrotation = { members = [\"console:olga\"], every = \"1w\", handoff = \"2026-01-05 09:00\" }\n",
        1,
    );
    let e = Config::parse(&both, "x.toml").unwrap_err().to_string();
    assert!(e.contains("escalation.levels[0].rotation") && e.contains("not both"), "{e}");
    let bad_time = both
        .replacen("members = [\"slack:U0TECHLEAD\", \"console:alice\", \"console:olga\"]\n", "", 1)
        .replacen("handoff = \"2026-01-05 09:00\" }", "handoff = \"next monday\" }", 1);
    let e = Config::parse(&bad_time, "x.toml").unwrap_err().to_string();
    assert!(e.contains("escalation.levels[0].rotation.handoff") && e.contains("2026-06-01 09:00"), "{e}");
    let e = Config::parse(
        &both
            .replacen(
                "every = \"1w\", handoff = \"2026-01-05 09:00\" }",
                "every = \"30s\", handoff = \"2026-01-05 09:00\" }",
                1,
            )
            .replacen("members = [\"slack:U0TECHLEAD\", \"console:alice\", \"console:olga\"]\n", "", 1),
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("rotation.every") && e.contains("at least a minute"), "{e}");
    // Durations that would overflow the calendar are refused, not left to crash a timer.
    let forever = EXAMPLE.replacen("ack_timeout = \"5m\"", "ack_timeout = \"300000y\"", 1);
    let e = Config::parse(&forever, "x.toml").unwrap_err().to_string();
    assert!(e.contains("escalation.levels[0].ack_timeout") && e.contains("longer than ten years"), "{e}");
    let bad_hook = EXAMPLE.replacen("ack_timeout = \"5m\"\n", "ack_timeout = \"5m\"\nwebhook = \"pagerduty\"\n", 1);
    let e = Config::parse(&bad_hook, "x.toml").unwrap_err().to_string();
    assert!(e.contains("escalation.levels[0].webhook"), "{e}");
}

/// The escalation events recorded so far: (kind name, level, actor).
async fn climb(ctx: &Ctx, engine: &Engine) -> Vec<(String, u8, String)> {
    let id = ctx.store.deployments(None, 1).await.unwrap()[0].id;
    let _ = engine;
    ctx.store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| {
            let level = match e.kind {
                EventKind::EscalationOpened { level, .. }
                | EventKind::EscalationRaised { level, .. }
                | EventKind::EscalationAcknowledged { level } => level,
                _ => return None,
            };
            Some((e.kind.name().to_string(), level, e.actor.id))
        })
        .collect()
}

/// Moves the clock by `d` and fires what fell due, returning the escalation texts posted.
async fn after(ctx: &Ctx, engine: &Engine, d: Duration) -> Vec<String> {
    ctx.advance(d);
    let posts = engine.submit(Input::Timers).await.map(|o| o.posts).unwrap();
    let outcome = golive::engine::Answer { posts, ..Default::default() };
    ctx.texts(&outcome).into_iter().filter(|t| t.starts_with("ESCALATION")).collect()
}

#[tokio::test]
async fn an_unacknowledged_escalation_climbs_exactly_at_each_timeout_and_keeps_paging_the_last_level() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    let paged = ctx.ok("olga", "escalate error rate at 0.4%").await;
    assert!(paged[0].contains("@alice @olga please `/deploy ack` within 5m"), "{paged:?}");

    assert!(after(&ctx, &ctx.engine, 5 * MIN - Duration::from_secs(1)).await.is_empty(), "not before 5m");
    let level2 = after(&ctx, &ctx.engine, Duration::from_secs(1)).await;
    assert_eq!(level2.len(), 1);
    assert!(
        level2[0].starts_with(
            "ESCALATION level 2 (Technical managers) not acknowledged in time: error rate at 0.4% — @maya"
        ),
        "{level2:?}"
    );
    assert!(after(&ctx, &ctx.engine, 10 * MIN - Duration::from_secs(1)).await.is_empty());
    let level3 = after(&ctx, &ctx.engine, Duration::from_secs(1)).await;
    assert!(level3[0].contains("level 3 (Project stakeholders)") && level3[0].contains("@sol"), "{level3:?}");
    // The last level is paged again at its interval until someone answers.
    let again = after(&ctx, &ctx.engine, 15 * MIN).await;
    assert!(again[0].contains("level 3") && again[0].contains("(ping 2)"), "{again:?}");
    ctx.ok("sol", "ack").await;
    assert!(after(&ctx, &ctx.engine, 60 * MIN).await.is_empty(), "an ack stops the climb");
    let levels: Vec<u8> = climb(&ctx, &ctx.engine).await.iter().map(|(_, l, _)| *l).collect();
    assert_eq!(levels, [1, 2, 3, 3, 3]);
}

#[tokio::test]
async fn an_ack_at_level_two_stops_the_climb_and_records_who_and_how_long_it_took() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("olga", "escalate error rate at 0.4%").await;
    after(&ctx, &ctx.engine, 5 * MIN).await;
    ctx.advance(3 * MIN);
    let acked = ctx.ok("maya", "ack").await;
    assert_eq!(acked, ["maya acknowledged the level 2 escalation after 3m."]);
    assert!(after(&ctx, &ctx.engine, 2 * 60 * MIN).await.is_empty());
    assert_eq!(
        climb(&ctx, &ctx.engine).await,
        [
            ("escalation_opened".to_string(), 1, "olga".to_string()),
            ("escalation_raised".to_string(), 2, "golive".to_string()),
            ("escalation_acknowledged".to_string(), 2, "maya".to_string()),
        ]
    );
    let status = ctx.ok("dana", "status").await.join("\n");
    assert!(status.contains("acknowledged by maya after 3m"), "{status}");
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_climb_continues_it_without_pinging_a_level_twice() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("olga", "escalate error rate at 0.4%").await;
    assert_eq!(after(&ctx, &ctx.engine, 5 * MIN).await.len(), 1);
    // A second process takes over from the same file at the same moment: nothing is due.
    let restarted = ctx.restart().await;
    restarted.submit(Input::ResumeTimers).await.unwrap();
    assert!(after(&ctx, &restarted, Duration::ZERO).await.is_empty());
    assert!(after(&ctx, &restarted, 10 * MIN - Duration::from_secs(1)).await.is_empty());
    assert_eq!(after(&ctx, &restarted, Duration::from_secs(1)).await.len(), 1, "level 3, once");
    let levels: Vec<u8> = climb(&ctx, &restarted).await.iter().map(|(_, l, _)| *l).collect();
    assert_eq!(levels, [1, 2, 3]);
}

#[tokio::test]
async fn a_level_with_repeats_is_paged_again_before_the_climb_goes_on() {
    let ctx = Ctx::new().await;
    let toml = EXAMPLE.replacen("ack_timeout = \"5m\"\n", "ack_timeout = \"5m\"\nrepeat = 1\n", 1);
    let engine =
        Engine::new(ctx.store.clone(), Arc::new(Config::parse(&toml, "x.toml").unwrap()), Arc::new(ctx.clock.clone()));
    let olga = Actor::new(Platform::Console, "olga");
    engine.submit(Input::text(&ctx.channel, &Actor::new(Platform::Console, "dana"), "start v2.4.0")).await.unwrap();
    engine.submit(Input::text(&ctx.channel, &olga, "escalate error rate at 0.4%")).await.unwrap();
    assert!(after(&ctx, &engine, 5 * MIN).await[0].contains("level 1 (Team leads) not acknowledged in time (ping 2)"));
    assert!(after(&ctx, &engine, 5 * MIN).await[0].contains("level 2"));
}

/// The paging webhook's view of the events it received.
fn webhook_events(calls: &[Call]) -> Vec<(String, String)> {
    calls
        .iter()
        .filter(|c| c.method == "pagerduty" && c.ok)
        .map(|c| {
            assert_eq!(c.body["routing_key"], "R0UTINGKEY", "every event carries the routing key");
            (c.body["event_action"].as_str().unwrap().to_string(), c.body["dedup_key"].as_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_paging_webhook_gets_trigger_acknowledge_and_resolve_for_each_level_paged() {
    let w =
        Ctx::serve()
            .slack()
            .paging("R0UTINGKEY", |c, hook| {
                c.replacen("ack_timeout = \"5m\"\n", &format!("ack_timeout = \"5m\"\nwebhook = \"{hook}\"\n"), 1)
                    .replacen("ack_timeout = \"10m\"\n", &format!("ack_timeout = \"10m\"\nwebhook = \"{hook}\"\n"), 1)
            })
            .start()
            .await;
    w.slack().slash("U0DANA", "start v4.0.0").await;
    w.slack().fake.script([Reply::Status { code: 500, retry_after: None }]);
    assert_eq!(w.slack().slash("U0OPS", "escalate error rate at 0.4%").await.body, "");
    // The same cause again does not page again.
    let again = w.slack().slash("U0OPS", "escalate error rate at 0.4%").await;
    assert!(again.json()["text"].as_str().unwrap().contains("already open at level 1"), "{again:?}");
    let trigger =
        w.slack().arrives("the trigger", |c| c.method == "pagerduty" && c.body["event_action"] == "trigger").await;
    assert_eq!(trigger.body["payload"]["severity"], "critical");
    assert_eq!(trigger.body["payload"]["source"], "golive");
    assert!(trigger.body["payload"]["summary"].as_str().unwrap().contains("error rate at 0.4%"));

    // Nobody answers in 5 minutes: level 2 is paged, the webhook hears of the same incident.
    w.clock.advance(5 * MIN);
    w.slack().arrives("the climb", |c| c.text().contains("level 2 (Technical managers)")).await;
    assert_eq!(w.slack().slash("U0MANAGER", "ack").await.body, "");
    assert_eq!(w.slack().slash("U0MANAGER", "escalate resolve").await.body, "");
    w.slack()
        .arrives("level 2's resolve", |c| {
            c.method == "pagerduty"
                && c.body["event_action"] == "resolve"
                && c.body["dedup_key"].as_str().is_some_and(|k| k.ends_with("-level-2"))
        })
        .await;
    // Each level paged is its own incident: trigger, then acknowledge, then resolve.
    let events = webhook_events(&w.slack().fake.calls());
    let mut keys: Vec<&str> = events.iter().map(|(_, k)| k.as_str()).collect();
    keys.dedup();
    let mut by_key = std::collections::BTreeMap::<&str, Vec<&str>>::new();
    for (action, key) in &events {
        by_key.entry(key.as_str()).or_default().push(action.as_str());
    }
    assert_eq!(by_key.len(), 2, "{events:?}");
    assert!(by_key.keys().all(|k| k.starts_with("golive-1-escalation-")), "{events:?}");
    for actions in by_key.values() {
        assert_eq!(actions, &["trigger", "acknowledge", "resolve"], "{events:?}");
    }
    // The 500 (to the webhook or the channel, whichever went first) was retried, not lost.
    assert!(w.slack().fake.calls().iter().any(|c| c.answered == 500));
    w.finish().await;
}

/// The escalation events of the only deployment, as (kind, cause) pairs.
async fn escalations(ctx: &Ctx) -> Vec<(String, Option<String>, String)> {
    let id = ctx.store.deployments(None, 1).await.unwrap()[0].id;
    let events = ctx.store.events(id).await.unwrap();
    events
        .into_iter()
        .filter(|e| e.kind.name().starts_with("escalation_"))
        .map(|e| {
            let cause = match &e.kind {
                EventKind::EscalationOpened { cause, .. } => cause.clone(),
                _ => None,
            };
            (e.kind.name().to_string(), cause, e.actor.id)
        })
        .collect()
}

#[tokio::test]
async fn an_overdue_phase_escalates_after_its_grace_and_only_once() {
    // The example config: a phase overdue is a warning with 15 minutes' grace.
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    after(&ctx, &ctx.engine, 2 * 60 * MIN).await;
    assert!(escalations(&ctx).await.is_empty(), "overdue is announced, not yet escalated");
    assert!(after(&ctx, &ctx.engine, 15 * MIN - Duration::from_secs(1)).await.is_empty());
    let paged = after(&ctx, &ctx.engine, Duration::from_secs(1)).await;
    assert_eq!(paged.len(), 1);
    assert!(
        paged[0].starts_with("ESCALATION level 1 (Team leads) from golive: phase `pre-deployment` ran past its planned 2h — @alice @olga"),
        "{paged:?}"
    );
    // Resolved by hand while the phase is still overdue: the same cause does not page again.
    ctx.ok("alice", "ack").await;
    ctx.ok("alice", "escalate resolve").await;
    assert!(after(&ctx, &ctx.engine, 60 * MIN).await.is_empty());
    assert_eq!(
        escalations(&ctx).await,
        [
            ("escalation_opened".into(), Some("overdue:pre-deployment".into()), "golive".into()),
            ("escalation_acknowledged".into(), None, "alice".into()),
            ("escalation_resolved".into(), None, "alice".into()),
        ]
    );
}

#[tokio::test]
async fn a_missing_sign_off_escalates_and_the_sign_off_closes_it() {
    let ctx = Ctx::new().await;
    let toml = EXAMPLE.replacen(
        "signoff_missing = { after = \"4h\", severity = \"warning\", grace = \"0s\" }",
        "signoff_missing = { after = \"30m\", severity = \"critical\", level = 2 }",
        1,
    );
    let config = Arc::new(Config::parse(&toml, "x.toml").unwrap());
    let engine = Engine::new(ctx.store.clone(), config, Arc::new(ctx.clock.clone()));
    let say = |who: &'static str, text: &'static str| {
        let engine = engine.clone();
        let channel = ctx.channel.clone();
        async move { engine.submit(Input::text(&channel, &Actor::new(Platform::Console, who), text)).await.unwrap() }
    };
    say("dana", "start v2.4.0").await;
    say("dana", "phase start pre-deployment").await;
    say("sam", "signoff security").await;
    let paged = after(&ctx, &engine, 30 * MIN).await;
    assert!(
        paged[0].starts_with("ESCALATION level 2 (Technical managers) from golive: sign-offs still missing in `pre-deployment` 30m after it started: tech-lead"),
        "{paged:?}"
    );
    // The sign-off lands: golive closes the escalation itself, and nothing climbs.
    let signed = say("alice", "signoff tech-lead").await;
    let told = ctx.texts(&signed);
    assert!(told.iter().any(|t| t == "The escalation is resolved: what caused it is gone."), "{told:?}");
    assert!(after(&ctx, &engine, 60 * MIN).await.iter().all(|t| !t.contains("sign-offs still missing")));
    let kinds: Vec<String> = escalations(&ctx).await.into_iter().map(|(k, _, who)| format!("{k} by {who}")).collect();
    assert_eq!(kinds, ["escalation_opened by golive", "escalation_resolved by golive"]);
}

#[tokio::test]
async fn an_escalation_a_person_raised_is_theirs_and_does_not_close_by_itself() {
    let ctx = Ctx::new().await;
    let toml = EXAMPLE.replacen(
        "signoff_missing = { after = \"4h\", severity = \"warning\", grace = \"0s\" }",
        "signoff_missing = { after = \"30m\", severity = \"critical\" }",
        1,
    );
    let engine =
        Engine::new(ctx.store.clone(), Arc::new(Config::parse(&toml, "x.toml").unwrap()), Arc::new(ctx.clock.clone()));
    let say = |who: &'static str, text: &'static str| {
        let (engine, channel) = (engine.clone(), ctx.channel.clone());
        async move { engine.submit(Input::text(&channel, &Actor::new(Platform::Console, who), text)).await.unwrap() }
    };
    say("dana", "start v2.4.0").await;
    say("dana", "phase start pre-deployment").await;
    after(&ctx, &engine, 30 * MIN).await;
    // golive opened it for the missing sign-offs; a person takes it further for another reason.
    assert!(!say("olga", "escalate 3 the database is on fire").await.refused);
    say("sam", "signoff security").await;
    say("alice", "signoff tech-lead").await;
    let kinds: Vec<String> = escalations(&ctx).await.into_iter().map(|(k, _, who)| format!("{k} by {who}")).collect();
    assert_eq!(kinds, ["escalation_opened by golive", "escalation_raised by olga"], "still open");
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    oncall_names_the_person_on_call_now_and_until_when,
    an_unacknowledged_escalation_climbs_exactly_at_each_timeout_and_keeps_paging_the_last_level,
    an_ack_at_level_two_stops_the_climb_and_records_who_and_how_long_it_took,
    a_restart_in_the_middle_of_a_climb_continues_it_without_pinging_a_level_twice,
    a_level_with_repeats_is_paged_again_before_the_climb_goes_on,
    the_paging_webhook_gets_trigger_acknowledge_and_resolve_for_each_level_paged,
    an_overdue_phase_escalates_after_its_grace_and_only_once,
    a_missing_sign_off_escalates_and_the_sign_off_closes_it,
    an_escalation_a_person_raised_is_theirs_and_does_not_close_by_itself,
);
