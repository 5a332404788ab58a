//! The `timers` table: each open deployment's next timer (a status post, a reminder, an
//! escalation step), so the scheduler reads one small table instead of folding every open
//! deployment on each tick. Written in the same transaction as the events that move it.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::{format_time, parse_time, Store, StoreError, Tx, ROWS_PER_INSERT};

impl Tx {
    /// Sets (or, with `None`, drops) the deployment's next timer.
    pub async fn set_timer(&mut self, id: i64, due: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        match due {
            Some(due) => {
                sqlx::query(
                    "INSERT INTO timers (deployment_id, due_at) VALUES (?1, ?2)
                     ON CONFLICT (deployment_id) DO UPDATE SET due_at = ?2",
                )
                .bind(id)
                .bind(format_time(due))
                .execute(&mut *self.tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM timers WHERE deployment_id = ?").bind(id).execute(&mut *self.tx).await?;
            }
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

impl Store {
    /// When the earliest timer of any open deployment falls due.
    pub async fn next_timer(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<(String,)> =
            sqlx::query_as("SELECT MIN(due_at) FROM timers HAVING COUNT(*) > 0").fetch_optional(&self.pool).await?;
        next.map(|(t,)| parse_time(0, &t)).transpose()
    }
}
