//! Reading events through a direct SQLite connection (rusqlite), on a blocking thread: one
//! prepared statement stepping through the rows, each column borrowed from SQLite's own buffer
//! while the row is current. sqlx hands every row from its connection's thread to the caller
//! and copies it into a dozen `String`s on the way, which costs more than reading it; here
//! the only copies are the ones the caller keeps (the decoded `Event`, or the bytes the audit
//! hands to its checking thread).

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};

use super::chain::Fields;
use crate::domain::{Actor, Event, EventKind, Platform};
use crate::store::{parse_time, StoreError};

/// Every column of an event, in the order [`fields`] reads them.
pub(in crate::store) const COLUMNS: &str =
    "id, deployment_id, seq, at, actor, actor_name, platform, channel, kind, payload, prev_hash, hash";

/// A column holding what golive never writes there (not text, not a number): the row was
/// altered by hand. Names the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct Odd(pub &'static str);

pub(super) fn int(row: &Row<'_>, i: usize, name: &'static str) -> Result<i64, Odd> {
    match row.get_ref(i) {
        Ok(ValueRef::Integer(v)) => Ok(v),
        _ => Err(Odd(name)),
    }
}

/// Text as stored. A BLOB is taken as its bytes, as SQLite's own text functions take it.
pub(super) fn text<'r>(row: &'r Row<'_>, i: usize, name: &'static str) -> Result<&'r [u8], Odd> {
    match row.get_ref(i) {
        Ok(ValueRef::Text(v) | ValueRef::Blob(v)) => Ok(v),
        _ => Err(Odd(name)),
    }
}

pub(super) fn optional<'r>(row: &'r Row<'_>, i: usize, name: &'static str) -> Result<Option<&'r [u8]>, Odd> {
    match row.get_ref(i) {
        Ok(ValueRef::Null) => Ok(None),
        _ => text(row, i, name).map(Some),
    }
}

/// A row of [`COLUMNS`], borrowed: the hashed columns and the stored hash.
pub(in crate::store) fn fields<'r>(row: &'r Row<'_>) -> Result<(Fields<'r>, &'r [u8]), Odd> {
    let fields = Fields {
        id: int(row, 0, "id")?,
        deployment_id: int(row, 1, "deployment_id")?,
        seq: int(row, 2, "seq")?,
        at: text(row, 3, "at")?,
        actor: text(row, 4, "actor")?,
        actor_name: optional(row, 5, "actor_name")?,
        platform: text(row, 6, "platform")?,
        channel: text(row, 7, "channel")?,
        kind: text(row, 8, "kind")?,
        payload: text(row, 9, "payload")?,
        prev_hash: text(row, 10, "prev_hash")?,
    };
    Ok((fields, text(row, 11, "hash")?))
}

fn utf8<'a>(id: i64, column: &str, bytes: &'a [u8]) -> Result<&'a str, StoreError> {
    std::str::from_utf8(bytes).map_err(|_| StoreError::Corrupt { id, why: format!("{column} is not UTF-8 text") })
}

/// The columns a domain event is made of, borrowed.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) struct EventColumns<'a> {
    pub id: i64,
    pub seq: i64,
    pub at: &'a [u8],
    pub actor: &'a [u8],
    pub actor_name: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

impl EventColumns<'_> {
    /// The domain event, with its payload already parsed (the audit parses it first, to check
    /// it against the row's kind).
    pub fn decode_with(&self, kind: EventKind) -> Result<Event, StoreError> {
        let id = self.id;
        let actor = utf8(id, "actor", self.actor)?;
        let (platform, actor_id) = actor
            .split_once(':')
            .and_then(|(p, rest)| Some((Platform::parse(p)?, rest)))
            .ok_or_else(|| StoreError::Corrupt { id, why: format!("actor `{actor}`") })?;
        let name = self.actor_name.map(|n| utf8(id, "actor_name", n).map(str::to_string)).transpose()?;
        Ok(Event {
            seq: self.seq,
            at: parse_time(id, utf8(id, "at", self.at)?)?,
            actor: Actor { platform, id: actor_id.to_string(), name, groups: Vec::new() },
            kind,
        })
    }

    pub fn parse(&self) -> Result<EventKind, serde_json::Error> {
        serde_json::from_slice(self.payload)
    }

    pub fn decode(&self) -> Result<Event, StoreError> {
        let kind = self.parse().map_err(|e| StoreError::Corrupt { id: self.id, why: format!("payload: {e}") })?;
        self.decode_with(kind)
    }
}

/// Rows decoded together. A deployment of more rows than this is decoded on a second thread
/// while the rest is read (parsing the payloads costs about as much as reading them); one of
/// fewer is decoded where it is read.
const BATCH: usize = 1024;

/// A row's columns as spans of its batch's buffer.
struct Copied {
    id: i64,
    seq: i64,
    at: (u32, u32),
    actor: (u32, u32),
    actor_name: Option<(u32, u32)>,
    payload: (u32, u32),
}

/// Rows copied out of SQLite into one buffer, to decode on another thread.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    rows: Vec<Copied>,
}

impl Batch {
    fn copy(&mut self, bytes: &[u8]) -> (u32, u32) {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(bytes);
        (start, self.bytes.len() as u32)
    }

    fn push(&mut self, row: &EventColumns<'_>) {
        let copied = Copied {
            id: row.id,
            seq: row.seq,
            at: self.copy(row.at),
            actor: self.copy(row.actor),
            actor_name: row.actor_name.map(|name| self.copy(name)),
            payload: self.copy(row.payload),
        };
        self.rows.push(copied);
    }

    fn decode_into(&self, events: &mut Vec<Event>) -> Result<(), StoreError> {
        let get = |(start, end): (u32, u32)| &self.bytes[start as usize..end as usize];
        for r in &self.rows {
            let columns = EventColumns {
                id: r.id,
                seq: r.seq,
                at: get(r.at),
                actor: get(r.actor),
                actor_name: r.actor_name.map(get),
                payload: get(r.payload),
            };
            events.push(columns.decode()?);
        }
        Ok(())
    }
}

/// The next row's columns, or why they cannot be read.
fn columns<'r>(row: &'r Row<'_>) -> Result<EventColumns<'r>, StoreError> {
    let id = int(row, 0, "id").unwrap_or_default();
    let columns = || {
        Ok(EventColumns {
            id,
            seq: int(row, 1, "seq")?,
            at: text(row, 2, "at")?,
            actor: text(row, 3, "actor")?,
            actor_name: optional(row, 4, "actor_name")?,
            payload: text(row, 5, "payload")?,
        })
    };
    columns()
        .map_err(|Odd(column)| StoreError::Corrupt { id, why: format!("{column} holds a value of the wrong type") })
}

/// Deployment `deployment`'s events after sequence number `after`, in order, through the
/// `(deployment_id, seq)` index.
pub(in crate::store) fn events(conn: &Connection, deployment: i64, after: i64) -> Result<Vec<Event>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, seq, at, actor, actor_name, payload FROM events
         WHERE deployment_id = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let mut rows = statement.query((deployment, after))?;
    let mut events = Vec::new();
    while events.len() < BATCH {
        match rows.next()? {
            Some(row) => events.push(columns(row)?.decode()?),
            None => return Ok(events),
        }
    }
    std::thread::scope(|scope| {
        let (send, batches) = std::sync::mpsc::sync_channel::<Batch>(4);
        let decoder = scope.spawn(move || {
            for batch in batches {
                batch.decode_into(&mut events)?;
            }
            Ok(events)
        });
        // Read to the end, or to the first unreadable row or a stopped decoder.
        let read = (|| {
            let mut batch = Batch::default();
            while let Some(row) = rows.next()? {
                batch.push(&columns(row)?);
                if batch.rows.len() == BATCH && send.send(std::mem::take(&mut batch)).is_err() {
                    return Ok(());
                }
            }
            let _ = send.send(batch);
            Ok(())
        })();
        drop(send);
        let decoded = decoder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A row that does not decode comes before any later one that could not be read.
        match (decoded, read) {
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            (Ok(events), Ok(())) => Ok(events),
        }
    })
}

/// Runs `read` on a thread that may block (a direct connection's statements do), and waits
/// for it without holding up the async runtime.
pub(in crate::store) async fn blocking<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(read).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
