//! The console's chat API: the terminal is one more transport of the outbox. The delivery
//! worker hands it the console channels' posts as it hands Slack and Discord theirs, oldest
//! first in each channel, and records them sent; the terminal keeps the lines until the
//! console prints them, after the reply to whatever caused them.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use crate::clock::SharedClock;
use crate::delivery::{Delivery, DeliveryError, SendError, Sent, Transport};
use crate::domain::Platform;
use crate::engine::{Answer, Engine, EngineError};
use crate::render::text;
use crate::store::{OutboxItem, Route};

#[derive(Debug, Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

/// Lines delivered and not yet printed, with their outbox ids.
type Delivered = Arc<Mutex<Vec<(i64, String)>>>;

/// The transport: takes each post as the line that shows it.
struct Lines {
    clock: SharedClock,
    delivered: Delivered,
}

#[async_trait]
impl Transport for Lines {
    fn route(&self) -> Route {
        Route::Chat(Platform::Console)
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let line = format!("[{}] golive: {}", text::time(self.clock.now()), indent(&item.payload.text));
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).push((item.id, line));
        Ok(Sent::default())
    }
}

/// Continuation lines of a post, under its first.
pub(super) fn indent(s: &str) -> String {
    s.replace('\n', "\n        ")
}

/// What one engine's console channels show: the replies to their commands, and their posts
/// as the delivery worker delivers them.
pub struct Terminal {
    engine: Engine,
    delivery: Delivery,
    delivered: Delivered,
}

impl Terminal {
    pub fn new(engine: &Engine) -> Terminal {
        let delivered = Delivered::default();
        let lines = Lines { clock: engine.clock(), delivered: delivered.clone() };
        let mut outbox = engine.outbox();
        // A terminal needs no pacing: a burst of posts shows at once, in order.
        outbox.settings.channel_interval = Duration::ZERO;
        let delivery = Delivery::new(outbox, engine.clock(), vec![Arc::new(lines)]);
        Terminal { engine: engine.clone(), delivery, delivered }
    }

    /// Prints what came of one command: the private reply, then what the bot posted.
    pub async fn show(&self, out: &mut (dyn Write + Send), user: &str, answer: &Answer) -> Result<(), ConsoleError> {
        let stamp = text::time(self.engine.now());
        if let Some(reply) = &answer.reply {
            let tag = if answer.refused { "refused" } else { "only you see this" };
            let _ = writeln!(out, "[{stamp}] golive → {user} ({tag}): {}", indent(reply));
        }
        self.deliver(out).await
    }

    /// Delivers every console post that may go now and prints them, oldest first.
    pub async fn deliver(&self, out: &mut (dyn Write + Send)) -> Result<(), ConsoleError> {
        loop {
            // One pass delivers the oldest post of each channel.
            let pass = self.delivery.deliver_due().await?;
            let mut lines = std::mem::take(&mut *self.delivered.lock().unwrap_or_else(|e| e.into_inner()));
            lines.sort_by_key(|(id, _)| *id);
            for (_, line) in lines {
                let _ = writeln!(out, "{line}");
            }
            if pass.attempted() == 0 {
                break;
            }
        }
        let _ = out.flush();
        Ok(())
    }
}
