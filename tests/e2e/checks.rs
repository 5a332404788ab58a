//! Automatic checks: a fake health endpoint and a fake Prometheus on 127.0.0.1 stand in for
//! the service being deployed. A check ticks its item once the endpoint recovers (and shows
//! what it measured while it fails); a guard breached during a traffic step escalates, or,
//! with `auto_rollback`, rolls back at once and runs the rollback hook exactly once.

use crate::harness;
use crate::harness::Ctx;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::{PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, STAGING_SIGNOFFS, STAGING_TICKS};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use golive::domain::{EventKind, RollbackLevel};
use serde_json::json;

/// What the service under deployment answers: the health status and the error rate.
#[derive(Clone)]
struct Service {
    health: Arc<Mutex<u16>>,
    error_rate: Arc<Mutex<f64>>,
    queries: Arc<Mutex<Vec<String>>>,
}

async fn health(State(s): State<Service>) -> (StatusCode, &'static str) {
    let code = *s.health.lock().unwrap();
    (StatusCode::from_u16(code).unwrap(), if code == 200 { "ok" } else { "starting" })
}

async fn query(
    State(s): State<Service>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> axum::Json<serde_json::Value> {
    let q = q.unwrap_or_default();
    let asked = url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "query").map(|(_, v)| v.into_owned());
    s.queries.lock().unwrap().push(asked.unwrap_or_default());
    let rate = *s.error_rate.lock().unwrap();
    axum::Json(json!({ "status": "success", "data": { "resultType": "vector",
        "result": [{ "metric": {}, "value": [1780000000.0, rate.to_string()] }] } }))
}

async fn service() -> (Service, String) {
    let s = Service {
        health: Arc::new(Mutex::new(503)),
        error_rate: Arc::new(Mutex::new(0.0002)),
        queries: Arc::default(),
    };
    let app = Router::new().route("/health", get(health)).route("/api/v1/query", get(query)).with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (s, base)
}

/// The example config with the production phase's health and error-rate items checked by
/// golive, error rate as a guard.
fn checked(config: String, base: &str, extra: &str) -> String {
    config
        .replace(
            r#"{ id = "health", text = "Health endpoint returns 200", role = "ops" },"#,
            &format!(r#"{{ id = "health", text = "Health endpoint returns 200", role = "ops", check = {{ http = "{base}/health", contains = "ok", every = "30s", timeout = "2s" }} }},"#),
        )
        .replace(
            r#"{ id = "error-rate", text = "Error rate under 0.1 % at each traffic step", role = "ops" },"#,
            &format!(r#"{{ id = "error-rate", text = "Error rate under 0.1 % at each traffic step", role = "ops", guard = true, check = {{ prometheus = "{base}", query = "sum(rate(http_errors[5m])) / sum(rate(http_requests[5m]))", below = 0.001, every = "1m" }} }},"#),
        )
        .replacen("go_gate = \"production\"\n", &format!("go_gate = \"production\"\n{extra}"), 1)
}

async fn to_production(w: &Ctx) {
    let ok = |who: &'static str, text: String| async move {
        let answer = w.slack().slash(harness::slack::slack_user(who), &text).await;
        assert_eq!(answer.body, "", "{who}: {text}: {}", answer.body);
    };
    ok("dana", "start v2.4.0".into()).await;
    ok("dana", "phase start pre-deployment".into()).await;
    for (who, item) in PRE_DEPLOYMENT_TICKS {
        ok(who, format!("check {item}")).await;
    }
    for (who, role) in PRE_DEPLOYMENT_SIGNOFFS {
        ok(who, format!("signoff {role}")).await;
    }
    ok("dana", "phase done".into()).await;
    ok("dana", "phase start staging".into()).await;
    for (who, item) in STAGING_TICKS {
        ok(who, format!("check {item}")).await;
    }
    for (who, role) in STAGING_SIGNOFFS {
        ok(who, format!("signoff {role}")).await;
    }
    ok("dana", "phase done".into()).await;
    ok("dana", "go".into()).await;
    ok("dana", "phase start production".into()).await;
}

/// Reads what the walk to production showed the channel.
async fn reads_to_production(w: &Ctx) {
    w.slack().reads_through_staging("v2.4.0").await;
    w.slack().reads_all(&["GO: u0dana (as lead) gives the go for production", "Phase 3/4 production ("]).await;
}

async fn until(w: &Ctx, what: &str, step: Duration, done: impl Fn(&[EventKind]) -> bool) -> Vec<EventKind> {
    w.until_events(1, what, step, done).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_keeps_its_item_open_while_failing_and_ticks_it_when_the_endpoint_recovers() {
    let (svc, base) = service().await;
    let w = Ctx::on_slack_with(|c| checked(c, &base, "")).await;
    to_production(&w).await;
    // The phase starts: the health check runs at once and fails.
    let kinds = until(&w, "the failure is recorded", Duration::from_millis(100), |k| {
        k.iter().any(|k| matches!(k, EventKind::CheckFailed { item, .. } if item == "health"))
    })
    .await;
    assert!(kinds
        .iter()
        .any(|k| matches!(k, EventKind::CheckFailed { detail, .. } if detail == "HTTP 503 (wants 200)")));
    assert!(!kinds.iter().any(|k| matches!(k, EventKind::ItemChecked { item, .. } if item == "health")));
    // The status says what was measured.
    assert_eq!(w.slack().slash("U0DANA", "status").await.body, "");
    w.slack()
        .arrives("the status with the failing check", |c| {
            c.text().contains("CHECK FAILING: health — HTTP 503 (wants 200)")
        })
        .await;
    // Still failing at the next run: not recorded again.
    w.clock.advance(Duration::from_secs(31));
    w.quiet().await;
    // The endpoint recovers: the next run ticks the item, as golive.
    *svc.health.lock().unwrap() = 200;
    let kinds = until(&w, "the item is ticked", Duration::from_secs(5), |k| {
        k.iter().any(|k| matches!(k, EventKind::ItemChecked { item, .. } if item == "health"))
    })
    .await;
    assert_eq!(
        kinds.iter().filter(|k| matches!(k, EventKind::CheckFailed { .. })).count(),
        1,
        "one failure, recorded once"
    );
    assert!(kinds.iter().any(|k| matches!(k, EventKind::CheckPassed { item, .. } if item == "health")));
    let events = w.store.events(1).await.unwrap();
    let tick =
        events.iter().find(|e| matches!(&e.kind, EventKind::ItemChecked { item, .. } if item == "health")).unwrap();
    assert_eq!(tick.actor.key(), "golive:golive");
    // The channel saw the failure once, the guard's tick, and the recovery; the status post
    // (read above) was kept up.
    reads_to_production(&w).await;
    let slack = w.slack();
    slack.reads_any_order(&["⚠ Check of `health` failing: HTTP 503 (wants 200)", "golive checked error-rate "]).await;
    slack.reads("Check of `health` passing again: HTTP 200").await;
    slack.reads("Done: error-rate ✓ golive, health ✓ golive").await;
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_breached_during_a_traffic_step_escalates() {
    let (svc, base) = service().await;
    let w = Ctx::on_slack_with(|c| checked(c, &base, "")).await;
    to_production(&w).await;
    assert_eq!(w.slack().slash("U0OPS", "traffic 50").await.body, "");
    // Healthy: the guard's item is ticked and it keeps watching.
    until(&w, "error-rate ticked", Duration::from_secs(1), |k| {
        k.iter().any(|k| matches!(k, EventKind::ItemChecked { item, .. } if item == "error-rate"))
    })
    .await;
    *svc.error_rate.lock().unwrap() = 0.004;
    let kinds = until(&w, "the escalation", Duration::from_secs(10), |k| {
        k.iter().any(|k| matches!(k, EventKind::EscalationOpened { .. }))
    })
    .await;
    assert!(
        kinds.iter().any(|k| matches!(k, EventKind::EscalationOpened { level: 1, message, .. }
        if message == "guard `error-rate` failed at 50% traffic: 0.004 (wants below 0.001)")),
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|k| matches!(k, EventKind::RollbackStarted { .. })), "no auto_rollback in this plan");
    assert!(svc.queries.lock().unwrap()[0].contains("http_errors"));
    // The channel saw the step, the guard pass then fail, and the page to the team leads.
    reads_to_production(&w).await;
    let slack = w.slack();
    slack.reads("Traffic on the new version: 50% (set by u0ops)").await;
    slack.reads_any_order(&["⚠ Check of `health` failing", "golive checked error-rate "]).await;
    slack.reads("⚠ Check of `error-rate` failing: 0.004 (wants below 0.001)").await;
    slack.reads("ESCALATION level 1 (Team leads) from golive: guard `error-rate` failed at 50% traffic").await;
    w.finish().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_rollback_a_breach_rolls_back_at_once_and_runs_the_rollback_hook_once() {
    let (svc, base) = service().await;
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let script = dir.path().join("rollback.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$GOLIVE_ROLLBACK_LEVEL\" >> {}\n", runs.display())).unwrap();
    std::process::Command::new("chmod").args(["+x", script.to_str().unwrap()]).status().unwrap();
    let hook = format!(
        "\n[[plans.standard.hooks]]\nname = \"auto\"\non = [\"rollback:immediate\"]\ncommand = [\"{}\"]\n",
        script.display()
    );
    let w = Ctx::on_slack_with(|c| checked(c, &base, "auto_rollback = true\n") + &hook).await;
    to_production(&w).await;
    *svc.error_rate.lock().unwrap() = 0.02;
    assert_eq!(w.slack().slash("U0OPS", "traffic 50").await.body, "");
    let kinds = until(&w, "the rollback", Duration::from_secs(10), |k| {
        k.iter().any(|k| matches!(k, EventKind::HookRan { .. }))
    })
    .await;
    let rollback = kinds.iter().find(|k| matches!(k, EventKind::RollbackStarted { .. })).unwrap();
    assert!(matches!(rollback, EventKind::RollbackStarted { level: Some(RollbackLevel::Immediate), reason }
        if reason.starts_with("guard `error-rate` failed at 50% traffic")));
    // The guard keeps failing for minutes: still one rollback, one hook run.
    for _ in 0..10 {
        w.clock.advance(Duration::from_secs(60));
        w.quiet().await;
    }
    let kinds: Vec<EventKind> = w.store.events(1).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| matches!(k, EventKind::RollbackStarted { .. })).count(), 1);
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "immediate\n", "the rollback hook ran exactly once");
    // The channel saw one rollback, one page, one hook run; then the page went up a level.
    reads_to_production(&w).await;
    let slack = w.slack();
    slack.reads("Traffic on the new version: 50% (set by u0ops)").await;
    slack.reads_any_order(&["⚠ Check of `health` failing", "⚠ Check of `error-rate` failing: 0.02"]).await;
    slack.reads("ROLLBACK (immediate, 0–5 min) started by golive: guard `error-rate` failed at 50% traffic").await;
    slack.reads("ESCALATION level 1 (Team leads) from golive").await;
    slack.reads("Hook `auto` on rollback: ok (exit 0").await;
    slack.reads("ESCALATION level 2 (Technical managers) not acknowledged in time").await;
    w.finish().await;
}

#[test]
fn a_check_written_wrong_is_refused_with_where() {
    let cases = [
        (r#"check = { http = "ftp://x" }"#, "check.http", "not an http(s) URL"),
        (r#"check = { prometheus = "http://p" }"#, "check.query", "needs the `query`"),
        (r#"check = { prometheus = "http://p", query = "up" }"#, "check", "say what passes"),
        (r#"check = { http = "http://x", prometheus = "http://p" }"#, "check", "either `http = URL`"),
        (r#"guard = true"#, "guard", "needs a `check`"),
    ];
    for (add, key, fragment) in cases {
        let text = golive::config::EXAMPLE.replace(
            r#"{ id = "health", text = "Health endpoint returns 200", role = "ops" },"#,
            &format!(r#"{{ id = "health", text = "Health endpoint returns 200", role = "ops", {add} }},"#),
        );
        let err = golive::config::Config::parse(&text, "c.toml").expect_err(add).to_string();
        assert!(err.contains(key) && err.contains(fragment), "{add}: {err}");
    }
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_check_keeps_its_item_open_while_failing_and_ticks_it_when_the_endpoint_recovers,
    a_guard_breached_during_a_traffic_step_escalates,
    with_auto_rollback_a_breach_rolls_back_at_once_and_runs_the_rollback_hook_once,
);
