//! Progress: a whole release walks from 0 to 100 %, counting required items, sign-offs and
//! phase completion, never optional items.

use golive::domain::progress::Progress;
use golive::domain::{Command, EventKind, Outcome, Status};

use crate::desk::*;

// --- the whole story and progress ----------------------------------------------------------

#[test]
fn a_whole_release_walks_progress_from_0_to_100() {
    let mut s = Desk::started();
    let mut seen = vec![s.percent()];
    // Each step must move progress by exactly `delta` steps, and 100 % must mean every phase is done.
    let mut step = |s: &mut Desk, who: &str, command: Command, delta: usize| {
        let before = s.progress();
        s.run(who, command.clone());
        let after = s.progress();
        assert_eq!(after.total, 34);
        assert_eq!(after.done, before.done + delta, "{who}: {command:?}");
        let all_done = s.d().phases.iter().all(|p| p.is_done());
        assert_eq!(after.percent() == 100, all_done, "{after:?}");
        assert!(after.percent() >= *seen.last().unwrap());
        seen.push(after.percent());
    };
    let mut checkpoints = Vec::new();
    for phase in ["pre-deployment", "staging", "production", "post-deployment"] {
        let (ticks, signoffs, optional) = steps_of(phase);
        if phase == "production" {
            step(&mut s, LEAD, Command::Go, 0);
        }
        step(&mut s, LEAD, phase_start(phase), 0);
        for (who, item) in optional {
            step(&mut s, who, check(item), 0);
        }
        for (who, item) in ticks {
            step(&mut s, who, check(item), 1);
        }
        for (who, role) in signoffs {
            step(&mut s, who, signoff(role), 1);
        }
        if phase == "production" {
            for percent in [50, 70, 85, 100] {
                step(&mut s, "olga", traffic(percent), 0);
            }
        }
        step(&mut s, "eve", note(&format!("{phase} looks good")), 0);
        checkpoints.push(s.percent());
        step(&mut s, LEAD, Command::PhaseDone, 1);
        checkpoints.push(s.percent());
    }
    // 9 + 8 + 8 + 9 steps; rounded down.
    assert_eq!(seen[0], 0);
    assert_eq!(checkpoints, [23, 26, 47, 50, 70, 73, 97, 100]);
    assert_eq!(s.progress(), Progress { done: 34, total: 34 });
    assert_eq!(s.run(LEAD, Command::Complete), vec![EventKind::DeploymentCompleted]);
    assert_eq!(s.d().status, Status::Ended(Outcome::Completed));
    assert_eq!(s.percent(), 100);

    // The history is contiguous and in order, and every phase was started and completed once, in plan order.
    assert!(s.history.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1));
    assert!(s.history.windows(2).all(|w| w[0].at < w[1].at));
    let phases: Vec<String> = s
        .history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PhaseStarted { phase } => Some(format!("start {phase}")),
            EventKind::PhaseCompleted { phase } => Some(format!("done {phase}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [
            "start pre-deployment",
            "done pre-deployment",
            "start staging",
            "done staging",
            "start production",
            "done production",
            "start post-deployment",
            "done post-deployment"
        ]
    );
    assert_eq!(s.history.last().unwrap().kind, EventKind::DeploymentCompleted);
}

#[test]
fn optional_items_never_change_progress() {
    let mut s = Desk::started();
    for phase in ["pre-deployment", "staging", "production", "post-deployment"] {
        let (ticks, signoffs, optional) = steps_of(phase);
        if phase == "production" {
            s.run(LEAD, Command::Go);
        }
        s.run(LEAD, phase_start(phase));
        for (who, item) in optional {
            let before = s.progress();
            s.run(who, check(item));
            assert_eq!(s.progress(), before, "ticking optional {item}");
            s.run(who, uncheck(item));
            assert_eq!(s.progress(), before, "unticking optional {item}");
        }
        // A required item moves it, and unticking it moves it back.
        let before = s.progress();
        let (who, item) = ticks[0];
        s.run(who, check(item));
        assert_eq!(s.progress().done, before.done + 1);
        s.run(who, uncheck(item));
        assert_eq!(s.progress(), before);
        s.ticks(ticks);
        s.signoffs(signoffs);
        if phase == "production" {
            s.all_traffic();
        }
        // Every phase completes with its optional items unticked.
        s.run(LEAD, Command::PhaseDone);
    }
    assert_eq!(s.percent(), 100);
    assert!(s.d().phases.iter().enumerate().all(|(i, p)| {
        let optional: Vec<_> = s.d().plan.phases[i].items.iter().filter(|it| !it.required).collect();
        optional.len() == 1 && !p.checked.contains_key(&optional[0].id)
    }));
}

#[test]
fn progress_counts_required_items_sign_offs_and_completion_per_phase() {
    let s = Desk::started();
    let plan = &s.d().plan;
    let steps: Vec<usize> =
        plan.phases.iter().map(|p| p.items.iter().filter(|i| i.required).count() + p.signoffs.len() + 1).collect();
    assert_eq!(steps, [9, 8, 8, 9]);
    assert_eq!(Progress { done: 0, total: 0 }.percent(), 100);
    assert_eq!(Progress { done: 33, total: 34 }.percent(), 97);
    assert_eq!(Progress { done: 1, total: 3 }.percent(), 33);
}
