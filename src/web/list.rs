//! `GET /`: deployments newest first, filtered by status and channel, a page at a time.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::{layout, parse_time, time, Links};
use crate::render::{clean, human};
use crate::store::{DeploymentRow, ListPage, ListQuery};

/// Deployments on one page of the list.
pub const PER_PAGE: u32 = 25;

/// The statuses a deployment can have, as stored and as read.
const STATUSES: [(&str, &str); 5] = [
    ("active", "Active"),
    ("rolling_back", "Rolling back"),
    ("completed", "Completed"),
    ("rolled_back", "Rolled back"),
    ("aborted", "Aborted"),
];

pub fn status_label(status: &str) -> &str {
    STATUSES.iter().find(|(s, _)| *s == status).map_or(status, |(_, label)| label)
}

/// The list's query string: `status`, `channel`, `page` (from 1). Anything else is ignored.
pub fn parse(query: Option<&str>) -> Result<ListQuery, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| "The address's query string cannot be read.".to_string())?;
    let mut q = ListQuery { per_page: PER_PAGE, ..ListQuery::default() };
    for (key, value) in pairs {
        let value = value.trim();
        match key.as_str() {
            "status" if value.is_empty() => q.status = None,
            "status" if STATUSES.iter().any(|(s, _)| *s == value) => q.status = Some(value.to_string()),
            "status" => {
                let known: Vec<&str> = STATUSES.iter().map(|(s, _)| *s).collect();
                return Err(format!("There is no status `{}`; the statuses are {}.", clean(value), known.join(", ")));
            }
            "channel" => q.channel = (!value.is_empty()).then(|| value.to_string()),
            "page" => match value.parse::<u32>() {
                Ok(n) if (1..=1_000_000).contains(&n) => q.page = n - 1,
                _ => return Err(format!("`{}` is not a page number; pages count from 1.", clean(value))),
            },
            _ => {}
        }
    }
    Ok(q)
}

/// The list's address for `query` at zero-based page `page`.
fn href(links: &Links, query: &ListQuery, page: u32) -> String {
    let mut pairs = Vec::new();
    if let Some(s) = &query.status {
        pairs.push(("status", s.clone()));
    }
    if let Some(c) = &query.channel {
        pairs.push(("channel", c.clone()));
    }
    if page > 0 {
        pairs.push(("page", (page + 1).to_string()));
    }
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    links.to(&if q.is_empty() { "/".to_string() } else { format!("/?{q}") })
}

/// How long a deployment took, or has been running.
fn duration(row: &DeploymentRow, now: DateTime<Utc>) -> String {
    let Some(start) = parse_time(&row.started_at) else { return "—".into() };
    match row.ended_at.as_deref().and_then(parse_time) {
        Some(end) => human((end - start).to_std().unwrap_or_default()),
        None => format!("{} so far", human((now - start).to_std().unwrap_or_default())),
    }
}

pub fn lead(row: &DeploymentRow) -> String {
    clean(row.lead_name.as_deref().unwrap_or_else(|| row.lead.split_once(':').map_or(row.lead.as_str(), |(_, id)| id)))
}

pub fn render(query: &ListQuery, found: &ListPage, channels: &[String], now: DateTime<Utc>, links: &Links) -> Markup {
    let pages = (found.total + i64::from(query.per_page) - 1) / i64::from(query.per_page.max(1));
    let filtered = query.status.is_some() || query.channel.is_some();
    let body = html! {
        h1 { "Deployments" }
        p.muted {
            (found.total) @if filtered { " matching" } " deployment" @if found.total != 1 { "s" } ", newest first."
        }
        form.filters method="get" action="/" {
            @if let Some(token) = links.token.as_deref() { input type="hidden" name="token" value=(token); }
            label {
                "Status"
                select name="status" {
                    option value="" { "Any" }
                    @for (value, label) in STATUSES {
                        option value=(value) selected[query.status.as_deref() == Some(value)] { (label) }
                    }
                }
            }
            label {
                "Channel"
                select name="channel" {
                    option value="" { "Any" }
                    @for c in channels {
                        option value=(c) selected[query.channel.as_deref() == Some(c.as_str())] { (clean(c)) }
                    }
                }
            }
            button type="submit" { "Show" }
            @if filtered { a href=(links.to("/")) { "Clear filters" } }
        }
        @if found.rows.is_empty() {
            p { @if found.total == 0 { "No deployments recorded yet." } @else { "No deployments on this page." } }
        } @else {
            div.table-scroll {
                table.list {
                    caption.visually-hidden { "Deployments, newest first" }
                    thead {
                        tr {
                            th scope="col" class="num" { "#" }
                            th scope="col" { "Release" }
                            th scope="col" class="wide" { "Plan" }
                            th scope="col" class="wide" { "Channel" }
                            th scope="col" class="wide" { "Lead" }
                            th scope="col" { "Status" }
                            th scope="col" { "Progress" }
                            th scope="col" class="wide" { "Started" }
                            th scope="col" { "Duration" }
                        }
                    }
                    tbody {
                        @for row in &found.rows {
                            tr {
                                td.num { (row.id) }
                                th scope="row" { a href=(links.to(&format!("/deployments/{}", row.id))) { (clean(&row.release)) } }
                                td.wide { (clean(&row.plan)) }
                                td.wide { (row.platform) ":" (clean(&row.channel)) }
                                td.wide { (lead(row)) }
                                td { span class={ "status " (row.status) } { (status_label(&row.status)) } }
                                td {
                                    span.bar {
                                        progress max="100" value=(row.progress) aria-label={ "Progress of " (clean(&row.release)) } { (row.progress) "%" }
                                        (row.progress) "%"
                                    }
                                }
                                td.wide { @match parse_time(&row.started_at) { Some(t) => (time(t)), None => (row.started_at) } }
                                td { (duration(row, now)) }
                            }
                        }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if query.page > 0 { a href=(href(links, query, query.page - 1)) rel="prev" { "← Newer" } }
                span { "Page " (query.page + 1) " of " (pages) }
                @if i64::from(query.page) + 1 < pages { a href=(href(links, query, query.page + 1)) rel="next" { "Older →" } }
            }
        }
    };
    layout::page("Deployments", links, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_a_known_status_and_a_page_from_one() {
        let q = parse(Some("status=completed&channel=slack%3AC0DEPLOY&page=2&token=x")).unwrap();
        assert_eq!(q.status.as_deref(), Some("completed"));
        assert_eq!(q.channel.as_deref(), Some("slack:C0DEPLOY"));
        assert_eq!(q.page, 1);
        assert_eq!(parse(Some("status=&channel=")).unwrap().status, None);
        let refused = parse(Some("status=done")).unwrap_err();
        assert!(refused.contains("`done`") && refused.contains("rolled_back"), "{refused}");
        assert!(parse(Some("page=0")).is_err());
        assert!(parse(Some("page=x")).is_err());
    }

    #[test]
    fn page_links_keep_the_filters_and_the_token() {
        let q = ListQuery { status: Some("active".into()), per_page: PER_PAGE, ..ListQuery::default() };
        let links = Links { token: Some("a b".into()) };
        assert_eq!(href(&links, &q, 2), "/?status=active&page=3&token=a+b");
        assert_eq!(href(&Links::default(), &ListQuery::default(), 0), "/");
    }
}
