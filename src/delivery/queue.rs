//! The delivery worker's picture of the outbox's pending messages: each channel's queue, oldest
//! first, with when its head may be tried. Kept in memory so that choosing what to send next,
//! and when to wake for it, reads nothing from the database; the outbox stays the record.
//!
//! The picture follows the database by reading only rows newer than the last one seen, when
//! this process committed some since the last read, and is read whole again at the start,
//! every [`RELOAD_EVERY`] (rows other processes queued), and after anything it cannot follow
//! in memory (a channel given up, a failed pass). A message it still holds that is no longer pending (sent by
//! another process, superseded by a newer update) is dropped when its payload is asked for.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Destination, Queued, Route, Store, StoreError};

/// The whole pending set is read again at least this often, to heal anything missed.
/// Also how soon rows that another process queued and can no longer send (it died) are seen
/// here, so its channels are taken over within a lease and one look (leases.rs).
pub(super) const RELOAD_EVERY: Duration = Duration::from_secs(10);

/// A destination's pending messages: ids, oldest first, and when the oldest may be tried.
#[derive(Debug)]
struct Lane {
    ids: VecDeque<i64>,
    head_due: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub(super) struct Queue {
    lanes: HashMap<Destination, Lane>,
    /// The highest outbox id looked at; rows above it are new.
    seen: i64,
    /// When the whole pending set was last read; `None`: read it on the next refresh.
    loaded_at: Option<DateTime<Utc>>,
    /// The store's count of commits that queued messages, as of the last read: while it
    /// stands still, this process queued nothing new and there is nothing to read.
    version: u64,
}

impl Queue {
    /// Brings the picture up to date: new rows only, or everything when due.
    pub(super) async fn refresh(&mut self, store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let reload_every = chrono::Duration::from_std(RELOAD_EVERY).unwrap_or_default();
        let whole = self.loaded_at.map_or(true, |at| now - at >= reload_every || now < at);
        let version = store.outbox_commits();
        if !whole && version == self.version {
            return Ok(());
        }
        // Taken before the read: a commit after it moves the count again.
        self.version = version;
        if whole {
            // Read the high-water mark first: a row committed between the two reads is
            // read again by the next refresh, never missed.
            let seen = store.last_outbox_id().await?;
            let rows = store.pending_since(0).await?;
            self.lanes.clear();
            self.seen = seen;
            self.loaded_at = Some(now);
            self.extend(rows);
        } else {
            let rows = store.pending_since(self.seen).await?;
            self.extend(rows);
        }
        Ok(())
    }

    /// Read everything again at the next refresh.
    pub(super) fn invalidate(&mut self) {
        self.loaded_at = None;
    }

    fn extend(&mut self, rows: Vec<Queued>) {
        for row in rows {
            self.seen = self.seen.max(row.id);
            match self.lanes.get_mut(&row.destination) {
                Some(lane) if lane.ids.back().is_some_and(|last| *last >= row.id) => {}
                Some(lane) => lane.ids.push_back(row.id),
                None => {
                    let lane = Lane { ids: VecDeque::from([row.id]), head_due: row.next_attempt };
                    self.lanes.insert(row.destination, lane);
                }
            }
        }
    }

    /// The head of every destination on `route` that may be tried at `now`, given when each
    /// may next get a post (`ready`).
    pub(super) fn due(
        &self,
        route: Route,
        now: DateTime<Utc>,
        ready: impl Fn(&Destination) -> Option<DateTime<Utc>>,
    ) -> Vec<(i64, Destination)> {
        let mut due: Vec<(i64, Destination)> = self
            .lanes
            .iter()
            .filter(|(to, lane)| to.route() == route && lane.head_due <= now && ready(to).map_or(true, |t| t <= now))
            .filter_map(|(to, lane)| Some((*lane.ids.front()?, to.clone())))
            .collect();
        due.sort_unstable_by_key(|(id, _)| *id);
        due
    }

    /// Whether anything is queued for `to`.
    pub(super) fn has(&self, to: &Destination) -> bool {
        self.lanes.contains_key(to)
    }

    /// When some destination on one of `routes` has a message that may be tried.
    pub(super) fn next_due(
        &self,
        routes: &[Route],
        ready: impl Fn(&Destination) -> Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        self.lanes
            .iter()
            .filter(|(to, _)| routes.contains(&to.route()))
            .map(|(to, lane)| ready(to).map_or(lane.head_due, |t| t.max(lane.head_due)))
            .min()
    }

    /// Messages waiting on one of `routes`.
    pub(super) fn pending(&self, routes: &[Route]) -> usize {
        self.lanes.iter().filter(|(to, _)| routes.contains(&to.route())).map(|(_, lane)| lane.ids.len()).sum()
    }

    /// The message left the queue (sent, given up, or no longer pending): its destination's
    /// next one may be tried at once.
    pub(super) fn remove(&mut self, to: &Destination, id: i64, now: DateTime<Utc>) {
        let Some(lane) = self.lanes.get_mut(to) else { return };
        let was_head = lane.ids.front() == Some(&id);
        lane.ids.retain(|queued| *queued != id);
        if lane.ids.is_empty() {
            self.lanes.remove(to);
        } else if was_head {
            lane.head_due = lane.head_due.min(now);
        }
    }

    /// Drops a message found no longer pending, wherever it is queued.
    pub(super) fn forget(&mut self, id: i64, now: DateTime<Utc>) {
        let to = self.lanes.iter().find(|(_, lane)| lane.ids.front() == Some(&id)).map(|(to, _)| to.clone());
        if let Some(to) = to {
            self.remove(&to, id, now);
        }
    }

    /// The destination's head waits until `next` (a retry).
    pub(super) fn retry_at(&mut self, to: &Destination, next: DateTime<Utc>) {
        if let Some(lane) = self.lanes.get_mut(to) {
            lane.head_due = next;
        }
    }
}
