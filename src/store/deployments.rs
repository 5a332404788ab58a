//! The `deployments` table: one row per deployment, projected from its events for listing
//! (`golive history`, the web pages) and for finding a channel's open deployment. The events
//! are the record; this row is rewritten from the folded state whenever they change it, and
//! `golive audit verify` checks it against them. A unique index keeps one open deployment per
//! channel in the database itself, not only in code. Read-only queries take no write lock.

use rusqlite::OptionalExtension;

use super::events::Loaded;
use super::{format_time, on_readers, postgres, Store, StoreError, Tx};
use crate::domain::progress::progress;
use crate::domain::{Channel, Deployment};

const OPEN_IN_CHANNEL: &str = "SELECT id FROM deployments WHERE platform = ? AND channel = ? AND ended_at IS NULL";

/// A deployment as listed by `golive history`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: i64,
    pub release: String,
    pub plan: String,
    pub platform: String,
    pub channel: String,
    pub lead: String,
    pub lead_name: Option<String>,
    pub status: String,
    pub progress: i64,
    pub started_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
}

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
    /// The newest deployments first; `channel` is a channel id or `platform:id`, as
    /// `golive history` prints it.
    pub async fn deployments(&self, channel: Option<&str>, limit: i64) -> Result<Vec<DeploymentRow>, StoreError> {
        let sql = "SELECT * FROM deployments WHERE ($1 IS NULL OR channel = $1 OR platform || ':' || channel = $1) \
                   ORDER BY id DESC LIMIT $2";
        Ok(on_readers!(self, |pool| sqlx::query_as::<_, DeploymentRow>(sql)
            .bind(channel)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    pub async fn deployment_row(&self, id: i64) -> Result<DeploymentRow, StoreError> {
        let sql = "SELECT * FROM deployments WHERE id = $1";
        on_readers!(self, |pool| sqlx::query_as::<_, DeploymentRow>(sql).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NoSuchDeployment(id))
    }

    /// The channel's open deployment, for reading (no write lock).
    pub async fn open_deployment(&self, channel: &Channel) -> Result<Option<Loaded>, StoreError> {
        let sql = "SELECT id FROM deployments WHERE platform = $1 AND channel = $2 AND ended_at IS NULL";
        let id: Option<(i64,)> = on_readers!(self, |pool| sqlx::query_as(sql)
            .bind(channel.platform.as_str())
            .bind(&channel.id)
            .fetch_optional(pool)
            .await?);
        match id {
            Some((id,)) => self.load(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Every deployment that has not ended, for the scheduler.
    pub async fn open_deployments(&self) -> Result<Vec<Loaded>, StoreError> {
        let sql = "SELECT id FROM deployments WHERE ended_at IS NULL ORDER BY id";
        let ids: Vec<(i64,)> = on_readers!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(self.load(id).await?);
        }
        Ok(out)
    }

    /// Deployments matching `query`, newest first, one page of them (the web list).
    pub async fn deployment_page(&self, query: &ListQuery) -> Result<ListPage, StoreError> {
        // `platform:channel`; the channel id itself may hold a colon.
        let channel = query.channel.as_deref().map(|c| c.split_once(':').unwrap_or(("", c)));
        let (platform, channel) = (channel.map(|c| c.0), channel.map(|c| c.1));
        let filter = "WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR (platform = $2 AND channel = $3))";
        let count = format!("SELECT COUNT(*) FROM deployments {filter}");
        let select = format!("SELECT * FROM deployments {filter} ORDER BY id DESC LIMIT $4 OFFSET $5");
        let (limit, offset) = (i64::from(query.per_page), i64::from(query.page) * i64::from(query.per_page));
        let ((total,), rows): ((i64,), Vec<DeploymentRow>) = on_readers!(self, |pool| {
            let total = sqlx::query_as(&count).bind(&query.status).bind(platform).bind(channel).fetch_one(pool).await?;
            let rows = sqlx::query_as(&select)
                .bind(&query.status)
                .bind(platform)
                .bind(channel)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            (total, rows)
        });
        Ok(ListPage { rows, total })
    }

    /// Every channel that has had a deployment, as `platform:channel`, for the list's filter.
    pub async fn deployment_channels(&self) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT DISTINCT platform || ':' || channel AS c FROM deployments ORDER BY c LIMIT 500";
        let rows: Vec<(String,)> = on_readers!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// How many deployments have not ended.
    pub(super) async fn active_deployments(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM deployments WHERE ended_at IS NULL";
        let (active,) = on_readers!(self, |pool| sqlx::query_as(sql).fetch_one(pool).await?);
        Ok(active)
    }
}

impl Tx {
    /// The channel's open deployment, folded from its events.
    pub async fn open_deployment(&mut self, channel: &Channel) -> Result<Option<Loaded>, StoreError> {
        let Some(id) = self.open_in_channel(channel).await? else { return Ok(None) };
        self.load(id).await.map(Some)
    }

    /// The id of the channel's open deployment, if any.
    pub async fn open_in_channel(&mut self, channel: &Channel) -> Result<Option<i64>, StoreError> {
        let (platform, id) = (channel.platform.as_str(), channel.id.clone());
        if self.on_postgres() {
            return self
                .call_pg(move |conn| Box::pin(async move { postgres::open_in_channel(conn, platform, &id).await }))
                .await;
        }
        self.call(move |conn| {
            Ok(conn.prepare_cached(OPEN_IN_CHANNEL)?.query_row((platform, id), |r| r.get(0)).optional()?)
        })
        .await
    }

    /// Opens the listing row of a new deployment and returns its id; `ChannelTaken` when the
    /// channel has an open deployment already. Its own call: the id is SQLite's to give, and
    /// the unique index must refuse a second open deployment before anything is decided on it.
    pub async fn insert_deployment(&mut self, d: &Deployment) -> Result<i64, StoreError> {
        let row = (
            d.release.clone(),
            d.plan.id.clone(),
            d.platform.as_str(),
            d.channel.clone(),
            d.lead.key(),
            d.lead.name.clone(),
            d.status.as_str(),
            i64::from(progress(d).percent()),
            format_time(d.started_at),
            format_time(d.updated_at),
            d.ended_at().map(format_time),
        );
        if self.on_postgres() {
            return self.call_pg(move |conn| Box::pin(postgres::insert_deployment(conn, row))).await;
        }
        self.call(move |conn| {
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO deployments (release, plan, platform, channel, lead, lead_name, status, progress, started_at, updated_at, ended_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(row);
            match inserted {
                Ok(_) => Ok(conn.last_insert_rowid()),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                    Err(StoreError::ChannelTaken)
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Buffers the rewrite of the listing rows of the deployments a batch changed, from their
    /// folded states.
    pub fn update_listings(&mut self, changed: &[(i64, &Deployment)]) {
        if changed.is_empty() {
            return;
        }
        let rows: Vec<_> = changed
            .iter()
            .map(|(id, d)| {
                (
                    *id,
                    d.status.as_str(),
                    i64::from(progress(d).percent()),
                    format_time(d.updated_at),
                    d.ended_at().map(format_time),
                    // The lead may have been handed over (`/deploy lead`).
                    d.lead.key(),
                    d.lead.name.clone(),
                )
            })
            .collect();
        if self.on_postgres() {
            return self.write_pg(move |conn, _| Box::pin(postgres::update_listings(conn, rows)));
        }
        self.write(move |conn, _| {
            let mut update = conn.prepare_cached(
                "UPDATE deployments SET status = ?2, progress = ?3, updated_at = ?4, ended_at = ?5, lead = ?6,
                 lead_name = ?7 WHERE id = ?1",
            )?;
            for row in rows {
                update.execute(row)?;
            }
            Ok(())
        });
    }
}
