//! The one test harness: a story told to golive through the console, the fake Slack and the
//! fake Discord, over a real SQLite file in a temp dir (or a schema of its own on PostgreSQL,
//! `postgres.rs`) and a manual clock.
//!
//! `Ctx::new()` is the console alone: commands go straight to an engine and the posts come
//! back with the answer. `Ctx::on_slack()`, `Ctx::on_discord()` and `Ctx::serve()` also run golive
//! serve's real routes on 127.0.0.1 with fake chat APIs taking what the channel would see;
//! `ctx.slack()` and `ctx.discord()` speak as a person there, signed exactly as each platform
//! signs, and read what golive posted.
//!
//! Every post golive makes to a fake chat must be read by the test: a story over chat ends with
//! `ctx.finish().await`, which waits for the outbox to drain and fails listing any post the test
//! never looked at. A story reads posts in order (`ctx.slack().reads("started deploying v3")`),
//! by what they say (`arrives`), or the status post as it stands (`ctx.status_on_slack()`); posts
//! it does not read it names with the reason (`ctx.slack().skips(what, why, matches)`), or it
//! says up front that the chat is not its point at all (`ctx.ignore_posts()`, with why beside it). Waits wake on what the fakes receive and move golive's clock when
//! nothing is happening; nothing sleeps for real to let time pass.

#![allow(dead_code)]

pub mod discord;
pub mod fake_discord;
pub mod fake_slack;
pub mod http;
pub mod journal;
pub mod postgres;
pub mod process;
pub mod slack;
pub mod webdriver;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use golive::clock::ManualClock;
use golive::config::{Config, EXAMPLE};
use golive::delivery::pager::PagingApi;
use golive::delivery::Transport;
use golive::domain::{Actor, Channel, Platform};
use golive::engine::{Answer, Engine, Input, Message, Post};
use golive::render::text;
use golive::runtime::{self, Adapters};
use golive::store::Store;
use tempfile::TempDir;
use tokio::sync::watch;

pub use crate::common::*;
use discord::DiscordSide;
use slack::SlackSide;

/// How long a wait may take, in real time, before the test fails saying what never came.
const PATIENCE: Duration = Duration::from_secs(10);
/// How long the fakes must be quiet before a wait moves golive's clock on: golive is then
/// waiting on its clock (posts to one channel are paced a second apart on it, retries back off).
const QUIET: Duration = Duration::from_millis(10);
/// How far a wait moves golive's clock each time the fakes are quiet.
pub const STEP: Duration = Duration::from_millis(250);

/// How long a wait lets sleeps that are due wake before it moves the clock on anyway.
const SETTLING: Duration = Duration::from_millis(500);

pub struct Ctx {
    pub dir: TempDir,
    pub url: String,
    pub store: Store,
    pub clock: ManualClock,
    /// The console's engine (the example config), beside any served golive over the same file.
    pub engine: Engine,
    /// The console channel the story types in.
    pub channel: Channel,
    /// Where golive serve listens, when it runs.
    pub addr: String,
    slack: Option<SlackSide>,
    discord: Option<DiscordSide>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The test said it does not read what golive posts.
    ignored: AtomicBool,
    finished: bool,
}

/// 09:07 UTC on a fixed day: a few minutes before a half-hour status slot.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 2, 9, 7, 0).single().expect("valid time")
}

/// Changes the config text, given the paging webhook's URL.
type EditConfig<'a> = Box<dyn FnOnce(String, &str) -> String + 'a>;

/// What golive serve runs with: which fake chats, and the config.
pub struct Serve<'a> {
    slack: bool,
    discord: bool,
    edit: EditConfig<'a>,
    routing_key: String,
}

impl<'a> Serve<'a> {
    pub fn slack(mut self) -> Serve<'a> {
        self.slack = true;
        self
    }

    pub fn discord(mut self) -> Serve<'a> {
        self.discord = true;
        self
    }

    /// The config (the example's, with the chats switched on) is first changed by `edit`.
    pub fn config(self, edit: impl FnOnce(String) -> String + 'a) -> Serve<'a> {
        self.paging("", move |c, _| edit(c))
    }

    /// Golive also pages: `edit` gets the config and the URL of a paging webhook served by the
    /// fake Slack (its calls are recorded as method `pagerduty`).
    pub fn paging(mut self, routing_key: &str, edit: impl FnOnce(String, &str) -> String + 'a) -> Serve<'a> {
        self.routing_key = routing_key.into();
        self.edit = Box::new(edit);
        self
    }

    pub async fn start(self) -> Ctx {
        let mut ctx = Ctx::new().await;
        let fake_slack = if self.slack || !self.discord { Some(fake_slack::FakeSlack::start().await) } else { None };
        let fake_discord = if self.discord { Some(fake_discord::FakeDiscord::start().await) } else { None };
        let mut text = if self.discord {
            discord::config_text(self.slack)
        } else {
            EXAMPLE.replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        };
        let hook = fake_slack.as_ref().map(|f| format!("{}pagerduty", f.url)).unwrap_or_default();
        text = (self.edit)(text, &hook);
        if let Some(fake) = &fake_discord {
            text = discord::point_at(&text, fake);
        }
        let config = Arc::new(Config::parse(&text, "e2e.toml").expect("the test config parses"));
        let mut adapters = Adapters { web_token: Some(slack::WEB_TOKEN.into()), ..Adapters::default() };
        if let Some(fake) = &fake_discord {
            discord::plug(&mut adapters, fake);
        }
        if let Some(fake) = &fake_slack {
            slack::plug(&mut adapters, fake);
        }
        if config.escalation.iter().any(|l| l.webhook.is_some()) {
            adapters.apis.push(Arc::new(PagingApi::new(&self.routing_key).unwrap()) as Arc<dyn Transport>);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        ctx.addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let clock: golive::clock::SharedClock = Arc::new(ctx.clock.clone());
        tokio::spawn(runtime::serve(config, ctx.store.clone(), clock, adapters, listener, async {
            let _ = stopped.await;
        }));
        ctx.stop = Some(stop);
        ctx.slack = fake_slack.map(|fake| SlackSide::new(fake, &ctx.addr, &ctx.clock));
        ctx.discord = fake_discord.map(|fake| DiscordSide::new(fake, &ctx.addr, &ctx.clock));
        if let Some(discord) = &ctx.discord {
            // golive registers /deploy as it starts; the story begins once that is done.
            let fake = discord.fake.clone();
            ctx.until("/deploy registered on Discord", || fake.registered().then_some(()), String::new).await;
        }
        ctx
    }
}

impl Ctx {
    /// The console alone: no server, no fake chat.
    pub async fn new() -> Ctx {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = if postgres::wanted() {
            postgres::fresh_schema().await
        } else {
            format!("sqlite://{}", dir.path().join("golive.db").display())
        };
        let store = Store::open(&url).await.expect("open store");
        let clock = ManualClock::new(start_time());
        let engine = Engine::new(store.clone(), Arc::new(Config::example()), Arc::new(clock.clone()));
        Ctx {
            dir,
            url,
            store,
            clock,
            engine,
            channel: Channel { platform: Platform::Console, id: "ops".into() },
            addr: String::new(),
            slack: None,
            discord: None,
            stop: None,
            ignored: AtomicBool::new(false),
            finished: false,
        }
    }

    /// golive serve with fake chats, to be chosen: `Ctx::serve().slack().discord().start()`.
    pub fn serve<'a>() -> Serve<'a> {
        Serve { slack: false, discord: false, edit: Box::new(|c, _| c), routing_key: String::new() }
    }

    /// golive serve with Slack on, answering a fake Slack workspace (#deploys is C0DEPLOY).
    pub async fn on_slack() -> Ctx {
        Ctx::serve().slack().start().await
    }

    /// [`Ctx::slack`] with its config first changed by `edit`.
    pub async fn on_slack_with(edit: impl FnOnce(String) -> String) -> Ctx {
        Ctx::serve().slack().config(edit).start().await
    }

    /// golive serve with Discord on, answering a fake Discord server.
    pub async fn on_discord() -> Ctx {
        Ctx::serve().discord().start().await
    }

    /// The Slack side of the story: speak as a Slack user, read what Slack got.
    pub fn slack(&self) -> &SlackSide {
        self.slack
            .as_ref()
            .expect("this story runs without Slack: start it with Ctx::on_slack() or Ctx::serve().slack()")
    }

    /// The Discord side of the story.
    pub fn discord(&self) -> &DiscordSide {
        self.discord
            .as_ref()
            .expect("this story runs without Discord: start it with Ctx::on_discord() or Ctx::serve().discord()")
    }

    /// Tells golive serve to shut down, as Ctrl-C or SIGTERM would.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// A second engine over the same file, as after a restart.
    pub async fn restart(&self) -> Engine {
        let store = Store::open(&self.url).await.expect("reopen store");
        Engine::new(store, Arc::new(Config::example()), Arc::new(self.clock.clone()))
    }

    // ---- the console: the answer comes back with the command ----

    pub async fn say(&self, user: &str, text: &str) -> Answer {
        self.engine
            .submit(Input::text(&self.channel, &Actor::new(Platform::Console, user), text))
            .await
            .expect("engine error")
    }

    /// Says something that must be accepted, returning the channel's posts as text.
    pub async fn ok(&self, user: &str, text: &str) -> Vec<String> {
        let outcome = self.say(user, text).await;
        assert!(!outcome.refused, "`{user}: {text}` was refused: {:?}", outcome.reply);
        self.texts(&outcome)
    }

    /// Says something that must be refused, returning the refusal.
    pub async fn refused(&self, user: &str, text: &str) -> String {
        let outcome = self.say(user, text).await;
        assert!(outcome.refused, "`{user}: {text}` was accepted");
        assert!(outcome.posts.is_empty(), "a refused command posted to the channel");
        outcome.reply.expect("a refusal has a reply")
    }

    pub fn texts(&self, outcome: &Answer) -> Vec<String> {
        self.post_texts(&outcome.posts)
    }

    /// Posts as the console shows them.
    pub fn post_texts(&self, posts: &[Post]) -> Vec<String> {
        posts
            .iter()
            .map(|p| match &p.message {
                Message::Event { event, state, .. } => {
                    text::announce(event, state, &self.engine.config().escalation).unwrap_or_default()
                }
                Message::Status(view) => text::status(view),
            })
            .collect()
    }

    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    /// Runs pre-deployment to completion: start, tick, sign off, done.
    pub async fn through_pre_deployment(&self) {
        self.ok("dana", "start v2.4.0").await;
        self.ok("dana", "phase start pre-deployment").await;
        self.tick_and_sign(PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS).await;
        self.ok("dana", "phase done").await;
    }

    /// Pre-deployment and staging done: the go gate is next.
    pub async fn through_staging(&self) {
        self.through_pre_deployment().await;
        self.ok("dana", "phase start staging").await;
        self.tick_and_sign(STAGING_TICKS, STAGING_SIGNOFFS).await;
        self.ok("dana", "phase done").await;
    }

    /// Ticks the items and gives the sign-offs of the running phase, each by its person.
    pub async fn tick_and_sign(&self, ticks: &[(&str, &str)], signoffs: &[(&str, &str)]) {
        for (who, item) in ticks {
            self.ok(who, &format!("check {item}")).await;
        }
        for (who, role) in signoffs {
            self.ok(who, &format!("signoff {role}")).await;
        }
    }

    pub async fn event_kinds(&self, id: i64) -> Vec<String> {
        self.store.events(id).await.expect("events").iter().map(|e| e.kind.name().to_string()).collect()
    }

    pub async fn deployments(&self) -> usize {
        self.store.deployments(None, 100).await.unwrap().len()
    }

    // ---- waits: on what the fakes receive, and on golive's clock ----

    /// What the fakes received, to wake a wait when something arrives.
    fn arrivals(&self) -> Vec<watch::Receiver<usize>> {
        let mut arrivals = Vec::new();
        if let Some(s) = &self.slack {
            arrivals.push(s.fake.arrivals());
        }
        if let Some(d) = &self.discord {
            arrivals.push(d.fake.arrivals());
        }
        arrivals
    }

    /// Waits until `find` finds something; `seen` says what there was instead, for the failure.
    pub async fn until<T>(&self, what: &str, find: impl Fn() -> Option<T>, seen: impl Fn() -> String) -> T {
        until(&self.clock, self.arrivals(), STEP, what, || std::future::ready(find()), seen).await
    }

    /// [`Ctx::until`] for a check that reads the store.
    pub async fn until_async<T, F: Future<Output = Option<T>>>(
        &self,
        what: &str,
        find: impl FnMut() -> F,
        seen: impl Fn() -> String,
    ) -> T {
        until(&self.clock, self.arrivals(), STEP, what, find, seen).await
    }

    /// [`Ctx::until_async`] moving golive's clock on by `step` (not [`STEP`]) whenever the
    /// fakes are quiet: for waits on golive's own pacing and back-off, say.
    pub async fn until_stepping<T, F: Future<Output = Option<T>>>(
        &self,
        what: &str,
        step: Duration,
        find: impl FnMut() -> F,
        seen: impl Fn() -> String,
    ) -> T {
        until(&self.clock, self.arrivals(), step, what, find, seen).await
    }

    /// Waits until the events of deployment `id` satisfy `done`, moving golive's clock on by
    /// `step` whenever the fakes are quiet (for checks and hooks due every so many seconds).
    pub async fn until_events(
        &self,
        id: i64,
        what: &str,
        step: Duration,
        done: impl Fn(&[golive::domain::EventKind]) -> bool,
    ) -> Vec<golive::domain::EventKind> {
        let give_up = tokio::time::Instant::now() + PATIENCE;
        let mut arrivals = self.arrivals();
        loop {
            let kinds: Vec<_> = self.store.events(id).await.unwrap().into_iter().map(|e| e.kind).collect();
            if done(&kinds) {
                return kinds;
            }
            assert!(tokio::time::Instant::now() < give_up, "never got {what} within {PATIENCE:?}; got {kinds:?}");
            if !arrived(&mut arrivals, QUIET).await {
                step_clock(&self.clock, step).await;
            }
        }
    }

    /// Waits until the fakes have been quiet for a moment: what golive was doing is done.
    pub async fn quiet(&self) {
        let mut arrivals = self.arrivals();
        for _ in 0..100 {
            if !arrived(&mut arrivals, QUIET).await {
                return;
            }
        }
    }

    /// Lets the background workers run with golive's clock moved on 10 s, half a second at a
    /// time once the fakes are quiet, for checks that something did *not* happen.
    pub async fn settle(&self) {
        let mut arrivals = self.arrivals();
        for _ in 0..20 {
            for _ in 0..100 {
                if !arrived(&mut arrivals, QUIET).await {
                    break;
                }
            }
            step_clock(&self.clock, Duration::from_millis(500)).await;
        }
    }

    // ---- reading what a person sees now ----

    /// The Slack status post as it stands once golive has delivered everything: the newest of
    /// the status posts and edits the story has not read, counting the ones before it as read
    /// (they were replaced on screen; how many edits it took is golive's business).
    pub async fn status_on_slack(&self) -> fake_slack::Call {
        self.drain().await;
        let fake = &self.slack().fake;
        let statuses: Vec<_> = fake.unread_posts().into_iter().filter(fake_slack::Call::is_status).collect();
        fake.read(&statuses);
        statuses.last().cloned().expect("golive posted or edited no status on Slack the story has not read")
    }

    /// The Discord status post as it stands, as [`Ctx::status_on_slack`].
    pub async fn status_on_discord(&self) -> fake_discord::Call {
        self.drain().await;
        let fake = &self.discord().fake;
        let statuses: Vec<_> = fake.unread_posts().into_iter().filter(fake_discord::Call::is_status).collect();
        fake.read(&statuses);
        statuses.last().cloned().expect("golive posted or edited no status on Discord the story has not read")
    }

    // ---- the end of the story: every post read ----

    /// This story does not read what golive posts to the chats (say why beside it).
    pub fn ignore_posts(&self) {
        self.ignored.store(true, Ordering::SeqCst);
    }

    /// Waits until golive's outbox holds nothing pending: every post it decided on has reached
    /// the fakes (or failed for good).
    async fn drain(&self) {
        let store = self.store.clone();
        let drained = || {
            let store = store.clone();
            // Only what goes to a chat: the console's posts are read by the console, not served.
            let chat = |r: &golive::store::OutboxRow| matches!(r.platform.as_str(), "slack" | "discord");
            async move { store.outbox().await.ok()?.iter().all(|r| !chat(r) || r.state != "pending").then_some(()) }
        };
        self.until_async("golive's outbox to drain", drained, || "rows still pending in the outbox".into()).await;
    }

    /// Ends the story: waits until golive has delivered everything in its outbox, then fails
    /// if it posted anything the test never looked at.
    pub async fn finish(mut self) {
        self.finished = true;
        if self.ignored.load(Ordering::SeqCst) || (self.slack.is_none() && self.discord.is_none()) {
            return;
        }
        self.drain().await;
        let mut unread = Vec::new();
        if let Some(s) = &self.slack {
            unread.extend(
                s.fake.unread_posts().iter().map(|c| format!("Slack {} to {}: {}", c.method, c.channel(), c.text())),
            );
        }
        if let Some(d) = &self.discord {
            unread
                .extend(d.fake.unread_posts().iter().map(|c| format!("Discord {} {}: {}", c.method, c.path, c.seen())));
        }
        assert!(
            unread.is_empty(),
            "golive posted {} message(s) this test never read (read them: `reads`, `arrives`, \
             `status_on_slack`…, or name the ones the story does not read and why: `skips`):\n  {}",
            unread.len(),
            unread.join("\n  ")
        );
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // A story's tasks may hold the store until the runtime ends; a PostgreSQL server takes
        // only so many connections, so they are let go of now (a SQLite file needs nothing).
        if self.store.is_postgres() {
            let store = self.store.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { store.close().await });
            }
        }
        if self.finished || std::thread::panicking() || self.ignored.load(Ordering::SeqCst) {
            return;
        }
        if self.slack.is_some() || self.discord.is_some() {
            panic!(
                "a story over chat ends with `ctx.finish().await` (which checks that every post golive made was \
                 read) or says `ctx.ignore_posts()`"
            );
        }
    }
}

/// What a phase walked through in order shows, a fragment a post: its start, each tick and
/// sign-off by its person (`name` gives how the platform shows a cast member), and its end.
pub fn phase_walk(
    phase: &str,
    ticks: &[(&str, &str)],
    signoffs: &[(&str, &str)],
    name: impl Fn(&str) -> String,
) -> Vec<String> {
    let mut walk = vec![format!(" {phase} (")];
    walk.extend(ticks.iter().map(|(who, item)| format!("{} checked {item} ", name(who))));
    walk.extend(signoffs.iter().map(|(who, role)| format!("{} signed off {phase} as {role} ", name(who))));
    walk.push(format!(" {phase} is done "));
    walk
}

/// Waits until `find` finds something, waking when a fake receives a call and moving golive's
/// clock on by `step` whenever the fakes have been quiet for a moment; fails after
/// [`PATIENCE`] of real time.
pub async fn until<T, F: Future<Output = Option<T>>>(
    clock: &ManualClock,
    mut arrivals: Vec<watch::Receiver<usize>>,
    step: Duration,
    what: &str,
    mut find: impl FnMut() -> F,
    seen: impl Fn() -> String,
) -> T {
    let give_up = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = find().await {
            return found;
        }
        if tokio::time::Instant::now() >= give_up {
            panic!("never got {what} within {PATIENCE:?}; got {}", seen());
        }
        if !arrived(&mut arrivals, QUIET).await {
            step_clock(clock, step).await;
        }
    }
}

/// Takes the next post on `platform` the story has not read (waiting for it) and checks that a
/// person sees `fragment` in it: `reads` on every side.
async fn read_next<C: journal::Recorded, S>(
    journal: &journal::Journal<C, S>,
    clock: &ManualClock,
    platform: &str,
    fragment: &str,
) -> C {
    let find = || std::future::ready(journal.unread_posts().into_iter().next());
    let seen = || format!("{:#?}", journal.unread_posts());
    let what = format!("a post saying `{fragment}` on {platform}");
    let post = until(clock, vec![journal.arrivals()], STEP, &what, find, seen).await;
    journal.read(std::slice::from_ref(&post));
    assert!(
        post.seen().contains(fragment),
        "the next post on {platform} does not say `{fragment}`; it says:\n{}\nunread after it: {:#?}",
        post.seen(),
        journal.unread_posts().iter().map(|c| c.seen()).collect::<Vec<_>>()
    );
    post
}

/// Moves golive's clock on by `step` once every sleep that is already due has woken, so what
/// was due runs at the time it was due, not a step later (a quiet moment on the fakes does not
/// mean golive has run what it woke for).
async fn step_clock(clock: &ManualClock, step: Duration) {
    clock.settled(SETTLING).await;
    clock.advance(step);
}

/// Whether any of the fakes received a call within `within`.
async fn arrived(arrivals: &mut [watch::Receiver<usize>], within: Duration) -> bool {
    if arrivals.is_empty() {
        // Nothing to hear from (the console alone, which answers as it is asked).
        tokio::task::yield_now().await;
        return false;
    }
    let changed = futures_util::future::select_all(arrivals.iter_mut().map(|rx| Box::pin(rx.changed())));
    matches!(tokio::time::timeout(within, changed).await, Ok((Ok(()), _, _)))
}
