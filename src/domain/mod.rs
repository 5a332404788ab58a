//! The pure domain core: plans, the deployment state machine, its events and progress.
//!
//! Nothing in here knows about Slack, Discord, SQL or the clock on the wall. Commands go in,
//! events (or a refusal) come out, and the state of a deployment is only ever the fold of its
//! events, so the history and the state can never disagree.

pub mod actor;
pub mod checks;
pub mod decide;
pub mod deployment;
pub mod digest;
pub mod event;
pub mod freeze;
pub mod oncall;
pub mod plan;
pub mod progress;
pub mod refusal;
pub mod timeline;
pub mod words;

pub use actor::{Actor, Platform};
pub use decide::{decide, Channel, Command, Refusal, Rules};
pub use deployment::{Blocker, Deployment, Outcome, PhaseState, Snooze, Status};
pub use event::{Event, EventKind, RollbackLevel};
pub use freeze::{Freeze, Window};
pub use oncall::{EscalationLevel, OnCall, OnCallReason, Override, Rotation, Severity, Trigger, Triggers};
pub use plan::{Item, Member, Phase, Plan, Role, Roles};
