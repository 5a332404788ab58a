//! The `inbound_requests` table: requests from chat platforms already handled, keyed by the
//! platform's own id (Slack's `event_id`, a slash command's `trigger_id`), with the answer
//! given. Platforms deliver again when an answer is late; a retried delivery is answered the
//! same and has no second effect. Claimed and answered in the writer's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::{format_time, StoreError, Tx, ROWS_PER_INSERT};

impl Tx {
    /// The answers already given to any of `keys` (requests handled before), by key.
    pub async fn answered(&mut self, keys: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        let mut answers = HashMap::new();
        for chunk in keys.chunks(ROWS_PER_INSERT) {
            let mut select = QueryBuilder::new("SELECT key, response FROM inbound_requests WHERE key IN (");
            let mut list = select.separated(", ");
            for key in chunk {
                list.push_bind(*key);
            }
            select.push(")");
            let rows: Vec<(String, String)> = select.build_query_as().fetch_all(&mut *self.tx).await?;
            answers.extend(rows);
        }
        Ok(answers)
    }

    /// Records the answers given to requests, so their retried deliveries are answered the same.
    pub async fn record_answers(&mut self, answers: &[(String, String)], at: DateTime<Utc>) -> Result<(), StoreError> {
        let at = format_time(at);
        for chunk in answers.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new("INSERT INTO inbound_requests (key, received_at, response) ");
            insert.push_values(chunk, |mut b, (key, answer)| {
                b.push_bind(key).push_bind(&at).push_bind(answer);
            });
            insert.push(" ON CONFLICT (key) DO UPDATE SET response = excluded.response");
            insert.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}
