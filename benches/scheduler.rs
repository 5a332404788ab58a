//! How many active deployments one `golive serve` keeps on schedule, and what the scheduler
//! costs while it waits. Runs the real runtime (scheduler, outbox, Slack client) on the wall
//! clock against a fake Slack on 127.0.0.1, with a durable SQLite file.
//!
//!     cargo bench --bench scheduler -- [DEPLOYMENTS] [ROUNDS] [ESCALATING%]
//!
//! Every deployment's status schedule fires every 10 seconds at the same instant (the worst
//! case: all channels due together). For each status post Slack receives, the lag is the time
//! from its cron instant to its arrival. Then the cron is moved out of reach and the process's
//! CPU time is read over 10 idle seconds.
//!
//! With ESCALATING% above 0 (default 0), that share of the deployments also has an escalation
//! nobody acknowledges, on levels with a 10 s `ack_timeout`: it climbs 1 → 2 → 3 and then
//! pages level 3 again, every 10 s. The escalations are dated so that their first climb falls
//! due at the first measured status instant, so climbs and status posts come due together
//! (later climbs run 10 s after the previous ping was recorded, so they drift behind the slot
//! by the time firing takes). For each climb, the lag is from its due instant (the previous
//! ping plus the timeout) to its page's arrival at Slack, and, separately, to the moment the
//! scheduler recorded it.

mod common;
#[path = "../tests/e2e/harness/fake_slack.rs"]
mod fake_slack;
#[path = "../tests/e2e/harness/journal.rs"]
mod journal;

use common::{cpu_seconds, percentile};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, Utc};
use golive::chat::slack::SlackApi;
use golive::clock::{ManualClock, SharedClock, SystemClock};
use golive::config::{Config, EXAMPLE};
use golive::delivery::Transport;
use golive::domain::{Actor, Channel, Command, Platform};
use golive::engine::{Engine, Input, Origin};
use golive::runtime;
use golive::store::Store;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let deployments: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let escalating_pct: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0).min(100);
    let escalating = |n: usize| n * escalating_pct / 100 != (n + 1) * escalating_pct / 100;

    let fake = fake_slack::FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = with_ack_timeout(&EXAMPLE.replace("cron = \"0 */30 * * * *\"", "cron = \"*/10 * * * * *\""), "10s");
    let config = Arc::new(Config::parse(&config, "bench.toml").unwrap());
    let store = Store::open(&db).await.unwrap();
    let clock: SharedClock = Arc::new(SystemClock);

    let opening = Instant::now();
    let engine = Engine::new(store.clone(), config.clone(), clock.clone());
    for n in 0..deployments {
        let channel = Channel { platform: Platform::Slack, id: format!("C{n:06}") };
        let start = Command::Start { release: format!("v{n}"), plan: None, freeze_override: None, at: None };
        engine
            .submit(Input::command(&channel, &Actor::new(Platform::Slack, "U0DANA"), start.clone(), Origin::default()))
            .await
            .unwrap();
    }
    println!("opened {deployments} deployments in {:.1}s", opening.elapsed().as_secs_f64());

    // Let the start announcements go out, then measure whole rounds.
    let first = Utc::now().duration_trunc(chrono::Duration::seconds(10)).unwrap() + chrono::Duration::seconds(20);
    let mut escalating_channels = Vec::new();
    if escalating_pct > 0 {
        // Dated one timeout before the first measured instant, so the first climb is due then.
        let opened_at: SharedClock = Arc::new(ManualClock::new(first - chrono::Duration::seconds(10)));
        let engine = Engine::new(store.clone(), config.clone(), opened_at);
        for n in (0..deployments).filter(|n| escalating(*n)) {
            let channel = Channel { platform: Platform::Slack, id: format!("C{n:06}") };
            let escalate = Command::Escalate { level: None, message: format!("database CPU at 95% (v{n})") };
            engine
                .submit(Input::command(
                    &channel,
                    &Actor::new(Platform::Slack, "U0OPS"),
                    escalate.clone(),
                    Origin::default(),
                ))
                .await
                .unwrap();
            escalating_channels.push(channel.id);
        }
        println!("opened {} escalations, nobody acknowledges them", escalating_channels.len());
    }

    let api: Arc<dyn Transport> = Arc::new(SlackApi::new(&fake.url, "xoxb-bench").unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(runtime::serve(
        config.clone(),
        store.clone(),
        clock.clone(),
        runtime::Adapters { apis: vec![api], ..Default::default() },
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    tokio::time::sleep((first - Utc::now()).to_std().unwrap_or_default()).await;
    let cpu_before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(10 * rounds as u64 - 1)).await;
    let cpu_busy = cpu_seconds() - cpu_before;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let end = first + chrono::Duration::seconds(10 * rounds as i64);
    let delivered = fake.delivered();
    // New posts only: with escalations, the status message is also edited (`chat.update`).
    let posts: Vec<_> = delivered.iter().filter(|c| c.method == "chat.postMessage").collect();
    let paged: HashSet<&str> = escalating_channels.iter().map(String::as_str).collect();
    // All status posts, and those of channels without and with an escalation: in the latter a
    // status post waits its turn behind the page in the same channel.
    let (mut lags, mut lags_plain, mut lags_escalating) = (Vec::new(), Vec::new(), Vec::new());
    for c in posts.iter().filter(|c| c.text().starts_with("STATUS")) {
        let slot = c.at.duration_trunc(chrono::Duration::seconds(10)).unwrap();
        if slot >= first && slot < end {
            let lag = seconds(c.at - slot);
            lags.push(lag);
            if paged.contains(c.channel()) { &mut lags_escalating } else { &mut lags_plain }.push(lag);
        }
    }
    for v in [&mut lags, &mut lags_plain, &mut lags_escalating] {
        v.sort_by(f64::total_cmp);
    }
    let expected = deployments * rounds;
    let within = lags.iter().filter(|l| **l <= 1.0).count();
    println!(
        "status posts: {} of {expected} expected over {rounds} rounds; {within} within 1 s of their instant",
        lags.len()
    );
    println!(
        "lag from cron instant to Slack: p50 {:.3}s  p99 {:.3}s  max {:.3}s",
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags.last().copied().unwrap_or(f64::NAN)
    );
    println!("process CPU while posting: {:.2}s over {}s", cpu_busy, 10 * rounds - 1);
    let _ = stop.send(());
    served.await.unwrap().unwrap();

    if escalating_pct > 0 {
        for (label, v) in [("without", &lags_plain), ("with", &lags_escalating)] {
            println!(
                "  status posts in channels {label:<7} an escalation: {:>5} — p50 {:.3}s  p99 {:.3}s  max {:.3}s",
                v.len(),
                percentile(v, 0.5),
                percentile(v, 0.99),
                v.last().copied().unwrap_or(f64::NAN)
            );
        }
        report_climbs(&store, &posts, first, end).await;
    }

    // Idle: the same deployments, with the next status slot a year away.
    // Escalations still open wait a year for their next ping.
    let idle_config = with_ack_timeout(&EXAMPLE.replace("cron = \"0 */30 * * * *\"", "cron = \"0 0 0 1 1 *\""), "365d");
    let idle_config = Arc::new(Config::parse(&idle_config, "bench.toml").unwrap());
    // Move every timer to the new schedule, as a restart with the new config would.
    sqlx::query("DELETE FROM timers").execute(store.sqlite_pool().expect("a SQLite store")).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api: Arc<dyn Transport> = Arc::new(SlackApi::new(&fake.url, "xoxb-bench").unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(runtime::serve(
        idle_config,
        store.clone(),
        clock,
        runtime::Adapters { apis: vec![api], ..Default::default() },
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu_idle = cpu_seconds() - cpu_before;
    println!(
        "idle with {deployments} active deployments: {:.2}s CPU over 10s ({:.2}% of one core)",
        cpu_idle,
        cpu_idle * 10.0
    );
    let _ = stop.send(());
    served.await.unwrap().unwrap();
}

fn seconds(d: chrono::Duration) -> f64 {
    d.num_microseconds().unwrap_or(0) as f64 / 1e6
}

/// The example config with every escalation level's `ack_timeout` set to `timeout`.
fn with_ack_timeout(config: &str, timeout: &str) -> String {
    ["5m", "10m", "15m"].iter().fold(config.to_string(), |c, t| {
        c.replace(&format!("ack_timeout = \"{t}\""), &format!("ack_timeout = \"{timeout}\""))
    })
}

/// One climb: when it fell due, and when the scheduler fired it (its event's time).
type Climb = (DateTime<Utc>, DateTime<Utc>);

/// Lateness of the climbs due in `[first, end)`: from each one's due instant (the previous
/// ping plus the 10 s timeout) to when the scheduler recorded it, and to its page's arrival.
async fn report_climbs(store: &Store, posts: &[&fake_slack::Call], first: DateTime<Utc>, end: DateTime<Utc>) {
    let timeout = chrono::Duration::seconds(10);
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT d.channel, e.kind, e.at FROM events e JOIN deployments d ON d.id = e.deployment_id
         WHERE e.kind IN ('escalation_opened', 'escalation_raised') ORDER BY e.deployment_id, e.seq",
    )
    .fetch_all(store.sqlite_pool().expect("a SQLite store"))
    .await
    .unwrap();
    // Each channel's climbs, in order.
    let mut climbs: HashMap<&str, Vec<Climb>> = HashMap::new();
    let mut previous: Option<(&str, DateTime<Utc>)> = None;
    for (channel, kind, at) in &rows {
        let at = DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc);
        if let (Some((prev_channel, prev_at)), "escalation_raised") = (previous, kind.as_str()) {
            if prev_channel == channel {
                climbs.entry(channel).or_default().push((prev_at + timeout, at));
            }
        }
        previous = Some((channel, at));
    }
    // Each channel's climb pages in the order Slack accepted them.
    let mut pages: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for c in posts.iter().filter(|c| c.text().starts_with("ESCALATION") && c.text().contains("not acknowledged")) {
        pages.entry(c.channel()).or_default().push(c.at);
    }
    let (mut fired, mut arrived, mut drift) = (Vec::new(), Vec::new(), Vec::new());
    let mut due_in_window = 0;
    let mut by_round: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for (channel, list) in &climbs {
        let arrivals = pages.get(channel).map(Vec::as_slice).unwrap_or_default();
        for (i, (due, recorded)) in list.iter().enumerate() {
            if *due < first || *due >= end {
                continue;
            }
            due_in_window += 1;
            fired.push(seconds(*recorded - *due));
            let slot = due.duration_trunc(timeout).unwrap();
            drift.push(seconds(*due - slot));
            if let Some(at) = arrivals.get(i) {
                arrived.push(seconds(*at - *due));
                let round = ((*due - first).num_seconds() / 10) as usize;
                by_round.entry(round).or_default().push(seconds(*at - *due));
            }
        }
    }
    for v in [&mut fired, &mut arrived, &mut drift] {
        v.sort_by(f64::total_cmp);
    }
    let within = arrived.iter().filter(|l| **l <= 1.0).count();
    println!(
        "escalation climbs due in the window: {due_in_window}; pages at Slack: {}; {within} within 1 s of their due instant",
        arrived.len()
    );
    println!(
        "  due instant after the status instant: p50 {:.3}s  max {:.3}s (the climb drifting behind the slot)",
        percentile(&drift, 0.5),
        drift.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  lag from due instant to the firing: p50 {:.3}s  p99 {:.3}s  max {:.3}s",
        percentile(&fired, 0.5),
        percentile(&fired, 0.99),
        fired.last().copied().unwrap_or(f64::NAN)
    );
    let rounds: Vec<String> = by_round
        .values_mut()
        .enumerate()
        .map(|(i, v)| {
            v.sort_by(f64::total_cmp);
            format!("round {}: p50 {:.3}s max {:.3}s", i + 1, percentile(v, 0.5), v.last().copied().unwrap_or(f64::NAN))
        })
        .collect();
    println!("  lag from due instant to Slack by round: {}", rounds.join("; "));
    println!(
        "  lag from due instant to Slack:      p50 {:.3}s  p99 {:.3}s  max {:.3}s",
        percentile(&arrived, 0.5),
        percentile(&arrived, 0.99),
        arrived.last().copied().unwrap_or(f64::NAN)
    );
}
