//! The end-to-end suites, one test binary: each module is a story told to golive through the
//! one harness (`harness`: the console, golive serve's real routes with fake Slack and Discord
//! APIs on 127.0.0.1, a real SQLite file, a manual clock), or to a real `golive` process.
//!
//! One binary rather than one per suite: each test binary links golive and its dependencies
//! again, which cost more than running the suites. `cargo test --test e2e NAME` runs one
//! story; `cargo test --test e2e slack::` one suite.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod attention;
mod attention_chat;
mod audit_keyed;
mod audit_walk;
mod authorization;
mod browser;
mod checks;
mod cli;
mod console;
mod crash;
mod discord;
mod discord_setup;
mod escalation;
mod faults;
mod freeze;
mod hooks;
mod hostile_input;
mod limits;
mod ops;
mod outbox;
mod plans;
mod replicas;
mod reports;
mod restart;
mod rollback;
mod serve;
mod slack;
mod slack_buttons;
mod slow_clients;
mod small_fixes;
mod snapshots;
mod storage_faults;
mod store;
mod two_processes;
mod two_processes_killed;
mod web;
