//! Random input, from a fixed seed: parsing never panics, every error says something, and free
//! text comes back trimmed and as typed.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::common::XorShift;
use crate::*;

const WORDS: &[&str] = &[
    "help",
    "start",
    "status",
    "phase",
    "start",
    "done",
    "check",
    "uncheck",
    "signoff",
    "sign-off",
    "go",
    "nogo",
    "no-go",
    "traffic",
    "rollback",
    "escalate",
    "resolve",
    "ack",
    "oncall",
    "note",
    "complete",
    "abort",
    "history",
    "plan=",
    "plan=std",
    "PLAN=x",
    "70%",
    "100",
    "101",
    "0",
    "-1",
    "256",
    "%",
    "2",
    "99999999999999999999",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\u{a0}",
    "\u{3000}",
    "é",
    "e\u{301}",
    "🚀",
    "👨\u{200d}👩",
    "مرحبا",
    "\u{202e}",
    "<!channel>",
    "'",
    "\"",
    "\\",
    "`",
    "\u{0}",
    "\u{7}",
    "\u{1b}",
    "\u{feff}",
    "\u{200b}",
    "-",
    "--",
    "/deploy",
    "deploy",
    "GO",
    "Status",
    "'; DROP TABLE events; --",
];

fn random_text(rng: &mut XorShift) -> String {
    match rng.below(4) {
        // Random bytes made valid UTF-8.
        0 => {
            let bytes: Vec<u8> = (0..rng.below(80)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // Random chars from the whole range.
        1 => (0..rng.below(40)).filter_map(|_| char::from_u32(rng.next() as u32 % 0x11_0000)).collect(),
        // Grammar words, joined with or without spaces.
        2 => {
            let sep = [" ", "", "\t", "  "][rng.below(4)];
            (0..rng.below(8)).map(|_| WORDS[rng.below(WORDS.len())]).collect::<Vec<_>>().join(sep)
        }
        // A valid command with something random after it.
        _ => {
            let (name, _, _) = COMMANDS[rng.below(COMMANDS.len())];
            let tail: String = (0..rng.below(5)).map(|_| WORDS[rng.below(WORDS.len())]).collect::<Vec<_>>().join(" ");
            format!("{name} {tail}")
        }
    }
}

fn check_result(text: &str, result: &Result<Request, ParseError>) {
    match result {
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.trim().is_empty(), "empty error for {text:?}: {e:?}");
            if let ParseError::TooLong { len } = e {
                assert!(*len > MAX_LEN, "TooLong {len} for {text:?}");
            }
        }
        Ok(Request::Change(Command::Note { text: t }))
        | Ok(Request::Change(Command::NoGo { reason: t }))
        | Ok(Request::Change(Command::Rollback { reason: t, level: None }))
        | Ok(Request::Change(Command::Abort { reason: t }))
        | Ok(Request::Change(Command::Escalate { message: t, .. })) => {
            assert!(!t.is_empty(), "empty free text from {text:?}");
            assert_eq!(t.trim(), t, "untrimmed free text from {text:?}");
            assert!(text.contains(t.as_str()), "free text {t:?} is not a part of {text:?}");
        }
        Ok(Request::Change(Command::Traffic { percent, force: None })) => {
            assert!((1..=100).contains(percent), "traffic {percent} from {text:?}")
        }
        Ok(_) => {}
    }
}

#[test]
fn random_input_never_panics_and_every_error_says_something() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..6000 {
        let text = random_text(&mut rng);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let parsed = parse(&text);
            check_result(&text, &parsed);
            // Parsing is a pure function of the text.
            assert_eq!(parse(&text), parsed, "{text:?}");
            let line = parse_line(&text, "/deploy");
            check_result(&text, &line);
            let slashed = parse_line(&format!("/deploy {text}"), "/deploy");
            check_result(&text, &slashed);
        }));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|m| m.to_string()))
                .unwrap_or_default();
            panic!("case {i}: parsing {text:?} panicked: {message}");
        }
    }
}

#[test]
fn random_text_after_a_note_is_kept_trimmed() {
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    for _ in 0..2000 {
        let tail = random_text(&mut rng);
        let text = format!("note {tail}");
        let trimmed = tail.trim();
        match parse(&text) {
            Ok(Request::Change(Command::Note { text: got })) => assert_eq!(got, trimmed, "{text:?}"),
            Err(ParseError::Missing { command: "note", .. }) => assert!(trimmed.is_empty(), "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}
