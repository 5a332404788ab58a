//! SQLite storage through sqlx: the chained event log, the per-deployment projection used for
//! listing, and the audit that re-checks the chain. Migrations in `migrations/` are applied on
//! open. Writers take `BEGIN IMMEDIATE`, so a command reads the state it decides on and appends
//! its events in one serialised step, across tasks and across processes sharing the file.

mod audit;
mod batch;
mod chain;
mod health;
mod outbox;
mod pages;
mod read;
mod vitals;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Sqlite, SqlitePool, Transaction};
use thiserror::Error;

pub use audit::{AuditFailure, AuditReport};
pub use batch::ChainHead;
pub use chain::{AuditKey, StoredEvent, GENESIS, KEY_VAR as AUDIT_KEY_VAR};
pub use outbox::{Action, Delivered, NewMessage, OutboxItem, OutboxRow, Payload, Queued};
pub use pages::{ListPage, ListQuery};
pub use vitals::Vitals;

use crate::domain::deployment::FoldError;
use crate::domain::{Actor, Channel, Deployment, Event, EventKind, Platform};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// SQLite binds at most 32,766 values per statement; multi-row inserts stay well below it.
const ROWS_PER_INSERT: usize = 500;

const OPEN_IN_CHANNEL: &str = "SELECT id FROM deployments WHERE platform = ? AND channel = ? AND ended_at IS NULL";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("could not apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("`{0}` is not a usable database URL (write e.g. sqlite://golive.db)")]
    Url(String),
    #[error("event #{id} is unreadable: {why}; run `golive audit verify`")]
    Corrupt { id: i64, why: String },
    #[error("deployment {id}'s history does not fold: {source}; run `golive audit verify`")]
    Fold { id: i64, source: FoldError },
    #[error("`{0}` is not a golive database, or its migrations are not applied (`golive migrate`)")]
    NotGolive(String),
    #[error("there is no database at {0}")]
    Missing(String),
    #[error("no deployment {0}")]
    NoSuchDeployment(i64),
    #[error("another deployment was opened in this channel at the same moment; try again")]
    ChannelTaken,
    #[error("{0}")]
    Chain(String),
    #[error("the database file {0} was deleted under the running server; restore it, or restart golive")]
    Deleted(String),
    #[error("the database file {0} was replaced under the running server; restart golive to use the new one")]
    Replaced(String),
    #[error("the database failed its integrity check (PRAGMA quick_check) at start: {0}")]
    Damaged(String),
}

/// A deployment as listed by `golive history`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: i64,
    pub release: String,
    pub plan: String,
    pub platform: String,
    pub channel: String,
    pub lead: String,
    pub lead_name: Option<String>,
    pub status: String,
    pub progress: i64,
    pub started_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
}

/// The deployment's identity in the database and its folded state.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub id: i64,
    pub state: Deployment,
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// The one connection write transactions use. Kept apart from the readers' so its page
    /// cache stays warm: in WAL mode a connection drops its cache whenever another one wrote,
    /// and a writer that took any pooled connection re-read its pages on most commits.
    writer: SqlitePool,
    /// Transactions of this process queue here, first come first served, before they ask
    /// SQLite for its write lock. SQLite's own busy handler retries with growing sleeps and
    /// no queue, so under load an unlucky command lost the lock again and again (over a
    /// second, measured in BENCHMARKS.md). The delivery worker's one-statement updates and
    /// other processes on the same file still meet the handler; queueing those too cost
    /// throughput in the benchmark and did not shorten the tail further.
    writers: Arc<tokio::sync::Mutex<()>>,
    /// `GOLIVE_AUDIT_KEY`, read when the database is opened: every writer keys the chain.
    audit_key: Option<AuditKey>,
    /// Which file was opened and whether it was found damaged (`health`).
    health: Arc<health::Health>,
    /// Counts this process's commits that queued messages: the delivery worker reads the
    /// outbox again only when it moved (or now and then, for other processes' rows).
    outbox_commits: Arc<AtomicU64>,
}

/// Times are stored as RFC 3339 UTC with milliseconds: sortable as text, hashed as text.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(id: i64, s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt { id, why: format!("time `{s}`: {e}") })
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens an existing database for reading and checking; never creates one.
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if !path.is_empty() && path != ":memory:" && !std::path::Path::new(path).exists() {
            return Err(StoreError::Missing(path.to_string()));
        }
        let store = Store::connect_with(url, false).await?;
        if !store.is_migrated().await? {
            return Err(StoreError::NotGolive(url.to_string()));
        }
        Ok(store)
    }

    /// Opens (creating the file if missing) without migrating.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, true).await
    }

    async fn connect_with(url: &str, create: bool) -> Result<Store, StoreError> {
        let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
        let file = health::file_of(&url);
        // The file is created once, here (an empty file is an empty SQLite database); the
        // pool's connections never create one, so a database deleted under the running server
        // is not silently replaced by an empty one when the pool opens a new connection.
        if let Some(path) = file.as_deref().filter(|p| create && !p.exists()) {
            std::fs::File::create(path).map_err(sqlx::Error::Io)?;
        }
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|_| StoreError::Url(url.clone()))?
            .create_if_missing(create && file.is_none())
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a command acknowledged to a user survives a power cut too.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool_options = |connections| {
            SqlitePoolOptions::new()
                .max_connections(connections)
                // A local file needs no ping before each use (a round trip to the connection's
                // thread per statement); a connection that broke fails its statement instead.
                .test_before_acquire(false)
                // A transaction whose COMMIT failed (a full disk) can leave its connection stuck
                // "in a transaction" that SQLite already rolled back; such a connection is closed
                // and replaced instead of failing every later `BEGIN`.
                .after_release(|conn, _| {
                    Box::pin(async move {
                        if conn.is_in_transaction() {
                            // A rollback may still be queued on the connection: let it run first.
                            conn.ping().await?;
                        }
                        Ok(!conn.is_in_transaction())
                    })
                })
        };
        let pool = pool_options(4).connect_with(options.clone()).await?;
        let writer = pool_options(1).connect_with(options).await?;
        let health = health::Health::opened(file.as_deref());
        Ok(Store {
            pool,
            writer,
            writers: Arc::default(),
            audit_key: AuditKey::from_env(),
            health,
            outbox_commits: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// True when every migration this binary knows is applied.
    pub async fn is_migrated(&self) -> Result<bool, StoreError> {
        let applied: Vec<(i64,)> = match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(&self.pool)
            .await
        {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        Ok(MIGRATOR.iter().all(|m| applied.iter().any(|(v,)| *v == m.version)))
    }

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

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Deployments, newest first.
    /// The newest deployments first; `channel` is a channel id or `platform:id`, as
    /// `golive history` prints it.
    pub async fn deployments(&self, channel: Option<&str>, limit: i64) -> Result<Vec<DeploymentRow>, StoreError> {
        let rows = sqlx::query_as::<_, DeploymentRow>(
            "SELECT * FROM deployments WHERE (?1 IS NULL OR channel = ?1 OR platform || ':' || channel = ?1) \
             ORDER BY id DESC LIMIT ?2",
        )
        .bind(channel)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    pub async fn deployment_row(&self, id: i64) -> Result<DeploymentRow, StoreError> {
        sqlx::query_as::<_, DeploymentRow>("SELECT * FROM deployments WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NoSuchDeployment(id))
    }

    /// A deployment's events in order, read a page at a time (`read.rs`).
    pub async fn events(&self, id: i64) -> Result<Vec<Event>, StoreError> {
        let rows = read::all(&mut *self.pool.acquire().await?, Some(id)).await?;
        rows.iter().map(decode).collect()
    }

    pub async fn load(&self, id: i64) -> Result<Loaded, StoreError> {
        let events = self.events(id).await?;
        if events.is_empty() {
            return Err(StoreError::NoSuchDeployment(id));
        }
        let state = Deployment::from_events(&events).map_err(|source| StoreError::Fold { id, source })?;
        Ok(Loaded { id, state })
    }

    /// The channel's open deployment, for reading (no write lock).
    pub async fn open_deployment(&self, channel: &Channel) -> Result<Option<Loaded>, StoreError> {
        let id: Option<(i64,)> = sqlx::query_as(OPEN_IN_CHANNEL)
            .bind(channel.platform.as_str())
            .bind(&channel.id)
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some((id,)) => self.load(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Every deployment that has not ended, for the scheduler.
    pub async fn open_deployments(&self) -> Result<Vec<Loaded>, StoreError> {
        let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM deployments WHERE ended_at IS NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(self.load(id).await?);
        }
        Ok(out)
    }

    pub async fn verify(&self) -> Result<Result<AuditReport, AuditFailure>, StoreError> {
        audit::verify(&self.pool, self.audit_key.as_ref()).await
    }

    /// Refuses when the database file was deleted or replaced under the running process.
    pub fn same_file(&self) -> Result<(), StoreError> {
        self.health.same_file()
    }

    /// Uses `key` for the chain instead of `GOLIVE_AUDIT_KEY` (tests, tools).
    pub fn with_audit_key(mut self, key: Option<AuditKey>) -> Store {
        self.audit_key = key;
        self
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Turns a stored row back into a domain event.
fn decode(row: &StoredEvent) -> Result<Event, StoreError> {
    let kind: EventKind = serde_json::from_str(&row.payload)
        .map_err(|e| StoreError::Corrupt { id: row.id, why: format!("payload: {e}") })?;
    let (platform, id) = row
        .actor
        .split_once(':')
        .and_then(|(p, id)| Some((Platform::parse(p)?, id)))
        .ok_or_else(|| StoreError::Corrupt { id: row.id, why: format!("actor `{}`", row.actor) })?;
    Ok(Event {
        seq: row.seq,
        at: parse_time(row.id, &row.at)?,
        actor: Actor { platform, id: id.to_string(), name: row.actor_name.clone(), groups: Vec::new() },
        kind,
    })
}

/// One write transaction. Dropping it without `commit` rolls everything back.
pub struct Tx {
    tx: Transaction<'static, Sqlite>,
    /// Released when the transaction ends (commit, or drop, which rolls back).
    _turn: tokio::sync::OwnedMutexGuard<()>,
    audit_key: Option<AuditKey>,
    outbox_commits: Arc<AtomicU64>,
    /// Whether this transaction queued messages.
    enqueued: bool,
}

impl Tx {
    /// The channel's open deployment, folded from its events.
    pub async fn open_deployment(&mut self, channel: &Channel) -> Result<Option<Loaded>, StoreError> {
        let Some(id) = self.open_in_channel(channel).await? else { return Ok(None) };
        self.load(id).await.map(Some)
    }

    pub async fn load(&mut self, id: i64) -> Result<Loaded, StoreError> {
        let rows = read::all(&mut self.tx, Some(id)).await?;
        if rows.is_empty() {
            return Err(StoreError::NoSuchDeployment(id));
        }
        let events = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let state = Deployment::from_events(&events).map_err(|source| StoreError::Fold { id, source })?;
        Ok(Loaded { id, state })
    }

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

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        if self.enqueued {
            self.outbox_commits.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }
}
