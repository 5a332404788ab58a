//! How the commands whose text is more than words in order read it: `key=value` settings,
//! subcommands, a level before a reason, `force WHY`. Each reader only splits the line into
//! named arguments (refusing what cannot be split); the table's `build` decides what they mean,
//! for typed lines and Discord's options alike.

use crate::commands::spec::{is_word, key_value, word, Args, Refusal};
use crate::domain::RollbackLevel;

/// An escalation level number; `given` is what the refusal quotes.
pub fn level_number(number: &str, given: &str) -> Result<u8, Refusal> {
    number.parse::<u8>().map_err(|_| Refusal::BadValue { given: given.to_string(), what: "a level number" })
}

pub fn rollback_level(level: &str, given: &str) -> Result<RollbackLevel, Refusal> {
    RollbackLevel::parse(level).ok_or_else(|| Refusal::BadValue {
        given: given.to_string(),
        what: "level=immediate, level=quick or level=planned",
    })
}

pub fn help(text: &str, args: &mut Args) -> Result<(), Refusal> {
    // Only the first word is the topic; the rest is ignored.
    if let Some((topic, _)) = word(text) {
        args.set("topic", topic);
    }
    Ok(())
}

pub fn start(text: &str, args: &mut Args) -> Result<(), Refusal> {
    let setting = |t: &str| key_value(t, "plan").is_some() || key_value(t, "at").is_some() || is_word(t, "override");
    let Some((release, mut rest)) = word(text).filter(|(release, _)| !setting(release)) else {
        return Err(Refusal::Missing("a release name"));
    };
    args.set("release", release);
    while let Some((token, after)) = word(rest) {
        let (name, value) = match (key_value(token, "plan"), key_value(token, "at")) {
            (Some(v), _) if args.get("plan").is_none() => ("plan", v),
            (_, Some(v)) if args.get("at").is_none() => ("at", v),
            _ => break,
        };
        if value.is_empty() {
            return Err(Refusal::Unexpected(token.to_string()));
        }
        args.set(name, value);
        rest = after;
    }
    // `override WHY…` starts inside a deploy freeze.
    reason_after(rest, "override", "the reason after `override`", args)
}

/// What may end a line: nothing, or `KEYWORD WHY…` with the reason the rest of the line,
/// kept as argument `keyword` (`start … override WHY`, `traffic N force WHY`). Anything else
/// there is refused; `missing` is what the refusal says when the reason is left out.
fn reason_after(rest: &str, keyword: &'static str, missing: &'static str, args: &mut Args) -> Result<(), Refusal> {
    match word(rest) {
        None => Ok(()),
        Some((token, why)) if is_word(token, keyword) => {
            if why.trim().is_empty() {
                return Err(Refusal::Missing(missing));
            }
            args.set(keyword, why);
            Ok(())
        }
        Some((token, _)) => Err(Refusal::Unexpected(token.to_string())),
    }
}

pub fn phase(text: &str, args: &mut Args) -> Result<(), Refusal> {
    let Some((sub, after)) = word(text) else { return Ok(()) };
    args.sub = Some(sub.to_string());
    let after = match is_word(sub, "start") {
        true => match word(after) {
            Some((phase, after)) => {
                args.set("phase", phase);
                after
            }
            None => after,
        },
        false => after,
    };
    match word(after) {
        Some((token, _)) if is_word(sub, "start") || is_word(sub, "done") => {
            Err(Refusal::Unexpected(token.to_string()))
        }
        _ => Ok(()),
    }
}

pub fn check(text: &str, args: &mut Args) -> Result<(), Refusal> {
    let Some((first, after)) = word(text) else { return Ok(()) };
    match key_value(first, "section") {
        // A section's name may have spaces: it is the rest of the line.
        Some(section) => {
            let section = format!("{section} {after}");
            if section.trim().is_empty() {
                return Err(Refusal::Missing("the section's name after `section=`"));
            }
            args.set("section", &section);
        }
        None => {
            args.set("item", first);
            args.set("more", after);
        }
    }
    Ok(())
}

pub fn traffic(text: &str, args: &mut Args) -> Result<(), Refusal> {
    let Some((percent, after)) = word(text) else { return Ok(()) };
    args.set("percent", percent);
    reason_after(after, "force", "the reason after `force`", args)
}

pub fn rollback(text: &str, args: &mut Args) -> Result<(), Refusal> {
    let reason = match word(text) {
        Some((token, after)) if key_value(token, "level").is_some() => {
            let level = key_value(token, "level").unwrap_or_default();
            args.set("level", rollback_level(level, token)?.as_str());
            after
        }
        // `rollback quick 5xx at 70%`: the level's own name first is the level.
        Some((token, after)) if RollbackLevel::parse(token).is_some() => {
            args.set("level", token);
            after
        }
        _ => text,
    };
    args.set("reason", reason);
    Ok(())
}

pub fn escalate(text: &str, args: &mut Args) -> Result<(), Refusal> {
    match word(text) {
        Some((token, after)) if is_word(token, "resolve") => {
            if let Some((extra, _)) = word(after) {
                return Err(Refusal::Unexpected(extra.to_string()));
            }
            args.set("message", token);
        }
        Some((token, after)) if key_value(token, "level").is_some() || token.chars().all(|c| c.is_ascii_digit()) => {
            let number = key_value(token, "level").unwrap_or(token);
            args.set("level", &level_number(number, token)?.to_string());
            args.set("message", after);
        }
        _ => args.set("message", text),
    }
    Ok(())
}
