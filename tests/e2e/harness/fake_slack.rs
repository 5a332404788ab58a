//! A fake Slack Web API on 127.0.0.1: records every call golive makes and answers as Slack
//! would, or as a test scripts it (429 with `Retry-After`, 500, `ok: false` with an error).
//! It also takes the answers golive sends to interaction response URLs (`/hooks/…`, recorded
//! as method `response_url`) and lists user groups (`usergroups.users.list`).
//!
//! The calls go into the fake's `Journal` (journal.rs), which wakes the waits of the harness
//! and remembers which of golive's posts the test has been handed; the fake dereferences to it.

#![allow(dead_code)]

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::journal::{self, Fake, Journal, Recorded};

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
    /// The message id (`ts`) the fake gave a message it accepted.
    pub ts: Option<String>,
    /// Its place among the calls, to count it as read.
    pub seq: usize,
}

impl Call {
    pub fn channel(&self) -> &str {
        self.body["channel"].as_str().unwrap_or_default()
    }
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
    /// Everything a reader would see: the text, and the text of every block (headers,
    /// sections, fields, context lines, buttons).
    pub fn seen(&self) -> String {
        let mut seen = self.text().to_string();
        let blocks = match &self.body["blocks"] {
            // Form-encoded calls carry the blocks as a JSON string.
            Value::String(s) => serde_json::from_str(s).unwrap_or_default(),
            blocks => blocks.clone(),
        };
        texts_in(&blocks, &mut seen);
        seen
    }
    /// The deployment's status post (or an edit of it), as opposed to an announcement.
    pub fn is_status(&self) -> bool {
        self.text().starts_with("STATUS ")
    }
    /// A message golive showed to people: a post, an edit, an ephemeral answer.
    pub fn is_post(&self) -> bool {
        self.ok
            && matches!(
                self.method.as_str(),
                "chat.postMessage" | "chat.update" | "chat.postEphemeral" | "response_url"
            )
    }
}

/// Every `text` string inside `value`, each on a line of its own.
fn texts_in(value: &Value, seen: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(text) if key == "text" => {
                        seen.push('\n');
                        seen.push_str(text);
                    }
                    v => texts_in(v, seen),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| texts_in(v, seen)),
        _ => {}
    }
}

/// Posts a story says up front it does not read: what they are, and why.
pub type Skip = journal::Skip<Call>;

impl Recorded for Call {
    type Reply = Reply;
    fn seq(&self) -> usize {
        self.seq
    }
    fn is_shown(&self) -> bool {
        self.is_post()
    }
    fn seen(&self) -> String {
        Call::seen(self)
    }
}

/// How the fake answers the next call.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status { code: u16, retry_after: Option<u64> },
    SlackError(&'static str),
}

/// What the fake Slack keeps besides its journal of calls.
#[derive(Default)]
pub struct Workspace {
    /// The last message id (`ts`) it gave.
    ts: u64,
    groups: HashMap<String, Vec<String>>,
    /// While set and true, calls wait before they are answered.
    gate: Option<tokio::sync::watch::Receiver<bool>>,
    /// Calls waiting at the gate.
    waiting: usize,
}

type Shared = Journal<Call, Workspace>;

/// Calls wait until this is dropped.
pub struct Held(tokio::sync::watch::Sender<bool>);

/// The fake Slack: its journal of calls, and its `Workspace`.
pub type FakeSlack = Fake<Call, Workspace>;

impl FakeSlack {
    /// Its `url` is the base URL to put in `[slack] api_url`.
    pub async fn start() -> FakeSlack {
        let routes =
            Router::new().route("/api/{method}", post(call).get(query)).route("/hooks/{*path}", post(response_url));
        FakeSlack::serve("Slack", Workspace::default(), "/api/", routes).await
    }

    /// Holds every call unanswered until the returned guard is dropped.
    pub fn hold(&self) -> Held {
        let (open, gate) = tokio::sync::watch::channel(true);
        self.lock().own.gate = Some(gate);
        Held(open)
    }

    /// How many calls wait at the gate now.
    pub fn waiting(&self) -> usize {
        self.lock().own.waiting
    }

    /// The accepted calls, without counting them as read.
    pub fn peek_delivered(&self) -> Vec<Call> {
        self.peek_calls().into_iter().filter(|c| c.ok).collect()
    }

    /// A response URL as Slack hands them out, pointing at this fake.
    pub fn response_url(&self, id: &str) -> String {
        format!("{}hooks/actions/T0TEAM/{id}", self.url.trim_end_matches("api/"))
    }

    /// Slack user group `group` has these members.
    pub fn group(&self, group: &str, members: &[&str]) {
        self.lock().own.groups.insert(group.into(), members.iter().map(|m| m.to_string()).collect());
    }

    /// Accepted calls of one method.
    pub fn accepted(&self, method: &str) -> Vec<Call> {
        let accepted: Vec<Call> = self.peek_delivered().into_iter().filter(|c| c.method == method).collect();
        self.read(&accepted);
        accepted
    }

    /// The messages Slack accepted, in the order it accepted them.
    pub fn delivered(&self) -> Vec<Call> {
        let delivered = self.peek_delivered();
        self.read(&delivered);
        delivered
    }
}

async fn call(State(journal): State<Shared>, Path(method): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
        // Form-encoded calls: keep them readable as a JSON object.
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
        Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    });
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let gate = {
        let mut book = journal.lock();
        book.own.waiting += 1;
        book.own.gate.clone()
    };
    if let Some(mut gate) = gate {
        // Released when the guard is dropped (the sender goes away) or set to false.
        let _ = gate.wait_for(|held| !*held).await;
    }
    let mut book = journal.lock();
    book.own.waiting -= 1;
    let reply = book.next_reply().or_else(|| over_limits(&method, &body).map(Reply::SlackError));
    let mut given_ts = None;
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
            book.own.ts += 1;
            let ts = match method.as_str() {
                "chat.update" => body["ts"].as_str().unwrap_or_default().to_string(),
                _ => format!("1780000000.{:06}", book.own.ts),
            };
            given_ts = Some(ts.clone());
            let channel = body["channel"].clone();
            let message = json!({ "type": "message", "text": body["text"].clone(), "user": "U0GOLIVE", "ts": ts });
            let mut answer = json!({ "ok": true, "channel": channel, "ts": ts, "message": message, "message_ts": ts });
            if method == "views.open" {
                let mut view = body["view"].clone();
                view["id"] = json!(format!("V{:06}", book.own.ts));
                view["team_id"] = json!("T0TEAM");
                view["hash"] = json!("h");
                answer = json!({ "ok": true, "view": view });
            }
            (200, true, axum::Json(answer).into_response())
        }
    };
    let at = chrono::Utc::now();
    let call = |seq| Call { method, authorization, body, answered: code, ok, at, ts: given_ts, seq };
    book.push(call);
    response
}

/// Slack's documented message limits, which it enforces by refusing the message: a text
/// object over 3,000 characters, a header over 150, more than 50 blocks (`invalid_blocks`),
/// message text over 40,000 (`msg_too_long`).
fn over_limits(method: &str, body: &Value) -> Option<&'static str> {
    if !matches!(method, "chat.postMessage" | "chat.update" | "chat.postEphemeral" | "response_url") {
        return None;
    }
    let len = |v: &Value| v.as_str().map_or(0, |s| s.encode_utf16().count());
    if len(&body["text"]) > 40_000 {
        return Some("msg_too_long");
    }
    let blocks = match &body["blocks"] {
        Value::Array(blocks) => blocks.clone(),
        // Form-encoded calls carry the blocks as a JSON string.
        Value::String(s) => serde_json::from_str(s).unwrap_or_default(),
        _ => Vec::new(),
    };
    if blocks.len() > 50 {
        return Some("invalid_blocks");
    }
    for block in &blocks {
        let too_long = match block["type"].as_str() {
            Some("header") => len(&block["text"]["text"]) > 150,
            Some("section") => {
                len(&block["text"]["text"]) > 3000
                    || block["fields"]
                        .as_array()
                        .is_some_and(|f| f.len() > 10 || f.iter().any(|f| len(&f["text"]) > 2000))
            }
            Some("context") => block["elements"].as_array().is_some_and(|e| e.iter().any(|e| len(&e["text"]) > 3000)),
            _ => false,
        };
        if too_long {
            return Some("invalid_blocks");
        }
    }
    None
}

/// GET methods: `usergroups.users.list`.
async fn query(
    State(journal): State<Shared>,
    Path(method): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let pairs = serde_urlencoded_pairs(query.unwrap_or_default().as_bytes());
    let body = Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    let mut book = journal.lock();
    let group = body["usergroup"].as_str().unwrap_or_default().to_string();
    let (ok, answer) = match (method.as_str(), book.own.groups.get(&group)) {
        ("usergroups.users.list", Some(users)) => (true, json!({ "ok": true, "users": users })),
        ("usergroups.users.list", None) => (false, json!({ "ok": false, "error": "no_such_subteam" })),
        _ => (false, json!({ "ok": false, "error": "unknown_method" })),
    };
    let at = chrono::Utc::now();
    let call = |seq| Call { method, authorization: None, body, answered: 200, ok, at, ts: None, seq };
    book.push(call);
    axum::Json(answer).into_response()
}

/// An answer to an interaction's response URL.
async fn response_url(State(journal): State<Shared>, Path(path): Path<String>, body: Bytes) -> Response {
    let mut body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    body["url_path"] = json!(path);
    let method = "response_url".to_string();
    let at = chrono::Utc::now();
    let call = |seq| Call { method, authorization: None, body, answered: 200, ok: true, at, ts: None, seq };
    journal.lock().push(call);
    axum::Json(json!({ "ok": true })).into_response()
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
