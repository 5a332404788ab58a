//! The `golive` binary end to end: the demo, the audit catching a tampered row, config
//! errors with file, line and key, and the history/show/migrate commands.

use std::path::Path;
use std::process::{Command, Output};

fn golive(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(args)
        .current_dir(dir)
        .env_remove("GOLIVE_CONFIG")
        .output()
        .expect("run golive")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the demo into `demo.db` in `dir`.
fn demo(dir: &Path) -> Output {
    let out = golive(&["demo", "--speed", "0", "--db", "demo.db"], dir);
    assert_eq!(out.status.code(), Some(0), "demo failed: {}\n{}", stdout(&out), stderr(&out));
    out
}

#[test]
fn the_demo_runs_a_whole_deployment_and_its_history_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&demo(dir.path()));
    for expected in [
        "dana started deploying v2.4.0",
        "golive → bruno (refused): only members of `security`",
        "STATUS v2.4.0",
        "GO: dana (as lead) gives the go for production.",
        "dana handed the lead to rhea",
        "watching 50% — 20 min to go",
        "golive → olga (refused): traffic stays at 50% until its items are done: latency.",
        "FORCED by rhea",
        "Traffic on the new version: 100%",
        "ESCALATION level 1 (Team leads)",
        "ESCALATION level 2 (Technical managers) not acknowledged in time",
        "maya acknowledged the level 2 escalation after 1m.",
        "Note from bruno:",
        "v2.4.0 completed by rhea",
        "Demo finished: deployment 1 completed",
    ] {
        assert!(out.contains(expected), "the demo did not show {expected:?}:\n{out}");
    }

    let verify = golive(&["audit", "verify", "--db", "demo.db"], dir.path());
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    assert!(stdout(&verify).starts_with("ok: "), "{}", stdout(&verify));
    // One deployment in the file is counted as one, not "1 deployments".
    assert!(stdout(&verify).contains(" events over 1 deployment, hash chain intact"), "{}", stdout(&verify));

    let history = stdout(&golive(&["history", "--db", "demo.db"], dir.path()));
    assert!(history.contains("v2.4.0"), "{history}");
    assert!(history.contains("completed"), "{history}");

    let md = stdout(&golive(&["show", "1", "--db", "demo.db", "--format", "md"], dir.path()));
    for expected in [
        "# Deployment 1: v2.4.0",
        "## Sign-off sheet",
        "| pre-deployment | security | sam |",
        "## Timeline",
        "REFUSED `signoff security`",
        "| Outcome | completed |",
    ] {
        assert!(md.contains(expected), "the report lacks {expected:?}:\n{md}");
    }
    let csv = stdout(&golive(&["show", "1", "--db", "demo.db", "--format", "csv"], dir.path()));
    assert!(csv.starts_with("seq,at,actor,actor_name,kind,details\r\n1,"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&golive(&["show", "1", "--db", "demo.db", "--format", "json"], dir.path())))
            .unwrap();
    assert_eq!(json["deployment"]["status"], "completed");
    assert_eq!(json["events"][0]["kind"]["kind"], "deployment_started");

    // A second demo run into the same file adds a second deployment; the chain still verifies.
    demo(dir.path());
    let verify = golive(&["audit", "verify", "--db", "demo.db"], dir.path());
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn history_finds_a_channel_in_the_form_it_prints_and_says_why_a_list_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let history = |args: &[&str]| {
        let mut all = vec!["history", "--db", "demo.db"];
        all.extend_from_slice(args);
        golive(&all, dir.path())
    };
    let listed = stdout(&history(&[]));
    assert!(listed.contains("console:demo"), "{listed}");
    // The channel as the list prints it, and its bare id, both find the deployment.
    for channel in ["console:demo", "demo"] {
        let out = stdout(&history(&["--channel", channel]));
        assert!(out.contains("v2.4.0") && out.contains("completed"), "--channel {channel}: {out}");
    }
    // Another channel finds nothing, and the answer does not claim the file is empty.
    let out = stdout(&history(&["--channel", "slack:C0DEPLOY"]));
    assert_eq!(
        out.trim(),
        "no deployments recorded in channel slack:C0DEPLOY in demo.db (others are; list them without --channel)"
    );
    // --limit 0 is a usage error, not an empty list.
    let zero = history(&["--limit", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{}", stdout(&zero));
    assert!(stderr(&zero).contains("--limit"), "{}", stderr(&zero));
    assert!(stdout(&zero).is_empty());

    // With the config at hand, the report names roles as people know them.
    let md = stdout(&golive(&["show", "1", "--db", "demo.db"], dir.path()));
    assert!(md.contains("| pre-deployment | tech-lead |"), "{md}");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"), dir.path().join("golive.toml")).unwrap();
    let md = stdout(&golive(&["show", "1", "--db", "demo.db"], dir.path()));
    assert!(md.contains("| pre-deployment | Technical Lead (`tech-lead`) |"), "{md}");
    assert!(md.contains("| Outcome | completed |") && md.contains("## Notes\n"), "{md}");
    // The closing sheet reads like seed 004's: the final sign-offs ticked, then the status.
    assert!(md.contains("## Deployment sign-off\n\n- [x] Technical Lead (`tech-lead`): alice · "), "{md}");
    assert!(md.contains("- [x] Operations Team (`ops`): olga · "), "{md}");
    assert!(md.contains("**Deployment Status:** ✅ Complete\n\n## Notes\n"), "{md}");
}

/// Edits the file the way someone with the sqlite3 tool would, through a separate connection.
fn tamper(db: &Path, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    });
}

#[test]
fn audit_verify_names_the_first_altered_deleted_or_truncated_event() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let cases = [
        ("UPDATE events SET actor = 'console:mallory' WHERE id = 12", "TAMPERED: event #12 (deployment 1, seq 12): its content does not match its hash"),
        ("UPDATE events SET payload = replace(payload, 'scan clean', 'scan skipped') WHERE kind = 'signed_off' AND payload LIKE '%scan clean%'", "its content does not match its hash"),
        ("DELETE FROM events WHERE id = 20", "TAMPERED: event #21 (deployment 1, seq 21): event #20 before it is missing"),
        ("DELETE FROM events WHERE id = (SELECT max(id) FROM events)", "the newest events were removed or altered"),
    ];
    for (i, (sql, expected)) in cases.iter().enumerate() {
        let copy = dir.path().join(format!("tampered-{i}.db"));
        std::fs::copy(dir.path().join("demo.db"), &copy).unwrap();
        // In WAL mode the newest pages may still be in the -wal file: copy it along, as a
        // backup tool would.
        for suffix in ["-wal", "-shm"] {
            let side = dir.path().join(format!("demo.db{suffix}"));
            if side.exists() {
                std::fs::copy(&side, dir.path().join(format!("tampered-{i}.db{suffix}"))).unwrap();
            }
        }
        tamper(&copy, sql);
        let out = golive(&["audit", "verify", "--db", copy.to_str().unwrap()], dir.path());
        assert_eq!(out.status.code(), Some(1), "`{sql}` went unnoticed: {}", stdout(&out));
        assert!(stdout(&out).contains(expected), "`{sql}`: expected {expected:?}, got {}", stdout(&out));
    }
}

#[test]
fn check_config_accepts_the_example_and_names_file_line_and_key_of_a_broken_plan() {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let ok = golive(&["check-config", "--config", example.to_str().unwrap()], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let summary = stdout(&ok);
    assert!(summary.contains("plan standard — Standard production release, the default: 10h planned"), "{summary}");
    assert!(summary.contains("3. production (Production deployment, 3h)"), "{summary}");
    assert!(summary.contains("traffic 50%→70%→85%→100% · needs go"), "{summary}");

    let text = std::fs::read_to_string(&example).unwrap();
    let broken = text.replacen(r#"role = "backend" },"#, r#"role = "backnd" },"#, 1);
    let line = broken.lines().position(|l| l.contains("backnd")).unwrap() + 1;
    std::fs::write(dir.path().join("golive.toml"), broken).unwrap();
    let bad = golive(&["check-config"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    let message = stderr(&bad);
    assert!(
        message.contains(&format!("golive.toml:{line}: plans.standard.phases[0].items[0].role: unknown role `backnd`")),
        "{message}"
    );
}

#[test]
fn check_config_prints_reminders_and_the_digest_and_counts_in_the_right_number() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")).unwrap();
    let edited = example
        .replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1)
        .replacen("# remind_after = \"30m\"", "remind_after = \"30m\"", 1)
        .replacen("id = \"production\"\n", "id = \"production\"\nremind_after = \"10m\"\n", 1)
        .replacen(r#"members = ["slack:U0SECURITY", "console:sam"]"#, r#"members = ["console:sam"]"#, 1)
        .replacen(r#"members = ["slack:U0STAKEHOLDER", "console:sol"]"#, r#"members = ["console:sol"]"#, 1)
        + "\n[notify]\nchannels = [\"slack:C0STAKEHOLDERS\"]\nevents = [\"started\", \"go\", \"rolled_back\"]\n";
    std::fs::write(dir.path().join("golive.toml"), &edited).unwrap();
    let out = golive(&["check-config"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = stdout(&out);
    for expected in [
        "  reminds the owners of open required items and missing sign-offs 30m into a phase\n",
        "3. production (Production deployment, 3h): 7 items (6 required) · sign-offs: ops · traffic 50%→70%→85%→100% · needs go · starts T-0 · hold 30m per step · remind after 10m",
        "\nstakeholder digest: slack:C0STAKEHOLDERS hear of started, go, rolled_back",
        "security (1 member),",
        "3. Project stakeholders — ack within 15m — 1 member\n",
    ] {
        assert!(summary.contains(expected), "check-config lacks {expected:?}:\n{summary}");
    }
    for wrong in ["1 members", "remind after 30m"] {
        assert!(!summary.contains(wrong), "check-config says {wrong:?}:\n{summary}");
    }

    // Without [notify] channels it says the digest is off, and a plan without remind_after
    // says nothing of reminders.
    let example_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let plain = stdout(&golive(&["check-config", "--config", example_path.to_str().unwrap()], dir.path()));
    assert!(plain.contains("\nstakeholder digest: off (no [notify] channels)"), "{plain}");
    assert!(!plain.contains("remind"), "{plain}");
}

#[test]
fn commands_that_need_a_database_say_where_to_find_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = golive(&["history"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no golive.toml here"), "{}", stderr(&out));

    let out = golive(&["audit", "verify", "--db", "missing.db"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("there is no database at missing.db"), "{}", stderr(&out));
    assert!(!dir.path().join("missing.db").exists(), "a read-only command must not create a database");

    let out = golive(&["migrate", "--db", "fresh.db"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = golive(&["history", "--db", "fresh.db"], dir.path());
    assert_eq!(stdout(&out), "no deployments recorded in fresh.db\n");
    let out = golive(&["history", "--db", "fresh.db", "--channel", "slack:C0DEPLOY"], dir.path());
    assert_eq!(stdout(&out), "no deployments recorded in channel slack:C0DEPLOY in fresh.db (none at all)\n");

    let out = golive(&["show", "7", "--db", "fresh.db"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no deployment 7"), "{}", stderr(&out));
}

#[test]
fn unknown_subcommands_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = golive(&["deploy-everything"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_console_reads_commands_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["console", "--user", "dana", "--db", "console.db"])
        .current_dir(dir.path())
        .env_remove("GOLIVE_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"/deploy start v1.0\n/deploy status\n/deploy oncall\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("dana started deploying v1.0"), "{text}");
    assert!(text.contains("STATUS v1.0"), "{text}");
    assert!(text.contains("1. Team leads — @alice @olga (ack within 5m)"), "{text}");
}

#[test]
fn an_unknown_or_unreachable_database_is_refused_plainly_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    for db in ["mysql://golive:secret@db.internal:3306/golive", "postgres://golive:secret@127.0.0.1:1/golive"] {
        for command in ["migrate", "history"] {
            let out = golive(&[command, "--db", db], dir.path());
            assert_eq!(out.status.code(), Some(1), "{command} {db}");
            let err = stderr(&out);
            if db.starts_with("mysql") {
                assert!(err.contains("mysql:// databases are not supported"), "{command}: {err}");
                assert!(err.contains("sqlite://golive.db") && err.contains("postgres://"), "{err}");
            } else {
                assert!(err.contains("database error"), "{command}: {err}");
            }
            assert!(!err.contains("secret"), "the password is not echoed: {err}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
}

/// The one-shot commands on PostgreSQL: the demo's deployment is listed, shown and verified,
/// and an edited row is caught, as on SQLite.
#[tokio::test]
async fn history_show_and_audit_verify_work_on_postgres() {
    use crate::harness::postgres;
    if postgres::server().is_none() {
        eprintln!("note: skipped: set {} to run the command line on PostgreSQL", postgres::URL_VAR);
        return;
    }
    let url = postgres::fresh_schema().await;
    let dir = tempfile::tempdir().unwrap();
    let out = golive(&["migrate", "--db", &url], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = golive(&["demo", "--speed", "0", "--db", &url], dir.path());
    assert_eq!(out.status.code(), Some(0), "demo failed: {}\n{}", stdout(&out), stderr(&out));
    let history = golive(&["history", "--db", &url], dir.path());
    assert!(stdout(&history).contains("v2.4.0"), "{}{}", stdout(&history), stderr(&history));
    let show = golive(&["show", "1", "--db", &url, "--format", "csv"], dir.path());
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(stdout(&show).lines().count() > 20, "{}", stdout(&show));
    let verified = golive(&["audit", "verify", "--db", &url], dir.path());
    assert_eq!(verified.status.code(), Some(0), "{}{}", stdout(&verified), stderr(&verified));
    assert!(stdout(&verified).contains("events"), "{}", stdout(&verified));

    let store = golive::store::Store::open_existing(&url).await.unwrap();
    let pool = store.postgres_pool().expect("a PostgreSQL store");
    // A replica cut off mid-transaction cannot hold the write lock for long.
    let (idle,): (String,) = sqlx::query_as("SHOW idle_in_transaction_session_timeout").fetch_one(pool).await.unwrap();
    assert_eq!(idle, "30s");
    sqlx::query("UPDATE events SET actor = 'console:mallory' WHERE id = 5").execute(pool).await.unwrap();
    let caught = golive(&["audit", "verify", "--db", &url], dir.path());
    assert_eq!(caught.status.code(), Some(1), "{}", stdout(&caught));
    let said = stdout(&caught) + &stderr(&caught);
    assert!(said.contains("event #5") && said.contains("does not match its hash"), "{said}");
    assert!(std::fs::read_dir(dir.path()).unwrap().count() == 0, "nothing was written beside it");
}
