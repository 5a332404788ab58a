//! The rest of the file: the default plan, the status schedule and its timezone, the server's
//! shutdown grace, the escalation path and the platform API URLs.

use std::time::Duration;

use crate::*;

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

#[test]
fn a_database_url_names_sqlite_or_postgres_and_its_password_is_never_repeated() {
    let text = format!("{BASE}\n[database]\nurl = \"mysql://golive:secret@db:3306/golive\" # <-\n");
    fails_at_marker(&text, "database.url", "mysql:// is not a database golive keeps its history in");
    let (_, _, message) = invalid(&text);
    assert!(!message.contains("secret"), "{message}");
    for url in
        ["sqlite://golive.db", "golive.db", "postgres://golive@db.internal:5432/golive", "postgresql://db/golive"]
    {
        let text = format!("{BASE}\n[database]\nurl = \"{url}\"\n");
        assert_eq!(Config::parse(&text, FILE).expect(url).database.url, url);
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
