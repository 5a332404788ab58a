//! What a benchmark that drives a server in another process needs: that process's memory and
//! CPU time from /proc, Slack-signed slash command requests, latency summaries, and the
//! machine and commit a result belongs to.

use golive::chat::slack::verify::SigningSecret;

use super::percentile;

/// Resident memory of a process, in KiB: now (VmRSS) and its peak so far (VmHWM).
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    Some(Memory { rss_kib: field("VmRSS:")?, peak_kib: field("VmHWM:")? })
}

/// User plus system CPU seconds of process `pid` so far (its threads included).
pub fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields counted from after it do not.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// A port on 127.0.0.1 that was free a moment ago, for a server started in another process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port on 127.0.0.1").port()
}

/// The form body Slack posts for `/deploy TEXT` typed by `user` in `channel`. `trigger` must
/// be unique: golive answers a repeated trigger id as a retry of the first delivery.
pub fn slash_command(channel: &str, user: &str, text: &str, trigger: u64) -> String {
    serde_urlencoded::to_string([
        ("token", "legacy-unused"),
        ("team_id", "T0TEAM"),
        ("team_domain", "bench"),
        ("channel_id", channel),
        ("channel_name", &format!("deploys-{}", channel.to_lowercase())),
        ("user_id", user),
        ("user_name", &user.to_lowercase()),
        ("command", "/deploy"),
        ("text", text),
        ("api_app_id", "A0GOLIVE"),
        ("response_url", "https://hooks.slack.com/commands/T0TEAM/1/abc"),
        ("trigger_id", &format!("9000.{trigger}.bench")),
    ])
    .expect("a slash command form encodes")
}

/// Slack's v0 signature headers for `body` sent now.
pub fn signed(secret: &SigningSecret, body: &str) -> [(&'static str, String); 2] {
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = secret.sign(&ts, body.as_bytes());
    [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", signature)]
}

/// Latency percentiles of one run, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// From samples in milliseconds, in any order.
    pub fn of(samples: &mut [f64]) -> Latency {
        samples.sort_by(f64::total_cmp);
        Latency {
            p50: percentile(samples, 0.5),
            p99: percentile(samples, 0.99),
            p999: percentile(samples, 0.999),
            max: samples.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// Milliseconds as a table shows them: one decimal below 10 ms, seconds from 10 s.
pub fn ms(v: f64) -> String {
    match v {
        v if v.is_nan() => "–".into(),
        v if v < 10.0 => format!("{v:.1} ms"),
        v if v < 10_000.0 => format!("{v:.0} ms"),
        v => format!("{:.1} s", v / 1000.0),
    }
}

/// Thousands separated by commas, as the tables in BENCHMARKS.md write them.
pub fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The machine a result was measured on: CPU model, cores, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|v| v.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    format!("{model}, {cores} cores, {:.1} GiB RAM, Linux {}", mem_kib as f64 / 1048576.0, kernel.trim())
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg has them.
pub fn loadavg() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    avg.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// The commit the working tree is at, marked when it has uncommitted changes.
pub fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(changes) if !changes.is_empty() => format!("{head} (with uncommitted changes)"),
        _ => head,
    }
}

/// The bench's command-line flags with their values (`--flag value` or `--flag=value`), in
/// order; cargo's own `--bench` is left out.
pub fn flags() -> Vec<(String, String)> {
    let mut pairs = Vec::new();
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
        pairs.push((flag, value));
    }
    pairs
}

/// Prints the heading of a load bench's results: the machine, the commit, the load average
/// before and after, and the size of each run.
pub fn print_results_heading(load_before: &str, load_after: &str, requests: usize, channels: usize) {
    println!();
    println!("## Results (copy into BENCHMARKS.md)");
    println!();
    println!(
        "Machine: {}. Commit {}. Load average before the run {load_before}, after {load_after}. \
         {} requests per run over {} channels (a deployment each).",
        machine(),
        commit(),
        thousands(requests as f64),
        thousands(channels as f64)
    );
    println!();
}
