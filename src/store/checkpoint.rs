//! When the write-ahead log is checkpointed. SQLite copies the log back into the database file
//! (a checkpoint) inside the commit of whichever transaction finds the log past 1,000 pages, so
//! every so often one batch of commands waited for that copy before its callers were answered
//! (13–20 % of the write connection's thread under load, BENCHMARKS.md). The write connection
//! turns that off (`wal_autocheckpoint = 0`), and every [`EVERY`] commits `Tx::commit` queues a
//! `PASSIVE` checkpoint on the same connection right after the commit has answered: the copy
//! then runs between transactions, before the next one begins.
//!
//! It runs on the write connection, not on one of its own, on purpose: a checkpoint that runs
//! while this process keeps appending never catches up with the end of the log, and SQLite
//! starts the log over from its beginning only once a checkpoint has caught up, so under steady
//! writes the log grew without bound (18 MB over 600 commands, where it stays under 8 MB).

/// Commits between checkpoints: about as many log pages as SQLite's own threshold, at the
/// dozen or two pages a batch writes.
const EVERY: u32 = 48;

/// The statement a due checkpoint runs.
pub(super) const CHECKPOINT: &str = "PRAGMA wal_checkpoint(PASSIVE)";

/// Counts the write connection's commits.
#[derive(Debug, Default)]
pub(super) struct Checkpoints {
    commits: u32,
}

impl Checkpoints {
    /// Counts a commit; true every [`EVERY`] of them, when a checkpoint is due.
    pub(super) fn committed(&mut self) -> bool {
        self.commits += 1;
        if self.commits < EVERY {
            return false;
        }
        self.commits = 0;
        true
    }
}
