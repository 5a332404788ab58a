//! The one path every command and timer takes: parse → decide → record → posts.
//!
//! Adapters hand in a channel, an actor and the command text; the engine reads the channel's
//! deployment, lets the domain decide, appends the resulting events in the same write
//! transaction, and returns what to tell the caller and what to post to the channel. Scheduled
//! status posts come through here too, so commands and timers never race.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::clock::SharedClock;
use crate::command::{self, ParseError, Request};
use crate::config::Config;
use crate::domain::{decide, Actor, Channel, Command, Deployment, Event, EventKind, Platform};
use crate::render::{slack, text, StatusView};
use crate::schedule::StatusSchedule;
use crate::store::{Loaded, NewMessage, Payload, Store, StoreError, Tx};

/// A scheduled post later than this says so.
const LATE_AFTER: Duration = Duration::from_secs(60);

/// Due timers fired per write transaction: one fsync covers many deployments at a busy
/// half hour, and no transaction holds the write lock for long.
const TIMERS_PER_TX: usize = 200;

/// What one recorded step produced.
struct Recorded {
    id: i64,
    events: Vec<Event>,
    posts: Vec<Post>,
}

#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to post to a channel. Neutral: each adapter renders it its own way.
#[derive(Debug, Clone)]
pub enum Message {
    /// A recorded event, with the deployment's state right after it.
    Event {
        deployment_id: i64,
        event: Box<Event>,
        state: Box<Deployment>,
    },
    Status(Box<StatusView>),
}

#[derive(Debug, Clone)]
pub struct Post {
    pub channel: Channel,
    pub message: Message,
}

/// The answer to one command: a reply only the caller sees, and posts for the channel.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub reply: Option<String>,
    pub posts: Vec<Post>,
    /// Set when the command was refused (by the grammar or by the domain).
    pub refused: bool,
}

impl Outcome {
    fn reply(text: impl Into<String>) -> Outcome {
        Outcome { reply: Some(text.into()), ..Outcome::default() }
    }

    fn refused(text: impl Into<String>) -> Outcome {
        Outcome { reply: Some(text.into()), refused: true, posts: Vec::new() }
    }
}

#[derive(Clone)]
pub struct Engine {
    store: Store,
    config: Arc<Config>,
    clock: SharedClock,
    schedule: StatusSchedule,
    /// The schedules of plans that override `[status] cron`, by cron expression.
    plan_schedules: Arc<HashMap<String, StatusSchedule>>,
    signals: Arc<Signals>,
}

/// Wakes the delivery worker and the scheduler after a commit, instead of having them poll.
#[derive(Default)]
pub struct Signals {
    pub enqueued: Arc<Notify>,
    pub timers_changed: Arc<Notify>,
}

impl Engine {
    pub fn new(store: Store, config: Arc<Config>, clock: SharedClock) -> Engine {
        let schedule = StatusSchedule::new(&config.status);
        let plan_schedules = config
            .plans
            .values()
            .filter_map(|p| Some((p.status_cron.clone()?, StatusSchedule::for_plan(p, &config.status)?)))
            .collect();
        Engine { store, config, clock, schedule, plan_schedules: Arc::new(plan_schedules), signals: Arc::default() }
    }

    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    /// Something was committed: new posts and timers may be waiting.
    fn committed(&self) {
        self.signals.enqueued.notify_one();
        self.signals.timers_changed.notify_one();
    }

    /// The status schedule a deployment runs on: that of the plan it started with (stored in
    /// its history, so a config change does not move a running deployment), or the global one.
    fn schedule_for(&self, d: &Deployment) -> Cow<'_, StatusSchedule> {
        match &d.plan.status_cron {
            None => Cow::Borrowed(&self.schedule),
            Some(cron) => match self.plan_schedules.get(cron) {
                Some(s) => Cow::Borrowed(s),
                None => StatusSchedule::for_plan(&d.plan, &self.config.status)
                    .map_or(Cow::Borrowed(&self.schedule), Cow::Owned),
            },
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> SharedClock {
        self.clock.clone()
    }

    /// Handles the text typed after the slash command.
    pub async fn handle(&self, channel: &Channel, actor: &Actor, text: &str) -> Result<Outcome, EngineError> {
        match command::parse(text) {
            Ok(request) => self.request(channel, actor, request).await,
            Err(e) => Ok(parse_refusal(e)),
        }
    }

    pub async fn request(&self, channel: &Channel, actor: &Actor, request: Request) -> Result<Outcome, EngineError> {
        match request {
            Request::Help { topic } => Ok(Outcome::reply(command::help(topic.as_deref()))),
            Request::Status => self.status(channel).await,
            Request::Oncall => Ok(Outcome::reply(self.oncall(channel))),
            Request::History => self.history(channel).await,
            Request::Change(command) => self.execute(channel, actor, &command).await,
        }
    }

    /// Decides and records one state-changing command.
    pub async fn execute(&self, channel: &Channel, actor: &Actor, command: &Command) -> Result<Outcome, EngineError> {
        let mut tx = self.store.begin().await?;
        let current = tx.open_deployment(channel).await?;
        let now = self.clock.now();
        let decided = decide(&self.config.rules(), channel, current.as_ref().map(|l| &l.state), actor, command);
        let kinds = match decided {
            Ok(kinds) => kinds,
            Err(refusal) => {
                info!(channel = %channel.id, actor = %actor.key(), command = %command.describe(), %refusal, "refused");
                if let (true, Some(loaded)) = (refusal.is_permission(), current) {
                    // Who tried what, and why not, belongs on the record.
                    let kind = EventKind::CommandRefused { command: command.describe(), reason: refusal.to_string() };
                    self.record(&mut tx, Some(loaded), actor, now, vec![kind], None).await?;
                    tx.commit().await?;
                    self.committed();
                }
                return Ok(Outcome::refused(refusal.to_string()));
            }
        };
        let recorded = match self.record(&mut tx, current, actor, now, kinds, None).await {
            Ok(recorded) => recorded,
            Err(StoreError::ChannelTaken) => {
                return Ok(Outcome::refused(
                    "another deployment was just started in this channel; see `/deploy status`",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        self.committed();
        info!(deployment = recorded.id, channel = %channel.id, actor = %actor.key(), command = %command.describe(), events = recorded.events.len(), "recorded");
        Ok(Outcome { reply: None, posts: recorded.posts, refused: false })
    }

    fn event_post(&self, channel: &Channel, id: i64, event: Event, state: &Deployment) -> Post {
        Post {
            channel: channel.clone(),
            message: Message::Event { deployment_id: id, event: Box::new(event), state: Box::new(state.clone()) },
        }
    }

    /// Folds `kinds` into the deployment and, in `tx`, appends them, enqueues the posts they
    /// cause and moves the deployment's timer. The caller commits.
    async fn record(
        &self,
        tx: &mut Tx,
        current: Option<Loaded>,
        actor: &Actor,
        at: DateTime<Utc>,
        kinds: Vec<EventKind>,
        late: Option<Duration>,
    ) -> Result<Recorded, StoreError> {
        let (id, mut seq, mut state) = match current {
            Some(loaded) => (Some(loaded.id), loaded.state.seq, Some(loaded.state)),
            None => (None, 0, None),
        };
        let mut events = Vec::with_capacity(kinds.len());
        for kind in kinds {
            seq += 1;
            let event = Event { seq, at, actor: actor.clone(), kind };
            match state.as_mut() {
                Some(s) => s.apply(&event).map_err(|source| StoreError::Fold { id: id.unwrap_or(0), source })?,
                None => {
                    state =
                        Some(Deployment::from_events([&event]).map_err(|source| StoreError::Fold { id: 0, source })?)
                }
            }
            events.push(event);
        }
        let Some(state) = state else {
            return Err(StoreError::Fold { id: 0, source: crate::domain::deployment::FoldError::Empty });
        };
        let id = tx.append(id, &events, &state).await?;
        let channel = Channel { platform: state.platform, id: state.channel.clone() };
        let mut posts = Vec::with_capacity(events.len());
        for event in &events {
            if matches!(event.kind, EventKind::StatusPosted { .. }) {
                let view = self.view(&Loaded { id, state: state.clone() }, late.filter(|l| *l >= LATE_AFTER));
                posts.push(Post { channel: channel.clone(), message: Message::Status(Box::new(view)) });
            } else {
                posts.push(self.event_post(&channel, id, event.clone(), &state));
            }
        }
        tx.enqueue(&self.outbox_messages(Some(id), &posts), at).await?;
        tx.set_timer(id, self.next_timer_for(&state)).await?;
        Ok(Recorded { id, events, posts })
    }

    /// Renders posts for their channel's platform; posts with nothing to say are dropped.
    fn outbox_messages(&self, deployment_id: Option<i64>, posts: &[Post]) -> Vec<NewMessage> {
        posts
            .iter()
            .filter_map(|post| {
                Some(NewMessage { deployment_id, channel: post.channel.clone(), payload: self.render(post)? })
            })
            .collect()
    }

    /// One post as its platform shows it.
    pub fn render(&self, post: &Post) -> Option<Payload> {
        match &post.message {
            Message::Event { event, state, .. } => {
                text::announce(event, state, &self.config.escalation).map(Payload::text)
            }
            Message::Status(view) => {
                let blocks = match post.channel.platform {
                    Platform::Slack => serde_json::to_value(slack::status_blocks(view)).ok(),
                    _ => None,
                };
                Some(Payload { text: text::status(view), blocks })
            }
        }
    }

    /// `/deploy status`: the same content as the scheduled post.
    pub async fn status(&self, channel: &Channel) -> Result<Outcome, EngineError> {
        match self.store.open_deployment(channel).await? {
            None => Ok(Outcome::reply(
                "there is no active deployment in this channel; start one with `/deploy start RELEASE`",
            )),
            Some(loaded) => {
                let view = self.view(&loaded, None);
                let posts = vec![Post { channel: channel.clone(), message: Message::Status(Box::new(view)) }];
                self.store.enqueue(&self.outbox_messages(Some(loaded.id), &posts), self.clock.now()).await?;
                self.committed();
                Ok(Outcome { reply: None, refused: false, posts })
            }
        }
    }

    fn view(&self, loaded: &Loaded, late_by: Option<Duration>) -> StatusView {
        let now = self.clock.now();
        let next = self.next_status_for(&loaded.state);
        let mut view = StatusView::build(loaded.id, &loaded.state, &self.config.escalation, now, next);
        view.late_by = late_by;
        view
    }

    fn oncall(&self, channel: &Channel) -> String {
        if self.config.escalation.is_empty() {
            return "no escalation levels are configured (`[[escalation.levels]]` in the config)".into();
        }
        let mut out = String::from("Escalation path, in order:");
        for (i, level) in self.config.escalation.iter().enumerate() {
            out.push_str(&format!(
                "\n{}. {} — {} (ack within {})",
                i + 1,
                level.name,
                text::mentions(level, channel.platform),
                crate::render::human(level.ack_timeout)
            ));
        }
        out
    }

    async fn history(&self, channel: &Channel) -> Result<Outcome, EngineError> {
        let rows = self.store.deployments(Some(&channel.id), 5).await?;
        let rows: Vec<_> = rows.into_iter().filter(|r| r.platform == channel.platform.as_str()).collect();
        if rows.is_empty() {
            return Ok(Outcome::reply("no deployments in this channel yet"));
        }
        let lines: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "#{} {} — {} · {}% · lead {} · started {}",
                    r.id,
                    crate::render::clean(&r.release),
                    r.status,
                    r.progress,
                    r.lead_name.as_deref().unwrap_or(r.lead.split_once(':').map_or(r.lead.as_str(), |(_, id)| id)),
                    &r.started_at[..16.min(r.started_at.len())].replace('T', " ")
                )
            })
            .collect();
        Ok(Outcome::reply(format!("Recent deployments here:\n{}", lines.join("\n"))))
    }

    /// The next status slot of one deployment.
    fn next_status_for(&self, d: &Deployment) -> Option<DateTime<Utc>> {
        if !d.status.is_open() {
            return None;
        }
        self.schedule_for(d).next_after(d.last_status_slot.unwrap_or(d.started_at))
    }

    /// The deployment's next timer: a status slot or its phase running past its plan.
    /// `None` once it has ended, which drops its timer.
    fn next_timer_for(&self, d: &Deployment) -> Option<DateTime<Utc>> {
        [self.next_status_for(d), d.overdue_due()].into_iter().flatten().min()
    }

    /// When the next timer of any open deployment falls due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, EngineError> {
        Ok(self.store.next_timer().await?)
    }

    /// Gives a timer to open deployments that have none (recorded before the timers table
    /// existed), so upgrading golive resumes their schedules. Called once when a timer loop
    /// starts; afterwards every commit keeps the timers current.
    pub async fn resume_timers(&self) -> Result<(), EngineError> {
        let untimed = self.store.untimed_open_deployments().await?;
        if untimed.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        for id in untimed {
            let loaded = tx.load(id).await?;
            tx.set_timer(id, self.next_timer_for(&loaded.state)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What is due for one deployment at `now`: the status slot to post (the latest one that
    /// passed, so many missed slots make one post) and an overdue phase to record.
    fn due(&self, d: &Deployment, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<EventKind>) {
        if !d.status.is_open() {
            return (None, None);
        }
        let slot = self.schedule_for(d).latest_due(d.last_status_slot.unwrap_or(d.started_at), now);
        (slot, d.overdue(now))
    }

    /// Fires every timer that is due now, recording what it did, and returns the posts (also
    /// in the outbox).
    pub async fn fire_due(&self) -> Result<Vec<Post>, EngineError> {
        let now = self.clock.now();
        let due = self.store.due_timers(now, i64::MAX).await?;
        let mut posts = Vec::new();
        for batch in due.chunks(TIMERS_PER_TX) {
            // Read each deployment again under the write lock: another process may have fired
            // its timer already, in which case nothing is due and nothing is posted twice.
            let mut tx = self.store.begin().await?;
            for &id in batch {
                let fresh = tx.load(id).await?;
                let (slot, overdue) = self.due(&fresh.state, now);
                let mut kinds: Vec<EventKind> = overdue.into_iter().collect();
                let late = slot.map(|slot| (now - slot).to_std().unwrap_or_default());
                if let (Some(slot), Some(late)) = (slot, late) {
                    if late >= LATE_AFTER {
                        warn!(deployment = id, slot = %slot, late_secs = late.as_secs(), "status post is late");
                    }
                    kinds.push(EventKind::StatusPosted { slot, late_secs: late.as_secs() as i64 });
                }
                if kinds.is_empty() {
                    tx.set_timer(id, self.next_timer_for(&fresh.state)).await?;
                    continue;
                }
                let recorded = self.record(&mut tx, Some(fresh), &Actor::golive(), now, kinds, late).await?;
                for event in &recorded.events {
                    info!(deployment = id, kind = event.kind.name(), "timer fired");
                }
                posts.extend(recorded.posts);
            }
            tx.commit().await?;
            self.committed();
        }
        Ok(posts)
    }

    /// Queues messages no event caused (an answer to a mention) and wakes the delivery worker.
    pub async fn enqueue(&self, messages: Vec<NewMessage>) -> Result<(), EngineError> {
        self.store.enqueue(&messages, self.clock.now()).await?;
        self.committed();
        Ok(())
    }

    /// Records on the deployment's timeline that the platform refused its posts for good.
    pub async fn record_delivery_failure(
        &self,
        id: i64,
        channel: &Channel,
        error: String,
        messages: u64,
    ) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let loaded = tx.load(id).await?;
        let kind = EventKind::DeliveryFailed {
            channel: format!("{}:{}", channel.platform.as_str(), channel.id),
            error,
            messages,
        };
        self.record(&mut tx, Some(loaded), &Actor::golive(), self.clock.now(), vec![kind], None).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn parse_refusal(e: ParseError) -> Outcome {
    Outcome::refused(e.to_string())
}
