//! The chat adapters: where people talk to golive. Each platform translates its wire format
//! (Slack's signed forms and Web API, Discord's signed interactions and REST API, the console's
//! lines) into engine inputs and the engine's posts back into its own format. What they share
//! lives here once: the command table every adapter reads commands through (`commands`, with the
//! shape of an entry in `spec` and the readers of commands with their own syntax in `syntax`),
//! the `/deploy` grammar derived from it (`grammar`), golive's buttons and dialogs (`actions`)
//! and what pressing and submitting them does (`press`), and what signed requests have in
//! common (`signature`).

pub mod actions;
pub mod commands;
pub mod console;
pub mod discord;
pub mod grammar;
pub mod press;
pub mod signature;
pub mod slack;
pub mod spec;
pub mod syntax;
