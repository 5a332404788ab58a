//! How long `golive history`, `golive show` and `golive audit verify` take on a large history:
//! by default 1,000 deployments and 1,000,000 chained events, timed as a user runs them (the
//! release binary, a new process each time).
//!
//!     cargo bench --bench history -- [--db PATH] [--rebuild] [--runs N] [--golive PATH]
//!                                    [--deployments N] [--events N] [--channels N] [--seed N]
//!
//! The database is built once (see `common/history.rs`: realistic deployments simulated with
//! golive's domain and appended through its store) and kept at PATH (default: the target
//! directory's bench scratch space), so later runs reuse it when its counts match; `--rebuild`
//! builds it again. Each command runs once right after its database file is dropped from the
//! page cache (`dd iflag=nocache`), then N times warm (default 5): the report gives the cold
//! run, the warm median and maximum, and the child's CPU time. Before the timings it prints
//! the query plans of the statements behind the commands, and a breakdown of `show` on the
//! largest deployment and of `audit verify` measured in-process. `--golive PATH` times another
//! build of golive (an older one, to compare) instead of this one.

mod common;
#[path = "common/history.rs"]
mod history_db;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::percentile;
use golive::config::{Config, EXAMPLE};
use golive::domain::Deployment;
use golive::render::report;
use golive::store::Store;

const GOLIVE: &str = env!("CARGO_BIN_EXE_golive");

struct Options {
    db: PathBuf,
    golive: PathBuf,
    rebuild: bool,
    runs: usize,
    spec: history_db::Spec,
}

fn options() -> Options {
    let mut spec = history_db::Spec { deployments: 1000, events: 1_000_000, channels: 40, seed: 8 };
    let (mut db, mut rebuild, mut runs, mut golive) = (None, false, 5, PathBuf::from(GOLIVE));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| panic!("{name} needs a value"));
        let mut number = |name: &str| value(name).replace('_', "").parse::<usize>().expect("a whole number");
        match arg.as_str() {
            "--db" => db = Some(PathBuf::from(value("--db"))),
            "--rebuild" => rebuild = true,
            "--golive" => golive = PathBuf::from(value("--golive")),
            "--runs" => runs = number("--runs").max(1),
            "--deployments" => spec.deployments = number("--deployments"),
            "--events" => spec.events = number("--events"),
            "--channels" => spec.channels = number("--channels").max(1),
            "--seed" => spec.seed = number("--seed") as u64,
            // `cargo bench` adds `--bench`.
            _ => {}
        }
    }
    let db = db.unwrap_or_else(|| {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("history-{}x{}.db", spec.deployments, spec.events))
    });
    Options { db, golive, rebuild, runs, spec }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim()))
        .unwrap_or("?")
        .to_string();
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!("{model}, {cores} cores, Linux {}; load average {}", kernel.trim(), load.trim())
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn sidecars(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", db.display()));
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Deployments and events in the database at `url`, if it is one.
async fn counts(url: &str) -> Option<(usize, usize)> {
    let store = Store::open_existing(url).await.ok()?;
    let deployments: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deployments")
        .fetch_one(store.sqlite_pool().expect("a SQLite store"))
        .await
        .ok()?;
    let events: (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM events")
        .fetch_one(store.sqlite_pool().expect("a SQLite store"))
        .await
        .ok()?;
    store.close().await;
    Some((deployments.0 as usize, events.0 as usize))
}

/// Drops the database's pages from the page cache, so the next run reads the disk.
fn evict(db: &Path) {
    for file in sidecars(db).iter().filter(|f| f.exists()) {
        let _ = Command::new("dd")
            .arg(format!("if={}", file.display()))
            .args(["iflag=nocache", "count=0", "status=none"])
            .status();
    }
}

/// Waited-for children's user plus system CPU seconds so far.
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    // cutime and cstime, in clock ticks (100 per second on Linux).
    let ticks: f64 = fields.get(13).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(14).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// One run of the binary: wall milliseconds, CPU milliseconds, bytes written to stdout.
fn run_once(golive: &Path, args: &[String]) -> (f64, f64, usize) {
    let cpu = children_cpu_seconds();
    let started = Instant::now();
    let out = Command::new(golive).args(args).stdin(Stdio::null()).output().expect("golive runs");
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    assert!(out.status.success(), "golive {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    (wall, (children_cpu_seconds() - cpu) * 1000.0, out.stdout.len())
}

struct Timing {
    label: String,
    cold: f64,
    median: f64,
    max: f64,
    cpu: f64,
    bytes: usize,
}

fn time(golive: &Path, label: &str, args: &[&str], db: &Path, runs: usize) -> Timing {
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.extend(["--db".to_string(), db.display().to_string()]);
    evict(db);
    let (cold, _, bytes) = run_once(golive, &args);
    let mut walls = Vec::with_capacity(runs);
    let mut cpus = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (wall, cpu, _) = run_once(golive, &args);
        walls.push(wall);
        cpus.push(cpu);
    }
    walls.sort_by(f64::total_cmp);
    cpus.sort_by(f64::total_cmp);
    let t = Timing {
        label: label.to_string(),
        cold,
        median: percentile(&walls, 0.5),
        max: *walls.last().expect("at least one run"),
        cpu: percentile(&cpus, 0.5),
        bytes,
    };
    println!(
        "  {:<44} cold {:>8.1} ms   warm median {:>8.1} ms  max {:>8.1} ms   CPU {:>7.0} ms   output {:>9} bytes",
        t.label, t.cold, t.median, t.max, t.cpu, t.bytes
    );
    t
}

async fn explain(store: &Store, label: &str, sql: &str, binds: &[&str]) {
    let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sql);
    for b in binds {
        query = query.bind(*b);
    }
    let plan = query.fetch_all(store.sqlite_pool().expect("a SQLite store")).await.expect("explain");
    let steps: Vec<String> = plan.into_iter().map(|(_, _, _, detail)| detail).collect();
    println!("  {label}: {}", steps.join(" / "));
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let opts = options();
    let url = format!("sqlite://{}", opts.db.display());
    println!("machine: {}", machine());
    println!("database: {}", opts.db.display());
    let spec = opts.spec;

    let reuse = !opts.rebuild && counts(&url).await == Some((spec.deployments, spec.events));
    if reuse {
        println!("reusing it: {} deployments, {} events (--rebuild to build it again)", spec.deployments, spec.events);
    } else {
        for file in sidecars(&opts.db) {
            let _ = std::fs::remove_file(file);
        }
        if let Some(dir) = opts.db.parent() {
            std::fs::create_dir_all(dir).expect("database directory");
        }
        println!("building {} deployments, {} events in {} channels …", spec.deployments, spec.events, spec.channels);
        let config = Config::parse(EXAMPLE, "config.example.toml").expect("example config");
        let built = history_db::build(&url, &spec, &config).await.expect("build the database");
        println!(
            "built in {:.1} s: simulated in {:.1} s, written in {:.1} s; {} deployments still open",
            built.simulate_secs + built.write_secs,
            built.simulate_secs,
            built.write_secs,
            built.open
        );
    }
    println!(
        "database file: {:.1} MB (WAL {:.1} MB)",
        file_size(&opts.db) as f64 / 1e6,
        file_size(&sidecars(&opts.db)[1]) as f64 / 1e6
    );

    let store = Store::open_existing(&url).await.expect("open the database");
    let pool = store.sqlite_pool().expect("a SQLite store");
    let sizes: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT d.id, MAX(e.seq), d.status FROM deployments d JOIN events e ON e.deployment_id = d.id
         GROUP BY d.id ORDER BY MAX(e.seq)",
    )
    .fetch_all(pool)
    .await
    .expect("sizes");
    let counts: Vec<f64> = sizes.iter().map(|(_, n, _)| *n as f64).collect();
    println!(
        "events per deployment: min {}  p10 {}  median {}  mean {:.0}  p90 {}  p99 {}  max {}",
        counts[0],
        percentile(&counts, 0.1),
        percentile(&counts, 0.5),
        counts.iter().sum::<f64>() / counts.len() as f64,
        percentile(&counts, 0.9),
        percentile(&counts, 0.99),
        counts[counts.len() - 1]
    );
    let statuses: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM deployments GROUP BY status ORDER BY 2 DESC")
            .fetch_all(pool)
            .await
            .expect("statuses");
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} {n}")).collect();
    println!("deployments: {}", statuses.join(", "));
    let kinds: Vec<(String, i64)> = sqlx::query_as("SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY 2 DESC")
        .fetch_all(pool)
        .await
        .expect("kinds");
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("events: {}", kinds.join(", "));

    let (largest, largest_events, _) = sizes.last().cloned().expect("deployments");
    let (small, small_events, _) = sizes
        .iter()
        .find(|(_, n, status)| status == "completed" && *n >= percentile(&counts, 0.1) as i64)
        .cloned()
        .expect("a completed deployment");
    let (channel, in_channel): (String, i64) =
        sqlx::query_as("SELECT channel, COUNT(*) FROM deployments GROUP BY channel ORDER BY 2 DESC, 1 LIMIT 1")
            .fetch_one(pool)
            .await
            .expect("channel");
    println!(
        "show: small = #{small} ({small_events} events), largest = #{largest} ({largest_events} events); \
         --channel {channel} ({in_channel} deployments)"
    );

    println!("\nquery plans:");
    let history =
        "EXPLAIN QUERY PLAN SELECT * FROM deployments WHERE (?1 IS NULL OR channel = ?1) ORDER BY id DESC LIMIT 20";
    explain(&store, "history", history, &[]).await;
    explain(&store, "history --channel", history, &[&channel]).await;
    let show = "EXPLAIN QUERY PLAN SELECT * FROM events WHERE deployment_id = ?1 ORDER BY seq";
    explain(&store, "show (events of one deployment)", show, &["1"]).await;
    explain(&store, "audit verify", "EXPLAIN QUERY PLAN SELECT * FROM events ORDER BY id", &[]).await;

    // Where `show` spends its time on the largest deployment, in this process (warm): the
    // best of five runs of each part.
    let best = |times: &mut Vec<f64>, t: Instant| times.push(t.elapsed().as_secs_f64() * 1000.0);
    let (mut read, mut fold, mut render_md, mut render_json, mut render_csv) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut md, mut json, mut csv) = (String::new(), String::new(), String::new());
    for _ in 0..5 {
        let t = Instant::now();
        let row = store.deployment_row(largest).await.expect("row");
        let events = store.events(largest).await.expect("events");
        best(&mut read, t);
        let t = Instant::now();
        let state = Deployment::from_events(&events).expect("folds");
        best(&mut fold, t);
        let t = Instant::now();
        md = report::markdown(&row, &state, &events, &Default::default());
        best(&mut render_md, t);
        let t = Instant::now();
        json = report::json(&row, &events);
        best(&mut render_json, t);
        let t = Instant::now();
        csv = report::csv(&events);
        best(&mut render_csv, t);
    }
    let min = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "\nshow #{largest} in-process (best of 5): read and decode {:.1} ms, fold {:.1} ms; render md {:.1} ms \
         ({} KB), json {:.1} ms ({} KB), csv {:.1} ms ({} KB)",
        min(&read),
        min(&fold),
        min(&render_md),
        md.len() / 1000,
        min(&render_json),
        json.len() / 1000,
        min(&render_csv),
        csv.len() / 1000
    );
    audit_breakdown(&store, &opts.db).await;
    let t = Instant::now();
    let verdict = store.verify().await.expect("verify runs");
    println!(
        "audit in-process: {:.0} ms, {}",
        t.elapsed().as_secs_f64() * 1000.0,
        match verdict {
            Ok(r) => format!("ok, {} events over {} deployments", r.events, r.deployments),
            Err(f) => format!("FAILED: {f}"),
        }
    );
    store.close().await;

    let golive = opts.golive.as_path();
    println!(
        "\n{} (a new process each run; cold: first run after dropping the file from the page cache)",
        golive.display()
    );
    let (small, largest) = (small.to_string(), largest.to_string());
    let runs = opts.runs;
    time(golive, "history --limit 1 (process baseline)", &["history", "--limit", "1"], &opts.db, runs);
    time(golive, "history", &["history"], &opts.db, runs);
    time(golive, "history --limit 1000", &["history", "--limit", "1000"], &opts.db, runs);
    time(golive, "history --limit 1000 --json", &["history", "--limit", "1000", "--json"], &opts.db, runs);
    time(golive, "history --channel C", &["history", "--channel", &channel], &opts.db, runs);
    for format in ["md", "json", "csv"] {
        time(golive, &format!("show small --format {format}"), &["show", &small, "--format", format], &opts.db, runs);
    }
    for format in ["md", "json", "csv"] {
        time(
            golive,
            &format!("show largest --format {format}"),
            &["show", &largest, "--format", format],
            &opts.db,
            runs,
        );
    }
    time(golive, "audit verify", &["audit", "verify"], &opts.db, runs);
    println!("load average after: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
}

/// Where `audit verify`'s time goes: SQLite reading the table, then stepping through every
/// row with a direct connection (as the audit reads it), borrowing each column.
async fn audit_breakdown(store: &Store, db: &Path) {
    let t = Instant::now();
    let (rows, bytes): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), SUM(LENGTH(payload) + LENGTH(hash) + LENGTH(prev_hash)) FROM events")
            .fetch_one(store.sqlite_pool().expect("a SQLite store"))
            .await
            .expect("scan");
    let scan = t.elapsed().as_secs_f64();
    let db = db.to_path_buf();
    let (stepped, step) = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
        let mut statement = conn.prepare("SELECT * FROM events ORDER BY id").expect("prepare");
        let mut rows = statement.query([]).expect("query");
        let mut bytes = 0usize;
        while let Some(row) = rows.next().expect("row") {
            for i in 0..12 {
                bytes += match row.get_ref(i).expect("column") {
                    rusqlite::types::ValueRef::Text(t) => t.len(),
                    _ => 8,
                };
            }
        }
        (bytes, t.elapsed().as_secs_f64())
    })
    .await
    .expect("step");
    println!(
        "audit in-process, by part: SQLite alone reads the {rows} rows ({} MB of payload and hashes) in {:.0} ms; \
         a direct connection steps through them borrowing every column ({} MB) in {:.0} ms",
        bytes / 1_000_000,
        scan * 1000.0,
        stepped / 1_000_000,
        step * 1000.0,
    );
}
