//! The hash chain over the event log. Each event's hash covers every stored column and the
//! previous event's hash, so editing, deleting or reordering any row breaks the chain at that row.
//! With `GOLIVE_AUDIT_KEY` set the hashes are HMAC-SHA256 under that key, and the chain head
//! carries a keyed seal of the log's length and newest hash: without the key nobody can
//! recompute the chain after an edit, nor shorten the log and fix up the head to match.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The environment variable that holds the chain's key.
pub const KEY_VAR: &str = "GOLIVE_AUDIT_KEY";

/// The secret the chain is keyed with. Never printed.
#[derive(Clone)]
pub struct AuditKey(Arc<[u8]>);

impl AuditKey {
    pub fn new(key: &[u8]) -> AuditKey {
        AuditKey(Arc::from(key))
    }

    /// The key in `GOLIVE_AUDIT_KEY`, if it is set and not blank.
    pub fn from_env() -> Option<AuditKey> {
        let key = std::env::var(KEY_VAR).ok()?;
        let key = key.trim();
        (!key.is_empty()).then(|| AuditKey::new(key.as_bytes()))
    }

    fn mac(&self, bytes: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The seal of a log whose newest event is `event_id` with `hash`, keyed from `keyed_from`.
    pub fn seal(&self, event_id: i64, hash: &str, keyed_from: i64) -> String {
        let mut bytes = Vec::with_capacity(128);
        for field in
            [b"golive chain seal v1".as_slice(), &event_id.to_be_bytes(), hash.as_bytes(), &keyed_from.to_be_bytes()]
        {
            bytes.extend_from_slice(&(field.len() as u64).to_be_bytes());
            bytes.extend_from_slice(field);
        }
        self.mac(&bytes)
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

/// The chain head as stored: the newest event, its hash, and the keyed record.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    pub event_id: i64,
    pub hash: String,
    pub keyed_from: Option<i64>,
    pub seal: Option<String>,
}

pub const HEAD: &str = "SELECT event_id, hash, keyed_from, seal FROM chain_head WHERE id = 1";

impl Head {
    /// From which event on the chain is keyed once this writer appends to it, or why it may
    /// not: a keyed chain needs the key, and the same key (its seal must match).
    pub fn keyed_from(head: Option<&Head>, key: Option<&AuditKey>) -> Result<Option<i64>, String> {
        match (head, key) {
            (None, None) => Ok(None),
            (None, Some(_)) => Ok(Some(1)),
            (Some(h), None) => match h.keyed_from {
                None => Ok(None),
                Some(k) => Err(format!(
                    "the event chain is keyed from event #{k}; set {KEY_VAR} to the key it was written with"
                )),
            },
            (Some(h), Some(key)) => match h.keyed_from {
                // The first write with a key: the chain is keyed from here on.
                None => Ok(Some(h.event_id + 1)),
                Some(k) if h.seal.as_deref() == Some(key.seal(h.event_id, &h.hash, k).as_str()) => Ok(Some(k)),
                Some(_) => Err(format!(
                    "the chain head's seal does not match {KEY_VAR}: another key, or the database was altered; run `golive audit verify`"
                )),
            },
        }
    }
}

/// The `prev_hash` of the very first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored columns of one event, as text, exactly as they are in the database.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub deployment_id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_name: Option<String>,
    pub platform: String,
    pub channel: String,
    pub kind: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEvent {
    /// The hash this row should carry.
    pub fn compute_hash(&self) -> String {
        self.hash_with(None)
    }

    /// The hash under `key` (HMAC-SHA256), or plain SHA-256 without one.
    pub fn hash_with(&self, key: Option<&AuditKey>) -> String {
        hex::encode(Hasher::new(key).digest(&self.fields()))
    }

    /// The hashed columns, borrowed.
    pub(in crate::store) fn fields(&self) -> Fields<'_> {
        Fields {
            id: self.id,
            deployment_id: self.deployment_id,
            seq: self.seq,
            at: self.at.as_bytes(),
            actor: self.actor.as_bytes(),
            actor_name: self.actor_name.as_deref().map(str::as_bytes),
            platform: self.platform.as_bytes(),
            channel: self.channel.as_bytes(),
            kind: self.kind.as_bytes(),
            payload: self.payload.as_bytes(),
            prev_hash: self.prev_hash.as_bytes(),
        }
    }
}

/// The columns an event's hash covers, borrowed from wherever the row is (a `StoredEvent`, or
/// SQLite's own buffer while a statement steps), so that reading the log need not copy them.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) struct Fields<'a> {
    pub id: i64,
    pub deployment_id: i64,
    pub seq: i64,
    pub at: &'a [u8],
    pub actor: &'a [u8],
    pub actor_name: Option<&'a [u8]>,
    pub platform: &'a [u8],
    pub channel: &'a [u8],
    pub kind: &'a [u8],
    pub payload: &'a [u8],
    pub prev_hash: &'a [u8],
}

/// Hashes rows one after another with one key: the key's HMAC set-up is done once, and the
/// bytes of each row are laid out in one reused buffer.
#[derive(Clone)]
pub(in crate::store) struct Hasher {
    keyed: Option<Hmac<Sha256>>,
    buf: Vec<u8>,
}

impl Hasher {
    pub fn new(key: Option<&AuditKey>) -> Hasher {
        let keyed = key.map(|key| Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any length"));
        Hasher { keyed, buf: Vec::with_capacity(512) }
    }

    /// The row's raw hash under this hasher's key (HMAC-SHA256), or plain SHA-256 without
    /// one. Fields are length-prefixed so that no two different rows can serialise to the
    /// same bytes.
    pub fn digest(&mut self, row: &Fields<'_>) -> [u8; 32] {
        let buf = &mut self.buf;
        buf.clear();
        let mut field = |bytes: &[u8]| {
            buf.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            buf.extend_from_slice(bytes);
        };
        field(row.prev_hash);
        field(&row.id.to_be_bytes());
        field(&row.deployment_id.to_be_bytes());
        field(&row.seq.to_be_bytes());
        field(row.at);
        field(row.actor);
        field(row.actor_name.unwrap_or(b"\xff"));
        field(row.platform);
        field(row.channel);
        field(row.kind);
        field(row.payload);
        match &self.keyed {
            Some(mac) => {
                let mut mac = mac.clone();
                mac.update(buf);
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(&buf[..]).into(),
        }
    }

    /// Whether `stored` (as rows carry it: lowercase hex) is `row`'s hash.
    pub fn matches(&mut self, row: &Fields<'_>, stored: &[u8]) -> bool {
        let mut hex = [0u8; 64];
        let digest = self.digest(row);
        hex::encode_to_slice(digest, &mut hex).is_ok() && stored == hex
    }
}
