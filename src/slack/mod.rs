//! The Slack adapter. `api` posts through the Slack Web API with slack-morphism's client,
//! at the configured base URL so tests and proxies can stand in for slack.com.

pub mod api;
pub mod inbound;
pub mod verify;

pub use api::SlackApi;
