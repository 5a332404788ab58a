//! A fake Slack Web API on 127.0.0.1: records every call golive makes and answers as Slack
//! would, or as a test scripts it (429 with `Retry-After`, 500, `ok: false` with an error).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// One call golive made, and how the fake answered it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub authorization: Option<String>,
    pub body: Value,
    pub answered: u16,
    pub ok: bool,
    /// When the call arrived, on the wall clock.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Call {
    pub fn channel(&self) -> &str {
        self.body["channel"].as_str().unwrap_or_default()
    }
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

/// How the fake answers the next call.
#[derive(Debug, Clone)]
pub enum Reply {
    Status { code: u16, retry_after: Option<u64> },
    SlackError(&'static str),
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    script: VecDeque<Reply>,
    ts: u64,
}

#[derive(Clone)]
pub struct FakeSlack {
    /// The base URL to put in `[slack] api_url`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/api/{method}", post(call)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake slack");
        let url = format!("http://{}/api/", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fake slack serves") });
        FakeSlack { url, inner }
    }

    /// The next calls get these answers, in order; after them, success.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The messages Slack accepted, in the order it accepted them.
    pub fn delivered(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.ok).collect()
    }
}

async fn call(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
        // Form-encoded calls: keep them readable as a JSON object.
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
        Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    });
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut inner = inner.lock().unwrap();
    let reply = inner.script.pop_front();
    let (code, ok, response) = match reply {
        Some(Reply::Status { code, retry_after }) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), "slow down or try later").into_response();
            if let Some(s) = retry_after {
                r.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
            }
            (code, false, r)
        }
        Some(Reply::SlackError(error)) => {
            (200, false, axum::Json(json!({ "ok": false, "error": error })).into_response())
        }
        None => {
            inner.ts += 1;
            let ts = format!("1780000000.{:06}", inner.ts);
            let channel = body["channel"].clone();
            let message = json!({ "type": "message", "text": body["text"].clone(), "user": "U0GOLIVE", "ts": ts });
            (
                200,
                true,
                axum::Json(json!({ "ok": true, "channel": channel, "ts": ts, "message": message })).into_response(),
            )
        }
    };
    inner.calls.push(Call { method, authorization, body, answered: code, ok, at: chrono::Utc::now() });
    response
}

fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}
