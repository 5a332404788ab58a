//! Stories on PostgreSQL: each gets a schema of its own in the database at
//! `GOLIVE_TEST_POSTGRES_URL` (golive's tables, migrations and write lock are all per schema),
//! so stories run side by side as they do on SQLite files. A story runs on PostgreSQL when
//! it is started through [`run`] (the twins in `on_postgres.rs`), or every story does with
//! `GOLIVE_TEST_BACKEND=postgres`. Without `GOLIVE_TEST_POSTGRES_URL`, [`run`] skips with a note.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

pub const URL_VAR: &str = "GOLIVE_TEST_POSTGRES_URL";

thread_local! {
    /// Set while a story started through [`run`] runs (its runtime's main thread).
    static ON_POSTGRES: Cell<bool> = const { Cell::new(false) };
}

/// The server the Postgres-backed stories use, if one is given.
pub fn server() -> Option<String> {
    std::env::var(URL_VAR).ok().filter(|u| !u.is_empty())
}

/// Whether the story being set up runs on PostgreSQL.
pub fn wanted() -> bool {
    ON_POSTGRES.with(Cell::get) || std::env::var("GOLIVE_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// Runs `story` (a `#[tokio::test]` function) with its database on PostgreSQL, or skips it
/// with a note when no server is given.
pub fn run(name: &str, story: fn()) {
    if server().is_none() {
        eprintln!("note: {name} on PostgreSQL skipped: set {URL_VAR} (e.g. postgres://postgres@127.0.0.1:5432/test)");
        return;
    }
    ON_POSTGRES.with(|on| on.set(true));
    story();
}

/// A new, empty schema for one story; returns the URL that puts golive in it. Schemas left
/// by earlier runs whose process has gone are dropped first.
pub async fn fresh_schema() -> String {
    static MADE: AtomicU32 = AtomicU32::new(0);
    let server = server().expect("a PostgreSQL server for this story");
    let mut conn = sqlx::PgConnection::connect(&server).await.expect("connect to GOLIVE_TEST_POSTGRES_URL");
    let pid = std::process::id();
    if MADE.load(Ordering::SeqCst) == 0 {
        let stale: Vec<(String,)> =
            sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'golive\\_t%\\_%'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        for (schema,) in stale {
            let owner = schema.trim_start_matches("golive_t").split('_').next().and_then(|p| p.parse::<u32>().ok());
            if owner.is_some_and(|p| p != pid && !std::path::Path::new(&format!("/proc/{p}")).exists()) {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&mut conn).await;
            }
        }
    }
    let schema = format!("golive_t{pid}_{}", MADE.fetch_add(1, Ordering::SeqCst));
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&mut conn).await.unwrap();
    let _ = conn.close().await;
    let joint = if server.contains('?') { '&' } else { '?' };
    format!("{server}{joint}options=-c%20search_path%3D{schema}")
}

/// Declares, in a test module, a twin of each story named that runs it on PostgreSQL:
/// `store::a_story` gets the twin `store::on_postgres::a_story`.
#[macro_export]
macro_rules! on_postgres {
    ($($story:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $story() {
                    $crate::harness::postgres::run(concat!(module_path!(), "::", stringify!($story)), super::$story);
                }
            )*
        }
    };
}

/// Runs `$body` with `$pool` bound to the store's own pool, SQLite's or PostgreSQL's: for
/// stories that edit the tables directly, as someone with write access to the database would.
/// Their SQL must be what both take (`$1` parameters).
#[macro_export]
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match ($store.sqlite_pool(), $store.postgres_pool()) {
            (Some($pool), _) => $body,
            (_, Some($pool)) => $body,
            (None, None) => unreachable!("a store is on SQLite or on PostgreSQL"),
        }
    };
}
