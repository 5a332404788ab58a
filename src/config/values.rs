//! The value parsers every part of the config shares: durations, timezones, wall-clock times,
//! member lists and ids, each reporting the key and line of a value it cannot read.

use std::time::Duration;

use chrono_tz::Tz;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::domain::Member;

pub(super) fn timezone(at: &Locator<'_>, value: Option<&Spanned<String>>, key: &str) -> Result<Tz, ConfigError> {
    match value {
        None => Ok(Tz::UTC),
        Some(tz) => tz.get_ref().parse::<Tz>().or_else(|_| {
            at.err(
                tz.span(),
                key,
                format!("`{}` is not a timezone; use an IANA name such as \"UTC\" or \"Europe/Berlin\"", tz.get_ref()),
            )
        }),
    }
}

/// A wall-clock time such as "2026-06-01 09:00" (or with a `T`), read in the given timezone.
pub(super) fn local_time(
    at: &Locator<'_>,
    value: &Spanned<String>,
    key: &str,
) -> Result<chrono::NaiveDateTime, ConfigError> {
    let v = value.get_ref().trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
        .map_or_else(
            || at.err(value.span(), key, format!("`{v}` is not a date and time; write e.g. \"2026-06-01 09:00\"")),
            Ok,
        )
}

/// No duration in a deployment plan is longer; beyond it, date arithmetic could overflow.
pub(super) const LONGEST: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

pub(super) fn duration(at: &Locator<'_>, value: &Spanned<String>, key: &str) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(value.get_ref()) {
        Ok(d) if d > LONGEST => at.err(value.span(), key, "the duration is longer than ten years"),
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => at.err(value.span(), key, "the duration must be longer than zero"),
        Err(e) => at.err(
            value.span(),
            key,
            format!("`{}` is not a duration ({e}); write e.g. \"90s\", \"10m\", \"2h\"", value.get_ref()),
        ),
    }
}

pub(super) fn members(
    at: &Locator<'_>,
    raw: Option<&Spanned<Vec<Spanned<String>>>>,
    key: &str,
) -> Result<Vec<Member>, ConfigError> {
    let mut out = Vec::new();
    for (i, m) in raw.map(|r| r.get_ref().as_slice()).unwrap_or_default().iter().enumerate() {
        let member = Member::parse(m.get_ref()).or_else(|e| at.err(m.span(), format!("{key}[{i}]"), e))?;
        if out.contains(&member) {
            return at.err(m.span(), format!("{key}[{i}]"), format!("`{member}` is listed twice"));
        }
        out.push(member);
    }
    Ok(out)
}

/// Ids are typed in chat, so they must be one word (`+` as in `t+24-review`).
pub(super) fn id(at: &Locator<'_>, value: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
    let v = value.get_ref();
    let ok = !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if ok {
        Ok(v.clone())
    } else {
        at.err(
            value.span(),
            key,
            format!("`{v}` is not a usable id: use letters, digits, `-`, `_`, `.` or `+`, no spaces"),
        )
    }
}
