//! Refusals people read: an empty line, an unknown command with or without a "did you mean"
//! hint, a missing argument, an unexpected token, a bad value — each naming its usage.

use crate::*;

#[test]
fn empty_or_blank_input_asks_what_to_do() {
    for blank in ["", " ", "   ", "\t", "\n", "\r\n", " \t \n ", "\u{a0}", "\u{3000}", "\u{2028}"] {
        assert_eq!(parse(blank), Err(ParseError::Empty), "{blank:?}");
    }
    let e = ParseError::Empty.to_string();
    assert_eq!(e, format!("say what to do: `/deploy help` lists the commands ({})", all_names()));
}

#[test]
fn unknown_commands_list_the_commands() {
    let e = err("shipit now");
    assert_eq!(e, ParseError::UnknownCommand { given: s("shipit"), hint: String::new() });
    assert_eq!(e.to_string(), format!("unknown command `shipit`; commands: {}", all_names()));
}

#[test]
fn near_misses_get_a_did_you_mean_hint() {
    for (typo, meant) in [
        ("signof", "signoff"),
        ("sigoff", "signoff"),
        ("signofff", "signoff"),
        ("statu", "status"),
        ("rollbak", "rollback"),
        ("escalte", "escalate"),
        ("histroy", "history"),
        ("chekc", "check"),
        ("compelte", "complete"),
        ("abrot", "abort"),
        ("trafic", "traffic"),
        ("oncal", "oncall"),
        ("uncheckk", "uncheck"),
        ("ntoe", "note"),
        ("strat", "start"),
        ("phaes", "phase"),
        // A swapped letter pair suggests the command it comes from.
        ("stauts", "status"),
    ] {
        let e = err(&format!("{typo} x"));
        assert_eq!(
            e,
            ParseError::UnknownCommand { given: s(typo), hint: format!(" (did you mean `{meant}`?)") },
            "{typo}"
        );
        assert_eq!(
            e.to_string(),
            format!("unknown command `{typo}` (did you mean `{meant}`?); commands: {}", all_names())
        );
    }
    // The hint is found for any case; the error names the word as typed.
    assert_eq!(
        err("SIGNOF ops").to_string(),
        format!("unknown command `SIGNOF` (did you mean `signoff`?); commands: {}", all_names())
    );
}

#[test]
fn far_misses_and_words_sharing_nothing_with_a_command_get_no_hint() {
    for word in ["deployit", "shipit", "release", "rollforward", "acknowledge", "signature", "x", "zz", "?"] {
        assert_eq!(err(word), ParseError::UnknownCommand { given: s(word), hint: String::new() }, "{word:?}");
        assert!(!err(word).to_string().contains("did you mean"));
    }
    // Echoed escaped, so an invisible character is seen.
    assert_eq!(err("\u{0}"), ParseError::UnknownCommand { given: s("\\u{0}"), hint: String::new() });
}

#[test]
fn missing_arguments_name_what_is_missing_and_the_usage() {
    let cases = [
        ("start", missing("start", "a release name")),
        ("phase", missing("phase", "`start PHASE` or `done`")),
        ("phase start", missing("phase", "the phase to start")),
        ("check", missing("check", "the item id")),
        ("uncheck", missing("uncheck", "the item id")),
        ("signoff", missing("signoff", "the role you sign off as")),
        ("sign-off   ", missing("signoff", "the role you sign off as")),
        ("nogo", missing("nogo", "the reason")),
        ("no-go", missing("nogo", "the reason")),
        ("nogo \t ", missing("nogo", "the reason")),
        ("traffic", missing("traffic", "the percentage")),
        ("rollback", missing("rollback", "the reason")),
        ("escalate", missing("escalate", "a message")),
        ("escalate 2", missing("escalate", "a message")),
        ("escalate 2   ", missing("escalate", "a message")),
        ("note", missing("note", "the text")),
        ("note    ", missing("note", "the text")),
        ("abort", missing("abort", "the reason")),
        // A plan option alone is no release.
        ("start plan=hotfix", missing("start", "a release name")),
    ];
    for (text, expected) in &cases {
        assert_eq!(&err(text), expected, "{text:?}");
    }
    insta::assert_snapshot!(shown(cases.map(|(text, _)| text)), @r#"
    "start" → `start` needs a release name; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`
    "phase" → `phase` needs `start PHASE` or `done`; usage: `/deploy phase start PHASE | /deploy phase done`
    "phase start" → `phase` needs the phase to start; usage: `/deploy phase start PHASE | /deploy phase done`
    "check" → `check` needs the item id; usage: `/deploy check ITEM [ITEM…] | /deploy check section=NAME`
    "uncheck" → `uncheck` needs the item id; usage: `/deploy uncheck ITEM`
    "signoff" → `signoff` needs the role you sign off as; usage: `/deploy signoff ROLE [NOTE]`
    "sign-off   " → `signoff` needs the role you sign off as; usage: `/deploy signoff ROLE [NOTE]`
    "nogo" → `nogo` needs the reason; usage: `/deploy nogo REASON`
    "no-go" → `nogo` needs the reason; usage: `/deploy nogo REASON`
    "nogo \t " → `nogo` needs the reason; usage: `/deploy nogo REASON`
    "traffic" → `traffic` needs the percentage; usage: `/deploy traffic PERCENT [force REASON]`
    "rollback" → `rollback` needs the reason; usage: `/deploy rollback [level=immediate|quick|planned] REASON`
    "escalate" → `escalate` needs a message; usage: `/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve`
    "escalate 2" → `escalate` needs a message; usage: `/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve`
    "escalate 2   " → `escalate` needs a message; usage: `/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve`
    "note" → `note` needs the text; usage: `/deploy note TEXT`
    "note    " → `note` needs the text; usage: `/deploy note TEXT`
    "abort" → `abort` needs the reason; usage: `/deploy abort REASON`
    "start plan=hotfix" → `start` needs a release name; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`
    "#);
}

#[test]
fn extra_tokens_are_refused_naming_the_token() {
    let cases = [
        ("status now", unexpected("now", "status")),
        ("oncall please", unexpected("please", "oncall")),
        ("history 10", unexpected("10", "history")),
        ("go now", unexpected("now", "go")),
        ("go   now  please", unexpected("now", "go")),
        ("ack it", unexpected("it", "ack")),
        ("complete !", unexpected("!", "complete")),
        ("uncheck a b c", unexpected("b", "uncheck")),
        ("uncheck a b", unexpected("b", "uncheck")),
        ("phase start staging now", unexpected("now", "phase")),
        ("phase done now", unexpected("now", "phase")),
        ("phase begin staging", unexpected("begin", "phase")),
        ("traffic 50 70", unexpected("70", "traffic")),
        ("traffic 50 %", unexpected("%", "traffic")),
        ("escalate resolve now", unexpected("now", "escalate")),
        ("start v1 hotfix", unexpected("hotfix", "start")),
        ("start v1 plan=hotfix now", unexpected("now", "start")),
    ];
    for (text, expected) in &cases {
        assert_eq!(&err(text), expected, "{text:?}");
    }
    insta::assert_snapshot!(shown(cases.map(|(text, _)| text)), @r#"
    "status now" → unexpected `now` after `status`; usage: `/deploy status`
    "oncall please" → unexpected `please` after `oncall`; usage: `/deploy oncall`
    "history 10" → unexpected `10` after `history`; usage: `/deploy history`
    "go now" → unexpected `now` after `go`; usage: `/deploy go`
    "go   now  please" → unexpected `now` after `go`; usage: `/deploy go`
    "ack it" → unexpected `it` after `ack`; usage: `/deploy ack`
    "complete !" → unexpected `!` after `complete`; usage: `/deploy complete`
    "uncheck a b c" → unexpected `b` after `uncheck`; usage: `/deploy uncheck ITEM`
    "uncheck a b" → unexpected `b` after `uncheck`; usage: `/deploy uncheck ITEM`
    "phase start staging now" → unexpected `now` after `phase`; usage: `/deploy phase start PHASE | /deploy phase done`
    "phase done now" → unexpected `now` after `phase`; usage: `/deploy phase start PHASE | /deploy phase done`
    "phase begin staging" → unexpected `begin` after `phase`; usage: `/deploy phase start PHASE | /deploy phase done`
    "traffic 50 70" → unexpected `70` after `traffic`; usage: `/deploy traffic PERCENT [force REASON]`
    "traffic 50 %" → unexpected `%` after `traffic`; usage: `/deploy traffic PERCENT [force REASON]`
    "escalate resolve now" → unexpected `now` after `escalate`; usage: `/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve`
    "start v1 hotfix" → unexpected `hotfix` after `start`; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`
    "start v1 plan=hotfix now" → unexpected `now` after `start`; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`
    "#);
}

#[test]
fn a_bad_plan_option_is_refused_naming_the_token() {
    // Option names are words like any other: `PLAN=hotfix` is `plan=hotfix`.
    assert_eq!(err("start v1 PLAN=hotfix now"), unexpected("now", "start"));
    for token in ["plan=", "plan", "plan:hotfix", "plans=hotfix", "hotfix", "=hotfix"] {
        let text = format!("start v1 {token}");
        assert_eq!(err(&text), unexpected(token, "start"), "{text:?}");
        assert_eq!(
            err(&text).to_string(),
            format!("unexpected `{token}` after `start`; usage: `/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]`")
        );
    }
    // `plan = x` with spaces: `plan` is the odd token.
    assert_eq!(err("start v1 plan = hotfix"), unexpected("plan", "start"));
    // A second plan option is one too many.
    assert_eq!(err("start v1 plan=a plan=b"), unexpected("plan=b", "start"));
}

#[test]
fn every_error_message_names_the_usage_of_its_own_command() {
    for (name, usage) in grammar() {
        // A word after a command that takes none, or a missing argument: either way the usage shows.
        let text = match name {
            "help" => continue,
            "status" | "go" | "ack" | "oncall" | "complete" | "history" | "unsnooze" | "remind" => {
                format!("{name} extra")
            }
            _ => name.to_string(),
        };
        let e = err(&text).to_string();
        assert!(e.contains(&format!("usage: `{usage}`")), "{text:?} -> {e}");
        assert!(e.contains(&format!("`{name}`")), "{text:?} -> {e}");
    }
}

/// Each input and the refusal it gets, one a line, as a person would read them.
fn shown<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    texts.into_iter().map(|text| format!("{text:?} → {}", err(text))).collect::<Vec<_>>().join("\n")
}
