//! Whether the database can be trusted with a write right now, for `/readyz` and for every
//! write transaction: the file golive opened is still the one at its path (not deleted or
//! replaced underneath a running server, which would let commands "succeed" into a file
//! nobody will ever read again), it passed `PRAGMA quick_check` when golive started, and a
//! small write commits (a full disk or a read-only mount fails it): the `health_probe` row,
//! rewritten by each probe, is the one table this module owns.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{format_time, postgres, Readers, Store, StoreError};

/// The database file as it was opened: its path and identity (device, inode).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Opened {
    path: PathBuf,
    identity: (u64, u64),
}

#[derive(Debug, Default)]
pub(super) struct Health {
    /// `None` for in-memory databases and on platforms without inodes.
    opened: Option<Opened>,
    /// What `PRAGMA quick_check` found at start, when it found something.
    damaged: Mutex<Option<String>>,
}

#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

/// Without inodes there is nothing to compare; the check is skipped.
#[cfg(not(unix))]
fn identity(_: &Path) -> std::io::Result<(u64, u64)> {
    Err(std::io::ErrorKind::Unsupported.into())
}

impl Health {
    /// Notes the identity of the database file at `path` just after opening it.
    pub(super) fn opened(path: Option<&Path>) -> Arc<Health> {
        let opened = path.and_then(|p| Some(Opened { path: p.to_path_buf(), identity: identity(p).ok()? }));
        Arc::new(Health { opened, damaged: Mutex::default() })
    }

    /// The database file's path; `None` for an in-memory database.
    pub(super) fn path(&self) -> Option<&Path> {
        self.opened.as_ref().map(|o| o.path.as_path())
    }

    /// Refuses when the file at the path is gone or is another file than the one open.
    pub(super) fn same_file(&self) -> Result<(), StoreError> {
        let Some(opened) = &self.opened else { return Ok(()) };
        match identity(&opened.path) {
            Ok(id) if id == opened.identity => Ok(()),
            Ok(_) => Err(StoreError::Replaced(opened.path.display().to_string())),
            Err(_) => Err(StoreError::Deleted(opened.path.display().to_string())),
        }
    }
}

/// The file path in a `sqlite:` URL, unless it is an in-memory database.
pub(super) fn file_of(url: &str) -> Option<PathBuf> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

impl Store {
    /// Runs SQLite's `PRAGMA quick_check`; what it found (if anything) keeps `/readyz` at 503
    /// until the process is restarted on a sound file.
    /// On PostgreSQL there is no file to check: the server answers for its own pages.
    pub async fn quick_check(&self) -> Result<(), StoreError> {
        let Readers::Sqlite(pool) = &self.pool else { return Ok(()) };
        let found: Vec<(String,)> = match sqlx::query_as("PRAGMA quick_check").fetch_all(pool).await {
            Ok(found) => found,
            Err(e) => vec![(e.to_string(),)],
        };
        let problems: Vec<String> = found.into_iter().map(|(s,)| s).filter(|s| s != "ok").collect();
        if problems.is_empty() {
            return Ok(());
        }
        let found = problems.join("; ");
        if let Ok(mut damaged) = self.health.damaged.lock() {
            *damaged = Some(found.clone());
        }
        Err(StoreError::Damaged(found))
    }

    /// Ready for writes: the same file, not found damaged, and a small write commits.
    pub async fn writable(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.health.same_file()?;
        if let Some(found) = self.health.damaged.lock().ok().and_then(|d| d.clone()) {
            return Err(StoreError::Damaged(found));
        }
        let mut tx = self.begin().await?;
        let at = format_time(now);
        if tx.on_postgres() {
            tx.write_pg(move |conn, _| Box::pin(postgres::probe(conn, at)));
            return tx.commit().await.map(drop);
        }
        tx.write(move |conn, _| {
            conn.prepare_cached(
                "INSERT INTO health_probe (id, at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at = ?1",
            )?
            .execute([at])
            .map(drop)
        });
        tx.commit().await.map(drop)
    }
}
