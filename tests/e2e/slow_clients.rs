//! Slow clients against a real `golive serve` process held to the common 1,024 open-file
//! limit: a thousand connections that dribble their headers, and idle ones, do not keep
//! signed commands or `/healthz` from being answered, and golive closes them itself.

use crate::harness;
use std::time::Duration;

use crate::harness::process::Served;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SLOW: usize = 1_000;
const IDLE: usize = 100;

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_connections_do_not_lock_out_signed_commands() {
    let dir = tempfile::tempdir().unwrap();
    let golive = Served::start(dir.path(), "golive.db", "ulimit -Sn 1024").await;
    let mut held = Vec::new();
    for n in 0..SLOW + IDLE {
        let mut stream = TcpStream::connect(&golive.addr).await.expect("connect");
        if n < SLOW {
            stream.write_all(b"POST /slack/commands HTTP/1.1\r\nHost: golive\r\n").await.unwrap();
        }
        held.push(stream);
    }
    // One more header line on every slow connection, as a slowloris does.
    for stream in held.iter_mut().take(SLOW) {
        stream.write_all(b"X-Slow: 1\r\n").await.unwrap();
    }

    // Answered while all of them are open. The bound is only a timeout, far above what an
    // answer takes and below the 10 s golive gives a request head.
    let patience = Duration::from_secs(5);
    let asked = std::time::Instant::now();
    let started = golive.slash("U0DANA", "start v1.0.0", "slow.1", patience).await;
    eprintln!("note: a signed command was answered in {:?} with {} connections held", asked.elapsed(), held.len());
    let started = started.expect("a signed command is answered while a thousand slow clients wait");
    assert_eq!(started.status, 200, "{}", started.body);
    let health = tokio::time::timeout(patience, harness::http::try_get(&golive.addr, "/healthz")).await;
    assert!(health.ok().flatten().is_some_and(|a| a.status == 200), "/healthz is answered");
    let note = golive.slash("U0OPS", "note still here", "slow.2", patience).await.expect("answered");
    assert_eq!(note.status, 200, "{}", note.body);

    // golive hangs up on every slow and idle connection once its header timeout passes.
    let closed = async {
        for stream in &mut held {
            let mut buf = [0u8; 512];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    // A 408 answer before the close is fine too.
                    Ok(_) => continue,
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), closed).await.expect("golive closes slow and idle connections");
    let rows = golive::store::Store::open_existing(&format!("sqlite://{}", dir.path().join("golive.db").display()))
        .await
        .unwrap()
        .deployments(None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}
