//! Matching what people type against the ids a plan defines: without regard to case, with a
//! "did you mean" for near misses, and with invisible characters made visible when echoed.

/// The id among `ids` that `given` names: exactly, or else without regard to case.
pub fn find<'a>(given: &str, ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let all: Vec<&str> = ids.into_iter().collect();
    all.iter()
        .copied()
        .find(|id| *id == given)
        .or_else(|| all.iter().copied().find(|id| id.eq_ignore_ascii_case(given)))
}

/// The closest of `ids` to `given`, if it is a near miss: one edit for short words, two for
/// longer ones (so a stray `x` is not steered towards `go`), a swapped pair counting as one.
pub fn nearest<'a>(given: &str, ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given = given.to_lowercase();
    let len = given.chars().count();
    let allowed = if len <= 4 { 1 } else { 2 };
    ids.into_iter()
        .filter(|id| len.abs_diff(id.chars().count()) <= allowed)
        .map(|id| (id, distance(&given, &id.to_lowercase())))
        .filter(|(_, d)| *d <= allowed)
        .min_by_key(|(_, d)| *d)
        .map(|(id, _)| id)
}

/// ` (did you mean `x`?)` for a near miss, or nothing.
pub fn did_you_mean<'a>(given: &str, ids: impl IntoIterator<Item = &'a str>) -> String {
    nearest(given, ids).map(|id| format!(" (did you mean `{id}`?)")).unwrap_or_default()
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Characters that print as nothing (or move the text around) and so could make an unknown
/// id look exactly like a valid one: control characters, zero-width and bidi marks.
fn is_invisible(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// "1 member", "3 members": a count with its noun in the right number (nouns with a plain
/// `s` plural, which is all golive counts).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What someone typed, for echoing back: invisible characters written as `\u{200b}` so the
/// reader sees why `infra\u{200b}-ready` is not `infra-ready`.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) || c == '\n' || c == '\t' {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_near_misses() {
        let ids = ["db-backup", "infra-ready", "t+24-review"];
        assert_eq!(find("DB-Backup", ids), Some("db-backup"));
        assert_eq!(find("t+24-review", ids), Some("t+24-review"));
        assert_eq!(find("infra-redy", ids), None);
        assert_eq!(nearest("infra-redy", ids), Some("infra-ready"));
        assert_eq!(nearest("x", ["go"]), None);
    }

    #[test]
    fn invisible_characters_are_written_out() {
        assert_eq!(shown("infra\u{200b}-ready"), "infra\\u{200b}-ready");
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(shown("plain"), "plain");
    }
}
