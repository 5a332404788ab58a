//! The keyed audit: events written with `GOLIVE_AUDIT_KEY` are checked by `golive audit verify`
//! (a real process) with the same key, and what an attacker with write access but without the
//! key tried in the outside review is caught: cutting the log short and fixing up the head,
//! deleting every event, recomputing the whole chain with plain SHA-256 after an edit, editing
//! the `deployments` table, and times that run backwards. Without a key it says it is unkeyed.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use crate::harness::Ctx;
use golive::clock::Clock;
use golive::config::Config;
use golive::domain::{Actor, Platform};
use golive::engine::{Engine, Input};
use golive::store::{AuditKey, Store, StoredEvent, GENESIS};

const KEY: &str = "audit-test-key";

fn verify(url: &str, key: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_golive"));
    cmd.args(["audit", "verify", "--db", url]).env_remove("GOLIVE_CONFIG").env_remove("GOLIVE_AUDIT_KEY");
    if let Some(key) = key {
        cmd.env("GOLIVE_AUDIT_KEY", key);
    }
    let out: Output = cmd.output().expect("run golive audit verify");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A deployment with a few events, written with `key`.
async fn history(key: Option<&str>) -> (Ctx, String) {
    let ctx = Ctx::new().await;
    let store = Store::open(&ctx.url).await.unwrap().with_audit_key(key.map(|k| AuditKey::new(k.as_bytes())));
    let engine = Engine::new(store, Arc::new(Config::example()), Arc::new(ctx.clock.clone()));
    let channel = ctx.channel.clone();
    for (who, text) in [("dana", "start v5.0.0"), ("dana", "phase start pre-deployment"), ("bruno", "check tests")] {
        let outcome = engine.submit(Input::text(&channel, &Actor::new(Platform::Console, who), text)).await.unwrap();
        assert!(!outcome.refused, "{text}: {:?}", outcome.reply);
        ctx.clock.advance(Duration::from_secs(60));
    }
    engine.submit(Input::text(&channel, &Actor::new(Platform::Console, "sam"), "signoff security")).await.unwrap();
    let url = ctx.url.clone();
    (ctx, url)
}

async fn sql(url: &str, statements: &[&str]) {
    let store = Store::open_existing(url).await.unwrap();
    for s in statements {
        crate::on_pool!(store, |pool| sqlx::query(s).execute(pool).await.map(drop)).unwrap();
    }
    store.close().await;
}

#[tokio::test]
async fn a_keyed_chain_verifies_with_its_key_and_only_with_it() {
    let (_ctx, url) = history(Some(KEY)).await;
    let (ok, said) = verify(&url, Some(KEY));
    assert!(ok, "{said}");
    assert!(said.contains("keyed with GOLIVE_AUDIT_KEY from the first event"), "{said}");
    let (ok, said) = verify(&url, None);
    assert!(!ok && said.contains("set GOLIVE_AUDIT_KEY"), "{said}");
    let (ok, said) = verify(&url, Some("another key"));
    assert!(!ok, "{said}");
}

#[tokio::test]
async fn an_unkeyed_chain_says_so_plainly() {
    let (_ctx, url) = history(None).await;
    let (ok, said) = verify(&url, None);
    assert!(ok, "{said}");
    assert!(said.contains("UNKEYED"), "{said}");
}

#[tokio::test]
async fn cutting_the_log_short_and_fixing_up_the_head_is_caught() {
    let (_ctx, url) = history(Some(KEY)).await;
    sql(
        &url,
        &[
            "DELETE FROM events WHERE id = (SELECT MAX(id) FROM events)",
            "UPDATE chain_head SET event_id = (SELECT MAX(id) FROM events), hash = (SELECT hash FROM events ORDER BY id DESC LIMIT 1)",
        ],
    )
    .await;
    let (ok, said) = verify(&url, Some(KEY));
    assert!(!ok && said.contains("TAMPERED") && said.contains("seal"), "{said}");
}

#[tokio::test]
async fn deleting_every_event_and_the_head_is_caught() {
    let (_ctx, url) = history(Some(KEY)).await;
    sql(&url, &["DELETE FROM events", "DELETE FROM chain_head"]).await;
    let (ok, said) = verify(&url, Some(KEY));
    assert!(!ok && said.contains("TAMPERED") && said.contains("no events"), "{said}");
}

/// What an attacker without the key can do to a chain: rewrite who did everything (when
/// `actor_name` is given) and recompute every hash and the head with plain SHA-256,
/// optionally removing the keyed record too.
pub(crate) async fn recompute_plainly(url: &str, actor_name: Option<&str>, strip_seal: bool) {
    let store = Store::open_existing(url).await.unwrap();
    let all = "SELECT * FROM events ORDER BY id";
    let mut rows: Vec<StoredEvent> = crate::on_pool!(store, |pool| sqlx::query_as(all).fetch_all(pool).await).unwrap();
    let mut prev = GENESIS.to_string();
    for row in &mut rows {
        if let Some(name) = actor_name {
            row.actor_name = Some(name.into());
        }
        row.prev_hash = prev.clone();
        row.hash = row.compute_hash();
        prev = row.hash.clone();
        let update = "UPDATE events SET actor_name = $1, prev_hash = $2, hash = $3 WHERE id = $4";
        crate::on_pool!(store, |pool| sqlx::query(update)
            .bind(&row.actor_name)
            .bind(&row.prev_hash)
            .bind(&row.hash)
            .bind(row.id)
            .execute(pool)
            .await
            .map(drop))
        .unwrap();
    }
    let head = "UPDATE chain_head SET hash = $1";
    crate::on_pool!(store, |pool| sqlx::query(head).bind(&prev).execute(pool).await.map(drop)).unwrap();
    if strip_seal {
        let unsealed = "UPDATE chain_head SET keyed_from = NULL, seal = NULL";
        crate::on_pool!(store, |pool| sqlx::query(unsealed).execute(pool).await.map(drop)).unwrap();
    }
    store.close().await;
}

#[tokio::test]
async fn recomputing_the_chain_without_the_key_is_caught() {
    let (_ctx, url) = history(Some(KEY)).await;
    recompute_plainly(&url, Some("mallory"), false).await;
    let (ok, said) = verify(&url, Some(KEY));
    assert!(!ok && said.contains("TAMPERED") && said.contains("event #1"), "{said}");

    // Stripping the keyed record as well leaves a chain that verify calls unkeyed, and with
    // the key set that is a failure, not a pass.
    let (_ctx, url) = history(Some(KEY)).await;
    recompute_plainly(&url, Some("mallory"), true).await;
    let (ok, said) = verify(&url, Some(KEY));
    assert!(!ok && said.contains("UNKEYED"), "{said}");
}

#[tokio::test]
async fn an_edited_deployments_table_is_caught() {
    for edit in ["UPDATE deployments SET status = 'completed'", "UPDATE deployments SET release = 'v0.0.1'"] {
        let (_ctx, url) = history(Some(KEY)).await;
        sql(&url, &[edit]).await;
        let (ok, said) = verify(&url, Some(KEY));
        assert!(!ok && said.contains("the deployments table says"), "{edit}: {said}");
    }
}

#[tokio::test]
async fn times_never_run_backwards_in_the_record_and_verify_flags_it_when_they_do() {
    let (ctx, url) = history(None).await;
    // The clock jumps back an hour: the next event is stamped with its predecessor's time.
    ctx.clock.set(ctx.clock.now() - chrono::Duration::hours(1));
    let outcome = ctx.say("olga", "note after the jump").await;
    assert!(!outcome.refused);
    let events = ctx.store.events(1).await.unwrap();
    let times: Vec<_> = events.iter().map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let (ok, said) = verify(&url, None);
    assert!(ok, "{said}");

    // A chain whose times do run backwards (rewritten and recomputed, as only an unkeyed
    // chain can be) is flagged.
    sql(&url, &["UPDATE events SET at = '2020-01-01T00:00:00.000Z' WHERE id = 3"]).await;
    recompute_plainly(&url, None, false).await;
    let (ok, said) = verify(&url, None);
    assert!(!ok && said.contains("earlier than the event before it"), "{said}");
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_keyed_chain_verifies_with_its_key_and_only_with_it,
    an_unkeyed_chain_says_so_plainly,
    cutting_the_log_short_and_fixing_up_the_head_is_caught,
    deleting_every_event_and_the_head_is_caught,
    recomputing_the_chain_without_the_key_is_caught,
    an_edited_deployments_table_is_caught,
    times_never_run_backwards_in_the_record_and_verify_flags_it_when_they_do,
);
