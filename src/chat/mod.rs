//! The chat adapters: where people talk to golive. Each platform translates its wire format
//! (Slack's signed forms and Web API, Discord's signed interactions and REST API, the console's
//! lines) into engine inputs and the engine's posts back into its own format; the `/deploy`
//! grammar they all accept lives here once.

pub mod console;
pub mod discord;
pub mod grammar;
pub mod signature;
pub mod slack;
