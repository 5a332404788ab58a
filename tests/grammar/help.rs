//! `help`: the list of every command, one command's usage, and an unknown topic.

use crate::*;

#[test]
fn help_without_a_topic_mentions_every_command() {
    let all = help(None);
    assert!(all.starts_with("golive coordinates this channel's deployment. Commands:\n"), "{all}");
    for (name, usage) in grammar() {
        assert!(all.contains(&format!("`{usage}`")), "help lacks `{name}`: {all}");
    }
    // The crate's own command table, which the help is built from, agrees.
    for (name, usage, _) in COMMANDS {
        assert!(all.contains(usage), "help lacks {name}");
    }
    // One line per command after the heading, and no trailing newline.
    assert_eq!(all.lines().count(), COMMANDS.len() + 1);
    assert!(!all.ends_with('\n'));
}

#[test]
fn help_on_one_command_gives_its_usage() {
    assert_eq!(
        help(Some("signoff")),
        "`/deploy signoff ROLE [NOTE]`\nSign off the running phase as ROLE (members of ROLE only)."
    );
    assert_eq!(help(Some("SIGNOFF")), help(Some("signoff")));
    assert_eq!(help(Some("SignOff")), help(Some("signoff")));
    for (name, usage) in grammar() {
        let one = help(Some(name));
        assert!(one.starts_with(&format!("`{usage}`\n")), "help {name}: {one}");
        assert_eq!(one.lines().count(), 2, "help {name}: {one}");
    }
    assert!(help(Some("traffic")).contains("(e.g. 50, 70, 85, 100)"));
}

#[test]
fn help_on_an_unknown_topic_says_so_and_gives_the_full_help() {
    let all = help(None);
    for topic in ["nope", "signof", "🚀", "'; DROP TABLE events; --"] {
        let answer = help(Some(topic));
        assert!(answer.starts_with(&format!("`{topic}` is not a golive command")), "{answer}");
        assert!(answer.ends_with(&all), "{topic:?}");
    }
    // Exactly: the refusal, a near miss if there is one, then the whole help.
    assert_eq!(help(Some("frobnicate")), format!("`frobnicate` is not a golive command. {all}"));
    assert_eq!(help(Some("signof")), format!("`signof` is not a golive command (did you mean `signoff`?). {all}"));
    assert_eq!(help(Some("")), all, "a blank topic is no topic");
}
