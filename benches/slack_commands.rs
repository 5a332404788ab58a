//! Slack slash commands per second, and their latency to the HTTP response, when every command
//! is a durable SQLite write. Runs the real `golive serve` assembly (routes, scheduler,
//! delivery worker, slack-morphism client) on the wall clock against a fake Slack Web API on
//! 127.0.0.1, over a SQLite file (WAL, `synchronous = FULL`) in a temp dir.
//!
//!     cargo bench --bench slack_commands -- [REQUESTS] [CHANNELS]
//!
//! For each of 1, 8 and 32 requests in flight, CHANNELS new channels (default 50) each get a
//! deployment, opened with a signed `/deploy start` and its first phase started by the lead;
//! then REQUESTS signed commands (default 2000) alternate `/deploy check tests` and
//! `/deploy uncheck tests` from the item's owner, spread over those channels: each records an
//! event and an outbox row. `/deploy help` with 8 in flight, which writes nothing, is the
//! baseline: what HTTP and signature checking cost alone. A request is timed from just before
//! it connects until its whole response is read; like Slack, every request is a new connection.
//! CPU ms/req is the whole process's CPU time over a level (server, client and the delivery
//! worker posting to the fake Slack) per request; events/dep is each deployment's history
//! before and after the level.

mod common;
#[path = "../tests/common/fake_slack.rs"]
mod fake_slack;
#[path = "../tests/common/http.rs"]
mod http;

use common::{cpu_seconds, percentile};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use golive::clock::{SharedClock, SystemClock};
use golive::config::{Config, EXAMPLE};
use golive::delivery::ChatApi;
use golive::runtime::{self, Adapters};
use golive::slack::verify::SigningSecret;
use golive::slack::SlackApi;
use golive::store::Store;
use tokio::sync::{mpsc, Mutex};

const SECRET: &str = "bench-signing-secret";
const FORM: &str = "application/x-www-form-urlencoded";
// From config.example.toml: U0TECHLEAD holds tech-lead and becomes the lead by starting;
// `tests` is a pre-deployment item of the backend role, which U0BACKEND holds.
const LEAD: &str = "U0TECHLEAD";
const FIRST_PHASE: &str = "pre-deployment";
const ITEM: &str = "tests";
const OWNER: &str = "U0BACKEND";
const LEVELS: [usize; 3] = [1, 8, 32];

/// A channel's deployment, and whether its item is ticked now.
struct Slot {
    channel: usize,
    checked: bool,
}

struct Bench {
    addr: String,
    secret: SigningSecret,
    store: Store,
    triggers: AtomicUsize,
    // A channel is lent to one request at a time, so its checks and unchecks arrive in the
    // order that makes each of them valid, whatever the concurrency.
    free: Mutex<mpsc::UnboundedReceiver<Slot>>,
    lend: mpsc::UnboundedSender<Slot>,
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Toggle,
    Help,
}

impl Workload {
    fn label(self) -> &'static str {
        match self {
            Workload::Toggle => "check/uncheck",
            Workload::Help => "help",
        }
    }
}

struct Level {
    command: &'static str,
    concurrency: usize,
    latencies: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    elapsed: f64,
    cpu: f64,
    /// Events per deployment in the level's channels, before and after.
    history: (f64, f64),
}

impl Bench {
    fn form(&self, channel: usize, user: &str, text: &str) -> String {
        let n = self.triggers.fetch_add(1, Ordering::Relaxed);
        serde_urlencoded::to_string([
            ("token", "legacy-unused"),
            ("team_id", "T0TEAM"),
            ("channel_id", &format!("C{channel:06}")),
            ("channel_name", &format!("deploys-{channel}")),
            ("user_id", user),
            ("user_name", &user.to_lowercase()),
            ("command", "/deploy"),
            ("text", text),
            ("response_url", "https://hooks.slack.com/commands/T0TEAM/1/abc"),
            // Unique, or the server answers it as a retry of an earlier delivery.
            ("trigger_id", &format!("9000.{n}.bench")),
        ])
        .unwrap()
    }

    /// Signs and sends `body`: the answer and the seconds from connecting to the last byte.
    async fn send(&self, body: &str) -> (http::Answer, f64) {
        let ts = chrono::Utc::now().timestamp().to_string();
        let headers =
            [("X-Slack-Request-Timestamp", ts.clone()), ("X-Slack-Signature", self.secret.sign(&ts, body.as_bytes()))];
        let started = Instant::now();
        let answer = http::post(&self.addr, "/slack/commands", FORM, &headers, body.as_bytes()).await;
        (answer, started.elapsed().as_secs_f64())
    }

    /// A change that must be accepted: Slack gets 200 and an empty body, the channel the post.
    async fn accepted(&self, channel: usize, user: &str, text: &str) {
        let (answer, _) = self.send(&self.form(channel, user, text)).await;
        assert!(answer.status == 200 && answer.body.is_empty(), "`/deploy {text}` in channel {channel}: {answer:?}");
    }

    /// Opens a deployment in each of `channels` and lends them out; the channels lent before
    /// are taken back.
    async fn open(&self, channels: std::ops::Range<usize>) {
        let mut free = self.free.lock().await;
        while free.try_recv().is_ok() {}
        for channel in channels {
            self.accepted(channel, LEAD, &format!("start v1.{channel}.0")).await;
            self.accepted(channel, LEAD, &format!("phase start {FIRST_PHASE}")).await;
            self.lend.send(Slot { channel, checked: false }).unwrap();
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_as::<_, (i64,)>(sql).fetch_one(self.store.pool()).await.unwrap().0
    }

    /// Waits until the delivery worker has sent everything, so a level starts without a
    /// backlog left by the one before.
    async fn drained(&self) {
        for _ in 0..1200 {
            if self.count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("note: the outbox still had pending posts after 120 s");
    }
}

/// `requests` commands, `concurrency` at a time, on the lent channels, whose deployments
/// have `history` events each.
async fn run(bench: &Arc<Bench>, workload: Workload, concurrency: usize, requests: usize, history: f64) -> Level {
    let channels = bench.free.lock().await.len();
    let events_before = bench.count("SELECT COUNT(*) FROM events").await;
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (bench, next) = (bench.clone(), next.clone());
        workers.spawn(async move {
            let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0, None);
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let mut slot = bench.free.lock().await.recv().await.expect("the channels are lent back");
                let (user, text) = match (workload, slot.checked) {
                    (Workload::Help, _) => (LEAD, "help".to_string()),
                    (Workload::Toggle, false) => (OWNER, format!("check {ITEM}")),
                    (Workload::Toggle, true) => (OWNER, format!("uncheck {ITEM}")),
                };
                let body = bench.form(slot.channel, user, &text);
                let (answer, took) = bench.send(&body).await;
                // A change is answered with an empty 200 (the channel sees the post); any
                // ephemeral reply to it is a refusal or an "unavailable".
                let ok = answer.status == 200
                    && match workload {
                        Workload::Toggle => answer.body.is_empty(),
                        Workload::Help => answer.json()["response_type"] == "ephemeral",
                    };
                if ok && workload == Workload::Toggle {
                    slot.checked = !slot.checked;
                }
                bench.lend.send(slot).expect("the queue outlives the workers");
                latencies.push(took * 1000.0);
                if !ok {
                    errors += 1;
                    first_error.get_or_insert_with(|| format!("`{text}`: {} {}", answer.status, answer.body));
                }
            }
            (latencies, errors, first_error)
        });
    }
    let mut level = Level {
        command: workload.label(),
        concurrency,
        latencies: Vec::with_capacity(requests),
        errors: 0,
        first_error: None,
        elapsed: 0.0,
        cpu: 0.0,
        history: (0.0, 0.0),
    };
    while let Some(done) = workers.join_next().await {
        let (latencies, errors, first_error) = done.expect("a worker panicked");
        level.latencies.extend(latencies);
        level.errors += errors;
        level.first_error = level.first_error.or(first_error);
    }
    level.elapsed = started.elapsed().as_secs_f64();
    level.cpu = cpu_seconds() - cpu_before;
    level.latencies.sort_by(f64::total_cmp);
    let added = (bench.count("SELECT COUNT(*) FROM events").await - events_before) as f64 / channels as f64;
    level.history = (history, history + added);
    level
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let requests: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let channels: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);

    let fake = fake_slack::FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = EXAMPLE
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        // A half-hour status slot falling inside a run would add 50 status posts and turn later
        // ticks into status updates: move it out of reach so runs compare.
        .replace("cron = \"0 */30 * * * *\"", "cron = \"0 0 0 1 1 *\"");
    let config = Arc::new(Config::parse(&config, "bench.toml").unwrap());
    let store = Store::open(&db).await.unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let api = Arc::new(SlackApi::new(&fake.url, "xoxb-bench").unwrap());
    let adapters = Adapters {
        apis: vec![api as Arc<dyn ChatApi>],
        slack_secret: Some(SigningSecret::new(SECRET)),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(runtime::serve(config, store.clone(), clock, adapters, listener, async {
        let _ = stopped.await;
    }));

    let (lend, free) = mpsc::unbounded_channel();
    let bench = Arc::new(Bench {
        addr,
        secret: SigningSecret::new(SECRET),
        store: store.clone(),
        triggers: AtomicUsize::new(0),
        free: Mutex::new(free),
        lend,
    });
    let mut levels = Vec::new();
    for (n, concurrency) in LEVELS.into_iter().enumerate() {
        // Every command loads and folds its deployment's whole history, so each level gets
        // deployments of its own: on shared ones, later levels would pay for earlier ones.
        let (opening, events) = (Instant::now(), bench.count("SELECT COUNT(*) FROM events").await);
        bench.open(n * channels..(n + 1) * channels).await;
        println!("opened {channels} deployments over Slack in {:.1}s", opening.elapsed().as_secs_f64());
        let history = (bench.count("SELECT COUNT(*) FROM events").await - events) as f64 / channels as f64;
        bench.drained().await;
        if n == 0 {
            levels.push(run(&bench, Workload::Help, 8, requests, history).await);
        }
        levels.push(run(&bench, Workload::Toggle, concurrency, requests, history).await);
    }

    println!();
    println!(
        "{:<14} {:>9} {:>8} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>11} {:>10}",
        "command",
        "in flight",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "CPU ms/req",
        "events/dep"
    );
    for l in &levels {
        let n = l.latencies.len();
        println!(
            "{:<14} {:>9} {:>8} {:>6} {:>7.0} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>11.2} {:>10}",
            l.command,
            l.concurrency,
            n,
            l.errors,
            n as f64 / l.elapsed,
            percentile(&l.latencies, 0.5),
            percentile(&l.latencies, 0.9),
            percentile(&l.latencies, 0.99),
            l.latencies.last().copied().unwrap_or(f64::NAN),
            l.cpu * 1000.0 / n as f64,
            match l.command {
                "help" => "-".to_string(),
                _ => format!("{:.0}→{:.0}", l.history.0, l.history.1),
            }
        );
    }
    for l in &levels {
        if let Some(e) = &l.first_error {
            println!("first error, {} at {} in flight: {e}", l.command, l.concurrency);
        }
    }
    println!(
        "outbox at the end: {} pending, {} sent; the fake Slack accepted {} calls",
        bench.count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").await,
        bench.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").await,
        fake.delivered().len()
    );
    let _ = stop.send(());
    served.await.unwrap().unwrap();
}
