//! `golive audit verify`: walks the whole event log in order and re-checks every link of the
//! hash chain, each deployment's gap-free sequence, and the chain head. Names the first bad event.

use std::collections::HashMap;
use std::fmt;

use futures_util::TryStreamExt;
use sqlx::SqlitePool;

use super::chain::{StoredEvent, GENESIS};
use super::StoreError;
use crate::domain::EventKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub events: i64,
    pub deployments: usize,
    pub head: String,
}

/// The first problem found, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFailure {
    pub event_id: i64,
    pub deployment_id: Option<i64>,
    pub seq: Option<i64>,
    pub problem: String,
}

impl fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event #{}", self.event_id)?;
        if let (Some(d), Some(s)) = (self.deployment_id, self.seq) {
            write!(f, " (deployment {d}, seq {s})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

pub(super) async fn verify(pool: &SqlitePool) -> Result<Result<AuditReport, AuditFailure>, StoreError> {
    let mut rows = sqlx::query_as::<_, StoredEvent>("SELECT * FROM events ORDER BY id").fetch(pool);
    let mut prev_hash = GENESIS.to_string();
    let mut prev_id = 0i64;
    let mut next_seq: HashMap<i64, i64> = HashMap::new();
    let mut count = 0i64;
    while let Some(row) = rows.try_next().await? {
        let fail = |problem: String| AuditFailure {
            event_id: row.id,
            deployment_id: Some(row.deployment_id),
            seq: Some(row.seq),
            problem,
        };
        if row.id != prev_id + 1 {
            let missing = if row.id == prev_id + 2 {
                format!("event #{} before it is missing", prev_id + 1)
            } else {
                format!("events #{} to #{} before it are missing", prev_id + 1, row.id - 1)
            };
            return Ok(Err(fail(missing)));
        }
        if row.prev_hash != prev_hash {
            return Ok(Err(fail(
                "its link to the previous event is broken: the previous event was altered, removed or reordered".into(),
            )));
        }
        if row.compute_hash() != row.hash {
            return Ok(Err(fail("its content does not match its hash: the row was altered".into())));
        }
        let expected = next_seq.entry(row.deployment_id).or_insert(1);
        if row.seq != *expected {
            return Ok(Err(fail(format!("expected seq {} for deployment {}", expected, row.deployment_id))));
        }
        *expected += 1;
        match serde_json::from_str::<EventKind>(&row.payload) {
            Ok(kind) if kind.name() == row.kind => {}
            Ok(kind) => return Ok(Err(fail(format!("kind `{}` but payload of `{}`", row.kind, kind.name())))),
            Err(e) => return Ok(Err(fail(format!("unreadable payload: {e}")))),
        }
        prev_hash = row.hash.clone();
        prev_id = row.id;
        count += 1;
    }
    drop(rows);
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT event_id, hash FROM chain_head WHERE id = 1").fetch_optional(pool).await?;
    match head {
        None if count == 0 => {}
        None => {
            return Ok(Err(AuditFailure {
                event_id: prev_id,
                deployment_id: None,
                seq: None,
                problem: "the chain head record is missing".into(),
            }))
        }
        Some((id, hash)) if id != prev_id || hash != prev_hash => {
            return Ok(Err(AuditFailure {
                event_id: id,
                deployment_id: None,
                seq: None,
                problem: format!(
                    "the log ends at event #{prev_id}, but the chain head records #{id}: the newest events were removed or altered"
                ),
            }))
        }
        Some(_) => {}
    }
    Ok(Ok(AuditReport { events: count, deployments: next_seq.len(), head: prev_hash }))
}
