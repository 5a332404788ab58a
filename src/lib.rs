//! golive: coordinates production deployments from the team's chat channel.
//!
//! The layers, inside out (each imports only the ones above it in this list):
//! - `domain`: the pure core — plans, the deployment state machine, events, refusals. No I/O.
//! - `config`: settings and plans loaded from TOML and checked, into domain types.
//! - `store`: the chained event log, the outbox and the timers in SQLite.
//! - `render`: what people read — text, Slack blocks, Discord embeds, reports, paging payloads.
//! - `engine`: the one way in. Every input (a typed command, a button, a timer, a check or hook
//!   result, a delivery outcome) is decided by one ordered writer and committed with its posts.
//! - `delivery`: sends the outbox through its transports (chat APIs, paging webhooks, hooks) and
//!   reports what happened back to the engine as inputs.
//! - `chat`: the platform adapters (Slack, Discord, the console) and the `/deploy` grammar they
//!   share; `workers`: the timer loop and the checks runner; `server`, `listen` and `web`: HTTP.
//! - `runtime` wires them into `golive serve`; `clock` is the time everything waits on.

pub mod chat;
pub mod clock;
pub mod commands;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod engine;
pub mod https;
pub mod listen;
pub mod liveness;
pub mod metrics;
pub mod render;
pub mod runtime;
pub mod server;
pub mod store;
pub mod web;
pub mod workers;

#[cfg(test)]
mod architecture;
