//! The whole log in id order, for `golive audit verify`, read once and checked on every core:
//! one thread steps through the rows and copies them into chunks ([`read_log`]), another
//! checks each row's hash and parses its payload ([`Chunk::prepare`], which needs no order),
//! and the audit's own thread walks the prepared chunks in order. A chunk is one buffer of
//! bytes and a list of where each column lies in it, so a row costs no allocation, and
//! chunks are handed back and reused.

use std::sync::mpsc::{Receiver, SyncSender};

use rusqlite::Connection;

use super::chain::{Fields, Hasher};
use super::read::{fields, int, optional, text, EventColumns, Odd, COLUMNS};
use crate::domain::EventKind;
use crate::store::StoreError;

/// Rows per chunk: enough to keep a thread busy between hand-offs, few enough that the
/// handful in flight stay small (about 600 KB each).
const CHUNK_ROWS: usize = 2048;

/// Where one column of a copied row lies in its chunk's buffer.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    end: u32,
}

/// One row of the log, as spans of its chunk's buffer.
#[derive(Debug, Clone, Copy)]
struct Copied {
    id: i64,
    deployment_id: i64,
    seq: i64,
    /// A column held a value of the wrong type: what could be read of it is here, and it
    /// does not match its hash.
    odd: bool,
    at: Span,
    actor: Span,
    actor_name: Option<Span>,
    platform: Span,
    channel: Span,
    kind: Span,
    payload: Span,
    prev_hash: Span,
    hash: Span,
}

/// Consecutive rows of the log, copied out of SQLite.
#[derive(Debug, Default)]
pub(in crate::store) struct Chunk {
    bytes: Vec<u8>,
    rows: Vec<Copied>,
    /// Per row, set by [`Chunk::prepare`]: whether its stored hash is what its columns hash to.
    hash_ok: Vec<bool>,
    /// Per row, set by [`Chunk::prepare`]: its payload parsed.
    kinds: Vec<Result<EventKind, serde_json::Error>>,
}

/// A row of a prepared chunk, borrowed.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) struct LogRow<'a> {
    pub id: i64,
    pub deployment_id: i64,
    pub seq: i64,
    /// Whether the row's stored hash is what its columns hash to (under the key, from where
    /// the chain is keyed). False too for a column of the wrong type.
    pub hash_ok: bool,
    pub at: &'a [u8],
    pub kind: &'a [u8],
    pub prev_hash: &'a [u8],
    pub hash: &'a [u8],
    pub event: EventColumns<'a>,
}

impl Chunk {
    fn clear(&mut self) {
        self.bytes.clear();
        self.rows.clear();
        self.hash_ok.clear();
        self.kinds.clear();
    }

    fn copy(&mut self, bytes: &[u8]) -> Span {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(bytes);
        Span { start, end: self.bytes.len() as u32 }
    }

    fn push(&mut self, row: &Fields<'_>, hash: &[u8], odd: bool) {
        let copied = Copied {
            id: row.id,
            deployment_id: row.deployment_id,
            seq: row.seq,
            odd,
            at: self.copy(row.at),
            actor: self.copy(row.actor),
            actor_name: row.actor_name.map(|name| self.copy(name)),
            platform: self.copy(row.platform),
            channel: self.copy(row.channel),
            kind: self.copy(row.kind),
            payload: self.copy(row.payload),
            prev_hash: self.copy(row.prev_hash),
            hash: self.copy(hash),
        };
        self.rows.push(copied);
    }

    fn get(&self, span: Span) -> &[u8] {
        &self.bytes[span.start as usize..span.end as usize]
    }

    fn fields(&self, r: &Copied) -> Fields<'_> {
        Fields {
            id: r.id,
            deployment_id: r.deployment_id,
            seq: r.seq,
            at: self.get(r.at),
            actor: self.get(r.actor),
            actor_name: r.actor_name.map(|s| self.get(s)),
            platform: self.get(r.platform),
            channel: self.get(r.channel),
            kind: self.get(r.kind),
            payload: self.get(r.payload),
            prev_hash: self.get(r.prev_hash),
        }
    }

    /// Checks every row's hash (`plain` before `keyed_from`, `keyed` from there on) and parses
    /// every payload: the work on a row that does not depend on the rows before it.
    pub fn prepare(&mut self, plain: &mut Hasher, keyed: &mut Hasher, keyed_from: Option<i64>) {
        let mut hash_ok = std::mem::take(&mut self.hash_ok);
        let mut kinds = std::mem::take(&mut self.kinds);
        for r in &self.rows {
            let row = self.fields(r);
            let hasher = if keyed_from.is_some_and(|k| r.id >= k) { &mut *keyed } else { &mut *plain };
            hash_ok.push(!r.odd && hasher.matches(&row, self.get(r.hash)));
            kinds.push(serde_json::from_slice(row.payload));
        }
        self.hash_ok = hash_ok;
        self.kinds = kinds;
    }

    /// The prepared rows in order, each with its parsed payload (taken out of the chunk).
    pub fn rows(&mut self) -> impl Iterator<Item = (LogRow<'_>, Result<EventKind, serde_json::Error>)> {
        let kinds = std::mem::take(&mut self.kinds);
        let this = &*self;
        this.rows.iter().zip(&this.hash_ok).zip(kinds).map(move |((r, hash_ok), kind)| {
            let row = LogRow {
                id: r.id,
                deployment_id: r.deployment_id,
                seq: r.seq,
                hash_ok: *hash_ok,
                at: this.get(r.at),
                kind: this.get(r.kind),
                prev_hash: this.get(r.prev_hash),
                hash: this.get(r.hash),
                event: EventColumns {
                    id: r.id,
                    seq: r.seq,
                    at: this.get(r.at),
                    actor: this.get(r.actor),
                    actor_name: r.actor_name.map(|s| this.get(s)),
                    payload: this.get(r.payload),
                },
            };
            (row, kind)
        })
    }
}

/// Sends rows on in chunks, to each of its lanes in turn, taking emptied chunks back.
pub(in crate::store) struct Lanes<'a> {
    out: &'a [SyncSender<Chunk>],
    next: usize,
    back: &'a Receiver<Chunk>,
    chunk: Chunk,
}

impl<'a> Lanes<'a> {
    pub fn new(out: &'a [SyncSender<Chunk>], back: &'a Receiver<Chunk>) -> Lanes<'a> {
        Lanes { out, next: 0, back, chunk: Chunk::default() }
    }

    /// Adds a row (`odd`: a column held a value of the wrong type); false once a receiver
    /// is gone (a later stage found a problem), when reading should stop.
    pub fn push(&mut self, fields: &Fields<'_>, hash: &[u8], odd: bool) -> bool {
        self.chunk.push(fields, hash, odd);
        if self.chunk.rows.len() < CHUNK_ROWS {
            return true;
        }
        let mut next = self.back.try_recv().unwrap_or_default();
        next.clear();
        let full = std::mem::replace(&mut self.chunk, next);
        self.send(full)
    }

    fn send(&mut self, chunk: Chunk) -> bool {
        let Some(lane) = self.out.get(self.next % self.out.len().max(1)) else { return false };
        self.next += 1;
        lane.send(chunk).is_ok()
    }

    /// Sends the last rows.
    pub fn finish(mut self) {
        if !self.chunk.rows.is_empty() {
            let last = std::mem::take(&mut self.chunk);
            self.send(last);
        }
    }
}

/// Reads the whole log in id order on this thread and sends it on in chunks ([`Lanes`]).
/// Stops early, without error, when a receiver is gone (a later stage found a problem).
pub(in crate::store) fn read_log(
    conn: &Connection,
    out: &[SyncSender<Chunk>],
    back: &Receiver<Chunk>,
) -> Result<(), StoreError> {
    let mut lanes = Lanes::new(out, back);
    let mut statement = conn.prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY id"))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let more = match fields(row) {
            Ok((fields, hash)) => lanes.push(&fields, hash, false),
            // A column of the wrong type: golive never wrote this row as it is.
            Err(Odd(_)) => {
                let fields = Fields {
                    id: int(row, 0, "id").unwrap_or_default(),
                    deployment_id: int(row, 1, "deployment_id").unwrap_or_default(),
                    seq: int(row, 2, "seq").unwrap_or_default(),
                    at: text(row, 3, "at").unwrap_or_default(),
                    actor: text(row, 4, "actor").unwrap_or_default(),
                    actor_name: optional(row, 5, "actor_name").unwrap_or_default(),
                    platform: text(row, 6, "platform").unwrap_or_default(),
                    channel: text(row, 7, "channel").unwrap_or_default(),
                    kind: text(row, 8, "kind").unwrap_or_default(),
                    payload: text(row, 9, "payload").unwrap_or_default(),
                    prev_hash: text(row, 10, "prev_hash").unwrap_or_default(),
                };
                lanes.push(&fields, text(row, 11, "hash").unwrap_or_default(), true)
            }
        };
        if !more {
            return Ok(());
        }
    }
    lanes.finish();
    Ok(())
}
