//! The statements a write transaction buffers, as PostgreSQL takes them (SQLite's are in each
//! table's module): rows of one kind go in one statement (`UNNEST` of arrays), since each
//! statement is a round trip to the server. Ids are the next after the largest, given under
//! the write lock, as SQLite gives them.

use sqlx::PgConnection;

use crate::store::claims::{CLAIM, RELEASE};
use crate::store::events::StoredEvent;
use crate::store::outbox::{give_up_sql, held, retry_sql};
use crate::store::tx::Written;
use crate::store::StoreError;

/// Appends chained events and moves the chain head (`seal`: its keyed seal, if keyed).
pub(in crate::store) async fn insert_events(
    conn: &mut PgConnection,
    rows: Vec<StoredEvent>,
    head: (i64, String, Option<i64>, Option<String>),
) -> sqlx::Result<()> {
    let mut numbers: [Vec<i64>; 3] = Default::default();
    let mut text: [Vec<String>; 8] = Default::default();
    let mut actor_name: Vec<Option<String>> = Vec::with_capacity(rows.len());
    for r in rows {
        for (column, value) in numbers.iter_mut().zip([r.id, r.deployment_id, r.seq]) {
            column.push(value);
        }
        actor_name.push(r.actor_name);
        let values = [r.at, r.actor, r.platform, r.channel, r.kind, r.payload, r.prev_hash, r.hash];
        for (column, value) in text.iter_mut().zip(values) {
            column.push(value);
        }
    }
    let [id, deployment_id, seq] = numbers;
    let [at, actor, platform, channel, kind, payload, prev_hash, hash] = text;
    sqlx::query(
        "INSERT INTO events (id, deployment_id, seq, at, actor, actor_name, platform, channel, kind, payload, prev_hash, hash)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])",
    )
    .bind(id)
    .bind(deployment_id)
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(actor_name)
    .bind(platform)
    .bind(channel)
    .bind(kind)
    .bind(payload)
    .bind(prev_hash)
    .bind(hash)
    .execute(&mut *conn)
    .await?;
    let (event_id, hash, keyed_from, seal) = head;
    sqlx::query(
        "INSERT INTO chain_head (id, event_id, hash, keyed_from, seal) VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET event_id = $1, hash = $2, keyed_from = $3, seal = $4",
    )
    .bind(event_id)
    .bind(hash)
    .bind(keyed_from)
    .bind(seal)
    .execute(conn)
    .await?;
    Ok(())
}

/// A listing row's changing columns: id, status, progress, updated_at, ended_at, lead, lead_name.
pub(in crate::store) type Listing = (i64, &'static str, i64, String, Option<String>, String, Option<String>);

/// Rewrites the listing rows of deployments a batch changed, in one statement.
pub(in crate::store) async fn update_listings(conn: &mut PgConnection, rows: Vec<Listing>) -> sqlx::Result<()> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut progress = Vec::with_capacity(rows.len());
    let mut ended: Vec<Option<String>> = Vec::with_capacity(rows.len());
    let mut lead_name: Vec<Option<String>> = Vec::with_capacity(rows.len());
    let mut text: [Vec<String>; 3] = Default::default();
    for (id, status, percent, updated_at, ended_at, lead, name) in rows {
        ids.push(id);
        progress.push(percent);
        ended.push(ended_at);
        lead_name.push(name);
        for (column, value) in text.iter_mut().zip([status.to_string(), updated_at, lead]) {
            column.push(value);
        }
    }
    let [status, updated_at, lead] = text;
    sqlx::query(
        "UPDATE deployments d SET status = r.status, progress = r.progress, updated_at = r.updated_at,
                ended_at = r.ended_at, lead = r.lead, lead_name = r.lead_name
         FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
              AS r(id, status, progress, updated_at, ended_at, lead, lead_name)
         WHERE d.id = r.id",
    )
    .bind(ids)
    .bind(status)
    .bind(progress)
    .bind(updated_at)
    .bind(ended)
    .bind(lead)
    .bind(lead_name)
    .execute(conn)
    .await?;
    Ok(())
}

/// An outbox row to insert: deployment, platform, channel, action, payload, created_at,
/// next_attempt_at, target, address, kind.
pub(in crate::store) type NewRow = (
    Option<i64>,
    &'static str,
    String,
    &'static str,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    &'static str,
);

/// Supersedes the pending updates of `targets`, then inserts `rows` with the next ids, in order.
pub(in crate::store) async fn enqueue(
    conn: &mut PgConnection,
    targets: Vec<i64>,
    rows: Vec<NewRow>,
) -> sqlx::Result<()> {
    if !targets.is_empty() {
        sqlx::query(
            "UPDATE outbox SET state = 'superseded' WHERE state = 'pending' AND action = 'update'
             AND target_id = ANY($1)",
        )
        .bind(targets)
        .execute(&mut *conn)
        .await?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    let mut ids: (Vec<Option<i64>>, Vec<Option<i64>>) = Default::default();
    let mut text: [Vec<String>; 7] = Default::default();
    let mut address: Vec<Option<String>> = Vec::with_capacity(rows.len());
    for (deployment, platform, channel, action, payload, created, next, target, to, kind) in rows {
        ids.0.push(deployment);
        ids.1.push(target);
        address.push(to);
        for (column, value) in text.iter_mut().zip([
            platform.to_string(),
            channel,
            action.to_string(),
            payload,
            created,
            next,
            kind.to_string(),
        ]) {
            column.push(value);
        }
    }
    let [platform, channel, action, payload, created, next, kind] = text;
    sqlx::query(
        "INSERT INTO outbox (id, deployment_id, platform, channel, action, payload, created_at, next_attempt_at,
                             target_id, address, kind)
         SELECT last.id + r.n, r.deployment_id, r.platform, r.channel, r.action, r.payload, r.created_at,
                r.next_attempt_at, r.target_id, r.address, r.kind
         FROM (SELECT COALESCE(MAX(id), 0) AS id FROM outbox) AS last,
              UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::bigint[], $9::text[], $10::text[])
              WITH ORDINALITY AS r(deployment_id, platform, channel, action, payload, created_at, next_attempt_at,
                                   target_id, address, kind, n)
         ORDER BY r.n",
    )
    .bind(ids.0)
    .bind(platform)
    .bind(channel)
    .bind(action)
    .bind(payload)
    .bind(created)
    .bind(next)
    .bind(ids.1)
    .bind(address)
    .bind(kind)
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery to mark: outbox id, remote id, reposted, holder, fence.
pub(in crate::store) type Mark = (i64, Option<String>, bool, String, i64);

/// Marks deliveries sent, each only while its claim still holds (counted into `written`).
pub(in crate::store) async fn mark_sent(
    conn: &mut PgConnection,
    written: &mut Written,
    rows: Vec<Mark>,
    at: String,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = $6, remote_id = $2,
           action = CASE WHEN $3 THEN 'post' ELSE action END,
           kind = CASE WHEN $3 THEN 'status' ELSE kind END
         WHERE id = $1 {}",
        held("$4", "$5")
    );
    for (id, remote_id, reposted, holder, fence) in rows {
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(remote_id)
            .bind(reposted)
            .bind(holder)
            .bind(fence)
            .bind(&at)
            .execute(&mut *conn)
            .await?;
        written.marked += done.rows_affected();
    }
    Ok(())
}

/// Sets (or, with `None`, drops) each deployment's next timer: the last word on each
/// deployment counts, as when they are applied in order.
pub(in crate::store) async fn set_timers(
    conn: &mut PgConnection,
    timers: Vec<(i64, Option<String>)>,
) -> sqlx::Result<()> {
    let mut last: Vec<(i64, Option<String>)> = Vec::with_capacity(timers.len());
    for (id, due) in timers {
        last.retain(|(seen, _)| *seen != id);
        last.push((id, due));
    }
    let (set, dropped): (Vec<_>, Vec<_>) = last.into_iter().partition(|(_, due)| due.is_some());
    if !dropped.is_empty() {
        let ids: Vec<i64> = dropped.into_iter().map(|(id, _)| id).collect();
        sqlx::query("DELETE FROM timers WHERE deployment_id = ANY($1)").bind(ids).execute(&mut *conn).await?;
    }
    if !set.is_empty() {
        let (ids, due): (Vec<i64>, Vec<String>) =
            set.into_iter().map(|(id, due)| (id, due.unwrap_or_default())).unzip();
        sqlx::query(
            "INSERT INTO timers (deployment_id, due_at) SELECT * FROM UNNEST($1::bigint[], $2::text[])
             ON CONFLICT (deployment_id) DO UPDATE SET due_at = excluded.due_at",
        )
        .bind(ids)
        .bind(due)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Records the answers given to requests.
pub(in crate::store) async fn record_answers(
    conn: &mut PgConnection,
    answers: Vec<(String, String)>,
    at: String,
) -> sqlx::Result<()> {
    let (keys, responses): (Vec<String>, Vec<String>) = answers.into_iter().unzip();
    sqlx::query(
        "INSERT INTO inbound_requests (key, received_at, response)
         SELECT r.key, $2, r.response FROM UNNEST($1::text[], $3::text[]) AS r(key, response)
         ON CONFLICT (key) DO UPDATE SET response = excluded.response",
    )
    .bind(keys)
    .bind(at)
    .bind(responses)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rewrites the health probe's row.
pub(in crate::store) async fn probe(conn: &mut PgConnection, at: String) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO health_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = $1")
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims or renews each destination (platform, address, fence known) for `holder` until
/// `until`; returns the indexes of those it holds now, with their fences. The statement is
/// the one SQLite runs (`claims.rs`), atomic per row on PostgreSQL as well.
pub(in crate::store) async fn claim(
    conn: &mut PgConnection,
    asked: Vec<(&'static str, String, i64)>,
    holder: String,
    now: String,
    until: String,
) -> Result<Vec<(usize, i64)>, StoreError> {
    let mut held = Vec::with_capacity(asked.len());
    for (i, (platform, address, fence)) in asked.into_iter().enumerate() {
        let granted: Option<(i64,)> = sqlx::query_as(CLAIM)
            .bind(platform)
            .bind(address)
            .bind(&holder)
            .bind(fence)
            .bind(&until)
            .bind(&now)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some((fence,)) = granted {
            held.push((i, fence));
        }
    }
    Ok(held)
}

/// Empties and expires the claims `holder` holds under the given fences.
pub(in crate::store) async fn release(
    conn: &mut PgConnection,
    leases: Vec<(&'static str, String, i64)>,
    holder: String,
    now: String,
) -> Result<(), StoreError> {
    for (platform, address, fence) in leases {
        sqlx::query(RELEASE)
            .bind(&now)
            .bind(platform)
            .bind(address)
            .bind(fence)
            .bind(&holder)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records a failed attempt and the next, while the claim holds; whether it counted.
pub(in crate::store) async fn mark_retry(
    conn: &mut PgConnection,
    id: i64,
    (holder, fence): (String, i64),
    next: String,
    error: String,
) -> Result<bool, StoreError> {
    let sql = retry_sql();
    let done = sqlx::query(&sql).bind(next).bind(error).bind(id).bind(holder).bind(fence).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}

/// Gives up on a message (and, with `channel`, every later one pending for its channel) while
/// the claim holds; how many were given up.
pub(in crate::store) async fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    (holder, fence): (String, i64),
    error: String,
    channel: Option<(&'static str, String)>,
) -> Result<u64, StoreError> {
    let sql = give_up_sql(channel.is_some());
    let done = match channel {
        Some((platform, address)) => {
            sqlx::query(&sql)
                .bind(id)
                .bind(error)
                .bind(platform)
                .bind(address)
                .bind(holder)
                .bind(fence)
                .execute(conn)
                .await?
        }
        None => sqlx::query(&sql).bind(error).bind(id).bind(holder).bind(fence).execute(conn).await?,
    };
    Ok(done.rows_affected())
}
