//! The chained event log: the `events` table, every deployment's history appended in order
//! and never changed, and the `chain_head` row, which records where the hash chain ends so
//! that removing the newest events is detected too. How a row is hashed and keyed is in
//! `chain.rs`; reading a deployment's rows through a direct connection in `read.rs` (the
//! readers' and the write transaction's alike), and the whole log for the audit in `log.rs`. A deployment's state is never
//! stored: it is folded from these events whenever it is loaded.

mod chain;
mod log;
mod read;

pub use chain::{AuditKey, StoredEvent, GENESIS, KEY_VAR};
pub(super) use chain::{Fields, Hasher, Head, HEAD};
pub(super) use log::{read_log, Chunk, Lanes, LogRow};
pub(super) use read::{blocking, EventColumns};

use super::direct::Access;
use super::{format_time, on_readers, postgres, Readers, Store, StoreError, Tx};
use crate::domain::{Deployment, Event};

/// The deployment's identity in the database and its folded state.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub id: i64,
    pub state: Deployment,
}

/// The last event of the whole chain: its id and hash. Any writer that appends moves it, so
/// a writer that finds it where it left it knows nobody else wrote events since. With an
/// audit key, it also knows from which event the chain is keyed, and seals what it writes.
#[derive(Debug, Clone)]
pub struct ChainHead {
    pub event_id: i64,
    pub hash: String,
    /// The first keyed event (`None`: the chain is plain SHA-256).
    keyed_from: Option<i64>,
    key: Option<AuditKey>,
}

/// Where the chain ends is what tells writers apart; the key is this writer's own.
impl PartialEq for ChainHead {
    fn eq(&self, other: &ChainHead) -> bool {
        self.event_id == other.event_id && self.hash == other.hash && self.keyed_from == other.keyed_from
    }
}

impl Eq for ChainHead {}

impl Default for ChainHead {
    fn default() -> ChainHead {
        ChainHead { event_id: 0, hash: GENESIS.to_string(), keyed_from: None, key: None }
    }
}

impl ChainHead {
    /// Chains `event` of deployment `deployment_id` after this head and moves the head to it.
    pub fn chain(&mut self, deployment_id: i64, event: &Event, after: &Deployment) -> Result<StoredEvent, StoreError> {
        let id = self.event_id + 1;
        let payload = serde_json::to_string(&event.kind).map_err(|e| StoreError::Corrupt { id, why: e.to_string() })?;
        let mut row = StoredEvent {
            id,
            deployment_id,
            seq: event.seq,
            at: format_time(event.at),
            actor: event.actor.key(),
            actor_name: event.actor.name.clone(),
            platform: after.platform.as_str().to_string(),
            channel: after.channel.clone(),
            kind: event.kind.name().to_string(),
            payload,
            prev_hash: std::mem::take(&mut self.hash),
            hash: String::new(),
        };
        row.hash = row.hash_with(self.keyed_from.and(self.key.as_ref()));
        self.event_id = id;
        self.hash = row.hash.clone();
        Ok(row)
    }
}

fn fold_events(id: i64, events: &[Event]) -> Result<Loaded, StoreError> {
    if events.is_empty() {
        return Err(StoreError::NoSuchDeployment(id));
    }
    let state = Deployment::from_events(events).map_err(|source| StoreError::Fold { id, source })?;
    Ok(Loaded { id, state })
}

impl Store {
    /// A deployment's events in order.
    pub async fn events(&self, id: i64) -> Result<Vec<Event>, StoreError> {
        self.events_after(id, 0).await
    }

    pub async fn load(&self, id: i64) -> Result<Loaded, StoreError> {
        fold_events(id, &self.events(id).await?)
    }

    /// Deployment `id`'s events after sequence number `after`, in order (the live stream of
    /// the web page), read through a direct connection (`read.rs`).
    pub async fn events_after(&self, id: i64, after: i64) -> Result<Vec<Event>, StoreError> {
        if let Readers::Postgres(pool) = &self.pool {
            return postgres::events_after(pool, id, after).await;
        }
        let store = self.clone();
        blocking(move || {
            let conn = store.open_direct(Access::ReadOnly)?;
            if store.map_reads {
                conn.pragma_update(None, "mmap_size", 1i64 << 31)?;
            }
            read::events(&conn, id, after)
        })
        .await
    }

    /// The sequence number of deployment `id`'s last event (0 when it has none).
    pub async fn last_seq(&self, id: i64) -> Result<i64, StoreError> {
        let sql = "SELECT MAX(seq) FROM events WHERE deployment_id = $1";
        let (seq,): (Option<i64>,) = on_readers!(self, |pool| sqlx::query_as(sql).bind(id).fetch_one(pool).await?);
        Ok(seq.unwrap_or(0))
    }
}

impl Tx {
    /// Deployment `id`, folded from its events (one call, read as the readers read them).
    pub async fn load(&mut self, id: i64) -> Result<Loaded, StoreError> {
        fold_events(id, &self.events_after(id, 0).await?)
    }

    /// Deployment `id`'s events after sequence number `after`, in order, as this transaction
    /// sees them.
    pub async fn events_after(&mut self, id: i64, after: i64) -> Result<Vec<Event>, StoreError> {
        if self.on_postgres() {
            self.call_pg(move |conn| Box::pin(postgres::events_after(conn, id, after))).await
        } else {
            self.call(move |conn| read::events(conn, id, after)).await
        }
    }

    /// Where the chain ends now: after the events this transaction appended, or as read at
    /// `begin`. Refused (`StoreError::Chain`) when the chain is keyed and this writer lacks the
    /// key it was written with: it would break the chain.
    pub fn chain_head(&self) -> Result<ChainHead, StoreError> {
        if let Some(head) = &self.appended {
            return Ok(head.clone());
        }
        let head = self.stored_head.as_ref();
        let key = self.audit_key.clone();
        let keyed_from = Head::keyed_from(head, key.as_ref()).map_err(StoreError::Chain)?;
        let (event_id, hash) = head.map_or((0, GENESIS.to_string()), |h| (h.event_id, h.hash.clone()));
        Ok(ChainHead { event_id, hash, keyed_from, key })
    }

    /// Buffers events already chained, in order, and the move of the chain's head to `head`.
    pub(super) fn insert_events(&mut self, rows: Vec<StoredEvent>, head: &ChainHead) {
        if rows.is_empty() {
            return;
        }
        let seal = head.key.as_ref().zip(head.keyed_from).map(|(key, from)| key.seal(head.event_id, &head.hash, from));
        let (event_id, hash, keyed_from) = (head.event_id, head.hash.clone(), head.keyed_from);
        self.appended = Some(head.clone());
        if self.on_postgres() {
            let head = (event_id, hash, keyed_from, seal);
            return self.write_pg(move |conn, _| Box::pin(postgres::insert_events(conn, rows, head)));
        }
        self.write(move |conn, _| {
            // One cached statement run per row: on a direct connection that is as fast as a
            // multi-row `VALUES` list, without building one.
            let mut insert = conn.prepare_cached(
                "INSERT INTO events (id, deployment_id, seq, at, actor, actor_name, platform, channel, kind, payload, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for r in &rows {
                insert.execute(rusqlite::params![
                    r.id,
                    r.deployment_id,
                    r.seq,
                    r.at,
                    r.actor,
                    r.actor_name,
                    r.platform,
                    r.channel,
                    r.kind,
                    r.payload,
                    r.prev_hash,
                    r.hash
                ])?;
            }
            conn.prepare_cached(
                "INSERT INTO chain_head (id, event_id, hash, keyed_from, seal) VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET event_id = ?1, hash = ?2, keyed_from = ?3, seal = ?4",
            )?
            .execute(rusqlite::params![event_id, hash, keyed_from, seal])?;
            Ok(())
        });
    }
}
