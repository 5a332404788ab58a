//! A fake Discord REST API on 127.0.0.1, at the paths serenity calls (`/api/v10/…`): records
//! every call golive makes and answers as Discord would — a message object for posts and
//! edits, the registered commands, 204 for interaction callbacks — or as a test scripts it
//! (429 with `Retry-After`, 5xx, or a JSON error such as 10003 Unknown Channel).
//!
//! The calls go into the fake's `Journal` (journal.rs), which wakes the waits of the harness
//! and remembers which of golive's posts the test has been handed; the fake dereferences to it.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post, put};
use axum::Router;
use serde_json::{json, Value};

use super::journal::{self, Fake, Journal, Recorded};

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

impl Recorded for Call {
    type Reply = Reply;
    fn seq(&self) -> usize {
        self.seq
    }
    /// Posts and edits Discord accepted.
    fn is_shown(&self) -> bool {
        self.answered == 200 && (self.is_post() || self.is_edit())
    }
    fn seen(&self) -> String {
        Call::seen(self)
    }
}

/// How the fake answers the next call.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status { code: u16, retry_after: Option<f64> },
    JsonError { status: u16, code: i64 },
}

/// Posts a story says up front it does not read: what they are, and why.
pub type Skip = journal::Skip<Call>;

/// The journal of calls, and the last id (a snowflake) the fake gave.
type Shared = Journal<Call, u64>;

/// The fake Discord: its journal of calls, and the last id it gave.
pub type FakeDiscord = Fake<Call, u64>;

impl FakeDiscord {
    /// Its `url` is the base URL to put in `[discord] api_url`.
    pub async fn start() -> FakeDiscord {
        let routes = Router::new()
            .route("/api/v10/channels/{channel}/messages", post(message))
            .route("/api/v10/channels/{channel}/messages/{message}", patch(message))
            .route("/api/v10/applications/{app}/commands", put(commands))
            .route("/api/v10/applications/{app}/guilds/{guild}/commands", put(commands))
            .route("/api/v10/interactions/{id}/{token}/callback", post(callback))
            .route("/api/v10/webhooks/{app}/{token}/messages/@original", patch(original));
        FakeDiscord::serve("Discord", 900000000000000000, "/api/v10/", routes).await
    }

    /// Posts and edits Discord accepted, in order.
    pub fn messages(&self) -> Vec<Call> {
        let messages = self.peek_messages();
        self.read(&messages);
        messages
    }

    /// [`FakeDiscord::messages`] without counting them as read.
    pub fn peek_messages(&self) -> Vec<Call> {
        self.peek_calls().into_iter().filter(Call::is_shown).collect()
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
}

/// Records a call and answers it as scripted (`Err`), or takes a fresh id for it; `message_id`
/// names the message a call it accepts gave or kept, from that id, while the call is recorded.
#[allow(clippy::result_large_err)]
fn record(
    journal: &Shared,
    method: Method,
    path: String,
    headers: &HeaderMap,
    body: &Bytes,
    message_id: impl FnOnce(u64) -> Option<String>,
) -> Result<(Value, u64), Response> {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut book = journal.lock();
    let scripted = book.next_reply();
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
        book.push(|seq| Call { method, path, authorization, body, answered: code, message_id: None, seq });
        return Err(response);
    }
    book.own += 1;
    let id = book.own;
    let message_id = message_id(id);
    let call = |seq| Call { method, path, authorization, body: body.clone(), answered: 200, message_id, seq };
    book.push(call);
    Ok((body, id))
}

async fn message(
    State(journal): State<Shared>,
    method: Method,
    Path(params): Path<Vec<(String, String)>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let channel = params.iter().find(|(k, _)| k == "channel").map(|(_, v)| v.clone()).unwrap_or_default();
    // An edit keeps the message's id; a post gets the fresh one.
    let kept = params.iter().find(|(k, _)| k == "message").map(|(_, v)| v.clone());
    let named = |fresh: u64| kept.clone().unwrap_or_else(|| fresh.to_string());
    let path = uri.path().to_string();
    let (body, fresh) = match record(&journal, method, path, &headers, &body, |fresh| Some(named(fresh))) {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    let id = named(fresh);
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

async fn commands(State(journal): State<Shared>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (body, _) = match record(&journal, Method::PUT, uri.path().to_string(), &headers, &body, |_| None) {
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
async fn original(State(journal): State<Shared>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (body, fresh) = match record(&journal, Method::PATCH, uri.path().to_string(), &headers, &body, |_| None) {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    axum::Json(json!({
        "id": fresh.to_string(), "channel_id": "1", "type": 0, "content": body["content"].clone(),
        "author": { "id": "100000000000000077", "username": "golive", "discriminator": "0", "avatar": null, "bot": true, "global_name": null },
        "timestamp": "2026-06-02T09:07:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
        "components": [], "pinned": false, "flags": 64,
    }))
    .into_response()
}

async fn callback(State(journal): State<Shared>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    match record(&journal, Method::POST, uri.path().to_string(), &headers, &body, |_| None) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(failed) => failed,
    }
}
