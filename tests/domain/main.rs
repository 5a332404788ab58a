//! The pure domain core, exhaustively: every transition of the deployment state machine and
//! every `Refusal`, driven as a story at a desk against the example config (no I/O, no
//! database). Each module checks one part of the machine; `desk` is the shared setup.

#[path = "../common/mod.rs"]
mod common;

mod desk;

mod checklist;
mod escalation;
mod event_log;
mod go_nogo;
mod lifecycle;
mod phases;
mod progress;
mod refusals;
mod rollback;
mod timers;
mod traffic;
