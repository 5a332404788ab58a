//! Several replicas on one database (CONTRACT.md, "Several replicas"): each replica is its own
//! `Store` (its own connections) and engine, as another `golive serve` has, sharing one clock.
//! A whole deployment's commands going round three replicas record exactly the history, posts
//! and chain that one process records. Runs on one SQLite file, and on PostgreSQL as its twin.

use std::sync::Arc;

use golive::config::Config;
use golive::domain::{Actor, Platform};
use golive::engine::{Engine, Input};
use golive::store::Store;

use crate::harness::{self, minutes, Ctx};

/// A whole deployment of the example plan, line by line: who types what, and the minutes that
/// pass before it.
fn whole_deployment() -> Vec<(u64, &'static str, String)> {
    let mut lines = vec![(0, "dana", "start v2.4.0".to_string()), (1, "dana", "phase start pre-deployment".into())];
    let phase = |lines: &mut Vec<(u64, &'static str, String)>,
                 ticks: &[(&'static str, &str)],
                 signoffs: &[(&'static str, &str)]| {
        lines.extend(ticks.iter().map(|(who, item)| (2, *who, format!("check {item}"))));
        lines.extend(signoffs.iter().map(|(who, role)| (1, *who, format!("signoff {role}"))));
    };
    phase(&mut lines, harness::PRE_DEPLOYMENT_TICKS, harness::PRE_DEPLOYMENT_SIGNOFFS);
    lines.push((1, "olga", "note the backup took 12 minutes".into()));
    lines.extend([(1, "dana", "phase done".into()), (1, "dana", "phase start staging".into())]);
    phase(&mut lines, harness::STAGING_TICKS, harness::STAGING_SIGNOFFS);
    lines.extend([(1, "dana", "phase done".into()), (5, "dana", "go".into())]);
    lines.push((1, "dana", "phase start production".into()));
    phase(&mut lines, harness::PRODUCTION_TICKS, &[]);
    lines.push((1, "olga", "traffic 50".into()));
    lines.push((3, "olga", "escalate error rate at 0.4%".into()));
    lines.push((2, "dana", "ack".into()));
    for step in [70, 85, 100] {
        lines.push((31, "olga", format!("traffic {step}")));
    }
    phase(&mut lines, &[], harness::PRODUCTION_SIGNOFFS);
    lines.extend([(1, "dana", "phase done".into()), (1, "dana", "phase start post-deployment".into())]);
    phase(&mut lines, harness::POST_DEPLOYMENT_TICKS, harness::POST_DEPLOYMENT_SIGNOFFS);
    lines.extend([(1, "dana", "phase done".into()), (1, "dana", "complete".into())]);
    lines
}

/// Types the whole deployment into `engines` in turn (a scheduler pass on every one of them
/// between lines), and returns what was recorded: every event (time, actor, what) and every
/// queued post (what and where), in order.
async fn recorded_by(ctx: &Ctx, engines: &[Engine]) -> (Vec<String>, Vec<String>) {
    for (n, (wait, who, text)) in whole_deployment().into_iter().enumerate() {
        ctx.clock.advance(minutes(wait));
        for engine in engines {
            engine.submit(Input::Timers).await.unwrap();
        }
        let engine = &engines[n % engines.len()];
        let answer =
            engine.submit(Input::text(&ctx.channel, &Actor::new(Platform::Console, who), &text)).await.unwrap();
        assert!(!answer.refused, "{who}: {text}: {:?}", answer.reply);
    }
    let events = ctx.store.events(1).await.unwrap();
    let events = events.iter().map(|e| format!("{} {} {:?}", e.at, e.actor.key(), e.kind)).collect();
    let posts = ctx.store.outbox().await.unwrap();
    let posts = posts.into_iter().map(|r| format!("{} {}:{} {}", r.action, r.platform, r.channel, r.payload)).collect();
    (events, posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_taking_turns_record_what_one_process_records() {
    let engine = |store: Store, ctx: &Ctx| Engine::new(store, Arc::new(Config::example()), Arc::new(ctx.clock.clone()));
    let alone = Ctx::new().await;
    let one = recorded_by(&alone, &[engine(alone.store.clone(), &alone)]).await;

    let ctx = Ctx::new().await;
    let mut replicas = vec![engine(ctx.store.clone(), &ctx)];
    for _ in 0..2 {
        replicas.push(engine(Store::open(&ctx.url).await.unwrap(), &ctx));
    }
    let three = recorded_by(&ctx, &replicas).await;

    assert!(one.0.len() > 40, "a whole deployment: {} events", one.0.len());
    assert!(one.0.iter().any(|e| e.contains("Completed")), "{:#?}", one.0);
    assert_eq!(three.0, one.0, "the same history, event for event");
    assert_eq!(three.1, one.1, "the same posts, in the same order");
    let verified = ctx.store.verify().await.unwrap();
    assert!(verified.is_ok(), "{verified:?}");
}

crate::on_postgres!(three_replicas_taking_turns_record_what_one_process_records);

/// A TCP relay in front of the PostgreSQL server that a story can cut, as a network partition
/// between a replica and its database would: every connection through it is dropped, and new
/// ones are refused, until it is restored.
struct Relay {
    addr: std::net::SocketAddr,
    cut: Arc<std::sync::atomic::AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay { addr: listener.local_addr().unwrap(), cut: Arc::default(), links: Arc::default() };
        let (cut, links) = (relay.cut.clone(), relay.links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.lock().unwrap().push(link.abort_handle());
            }
        });
        relay
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Polls the replica's `/readyz` (a real process, on the wall clock) until `want` answers it.
async fn readyz_until(served: &harness::process::Served, want: u16) -> String {
    for _ in 0..200 {
        if let Some(answer) = served.get("/readyz").await.filter(|a| a.status == want) {
            return answer.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("/readyz never answered {want}; {}", served.log_tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_loses_its_database_says_so_on_readyz_until_it_is_back() {
    if harness::postgres::server().is_none() {
        eprintln!("note: skipped: set {} to run replicas on PostgreSQL", harness::postgres::URL_VAR);
        return;
    }
    let db = url::Url::parse(&harness::postgres::fresh_schema().await).unwrap();
    let upstream = format!("{}:{}", db.host_str().unwrap(), db.port().unwrap_or(5432));
    let relay = Relay::start(upstream).await;
    let mut through = db.clone();
    through.set_port(Some(relay.addr.port())).unwrap();
    through.set_host(Some("127.0.0.1")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let served = harness::process::Served::start(dir.path(), through.as_str(), "").await;
    assert_eq!(readyz_until(&served, 200).await, "ready\n");

    relay.cut();
    let said = readyz_until(&served, 503).await;
    assert!(said.starts_with("database unreachable") || said.starts_with("database not writable"), "{said}");
    relay.restore();
    assert_eq!(readyz_until(&served, 200).await, "ready\n", "ready again once the database is back");
}

/// A write transaction dropped where no runtime runs (a thread of its own, a destructor at
/// shutdown) still ends, on the runtime it began on: the write lock it held is free for the
/// next writer, on this replica and every other.
#[test]
fn a_postgresql_transaction_dropped_outside_a_runtime_lets_go_of_the_write_lock() {
    if harness::postgres::server().is_none() {
        eprintln!("note: skipped: set {} to run replicas on PostgreSQL", harness::postgres::URL_VAR);
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (url, tx) = runtime.block_on(async {
        let url = harness::postgres::fresh_schema().await;
        let tx = Store::open(&url).await.unwrap().begin().await.unwrap();
        (url, tx)
    });
    drop(tx);
    let next = runtime.block_on(async {
        let other = Store::open_existing(&url).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), other.begin()).await.map(|tx| tx.is_ok())
    });
    assert_eq!(next, Ok(true), "another replica's writer gets the lock");
}
