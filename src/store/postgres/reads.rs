//! What a write transaction reads on PostgreSQL, under the write lock: what it begins with
//! (the chain head, the answers already given, the status posts on screen), the channel's
//! open deployment, a new deployment's id, and the timers due.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::WRITE_LOCK;
use crate::store::events::{Head, HEAD};
use crate::store::StoreError;

/// A write transaction just begun, holding the write lock, with what it read first.
pub(in crate::store) struct Begun {
    pub tx: Transaction<'static, Postgres>,
    pub head: Option<Head>,
    pub answered: HashMap<String, String>,
    pub status_posts: HashMap<i64, Option<i64>>,
}

/// Begins a write transaction: takes the write lock (waiting for any other replica's
/// transaction to end), then reads the chain head, the answers given before to `keys` and the
/// status post on screen of each of `deployments`.
pub(in crate::store) async fn begin(pool: &PgPool, keys: &[&str], deployments: &[i64]) -> Result<Begun, StoreError> {
    let mut tx = pool.begin().await?;
    // Keyed by the `chain_head` table that this session's search path finds, too: two golive
    // databases in one PostgreSQL database (a schema each, as the test suite runs them) do not
    // wait for each other, and replicas that share the tables always share the lock.
    sqlx::query("SELECT pg_advisory_xact_lock($1, ('chain_head'::regclass)::oid::int4)")
        .bind(WRITE_LOCK)
        .execute(&mut *tx)
        .await?;
    let head = sqlx::query_as::<_, (i64, String, Option<i64>, Option<String>)>(HEAD)
        .fetch_optional(&mut *tx)
        .await?
        .map(|(event_id, hash, keyed_from, seal)| Head { event_id, hash, keyed_from, seal });
    let mut answered = HashMap::new();
    if !keys.is_empty() {
        let keys: Vec<&str> = keys.to_vec();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, response FROM inbound_requests WHERE key = ANY($1)")
                .bind(keys)
                .fetch_all(&mut *tx)
                .await?;
        answered.extend(rows);
    }
    let mut status_posts = HashMap::with_capacity(deployments.len());
    for &id in deployments {
        status_posts.insert(id, status_post(&mut tx, id).await?);
    }
    Ok(Begun { tx, head, answered, status_posts })
}

/// The deployment's latest status post that may still be on screen (not given up).
pub(in crate::store) async fn status_post(
    conn: &mut PgConnection,
    deployment_id: i64,
) -> Result<Option<i64>, StoreError> {
    let id: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM outbox WHERE deployment_id = $1 AND kind = 'status' AND action = 'post'
         AND state != 'failed' ORDER BY id DESC LIMIT 1",
    )
    .bind(deployment_id)
    .fetch_optional(conn)
    .await?;
    Ok(id.map(|(id,)| id))
}

/// The id of the channel's open deployment, if any.
pub(in crate::store) async fn open_in_channel(
    conn: &mut PgConnection,
    platform: &str,
    channel: &str,
) -> Result<Option<i64>, StoreError> {
    let id: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM deployments WHERE platform = $1 AND channel = $2 AND ended_at IS NULL")
            .bind(platform)
            .bind(channel)
            .fetch_optional(conn)
            .await?;
    Ok(id.map(|(id,)| id))
}

/// The listing columns of a new deployment, as `Tx::insert_deployment` builds them.
pub(in crate::store) type NewListing =
    (String, String, &'static str, String, String, Option<String>, &'static str, i64, String, String, Option<String>);

/// Inserts a new deployment's listing row with the next id; `ChannelTaken` when the channel
/// has an open deployment. The conflict is caught by the statement itself (`ON CONFLICT DO
/// NOTHING`): a failed statement would end the whole transaction on PostgreSQL, and with it
/// the other commands of the batch.
pub(in crate::store) async fn insert_deployment(conn: &mut PgConnection, row: NewListing) -> Result<i64, StoreError> {
    let (release, plan, platform, channel, lead, lead_name, status, progress, started_at, updated_at, ended_at) = row;
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO deployments (id, release, plan, platform, channel, lead, lead_name, status, progress, started_at,
                                  updated_at, ended_at)
         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM deployments), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(release)
    .bind(plan)
    .bind(platform)
    .bind(channel)
    .bind(lead)
    .bind(lead_name)
    .bind(status)
    .bind(progress)
    .bind(started_at)
    .bind(updated_at)
    .bind(ended_at)
    .fetch_optional(conn)
    .await?;
    id.map(|(id,)| id).ok_or(StoreError::ChannelTaken)
}

/// Deployments whose timer is due at `now` (RFC 3339 text), with when it fell due, earliest first.
pub(in crate::store) async fn due_timers(
    conn: &mut PgConnection,
    now: String,
) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT deployment_id, due_at FROM timers WHERE due_at <= $1 ORDER BY due_at, deployment_id")
        .bind(now)
        .fetch_all(conn)
        .await?)
}

/// Open deployments that have no timer row.
pub(in crate::store) async fn untimed_open_deployments(conn: &mut PgConnection) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM deployments WHERE ended_at IS NULL
         AND id NOT IN (SELECT deployment_id FROM timers) ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}
