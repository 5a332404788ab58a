//! Deploy freezes: windows in which `/deploy start` is refused, weekly ("Fri 16:00" to
//! "Mon 08:00") or between two dates, each read in its own timezone so a Friday afternoon
//! freeze stays on Friday afternoon across daylight-saving changes. Whoever starts a
//! deployment inside one must say why they override it; the reason goes on the record.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq)]
pub struct Freeze {
    pub name: String,
    pub window: Window,
    pub timezone: Tz,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// Every week from one weekday and time to another (it may wrap over the weekend).
    Weekly { from: (Weekday, NaiveTime), to: (Weekday, NaiveTime) },
    /// Once, between two local date-times.
    Dated { from: NaiveDateTime, to: NaiveDateTime },
}

const WEEK_MINUTES: u32 = 7 * 24 * 60;

fn minute_of_week(day: Weekday, time: NaiveTime) -> u32 {
    day.num_days_from_monday() * 24 * 60 + time.hour() * 60 + time.minute()
}

impl Freeze {
    /// Whether deploys are frozen at `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.timezone);
        match &self.window {
            Window::Weekly { from, to } => {
                let now = minute_of_week(local.weekday(), local.time());
                let (from, to) = (minute_of_week(from.0, from.1), minute_of_week(to.0, to.1));
                if from <= to {
                    (from..to).contains(&now)
                } else {
                    now >= from || now < to
                }
            }
            Window::Dated { from, to } => {
                let instant = |t: &NaiveDateTime| self.timezone.from_local_datetime(t).earliest();
                match (instant(from), instant(to)) {
                    (Some(from), Some(to)) => from <= local && local < to,
                    _ => false,
                }
            }
        }
    }

    /// The first freeze in `freezes` that covers `at`.
    pub fn covering(freezes: &[Freeze], at: DateTime<Utc>) -> Option<&Freeze> {
        freezes.iter().find(|f| f.covers(at))
    }
}

/// A weekly time as written in config: `Fri 16:00`.
pub fn parse_weekly(s: &str) -> Option<(Weekday, NaiveTime)> {
    let (day, time) = s.trim().split_once(char::is_whitespace)?;
    let day: Weekday = day.parse().ok()?;
    let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?;
    Some((day, time))
}

/// Minutes a weekly window lasts, for checking it is not empty.
pub fn weekly_minutes(from: (Weekday, NaiveTime), to: (Weekday, NaiveTime)) -> u32 {
    (minute_of_week(to.0, to.1) + WEEK_MINUTES - minute_of_week(from.0, from.1)) % WEEK_MINUTES
}

impl fmt::Display for Freeze {
    /// `weekend freeze (Fri 16:00 to Mon 08:00, Europe/Berlin)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.window {
            Window::Weekly { from, to } => write!(
                f,
                "{} ({} {} to {} {}, {})",
                self.name,
                from.0,
                from.1.format("%H:%M"),
                to.0,
                to.1.format("%H:%M"),
                self.timezone
            ),
            Window::Dated { from, to } => write!(
                f,
                "{} ({} to {}, {})",
                self.name,
                from.format("%Y-%m-%d %H:%M"),
                to.format("%Y-%m-%d %H:%M"),
                self.timezone
            ),
        }
    }
}
