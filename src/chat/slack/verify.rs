//! Slack's v0 request signing: `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of
//! `v0:{X-Slack-Request-Timestamp}:{raw body}` under the app's signing secret, and a request
//! older (or newer) than five minutes is a replay. Checked before anything else looks at the
//! body. The window is measured on the injected clock, which is why this is not
//! slack-morphism's verifier (it reads the system clock).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::chat::signature::{self, Scheme};

pub const SIGNATURE_HEADER: &str = "x-slack-signature";
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// The environment variable that holds the signing secret.
pub const SECRET_VAR: &str = "GOLIVE_SLACK_SIGNING_SECRET";
pub use crate::chat::signature::{Unverified, WINDOW_SECS};

#[derive(Clone)]
pub struct SigningSecret(String);

impl SigningSecret {
    pub fn new(secret: impl Into<String>) -> SigningSecret {
        SigningSecret(secret.into())
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(b"v0:");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac
    }

    /// The `X-Slack-Signature` value for a body sent at `timestamp`, as Slack computes it.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        format!("v0={}", hex::encode(self.mac(timestamp, body).finalize().into_bytes()))
    }

    /// Checks a request's signature headers against its exact body bytes at `now`.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Unverified> {
        signature::verify(self, signature, timestamp, body, now)
    }
}

impl Scheme for SigningSecret {
    const HEADERS: (&'static str, &'static str) = (SIGNATURE_HEADER, TIMESTAMP_HEADER);

    fn signs(&self, signature: &str, timestamp: &str, body: &[u8]) -> bool {
        let Some(expected) = signature.strip_prefix("v0=").and_then(|h| hex::decode(h).ok()) else {
            return false;
        };
        // Constant-time comparison, so timing does not leak how much of a guess was right.
        self.mac(timestamp, body).verify_slice(&expected).is_ok()
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}
