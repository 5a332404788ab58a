//! The `outbox_claims` table: which process delivers each destination's posts now, so that two
//! `golive serve` processes on one database never both send a destination's pending posts. A
//! claim is a lease in the database, not a lock: it expires unless renewed, and its `fence`
//! (bumped whenever it changes hands, never reset) is what every record of a delivery checks
//! (`Tx::mark_sent`, `Store::mark_retry`, `Store::mark_failed`), so a holder that stalled past
//! its lease cannot record over the next one.
//!
//! Each statement is one autocommit write with every destination of a delivery pass in it; the
//! SQL is plain enough for PostgreSQL (`ON CONFLICT … DO UPDATE … WHERE`, `RETURNING`).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::{format_time, Destination, Store, StoreError, ROWS_PER_INSERT};

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
    /// One conditional UPSERT: the row is written only when the `WHERE` allows it, and then
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
        let (now, until) = (format_time(now), format_time(until));
        let mut held = Vec::with_capacity(claims.len());
        for chunk in claims.chunks(ROWS_PER_INSERT) {
            let mut upsert =
                QueryBuilder::new("INSERT INTO outbox_claims (platform, channel, holder, fence, expires_at) ");
            // A new row starts at fence 1; on a row that exists, `fence` carries the fence this
            // holder knows, which only renews a claim it still holds under it.
            upsert.push_values(chunk, |mut b, c| {
                b.push_bind(c.destination.route().as_str())
                    .push_bind(c.destination.address())
                    .push_bind(holder)
                    .push_bind(c.held.unwrap_or(1))
                    .push_bind(&until);
            });
            upsert.push(
                " ON CONFLICT (platform, channel) DO UPDATE SET
                    fence = CASE WHEN outbox_claims.holder = excluded.holder AND outbox_claims.fence = excluded.fence
                                 THEN outbox_claims.fence ELSE outbox_claims.fence + 1 END,
                    holder = excluded.holder,
                    expires_at = excluded.expires_at
                  WHERE (outbox_claims.holder = excluded.holder AND outbox_claims.fence = excluded.fence)
                     OR outbox_claims.expires_at <= ",
            );
            upsert.push_bind(&now);
            upsert.push(" RETURNING platform, channel, fence");
            let rows: Vec<(String, String, i64)> = upsert.build_query_as().fetch_all(&self.pool).await?;
            for (platform, channel, fence) in rows {
                let destination = Destination::from_columns(&platform, channel)
                    .ok_or_else(|| StoreError::Corrupt { id: 0, why: format!("claim on platform `{platform}`") })?;
                held.push((destination, fence));
            }
        }
        Ok(held)
    }

    /// Gives up claims this process holds, so another process may take them at once. A row
    /// stays (its fence must never go back); it is only emptied and expired.
    pub async fn release(
        &self,
        holder: &str,
        leases: &[(Destination, i64)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = format_time(now);
        for chunk in leases.chunks(ROWS_PER_INSERT) {
            let mut release = QueryBuilder::new("WITH v (platform, channel, fence) AS (");
            release.push_values(chunk, |mut b, (destination, fence)| {
                b.push_bind(destination.route().as_str()).push_bind(destination.address()).push_bind(*fence);
            });
            release.push(") UPDATE outbox_claims SET holder = '', expires_at = ");
            release.push_bind(&now);
            release.push(
                " FROM v WHERE outbox_claims.platform = v.platform AND outbox_claims.channel = v.channel
                   AND outbox_claims.fence = v.fence AND outbox_claims.holder = ",
            );
            release.push_bind(holder);
            release.build().execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Every claim as it stands: destination, holder ('' when released), fence, expiry (tests).
    pub async fn claims(&self) -> Result<Vec<(String, String, String, i64, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT platform, channel, holder, fence, expires_at FROM outbox_claims ORDER BY platform, channel",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
