//! Slash-command load on the real `golive serve` process, side by side with the Slack app a team
//! would otherwise write (Slack Bolt for Python, `scripts/bolt_baseline/`), the raw SQLite
//! commit rate of the same disk as the floor, and golive's footprint: binary size, cold start
//! to ready, resident memory idle and under load.
//!
//!     cargo bench --bench load -- [--requests N] [--in-flight 8,32] [--rate 200] [--busy 32]
//!                                 [--channels C] [--starts 5] [--bolt pbr,async|default|none]
//!                                 [--floor-seconds 5]
//!
//! Both servers get the same validly signed slash commands over loopback, each on a new
//! connection as Slack sends them: a fixed 20-command script per channel (5 `status`, 5
//! `note`, 8 `check`/`uncheck`, 2 `signoff` by holders of the role) on deployments opened
//! first with `start` and `phase start pre-deployment`, in C channels (default N / 20, so each
//! deployment sees the script once). Every command of the script is valid in that order, so
//! a command counts as accepted only when answered 200 with an empty body (golive answers a
//! refusal with an ephemeral JSON message). Shapes, each with fresh channels:
//! - saturation: a closed loop with 8 and 32 requests in flight; one channel has at most one
//!   command in flight, so its script stays in order;
//! - a fixed rate (open loop): request i is due at start + i / rate, and its latency runs from
//!   that instant, not from when it was sent, so a stalled server cannot hide its backlog
//!   (coordinated omission). A channel's next command waits for the answer to its previous one;
//! - one busy channel: N requests in flight, all `note`s to one deployment, whose history grows
//!   by N events during the run (`--busy 0` skips it).
//!
//! The baseline is Bolt at its fastest, not its default: the threaded app with
//! `process_before_response=True` and the async app on aiohttp, both run; ratios are against
//! whichever answered more in that shape. (`default`, Bolt's `App()` on `http.server`, can be
//! added with `--bolt`, but it measures `http.server`'s one request at a time.)
//!
//! The Bolt app is installed by the bench into a venv next to the build
//! (`target/bolt-venv`); without Python or PyPI it is skipped with a note.

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
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::load::{commit, flags, free_port, loadavg, machine, memory, ms, print_results_heading, thousands, Latency};
use drive::{
    busy, fixed_rate, saturate, spawn_golive, wait_for_answer, Client, Shape, Spawned, Watch, CYCLE, SECRET,
    SLACK_DEADLINE_MS, TOKEN, VERBS,
};
use golive::store::Store;

/// What one server is: golive, or the Bolt app in one of its modes.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Golive,
    /// Bolt as `App()` has it by default: the listener on a worker thread.
    Bolt,
    /// Bolt with `process_before_response=True`: the listener in the request thread.
    BoltInline,
    /// Bolt's async app (`AsyncApp`) served by aiohttp.
    BoltAsync,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Golive => "golive",
            Kind::Bolt => "Bolt (default)",
            Kind::BoltInline => "Bolt (process_before_response)",
            Kind::BoltAsync => "Bolt (async, aiohttp)",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Kind::Golive => "golive",
            Kind::Bolt => "bolt",
            Kind::BoltInline => "bolt-pbr",
            Kind::BoltAsync => "bolt-async",
        }
    }
}

/// A server of the comparison, running in a child process.
struct Server {
    kind: Kind,
    process: Spawned,
    /// golive's database, to see when its outbox has drained.
    store: Option<Store>,
}

impl Server {
    fn pid(&self) -> u32 {
        self.process.pid()
    }

    fn stop(self) {
        self.process.stop();
    }

    /// Waits until golive has posted everything it queued, so one run does not pay for the
    /// posts of the one before.
    async fn drained(&self) {
        if let Some(store) = &self.store {
            drive::drained(store, Duration::from_secs(180)).await;
        }
    }
}

/// `golive serve` on a fresh database in `dir`, and the time from spawning it until
/// `/readyz` answered 200.
async fn start_golive(dir: &Path, fake_slack: &str) -> (Server, Duration) {
    let db = format!("sqlite://{}", dir.join("golive.db").display());
    let started = Instant::now();
    let mut server = Server { kind: Kind::Golive, process: spawn_golive(dir, &db, fake_slack, TOKEN), store: None };
    let Some(ready) = wait_for_answer(&server.process.addr, "/readyz", Some(200), Duration::from_secs(30)).await else {
        let log = std::fs::read_to_string(&server.process.log).unwrap_or_default();
        server.stop();
        panic!("golive serve was not ready within 30 s; its log:\n{log}");
    };
    let ready = ready.min(started.elapsed());
    server.store = Some(Store::open_existing(&db).await.expect("open golive's database"));
    (server, ready)
}

/// The Python of a venv with `scripts/bolt_baseline/requirements.txt` installed, next to the
/// build; created on first use. None, after saying why, when that is not possible here.
fn bolt_python() -> Option<PathBuf> {
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bolt_baseline");
    let requirements = std::fs::read_to_string(baseline.join("requirements.txt")).ok()?;
    // The golive binary is target/release/golive: the venv goes beside target/release.
    let target = Path::new(env!("CARGO_BIN_EXE_golive")).parent()?.parent()?.to_path_buf();
    let venv = target.join("bolt-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(requirements.as_str()) {
        return Some(python);
    }
    println!("installing the Bolt baseline into {} …", venv.display());
    let ran = |cmd: &mut Command| {
        cmd.stdout(Stdio::null()).status().map_err(|e| e.to_string()).and_then(|s| {
            if s.success() {
                Ok(())
            } else {
                Err(format!("exited with {s}"))
            }
        })
    };
    let installed = ran(Command::new("python3").args(["-m", "venv"]).arg(&venv)).and_then(|()| {
        ran(Command::new(&python).args(["-m", "pip", "install", "-q", "-r"]).arg(baseline.join("requirements.txt")))
    });
    match installed {
        Ok(()) => {
            let _ = std::fs::write(&stamp, requirements);
            Some(python)
        }
        Err(e) => {
            println!("note: the Bolt baseline is skipped: could not create the venv or install {} ({e}); it needs python3 with venv and access to PyPI", baseline.join("requirements.txt").display());
            None
        }
    }
}

/// The Bolt app on a fresh SQLite file in `dir`, and the time until it answered HTTP.
async fn start_bolt(python: &Path, dir: &Path, kind: Kind, fake_slack: &str) -> Option<(Server, Duration)> {
    std::fs::create_dir_all(dir).expect("create the server's directory");
    let port = free_port();
    let log = dir.join("bolt.log");
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bolt_baseline/app.py");
    let started = Instant::now();
    let child = Command::new(python)
        .arg(app)
        .current_dir(dir)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", fake_slack)
        .env("BOLT_DB", dir.join("bolt.db"))
        .env("PORT", port.to_string())
        .env("BOLT_PROCESS_BEFORE_RESPONSE", if kind == Kind::BoltInline { "1" } else { "0" })
        .env("BOLT_ASYNC", if kind == Kind::BoltAsync { "1" } else { "0" })
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create bolt.log"))
        .spawn()
        .map_err(|e| println!("note: the Bolt baseline is skipped: cannot start {}: {e}", python.display()))
        .ok()?;
    let process = Spawned { child, addr: format!("127.0.0.1:{port}"), log };
    let mut server = Server { kind, process, store: None };
    // Bolt has no readiness route; any HTTP answer (a 404 to GET /) means it is serving.
    match wait_for_answer(&server.process.addr, "/", None, Duration::from_secs(30)).await {
        Some(ready) => Some((server, ready.min(started.elapsed()))),
        None => {
            let log = std::fs::read_to_string(&server.process.log).unwrap_or_default();
            server.process.kill();
            println!("note: the Bolt baseline is skipped: it did not answer within 30 s; its log:\n{log}");
            None
        }
    }
}

/// What one shape of load measured on one server.
struct Run {
    kind: Kind,
    shape: Shape,
    latencies: Vec<f64>,
    accepted: usize,
    first_error: Option<String>,
    /// From the first send (or the first scheduled instant) to the last answer.
    elapsed: f64,
    /// The server process's CPU seconds during the run.
    cpu: f64,
    /// The server's largest VmRSS seen during the run, in KiB.
    rss_kib: u64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed
    }
}

/// Opens fresh deployments on `server`, then runs one shape of load on them.
async fn run(server: &Server, triggers: &Arc<AtomicU64>, shape: Shape, set: usize, args: &Args) -> Run {
    let client = Arc::new(Client::new(vec![server.process.addr.clone()], SECRET, triggers.clone()));
    let count = if matches!(shape, Shape::Busy(_)) { 1 } else { args.channels };
    let channels: Arc<Vec<String>> = Arc::new((0..count).map(|n| format!("C{set:02}{n:06}")).collect());
    let opening = Instant::now();
    client.open(&channels).await;
    server.drained().await;
    println!(
        "{}: opened {} deployments in {:.1}s; {} …",
        server.kind.label(),
        channels.len(),
        opening.elapsed().as_secs_f64(),
        shape.label()
    );
    let watch = Watch::start(server.pid());
    let started = Instant::now();
    let (samples, accepted, first_error) = match shape {
        Shape::InFlight(n) => saturate(&client, &channels, n, args.requests).await,
        Shape::Rate(r) => fixed_rate(&client, &channels, r, args.requests).await,
        Shape::Busy(n) => busy(&client, &channels[0], n, args.requests).await,
    };
    let mut elapsed = started.elapsed().as_secs_f64();
    if matches!(shape, Shape::Rate(_)) {
        // The schedule starts 100 ms after the tasks are spawned.
        elapsed -= 0.1;
    }
    let (cpu, rss_kib) = watch.stop().await;
    let latencies = samples.iter().map(|s| s.1).collect();
    let run = Run { kind: server.kind, shape, latencies, accepted, first_error, elapsed, cpu, rss_kib };
    let mut sorted = run.latencies.clone();
    let l = Latency::of(&mut sorted);
    println!(
        "  {} requests, {} accepted, {:.0} req/s, p50 {} p99 {} p99.9 {} max {}",
        run.latencies.len(),
        run.accepted,
        run.rate(),
        ms(l.p50),
        ms(l.p99),
        ms(l.p999),
        ms(l.max)
    );
    let by_verb: Vec<String> = VERBS
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let mut of: Vec<f64> = samples.iter().filter(|s| s.0 as usize == n).map(|s| s.1).collect();
            let l = Latency::of(&mut of);
            format!("{v} p50 {} p99 {}", ms(l.p50), ms(l.p99))
        })
        .collect();
    println!("  by command: {}", by_verb.join(", "));
    if let Some(e) = &run.first_error {
        println!("  first error: {e}");
    }
    server.drained().await;
    run
}

/// The floor: single-row INSERT + COMMIT in a loop on one connection, in WAL mode with
/// `synchronous = FULL` as golive's store opens its file, for `seconds`.
async fn sqlite_floor(dir: &Path, seconds: f64) -> (f64, Latency) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{ConnectOptions, Connection};
    let options = SqliteConnectOptions::new()
        .filename(dir.join("floor.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = options.connect().await.expect("open floor.db");
    sqlx::query("CREATE TABLE commands (id INTEGER PRIMARY KEY, user TEXT, channel TEXT, text TEXT, at TEXT)")
        .execute(&mut conn)
        .await
        .expect("create the floor's table");
    let (started, mut commits) = (Instant::now(), Vec::new());
    while started.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.expect("begin");
        sqlx::query("INSERT INTO commands (user, channel, text, at) VALUES (?, ?, ?, ?)")
            .bind("U0OPS")
            .bind("C0000001")
            .bind("note error rate flat")
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
        commits.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let rate = commits.len() as f64 / started.elapsed().as_secs_f64();
    conn.close().await.ok();
    (rate, Latency::of(&mut commits))
}

struct Args {
    requests: usize,
    in_flight: Vec<usize>,
    rate: usize,
    busy: usize,
    channels: usize,
    starts: usize,
    bolt: Vec<Kind>,
    floor_seconds: f64,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            requests: 10_000,
            in_flight: vec![8, 32],
            rate: 200,
            busy: 32,
            channels: 0,
            starts: 5,
            bolt: vec![Kind::BoltInline, Kind::BoltAsync],
            floor_seconds: 5.0,
        };
        for (flag, value) in flags() {
            let number = |v: &str| v.parse::<usize>().unwrap_or_else(|_| panic!("{flag}: `{v}` is not a number"));
            match flag.as_str() {
                "--requests" => args.requests = number(&value),
                "--in-flight" => args.in_flight = value.split(',').filter(|v| !v.is_empty()).map(number).collect(),
                "--rate" => args.rate = number(&value),
                "--busy" => args.busy = number(&value),
                "--channels" => args.channels = number(&value),
                "--starts" => args.starts = number(&value).max(1),
                "--floor-seconds" => args.floor_seconds = value.parse().unwrap_or(5.0),
                "--bolt" => {
                    args.bolt = value
                        .split(',')
                        .filter_map(|v| match v {
                            "default" => Some(Kind::Bolt),
                            "pbr" | "process_before_response" => Some(Kind::BoltInline),
                            "async" => Some(Kind::BoltAsync),
                            "none" | "" => None,
                            other => panic!("--bolt: `{other}` is not default, pbr, async or none"),
                        })
                        .collect()
                }
                other => panic!("unknown option {other}; see the top of benches/load.rs"),
            }
        }
        if args.channels == 0 {
            args.channels = args.requests.div_ceil(CYCLE).max(1);
        }
        args
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("a temp dir");
    let load_before = loadavg();
    println!("machine: {}; commit {}; load average before: {load_before}", machine(), commit());

    let (floor_rate, floor) = sqlite_floor(dir.path(), args.floor_seconds).await;
    println!(
        "raw SQLite (WAL, synchronous = FULL): {floor_rate:.0} commits/s, p50 {} p99 {}",
        ms(floor.p50),
        ms(floor.p99)
    );

    let fake = fake_slack::FakeSlack::start().await;
    let binary = std::fs::metadata(env!("CARGO_BIN_EXE_golive")).map(|m| m.len()).unwrap_or(0);
    let mut cold = Vec::new();
    for n in 0..args.starts {
        let (server, ready) = start_golive(&dir.path().join(format!("cold-{n}")), &fake.url).await;
        cold.push(ready.as_secs_f64() * 1000.0);
        server.stop();
    }
    println!(
        "golive binary {:.1} MiB; cold start to ready, {} starts: {:?} ms",
        binary as f64 / 1048576.0,
        args.starts,
        {
            let mut c = cold.clone();
            c.iter_mut().for_each(|v| *v = v.round());
            c
        }
    );

    let (golive, _) = start_golive(&dir.path().join("golive"), &fake.url).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let golive_idle = memory(golive.pid()).unwrap_or_default();
    let mut servers = vec![golive];
    let mut bolt_starts = Vec::new();
    let mut bolt_idle = None;
    if !args.bolt.is_empty() {
        if let Some(python) = bolt_python() {
            for kind in args.bolt.clone() {
                if let Some((server, ready)) = start_bolt(&python, &dir.path().join(kind.dir()), kind, &fake.url).await
                {
                    bolt_starts.push(ready.as_secs_f64() * 1000.0);
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    bolt_idle.get_or_insert(memory(server.pid()).unwrap_or_default());
                    servers.push(server);
                }
            }
        }
    }

    let mut shapes: Vec<Shape> = args.in_flight.iter().map(|&n| Shape::InFlight(n)).collect();
    if args.rate > 0 {
        shapes.push(Shape::Rate(args.rate));
    }
    if args.busy > 0 {
        shapes.push(Shape::Busy(args.busy));
    }
    let triggers = Arc::new(AtomicU64::new(0));
    let mut runs = Vec::new();
    // Each shape runs on every server before the next shape, so a change in what else the
    // machine is doing falls on both sides of a ratio alike.
    for (set, &shape) in shapes.iter().enumerate() {
        for server in &servers {
            runs.push(run(server, &triggers, shape, set, &args).await);
        }
    }
    let golive_after = memory(servers[0].pid()).unwrap_or_default();
    let bolt_after = servers.get(1).and_then(|s| memory(s.pid()));
    let delivered = fake.calls().len();
    let load_after = loadavg();
    let mut logs = Vec::new();
    for server in servers {
        logs.push((server.kind, server.process.log.clone()));
        server.stop();
    }

    print_results_heading(&load_before, &load_after, args.requests, args.channels);
    println!("| server | load | requests | accepted | over 3 s | req/s | p50 | p99 | p99.9 | max | server CPU / req |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &runs {
        let mut sorted = r.latencies.clone();
        let l = Latency::of(&mut sorted);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} ms |",
            r.kind.label(),
            r.shape.label(),
            thousands(r.latencies.len() as f64),
            thousands(r.accepted as f64),
            thousands(r.latencies.iter().filter(|&&v| v > SLACK_DEADLINE_MS).count() as f64),
            thousands(r.rate()),
            ms(l.p50),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            r.cpu * 1000.0 / r.latencies.len().max(1) as f64
        );
    }
    println!(
        "| raw SQLite INSERT + COMMIT | 1 at a time | {} | | | {} | {} | {} | {} | {} | |",
        thousands(floor_rate * args.floor_seconds),
        thousands(floor_rate),
        ms(floor.p50),
        ms(floor.p99),
        ms(floor.p999),
        ms(floor.max)
    );
    let bolts: Vec<Kind> = args.bolt.iter().copied().filter(|k| runs.iter().any(|r| r.kind == *k)).collect();
    if !bolts.is_empty() {
        println!();
        println!(
            "| load | baseline | golive req/s | baseline req/s | golive ÷ baseline | golive p99 | baseline p99 | golive p99 ÷ baseline p99 |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        for &shape in &shapes {
            let Some(g) = runs.iter().find(|r| r.kind == Kind::Golive && r.shape == shape) else { continue };
            let gp99 = Latency::of(&mut g.latencies.clone()).p99;
            let fastest = bolts
                .iter()
                .filter_map(|&k| runs.iter().find(|r| r.kind == k && r.shape == shape))
                .map(Run::rate)
                .fold(0.0, f64::max);
            for &kind in &bolts {
                let Some(b) = runs.iter().find(|r| r.kind == kind && r.shape == shape) else { continue };
                let bp99 = Latency::of(&mut b.latencies.clone()).p99;
                println!(
                    "| {} | {}{} | {} | {} | {:.2} | {} | {} | {:.2} |",
                    shape.label(),
                    kind.label(),
                    if b.rate() == fastest { " (fastest)" } else { "" },
                    thousands(g.rate()),
                    thousands(b.rate()),
                    g.rate() / b.rate(),
                    ms(gp99),
                    ms(bp99),
                    gp99 / bp99
                );
            }
        }
    }
    println!();
    let first_bolt = args.bolt.first().map_or("Bolt", |k| k.label());
    println!("| footprint | golive | {first_bolt} |");
    println!("|---|---|---|");
    let bolt_peak = runs.iter().filter(|r| r.kind != Kind::Golive).map(|r| r.rss_kib).max();
    let golive_peak = runs.iter().filter(|r| r.kind == Kind::Golive).map(|r| r.rss_kib).max().unwrap_or(0);
    println!("| binary | {:.1} MiB | Python 3 + slack_bolt venv |", binary as f64 / 1048576.0);
    println!(
        "| start to ready (median of {}) | {:.0} ms (fresh database, migrations applied; range {:.0}–{:.0}) | {} |",
        args.starts,
        median(cold.clone()),
        cold.iter().copied().fold(f64::INFINITY, f64::min),
        cold.iter().copied().fold(0.0, f64::max),
        bolt_starts.first().map_or("–".into(), |v| format!("{v:.0} ms (to answering HTTP)"))
    );
    println!(
        "| RSS idle after start | {} | {} |",
        mib(golive_idle.rss_kib),
        bolt_idle.map_or("–".into(), |m| mib(m.rss_kib))
    );
    println!("| RSS under load (largest sample) | {} | {} |", mib(golive_peak), bolt_peak.map_or("–".into(), mib));
    println!(
        "| RSS after the load / peak (VmHWM) | {} / {} | {} |",
        mib(golive_after.rss_kib),
        mib(golive_after.peak_kib),
        bolt_after.map_or("–".into(), |m| format!("{} / {}", mib(m.rss_kib), mib(m.peak_kib)))
    );
    println!();
    println!(
        "The fake Slack received {} Web API calls from golive (and Bolt's one auth.test per process).",
        thousands(delivered as f64)
    );
    for (kind, log) in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let problems = text.lines().filter(|l| l.contains("ERROR") || l.contains("Traceback")).count();
        if problems > 0 {
            println!(
                "{}: {problems} error lines in its log, e.g. {}",
                kind.label(),
                text.lines().find(|l| l.contains("ERROR") || l.contains("Traceback")).unwrap_or("")
            );
        }
    }
}
