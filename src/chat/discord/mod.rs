//! The Discord adapter, a thin layer over the shared engine: `interaction` reads Discord's
//! interaction payloads into the shared grammar; `inbound` answers them (over HTTP at
//! `/discord/interactions`, after `verify` has checked the Ed25519 signature, or from the
//! `gateway`); `api` posts and edits through serenity's REST client; `commands` is the
//! `/deploy` command Discord registers. No deployment logic lives here.

pub mod api;
pub mod gateway;
pub mod inbound;
pub mod interaction;
pub mod registration;
pub mod verify;

pub use api::DiscordApi;
