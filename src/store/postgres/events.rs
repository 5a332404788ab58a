//! Reading events on PostgreSQL: a deployment's history, and the whole log for `golive audit
//! verify` from one snapshot (a `REPEATABLE READ` read-only transaction), so the head, the log
//! and the `deployments` table agree even while replicas append.

use std::sync::mpsc::{Receiver, SyncSender};

use futures_util::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use crate::domain::Event;
use crate::store::audit::{Listed, LogSource, LISTED};
use crate::store::events::{Chunk, EventColumns, Fields, Head, Lanes, HEAD};
use crate::store::StoreError;

/// An event's columns as `Event` is decoded from: id, seq, at, actor, actor_name, payload.
type EventRow = (i64, i64, String, String, Option<String>, String);

/// Deployment `deployment`'s events after sequence number `after`, in order.
pub(in crate::store) async fn events_after<'c>(
    conn: impl sqlx::Executor<'c, Database = Postgres>,
    deployment: i64,
    after: i64,
) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, seq, at, actor, actor_name, payload FROM events
         WHERE deployment_id = $1 AND seq > $2 ORDER BY seq",
    )
    .bind(deployment)
    .bind(after)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|(id, seq, at, actor, actor_name, payload)| {
            EventColumns {
                id: *id,
                seq: *seq,
                at: at.as_bytes(),
                actor: actor.as_bytes(),
                actor_name: actor_name.as_deref().map(str::as_bytes),
                payload: payload.as_bytes(),
            }
            .decode()
        })
        .collect()
}

/// Every column of an event, in the order `Fields` holds them, and the stored hash.
type LogRowColumns = (i64, i64, i64, String, String, Option<String>, String, String, String, String, String, String);

/// The audit's snapshot of a PostgreSQL database: one connection in a read-only
/// `REPEATABLE READ` transaction, read from the audit's own (blocking) threads.
pub(in crate::store) struct PgLog {
    conn: PoolConnection<Postgres>,
    runtime: tokio::runtime::Handle,
}

impl PgLog {
    pub async fn open(pool: &PgPool) -> Result<PgLog, StoreError> {
        let mut conn = pool.acquire().await?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *conn).await?;
        Ok(PgLog { conn, runtime: tokio::runtime::Handle::current() })
    }
}

impl Drop for PgLog {
    fn drop(&mut self) {
        // Ends the read transaction before the connection goes back to the pool; if this
        // fails the connection is beyond use, and is closed rather than reused.
        let conn = &mut *self.conn;
        if self.runtime.block_on(sqlx::query("ROLLBACK").execute(conn)).is_err() {
            self.conn.close_on_drop();
        }
    }
}

impl LogSource for PgLog {
    fn head(&mut self) -> Result<Option<Head>, StoreError> {
        let head = self.runtime.block_on(
            sqlx::query_as::<_, (i64, String, Option<i64>, Option<String>)>(HEAD).fetch_optional(&mut *self.conn),
        )?;
        Ok(head.map(|(event_id, hash, keyed_from, seal)| Head { event_id, hash, keyed_from, seal }))
    }

    fn read_log(&mut self, out: &[SyncSender<Chunk>], back: &Receiver<Chunk>) -> Result<(), StoreError> {
        let mut lanes = Lanes::new(out, back);
        let conn = &mut *self.conn;
        self.runtime.block_on(async {
            let mut rows = sqlx::query_as::<_, LogRowColumns>(
                "SELECT id, deployment_id, seq, at, actor, actor_name, platform, channel, kind, payload, prev_hash, hash
                 FROM events ORDER BY id",
            )
            .fetch(conn);
            while let Some(row) = rows.try_next().await? {
                let fields = Fields {
                    id: row.0,
                    deployment_id: row.1,
                    seq: row.2,
                    at: row.3.as_bytes(),
                    actor: row.4.as_bytes(),
                    actor_name: row.5.as_deref().map(str::as_bytes),
                    platform: row.6.as_bytes(),
                    channel: row.7.as_bytes(),
                    kind: row.8.as_bytes(),
                    payload: row.9.as_bytes(),
                    prev_hash: row.10.as_bytes(),
                };
                if !lanes.push(&fields, row.11.as_bytes(), false) {
                    return Ok(());
                }
            }
            lanes.finish();
            Ok(())
        })
    }

    fn listings(&mut self) -> Result<Vec<Listed>, StoreError> {
        Ok(self.runtime.block_on(sqlx::query_as::<_, Listed>(LISTED).fetch_all(&mut *self.conn))?)
    }
}
