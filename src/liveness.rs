//! Whether `golive serve`'s background workers are still running, for `/readyz`. A worker
//! holds a `Running` token while it runs; the token is dropped when the worker ends, however
//! it ends (a panic unwinds through it too), so readiness cannot claim a dead worker is alive.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Liveness {
    workers: Arc<Mutex<BTreeMap<&'static str, bool>>>,
}

/// Held by a running worker; dropping it marks the worker stopped.
pub struct Running {
    name: &'static str,
    liveness: Liveness,
}

impl Liveness {
    /// Marks `name` running until the returned token is dropped.
    pub fn start(&self, name: &'static str) -> Running {
        self.set(name, true);
        Running { name, liveness: self.clone() }
    }

    /// Workers that were started and are no longer running.
    pub fn stopped(&self) -> Vec<&'static str> {
        match self.workers.lock() {
            Ok(w) => w.iter().filter(|(_, running)| !**running).map(|(name, _)| *name).collect(),
            Err(poisoned) => poisoned.get_ref().keys().copied().collect(),
        }
    }

    fn set(&self, name: &'static str, running: bool) {
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        workers.insert(name, running);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.liveness.set(self.name, false);
    }
}
