//! Direct SQLite connections (rusqlite, the same SQLite library sqlx links) to the store's file,
//! for the paths where sqlx's hand-off of every statement and every row to its connection's
//! thread costs more than the work itself: the writer's transaction (with the delivery
//! worker's claims and marks, in its queue) and the reads of events (`show`, `audit verify`,
//! a deployment's history). They open the file the pool opened, with the same settings: WAL
//! (already set on the file by the pool), `synchronous = FULL`, a 10 s busy timeout and
//! foreign keys. They never create the file: a database deleted under a running server must
//! not come back empty.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError};

/// What a direct connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// The writer's transaction.
    ReadWrite,
    ReadOnly,
}

impl Access {
    /// What a `sqlite:` URL allows: read-only with `mode=ro`, as sqlx reads it.
    pub(super) fn of_url(url: &str) -> Access {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        if query.split('&').any(|p| p == "mode=ro") {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        }
    }
}

/// Opens `path` with golive's settings.
pub(super) fn open(path: &Path, access: Access) -> rusqlite::Result<Connection> {
    let mode = match access {
        Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
    };
    // NO_MUTEX: each connection is used by one thread at a time, as sqlx uses its own.
    let conn = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // FULL: a command acknowledged to a user survives a power cut too.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

/// Readies a connection for the write transaction: room in its statement cache for every
/// statement a batch runs, so none is prepared again (rusqlite keeps 16 by default).
pub(super) fn for_writes(conn: &mut Connection) {
    conn.set_prepared_statement_cache_capacity(64);
}

impl Store {
    /// A new direct connection to the store's file; refused for an in-memory database, which
    /// a second connection could not see.
    pub(super) fn open_direct(&self, access: Access) -> Result<Connection, StoreError> {
        let path = self.health.path().ok_or(StoreError::InMemory)?;
        Ok(open(path, access)?)
    }
}
