//! `golive audit verify`: walks the whole event log in order and re-checks every link of the
//! hash chain, each deployment's gap-free sequence, and the chain head. Names the first bad event.

use std::collections::HashMap;
use std::fmt;

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
    let mut conn = pool.acquire().await?;
    let mut failure = None;
    let mut walk = Walk::default();
    super::read::pages(&mut conn, None, |page| match walk.check(&page) {
        Ok(()) => true,
        Err(f) => {
            failure = Some(f);
            false
        }
    })
    .await?;
    drop(conn);
    if let Some(failure) = failure {
        return Ok(Err(failure));
    }
    let Walk { prev_hash, prev_id, next_seq, count } = walk;
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

/// Where the walk along the chain has got to.
struct Walk {
    prev_hash: String,
    prev_id: i64,
    next_seq: HashMap<i64, i64>,
    count: i64,
}

impl Default for Walk {
    fn default() -> Walk {
        Walk { prev_hash: GENESIS.to_string(), prev_id: 0, next_seq: HashMap::new(), count: 0 }
    }
}

impl Walk {
    /// Checks the next page of rows. The hashes, the costly part, are computed on all cores
    /// first; the links, sequences and payloads are then checked in order.
    fn check(&mut self, page: &[StoredEvent]) -> Result<(), AuditFailure> {
        let hashes = hashes_of(page);
        for (row, computed) in page.iter().zip(hashes) {
            self.check_row(row, &computed)?;
        }
        Ok(())
    }

    fn check_row(&mut self, row: &StoredEvent, computed: &str) -> Result<(), AuditFailure> {
        let fail = |problem: String| AuditFailure {
            event_id: row.id,
            deployment_id: Some(row.deployment_id),
            seq: Some(row.seq),
            problem,
        };
        if row.id != self.prev_id + 1 {
            let missing = if row.id == self.prev_id + 2 {
                format!("event #{} before it is missing", self.prev_id + 1)
            } else {
                format!("events #{} to #{} before it are missing", self.prev_id + 1, row.id - 1)
            };
            return Err(fail(missing));
        }
        if row.prev_hash != self.prev_hash {
            return Err(fail(
                "its link to the previous event is broken: the previous event was altered, removed or reordered".into(),
            ));
        }
        if computed != row.hash {
            return Err(fail("its content does not match its hash: the row was altered".into()));
        }
        let expected = self.next_seq.entry(row.deployment_id).or_insert(1);
        if row.seq != *expected {
            return Err(fail(format!("expected seq {} for deployment {}", expected, row.deployment_id)));
        }
        *expected += 1;
        match serde_json::from_str::<EventKind>(&row.payload) {
            Ok(kind) if kind.name() == row.kind => {}
            Ok(kind) => return Err(fail(format!("kind `{}` but payload of `{}`", row.kind, kind.name()))),
            Err(e) => return Err(fail(format!("unreadable payload: {e}"))),
        }
        self.prev_hash.clone_from(&row.hash);
        self.prev_id = row.id;
        self.count += 1;
        Ok(())
    }
}

/// Every row's hash, computed on as many threads as there are cores.
fn hashes_of(page: &[StoredEvent]) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = page.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = page
            .chunks(chunk)
            .map(|rows| scope.spawn(move || rows.iter().map(StoredEvent::compute_hash).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}
