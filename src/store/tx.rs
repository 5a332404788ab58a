//! The write transaction. Every change to the database goes through a `Tx`: it holds SQLite's
//! write lock from its first statement (`BEGIN IMMEDIATE`), so a command reads the state it
//! decides on and writes its events, messages, timers and answers in one serialised step,
//! across tasks and across processes sharing the file. Each table's statements live in that
//! table's module; what spans tables (appending events and rewriting the listing rows they
//! change) is put together here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::{Sqlite, Transaction};

use super::events::{AuditKey, ChainHead, StoredEvent};
use super::{Store, StoreError};
use crate::domain::{Deployment, Event};

/// One write transaction. Dropping it without `commit` rolls everything back.
pub struct Tx {
    pub(super) tx: Transaction<'static, Sqlite>,
    /// Released when the transaction ends (commit, or drop, which rolls back).
    _turn: tokio::sync::OwnedMutexGuard<()>,
    pub(super) audit_key: Option<AuditKey>,
    outbox_commits: Arc<AtomicU64>,
    /// Whether this transaction queued messages.
    pub(super) enqueued: bool,
}

impl Store {
    /// Starts a write transaction that holds SQLite's write lock from the first statement.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let turn = self.writers.clone().lock_owned().await;
        // Issue 17: never write into a file that was deleted or replaced under us.
        self.health.same_file()?;
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Tx {
            tx,
            _turn: turn,
            audit_key: self.audit_key.clone(),
            outbox_commits: self.outbox_commits.clone(),
            enqueued: false,
        })
    }

    /// How many of this process's commits so far queued messages.
    pub fn outbox_commits(&self) -> u64 {
        self.outbox_commits.load(Ordering::Acquire)
    }
}

impl Tx {
    /// Appends `events` (already folded into `after`) to deployment `id`, or to a new
    /// deployment when `id` is `None` and the first event starts one. Returns the id. The
    /// engine's writer batches these steps itself; this is the one-off form (imports, benches).
    pub async fn append(&mut self, id: Option<i64>, events: &[Event], after: &Deployment) -> Result<i64, StoreError> {
        let id = match id {
            Some(id) => id,
            None => self.insert_deployment(after).await?,
        };
        let mut head = self.chain_head().await?;
        let rows = events.iter().map(|e| head.chain(id, e, after)).collect::<Result<Vec<_>, _>>()?;
        self.append_events(&rows, &head, &[(id, after)]).await?;
        Ok(id)
    }

    /// Writes what a batch appended: the events (already chained, in order), the chain's new
    /// head, and the listing rows of the deployments they changed.
    pub async fn append_events(
        &mut self,
        rows: &[StoredEvent],
        head: &ChainHead,
        changed: &[(i64, &Deployment)],
    ) -> Result<(), StoreError> {
        self.insert_events(rows, head).await?;
        self.update_listings(changed).await
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        if self.enqueued {
            self.outbox_commits.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }
}
