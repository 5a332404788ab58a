//! Where in the config file a problem is: byte offsets to line numbers, the key an error
//! from the TOML parser is about, and the `ConfigError` that names file, line and key, so
//! `golive check-config` can point at the line to fix.

use std::fmt;

use super::ConfigError;

/// Turns byte offsets into line numbers and builds errors.
pub(super) struct Locator<'a> {
    pub(super) text: &'a str,
    pub(super) file: &'a str,
}

impl Locator<'_> {
    pub(super) fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    pub(super) fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: impl fmt::Display,
        message: impl fmt::Display,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::Invalid {
            file: self.file.to_string(),
            line: self.line(span.start),
            key: key.to_string(),
            message: message.to_string(),
        })
    }
}

impl Locator<'_> {
    /// Where `key` is set in the `[table]` table, for errors about keys read without spans;
    /// the table's header, or the file's start, when it is not written out.
    pub(super) fn key_span(&self, table: &str, key: &str) -> std::ops::Range<usize> {
        let header = format!("[{table}]");
        let mut offset = 0;
        let mut in_table = false;
        let mut found = 0..0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_table = trimmed.starts_with(&header);
                if in_table {
                    found = offset..offset;
                }
            } else if in_table && trimmed.split('=').next().is_some_and(|k| k.trim() == key) {
                return offset..offset + line.len();
            }
            offset += line.len();
        }
        found
    }

    /// Refuses a database URL of a backend golive does not have (a bare path is a SQLite file),
    /// naming only its scheme: the rest may hold a password.
    pub(super) fn database_url(&self, url: &str) -> Result<(), ConfigError> {
        match url.split_once("://") {
            Some(("sqlite" | "postgres" | "postgresql", _)) | None => Ok(()),
            Some((scheme, _)) => self.err(
                self.key_span("database", "url"),
                "database.url".to_string(),
                format!(
                    "{scheme}:// is not a database golive keeps its history in: write sqlite://golive.db (the default) \
                     or postgres://user@host:5432/golive"
                ),
            ),
        }
    }

    /// Refuses a platform API URL that is not an absolute http(s) URL with a host.
    pub(super) fn api_url(&self, table: &str, url: &str) -> Result<(), ConfigError> {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
            _ => self.err(
                self.key_span(table, "api_url"),
                format!("{table}.api_url"),
                format!("`{url}` is not an http(s) URL (e.g. https://slack.com/api/)"),
            ),
        }
    }
}

/// Names the key of an error the TOML parser reports only by position: the table whose
/// header is on or above the error's line, plus the key on that line. A line that is an
/// inline table inside an array (`{ id = … }` under `items = [`) is named after the array.
pub(super) fn key_at(text: &str, offset: Option<usize>) -> String {
    let Some(offset) = offset else { return "(file)".to_string() };
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let mut header = None;
    let mut in_multiline: Option<&str> = None;
    for l in text[..line_end].lines().map(str::trim) {
        // A `[x]` line inside a multi-line string is text, not a header.
        for quote in ["\"\"\"", "'''"] {
            if in_multiline.map_or(true, |q| q == quote) && l.matches(quote).count() % 2 == 1 {
                in_multiline = if in_multiline.is_some() { None } else { Some(quote) };
            }
        }
        if in_multiline.is_none() && l.starts_with('[') {
            let inner = l.trim_start_matches('[');
            header = Some(inner[..inner.find(']').unwrap_or(inner.len())].trim().to_string()).filter(|h| !h.is_empty());
        }
    }
    let line = text[line_start..line_end].trim();
    let key_of = |l: &str| {
        let (k, _) = l.split_once('=')?;
        let k = k.trim();
        (!k.is_empty() && !k.starts_with(['[', '{', '#']) && !k.contains(char::is_whitespace)).then(|| k.to_string())
    };
    let key = if line.starts_with('{') {
        // The array this entry belongs to: the nearest `key = [` above, within the table.
        text[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .take_while(|l| !l.starts_with('['))
            .find(|l| l.split_once('=').is_some_and(|(_, v)| v.trim_start().starts_with('[')))
            .and_then(key_of)
    } else {
        key_of(line)
    };
    match (header, key) {
        (Some(h), Some(k)) => format!("{h}.{k}"),
        (Some(h), None) => h,
        (None, Some(k)) => k.to_string(),
        (None, None) => "(top level)".to_string(),
    }
}
