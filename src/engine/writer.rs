//! The single writer: one task per engine takes every input in arrival order, decides each
//! against the deployments' current state and commits all of a batch in one transaction.
//!
//! Group commit: while one batch's commit (its fsync) is in flight, new inputs queue in the
//! inbox; the next batch takes them all. Each input's writes are staged in memory and joined
//! to the batch only when it succeeds, so one that fails or is refused leaves the others
//! untouched; the batch then hands its events, posts, timers and request answers to the
//! transaction, which writes them with its `COMMIT` in one call to the database's thread.
//!
//! The folded state of every open deployment is kept between batches. It is trusted as it is
//! only while the chain's head is where this writer left it: every batch reads the head first
//! (under the write lock). When another process appended events meanwhile (another replica, or
//! another `golive serve` on the same file), each remembered state is brought up to date the
//! first time the batch needs it, by folding in the events its deployment got since (none, for
//! most: replicas share the load of many channels), and which deployment a channel has open is
//! read again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tracing::{error, Instrument};

use super::{Answer, Core, EngineError, Job, Work};
use crate::domain::{Channel, Deployment};
use crate::store::{Begun, ChainHead, Delivered, Loaded, NewMessage, StoreError, StoredEvent, Tx};

/// Inputs decided in one transaction at most; more wait for the next.
const MAX_BATCH: usize = 256;

/// Channels remembered (with or without an open deployment) before the memory is reset.
const MAX_CHANNELS: usize = 100_000;

/// Starts the writer of `core` and returns its inbox. The writer stops when every sender is
/// dropped, after answering what it has.
pub(super) fn start(core: Arc<Core>) -> mpsc::UnboundedSender<Job> {
    let (inbox, jobs) = mpsc::unbounded_channel();
    tokio::spawn(run(Writer { core, cache: Cache::default() }, jobs));
    inbox
}

async fn run(mut writer: Writer, mut inbox: mpsc::UnboundedReceiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while inbox.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        writer.batch(std::mem::take(&mut jobs)).await;
    }
}

pub(super) struct Writer {
    pub(super) core: Arc<Core>,
    cache: Cache,
}

/// What the writer knows of the database as of its last commit.
#[derive(Default)]
struct Cache {
    /// The chain's head after that commit; `None` when unknown (nothing cached).
    head: Option<ChainHead>,
    /// Open deployments, folded.
    states: HashMap<i64, Deployment>,
    /// Each channel's open deployment, or none.
    channels: HashMap<Channel, Option<i64>>,
    /// Another process wrote since `states` were folded: each is checked before use.
    behind: bool,
    /// States checked (and brought up to date) in this batch, while `behind`.
    checked: HashSet<i64>,
}

impl Cache {
    fn clear(&mut self) {
        *self = Cache::default();
    }

    /// The chain's head has moved under the writer: keep the folded states to check, and
    /// which deployment a channel has open (checked with it: one channel has one open
    /// deployment at most), but forget which channels had none.
    fn fell_behind(&mut self) {
        self.channels.retain(|_, open| open.is_some());
        self.checked.clear();
        self.behind = true;
    }
}

/// One transaction's worth of inputs: what they wrote so far, to be flushed together.
pub(super) struct Batch {
    pub(super) tx: Tx,
    /// The time every input of the batch is decided at: when the writer took them, before
    /// waiting for the database, so a timer fires at the instant it was found due.
    now: DateTime<Utc>,
    /// Inputs decided so far.
    decided: usize,
    head: ChainHead,
    rows: Vec<StoredEvent>,
    messages: Vec<NewMessage>,
    /// Deployments whose listing row changes, with their state after the batch.
    changed: Vec<(i64, Deployment)>,
    timers: Vec<(i64, Option<DateTime<Utc>>)>,
    delivered: Vec<Delivered>,
    /// Answers to request keys: those given before (read at the start) and in this batch.
    answered: HashMap<String, String>,
    answers: Vec<(String, String)>,
    /// Each deployment's status post on screen, as read in this batch.
    status_posts: HashMap<i64, Option<i64>>,
}

/// What a commit held, to wake whoever acts on it.
struct Committed {
    /// Deployments that got events.
    deployments: Vec<i64>,
    enqueued: bool,
    timers: bool,
}

/// One input's writes, joined to its batch only if the input succeeds.
#[derive(Default)]
pub(super) struct Stage {
    head: Option<ChainHead>,
    rows: Vec<StoredEvent>,
    pub(super) messages: Vec<NewMessage>,
    states: Vec<(i64, Deployment)>,
    pub(super) timers: Vec<(i64, Option<DateTime<Utc>>)>,
    pub(super) delivered: Vec<Delivered>,
}

impl Stage {
    /// Chains `events` of deployment `id` after everything staged before them.
    pub(super) fn append(
        &mut self,
        batch: &Batch,
        id: i64,
        events: &[crate::domain::Event],
        after: &Deployment,
    ) -> Result<(), StoreError> {
        let mut head = self.head.take().unwrap_or_else(|| batch.head.clone());
        for event in events {
            self.rows.push(head.chain(id, event, after)?);
        }
        self.head = Some(head);
        self.states.push((id, after.clone()));
        Ok(())
    }
}

impl Batch {
    /// The timer this batch set for deployment `id`, if it set one (`Some(None)`: dropped).
    pub(super) fn staged_timer(&self, id: i64) -> Option<Option<DateTime<Utc>>> {
        self.timers.iter().rev().find(|(timer, _)| *timer == id).map(|(_, due)| *due)
    }

    /// Inserts a new deployment's listing row. A deployment this batch ended in the same channel
    /// is still listed open until the commit rewrites its row, and the one-open-per-channel
    /// index would refuse the new one: its row is written first.
    pub(super) async fn insert_deployment(&mut self, state: &Deployment) -> Result<i64, StoreError> {
        let ended: Vec<(i64, &Deployment)> = self
            .changed
            .iter()
            .filter(|(_, d)| !d.status.is_open() && d.platform == state.platform && d.channel == state.channel)
            .map(|(id, d)| (*id, d))
            .collect();
        self.tx.update_listings(&ended);
        self.tx.insert_deployment(state).await
    }

    /// The deployment's latest status post that may still be on screen.
    pub(super) async fn status_post(&mut self, id: i64) -> Result<Option<i64>, StoreError> {
        if let Some(known) = self.status_posts.get(&id) {
            return Ok(*known);
        }
        let post = self.tx.status_post(id).await?;
        self.status_posts.insert(id, post);
        Ok(post)
    }
}

impl Writer {
    /// Decides `jobs` in order, commits what they wrote together, then answers each.
    ///
    /// On PostgreSQL a statement that fails (a value the server refuses) ends the whole
    /// transaction, and with it the batch; SQLite fails only that statement. When a batch of
    /// several fails so, each input is decided again in a transaction of its own, so that only
    /// the one that caused it fails, as on SQLite. A database that is unreachable fails every
    /// input alike and is not retried.
    async fn batch(&mut self, jobs: Vec<Job>) {
        let (answers, committed, spoiled) = self.attempt(&jobs).await;
        if jobs.len() > 1 && spoiled && self.core.store.is_postgres() {
            tracing::warn!(
                inputs = jobs.len(),
                "a statement failed and ended its batch's transaction; deciding each input alone"
            );
            for job in jobs {
                let alone = std::slice::from_ref(&job);
                let (answers, committed, _) = self.attempt(alone).await;
                self.answer(vec![job], answers, committed);
            }
            return;
        }
        self.answer(jobs, answers, committed);
    }

    /// One transaction for `jobs`: their answers, what the commit held, and whether a
    /// statement the database refused ended the transaction under them.
    async fn attempt(&mut self, jobs: &[Job]) -> (Vec<Result<Answer, EngineError>>, Option<Committed>, bool) {
        match self.decide_all(jobs).await {
            Ok((batch, answers)) if jobs.len() > 1 && self.core.store.is_postgres() && spoiled(&answers) => {
                // The transaction is gone with the statement that failed: nothing of it can
                // be committed, and what the writer remembered from it may not hold.
                drop(batch);
                self.cache.clear();
                (answers, None, true)
            }
            Ok((batch, answers)) => match self.flush(batch).await {
                Ok(committed) => (answers, Some(committed), false),
                Err(e) => {
                    error!(error = %e, inputs = jobs.len(), "could not commit a batch; nothing of it was recorded");
                    let spoiled = e.spoils_a_transaction();
                    let e = Arc::new(e);
                    (jobs.iter().map(|_| Err(EngineError::Batch(e.clone()))).collect(), None, spoiled)
                }
            },
            Err(e) => {
                error!(error = %e, inputs = jobs.len(), "could not start a write transaction");
                let e = Arc::new(e);
                (jobs.iter().map(|_| Err(EngineError::Batch(e.clone()))).collect(), None, false)
            }
        }
    }

    /// Wakes whoever acts on what was committed, then answers each job.
    fn answer(&mut self, jobs: Vec<Job>, answers: Vec<Result<Answer, EngineError>>, committed: Option<Committed>) {
        if let Some(committed) = committed {
            self.core.metrics.commit(jobs.len());
            // Wake only the workers this commit gave something to: a batch of delivery
            // marks must not send the delivery worker round again.
            if committed.enqueued {
                self.core.signals.enqueued.notify_one();
            }
            if committed.timers {
                self.core.signals.timers_changed.notify_one();
            }
            if !committed.deployments.is_empty() {
                self.core.signals.checks_changed.notify_one();
                for id in committed.deployments {
                    // Nobody listening is fine: the ids are a hint for pages showing them.
                    let _ = self.core.commits.0.send(id);
                }
            }
        }
        for (job, answer) in jobs.into_iter().zip(answers) {
            // A caller that gave up waiting is fine: what it asked for is done.
            let _ = job.answer.send(answer);
        }
    }

    /// Opens the transaction, checks the cache against the chain's head and decides every job.
    async fn decide_all(&mut self, jobs: &[Job]) -> Result<(Batch, Vec<Result<Answer, EngineError>>), StoreError> {
        let now = self.core.clock.now();
        let keys: Vec<&str> = jobs.iter().filter_map(|j| j.work.key()).collect();
        // The open deployments these jobs are known to touch: their status posts on screen are
        // read with the lock rather than one hand-off each while deciding.
        let mut known: Vec<i64> = jobs.iter().filter_map(|j| self.known_deployment(&j.work)).collect();
        known.sort_unstable();
        known.dedup();
        // One call takes the write lock, the chain's head, the answers to keys seen before and
        // those status posts.
        let Begun { tx, answered, status_posts } = self.core.store.begin_for(&keys, &known).await?;
        let head = tx.chain_head()?;
        if self.cache.states.len() + self.cache.channels.len() > MAX_CHANNELS {
            self.cache.clear();
        } else if self.cache.head.as_ref() != Some(&head) {
            // Another process wrote (or this writer never read): what it folded may be stale.
            self.cache.fell_behind();
        }
        let mut batch = Batch {
            tx,
            now,
            decided: 0,
            head,
            rows: Vec::new(),
            messages: Vec::new(),
            changed: Vec::new(),
            timers: Vec::new(),
            delivered: Vec::new(),
            answered,
            answers: Vec::new(),
            status_posts,
        };
        let mut answers = Vec::with_capacity(jobs.len());
        for job in jobs {
            let answer = self.decide_one(&mut batch, &job.work).instrument(job.span.clone()).await;
            answers.push(answer.map_err(EngineError::from));
        }
        Ok((batch, answers))
    }

    /// One job: answered as before if its key was seen, else decided and, if it succeeds,
    /// joined to the batch.
    async fn decide_one(&mut self, batch: &mut Batch, work: &Work) -> Result<Answer, StoreError> {
        if let Some(answer) = work.key().and_then(|key| batch.answered.get(key)) {
            tracing::info!("request delivered again; answering as before");
            return Ok(Answer::repeated(answer.clone()));
        }
        // Timers fire at the instant the scheduler found them due, unless inputs decided
        // before them in this batch are later: times on the record never go backwards.
        let now = match work {
            Work::Timers { at } if batch.decided == 0 => *at,
            _ => batch.now,
        };
        batch.decided += 1;
        let mut stage = Stage::default();
        let outcome = self.decide(batch, &mut stage, work, now).await?;
        self.join(batch, stage);
        if let Some(key) = work.key() {
            if !(outcome.refused && work.retries_refused()) {
                let reply = outcome.reply.clone().unwrap_or_default();
                batch.answered.insert(key.to_string(), reply.clone());
                batch.answers.push((key.to_string(), reply));
            }
        }
        Ok(outcome)
    }

    /// Joins a succeeded job's writes to the batch, and its states to what the writer knows.
    fn join(&mut self, batch: &mut Batch, stage: Stage) {
        if let Some(head) = stage.head {
            batch.head = head;
        }
        batch.rows.extend(stage.rows);
        batch.messages.extend(stage.messages);
        batch.timers.extend(stage.timers);
        batch.delivered.extend(stage.delivered);
        for (id, state) in stage.states {
            let channel = Channel { platform: state.platform, id: state.channel.clone() };
            if state.status.is_open() {
                self.cache.channels.insert(channel, Some(id));
                self.cache.states.insert(id, state.clone());
                self.cache.checked.insert(id);
            } else {
                self.cache.channels.insert(channel, None);
                self.cache.states.remove(&id);
            }
            match batch.changed.iter_mut().find(|(changed, _)| *changed == id) {
                Some(entry) => entry.1 = state,
                None => batch.changed.push((id, state)),
            }
        }
    }

    /// Writes the batch and commits it; says what the commit holds.
    async fn flush(&mut self, batch: Batch) -> Result<Committed, StoreError> {
        let Batch { mut tx, now, head, rows, messages, changed, timers, delivered, answers, .. } = batch;
        let result = async {
            // All of these are buffered in the transaction and run with its COMMIT, in one call.
            let listed: Vec<(i64, &Deployment)> = changed.iter().map(|(id, d)| (*id, d)).collect();
            tx.append_events(rows, &head, &listed);
            tx.enqueue(&messages, now)?;
            tx.set_timers(&timers);
            tx.mark_sent(&delivered, now);
            tx.record_answers(answers, now);
            tx.commit().await
        }
        .await;
        match result {
            Ok(written) => {
                if written.marked < delivered.len() as u64 {
                    // Sent by a process whose claim another has taken since: that one sends them.
                    tracing::warn!(
                        unmarked = delivered.len() as u64 - written.marked,
                        "posts sent under a lost claim were not marked; the destination's new holder sends them again"
                    );
                }
                self.cache.head = Some(head);
                // Every state left in the cache was checked in this batch or written by it.
                self.cache.states.retain(|id, _| !self.cache.behind || self.cache.checked.contains(id));
                self.cache.behind = false;
                self.cache.checked.clear();
                Ok(Committed {
                    deployments: changed.into_iter().map(|(id, _)| id).collect(),
                    enqueued: !messages.is_empty(),
                    timers: !timers.is_empty(),
                })
            }
            Err(e) => {
                self.cache.clear();
                Err(e)
            }
        }
    }

    /// The open deployment `work` is about, when the writer already knows it.
    fn known_deployment(&self, work: &Work) -> Option<i64> {
        match work {
            Work::Status { channel, .. } | Work::Command { channel, .. } | Work::Probe { channel, .. } => {
                self.cache.channels.get(channel).copied().flatten()
            }
            Work::Checks { deployment, .. }
            | Work::Hook { deployment, .. }
            | Work::DeliveryFailed { deployment, .. } => {
                Some(*deployment).filter(|id| self.cache.states.contains_key(id))
            }
            _ => None,
        }
    }

    /// The deployment's folded state: remembered (brought up to date first if another process
    /// wrote since), or read (and remembered while open).
    pub(super) async fn state(&mut self, batch: &mut Batch, id: i64) -> Result<Loaded, StoreError> {
        let behind = self.cache.behind && !self.cache.checked.contains(&id);
        if let Some(state) = self.cache.states.get(&id).filter(|_| !behind) {
            return Ok(Loaded { id, state: state.clone() });
        }
        let loaded = match self.cache.states.remove(&id) {
            Some(mut state) => {
                // Events are appended in order and never changed: the ones after the state's
                // last are all another process added.
                for event in batch.tx.events_after(id, state.seq).await? {
                    state.apply(&event).map_err(|source| StoreError::Fold { id, source })?;
                }
                Loaded { id, state }
            }
            None => batch.tx.load(id).await?,
        };
        self.cache.checked.insert(id);
        if loaded.state.status.is_open() {
            self.cache.states.insert(id, loaded.state.clone());
        }
        Ok(loaded)
    }

    /// The channel's open deployment, if any.
    pub(super) async fn open_in(&mut self, batch: &mut Batch, channel: &Channel) -> Result<Option<Loaded>, StoreError> {
        if let Some(Some(id)) = self.cache.channels.get(channel).copied() {
            let loaded = self.state(batch, id).await?;
            if loaded.state.status.is_open() {
                return Ok(Some(loaded));
            }
            // Ended by another process since: the channel may have a new one.
        }
        let id = match self.cache.channels.get(channel) {
            Some(None) => None,
            _ => {
                let id = batch.tx.open_in_channel(channel).await?;
                self.cache.channels.insert(channel.clone(), id);
                id
            }
        };
        match id {
            Some(id) => self.state(batch, id).await.map(Some),
            None => Ok(None),
        }
    }
}

/// Whether an answer failed on a statement the database refused, which on PostgreSQL ends the
/// transaction for every input after it.
fn spoiled(answers: &[Result<Answer, EngineError>]) -> bool {
    answers.iter().any(|answer| matches!(answer, Err(EngineError::Store(e)) if e.spoils_a_transaction()))
}
