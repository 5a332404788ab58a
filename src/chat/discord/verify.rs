//! Discord's request signing: `X-Signature-Ed25519` is the hex Ed25519 signature of
//! `{X-Signature-Timestamp}{raw body}` under the application's key, checked with serenity's
//! verifier against `GOLIVE_DISCORD_PUBLIC_KEY`. Discord does not bound the timestamp; golive
//! refuses one more than five minutes from its (injected) clock, so a captured request cannot
//! be replayed later (see `chat::signature`).

use serenity::interactions_endpoint::Verifier;
use thiserror::Error;

use crate::chat::signature::Scheme;

pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";
/// The environment variable that holds the application's public key.
pub const KEY_VAR: &str = "GOLIVE_DISCORD_PUBLIC_KEY";
pub use crate::chat::signature::{Unverified, WINDOW_SECS};

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
}

impl Scheme for PublicKey {
    const HEADERS: (&'static str, &'static str) = (SIGNATURE_HEADER, TIMESTAMP_HEADER);

    fn signs(&self, signature: &str, timestamp: &str, body: &[u8]) -> bool {
        self.0.verify(signature, timestamp, body).is_ok()
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(…)")
    }
}
