//! The heartbeat and the outbox, end to end: status posts leave for a fake Slack Web API on
//! 127.0.0.1 at exactly their cron instants, on a manual clock; an outage makes one late post;
//! 429, 500 and permanent errors are retried, ordered and recorded as a user would expect.

use crate::harness;
use std::sync::Arc;
use std::time::Duration;

use crate::harness::fake_slack::{FakeSlack, Reply};
use crate::harness::{minutes, Ctx};
use chrono::{DateTime, Timelike, Utc};
use golive::chat::slack::SlackApi;
use golive::clock::Clock;
use golive::delivery::{Delivery, Pass, Transport};
use golive::domain::{Actor, Channel, EventKind, Platform};
use golive::engine::Input;

const TOKEN: &str = "xoxb-test-token";

/// A deployment channel in Slack, with golive's delivery worker posting to the fake.
struct Slack {
    ctx: Ctx,
    fake: FakeSlack,
    delivery: Delivery,
    channel: Channel,
}

impl Slack {
    async fn new() -> Slack {
        let ctx = Ctx::new().await;
        let fake = FakeSlack::start().await;
        let api: Arc<dyn Transport> = Arc::new(SlackApi::new(&fake.url, TOKEN).expect("slack client"));
        let delivery = Delivery::new(ctx.engine.outbox(), Arc::new(ctx.clock.clone()), vec![api]);
        Slack { ctx, fake, delivery, channel: Channel { platform: Platform::Slack, id: "C0DEPLOY".into() } }
    }

    async fn say(&self, user: &str, text: &str) {
        let outcome = self
            .ctx
            .engine
            .submit(Input::text(&self.channel, &Actor::new(Platform::Slack, user), text))
            .await
            .expect("engine");
        assert!(!outcome.refused, "`{text}` was refused: {:?}", outcome.reply);
    }

    /// Delivers everything, moving the clock only as far as retries and pacing need.
    async fn drain(&self) -> Vec<Pass> {
        let mut passes = Vec::new();
        for _ in 0..200 {
            passes.push(self.delivery.deliver_due().await.expect("delivery pass"));
            match self.delivery.next_wake().await.expect("next wake") {
                None => return passes,
                Some(t) if t > self.ctx.clock.now() => self.ctx.clock.set(t),
                Some(_) => {}
            }
        }
        panic!("the outbox never drained: {:?}", self.ctx.store.outbox().await);
    }

    /// Fires every timer up to `until`, each at its own instant, delivering as it goes.
    async fn run_until(&self, until: DateTime<Utc>) {
        while let Some(due) = self.ctx.engine.next_due().await.expect("next due").filter(|t| *t <= until) {
            self.ctx.clock.set(due.max(self.ctx.clock.now()));
            self.ctx.engine.submit(Input::Timers).await.map(|o| o.posts).expect("fire");
            self.drain().await;
        }
        self.ctx.clock.set(until.max(self.ctx.clock.now()));
    }

    fn status_posts(&self) -> Vec<harness::fake_slack::Call> {
        self.fake.delivered().into_iter().filter(|c| c.text().starts_with("STATUS")).collect()
    }

    async fn deployment(&self) -> i64 {
        self.ctx.store.deployments(Some("C0DEPLOY"), 1).await.expect("rows")[0].id
    }
}

#[tokio::test]
async fn a_day_of_status_posts_arrives_at_exactly_the_cron_instants_and_stops_with_the_deployment() {
    let s = Slack::new().await; // 09:07
    s.say("U0DANA", "start v2.4.0").await;
    s.drain().await;
    let started = s.fake.delivered();
    assert_eq!(started.len(), 1);
    assert!(started[0].text().contains("started deploying v2.4.0"), "{}", started[0].text());
    assert_eq!(started[0].channel(), "C0DEPLOY");
    assert_eq!(started[0].authorization.as_deref(), Some("Bearer xoxb-test-token"));

    let t0 = s.ctx.clock.now();
    s.run_until(t0 + chrono::Duration::hours(6)).await; // to 15:07
    s.say("U0DANA", "abort called off for the day").await;
    s.run_until(t0 + chrono::Duration::hours(24)).await; // a whole day

    let id = s.deployment().await;
    let slots: Vec<(DateTime<Utc>, DateTime<Utc>)> = s
        .ctx
        .store
        .events(id)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::StatusPosted { slot, .. } => Some((slot, e.at)),
            _ => None,
        })
        .collect();
    // 09:30, 10:00, … 15:00: twelve half hours, each fired at its instant, none after abort.
    assert_eq!(slots.len(), 12, "{slots:?}");
    for (i, (slot, at)) in slots.iter().enumerate() {
        assert_eq!(slot, at, "slot {i} fired late");
        assert_eq!((slot.minute(), slot.second()), (if i % 2 == 0 { 30 } else { 0 }, 0));
    }
    assert_eq!(slots[0].0, t0 + chrono::Duration::minutes(23));
    let posts = s.status_posts();
    assert_eq!(posts.len(), 12, "one Slack post per slot, no more");
    // The Block Kit form rides along with the text.
    let blocks = posts[0].body["blocks"].as_array().expect("blocks");
    assert_eq!(blocks[0]["type"], "header");
    assert!(blocks[0]["text"]["text"].as_str().unwrap().starts_with("Deploy v2.4.0"));
    assert!(posts[0].text().contains("next update 10:00 UTC"), "{}", posts[0].text());
    // The ended deployment holds no timer.
    assert_eq!(s.ctx.engine.next_due().await.unwrap(), None);
}

#[tokio::test]
async fn after_an_outage_the_missed_slots_make_one_late_post() {
    let s = Slack::new().await; // 09:07
    s.say("U0DANA", "start v2.4.0").await;
    s.drain().await;
    // golive is down from 09:07 to 12:10: six slots pass unposted.
    s.ctx.clock.set(s.ctx.clock.now() + chrono::Duration::minutes(183));
    s.ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap();
    s.drain().await;
    let posts = s.status_posts();
    assert_eq!(posts.len(), 1, "one post for all missed slots");
    assert!(posts[0].text().contains("late by 10m"), "{}", posts[0].text());
    // And nothing more until the next slot.
    s.ctx.engine.submit(Input::Timers).await.map(|o| o.posts).unwrap();
    s.drain().await;
    assert_eq!(s.status_posts().len(), 1);
    let next = s.ctx.engine.next_due().await.unwrap().unwrap();
    assert_eq!((next.hour(), next.minute()), (12, 30));
}

#[tokio::test]
async fn a_429_with_retry_after_waits_that_long_and_then_delivers() {
    let s = Slack::new().await;
    s.fake.script([Reply::Status { code: 429, retry_after: Some(2) }]);
    s.say("U0DANA", "start v2.4.0").await;
    let pass = s.delivery.deliver_due().await.unwrap();
    assert_eq!(pass, Pass { sent: 0, retried: 1, failed: 0 });
    s.ctx.advance(Duration::from_millis(1900));
    assert_eq!(s.delivery.deliver_due().await.unwrap().attempted(), 0, "tried again before Retry-After");
    assert_eq!(s.fake.calls().len(), 1);
    s.ctx.advance(Duration::from_millis(100));
    assert_eq!(s.delivery.deliver_due().await.unwrap().sent, 1);
    let calls = s.fake.calls();
    assert_eq!(calls.iter().map(|c| c.answered).collect::<Vec<_>>(), [429, 200]);
    assert_eq!(calls[0].body, calls[1].body, "the retry sends the same message");
    let row = &s.ctx.store.outbox().await.unwrap()[0];
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 2));
    assert!(row.remote_id.as_deref().unwrap().starts_with("1780000000."));
}

#[tokio::test]
async fn a_burst_of_500s_is_retried_and_the_channel_reads_in_order() {
    let s = Slack::new().await;
    s.fake.script([
        Reply::Status { code: 500, retry_after: None },
        Reply::Status { code: 502, retry_after: None },
        Reply::Status { code: 503, retry_after: None },
    ]);
    s.say("U0DANA", "start v2.4.0").await;
    for n in 1..=3 {
        s.say("U0DANA", &format!("note step {n} of the runbook")).await;
    }
    let passes = s.drain().await;
    assert!(passes.iter().map(|p| p.retried).sum::<usize>() == 3, "{passes:?}");
    let delivered: Vec<String> = s.fake.delivered().iter().map(|c| c.text().to_string()).collect();
    assert_eq!(delivered.len(), 4, "{delivered:?}");
    assert!(delivered[0].contains("started deploying"));
    for n in 1..=3 {
        assert!(delivered[n].contains(&format!("step {n} of the runbook")), "{delivered:?}");
    }
    // The failures all hit the first message: nothing overtook it.
    let calls = s.fake.calls();
    assert!(calls[..3].iter().all(|c| c.text().contains("started deploying") && !c.ok));
    // Posts to one channel are paced: at least a second apart on the clock.
    let sent: Vec<String> = s.ctx.store.outbox().await.unwrap().into_iter().map(|r| r.sent_at.unwrap()).collect();
    for pair in sent.windows(2) {
        let a = DateTime::parse_from_rfc3339(&pair[0]).unwrap();
        let b = DateTime::parse_from_rfc3339(&pair[1]).unwrap();
        assert!(b - a >= chrono::Duration::seconds(1), "{sent:?}");
    }
}

#[tokio::test]
async fn a_channel_the_app_is_not_in_is_recorded_on_the_timeline_and_not_retried() {
    let s = Slack::new().await;
    s.fake.script([Reply::SlackError("not_in_channel")]);
    s.say("U0DANA", "start v2.4.0").await;
    s.say("U0DANA", "note anyone there?").await;
    s.drain().await;
    s.ctx.advance(minutes(10));
    s.drain().await;
    assert_eq!(s.fake.calls().len(), 1, "a permanent error is not retried");
    let rows = s.ctx.store.outbox().await.unwrap();
    assert!(rows.iter().all(|r| r.state == "failed"), "{rows:?}");
    let id = s.deployment().await;
    let failure = s
        .ctx
        .store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::DeliveryFailed { channel, error, messages } => Some((channel, error, messages)),
            _ => None,
        })
        .expect("a delivery_failed event");
    assert_eq!(failure.0, "slack:C0DEPLOY");
    assert!(failure.1.contains("not_in_channel") && failure.1.contains("/invite @golive"), "{}", failure.1);
    assert_eq!(failure.2, 2);
    // The chain still verifies with the failure on it.
    assert!(s.ctx.store.verify().await.unwrap().is_ok());
}

#[tokio::test]
async fn a_plan_may_post_status_on_its_own_schedule() {
    let text =
        golive::config::EXAMPLE.replace("[plans.standard]\n", "[plans.standard]\nstatus_cron = \"0 */15 * * * *\"\n");
    let config = golive::config::Config::parse(&text, "test.toml").expect("config with status_cron");
    let ctx = Ctx::new().await;
    let engine = golive::engine::Engine::new(ctx.store.clone(), Arc::new(config), Arc::new(ctx.clock.clone()));
    let channel = Channel { platform: Platform::Slack, id: "C0FAST".into() };
    engine.submit(Input::text(&channel, &Actor::new(Platform::Slack, "U0DANA"), "start v2.4.1")).await.unwrap();
    let next = engine.next_due().await.unwrap().unwrap();
    assert_eq!((next.hour(), next.minute()), (9, 15));
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(a_plan_may_post_status_on_its_own_schedule,);
