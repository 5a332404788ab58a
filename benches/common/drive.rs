//! What the load benches send and how: the 20-command script each channel follows, a client
//! that signs slash commands as Slack does and spreads them over one or more servers, and the
//! shapes of load (a closed loop of N in flight, a fixed rate, one busy channel), with the
//! server processes' CPU and memory watched while a shape runs. Shared by `load.rs` (golive
//! beside the Bolt app) and `replicas.rs` (golive replicas on PostgreSQL).

// Each bench uses its own part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use golive::chat::slack::verify::SigningSecret;
use golive::config::EXAMPLE;
use tokio::sync::{mpsc, Mutex};

use crate::common::load::{cpu_seconds_of, free_port, memory, signed, slash_command};
use crate::http;

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "config.example.toml no longer has `{from}`; update benches/common/drive.rs");
    text.replacen(from, to, 1)
}

/// A server in a child process (golive, or the Bolt app), where it listens, and the file its
/// log goes to (a pipe nobody reads would fill up and stall it).
pub struct Spawned {
    pub child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, and waits for it to end (SIGKILL if it cannot be waited for).
    pub fn stop(mut self) {
        self.terminate();
    }

    /// [`Spawned::stop`] for a process held by something else.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        if self.child.wait().is_err() {
            self.kill();
        }
    }

    /// SIGKILL, and waits for it to end.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `golive serve` in `dir` on the database `db` (a URL), posting to the fake Slack at
/// `fake` with the bot token `token`: the example config with Slack on and no status slot
/// falling inside a run (one would add a status post per deployment).
pub fn spawn_golive(dir: &Path, db: &str, fake: &str, token: &str) -> Spawned {
    std::fs::create_dir_all(dir).expect("create the server's directory");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut config = replace_once(EXAMPLE, "listen = \"127.0.0.1:3000\"", &format!("listen = \"{addr}\""));
    config = replace_once(&config, "url = \"sqlite://golive.db\"", &format!("url = \"{db}\""));
    config = replace_once(&config, "[slack]\nenabled = false", "[slack]\nenabled = true");
    config = replace_once(&config, "api_url = \"https://slack.com/api/\"", &format!("api_url = \"{fake}\""));
    config = replace_once(&config, "cron = \"0 */30 * * * *\"", "cron = \"0 0 0 1 1 *\"");
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
    Spawned { child, addr, log }
}

/// Waits (at most `limit`) until golive's outbox has nothing pending, so one run does not pay
/// for the posts of the one before.
pub async fn drained(store: &golive::store::Store, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if store.pending_by_route().await.is_ok_and(|pending| pending.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("note: golive's outbox still had pending posts after {limit:?}");
}

/// Polls `GET path` until it is answered (with `status`, when given): the time it took.
pub async fn wait_for_answer(addr: &str, path: &str, status: Option<u16>, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(answer) = http::try_get(addr, path).await {
            if status.map_or(answer.status != 0, |s| answer.status == s) {
                return Some(started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

pub const SECRET: &str = "bench-signing-secret";
pub const TOKEN: &str = "xoxb-bench";
pub const FORM: &str = "application/x-www-form-urlencoded";
/// Slack shows the user an error when a slash command is not answered within 3 s.
pub const SLACK_DEADLINE_MS: f64 = 3000.0;
// From config.example.toml: who holds which role. The lead is whoever starts the deployment,
// a release manager (the plan's `lead_roles`).
pub const LEAD: &str = "U0DANA";
pub const TECH_LEAD: &str = "U0TECHLEAD";
pub const BACKEND: &str = "U0BACKEND";
pub const OPS: &str = "U0OPS";
pub const SECURITY: &str = "U0SECURITY";
pub const ANYONE: &str = "U0PRODUCT";
/// The script's length; a deployment's sign-offs can be given once, so only its first pass
/// has them.
pub const CYCLE: usize = 20;

/// Step `step` of a channel's script: who types what. Every tick is undone later in the
/// cycle, so the script can repeat, and each step is valid after the ones before it.
pub fn script(step: usize) -> (&'static str, String) {
    let first_pass = step < CYCLE;
    let (user, text) = match step % CYCLE {
        0 | 4 | 9 | 13 | 17 => (ANYONE, "status"),
        2 | 6 | 10 | 14 | 18 => (OPS, ""),
        1 | 12 => (BACKEND, "check tests"),
        5 | 19 => (BACKEND, "uncheck tests"),
        3 => (OPS, "check db-backup"),
        11 => (OPS, "uncheck db-backup"),
        8 => (SECURITY, "check security-scan"),
        16 => (SECURITY, "uncheck security-scan"),
        7 if first_pass => (TECH_LEAD, "signoff tech-lead"),
        15 if first_pass => (SECURITY, "signoff security"),
        7 => (OPS, ""),
        _ => (ANYONE, "status"),
    };
    match text {
        "" => (user, format!("note step {step}: error rate flat, p99 under 300 ms, no new alerts")),
        text => (user, text.to_string()),
    }
}

/// Sends signed slash commands to its servers, each to the next in turn.
pub struct Client {
    addrs: Vec<String>,
    next: AtomicUsize,
    secret: SigningSecret,
    /// Shared by every client of the run, so no trigger id repeats.
    triggers: Arc<AtomicU64>,
}

impl Client {
    pub fn new(addrs: Vec<String>, secret: &str, triggers: Arc<AtomicU64>) -> Client {
        Client { addrs, next: AtomicUsize::new(0), secret: SigningSecret::new(secret), triggers }
    }

    /// Ok when the command was accepted: 200 with an empty body.
    pub async fn send(&self, channel: &str, user: &str, text: &str) -> Result<(), String> {
        let addr = &self.addrs[self.next.fetch_add(1, Ordering::Relaxed) % self.addrs.len()];
        let body = slash_command(channel, user, text, self.triggers.fetch_add(1, Ordering::Relaxed));
        let headers = signed(&self.secret, &body);
        // Slack gives up after 3 s; 10 s without an answer is a failure, not a hang.
        let sent = http::try_post(addr, "/slack/commands", FORM, &headers, body.as_bytes());
        match tokio::time::timeout(Duration::from_secs(10), sent).await {
            Ok(Some(answer)) if answer.status == 200 && answer.body.is_empty() => Ok(()),
            Ok(Some(answer)) => Err(format!("`/deploy {text}` in {channel}: {} {}", answer.status, answer.body)),
            Ok(None) => Err(format!("`/deploy {text}` in {channel}: no answer")),
            Err(_) => Err(format!("`/deploy {text}` in {channel}: no answer within 10 s")),
        }
    }

    /// A deployment in each channel, in its first phase, 8 channels at a time.
    pub async fn open(self: &Arc<Self>, channels: &Arc<Vec<String>>) {
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..8 {
            let (client, channels) = (self.clone(), channels.clone());
            tasks.spawn(async move {
                for (n, channel) in channels.iter().enumerate().skip(worker).step_by(8) {
                    for text in [format!("start v1.{n}.0"), "phase start pre-deployment".to_string()] {
                        if let Err(e) = client.send(channel, LEAD, &text).await {
                            panic!("opening the deployments failed: {e}");
                        }
                    }
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("opening the deployments");
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Shape {
    InFlight(usize),
    Rate(usize),
    /// This many in flight, all on one channel.
    Busy(usize),
}

impl Shape {
    pub fn label(self) -> String {
        match self {
            Shape::InFlight(n) => format!("{n} in flight"),
            Shape::Rate(r) => format!("fixed {r}/s"),
            Shape::Busy(n) => format!("one busy channel, {n} in flight"),
        }
    }
}

/// Samples a process's VmRSS every 50 ms while a run lasts.
pub struct Watch {
    pid: u32,
    cpu: f64,
    running: Arc<AtomicBool>,
    sampler: tokio::task::JoinHandle<u64>,
}

impl Watch {
    pub fn start(pid: u32) -> Watch {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let sampler = tokio::spawn(async move {
            let mut most = 0;
            while flag.load(Ordering::Relaxed) {
                most = most.max(memory(pid).map_or(0, |m| m.rss_kib));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            most.max(memory(pid).map_or(0, |m| m.rss_kib))
        });
        Watch { pid, cpu: cpu_seconds_of(pid), running, sampler }
    }

    /// CPU seconds since the start, and the largest VmRSS seen.
    pub async fn stop(self) -> (f64, u64) {
        self.running.store(false, Ordering::Relaxed);
        let most = self.sampler.await.unwrap_or(0);
        (cpu_seconds_of(self.pid) - self.cpu, most)
    }
}

/// The kinds of command in the script, for latency by kind.
pub const VERBS: [&str; 4] = ["status", "note", "check", "signoff"];

pub fn verb(text: &str) -> u8 {
    let first = text.split_whitespace().next().unwrap_or("");
    let first = if first == "uncheck" { "check" } else { first };
    VERBS.iter().position(|v| *v == first).unwrap_or(0) as u8
}

/// Worker results: (kind of command, latency in ms) of each request, accepted count, the
/// first error.
pub type Outcome = (Vec<(u8, f64)>, usize, Option<String>);

fn merge(into: &mut Outcome, from: Outcome) {
    into.0.extend(from.0);
    into.1 += from.1;
    into.2 = into.2.take().or(from.2);
}

/// `requests` commands, `in_flight` at a time, over `channels`, each channel's script in
/// order and one command per channel in flight.
pub async fn saturate(client: &Arc<Client>, channels: &Arc<Vec<String>>, in_flight: usize, requests: usize) -> Outcome {
    let (lend, free) = mpsc::unbounded_channel::<(usize, usize)>();
    for n in 0..channels.len() {
        lend.send((n, 0)).expect("the queue is open");
    }
    let free = Arc::new(Mutex::new(free));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (client, channels, free, lend, next) =
            (client.clone(), channels.clone(), free.clone(), lend.clone(), next.clone());
        workers.spawn(async move {
            let mut out: Outcome = (Vec::new(), 0, None);
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let (n, step) = free.lock().await.recv().await.expect("channels are lent back");
                let (user, text) = script(step);
                let sent = Instant::now();
                let answer = client.send(&channels[n], user, &text).await;
                out.0.push((verb(&text), sent.elapsed().as_secs_f64() * 1000.0));
                match answer {
                    Ok(()) => out.1 += 1,
                    Err(e) => out.2 = out.2.take().or(Some(e)),
                }
                lend.send((n, step + 1)).expect("the queue outlives the workers");
            }
            out
        });
    }
    let mut all: Outcome = (Vec::with_capacity(requests), 0, None);
    while let Some(done) = workers.join_next().await {
        merge(&mut all, done.expect("a load worker panicked"));
    }
    all
}

/// `requests` commands at `rate` per second, request i due at `start + i / rate` in channel
/// i mod C; latency from the instant it was due.
pub async fn fixed_rate(client: &Arc<Client>, channels: &Arc<Vec<String>>, rate: usize, requests: usize) -> Outcome {
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..channels.len() {
        let (client, channels) = (client.clone(), channels.clone());
        tasks.spawn(async move {
            let mut out: Outcome = (Vec::new(), 0, None);
            for (step, i) in (n..requests).step_by(channels.len()).enumerate() {
                let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                tokio::time::sleep_until(due).await;
                let (user, text) = script(step);
                let answer = client.send(&channels[n], user, &text).await;
                out.0.push((verb(&text), due.elapsed().as_secs_f64() * 1000.0));
                match answer {
                    Ok(()) => out.1 += 1,
                    Err(e) => out.2 = out.2.take().or(Some(e)),
                }
            }
            out
        });
    }
    let mut all: Outcome = (Vec::with_capacity(requests), 0, None);
    while let Some(done) = tasks.join_next().await {
        merge(&mut all, done.expect("a load task panicked"));
    }
    all
}

/// `requests` notes to one channel, `in_flight` at a time: its history grows by as many.
pub async fn busy(client: &Arc<Client>, channel: &str, in_flight: usize, requests: usize) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (client, next, channel) = (client.clone(), next.clone(), channel.to_string());
        workers.spawn(async move {
            let mut out: Outcome = (Vec::new(), 0, None);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break out;
                }
                let text = format!("note busy {n}: error rate flat, p99 under 300 ms, no new alerts");
                let sent = Instant::now();
                let answer = client.send(&channel, OPS, &text).await;
                out.0.push((verb(&text), sent.elapsed().as_secs_f64() * 1000.0));
                match answer {
                    Ok(()) => out.1 += 1,
                    Err(e) => out.2 = out.2.take().or(Some(e)),
                }
            }
        });
    }
    let mut all: Outcome = (Vec::with_capacity(requests), 0, None);
    while let Some(done) = workers.join_next().await {
        merge(&mut all, done.expect("a load worker panicked"));
    }
    all
}
