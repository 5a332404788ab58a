//! WAL checkpoints on a thread of their own. SQLite copies the write-ahead log back into the
//! database file (a checkpoint) inside the commit of whichever transaction finds the log past
//! 1,000 pages, so every so often one batch of commands waited for that copy on the write
//! connection's thread (13–20 % of that thread's time under load, BENCHMARKS.md). The write
//! connection turns that off (`wal_autocheckpoint = 0`) and wakes this thread every
//! [`EVERY`] commits instead; it checkpoints `PASSIVE`ly on a connection of its own, which
//! never blocks a writer or a reader, while the next batches commit.

use std::sync::mpsc::{self, SyncSender};

use rusqlite::Connection;

/// Commits between checkpoints: about as many log pages as SQLite's own threshold, at the
/// dozen or two pages a batch writes.
const EVERY: u32 = 48;

/// Wakes the checkpointing thread; the thread ends when this is dropped.
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
    commits: u32,
}

impl Checkpointer {
    /// Starts the thread, which checkpoints through `conn`.
    pub(super) fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        // One wake-up waiting at most: commits while a checkpoint runs add nothing to do.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new().name("golive-checkpoint".into()).spawn(move || {
            for () in woken {
                let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
                if let Err(e) = done {
                    // The next wake-up tries again; the log only grows meanwhile.
                    tracing::warn!(error = %e, "checkpointing the database's write-ahead log failed");
                }
            }
        })?;
        Ok(Checkpointer { wake, commits: 0 })
    }

    /// Counts a commit, and wakes the thread every [`EVERY`] of them.
    pub(super) fn committed(&mut self) {
        self.commits += 1;
        if self.commits >= EVERY {
            self.commits = 0;
            let _ = self.wake.try_send(());
        }
    }
}
