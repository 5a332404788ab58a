//! What each input does, decided against the writer's state and staged for its batch: the
//! events it appends, the posts it queues (rendered once, here), the timer it moves.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, info_span, warn, Instrument, Span};

use super::writer::{Batch, Stage, Writer};
use super::{Answer, Message, Post, Work};
use crate::delivery::hooks;
use crate::domain::{decide, oncall, Actor, Channel, Command, Deployment, Event, EventKind, Platform};
use crate::render::pagerduty;
use crate::store::{Action, Destination, Loaded, NewMessage, Payload, StoreError};

/// A scheduled post later than this says so.
const LATE_AFTER: Duration = Duration::from_secs(60);

const CHANNEL_TAKEN: &str = "another deployment was just started in this channel; see `/deploy status`";

/// What one recorded step produced.
struct Recorded {
    id: i64,
    events: Vec<Event>,
    posts: Vec<Post>,
}

impl Writer {
    pub(super) async fn decide(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        work: &Work,
        now: DateTime<Utc>,
    ) -> Result<Answer, StoreError> {
        match work {
            Work::Status { channel, .. } => self.status(batch, stage, channel, now).await,
            Work::Command { channel, actor, command, origin } => {
                self.command(batch, stage, channel, actor, command, origin.deployment, now).await
            }
            Work::Probe { channel, actor, command, origin } => {
                let current = self.open_in(batch, channel).await?;
                let belongs = origin.deployment.map_or(true, |id| current.as_ref().map(|l| l.id) == Some(id));
                if let (true, Some(loaded)) = (belongs, current) {
                    if decide(&self.core.config.rules_at(now), channel, Some(&loaded.state), actor, command).is_ok() {
                        return Ok(Answer { accepted: Some(Box::new(loaded)), ..Answer::default() });
                    }
                }
                // Refused: the real path says why, and records a refusal for lack of a role.
                self.command(batch, stage, channel, actor, command, origin.deployment, now).await
            }
            Work::Timers { .. } => self.fire_due(batch, stage, now).await,
            Work::ResumeTimers => {
                for id in batch.tx.untimed_open_deployments().await? {
                    let loaded = self.state(batch, id).await?;
                    stage.timers.push((id, self.core.next_timer_for(&loaded.state)));
                }
                Ok(Answer::default())
            }
            Work::Checks { deployment, results } => {
                let loaded = self.state(batch, *deployment).await?;
                let kinds = crate::domain::checks::decide(&loaded.state, results, self.core.config.escalation.len());
                self.golive(batch, stage, loaded, kinds, now).await
            }
            Work::Hook { deployment, report } => {
                let loaded = self.state(batch, *deployment).await?;
                let mut kinds = Vec::new();
                if !report.ok && report.trigger == "rollback" {
                    let what = format!("rollback hook `{}` failed: {}", report.hook, report.detail);
                    kinds.extend(oncall::on_failed_rollback_hook(&loaded.state, &self.core.config.escalation, what));
                }
                kinds.insert(0, report.clone().into_event());
                self.golive(batch, stage, loaded, kinds, now).await
            }
            Work::DeliveryFailed { deployment, destination, error, messages } => {
                let loaded = self.state(batch, *deployment).await?;
                let kind = EventKind::DeliveryFailed {
                    channel: destination.to_string(),
                    error: error.clone(),
                    messages: *messages,
                };
                self.golive(batch, stage, loaded, vec![kind], now).await
            }
            Work::Enqueue { messages, .. } => {
                stage.messages.extend(messages.iter().cloned());
                Ok(Answer::default())
            }
            Work::Delivered { messages } => {
                stage.delivered.extend(messages.iter().cloned());
                Ok(Answer::default())
            }
        }
    }

    /// Records what golive itself decided (checks, hooks, delivery), if anything.
    async fn golive(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        loaded: Loaded,
        kinds: Vec<EventKind>,
        now: DateTime<Utc>,
    ) -> Result<Answer, StoreError> {
        Span::current().record("deployment", loaded.id);
        if kinds.is_empty() {
            return Ok(Answer::default());
        }
        let recorded = self.record(batch, stage, Some(loaded), &Actor::golive(), now, kinds, None).await?;
        Ok(Answer { posts: recorded.posts, ..Answer::default() })
    }

    /// `/deploy status`: the same content as the scheduled post.
    async fn status(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        channel: &Channel,
        now: DateTime<Utc>,
    ) -> Result<Answer, StoreError> {
        let Some(loaded) = self.open_in(batch, channel).await? else {
            return Ok(Answer::reply(
                "there is no active deployment in this channel; start one with `/deploy start RELEASE`",
            ));
        };
        Span::current().record("deployment", loaded.id);
        let view = self.core.view(loaded.id, &loaded.state, now, None);
        let post = Post { channel: channel.clone(), message: Message::Status(Box::new(view)) };
        stage.messages.extend(self.outbox_message(Some(loaded.id), &post));
        Ok(Answer { posts: vec![post], ..Answer::default() })
    }

    /// Decides one state-changing command and stages its record.
    #[allow(clippy::too_many_arguments)]
    async fn command(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        channel: &Channel,
        actor: &Actor,
        command: &Command,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Answer, StoreError> {
        let current = self.open_in(batch, channel).await?;
        if let Some(loaded) = &current {
            Span::current().record("deployment", loaded.id);
        }
        if let Some(expected) = expected {
            if current.as_ref().map(|l| l.id) != Some(expected) {
                return Ok(Answer::refused(format!(
                    "that button belongs to deployment #{expected}, which is no longer running in this channel; \
                     `/deploy status` shows the current one"
                )));
            }
        }
        let decided =
            decide(&self.core.config.rules_at(now), channel, current.as_ref().map(|l| &l.state), actor, command);
        let kinds = match decided {
            Ok(kinds) => kinds,
            Err(refusal) => {
                info!(command = %command.describe(), %refusal, "refused");
                if let (true, Some(loaded)) = (refusal.is_permission(), current) {
                    // Who tried what, and why not, belongs on the record.
                    let kind = EventKind::CommandRefused { command: command.describe(), reason: refusal.to_string() };
                    self.record(batch, stage, Some(loaded), actor, now, vec![kind], None).await?;
                }
                return Ok(Answer::refused(refusal.to_string()));
            }
        };
        let recorded = match self.record(batch, stage, current, actor, now, kinds, None).await {
            Ok(recorded) => recorded,
            Err(StoreError::ChannelTaken) => return Ok(Answer::refused(CHANNEL_TAKEN)),
            Err(e) => return Err(e),
        };
        Span::current().record("deployment", recorded.id);
        info!(command = %command.describe(), events = recorded.events.len(), "recorded");
        Ok(Answer { posts: recorded.posts, ..Answer::default() })
    }

    /// Fires every timer due at `now`. Each deployment is read under the write lock: if
    /// another process fired its timer already, nothing is due and nothing is posted twice.
    async fn fire_due(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        now: DateTime<Utc>,
    ) -> Result<Answer, StoreError> {
        let mut due = batch.tx.due_timers(now).await?;
        // A timer this batch moved already (an earlier input fired it, or a command moved
        // it) is due only if it still is.
        due.retain(|(id, _)| batch.staged_timer(*id).map_or(true, |t| t.is_some_and(|t| t <= now)));
        if let Some((_, earliest)) = due.first() {
            let lag = (now - *earliest).to_std().unwrap_or_default();
            self.core.metrics.timers(due.len(), lag.as_secs_f64());
        }
        let mut posts = Vec::new();
        for (id, _) in due {
            let fresh = self.state(batch, id).await?;
            let channel = format!("{}:{}", fresh.state.platform, fresh.state.channel);
            let span = info_span!("timer", deployment = id, %channel);
            posts.extend(self.fire(batch, stage, fresh, now).instrument(span).await?);
        }
        Ok(Answer { posts, ..Answer::default() })
    }

    /// Stages what is due on one deployment at `now` and moves its timer; returns its posts.
    async fn fire(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        fresh: Loaded,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, StoreError> {
        let (slot, mut kinds) = self.core.due(&fresh.state, now);
        let late = slot.map(|slot| (now - slot).to_std().unwrap_or_default());
        if let (Some(slot), Some(late)) = (slot, late) {
            if late >= LATE_AFTER {
                warn!(slot = %slot, late_secs = late.as_secs(), "status post is late");
            }
            kinds.push(EventKind::StatusPosted { slot, late_secs: late.as_secs() as i64 });
        }
        if kinds.is_empty() {
            stage.timers.push((fresh.id, self.core.next_timer_for(&fresh.state)));
            return Ok(Vec::new());
        }
        let recorded = self.record(batch, stage, Some(fresh), &Actor::golive(), now, kinds, late).await?;
        for event in &recorded.events {
            info!(kind = event.kind.name(), "timer fired");
        }
        Ok(recorded.posts)
    }

    /// Folds `kinds` into the deployment and stages them, the posts they cause and the
    /// deployment's next timer.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &mut self,
        batch: &mut Batch,
        stage: &mut Stage,
        current: Option<Loaded>,
        actor: &Actor,
        at: DateTime<Utc>,
        kinds: Vec<EventKind>,
        late: Option<Duration>,
    ) -> Result<Recorded, StoreError> {
        // Event times never go backwards in the record, whatever the clock did.
        let at = crate::clock::not_before(at, current.as_ref().map(|l| l.state.updated_at));
        let (id, mut seq, mut state) = match current {
            Some(loaded) => (Some(loaded.id), loaded.state.seq, Some(loaded.state)),
            None => (None, 0, None),
        };
        let fold_error = |source| StoreError::Fold { id: id.unwrap_or(0), source };
        let mut events = Vec::with_capacity(kinds.len());
        // The escalation each event found open: resolving pages about the one it closed.
        let mut open_before = Vec::with_capacity(kinds.len());
        for kind in kinds {
            seq += 1;
            let event = Event { seq, at, actor: actor.recorded(), kind };
            open_before.push(state.as_ref().and_then(|s| s.escalation.clone()));
            match state.as_mut() {
                Some(s) => s.apply(&event).map_err(fold_error)?,
                None => state = Some(Deployment::from_events([&event]).map_err(fold_error)?),
            }
            events.push(event);
        }
        let Some(mut state) = state else {
            return Err(fold_error(crate::domain::deployment::FoldError::Empty));
        };
        // An escalation golive opened closes by itself once its cause is gone.
        if let Some(kind) = oncall::settled(&state) {
            seq += 1;
            let event = Event { seq, at, actor: Actor::golive(), kind };
            open_before.push(state.escalation.clone());
            state.apply(&event).map_err(fold_error)?;
            events.push(event);
        }
        // Where the platform can edit a message, the status post on screen follows every
        // change, and the small ones (a tick, a sign-off) update it instead of adding a line.
        let channel = Channel { platform: state.platform, id: state.channel.clone() };
        let changed = events.iter().any(|e| {
            !matches!(
                e.kind,
                EventKind::StatusPosted { .. } | EventKind::CommandRefused { .. } | EventKind::DeliveryFailed { .. }
            )
        });
        let on_screen = match id {
            Some(id) if changed && updates_in_place(channel.platform) => batch.status_post(id).await?,
            _ => None,
        };
        // The last step that can fail: a new deployment's row (its channel may be taken).
        let id = match id {
            Some(id) => id,
            None => batch.insert_deployment(&state).await?,
        };
        let posts = self.posts(id, &channel, &events, &state, late);
        let mut messages = Vec::with_capacity(posts.len() + 1);
        for post in &posts {
            let quiet = matches!(&post.message, Message::Event { event, .. } if is_quiet(&event.kind));
            if !(quiet && on_screen.is_some()) {
                messages.extend(self.outbox_message(Some(id), post));
            }
        }
        messages.extend(self.pages_and_hooks(id, &events, &open_before, &state));
        messages.extend(self.digest(id, &channel, &events, &state));
        if let Some(target) = on_screen {
            let view = self.core.view(id, &state, at, None);
            let status = Post { channel: channel.clone(), message: Message::Status(Box::new(view)) };
            if let Some(payload) = self.core.renderer.render(&status) {
                let action = Action::Update { target };
                messages.push(NewMessage {
                    deployment_id: Some(id),
                    destination: channel.into(),
                    payload,
                    action,
                    status: false,
                });
            }
        }
        stage.append(batch, id, &events, &state)?;
        stage.messages.extend(messages);
        stage.timers.push((id, self.core.next_timer_for(&state)));
        Ok(Recorded { id, events, posts })
    }

    /// The channel posts of recorded events: announcements, and the status view for a
    /// status slot.
    fn posts(
        &self,
        id: i64,
        channel: &Channel,
        events: &[Event],
        state: &Deployment,
        late: Option<Duration>,
    ) -> Vec<Post> {
        let at = events.last().map_or(state.updated_at, |e| e.at);
        let late = late.filter(|l| *l >= LATE_AFTER);
        events
            .iter()
            .map(|event| {
                let message = match event.kind {
                    EventKind::StatusPosted { .. } => {
                        let mut view = self.core.view(id, state, at, late);
                        // A late post says why it is late, so it is never collapsed.
                        view.repeat = view.late_by.is_none() && state.quiet_repeat();
                        Message::Status(Box::new(view))
                    }
                    _ => Message::Event {
                        deployment_id: id,
                        event: Box::new(event.clone()),
                        state: Box::new(state.clone()),
                    },
                };
                Post { channel: channel.clone(), message }
            })
            .collect()
    }

    /// The pages an escalation sends and the plan's hooks for what just happened, in order.
    fn pages_and_hooks(
        &self,
        id: i64,
        events: &[Event],
        open_before: &[Option<crate::domain::deployment::Escalation>],
        state: &Deployment,
    ) -> Vec<NewMessage> {
        let mut messages = Vec::new();
        for (event, before) in events.iter().zip(open_before) {
            for page in pagerduty::pages(id, event, state, before.as_ref(), &self.core.config.escalation) {
                messages.push(NewMessage::post(
                    Some(id),
                    Destination::Pager { url: page.url },
                    Payload { text: page.summary, blocks: None, event: Some(page.event) },
                ));
            }
        }
        for event in events {
            let Some((trigger, level)) = hooks::trigger(&event.kind) else { continue };
            for hook in state.plan.hooks.iter().filter(|h| h.fires_on(trigger, level.as_deref())) {
                let run = hooks::Run {
                    hook: hook.clone(),
                    trigger: trigger.to_string(),
                    body: hooks::body(id, state, trigger, &event.kind, event.seq),
                };
                messages.push(NewMessage::post(
                    Some(id),
                    Destination::hooks(id),
                    Payload {
                        text: format!("hook {} on {trigger}", hook.name),
                        blocks: None,
                        event: serde_json::to_value(run).ok(),
                    },
                ));
            }
        }
        messages
    }

    /// The stakeholder digest: one line per milestone in each `[notify]` channel that asked
    /// for it (not the deployment's own channel, which hears everything anyway).
    fn digest(&self, id: i64, channel: &Channel, events: &[Event], state: &Deployment) -> Vec<NewMessage> {
        let notify = &self.core.config.notify;
        if notify.channels.is_empty() {
            return Vec::new();
        }
        let rolled_back = state.status == crate::domain::Status::Ended(crate::domain::Outcome::RolledBack);
        let page = self.core.config.server.public_url.as_deref().map(|url| crate::render::page_url(url, id));
        let mut messages = Vec::new();
        for event in events {
            let Some(milestone) = crate::domain::digest::milestone(&event.kind, rolled_back) else { continue };
            let Some(line) = crate::render::digest::line(event, state, page.as_deref()) else { continue };
            for to in notify.channels_for(milestone).iter().filter(|c| *c != channel) {
                let payload = self.core.renderer.digest(to, line.clone());
                messages.push(NewMessage::post(Some(id), to.clone(), payload));
            }
        }
        messages
    }

    fn outbox_message(&self, deployment_id: Option<i64>, post: &Post) -> Option<NewMessage> {
        Some(NewMessage {
            deployment_id,
            destination: post.channel.clone().into(),
            payload: self.core.renderer.render(post)?,
            action: Action::Post,
            status: matches!(post.message, Message::Status(_)),
        })
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
