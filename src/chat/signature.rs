//! What Slack's and Discord's signed requests have in common: a bounded body, a signature over
//! a signed timestamp that must be within five minutes of golive's (injected) clock, so a
//! captured request cannot be replayed later, a UTF-8 body, and the reasons a request is
//! refused. Each platform's `verify` module supplies its own signature scheme.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// Largest request body accepted on the chat routes; Slack's and Discord's payloads are far
/// smaller.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Requests further than this from now are refused.
pub const WINDOW_SECS: i64 = 5 * 60;

/// Why a request was refused. For the log; the caller only gets 401. Never the secret or
/// the body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unverified {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("request timestamp `{0}` is not a Unix time")]
    BadTimestamp(String),
    #[error("request timestamp is {0}s away from now (more than {WINDOW_SECS}s): a replay or a skewed clock")]
    Stale(i64),
    #[error("signature does not match")]
    Mismatch,
}

/// Why a request was turned away before anything read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not signed by the platform, or not now: 401.
    Unverified(Unverified),
    /// Signed, but not text: 400. The platforms send UTF-8, and the JSON reader would skip
    /// the fields golive does not read without checking their encoding.
    NotUtf8,
}

/// A platform's way of signing its requests.
pub trait Scheme {
    /// The headers that carry the signature and the timestamp it signs.
    const HEADERS: (&'static str, &'static str);

    /// Whether `signature` is this scheme's signature of `timestamp` and `body`.
    fn signs(&self, signature: &str, timestamp: &str, body: &[u8]) -> bool;
}

/// A header's value, when it is there and readable.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a request's signature headers against its exact body bytes at `now`.
pub fn verify<S: Scheme>(
    scheme: &S,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), Unverified> {
    let signature = signature.ok_or(Unverified::Missing(S::HEADERS.0))?;
    let timestamp = timestamp.ok_or(Unverified::Missing(S::HEADERS.1))?;
    let sent: i64 =
        timestamp.trim().parse().map_err(|_| Unverified::BadTimestamp(timestamp.chars().take(20).collect()))?;
    let skew = now.timestamp().saturating_sub(sent);
    if skew.abs() > WINDOW_SECS {
        return Err(Unverified::Stale(skew));
    }
    if scheme.signs(signature, timestamp, body) {
        Ok(())
    } else {
        Err(Unverified::Mismatch)
    }
}

/// Checks a request as it arrived, before its body is read as anything: signed with the
/// scheme's headers, within the window at `now`, and UTF-8.
pub fn check<S: Scheme>(scheme: &S, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<(), Refused> {
    let (signature, timestamp) = (header(headers, S::HEADERS.0), header(headers, S::HEADERS.1));
    verify(scheme, signature, timestamp, body, now).map_err(Refused::Unverified)?;
    std::str::from_utf8(body).map(drop).map_err(|_| Refused::NotUtf8)
}
