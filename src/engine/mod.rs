//! The one way in for everything that changes a deployment: typed commands, buttons and
//! dialogs, timers, check results, hook results and delivery outcomes are all an [`Input`]
//! handed to [`Engine::submit`].
//!
//! Every input goes to one writer task per engine ([`writer`]), which decides them in the
//! order they arrived against the deployments' current state (kept in memory, checked against
//! the database) and commits all that arrived while its previous commit was in flight in one
//! transaction: one fsync for many commands. Each caller is answered once the commit holding
//! its events is durable. Inputs that change nothing (help, on-call, history) are answered
//! without the writer.

mod record;
pub mod status_slots;
mod timers;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tracing::{field, info_span, Instrument};

use crate::clock::SharedClock;
use crate::commands::grammar::{self, Request};
use crate::config::Config;
use crate::delivery::hooks;
use crate::delivery::{self, Recorder, Report};
use crate::domain::checks::Measured;
use crate::domain::{Actor, Channel, Command};
use crate::engine::status_slots::StatusSchedule;
use crate::metrics::{CommandOutcome, Metrics};
use crate::render::post::Renderer;
use crate::render::text;
use crate::store::{Delivered, Destination, Loaded, NewMessage, Store, StoreError};

pub use crate::render::post::{Message, Post};

/// How many committed deployment ids a slow subscriber may fall behind before it is told it
/// lagged (and should re-read what it shows).
const COMMITS_BACKLOG: usize = 1024;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The commit shared by a batch of inputs failed: each of them gets this.
    #[error(transparent)]
    Batch(Arc<StoreError>),
    #[error("golive is shutting down; nothing was changed")]
    Stopped,
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

/// Everything golive acts on.
#[derive(Debug, Clone)]
pub enum Input {
    /// The text typed after the slash command.
    Text { channel: Channel, actor: Actor, text: String, origin: Origin },
    /// A request already parsed (an adapter's own grammar, the console).
    Request { channel: Channel, actor: Actor, request: Request, origin: Origin },
    /// Whether `command` would be accepted now, without recording it: a button that opens a
    /// dialog asks this first, so nobody fills in a form only to be refused. The answer's
    /// `accepted` holds the deployment it would act on; a refusal for lack of a role is
    /// recorded as if the command had been tried.
    Probe { channel: Channel, actor: Actor, command: Command, origin: Origin },
    /// Fire every timer that is due now (status posts, overdue phases, escalation steps).
    Timers,
    /// Give a timer to open deployments that have none (recorded before timers existed).
    ResumeTimers,
    /// A round of automatic check results for one deployment.
    Checks { deployment: i64, results: Vec<Measured> },
    /// What a hook run came to.
    Hook { deployment: i64, report: hooks::Report },
    /// The platform refused a deployment's posts for good.
    DeliveryFailed { deployment: i64, destination: Destination, error: String, messages: u64 },
    /// Messages no event caused (an answer to a mention), queued once per request `key`.
    Enqueue { key: Option<String>, messages: Vec<NewMessage> },
    /// Posts the platforms took: marked delivered in the writer's next commit, which they
    /// share with the commands decided meanwhile.
    Delivered { messages: Vec<Delivered> },
}

impl Input {
    /// A typed line, with no more known of its origin.
    pub fn text(channel: &Channel, actor: &Actor, text: &str) -> Input {
        Input::Text {
            channel: channel.clone(),
            actor: actor.clone(),
            text: text.to_string(),
            origin: Origin::default(),
        }
    }

    /// A state-changing command (a button, a dialog).
    pub fn command(channel: &Channel, actor: &Actor, command: Command, origin: Origin) -> Input {
        Input::Request { channel: channel.clone(), actor: actor.clone(), request: Request::Change(command), origin }
    }

    /// The person and channel behind it, when a person typed or pressed something.
    fn person(&self) -> Option<(&Channel, &Actor)> {
        match self {
            Input::Text { channel, actor, .. }
            | Input::Request { channel, actor, .. }
            | Input::Probe { channel, actor, .. } => Some((channel, actor)),
            _ => None,
        }
    }
}

/// The answer to one input: a reply only the caller sees, and posts for the channel.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub reply: Option<String>,
    pub posts: Vec<Post>,
    /// Set when the command was refused (by the grammar or by the domain).
    pub refused: bool,
    /// A retried delivery of a request already handled: `reply` is the first answer, and
    /// nothing was done again.
    pub repeated: bool,
    /// For a [`Input::Probe`]: the deployment the command would act on, when accepted.
    pub accepted: Option<Box<Loaded>>,
}

impl Answer {
    fn reply(text: impl Into<String>) -> Answer {
        Answer { reply: Some(text.into()), ..Answer::default() }
    }

    fn repeated(answer: String) -> Answer {
        Answer { reply: (!answer.is_empty()).then_some(answer), repeated: true, ..Answer::default() }
    }

    pub fn refused(text: impl Into<String>) -> Answer {
        Answer { reply: Some(text.into()), refused: true, ..Answer::default() }
    }

    /// A probe's answer: the deployment the command would act on, or the refusal.
    pub fn into_probe(self) -> Result<Box<Loaded>, Answer> {
        match self.accepted {
            Some(loaded) => Ok(loaded),
            None => Err(self),
        }
    }
}

/// Wakes the delivery worker and the scheduler after a commit, instead of having them poll.
#[derive(Default)]
pub struct Signals {
    pub enqueued: Arc<Notify>,
    pub timers_changed: Arc<Notify>,
    /// A phase may have started or traffic moved: checks to run may have changed.
    pub checks_changed: Arc<Notify>,
}

/// The one way to learn of new events: the ids of the deployments a commit gave events to,
/// once per commit. The web pages' live streams (any number of them) each subscribe and
/// read what is new of their deployment. A receiver that falls more than a thousand commits
/// behind is told it lagged (and should read anyway).
#[derive(Clone)]
pub struct Commits(broadcast::Sender<i64>);

impl Commits {
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.0.subscribe()
    }
}

/// What the engine and its writer share.
struct Core {
    store: Store,
    config: Arc<Config>,
    clock: SharedClock,
    schedule: StatusSchedule,
    /// The schedules of plans that override `[status] cron`, by cron expression.
    plan_schedules: HashMap<String, StatusSchedule>,
    signals: Signals,
    renderer: Renderer,
    metrics: Arc<Metrics>,
    /// The ids of deployments that got new events, once per commit.
    commits: Commits,
}

/// One input on its way to the writer, with the span it is logged under and its caller.
struct Job {
    work: Work,
    span: tracing::Span,
    answer: oneshot::Sender<Result<Answer, EngineError>>,
}

#[derive(Clone)]
pub struct Engine {
    core: Arc<Core>,
    /// The writer's inbox; the writer starts with the first input (on the caller's runtime)
    /// and stops when the last clone of the engine is dropped.
    inbox: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
}

impl Engine {
    pub fn new(store: Store, config: Arc<Config>, clock: SharedClock) -> Engine {
        let schedule = StatusSchedule::new(&config.status);
        let plan_schedules = config
            .plans
            .values()
            .filter_map(|p| Some((p.status_cron.clone()?, StatusSchedule::for_plan(p, &config.status)?)))
            .collect();
        let core = Core {
            store,
            renderer: Renderer::new(&config),
            config,
            clock,
            schedule,
            plan_schedules,
            signals: Signals::default(),
            metrics: Arc::default(),
            commits: Commits(broadcast::channel(COMMITS_BACKLOG).0),
        };
        Engine { core: Arc::new(core), inbox: Arc::default() }
    }

    /// Acts on one input and answers once what it did is committed (or refused).
    pub async fn submit(&self, input: Input) -> Result<Answer, EngineError> {
        let person = input.person().map(|(channel, actor)| (channel.clone(), actor.key()));
        // Probes are asked on the way to a command, which is counted itself.
        let counted = matches!(input, Input::Text { .. } | Input::Request { .. });
        let (kind, work) = self.sort(input);
        let span = match &person {
            Some((channel, user)) => {
                info_span!("command", kind, %channel, %user, deployment = field::Empty)
            }
            None => info_span!("input", kind, deployment = field::Empty),
        };
        let result = match work {
            Sorted::Answered(outcome) => Ok(outcome),
            Sorted::History(channel) => self.history(&channel).instrument(span).await,
            Sorted::Write(work) => self.write(work, span).await,
        };
        if counted {
            let outcome = match &result {
                Err(_) => CommandOutcome::Error,
                Ok(o) if o.repeated => CommandOutcome::Repeated,
                Ok(o) if o.refused => CommandOutcome::Refused,
                Ok(_) => CommandOutcome::Ok,
            };
            self.core.metrics.command(kind, outcome);
        }
        result
    }

    /// What an input needs: an answer now, a read, or the writer. With its name for metrics.
    fn sort(&self, input: Input) -> (&'static str, Sorted) {
        let (channel, actor, request, origin) = match input {
            Input::Text { channel, actor, text, origin } => match grammar::parse(&text) {
                Ok(request) => (channel, actor, request, origin),
                Err(e) => return ("unparsed", Sorted::Answered(Answer::refused(e.to_string()))),
            },
            Input::Request { channel, actor, request, origin } => (channel, actor, request, origin),
            Input::Probe { channel, actor, command, origin } => {
                // A probe records at most a refusal; the command itself comes later, keyed.
                let origin = Origin { key: None, ..origin };
                return (command.kind(), Sorted::Write(Work::Probe { channel, actor, command, origin }));
            }
            Input::Timers => return ("timers", Sorted::Write(Work::Timers { at: self.core.clock.now() })),
            Input::ResumeTimers => return ("timers", Sorted::Write(Work::ResumeTimers)),
            Input::Checks { deployment, results } => {
                return ("checks", Sorted::Write(Work::Checks { deployment, results }))
            }
            Input::Hook { deployment, report } => return ("hook", Sorted::Write(Work::Hook { deployment, report })),
            Input::DeliveryFailed { deployment, destination, error, messages } => {
                let work = Work::DeliveryFailed { deployment, destination, error, messages };
                return ("delivery_failed", Sorted::Write(work));
            }
            Input::Enqueue { key, messages } => return ("enqueue", Sorted::Write(Work::Enqueue { key, messages })),
            Input::Delivered { messages } => return ("delivered", Sorted::Write(Work::Delivered { messages })),
        };
        let kind = request.kind();
        let sorted = match request {
            Request::Help { topic } => Sorted::Answered(Answer::reply(grammar::help(topic.as_deref()))),
            Request::Oncall => Sorted::Answered(Answer::reply(text::oncall(
                &self.core.config.escalation,
                channel.platform,
                self.core.clock.now(),
            ))),
            Request::History => Sorted::History(channel),
            Request::Status => Sorted::Write(Work::Status { channel, origin }),
            Request::Change(command) => Sorted::Write(Work::Command { channel, actor, command, origin }),
        };
        (kind, sorted)
    }

    async fn write(&self, work: Work, span: tracing::Span) -> Result<Answer, EngineError> {
        let inbox = self.inbox.get_or_init(|| writer::start(self.core.clone()));
        let (answer, answered) = oneshot::channel();
        inbox.send(Job { work, span, answer }).map_err(|_| EngineError::Stopped)?;
        answered.await.map_err(|_| EngineError::Stopped)?
    }

    async fn history(&self, channel: &Channel) -> Result<Answer, EngineError> {
        let rows = self.core.store.deployments(Some(&channel.id), 5).await?;
        let rows: Vec<_> = rows.into_iter().filter(|r| r.platform == channel.platform.as_str()).collect();
        if rows.is_empty() {
            return Ok(Answer::reply("no deployments in this channel yet"));
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
        Ok(Answer::reply(format!("Recent deployments here:\n{}", lines.join("\n"))))
    }

    /// The ids of deployments that got new events, sent once per commit that changed them
    /// (a page showing a deployment re-reads it on each).
    pub fn commits(&self) -> Commits {
        self.core.commits.clone()
    }

    /// What the delivery worker needs: the store, its settings, and this engine to record
    /// what became of posts and hook runs.
    pub fn outbox(&self) -> delivery::Outbox {
        delivery::Outbox {
            store: self.core.store.clone(),
            settings: self.core.config.delivery.clone(),
            metrics: self.core.metrics.clone(),
            enqueued: self.core.signals.enqueued.clone(),
            recorder: Arc::new(self.clone()),
        }
    }

    /// What this engine and the workers around it count, for `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.core.metrics
    }

    pub fn signals(&self) -> &Signals {
        &self.core.signals
    }

    pub fn store(&self) -> &Store {
        &self.core.store
    }

    pub fn config(&self) -> &Config {
        &self.core.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.core.clock.now()
    }

    pub fn clock(&self) -> SharedClock {
        self.core.clock.clone()
    }

    /// When the next timer of any open deployment falls due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, EngineError> {
        Ok(self.core.store.next_timer().await?)
    }
}

#[async_trait]
impl Recorder for Engine {
    async fn record(&self, report: Report) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let input = match report {
            Report::Hook { deployment, report } => Input::Hook { deployment, report },
            Report::GaveUp { deployment, destination, error, messages } => {
                Input::DeliveryFailed { deployment, destination, error, messages }
            }
            Report::Delivered { messages } => Input::Delivered { messages },
        };
        self.submit(input).await.map(drop).map_err(Into::into)
    }
}

/// An input answered at once, a read, or work for the writer.
enum Sorted {
    Answered(Answer),
    History(Channel),
    Write(Work),
}

/// What the writer does: the inputs that record something or must be decided in order.
#[derive(Debug)]
enum Work {
    Status {
        channel: Channel,
        origin: Origin,
    },
    Command {
        channel: Channel,
        actor: Actor,
        command: Command,
        origin: Origin,
    },
    Probe {
        channel: Channel,
        actor: Actor,
        command: Command,
        origin: Origin,
    },
    /// Fires what is due at `at`, when it was asked (the scheduler woke for it).
    Timers {
        at: DateTime<Utc>,
    },
    ResumeTimers,
    Checks {
        deployment: i64,
        results: Vec<Measured>,
    },
    Hook {
        deployment: i64,
        report: hooks::Report,
    },
    DeliveryFailed {
        deployment: i64,
        destination: Destination,
        error: String,
        messages: u64,
    },
    Enqueue {
        key: Option<String>,
        messages: Vec<NewMessage>,
    },
    Delivered {
        messages: Vec<Delivered>,
    },
}

impl Work {
    /// The request key a retried delivery shares with the first.
    fn key(&self) -> Option<&str> {
        match self {
            Work::Status { origin, .. } | Work::Command { origin, .. } | Work::Probe { origin, .. } => {
                origin.key.as_deref()
            }
            Work::Enqueue { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// Whether a refusal leaves the key unused (a dialog submitted again after a fix).
    fn retries_refused(&self) -> bool {
        matches!(self, Work::Command { origin, .. } if origin.retry_refused)
    }
}
