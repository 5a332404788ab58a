//! What Slack's and Discord's request signatures have in common: a signed timestamp that must
//! be within five minutes of golive's (injected) clock, so a captured request cannot be
//! replayed later, and the reasons a request is refused. Each platform's `verify` module
//! checks its own signature scheme on top.

use chrono::{DateTime, Utc};
use thiserror::Error;

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

/// Both headers, present, with a timestamp inside the window at `now`.
pub fn fresh<'h>(
    signature: Option<&'h str>,
    timestamp: Option<&'h str>,
    headers: (&'static str, &'static str),
    now: DateTime<Utc>,
) -> Result<(&'h str, &'h str), Unverified> {
    let signature = signature.ok_or(Unverified::Missing(headers.0))?;
    let timestamp = timestamp.ok_or(Unverified::Missing(headers.1))?;
    let sent: i64 =
        timestamp.trim().parse().map_err(|_| Unverified::BadTimestamp(timestamp.chars().take(20).collect()))?;
    let skew = now.timestamp().saturating_sub(sent);
    if skew.abs() > WINDOW_SECS {
        return Err(Unverified::Stale(skew));
    }
    Ok((signature, timestamp))
}
