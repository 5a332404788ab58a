//! Config and plan loading (`golive::config`): the built-in example and the defaults
//! (`loading`), and every kind of broken config reported as `file:line: key: message` with the
//! right line and key — plans, roles and members, the other settings, unknown keys and TOML
//! syntax — each in its own module.
//!
//! Expected line numbers are computed from the test text itself: a broken line carries a
//! unique marker comment (`# <-`) or a unique needle, and `line_of` finds it.

mod loading;
mod members;
mod plans;
mod settings;
mod syntax;

use golive::config::{Config, ConfigError};

pub const FILE: &str = "test.toml";

/// A small valid config. Plan `std` has three phases; the first with traffic is `prod`.
pub const BASE: &str = r#"default_plan = "std"

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
pub fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).collect();
    assert_eq!(hits.len(), 1, "{needle:?} should be on exactly one line, is on {hits:?}");
    hits[0]
}

/// `BASE` with the one occurrence of `from` replaced by `to`.
pub fn base_with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from:?} should occur once in BASE");
    BASE.replacen(from, to, 1)
}

pub fn ok(text: &str) -> Config {
    Config::parse(text, FILE).unwrap_or_else(|e| panic!("{e}\n--- config ---\n{text}"))
}

/// The error `text` fails with: (line, key, message), after checking it is `Invalid` in `FILE`.
pub fn invalid(text: &str) -> (usize, String, String) {
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
pub fn fails(text: &str, line: usize, key: &str, fragment: &str) {
    let (got_line, got_key, message) = invalid(text);
    assert_eq!((got_line, got_key.as_str()), (line, key), "line and key; message: {message}\n{text}");
    assert!(message.contains(fragment), "expected {fragment:?} in {message:?}");
}

/// Expects `text` to fail at the line marked `# <-`.
#[track_caller]
pub fn fails_at_marker(text: &str, key: &str, fragment: &str) {
    fails(text, line_of(text, "# <-"), key, fragment);
}
