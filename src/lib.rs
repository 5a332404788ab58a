//! golive: coordinates production deployments from the team's chat channel.
//!
//! Layout: `domain` is the pure core (plans, the deployment state machine, events, progress);
//! `command` is the shared chat grammar; `config` loads plans and settings; `store` keeps the
//! chained event log in SQLite; `engine` runs one command or timer through parse → decide →
//! record → posts; `render` turns state into what people read; `console` and `server` are the
//! adapters; `clock` is the time everything waits on.

pub mod clock;
pub mod command;
pub mod config;
pub mod console;
pub mod domain;
pub mod engine;
pub mod render;
pub mod schedule;
pub mod server;
pub mod store;
