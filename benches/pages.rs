//! How long the web pages take on the server: the page of a deployment of 1,000 events (the
//! demo's deployment, padded with notes and the status posts of the time they take), asked for
//! over HTTP on 127.0.0.1 from the real router, as a browser would.
//!
//!     cargo bench --bench pages -- [--events N] [--runs N]
//!
//! Prints the page's size, the time to answer `GET /deployments/ID` (median, p95, max over
//! `--runs`, after a warm-up), and beside it the part spent reading and folding the events, so
//! what is left is rendering. Also times `GET /` and the `.json` export.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::percentile;
use golive::clock::{ManualClock, SharedClock};
use golive::config::Config;
use golive::domain::{Actor, Channel, Deployment, Platform};
use golive::engine::{Engine, Input};
use golive::store::Store;
use golive::web;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCRIPT: &str = include_str!("../src/chat/console/demo.script");

fn args() -> (i64, usize) {
    let (mut events, mut runs) = (1000, 50);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--events" => events = args.next().and_then(|v| v.parse().ok()).expect("--events N"),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            _ => {} // `cargo bench` passes --bench
        }
    }
    (events, runs)
}

/// Plays the demo's script on a manual clock, padding it with notes (a minute apart, status
/// posts falling due on the way) before completion until the deployment has `events` events.
async fn build(engine: &Engine, clock: &ManualClock, events: i64) -> i64 {
    let channel = Channel { platform: Platform::Console, id: "bench".into() };
    let mut id = 0;
    for line in SCRIPT.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(wait) = line.strip_prefix("wait ") {
            clock.advance(humantime::parse_duration(wait).expect("a duration"));
            engine.submit(Input::Timers).await.expect("timers");
            continue;
        }
        let line = line.strip_prefix("refused ").unwrap_or(line);
        let (who, text) = line.split_once(": ").expect("NAME: TEXT");
        let text = text.trim_start_matches("/deploy ");
        if text == "complete" {
            let mut n = 0;
            while engine.store().last_seq(id).await.expect("seq") < events - 1 {
                n += 1;
                clock.advance(Duration::from_secs(60));
                engine.submit(Input::Timers).await.expect("timers");
                let note = format!("note watching the dashboards, all steady ({n})");
                engine
                    .submit(Input::text(&channel, &Actor::new(Platform::Console, "olga"), &note))
                    .await
                    .expect("note");
            }
        }
        engine.submit(Input::text(&channel, &Actor::new(Platform::Console, who), text)).await.expect("command");
        if id == 0 {
            id = engine.store().deployments(None, 1).await.expect("list")[0].id;
        }
    }
    id
}

async fn fetch(addr: &str, path: &str) -> (u16, usize) {
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("read");
    let status =
        String::from_utf8_lossy(&answer[..12.min(answer.len())]).split(' ').nth(1).and_then(|s| s.parse().ok());
    (status.unwrap_or(0), answer.len())
}

fn report(what: &str, samples: &mut [f64]) {
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what:<44} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
        percentile(samples, 0.5),
        percentile(samples, 0.95),
        percentile(samples, 1.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (events, runs) = args();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&format!("sqlite://{}", dir.path().join("pages.db").display())).await.expect("store");
    let clock = ManualClock::new(chrono::Utc::now() - chrono::Duration::days(2));
    let config = Arc::new(Config::example());
    let shared: SharedClock = Arc::new(clock.clone());
    let engine = Engine::new(store.clone(), config.clone(), shared.clone());
    let built = Instant::now();
    let id = build(&engine, &clock, events).await;
    let recorded = store.last_seq(id).await.expect("seq");
    println!("deployment {id}: {recorded} events, built in {:.1} s", built.elapsed().as_secs_f64());

    let pages = web::Pages::new(store.clone(), config.clone(), shared, web::Access::Open, engine.commits());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move { axum::serve(listener, web::router(pages)).await });

    for (what, path) in [
        (format!("GET /deployments/{id} ({recorded} events)"), format!("/deployments/{id}")),
        ("GET / (one deployment)".to_string(), "/".to_string()),
        (format!("GET /deployments/{id}.json"), format!("/deployments/{id}.json")),
    ] {
        let (status, bytes) = fetch(&addr, &path).await;
        assert_eq!(status, 200, "{path}");
        for _ in 0..5 {
            fetch(&addr, &path).await;
        }
        let mut samples: Vec<f64> = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            fetch(&addr, &path).await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        report(&format!("{what}, {} KB", bytes / 1024), &mut samples);
    }

    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let events = store.events(id).await.expect("events");
        let _ = store.deployment_row(id).await.expect("row");
        Deployment::from_events(&events).expect("fold");
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    report("  of which reading and folding the events", &mut samples);
}
