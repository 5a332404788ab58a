//! Deploy freezes: `/deploy start` inside a freeze window is refused, naming the window and
//! how to override it; an override with a reason is accepted, recorded and announced; windows
//! are read in their own timezone, weekly or between dates, and a config that gets one wrong
//! is refused with where.

use crate::harness;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use golive::clock::ManualClock;
use golive::config::{Config, EXAMPLE};
use golive::domain::{Actor, Channel, EventKind, Platform};
use golive::engine::{Engine, Input, Message};
use golive::store::Store;

const FREEZES: &str = r#"
[[freeze]]
name = "weekend"
from = "Fri 16:00"
to = "Mon 08:00"
timezone = "Europe/Berlin"

[[freeze]]
name = "year end"
from = "2026-12-23 00:00"
to = "2027-01-04 09:00"
timezone = "America/New_York"
plans = ["standard"]
"#;

struct Desk {
    engine: Engine,
    store: Store,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn desk(at: chrono::DateTime<Utc>) -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("f.db").display())).await.unwrap();
    let config = Arc::new(Config::parse(&format!("{EXAMPLE}\n{FREEZES}"), "freeze.toml").unwrap());
    let clock = ManualClock::new(at);
    let engine = Engine::new(store.clone(), config, Arc::new(clock.clone()));
    Desk { engine, store, clock, _dir: dir }
}

fn channel() -> Channel {
    Channel { platform: Platform::Console, id: "ops".into() }
}

async fn say(d: &Desk, text: &str) -> golive::engine::Answer {
    d.engine.submit(Input::text(&channel(), &Actor::new(Platform::Console, "dana"), text)).await.unwrap()
}

/// Friday 2026-06-05 at `h:m` in Berlin (summer time, UTC+2).
fn berlin_friday(h: u32, m: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Europe::Berlin.with_ymd_and_hms(2026, 6, 5, h, m, 0).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn starting_inside_a_freeze_is_refused_and_an_override_is_recorded_and_announced() {
    let d = desk(berlin_friday(17, 30)).await;
    let refused = say(&d, "start v2.4.0").await;
    assert!(refused.refused);
    assert_eq!(
        refused.reply.as_deref(),
        Some("deploys are frozen: weekend (Fri 16:00 to Mon 08:00, Europe/Berlin). If this cannot wait, start it with the reason on record: `/deploy start v2.4.0 override WHY`")
    );
    assert!(d.store.deployments(None, 10).await.unwrap().is_empty(), "nothing recorded");

    let started = say(&d, "start v2.4.0 override payment outage needs the fix now").await;
    assert!(!started.refused, "{:?}", started.reply);
    let events = d.store.events(1).await.unwrap();
    assert!(matches!(&events[1].kind, EventKind::FreezeOverridden { freeze, reason }
        if freeze.starts_with("weekend") && reason == "payment outage needs the fix now"));
    assert_eq!(events[1].actor.key(), "console:dana");
    let announced: Vec<String> = started
        .posts
        .iter()
        .filter_map(|p| match &p.message {
            Message::Event { event, state, .. } => golive::render::text::announce(event, state, &[]),
            _ => None,
        })
        .collect();
    assert!(
        announced.iter().any(|t| t.contains("during the deploy freeze weekend") && t.contains("payment outage")),
        "{announced:?}"
    );
}

#[tokio::test]
async fn the_window_is_read_in_its_own_timezone_across_daylight_saving() {
    // 15:59 Berlin on a summer Friday is before the freeze; 16:00 is inside; Monday 08:00 is out.
    let d = desk(berlin_friday(15, 59)).await;
    assert!(!say(&d, "start v1").await.refused);
    say(&d, "abort testing the window").await;
    d.clock.set(berlin_friday(16, 0));
    assert!(say(&d, "start v2").await.refused);
    d.clock.set(chrono_tz::Europe::Berlin.with_ymd_and_hms(2026, 6, 8, 7, 59, 0).unwrap().with_timezone(&Utc));
    assert!(say(&d, "start v2").await.refused, "Monday 07:59 is still frozen");
    d.clock.set(chrono_tz::Europe::Berlin.with_ymd_and_hms(2026, 6, 8, 8, 0, 0).unwrap().with_timezone(&Utc));
    assert!(!say(&d, "start v2").await.refused, "Monday 08:00 is open again");
    // In winter (UTC+1) the freeze still starts at 16:00 Berlin time: 15:00 UTC.
    let d = desk(Utc.with_ymd_and_hms(2026, 1, 9, 15, 0, 0).unwrap()).await;
    assert!(say(&d, "start v3").await.refused);
    let d = desk(Utc.with_ymd_and_hms(2026, 1, 9, 14, 59, 0).unwrap()).await;
    assert!(!say(&d, "start v3").await.refused);
}

#[tokio::test]
async fn a_dated_freeze_applies_to_its_plans_only() {
    // Wednesday 2026-12-30 10:00 in New York: the year-end freeze, which names `standard`.
    let d =
        desk(chrono_tz::America::New_York.with_ymd_and_hms(2026, 12, 30, 10, 0, 0).unwrap().with_timezone(&Utc)).await;
    let refused = say(&d, "start v9").await;
    assert!(refused.reply.unwrap().contains("year end (2026-12-23 00:00 to 2027-01-04 09:00, America/New_York)"));
    // After it ends, starting is open (it is a Monday morning, outside the weekend freeze).
    d.clock.set(chrono_tz::America::New_York.with_ymd_and_hms(2027, 1, 4, 9, 0, 0).unwrap().with_timezone(&Utc));
    assert!(!say(&d, "start v9").await.refused);
}

#[test]
fn a_freeze_written_wrong_is_refused_with_where() {
    let cases = [
        ("from = \"Fri 16:00\"\nto = \"2026-12-01 00:00\"", "freeze[0].from", "write both ends the same way"),
        ("from = \"Fri 16:00\"\nto = \"Fri 16:00\"", "freeze[0].to", "never hold"),
        ("from = \"2026-12-02 00:00\"\nto = \"2026-12-01 00:00\"", "freeze[0].to", "must end after it starts"),
        (
            "from = \"Fri 16:00\"\nto = \"Mon 08:00\"\ntimezone = \"Mars/Olympus\"",
            "freeze[0].timezone",
            "is not a timezone",
        ),
        ("from = \"Fri 16:00\"\nto = \"Mon 08:00\"\nplans = [\"hotfix\"]", "freeze[0].plans", "no plan `hotfix`"),
    ];
    for (body, key, fragment) in cases {
        let text = format!("{EXAMPLE}\n[[freeze]]\n{body}\n");
        let err = Config::parse(&text, "f.toml").expect_err(body).to_string();
        assert!(err.contains(key) && err.contains(fragment), "{body}: {err}");
    }
}

#[tokio::test]
async fn the_override_on_discord_is_an_option_of_start() {
    let interaction = golive::chat::discord::interaction::Interaction::parse(
        serde_json::json!({ "id": "1", "type": 2, "token": "t", "data": harness::discord::command_data(
            &["start"], &[("release", serde_json::json!("v1")), ("override", serde_json::json!("outage fix"))], None) })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        interaction.invocation().request(),
        Ok(golive::commands::grammar::Request::Change(golive::domain::Command::Start {
            release: "v1".into(),
            plan: None,
            freeze_override: Some("outage fix".into()),
            at: None,
        }))
    );
}
