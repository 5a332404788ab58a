//! The write transaction. Every change to the database goes through a `Tx`: it holds SQLite's
//! write lock from its first statement (`BEGIN IMMEDIATE`), so a command reads the state it
//! decides on and writes its events, messages, timers and answers in one serialised step,
//! across tasks and across processes sharing the file. Each table's statements live in that
//! table's module; what spans tables (appending events and rewriting the listing rows they
//! change) is put together here.
//!
//! A `Tx` runs on one direct SQLite connection (`direct.rs`) that lives on a thread of its own
//! (tokio-rusqlite); each hand-off to that thread costs context switches, which at one command
//! per batch were most of a command's CPU when sqlx handed over every statement and every row.
//! So a `Tx` hands over as little as it can: `begin` is one call (the lock, the chain's head,
//! the request keys already answered), each read is one call, and every write is buffered and
//! runs with `COMMIT` in one last call. A call that must answer now (a read, a new
//! deployment's id) runs what was buffered before it first, so statements still run in the
//! order they were issued.
//!
//! On PostgreSQL a `Tx` is a transaction on a pooled connection that first takes one
//! transaction-scoped advisory lock (`postgres/`), so the transactions of every replica are
//! applied one after another, as SQLite's write lock orders processes sharing a file: the
//! same reads at `begin`, the same buffered writes, run at `commit`. Each table's module gives
//! its statements for both (`Tx::write` and `Tx::write_pg`, `Tx::call` and `Tx::call_pg`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use rusqlite::{Connection, OptionalExtension};
use sqlx::PgConnection;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::direct::{self, Access};
use super::events::{AuditKey, ChainHead, Head, StoredEvent, HEAD};
use super::{outbox, postgres, requests, Readers, Store, StoreError};
use crate::domain::{Deployment, Event};

/// The write connection; the mutex around it is the queue of this process's transactions.
pub(super) struct Writer {
    /// Opened on the first write, so a process that only reads never opens it.
    conn: Option<tokio_rusqlite::Connection>,
    /// Read-only when the database URL says so (`mode=ro`): then every write is refused by
    /// SQLite itself, as the readers' connections refuse it.
    access: Access,
}

impl Writer {
    pub(super) fn new(url: &str) -> Writers {
        Arc::new(Mutex::new(Writer { conn: None, access: Access::of_url(url) }))
    }
}

/// Transactions of this process queue here, first come first served, before they ask SQLite
/// for its write lock. SQLite's own busy handler retries with growing sleeps and no queue, so
/// under load an unlucky command lost the lock again and again (over a second, measured in
/// BENCHMARKS.md). The delivery worker's one-statement updates and other processes on the same
/// file still meet the handler; queueing those too cost throughput in the benchmark and did
/// not shorten the tail further.
pub(super) type Writers = Arc<Mutex<Writer>>;

/// What the buffered writes did, counted as they ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Deliveries marked sent (`Tx::mark_sent`); fewer than asked when a claim was lost.
    pub marked: u64,
}

/// A write buffered until the next call to the connection's thread.
type Write = Box<dyn FnOnce(&Connection, &mut Written) -> rusqlite::Result<()> + Send + Sync>;

/// A write buffered until the next statement that must answer now, or `commit` (PostgreSQL).
type PgWrite = Box<dyn for<'c> FnOnce(&'c mut PgConnection, &'c mut Written) -> BoxFuture<'c, sqlx::Result<()>> + Send>;

/// The connection a transaction runs on, and what it has buffered for it.
enum Link {
    Sqlite {
        conn: tokio_rusqlite::Connection,
        writes: Vec<Write>,
    },
    /// With the runtime it began on: a `Tx` dropped outside it rolls back there.
    Postgres {
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
        writes: Vec<PgWrite>,
        runtime: tokio::runtime::Handle,
    },
}

/// A write transaction just begun, with what `Store::begin_for` read in the same call.
pub struct Begun {
    pub tx: Tx,
    /// The answers given before to the request keys asked for, by key.
    pub answered: HashMap<String, String>,
    /// The status post on screen of each deployment asked for (`None`: there is none).
    pub status_posts: HashMap<i64, Option<i64>>,
}

/// One write transaction. Dropping it without `commit` rolls everything back.
pub struct Tx {
    /// This process's turn and the connection; `None` once committed.
    turn: Option<OwnedMutexGuard<Writer>>,
    /// `None` only once `commit` has taken it.
    link: Option<Link>,
    written: Written,
    /// A SQLite write was buffered on a PostgreSQL transaction (a table module's missing
    /// branch): the commit is refused rather than the write silently lost.
    misrouted: bool,
    /// The chain head as read at `begin`.
    pub(super) stored_head: Option<Head>,
    /// Where the chain ends after the events this transaction appended, if it appended any.
    pub(super) appended: Option<ChainHead>,
    pub(super) audit_key: Option<AuditKey>,
    outbox_commits: Arc<AtomicU64>,
    /// Whether this transaction queued messages.
    pub(super) enqueued: bool,
}

impl From<tokio_rusqlite::Error> for StoreError {
    fn from(e: tokio_rusqlite::Error) -> StoreError {
        match e {
            tokio_rusqlite::Error::Rusqlite(e) => StoreError::Direct(e),
            other => StoreError::Thread(other.to_string()),
        }
    }
}

/// Ends a transaction SQLite still has open: after a failed statement or `COMMIT` (a full
/// disk), or one dropped without commit. A no-op otherwise.
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit() {
        // Nothing more can be done if this fails: SQLite has rolled back already, or the
        // connection is beyond use and its next statement says so.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// Runs the buffered PostgreSQL writes in order, counting what they did into `written`.
async fn run_writes_pg(conn: &mut PgConnection, writes: Vec<PgWrite>, written: &mut Written) -> sqlx::Result<()> {
    for write in writes {
        write(conn, written).await?;
    }
    Ok(())
}

/// Runs the buffered writes in order, counting what they did into `written`.
fn run_writes(conn: &Connection, writes: Vec<Write>, written: &mut Written) -> rusqlite::Result<()> {
    writes.into_iter().try_for_each(|write| write(conn, written))
}

impl Store {
    /// Starts a write transaction that holds SQLite's write lock from the first statement.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.begin_for(&[], &[]).await?.tx)
    }

    /// Starts a write transaction and reads, in the same call, what a batch is likely to ask
    /// first: the answers already given to any of `keys` (chat requests handled before), and
    /// the status post on screen of each of `deployments`.
    pub async fn begin_for(&self, keys: &[&str], deployments: &[i64]) -> Result<Begun, StoreError> {
        let mut turn = self.writers.clone().lock_owned().await;
        if let Readers::Postgres(pool) = &self.pool {
            let begun = postgres::begin(pool, keys, deployments).await?;
            let link = Link::Postgres { tx: begun.tx, writes: Vec::new(), runtime: tokio::runtime::Handle::current() };
            let tx = self.tx(turn, link, begun.head);
            return Ok(Begun { tx, answered: begun.answered, status_posts: begun.status_posts });
        }
        // Issue 17: never write into a file that was deleted or replaced under us.
        self.health.same_file()?;
        let conn = match &turn.conn {
            Some(conn) => conn.clone(),
            None => {
                let mut conn = self.open_direct(turn.access)?;
                direct::for_writes(&mut conn);
                turn.conn.insert(tokio_rusqlite::Connection::from(conn)).clone()
            }
        };
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let deployments = deployments.to_vec();
        let begun = conn
            .call(move |conn| {
                // A transaction left open (a Tx dropped outside a runtime) must not swallow this one.
                roll_back(conn);
                conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
                let read = || -> rusqlite::Result<_> {
                    let head = conn
                        .prepare_cached(HEAD)?
                        .query_row([], |r| {
                            Ok(Head { event_id: r.get(0)?, hash: r.get(1)?, keyed_from: r.get(2)?, seal: r.get(3)? })
                        })
                        .optional()?;
                    let status_posts = deployments
                        .iter()
                        .map(|&id| Ok((id, outbox::status_post_of(conn, id)?)))
                        .collect::<rusqlite::Result<_>>()?;
                    Ok((head, requests::answered(conn, &keys)?, status_posts))
                };
                read().inspect_err(|_| roll_back(conn)).map_err(Into::into)
            })
            .await;
        let (stored_head, answered, status_posts) = match begun {
            Ok(begun) => begun,
            Err(e) => {
                if matches!(e, tokio_rusqlite::Error::ConnectionClosed) {
                    // Its thread is gone; the next transaction opens a new one.
                    turn.conn = None;
                }
                return Err(e.into());
            }
        };
        let tx = self.tx(turn, Link::Sqlite { conn, writes: Vec::new() }, stored_head);
        Ok(Begun { tx, answered, status_posts })
    }

    fn tx(&self, turn: OwnedMutexGuard<Writer>, link: Link, stored_head: Option<Head>) -> Tx {
        Tx {
            turn: Some(turn),
            link: Some(link),
            written: Written::default(),
            misrouted: false,
            stored_head,
            appended: None,
            audit_key: self.audit_key.clone(),
            outbox_commits: self.outbox_commits.clone(),
            enqueued: false,
        }
    }

    /// Runs `f` as a write transaction of its own, on the write connection and in this
    /// process's queue of writers. Writes outside the engine's batches (the delivery worker's
    /// claims) go this way rather than through the readers' pool: there they met the batches'
    /// `BEGIN IMMEDIATE` in SQLite's busy handler, whose sleeps (1 ms, 2 ms, 5 ms …) were the
    /// tail of a command's latency; here they wait their turn like any batch.
    pub(super) async fn write_now<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let mut tx = self.begin().await?;
        let result = tx.call(f).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// [`Store::write_now`] for PostgreSQL: `f` runs in a write transaction of its own, under
    /// the write lock.
    pub(super) async fn write_now_pg<R: Send + 'static>(
        &self,
        f: impl for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
    ) -> Result<R, StoreError> {
        let mut tx = self.begin().await?;
        let result = tx.call_pg(f).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// How many of this process's commits so far queued messages.
    pub fn outbox_commits(&self) -> u64 {
        self.outbox_commits.load(Ordering::Acquire)
    }

    /// Closes the write connection, if it is open; the next write opens it again.
    pub(super) async fn close_writer(&self) {
        if let Some(conn) = self.writers.lock().await.conn.take() {
            // Closing fails only with statements still running; dropping it closes it then.
            let _ = conn.close().await;
        }
    }
}

impl Tx {
    /// Whether this transaction runs on PostgreSQL (table modules pick their statements by it).
    pub(super) fn on_postgres(&self) -> bool {
        matches!(self.link, Some(Link::Postgres { .. }))
    }

    /// Buffers a write on SQLite; it runs at the next call to the connection (at the latest,
    /// `commit`).
    pub(super) fn write(
        &mut self,
        write: impl FnOnce(&Connection, &mut Written) -> rusqlite::Result<()> + Send + Sync + 'static,
    ) {
        match &mut self.link {
            Some(Link::Sqlite { writes, .. }) => writes.push(Box::new(write)),
            _ => self.misrouted = true,
        }
    }

    /// Buffers a write on PostgreSQL; it runs before the next statement that must answer now
    /// (at the latest, `commit`).
    pub(super) fn write_pg(
        &mut self,
        write: impl for<'c> FnOnce(&'c mut PgConnection, &'c mut Written) -> BoxFuture<'c, sqlx::Result<()>>
            + Send
            + 'static,
    ) {
        match &mut self.link {
            Some(Link::Postgres { writes, .. }) => writes.push(Box::new(write)),
            _ => self.misrouted = true,
        }
    }

    fn refuse_misrouted(&self) -> Result<(), StoreError> {
        match self.misrouted {
            true => Err(StoreError::Thread("a write was buffered for the other database backend".into())),
            false => Ok(()),
        }
    }

    /// Runs what is buffered, then `f`, in one hand-off to the SQLite connection's thread.
    pub(super) async fn call<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.refuse_misrouted()?;
        let Some(Link::Sqlite { conn, writes }) = &mut self.link else {
            return Err(StoreError::Thread("a SQLite statement was run on a PostgreSQL transaction".into()));
        };
        let writes = std::mem::take(writes);
        let (written, result) = conn
            .call(move |conn| {
                let mut written = Written::default();
                let result = run_writes(conn, writes, &mut written).map_err(StoreError::from).and_then(|()| f(conn));
                Ok((written, result))
            })
            .await?;
        self.written.marked += written.marked;
        result
    }

    /// Runs what is buffered, then `f`, on the PostgreSQL transaction.
    pub(super) async fn call_pg<R: Send + 'static>(
        &mut self,
        f: impl for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.refuse_misrouted()?;
        let Some(Link::Postgres { tx, writes, .. }) = &mut self.link else {
            return Err(StoreError::Thread("a PostgreSQL statement was run on a SQLite transaction".into()));
        };
        run_writes_pg(tx, std::mem::take(writes), &mut self.written).await?;
        f(tx).await
    }

    /// Appends `events` (already folded into `after`) to deployment `id`, or to a new
    /// deployment when `id` is `None` and the first event starts one. Returns the id. The
    /// engine's writer batches these steps itself; this is the one-off form (imports, benches).
    pub async fn append(&mut self, id: Option<i64>, events: &[Event], after: &Deployment) -> Result<i64, StoreError> {
        let id = match id {
            Some(id) => id,
            None => self.insert_deployment(after).await?,
        };
        let mut head = self.chain_head()?;
        let rows = events.iter().map(|e| head.chain(id, e, after)).collect::<Result<Vec<_>, _>>()?;
        self.append_events(rows, &head, &[(id, after)]);
        Ok(id)
    }

    /// Buffers what a batch appended: the events (already chained, in order), the chain's new
    /// head, and the listing rows of the deployments they changed.
    pub fn append_events(&mut self, rows: Vec<StoredEvent>, head: &ChainHead, changed: &[(i64, &Deployment)]) {
        self.insert_events(rows, head);
        self.update_listings(changed);
    }

    /// Runs every buffered write and commits, in one call; says what the writes did. When
    /// anything fails (a full disk), the transaction is rolled back and the connection is
    /// ready for the next one.
    pub async fn commit(mut self) -> Result<Written, StoreError> {
        self.refuse_misrouted()?;
        let Some(link) = self.link.take() else {
            return Err(StoreError::Thread("the transaction was committed already".into()));
        };
        let written = match link {
            Link::Sqlite { conn, writes } => {
                let committed = conn
                    .call(move |conn| {
                        let mut written = Written::default();
                        let done = run_writes(conn, writes, &mut written)
                            .and_then(|()| conn.prepare_cached("COMMIT")?.execute([]).map(drop));
                        Ok(done.map(|()| written).inspect_err(|_| roll_back(conn)))
                    })
                    .await;
                // Whatever happened, the connection's thread has finished with this transaction.
                self.turn = None;
                committed??
            }
            Link::Postgres { mut tx, writes, .. } => {
                let mut written = Written::default();
                // A failed write drops `tx`, which rolls it back when the connection is next used.
                run_writes_pg(&mut tx, writes, &mut written).await?;
                tx.commit().await?;
                self.turn = None;
                written
            }
        };
        if self.enqueued {
            self.outbox_commits.fetch_add(1, Ordering::Release);
        }
        Ok(Written { marked: self.written.marked + written.marked })
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(turn) = self.turn.take() else { return };
        match self.link.take() {
            Some(Link::Postgres { tx, runtime, .. }) => {
                // The rollback runs before this process's next transaction may begin (it holds
                // `turn`): a transaction left open would hold the write lock for every replica.
                // It runs on the runtime the transaction began on, wherever this `Tx` is
                // dropped (sqlx needs one to hand the connection back to its pool).
                let _inside = runtime.enter();
                runtime.spawn(async move {
                    if let Err(e) = tx.rollback().await {
                        tracing::warn!(error = %e, "rolling back an abandoned write transaction failed");
                    }
                    drop(turn);
                });
            }
            Some(Link::Sqlite { conn, .. }) => {
                // Polled once, `call` has queued the rollback on the connection's thread, which
                // runs calls in order: it ends this transaction (and frees the file for other
                // processes) before the next `BEGIN`, queued only once `turn` is released below.
                // Its answer is not awaited, so the rollback is sent from here without a runtime.
                let _ = conn
                    .call(|conn| {
                        roll_back(conn);
                        Ok(())
                    })
                    .now_or_never();
                drop(turn);
            }
            None => drop(turn),
        }
    }
}
