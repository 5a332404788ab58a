//! Progress %, defined once and used everywhere (status posts, history, reports).
//!
//! Every phase of the plan counts as a number of steps: one per required checklist item, one
//! per required sign-off, and one for completing the phase. Progress is the share of those
//! steps that are done, rounded down, so 100 % means every phase has been completed. Optional
//! items never move progress: skipping them must not make a deployment look unfinished.

use super::deployment::Deployment;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

impl Progress {
    pub fn percent(self) -> u8 {
        if self.total == 0 {
            return 100;
        }
        (self.done * 100 / self.total) as u8
    }
}

pub fn progress(deployment: &Deployment) -> Progress {
    let mut done = 0;
    let mut total = 0;
    for (phase, state) in deployment.plan.phases.iter().zip(&deployment.phases) {
        let required = phase.items.iter().filter(|i| i.required).count();
        let steps = required + phase.signoffs.len() + 1;
        total += steps;
        if state.is_done() {
            done += steps;
        } else {
            done += phase.items.iter().filter(|i| i.required && state.checked.contains_key(&i.id)).count();
            done += phase.signoffs.iter().filter(|r| state.signoffs.contains_key(*r)).count();
        }
    }
    Progress { done, total }
}
