//! PostgreSQL, for several `golive serve` replicas on one database: connecting, the
//! migrations in `migrations/postgres/`, and the write lock. The tables are SQLite's, and so is
//! the order of writes: every write transaction first takes one transaction-scoped advisory
//! lock ([`WRITE_LOCK`]), so the transactions of all replicas are applied one after another,
//! exactly as SQLite's write lock orders processes sharing a file. That keeps one hash chain
//! over the whole log with gap-free event ids, and it makes each request key, timer slot and
//! escalation step take effect once, whichever replica gets there first: the next one reads
//! what the first committed (READ COMMITTED: every statement sees what committed before it).
//!
//! The statements of a write transaction are in `writes.rs` and `reads.rs`; reading events
//! (a deployment's history, the audit's whole log) in `events.rs`.

mod events;
mod reads;
mod writes;

pub(super) use events::{events_after, PgLog};
pub(super) use reads::{begin, due_timers, insert_deployment, open_in_channel, status_post, untimed_open_deployments};
pub(super) use writes::*;

use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::StoreError;

/// The PostgreSQL migrations, tolerating versions only a newer golive knows (`Store::migrate`).
pub(super) static MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| super::tolerant(sqlx::migrate!("./migrations/postgres")));

/// The advisory lock every write transaction holds until it ends ("gl" in ASCII), with the
/// `chain_head` table's oid as its second key.
pub(super) const WRITE_LOCK: i32 = 0x676c;

/// Connections per process: the one write transaction at a time (this process's writers
/// queue before they take one) and the readers (web pages, the delivery worker, metrics).
const CONNECTIONS: u32 = 8;

/// How long the server lets a session sit idle inside a transaction before it ends it.
const IDLE_IN_TRANSACTION: &str = "30s";

/// Opens a pool on the database at `url`.
pub(super) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| StoreError::Url(super::redacted(url)))?
        // A replica cut off from the server in the middle of a write transaction would hold
        // every replica's write lock until the server notices the dead session; golive's own
        // transactions never sit idle for more than milliseconds.
        .options([("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION)]);
    let pool = PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        // A replica that lost its database answers /readyz with 503 within this, rather than
        // holding requests until the database comes back.
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Applies the migrations. sqlx takes an advisory lock of its own around them, so replicas
/// starting together apply each migration once.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}
