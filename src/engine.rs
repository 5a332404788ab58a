//! The one path every command and timer takes: parse → decide → record → posts.
//!
//! Adapters hand in a channel, an actor and the command text; the engine reads the channel's
//! deployment, lets the domain decide, appends the resulting events in the same write
//! transaction, and returns what to tell the caller and what to post to the channel. Scheduled
//! status posts come through here too, so commands and timers never race.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use tracing::{info, warn};

use crate::clock::SharedClock;
use crate::command::{self, ParseError, Request};
use crate::config::Config;
use crate::domain::{decide, Actor, Channel, Command, Deployment, Event, EventKind};
use crate::render::{text, StatusView};
use crate::schedule::StatusSchedule;
use crate::store::{Loaded, Store, StoreError};

/// A scheduled post later than this says so.
const LATE_AFTER: Duration = Duration::from_secs(60);

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
}

impl Engine {
    pub fn new(store: Store, config: Arc<Config>, clock: SharedClock) -> Engine {
        let schedule = StatusSchedule::new(&config.status);
        Engine { store, config, clock, schedule }
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
                    self.record(tx, Some(loaded), actor, now, vec![kind]).await?;
                }
                return Ok(Outcome::refused(refusal.to_string()));
            }
        };
        let (id, events, state) = match self.record(tx, current, actor, now, kinds).await {
            Ok(recorded) => recorded,
            Err(StoreError::ChannelTaken) => {
                return Ok(Outcome::refused(
                    "another deployment was just started in this channel; see `/deploy status`",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        info!(deployment = id, channel = %channel.id, actor = %actor.key(), command = %command.describe(), events = events.len(), "recorded");
        let posts = events.into_iter().map(|event| self.event_post(channel, id, event, &state)).collect();
        Ok(Outcome { reply: None, posts, refused: false })
    }

    fn event_post(&self, channel: &Channel, id: i64, event: Event, state: &Deployment) -> Post {
        Post {
            channel: channel.clone(),
            message: Message::Event { deployment_id: id, event: Box::new(event), state: Box::new(state.clone()) },
        }
    }

    /// Folds `kinds` into the deployment, appends them and commits.
    async fn record(
        &self,
        mut tx: crate::store::Tx,
        current: Option<Loaded>,
        actor: &Actor,
        at: DateTime<Utc>,
        kinds: Vec<EventKind>,
    ) -> Result<(i64, Vec<Event>, Deployment), StoreError> {
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
        tx.commit().await?;
        Ok((id, events, state))
    }

    /// `/deploy status`: the same content as the scheduled post.
    pub async fn status(&self, channel: &Channel) -> Result<Outcome, EngineError> {
        match self.store.open_deployment(channel).await? {
            None => Ok(Outcome::reply(
                "there is no active deployment in this channel; start one with `/deploy start RELEASE`",
            )),
            Some(loaded) => {
                let view = self.view(&loaded, None);
                Ok(Outcome {
                    reply: None,
                    refused: false,
                    posts: vec![Post { channel: channel.clone(), message: Message::Status(Box::new(view)) }],
                })
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
        self.schedule.next_after(d.last_status_slot.unwrap_or(d.started_at))
    }

    /// When the next timer of any open deployment falls due: a status slot or a phase
    /// running past its plan.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, EngineError> {
        let open = self.store.open_deployments().await?;
        Ok(open.iter().flat_map(|l| [self.next_status_for(&l.state), l.state.overdue_due()]).flatten().min())
    }

    /// What is due for one deployment at `now`: the status slot to post (the latest one that
    /// passed, so many missed slots make one post) and an overdue phase to record.
    fn due(&self, d: &Deployment, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<EventKind>) {
        if !d.status.is_open() {
            return (None, None);
        }
        let slot = self.schedule.latest_due(d.last_status_slot.unwrap_or(d.started_at), now);
        (slot, d.overdue(now))
    }

    /// Fires every timer that is due now, recording what it did, and returns the posts.
    pub async fn fire_due(&self) -> Result<Vec<Post>, EngineError> {
        let now = self.clock.now();
        let mut posts = Vec::new();
        for loaded in self.store.open_deployments().await? {
            if self.due(&loaded.state, now) == (None, None) {
                continue;
            }
            // Re-read under the write lock: another process may have fired these already.
            let mut tx = self.store.begin().await?;
            let fresh = tx.load(loaded.id).await?;
            let (slot, overdue) = self.due(&fresh.state, now);
            let mut kinds: Vec<EventKind> = overdue.into_iter().collect();
            let late = slot.map(|slot| (now - slot).to_std().unwrap_or_default());
            if let (Some(slot), Some(late)) = (slot, late) {
                if late >= LATE_AFTER {
                    warn!(deployment = fresh.id, slot = %slot, late_secs = late.as_secs(), "status post is late");
                }
                kinds.push(EventKind::StatusPosted { slot, late_secs: late.as_secs() as i64 });
            }
            if kinds.is_empty() {
                continue;
            }
            let channel = Channel { platform: fresh.state.platform, id: fresh.state.channel.clone() };
            let (id, events, state) = self.record(tx, Some(fresh), &Actor::golive(), now, kinds).await?;
            for event in events {
                if matches!(event.kind, EventKind::StatusPosted { .. }) {
                    let late_by = late.filter(|l| *l >= LATE_AFTER);
                    let view = self.view(&Loaded { id, state: state.clone() }, late_by);
                    posts.push(Post { channel: channel.clone(), message: Message::Status(Box::new(view)) });
                } else {
                    info!(deployment = id, kind = event.kind.name(), "timer fired");
                    posts.push(self.event_post(&channel, id, event, &state));
                }
            }
        }
        Ok(posts)
    }
}

fn parse_refusal(e: ParseError) -> Outcome {
    Outcome::refused(e.to_string())
}
