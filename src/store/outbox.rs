//! The `outbox` table: what the bot has decided to post. A message is written here in the
//! same transaction as the events that caused it, so a crash can neither lose it nor post it
//! for events that were never recorded. The delivery worker takes the oldest pending message
//! of each channel (so order within a channel holds) and marks how its delivery went.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::{format_time, on_readers, parse_time, postgres, Destination, Lease, Route, Store, StoreError, Tx};
use crate::domain::Channel;

/// The condition that fences a delivery record: the outbox row's destination is still claimed
/// by `holder` under `fence` (SQL expressions: bound parameters, or a CTE's columns), that is,
/// by the process that tried it.
pub(super) fn held(holder: &str, fence: &str) -> String {
    format!(
        "AND EXISTS (SELECT 1 FROM outbox_claims c
                     WHERE c.platform = outbox.platform AND c.channel = outbox.channel
                       AND c.holder = {holder} AND c.fence = {fence})"
    )
}

/// Records a failed attempt and when to try again, while the claim holds: next_attempt_at,
/// last_error, id, holder, fence. Both backends run it as written (`$N` parameters, numbered
/// in the order they first appear, as SQLite numbers them).
pub(super) fn retry_sql() -> String {
    format!(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 {}",
        held("$4", "$5")
    )
}

/// Gives up a message, while the claim holds: last_error, id, holder, fence; or, for the
/// `whole_channel`, every message pending for its channel: id, last_error, platform, channel,
/// holder, fence. Both backends run it as written, as [`retry_sql`].
pub(super) fn give_up_sql(whole_channel: bool) -> String {
    if whole_channel {
        format!(
            "UPDATE outbox SET state = 'failed', attempts = attempts + CASE WHEN id = $1 THEN 1 ELSE 0 END,
             last_error = $2 WHERE state = 'pending' AND platform = $3 AND channel = $4 {}",
            held("$5", "$6")
        )
    } else {
        format!(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $1 WHERE id = $2 {}",
            held("$3", "$4")
        )
    }
}

/// What to send, already rendered for the channel's platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The whole message as text: the console prints it, Slack shows it in notifications.
    pub text: String,
    /// The message's richer form for its platform, when it has one: Slack Block Kit blocks,
    /// or a Discord message body (embeds, components, allowed mentions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<serde_json::Value>,
    /// The JSON event for a paging webhook (PagerDuty Events API v2), without the routing
    /// key, which is added when it is sent so no secret is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
}

impl Payload {
    pub fn text(text: impl Into<String>) -> Payload {
        Payload { text: text.into(), blocks: None, event: None }
    }
}

/// How a message reaches its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new message in the channel.
    Post,
    /// Replaces the content of an earlier post: the outbox row `target`, once delivered.
    /// If that post never arrived, the update is posted as a new message instead.
    Update { target: i64 },
    /// A message in the channel that only `user` sees.
    Ephemeral { user: String },
    /// An answer through the response URL the platform gave with an interaction.
    Respond { url: String },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Post => "post",
            Action::Update { .. } => "update",
            Action::Ephemeral { .. } => "ephemeral",
            Action::Respond { .. } => "response",
        }
    }

    fn target(&self) -> Option<i64> {
        match self {
            Action::Update { target } => Some(*target),
            _ => None,
        }
    }

    fn address(&self) -> Option<&str> {
        match self {
            Action::Ephemeral { user } => Some(user),
            Action::Respond { url } => Some(url),
            _ => None,
        }
    }
}

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub deployment_id: Option<i64>,
    pub destination: Destination,
    pub payload: Payload,
    pub action: Action,
    /// A status post: later updates of the deployment's status target the latest one.
    pub status: bool,
}

impl NewMessage {
    pub fn post(deployment_id: Option<i64>, to: impl Into<Destination>, payload: Payload) -> NewMessage {
        NewMessage { deployment_id, destination: to.into(), payload, action: Action::Post, status: false }
    }

    pub fn ephemeral(channel: Channel, user: impl Into<String>, payload: Payload) -> NewMessage {
        NewMessage {
            deployment_id: None,
            destination: channel.into(),
            payload,
            action: Action::Ephemeral { user: user.into() },
            status: false,
        }
    }

    pub fn respond(channel: Channel, url: impl Into<String>, payload: Payload) -> NewMessage {
        NewMessage {
            deployment_id: None,
            destination: channel.into(),
            payload,
            action: Action::Respond { url: url.into() },
            status: false,
        }
    }
}

/// A message the platform accepted: its id there, whether an update was posted anew, and the
/// claim on its destination it was sent under.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub id: i64,
    pub remote_id: Option<String>,
    pub reposted: bool,
    pub lease: Lease,
}

/// A pending message as the delivery worker queues it, before it reads the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub destination: Destination,
    pub next_attempt: DateTime<Utc>,
}

/// A pending message, as the delivery worker sees it.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub deployment_id: Option<i64>,
    pub destination: Destination,
    pub payload: Payload,
    pub action: Action,
    /// For an update: the platform's id of the message to change, if it was delivered.
    pub target_remote_id: Option<String>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// One row of the outbox, for `golive` tests and tools that read what was sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub deployment_id: Option<i64>,
    pub platform: String,
    pub channel: String,
    pub action: String,
    pub payload: String,
    pub created_at: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub remote_id: Option<String>,
    pub target_id: Option<i64>,
    pub address: Option<String>,
    pub kind: String,
}

/// An outbox row with the delivered id of the message it updates.
#[derive(Debug, Clone, sqlx::FromRow)]
struct PendingRow {
    #[sqlx(flatten)]
    row: OutboxRow,
    target_remote_id: Option<String>,
}

fn action(row: &OutboxRow) -> Result<Action, StoreError> {
    let address = || {
        row.address
            .clone()
            .ok_or_else(|| StoreError::Corrupt { id: row.id, why: format!("{} without an address", row.action) })
    };
    Ok(match row.action.as_str() {
        "post" => Action::Post,
        "update" => Action::Update {
            target: row
                .target_id
                .ok_or_else(|| StoreError::Corrupt { id: row.id, why: "update without a target".into() })?,
        },
        "ephemeral" => Action::Ephemeral { user: address()? },
        "response" => Action::Respond { url: address()? },
        other => return Err(StoreError::Corrupt { id: row.id, why: format!("outbox action `{other}`") }),
    })
}

fn item(pending: PendingRow) -> Result<OutboxItem, StoreError> {
    let PendingRow { row, target_remote_id } = pending;
    let action = action(&row)?;
    let destination = Destination::from_columns(&row.platform, row.channel.clone())
        .ok_or_else(|| StoreError::Corrupt { id: row.id, why: format!("outbox platform `{}`", row.platform) })?;
    let payload = serde_json::from_str(&row.payload)
        .map_err(|e| StoreError::Corrupt { id: row.id, why: format!("outbox payload: {e}") })?;
    Ok(OutboxItem {
        id: row.id,
        deployment_id: row.deployment_id,
        destination,
        payload,
        action,
        target_remote_id,
        attempts: row.attempts,
        created_at: parse_time(row.id, &row.created_at)?,
    })
}

impl Tx {
    /// Buffers `messages` for the outbox. An update makes the deployment's earlier pending
    /// updates of the same message pointless, so those are dropped (earlier ones in this call
    /// are never written): ten ticks in a row cost one `chat.update`.
    pub fn enqueue(&mut self, messages: &[NewMessage], now: DateTime<Utc>) -> Result<(), StoreError> {
        let last_update: HashMap<i64, usize> =
            messages.iter().enumerate().filter_map(|(i, m)| Some((m.action.target()?, i))).collect();
        let now = format_time(now);
        let rows = messages
            .iter()
            .enumerate()
            .filter(|(i, m)| m.action.target().map_or(true, |t| last_update.get(&t) == Some(i)))
            .map(|(_, m)| {
                let payload =
                    serde_json::to_string(&m.payload).map_err(|e| StoreError::Corrupt { id: 0, why: e.to_string() })?;
                Ok((
                    m.deployment_id,
                    m.destination.route().as_str(),
                    m.destination.address().to_string(),
                    m.action.name(),
                    payload,
                    now.clone(),
                    now.clone(),
                    m.action.target(),
                    m.action.address().map(str::to_string),
                    if m.status { "status" } else { "message" },
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if last_update.is_empty() && rows.is_empty() {
            return Ok(());
        }
        self.enqueued |= !rows.is_empty();
        let targets: Vec<i64> = last_update.into_keys().collect();
        if self.on_postgres() {
            self.write_pg(move |conn, _| Box::pin(postgres::enqueue(conn, targets, rows)));
            return Ok(());
        }
        // One statement for all targets, not one per target: without an index on target_id each
        // statement scans the pending rows, which pile up while a destination is slow.
        let superseded = (!targets.is_empty())
            .then(|| serde_json::to_string(&targets))
            .transpose()
            .map_err(|e| StoreError::Corrupt { id: 0, why: e.to_string() })?;
        self.write(move |conn, _| {
            if let Some(targets) = superseded {
                conn.prepare_cached(
                    "UPDATE outbox SET state = 'superseded' WHERE state = 'pending' AND action = 'update'
                     AND target_id IN (SELECT value FROM json_each(?))",
                )?
                .execute([targets])?;
            }
            let mut insert = conn.prepare_cached(
                "INSERT INTO outbox (deployment_id, platform, channel, action, payload, created_at, next_attempt_at,
                                     target_id, address, kind)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?;
            for row in rows {
                insert.execute(row)?;
            }
            Ok(())
        });
        Ok(())
    }

    /// Buffers the marks of messages delivered at `at`. An update that had to be posted as a
    /// new message becomes a status post itself, so the next updates change it rather than the
    /// lost one.
    ///
    /// Fenced: a mark counts only while its destination's claim is still held by the process
    /// that sent it, under the same fence (`outbox_claims`). A process that stalled past its
    /// lease, while another took the destination over, records nothing: the post stays pending
    /// for the new holder (which sends it again: the one repeat a takeover may cost). How many
    /// marks counted is in what `commit` returns (`Written::marked`).
    pub fn mark_sent(&mut self, sent: &[Delivered], at: DateTime<Utc>) {
        if sent.is_empty() {
            return;
        }
        let at = format_time(at);
        let rows: Vec<_> = sent
            .iter()
            .map(|d| (d.id, d.remote_id.clone(), d.reposted, d.lease.holder.clone(), d.lease.fence))
            .collect();
        if self.on_postgres() {
            return self.write_pg(move |conn, written| Box::pin(postgres::mark_sent(conn, written, rows, at)));
        }
        self.write(move |conn, written| {
            let mut update = conn.prepare_cached(&format!(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?6, remote_id = ?2,
                   action = CASE WHEN ?3 THEN 'post' ELSE action END,
                   kind = CASE WHEN ?3 THEN 'status' ELSE kind END
                 WHERE id = ?1 {}",
                held("?4", "?5")
            ))?;
            for (id, remote_id, reposted, holder, fence) in rows {
                written.marked += update.execute(rusqlite::params![id, remote_id, reposted, holder, fence, at])? as u64;
            }
            Ok(())
        });
    }

    /// The deployment's latest status post that may still be on screen (not given up), which
    /// updates of its status change in place.
    pub async fn status_post(&mut self, deployment_id: i64) -> Result<Option<i64>, StoreError> {
        if self.on_postgres() {
            return self.call_pg(move |conn| Box::pin(postgres::status_post(conn, deployment_id))).await;
        }
        self.call(move |conn| Ok(status_post_of(conn, deployment_id)?)).await
    }
}

/// The deployment's latest status post that may still be on screen, read on `conn`.
pub(super) fn status_post_of(conn: &rusqlite::Connection, deployment_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM outbox WHERE deployment_id = ? AND kind = 'status' AND action = 'post'
         AND state != 'failed' ORDER BY id DESC LIMIT 1",
    )?
    .query_row([deployment_id], |r| r.get(0))
    .optional()
}

impl Store {
    /// Enqueues messages that no event caused (a `/deploy status` post).
    pub async fn enqueue(&self, messages: &[NewMessage], now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.enqueue(messages, now)?;
        tx.commit().await.map(drop)
    }

    /// Pending messages by id, whole, in id order.
    pub async fn pending_items(&self, ids: &[i64]) -> Result<Vec<OutboxItem>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT o.*, t.remote_id AS target_remote_id FROM outbox o
             LEFT JOIN outbox t ON t.id = o.target_id
             WHERE o.id IN ({list}) AND o.state = 'pending' ORDER BY o.id"
        );
        let rows: Vec<PendingRow> = on_readers!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        rows.into_iter().map(item).collect()
    }

    /// Every pending message with an id above `after`, oldest first, as the delivery worker
    /// queues them: id, channel and when it may be tried. `after = 0` reads them all.
    pub async fn pending_since(&self, after: i64) -> Result<Vec<Queued>, StoreError> {
        // Above 0 the primary key bounds the scan to the new rows; the whole set comes from
        // the partial index of pending rows, however long the outbox's history.
        let sql = if after > 0 {
            "SELECT id, platform, channel, next_attempt_at FROM outbox WHERE id > $1 AND state = 'pending' ORDER BY id"
        } else {
            "SELECT id, platform, channel, next_attempt_at FROM outbox WHERE id > $1 AND state = 'pending'
             ORDER BY platform, channel, id"
        };
        let rows: Vec<(i64, String, String, String)> =
            on_readers!(self, |pool| sqlx::query_as(sql).bind(after).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(id, platform, channel, next)| {
                let destination = Destination::from_columns(&platform, channel)
                    .ok_or_else(|| StoreError::Corrupt { id, why: format!("unknown platform `{platform}`") })?;
                Ok(Queued { id, destination, next_attempt: parse_time(id, &next)? })
            })
            .collect()
    }

    /// The highest outbox id so far (0 when empty).
    pub async fn last_outbox_id(&self) -> Result<i64, StoreError> {
        let sql = "SELECT MAX(id) FROM outbox";
        let (id,): (Option<i64>,) = on_readers!(self, |pool| sqlx::query_as(sql).fetch_one(pool).await?);
        Ok(id.unwrap_or(0))
    }

    /// Records a failed attempt and when to try again. Fenced like [`Tx::mark_sent`]: it
    /// counts only while `lease` is still the destination's claim, so a process that lost the
    /// claim cannot push back a post the new holder is sending. Returns whether it counted.
    pub async fn mark_retry(
        &self,
        id: i64,
        lease: &Lease,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        let (next, error, lease) = (format_time(next), error.to_string(), lease.clone());
        if self.is_postgres() {
            let lease = (lease.holder, lease.fence);
            return self.write_now_pg(move |conn| Box::pin(postgres::mark_retry(conn, id, lease, next, error))).await;
        }
        // In the writer's queue, as claims are (`Store::write_now`), not against it in SQLite's
        // busy handler.
        self.write_now(move |conn| {
            let changed =
                conn.prepare_cached(&retry_sql())?.execute((&next, &error, id, &lease.holder, lease.fence))?;
            Ok(changed > 0)
        })
        .await
    }

    /// Gives up on a message, and on every later one pending for the same channel when the
    /// channel itself is unusable. Returns how many messages were given up. Fenced like
    /// [`Tx::mark_sent`]: under a claim that is no longer `lease`, nothing is given up (0).
    pub async fn mark_failed(
        &self,
        item: &OutboxItem,
        lease: &Lease,
        error: &str,
        whole_channel: bool,
    ) -> Result<u64, StoreError> {
        let (id, error, lease) = (item.id, error.to_string(), lease.clone());
        let (route, address) = (item.destination.route().as_str(), item.destination.address().to_string());
        if self.is_postgres() {
            let (lease, channel) = ((lease.holder, lease.fence), whole_channel.then_some((route, address)));
            return self
                .write_now_pg(move |conn| Box::pin(postgres::mark_failed(conn, id, lease, error, channel)))
                .await;
        }
        self.write_now(move |conn| {
            let give_up = conn.prepare_cached(&give_up_sql(whole_channel));
            let changed = if whole_channel {
                give_up?.execute((id, &error, route, &address, &lease.holder, lease.fence))?
            } else {
                give_up?.execute((&error, id, &lease.holder, lease.fence))?
            };
            Ok(changed as u64)
        })
        .await
    }

    /// The whole outbox, oldest first (for tests, `golive` tools and the metrics).
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = "SELECT * FROM outbox ORDER BY id";
        Ok(on_readers!(self, |pool| sqlx::query_as::<_, OutboxRow>(sql).fetch_all(pool).await?))
    }

    /// Pending posts per route, with when the oldest of them was queued.
    pub async fn pending_by_route(&self) -> Result<Vec<(Route, i64, DateTime<Utc>)>, StoreError> {
        let sql = "SELECT platform, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending' GROUP BY platform";
        let rows: Vec<(String, i64, String)> = on_readers!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        let mut pending = Vec::with_capacity(rows.len());
        for (platform, count, created) in rows {
            if let Some(route) = Route::parse(&platform) {
                pending.push((route, count, parse_time(0, &created)?));
            }
        }
        Ok(pending)
    }
}
