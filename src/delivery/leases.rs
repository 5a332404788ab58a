//! This process's claims on destinations (`store::claims`): several `golive serve` processes
//! on one database each send a destination's posts only while they hold its claim, so no post
//! goes out twice. A claim is taken once when a destination has posts due, kept (renewed every
//! [`RENEW_AFTER`], also while sends are in flight) as long as this process's queue for it is
//! not empty, and released when it is; a process that dies holds it at most [`LEASE`] longer,
//! and then the others take it over (each looks at the whole outbox every 10 s).
//!
//! A single process pays one claim when a channel's queue starts and one release when it
//! empties, each one statement for every destination of the pass: never a write per post.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Claim, Destination, Lease, Store, StoreError};

/// How long a claim lasts unless renewed: a dead holder's posts go out again within about this
/// long (plus one look at the outbox), inside the 30 s the contract allows.
pub(super) const LEASE: Duration = Duration::from_secs(20);
/// A claim is renewed once this much of it has gone.
pub(super) const RENEW_AFTER: Duration = Duration::from_secs(10);
/// A destination another process holds is asked for again after this long (it releases its
/// claim as soon as its queue is empty).
pub(super) const BUSY_RETRY: Duration = Duration::from_secs(2);

fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or_default()
}

/// A random id for this process's claims, new at every start: it only has to differ from every
/// other process's. Without the OS's randomness (never seen on the platforms golive runs on),
/// the process id and the start time still tell processes apart.
fn random_holder() -> String {
    let mut bytes = [0u8; 16];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => hex::encode(bytes),
        Err(_) => {
            let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            format!("{}-{}", std::process::id(), started.as_nanos())
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Held {
    fence: i64,
    /// Renewed (checked with the database) before sending at or after this.
    renew_at: DateTime<Utc>,
}

#[derive(Debug)]
pub(super) struct Leases {
    holder: String,
    held: HashMap<Destination, Held>,
    /// Destinations another process held when last asked, with when to ask again.
    busy: HashMap<Destination, DateTime<Utc>>,
}

impl Default for Leases {
    fn default() -> Leases {
        Leases { holder: random_holder(), held: HashMap::new(), busy: HashMap::new() }
    }
}

impl Leases {
    /// The claim a post to `to` is sent under, if this process holds it.
    pub(super) fn lease(&self, to: &Destination) -> Option<Lease> {
        self.held.get(to).map(|h| Lease { holder: self.holder.clone(), fence: h.fence })
    }

    /// When `to` may be tried again, if another process held it.
    pub(super) fn busy_until(&self, to: &Destination) -> Option<DateTime<Utc>> {
        self.busy.get(to).copied()
    }

    /// Takes or renews the claims on `wanted` that need it (one statement), and returns those
    /// this process holds now. A claim renewed less than [`RENEW_AFTER`] ago is trusted
    /// without asking: it cannot have expired yet.
    pub(super) async fn hold(
        &mut self,
        store: &Store,
        wanted: Vec<Destination>,
        now: DateTime<Utc>,
    ) -> Result<HashSet<Destination>, StoreError> {
        let mut holding = HashSet::new();
        let mut ask = Vec::new();
        for to in wanted {
            match self.held.get(&to) {
                Some(held) if now < held.renew_at => {
                    holding.insert(to);
                }
                Some(held) => ask.push(Claim { held: Some(held.fence), destination: to }),
                None if self.busy.get(&to).is_some_and(|t| now < *t) => {}
                None => ask.push(Claim { held: None, destination: to }),
            }
        }
        if ask.is_empty() {
            return Ok(holding);
        }
        holding.extend(self.ask(store, ask, now).await?);
        Ok(holding)
    }

    /// Renews every claim held, while sends are in flight.
    pub(super) async fn renew(&mut self, store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let ask: Vec<Claim> =
            self.held.iter().map(|(to, h)| Claim { destination: to.clone(), held: Some(h.fence) }).collect();
        if !ask.is_empty() {
            self.ask(store, ask, now).await?;
        }
        Ok(())
    }

    async fn ask(
        &mut self,
        store: &Store,
        ask: Vec<Claim>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Destination>, StoreError> {
        let granted = store.claim(&self.holder, &ask, now, after(now, LEASE)).await?;
        let renew_at = after(now, RENEW_AFTER);
        let mut got = Vec::with_capacity(granted.len());
        for (to, fence) in granted {
            if let Some(was) = self.held.get(&to).filter(|h| h.fence != fence) {
                tracing::warn!(channel = %to, was = was.fence, now = fence, "claim lapsed and was taken again");
            }
            self.busy.remove(&to);
            self.held.insert(to.clone(), Held { fence, renew_at });
            got.push(to);
        }
        for claim in ask {
            if !got.contains(&claim.destination) {
                if self.held.remove(&claim.destination).is_some() {
                    tracing::warn!(channel = %claim.destination, "another process took over this channel's posts");
                }
                self.busy.insert(claim.destination, after(now, BUSY_RETRY));
            }
        }
        Ok(got)
    }

    /// When the next renewal of a held claim is due, while sends are in flight.
    pub(super) fn next_renewal(&self) -> Option<DateTime<Utc>> {
        self.held.values().map(|h| h.renew_at).min()
    }

    /// Releases the claims on held destinations for which `empty` says nothing is queued.
    pub(super) async fn release_idle(
        &mut self,
        store: &Store,
        empty: impl Fn(&Destination) -> bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.busy.retain(|to, _| !empty(to));
        let idle: Vec<(Destination, i64)> =
            self.held.iter().filter(|(to, _)| empty(to)).map(|(to, h)| (to.clone(), h.fence)).collect();
        if idle.is_empty() {
            return Ok(());
        }
        for (to, _) in &idle {
            self.held.remove(to);
        }
        store.release(&self.holder, &idle, now).await
    }
}
