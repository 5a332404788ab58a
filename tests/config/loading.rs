//! What loads: the built-in example (and that it is the file in the repository), the
//! defaults filled in for what a config leaves out, the shape of an error, and a missing file.

use std::time::Duration;

use golive::config::{EXAMPLE, EXAMPLE_NAME};

use crate::*;

#[test]
fn the_example_loads_with_its_plan_gate_and_escalation_path() {
    let c = Config::example();
    assert_eq!(c.source, EXAMPLE_NAME);
    assert_eq!(c.default_plan, "standard");
    assert_eq!(c.plans.len(), 1);
    let plan = c.default_plan();
    assert_eq!(plan.id, "standard");
    assert_eq!(plan.name, "Standard production release");
    assert_eq!(plan.phases.len(), 4);
    let ids: Vec<&str> = plan.phases.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["pre-deployment", "staging", "production", "post-deployment"]);
    assert_eq!(plan.go_gate.as_deref(), Some("production"));
    assert_eq!(plan.go_gate_index(), Some(2));
    assert_eq!(plan.phases[2].traffic, [50, 70, 85, 100]);
    assert_eq!(plan.phases[3].signoffs, ["tech-lead", "product", "security", "ops"]);
    assert_eq!(plan.planned_total(), Duration::from_secs(10 * 3600));

    assert_eq!(c.escalation.len(), 3);
    let levels: Vec<(&str, u64)> = c.escalation.iter().map(|l| (l.name.as_str(), l.ack_timeout.as_secs())).collect();
    assert_eq!(levels, [("Team leads", 300), ("Technical managers", 600), ("Project stakeholders", 900)]);

    assert_eq!(c.roles.ids(), ["backend", "frontend", "ops", "product", "release-manager", "security", "tech-lead"]);
    assert_eq!(c.status.cron, "0 */30 * * * *");
    assert_eq!(c.status.timezone, chrono_tz::Tz::UTC);
    assert!(!c.slack.enabled);
    assert_eq!(c.slack.command, "/deploy");
}

#[test]
fn the_example_marks_its_optional_items() {
    let c = Config::example();
    let optional: Vec<&str> = c
        .default_plan()
        .phases
        .iter()
        .flat_map(|p| p.items.iter())
        .filter(|i| !i.required)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(optional, ["certificates", "bundle-size", "maintenance-notice", "runbook"]);
}

#[test]
fn the_built_in_example_is_the_file_in_the_repository() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    assert_eq!(on_disk, EXAMPLE);
}

/// `deploy/compose.yaml` mounts this file into every replica: it must stay a valid config.
#[test]
fn the_replicas_example_in_deploy_is_a_valid_config_on_postgres() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/replicas.toml");
    let c = Config::load(std::path::Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.database.url.starts_with("postgres://"), "{}", c.database.url);
    assert_eq!(c.server.listen, "0.0.0.0:3000");
}

#[test]
fn the_example_parses_the_same_under_any_file_name() {
    let c = Config::parse(EXAMPLE, FILE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, FILE);
    assert_eq!(c.plans, Config::example().plans);
}

#[test]
fn the_base_config_loads_as_written() {
    let c = ok(BASE);
    assert_eq!(c.source, FILE);
    assert_eq!(c.default_plan, "std");
    assert_eq!(c.status.cron, "0 */15 * * * *");
    assert_eq!(c.status.timezone, chrono_tz::Tz::Europe__Berlin);
    let plan = c.default_plan();
    assert_eq!(plan.name, "Standard");
    assert_eq!(plan.phases[0].signoffs, ["lead"]);
    assert_eq!(plan.phases[1].signoffs, ["ops", "lead"]);
    assert_eq!(plan.phases[1].traffic, [50, 100]);
    assert_eq!(c.roles.get("ops").map(|r| r.name.as_str()), Some("Operations"));
    assert_eq!(c.roles.get("ops").map(|r| r.members.len()), Some(2));
    assert_eq!(c.escalation.len(), 2);
    assert_eq!(c.escalation[1].members.len(), 2);
}

#[test]
fn without_a_go_gate_the_first_phase_with_traffic_is_the_gate() {
    let plan = ok(BASE).default_plan().clone();
    // `prod` and `post` both shift traffic; `prod` comes first.
    assert_eq!(plan.go_gate.as_deref(), Some("prod"));
    // Without traffic in `prod`, the gate moves on to `post`.
    let plan = ok(&base_with("traffic = [50, 100]\n", "")).default_plan().clone();
    assert_eq!(plan.go_gate.as_deref(), Some("post"));
    // No phase shifts traffic: no gate.
    let text = base_with("traffic = [50, 100]\n", "").replace("traffic = [100]\n", "");
    assert_eq!(ok(&text).default_plan().go_gate, None);
}

#[test]
fn a_written_go_gate_wins_over_the_traffic_rule() {
    let c = ok(&base_with("name = \"Standard\"", "name = \"Standard\"\ngo_gate = \"pre\""));
    assert_eq!(c.default_plan().go_gate.as_deref(), Some("pre"));
}

#[test]
fn items_are_required_unless_they_say_not() {
    let c = ok(BASE);
    let plan = c.default_plan();
    let required: Vec<(&str, bool)> =
        plan.phases.iter().flat_map(|p| p.items.iter()).map(|i| (i.id.as_str(), i.required)).collect();
    assert_eq!(required, [("backup", true), ("notes", false), ("health", true)]);
    let c = ok(&base_with("role = \"ops\" }]", "role = \"ops\", required = true }]"));
    assert!(c.default_plan().phases[1].items[0].required);
}

#[test]
fn items_may_be_written_as_tables() {
    let text = base_with(
        "items = [{ id = \"health\", text = \"Health is 200\", role = \"ops\" }]\n",
        "\n[[plans.std.phases.items]]\nid = \"health\"\ntext = \"Health is 200\"\nrole = \"ops\"\n\n\
         [[plans.std.phases.items]]\nid = \"smoke\"\ntext = \"Smoke test\"\nrole = \"lead\"\nrequired = false\n",
    );
    let c = ok(&text);
    let items = &c.default_plan().phases[1].items;
    assert_eq!(items.len(), 2);
    assert_eq!((items[1].id.as_str(), items[1].role.as_str(), items[1].required), ("smoke", "lead", false));
}

#[test]
fn durations_are_human_strings() {
    let c = ok(BASE);
    let planned: Vec<u64> = c.default_plan().phases.iter().map(|p| p.planned.as_secs()).collect();
    assert_eq!(planned, [90 * 60, 2 * 3600, 45 * 60]);
    for (written, secs) in
        [("1h 30m", 5400), ("1h30m", 5400), ("90s", 90), ("10m", 600), ("2h", 7200), ("1day", 86_400), ("1m 1s", 61)]
    {
        let c = ok(&base_with("planned = \"45m\"", &format!("planned = \"{written}\"")));
        assert_eq!(c.default_plan().phases[2].planned, Duration::from_secs(secs), "{written}");
    }
    assert_eq!(ok(BASE).escalation[0].ack_timeout, Duration::from_secs(300));
}

#[test]
fn names_default_to_ids_and_sections_to_their_defaults() {
    let c = ok(BASE);
    assert_eq!(c.roles.get("lead").map(|r| r.name.as_str()), Some("lead"));
    let plan = c.default_plan();
    assert_eq!(plan.phases[0].name, "pre");
    assert_eq!(plan.phases[1].name, "Production");
    assert_eq!(c.server.listen, "127.0.0.1:3000");
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(10));
    assert_eq!(c.database.url, "sqlite://golive.db");
    assert!(!c.slack.enabled);
    assert_eq!(c.slack.command, "/deploy");
    assert!(!c.discord.enabled);

    let minimal = "[roles.ops]\nmembers = [\"console:olga\"]\n\n[plans.only]\n\n[[plans.only.phases]]\nid = \"one\"\n\
                   planned = \"1h\"\n";
    let c = ok(minimal);
    assert_eq!(c.default_plan, "only", "the only plan is the default");
    assert_eq!(c.default_plan().name, "only");
    assert_eq!(c.status.cron, "0 */30 * * * *");
    assert_eq!(c.status.timezone, chrono_tz::Tz::UTC);
    assert!(c.escalation.is_empty());
    assert_eq!(c.default_plan().go_gate, None);
}

#[test]
fn the_error_reads_file_line_key_message() {
    let text = base_with("planned = \"2h\"", "planned = \"soon\"");
    let err = Config::parse(&text, FILE).unwrap_err();
    let line = line_of(&text, "\"soon\"");
    assert_eq!(
        err.to_string(),
        format!(
            "test.toml:{line}: plans.std.phases[1].planned: `soon` is not a duration (expected number at 0); \
             write e.g. \"90s\", \"10m\", \"2h\""
        )
    );
    // The file name is whatever the caller passes.
    match Config::parse(&text, "/etc/golive/prod.toml") {
        Err(ConfigError::Invalid { file, .. }) => assert_eq!(file, "/etc/golive/prod.toml"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_file_says_so() {
    let err = Config::load(std::path::Path::new("/nonexistent/golive.toml")).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/golive.toml: cannot read it:"), "{err}");
}
