//! A real `golive serve` process posting to a fake Slack on 127.0.0.1 is stopped mid-deployment
//! and a second process is started on the same SQLite file: the status schedule resumes, the
//! missed slots make one post, and no post is lost or sent twice.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::harness::fake_slack::{Call, FakeSlack};
use golive::clock::SystemClock;
use golive::config::{Config, EXAMPLE};
use golive::domain::{Actor, Channel, EventKind, Platform};
use golive::engine::Engine;
use golive::engine::Input;
use golive::store::Store;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve"])
        .current_dir(dir)
        .env_remove("GOLIVE_CONFIG")
        .env("GOLIVE_SLACK_BOT_TOKEN", "xoxb-restart-test")
        .env("GOLIVE_SLACK_SIGNING_SECRET", "restart-test-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start golive serve")
}

fn stop(child: Child) -> String {
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

async fn wait_for_status_posts(fake: &FakeSlack, at_least: usize) {
    let posted = |calls: &[Call]| calls.iter().filter(|c| c.ok && c.text().starts_with("STATUS")).count() >= at_least;
    fake.wait_for(&format!("{at_least} status posts"), Duration::from_secs(20), posted).await;
}

fn status_posts(fake: &FakeSlack) -> usize {
    fake.delivered().iter().filter(|c| c.text().starts_with("STATUS")).count()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_deployment_resumes_the_schedule_without_duplicates() {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("golive.db");
    let config = EXAMPLE
        .replace("listen = \"127.0.0.1:3000\"", &format!("listen = \"127.0.0.1:{}\"", free_port()))
        .replace("url = \"sqlite://golive.db\"", &format!("url = \"sqlite://{}\"", db.display()))
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        .replace("api_url = \"https://slack.com/api/\"", &format!("api_url = \"{}\"", fake.url))
        // A status post every two seconds, so the test sees several in real time.
        .replace("cron = \"0 */30 * * * *\"", "cron = \"*/2 * * * * *\"");
    std::fs::write(dir.path().join("golive.toml"), &config).unwrap();

    // A deployment is open in #C0RESTART before golive serve first starts.
    let parsed = Arc::new(Config::parse(&config, "golive.toml").unwrap());
    let store = Store::open(&format!("sqlite://{}", db.display())).await.unwrap();
    let channel = Channel { platform: Platform::Slack, id: "C0RESTART".into() };
    let engine = Engine::new(store.clone(), parsed, Arc::new(SystemClock));
    let started =
        engine.submit(Input::text(&channel, &Actor::new(Platform::Slack, "U0DANA"), "start v9.9.9")).await.unwrap();
    assert!(!started.refused);

    let first = serve(dir.path());
    wait_for_status_posts(&fake, 2).await;
    let first_log = stop(first);
    let before = status_posts(&fake);

    // Down long enough for at least two slots to pass.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(status_posts(&fake), before, "nothing posts while golive is down");

    let second = serve(dir.path());
    wait_for_status_posts(&fake, before + 2).await;
    let second_log = stop(second);

    let id = store.deployments(Some("C0RESTART"), 1).await.unwrap()[0].id;
    let slots: Vec<_> = store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::StatusPosted { slot, .. } => Some(slot),
            _ => None,
        })
        .collect();
    assert!(slots.windows(2).all(|w| w[0] < w[1]), "every slot once, in order: {slots:?}");
    // The outage shows as one jump over the missed slots, not as a post per missed slot.
    let gap = slots[before] - slots[before - 1];
    assert!(gap >= chrono::Duration::seconds(4), "{slots:?}\n{first_log}\n{second_log}");
    // What Slack received is exactly what was recorded: nothing lost, nothing twice.
    let delivered = fake.delivered();
    let status: Vec<_> = delivered.iter().filter(|c| c.text().starts_with("STATUS")).collect();
    let outbox = store.outbox().await.unwrap();
    let recorded_status = outbox.iter().filter(|r| r.payload.contains("\"text\":\"STATUS")).count();
    assert_eq!(status.len(), recorded_status, "{status:?}");
    let sent_in_outbox = outbox.iter().filter(|r| r.state == "sent").count();
    let pending = outbox.iter().filter(|r| r.state == "pending").count();
    assert_eq!(delivered.len() + pending, outbox.len(), "{outbox:?}");
    assert_eq!(sent_in_outbox, delivered.len());
    assert_eq!(delivered.iter().filter(|c| c.text().contains("started deploying v9.9.9")).count(), 1);
    assert!(delivered.iter().all(|c| c.authorization.as_deref() == Some("Bearer xoxb-restart-test")));
    assert!(store.verify().await.unwrap().is_ok());
}
