//! The chained event log: the `events` table, every deployment's history appended in order
//! and never changed, and the `chain_head` row, which records where the hash chain ends so
//! that removing the newest events is detected too. How a row is hashed and keyed is in
//! `chain.rs`; reading rows through a direct connection in `read.rs` (everything but the write
//! transaction, which reads its deployment through `packed.rs`), and the whole log for the
//! audit in `log.rs`. A deployment's state is never
//! stored: it is folded from these events whenever it is loaded.

mod chain;
mod log;
mod packed;
mod read;

use sqlx::QueryBuilder;

pub use chain::{AuditKey, StoredEvent, GENESIS, KEY_VAR};
pub(super) use chain::{Hasher, Head, HEAD};
pub(super) use log::{read_log, Chunk, LogRow};
use packed::all;
pub(super) use read::blocking;
use read::EventColumns;

use super::direct::Access;
use super::{format_time, Store, StoreError, Tx, ROWS_PER_INSERT};
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

/// Turns a stored row back into a domain event.
pub(super) fn decode(row: &StoredEvent) -> Result<Event, StoreError> {
    EventColumns {
        id: row.id,
        seq: row.seq,
        at: row.at.as_bytes(),
        actor: row.actor.as_bytes(),
        actor_name: row.actor_name.as_deref().map(str::as_bytes),
        payload: row.payload.as_bytes(),
    }
    .decode()
}

/// Folds deployment `id`'s stored events into its state.
fn fold(id: i64, rows: &[StoredEvent]) -> Result<Loaded, StoreError> {
    let events = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    fold_events(id, &events)
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
        let store = self.clone();
        blocking(move || {
            let conn = store.open_direct(Access::ReadOnly)?;
            conn.pragma_update(None, "mmap_size", 1i64 << 31)?;
            read::events(&conn, id, after)
        })
        .await
    }

    /// The sequence number of deployment `id`'s last event (0 when it has none).
    pub async fn last_seq(&self, id: i64) -> Result<i64, StoreError> {
        let (seq,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM events WHERE deployment_id = ?")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }
}

impl Tx {
    pub async fn load(&mut self, id: i64) -> Result<Loaded, StoreError> {
        let rows = all(&mut self.tx, Some(id)).await?;
        fold(id, &rows)
    }

    /// Where the chain ends now.
    /// Refused (`StoreError::Chain`) when the chain is keyed and this writer lacks the key it
    /// was written with: it would break the chain.
    pub async fn chain_head(&mut self) -> Result<ChainHead, StoreError> {
        let head: Option<Head> = sqlx::query_as(HEAD).fetch_optional(&mut *self.tx).await?;
        let key = self.audit_key.clone();
        let keyed_from = Head::keyed_from(head.as_ref(), key.as_ref()).map_err(StoreError::Chain)?;
        let (event_id, hash) = head.map_or((0, GENESIS.to_string()), |h| (h.event_id, h.hash));
        Ok(ChainHead { event_id, hash, keyed_from, key })
    }

    /// Writes events already chained, in order, and moves the chain's head to `head`.
    pub(super) async fn insert_events(&mut self, rows: &[StoredEvent], head: &ChainHead) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new(
                "INSERT INTO events (id, deployment_id, seq, at, actor, actor_name, platform, channel, kind, payload, prev_hash, hash) ",
            );
            insert.push_values(chunk, |mut b, row| {
                b.push_bind(row.id)
                    .push_bind(row.deployment_id)
                    .push_bind(row.seq)
                    .push_bind(&row.at)
                    .push_bind(&row.actor)
                    .push_bind(&row.actor_name)
                    .push_bind(&row.platform)
                    .push_bind(&row.channel)
                    .push_bind(&row.kind)
                    .push_bind(&row.payload)
                    .push_bind(&row.prev_hash)
                    .push_bind(&row.hash);
            });
            insert.build().execute(&mut *self.tx).await?;
        }
        if !rows.is_empty() {
            self.set_chain_head(head).await?;
        }
        Ok(())
    }

    async fn set_chain_head(&mut self, head: &ChainHead) -> Result<(), StoreError> {
        let seal = head.key.as_ref().zip(head.keyed_from).map(|(key, from)| key.seal(head.event_id, &head.hash, from));
        sqlx::query(
            "INSERT INTO chain_head (id, event_id, hash, keyed_from, seal) VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET event_id = ?1, hash = ?2, keyed_from = ?3, seal = ?4",
        )
        .bind(head.event_id)
        .bind(&head.hash)
        .bind(head.keyed_from)
        .bind(&seal)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
