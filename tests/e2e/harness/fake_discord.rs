//! A fake Discord REST API on 127.0.0.1, at the paths serenity calls (`/api/v10/…`): records
//! every call golive makes and answers as Discord would — a message object for posts and
//! edits, the registered commands, 204 for interaction callbacks — or as a test scripts it
//! (429 with `Retry-After`, 5xx, or a JSON error such as 10003 Unknown Channel).
//!
//! Each call wakes the waits of the harness (`arrivals`), and the fake remembers which of
//! golive's posts the test has been handed, so a story can fail on a post it never read.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post, put};
use axum::Router;
use serde_json::{json, Value};

/// One call golive made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
    pub answered: u16,
    /// The message id the fake gave or kept, for posts and edits it accepted.
    pub message_id: Option<String>,
    /// Its place among the calls, to count it as read.
    pub seq: usize,
}

impl Call {
    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or_default()
    }
    /// Everything a reader would see: the content and the embed's title, description and
    /// fields.
    pub fn seen(&self) -> String {
        let mut s = self.content().to_string();
        for embed in self.body["embeds"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\n{}\n{}",
                embed["title"].as_str().unwrap_or(""),
                embed["description"].as_str().unwrap_or("")
            ));
            for f in embed["fields"].as_array().into_iter().flatten() {
                s.push_str(&format!("\n{}: {}", f["name"].as_str().unwrap_or(""), f["value"].as_str().unwrap_or("")));
            }
        }
        s
    }
    /// The deployment's status post (or an edit of it): an embed titled after the release.
    pub fn is_status(&self) -> bool {
        self.body["embeds"][0]["title"].as_str().is_some_and(|t| t.starts_with("Deploy "))
    }
    pub fn is_post(&self) -> bool {
        self.method == Method::POST && self.path.ends_with("/messages")
    }
    pub fn is_edit(&self) -> bool {
        self.method == Method::PATCH
    }
    /// The custom ids of the message's buttons.
    pub fn buttons(&self) -> Vec<String> {
        let rows = self.body["components"].as_array().cloned().unwrap_or_default();
        rows.iter()
            .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
            .collect()
    }
}

/// How the fake answers the next call.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status { code: u16, retry_after: Option<f64> },
    JsonError { status: u16, code: i64 },
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    script: VecDeque<Reply>,
    next_id: u64,
    /// The calls the test has been handed.
    read: std::collections::HashSet<usize>,
    /// Posts the test said it does not read.
    skips: Vec<Skip>,
}

/// Posts a story says up front it does not read: what they are, and why.
pub type Skip = (String, Arc<dyn Fn(&Call) -> bool + Send + Sync>);

impl Inner {
    fn push(&mut self, mut call: Call, arrivals: &tokio::sync::watch::Sender<usize>) {
        call.seq = self.calls.len();
        self.calls.push(call);
        arrivals.send_replace(self.calls.len());
    }
}

type Shared = (Arc<Mutex<Inner>>, Arc<tokio::sync::watch::Sender<usize>>);

#[derive(Clone)]
pub struct FakeDiscord {
    /// The base URL to put in `[discord] api_url`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    arrivals: Arc<tokio::sync::watch::Sender<usize>>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let inner = Arc::new(Mutex::new(Inner { next_id: 900000000000000000, ..Inner::default() }));
        let arrivals = Arc::new(tokio::sync::watch::channel(0).0);
        let app = Router::new()
            .route("/api/v10/channels/{channel}/messages", post(message))
            .route("/api/v10/channels/{channel}/messages/{message}", patch(message))
            .route("/api/v10/applications/{app}/commands", put(commands))
            .route("/api/v10/applications/{app}/guilds/{guild}/commands", put(commands))
            .route("/api/v10/interactions/{id}/{token}/callback", post(callback))
            .route("/api/v10/webhooks/{app}/{token}/messages/@original", patch(original))
            .with_state((inner.clone(), arrivals.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake discord");
        let url = format!("http://{}/api/v10/", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fake discord serves") });
        FakeDiscord { url, inner, arrivals }
    }

    /// The next calls get these answers, in order; after them, success.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
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

    /// Posts and edits Discord accepted, in order.
    pub fn messages(&self) -> Vec<Call> {
        let messages = self.peek_messages();
        self.read(&messages);
        messages
    }

    /// [`FakeDiscord::messages`] without counting them as read.
    pub fn peek_messages(&self) -> Vec<Call> {
        self.peek_calls().into_iter().filter(|c| c.answered == 200 && (c.is_post() || c.is_edit())).collect()
    }

    pub fn posts_to(&self, channel: &str) -> Vec<Call> {
        let path = format!("/api/v10/channels/{channel}/messages");
        let posts: Vec<Call> = self.peek_messages().into_iter().filter(|c| c.path.starts_with(&path)).collect();
        self.read(&posts);
        posts
    }

    /// Whether golive has registered its commands.
    pub fn registered(&self) -> bool {
        self.peek_calls().iter().any(|c| c.method == Method::PUT)
    }

    /// Counts these calls as read by the test.
    pub fn read(&self, calls: &[Call]) {
        self.inner.lock().unwrap().read.extend(calls.iter().map(|c| c.seq));
    }

    /// golive's posts and edits the test has not been handed (nor said it does not read),
    /// oldest first.
    pub fn unread_posts(&self) -> Vec<Call> {
        let inner = self.inner.lock().unwrap();
        let shown = |c: &Call| c.answered == 200 && (c.is_post() || c.is_edit());
        let skipped = |c: &Call| inner.skips.iter().any(|(_, matches)| matches(c));
        inner.calls.iter().filter(|c| shown(c) && !inner.read.contains(&c.seq) && !skipped(c)).cloned().collect()
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
}

#[allow(clippy::result_large_err)]
fn record(
    (inner, arrivals): &Shared,
    method: Method,
    path: String,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Value, Option<u64>), Response> {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut inner = inner.lock().unwrap();
    let scripted = inner.script.pop_front();
    let failure = match scripted {
        Some(Reply::Status { code, retry_after }) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), axum::Json(json!({ "message": "try later", "code": 0 })))
                .into_response();
            if let Some(s) = retry_after {
                r.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
            }
            Some((code, r))
        }
        Some(Reply::JsonError { status, code }) => Some((
            status,
            (StatusCode::from_u16(status).unwrap(), axum::Json(json!({ "message": "scripted failure", "code": code })))
                .into_response(),
        )),
        None => None,
    };
    if let Some((code, response)) = failure {
        inner.push(Call { method, path, authorization, body, answered: code, message_id: None, seq: 0 }, arrivals);
        return Err(response);
    }
    inner.next_id += 1;
    let id = inner.next_id;
    let call = Call { method, path, authorization, body: body.clone(), answered: 200, message_id: None, seq: 0 };
    inner.push(call, arrivals);
    Ok((body, Some(id)))
}

async fn message(
    State(shared): State<Shared>,
    method: Method,
    Path(params): Path<Vec<(String, String)>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, fresh) = match record(&shared, method.clone(), uri.path().to_string(), &headers, &body) {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    let channel = params.iter().find(|(k, _)| k == "channel").map(|(_, v)| v.clone()).unwrap_or_default();
    // An edit keeps the message's id.
    let id = params
        .iter()
        .find(|(k, _)| k == "message")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| fresh.unwrap_or(1).to_string());
    shared.0.lock().unwrap().calls.last_mut().expect("recorded").message_id = Some(id.clone());
    axum::Json(json!({
        "id": id, "channel_id": channel, "type": 0, "content": body["content"].clone(),
        "author": { "id": "100000000000000077", "username": "golive", "discriminator": "0", "avatar": null, "bot": true, "global_name": null },
        "timestamp": "2026-06-02T09:07:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": body["embeds"].clone().as_array().cloned().unwrap_or_default(),
        "components": [], "pinned": false, "flags": 0,
    }))
    .into_response()
}

async fn commands(State(shared): State<Shared>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (body, _) = match record(&shared, Method::PUT, uri.path().to_string(), &headers, &body) {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    let app = uri.path().split('/').nth(4).unwrap_or("0").to_string();
    let registered: Vec<Value> = body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c["id"] = json!(format!("80000000000000000{i}"));
            c["application_id"] = json!(app);
            c["version"] = json!("1");
            c["default_member_permissions"] = Value::Null;
            c
        })
        .collect();
    axum::Json(Value::Array(registered)).into_response()
}

/// The edit that replaces a deferred answer.
async fn original(State(shared): State<Shared>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (body, fresh) = match record(&shared, Method::PATCH, uri.path().to_string(), &headers, &body) {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    axum::Json(json!({
        "id": fresh.unwrap_or(1).to_string(), "channel_id": "1", "type": 0, "content": body["content"].clone(),
        "author": { "id": "100000000000000077", "username": "golive", "discriminator": "0", "avatar": null, "bot": true, "global_name": null },
        "timestamp": "2026-06-02T09:07:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
        "components": [], "pinned": false, "flags": 64,
    }))
    .into_response()
}

async fn callback(State(shared): State<Shared>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    match record(&shared, Method::POST, uri.path().to_string(), &headers, &body) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(failed) => failed,
    }
}
