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
//! The kill: with three replicas, a note goes to a channel, the replica whose bot token posted it
//! (the channel's claim holder) is killed with SIGKILL, another note goes to the channel through
//! a survivor, and the time from the kill to that note's post is measured. The dead replica's
//! claim lapses after its 20 s lease; the killed replica is started again before the next kill.

mod common;
#[path = "common/drive.rs"]
mod drive;
#[path = "../tests/e2e/harness/fake_slack.rs"]
mod fake_slack;
#[path = "../tests/e2e/harness/http.rs"]
mod http;
#[path = "../tests/e2e/harness/journal.rs"]
mod journal;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::load::{commit, free_port, loadavg, machine, ms, thousands, Latency};
use drive::{fixed_rate, saturate, Client, Shape, Watch, CYCLE, LEAD, OPS, SECRET};
use golive::config::EXAMPLE;
use golive::store::Store;
use sqlx::Connection;

/// One `golive serve` process, its log in a file.
struct Replica {
    addr: String,
    token: String,
    child: Child,
    log: PathBuf,
}

impl Replica {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let _ = self.child.wait();
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

/// `golive serve` in `dir` on `db`, posting to `fake` with `token`, once `/readyz` says 200.
async fn start(dir: &Path, db: &str, fake: &str, token: &str) -> Replica {
    std::fs::create_dir_all(dir).expect("a directory for the replica");
    let addr = format!("127.0.0.1:{}", free_port());
    let config = EXAMPLE
        .replacen("listen = \"127.0.0.1:3000\"", &format!("listen = \"{addr}\""), 1)
        .replacen("url = \"sqlite://golive.db\"", &format!("url = \"{db}\""), 1)
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        .replacen("api_url = \"https://slack.com/api/\"", &format!("api_url = \"{fake}\""), 1)
        // A half-hour status slot falling inside a run would add a status post per deployment.
        .replacen("cron = \"0 */30 * * * *\"", "cron = \"0 0 0 1 1 *\"", 1);
    std::fs::write(dir.join("golive.toml"), config).expect("write golive.toml");
    let log = dir.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve", "--config", "golive.toml"])
        .current_dir(dir)
        .env_remove("GOLIVE_CONFIG")
        .env_remove("RUST_LOG")
        .env("GOLIVE_SLACK_BOT_TOKEN", token)
        .env("GOLIVE_SLACK_SIGNING_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create serve.log"))
        .spawn()
        .expect("start golive serve");
    let replica = Replica { addr, token: token.to_string(), child, log };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if http::try_get(&replica.addr, "/readyz").await.is_some_and(|a| a.status == 200) {
            return replica;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "golive serve was not ready within 30 s; its log:\n{}",
        std::fs::read_to_string(&replica.log).unwrap_or_default()
    );
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
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        if store.pending_by_route().await.is_ok_and(|pending| pending.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("note: the outbox still had pending posts after 300 s");
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
    let client = Arc::new(Client::new(replicas.iter().map(|r| r.addr.clone()).collect(), SECRET, triggers));
    let channels: Arc<Vec<String>> = Arc::new((0..args.channels).map(|n| format!("C{set:02}{n:06}")).collect());
    client.open(&channels).await;
    drained(store).await;
    let watches: Vec<Watch> = replicas.iter().map(|r| Watch::start(r.pid())).collect();
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

/// Kills the replica holding a channel's posts and returns the time from the kill to the
/// channel's next post, which went in through a survivor.
async fn kill_holder(
    replicas: &mut [Replica],
    fake: &fake_slack::FakeSlack,
    channel: &str,
    round: usize,
) -> (usize, Duration) {
    let triggers = Arc::new(AtomicU64::new(200_000_000 + round as u64 * 1000));
    let note = format!("note kill {round}: before");
    let everyone = Client::new(replicas.iter().map(|r| r.addr.clone()).collect(), SECRET, triggers.clone());
    everyone.send(channel, OPS, &note).await.expect("the note before the kill");
    let posted = |text: &str| {
        fake.peek_calls()
            .into_iter()
            .rev()
            .find(|c| c.ok && c.method == "chat.postMessage" && c.channel() == channel && c.text().contains(text))
    };
    let waited = Instant::now();
    let holder = loop {
        if let Some(call) = posted(&format!("kill {round}: before")) {
            let token = call.authorization.unwrap_or_default();
            break replicas.iter().position(|r| token.ends_with(&r.token)).expect("a replica's token");
        }
        assert!(waited.elapsed() < Duration::from_secs(60), "the note before the kill was never posted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    replicas[holder].kill();
    let killed = Instant::now();
    let survivor = replicas[(holder + 1) % replicas.len()].addr.clone();
    Client::new(vec![survivor], SECRET, triggers)
        .send(channel, OPS, &format!("note kill {round}: after"))
        .await
        .expect("a survivor answers");
    loop {
        if posted(&format!("kill {round}: after")).is_some() {
            return (holder, killed.elapsed());
        }
        assert!(killed.elapsed() < Duration::from_secs(90), "the note after the kill was never posted");
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
        let mut given = std::env::args().skip(1);
        while let Some(flag) = given.next() {
            let (flag, inline) = match flag.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (flag, None),
            };
            if flag == "--bench" {
                continue;
            }
            let value = inline.or_else(|| given.next()).unwrap_or_default();
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
            let client = Client::new(vec![replicas[0].addr.clone()], SECRET, Arc::new(AtomicU64::new(100_000_000)));
            client.send("CKILL", LEAD, "start v9.0.0").await.expect("a deployment to kill under");
            for round in 0..args.kills {
                let (holder, took) = kill_holder(&mut replicas, &fake, "CKILL", round).await;
                println!(
                    "kill {round}: replica {holder} killed; the channel's next post {:.1} s later",
                    took.as_secs_f64()
                );
                kills.push(took.as_secs_f64());
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

    println!();
    println!("## Results (copy into BENCHMARKS.md)");
    println!();
    println!(
        "Machine: {}. Commit {}. Load average before the run {load_before}, after {}. {} requests per run over {} channels.",
        machine(),
        commit(),
        loadavg(),
        thousands(args.requests as f64),
        thousands(args.channels as f64)
    );
    println!();
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
        let rounded: Vec<String> = kills.iter().map(|k| format!("{k:.1} s")).collect();
        println!();
        println!("SIGKILL of the channel's holder to the channel's next post: {}", rounded.join(", "));
    }
}
