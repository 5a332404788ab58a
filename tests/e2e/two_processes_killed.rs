//! Real `golive serve` processes on one database and one fake Slack, with signed slash commands
//! spread over all of them: two on one SQLite file, and three replicas on one PostgreSQL
//! database (CONTRACT.md, "Several replicas"). The process delivering #deploys is killed with
//! SIGKILL in the middle of the burst. Every command answered 200 is in the history once, and every post
//! queued for #deploys reaches Slack, in the channel's order, with at most one repeat (the
//! post the killed process had sent but not yet recorded), once its claim lapses.
//!
//! Real processes run on the wall clock, so this story waits out a real lease (20 s, see
//! `delivery::leases`): about 25 s. Every wait is a bounded poll of the processes and the fake.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use golive::domain::EventKind;
use golive::store::Store;

use crate::harness::fake_slack::{Call, FakeSlack};
use crate::harness::http::{slash_command, try_get, try_post};

const SECRET: &str = "two-processes-secret";
/// Notes each of the two typists sends, alternating between the processes.
const NOTES: usize = 60;
/// Longest wall time for the survivor to take #deploys over and send everything: the 20 s
/// lease, its 2 s wait before asking again, and room for a loaded machine.
const TAKEOVER: Duration = Duration::from_secs(45);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `golive serve` in `dir` (its own config and port) on the database `db`, posting to the
/// fake with `token`, so the fake tells the processes apart.
fn spawn(dir: &Path, db: &str, token: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve", "--db", db])
        .current_dir(dir)
        .env_remove("GOLIVE_CONFIG")
        .env("GOLIVE_SLACK_BOT_TOKEN", token)
        .env("GOLIVE_SLACK_SIGNING_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .expect("start golive serve")
}

async fn ready(addr: &str) {
    for _ in 0..400 {
        if try_get(addr, "/readyz").await.is_some_and(|a| a.status == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("golive serve on {addr} never became ready");
}

/// `/deploy TEXT` in #deploys, signed now: whether golive answered it 200.
async fn slash(addr: &str, text: &str, trigger: &str) -> bool {
    let (headers, body) = slash_command(SECRET, chrono::Utc::now().timestamp(), "C0DEPLOY", "U0DANA", text, trigger);
    let send = try_post(addr, "/slack/commands", "application/x-www-form-urlencoded", &headers, body.as_bytes());
    matches!(tokio::time::timeout(Duration::from_secs(5), send).await, Ok(Some(a)) if a.status == 200)
}

/// The note marker (`mark-t0n07`) a text carries, if any.
fn marker(text: &str) -> Option<String> {
    let at = text.find("mark-")?;
    Some(text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
}

/// #deploys' posts (not edits) in the order the fake took them.
fn posts(calls: &[Call]) -> Vec<Call> {
    calls.iter().filter(|c| c.ok && c.method == "chat.postMessage" && c.channel() == "C0DEPLOY").cloned().collect()
}

/// The processes of the story, killed when it ends however it ends.
struct Processes(Vec<Option<Child>>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in self.0.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `done` every 50 ms of wall time for at most `patience`.
async fn within<T, F: std::future::Future<Output = Option<T>>>(
    patience: Duration,
    what: &str,
    mut done: impl FnMut() -> F,
) -> T {
    let give_up = Instant::now() + patience;
    loop {
        if let Some(found) = done().await {
            return found;
        }
        assert!(Instant::now() < give_up, "never got {what} within {patience:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_the_channels_holder_mid_burst_loses_no_answered_command_and_repeats_at_most_one_post() {
    let root = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", root.path().join("golive.db").display());
    killed_holder(root.path(), &db, 2).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_postgres_lose_nothing_when_the_channels_holder_is_killed_mid_burst() {
    if crate::harness::postgres::server().is_none() {
        eprintln!("note: skipped: set {} to run replicas on PostgreSQL", crate::harness::postgres::URL_VAR);
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let db = crate::harness::postgres::fresh_schema().await;
    killed_holder(root.path(), &db, 3).await;
}

/// Bearer tokens of the processes, by index: the fake tells their posts apart by them.
const TOKENS: [&str; 3] = ["xoxb-one", "xoxb-two", "xoxb-three"];

/// The story over `count` processes on `db`, started in folders under `root`.
async fn killed_holder(root: &Path, db: &str, count: usize) {
    let fake = FakeSlack::start().await;
    let mut addrs = Vec::new();
    let mut children = Processes(Vec::new());
    for (n, token) in TOKENS[..count].iter().enumerate() {
        let dir = root.join(format!("p{n}"));
        std::fs::create_dir(&dir).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        // No status slot falls in the story (once a year), so #deploys gets only its notes.
        let config = crate::harness::process::config(&addr, &fake)
            .replace("cron = \"0 */30 * * * *\"", "cron = \"0 0 0 1 1 *\"");
        std::fs::write(dir.join("golive.toml"), config).unwrap();
        // The first creates the database and migrates it before the next opens it.
        children.0.push(Some(spawn(&dir, db, token)));
        ready(&addr).await;
        addrs.push(addr);
    }
    let logs = |root: &Path| {
        (0..count)
            .map(|n| std::fs::read_to_string(root.join(format!("p{n}/serve.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    assert!(slash(&addrs[0], "start v3.0.0", "start").await);

    // Two typists, each going round the processes.
    let mut typists = Vec::new();
    for t in 0..2 {
        let addrs = addrs.clone();
        typists.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            for n in 0..NOTES {
                let mark = format!("mark-t{t}n{n:02}");
                if slash(&addrs[(n + t) % addrs.len()], &format!("note {mark}"), &format!("note.{t}.{n}")).await {
                    answered.push(mark);
                }
            }
            answered
        }));
    }

    // Mid-burst, the process whose token the latest post came with holds #deploys: kill it.
    let (victim, before) = within(Duration::from_secs(30), "the burst's first posts", || {
        let sent = posts(&fake.peek_calls());
        let notes = sent.iter().filter(|c| marker(c.text()).is_some()).count();
        std::future::ready((notes >= 8).then(|| {
            let last = sent.last().unwrap();
            let token = last.authorization.as_deref().unwrap_or_default().trim_start_matches("Bearer ");
            (TOKENS.iter().position(|t| *t == token).unwrap_or(0), sent.len())
        }))
    })
    .await;
    let mut holder = children.0[victim].take().unwrap();
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let (killed, killed_at) = (Instant::now(), chrono::Utc::now());
    let survivors: Vec<String> = (0..count).filter(|&n| n != victim).map(|n| format!("Bearer {}", TOKENS[n])).collect();
    let mut answered = Vec::new();
    for typist in typists {
        answered.extend(typist.await.unwrap());
    }
    assert!(answered.len() > NOTES, "the survivors answered their share: {} answered", answered.len());

    // The survivor takes #deploys over once the dead holder's claim lapses, and sends the rest.
    let store = Store::open_existing(db).await.unwrap();
    let drained = || {
        let store = store.clone();
        async move {
            let rows = store.outbox().await.unwrap();
            rows.iter().all(|r| r.platform != "slack" || r.state != "pending").then_some(())
        }
    };
    let waited = Instant::now();
    if tokio::time::timeout(TAKEOVER, within(TAKEOVER, "every post sent", drained)).await.is_err() {
        panic!("posts still pending {TAKEOVER:?} after the kill; logs:\n{}", logs(root));
    }
    eprintln!("killed after {before} posts; all sent {:?} after the kill", waited.elapsed() + (waited - killed));
    let calls = fake.calls();
    let sent = posts(&calls);
    let first_after =
        sent.iter().skip(before).find(|c| survivors.iter().any(|s| c.authorization.as_deref() == Some(s.as_str())));
    let taken_over = first_after.expect("a survivor took #deploys over").at - killed_at;
    assert!(taken_over <= chrono::Duration::seconds(30), "taken over {taken_over} after the kill");

    // Every answered command is in the history once; an unanswered one (in flight at the
    // kill) at most once.
    let id = store.deployments(None, 1).await.unwrap()[0].id;
    let recorded: Vec<String> = store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::NoteAdded { text } => marker(&text),
            _ => None,
        })
        .collect();
    for mark in &answered {
        assert_eq!(recorded.iter().filter(|r| *r == mark).count(), 1, "{mark} answered 200: recorded once");
    }
    let distinct: std::collections::BTreeSet<&String> = recorded.iter().collect();
    assert_eq!(distinct.len(), recorded.len(), "no note recorded twice");

    // Every queued post reached Slack, in the order decided, with at most one repeat.
    let decided = crate::two_processes::decided(&store).await;
    assert!(decided.iter().all(|d| !d.is_empty()));
    let got: Vec<String> = sent.iter().map(|c| c.text().to_string()).collect();
    let mut once = got.clone();
    once.dedup();
    assert_eq!(once, decided, "every queued post, in the channel's order, repeats only back to back");
    assert!(got.len() <= decided.len() + 1, "at most one repeat for the one kill: {} posts", got.len());
    eprintln!("{} posts decided, {} sent, {} answered", decided.len(), got.len(), answered.len());
    let notes_on_slack = once.iter().filter(|t| marker(t).is_some()).count();
    assert_eq!(notes_on_slack, recorded.len(), "every recorded note posted");
    // The chain written by all of them holds.
    let verified = store.verify().await.unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    drop(children);
}
