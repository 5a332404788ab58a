//! Why a command was not carried out: typed refusals, each written for the person who typed.

use thiserror::Error;

/// Why a command was not carried out. Each message is written for the person who typed it.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("there is no active deployment in this channel; start one with `/deploy start RELEASE`")]
    NoDeployment,
    #[error("{release} is already being deployed in this channel (lead: {lead}); complete or abort it first")]
    AlreadyActive { release: String, lead: String },
    #[error("deploys are frozen: {freeze}. If this cannot wait, start it with the reason on record: `/deploy start {release} override WHY`")]
    Frozen { freeze: String, release: String },
    #[error("unknown plan `{given}`{hint}; plans: {allowed}")]
    UnknownPlan { given: String, hint: String, allowed: String },
    #[error("unknown phase `{given}`{hint}; phases of this plan, in order: {allowed}")]
    UnknownPhase { given: String, hint: String, allowed: String },
    #[error("only members of {roles} may start a deployment of plan `{plan}`, and so lead it")]
    NotLeadRole { plan: String, roles: String },
    #[error("`{who}` cannot take the lead: only members of {roles} may lead a deployment of plan `{plan}`")]
    CannotLead { who: String, plan: String, roles: String },
    #[error("{who} is already the lead")]
    AlreadyLead { who: String },
    #[error("only the lead ({lead}) or members of {roles} may hand the lead over")]
    NotLeadOrLeadRole { lead: String, roles: String },
    #[error("only the lead ({lead}){roles} may {action}")]
    NotDecider { action: &'static str, lead: String, roles: String },
    #[error("`{given}` is not a time; write it as `at=2026-12-01T07:00` (in {timezone}) or with an offset, `at=2026-12-01T07:00+01:00`")]
    BadGoLive { given: String, timezone: String },
    #[error("phase `{running}` is still running; finish it with `/deploy phase done` first")]
    PhaseRunning { running: String },
    #[error("phase `{phase}` is already done")]
    PhaseAlreadyDone { phase: String },
    #[error("phases run in plan order: the next phase is `{next}`, not `{given}`")]
    OutOfOrder { given: String, next: String },
    #[error("no phase is running; start the next one with `/deploy phase start {next}`")]
    NoPhaseRunning { next: String },
    #[error("no phase is running; the next one, `{next}`, needs the lead's go first (`/deploy go`), then `/deploy phase start {next}`")]
    NoPhaseRunningBeforeGo { next: String },
    #[error("every phase is done; `/deploy complete` ends the deployment")]
    AllPhasesDone,
    #[error("phase `{phase}` cannot be completed yet: {missing}")]
    PhaseNotFinished { phase: String, missing: String },
    #[error("unknown item `{given}`{hint} in phase `{phase}`; its items: {allowed}")]
    UnknownItem { given: String, hint: String, phase: String, allowed: String },
    #[error("unknown section `{given}`{hint} in phase `{phase}`; its sections: {allowed}")]
    UnknownSection { given: String, hint: String, phase: String, allowed: String },
    #[error("every item of section `{section}` is already checked")]
    SectionDone { section: String },
    #[error("`{item}` comes after {open}: check {them} first")]
    AfterOpen { item: String, open: String, them: &'static str },
    #[error("`{item}`: {why}. Nothing was ticked: a list is ticked all or nothing")]
    InBatch { item: String, why: Box<Refusal> },
    #[error("`{item}` was already checked by {by}")]
    AlreadyChecked { item: String, by: String },
    #[error("`{item}` is not checked")]
    NotChecked { item: String },
    #[error("unknown role `{given}`{hint}; roles: {allowed}")]
    UnknownRole { given: String, hint: String, allowed: String },
    #[error("phase `{phase}` does not need a sign-off from `{role}`; it needs: {allowed}")]
    SignOffNotNeeded { role: String, phase: String, allowed: String },
    #[error("`{role}` has already signed off phase `{phase}` ({by})")]
    AlreadySignedOff { role: String, phase: String, by: String },
    #[error("only the deployment lead ({lead}) may {action}")]
    NotLead { action: &'static str, lead: String },
    #[error("only members of `{role}` ({name}) may sign off as `{role}`; you are not one")]
    NotInRole { role: String, name: String },
    #[error("only members of `{role}` (the owner of `{item}`) or the lead may {action} it")]
    NotItemOwner { item: String, role: String, action: &'static str },
    #[error("only the deployment team (the lead and members of this plan's roles) may {action}")]
    NotOnTeam { action: &'static str },
    #[error("only the lead or holders of phase `{phase}`'s roles ({roles}) may {action}")]
    NotPhaseRole { phase: String, roles: String, action: &'static str },
    #[error("only the people paged at escalation level {level} or below, or the lead, may {action}")]
    NotPaged { level: u8, action: &'static str },
    #[error("the go/no-go decision comes when every phase before `{gate}` is done; still open: {open}")]
    TooEarlyForDecision { gate: String, open: String },
    #[error("the go/no-go decision for `{gate}` was already made: phase `{gate}` has started")]
    TooLateForDecision { gate: String },
    #[error("go was already given by {by}")]
    AlreadyGo { by: String },
    #[error("phase `{phase}` needs the lead's go first (`/deploy go`){why}")]
    NeedsGo { phase: String, why: String },
    #[error("phase `{phase}` has no traffic steps; traffic moves during: {phases}")]
    NoTrafficHere { phase: String, phases: String },
    #[error("{given}% is not a traffic step of phase `{phase}`; steps: {allowed}")]
    UnknownTrafficStep { given: u8, phase: String, allowed: String },
    #[error("traffic is already at {current}%; the next steps are: {allowed}")]
    TrafficNotIncreasing { current: u8, allowed: String },
    #[error(
        "traffic is already at {current}%, the last step of phase `{phase}`; `/deploy phase done` completes the phase"
    )]
    TrafficAtLastStep { current: u8, phase: String },
    #[error("traffic steps go in plan order: the next step is {next}%, not {given}%")]
    SkippedStep { given: u8, next: u8 },
    #[error("traffic stays at {current}% for {left} more: its hold of {hold} is being watched. The lead can move on now with `/deploy traffic {given} force REASON`")]
    HoldRunning { current: u8, given: u8, left: String, hold: String },
    #[error("traffic stays at {current}% until its items are done: {open}. The lead can move on now with `/deploy traffic {given} force REASON`")]
    StepItemsOpen { current: u8, given: u8, open: String },
    #[error("nothing holds traffic at {current}%: `force` is for overriding a hold or open step items; use `/deploy traffic {given}`")]
    NothingToForce { current: u8, given: u8 },
    #[error("no escalation levels are configured (`[[escalation.levels]]`)")]
    NoEscalationLevels,
    #[error("there is no escalation level {given}; levels: 1 to {max}")]
    UnknownLevel { given: u8, max: usize },
    #[error("an escalation is already open at level {level}; `/deploy ack` it, or escalate to a higher level")]
    EscalationOpen { level: u8 },
    #[error("there is no open escalation")]
    NoEscalation,
    #[error("the escalation was already acknowledged by {by}")]
    AlreadyAcked { by: String },
    #[error("the deployment is rolling back: phases, checklist, sign-offs, decisions and traffic are closed; notes, escalation, `complete` and `abort` still work")]
    RollingBack,
    #[error("rollback is already under way")]
    AlreadyRollingBack,
    #[error("a {level} rollback is for the lead and {roles}; anyone on the team can start an immediate one")]
    NotRollbackRole { level: String, roles: String },
    #[error("unknown rollback checklist item `{given}`; the rollback checklist has: {allowed}")]
    UnknownRollbackItem { given: String, allowed: String },
    #[error("the rollback cannot be completed yet: open on the rollback checklist: {remaining}")]
    RollbackNotFinished { remaining: String },
    #[error("the deployment cannot be completed yet: phases not done: {remaining}. To end it without finishing them, the lead can `/deploy abort REASON`")]
    NotFinished { remaining: String },
    #[error("there is no open blocker #{given}; {open}")]
    UnknownBlocker { given: u32, open: String },
    #[error("status posts can be snoozed for at most {max}; `{given}` is longer")]
    SnoozeTooLong { given: String, max: String },
    #[error("the status posts are not snoozed")]
    NotSnoozed,
    #[error("nothing to remind anyone of: {why}")]
    NothingToRemind { why: String },
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
}

impl Refusal {
    /// Permission refusals are recorded on the deployment's timeline; the others change
    /// nothing and leave no trace but the reply.
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            Refusal::NotLead { .. }
                | Refusal::NotRollbackRole { .. }
                | Refusal::NotInRole { .. }
                | Refusal::NotItemOwner { .. }
                | Refusal::NotOnTeam { .. }
                | Refusal::NotPhaseRole { .. }
                | Refusal::NotPaged { .. }
                | Refusal::NotLeadRole { .. }
                | Refusal::NotLeadOrLeadRole { .. }
                | Refusal::NotDecider { .. }
        ) || matches!(self, Refusal::InBatch { why, .. } if why.is_permission())
    }
}
