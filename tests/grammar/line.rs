//! `parse_line`: a line that may carry the slash command (`/deploy`, `deploy`, a custom name)
//! in front of the command.

use crate::*;

#[test]
fn parse_line_accepts_the_slash_command_or_none() {
    let go = Ok(Request::Change(Command::Go));
    assert_eq!(parse_line("/deploy go", "/deploy"), go);
    assert_eq!(parse_line("deploy go", "/deploy"), go);
    assert_eq!(parse_line("  deploy go", "/deploy"), go);
    assert_eq!(parse_line("go", "/deploy"), go);
    assert_eq!(parse_line("   /deploy    go   ", "/deploy"), go);
    assert_eq!(parse_line("/deploy\tgo", "/deploy"), go);
    assert_eq!(
        parse_line("/deploy note  two  spaces ", "/deploy"),
        Ok(Request::Change(Command::Note { text: s("two  spaces") }))
    );
    assert_eq!(
        parse_line("/deploy start v1 plan=hotfix", "/deploy"),
        Ok(Request::Change(Command::Start {
            release: s("v1"),
            plan: Some(s("hotfix")),
            freeze_override: None,
            at: None
        }))
    );
    // The slash command alone is an empty command.
    assert_eq!(parse_line("/deploy", "/deploy"), Err(ParseError::Empty));
    assert_eq!(parse_line("/deploy   ", "/deploy"), Err(ParseError::Empty));
    assert_eq!(parse_line("", "/deploy"), Err(ParseError::Empty));
}

#[test]
fn parse_line_with_a_custom_command_name() {
    let go = Ok(Request::Change(Command::Go));
    assert_eq!(parse_line("/ship go", "/ship"), go);
    assert_eq!(parse_line("ship go", "/ship"), go);
    // The name may be configured with or without its slash.
    assert_eq!(parse_line("/ship go", "ship"), go);
    assert_eq!(parse_line("ship go", "ship"), go);
    assert_eq!(parse_line("go", "/ship"), go);
    // With a custom name, `/deploy` is just an unknown word.
    assert_eq!(
        parse_line("/deploy go", "/ship"),
        Err(ParseError::UnknownCommand { given: s("/deploy"), hint: String::new() })
    );
}

#[test]
fn parse_line_only_strips_the_whole_command_name() {
    // "/deployx" is not "/deploy" followed by a command.
    assert_eq!(
        parse_line("/deployx go", "/deploy"),
        Err(ParseError::UnknownCommand { given: s("/deployx"), hint: String::new() })
    );
    assert!(parse_line("deploying go", "/deploy").is_err());
    // Only one leading command name is taken off.
    assert!(parse_line("/deploy /deploy go", "/deploy").is_err());
    // A command name later in the line is left alone.
    assert_eq!(
        parse_line("note /deploy go was typed", "/deploy"),
        Ok(Request::Change(Command::Note { text: s("/deploy go was typed") }))
    );
}

#[test]
fn parse_line_applies_the_limit_to_the_text_after_the_command_name() {
    let text = format!("note {}", "x".repeat(MAX_LEN - 5));
    assert_eq!(text.chars().count(), MAX_LEN);
    assert!(parse_line(&text, "/deploy").is_ok());
    assert_eq!(parse_line(&format!("{text}y"), "/deploy"), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    // The command name in front does not count.
    assert!(parse_line(&format!("/deploy {text}"), "/deploy").is_ok());
    assert_eq!(parse_line(&format!("/deploy {text}y"), "/deploy"), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    assert!(matches!(parse_line(&format!("/deploy {text}yy"), "/deploy"), Err(ParseError::TooLong { .. })));
}
