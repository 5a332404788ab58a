//! The Slack adapter. `api` talks to the Slack Web API with slack-morphism's client, at the
//! configured base URL so tests and proxies can stand in for slack.com; `inbound` and
//! `interactions` answer Slack's requests after `verify` has checked them; `groups` lets a
//! Slack user group stand for a role's members.

pub mod api;
pub mod groups;
pub mod inbound;
pub mod interactions;
pub mod verify;

pub use api::SlackApi;
