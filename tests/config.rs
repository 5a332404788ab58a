//! Config and plan loading (`golive::config`): the built-in example, the defaults, and every
//! kind of broken config reported as `file:line: key: message` with the right line and key.
//!
//! Expected line numbers are computed from the test text itself: a broken line carries a
//! unique marker comment (`# <-`) or a unique needle, and `line_of` finds it.

use std::time::Duration;

use golive::config::{Config, ConfigError, EXAMPLE, EXAMPLE_NAME};

const FILE: &str = "test.toml";

/// A small valid config. Plan `std` has three phases; the first with traffic is `prod`.
const BASE: &str = r#"default_plan = "std"

[status]
cron = "0 */15 * * * *"
timezone = "Europe/Berlin"

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
name = "Production"
planned = "2h"
signoffs = ["ops", "lead"]
traffic = [50, 100]
items = [{ id = "health", text = "Health is 200", role = "ops" }]

[[plans.std.phases]]
id = "post"
planned = "45m"
traffic = [100]

[[escalation.levels]]
name = "Leads"
ack_timeout = "5m"
members = ["console:alice", "console:olga"]

[[escalation.levels]]
name = "Managers"
ack_timeout = "10m"
members = ["slack:U0MGR", "discord:100000000000000001"]
"#;

/// The 1-based number of the one line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).collect();
    assert_eq!(hits.len(), 1, "{needle:?} should be on exactly one line, is on {hits:?}");
    hits[0]
}

/// `BASE` with the one occurrence of `from` replaced by `to`.
fn base_with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from:?} should occur once in BASE");
    BASE.replacen(from, to, 1)
}

fn ok(text: &str) -> Config {
    Config::parse(text, FILE).unwrap_or_else(|e| panic!("{e}\n--- config ---\n{text}"))
}

/// The error `text` fails with: (line, key, message), after checking it is `Invalid` in `FILE`.
fn invalid(text: &str) -> (usize, String, String) {
    match Config::parse(text, FILE) {
        Ok(_) => panic!("accepted a broken config:\n{text}"),
        Err(ConfigError::Invalid { file, line, key, message }) => {
            assert_eq!(file, FILE);
            (line, key, message)
        }
        Err(other) => panic!("not an Invalid error: {other:?}"),
    }
}

/// Expects `text` to fail on `line` at `key` with a message containing `fragment`.
#[track_caller]
fn fails(text: &str, line: usize, key: &str, fragment: &str) {
    let (got_line, got_key, message) = invalid(text);
    assert_eq!((got_line, got_key.as_str()), (line, key), "line and key; message: {message}\n{text}");
    assert!(message.contains(fragment), "expected {fragment:?} in {message:?}");
}

/// Expects `text` to fail at the line marked `# <-`.
#[track_caller]
fn fails_at_marker(text: &str, key: &str, fragment: &str) {
    fails(text, line_of(text, "# <-"), key, fragment);
}

// ---------------------------------------------------------------------------------------------
// The built-in example
// ---------------------------------------------------------------------------------------------

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
fn the_example_parses_the_same_under_any_file_name() {
    let c = Config::parse(EXAMPLE, FILE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, FILE);
    assert_eq!(c.plans, Config::example().plans);
}

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Broken plans
// ---------------------------------------------------------------------------------------------

#[test]
fn a_phase_id_used_twice_is_reported_at_the_second() {
    let text = base_with("id = \"post\"", "id = \"pre\" # <-");
    assert_eq!(line_of(&text, "# <-"), 35);
    fails_at_marker(&text, "plans.std.phases[2].id", "phase id `pre` is used twice in this plan");
}

#[test]
fn an_item_id_used_twice_in_a_phase_is_reported_at_the_second() {
    let text = base_with("{ id = \"notes\"", "{ id = \"backup\"");
    let line = line_of(&text, "Notes written");
    assert_eq!(line, 23);
    fails(&text, line, "plans.std.phases[0].items[1].id", "item id `backup` is used twice in phase `pre`");
}

#[test]
fn an_item_id_used_twice_in_item_tables_is_reported_at_its_id_line() {
    let text = base_with(
        "items = [{ id = \"health\", text = \"Health is 200\", role = \"ops\" }]\n",
        "\n[[plans.std.phases.items]]\nid = \"health\"\ntext = \"Health is 200\"\nrole = \"ops\"\n\n\
         [[plans.std.phases.items]]\nid = \"health\" # <-\ntext = \"Health again\"\nrole = \"ops\"\n",
    );
    fails_at_marker(&text, "plans.std.phases[1].items[1].id", "item id `health` is used twice in phase `prod`");
}

#[test]
fn the_same_item_id_in_two_phases_is_fine() {
    let c = ok(&base_with("{ id = \"health\"", "{ id = \"backup\""));
    assert_eq!(c.default_plan().phases[1].items[0].id, "backup");
}

#[test]
fn an_item_owned_by_an_unknown_role_lists_the_known_roles() {
    let text = base_with("role = \"ops\" }]", "role = \"dba\" }] # <-");
    fails_at_marker(&text, "plans.std.phases[1].items[0].role", "unknown role `dba`; roles: lead, ops");
    let (_, _, message) = invalid(&text);
    assert_eq!(message, "unknown role `dba`; roles: lead, ops");
}

#[test]
fn an_unknown_sign_off_role_is_reported_with_the_known_roles() {
    let text = base_with("signoffs = [\"ops\", \"lead\"]", "signoffs = [\"ops\", \"ceo\"] # <-");
    fails_at_marker(&text, "plans.std.phases[1].signoffs[1]", "unknown role `ceo`; roles: lead, ops");
    // In a multi-line list, the line of the bad entry itself.
    let text = base_with("signoffs = [\"ops\", \"lead\"]", "signoffs = [\n  \"ops\",\n  \"qa\", # <-\n]");
    fails_at_marker(&text, "plans.std.phases[1].signoffs[1]", "unknown role `qa`; roles: lead, ops");
    // Role ids are case-sensitive.
    let text = base_with("signoffs = [\"lead\"]", "signoffs = [\"Lead\"] # <-");
    fails_at_marker(&text, "plans.std.phases[0].signoffs[0]", "unknown role `Lead`");
}

#[test]
fn a_sign_off_role_listed_twice_is_reported() {
    let text = base_with("signoffs = [\"ops\", \"lead\"]", "signoffs = [\"ops\", \"ops\"] # <-");
    fails_at_marker(&text, "plans.std.phases[1].signoffs[1]", "`ops` is listed twice");
}

#[test]
fn a_plan_without_phases_is_reported_at_its_table() {
    let text = format!("{BASE}\n[plans.empty] # <-\nname = \"Nothing here\"\n");
    fails_at_marker(&text, "plans.empty.phases", "the plan has no phases");
    let text = format!("{BASE}\n[plans.empty] # <-\nphases = []\n");
    fails_at_marker(&text, "plans.empty.phases", "the plan has no phases");
}

#[test]
fn no_plans_at_all_is_reported() {
    let roles_only = "[roles.ops]\nmembers = [\"console:olga\"]\n";
    fails(roles_only, 1, "plans", "no plan is defined; add a [plans.NAME] table with its [[plans.NAME.phases]]");
    fails("", 1, "plans", "no plan is defined");
    fails("# only a comment\n\n", 1, "plans", "no plan is defined");
}

#[test]
fn a_bad_duration_is_reported_at_its_line() {
    for (bad, fragment) in [
        ("soon", "`soon` is not a duration"),
        ("5", "`5` is not a duration"),
        ("", "`` is not a duration"),
        ("-1h", "`-1h` is not a duration"),
        ("1 fortnight", "`1 fortnight` is not a duration"),
        ("0s", "the duration must be longer than zero"),
        ("0m", "the duration must be longer than zero"),
        ("0h 0m", "the duration must be longer than zero"),
    ] {
        let text = base_with("planned = \"2h\"", &format!("planned = \"{bad}\" # <-"));
        fails_at_marker(&text, "plans.std.phases[1].planned", fragment);
        assert!(invalid(&text).2.contains("write e.g. \"90s\"") || bad.starts_with('0'), "{bad}");
    }
}

#[test]
fn a_traffic_list_must_rise_within_1_to_100() {
    for bad in ["[100, 50]", "[50, 50]", "[0, 50]", "[50, 101]", "[0]", "[101]", "[10, 20, 15, 100]"] {
        let text = base_with("traffic = [50, 100]", &format!("traffic = {bad} # <-"));
        fails_at_marker(
            &text,
            "plans.std.phases[1].traffic",
            "traffic steps are percentages from 1 to 100, rising, e.g. [50, 70, 85, 100]",
        );
    }
    // A multi-line list is reported where it starts.
    let text = base_with("traffic = [50, 100]", "traffic = [ # <-\n  70,\n  50,\n]");
    fails_at_marker(&text, "plans.std.phases[1].traffic", "rising");
    // Past what a u8 holds: the TOML layer refuses it on the same line.
    let text = base_with("traffic = [50, 100]", "traffic = [50, 256] # <-");
    let (line, key, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "# <-"));
    assert_eq!(key, "plans.std.phases.traffic");
    assert!(message.contains("256"), "{message}");
    // An empty list is simply no traffic.
    assert_eq!(ok(&base_with("traffic = [100]", "traffic = []")).default_plan().phases[2].traffic, Vec::<u8>::new());
}

#[test]
fn a_go_gate_naming_a_missing_phase_lists_the_phases() {
    let text = base_with("name = \"Standard\"", "name = \"Standard\"\ngo_gate = \"prodution\" # <-");
    fails_at_marker(&text, "plans.std.go_gate", "no phase `prodution`; phases: pre, prod, post");
}

#[test]
fn a_phase_or_plan_id_that_is_not_one_word_is_refused() {
    let text = base_with("id = \"post\"", "id = \"post deploy\" # <-");
    fails_at_marker(&text, "plans.std.phases[2].id", "`post deploy` is not a usable id");
    let text = base_with("[plans.std]", "[plans.\"my plan\"] # <-").replace("plans.std.", "plans.\"my plan\".");
    let text = text.replace("default_plan = \"std\"", "default_plan = \"my plan\"");
    fails_at_marker(&text, "plans.my plan", "`my plan` is not a usable id");
}

#[test]
fn an_item_without_text_is_refused() {
    let text = base_with("text = \"Health is 200\"", "text = \"  \"");
    let line = line_of(&text, "\"  \"");
    fails(&text, line, "plans.std.phases[1].items[0].text", "the item needs a text");
}

// ---------------------------------------------------------------------------------------------
// Broken roles and members
// ---------------------------------------------------------------------------------------------

#[test]
fn a_member_without_a_platform_is_refused() {
    let text = base_with("members = [\"console:alice\"]", "members = [\"alice\"] # <-");
    fails_at_marker(
        &text,
        "roles.lead.members[0]",
        "`alice` is not a member; write it as platform:id, e.g. slack:U0123ABCD or console:alice",
    );
}

#[test]
fn a_member_on_an_unknown_platform_is_refused() {
    let text =
        base_with("members = [\"slack:U0OPS\", \"console:olga\"]", "members = [\"slack:U0OPS\", \"irc:bob\"] # <-");
    fails_at_marker(
        &text,
        "roles.ops.members[1]",
        "`irc` is not a platform; members are slack:ID, discord:ID or console:NAME",
    );
    // Platforms are written in lower case.
    let text = base_with("members = [\"console:alice\"]", "members = [\"Slack:U0ALICE\"] # <-");
    fails_at_marker(&text, "roles.lead.members[0]", "`Slack` is not a platform");
    // `golive` is an actor platform, not one people log in on.
    let text = base_with("members = [\"console:alice\"]", "members = [\"golive:bot\"] # <-");
    fails_at_marker(&text, "roles.lead.members[0]", "`golive` is not a platform");
}

#[test]
fn a_member_with_an_empty_or_spaced_id_is_refused() {
    for bad in ["slack:", "console:al ice", "console:\talice"] {
        let escaped = bad.replace('\t', "\\t");
        let text = base_with("members = [\"console:alice\"]", &format!("members = [\"{escaped}\"] # <-"));
        fails_at_marker(&text, "roles.lead.members[0]", "has an empty id or whitespace in it");
    }
}

#[test]
fn a_bad_member_in_a_multi_line_list_is_reported_on_its_own_line() {
    let text = base_with(
        "members = [\"slack:U0OPS\", \"console:olga\"]",
        "members = [\n  \"slack:U0OPS\",\n  \"console:olga\",\n  \"olga@example.com\", # <-\n]",
    );
    fails_at_marker(&text, "roles.ops.members[2]", "`olga@example.com` is not a member");
}

#[test]
fn a_member_listed_twice_is_refused() {
    let text = base_with(
        "members = [\"slack:U0OPS\", \"console:olga\"]",
        "members = [\"slack:U0OPS\", \"console:olga\", \"slack:U0OPS\"] # <-",
    );
    fails_at_marker(&text, "roles.ops.members[2]", "`slack:U0OPS` is listed twice");
}

#[test]
fn a_role_without_members_is_refused() {
    // An empty list: its line.
    let text = base_with("members = [\"console:alice\"]", "members = [] # <-");
    fails_at_marker(&text, "roles.lead.members", "the role has no members, so nobody could act as it");
    // No list at all: the role's table.
    let text = base_with("[roles.lead]\nmembers = [\"console:alice\"]", "[roles.lead] # <-\nname = \"Lead\"");
    fails_at_marker(&text, "roles.lead.members", "the role has no members");
}

// ---------------------------------------------------------------------------------------------
// Broken plan choice, status schedule and escalation path
// ---------------------------------------------------------------------------------------------

#[test]
fn a_default_plan_naming_a_missing_plan_lists_the_plans() {
    let text = base_with("default_plan = \"std\"", "default_plan = \"fast\" # <-");
    fails_at_marker(&text, "default_plan", "no plan `fast`; plans: std");
    let text = format!("{text}\n[plans.big]\n[[plans.big.phases]]\nid = \"x\"\nplanned = \"1h\"\n");
    fails_at_marker(&text, "default_plan", "no plan `fast`; plans: big, std");
    // Not on line 1 either: the line where it is written.
    let text = format!("# comment\n\n{}", base_with("default_plan = \"std\"", "default_plan = \"fast\" # <-"));
    assert_eq!(line_of(&text, "# <-"), 3);
    fails_at_marker(&text, "default_plan", "no plan `fast`");
}

#[test]
fn several_plans_and_no_default_plan_is_refused() {
    let text = base_with("default_plan = \"std\"\n", "");
    let text = format!("{text}\n[plans.hotfix]\n[[plans.hotfix.phases]]\nid = \"fix\"\nplanned = \"30m\"\n");
    fails(&text, 1, "default_plan", "several plans are defined; say which one `/deploy start` uses");
    // With the default named, the same plans load.
    let c = ok(&format!("default_plan = \"hotfix\"\n{text}"));
    assert_eq!(c.plans.len(), 2);
    assert_eq!(c.default_plan().id, "hotfix");
}

#[test]
fn a_bad_cron_schedule_is_reported_at_its_line() {
    for bad in ["every half hour", "*/30 * * * *", "0 */30 * * * * * *", "", "0 61 * * * *"] {
        let text = base_with("cron = \"0 */15 * * * *\"", &format!("cron = \"{bad}\" # <-"));
        fails_at_marker(&text, "status.cron", &format!("`{bad}` is not a cron schedule"));
        assert!(invalid(&text).2.contains("it has a seconds field first, e.g. \"0 */30 * * * *\""), "{bad}");
    }
}

#[test]
fn a_bad_timezone_is_reported_at_its_line() {
    for bad in ["Mars/Olympus", "Europe/Berln", "CEST", "+02:00", ""] {
        let text = base_with("timezone = \"Europe/Berlin\"", &format!("timezone = \"{bad}\" # <-"));
        fails_at_marker(
            &text,
            "status.timezone",
            &format!("`{bad}` is not a timezone; use an IANA name such as \"UTC\" or \"Europe/Berlin\""),
        );
    }
}

#[test]
fn the_shutdown_grace_is_a_duration() {
    let c = ok(&format!("{BASE}\n[server]\nshutdown_grace = \"45s\"\n"));
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(45));
    assert_eq!(c.server.listen, "127.0.0.1:3000", "the address keeps its default");
    let text = format!("{BASE}\n[server]\nshutdown_grace = \"a while\" # <-\n");
    fails_at_marker(&text, "server.shutdown_grace", "`a while` is not a duration");
}

#[test]
fn a_bad_escalation_level_is_reported_at_its_line() {
    let text = base_with("ack_timeout = \"10m\"", "ack_timeout = \"later\" # <-");
    fails_at_marker(&text, "escalation.levels[1].ack_timeout", "`later` is not a duration");
    let text = base_with("ack_timeout = \"5m\"", "ack_timeout = \"0s\" # <-");
    fails_at_marker(&text, "escalation.levels[0].ack_timeout", "longer than zero");
    let text = base_with("members = [\"slack:U0MGR\", ", "members = [\"irc:mgr\", # <-\n  ");
    fails_at_marker(&text, "escalation.levels[1].members[0]", "`irc` is not a platform");
    // Nobody to page: an empty list on its line, no list at the level's table.
    let text = base_with("members = [\"slack:U0MGR\", \"discord:100000000000000001\"]", "members = [] # <-");
    fails_at_marker(&text, "escalation.levels[1].members", "an escalation level needs someone to page");
    let text = base_with(
        "[[escalation.levels]]\nname = \"Managers\"\nack_timeout = \"10m\"\nmembers = [\"slack:U0MGR\", \"discord:100000000000000001\"]",
        "[[escalation.levels]] # <-\nname = \"Managers\"\nack_timeout = \"10m\"",
    );
    fails_at_marker(&text, "escalation.levels[1].members", "an escalation level needs someone to page");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and TOML syntax
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unknown_key_is_reported_at_its_line_with_its_table() {
    let cases: Vec<(String, &str, &str)> = vec![
        (format!("colour = \"blue\" # <-\n{BASE}"), "colour", "unknown field `colour`, expected one of `default_plan`"),
        (
            base_with("default_plan = \"std\"", "default_plan = \"std\"\ndefault = \"std\" # <-"),
            "default",
            "unknown field `default`",
        ),
        (format!("[server]\nport = 3000 # <-\n{BASE}"), "server.port", "unknown field `port`, expected one of `listen`, `shutdown_grace`, `public_url`"),
        (format!("[database]\npath = \"x.db\" # <-\n{BASE}"), "database.path", "unknown field `path`, expected `url`"),
        (format!("[slack]\ntoken = \"xoxb\" # <-\n{BASE}"), "slack.token", "unknown field `token`"),
        (format!("[discord]\nbot = true # <-\n{BASE}"), "discord.bot", "unknown field `bot`"),
        (
            base_with("timezone = \"Europe/Berlin\"", "timezone = \"Europe/Berlin\"\ninterval = \"30m\" # <-"),
            "status.interval",
            "unknown field `interval`, expected `cron` or `timezone`",
        ),
        (
            base_with("name = \"Operations\"", "name = \"Operations\"\ncolour = \"red\" # <-"),
            "roles.ops.colour",
            "unknown field `colour`, expected `name` or `members`",
        ),
        (
            base_with("name = \"Standard\"", "name = \"Standard\"\ngogate = \"prod\" # <-"),
            "plans.std.gogate",
            "unknown field `gogate`, expected one of `name`, `go_gate`, `status_cron`, `phases`",
        ),
        (
            base_with("planned = \"45m\"", "planned = \"45m\"\nplaned = \"3h\" # <-"),
            "plans.std.phases.planed",
            "unknown field `planed`, expected one of `id`, `name`, `planned`, `signoffs`, `items`, `traffic`",
        ),
        (
            base_with("ack_timeout = \"10m\"", "ack_timeout = \"10m\"\ntimeout = \"1m\" # <-"),
            "escalation.levels.timeout",
            "unknown field `timeout`, expected one of `name`, `ack_timeout`, `repeat`, `members`, `rotation`, `webhook`",
        ),
        (
            format!("{BASE}\n[escalation]\nlevel = [] # <-\n"),
            "escalation.level",
            "unknown field `level`, expected one of `levels`, `overrides`, `triggers`",
        ),
    ];
    for (text, key, fragment) in cases {
        fails_at_marker(&text, key, fragment);
    }
}

#[test]
fn an_unknown_key_in_an_item_is_reported_at_the_items_line() {
    // One item per line, as the example writes them.
    let text = base_with(
        "{ id = \"notes\", text = \"Notes written\", role = \"lead\", required = false }",
        "{ id = \"notes\", text = \"Notes written\", role = \"lead\", requried = false }",
    );
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "requried"));
    assert!(
        message.contains("unknown field `requried`, expected one of `id`, `text`, `role`, `required`"),
        "{message}"
    );
    // One-line item list.
    let text = base_with("role = \"ops\" }]", "role = \"ops\", owner = \"x\" }] # <-");
    fails_at_marker(&text, "plans.std.phases.items", "unknown field `owner`");
}

#[test]
fn an_unknown_table_or_a_duplicate_table_is_reported_at_its_header() {
    let text = format!("{BASE}\n[bogus] # <-\nx = 1\n");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "# <-"));
    assert!(message.contains("unknown field `bogus`"), "{message}");

    let text = format!("[server]\nlisten = \"a\"\n{BASE}\n[server] # <-\nlisten = \"b\"\n");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "# <-"));
    assert!(message.contains("duplicate key `server`"), "{message}");
}

#[test]
fn a_missing_field_is_reported_at_its_table() {
    let text = base_with("planned = \"1h 30m\"\n", "");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, 17, "the first [[plans.std.phases]] header");
    assert_eq!(text.lines().nth(16), Some("[[plans.std.phases]]"));
    assert!(message.contains("missing field `planned`"), "{message}");
    let text = base_with("ack_timeout = \"10m\"\n", "");
    let (line, key, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "name = \"Managers\"") - 1);
    assert_eq!(key, "escalation.levels");
    assert!(message.contains("missing field `ack_timeout`"), "{message}");
}

#[test]
fn an_unknown_key_in_an_item_on_its_own_line_is_named_by_a_key_path() {
    let text = base_with(
        "{ id = \"notes\", text = \"Notes written\", role = \"lead\", required = false }",
        "{ id = \"notes\", text = \"Notes written\", role = \"lead\", requried = false }",
    );
    let (_, key, _) = invalid(&text);
    assert!(key.starts_with("plans.std.phases"), "{key}");
    assert!(key.contains("items") || key.contains("requried"), "{key}");
    assert!(!key.contains('{') && !key.contains(' '), "{key}");
}

#[test]
fn an_error_at_a_table_header_is_named_after_that_table() {
    let text = format!("{BASE}\n[bogus]\nx = 1\n");
    assert_eq!(invalid(&text).1, "bogus");
    let text = format!("[server]\nlisten = \"a\"\n{BASE}\n[server]\nlisten = \"b\"\n");
    assert_eq!(invalid(&text).1, "server");
    // The first phase table, missing a required field, is named after the plan's table above it.
    let text = base_with("planned = \"1h 30m\"\n", "");
    assert_eq!(invalid(&text).1, "plans.std.phases");
}

#[test]
fn the_key_of_an_unknown_field_ignores_comments_and_strings() {
    let text = format!("[server] # the web listener\nport = 3000\n{BASE}");
    assert_eq!(invalid(&text).1, "server.port");
    let text = format!("[server]\nlisten = \"\"\"\n[fake]\n\"\"\"\nport = 3000\n{BASE}");
    assert_eq!(invalid(&text).1, "server.port");
}

#[test]
fn a_toml_syntax_error_is_reported_at_its_line() {
    // An unterminated string.
    let text = base_with("name = \"Standard\"", "name = \"Standard # <-");
    fails_at_marker(&text, "plans.std.name", "invalid basic string");
    // A header missing its bracket.
    let text = format!("{BASE}\n[server # <-\nlisten = \"x\"\n");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "# <-"));
    assert!(message.contains("invalid table header"), "{message}");
    // A key without a value.
    let text = base_with("planned = \"45m\"", "planned = # <-");
    fails_at_marker(&text, "plans.std.phases.planned", "invalid string");
    // A key written twice in one table.
    let text = base_with("planned = \"45m\"", "planned = \"45m\"\nplanned = \"1h\" # <-");
    fails_at_marker(&text, "plans.std.phases.planned", "duplicate key `planned`");
    // A bare word where a value belongs.
    let text = base_with("timezone = \"Europe/Berlin\"", "timezone = Europe/Berlin # <-");
    fails_at_marker(&text, "status.timezone", "");
    // A value of the wrong type.
    let text = format!("[server]\nlisten = 3000 # <-\n{BASE}");
    fails_at_marker(&text, "server.listen", "invalid type: integer `3000`, expected a string");
    let text = base_with("required = false", "required = \"no\"");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "\"no\""));
    assert!(message.contains("expected a boolean"), "{message}");
}

#[test]
fn a_syntax_error_on_the_first_or_last_line_is_located() {
    fails(&format!("= \"std\"\n{BASE}"), 1, "(top level)", "");
    let text = format!("{BASE}[[escalation.levels]]\nname = \"Third\"\nack_timeout = \"1m\"\nmembers = [\"console:x\"");
    let (line, _, _) = invalid(&text);
    assert!(
        line == text.lines().count() || line == text.lines().count() + 1,
        "line {line} of {}",
        text.lines().count()
    );
}

#[test]
fn non_ascii_text_before_an_error_does_not_shift_the_line() {
    let text = base_with("name = \"Operations\"", "name = \"Opérations 🚀 — 運用\"")
        .replace("name = \"Standard\"", "name = \"Стандарт\"\n# コメント 💥\n");
    let text = text.replacen("planned = \"45m\"", "planned = \"45 minutes-ish\" # <-", 1);
    fails_at_marker(&text, "plans.std.phases[2].planned", "is not a duration");
}

#[test]
fn mutated_configs_never_panic() {
    // Deterministic xorshift: delete or insert characters in the example and parse the result.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces = ["é", "🚀", "\"", "[", "]", "[[", "=", "\n", "{", "}", ",", "'", "\\", "#", " ", "x", "0", "\u{301}"];
    let base: Vec<char> = EXAMPLE.chars().collect();
    for _ in 0..1500 {
        let mut chars = base.clone();
        for _ in 0..=next() % 3 {
            let at = (next() % chars.len() as u64) as usize;
            if next() % 3 == 0 {
                chars.remove(at);
            } else {
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                for (k, c) in piece.chars().enumerate() {
                    chars.insert(at + k, c);
                }
            }
        }
        let text: String = chars.into_iter().collect();
        let result = std::panic::catch_unwind(|| Config::parse(&text, FILE));
        match result {
            Err(_) => panic!("parsing panicked on:\n{text}"),
            Ok(Err(ConfigError::Invalid { line, message, .. })) => {
                assert!(line <= text.lines().count() + 1, "line {line} is past the end");
                assert!(!message.trim().is_empty());
            }
            Ok(Err(other)) => panic!("{other:?}"),
            Ok(Ok(_)) => {}
        }
    }
}

#[test]
fn platform_api_urls_must_be_http_urls_and_are_named_by_file_line_and_key() {
    let text = format!("{BASE}\n[slack]\nenabled = true\napi_url = \"::::\" # <-\n");
    fails_at_marker(&text, "slack.api_url", "`::::` is not an http(s) URL");
    let text = format!("{BASE}\n[discord]\napi_url = \"ftp://discord.example/api\" # <-\n");
    fails_at_marker(&text, "discord.api_url", "not an http(s) URL");
    let text = format!("{BASE}\n[slack]\napi_url = \"http://127.0.0.1:9/api/\"\n");
    Config::parse(&text, FILE).expect("a local fake's URL is fine");
}
