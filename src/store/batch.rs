//! What the writer appends in one transaction, written with few statements: events, outbox
//! rows, timers and request answers go in as multi-row inserts, once per batch of commands.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::chain::{self, AuditKey};
use super::{format_time, parse_time, StoreError, StoredEvent, Tx, GENESIS, OPEN_IN_CHANNEL, ROWS_PER_INSERT};
use crate::domain::progress::progress;
use crate::domain::{Channel, Deployment, Event};

/// The last event of the whole chain: its id and hash. Any writer that appends moves it, so
/// a writer that finds it where it left it knows nobody else wrote events since. With an
/// audit key, it also knows from which event the chain is keyed, and seals what it writes.
#[derive(Debug, Clone)]
pub struct ChainHead {
    pub event_id: i64,
    pub hash: String,
    /// The first keyed event (`None`: the chain is plain SHA-256).
    keyed_from: Option<i64>,
    key: Option<AuditKey>,
}

/// Where the chain ends is what tells writers apart; the key is this writer's own.
impl PartialEq for ChainHead {
    fn eq(&self, other: &ChainHead) -> bool {
        self.event_id == other.event_id && self.hash == other.hash && self.keyed_from == other.keyed_from
    }
}

impl Eq for ChainHead {}

impl Default for ChainHead {
    fn default() -> ChainHead {
        ChainHead { event_id: 0, hash: GENESIS.to_string(), keyed_from: None, key: None }
    }
}

impl ChainHead {
    /// Chains `event` of deployment `deployment_id` after this head and moves the head to it.
    pub fn chain(&mut self, deployment_id: i64, event: &Event, after: &Deployment) -> Result<StoredEvent, StoreError> {
        let id = self.event_id + 1;
        let payload = serde_json::to_string(&event.kind).map_err(|e| StoreError::Corrupt { id, why: e.to_string() })?;
        let mut row = StoredEvent {
            id,
            deployment_id,
            seq: event.seq,
            at: format_time(event.at),
            actor: event.actor.key(),
            actor_name: event.actor.name.clone(),
            platform: after.platform.as_str().to_string(),
            channel: after.channel.clone(),
            kind: event.kind.name().to_string(),
            payload,
            prev_hash: std::mem::take(&mut self.hash),
            hash: String::new(),
        };
        row.hash = row.hash_with(self.keyed_from.and(self.key.as_ref()));
        self.event_id = id;
        self.hash = row.hash.clone();
        Ok(row)
    }
}

impl Tx {
    /// Where the chain ends now.
    /// Refused (`StoreError::Chain`) when the chain is keyed and this writer lacks the key it
    /// was written with: it would break the chain.
    pub async fn chain_head(&mut self) -> Result<ChainHead, StoreError> {
        let head: Option<chain::Head> = sqlx::query_as(chain::HEAD).fetch_optional(&mut *self.tx).await?;
        let key = self.audit_key.clone();
        let keyed_from = chain::Head::keyed_from(head.as_ref(), key.as_ref()).map_err(StoreError::Chain)?;
        let (event_id, hash) = head.map_or((0, GENESIS.to_string()), |h| (h.event_id, h.hash));
        Ok(ChainHead { event_id, hash, keyed_from, key })
    }

    async fn set_chain_head(&mut self, head: &ChainHead) -> Result<(), StoreError> {
        let seal = head.key.as_ref().zip(head.keyed_from).map(|(key, from)| key.seal(head.event_id, &head.hash, from));
        sqlx::query(
            "INSERT INTO chain_head (id, event_id, hash, keyed_from, seal) VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET event_id = ?1, hash = ?2, keyed_from = ?3, seal = ?4",
        )
        .bind(head.event_id)
        .bind(&head.hash)
        .bind(head.keyed_from)
        .bind(&seal)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The id of the channel's open deployment, if any.
    pub async fn open_in_channel(&mut self, channel: &Channel) -> Result<Option<i64>, StoreError> {
        let id: Option<(i64,)> = sqlx::query_as(OPEN_IN_CHANNEL)
            .bind(channel.platform.as_str())
            .bind(&channel.id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(id.map(|(id,)| id))
    }

    /// Opens the listing row of a new deployment and returns its id; `ChannelTaken` when the
    /// channel has an open deployment already.
    pub async fn insert_deployment(&mut self, d: &Deployment) -> Result<i64, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO deployments (release, plan, platform, channel, lead, lead_name, status, progress, started_at, updated_at, ended_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&d.release)
        .bind(&d.plan.id)
        .bind(d.platform.as_str())
        .bind(&d.channel)
        .bind(d.lead.key())
        .bind(&d.lead.name)
        .bind(d.status.as_str())
        .bind(i64::from(progress(d).percent()))
        .bind(format_time(d.started_at))
        .bind(format_time(d.updated_at))
        .bind(d.ended_at().map(format_time))
        .execute(&mut *self.tx)
        .await;
        match inserted {
            Ok(done) => Ok(done.last_insert_rowid()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::ChannelTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes what a batch appended: the events (already chained, in order), the chain's new
    /// head, and the listing rows of the deployments they changed.
    pub async fn append_events(
        &mut self,
        rows: &[StoredEvent],
        head: &ChainHead,
        changed: &[(i64, &Deployment)],
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new(
                "INSERT INTO events (id, deployment_id, seq, at, actor, actor_name, platform, channel, kind, payload, prev_hash, hash) ",
            );
            insert.push_values(chunk, |mut b, row| {
                b.push_bind(row.id)
                    .push_bind(row.deployment_id)
                    .push_bind(row.seq)
                    .push_bind(&row.at)
                    .push_bind(&row.actor)
                    .push_bind(&row.actor_name)
                    .push_bind(&row.platform)
                    .push_bind(&row.channel)
                    .push_bind(&row.kind)
                    .push_bind(&row.payload)
                    .push_bind(&row.prev_hash)
                    .push_bind(&row.hash);
            });
            insert.build().execute(&mut *self.tx).await?;
        }
        if !rows.is_empty() {
            self.set_chain_head(head).await?;
        }
        for chunk in changed.chunks(ROWS_PER_INSERT) {
            let mut update =
                QueryBuilder::new("WITH v (id, status, progress, updated_at, ended_at, lead, lead_name) AS (");
            update.push_values(chunk, |mut b, (id, d)| {
                b.push_bind(*id)
                    .push_bind(d.status.as_str())
                    .push_bind(i64::from(progress(d).percent()))
                    .push_bind(format_time(d.updated_at))
                    .push_bind(d.ended_at().map(format_time))
                    // The lead may have been handed over (`/deploy lead`).
                    .push_bind(d.lead.key())
                    .push_bind(&d.lead.name);
            });
            update.push(
                ") UPDATE deployments SET status = v.status, progress = v.progress, updated_at = v.updated_at,
                   ended_at = v.ended_at, lead = v.lead, lead_name = v.lead_name FROM v WHERE deployments.id = v.id",
            );
            update.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Sets (or, with `None`, drops) the next timer of each deployment.
    pub async fn set_timers(&mut self, timers: &[(i64, Option<DateTime<Utc>>)]) -> Result<(), StoreError> {
        let (set, dropped): (Vec<_>, Vec<_>) = timers.iter().partition(|(_, due)| due.is_some());
        for chunk in set.chunks(ROWS_PER_INSERT) {
            let mut upsert = QueryBuilder::new("INSERT INTO timers (deployment_id, due_at) ");
            upsert.push_values(chunk, |mut b, (id, due)| {
                b.push_bind(*id).push_bind(due.map(format_time));
            });
            upsert.push(" ON CONFLICT (deployment_id) DO UPDATE SET due_at = excluded.due_at");
            upsert.build().execute(&mut *self.tx).await?;
        }
        for chunk in dropped.chunks(ROWS_PER_INSERT) {
            let mut delete = QueryBuilder::new("DELETE FROM timers WHERE deployment_id IN (");
            let mut list = delete.separated(", ");
            for (id, _) in chunk {
                list.push_bind(*id);
            }
            delete.push(")");
            delete.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// The answers already given to any of `keys` (requests handled before), by key.
    pub async fn answered(&mut self, keys: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        let mut answers = HashMap::new();
        for chunk in keys.chunks(ROWS_PER_INSERT) {
            let mut select = QueryBuilder::new("SELECT key, response FROM inbound_requests WHERE key IN (");
            let mut list = select.separated(", ");
            for key in chunk {
                list.push_bind(*key);
            }
            select.push(")");
            let rows: Vec<(String, String)> = select.build_query_as().fetch_all(&mut *self.tx).await?;
            answers.extend(rows);
        }
        Ok(answers)
    }

    /// Records the answers given to requests, so their retried deliveries are answered the same.
    pub async fn record_answers(&mut self, answers: &[(String, String)], at: DateTime<Utc>) -> Result<(), StoreError> {
        let at = format_time(at);
        for chunk in answers.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new("INSERT INTO inbound_requests (key, received_at, response) ");
            insert.push_values(chunk, |mut b, (key, answer)| {
                b.push_bind(key).push_bind(&at).push_bind(answer);
            });
            insert.push(" ON CONFLICT (key) DO UPDATE SET response = excluded.response");
            insert.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Deployments whose timer is due at `now`, with when it fell due, earliest first.
    pub async fn due_timers(&mut self, now: DateTime<Utc>) -> Result<Vec<(i64, DateTime<Utc>)>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT deployment_id, due_at FROM timers WHERE due_at <= ? ORDER BY due_at, deployment_id")
                .bind(format_time(now))
                .fetch_all(&mut *self.tx)
                .await?;
        rows.into_iter().map(|(id, due)| Ok((id, parse_time(id, &due)?))).collect()
    }

    /// Open deployments that have no timer row (opened by a version without the timers table).
    pub async fn untimed_open_deployments(&mut self) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM deployments WHERE ended_at IS NULL
             AND id NOT IN (SELECT deployment_id FROM timers) ORDER BY id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}
