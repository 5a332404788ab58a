//! golive replicas on one PostgreSQL database under the load of `benches/load.rs`, beside one
//! golive on a SQLite file in the same run, and what losing a replica costs:
//!
//!     cargo bench --bench replicas -- [--postgres URL] [--replicas 1,2,3] [--requests N]
//!                                     [--in-flight 32] [--rate 200] [--channels C] [--kills 3]
//!
//! `--postgres` defaults to `GOLIVE_TEST_POSTGRES_URL`, then postgres://postgres@127.0.0.1:5432/test;
//! each set of replicas gets a schema of its own there, dropped at the end. For each count of
//! replicas, N `golive serve` processes (each its own port and bot token) take the load's signed
//! slash commands in turn, round robin, as a load balancer would hand them out: the script and
//! shapes of `benches/load.rs` (`common/drive.rs`), fresh channels per shape. CPU per request is
//! the sum over the replicas.
//!
//! The kill: with three replicas, a burst of notes goes to a channel, the replica whose bot token
//! posted the first of them (the channel's claim holder, the rest of the burst still queued) is
//! killed with SIGKILL, and the time from the kill to the channel's next post and to the burst's
//! last is measured. The dead replica's claim lapses after its 20 s lease; the killed replica is
//! started again before the next kill.

mod common;
#[path = "common/drive.rs"]
mod drive;
#[path = "../tests/e2e/harness/fake_slack.rs"]
mod fake_slack;
#[path = "../tests/e2e/harness/http.rs"]
mod http;
#[path = "../tests/e2e/harness/journal.rs"]
mod journal;

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::load::{commit, flags, loadavg, machine, ms, print_results_heading, thousands, Latency};
use drive::{
    fixed_rate, saturate, spawn_golive, wait_for_answer, Client, Shape, Spawned, Watch, CYCLE, LEAD, OPS, SECRET,
};
use golive::store::Store;
use sqlx::Connection;

/// One `golive serve` replica and the bot token it posts with.
struct Replica {
    process: Spawned,
    token: String,
}

impl Replica {
    fn stop(mut self) {
        self.process.terminate();
    }
}

/// A bench that fails part way leaves no replica running.
impl Drop for Replica {
    fn drop(&mut self) {
        self.process.kill();
    }
}

/// `golive serve` in `dir` on `db`, posting to `fake` with `token`, once `/readyz` says 200.
async fn start(dir: &Path, db: &str, fake: &str, token: &str) -> Replica {
    let replica = Replica { process: spawn_golive(dir, db, fake, token), token: token.to_string() };
    if wait_for_answer(&replica.process.addr, "/readyz", Some(200), Duration::from_secs(30)).await.is_none() {
        let log = std::fs::read_to_string(&replica.process.log).unwrap_or_default();
        panic!("golive serve was not ready within 30 s; its log:\n{log}");
    }
    replica
}

/// A new schema on the server at `url` and the URL that puts golive in it.
async fn fresh_schema(url: &str, name: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to the PostgreSQL server");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut conn).await.unwrap();
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}options=-c%20search_path%3D{name}")
}

async fn drop_schema(url: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn).await;
    }
}

/// Waits until the outbox has nothing pending, so one shape does not pay for the posts of the last.
async fn drained(store: &Store) {
    drive::drained(store, Duration::from_secs(300)).await;
}

/// What one shape measured on one set of replicas.
struct Run {
    label: String,
    shape: Shape,
    latencies: Vec<f64>,
    accepted: usize,
    elapsed: f64,
    cpu: f64,
    first_error: Option<String>,
}

/// Opens fresh deployments through `replicas`, then runs `shape` on them.
async fn run(label: &str, replicas: &[Replica], store: &Store, shape: Shape, set: usize, args: &Args) -> Run {
    let triggers = Arc::new(AtomicU64::new(set as u64 * 1_000_000));
    let client = Arc::new(Client::new(replicas.iter().map(|r| r.process.addr.clone()).collect(), SECRET, triggers));
    let channels: Arc<Vec<String>> = Arc::new((0..args.channels).map(|n| format!("C{set:02}{n:06}")).collect());
    client.open(&channels).await;
    drained(store).await;
    let watches: Vec<Watch> = replicas.iter().map(|r| Watch::start(r.process.pid())).collect();
    let started = Instant::now();
    let (samples, accepted, first_error) = match shape {
        Shape::Rate(r) => fixed_rate(&client, &channels, r, args.requests).await,
        Shape::InFlight(n) | Shape::Busy(n) => saturate(&client, &channels, n, args.requests).await,
    };
    let mut elapsed = started.elapsed().as_secs_f64();
    if matches!(shape, Shape::Rate(_)) {
        elapsed -= 0.1; // the schedule starts 100 ms after the tasks are spawned
    }
    let mut cpu = 0.0;
    for watch in watches {
        cpu += watch.stop().await.0;
    }
    let latencies: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let run = Run { label: label.to_string(), shape, latencies, accepted, elapsed, cpu, first_error };
    let l = Latency::of(&mut run.latencies.clone());
    println!(
        "{label}, {}: {:.0} req/s, p50 {} p99 {}, {} accepted",
        shape.label(),
        run.latencies.len() as f64 / run.elapsed,
        ms(l.p50),
        ms(l.p99),
        run.accepted
    );
    if let Some(e) = &run.first_error {
        println!("  first error: {e}");
    }
    drained(store).await;
    run
}

/// Notes sent to the channel in a burst before each kill: Slack's pace of one post per second
/// per channel keeps most of them queued when the first arrives.
const BURST: usize = 10;

/// Sends a burst of notes to a channel, kills the replica that posts the first of them (the
/// channel's claim holder, with the rest still queued) and returns who it was, the time from
/// the kill to the channel's next post (by a survivor, once the claim lapses) and to the
/// burst's last post.
async fn kill_holder(
    replicas: &mut [Replica],
    fake: &fake_slack::FakeSlack,
    channel: &str,
    round: usize,
) -> (usize, Duration, Duration) {
    let triggers = Arc::new(AtomicU64::new(200_000_000 + round as u64 * 1000));
    let everyone = Client::new(replicas.iter().map(|r| r.process.addr.clone()).collect(), SECRET, triggers);
    let mark = |n: usize| format!("kill {round}, note {n:02}");
    for n in 0..BURST {
        everyone.send(channel, OPS, &format!("note {}", mark(n))).await.expect("a note of the burst");
    }
    let posts = || {
        fake.peek_calls()
            .into_iter()
            .filter(|c| c.ok && c.method == "chat.postMessage" && c.channel() == channel)
            .filter(|c| c.text().contains(&format!("kill {round}, ")))
            .collect::<Vec<_>>()
    };
    let waited = Instant::now();
    let holder = loop {
        if let Some(first) = posts().first() {
            let token = first.authorization.clone().unwrap_or_default();
            break replicas.iter().position(|r| token.ends_with(&r.token)).expect("a replica's token");
        }
        assert!(waited.elapsed() < Duration::from_secs(60), "the burst was never posted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    replicas[holder].process.kill();
    let killed = Instant::now();
    let before = posts().len();
    let mut next = None;
    loop {
        let now = posts();
        if next.is_none() && now.len() > before {
            next = Some(killed.elapsed());
        }
        if (0..BURST).all(|n| now.iter().any(|c| c.text().contains(&mark(n)))) {
            println!(
                "  kill {round}: {} posts for the {BURST} notes (a repeat is the post in flight at the kill)",
                now.len()
            );
            return (holder, next.unwrap_or_default(), killed.elapsed());
        }
        assert!(killed.elapsed() < Duration::from_secs(90), "the burst was not all posted 90 s after the kill");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Args {
    postgres: String,
    replicas: Vec<usize>,
    requests: usize,
    in_flight: usize,
    rate: usize,
    channels: usize,
    kills: usize,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            postgres: std::env::var("GOLIVE_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
            replicas: vec![1, 2, 3],
            requests: 4000,
            in_flight: 32,
            rate: 200,
            channels: 0,
            kills: 3,
        };
        for (flag, value) in flags() {
            let number = |v: &str| v.parse::<usize>().unwrap_or_else(|_| panic!("{flag}: `{v}` is not a number"));
            match flag.as_str() {
                "--postgres" => args.postgres = value,
                "--replicas" => args.replicas = value.split(',').filter(|v| !v.is_empty()).map(number).collect(),
                "--requests" => args.requests = number(&value),
                "--in-flight" => args.in_flight = number(&value),
                "--rate" => args.rate = number(&value),
                "--channels" => args.channels = number(&value),
                "--kills" => args.kills = number(&value),
                other => panic!("unknown option {other}; see the top of benches/replicas.rs"),
            }
        }
        if args.channels == 0 {
            args.channels = args.requests.div_ceil(CYCLE).max(1);
        }
        args
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("a temp dir");
    let load_before = loadavg();
    println!("machine: {}; commit {}; load average before: {load_before}", machine(), commit());
    let fake = fake_slack::FakeSlack::start().await;
    let mut shapes = vec![Shape::InFlight(args.in_flight)];
    if args.rate > 0 {
        shapes.push(Shape::Rate(args.rate));
    }
    let mut runs = Vec::new();
    let mut set = 0;

    // One golive on a SQLite file: the single process the replicas are compared with.
    let sqlite = format!("sqlite://{}", dir.path().join("golive.db").display());
    let one = start(&dir.path().join("sqlite"), &sqlite, &fake.url, "xoxb-sqlite").await;
    let store = Store::open_existing(&sqlite).await.expect("open the SQLite database");
    for &shape in &shapes {
        set += 1;
        runs.push(run("SQLite, 1 process", std::slice::from_ref(&one), &store, shape, set, &args).await);
    }
    store.close().await;
    one.stop();

    let schema = |n: usize| format!("golive_bench_{}_{n}", std::process::id());
    let mut kills = Vec::new();
    for &count in &args.replicas {
        let db = fresh_schema(&args.postgres, &schema(count)).await;
        let mut replicas = Vec::new();
        for n in 0..count {
            let dir = dir.path().join(format!("pg{count}-{n}"));
            replicas.push(start(&dir, &db, &fake.url, &format!("xoxb-r{n}")).await);
        }
        let store = Store::open_existing(&db).await.expect("open the PostgreSQL database");
        let label = format!("PostgreSQL, {count} replica{}", if count == 1 { "" } else { "s" });
        for &shape in &shapes {
            set += 1;
            runs.push(run(&label, &replicas, &store, shape, set, &args).await);
        }
        if count >= 2 && count == *args.replicas.iter().max().unwrap_or(&0) {
            let client =
                Client::new(vec![replicas[0].process.addr.clone()], SECRET, Arc::new(AtomicU64::new(100_000_000)));
            client.send("CKILL", LEAD, "start v9.0.0").await.expect("a deployment to kill under");
            for round in 0..args.kills {
                let (holder, next, all) = kill_holder(&mut replicas, &fake, "CKILL", round).await;
                println!(
                    "kill {round}: replica {holder} killed holding the channel; its next post {:.1} s later, the whole burst {:.1} s later",
                    next.as_secs_f64(),
                    all.as_secs_f64()
                );
                kills.push((next.as_secs_f64(), all.as_secs_f64()));
                let dir = dir.path().join(format!("pg{count}-{holder}-again{round}"));
                let token = replicas[holder].token.clone();
                replicas[holder] = start(&dir, &db, &fake.url, &token).await;
            }
            let verified = store.verify().await.expect("read the chain");
            println!("audit verify after the kills: {}", if verified.is_ok() { "ok" } else { "FAILED" });
        }
        store.close().await;
        for replica in replicas {
            replica.stop();
        }
        drop_schema(&args.postgres, &schema(count)).await;
    }

    print_results_heading(&load_before, &loadavg(), args.requests, args.channels);
    println!("| database | load | req/s | ÷ SQLite | p50 | p99 | CPU / req (all processes) |");
    println!("|---|---|---|---|---|---|---|");
    for r in &runs {
        let l = Latency::of(&mut r.latencies.clone());
        let rate = r.latencies.len() as f64 / r.elapsed;
        let base = runs.iter().find(|b| b.label.starts_with("SQLite") && b.shape == r.shape);
        let ratio = base.map_or(f64::NAN, |b| rate / (b.latencies.len() as f64 / b.elapsed));
        println!(
            "| {} | {} | {} | {ratio:.2} | {} | {} | {:.2} ms |",
            r.label,
            r.shape.label(),
            thousands(rate),
            ms(l.p50),
            ms(l.p99),
            r.cpu * 1000.0 / r.latencies.len().max(1) as f64
        );
    }
    if !kills.is_empty() {
        let next: Vec<String> = kills.iter().map(|k| format!("{:.1} s", k.0)).collect();
        let all: Vec<String> = kills.iter().map(|k| format!("{:.1} s", k.1)).collect();
        println!();
        println!(
            "SIGKILL of the replica holding a channel with {BURST} notes queued, to the channel's next post: {}; to the burst's last post: {}",
            next.join(", "),
            all.join(", ")
        );
    }
}
