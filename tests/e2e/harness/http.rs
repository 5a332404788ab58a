//! A minimal HTTP/1.1 client for driving golive's routes in tests: the exact bytes given are
//! the bytes sent, which signed requests need.

#![allow(dead_code)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub async fn post(addr: &str, path: &str, content_type: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
    try_post(addr, path, content_type, headers, body).await.expect("golive answers")
}

pub async fn get(addr: &str, path: &str) -> Answer {
    try_get(addr, path).await.expect("golive answers")
}

/// A POST that may meet a server that is not there (or dies mid-request): `None` then.
pub async fn try_post(
    addr: &str,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Option<Answer> {
    let mut all = vec![("Content-Type", content_type.to_string())];
    all.extend(headers.iter().cloned());
    try_request(addr, "POST", path, &all, body).await
}

pub async fn try_get(addr: &str, path: &str) -> Option<Answer> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    exchange(addr, request.as_bytes(), b"").await
}

/// Any method, with `headers`: `None` when nothing answers.
pub async fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Option<Answer> {
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    exchange(addr, request.as_bytes(), body).await
}

async fn exchange(addr: &str, head: &[u8], body: &[u8]) -> Option<Answer> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream.write_all(head).await.ok()?;
    stream.write_all(body).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    if response.is_empty() {
        return None;
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.into() };
    Some(Answer { status, head: head.to_string(), body })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n.min(rest.len())]);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

/// A `/deploy TEXT` slash command from `user` in `channel`, as Slack sends it at Unix time
/// `now` signed with `secret`: the signing headers and the form body.
pub fn slash_command(
    secret: &str,
    now: i64,
    channel: &str,
    user: &str,
    text: &str,
    trigger: &str,
) -> ([(&'static str, String); 2], String) {
    let body = serde_urlencoded::to_string([
        ("team_id", "T0TEAM"),
        ("channel_id", channel),
        ("user_id", user),
        ("command", "/deploy"),
        ("text", text),
        ("trigger_id", trigger),
    ])
    .expect("a form encodes");
    let ts = now.to_string();
    let signature = golive::chat::slack::verify::SigningSecret::new(secret).sign(&ts, body.as_bytes());
    ([("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", signature)], body)
}
