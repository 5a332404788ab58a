//! `golive serve` as a real process for tests about the process itself (slow clients, storage
//! faults): the example config with Slack on and pointed at a fake, a port of its own, signed
//! slash commands, and the process killed when the test ends.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use golive::config::EXAMPLE;

use super::fake_slack::FakeSlack;
use super::http::{try_get, try_post, Answer};

pub const SECRET: &str = "process-test-secret";

pub struct Served {
    pub child: Child,
    pub addr: String,
    pub dir: PathBuf,
    pub fake: FakeSlack,
    /// The server's log, outside `dir` (which a test may fill up or replace).
    log: tempfile::NamedTempFile,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The example config with Slack on, posting to `fake`, listening on `addr`.
pub fn slack_config(addr: &str, fake: &FakeSlack) -> String {
    EXAMPLE
        .replace("listen = \"127.0.0.1:3000\"", &format!("listen = \"{addr}\""))
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        .replace("api_url = \"https://slack.com/api/\"", &format!("api_url = \"{}\"", fake.url))
}

/// [`slack_config`] with quick posts.
pub fn config(addr: &str, fake: &FakeSlack) -> String {
    slack_config(addr, fake) + "\n[delivery]\nchannel_interval = \"5ms\"\n"
}

impl Served {
    /// Starts `golive serve` in `dir` with `db` as its database (a path or URL), through
    /// `sh -c` with `shell` run first (e.g. `ulimit -Sn 1024`), and waits until it is ready.
    pub async fn start(dir: &Path, db: &str, shell: &str) -> Served {
        let fake = FakeSlack::start().await;
        let addr = format!("127.0.0.1:{}", free_port());
        std::fs::write(dir.join("golive.toml"), config(&addr, &fake)).unwrap();
        let script = format!("{shell}\nexec \"$0\" serve --db \"$1\"");
        let log = tempfile::NamedTempFile::new().expect("a file for the server's log");
        let child = Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_golive"), db])
            .current_dir(dir)
            .env_remove("GOLIVE_CONFIG")
            .env("GOLIVE_SLACK_BOT_TOKEN", "xoxb-process")
            .env("GOLIVE_SLACK_SIGNING_SECRET", SECRET)
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("the server's log"))
            .spawn()
            .expect("start golive serve");
        let served = Served { child, addr, dir: dir.to_path_buf(), fake, log };
        // A bounded poll of an external process: it says it is up only on /healthz.
        for _ in 0..400 {
            if try_get(&served.addr, "/healthz").await.is_some_and(|a| a.status == 200) {
                return served;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("golive serve never answered /healthz");
    }

    /// `/deploy TEXT` from `user` in #deploys, signed now; `None` when nothing answered within
    /// `patience`.
    pub async fn slash(&self, user: &str, text: &str, trigger: &str, patience: Duration) -> Option<Answer> {
        let now = chrono::Utc::now().timestamp();
        let (headers, body) = super::http::slash_command(SECRET, now, "C0DEPLOY", user, text, trigger);
        let send =
            try_post(&self.addr, "/slack/commands", "application/x-www-form-urlencoded", &headers, body.as_bytes());
        tokio::time::timeout(patience, send).await.ok().flatten()
    }

    /// The last lines the server logged, and whether it is still running, for a failure's
    /// message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        // An exited child stays a zombie (state Z) until it is waited for.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let running = match stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()) {
            Some('Z') | None => "has exited",
            Some(_) => "is still running",
        };
        format!("golive serve {running}; its last log lines:\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
    }

    pub async fn get(&self, path: &str) -> Option<Answer> {
        tokio::time::timeout(Duration::from_secs(10), try_get(&self.addr, path)).await.ok().flatten()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small tmpfs mounted for one test, to fill up: `None` (with a note) where mounting is not
/// permitted.
pub struct Tmpfs {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("fs");
        std::fs::create_dir(&path).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("note: cannot mount a tmpfs here (not root?); skipping the full-disk test");
            return None;
        }
        Some(Tmpfs { path, _dir: dir })
    }

    /// Writes a file until the file system is full; returns its path.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x55u8; 4096];
        while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}
