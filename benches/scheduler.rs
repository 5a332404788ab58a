//! How many active deployments one `golive serve` keeps on schedule, and what the scheduler
//! costs while it waits. Runs the real runtime (scheduler, outbox, Slack client) on the wall
//! clock against a fake Slack on 127.0.0.1, with a durable SQLite file.
//!
//!     cargo bench --bench scheduler -- [DEPLOYMENTS] [ROUNDS]
//!
//! Every deployment's status schedule fires every 10 seconds at the same instant (the worst
//! case: all channels due together). For each status post Slack receives, the lag is the time
//! from its cron instant to its arrival. Then the cron is moved out of reach and the process's
//! CPU time is read over 10 idle seconds.

mod common;
#[path = "../tests/common/fake_slack.rs"]
mod fake_slack;

use common::{cpu_seconds, percentile};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DurationRound, Utc};
use golive::clock::{SharedClock, SystemClock};
use golive::config::{Config, EXAMPLE};
use golive::delivery::ChatApi;
use golive::domain::{Actor, Channel, Command, Platform};
use golive::engine::Engine;
use golive::runtime;
use golive::slack::SlackApi;
use golive::store::Store;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let deployments: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);

    let fake = fake_slack::FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = EXAMPLE.replace("cron = \"0 */30 * * * *\"", "cron = \"*/10 * * * * *\"");
    let config = Arc::new(Config::parse(&config, "bench.toml").unwrap());
    let store = Store::open(&db).await.unwrap();
    let clock: SharedClock = Arc::new(SystemClock);

    let opening = Instant::now();
    let engine = Engine::new(store.clone(), config.clone(), clock.clone());
    for n in 0..deployments {
        let channel = Channel { platform: Platform::Slack, id: format!("C{n:06}") };
        let start = Command::Start { release: format!("v{n}"), plan: None };
        engine.execute(&channel, &Actor::new(Platform::Slack, "U0LEAD"), &start).await.unwrap();
    }
    println!("opened {deployments} deployments in {:.1}s", opening.elapsed().as_secs_f64());

    let api: Arc<dyn ChatApi> = Arc::new(SlackApi::new(&fake.url, "xoxb-bench").unwrap());
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

    // Let the start announcements go out, then measure whole rounds.
    let first = Utc::now().duration_trunc(chrono::Duration::seconds(10)).unwrap() + chrono::Duration::seconds(20);
    tokio::time::sleep((first - Utc::now()).to_std().unwrap_or_default()).await;
    let cpu_before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(10 * rounds as u64 - 1)).await;
    let cpu_busy = cpu_seconds() - cpu_before;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut lags: Vec<f64> = fake
        .delivered()
        .iter()
        .filter(|c| c.text().starts_with("STATUS"))
        .filter_map(|c| {
            let slot = c.at.duration_trunc(chrono::Duration::seconds(10)).unwrap();
            let measured = slot >= first && slot < first + chrono::Duration::seconds(10 * rounds as i64);
            measured.then(|| (c.at - slot).num_microseconds().unwrap_or(0) as f64 / 1e6)
        })
        .collect();
    lags.sort_by(f64::total_cmp);
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

    // Idle: the same deployments, with the next status slot a year away.
    let idle_config = EXAMPLE.replace("cron = \"0 */30 * * * *\"", "cron = \"0 0 0 1 1 *\"");
    let idle_config = Arc::new(Config::parse(&idle_config, "bench.toml").unwrap());
    // Move every timer to the new schedule, as a restart with the new config would.
    sqlx::query("DELETE FROM timers").execute(store.pool()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api: Arc<dyn ChatApi> = Arc::new(SlackApi::new(&fake.url, "xoxb-bench").unwrap());
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
