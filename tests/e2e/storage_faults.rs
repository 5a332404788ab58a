//! Storage faults under a real `golive serve` process: a full disk (a small tmpfs filled up),
//! the database file deleted or replaced under the running server, and a damaged file at
//! start. Meanwhile `/readyz` says 503 and commands are refused with a clear answer; once the
//! fault is gone both work again without a restart. A post Slack took while its delivery
//! could not be recorded is not sent again and again.

use std::time::Duration;

use crate::harness::fake_slack::Call;
use crate::harness::http::Answer;
use crate::harness::process::{Served, Tmpfs};
use golive::domain::EventKind;
use golive::store::Store;

const PATIENCE: Duration = Duration::from_secs(10);

fn accepted(answer: &Option<Answer>) -> bool {
    answer.as_ref().is_some_and(|a| a.status == 200 && a.body.is_empty())
}

fn refused_clearly(answer: &Option<Answer>) -> bool {
    answer.as_ref().is_some_and(|a| a.status == 200 && a.body.contains("could not record that just now"))
}

/// Polls `/readyz` until it answers `status` (golive's answer is what matters, not how soon).
async fn readyz(golive: &Served, status: u16) -> String {
    let mut last = String::new();
    // A bounded poll of an external process: it says how its disk is only on /readyz.
    for _ in 0..100 {
        if let Some(a) = golive.get("/readyz").await {
            if a.status == status {
                return a.body;
            }
            last = format!("{} {}", a.status, a.body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}; last: {last}\n{}", golive.log_tail());
}

async fn notes(db: &std::path::Path) -> Vec<String> {
    let store = Store::open_existing(&format!("sqlite://{}", db.display())).await.unwrap();
    let events = store.events(1).await.unwrap();
    store.close().await;
    events
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::NoteAdded { text } => Some(text),
            _ => None,
        })
        .collect()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_survived_without_a_restart() {
    let Some(fs) = Tmpfs::mount("3m") else { return };
    let golive = Served::start(&fs.path, "golive.db", "").await;
    readyz(&golive, 200).await;
    assert!(accepted(&golive.slash("U0DANA", "start v1.0.0", "disk.0", PATIENCE).await));

    let filler = fs.fill();
    let text = format!("note while full {}", "x".repeat(3000));
    let refused = golive.slash("U0OPS", &text, "disk.1", PATIENCE).await;
    assert!(refused_clearly(&refused), "{refused:?}");
    let why = readyz(&golive, 503).await;
    assert!(why.contains("not writable"), "{why}");

    std::fs::remove_file(filler).unwrap();
    readyz(&golive, 200).await;
    let again = golive.slash("U0OPS", "note after the disk was freed", "disk.2", PATIENCE).await;
    assert!(accepted(&again), "commands work again without a restart: {again:?}");
    drop(golive);
    assert_eq!(notes(&fs.path.join("golive.db")).await, ["after the disk was freed"]);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_slack_took_while_the_disk_was_full_is_not_sent_again_and_again() {
    let Some(fs) = Tmpfs::mount("3m") else { return };
    let golive = Served::start(&fs.path, "golive.db", "").await;
    assert!(accepted(&golive.slash("U0DANA", "start v1.0.0", "post.0", PATIENCE).await));
    let started = |calls: &[Call]| calls.iter().any(|c| c.ok && c.text().contains("v1.0.0"));
    golive.fake.wait_for("the start announced", Duration::from_secs(5), started).await;
    assert!(started(&golive.fake.peek_calls()), "the start announcement arrives");

    // Slack holds the next post while the disk fills, then takes it: golive cannot record it.
    let held = golive.fake.hold();
    assert!(accepted(&golive.slash("U0OPS", "note unrecordable", "post.1", PATIENCE).await));
    // A bounded poll: a call held at the gate has not arrived yet, so no arrival wakes this.
    for _ in 0..100 {
        if golive.fake.waiting() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(golive.fake.waiting(), 1, "the post is on its way");
    let filler = fs.fill();
    drop(held);
    // The delivery worker tries again every 5 s while it cannot record: two more passes.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let sent = |what: &str| {
        let posts = golive.fake.accepted("chat.postMessage");
        posts.iter().filter(|c| c.text().starts_with("Note from") && c.text().contains(what)).count()
    };
    assert_eq!(sent("unrecordable"), 1, "sent once while its delivery could not be recorded");

    std::fs::remove_file(filler).unwrap();
    readyz(&golive, 200).await;
    assert!(accepted(&golive.slash("U0OPS", "note the channel moves on", "post.2", PATIENCE).await));
    let moved_on = |calls: &[Call]| calls.iter().any(|c| c.ok && c.text().contains("the channel moves on"));
    golive.fake.wait_for("the next post", Duration::from_secs(10), moved_on).await;
    assert_eq!(sent("moves on"), 1, "the next post goes out");
    assert_eq!(sent("unrecordable"), 1, "and the held one was not sent again");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_deleted_or_replaced_under_the_server_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("golive.db");
    let golive = Served::start(dir.path(), "golive.db", "").await;
    readyz(&golive, 200).await;
    assert!(accepted(&golive.slash("U0DANA", "start v1.0.0", "del.0", PATIENCE).await));

    // Deleted (moved away: the server's open file is no longer at the path).
    let away = dir.path().join("golive.db.away");
    std::fs::rename(&db, &away).unwrap();
    let why = readyz(&golive, 503).await;
    assert!(why.contains("deleted"), "{why}");
    let refused = golive.slash("U0OPS", "note into the void", "del.1", PATIENCE).await;
    assert!(refused_clearly(&refused), "{refused:?}");
    // Put back: ready again, commands work, without a restart.
    std::fs::rename(&away, &db).unwrap();
    readyz(&golive, 200).await;
    assert!(accepted(&golive.slash("U0OPS", "note back again", "del.2", PATIENCE).await));

    // Replaced by another file (a copy, as a restore from backup would be).
    let copy = dir.path().join("golive.db.copy");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::rename(&copy, &db).unwrap();
    let why = readyz(&golive, 503).await;
    assert!(why.contains("replaced"), "{why}");
    assert!(refused_clearly(&golive.slash("U0OPS", "note into the copy", "del.3", PATIENCE).await));
    drop(golive);
    assert_eq!(notes(&db).await, ["back again"], "nothing was answered OK and then lost");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_damaged_before_start_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("golive.db");
    {
        let golive = Served::start(dir.path(), "golive.db", "").await;
        assert!(accepted(&golive.slash("U0DANA", "start v1.0.0", "bad.0", PATIENCE).await));
        for n in 0..40 {
            let note = format!("note {n} {}", "filler ".repeat(100));
            assert!(accepted(&golive.slash("U0OPS", &note, &format!("bad.n{n}"), PATIENCE).await));
        }
    }
    // Checkpointed into the main file, then a page in the middle overwritten.
    let store = Store::open_existing(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.sqlite_pool().expect("a SQLite store")).await.unwrap();
    store.close().await;
    let mut bytes = std::fs::read(&db).unwrap();
    let pages = bytes.len() / 4096;
    assert!(pages > 8, "{pages} pages");
    let middle = pages / 2 * 4096;
    bytes[middle..middle + 4096].fill(0x5A);
    std::fs::write(&db, bytes).unwrap();

    let golive = Served::start(dir.path(), "golive.db", "").await;
    let why = readyz(&golive, 503).await;
    assert!(why.contains("integrity"), "{why}");
}
