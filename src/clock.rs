//! Time, handed to everything that reads or waits on it. `SystemClock` in production, a
//! `ScaledClock` for the demo (one real second can be an hour), and a `ManualClock` that tests
//! move by hand so a 30-minute schedule runs in milliseconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once `now() >= deadline`.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;
}

pub type SharedClock = Arc<dyn Clock>;

pub fn sleep_for(clock: &dyn Clock, d: Duration) -> Sleep {
    let deadline = clock.now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    clock.sleep_until(deadline)
}

/// The time to record an event at: the clock's `now`, or the previous event's time when the
/// clock has gone back behind it (an NTP step, a VM restored), so the record never runs
/// backwards. Logged when it happens.
pub fn not_before(now: DateTime<Utc>, previous: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match previous {
        Some(previous) if previous > now => {
            tracing::warn!(
                clock = %now,
                recorded = %previous,
                behind_ms = (previous - now).num_milliseconds(),
                "the clock is behind the previous event; recording at the previous event's time"
            );
            previous
        }
        _ => now,
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// Runs `factor` times faster than real time, from `origin`.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    origin: DateTime<Utc>,
    started: Instant,
    factor: f64,
}

impl ScaledClock {
    pub fn new(origin: DateTime<Utc>, factor: f64) -> ScaledClock {
        ScaledClock { origin, started: Instant::now(), factor: factor.max(f64::MIN_POSITIVE) }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let real = self.started.elapsed().as_secs_f64();
        self.origin + chrono::Duration::microseconds((real * self.factor * 1e6) as i64)
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let simulated = (deadline - self.origin).to_std().unwrap_or(Duration::ZERO).as_secs_f64();
        let real_deadline = self.started + Duration::from_secs_f64(simulated / self.factor);
        Box::pin(tokio::time::sleep_until(real_deadline))
    }
}

/// Stands still until a test moves it; sleepers wake when it passes their deadline.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    tick: watch::Sender<DateTime<Utc>>,
    /// The deadlines of the sleeps not yet over, by sleep, so a test can tell "golive has work
    /// due that it has not woken for yet" from "golive waits for the clock".
    sleeping: Arc<Mutex<Sleepers>>,
    /// Told whenever a sleep ends.
    woke: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Sleepers {
    next_id: u64,
    deadlines: std::collections::HashMap<u64, DateTime<Utc>>,
}

/// Takes a sleep off the list when it ends or is dropped, whichever comes first.
struct Asleep {
    id: u64,
    sleeping: Arc<Mutex<Sleepers>>,
    woke: Arc<Notify>,
}

impl Drop for Asleep {
    fn drop(&mut self) {
        self.sleeping.lock().unwrap_or_else(|e| e.into_inner()).deadlines.remove(&self.id);
        self.woke.notify_waiters();
    }
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        let (tick, _) = watch::channel(start);
        ManualClock { now: Arc::new(Mutex::new(start)), tick, sleeping: Arc::default(), woke: Arc::default() }
    }

    /// How many sleeps have reached their deadline but have not yet woken: while there are
    /// any, what is due now has not run yet, and moving the clock on would make it run late.
    pub fn overdue(&self) -> usize {
        let now = self.now();
        self.sleeping.lock().unwrap_or_else(|e| e.into_inner()).deadlines.values().filter(|d| **d <= now).count()
    }

    /// Waits until every sleep that reached its deadline has woken, for at most `within` of
    /// real time (a sleep that is never polled again would otherwise hold a test forever).
    /// Tests call it before moving the clock on, so what was due runs at the time it was due.
    pub async fn settled(&self, within: Duration) {
        let give_up = Instant::now() + within;
        loop {
            let woke = self.woke.notified();
            tokio::pin!(woke);
            woke.as_mut().enable();
            if self.overdue() == 0 || tokio::time::timeout_at(give_up, woke).await.is_err() {
                return;
            }
        }
    }

    pub fn advance(&self, d: Duration) {
        let next = {
            let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
            *now += chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero());
            *now
        };
        self.tick.send_replace(next);
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
        self.tick.send_replace(t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let mut rx = self.tick.subscribe();
        let asleep = {
            let mut sleeping = self.sleeping.lock().unwrap_or_else(|e| e.into_inner());
            sleeping.next_id += 1;
            let id = sleeping.next_id;
            sleeping.deadlines.insert(id, deadline);
            Asleep { id, sleeping: self.sleeping.clone(), woke: self.woke.clone() }
        };
        Box::pin(async move {
            let _asleep = asleep;
            // wait_for checks the current value first, so a deadline already passed returns at once.
            let _ = rx.wait_for(|now| *now >= deadline).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleep_that_is_due_is_overdue_until_it_wakes_or_is_dropped() {
        let start = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().with_timezone(&Utc);
        let clock = ManualClock::new(start);
        let sleep = clock.sleep_until(start + chrono::Duration::seconds(1));
        assert_eq!(clock.overdue(), 0, "not due yet");
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.overdue(), 1, "due, and nobody has run it");
        let sleeper = tokio::spawn(sleep);
        clock.settled(Duration::from_secs(5)).await;
        assert_eq!(clock.overdue(), 0, "it woke");
        sleeper.await.unwrap();

        let forgotten = clock.sleep_until(clock.now());
        assert_eq!(clock.overdue(), 1);
        drop(forgotten);
        assert_eq!(clock.overdue(), 0, "a dropped sleep is not waited for");
        // Nothing due: settling returns at once.
        clock.settled(Duration::from_secs(5)).await;
    }
}
