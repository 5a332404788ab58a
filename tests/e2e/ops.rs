//! What an operator sees of a running golive: `/metrics` counting commands, requests, posts
//! and what waits in the database; `/readyz` naming a stopped worker; JSON logs whose lines
//! carry the deployment and channel and never a secret; and a SIGTERM that flushes the outbox
//! before exiting, or leaves what Slack would not take queued for the next start.

use crate::harness;
use crate::harness::Ctx;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::fake_slack::{FakeSlack, Reply};
use crate::harness::http::get;
use golive::chat::slack::verify::SigningSecret;
use golive::config::{Config, EXAMPLE};
use golive::liveness::Liveness;
use golive::server::{self, Ops};
use golive::store::Store;

/// The value of one series on a metrics page, by its name and labels as written there.
fn value(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn metric(page: &str, series: &str) -> f64 {
    value(page, series).unwrap_or_else(|| panic!("no `{series}` on the metrics page:\n{page}"))
}

/// Whether the metrics page shows `series` with a value that `wanted`, for the harness's waits.
async fn metrics_show(w: &Ctx, series: &str, wanted: impl Fn(f64) -> bool) -> Option<()> {
    value(&get(&w.addr, "/metrics").await.body, series).is_some_and(wanted).then_some(())
}

#[tokio::test]
async fn metrics_count_commands_requests_and_posts_and_read_what_waits_in_the_database() {
    let w = Ctx::on_slack().await;
    assert_eq!(w.slack().slash("U0DANA", "start v3.0.0").await.body, "");
    assert_eq!(w.slack().slash("U0DANA", "phase start pre-deployment").await.body, "");
    assert_eq!(w.slack().slash("U0BACKEND", "check tests").await.body, "");
    let refused = w.slack().slash("U0PRODUCT", "signoff security looks fine to me").await;
    assert_eq!(refused.json()["response_type"], "ephemeral");
    w.slack().slash("U0DANA", "stauts").await;
    w.slack().slash("U0DANA", "help").await;
    let forged = harness::http::post(
        &w.addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &[("X-Slack-Request-Timestamp", w.slack().now()), ("X-Slack-Signature", "v0=00".into())],
        w.slack().form("U0DANA", "abort now", "9.9.9").as_bytes(),
    )
    .await;
    assert_eq!(forged.status, 401);
    w.slack().posts(3).await;
    // Slack has the posts; golive counts each once it has recorded Slack's answer, which may
    // come a moment after the fake saw the request.
    let delivered = r#"golive_posts_total{platform="slack",result="delivered"}"#;
    w.until_async("three posts counted as delivered", || metrics_show(&w, delivered, |n| n >= 3.0), String::new).await;

    let page = get(&w.addr, "/metrics").await;
    assert_eq!(page.status, 200);
    assert!(page.head.to_lowercase().contains("content-type: application/openmetrics-text"), "{}", page.head);
    assert!(page.body.ends_with("# EOF\n"), "{}", page.body);
    let m = &page.body;
    assert_eq!(metric(m, r#"golive_commands_total{kind="start",outcome="ok"}"#), 1.0);
    assert_eq!(metric(m, r#"golive_commands_total{kind="check",outcome="ok"}"#), 1.0);
    assert_eq!(metric(m, r#"golive_commands_total{kind="signoff",outcome="refused"}"#), 1.0);
    assert_eq!(metric(m, r#"golive_commands_total{kind="unparsed",outcome="refused"}"#), 1.0);
    assert_eq!(metric(m, r#"golive_commands_total{kind="help",outcome="ok"}"#), 1.0);
    assert_eq!(value(m, r#"golive_commands_total{kind="abort",outcome="ok"}"#), None, "the forged abort did nothing");
    assert_eq!(metric(m, r#"golive_http_requests_total{route="/slack/commands",status="200"}"#), 6.0);
    assert_eq!(metric(m, r#"golive_http_requests_total{route="/slack/commands",status="401"}"#), 1.0);
    assert_eq!(metric(m, r#"golive_http_request_duration_seconds_count{route="/slack/commands"}"#), 7.0);
    assert!(metric(m, delivered) >= 3.0);
    assert_eq!(metric(m, "golive_deployments_active"), 1.0);
    assert_eq!(metric(m, "golive_escalations_open"), 0.0);

    // Slack fails for a while: what waits shows as depth and age, and the failures as retries.
    w.slack().fake.script([Reply::Status { code: 500, retry_after: None }; 3]);
    assert_eq!(w.slack().slash("U0OPS", "escalate error rate at 0.4%").await.body, "");
    let retried = r#"golive_posts_total{platform="slack",result="retried"}"#;
    // Posts to one channel are paced a second apart on golive's clock: move it in small steps,
    // so that the post is still waiting for Slack when the retry is counted.
    let step = Duration::from_millis(100);
    w.until_stepping("a retry counted", step, || metrics_show(&w, retried, |_| true), String::new).await;
    w.clock.advance(Duration::from_millis(300));
    let m = get(&w.addr, "/metrics").await.body;
    assert_eq!(metric(&m, "golive_escalations_open"), 1.0);
    assert!(metric(&m, r#"golive_outbox_pending{platform="slack"}"#) >= 1.0, "{m}");
    assert!(metric(&m, "golive_outbox_oldest_pending_age_seconds") > 0.0, "{m}");
    assert!(metric(&m, retried) >= 1.0, "{m}");

    // Slack is back; everything goes out and nothing waits.
    let delivered = w.slack().fake.delivered().len();
    w.slack().posts(delivered + 1).await;
    let pending = r#"golive_outbox_pending{platform="slack"}"#;
    let second = Duration::from_secs(1);
    w.until_stepping("nothing pending", second, || metrics_show(&w, pending, |n| n == 0.0), String::new).await;
    let m = get(&w.addr, "/metrics").await.body;
    assert_eq!(metric(&m, r#"golive_outbox_pending{platform="slack"}"#), 0.0, "{m}");
    assert_eq!(metric(&m, "golive_outbox_oldest_pending_age_seconds"), 0.0);
    w.finish().await;
}

#[tokio::test]
async fn the_scheduler_reports_how_late_it_fired() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v3.0.0").await;
    let before = get(&w.addr, "/metrics").await.body;
    assert_eq!(metric(&before, "golive_timers_fired_total"), 0.0);
    // The test clock starts at 09:07; the 09:30 status slot is found 95 s late, as after a
    // stalled process.
    w.clock.advance(Duration::from_secs(23 * 60 + 95));
    // The slot is waited for without moving the clock on, so the lag is exactly the 95 s; its
    // post then waits out the channel's pacing on the clock.
    let fired = || async {
        let m = get(&w.addr, "/metrics").await.body;
        (metric(&m, "golive_timers_fired_total") == 1.0).then_some(())
    };
    w.until_stepping("the 09:30 slot to fire", Duration::ZERO, fired, String::new).await;
    w.slack().arrives("the 09:30 status post", |c| c.text().contains("late by")).await;
    let m = get(&w.addr, "/metrics").await.body;
    assert_eq!(metric(&m, "golive_timers_fired_total"), 1.0);
    assert_eq!(metric(&m, "golive_scheduler_lag_seconds"), 95.0);
    // Besides the late status post (read above), the channel heard the start.
    w.slack().reads_started("v3.0.0").await;
    w.finish().await;
}

#[tokio::test]
async fn readiness_names_a_background_worker_that_stopped() {
    let ctx = harness::Ctx::new().await;
    let workers = Liveness::default();
    let scheduler = workers.start("scheduler");
    let delivery = workers.start("delivery");
    let ops = Ops { engine: ctx.engine.clone(), workers: workers.clone() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(server::serve(listener, server::router(ops, None, None, None), std::future::pending()));

    let ready = get(&addr, "/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    // A worker ends however it ends (here its task simply drops its token, as a panic would).
    drop(delivery);
    let ready = get(&addr, "/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (503, "not running: delivery\n"));
    assert_eq!(get(&addr, "/healthz").await.status, 200, "the process itself is still up");
    drop(scheduler);
    assert_eq!(get(&addr, "/readyz").await.body, "not running: delivery, scheduler\n");
}

const TOKEN: &str = "xoxb-ops-test-token-4242";
const SECRET: &str = "ops-test-signing-secret-4242";
const ROUTING_KEY: &str = "ops-test-routing-key-4242";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `golive serve` process with Slack on against `fake`, logging JSON at debug level.
fn serve(dir: &std::path::Path, port: u16, fake: &FakeSlack, grace: &str) -> Child {
    let config = EXAMPLE
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        .replace("listen = \"127.0.0.1:3000\"", &format!("listen = \"127.0.0.1:{port}\""))
        .replace("shutdown_grace = \"10s\"", &format!("shutdown_grace = \"{grace}\""))
        .replacen("ack_timeout = \"5m\"\n", &format!("ack_timeout = \"5m\"\nwebhook = \"{}pagerduty\"\n", fake.url), 1)
        .replace("api_url = \"https://slack.com/api/\"", &format!("api_url = \"{}\"", fake.url));
    Config::parse(&config, "golive.toml").expect("the test config is valid");
    std::fs::write(dir.join("golive.toml"), config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve", "--db", "ops.db", "--log-format", "json"])
        .current_dir(dir)
        .env_remove("GOLIVE_CONFIG")
        .env("RUST_LOG", "debug")
        .env("GOLIVE_SLACK_BOT_TOKEN", TOKEN)
        .env("GOLIVE_SLACK_SIGNING_SECRET", SECRET)
        .env("GOLIVE_PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start golive serve")
}

/// How long a `golive serve` process may take, in real time, to do what a test waits for.
const PATIENCE: Duration = Duration::from_secs(10);

async fn ready(addr: &str) {
    // A bounded poll: the process says nothing when it is ready but its /readyz.
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() && get(addr, "/readyz").await.status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("golive serve never became ready on {addr}");
}

async fn slash(addr: &str, user: &str, text: &str, trigger: &str) -> u16 {
    let body = serde_urlencoded::to_string([
        ("channel_id", "C0DEPLOY"),
        ("user_id", user),
        ("command", "/deploy"),
        ("text", text),
        ("response_url", "https://hooks.slack.com/commands/T0TEAM/1/abc"),
        ("trigger_id", trigger),
    ])
    .unwrap();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = SigningSecret::new(SECRET).sign(&ts, body.as_bytes());
    let headers = [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", signature)];
    harness::http::post(addr, "/slack/commands", "application/x-www-form-urlencoded", &headers, body.as_bytes())
        .await
        .status
}

/// Sends SIGTERM and returns the exit code, how long the exit took, and stderr.
fn terminate(child: Child) -> (Option<i32>, Duration, String) {
    let asked = std::time::Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), asked.elapsed(), String::from_utf8_lossy(&out.stderr).into_owned())
}

async fn pending_posts(dir: &std::path::Path) -> Vec<String> {
    let store = Store::open_existing(&format!("sqlite://{}", dir.join("ops.db").display())).await.unwrap();
    let rows = store.outbox().await.unwrap();
    store.close().await;
    rows.into_iter().filter(|r| r.state == "pending").map(|r| r.channel).collect()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_the_deployment_and_channel_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = serve(dir.path(), port, &fake, "5s");
    ready(&addr).await;
    assert_eq!(slash(&addr, "U0DANA", "start v3.0.0", "1.1.a").await, 200);
    assert_eq!(slash(&addr, "U0DANA", "phase start pre-deployment", "1.2.a").await, 200);
    assert_eq!(slash(&addr, "U0OPS", "escalate error rate at 0.4%", "1.3.a").await, 200);
    let paged = |calls: &[harness::fake_slack::Call]| {
        let delivered: Vec<_> = calls.iter().filter(|c| c.ok).collect();
        delivered.iter().any(|c| c.method == "pagerduty") && delivered.len() >= 4
    };
    fake.wait_for("the page and the posts", PATIENCE, paged).await;
    let (code, _, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");

    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    assert!(fake.delivered().iter().any(|c| c.method == "pagerduty"), "the escalation paged");
    let recorded: Vec<_> = lines.iter().filter(|l| l["fields"]["message"] == "recorded").collect();
    assert_eq!(recorded.len(), 3, "{stderr}");
    for line in recorded {
        let spans = line["spans"].as_array().expect("the line lists its spans");
        let request = spans.iter().find(|s| s["name"] == "request").expect("logged inside its request");
        assert_eq!(request["route"], "/slack/commands");
        let command = spans.iter().find(|s| s["name"] == "command").expect("logged inside its command");
        assert_eq!(command["channel"], "slack:C0DEPLOY");
        assert_eq!(command["deployment"], 1);
        assert_eq!(line["level"], "INFO");
    }
    let answered = lines.iter().find(|l| l["fields"]["message"] == "answered").expect("each request is logged");
    assert_eq!(answered["fields"]["status"], 200);
    assert!(
        lines.iter().any(|l| l["spans"].as_array().is_some_and(|s| s
            .iter()
            .any(|s| s["name"] == "post" && s["deployment"] == 1 && s["channel"] == "slack:C0DEPLOY"))),
        "posts are logged in a span naming their deployment and channel:\n{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "the bot token leaked into the logs");
    assert!(!stderr.contains(SECRET), "the signing secret leaked into the logs");
    assert!(!stderr.contains(ROUTING_KEY), "the paging routing key leaked into the logs");
    assert!(!stderr.contains("hooks.slack.com/commands"), "a response_url leaked into the logs");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_delivers_what_is_queued_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = serve(dir.path(), port, &fake, "10s");
    ready(&addr).await;
    // Slack fails the announcement once: it waits about a second for its retry, and the
    // process is told to stop inside that second.
    fake.script([Reply::Status { code: 503, retry_after: Some(1) }]);
    assert_eq!(slash(&addr, "U0DANA", "start v3.0.0", "2.1.a").await, 200);
    fake.wait_for("the failed first try", PATIENCE, |calls| calls.iter().any(|c| c.answered == 503)).await;
    let (code, took, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("outbox flushed"), "{stderr}");
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 1, "the queued announcement went out before the exit: {delivered:?}");
    assert!(delivered[0].text().contains("v3.0.0"), "{delivered:?}");
    assert!(took < Duration::from_secs(10), "stopped within its grace ({took:?})");
    assert!(pending_posts(dir.path()).await.is_empty());
    let store = Store::open_existing(&format!("sqlite://{}", dir.path().join("ops.db").display())).await.unwrap();
    assert!(store.verify().await.unwrap().is_ok(), "the history is whole after the stop");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_slack_down_keeps_the_post_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = serve(dir.path(), port, &fake, "1s");
    ready(&addr).await;
    fake.script([Reply::Status { code: 500, retry_after: None }; 50]);
    assert_eq!(slash(&addr, "U0DANA", "start v3.0.0", "3.1.a").await, 200);
    fake.wait_for("a failed try", PATIENCE, |calls| calls.iter().any(|c| c.answered == 500)).await;
    let (code, took, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopping with posts still queued"), "{stderr}");
    assert!(took < Duration::from_secs(8), "gave up flushing after its grace ({took:?})");
    assert!(fake.delivered().is_empty());
    assert_eq!(pending_posts(dir.path()).await, ["C0DEPLOY"], "the post is kept, not dropped");

    // Slack is back and golive starts again: the kept post goes out, once.
    fake.clear_script();
    let child = serve(dir.path(), port, &fake, "1s");
    ready(&addr).await;
    fake.wait_for("the kept post", PATIENCE, |calls| calls.iter().any(|c| c.ok)).await;
    let (code, _, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert!(delivered[0].text().contains("v3.0.0"));
    assert!(pending_posts(dir.path()).await.is_empty());
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    metrics_count_commands_requests_and_posts_and_read_what_waits_in_the_database,
    the_scheduler_reports_how_late_it_fired,
    readiness_names_a_background_worker_that_stopped,
);
