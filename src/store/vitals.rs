//! The figures operators watch, read straight from the database when `/metrics` is scraped:
//! how much waits in the outbox and for how long, how many deployments are running, and how
//! many of them have an escalation nobody has resolved. Each table's module answers for its
//! own figure; only the escalation count, which reads two tables, is written here.

use chrono::{DateTime, Utc};

use super::{on_readers, Route, Store, StoreError};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vitals {
    /// Pending posts per route; routes with none are left out.
    pub pending: Vec<(Route, i64)>,
    /// Seconds since the oldest pending post was queued; 0 when none waits.
    pub oldest_pending_secs: f64,
    pub active_deployments: i64,
    pub open_escalations: i64,
    /// How long the earliest timer has been due and not fired; 0 when none is due.
    pub overdue_timer_secs: f64,
}

impl Store {
    pub async fn vitals(&self, now: DateTime<Utc>) -> Result<Vitals, StoreError> {
        let pending = self.pending_by_route().await?;
        let mut vitals = Vitals::default();
        let oldest = pending.iter().map(|(_, _, created)| *created).min();
        vitals.pending = pending.into_iter().map(|(route, count, _)| (route, count)).collect();
        vitals.oldest_pending_secs = oldest.map_or(0.0, |o| (now - o).to_std().map(|d| d.as_secs_f64()).unwrap_or(0.0));
        vitals.active_deployments = self.active_deployments().await?;
        // An escalation is open from its `escalation_opened` until an `escalation_resolved`;
        // only running deployments count (ending one closes its escalation).
        let sql = "SELECT COUNT(*) FROM deployments d WHERE d.ended_at IS NULL AND (
                 SELECT e.kind FROM events e
                 WHERE e.deployment_id = d.id AND e.kind IN ('escalation_opened', 'escalation_resolved')
                 ORDER BY e.seq DESC LIMIT 1
             ) = 'escalation_opened'";
        (vitals.open_escalations,) = on_readers!(self, |pool| sqlx::query_as(sql).fetch_one(pool).await?);
        if let Some(due) = self.next_timer().await? {
            vitals.overdue_timer_secs = (now - due).to_std().map(|d| d.as_secs_f64()).unwrap_or(0.0);
        }
        Ok(vitals)
    }
}
