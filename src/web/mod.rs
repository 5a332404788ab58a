//! The read-only web pages: `GET /` lists deployments, `GET /deployments/ID` shows one as a
//! page that updates itself from `GET /deployments/ID/events` (server-sent events), and
//! `GET /deployments/ID.md|.json|.csv` are `golive show`'s exports. Everything is rendered on
//! the server from the recorded history; nothing here writes. Access is `access`'s rule.

pub mod access;
mod chart;
mod layout;
mod list;
mod live;
mod page;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use tokio::sync::{watch, Semaphore};
use tracing::warn;

pub use access::Access;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::Deployment;
use crate::engine::Commits;
use crate::render::report;
use crate::store::{Store, StoreError};

/// What the pages read from: the database, the config (for role names and `[web]`), the
/// clock (for "now" on running deployments), and the engine's commits, which wake live
/// streams; and what keeps the streams in bounds: a cap on how many are open and a switch
/// that ends them all when golive shuts down.
#[derive(Clone)]
pub struct Pages {
    store: Store,
    config: Arc<Config>,
    clock: SharedClock,
    access: Access,
    /// Commits in this process; other processes' commits are picked up by the streams'
    /// periodic look.
    commits: Commits,
    /// One permit per open stream, `[web] max_streams` in all.
    streams: Arc<Semaphore>,
    /// Set once golive is shutting down: every stream ends and no new one opens.
    closing: Arc<watch::Sender<bool>>,
}

impl Pages {
    pub fn new(store: Store, config: Arc<Config>, clock: SharedClock, access: Access, commits: Commits) -> Pages {
        let streams = Arc::new(Semaphore::new(config.web.max_streams));
        Pages { store, config, clock, access, commits, streams, closing: Arc::new(watch::channel(false).0) }
    }

    /// Ends every open stream (their responses finish, so a graceful shutdown does not wait
    /// on pages left open) and refuses new ones with 503. For when golive stops.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// `shutdown`, which also closes the streams when it resolves: what to hand the server.
    pub fn closing_with(
        pages: Option<&Pages>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let pages = pages.cloned();
        async move {
            shutdown.await;
            if let Some(pages) = pages {
                pages.close();
            }
        }
    }
}

/// The routes, each behind the access rule.
pub fn router(pages: Pages) -> Router {
    let access = pages.access.clone();
    Router::new()
        .route("/", get(list_page))
        .route("/deployments/{file}", get(deployment))
        .route("/deployments/{id}/events", get(live::events))
        .route_layer(middleware::from_fn_with_state(access, access::guard))
        .with_state(Arc::new(pages))
}

/// Builds the pages' own links, carrying a `?token=` the page was opened with, so a reader
/// who came with a link can follow the links on the page.
#[derive(Debug, Clone, Default)]
pub struct Links {
    token: Option<String>,
}

impl Links {
    fn from_uri(uri: &Uri) -> Links {
        Links { token: access::query_token(uri.query()) }
    }

    /// `path` (which may have a query already) with the token added.
    pub fn to(&self, path: &str) -> String {
        match &self.token {
            None => path.to_string(),
            Some(token) => {
                let sep = if path.contains('?') { '&' } else { '?' };
                let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
                format!("{path}{sep}token={token}")
            }
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
enum PageError {
    NotFound(String),
    BadRequest(String),
    Store(StoreError),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchDeployment(id) => PageError::NotFound(format!("There is no deployment {id}.")),
            e => PageError::Store(e),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            PageError::Store(e) => {
                warn!(error = %e, "web page: cannot read the database");
                (StatusCode::INTERNAL_SERVER_ERROR, "The history could not be read; the log says why.".to_string())
            }
        };
        let body = layout::page(
            status.canonical_reason().unwrap_or("Error"),
            &Links::default(),
            html! { h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) } p { (message) } },
        );
        (status, html_headers(), Html(body.into_string())).into_response()
    }
}

fn html_headers() -> [(header::HeaderName, String); 1] {
    [(header::CONTENT_SECURITY_POLICY, layout::POLICY.clone())]
}

async fn list_page(State(pages): State<Arc<Pages>>, uri: Uri) -> Result<Response, PageError> {
    let links = Links::from_uri(&uri);
    let query = list::parse(uri.query()).map_err(PageError::BadRequest)?;
    let found = pages.store.deployment_page(&query).await?;
    let channels = pages.store.deployment_channels().await?;
    let body = list::render(&query, &found, &channels, pages.clock.now(), &links);
    Ok((html_headers(), Html(body.into_string())).into_response())
}

/// `/deployments/ID` and its exports `ID.md`, `ID.json`, `ID.csv`.
async fn deployment(
    State(pages): State<Arc<Pages>>,
    Path(file): Path<String>,
    uri: Uri,
) -> Result<Response, PageError> {
    let (id, format) = file.split_once('.').unwrap_or((file.as_str(), "html"));
    let not_found = || PageError::NotFound(format!("There is no page /deployments/{file}."));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    if !matches!(format, "md" | "json" | "csv") && file.contains('.') {
        return Err(not_found());
    }
    let row = pages.store.deployment_row(id).await?;
    let events = pages.store.events(id).await?;
    let fold = || Deployment::from_events(&events).map_err(|source| PageError::Store(StoreError::Fold { id, source }));
    let export = |content_type: &'static str, body: String| {
        let name = format!("attachment; filename=\"deployment-{id}.{format}\"");
        ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, name)], body).into_response()
    };
    Ok(match format {
        "md" => {
            // Role names as `golive show` gives them with this config.
            let roles = pages.config.roles.0.iter().map(|(id, r)| (id.clone(), r.name.clone())).collect();
            export("text/markdown; charset=utf-8", report::markdown(&row, &fold()?, &events, &roles))
        }
        "json" => export("application/json", report::json(&row, &events)),
        "csv" => export("text/csv; charset=utf-8", report::csv(&events)),
        _ => {
            let state = fold()?;
            let links = Links::from_uri(&uri);
            let view = page::View {
                row: &row,
                state: &state,
                events: &events,
                roles: &pages.config.roles,
                now: pages.clock.now(),
                links: &links,
            };
            (html_headers(), Html(page::render(&view).into_string())).into_response()
        }
    })
}

/// "2026-06-02 09:07 UTC"
pub(crate) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "09:07"
pub(crate) fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// A `<time>` element: machine-readable, shown as `when`.
pub(crate) fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (when(t)) } }
}

/// Parses an RFC 3339 time as the store writes it.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}
