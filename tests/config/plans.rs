//! Broken plans: phase and item ids, roles of items and sign-offs, durations, traffic steps,
//! the go gate and ids that are not one word.

use crate::*;

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
