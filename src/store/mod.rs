//! Storage, one module per table: `events` (the chained event log and its head),
//! `deployments` (the listing projected from the events), `outbox` (messages to send, with
//! `destination.rs` reading where each goes), `claims` (which process delivers each
//! destination now), `timers` (each open deployment's next
//! timer), `requests` (chat requests already answered) and `health` (the write probe). This
//! module opens the database, applies the migrations in `migrations/` and holds the `Store`;
//! `tx.rs` holds the write transaction that every change goes through; `audit.rs` and
//! `vitals.rs` read across tables.
//!
//! Two backends hold the same tables: SQLite (the embedded default: readers through sqlx,
//! writes and long reads on direct connections, `direct.rs`), and PostgreSQL for several
//! replicas on one database (`postgres/`: its statements, the write lock and its readers).
//! Each table's module dispatches on [`Readers`]; the reads that are the same SQL on both run
//! through [`on_readers!`].

mod audit;
mod claims;
mod deployments;
mod destination;
mod direct;
mod events;
mod health;
mod outbox;
mod postgres;
mod requests;
mod timers;
mod tx;
mod vitals;

use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, SqlitePool};
use thiserror::Error;

pub use audit::{AuditFailure, AuditReport};
pub use claims::{Claim, Lease};
pub use deployments::{DeploymentRow, ListPage, ListQuery};
pub use destination::{Destination, Route};
pub use events::{AuditKey, ChainHead, Loaded, StoredEvent, GENESIS, KEY_VAR as AUDIT_KEY_VAR};
pub use outbox::{Action, Delivered, NewMessage, OutboxItem, OutboxRow, Payload, Queued};
pub use tx::{Begun, Tx};
pub use vitals::Vitals;

use crate::domain::deployment::FoldError;

/// Which backend a database URL names; refuses any other scheme, naming only the scheme (the
/// rest may hold a password). A bare path is SQLite's.
fn is_postgres(url: &str) -> Result<bool, StoreError> {
    match url.split_once("://") {
        Some(("postgres" | "postgresql", _)) => Ok(true),
        Some((scheme, _)) if scheme != "sqlite" => Err(StoreError::Unsupported(scheme.to_string())),
        _ => Ok(false),
    }
}

/// `url` without the password it may carry, for messages.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("…"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => url.split_once("://").map_or(url.to_string(), |(scheme, _)| format!("{scheme}://…")),
    }
}

/// The SQLite migrations, tolerating versions only a newer golive knows (see `Store::migrate`).
static SQLITE_MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| tolerant(sqlx::migrate!("./migrations/sqlite")));

/// `migrator`, made to leave alone applied versions it does not know.
fn tolerant(mut migrator: Migrator) -> Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

/// The readers' connections, by backend.
#[derive(Clone)]
pub(crate) enum Readers {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's readers' pool, whichever backend it is: for
/// the reads whose SQL both backends take as written (`$1` parameters, standard SQL).
macro_rules! on_readers {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Readers::Sqlite($pool) => $body,
            $crate::store::Readers::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_readers;

/// A pooled reader's page cache, as `PRAGMA cache_size` (negative: KiB).
const READER_CACHE: &str = "-256";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Direct(#[from] rusqlite::Error),
    /// The write connection's thread stopped (tokio-rusqlite's own errors).
    #[error("database error: the write connection is gone ({0})")]
    Thread(String),
    #[error("an in-memory database cannot be shared with golive's own connections; give a file (sqlite://golive.db)")]
    InMemory,
    #[error("could not apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("`{0}` is not a usable database URL (write e.g. sqlite://golive.db)")]
    Url(String),
    #[error("event #{id} is unreadable: {why}; run `golive audit verify`")]
    Corrupt { id: i64, why: String },
    #[error("deployment {id}'s history does not fold: {source}; run `golive audit verify`")]
    Fold { id: i64, source: FoldError },
    #[error(
        "{0}:// databases are not supported: golive keeps its history in SQLite \
         ([database] url = \"sqlite://golive.db\") or PostgreSQL (\"postgres://user@host/db\")"
    )]
    Unsupported(String),
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

impl StoreError {
    /// A statement the database refused (a value it cannot hold, a constraint): on PostgreSQL
    /// that ends the transaction it ran in. Not a connection that failed, which retrying in
    /// another transaction at once would not mend.
    pub fn spoils_a_transaction(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(_)))
    }
}

/// The database: readers share a small pool; writes go through one direct connection on
/// SQLite, and through the readers' pool under one advisory lock on PostgreSQL (`begin`,
/// `tx.rs`). Cloning is cheap and shares both.
#[derive(Clone)]
pub struct Store {
    pool: Readers,
    /// The one connection write transactions use, and the queue in front of it (`tx.rs`).
    /// Kept apart from the readers' so its page cache stays warm: in WAL mode a connection
    /// drops its cache whenever another one wrote, and a writer that took any pooled
    /// connection re-read its pages on most commits.
    writers: tx::Writers,
    /// `GOLIVE_AUDIT_KEY`, read when the database is opened: every writer keys the chain.
    audit_key: Option<AuditKey>,
    /// Which file was opened and whether it was found damaged (`health`).
    health: Arc<health::Health>,
    /// Counts this process's commits that queued messages: the delivery worker reads the
    /// outbox again only when it moved (or now and then, for other processes' rows).
    outbox_commits: Arc<AtomicU64>,
    /// Whether long reads map the file into memory (`open_existing`: the one-shot commands
    /// `show`, `history` and `audit verify`). A long-running server does not: a mapped file cut
    /// short underneath it (by another program) kills the process with SIGBUS instead of
    /// failing one read.
    map_reads: bool,
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
        if is_postgres(url)? {
            let store = Store::connect(url).await?;
            if !store.is_migrated().await? {
                return Err(StoreError::NotGolive(redacted(url)));
            }
            return Ok(store);
        }
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if !path.is_empty() && path != ":memory:" && !std::path::Path::new(path).exists() {
            return Err(StoreError::Missing(path.to_string()));
        }
        let mut store = Store::connect_with(url, false).await?;
        store.map_reads = true;
        if !store.is_migrated().await? {
            return Err(StoreError::NotGolive(url.to_string()));
        }
        Ok(store)
    }

    /// Opens (creating a SQLite file if missing) without migrating.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if is_postgres(url)? {
            return Ok(Store {
                pool: Readers::Postgres(postgres::connect(url).await?),
                writers: tx::Writer::new(url),
                audit_key: AuditKey::from_env(),
                health: health::Health::opened(None),
                outbox_commits: Arc::default(),
                map_reads: false,
            });
        }
        Store::connect_with(url, true).await
    }

    async fn connect_with(url: &str, create: bool) -> Result<Store, StoreError> {
        is_postgres(url)?;
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
        // A reader's page cache is emptied whenever the writer commits (WAL mode), so SQLite's
        // default 2 MiB per connection only held memory between commits (BENCHMARKS.md, Memory).
        let reader = options.pragma("cache_size", READER_CACHE);
        let pool = Readers::Sqlite(pool_options(4).connect_with(reader).await?);
        let health = health::Health::opened(file.as_deref());
        Ok(Store {
            pool,
            writers: tx::Writer::new(&url),
            audit_key: AuditKey::from_env(),
            health,
            outbox_commits: Arc::default(),
            map_reads: false,
        })
    }

    /// Applies the migrations of the store's backend that are not applied yet. Versions applied
    /// by a newer golive are left alone, so replicas of the old and the new version can run
    /// side by side while an upgrade rolls through (migrations only ever add).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Readers::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Readers::Postgres(pool) => postgres::migrate(pool).await?,
        }
        Ok(())
    }

    fn migrations(&self) -> &'static Migrator {
        match &self.pool {
            Readers::Sqlite(_) => &SQLITE_MIGRATOR,
            Readers::Postgres(_) => &postgres::MIGRATOR,
        }
    }

    /// True when every migration this binary knows is applied.
    pub async fn is_migrated(&self) -> Result<bool, StoreError> {
        let applied: Result<Vec<(i64,)>, sqlx::Error> = on_readers!(self, |pool| {
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = true").fetch_all(pool).await
        });
        let applied = match applied {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        Ok(self.migrations().iter().all(|m| applied.iter().any(|(v,)| *v == m.version)))
    }

    pub async fn close(&self) {
        self.close_writer().await;
        on_readers!(self, |pool| pool.close().await);
    }

    pub async fn verify(&self) -> Result<Result<AuditReport, AuditFailure>, StoreError> {
        audit::verify(self, self.audit_key.as_ref()).await
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

    /// The readers' pool of a SQLite store (tests and tools that look at the file directly).
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Readers::Sqlite(pool) => Some(pool),
            Readers::Postgres(_) => None,
        }
    }

    /// The pool of a PostgreSQL store (tests and tools that look at the tables directly).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Readers::Postgres(pool) => Some(pool),
            Readers::Sqlite(_) => None,
        }
    }

    /// Whether the store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Readers::Postgres(_))
    }
}
