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
use tracing::{field, info, info_span, warn, Instrument, Span};

use crate::clock::SharedClock;
use crate::command::{self, ParseError, Request};
use crate::config::Config;
use crate::domain::{decide, oncall, Actor, Channel, Command, Deployment, Event, EventKind, Platform};
use crate::hooks;
use crate::metrics::{CommandOutcome, Metrics};
use crate::render::{discord, paging, slack, text, StatusView};
use crate::schedule::StatusSchedule;
use crate::store::{Action, Loaded, NewMessage, Payload, Store, StoreError, Tx};

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

/// Where a request came from, beyond its channel and actor.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The platform's id for this delivery of the request (Slack's `trigger_id`): a retried
    /// delivery is answered as the first was and changes nothing.
    pub key: Option<String>,
    /// The deployment a button or dialog belongs to. Refused when the channel's open
    /// deployment is another one, so an old status post cannot act on a newer deployment.
    pub deployment: Option<i64>,
    /// A refusal does not use up the key: a dialog keeps its id while it stays open, so a
    /// person who fixes what was refused submits it again under the same key.
    pub retry_refused: bool,
}

/// The answer to one command: a reply only the caller sees, and posts for the channel.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub reply: Option<String>,
    pub posts: Vec<Post>,
    /// Set when the command was refused (by the grammar or by the domain).
    pub refused: bool,
    /// A retried delivery of a request already handled: `reply` is the first answer, and
    /// nothing was done again.
    pub repeated: bool,
}

impl Outcome {
    fn reply(text: impl Into<String>) -> Outcome {
        Outcome { reply: Some(text.into()), ..Outcome::default() }
    }

    fn repeated(answer: String) -> Outcome {
        Outcome { reply: (!answer.is_empty()).then_some(answer), repeated: true, ..Outcome::default() }
    }

    pub fn refused(text: impl Into<String>) -> Outcome {
        Outcome { reply: Some(text.into()), refused: true, ..Outcome::default() }
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
    /// The mentions golive writes on Slack; any other markup in a Slack post is escaped.
    slack_mentions: Arc<slack::Mentions>,
    metrics: Arc<Metrics>,
}

/// Wakes the delivery worker and the scheduler after a commit, instead of having them poll.
#[derive(Default)]
pub struct Signals {
    pub enqueued: Arc<Notify>,
    pub timers_changed: Arc<Notify>,
    /// A phase may have started or traffic moved: checks to run may have changed.
    pub checks_changed: Arc<Notify>,
}

impl Engine {
    pub fn new(store: Store, config: Arc<Config>, clock: SharedClock) -> Engine {
        let schedule = StatusSchedule::new(&config.status);
        let plan_schedules = config
            .plans
            .values()
            .filter_map(|p| Some((p.status_cron.clone()?, StatusSchedule::for_plan(p, &config.status)?)))
            .collect();
        let roles = config.roles.0.values().flat_map(|r| r.members.iter());
        let levels = config.escalation.iter().flat_map(|l| l.roster());
        let slack_mentions = roles.chain(levels).filter(|m| m.platform == Platform::Slack).map(text::mention).collect();
        Engine {
            store,
            config,
            clock,
            schedule,
            plan_schedules: Arc::new(plan_schedules),
            signals: Arc::default(),
            slack_mentions: Arc::new(slack_mentions),
            metrics: Arc::default(),
        }
    }

    /// What this engine and the workers around it count, for `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    /// Something was committed: new posts and timers may be waiting.
    fn committed(&self) {
        self.signals.enqueued.notify_one();
        self.signals.timers_changed.notify_one();
        self.signals.checks_changed.notify_one();
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
        self.handle_from(channel, actor, text, &Origin::default()).await
    }

    /// The text typed after the slash command, with what the adapter knows of its origin.
    pub async fn handle_from(
        &self,
        channel: &Channel,
        actor: &Actor,
        text: &str,
        origin: &Origin,
    ) -> Result<Outcome, EngineError> {
        match command::parse(text) {
            Ok(request) => self.request_from(channel, actor, request, origin).await,
            Err(e) => self.observed("unparsed", channel, actor, async { Ok(parse_refusal(e)) }).await,
        }
    }

    /// Runs one command in a span naming its channel (and, once known, its deployment), and
    /// counts how it ended.
    async fn observed(
        &self,
        kind: &'static str,
        channel: &Channel,
        actor: &Actor,
        work: impl std::future::Future<Output = Result<Outcome, EngineError>>,
    ) -> Result<Outcome, EngineError> {
        let span = info_span!("command", kind, %channel, user = %actor.key(), deployment = field::Empty);
        let result = work.instrument(span).await;
        let outcome = match &result {
            Err(_) => CommandOutcome::Error,
            Ok(o) if o.repeated => CommandOutcome::Repeated,
            Ok(o) if o.refused => CommandOutcome::Refused,
            Ok(_) => CommandOutcome::Ok,
        };
        self.metrics.command(kind, outcome);
        result
    }

    pub async fn request(&self, channel: &Channel, actor: &Actor, request: Request) -> Result<Outcome, EngineError> {
        self.request_from(channel, actor, request, &Origin::default()).await
    }

    /// A request with what the adapter knows of its origin (a delivery key, a button's
    /// deployment).
    pub async fn request_from(
        &self,
        channel: &Channel,
        actor: &Actor,
        request: Request,
        origin: &Origin,
    ) -> Result<Outcome, EngineError> {
        let kind = request.kind();
        let answer = async {
            match request {
                Request::Help { topic } => Ok(Outcome::reply(command::help(topic.as_deref()))),
                Request::Status => self.status_from(channel, origin).await,
                Request::Oncall => Ok(Outcome::reply(self.oncall(channel))),
                Request::History => self.history(channel).await,
                Request::Change(command) => self.record_command(channel, actor, &command, origin).await,
            }
        };
        self.observed(kind, channel, actor, answer).await
    }

    /// Decides and records one state-changing command.
    pub async fn execute(&self, channel: &Channel, actor: &Actor, command: &Command) -> Result<Outcome, EngineError> {
        self.execute_from(channel, actor, command, &Origin::default()).await
    }

    /// Decides and records one state-changing command, once per origin key. The key is
    /// claimed in the same write transaction as the events, so a retried delivery racing the
    /// first has one effect, and is answered with the first answer.
    pub async fn execute_from(
        &self,
        channel: &Channel,
        actor: &Actor,
        command: &Command,
        origin: &Origin,
    ) -> Result<Outcome, EngineError> {
        self.observed(command.kind(), channel, actor, self.record_command(channel, actor, command, origin)).await
    }

    async fn record_command(
        &self,
        channel: &Channel,
        actor: &Actor,
        command: &Command,
        origin: &Origin,
    ) -> Result<Outcome, EngineError> {
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        if let Some(key) = &origin.key {
            if let Some(answer) = tx.claim_request(key, now).await? {
                info!(%key, "request delivered again; answering as before");
                return Ok(Outcome::repeated(answer));
            }
        }
        let outcome = self.decide_and_record(&mut tx, channel, actor, command, origin, now).await?;
        if let Some(key) = &origin.key {
            if outcome.refused && origin.retry_refused {
                tx.release_request(key).await?;
            } else {
                tx.answer_request(key, outcome.reply.as_deref().unwrap_or_default()).await?;
            }
        }
        match tx.commit().await {
            Ok(()) => {}
            Err(StoreError::ChannelTaken) => {
                return Ok(Outcome::refused(
                    "another deployment was just started in this channel; see `/deploy status`",
                ))
            }
            Err(e) => return Err(e.into()),
        }
        self.committed();
        Ok(outcome)
    }

    /// The decision and, in `tx`, its record. The caller commits.
    async fn decide_and_record(
        &self,
        tx: &mut Tx,
        channel: &Channel,
        actor: &Actor,
        command: &Command,
        origin: &Origin,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let current = tx.open_deployment(channel).await?;
        if let Some(loaded) = &current {
            Span::current().record("deployment", loaded.id);
        }
        if let Some(expected) = origin.deployment {
            if current.as_ref().map(|l| l.id) != Some(expected) {
                return Ok(Outcome::refused(format!(
                    "that button belongs to deployment #{expected}, which is no longer running in this channel; \
                     `/deploy status` shows the current one"
                )));
            }
        }
        let decided = decide(&self.config.rules_at(now), channel, current.as_ref().map(|l| &l.state), actor, command);
        let kinds = match decided {
            Ok(kinds) => kinds,
            Err(refusal) => {
                info!(command = %command.describe(), %refusal, "refused");
                if let (true, Some(loaded)) = (refusal.is_permission(), current) {
                    // Who tried what, and why not, belongs on the record.
                    let kind = EventKind::CommandRefused { command: command.describe(), reason: refusal.to_string() };
                    self.record(tx, Some(loaded), actor, now, vec![kind], None).await?;
                }
                return Ok(Outcome::refused(refusal.to_string()));
            }
        };
        let recorded = match self.record(tx, current, actor, now, kinds, None).await {
            Ok(recorded) => recorded,
            Err(StoreError::ChannelTaken) => {
                return Ok(Outcome::refused(
                    "another deployment was just started in this channel; see `/deploy status`",
                ))
            }
            Err(e) => return Err(e),
        };
        Span::current().record("deployment", recorded.id);
        info!(command = %command.describe(), events = recorded.events.len(), "recorded");
        Ok(Outcome { posts: recorded.posts, ..Outcome::default() })
    }

    /// Whether `command` would be accepted now, without recording it: the deployment it would
    /// act on, or the refusal. A refusal for lack of a role is recorded as if the command had
    /// been tried. A button that opens a dialog asks this first, so nobody fills in a form
    /// only to be refused.
    pub async fn try_command(
        &self,
        channel: &Channel,
        actor: &Actor,
        command: &Command,
        origin: &Origin,
    ) -> Result<Result<Loaded, Outcome>, EngineError> {
        let mut tx = self.store.begin().await?;
        let current = tx.open_deployment(channel).await?;
        let belongs = origin.deployment.map_or(true, |id| current.as_ref().map(|l| l.id) == Some(id));
        if let (true, Some(loaded)) = (belongs, &current) {
            if decide(&self.config.rules_at(self.clock.now()), channel, Some(&loaded.state), actor, command).is_ok() {
                // Nothing to write: the transaction is dropped, which rolls it back.
                return Ok(Ok(loaded.clone()));
            }
        }
        // Refused: the real path says why, and records a refusal for lack of a role.
        let outcome = self.decide_and_record(&mut tx, channel, actor, command, origin, self.clock.now()).await?;
        tx.commit().await?;
        self.committed();
        Ok(Err(outcome))
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
        // Issue 17: event times never go backwards in the record, whatever the clock did.
        let at = crate::clock::not_before(at, current.as_ref().map(|l| l.state.updated_at));
        let (id, mut seq, mut state) = match current {
            Some(loaded) => (Some(loaded.id), loaded.state.seq, Some(loaded.state)),
            None => (None, 0, None),
        };
        let mut events = Vec::with_capacity(kinds.len());
        // The escalation each event found open: resolving pages about the one it closed.
        let mut open_before = Vec::with_capacity(kinds.len());
        for kind in kinds {
            seq += 1;
            let event = Event { seq, at, actor: actor.recorded(), kind };
            open_before.push(state.as_ref().and_then(|s| s.escalation.clone()));
            match state.as_mut() {
                Some(s) => s.apply(&event).map_err(|source| StoreError::Fold { id: id.unwrap_or(0), source })?,
                None => {
                    state =
                        Some(Deployment::from_events([&event]).map_err(|source| StoreError::Fold { id: 0, source })?)
                }
            }
            events.push(event);
        }
        let Some(mut state) = state else {
            return Err(StoreError::Fold { id: 0, source: crate::domain::deployment::FoldError::Empty });
        };
        // An escalation golive opened closes by itself once its cause is gone.
        if let Some(kind) = oncall::settled(&state) {
            seq += 1;
            let event = Event { seq, at, actor: Actor::golive(), kind };
            open_before.push(state.escalation.clone());
            state.apply(&event).map_err(|source| StoreError::Fold { id: id.unwrap_or(0), source })?;
            events.push(event);
        }
        let id = tx.append(id, &events, &state).await?;
        let channel = Channel { platform: state.platform, id: state.channel.clone() };
        let mut posts = Vec::with_capacity(events.len());
        let mut changed = false;
        for event in &events {
            if matches!(event.kind, EventKind::StatusPosted { .. }) {
                let mut view = self.view(&Loaded { id, state: state.clone() }, late.filter(|l| *l >= LATE_AFTER));
                // A late post says why it is late, so it is never collapsed.
                view.repeat = view.late_by.is_none() && state.quiet_repeat();
                posts.push(Post { channel: channel.clone(), message: Message::Status(Box::new(view)) });
            } else {
                changed |= !matches!(event.kind, EventKind::CommandRefused { .. } | EventKind::DeliveryFailed { .. });
                posts.push(self.event_post(&channel, id, event.clone(), &state));
            }
        }
        // Where the platform can edit a message, the status post on screen follows every
        // change, and the small ones (a tick, a sign-off) update it instead of adding a line.
        let on_screen = if changed && updates_in_place(channel.platform) { tx.status_post(id).await? } else { None };
        let mut messages = Vec::with_capacity(posts.len() + 1);
        for post in &posts {
            let quiet = matches!(&post.message, Message::Event { event, .. } if is_quiet(&event.kind));
            if quiet && on_screen.is_some() {
                continue;
            }
            messages.extend(self.outbox_message(Some(id), post));
        }
        for (event, before) in events.iter().zip(&open_before) {
            for page in paging::pages(id, event, &state, before.as_ref(), &self.config.escalation) {
                messages.push(NewMessage::post(
                    Some(id),
                    Channel { platform: Platform::Golive, id: page.url },
                    Payload { text: page.summary, blocks: None, event: Some(page.event) },
                ));
            }
        }
        // The plan's hooks for what just happened, queued with it, in order.
        for event in &events {
            let Some((trigger, level)) = hooks::trigger(&event.kind) else { continue };
            for hook in state.plan.hooks.iter().filter(|h| h.fires_on(trigger, level.as_deref())) {
                let run = hooks::Run {
                    hook: hook.clone(),
                    trigger: trigger.to_string(),
                    body: hooks::body(id, &state, trigger, &event.kind, event.seq),
                };
                messages.push(NewMessage::post(
                    Some(id),
                    Channel { platform: Platform::Hook, id: format!("deployment:{id}") },
                    Payload {
                        text: format!("hook {} on {trigger}", hook.name),
                        blocks: None,
                        event: serde_json::to_value(run).ok(),
                    },
                ));
            }
        }
        if let Some(target) = on_screen {
            let view = self.view(&Loaded { id, state: state.clone() }, None);
            let status = Post { channel: channel.clone(), message: Message::Status(Box::new(view)) };
            if let Some(payload) = self.render(&status) {
                messages.push(NewMessage {
                    deployment_id: Some(id),
                    channel: channel.clone(),
                    payload,
                    action: Action::Update { target },
                    status: false,
                });
            }
        }
        tx.enqueue(&messages, at).await?;
        tx.set_timer(id, self.next_timer_for(&state)).await?;
        Ok(Recorded { id, events, posts })
    }

    /// Renders posts for their channel's platform; posts with nothing to say are dropped.
    fn outbox_messages(&self, deployment_id: Option<i64>, posts: &[Post]) -> Vec<NewMessage> {
        posts.iter().filter_map(|post| self.outbox_message(deployment_id, post)).collect()
    }

    fn outbox_message(&self, deployment_id: Option<i64>, post: &Post) -> Option<NewMessage> {
        Some(NewMessage {
            deployment_id,
            channel: post.channel.clone(),
            payload: self.render(post)?,
            action: Action::Post,
            status: matches!(post.message, Message::Status(_)),
        })
    }

    /// One post as its platform shows it.
    pub fn render(&self, post: &Post) -> Option<Payload> {
        let mut payload = self.render_unescaped(post)?;
        if post.channel.platform == Platform::Slack {
            payload.text = slack::escape_except(&payload.text, &self.slack_mentions);
        }
        Some(payload)
    }

    fn render_unescaped(&self, post: &Post) -> Option<Payload> {
        match &post.message {
            Message::Event { event, state, deployment_id } => {
                let text = text::announce(event, state, &self.config.escalation)?;
                let page =
                    matches!(event.kind, EventKind::EscalationOpened { .. } | EventKind::EscalationRaised { .. });
                let blocks = match post.channel.platform {
                    Platform::Slack if page => {
                        serde_json::to_value(slack::escalation_blocks(*deployment_id, &text, &self.slack_mentions)).ok()
                    }
                    Platform::Discord => {
                        let mut body =
                            if page { discord::escalation_message(*deployment_id) } else { serde_json::json!({}) };
                        // Only a page pings, and only the people it pages: a mention typed
                        // into a note or an escalation message pings nobody.
                        let paged = match event.kind {
                            EventKind::EscalationOpened { level, .. } | EventKind::EscalationRaised { level, .. } => {
                                let on_call = self.config.escalation.get(usize::from(level).saturating_sub(1));
                                let members = on_call.map(|l| l.on_call(event.at).members).unwrap_or_default();
                                members.iter().filter(|m| m.platform == Platform::Discord).map(text::mention).collect()
                            }
                            _ => slack::Mentions::new(),
                        };
                        body["allowed_mentions"] = discord::allowed_mentions(&text, &paged);
                        Some(body)
                    }
                    _ => None,
                };
                Some(Payload { text, blocks, event: None })
            }
            Message::Status(view) => {
                let blocks = match post.channel.platform {
                    Platform::Slack => serde_json::to_value(slack::status_blocks(view)).ok(),
                    Platform::Discord => Some(discord::status_message(view)),
                    _ => None,
                };
                Some(Payload { text: text::status(view), blocks, event: None })
            }
        }
    }

    /// `/deploy status`: the same content as the scheduled post.
    pub async fn status(&self, channel: &Channel) -> Result<Outcome, EngineError> {
        self.status_from(channel, &Origin::default()).await
    }

    async fn status_from(&self, channel: &Channel, origin: &Origin) -> Result<Outcome, EngineError> {
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        if let Some(key) = &origin.key {
            if let Some(answer) = tx.claim_request(key, now).await? {
                return Ok(Outcome::repeated(answer));
            }
        }
        let outcome = match tx.open_deployment(channel).await? {
            None => {
                Outcome::reply("there is no active deployment in this channel; start one with `/deploy start RELEASE`")
            }
            Some(loaded) => {
                Span::current().record("deployment", loaded.id);
                let view = self.view(&loaded, None);
                let posts = vec![Post { channel: channel.clone(), message: Message::Status(Box::new(view)) }];
                tx.enqueue(&self.outbox_messages(Some(loaded.id), &posts), now).await?;
                Outcome { posts, ..Outcome::default() }
            }
        };
        if let Some(key) = &origin.key {
            tx.answer_request(key, outcome.reply.as_deref().unwrap_or_default()).await?;
        }
        tx.commit().await?;
        self.committed();
        Ok(outcome)
    }

    fn view(&self, loaded: &Loaded, late_by: Option<Duration>) -> StatusView {
        let now = self.clock.now();
        let next = self.next_status_for(&loaded.state);
        let mut view = StatusView::build(loaded.id, &loaded.state, &self.config.escalation, now, next);
        view.late_by = late_by;
        view
    }

    fn oncall(&self, channel: &Channel) -> String {
        text::oncall(&self.config.escalation, channel.platform, self.clock.now())
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
                    crate::domain::Status::stored_words(&r.status),
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
        self.schedule_for(d).next_after(d.status_slots_from())
    }

    /// The deployment's next timer: a status slot or its phase running past its plan.
    /// `None` once it has ended, which drops its timer.
    fn next_timer_for(&self, d: &Deployment) -> Option<DateTime<Utc>> {
        let levels = &self.config.escalation;
        let climb = oncall::climb_due(d, levels);
        let trigger = oncall::trigger_due(d, &self.config.triggers, levels);
        let clock = [d.milestone_due(), d.deployment_overdue_due()];
        [self.next_status_for(d), d.overdue_due(), climb, trigger].into_iter().chain(clock).flatten().min()
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
    /// passed, so many missed slots make one post), an overdue phase to record, and the next
    /// step of an unacknowledged escalation (one step, however late: a restart after a long
    /// outage pings once and the climb goes on from there).
    fn due(&self, d: &Deployment, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Vec<EventKind>) {
        if !d.status.is_open() {
            return (None, Vec::new());
        }
        let slot = self.schedule_for(d).latest_due(d.status_slots_from(), now);
        let levels = &self.config.escalation;
        let climb = oncall::climb(d, levels, now);
        let trigger = oncall::triggered(d, &self.config.triggers, levels, now);
        let clock = d.missed_milestones(now, &self.config.roles).into_iter().chain(d.deployment_overdue(now));
        (
            slot,
            d.overdue_naming_owners(now, &self.config.roles)
                .into_iter()
                .chain(climb)
                .chain(trigger)
                .chain(clock)
                .collect(),
        )
    }

    /// Fires every timer that is due now, recording what it did, and returns the posts (also
    /// in the outbox).
    pub async fn fire_due(&self) -> Result<Vec<Post>, EngineError> {
        let now = self.clock.now();
        let due = self.store.due_timers(now, i64::MAX).await?;
        if let Some((_, earliest)) = due.first() {
            let lag = (now - *earliest).to_std().unwrap_or_default();
            self.metrics.timers(due.len(), lag.as_secs_f64());
        }
        let mut posts = Vec::new();
        for batch in due.chunks(TIMERS_PER_TX) {
            // Read each deployment again under the write lock: another process may have fired
            // its timer already, in which case nothing is due and nothing is posted twice.
            let mut tx = self.store.begin().await?;
            for &(id, _) in batch {
                let fresh = tx.load(id).await?;
                let channel = format!("{}:{}", fresh.state.platform, fresh.state.channel);
                let span = info_span!("timer", deployment = id, %channel);
                posts.extend(self.fire(&mut tx, fresh, now).instrument(span).await?);
            }
            tx.commit().await?;
            self.committed();
        }
        Ok(posts)
    }

    /// Records what is due on one deployment at `now` and moves its timer; returns its posts.
    async fn fire(&self, tx: &mut Tx, fresh: Loaded, now: DateTime<Utc>) -> Result<Vec<Post>, StoreError> {
        let id = fresh.id;
        let (slot, mut kinds) = self.due(&fresh.state, now);
        let late = slot.map(|slot| (now - slot).to_std().unwrap_or_default());
        if let (Some(slot), Some(late)) = (slot, late) {
            if late >= LATE_AFTER {
                warn!(slot = %slot, late_secs = late.as_secs(), "status post is late");
            }
            kinds.push(EventKind::StatusPosted { slot, late_secs: late.as_secs() as i64 });
        }
        if kinds.is_empty() {
            tx.set_timer(id, self.next_timer_for(&fresh.state)).await?;
            return Ok(Vec::new());
        }
        let recorded = self.record(tx, Some(fresh), &Actor::golive(), now, kinds, late).await?;
        for event in &recorded.events {
            info!(kind = event.kind.name(), "timer fired");
        }
        Ok(recorded.posts)
    }

    /// Queues messages no event caused (an answer to a mention) and wakes the delivery worker.
    pub async fn enqueue(&self, messages: Vec<NewMessage>) -> Result<(), EngineError> {
        self.enqueue_once(None, messages).await.map(|_| ())
    }

    /// Queues messages once per request `key`: `false` (and nothing queued) when a request
    /// with this key was handled already.
    pub async fn enqueue_once(&self, key: Option<&str>, messages: Vec<NewMessage>) -> Result<bool, EngineError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if let Some(key) = key {
            if tx.claim_request(key, now).await?.is_some() {
                return Ok(false);
            }
        }
        tx.enqueue(&messages, now).await?;
        tx.commit().await?;
        self.committed();
        Ok(true)
    }

    /// Records on the deployment's timeline that the platform refused its posts for good.
    /// Records what a round of automatic check results calls for (ticks, failures, a
    /// guard's escalation or rollback), as golive, if anything.
    pub async fn record_checks(&self, id: i64, results: &[crate::domain::checks::Measured]) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let loaded = tx.load(id).await?;
        let kinds = crate::domain::checks::decide(&loaded.state, results, self.config.escalation.len());
        if kinds.is_empty() {
            return Ok(());
        }
        self.record(&mut tx, Some(loaded), &Actor::golive(), self.clock.now(), kinds, None).await?;
        tx.commit().await?;
        self.committed();
        Ok(())
    }

    /// Puts a hook's result on the deployment's timeline (and announces it); a failed
    /// rollback hook escalates at once.
    pub async fn record_hook_result(&self, id: i64, report: hooks::Report) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let loaded = tx.load(id).await?;
        let mut kinds = Vec::new();
        if !report.ok && report.trigger == "rollback" {
            let what = format!("rollback hook `{}` failed: {}", report.hook, report.detail);
            kinds.extend(oncall::on_failed_rollback_hook(&loaded.state, &self.config.escalation, what));
        }
        kinds.insert(0, report.into_event());
        self.record(&mut tx, Some(loaded), &Actor::golive(), self.clock.now(), kinds, None).await?;
        tx.commit().await?;
        self.committed();
        Ok(())
    }

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

/// Platforms whose messages golive edits after posting them.
fn updates_in_place(platform: Platform) -> bool {
    matches!(platform, Platform::Slack | Platform::Discord)
}

/// Changes that only move the checklist: shown by updating the status post when there is one.
fn is_quiet(kind: &EventKind) -> bool {
    matches!(kind, EventKind::ItemChecked { .. } | EventKind::ItemUnchecked { .. } | EventKind::SignedOff { .. })
}

fn parse_refusal(e: ParseError) -> Outcome {
    Outcome::refused(e.to_string())
}
