//! The background loops of `golive serve` that feed the engine on their own: the timer loop
//! (status posts, reminders, escalations) and the checks runner. Both wait on the injected
//! clock and hand what they find to the engine as inputs, like any request.

pub mod check_runner;
pub mod timer_loop;
