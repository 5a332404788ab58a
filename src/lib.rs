//! golive: coordinates production deployments from the team's chat channel.
//!
//! Layout: `domain` is the pure core (plans, the deployment state machine, events, progress);
//! `command` is the shared chat grammar; `config` loads plans and settings; `store` keeps the
//! chained event log in SQLite; `engine` runs one command or timer through parse → decide →
//! record → outbox; `scheduler` fires timers and `delivery` sends the outbox; `render` turns
//! state into what people read; `console`, `slack`, `server` and `web` (the read-only pages) are the adapters; `clock` is
//! the time everything waits on.

pub mod checks;
pub mod clock;
pub mod command;
pub mod config;
pub mod console;
pub mod delivery;
pub mod discord;
pub mod domain;
pub mod engine;
pub mod hooks;
pub mod https;
pub mod listen;
pub mod liveness;
pub mod metrics;
pub mod paging;
pub mod render;
pub mod runtime;
pub mod schedule;
pub mod scheduler;
pub mod server;
pub mod signature;
pub mod slack;
pub mod store;
pub mod web;
