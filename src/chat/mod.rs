//! The chat adapters: where people talk to golive. Each platform translates its wire format
//! (Slack's signed forms and Web API, Discord's signed interactions and REST API, the console's
//! lines) into engine inputs, and the engine's posts back into its own format. The language
//! they all speak — commands, buttons, dialogs — is defined once in `crate::commands`; what
//! they share here is what pressing a button or submitting a dialog does (`press`: the command,
//! or the permission probe before a dialog opens) and what signed requests have in common
//! (`signature`).

pub mod console;
pub mod discord;
pub mod press;
pub mod signature;
pub mod slack;
