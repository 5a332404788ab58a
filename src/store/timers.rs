//! The `timers` table: each open deployment's next timer (a status post, a reminder, an
//! escalation step), so the scheduler reads one small table instead of folding every open
//! deployment on each tick. Written in the same transaction as the events that move it.

use chrono::{DateTime, Utc};

use super::{format_time, on_readers, parse_time, postgres, Store, StoreError, Tx};

impl Tx {
    /// Buffers setting (or, with `None`, dropping) the deployment's next timer.
    pub fn set_timer(&mut self, id: i64, due: Option<DateTime<Utc>>) {
        self.set_timers(&[(id, due)]);
    }

    /// Buffers setting (or, with `None`, dropping) the next timer of each deployment, in order.
    pub fn set_timers(&mut self, timers: &[(i64, Option<DateTime<Utc>>)]) {
        if timers.is_empty() {
            return;
        }
        let timers: Vec<(i64, Option<String>)> = timers.iter().map(|(id, due)| (*id, due.map(format_time))).collect();
        if self.on_postgres() {
            return self.write_pg(move |conn, _| Box::pin(postgres::set_timers(conn, timers)));
        }
        self.write(move |conn, _| {
            let mut upsert = conn.prepare_cached(
                "INSERT INTO timers (deployment_id, due_at) VALUES (?1, ?2)
                 ON CONFLICT (deployment_id) DO UPDATE SET due_at = ?2",
            )?;
            let mut delete = conn.prepare_cached("DELETE FROM timers WHERE deployment_id = ?")?;
            for (id, due) in timers {
                match due {
                    Some(due) => upsert.execute((id, due))?,
                    None => delete.execute([id])?,
                };
            }
            Ok(())
        });
    }

    /// Deployments whose timer is due at `now`, with when it fell due, earliest first.
    pub async fn due_timers(&mut self, now: DateTime<Utc>) -> Result<Vec<(i64, DateTime<Utc>)>, StoreError> {
        let now = format_time(now);
        let rows = if self.on_postgres() {
            self.call_pg(move |conn| Box::pin(postgres::due_timers(conn, now))).await?
        } else {
            self.call(move |conn| {
                let mut select = conn.prepare_cached(
                    "SELECT deployment_id, due_at FROM timers WHERE due_at <= ? ORDER BY due_at, deployment_id",
                )?;
                let rows = select.query_map([now], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?
        };
        rows.into_iter().map(|(id, due)| Ok((id, parse_time(id, &due)?))).collect()
    }

    /// Open deployments that have no timer row (opened by a version without the timers table).
    pub async fn untimed_open_deployments(&mut self) -> Result<Vec<i64>, StoreError> {
        if self.on_postgres() {
            return self.call_pg(|conn| Box::pin(postgres::untimed_open_deployments(conn))).await;
        }
        self.call(|conn| {
            let mut select = conn.prepare_cached(
                "SELECT id FROM deployments WHERE ended_at IS NULL
                 AND id NOT IN (SELECT deployment_id FROM timers) ORDER BY id",
            )?;
            let ids = select.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
    }
}

impl Store {
    /// When the earliest timer of any open deployment falls due.
    pub async fn next_timer(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = "SELECT MIN(due_at) FROM timers HAVING COUNT(*) > 0";
        let next: Option<(String,)> = on_readers!(self, |pool| sqlx::query_as(sql).fetch_optional(pool).await?);
        next.map(|(t,)| parse_time(0, &t)).transpose()
    }
}
