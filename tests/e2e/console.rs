//! The console channel's loop: typed lines in, posts out, and the scheduled status post
//! arriving on its own when the (manual) clock reaches the half hour.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::{minutes, Ctx};
use golive::chat::console;
use tokio::io::AsyncWriteExt;

/// The terminal: everything the console prints, readable while it runs; each write wakes a
/// test waiting for what it shows.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>, Arc<tokio::sync::Notify>);

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        self.1.notify_waiters();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits (at most five seconds) until `needle` has been printed, waking on each write.
    async fn shows(&self, needle: &str) -> String {
        let shown = async {
            loop {
                let written = self.1.notified();
                tokio::pin!(written);
                written.as_mut().enable();
                let text = self.text();
                if text.contains(needle) {
                    return text;
                }
                written.await;
            }
        };
        match tokio::time::timeout(Duration::from_secs(5), shown).await {
            Ok(text) => text,
            Err(_) => panic!("the console never showed {needle:?}; it shows:\n{}", self.text()),
        }
    }
}

#[tokio::test]
async fn typing_in_the_console_drives_a_deployment_and_status_arrives_on_schedule() {
    let ctx = Ctx::new().await; // 09:07
    let (mut keyboard, stdin) = tokio::io::duplex(4096);
    let screen = Screen::default();
    let (engine, channel, mut out) = (ctx.engine.clone(), ctx.channel.clone(), screen.clone());
    let running = tokio::spawn(async move {
        console::run(&engine, channel, "dana".into(), tokio::io::BufReader::new(stdin), &mut out).await
    });

    keyboard.write_all(b"/deploy start v2.4.0\n").await.unwrap();
    screen.shows("dana started deploying v2.4.0").await;
    keyboard.write_all(b"/deploy phase start pre-deployment\n").await.unwrap();
    screen.shows("Phase 1/4 pre-deployment").await;

    keyboard.write_all(b":user bruno\n/deploy signoff security lgtm\n").await.unwrap();
    screen.shows("golive → bruno (refused): only members of `security`").await;

    keyboard.write_all(b"/deploy nonsense\n").await.unwrap();
    screen.shows("unknown command `nonsense`").await;

    ctx.advance(minutes(23)); // 09:30: the loop's timer fires without anyone typing.
    let shown = screen.shows("STATUS v2.4.0").await;
    assert!(shown.contains("next update 10:00 UTC"), "{shown}");

    drop(keyboard); // Ctrl-D
    running.await.unwrap().unwrap();
    let kinds = ctx.event_kinds(1).await;
    assert_eq!(kinds, ["deployment_started", "phase_started", "command_refused", "status_posted"]);
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(typing_in_the_console_drives_a_deployment_and_status_arrives_on_schedule,);
