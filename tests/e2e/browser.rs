//! The web pages in a real headless Chromium (Debian's `chromium` and `chromium-driver`)
//! against a real `golive serve` process on a real SQLite file, with commands sent through the
//! signed Slack route: the list shows the deployments, a deployment's page shows the chart,
//! the checklist and the sign-off sheet, a new command appears on an open page within a second
//! without a reload, and without the token the page is a bare 401. A second test serves the
//! demo's database with `golive web` and saves screenshots of its page under target/ (for
//! people to look at; not committed). Both skip with a note where no browser is installed.

use crate::harness;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::fake_slack::FakeSlack;
use crate::harness::webdriver::Browser;
use golive::chat::slack::verify::SigningSecret;
use serde_json::json;

const SECRET: &str = "browser-test-secret";
const TOKEN: &str = "browser-test-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Stops a golive process it started when the test ends, however it ends.
struct Golive(Child);

impl Drop for Golive {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn answers(addr: &str, path: &str) {
    // A bounded poll of an external process: it says it is up only by answering.
    for _ in 0..400 {
        if harness::http::try_get(addr, path).await.is_some_and(|a| a.status == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("golive never answered {path} on {addr}");
}

/// `/deploy TEXT` from `user` in `channel`, signed as Slack signs it; must be accepted.
async fn slash(addr: &str, channel: &str, user: &str, text: &str) {
    let body = serde_urlencoded::to_string([
        ("channel_id", channel),
        ("user_id", user),
        ("command", "/deploy"),
        ("text", text),
        ("response_url", "https://hooks.slack.com/commands/T0/1/browser"),
        ("trigger_id", &format!("trigger.{text}")),
    ])
    .unwrap();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = SigningSecret::new(SECRET).sign(&ts, body.as_bytes());
    let headers = [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", signature)];
    let answer =
        harness::http::post(addr, "/slack/commands", "application/x-www-form-urlencoded", &headers, body.as_bytes())
            .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, ""), "/deploy {text}");
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sees_the_list_the_page_and_a_slack_command_arrive_live_and_no_token_gets_401() {
    let Some(browser) = Browser::start().await else { return };
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = harness::process::slack_config(&addr, &fake);
    std::fs::write(dir.path().join("golive.toml"), config).unwrap();
    let _golive = Golive(
        Command::new(env!("CARGO_BIN_EXE_golive"))
            .args(["serve", "--db", "pages.db"])
            .current_dir(dir.path())
            .env_remove("GOLIVE_CONFIG")
            .env("GOLIVE_SLACK_BOT_TOKEN", "xoxb-browser")
            .env("GOLIVE_SLACK_SIGNING_SECRET", SECRET)
            .env("GOLIVE_WEB_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start golive serve"),
    );
    answers(&addr, "/readyz").await;
    slash(&addr, "C0OLD", "U0DANA", "start v4.1.9").await;
    slash(&addr, "C0OLD", "U0DANA", "abort superseded by v4.2.0").await;
    for (user, text) in [
        ("U0DANA", "start v4.2.0"),
        ("U0DANA", "phase start pre-deployment"),
        ("U0BACKEND", "check tests"),
        ("U0OPS", "check db-backup"),
        ("U0SECURITY", "signoff security"),
    ] {
        slash(&addr, "C0DEPLOY", user, text).await;
    }

    // The list, opened with the token in the address.
    browser.goto(&format!("http://{addr}/?token={TOKEN}")).await;
    let list = browser.text().await;
    assert!(list.contains("Deployments") && list.contains("v4.2.0") && list.contains("v4.1.9"), "{list}");
    assert!(list.find("v4.2.0") < list.find("v4.1.9"), "newest first:\n{list}");
    assert!(list.contains("Aborted") && list.contains("Active"), "{list}");

    // Following the link (which carries the token) to the deployment's page.
    browser.click("a[href^='/deployments/2']").await;
    browser
        .wait_for(
            "the deployment's page",
            "return document.querySelector('h1') && document.querySelector('h1').innerText.indexOf('v4.2.0') >= 0;",
        )
        .await;
    let shown = browser
        .eval(
            "return {
                chart: !!document.querySelector('svg.timeline rect.actual'),
                planned: document.querySelectorAll('svg.timeline rect.planned').length,
                checklist: document.getElementById('checklist') !== null,
                ticked: Array.from(document.querySelectorAll('tr')).some(r => r.innerText.indexOf('db-backup') >= 0 && r.innerText.toLowerCase().indexOf('u0ops') >= 0),
                sheet: document.getElementById('signoffs') !== null,
                blockers: document.getElementById('blockers') !== null,
                signed: Array.from(document.querySelectorAll('tr')).some(r => r.innerText.indexOf('(security)') >= 0 && r.innerText.toLowerCase().indexOf('u0security') >= 0),
            };",
            json!([]),
        )
        .await;
    assert_eq!(
        shown,
        json!({ "chart": true, "planned": 4, "checklist": true, "ticked": true, "sheet": true, "blockers": true, "signed": true }),
        "{}",
        browser.text().await
    );

    // Live: the stream is open; a command through Slack shows up without a reload.
    browser
        .wait_for(
            "the live stream connected",
            "return document.getElementById('live-status').innerText.indexOf('Live') === 0;",
        )
        .await;
    browser
        .eval(
            "window.__stayed = true; window.__seenAt = null;
             new MutationObserver(function () {
               var events = document.querySelector('#live table.events');
               if (!window.__seenAt && events && events.innerText.indexOf('browser-live-check') >= 0) window.__seenAt = Date.now();
             }).observe(document.body, { subtree: true, childList: true, characterData: true });
             return true;",
            json!([]),
        )
        .await;
    let sent = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    slash(&addr, "C0DEPLOY", "U0DANA", "note browser-live-check").await;
    let seen = browser.wait_for("the note sent through Slack", "return window.__seenAt;").await;
    let latency = seen.as_i64().unwrap() - sent;
    assert_eq!(
        browser.eval("return window.__stayed === true;", json!([])).await,
        json!(true),
        "the page was not reloaded"
    );
    assert!(latency < 1000, "the note took {latency} ms to appear on the open page");
    eprintln!("a Slack command appeared on the open page {latency} ms after it was sent");
    browser.screenshot(1280, &screenshots().join("live-deployment.png")).await;

    // Without the token: a bare 401.
    browser.goto(&format!("http://{addr}/deployments/2")).await;
    let refused = browser.text().await;
    assert!(refused.contains("401") && !refused.contains("v4.2.0"), "{refused}");
    let status = browser
        .eval_async("var done = arguments[arguments.length - 1]; fetch('/deployments/2').then(function (r) { done(r.status); });")
        .await;
    assert_eq!(status, json!(401));
    browser.close().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_deployments_page_in_a_browser_with_a_screenshot() {
    let Some(browser) = Browser::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let demo = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["demo", "--speed", "0", "--db", "demo.db"])
        .current_dir(dir.path())
        .env_remove("GOLIVE_CONFIG")
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let printed = String::from_utf8_lossy(&demo.stdout);
    assert!(printed.contains("golive web --db demo.db"), "the demo says how to see it in a browser:\n{printed}");

    let addr = format!("127.0.0.1:{}", free_port());
    let _web = Golive(
        Command::new(env!("CARGO_BIN_EXE_golive"))
            .args(["web", "--db", "demo.db", "--listen", &addr])
            .current_dir(dir.path())
            .env_remove("GOLIVE_CONFIG")
            .env_remove("GOLIVE_WEB_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start golive web"),
    );
    answers(&addr, "/healthz").await;
    browser.goto(&format!("http://{addr}/")).await;
    assert!(browser.text().await.contains("Completed"), "the list shows the demo's deployment");
    browser.goto(&format!("http://{addr}/deployments/1")).await;
    let page = browser.text().await;
    for part in [
        "Timeline",
        "The timeline in text",
        "Blockers",
        "Checklist",
        "Section: Deploy",
        "Section: Verify",
        "Sign-off sheet",
        "Events",
        "traffic 100%",
    ] {
        assert!(page.contains(part), "the demo's page has no `{part}`:\n{page}");
    }
    browser.screenshot(1280, &screenshots().join("demo-deployment.png")).await;
    browser.screenshot(390, &screenshots().join("demo-deployment-phone.png")).await;
    browser.close().await;
}
