//! Broken roles and members: the platform:id form, known platforms, duplicates and roles
//! nobody could act as.

use crate::*;

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
