//! Crashes: a real `golive serve` process is killed with SIGKILL — in the middle of a stream
//! of commands, with posts still queued because Slack is failing, and while an escalation is
//! climbing — and started again on the same file each time. Afterwards the hash chain
//! verifies, every command that was answered is in the history exactly once, every queued
//! post reached Slack, and no status slot was posted twice.
//!
//! A second test kills the server while many commands share each commit (the writer's group
//! commit): every command answered before the kill is recorded once, and a retried delivery
//! of one that was not answered is recorded at most once.
//!
//! Delivery is at least once: a kill between Slack accepting a post and golive recording
//! that it did sends that post again on restart. The test allows one such repeat per kill and
//! checks there are no others.

use crate::harness;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::fake_slack::{FakeSlack, Reply};
use golive::domain::EventKind;
use golive::store::Store;

const SECRET: &str = "crash-test-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve"])
        .current_dir(dir)
        .env_remove("GOLIVE_CONFIG")
        .env("GOLIVE_SLACK_BOT_TOKEN", "xoxb-crash")
        .env("GOLIVE_SLACK_SIGNING_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start golive serve")
}

fn kill_9(mut child: Child) {
    assert!(Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap().success());
    let _ = child.wait();
}

async fn ready(addr: &str) {
    // A bounded poll of an external process: it says it is ready only on /readyz.
    for _ in 0..400 {
        if harness::http::try_get(addr, "/readyz").await.is_some_and(|a| a.status == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("golive serve never became ready");
}

/// Sends `/deploy TEXT`; true when golive answered it as accepted (200, nothing to say).
async fn slash(addr: &str, user: &str, text: &str, trigger: &str) -> bool {
    slash_in(addr, "C0CRASH", user, text, trigger).await
}

async fn slash_in(addr: &str, channel: &str, user: &str, text: &str, trigger: &str) -> bool {
    let now = chrono::Utc::now().timestamp();
    let (headers, body) = harness::http::slash_command(SECRET, now, channel, user, text, trigger);
    let send = harness::http::try_post(
        addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &headers,
        body.as_bytes(),
    );
    matches!(tokio::time::timeout(Duration::from_secs(5), send).await, Ok(Some(a)) if a.status == 200 && a.body.is_empty())
}

/// Notes from `first` on, sent as fast as answers come, until `stop` notes were answered or
/// the process stops answering. Returns the numbers of the notes that were answered.
async fn notes(addr: &str, first: usize, count: usize) -> Vec<usize> {
    let mut answered = Vec::new();
    for n in first..first + count {
        if slash(addr, "U0OPS", &format!("note n{n}"), &format!("note.{n}")).await {
            answered.push(n);
        }
    }
    answered
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_any_point_loses_no_answered_command_and_no_queued_post() {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let config = harness::process::slack_config(&addr, &fake)
        .replace("cron = \"0 */30 * * * *\"", "cron = \"*/2 * * * * *\"")
        // Level 1 waits two seconds for an ack, so the climb runs while the test watches.
        .replacen("ack_timeout = \"5m\"", "ack_timeout = \"2s\"", 1)
        // Posts to the one channel may follow each other quickly, so the test need not wait
        // a second per note.
        + "\n[delivery]\nchannel_interval = \"5ms\"\n";
    std::fs::write(dir.path().join("golive.toml"), &config).unwrap();
    let mut answered = Vec::new();

    // 1. Killed in the middle of a stream of commands.
    let golive = spawn(dir.path());
    ready(&addr).await;
    assert!(slash(&addr, "U0DANA", "start v8.0.0", "start").await);
    let stream = {
        let addr = addr.clone();
        tokio::spawn(async move { notes(&addr, 0, 400).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    kill_9(golive);
    answered.extend(stream.await.unwrap());
    assert!(!answered.is_empty(), "some notes were answered before the kill");

    // 2. Killed with posts queued: Slack fails every post for now.
    let golive = spawn(dir.path());
    ready(&addr).await;
    fake.script([Reply::Status { code: 500, retry_after: None }; 1000]);
    answered.extend(notes(&addr, 1000, 20).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill_9(golive);
    fake.clear_script();

    // 3. Killed during an escalation's climb.
    let golive = spawn(dir.path());
    ready(&addr).await;
    assert!(slash(&addr, "U0OPS", "escalate error rate at 0.4%", "escalate").await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    kill_9(golive);

    // Started once more and left to catch up, then stopped cleanly.
    let golive = spawn(dir.path());
    ready(&addr).await;
    answered.extend(notes(&addr, 2000, 5).await);
    let db = format!("sqlite://{}", dir.path().join("golive.db").display());
    // A bounded poll of the process's database: catching up raises no event the test can hear.
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let store = Store::open_existing(&db).await.unwrap();
        let queued = store.outbox().await.unwrap().iter().filter(|r| r.state == "pending").count();
        let raised =
            store.events(1).await.unwrap().iter().any(|e| matches!(e.kind, EventKind::EscalationRaised { .. }));
        store.close().await;
        if queued == 0 && raised {
            break;
        }
    }
    assert!(Command::new("kill").args(["-TERM", &golive.id().to_string()]).status().unwrap().success());
    assert_eq!(golive.wait_with_output().unwrap().status.code(), Some(0));

    let store = Store::open_existing(&format!("sqlite://{}", dir.path().join("golive.db").display())).await.unwrap();
    assert!(store.verify().await.unwrap().is_ok(), "the chain verifies after three kills");
    let events = store.events(1).await.unwrap();
    let recorded: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NoteAdded { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    for n in &answered {
        let note = format!("n{n}");
        assert_eq!(recorded.iter().filter(|t| **t == note).count(), 1, "answered note {note} is recorded once");
    }
    // Every recorded note reached Slack: at least once, and repeated at most once per kill.
    let delivered = fake.delivered();
    let mut repeats = 0;
    for note in &recorded {
        let copies = delivered.iter().filter(|c| c.text().ends_with(&format!(": {note}"))).count();
        assert!(copies >= 1, "the post for note {note} never arrived");
        repeats += copies - 1;
    }
    eprintln!("{} notes answered, {} recorded, {repeats} posts repeated after a kill", answered.len(), recorded.len());
    assert!(repeats <= 3, "{repeats} repeated posts after 3 kills");
    let outbox = store.outbox().await.unwrap();
    assert!(outbox.iter().all(|r| r.state != "pending"), "nothing left queued");
    // The climb went on after the kill: level 2 was paged, from the database's record.
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::EscalationRaised { level: 2, .. })));
    // No status slot was posted twice.
    let slots: Vec<_> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::StatusPosted { slot, .. } => Some(slot),
            _ => None,
        })
        .collect();
    assert!(slots.windows(2).all(|w| w[0] < w[1]), "every slot once: {slots:?}");
}

/// A counter from the server's `/metrics` page.
async fn metric(addr: &str, name: &str) -> u64 {
    let page = harness::http::try_get(addr, "/metrics").await.expect("metrics answered");
    page.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_commands_share_a_commit_loses_no_answered_command() {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = harness::process::slack_config(&addr, &fake);
    std::fs::write(dir.path().join("golive.toml"), &config).unwrap();
    const CHANNELS: usize = 8;
    const CLIENTS: usize = 32;
    let channel = |c: usize| format!("C0BATCH{c}");

    let golive = spawn(dir.path());
    ready(&addr).await;
    for c in 0..CHANNELS {
        assert!(slash_in(&addr, &channel(c), "U0DANA", &format!("start v{c}"), &format!("start.{c}")).await);
    }
    // Many clients at once, each sending notes until the server stops answering: the writer
    // takes what arrived during its last commit into the next one.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|k| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let (mut answered, mut lost) = (Vec::new(), None);
                for i in 0.. {
                    let n = k * 100_000 + i;
                    let channel = format!("C0BATCH{}", k % CHANNELS);
                    if slash_in(&addr, &channel, "U0OPS", &format!("note b{n}"), &format!("batch.{n}")).await {
                        answered.push(n);
                    } else {
                        lost = Some(n);
                        break;
                    }
                }
                (answered, lost)
            })
        })
        .collect();
    // Kill once commits are being shared (and at least a few hundred notes are in).
    let mut shared = false;
    // A bounded poll of the process's /metrics: the moment to kill at is a counter's value.
    for _ in 0..400 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let (commits, inputs) =
            (metric(&addr, "golive_writer_commits_total").await, metric(&addr, "golive_writer_inputs_total").await);
        if inputs >= 300 && inputs > commits * 3 / 2 {
            shared = true;
            break;
        }
    }
    assert!(shared, "commands were sharing commits before the kill");
    kill_9(golive);
    let mut answered = Vec::new();
    let mut unanswered = Vec::new();
    for client in clients {
        let (a, lost) = client.await.unwrap();
        answered.extend(a);
        unanswered.extend(lost);
    }

    // Restarted: each unanswered note is delivered again with its trigger id, as Slack
    // retries; it may or may not have been recorded before the kill, but never twice.
    let golive = spawn(dir.path());
    ready(&addr).await;
    for &n in &unanswered {
        let channel = channel(n / 100_000 % CHANNELS);
        assert!(slash_in(&addr, &channel, "U0OPS", &format!("note b{n}"), &format!("batch.{n}")).await);
    }
    assert!(Command::new("kill").args(["-TERM", &golive.id().to_string()]).status().unwrap().success());
    assert_eq!(golive.wait_with_output().unwrap().status.code(), Some(0));

    let store = Store::open_existing(&format!("sqlite://{}", dir.path().join("golive.db").display())).await.unwrap();
    assert!(store.verify().await.unwrap().is_ok(), "the chain verifies after the kill");
    let mut recorded = std::collections::HashMap::new();
    for row in store.deployments(None, 100).await.unwrap() {
        let events = store.events(row.id).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "gap-free");
        for e in events {
            if let EventKind::NoteAdded { text } = e.kind {
                *recorded.entry(text).or_insert(0) += 1;
            }
        }
    }
    for n in answered.iter().chain(&unanswered) {
        assert_eq!(recorded.get(&format!("b{n}")), Some(&1), "note b{n} is recorded exactly once");
    }
    eprintln!("{} notes answered before the kill, {} retried after it", answered.len(), unanswered.len());
}
