//! The `inbound_requests` table: requests from chat platforms already handled, keyed by the
//! platform's own id (Slack's `event_id`, a slash command's `trigger_id`), with the answer
//! given. Platforms deliver again when an answer is late; a retried delivery is answered the
//! same and has no second effect. Read when the writer's transaction begins
//! (`Store::begin_for`; `postgres::begin` on PostgreSQL) and answered in it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::{format_time, postgres, Tx};

/// The answers already given to any of `keys` (requests handled before), by key; run on the
/// write connection inside its transaction.
pub(super) fn answered(conn: &Connection, keys: &[String]) -> rusqlite::Result<HashMap<String, String>> {
    let mut answers = HashMap::new();
    if keys.is_empty() {
        return Ok(answers);
    }
    let mut select = conn.prepare_cached("SELECT response FROM inbound_requests WHERE key = ?")?;
    for key in keys {
        if let Some(response) = select.query_row([key], |r| r.get(0)).optional()? {
            answers.insert(key.clone(), response);
        }
    }
    Ok(answers)
}

impl Tx {
    /// Buffers the answers given to requests, so their retried deliveries are answered the same.
    pub fn record_answers(&mut self, answers: Vec<(String, String)>, at: DateTime<Utc>) {
        if answers.is_empty() {
            return;
        }
        let at = format_time(at);
        if self.on_postgres() {
            return self.write_pg(move |conn, _| Box::pin(postgres::record_answers(conn, answers, at)));
        }
        self.write(move |conn, _| {
            let mut insert = conn.prepare_cached(
                "INSERT INTO inbound_requests (key, received_at, response) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET response = excluded.response",
            )?;
            for (key, answer) in answers {
                insert.execute((key, &at, answer))?;
            }
            Ok(())
        });
    }
}
