//! Discord's request signing: `X-Signature-Ed25519` is the hex Ed25519 signature of
//! `{X-Signature-Timestamp}{raw body}` under the application's key, checked with serenity's
//! verifier against `GOLIVE_DISCORD_PUBLIC_KEY`. Discord does not bound the timestamp; golive
//! refuses one more than five minutes from its (injected) clock, so a captured request cannot
//! be replayed later.

use chrono::{DateTime, Utc};
use serenity::interactions_endpoint::Verifier;
use thiserror::Error;

pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";
/// The environment variable that holds the application's public key.
pub const KEY_VAR: &str = "GOLIVE_DISCORD_PUBLIC_KEY";
/// Requests further than this from now are refused.
pub const WINDOW_SECS: i64 = 5 * 60;

/// Why a request was refused. For the log; the caller only gets 401.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unverified {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("{TIMESTAMP_HEADER} `{0}` is not a Unix time")]
    BadTimestamp(String),
    #[error("request timestamp is {0}s away from now (more than {WINDOW_SECS}s): a replay or a skewed clock")]
    Stale(i64),
    #[error("signature does not match")]
    Mismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{KEY_VAR} must be the application's public key from the Discord developer portal: 64 hex digits")]
pub struct BadKey;

#[derive(Clone)]
pub struct PublicKey(Verifier);

impl PublicKey {
    pub fn from_hex(hex_key: &str) -> Result<PublicKey, BadKey> {
        let bytes: [u8; 32] = hex::decode(hex_key.trim()).ok().and_then(|b| b.try_into().ok()).ok_or(BadKey)?;
        Verifier::try_new(bytes).map(PublicKey).map_err(|_| BadKey)
    }

    /// Checks a request's signature headers against its exact body bytes at `now`.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Unverified> {
        let signature = signature.ok_or(Unverified::Missing(SIGNATURE_HEADER))?;
        let timestamp = timestamp.ok_or(Unverified::Missing(TIMESTAMP_HEADER))?;
        let sent: i64 =
            timestamp.trim().parse().map_err(|_| Unverified::BadTimestamp(timestamp.chars().take(20).collect()))?;
        let skew = now.timestamp().saturating_sub(sent);
        if skew.abs() > WINDOW_SECS {
            return Err(Unverified::Stale(skew));
        }
        self.0.verify(signature, timestamp, body).map_err(|()| Unverified::Mismatch)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(…)")
    }
}
