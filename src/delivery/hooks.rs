//! Hooks: what golive runs by itself when a deployment reaches an event its plan names —
//! a webhook POSTed with an HMAC-SHA256 signature, or a program run without a shell. The
//! engine queues each run in the outbox, in the same transaction as the event, under the
//! `hook` platform and one "channel" per deployment, so hooks survive a restart and run in
//! the order their events happened. This module decides what a hook fires on and runs it;
//! the delivery worker hands the result back to the engine, which records it on the
//! deployment's timeline.
//!
//! A webhook is retried like a chat post (network errors, 5xx, 429); a 4xx is its answer.
//! A command is run once: its exit code is the result, not a delivery failure.

use std::process::Stdio;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::http::{header, Method, Request};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::AsyncReadExt;

pub use crate::delivery::HookReport as Report;
use crate::delivery::{SendError, Sent, Transport};
use crate::domain::plan::{Hook, HookAction};
use crate::domain::{Deployment, EventKind};
use crate::store::{OutboxItem, Route};

/// The signature of a webhook's body: `sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}`.
pub const SIGNATURE_HEADER: &str = "x-golive-signature";
/// Unix seconds when the webhook was sent; part of what is signed, so a replay can be told.
pub const TIMESTAMP_HEADER: &str = "x-golive-timestamp";
/// Output kept on the record: the end of it, where errors usually are.
const OUTPUT_TAIL: usize = 2000;

/// What an event means to hooks: the trigger name and, for a rollback, its level.
pub fn trigger(kind: &EventKind) -> Option<(&'static str, Option<String>)> {
    Some(match kind {
        EventKind::DeploymentStarted { .. } => ("started", None),
        EventKind::PhaseStarted { .. } => ("phase_started", None),
        EventKind::PhaseCompleted { .. } => ("phase_done", None),
        EventKind::GoDecided { .. } => ("go", None),
        EventKind::TrafficShifted { .. } => ("traffic", None),
        EventKind::RollbackStarted { level, .. } => ("rollback", level.map(|l| l.as_str().to_string())),
        EventKind::DeploymentCompleted => ("completed", None),
        EventKind::DeploymentAborted { .. } => ("aborted", None),
        _ => return None,
    })
}

/// One queued run: the hook as the deployment's plan had it, and what it is told.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub hook: Hook,
    pub trigger: String,
    /// The JSON body a webhook gets, and what a command's environment is made from.
    pub body: Value,
}

/// The body of one hook run: the event and the deployment as it stands after it.
pub fn body(deployment_id: i64, d: &Deployment, trigger: &str, kind: &EventKind, seq: i64) -> Value {
    let phase = d.current.and_then(|i| d.plan.phases.get(i)).map(|p| p.id.clone());
    json!({
        "trigger": trigger,
        "event": { "kind": kind.name(), "seq": seq, "detail": kind },
        "deployment": {
            "id": deployment_id,
            "release": d.release,
            "plan": d.plan.id,
            "platform": d.platform.as_str(),
            "channel": d.channel,
            "lead": d.lead.key(),
            "status": d.status.as_str(),
            "phase": phase,
            "traffic": d.traffic,
        },
    })
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end();
    let start = text.char_indices().rev().nth(OUTPUT_TAIL - 1).map_or(0, |(i, _)| i);
    text[start..].to_string()
}

/// The `X-Golive-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// Runs hooks for the delivery worker.
pub struct HookRunner {
    client: Client<Https, Full<Bytes>>,
}

impl HookRunner {
    pub fn new() -> std::io::Result<HookRunner> {
        Ok(HookRunner { client: Client::builder(TokioExecutor::new()).build(crate::https::connector()?) })
    }

    async fn webhook(&self, run: &Run, url: &str, secret_env: &str) -> Result<Report, SendError> {
        let permanent = |reason: String| SendError::Permanent { reason, channel_unusable: false, hint: None };
        let secret = std::env::var(secret_env).ok().filter(|s| !s.is_empty()).ok_or_else(|| {
            permanent(format!("{secret_env} is not set, so hook `{}` cannot sign its request", run.hook.name))
        })?;
        let body = run.body.to_string();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let request = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, &timestamp)
            .header(SIGNATURE_HEADER, sign(secret.as_bytes(), &timestamp, body.as_bytes()))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| permanent(format!("`{url}` is not a usable URL: {e}")))?;
        let started = Instant::now();
        let sent = tokio::time::timeout(run.hook.timeout, async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Ok::<_, hyper_util::client::legacy::Error>((status, body))
        })
        .await;
        let (status, answer) = match sent {
            Err(_) => {
                return Err(SendError::Retry {
                    reason: format!("hook `{}` got no answer within {:?}", run.hook.name, run.hook.timeout),
                    after: None,
                })
            }
            Ok(Err(e)) => {
                return Err(SendError::Retry {
                    reason: format!("hook `{}` could not reach {url}: {e}", run.hook.name),
                    after: None,
                })
            }
            Ok(Ok(answered)) => answered,
        };
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(SendError::Retry {
                reason: format!("hook `{}` answered HTTP {}", run.hook.name, status.as_u16()),
                after: None,
            });
        }
        Ok(Report {
            hook: run.hook.name.clone(),
            trigger: run.trigger.clone(),
            ok: status.is_success(),
            detail: format!("HTTP {}", status.as_u16()),
            output: tail(&answer),
            duration_ms: started.elapsed().as_millis() as u64,
        })
    }

    async fn command(&self, run: &Run, argv: &[String]) -> Report {
        let started = Instant::now();
        let report = |ok: bool, detail: String, output: String| Report {
            hook: run.hook.name.clone(),
            trigger: run.trigger.clone(),
            ok,
            detail,
            output,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        let Some((program, args)) = argv.split_first() else {
            return report(false, "no program to run".into(), String::new());
        };
        let mut command = tokio::process::Command::new(program);
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        for (name, value) in environment(run) {
            command.env(name, value);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return report(false, format!("could not start `{program}`: {e}"), String::new()),
        };
        let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
        let collect = async {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            if let Some(s) = stdout.as_mut() {
                let _ = s.read_to_end(&mut out).await;
            }
            if let Some(s) = stderr.as_mut() {
                let _ = s.read_to_end(&mut err).await;
            }
            let status = child.wait().await;
            out.extend_from_slice(&err);
            (status, out)
        };
        match tokio::time::timeout(run.hook.timeout, collect).await {
            Ok((Ok(status), output)) => {
                let detail = match status.code() {
                    Some(code) => format!("exit {code}"),
                    None => "killed by a signal".into(),
                };
                report(status.success(), detail, tail(&output))
            }
            Ok((Err(e), output)) => report(false, format!("could not wait for `{program}`: {e}"), tail(&output)),
            // Dropping the child kills it (`kill_on_drop`).
            Err(_) => report(false, format!("timed out after {:?} and was killed", run.hook.timeout), String::new()),
        }
    }
}

/// A command hook's environment: the deployment and the event, as `GOLIVE_*` variables.
fn environment(run: &Run) -> Vec<(String, String)> {
    let d = &run.body["deployment"];
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    vec![
        ("GOLIVE_HOOK".into(), run.hook.name.clone()),
        ("GOLIVE_TRIGGER".into(), run.trigger.clone()),
        ("GOLIVE_EVENT".into(), text(&run.body["event"]["kind"])),
        ("GOLIVE_DEPLOYMENT_ID".into(), text(&d["id"])),
        ("GOLIVE_RELEASE".into(), text(&d["release"])),
        ("GOLIVE_PLAN".into(), text(&d["plan"])),
        ("GOLIVE_CHANNEL".into(), format!("{}:{}", text(&d["platform"]), text(&d["channel"]))),
        ("GOLIVE_LEAD".into(), text(&d["lead"])),
        ("GOLIVE_PHASE".into(), text(&d["phase"])),
        ("GOLIVE_TRAFFIC".into(), text(&d["traffic"])),
        ("GOLIVE_ROLLBACK_LEVEL".into(), text(&run.body["event"]["detail"]["level"])),
        ("GOLIVE_EVENT_JSON".into(), run.body.to_string()),
    ]
}

#[async_trait]
impl Transport for HookRunner {
    fn route(&self) -> Route {
        Route::Hooks
    }

    fn send_timeout(&self, item: &OutboxItem) -> Option<Duration> {
        send_timeout(item)
    }

    fn given_up(&self, item: &OutboxItem, reason: &str) -> Option<Report> {
        let run: Run = serde_json::from_value(item.payload.event.clone()?).ok()?;
        let (hook, trigger) = (run.hook.name, run.trigger);
        Some(Report { hook, trigger, ok: false, detail: reason.to_string(), output: String::new(), duration_ms: 0 })
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let run: Run = item.payload.event.clone().and_then(|e| serde_json::from_value(e).ok()).ok_or_else(|| {
            SendError::Permanent {
                reason: "a queued hook run is unreadable".into(),
                channel_unusable: false,
                hint: None,
            }
        })?;
        let report = match &run.hook.action {
            HookAction::Webhook { url, secret_env } => self.webhook(&run, url, secret_env).await?,
            HookAction::Command { argv } => self.command(&run, argv).await,
        };
        Ok(Sent { report: Some(report), ..Sent::default() })
    }
}

/// How long a send of a hook may take before the delivery worker gives up on it: the
/// hook's own timeout and a little more, so the hook's own limit is the one that shows.
pub fn send_timeout(item: &OutboxItem) -> Option<Duration> {
    if item.destination.route() != Route::Hooks {
        return None;
    }
    let run: Run = serde_json::from_value(item.payload.event.clone()?).ok()?;
    Some(run.hook.timeout + Duration::from_secs(5))
}
