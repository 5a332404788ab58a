//! Shared test setup: a real SQLite file in a temp dir, the example config, a manual clock,
//! and a console channel, so tests read like people typing in a channel.

#![allow(dead_code)]

pub mod fake_discord;
pub mod fake_slack;
pub mod guild;
pub mod http;
pub mod process;
pub mod webdriver;
pub mod workspace;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use golive::clock::ManualClock;
use golive::config::Config;
use golive::domain::{Actor, Channel, Platform};
use golive::engine::{Answer, Engine, Input, Message, Post};
use golive::render::text;
use golive::store::Store;
use tempfile::TempDir;

pub struct Ctx {
    pub dir: TempDir,
    pub url: String,
    pub store: Store,
    pub clock: ManualClock,
    pub engine: Engine,
    pub channel: Channel,
}

/// 09:07 UTC on a fixed day: a few minutes before a half-hour status slot.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 2, 9, 7, 0).single().expect("valid time")
}

impl Ctx {
    pub async fn new() -> Ctx {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("golive.db").display());
        let store = Store::open(&url).await.expect("open store");
        let clock = ManualClock::new(start_time());
        let engine = Engine::new(store.clone(), Arc::new(Config::example()), Arc::new(clock.clone()));
        Ctx { dir, url, store, clock, engine, channel: Channel { platform: Platform::Console, id: "ops".into() } }
    }

    /// A second engine over the same file, as after a restart.
    pub async fn restart(&self) -> Engine {
        let store = Store::open(&self.url).await.expect("reopen store");
        Engine::new(store, Arc::new(Config::example()), Arc::new(self.clock.clone()))
    }

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

    /// Polls `find` until it finds something, moving golive's clock a quarter second a time
    /// so paced posts go out; `seen` says what there was instead, for the failure.
    pub async fn until<T>(&self, what: &str, find: impl Fn() -> Option<T>, seen: impl Fn() -> String) -> T {
        for _ in 0..400 {
            if let Some(found) = find() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.clock.advance(Duration::from_millis(250));
        }
        panic!("never got {what}; got {}", seen());
    }

    /// Lets the background workers run with golive's clock moved on 10 s, for checks that
    /// something did *not* happen.
    pub async fn settle(&self) {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.clock.advance(Duration::from_millis(500));
        }
    }

    pub async fn event_kinds(&self, id: i64) -> Vec<String> {
        self.store.events(id).await.expect("events").iter().map(|e| e.kind.name().to_string()).collect()
    }
}

/// Who ticks which required item, and who signs off, in the example plan's phases.
pub const PRE_DEPLOYMENT_TICKS: &[(&str, &str)] = &[
    ("bruno", "tests"),
    ("sam", "security-scan"),
    ("bruno", "migrations-tested"),
    ("olga", "db-backup"),
    ("olga", "secrets"),
    ("alice", "rollback-plan"),
];
pub const PRE_DEPLOYMENT_SIGNOFFS: &[(&str, &str)] = &[("sam", "security"), ("alice", "tech-lead")];
pub const STAGING_TICKS: &[(&str, &str)] = &[
    ("olga", "staging-deploy"),
    ("bruno", "staging-migrate"),
    ("fei", "e2e"),
    ("bruno", "load-test"),
    ("priya", "acceptance"),
];
pub const STAGING_SIGNOFFS: &[(&str, &str)] = &[("priya", "product"), ("alice", "tech-lead")];
pub const PRODUCTION_TICKS: &[(&str, &str)] = &[
    ("olga", "prod-deploy"),
    ("bruno", "prod-migrate"),
    ("olga", "health"),
    ("olga", "error-rate"),
    ("bruno", "latency"),
    ("olga", "old-version-warm"),
];
pub const POST_DEPLOYMENT_TICKS: &[(&str, &str)] =
    &[("fei", "user-flows"), ("olga", "monitoring"), ("bruno", "error-tracking"), ("priya", "announce")];
pub const POST_DEPLOYMENT_SIGNOFFS: &[(&str, &str)] =
    &[("alice", "tech-lead"), ("priya", "product"), ("sam", "security"), ("olga", "ops")];
pub const PRODUCTION_SIGNOFFS: &[(&str, &str)] = &[("olga", "ops")];
/// Who ticks each phase's optional items.
pub const PRE_DEPLOYMENT_OPTIONAL: &[(&str, &str)] = &[("olga", "certificates")];
pub const STAGING_OPTIONAL: &[(&str, &str)] = &[("fei", "bundle-size")];
pub const PRODUCTION_OPTIONAL: &[(&str, &str)] = &[("priya", "maintenance-notice")];
pub const POST_DEPLOYMENT_OPTIONAL: &[(&str, &str)] = &[("alice", "runbook")];

/// xorshift64: a tiny deterministic generator, so random-input tests see the same cases on
/// every run without a new dependency.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}
