//! The timer loop of `golive serve`: sleeps on the injected clock until the earliest timer in
//! the database falls due (or a commit moves one), then has the engine fire what is due. The
//! timers live in the database, so a restart resumes them where they were.

use tokio::sync::watch;
use tracing::error;

use crate::engine::{Engine, Input};

/// Looked at this often even when no commit wakes the loop: another process sharing the
/// database may have moved a timer.
const IDLE_POLL: chrono::Duration = chrono::Duration::seconds(30);

pub async fn run(engine: Engine, mut stop: watch::Receiver<bool>) {
    let clock = engine.clock();
    let changed = engine.signals().timers_changed.clone();
    if let Err(e) = engine.submit(Input::ResumeTimers).await {
        error!(error = %e, "could not give timers to deployments opened by an older golive");
    }
    loop {
        // After a failure the due timer is still due: wait a little rather than spin on it.
        let backoff = clock.now() + chrono::Duration::seconds(5);
        let fired = engine.submit(Input::Timers).await;
        if let Err(e) = &fired {
            error!(error = %e, "firing due timers failed; retrying in 5s");
        }
        let idle = clock.now() + IDLE_POLL;
        let wake = match engine.next_due().await {
            Ok(_) if fired.is_err() => backoff,
            Ok(next) => next.map_or(idle, |t| t.min(idle)),
            Err(e) => {
                error!(error = %e, "cannot read the timers");
                backoff
            }
        };
        tokio::select! {
            _ = clock.sleep_until(wake) => {}
            _ = changed.notified() => {}
            _ = stop.changed() => break,
        }
    }
}
