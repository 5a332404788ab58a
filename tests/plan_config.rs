//! Config and plan loading: the example loads, and every kind of broken plan is reported with
//! the file, the line and the key.

use golive::config::{Config, ConfigError};

const BASE: &str = r#"
[roles.ops]
name = "Operations"
members = ["slack:U0OPS", "console:olga"]

[roles.lead]
members = ["console:alice"]

[plans.std]
name = "Standard"

[[plans.std.phases]]
id = "pre"
planned = "1h 30m"
signoffs = ["lead"]
items = [
  { id = "backup", text = "Backup taken", role = "ops" },
  { id = "notes", text = "Notes written", role = "lead", required = false },
]

[[plans.std.phases]]
id = "prod"
planned = "2h"
traffic = [50, 100]
items = [{ id = "health", text = "Health is 200", role = "ops" }]
"#;

fn ok(text: &str) -> Config {
    Config::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Replaces `from` with `to` in the base config and expects an error on the line where `to`
/// stands, at `key`, with a message containing `message`.
fn broken(from: &str, to: &str, key: &str, message: &str) {
    assert!(BASE.contains(from), "{from:?} is not in the base config");
    let text = BASE.replacen(from, to, 1);
    // The line where the replacement's last line stands (for multi-line `to`, the new key).
    let at = BASE.find(from).unwrap_or(0);
    let line = BASE[..at].matches('\n').count() + to.matches('\n').count() + 1;
    broken_text(&text, Some(line), key, message);
}

fn broken_text(text: &str, line: Option<usize>, key: &str, message: &str) {
    match Config::parse(text, "test.toml") {
        Ok(_) => panic!("accepted a config that should fail at {key}: {text}"),
        Err(ConfigError::Invalid { file, line: got_line, key: got_key, message: got }) => {
            assert_eq!(file, "test.toml");
            if let Some(line) = line {
                assert_eq!(got_line, line, "line of `{key}`: {got}");
            }
            assert_eq!(got_key, key, "{got}");
            assert!(got.contains(message), "expected {message:?} in {got:?}");
        }
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn the_built_in_example_is_the_plan_the_seeds_describe() {
    let c = Config::example();
    assert_eq!(c.default_plan, "standard");
    let plan = c.default_plan();
    let ids: Vec<&str> = plan.phases.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["pre-deployment", "staging", "production", "post-deployment"]);
    assert_eq!(plan.go_gate.as_deref(), Some("production"));
    assert_eq!(plan.phases[2].traffic, [50, 70, 85, 100]);
    assert_eq!(plan.phases[3].signoffs, ["tech-lead", "product", "security", "ops"]);
    assert_eq!(c.escalation.len(), 3);
    assert_eq!(c.status.cron, "0 */30 * * * *");
    // The file in the repository is the one built in.
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    assert_eq!(on_disk, golive::config::EXAMPLE);
}

#[test]
fn defaults_fill_in_what_is_left_out() {
    let c = ok(BASE);
    let plan = &c.plans["std"];
    assert_eq!(c.default_plan, "std", "the only plan is the default");
    assert_eq!(plan.go_gate.as_deref(), Some("prod"), "the first phase with traffic is the gate");
    assert_eq!(plan.phases[0].planned.as_secs(), 90 * 60);
    assert_eq!(plan.phases[0].name, "pre");
    assert!(plan.phases[0].items[0].required);
    assert!(!plan.phases[0].items[1].required);
    assert_eq!(c.roles.get("lead").unwrap().name, "lead");
    assert_eq!(c.server.listen, "127.0.0.1:3000");
    assert_eq!(c.database.url, "sqlite://golive.db");
    assert_eq!(c.slack.command, "/deploy");
    assert!(c.escalation.is_empty());
}

#[test]
fn broken_plans_are_reported_with_file_line_and_key() {
    broken(r#"id = "prod""#, r#"id = "pre""#, "plans.std.phases[1].id", "phase id `pre` is used twice");
    broken(
        r#"{ id = "notes""#,
        r#"{ id = "backup""#,
        "plans.std.phases[0].items[1].id",
        "item id `backup` is used twice in phase `pre`",
    );
    broken(
        r#"text = "Health is 200", role = "ops""#,
        r#"text = "Health is 200", role = "opz""#,
        "plans.std.phases[1].items[0].role",
        "unknown role `opz`; roles: lead, ops",
    );
    broken(r#"signoffs = ["lead"]"#, r#"signoffs = ["ceo"]"#, "plans.std.phases[0].signoffs[0]", "unknown role `ceo`");
    broken(r#"planned = "2h""#, r#"planned = "soon""#, "plans.std.phases[1].planned", "`soon` is not a duration");
    broken(r#"planned = "2h""#, r#"planned = "0s""#, "plans.std.phases[1].planned", "longer than zero");
    broken("traffic = [50, 100]", "traffic = [100, 50]", "plans.std.phases[1].traffic", "rising");
    broken("traffic = [50, 100]", "traffic = [0, 50]", "plans.std.phases[1].traffic", "from 1 to 100");
    broken(
        r#"members = ["console:alice"]"#,
        r#"members = ["alice"]"#,
        "roles.lead.members[0]",
        "write it as platform:id",
    );
    broken(
        r#"members = ["console:alice"]"#,
        r#"members = ["irc:alice"]"#,
        "roles.lead.members[0]",
        "`irc` is not a platform",
    );
    broken(
        r#"members = ["console:alice"]"#,
        r#"members = ["console:alice", "console:alice"]"#,
        "roles.lead.members[1]",
        "listed twice",
    );
    broken(r#"id = "pre""#, r#"id = "pre deploy""#, "plans.std.phases[0].id", "not a usable id");
    broken(
        r#"name = "Standard""#,
        "name = \"Standard\"\ngo_gate = \"nowhere\"",
        "plans.std.go_gate",
        "no phase `nowhere`; phases: pre, prod",
    );
}

#[test]
fn the_whole_file_is_checked_not_only_the_plans() {
    let status = |s: &str| format!("[status]\n{s}\n{BASE}");
    broken_text(&status(r#"cron = "every half hour""#), Some(2), "status.cron", "is not a cron schedule");
    broken_text(&status(r#"timezone = "Mars/Olympus""#), Some(2), "status.timezone", "is not a timezone");
    broken_text(&format!("default_plan = \"fast\"\n{BASE}"), Some(1), "default_plan", "no plan `fast`; plans: std");
    let two = format!("{BASE}\n[plans.other]\n[[plans.other.phases]]\nid = \"x\"\nplanned = \"1h\"\n");
    broken_text(&two, None, "default_plan", "several plans are defined");
    broken_text("[roles.ops]\nmembers = [\"console:olga\"]\n", None, "plans", "no plan is defined");
    broken_text(
        &format!("{BASE}\n[plans.empty]\nname = \"Empty\"\n"),
        None,
        "plans.empty.phases",
        "the plan has no phases",
    );
    broken_text(
        &BASE.replacen(r#"members = ["console:alice"]"#, "members = []", 1),
        Some(7),
        "roles.lead.members",
        "has no members",
    );
    let level = |s: &str| format!("{BASE}\n[[escalation.levels]]\nname = \"L1\"\n{s}\n");
    let text = level("ack_timeout = \"5 minutes-ish\"\nmembers = [\"console:olga\"]");
    let line = text.lines().position(|l| l.contains("ack_timeout")).unwrap() + 1;
    broken_text(&text, Some(line), "escalation.levels[0].ack_timeout", "is not a duration");
    broken_text(&level("ack_timeout = \"5m\""), None, "escalation.levels[0].members", "needs someone to page");
}

#[test]
fn unknown_keys_and_syntax_errors_point_at_their_line() {
    let text = BASE.replacen(r#"planned = "2h""#, "planned = \"2h\"\nplaned = \"3h\"", 1);
    let line = text.lines().position(|l| l.starts_with("planed")).unwrap() + 1;
    match Config::parse(&text, "test.toml") {
        Err(ConfigError::Invalid { line: got, message, .. }) => {
            assert!(message.contains("unknown field `planed`"), "{message}");
            assert!(got > 0 && got <= line, "line {got} for a key on line {line}");
        }
        other => panic!("{other:?}"),
    }
    let text = format!("{BASE}\n[server\nlisten = 1\n");
    let line = text.lines().position(|l| l == "[server").unwrap() + 1;
    match Config::parse(&text, "test.toml") {
        Err(ConfigError::Invalid { line: got, file, .. }) => {
            assert_eq!(file, "test.toml");
            assert_eq!(got, line);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_file_says_so() {
    let err = Config::load(std::path::Path::new("/nonexistent/golive.toml")).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/golive.toml: cannot read it:"), "{err}");
}
