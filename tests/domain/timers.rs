//! Events golive records itself rather than a person: a running phase becoming overdue, status
//! posts, and refusals kept in the log.

use chrono::{Duration, TimeZone, Utc};
use golive::domain::{EventKind, Status};

use crate::desk::*;

// --- timers golive records itself ----------------------------------------------------------

#[test]
fn a_running_phase_becomes_overdue_once() {
    let mut s = Desk::started();
    assert_eq!(s.d().overdue_due(), None, "no phase running");
    s.run(LEAD, phase_start("pre-deployment"));
    let started = s.now;
    let due = started + Duration::hours(2);
    assert_eq!(s.d().overdue_due(), Some(due));
    assert_eq!(s.d().overdue(due - Duration::seconds(1)), None);
    let overdue = s.d().overdue(due).expect("overdue at the planned end");
    assert_eq!(overdue, EventKind::PhaseOverdue { phase: "pre-deployment".into(), planned_secs: 7200, owners: vec![] });
    s.now = due;
    s.record(overdue);
    assert_eq!(s.d().phases[0].overdue_at, Some(due));
    assert_eq!(s.d().overdue_due(), None, "recorded once");
    assert_eq!(s.d().overdue(due + Duration::hours(5)), None);

    // Rolling back stops the timer.
    let mut s = Desk::started();
    s.run(LEAD, phase_start("pre-deployment"));
    s.run("olga", rollback("bad"));
    assert_eq!(s.d().overdue_due(), None);
}

#[test]
fn status_posts_and_recorded_refusals_fold() {
    let mut s = Desk::started();
    let slot = Utc.with_ymd_and_hms(2026, 6, 2, 9, 30, 0).unwrap();
    s.record(EventKind::StatusPosted { slot, late_secs: 2 });
    assert_eq!(s.d().last_status_slot, Some(slot));
    let refusal = s.refuse("eve", rollback("x"));
    s.append(
        console("eve"),
        EventKind::CommandRefused { command: rollback("x").describe(), reason: refusal.to_string() },
    );
    assert_eq!(s.d().refusals, 1);
    assert_eq!(s.d().status, Status::Active);
}
