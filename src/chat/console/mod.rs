//! The console channel: a local chat channel in the terminal. Lines typed on stdin are the
//! messages of a named local user (`console:NAME`); the bot's posts, including scheduled ones,
//! are printed. The console is one more platform of the outbox: the delivery worker delivers
//! its posts to the `terminal`, and the server's timer loop fires its scheduled ones.
//! `golive console` runs it on the wall clock; `golive demo` drives it from a script.

pub mod demo;
mod terminal;

pub use terminal::{ConsoleError, Terminal};

use std::io::Write;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::watch;

use crate::commands::grammar;
use crate::domain::{Actor, Channel, Platform};
use crate::engine::{Answer, Engine, Input, Origin};
use crate::workers::timer_loop;

pub fn actor(user: &str) -> Actor {
    Actor::new(Platform::Console, user)
}

/// One line typed by `user`: a meta command (`:user NAME`) or a `/deploy` command.
async fn line(
    terminal: &Terminal,
    engine: &Engine,
    channel: &Channel,
    user: &mut String,
    line: &str,
    out: &mut (dyn Write + Send),
) -> Result<(), ConsoleError> {
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
    let answer = match grammar::parse_line(line, &engine.config().slack.command) {
        Ok(request) => {
            let origin = Origin::default();
            engine.submit(Input::Request { channel: channel.clone(), actor: actor(user), request, origin }).await?
        }
        Err(e) => Answer::refused(e.to_string()),
    };
    terminal.show(out, user, &answer).await
}

/// The interactive loop: commands from `input`, and the posts of the server's timer loop
/// (status posts, reminders, escalations) as they are queued, until the input ends or Ctrl-C.
pub async fn run(
    engine: &Engine,
    channel: Channel,
    mut user: String,
    input: impl AsyncBufRead + Unpin,
    out: &mut (dyn Write + Send),
) -> Result<(), ConsoleError> {
    let _ = writeln!(
        out,
        "golive console — channel `{}`, you are `{user}` (console:{user}). Type `/deploy help`; `:user NAME` switches user; Ctrl-D quits.",
        channel.id
    );
    let terminal = Terminal::new(engine);
    let mut lines = input.lines();
    // The timer loop stops with the console: it is dropped when the loop ends.
    let (_running, stop) = watch::channel(false);
    let timers = timer_loop::run(engine.clone(), stop);
    tokio::pin!(timers);
    let enqueued = engine.signals().enqueued.clone();
    loop {
        tokio::select! {
            next = lines.next_line() => match next {
                Ok(Some(text)) => line(&terminal, engine, &channel, &mut user, &text, out).await?,
                Ok(None) => break,
                Err(e) => {
                    let _ = writeln!(out, "cannot read input: {e}");
                    break;
                }
            },
            _ = enqueued.notified() => terminal.deliver(out).await?,
            () = &mut timers => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}
