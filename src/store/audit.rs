//! `golive audit verify`: walks the whole event log in order and re-checks every link of the
//! hash chain (keyed with `GOLIVE_AUDIT_KEY` where it was written with it), each deployment's
//! gap-free sequence and forward-running times, the chain head and its keyed seal, and then
//! every row of the `deployments` table against the events it is projected from. Names the
//! first problem found.

use std::collections::HashMap;
use std::fmt;

use sqlx::SqlitePool;

use super::events::{self, decode, AuditKey, Head, StoredEvent, GENESIS, HEAD, KEY_VAR};
use super::{format_time, DeploymentRow, StoreError};
use crate::domain::progress::progress;
use crate::domain::{Deployment, EventKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub events: i64,
    pub deployments: usize,
    pub head: String,
    /// The first event whose hash is keyed, checked with the key; `None`: the chain is plain
    /// SHA-256, which anyone who can write the file can recompute.
    pub keyed_from: Option<i64>,
}

impl AuditReport {
    /// How far the verdict can be trusted, in one line for people.
    pub fn keying(&self) -> String {
        match self.keyed_from {
            None => format!(
                "UNKEYED: the chain is plain SHA-256 ({KEY_VAR} was not set when it was written), so whoever can write the database could have rewritten it consistently"
            ),
            Some(1) => format!("keyed with {KEY_VAR} from the first event"),
            Some(k) => format!(
                "keyed with {KEY_VAR} from event #{k}; events #1 to #{} were written without a key and are only as safe as plain SHA-256",
                k - 1
            ),
        }
    }
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
        if self.event_id > 0 {
            write!(f, "event #{}", self.event_id)?;
        }
        match (self.deployment_id, self.seq) {
            (Some(d), Some(s)) => write!(f, " (deployment {d}, seq {s})")?,
            (Some(d), None) => write!(f, "deployment {d}")?,
            _ => {}
        }
        write!(f, ": {}", self.problem)
    }
}

fn at_head(event_id: i64, problem: String) -> AuditFailure {
    AuditFailure { event_id, deployment_id: None, seq: None, problem }
}

pub(super) async fn verify(
    pool: &SqlitePool,
    key: Option<&AuditKey>,
) -> Result<Result<AuditReport, AuditFailure>, StoreError> {
    let head: Option<Head> = sqlx::query_as(HEAD).fetch_optional(pool).await?;
    let keyed_from = head.as_ref().and_then(|h| h.keyed_from);
    if let (Some(k), None) = (keyed_from, key) {
        return Ok(Err(at_head(k, format!("the chain is keyed from here; set {KEY_VAR} to verify it"))));
    }
    let mut conn = pool.acquire().await?;
    let mut failure = None;
    let mut walk = Walk { key: key.cloned(), keyed_from, ..Walk::default() };
    events::pages(&mut conn, None, |page| match walk.check(&page) {
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
    let Walk { prev_hash, prev_id, last, count, .. } = walk;
    match head {
        None if count == 0 => {}
        None => return Ok(Err(at_head(prev_id, "the chain head record is missing".into()))),
        Some(h) if h.event_id != prev_id || h.hash != prev_hash => {
            return Ok(Err(at_head(
                h.event_id,
                format!(
                    "the log ends at event #{prev_id}, but the chain head records #{}: the newest events were removed or altered",
                    h.event_id
                ),
            )))
        }
        Some(h) => {
            if let (Some(k), Some(key)) = (h.keyed_from, key) {
                if h.seal.as_deref() != Some(key.seal(h.event_id, &h.hash, k).as_str()) {
                    return Ok(Err(at_head(
                        h.event_id,
                        format!("the chain head's keyed seal does not match: the log was cut short and its head rewritten, or {KEY_VAR} is not the key it was written with"),
                    )));
                }
            }
        }
    }
    if let Err(failure) = projection(pool).await? {
        return Ok(Err(failure));
    }
    Ok(Ok(AuditReport { events: count, deployments: last.len(), head: prev_hash, keyed_from }))
}

/// Every row of `deployments` must say what folding its events says: `history` and `show`
/// read the row, so an edited row would be believed.
async fn projection(pool: &SqlitePool) -> Result<Result<(), AuditFailure>, StoreError> {
    let rows = sqlx::query_as::<_, DeploymentRow>("SELECT * FROM deployments ORDER BY id").fetch_all(pool).await?;
    for row in rows {
        let fail =
            |problem: String| Ok(Err(AuditFailure { event_id: 0, deployment_id: Some(row.id), seq: None, problem }));
        let stored = events::all(&mut *pool.acquire().await?, Some(row.id)).await?;
        let events = match stored.iter().map(decode).collect::<Result<Vec<_>, _>>() {
            Ok(events) if !events.is_empty() => events,
            Ok(_) => return fail("the deployments table lists it, but it has no events".into()),
            Err(e) => return fail(e.to_string()),
        };
        let d = match Deployment::from_events(&events) {
            Ok(d) => d,
            Err(e) => return fail(format!("its history does not fold: {e}")),
        };
        let expected = [
            ("release", row.release.clone(), d.release.clone()),
            ("plan", row.plan.clone(), d.plan.id.clone()),
            ("platform", row.platform.clone(), d.platform.as_str().to_string()),
            ("channel", row.channel.clone(), d.channel.clone()),
            ("status", row.status.clone(), d.status.as_str().to_string()),
            ("progress", row.progress.to_string(), progress(&d).percent().to_string()),
            ("started_at", row.started_at.clone(), format_time(d.started_at)),
            ("ended_at", row.ended_at.clone().unwrap_or_default(), d.ended_at().map(format_time).unwrap_or_default()),
        ];
        if let Some((column, stored, folded)) = expected.into_iter().find(|(_, stored, folded)| stored != folded) {
            return fail(format!(
                "the deployments table says {column} `{stored}`, its events say `{folded}`: the table was edited"
            ));
        }
    }
    Ok(Ok(()))
}

/// Where the walk along the chain has got to.
struct Walk {
    prev_hash: String,
    prev_id: i64,
    /// Per deployment: the next seq expected, and the time of the last event.
    last: HashMap<i64, (i64, String)>,
    count: i64,
    key: Option<AuditKey>,
    /// The first event whose hash is keyed.
    keyed_from: Option<i64>,
}

impl Default for Walk {
    fn default() -> Walk {
        Walk { prev_hash: GENESIS.to_string(), prev_id: 0, last: HashMap::new(), count: 0, key: None, keyed_from: None }
    }
}

impl Walk {
    /// Checks the next page of rows. The hashes, the costly part, are computed on all cores
    /// first; the links, sequences and payloads are then checked in order.
    fn check(&mut self, page: &[StoredEvent]) -> Result<(), AuditFailure> {
        let hashes = hashes_of(page, self.key.as_ref(), self.keyed_from);
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
        let (expected, previous_at) = self.last.entry(row.deployment_id).or_insert((1, String::new()));
        if row.seq != *expected {
            return Err(fail(format!("expected seq {} for deployment {}", expected, row.deployment_id)));
        }
        // Times are RFC 3339 UTC with milliseconds, so text order is time order.
        if row.at < *previous_at {
            return Err(fail(format!("recorded at {}, earlier than the event before it ({previous_at})", row.at)));
        }
        *expected += 1;
        previous_at.clone_from(&row.at);
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
fn hashes_of(page: &[StoredEvent], key: Option<&AuditKey>, keyed_from: Option<i64>) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = page.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = page
            .chunks(chunk)
            .map(|rows| {
                scope.spawn(move || {
                    let keyed = |row: &StoredEvent| keyed_from.is_some_and(|k| row.id >= k);
                    rows.iter().map(|row| row.hash_with(key.filter(|_| keyed(row)))).collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}
