//! Refusals: which ones are about the caller (`is_permission`) rather than what they asked for.

use golive::domain::Refusal;

/// The refusals that are about who the caller is rather than what they asked for. Spelled out
/// without a wildcard, so a new `Refusal` variant does not compile until it is classified here.
pub fn about_the_caller(refusal: &Refusal) -> bool {
    match refusal {
        Refusal::NotLead { .. }
        | Refusal::NotInRole { .. }
        | Refusal::NotItemOwner { .. }
        | Refusal::NotOnTeam { .. }
        | Refusal::NotPhaseRole { .. }
        | Refusal::NotPaged { .. }
        | Refusal::NotRollbackRole { .. }
        | Refusal::NotLeadRole { .. }
        | Refusal::NotLeadOrLeadRole { .. }
        | Refusal::NotDecider { .. } => true,
        Refusal::InBatch { why, .. } => about_the_caller(why),
        Refusal::NoDeployment
        | Refusal::AlreadyActive { .. }
        | Refusal::Frozen { .. }
        | Refusal::UnknownPlan { .. }
        | Refusal::UnknownPhase { .. }
        | Refusal::PhaseRunning { .. }
        | Refusal::PhaseAlreadyDone { .. }
        | Refusal::OutOfOrder { .. }
        | Refusal::NoPhaseRunning { .. }
        | Refusal::AllPhasesDone
        | Refusal::PhaseNotFinished { .. }
        | Refusal::UnknownItem { .. }
        | Refusal::AlreadyChecked { .. }
        | Refusal::NotChecked { .. }
        | Refusal::UnknownRole { .. }
        | Refusal::SignOffNotNeeded { .. }
        | Refusal::AlreadySignedOff { .. }
        | Refusal::TooEarlyForDecision { .. }
        | Refusal::TooLateForDecision { .. }
        | Refusal::AlreadyGo { .. }
        | Refusal::NeedsGo { .. }
        | Refusal::NoTrafficHere { .. }
        | Refusal::UnknownTrafficStep { .. }
        | Refusal::TrafficNotIncreasing { .. }
        | Refusal::TrafficAtLastStep { .. }
        | Refusal::UnknownBlocker { .. }
        | Refusal::SnoozeTooLong { .. }
        | Refusal::NotSnoozed
        | Refusal::NothingToRemind { .. }
        | Refusal::NoEscalationLevels
        | Refusal::UnknownLevel { .. }
        | Refusal::EscalationOpen { .. }
        | Refusal::NoEscalation
        | Refusal::AlreadyAcked { .. }
        | Refusal::RollingBack
        | Refusal::AlreadyRollingBack
        | Refusal::UnknownRollbackItem { .. }
        | Refusal::RollbackNotFinished { .. }
        | Refusal::NotFinished { .. }
        | Refusal::Empty { .. }
        | Refusal::CannotLead { .. }
        | Refusal::AlreadyLead { .. }
        | Refusal::BadGoLive { .. }
        | Refusal::NoPhaseRunningBeforeGo { .. }
        | Refusal::UnknownSection { .. }
        | Refusal::SectionDone { .. }
        | Refusal::AfterOpen { .. }
        | Refusal::SkippedStep { .. }
        | Refusal::HoldRunning { .. }
        | Refusal::StepItemsOpen { .. }
        | Refusal::NothingToForce { .. } => false,
    }
}

/// One channel, its config, and the history of its deployment as the engine would keep it.

// --- refusals ------------------------------------------------------------------------------

#[test]
fn is_permission_is_true_exactly_for_refusals_about_the_caller() {
    let s = String::new;
    let table: Vec<(Refusal, bool)> = vec![
        (Refusal::NotLead { action: "a", lead: s() }, true),
        (Refusal::NotInRole { role: s(), name: s() }, true),
        (Refusal::NotItemOwner { item: s(), role: s(), action: "tick" }, true),
        (Refusal::NotOnTeam { action: "a" }, true),
        (Refusal::NotPhaseRole { phase: s(), roles: s(), action: "a" }, true),
        (Refusal::NotPaged { level: 1, action: "a" }, true),
        (Refusal::NoDeployment, false),
        (Refusal::AlreadyActive { release: s(), lead: s() }, false),
        (Refusal::UnknownPlan { given: s(), hint: s(), allowed: s() }, false),
        (Refusal::UnknownPhase { given: s(), hint: s(), allowed: s() }, false),
        (Refusal::PhaseRunning { running: s() }, false),
        (Refusal::PhaseAlreadyDone { phase: s() }, false),
        (Refusal::OutOfOrder { given: s(), next: s() }, false),
        (Refusal::NoPhaseRunning { next: s() }, false),
        (Refusal::AllPhasesDone, false),
        (Refusal::PhaseNotFinished { phase: s(), missing: s() }, false),
        (Refusal::UnknownItem { given: s(), hint: s(), phase: s(), allowed: s() }, false),
        (Refusal::AlreadyChecked { item: s(), by: s() }, false),
        (Refusal::NotChecked { item: s() }, false),
        (Refusal::UnknownRole { given: s(), hint: s(), allowed: s() }, false),
        (Refusal::SignOffNotNeeded { role: s(), phase: s(), allowed: s() }, false),
        (Refusal::AlreadySignedOff { role: s(), phase: s(), by: s() }, false),
        (Refusal::TooEarlyForDecision { gate: s(), open: s() }, false),
        (Refusal::TooLateForDecision { gate: s() }, false),
        (Refusal::AlreadyGo { by: s() }, false),
        (Refusal::NeedsGo { phase: s(), why: s() }, false),
        (Refusal::NoTrafficHere { phase: s(), phases: s() }, false),
        (Refusal::UnknownTrafficStep { given: 1, phase: s(), allowed: s() }, false),
        (Refusal::TrafficNotIncreasing { current: 1, allowed: s() }, false),
        (Refusal::TrafficAtLastStep { current: 1, phase: s() }, false),
        (Refusal::UnknownBlocker { given: 1, open: s() }, false),
        (Refusal::SnoozeTooLong { given: s(), max: s() }, false),
        (Refusal::NotSnoozed, false),
        (Refusal::NothingToRemind { why: s() }, false),
        (Refusal::NoEscalationLevels, false),
        (Refusal::UnknownLevel { given: 1, max: 1 }, false),
        (Refusal::EscalationOpen { level: 1 }, false),
        (Refusal::NoEscalation, false),
        (Refusal::AlreadyAcked { by: s() }, false),
        (Refusal::RollingBack, false),
        (Refusal::AlreadyRollingBack, false),
        (Refusal::NotFinished { remaining: s() }, false),
        (Refusal::Empty { what: "x" }, false),
        (Refusal::NotLeadRole { plan: s(), roles: s() }, true),
        (Refusal::NotLeadOrLeadRole { lead: s(), roles: s() }, true),
        (Refusal::NotDecider { action: "a", lead: s(), roles: s() }, true),
        (
            Refusal::InBatch {
                item: s(),
                why: Box::new(Refusal::NotItemOwner { item: s(), role: s(), action: "tick" }),
            },
            true,
        ),
        (Refusal::InBatch { item: s(), why: Box::new(Refusal::AlreadyChecked { item: s(), by: s() }) }, false),
        (Refusal::CannotLead { who: s(), plan: s(), roles: s() }, false),
        (Refusal::AlreadyLead { who: s() }, false),
        (Refusal::BadGoLive { given: s(), timezone: s() }, false),
        (Refusal::NoPhaseRunningBeforeGo { next: s() }, false),
        (Refusal::UnknownSection { given: s(), hint: s(), phase: s(), allowed: s() }, false),
        (Refusal::SectionDone { section: s() }, false),
        (Refusal::AfterOpen { item: s(), open: s(), them: "it" }, false),
        (Refusal::SkippedStep { given: 1, next: 1 }, false),
        (Refusal::HoldRunning { current: 1, given: 1, left: s(), hold: s() }, false),
        (Refusal::StepItemsOpen { current: 1, given: 1, open: s() }, false),
        (Refusal::NothingToForce { current: 1, given: 1 }, false),
    ];
    assert_eq!(table.len(), 59, "one row per variant");
    for (refusal, expected) in &table {
        assert_eq!(refusal.is_permission(), *expected, "{refusal:?}");
        assert_eq!(about_the_caller(refusal), *expected, "{refusal:?}");
        assert!(!refusal.to_string().is_empty());
    }
}
