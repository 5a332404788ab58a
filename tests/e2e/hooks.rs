//! Hooks: a plan's webhooks and commands run when the deployment reaches the events they
//! name. Webhooks arrive at a receiver on 127.0.0.1 signed with HMAC-SHA256 over the
//! timestamp and body; a command's exit code and output land on the timeline and in the
//! channel; a failing rollback hook escalates at once; a webhook answering 5xx is retried.

use crate::harness::Ctx;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use golive::domain::EventKind;

const SECRET_VAR: &str = "GOLIVE_TEST_HOOK_SECRET";
const SECRET: &str = "hook-test-secret";

fn init() {
    static ONCE: Once = Once::new();
    // Set once, before any test of this file reads it.
    ONCE.call_once(|| std::env::set_var(SECRET_VAR, SECRET));
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got.lock().unwrap().push((headers, String::from_utf8_lossy(&body).into_owned()));
    let next = r.answers.lock().unwrap().pop();
    StatusCode::from_u16(next.unwrap_or(200)).unwrap()
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = Router::new().route("/hook", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

fn with_hooks(config: String, hooks: &str) -> String {
    format!("{config}\n{hooks}\n")
}

async fn hook_events(w: &Ctx) -> Vec<EventKind> {
    let ran = |k: &[EventKind]| k.iter().any(|k| matches!(k, EventKind::HookRan { .. }));
    let kinds = w.until_events(1, "a hook run", Duration::from_millis(500), ran).await;
    kinds.into_iter().filter(|k| matches!(k, EventKind::HookRan { .. })).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_fires_on_the_events_it_names_with_a_signature_the_receiver_can_check() {
    init();
    let (r, url) = receiver().await;
    let w = Ctx::on_slack_with(|c| {
        with_hooks(c, &format!("[[plans.standard.hooks]]\nname = \"ci\"\non = [\"started\", \"go\"]\nwebhook = \"{url}\"\nsecret_env = \"{SECRET_VAR}\"\n"))
    })
    .await;
    assert_eq!(w.slack().slash("U0DANA", "start v2.4.0").await.body, "");
    assert_eq!(w.slack().slash("U0DANA", "phase start pre-deployment").await.body, "");
    let ran = hook_events(&w).await;
    assert!(
        matches!(&ran[0], EventKind::HookRan { hook, trigger, ok: true, detail, .. }
        if hook == "ci" && trigger == "started" && detail == "HTTP 200"),
        "{ran:?}"
    );
    w.slack().arrives("the hook's result", |c| c.text().contains("Hook `ci` on started: ok (HTTP 200")).await;

    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "only `started` is named; the phase start fires nothing");
    let (headers, body) = &got[0];
    let ts = headers["x-golive-timestamp"].to_str().unwrap();
    let signature = headers["x-golive-signature"].to_str().unwrap();
    assert_eq!(
        signature,
        golive::delivery::hooks::sign(SECRET.as_bytes(), ts, body.as_bytes()),
        "the signature verifies"
    );
    assert_ne!(signature, golive::delivery::hooks::sign(b"another secret", ts, body.as_bytes()));
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["trigger"], "started");
    assert_eq!(json["deployment"]["release"], "v2.4.0");
    assert_eq!(json["deployment"]["channel"], "C0DEPLOY");
    assert_eq!(json["event"]["kind"], "deployment_started");
    // Beside the hook's result (read above), the channel saw the start and the phase.
    w.slack().reads_started("v2.4.0").await;
    w.slack().reads("Phase 1/4 pre-deployment (").await;
    w.finish().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commands_exit_code_and_output_land_on_the_timeline_and_in_the_channel() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("smoke.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"release=$GOLIVE_RELEASE trigger=$GOLIVE_TRIGGER phase=$GOLIVE_PHASE\"\necho 'smoke test: 2 of 40 failed' >&2\nexit 3\n",
    )
    .unwrap();
    std::process::Command::new("chmod").args(["+x", script.to_str().unwrap()]).status().unwrap();
    let w = Ctx::on_slack_with(|c| {
        with_hooks(c, &format!("[[plans.standard.hooks]]\nname = \"smoke\"\non = [\"phase_started\"]\ncommand = [\"{}\"]\ntimeout = \"10s\"\n", script.display()))
    })
    .await;
    w.slack().slash("U0DANA", "start v2.4.0").await;
    w.slack().slash("U0DANA", "phase start pre-deployment").await;
    let ran = hook_events(&w).await;
    let EventKind::HookRan { ok, detail, output, trigger, .. } = &ran[0] else { unreachable!() };
    assert!(!ok);
    assert_eq!((detail.as_str(), trigger.as_str()), ("exit 3", "phase_started"));
    assert!(output.contains("release=v2.4.0 trigger=phase_started phase=pre-deployment"), "{output}");
    assert!(output.contains("smoke test: 2 of 40 failed"), "{output}");
    let said =
        w.slack().arrives("the failure", |c| c.text().contains("Hook `smoke` on phase_started FAILED: exit 3")).await;
    assert!(said.text().contains("2 of 40 failed"), "{}", said.text());
    // Beside the hook's failure (read above), the channel saw the start and the phase.
    w.slack().reads_started("v2.4.0").await;
    w.slack().reads("Phase 1/4 pre-deployment (").await;
    w.finish().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rollback_hook_escalates_at_once_and_runs_once() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let script = dir.path().join("rollback.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho run >> {}\necho 'cannot reach the load balancer'\nexit 1\n", runs.display()),
    )
    .unwrap();
    std::process::Command::new("chmod").args(["+x", script.to_str().unwrap()]).status().unwrap();
    let w = Ctx::on_slack_with(|c| {
        with_hooks(
            c,
            &format!(
                "[[plans.standard.hooks]]\nname = \"fast-rollback\"\non = [\"rollback:quick\"]\ncommand = [\"{}\"]\n",
                script.display()
            ),
        )
    })
    .await;
    w.slack().slash("U0DANA", "start v2.4.0").await;
    assert_eq!(w.slack().slash("U0OPS", "rollback level=quick 5xx at 70%").await.body, "");
    hook_events(&w).await;
    let events = w.store.events(1).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    // The rollback paged level 1; its failed hook raised the page to level 2 without waiting.
    let at = kinds.iter().position(|k| *k == "hook_ran").unwrap();
    assert_eq!(&kinds[at..], ["hook_ran", "escalation_raised"], "{kinds:?}");
    assert!(matches!(&events.last().unwrap().kind, EventKind::EscalationRaised { level: 2, message }
        if message.contains("rollback hook `fast-rollback` failed: exit 1")));
    w.settle().await;
    assert_eq!(std::fs::read_to_string(&runs).unwrap().lines().count(), 1, "the hook ran exactly once");
    // The channel saw the rollback page level 1, the hook fail with its output, level 2 paged.
    let slack = w.slack();
    slack.reads_started("v2.4.0").await;
    slack.reads("ROLLBACK (quick, 5–15 min) started by u0ops: 5xx at 70%").await;
    slack.reads("ESCALATION level 1 (Team leads) from u0ops: rollback: 5xx at 70%").await;
    let failed = slack.reads("⚠ Hook `fast-rollback` on rollback FAILED: exit 1").await;
    assert!(failed.text().contains("cannot reach the load balancer"), "{}", failed.text());
    slack.reads("ESCALATION level 2 (Technical managers) not acknowledged in time: rollback hook").await;
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answering_5xx_is_retried_until_it_takes_the_event() {
    init();
    let (r, url) = receiver().await;
    r.answers.lock().unwrap().extend([503, 502]);
    let w = Ctx::on_slack_with(|c| {
        with_hooks(c, &format!("[[plans.standard.hooks]]\nname = \"ci\"\non = [\"started\"]\nwebhook = \"{url}\"\nsecret_env = \"{SECRET_VAR}\"\n"))
    })
    .await;
    w.slack().slash("U0DANA", "start v2.4.0").await;
    let ran = hook_events(&w).await;
    assert_eq!(ran.len(), 1);
    assert!(matches!(&ran[0], EventKind::HookRan { ok: true, .. }));
    assert_eq!(r.got.lock().unwrap().len(), 3, "two refusals, then taken");
    // The channel hears of the hook once, when it took the event.
    w.slack().reads_started("v2.4.0").await;
    w.slack().reads("Hook `ci` on started: ok (HTTP 200").await;
    w.finish().await;
}

#[test]
fn a_hook_written_wrong_is_refused_with_where() {
    init();
    let cases = [
        ("name = \"x\"\non = [\"deployed\"]\ncommand = [\"true\"]", "hooks[0].on", "`deployed` is not an event"),
        ("name = \"x\"\non = [\"go\"]\ncommand = [\"true\"]\nwebhook = \"http://h\"", "hooks[0]", "either `webhook`"),
        ("name = \"x\"\non = [\"go\"]\nwebhook = \"http://h/x\"", "hooks[0].secret_env", "needs `secret_env`"),
        (
            "name = \"x\"\non = [\"go\"]\nwebhook = \"ftp://h/x\"\nsecret_env = \"S\"",
            "hooks[0].webhook",
            "not an http(s) URL",
        ),
        ("name = \"x\"\non = []\ncommand = [\"true\"]", "hooks[0].on", "say when the hook runs"),
        ("name = \"x\"\non = [\"go\"]\ncommand = []", "hooks[0].command", "name the program"),
    ];
    for (body, key, fragment) in cases {
        let text = format!("{}\n[[plans.standard.hooks]]\n{body}\n", golive::config::EXAMPLE);
        let err = golive::config::Config::parse(&text, "h.toml").expect_err(body).to_string();
        assert!(err.contains(&format!("plans.standard.{key}")) && err.contains(fragment), "{body}: {err}");
    }
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_webhook_fires_on_the_events_it_names_with_a_signature_the_receiver_can_check,
    a_commands_exit_code_and_output_land_on_the_timeline_and_in_the_channel,
    a_failing_rollback_hook_escalates_at_once_and_runs_once,
    a_webhook_answering_5xx_is_retried_until_it_takes_the_event,
);
