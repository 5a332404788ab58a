//! `golive audit verify`: walks the whole event log in order and re-checks every link of the
//! hash chain (keyed with `GOLIVE_AUDIT_KEY` where it was written with it), each deployment's
//! gap-free sequence and forward-running times, the chain head and its keyed seal, and then
//! every row of the `deployments` table against the events it is projected from. Names the
//! first problem found.
//!
//! It reads from one snapshot ([`LogSource`]: a read transaction on a direct SQLite connection,
//! or a `REPEATABLE READ` transaction on PostgreSQL), so the head, the log and the table agree
//! even while servers append. Two threads share the work: one
//! steps through the log and checks each row's hash while SQLite still holds it
//! (`events::read_log`), the other checks the rows in order and folds every deployment as
//! its events go by, so the log is read once.

use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc::{self, Receiver, SyncSender};

use rusqlite::{Connection, OptionalExtension};

use super::direct::Access;
use super::events::{read_log, AuditKey, Chunk, Hasher, Head, LogRow, GENESIS, HEAD, KEY_VAR};
use super::{format_time, postgres, Readers, Store, StoreError};
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

/// How much of the database file the audit maps into memory (SQLite caps it at 2 GB).
const MAP_BYTES: i64 = 1 << 31;

/// Threads hashing and parsing chunks: those are most of the audit's work.
const PREPARERS: usize = 2;

type Verdict<T> = Result<Result<T, AuditFailure>, StoreError>;

/// What the audit reads, all from one snapshot of the database: the chain head, the log in id
/// order (sent on in chunks, `events::Lanes`), and the `deployments` table.
pub(super) trait LogSource {
    fn head(&mut self) -> Result<Option<Head>, StoreError>;
    fn read_log(&mut self, out: &[SyncSender<Chunk>], back: &Receiver<Chunk>) -> Result<(), StoreError>;
    fn listings(&mut self) -> Result<Vec<Listed>, StoreError>;
}

/// A `deployments` row as the audit compares it with the fold of its events.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Listed {
    pub id: i64,
    pub release: String,
    pub plan: String,
    pub platform: String,
    pub channel: String,
    pub status: String,
    pub progress: i64,
    pub started_at: String,
    pub ended_at: Option<String>,
}

/// The columns [`Listed`] reads, in id order.
pub(super) const LISTED: &str =
    "SELECT id, release, plan, platform, channel, status, progress, started_at, ended_at FROM deployments ORDER BY id";

/// SQLite's snapshot: one read transaction on a direct connection.
struct SqliteLog<'c>(&'c Connection);

impl LogSource for SqliteLog<'_> {
    fn head(&mut self) -> Result<Option<Head>, StoreError> {
        Ok(self
            .0
            .query_row(HEAD, [], |r| {
                Ok(Head { event_id: r.get(0)?, hash: r.get(1)?, keyed_from: r.get(2)?, seal: r.get(3)? })
            })
            .optional()?)
    }

    fn read_log(&mut self, out: &[SyncSender<Chunk>], back: &Receiver<Chunk>) -> Result<(), StoreError> {
        read_log(self.0, out, back)
    }

    fn listings(&mut self) -> Result<Vec<Listed>, StoreError> {
        let mut rows = self.0.prepare(LISTED)?;
        let listed = rows.query_map([], |r| {
            Ok(Listed {
                id: r.get(0)?,
                release: r.get(1)?,
                plan: r.get(2)?,
                platform: r.get(3)?,
                channel: r.get(4)?,
                status: r.get(5)?,
                progress: r.get(6)?,
                started_at: r.get(7)?,
                ended_at: r.get(8)?,
            })
        })?;
        Ok(listed.collect::<Result<_, _>>()?)
    }
}

pub(super) async fn verify(store: &Store, key: Option<&AuditKey>) -> Verdict<AuditReport> {
    let (store, key) = (store.clone(), key.cloned());
    if let Readers::Postgres(pool) = &store.pool {
        let mut source = postgres::PgLog::open(pool).await?;
        return super::events::blocking(move || verify_on(&mut source, key.as_ref())).await;
    }
    super::events::blocking(move || {
        let mut conn = store.open_direct(Access::ReadOnly)?;
        // The file is read once, in order: mapped, its pages need no copy through read().
        if store.map_reads {
            conn.pragma_update(None, "mmap_size", MAP_BYTES)?;
        }
        // Dropped at the end: a read transaction, rolled back.
        let snapshot = conn.transaction()?;
        verify_on(&mut SqliteLog(&snapshot), key.as_ref())
    })
    .await
}

fn verify_on(source: &mut impl LogSource, key: Option<&AuditKey>) -> Verdict<AuditReport> {
    let head = source.head()?;
    let keyed_from = head.as_ref().and_then(|h| h.keyed_from);
    if let (Some(k), None) = (keyed_from, key) {
        return Ok(Err(at_head(k, format!("the chain is keyed from here; set {KEY_VAR} to verify it"))));
    }
    let walk = match walk(source, key, keyed_from)? {
        Ok(walk) => walk,
        Err(failure) => return Ok(Err(failure)),
    };
    let Walk { prev_hash, prev_id, deployments, count, .. } = walk;
    let prev_hash = String::from_utf8_lossy(&prev_hash).into_owned();
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
    if let Err(failure) = projection(&source.listings()?, &deployments) {
        return Ok(Err(failure));
    }
    Ok(Ok(AuditReport { events: count, deployments: deployments.len(), head: prev_hash, keyed_from }))
}

/// Reads the log on this thread (`read_log`) while others check hashes and parse payloads
/// (`Chunk::prepare`, two threads taking chunks in turn) and one walks the rows in order
/// (`Walk::check_row`), taking the prepared chunks in the same turn, so they stay in order.
fn walk(source: &mut impl LogSource, key: Option<&AuditKey>, keyed_from: Option<i64>) -> Verdict<Walk> {
    // A few chunks in flight between stages: each runs ahead while the next one works.
    let lanes: Vec<_> =
        (0..PREPARERS).map(|_| (mpsc::sync_channel::<Chunk>(2), mpsc::sync_channel::<Chunk>(2))).collect();
    let (give_back, back) = mpsc::channel::<Chunk>();
    std::thread::scope(|scope| {
        let mut to_prepare = Vec::new();
        let mut prepared = Vec::new();
        for ((send, receive), (send_prepared, receive_prepared)) in lanes {
            to_prepare.push(send);
            prepared.push(receive_prepared);
            let (mut plain, mut keyed) = (Hasher::new(None), Hasher::new(key));
            scope.spawn(move || {
                for mut chunk in receive {
                    chunk.prepare(&mut plain, &mut keyed, keyed_from);
                    if send_prepared.send(chunk).is_err() {
                        return;
                    }
                }
            });
        }
        let checker = scope.spawn(move || {
            let mut walk = Walk::default();
            for lane in (0..).map(|n| &prepared[n % prepared.len()]) {
                let Ok(mut chunk) = lane.recv() else { break };
                for (row, kind) in chunk.rows() {
                    walk.check_row(&row, kind)?;
                }
                let _ = give_back.send(chunk);
            }
            Ok(walk)
        });
        let reading = source.read_log(&to_prepare, &back);
        drop(to_prepare);
        let checked = checker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A problem found wins over a read cut short by it; a read that failed by itself
        // leaves the walk incomplete, and is the answer.
        match (checked, reading) {
            (Err(failure), _) => Ok(Err(failure)),
            (Ok(_), Err(e)) => Err(e),
            (Ok(walk), Ok(())) => Ok(Ok(walk)),
        }
    })
}

/// Every row of `deployments` must say what folding its events says: `history` and `show`
/// read the row, so an edited row would be believed.
fn projection(listed: &[Listed], deployments: &HashMap<i64, Track>) -> Result<(), AuditFailure> {
    for row in listed {
        let id = row.id;
        let fail = |problem: String| Err(AuditFailure { event_id: 0, deployment_id: Some(id), seq: None, problem });
        let d = match deployments.get(&id).map(|track| &track.fold) {
            None | Some(Fold::Empty) => return fail("the deployments table lists it, but it has no events".into()),
            Some(Fold::Unreadable(problem) | Fold::Broken(problem)) => return fail(problem.clone()),
            Some(Fold::Folding(d)) => d,
        };
        let expected = [
            ("release", row.release.clone(), d.release.clone()),
            ("plan", row.plan.clone(), d.plan.id.clone()),
            ("platform", row.platform.clone(), d.platform.as_str().to_string()),
            ("channel", row.channel.clone(), d.channel.clone()),
            ("status", row.status.clone(), d.status.as_str().to_string()),
            ("progress", row.progress.to_string(), progress(d).percent().to_string()),
            ("started_at", row.started_at.clone(), format_time(d.started_at)),
            ("ended_at", row.ended_at.clone().unwrap_or_default(), d.ended_at().map(format_time).unwrap_or_default()),
        ];
        if let Some((column, stored, folded)) = expected.into_iter().find(|(_, stored, folded)| stored != folded) {
            return fail(format!(
                "the deployments table says {column} `{stored}`, its events say `{folded}`: the table was edited"
            ));
        }
    }
    Ok(())
}

/// A deployment's state as its events go by.
enum Fold {
    /// No event folded yet.
    Empty,
    Folding(Box<Deployment>),
    /// An event does not fit (the projection check's message); later events are still
    /// decoded, since an unreadable one is the graver problem and is named instead.
    Broken(String),
    /// An event could not be decoded (the projection check's message).
    Unreadable(String),
}

/// Per deployment: the next seq expected, the time of the last event, and the fold so far.
struct Track {
    next_seq: i64,
    last_at: Vec<u8>,
    fold: Fold,
}

/// Where the walk along the chain has got to.
struct Walk {
    prev_hash: Vec<u8>,
    prev_id: i64,
    deployments: HashMap<i64, Track>,
    count: i64,
}

impl Default for Walk {
    fn default() -> Walk {
        Walk { prev_hash: GENESIS.as_bytes().to_vec(), prev_id: 0, deployments: HashMap::new(), count: 0 }
    }
}

impl Walk {
    fn check_row(&mut self, row: &LogRow<'_>, kind: Result<EventKind, serde_json::Error>) -> Result<(), AuditFailure> {
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
        if !row.hash_ok {
            return Err(fail("its content does not match its hash: the row was altered".into()));
        }
        let track = self.deployments.entry(row.deployment_id).or_insert_with(|| Track {
            next_seq: 1,
            last_at: Vec::new(),
            fold: Fold::Empty,
        });
        if row.seq != track.next_seq {
            return Err(fail(format!("expected seq {} for deployment {}", track.next_seq, row.deployment_id)));
        }
        // Times are RFC 3339 UTC with milliseconds, so text order is time order.
        if row.at < track.last_at.as_slice() {
            return Err(fail(format!(
                "recorded at {}, earlier than the event before it ({})",
                String::from_utf8_lossy(row.at),
                String::from_utf8_lossy(&track.last_at)
            )));
        }
        track.next_seq += 1;
        track.last_at.clear();
        track.last_at.extend_from_slice(row.at);
        let kind = match kind {
            Ok(kind) if kind.name().as_bytes() == row.kind => kind,
            Ok(kind) => {
                let stored = String::from_utf8_lossy(row.kind);
                return Err(fail(format!("kind `{stored}` but payload of `{}`", kind.name())));
            }
            Err(e) => return Err(fail(format!("unreadable payload: {e}"))),
        };
        fold(track, row, kind);
        self.prev_hash.clear();
        self.prev_hash.extend_from_slice(row.hash);
        self.prev_id = row.id;
        self.count += 1;
        Ok(())
    }
}

/// Folds `row` (its payload already parsed as `kind`) into its deployment's state.
fn fold(track: &mut Track, row: &LogRow<'_>, kind: EventKind) {
    if matches!(track.fold, Fold::Unreadable(_)) {
        return;
    }
    let event = match row.event.decode_with(kind) {
        Ok(event) => event,
        Err(e) => {
            track.fold = Fold::Unreadable(e.to_string());
            return;
        }
    };
    let folded = match std::mem::replace(&mut track.fold, Fold::Empty) {
        Fold::Empty => Deployment::from_events([&event]).map(Box::new),
        Fold::Folding(mut d) => d.apply(&event).map(|()| {
            // The fold only ever appends to the notes and the projection does not read them:
            // dropping them keeps a million events' notes out of memory.
            d.notes.clear();
            d
        }),
        unfolded @ (Fold::Broken(_) | Fold::Unreadable(_)) => {
            track.fold = unfolded;
            return;
        }
    };
    track.fold = match folded {
        Ok(d) => Fold::Folding(d),
        Err(e) => Fold::Broken(format!("its history does not fold: {e}")),
    };
}
