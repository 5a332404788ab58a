//! A fake Slack Web API on 127.0.0.1: records every call golive makes and answers as Slack
//! would, or as a test scripts it (429 with `Retry-After`, 500, `ok: false` with an error).
//! It also takes the answers golive sends to interaction response URLs (`/hooks/…`, recorded
//! as method `response_url`) and lists user groups (`usergroups.users.list`).
//!
//! Each call wakes the waits of the harness (`arrivals`), and the fake remembers which of
//! golive's posts the test has been handed, so a story can fail on a post it never read.

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
pub type Skip = (String, Arc<dyn Fn(&Call) -> bool + Send + Sync>);

/// How the fake answers the next call.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status { code: u16, retry_after: Option<u64> },
    SlackError(&'static str),
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    script: VecDeque<Reply>,
    ts: u64,
    groups: std::collections::HashMap<String, Vec<String>>,
    /// While set and true, calls wait before they are answered.
    gate: Option<tokio::sync::watch::Receiver<bool>>,
    /// Calls waiting at the gate.
    waiting: usize,
    /// The calls the test has been handed.
    read: std::collections::HashSet<usize>,
    /// Posts the test said it does not read.
    skips: Vec<Skip>,
}

impl Inner {
    fn push(&mut self, mut call: Call, arrivals: &tokio::sync::watch::Sender<usize>) {
        call.seq = self.calls.len();
        self.calls.push(call);
        arrivals.send_replace(self.calls.len());
    }
}

/// Calls wait until this is dropped.
pub struct Held(tokio::sync::watch::Sender<bool>);

#[derive(Clone)]
pub struct FakeSlack {
    /// The base URL to put in `[slack] api_url`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    arrivals: Arc<tokio::sync::watch::Sender<usize>>,
}

type Shared = (Arc<Mutex<Inner>>, Arc<tokio::sync::watch::Sender<usize>>);

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let arrivals = Arc::new(tokio::sync::watch::channel(0).0);
        let app = Router::new()
            .route("/api/{method}", post(call).get(query))
            .route("/hooks/{*path}", post(response_url))
            .with_state((inner.clone(), arrivals.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake slack");
        let url = format!("http://{}/api/", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fake slack serves") });
        FakeSlack { url, inner, arrivals }
    }

    /// The next calls get these answers, in order; after them, success.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// Holds every call unanswered until the returned guard is dropped.
    pub fn hold(&self) -> Held {
        let (open, gate) = tokio::sync::watch::channel(true);
        self.inner.lock().unwrap().gate = Some(gate);
        Held(open)
    }

    /// How many calls wait at the gate now.
    pub fn waiting(&self) -> usize {
        self.inner.lock().unwrap().waiting
    }

    /// Forgets the scripted answers not used yet: from now on, success.
    pub fn clear_script(&self) {
        self.inner.lock().unwrap().script.clear();
    }

    /// Every call, all counted as read.
    pub fn calls(&self) -> Vec<Call> {
        let calls = self.peek_calls();
        self.read(&calls);
        calls
    }

    /// Every call, without counting them as read (for the harness's waits).
    pub fn peek_calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The accepted calls, without counting them as read.
    pub fn peek_delivered(&self) -> Vec<Call> {
        self.peek_calls().into_iter().filter(|c| c.ok).collect()
    }

    /// Counts these calls as read by the test.
    pub fn read(&self, calls: &[Call]) {
        self.inner.lock().unwrap().read.extend(calls.iter().map(|c| c.seq));
    }

    /// golive's posts the test has not been handed (nor said it does not read), oldest first.
    pub fn unread_posts(&self) -> Vec<Call> {
        let inner = self.inner.lock().unwrap();
        let skipped = |c: &Call| inner.skips.iter().any(|(_, matches)| matches(c));
        inner.calls.iter().filter(|c| c.is_post() && !inner.read.contains(&c.seq) && !skipped(c)).cloned().collect()
    }

    /// From now on, posts that `matches` are not the story's to read (`what` names them, `why`
    /// says where they are read instead); they are never handed out as the next post.
    pub fn skip(&self, what: &str, why: &str, matches: impl Fn(&Call) -> bool + Send + Sync + 'static) {
        let named = format!("{what} ({why})");
        self.inner.lock().unwrap().skips.push((named, Arc::new(matches)));
    }

    /// Changes whenever a call arrives.
    pub fn arrivals(&self) -> tokio::sync::watch::Receiver<usize> {
        self.arrivals.subscribe()
    }

    /// Waits (at most `patience`, in real time) until the calls so far satisfy `done`, waking as
    /// each call arrives; for tests of a `golive serve` process, whose clock is the wall's.
    pub async fn wait_for(&self, what: &str, patience: std::time::Duration, done: impl Fn(&[Call]) -> bool) {
        let mut arrivals = self.arrivals();
        let waited = tokio::time::timeout(patience, async {
            while !done(&self.peek_calls()) {
                let _ = arrivals.changed().await;
            }
        });
        if waited.await.is_err() {
            panic!("the fake Slack never got {what} within {patience:?}; it got {:#?}", self.peek_calls());
        }
    }

    /// A response URL as Slack hands them out, pointing at this fake.
    pub fn response_url(&self, id: &str) -> String {
        format!("{}hooks/actions/T0TEAM/{id}", self.url.trim_end_matches("api/"))
    }

    /// Slack user group `group` has these members.
    pub fn group(&self, group: &str, members: &[&str]) {
        self.inner.lock().unwrap().groups.insert(group.into(), members.iter().map(|m| m.to_string()).collect());
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

async fn call(
    State((inner, arrivals)): State<Shared>,
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
    let gate = {
        let mut inner = inner.lock().unwrap();
        inner.waiting += 1;
        inner.gate.clone()
    };
    if let Some(mut gate) = gate {
        // Released when the guard is dropped (the sender goes away) or set to false.
        let _ = gate.wait_for(|held| !*held).await;
    }
    let mut inner = inner.lock().unwrap();
    inner.waiting -= 1;
    let reply = inner.script.pop_front().or_else(|| over_limits(&method, &body).map(Reply::SlackError));
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
            inner.ts += 1;
            let ts = match method.as_str() {
                "chat.update" => body["ts"].as_str().unwrap_or_default().to_string(),
                _ => format!("1780000000.{:06}", inner.ts),
            };
            given_ts = Some(ts.clone());
            let channel = body["channel"].clone();
            let message = json!({ "type": "message", "text": body["text"].clone(), "user": "U0GOLIVE", "ts": ts });
            let mut answer = json!({ "ok": true, "channel": channel, "ts": ts, "message": message, "message_ts": ts });
            if method == "views.open" {
                let mut view = body["view"].clone();
                view["id"] = json!(format!("V{:06}", inner.ts));
                view["team_id"] = json!("T0TEAM");
                view["hash"] = json!("h");
                answer = json!({ "ok": true, "view": view });
            }
            (200, true, axum::Json(answer).into_response())
        }
    };
    let call = Call { method, authorization, body, answered: code, ok, at: chrono::Utc::now(), ts: given_ts, seq: 0 };
    inner.push(call, &arrivals);
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
    State((inner, arrivals)): State<Shared>,
    Path(method): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let pairs = serde_urlencoded_pairs(query.unwrap_or_default().as_bytes());
    let body = Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    let mut inner = inner.lock().unwrap();
    let group = body["usergroup"].as_str().unwrap_or_default().to_string();
    let (ok, answer) = match (method.as_str(), inner.groups.get(&group)) {
        ("usergroups.users.list", Some(users)) => (true, json!({ "ok": true, "users": users })),
        ("usergroups.users.list", None) => (false, json!({ "ok": false, "error": "no_such_subteam" })),
        _ => (false, json!({ "ok": false, "error": "unknown_method" })),
    };
    let call = Call { method, authorization: None, body, answered: 200, ok, at: chrono::Utc::now(), ts: None, seq: 0 };
    inner.push(call, &arrivals);
    axum::Json(answer).into_response()
}

/// An answer to an interaction's response URL.
async fn response_url(State((inner, arrivals)): State<Shared>, Path(path): Path<String>, body: Bytes) -> Response {
    let mut body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    body["url_path"] = json!(path);
    let mut inner = inner.lock().unwrap();
    let method = "response_url".to_string();
    let call =
        Call { method, authorization: None, body, answered: 200, ok: true, at: chrono::Utc::now(), ts: None, seq: 0 };
    inner.push(call, &arrivals);
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
