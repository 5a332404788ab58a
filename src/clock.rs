//! Time, handed to everything that reads or waits on it. `SystemClock` in production, a
//! `ScaledClock` for the demo (one real second can be an hour), and a `ManualClock` that tests
//! move by hand so a 30-minute schedule runs in milliseconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
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
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        let (tick, _) = watch::channel(start);
        ManualClock { now: Arc::new(Mutex::new(start)), tick }
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
        Box::pin(async move {
            // wait_for checks the current value first, so a deadline already passed returns at once.
            let _ = rx.wait_for(|now| *now >= deadline).await;
        })
    }
}
