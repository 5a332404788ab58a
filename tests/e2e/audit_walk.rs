//! `golive audit verify` (a real process) names every kind of damage its walk checks for, each
//! with its own message: a broken link, a column of the wrong type, a gap in a deployment's
//! sequence, a kind that does not match its payload, an unreadable payload, an actor that does
//! not decode, a history that does not fold, and a missing chain head. The edits that get past
//! the hashes are made as an attacker without a key would: the whole chain recomputed with
//! plain SHA-256. A log of several thousand events is read in chunks on several threads; an
//! edit deep inside it is still named exactly, and reading such a deployment (decoded on a
//! second thread) gets every event in order, or names the row that does not decode.

use std::process::Command;

use crate::harness::Ctx;
use golive::domain::{Deployment, Event, EventKind};
use golive::store::Store;

fn verify(url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["audit", "verify", "--db", url])
        .env_remove("GOLIVE_CONFIG")
        .env_remove("GOLIVE_AUDIT_KEY")
        .output()
        .expect("run golive audit verify");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A deployment of a few events, unkeyed.
async fn history() -> Ctx {
    let ctx = Ctx::new().await;
    for (who, text) in [("dana", "start v5.0.0"), ("dana", "phase start pre-deployment"), ("bruno", "check tests")] {
        assert!(!ctx.say(who, text).await.refused, "{text}");
    }
    assert!(!ctx.say("olga", "note all fine").await.refused);
    ctx
}

async fn sql(url: &str, statements: &[&str]) {
    let store = Store::open_existing(url).await.unwrap();
    for s in statements {
        crate::on_pool!(store, |pool| sqlx::query(s).execute(pool).await.map(drop)).unwrap();
    }
    store.close().await;
}

/// Recomputes every hash and the head with plain SHA-256, as anyone who can write an
/// unkeyed database can.
async fn recompute(url: &str) {
    crate::audit_keyed::recompute_plainly(url, None, false).await;
}

#[tokio::test]
async fn every_kind_of_damage_is_named_with_its_own_message() {
    // (the edit, whether the chain is then recomputed to hide it, what verify must say)
    let cases: &[(&str, bool, &str)] = &[
        (
            "UPDATE events SET prev_hash = hash WHERE id = 3",
            false,
            "event #3 (deployment 1, seq 3): its link to the previous event is broken",
        ),
        (
            "UPDATE events SET seq = 'three' WHERE id = 3",
            false,
            "event #3 (deployment 1, seq 0): its content does not match its hash",
        ),
        (
            "UPDATE events SET at = X'00' WHERE id = 2",
            false,
            "event #2 (deployment 1, seq 2): its content does not match its hash",
        ),
        (
            "UPDATE events SET seq = 9 WHERE id = 4",
            true,
            "event #4 (deployment 1, seq 9): expected seq 4 for deployment 1",
        ),
        (
            "UPDATE events SET kind = 'note_added' WHERE id = 2",
            true,
            "event #2 (deployment 1, seq 2): kind `note_added` but payload of `phase_started`",
        ),
        (
            "UPDATE events SET payload = '{\"kind\": ' WHERE id = 2",
            true,
            "event #2 (deployment 1, seq 2): unreadable payload",
        ),
        (
            "UPDATE events SET actor = 'nobody' WHERE id = 2",
            true,
            "deployment 1: event #2 is unreadable: actor `nobody`",
        ),
        (
            "UPDATE events SET payload = replace(payload, 'pre-deployment', 'no-such-phase') WHERE id = 2",
            true,
            "deployment 1: its history does not fold: event 2 (`phase_started`) does not fit the deployment's state",
        ),
        ("DELETE FROM chain_head", false, "the chain head record is missing"),
    ];
    for (edit, hide, expected) in cases {
        let ctx = history().await;
        if ctx.store.is_postgres() && (edit.contains("'three'") || edit.contains("X'00'")) {
            // PostgreSQL's typed columns refuse a value of the wrong type: nobody can store one.
            continue;
        }
        let (ok, said) = verify(&ctx.url);
        assert!(ok, "before `{edit}`: {said}");
        sql(&ctx.url, &[edit]).await;
        if *hide {
            recompute(&ctx.url).await;
        }
        let (ok, said) = verify(&ctx.url);
        assert!(
            !ok && said.contains("TAMPERED: ") && said.contains(expected),
            "`{edit}`: expected {expected:?}, got {said}"
        );
    }
}

#[tokio::test]
async fn a_long_log_read_in_chunks_names_an_edit_deep_inside_it() {
    let ctx = history().await;
    // Thousands of notes appended to the deployment in one transaction: several chunks of
    // the audit's reader, and a deployment that `show` decodes on a second thread.
    let mut state = ctx.store.load(1).await.unwrap().state;
    let last = ctx.store.events(1).await.unwrap().pop().unwrap();
    let notes: Vec<Event> = (1..=6000)
        .map(|n| Event {
            seq: last.seq + n,
            at: last.at + chrono::Duration::seconds(n),
            actor: last.actor.clone(),
            kind: EventKind::NoteAdded { text: format!("note {n} | with a pipe") },
        })
        .collect();
    for event in &notes {
        state.apply(event).unwrap();
    }
    let mut tx = ctx.store.begin().await.unwrap();
    tx.append(Some(1), &notes, &state).await.unwrap();
    tx.commit().await.unwrap();

    let events = ctx.store.events(1).await.unwrap();
    assert_eq!(events.len() as i64, last.seq + 6000);
    assert!(events.windows(2).all(|w| w[1].seq == w[0].seq + 1), "in order, none lost");
    assert_eq!(Deployment::from_events(&events).unwrap().notes.len(), state.notes.len());
    assert_eq!(ctx.store.events_after(1, last.seq + 5990).await.unwrap().len(), 10);
    let (ok, said) = verify(&ctx.url);
    assert!(ok && said.contains(&format!("ok: {} events over 1 deployment", last.seq + 6000)), "{said}");

    let id = 5000;
    sql(&ctx.url, &[&format!("UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE id = {id}")]).await;
    let (ok, said) = verify(&ctx.url);
    assert!(
        !ok && said
            .contains(&format!("TAMPERED: event #{id} (deployment 1, seq {id}): its content does not match its hash")),
        "{said}"
    );
    // Reading the deployment, decoded on a second thread, names the same row: its payload
    // no longer parses.
    let err = ctx.store.events(1).await.unwrap_err().to_string();
    assert!(err.contains(&format!("event #{id} is unreadable: payload")), "{err}");
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    every_kind_of_damage_is_named_with_its_own_message,
    a_long_log_read_in_chunks_names_an_edit_deep_inside_it
);
