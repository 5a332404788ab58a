//! Faults around golive: the chat API unreachable (connections refused, then back), two
//! processes writing one SQLite file at once, and a database that has become read-only. In
//! each, commands still get an answer, and nothing is lost, duplicated or half-written.

use crate::harness;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::fake_slack::FakeSlack;
use crate::harness::http::post;
use golive::config::{Config, EXAMPLE};
use golive::domain::{Actor, Channel, EventKind, Platform};
use golive::engine::Engine;
use golive::engine::Input;
use golive::store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A TCP relay in front of the fake Slack that can go away: while down its port refuses
/// connections and the connections it had are cut, as when Slack (or the network) is gone.
struct Relay {
    addr: std::net::SocketAddr,
    target: String,
    up: Arc<AtomicBool>,
    /// Accept connections but never answer, as a hung peer does.
    hang: Arc<AtomicBool>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay {
            addr: listener.local_addr().unwrap(),
            target: target.to_string(),
            up: Arc::new(AtomicBool::new(true)),
            hang: Arc::new(AtomicBool::new(false)),
            tasks: Arc::default(),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks, hang) = (self.target.clone(), self.tasks.clone(), self.hang.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let hang = hang.load(Ordering::SeqCst);
                let pipe = tokio::spawn(async move {
                    if hang {
                        let _held = inbound;
                        return std::future::pending::<()>().await;
                    }
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn up(&self) {
        // The aborted accept loop lets go of the port a moment later, and nothing says when: a
        // bounded poll of the operating system's port, not of golive.
        let mut listener = None;
        for _ in 0..100 {
            if let Ok(l) = TcpListener::bind(self.addr).await {
                listener = Some(l);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let listener = listener.expect("the relay's port is free again");
        self.up.store(true, Ordering::SeqCst);
        self.serve(listener);
    }
}

const SECRET: &str = "faults-test-secret";

async fn slash(addr: &str, now: i64, user: &str, text: &str, trigger: &str) -> harness::http::Answer {
    let (headers, body) = harness::http::slash_command(SECRET, now, "C0DEPLOY", user, text, trigger);
    post(addr, "/slack/commands", "application/x-www-form-urlencoded", &headers, body.as_bytes()).await
}

/// golive serve on 127.0.0.1 with Slack's API at `api_url`, over `store`.
async fn serve(ctx: &harness::Ctx, store: Store, api_url: &str) -> String {
    serve_with(ctx, store, api_url, "").await
}

async fn serve_with(ctx: &harness::Ctx, store: Store, api_url: &str, extra: &str) -> String {
    let text = EXAMPLE.replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1) + extra;
    let config = Arc::new(Config::parse(&text, "faults.toml").unwrap());
    let slack = (api_url, "xoxb-faults", SECRET);
    harness::slack::serve_beside(&ctx.clock, config, store, slack, std::future::pending()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_slack_unreachable_commands_still_answer_and_every_post_arrives_in_order_once_it_is_back() {
    let ctx = harness::Ctx::new().await;
    let fake = FakeSlack::start().await;
    let fake_addr = fake.url.trim_start_matches("http://").trim_end_matches("/api/").to_string();
    let relay = Relay::start(&fake_addr).await;
    let addr = serve(&ctx, ctx.store.clone(), &format!("http://{}/api/", relay.addr)).await;
    let now = || golive::clock::Clock::now(&ctx.clock).timestamp();

    relay.down();
    let lines = ["start v3.0.0", "note one", "note two", "note three", "note four"];
    for (i, line) in lines.iter().enumerate() {
        let answer = slash(&addr, now(), "U0DANA", line, &format!("t{i}")).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, ""), "{line} is answered while Slack is gone");
    }
    // The worker tries, is refused, and backs off; nothing is lost meanwhile.
    let refused = || async { ctx.store.outbox().await.unwrap().iter().any(|r| r.attempts >= 2).then_some(()) };
    harness::until(
        &ctx.clock,
        vec![fake.arrivals()],
        Duration::from_millis(500),
        "attempts refused",
        refused,
        String::new,
    )
    .await;
    assert!(fake.calls().is_empty(), "nothing got through: {:?}", fake.calls());
    let pending = ctx.store.outbox().await.unwrap().into_iter().filter(|r| r.state == "pending").count();
    assert_eq!(pending, lines.len());

    relay.up().await;
    let all = || std::future::ready((fake.peek_delivered().len() >= lines.len()).then_some(()));
    let seen = || format!("{:#?}", fake.peek_calls());
    harness::until(&ctx.clock, vec![fake.arrivals()], Duration::from_secs(5), "every post", all, seen).await;
    let delivered: Vec<String> = fake.delivered().iter().map(|c| c.text().to_string()).collect();
    assert_eq!(delivered.len(), lines.len(), "each post once: {delivered:#?}");
    assert!(delivered[0].contains("v3.0.0"), "{delivered:#?}");
    for (i, note) in ["one", "two", "three", "four"].iter().enumerate() {
        assert!(delivered[i + 1].contains(note), "in the order they happened: {delivered:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_one_file_at_once_lose_nothing() {
    let ctx = harness::Ctx::new().await;
    // A second pool on the same file, as a second golive process would have: the two meet
    // only at SQLite's lock (and its busy handler), not at the in-process queue.
    let other = Store::open(&ctx.url).await.unwrap();
    let config = Arc::new(Config::example());
    let clock: golive::clock::SharedClock = Arc::new(ctx.clock.clone());
    let engines = [ctx.engine.clone(), Engine::new(other, config, clock)];
    let channel = |i: usize| Channel { platform: Platform::Console, id: format!("c{i}") };
    for i in 0..4 {
        engines[i % 2]
            .submit(Input::text(&channel(i), &Actor::new(Platform::Console, "dana"), "start v1"))
            .await
            .unwrap();
    }
    let mut writers = Vec::new();
    for (e, engine) in engines.iter().enumerate() {
        for i in 0..4 {
            let (engine, channel) = (engine.clone(), channel(i));
            writers.push(tokio::spawn(async move {
                for n in 0..25 {
                    let who = Actor::new(Platform::Console, "olga");
                    let outcome =
                        engine.submit(Input::text(&channel, &who, &format!("note p{e} n{n}"))).await.expect("answered");
                    assert!(!outcome.refused, "{outcome:?}");
                }
            }));
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    let mut total = 0;
    for row in ctx.store.deployments(None, 10).await.unwrap() {
        let events = ctx.store.events(row.id).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "gap-free");
        total += events.iter().filter(|e| matches!(e.kind, EventKind::NoteAdded { .. })).count();
    }
    assert_eq!(total, 2 * 4 * 25, "every note from both processes is recorded");
    assert!(ctx.store.verify().await.unwrap().is_ok(), "one chain over both processes' events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_gets_a_clear_answer_and_nothing_is_half_written() {
    let ctx = harness::Ctx::new().await;
    ctx.ok("dana", "start v3.0.0").await;
    let before = ctx.store.events(1).await.unwrap().len();
    let fake = FakeSlack::start().await;
    // The file is there but can no longer be written (a read-only mount, a full disk's
    // refusal looks the same to the command).
    let read_only = Store::connect(&format!("{}?mode=ro", ctx.url)).await.unwrap();
    let addr = serve(&ctx, read_only, &fake.url).await;
    let now = golive::clock::Clock::now(&ctx.clock).timestamp();
    let answer = slash(&addr, now, "U0DANA", "start v4.0.0", "ro.1").await;
    assert_eq!(answer.status, 200, "Slack is answered, not left to time out");
    let text = answer.json()["text"].as_str().unwrap_or_default().to_string();
    assert!(text.contains("database is unavailable") && text.contains("nothing was changed"), "{text}");
    assert_eq!(ctx.store.events(1).await.unwrap().len(), before);
    assert_eq!(ctx.store.deployments(None, 10).await.unwrap().len(), 1);
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_starting_in_one_channel_at_once_open_one_deployment() {
    let ctx = harness::Ctx::new().await;
    let other = Store::open(&ctx.url).await.unwrap();
    let clock: golive::clock::SharedClock = Arc::new(ctx.clock.clone());
    let engines = [ctx.engine.clone(), Engine::new(other, Arc::new(Config::example()), clock)];
    for round in 0..5 {
        let channel = Channel { platform: Platform::Console, id: format!("race{round}") };
        let starts: Vec<_> = (0..6)
            .map(|i| {
                let (engine, channel) = (engines[i % 2].clone(), channel.clone());
                tokio::spawn(async move {
                    let who = Actor::new(Platform::Console, if i % 2 == 0 { "dana" } else { "alice" });
                    engine.submit(Input::text(&channel, &who, &format!("start v{round}.{i}"))).await.expect("answered")
                })
            })
            .collect();
        let mut accepted = 0;
        for s in starts {
            let outcome = s.await.unwrap();
            if outcome.refused {
                assert!(!outcome.reply.unwrap_or_default().is_empty(), "the loser is told why");
            } else {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 1, "round {round}: one start wins");
    }
    let rows = ctx.store.deployments(None, 100).await.unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        assert_eq!(ctx.store.events(row.id).await.unwrap().len(), 1, "each deployment has its one start event");
    }
    assert!(ctx.store.verify().await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_api_that_hangs_is_given_up_on_per_attempt_and_nothing_is_lost() {
    let ctx = harness::Ctx::new().await;
    let fake = FakeSlack::start().await;
    let fake_addr = fake.url.trim_start_matches("http://").trim_end_matches("/api/").to_string();
    let relay = Relay::start(&fake_addr).await;
    relay.hang.store(true, Ordering::SeqCst);
    let api = format!("http://{}/api/", relay.addr);
    let addr = serve_with(&ctx, ctx.store.clone(), &api, "\n[delivery]\nsend_timeout = \"300ms\"\n").await;
    let now = || golive::clock::Clock::now(&ctx.clock).timestamp();
    let started = std::time::Instant::now();
    let answer = slash(&addr, now(), "U0DANA", "start v3.1.0", "hang.1").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, ""), "answered though Slack hangs");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Each attempt is abandoned after 300 ms and retried; the post waits in the outbox.
    let retried = || async { ctx.store.outbox().await.unwrap().iter().any(|r| r.attempts >= 2).then_some(()) };
    harness::until(&ctx.clock, vec![fake.arrivals()], Duration::from_secs(2), "two attempts", retried, String::new)
        .await;
    let rows = ctx.store.outbox().await.unwrap();
    assert!(rows.iter().all(|r| r.state == "pending") && rows.iter().any(|r| r.attempts >= 2), "{rows:?}");
    assert!(fake.calls().is_empty());
    // The peer answers again: the post goes out, once.
    relay.hang.store(false, Ordering::SeqCst);
    let posted = || std::future::ready((!fake.peek_delivered().is_empty()).then_some(()));
    let seen = || format!("{:#?}", fake.peek_calls());
    harness::until(&ctx.clock, vec![fake.arrivals()], Duration::from_secs(5), "the post", posted, seen).await;
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert!(delivered[0].text().contains("v3.1.0"));
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    with_slack_unreachable_commands_still_answer_and_every_post_arrives_in_order_once_it_is_back,
    two_processes_writing_one_file_at_once_lose_nothing,
    a_read_only_database_gets_a_clear_answer_and_nothing_is_half_written,
    two_processes_starting_in_one_channel_at_once_open_one_deployment,
    a_chat_api_that_hangs_is_given_up_on_per_attempt_and_nothing_is_lost,
);
