//! `golive demo`: one complete deployment of the built-in example plan, typed by a cast of
//! local users from a script, on a clock that jumps through the script's waits. Every
//! scheduled status post that falls due on the way is fired at its slot, and the run is paced
//! `speed` times faster than real time so a person can watch it.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use thiserror::Error;

use super::{actor, ConsoleError, Terminal};
use crate::clock::{Clock, ManualClock, SystemClock};
use crate::commands::grammar;
use crate::config::Config;
use crate::domain::{Channel, Command, Platform};
use crate::engine::{Engine, EngineError, Input, Message, Origin};
use crate::store::{AuditReport, Store};

pub const SCRIPT: &str = include_str!("demo.script");
pub const CHANNEL: &str = "demo";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Wait(Duration),
    Say { user: String, text: String, expect_refusal: bool },
}

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("demo script line {line}: {why}")]
    Script { line: usize, why: String },
    #[error("demo step `{user}: {text}` was {got}, but the script expected it to be {expected}: {reply}")]
    Unexpected { user: String, text: String, got: &'static str, expected: &'static str, reply: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error("the demo's history did not verify: {0}")]
    Audit(String),
}

pub fn parse_script(script: &str) -> Result<Vec<Step>, DemoError> {
    let mut steps = Vec::new();
    for (n, raw) in script.lines().enumerate() {
        let line = raw.trim();
        let bad = |why: String| DemoError::Script { line: n + 1, why };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(d) = line.strip_prefix("wait ") {
            let d = humantime::parse_duration(d.trim()).map_err(|e| bad(format!("bad wait `{d}`: {e}")))?;
            steps.push(Step::Wait(d));
            continue;
        }
        let (expect_refusal, rest) = match line.strip_prefix("refused ") {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (user, text) = rest.split_once(':').ok_or_else(|| bad(format!("expected `NAME: TEXT`, got `{line}`")))?;
        steps.push(Step::Say { user: user.trim().to_string(), text: text.trim().to_string(), expect_refusal });
    }
    Ok(steps)
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub deployment_id: Option<i64>,
    pub audit: AuditReport,
    pub status_posts: usize,
    pub refusals: usize,
}

/// Where the demo's clock starts: far enough back that the whole simulated day lies in the
/// past when the demo ends, on a round minute.
pub fn default_origin(now: DateTime<Utc>) -> DateTime<Utc> {
    let start = now - chrono::Duration::hours(10);
    start.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(start)
}

pub async fn run(
    store: Store,
    origin: DateTime<Utc>,
    speed: f64,
    out: &mut (dyn Write + Send),
) -> Result<Summary, DemoError> {
    let steps = parse_script(SCRIPT)?;
    let clock = ManualClock::new(origin);
    let engine = Engine::new(store.clone(), Arc::new(Config::example()), Arc::new(clock.clone()));
    let channel = Channel { platform: Platform::Console, id: CHANNEL.to_string() };
    let terminal = Terminal::new(&engine);

    close_leftover(&store, &channel, out).await?;
    let _ = writeln!(
        out,
        "golive demo — deploying v2.4.0 with the example plan in console channel `{CHANNEL}`; one real second is {} of deployment time.\n",
        if speed > 0.0 { crate::render::human(Duration::from_secs_f64(speed)) } else { "anything (no pauses)".into() }
    );

    let mut status_posts = 0;
    let mut refusals = 0;
    for step in steps {
        match step {
            Step::Wait(d) => {
                let target = clock.now() + chrono::Duration::from_std(d).unwrap_or_default();
                // Fire every status slot between now and the target, each at its own time.
                while let Some(due) = engine.next_due().await?.filter(|t| *t <= target) {
                    pace(&clock, due, speed).await;
                    clock.set(due);
                    let posts = engine.submit(Input::Timers).await?.posts;
                    status_posts += posts.iter().filter(|p| matches!(p.message, Message::Status(_))).count();
                    terminal.deliver(out).await?;
                }
                pace(&clock, target, speed).await;
                clock.set(target);
            }
            Step::Say { user, text, expect_refusal } => {
                let _ = writeln!(out, "[{}] {user} › {text}", crate::render::text::time(clock.now()));
                let request = grammar::parse_line(&text, "/deploy")
                    .map_err(|e| DemoError::Script { line: 0, why: format!("`{text}` does not parse: {e}") })?;
                let answer = engine
                    .submit(Input::Request {
                        channel: channel.clone(),
                        actor: actor(&user),
                        request,
                        origin: Origin::default(),
                    })
                    .await?;
                terminal.show(out, &user, &answer).await?;
                if answer.refused != expect_refusal {
                    return Err(DemoError::Unexpected {
                        user,
                        text,
                        got: if answer.refused { "refused" } else { "accepted" },
                        expected: if expect_refusal { "refused" } else { "accepted" },
                        reply: answer.reply.unwrap_or_default(),
                    });
                }
                refusals += usize::from(answer.refused);
                pace(&clock, clock.now() + chrono::Duration::seconds(45), speed).await;
            }
        }
    }

    let deployment_id = store.deployments(Some(CHANNEL), 1).await.map_err(EngineError::from)?.first().map(|r| r.id);
    let audit = match store.verify().await.map_err(EngineError::from)? {
        Ok(report) => report,
        Err(failure) => return Err(DemoError::Audit(failure.to_string())),
    };
    Ok(Summary { deployment_id, audit, status_posts, refusals })
}

/// Waits in real time for the simulated span from now to `until`, scaled down by `speed`.
async fn pace(clock: &ManualClock, until: DateTime<Utc>, speed: f64) {
    if speed <= 0.0 {
        return;
    }
    let span = (until - clock.now()).to_std().unwrap_or_default();
    tokio::time::sleep(span.div_f64(speed)).await;
}

/// An earlier demo run that was interrupted leaves its deployment open in the demo channel;
/// close it, as its lead, saying why and at the real time, so this run can start.
async fn close_leftover(store: &Store, channel: &Channel, out: &mut (dyn Write + Send)) -> Result<(), DemoError> {
    let engine = Engine::new(store.clone(), Arc::new(Config::example()), Arc::new(SystemClock));
    if let Some(loaded) = store.open_deployment(channel).await.map_err(EngineError::from)? {
        let reason = "an earlier `golive demo` run was interrupted; closed by the next run".to_string();
        engine
            .submit(Input::command(channel, &loaded.state.lead, Command::Abort { reason }, Origin::default()))
            .await?;
        Terminal::new(&engine).deliver(out).await?;
        let _ = writeln!(out, "(closed deployment {} left open by an interrupted demo run)\n", loaded.id);
    }
    Ok(())
}
