//! Two golive processes on one SQLite file keep the one-process promise for posts (CONTRACT.md,
//! "Several replicas"): every post reaches the channel once and in order, whichever process
//! took the command; when the process delivering a channel stops, the other takes the channel
//! over once its claim lapses, repeating at most the post that was in flight. Each "process"
//! is its own `Store` (its own connections) on the same file, as a second `golive serve` has.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use golive::chat::slack::SlackApi;
use golive::clock::Clock;
use golive::config::{Config, EXAMPLE};
use golive::delivery::{Delivery, SendError, Sent, Transport};
use golive::domain::{Actor, Channel, Platform};
use golive::engine::{Engine, Input};
use golive::store::{Claim, Delivered, Destination, Lease, OutboxItem, Route, Store};

use crate::harness::fake_slack::{Call, FakeSlack};
use crate::harness::http::{post, slash_command};
use crate::harness::{self, slack::SECRET, Ctx, STEP};

fn slack_config() -> Arc<Config> {
    let text = EXAMPLE.replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1);
    Arc::new(Config::parse(&text, "two_processes.toml").unwrap())
}

fn deploys() -> Channel {
    Channel { platform: Platform::Slack, id: "C0DEPLOY".into() }
}

/// A second `golive serve` on the file at `ctx.url`, posting to `fake` with its own bot token
/// (so the fake can tell the two apart). Stops when the returned sender is dropped.
async fn second_server(ctx: &Ctx, fake: &FakeSlack) -> (String, tokio::sync::oneshot::Sender<()>) {
    let store = Store::open(&ctx.url).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let slack = (fake.url.as_str(), "xoxb-second", SECRET);
    let addr = harness::slack::serve_beside(&ctx.clock, slack_config(), store, slack, async {
        let _ = stopped.await;
    })
    .await;
    (addr, stop)
}

/// The note marker (`m07`) a post carries, if it is one of the story's notes.
fn marker(text: &str) -> Option<String> {
    let at = text.find("mark-")?;
    Some(text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
}

/// The channel's posts (not edits) in the order the fake took them.
fn posts(calls: &[Call]) -> Vec<&Call> {
    calls.iter().filter(|c| c.ok && c.method == "chat.postMessage" && c.channel() == "C0DEPLOY").collect()
}

/// The texts of the outbox's Slack posts to #deploys, in outbox order (the order decided).
pub(crate) async fn decided(store: &Store) -> Vec<String> {
    store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.platform == "slack" && r.channel == "C0DEPLOY" && r.action == "post")
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.payload).unwrap()["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_file_deliver_every_post_once_and_in_channel_order() {
    let ctx = Ctx::on_slack().await;
    let fake = ctx.slack().fake.clone();
    let (second, _stop) = second_server(&ctx, &fake).await;
    let started = ctx.slack().slash("U0DANA", "start v3.0.0").await;
    assert_eq!(started.status, 200);
    // Notes typed at both servers at once, 20 each: every one is answered by its server.
    let first = ctx.addr.clone();
    let mut typists = Vec::new();
    for (s, addr) in [first, second].into_iter().enumerate() {
        let clock = ctx.clock.clone();
        typists.push(tokio::spawn(async move {
            for n in 0..20 {
                let text = format!("note mark-s{s}n{n:02}");
                let (headers, body) = slash_command(
                    SECRET,
                    clock.now().timestamp(),
                    "C0DEPLOY",
                    "U0DANA",
                    &text,
                    &format!("2000.{s}.{n}"),
                );
                let answer =
                    post(&addr, "/slack/commands", "application/x-www-form-urlencoded", &headers, body.as_bytes())
                        .await;
                assert_eq!(answer.status, 200, "{}", answer.body);
            }
        }));
    }
    for typist in typists {
        typist.await.unwrap();
    }
    let expected = decided(&ctx.store).await;
    assert_eq!(expected.iter().filter_map(|t| marker(t)).count(), 40, "every note was recorded once");
    ctx.until(
        "all 40 notes on Slack",
        || (posts(&fake.peek_calls()).iter().filter(|c| marker(c.text()).is_some()).count() >= 40).then_some(()),
        || format!("{} posts", posts(&fake.peek_calls()).len()),
    )
    .await;
    // Both processes have nothing left to send: nothing arrives later, as a second copy would.
    ctx.settle().await;
    let calls = fake.calls();
    let got: Vec<String> = posts(&calls).iter().map(|c| c.text().to_string()).collect();
    assert_eq!(got, expected, "every post once, in the order decided");
    let senders: std::collections::BTreeSet<_> = posts(&calls).iter().map(|c| c.authorization.clone()).collect();
    eprintln!("posts sent by {} process(es): {senders:?}", senders.len());
    // Each claim is released once its holder's queue is empty.
    let released = || {
        let store = ctx.store.clone();
        async move { store.claims().await.unwrap().iter().all(|c| c.2.is_empty()).then_some(()) }
    };
    ctx.until_async("every claim released", released, String::new).await;
    ctx.finish().await;
}

/// Sends through Slack until its `stall_at`th post, which it sends and then never returns
/// from: the process stopped (killed, frozen) between Slack taking the post and recording it.
struct StallsAfterSending {
    api: Arc<SlackApi>,
    sent: std::sync::atomic::AtomicUsize,
    stall_at: usize,
}

#[async_trait]
impl Transport for StallsAfterSending {
    fn route(&self) -> Route {
        self.api.route()
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let sent = self.api.send(item).await?;
        if self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == self.stall_at {
            std::future::pending::<()>().await;
        }
        Ok(sent)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_whose_holder_stops_is_taken_over_after_its_lease_with_at_most_one_repeat() {
    let ctx = Ctx::new().await;
    let fake = FakeSlack::start().await;
    let clock: golive::clock::SharedClock = Arc::new(ctx.clock.clone());
    let other = Store::open(&ctx.url).await.unwrap();
    let engines = [
        Engine::new(ctx.store.clone(), slack_config(), clock.clone()),
        Engine::new(other, slack_config(), clock.clone()),
    ];
    let dana = Actor::new(Platform::Slack, "U0DANA");
    let say = |e: usize, text: String| {
        let engine = engines[e].clone();
        let dana = dana.clone();
        async move {
            let answer = engine.submit(Input::text(&deploys(), &dana, &text)).await.unwrap();
            assert!(!answer.refused, "{text}: {answer:?}");
        }
    };
    say(0, "start v3.0.0".into()).await;
    for n in 0..8 {
        say(n % 2, format!("note mark-n{n:02}")).await;
    }
    let expected = decided(&ctx.store).await;

    // Process A delivers: it claims #deploys and stops for good just after Slack took its
    // third post, before recording it.
    let stalls =
        StallsAfterSending { api: Arc::new(SlackApi::new(&fake.url, "xoxb-a").unwrap()), sent: 0.into(), stall_at: 3 };
    let a = Delivery::new(engines[0].outbox(), clock.clone(), vec![Arc::new(stalls) as Arc<dyn Transport>]);
    let (stop_a, stopped_a) = tokio::sync::watch::channel(false);
    let process_a = tokio::spawn(async move { a.run(stopped_a).await });
    let delivered = || posts(&fake.peek_calls()).len();
    harness::until(
        &ctx.clock,
        vec![fake.arrivals()],
        STEP,
        "A's third post",
        || async { (delivered() == 3).then_some(()) },
        || format!("{} posts", delivered()),
    )
    .await;
    process_a.abort();
    assert!(process_a.await.unwrap_err().is_cancelled(), "A is gone");
    drop(stop_a);
    let killed = ctx.clock.now();
    let claims = ctx.store.claims().await.unwrap();
    assert_eq!(claims.len(), 1, "{claims:?}");
    let (holder_a, fence_a, expires) = (claims[0].2.clone(), claims[0].3, claims[0].4.clone());
    assert!(!holder_a.is_empty() && fence_a == 1, "A holds #deploys: {claims:?}");
    let expires: DateTime<Utc> = expires.parse().unwrap();
    assert!(expires - killed <= chrono::Duration::seconds(20), "a lease is at most 20 s: {claims:?}");

    // Process B starts delivering: while A's claim stands, it sends nothing to #deploys.
    let b = Delivery::new(
        engines[1].outbox(),
        clock.clone(),
        vec![Arc::new(SlackApi::new(&fake.url, "xoxb-b").unwrap()) as Arc<dyn Transport>],
    );
    let (stop_b, stopped_b) = tokio::sync::watch::channel(false);
    let process_b = tokio::spawn(async move { b.run(stopped_b).await });
    while ctx.clock.now() + chrono::Duration::from_std(STEP).unwrap() < expires {
        ctx.clock.advance(STEP);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(delivered(), 3, "nothing is sent while another process holds the channel");

    // Once A's claim lapses, B takes the channel over and sends everything A had not recorded.
    harness::until(
        &ctx.clock,
        vec![fake.arrivals()],
        STEP,
        "B's first post",
        || async { (delivered() > 3).then_some(()) },
        || format!("{} posts", delivered()),
    )
    .await;
    let taken_over = ctx.clock.now() - killed;
    assert!(taken_over <= chrono::Duration::seconds(30), "taken over {taken_over} after the kill");
    let all_sent = || {
        let store = ctx.store.clone();
        async move {
            let pending =
                store.outbox().await.unwrap().iter().filter(|r| r.platform == "slack" && r.state == "pending").count();
            (pending == 0).then_some(())
        }
    };
    harness::until(&ctx.clock, vec![fake.arrivals()], STEP, "every post sent", all_sent, || {
        format!("{} posts", delivered())
    })
    .await;
    let calls = fake.calls();
    let got: Vec<String> = posts(&calls).iter().map(|c| c.text().to_string()).collect();
    let mut once = got.clone();
    once.dedup();
    assert_eq!(once, expected, "every post, in order, repeats only back to back");
    assert!(got.len() <= expected.len() + 1, "at most one repeat: {got:#?}");
    assert_eq!(got[2], got[3], "the repeat is A's unrecorded third post, sent again by B");
    // B lets the channel go once its queue there is empty, just after its last mark.
    let released = || {
        let store = ctx.store.clone();
        async move { store.claims().await.unwrap().into_iter().find(|c| c.2.is_empty()) }
    };
    let claim = harness::until(&ctx.clock, vec![], STEP, "B's release", released, String::new).await;
    assert_eq!(claim.3, 2, "B took the channel under a new fence: {claim:?}");
    let _ = stop_b.send(true);
    process_b.await.unwrap();
    ctx.finish().await;
}

#[tokio::test]
async fn a_post_marked_under_a_lost_claim_is_not_recorded_as_sent() {
    let ctx = Ctx::new().await;
    let engine = Engine::new(ctx.store.clone(), slack_config(), Arc::new(ctx.clock.clone()));
    let answer = engine.submit(Input::text(&deploys(), &Actor::new(Platform::Slack, "U0DANA"), "start v3.0.0")).await;
    assert!(!answer.unwrap().refused);
    let row = ctx.store.outbox().await.unwrap().into_iter().find(|r| r.platform == "slack").unwrap();
    let to: Destination = deploys().into();
    let want = |held| vec![Claim { destination: to.clone(), held }];
    let lease = |from: DateTime<Utc>| (from, from + chrono::Duration::seconds(20));
    let claim = |holder: &'static str, held: Option<i64>| {
        let (now, until) = lease(ctx.clock.now());
        let store = ctx.store.clone();
        let want = want(held);
        async move { store.claim(holder, &want, now, until).await.unwrap() }
    };
    let fence = |claimed: Vec<(Destination, i64)>| claimed.first().map(|(_, f)| *f);

    assert_eq!(fence(claim("A", None).await), Some(1), "a free destination is taken, fence 1");
    assert_eq!(fence(claim("B", None).await), None, "held and not expired: B is refused");
    ctx.advance(Duration::from_secs(10));
    assert_eq!(fence(claim("A", Some(1)).await), Some(1), "A renews, keeping its fence");
    ctx.advance(Duration::from_secs(21));
    assert_eq!(fence(claim("B", None).await), Some(2), "expired: B takes it over, a new fence");
    assert_eq!(fence(claim("A", Some(1)).await), None, "A, back from a stall, cannot renew");

    let mark = |holder: &str, fence: i64| Input::Delivered {
        messages: vec![Delivered {
            id: row.id,
            remote_id: Some("1.1".into()),
            reposted: false,
            lease: Lease { holder: holder.into(), fence },
        }],
    };
    engine.submit(mark("A", 1)).await.unwrap();
    let state = |ctx: &Ctx| {
        let store = ctx.store.clone();
        async move { store.outbox().await.unwrap().into_iter().find(|r| r.id == row.id).unwrap().state }
    };
    assert_eq!(state(&ctx).await, "pending", "A's mark under its lost fence does not count");
    engine.submit(mark("B", 2)).await.unwrap();
    assert_eq!(state(&ctx).await, "sent", "the holder's mark does");

    ctx.store.release("B", &[(to.clone(), 2)], ctx.clock.now()).await.unwrap();
    assert_eq!(fence(claim("A", None).await), Some(3), "released: taken at once, under a new fence");
    ctx.finish().await;
}

#[tokio::test]
async fn a_retry_or_give_up_recorded_under_a_lost_claim_does_not_count() {
    let ctx = Ctx::new().await;
    let engine = Engine::new(ctx.store.clone(), slack_config(), Arc::new(ctx.clock.clone()));
    let dana = Actor::new(Platform::Slack, "U0DANA");
    for text in ["start v3.0.0", "note mark-n00"] {
        assert!(!engine.submit(Input::text(&deploys(), &dana, text)).await.unwrap().refused);
    }
    let slack_rows = || {
        let store = ctx.store.clone();
        async move { store.outbox().await.unwrap().into_iter().filter(|r| r.platform == "slack").collect::<Vec<_>>() }
    };
    let ids: Vec<i64> = slack_rows().await.iter().map(|r| r.id).collect();
    assert!(ids.len() >= 2, "the start and the note are queued for #deploys");
    let item = ctx.store.pending_items(&ids[..1]).await.unwrap().remove(0);
    let to: Destination = deploys().into();
    let claim = |holder: &'static str| {
        let (now, store, to) = (ctx.clock.now(), ctx.store.clone(), to.clone());
        async move {
            let want = [Claim { destination: to, held: None }];
            store.claim(holder, &want, now, now + chrono::Duration::seconds(20)).await.unwrap()
        }
    };
    let lease = |holder: &str, fence: i64| Lease { holder: holder.into(), fence };
    assert_eq!(claim("A").await.first().map(|c| c.1), Some(1));
    ctx.advance(Duration::from_secs(21));
    assert_eq!(claim("B").await.first().map(|c| c.1), Some(2), "A stalled past its lease; B took over");
    let before = slack_rows().await;

    // A, back from its stall, records what became of its attempt: none of it counts.
    let later = ctx.clock.now() + chrono::Duration::minutes(5);
    assert!(!ctx.store.mark_retry(item.id, &lease("A", 1), later, "timed out").await.unwrap());
    assert_eq!(ctx.store.mark_failed(&item, &lease("A", 1), "channel_not_found", false).await.unwrap(), 0);
    assert_eq!(ctx.store.mark_failed(&item, &lease("A", 1), "channel_not_found", true).await.unwrap(), 0);
    let after = slack_rows().await;
    let seen = |rows: &[golive::store::OutboxRow]| {
        rows.iter().map(|r| (r.id, r.state.clone(), r.attempts, r.next_attempt_at.clone())).collect::<Vec<_>>()
    };
    assert_eq!(seen(&after), seen(&before), "A's retry time and give-ups under fence 1 changed nothing");
    assert!(after.iter().all(|r| r.state == "pending" && r.last_error.is_none()));

    // The holder's records do count.
    assert!(ctx.store.mark_retry(item.id, &lease("B", 2), later, "timed out").await.unwrap());
    let row = slack_rows().await.into_iter().find(|r| r.id == item.id).unwrap();
    assert_eq!((row.attempts, row.last_error.as_deref()), (1, Some("timed out")), "{row:?}");
    let given_up = ctx.store.mark_failed(&item, &lease("B", 2), "channel_not_found", true).await.unwrap();
    assert_eq!(given_up, ids.len() as u64, "B gives up the channel's pending posts");
    assert!(slack_rows().await.iter().all(|r| r.state == "failed"));
    ctx.finish().await;
}

/// The example config with Slack on and a status slot every 2 s.
fn every_two_seconds() -> Arc<Config> {
    let text = EXAMPLE
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        .replace("cron = \"0 */30 * * * *\"", "cron = \"*/2 * * * * *\"");
    Arc::new(Config::parse(&text, "two_processes.toml").unwrap())
}

/// A deployment with status slots every 2 s and an unacknowledged escalation, its timers fired
/// by every engine in `engines` at once at each step of the clock (one second for two minutes,
/// then a minute at a time for forty: the climb through every level and its repeats). Returns
/// the history as recorded: each event's time and kind.
async fn timers_fired_by(ctx: &Ctx, engines: &[Engine]) -> Vec<String> {
    let dana = Actor::new(Platform::Slack, "U0DANA");
    let say = |e: usize, text: &'static str| {
        let (engine, dana) = (engines[e % engines.len()].clone(), dana.clone());
        async move { assert!(!engine.submit(Input::text(&deploys(), &dana, text)).await.unwrap().refused, "{text}") }
    };
    // Each engine decides something first, so each has the deployment folded in its cache.
    say(0, "start v3.0.0").await;
    say(1, "note mark-n01").await;
    say(2, "note mark-n02").await;
    let fire_all = || async {
        let fired = futures_util::future::join_all(engines.iter().map(|e| e.submit(Input::Timers))).await;
        for answer in fired {
            answer.unwrap();
        }
    };
    for _ in 0..120 {
        ctx.clock.advance(Duration::from_secs(1));
        fire_all().await;
    }
    say(1, "escalate error rate at 0.4%").await;
    for _ in 0..40 {
        ctx.clock.advance(Duration::from_secs(60));
        fire_all().await;
    }
    let id = ctx.store.deployments(None, 1).await.unwrap()[0].id;
    ctx.store.events(id).await.unwrap().into_iter().map(|e| format!("{} {:?}", e.at, e.kind)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_file_fire_each_status_slot_and_escalation_step_once() {
    engines_fire_each_status_slot_and_escalation_step_once(2).await;
}

/// Three replicas (each its own store and connections) on one database: on PostgreSQL, what
/// CONTRACT.md's "Several replicas" promises for timers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_engines_on_one_database_fire_each_status_slot_and_escalation_step_once() {
    engines_fire_each_status_slot_and_escalation_step_once(3).await;
}

/// `count` engines on one database, each with its own store, firing every due timer at once,
/// record what one engine alone records.
async fn engines_fire_each_status_slot_and_escalation_step_once(count: usize) {
    let clock = |ctx: &Ctx| -> golive::clock::SharedClock { Arc::new(ctx.clock.clone()) };
    let alone = Ctx::new().await;
    let one = Engine::new(alone.store.clone(), every_two_seconds(), clock(&alone));
    let history = timers_fired_by(&alone, &[one]).await;

    let ctx = Ctx::new().await;
    let mut engines = vec![Engine::new(ctx.store.clone(), every_two_seconds(), clock(&ctx))];
    for _ in 1..count {
        let other = Store::open(&ctx.url).await.unwrap();
        engines.push(Engine::new(other, every_two_seconds(), clock(&ctx)));
    }
    let shared = timers_fired_by(&ctx, &engines).await;

    let slots: Vec<&String> = shared.iter().filter(|e| e.contains("StatusPosted")).collect();
    let unique: std::collections::BTreeSet<&String> = slots.iter().copied().collect();
    assert_eq!(unique.len(), slots.len(), "no status slot posted twice: {slots:#?}");
    assert!(slots.len() >= 60, "a slot every 2 s for two minutes: {}", slots.len());
    let raised = shared.iter().filter(|e| e.contains("EscalationRaised")).count();
    assert!(raised >= 3, "the escalation climbed to level 3 and paged it again: {shared:#?}");
    assert_eq!(shared, history, "{count} engines firing every timer at once record what one engine alone does");
    // The outbox holds the posts once as well: the same rows one engine alone queues.
    let queued = |ctx: &Ctx| {
        let store = ctx.store.clone();
        async move { store.outbox().await.unwrap().into_iter().map(|r| (r.action, r.kind, r.payload)).collect::<Vec<_>>() }
    };
    assert_eq!(queued(&ctx).await, queued(&alone).await);
    ctx.finish().await;
    alone.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    two_servers_on_one_file_deliver_every_post_once_and_in_channel_order,
    a_channel_whose_holder_stops_is_taken_over_after_its_lease_with_at_most_one_repeat,
    a_post_marked_under_a_lost_claim_is_not_recorded_as_sent,
    a_retry_or_give_up_recorded_under_a_lost_claim_does_not_count,
    two_engines_on_one_file_fire_each_status_slot_and_escalation_step_once,
    three_engines_on_one_database_fire_each_status_slot_and_escalation_step_once,
);
