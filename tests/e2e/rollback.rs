//! Rolling back, by level: an immediate rollback is open to the whole deployment team (and to
//! golive's guards), quick and planned ones to the lead and the roles the plan names
//! (operations by default). A rolled-back deployment still takes notes, escalation and its
//! rollback checklist, and completes only once the checklist's required items are done.

use crate::harness;
use std::sync::Arc;

use golive::config::{Config, EXAMPLE};
use golive::domain::{Actor, Channel, EventKind, Platform};
use golive::engine::{Answer, Engine, Input};
use golive::store::Store;

const ROLLBACK: &str = r#"
[plans.standard.rollback]
quick = ["ops", "tech-lead"]
planned = ["ops"]
items = [
  { id = "traffic-back", text = "All traffic on the previous version", role = "ops" },
  { id = "db-restored", text = "Database matches the pre-release backup", role = "backend" },
  { id = "postmortem", text = "Post-mortem scheduled", role = "tech-lead", required = false },
]
"#;

struct Desk {
    engine: Engine,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn desk(with_plan: bool) -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("r.db").display())).await.unwrap();
    let text = if with_plan {
        EXAMPLE.replacen("go_gate = \"production\"\n", &format!("go_gate = \"production\"\n{ROLLBACK}"), 1)
    } else {
        EXAMPLE.to_string()
    };
    let config = Arc::new(Config::parse(&text, "rollback.toml").unwrap());
    let clock = golive::clock::ManualClock::new(harness::start_time());
    let engine = Engine::new(store.clone(), config, Arc::new(clock));
    let d = Desk { engine, store, _dir: dir };
    assert!(!say(&d, "dana", "start v2.4.0").await.refused);
    d
}

async fn say(d: &Desk, who: &str, text: &str) -> Answer {
    let channel = Channel { platform: Platform::Console, id: "ops".into() };
    d.engine.submit(Input::text(&channel, &Actor::new(Platform::Console, who), text)).await.unwrap()
}

#[tokio::test]
async fn who_may_start_each_level_of_rollback() {
    // (who, level, allowed) with the plan's own rollback roles: quick for ops and tech-lead,
    // planned for ops; immediate and unspecified for the whole team.
    let cases = [
        ("bruno", "level=quick", false),
        ("alice", "level=quick", true),
        ("olga", "level=quick", true),
        ("dana", "level=quick", true),
        ("alice", "level=planned", false),
        ("olga", "level=planned", true),
        ("bruno", "level=immediate", true),
        ("bruno", "", true),
        ("stranger", "level=immediate", false),
    ];
    for (who, level, allowed) in cases {
        let d = desk(true).await;
        let outcome = say(&d, who, &format!("rollback {level} 5xx at 70%")).await;
        assert_eq!(!outcome.refused, allowed, "{who} {level}: {:?}", outcome.reply);
        if !allowed {
            let reply = outcome.reply.unwrap();
            let events = d.store.events(1).await.unwrap();
            assert!(
                matches!(events.last().unwrap().kind, EventKind::CommandRefused { .. }),
                "{who} {level}: the refusal is on the record"
            );
            if who == "bruno" || who == "alice" {
                assert!(reply.contains("rollback is for the lead and"), "{reply}");
            }
        }
    }
    // Without a rollback table, quick and planned are for the lead and ops.
    let d = desk(false).await;
    assert!(say(&d, "bruno", "rollback level=quick 5xx").await.refused);
    assert!(!say(&d, "olga", "rollback level=quick 5xx").await.refused);
}

#[tokio::test]
async fn a_rolled_back_deployment_takes_notes_its_checklist_and_completes_when_it_is_done() {
    let d = desk(true).await;
    assert!(!say(&d, "olga", "rollback level=quick error rate at 2%").await.refused);
    // Notes and the escalation go on.
    assert!(!say(&d, "olga", "note traffic moving back now").await.refused);
    assert!(!say(&d, "olga", "ack").await.refused, "the rollback's page is acknowledged");
    // The checklist is the rollback's, with its owners.
    let refused = say(&d, "bruno", "check traffic-back").await;
    assert!(refused.refused && refused.reply.unwrap().contains("ops"));
    let unknown = say(&d, "olga", "check tests").await;
    assert_eq!(
        unknown.reply.as_deref(),
        Some("unknown rollback checklist item `tests`; the rollback checklist has: traffic-back, db-restored, postmortem")
    );
    assert!(!say(&d, "olga", "check traffic-back").await.refused);
    let status = d
        .engine
        .submit(Input::text(
            &Channel { platform: Platform::Console, id: "ops".into() },
            &Actor::new(Platform::Console, "dana"),
            "status",
        ))
        .await
        .unwrap();
    let text = golive::render::text::status(match &status.posts[0].message {
        golive::engine::Message::Status(view) => view,
        other => panic!("{other:?}"),
    });
    assert!(text.contains("Rollback checklist 1/3 done") && text.contains("[ ] db-restored"), "{text}");
    // Each open item names its owners; the next step is the checklist, not the abandoned plan.
    assert!(
        text.contains("[ ] db-restored — Database matches the pre-release backup (Backend Team: @bruno)"),
        "{text}"
    );
    assert!(text.contains("Next: tick the rollback checklist: db-restored\n"), "{text}");
    let early = say(&d, "dana", "complete").await;
    assert_eq!(
        early.reply.as_deref(),
        Some("the rollback cannot be completed yet: open on the rollback checklist: db-restored")
    );
    assert!(!say(&d, "bruno", "check db-restored").await.refused);
    assert!(!say(&d, "dana", "complete").await.refused, "the optional post-mortem does not hold it up");
    let rows = d.store.deployments(None, 1).await.unwrap();
    assert!(rows[0].ended_at.is_some());
    assert!(d.store.verify().await.unwrap().is_ok());
    // The report has the rollback checklist as it was worked, and its level.
    let events = d.store.events(rows[0].id).await.unwrap();
    let state = golive::domain::Deployment::from_events(&events).unwrap();
    let md = golive::render::report::markdown(&rows[0], &state, &events, &Default::default());
    for expected in [
        "| Outcome | rolled back (quick rollback, 5–15 min) |",
        "## Rollback checklist\n",
        "| traffic-back | All traffic on the previous version | ops | yes | olga |",
        "| db-restored | Database matches the pre-release backup | backend | yes | bruno |",
        "| postmortem | Post-mortem scheduled | tech-lead | no | — | — |",
    ] {
        assert!(md.contains(expected), "the report lacks {expected:?}:\n{md}");
    }
}

#[test]
fn a_rollback_table_written_wrong_is_refused_with_where() {
    for (table, fragment) in [
        ("[plans.standard.rollback]\nquick = [\"opps\"]\n", "plans.standard.rollback.quick: unknown role `opps`"),
        (
            "[plans.standard.rollback]\nitems = [{ id = \"x\", text = \"X\", role = \"nobody\" }]\n",
            "plans.standard.rollback.items[0].role: unknown role `nobody`",
        ),
    ] {
        let text = EXAMPLE.replacen("go_gate = \"production\"\n", &format!("go_gate = \"production\"\n{table}"), 1);
        let err = Config::parse(&text, "r.toml").expect_err(table).to_string();
        assert!(err.contains(fragment), "{err}");
    }
}
