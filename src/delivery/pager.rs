//! Outbound paging: delivers the escalation events of `render::pagerduty` to each level's
//! webhook (PagerDuty's Events API v2, or anything that speaks it), adding the routing key
//! from the environment at the last moment so it is never stored. It is a `Transport` for the
//! delivery worker, under golive's own platform with the webhook URL as the "channel": the
//! worker's order, pacing, retries and give-up rules apply as they do to chat posts, and
//! trigger, acknowledge and resolve reach a webhook in the order they happened.

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use thiserror::Error;

use crate::delivery::{SendError, Sent, Transport};
use crate::store::{OutboxItem, Route};

/// The environment variable with the PagerDuty integration (routing) key.
pub const ROUTING_KEY_VAR: &str = "GOLIVE_PAGERDUTY_ROUTING_KEY";

#[derive(Debug, Error)]
pub enum PagingSetupError {
    #[error("an escalation level has a `webhook`, but {ROUTING_KEY_VAR} is not set; golive needs the integration's routing key to page")]
    NoRoutingKey,
    #[error("cannot set up HTTPS for paging webhooks: {0}")]
    Tls(std::io::Error),
}

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

pub struct PagingApi {
    client: Client<Https, Full<Bytes>>,
    routing_key: String,
}

impl PagingApi {
    pub fn new(routing_key: &str) -> Result<PagingApi, PagingSetupError> {
        let https = crate::https::connector().map_err(PagingSetupError::Tls)?;
        Ok(PagingApi {
            client: Client::builder(TokioExecutor::new()).build(https),
            routing_key: routing_key.to_string(),
        })
    }

    pub fn from_env() -> Result<PagingApi, PagingSetupError> {
        let key = std::env::var(ROUTING_KEY_VAR).ok().filter(|k| !k.trim().is_empty());
        PagingApi::new(key.ok_or(PagingSetupError::NoRoutingKey)?.trim())
    }
}

fn retry_after(value: Option<&axum::http::HeaderValue>) -> Option<Duration> {
    value?.to_str().ok()?.trim().parse().ok().map(Duration::from_secs)
}

#[async_trait]
impl Transport for PagingApi {
    fn route(&self) -> Route {
        Route::Pager
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let permanent =
            |reason: String, hint: Option<String>| SendError::Permanent { reason, channel_unusable: false, hint };
        let Some(mut event) = item.payload.event.clone() else {
            return Err(permanent("an outbox row for a webhook has no event".into(), None));
        };
        event["routing_key"] = self.routing_key.clone().into();
        let request = Request::builder()
            .method(Method::POST)
            .uri(item.destination.address())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|e| permanent(format!("`{}` is not a usable URL: {e}", item.destination.address()), None))?;
        let response = self.client.request(request).await.map_err(|e| SendError::Retry {
            reason: format!("could not reach the paging webhook: {e}"),
            after: None,
        })?;
        let status = response.status();
        let after = retry_after(response.headers().get(header::RETRY_AFTER));
        let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let said = String::from_utf8_lossy(&body).chars().take(300).collect::<String>();
        match status {
            s if s.is_success() => Ok(Sent::default()),
            StatusCode::TOO_MANY_REQUESTS => {
                Err(SendError::Retry { reason: "the paging webhook is rate limiting (429)".into(), after })
            }
            s if s.is_server_error() => {
                Err(SendError::Retry { reason: format!("the paging webhook answered HTTP {}", s.as_u16()), after })
            }
            s => Err(permanent(
                format!("the paging webhook refused the event: HTTP {} {said}", s.as_u16()),
                Some(format!("check {ROUTING_KEY_VAR} and the level's `webhook`")),
            )),
        }
    }
}
