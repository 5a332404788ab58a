//! What the web pages read, and nothing else: the deployment list one page at a time with
//! its filters, the channels to filter by, and a deployment's events after a given one (for
//! the live stream). Read-only; none of it takes the write lock.

use sqlx::QueryBuilder;

use super::{decode, DeploymentRow, Store, StoreError, StoredEvent};
use crate::domain::Event;

/// Which deployments a list page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// A `deployments.status` word (`active`, `completed`, …).
    pub status: Option<String>,
    /// `platform:channel`, as the list shows it.
    pub channel: Option<String>,
    /// Zero-based.
    pub page: u32,
    pub per_page: u32,
}

/// One page of the list and how many deployments match in all.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub rows: Vec<DeploymentRow>,
    pub total: i64,
}

impl Store {
    /// Deployments matching `query`, newest first, one page of them.
    pub async fn deployment_page(&self, query: &ListQuery) -> Result<ListPage, StoreError> {
        fn filtered<'a>(select: &str, query: &'a ListQuery) -> QueryBuilder<'a, sqlx::Sqlite> {
            let mut sql = QueryBuilder::new(select);
            sql.push(" WHERE 1 = 1");
            if let Some(status) = &query.status {
                sql.push(" AND status = ").push_bind(status);
            }
            if let Some(channel) = &query.channel {
                // `platform:channel`; the channel id itself may hold a colon.
                let (platform, id) = channel.split_once(':').unwrap_or(("", channel.as_str()));
                sql.push(" AND platform = ").push_bind(platform).push(" AND channel = ").push_bind(id);
            }
            sql
        }
        let (total,): (i64,) =
            filtered("SELECT COUNT(*) FROM deployments", query).build_query_as().fetch_one(self.pool()).await?;
        let mut select = filtered("SELECT * FROM deployments", query);
        select
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.per_page))
            .push(" OFFSET ")
            .push_bind(i64::from(query.page) * i64::from(query.per_page));
        let rows = select.build_query_as::<DeploymentRow>().fetch_all(self.pool()).await?;
        Ok(ListPage { rows, total })
    }

    /// Every channel that has had a deployment, as `platform:channel`, for the list's filter.
    pub async fn deployment_channels(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT platform || ':' || channel AS c FROM deployments ORDER BY c LIMIT 500")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Deployment `id`'s events after sequence number `after`, in order.
    pub async fn events_after(&self, id: i64, after: i64) -> Result<Vec<Event>, StoreError> {
        let rows =
            sqlx::query_as::<_, StoredEvent>("SELECT * FROM events WHERE deployment_id = ? AND seq > ? ORDER BY seq")
                .bind(id)
                .bind(after)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(decode).collect()
    }

    /// The sequence number of deployment `id`'s last event (0 when it has none).
    pub async fn last_seq(&self, id: i64) -> Result<i64, StoreError> {
        let (seq,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM events WHERE deployment_id = ?")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(seq.unwrap_or(0))
    }
}
