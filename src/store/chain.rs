//! The hash chain over the event log. Each event's hash covers every stored column and the
//! previous event's hash, so editing, deleting or reordering any row breaks the chain at that row.

use sha2::{Digest, Sha256};

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
    /// The hash this row should carry. Fields are length-prefixed so that no two different
    /// rows can serialise to the same bytes.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(self.prev_hash.as_bytes());
        field(&self.id.to_be_bytes());
        field(&self.deployment_id.to_be_bytes());
        field(&self.seq.to_be_bytes());
        field(self.at.as_bytes());
        field(self.actor.as_bytes());
        match &self.actor_name {
            Some(name) => field(name.as_bytes()),
            None => field(b"\xff"),
        }
        field(self.platform.as_bytes());
        field(self.channel.as_bytes());
        field(self.kind.as_bytes());
        field(self.payload.as_bytes());
        hex::encode(h.finalize())
    }
}
