//! A headless Chromium for tests, driven over the W3C WebDriver HTTP API through Debian's
//! `chromedriver`: open a page, run a script in it, click, take a screenshot. `None` (with a
//! note) where no browser is installed; `.ci/run` installs one.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

fn installed(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

impl Browser {
    /// A fresh headless Chromium, or `None` when there is none on this machine.
    pub async fn start() -> Option<Browser> {
        let Some(driver) = installed(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]) else {
            eprintln!("note: no chromedriver (apt-get install chromium chromium-driver); skipping the browser test");
            return None;
        };
        let Some(chromium) =
            installed(&["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"])
        else {
            eprintln!("note: no chromium (apt-get install chromium chromium-driver); skipping the browser test");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr = format!("127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser { driver: child, addr, session: String::new(), _profile: profile };
        // A bounded poll of an external process: chromedriver says it is up only on /status.
        for _ in 0..200 {
            if request(&browser.addr, "GET", "/status", b"").await.is_some_and(|(status, _)| status == 200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--hide-scrollbars", "--force-color-profile=srgb",
                    format!("--user-data-dir={}", browser._profile.path().display()),
                ],
            },
        }}});
        let created = browser.call("POST", "/session", capabilities).await;
        browser.session = created["sessionId"].as_str().expect("a WebDriver session").to_string();
        Some(browser)
    }

    /// One WebDriver command; its `value`. Panics with WebDriver's error.
    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        let (status, answer) = request(&self.addr, method, path, &body).await.expect("chromedriver answers");
        let value: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
        assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
        value["value"].clone()
    }

    fn at(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), json!({ "url": url })).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.call("POST", &self.at("/execute/sync"), json!({ "script": script, "args": args })).await
    }

    /// Runs `script`, which calls `arguments[arguments.length - 1]` with its result.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.call("POST", &self.at("/execute/async"), json!({ "script": script, "args": [] })).await
    }

    pub async fn text(&self) -> String {
        self.eval("return document.body.innerText;", json!([])).await.as_str().unwrap_or_default().to_string()
    }

    /// Polls `script` until it returns something truthy, for up to ten seconds.
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        // A bounded poll of an external process: the page's state is read by asking the browser.
        for _ in 0..200 {
            let value = self.eval(script, json!([])).await;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page never showed {what}; it reads:\n{}", self.text().await);
    }

    pub async fn click(&self, css: &str) {
        let found = self.call("POST", &self.at("/element"), json!({ "using": "css selector", "value": css })).await;
        let id = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("an element");
        self.call("POST", &self.at(&format!("/element/{id}/click")), json!({})).await;
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.call("POST", &self.at("/window/rect"), json!({ "width": width, "height": height })).await;
    }

    /// Saves the whole page as a PNG at `path`: the window is made as tall as the page first.
    pub async fn screenshot(&self, width: u32, path: &Path) {
        self.resize(width, 900).await;
        let height = self.eval("return document.documentElement.scrollHeight;", json!([])).await;
        self.resize(width, height.as_u64().unwrap_or(900).clamp(300, 12000) as u32).await;
        let png = self.call("GET", &self.at("/screenshot"), Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        eprintln!("screenshot: {}", path.display());
    }

    pub async fn close(mut self) {
        let _ = request(&self.addr, "DELETE", &format!("/session/{}", self.session), b"").await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// One request to chromedriver: its status and body. chromedriver says `Connection: close`
/// but keeps the connection open, so the body is read by its Content-Length.
async fn request(addr: &str, method: &str, path: &str, body: &[u8]) -> Option<(u16, String)> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.ok()?;
        stream.write_all(body).await.ok()?;
        let mut received = Vec::new();
        let mut buf = [0u8; 16384];
        loop {
            let text = String::from_utf8_lossy(&received).into_owned();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                });
                if length.is_some_and(|n| rest.len() >= n) {
                    let status = head.split_whitespace().nth(1)?.parse().ok()?;
                    return Some((status, rest.to_string()));
                }
            }
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                let (head, rest) = text.split_once("\r\n\r\n")?;
                return Some((head.split_whitespace().nth(1)?.parse().ok()?, rest.to_string()));
            }
            received.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(120), exchange).await.ok()?
}
