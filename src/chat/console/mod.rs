//! The console channel: a local chat channel in the terminal. Lines typed on stdin are the
//! messages of a named local user (`console:NAME`); the bot's posts, including scheduled ones,
//! are printed. `golive console` runs it on the wall clock; `golive demo` drives it from a script.

pub mod demo;

use std::future::pending;
use std::io::Write;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::chat::grammar;
use crate::clock::Clock;
use crate::domain::{Actor, Channel, Platform};
use crate::engine::{Answer, Engine, EngineError, Input, Origin};
use crate::render::text;
use crate::store::Route;

/// Prints what came of one command: the private reply, then what the bot posted.
pub async fn print_outcome(
    out: &mut (dyn Write + Send),
    engine: &Engine,
    user: &str,
    outcome: &Answer,
) -> Result<(), EngineError> {
    let stamp = text::time(engine.now());
    if let Some(reply) = &outcome.reply {
        let tag = if outcome.refused { "refused" } else { "only you see this" };
        let _ = writeln!(out, "[{stamp}] golive → {user} ({tag}): {}", indent(reply));
    }
    deliver(out, engine).await
}

/// Delivers the console channels' messages from the outbox: the terminal is their chat API.
pub async fn deliver(out: &mut (dyn Write + Send), engine: &Engine) -> Result<(), EngineError> {
    let store = engine.store();
    loop {
        let now = engine.now();
        let items = store.deliverable(Route::Chat(Platform::Console), now, 100).await?;
        if items.is_empty() {
            break;
        }
        for item in items {
            let _ = writeln!(out, "[{}] golive: {}", text::time(now), indent(&item.payload.text));
            store.mark_sent(item.id, now, None, false).await?;
        }
    }
    let _ = out.flush();
    Ok(())
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n        ")
}

pub fn actor(user: &str) -> Actor {
    Actor::new(Platform::Console, user)
}

/// One line typed by `user`: a meta command (`:user NAME`) or a `/deploy` command.
async fn line(
    engine: &Engine,
    channel: &Channel,
    user: &mut String,
    line: &str,
    out: &mut (dyn Write + Send),
) -> Result<(), EngineError> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(());
    }
    if let Some(name) = line.strip_prefix(":user") {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            let _ = writeln!(out, "usage: :user NAME (one word, as in the config's console:NAME members)");
        } else {
            *user = name.to_string();
            let _ = writeln!(out, "you are now {user}");
        }
        return Ok(());
    }
    let outcome = match grammar::parse_line(line, &engine.config().slack.command) {
        Ok(request) => {
            let origin = Origin::default();
            engine.submit(Input::Request { channel: channel.clone(), actor: actor(user), request, origin }).await?
        }
        Err(e) => Answer::refused(e.to_string()),
    };
    print_outcome(out, engine, user, &outcome).await
}

/// The interactive loop: commands from `input`, status posts when they fall due, until the
/// input ends or Ctrl-C.
pub async fn run(
    engine: &Engine,
    clock: &dyn Clock,
    channel: Channel,
    mut user: String,
    input: impl AsyncBufRead + Unpin,
    out: &mut (dyn Write + Send),
) -> Result<(), EngineError> {
    let _ = writeln!(
        out,
        "golive console — channel `{}`, you are `{user}` (console:{user}). Type `/deploy help`; `:user NAME` switches user; Ctrl-D quits.",
        channel.id
    );
    let mut lines = input.lines();
    engine.submit(Input::ResumeTimers).await?;
    loop {
        let due = engine.next_due().await?;
        let timer = async {
            match due {
                Some(t) => clock.sleep_until(t).await,
                None => pending().await,
            }
        };
        tokio::select! {
            next = lines.next_line() => match next {
                Ok(Some(text)) => line(engine, &channel, &mut user, &text, out).await?,
                Ok(None) => break,
                Err(e) => {
                    let _ = writeln!(out, "cannot read input: {e}");
                    break;
                }
            },
            _ = timer => {
                engine.submit(Input::Timers).await?;
                deliver(out, engine).await?;
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}
