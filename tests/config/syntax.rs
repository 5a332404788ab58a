//! Unknown keys and TOML syntax errors, each at its line and named by its key path, and
//! mutated configs that must never panic the loader.

use golive::config::EXAMPLE;

use crate::*;

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
