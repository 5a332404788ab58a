//! The `outbox_claims` table: which process delivers each destination's posts now, so that two
//! `golive serve` processes on one database never both send a destination's pending posts. A
//! claim is a lease in the database, not a lock: it expires unless renewed, and its `fence`
//! (bumped whenever it changes hands, never reset) is what every record of a delivery checks
//! (`Tx::mark_sent`, `Store::mark_retry`, `Store::mark_failed`), so a holder that stalled past
//! its lease cannot record over the next one.
//!
//! A delivery pass's claims (or releases) are one write transaction on the write connection, in
//! this process's queue of writers with the engine's batches (`Store::write_now`); the SQL is
//! plain enough for PostgreSQL (`ON CONFLICT … DO UPDATE … WHERE`, `RETURNING`).

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::{format_time, on_readers, postgres, Destination, Store, StoreError};

/// Claims or renews one destination: platform, channel, holder, the fence it knows, the new
/// expiry, now. A new row starts at fence 1; on a row that exists, `fence` carries the fence
/// this holder knows, which only renews a claim it still holds under it. Returns the fence
/// held, or no row when another process holds it. Both backends run it as written (`$N`
/// parameters, numbered in the order they first appear, as SQLite numbers them).
pub(super) const CLAIM: &str =
    "INSERT INTO outbox_claims (platform, channel, holder, fence, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (platform, channel) DO UPDATE SET
        fence = CASE WHEN outbox_claims.holder = excluded.holder AND outbox_claims.fence = excluded.fence
                     THEN outbox_claims.fence ELSE outbox_claims.fence + 1 END,
        holder = excluded.holder,
        expires_at = excluded.expires_at
      WHERE (outbox_claims.holder = excluded.holder AND outbox_claims.fence = excluded.fence)
         OR outbox_claims.expires_at <= $6
     RETURNING fence";

/// Releases one claim: now, platform, channel, fence, holder.
pub(super) const RELEASE: &str = "UPDATE outbox_claims SET holder = '', expires_at = $1
     WHERE platform = $2 AND channel = $3 AND fence = $4 AND holder = $5";

/// A claim this process holds: who it is, and the fence its marks are checked against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    pub holder: String,
    pub fence: i64,
}

/// A destination to claim or renew, with the fence this process last held it under, if any.
#[derive(Debug, Clone)]
pub struct Claim {
    pub destination: Destination,
    pub held: Option<i64>,
}

impl Store {
    /// Claims each destination for `holder` until `until`, or renews the claims it still holds:
    /// a destination is taken when it is free (never claimed, released, or expired at `now`),
    /// renewed when `holder` still holds it under the fence it knows. Returns the destinations
    /// it holds now, with their fences; the others are another process's.
    ///
    /// One conditional UPSERT per destination: the row is written only when the `WHERE` allows it, and then
    /// SQLite's single writer makes the check and the write one step. On PostgreSQL the same
    /// statement is atomic per row as well (`ON CONFLICT` takes the row lock); a scan for
    /// claimable rows there would read them `FOR UPDATE SKIP LOCKED` instead.
    pub async fn claim(
        &self,
        holder: &str,
        claims: &[Claim],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(Destination, i64)>, StoreError> {
        let (now, until, holder) = (format_time(now), format_time(until), holder.to_string());
        let asked: Vec<(Destination, i64)> =
            claims.iter().map(|c| (c.destination.clone(), c.held.unwrap_or(1))).collect();
        if self.is_postgres() {
            let rows = asked.iter().map(|(d, fence)| (d.route().as_str(), d.address().to_string(), *fence)).collect();
            let held = self.write_now_pg(move |conn| Box::pin(postgres::claim(conn, rows, holder, now, until))).await?;
            return Ok(held.into_iter().map(|(i, fence)| (asked[i].0.clone(), fence)).collect());
        }
        self.write_now(move |conn| {
            let mut upsert = conn.prepare_cached(CLAIM)?;
            let mut held = Vec::with_capacity(asked.len());
            for (destination, fence) in asked {
                let granted: Option<i64> = upsert
                    .query_row(
                        (destination.route().as_str(), destination.address(), &holder, fence, &until, &now),
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(fence) = granted {
                    held.push((destination, fence));
                }
            }
            Ok(held)
        })
        .await
    }

    /// Gives up claims this process holds, so another process may take them at once. A row
    /// stays (its fence must never go back); it is only emptied and expired.
    pub async fn release(
        &self,
        holder: &str,
        leases: &[(Destination, i64)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if leases.is_empty() {
            return Ok(());
        }
        if self.is_postgres() {
            let (now, holder) = (format_time(now), holder.to_string());
            let rows = leases.iter().map(|(d, fence)| (d.route().as_str(), d.address().to_string(), *fence)).collect();
            return self.write_now_pg(move |conn| Box::pin(postgres::release(conn, rows, holder, now))).await;
        }
        let (now, holder, leases) = (format_time(now), holder.to_string(), leases.to_vec());
        self.write_now(move |conn| {
            let mut release = conn.prepare_cached(RELEASE)?;
            for (destination, fence) in &leases {
                release.execute((&now, destination.route().as_str(), destination.address(), fence, &holder))?;
            }
            Ok(())
        })
        .await
    }

    /// Every claim as it stands: destination, holder ('' when released), fence, expiry (tests).
    pub async fn claims(&self) -> Result<Vec<(String, String, String, i64, String)>, StoreError> {
        let sql = "SELECT platform, channel, holder, fence, expires_at FROM outbox_claims ORDER BY platform, channel";
        Ok(on_readers!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
    }
}
