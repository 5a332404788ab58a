//! The chat platforms' size limits, which they enforce by refusing the whole message: what
//! golive sends is cut to fit, visibly ("…" and where the full text is), and the mentions
//! golive wrote into a part that was cut are kept, so a page still pings whoever it pages.
//! Lengths are counted in UTF-16 units, as Slack and Discord count them; a character never
//! takes fewer.

use serde_json::Value;

/// Slack: a text object (section, context element), a header, the blocks of one message, and
/// the message's text.
pub const SLACK_SECTION: usize = 3000;
pub const SLACK_HEADER: usize = 150;
pub const SLACK_FIELD: usize = 2000;
pub const SLACK_BLOCKS: usize = 50;
pub const SLACK_TEXT: usize = 40_000;

/// What replaces the cut part: it says so, and where to read it all.
pub const MORE: &str = "… (cut to fit; the full text is in `/deploy status` and on the web page)";
/// Headers are short; the pointer would not fit.
const MORE_SHORT: &str = "…";

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The longest prefix of `s` within `max` UTF-16 units, not ending inside a `<…>` tag or an
/// `&…;` entity (half of either would show as garbage or break the markup).
fn prefix(s: &str, max: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > max {
            break;
        }
        end = i + c.len_utf8();
    }
    let mut kept = &s[..end];
    if let Some(open) = kept.rfind('<').filter(|&o| kept[o..].find('>').is_none()) {
        kept = &kept[..open];
    }
    if let Some(amp) = kept.rfind('&').filter(|&a| kept.len() - a <= 8 && !kept[a..].contains(';')) {
        kept = &kept[..amp];
    }
    kept
}

/// The mentions golive wrote (`<@U1>`, `<@&R1>`, `<!subteam^S1>`) in `s`. Typed mentions are
/// broken when rendered (`render::typed`), so every one found here is golive's own.
fn mentions(s: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        let tail = &rest[start..];
        let Some(end) = tail.find('>') else { break };
        let tag = &tail[..=end];
        if (tag.starts_with("<@") || tag.starts_with("<!subteam^")) && !found.contains(&tag) {
            found.push(tag);
        }
        rest = &tail[end + 1..];
    }
    found
}

/// `s` cut to at most `max` UTF-16 units, ending with `MORE` and the mentions of the part
/// cut off; unchanged when it fits.
pub fn clip(s: &str, max: usize) -> String {
    clip_with(s, max, MORE)
}

fn clip_with(s: &str, max: usize, more: &str) -> String {
    if units(s) <= max {
        return s.to_string();
    }
    let cut_mentions = |head: &str| -> String { mentions(&s[head.len()..]).iter().map(|t| format!(" {t}")).collect() };
    let budget = max.saturating_sub(units(more));
    let room = budget.saturating_sub(units(&cut_mentions(prefix(s, budget))));
    let head = prefix(s, room);
    // Recounted for the shorter head, so no mention of the part cut off is lost.
    let tail_mentions = cut_mentions(head);
    let mut out = String::with_capacity(max);
    out.push_str(head.trim_end());
    out.push_str(more);
    if units(&out) + units(&tail_mentions) <= max {
        out.push_str(&tail_mentions);
    }
    out
}

/// Cuts `value` to `max`, if it is a string longer than that.
fn clip_at(value: &mut Value, max: usize, more: &str) {
    if let Some(s) = value.as_str() {
        if units(s) > max {
            *value = Value::String(clip_with(s, max, more));
        }
    }
}

/// Fits a Slack message (its text and Block Kit blocks, as sent) within Slack's limits.
pub fn fit_slack(text: &mut String, blocks: Option<&mut Value>) {
    if units(text) > SLACK_TEXT {
        *text = clip(text, SLACK_TEXT);
    }
    let Some(Value::Array(blocks)) = blocks else { return };
    for block in blocks.iter_mut() {
        match block["type"].as_str() {
            Some("header") => clip_at(&mut block["text"]["text"], SLACK_HEADER, MORE_SHORT),
            Some("section") => {
                if block["text"].is_object() {
                    clip_at(&mut block["text"]["text"], SLACK_SECTION, MORE);
                }
                if let Some(fields) = block["fields"].as_array_mut() {
                    fields.iter_mut().for_each(|f| clip_at(&mut f["text"], SLACK_FIELD, MORE));
                }
            }
            Some("context") => {
                if let Some(elements) = block["elements"].as_array_mut() {
                    elements.iter_mut().for_each(|e| clip_at(&mut e["text"], SLACK_SECTION, MORE));
                }
            }
            _ => {}
        }
    }
    if blocks.len() > SLACK_BLOCKS {
        let cut = blocks.len() - (SLACK_BLOCKS - 1);
        blocks.truncate(SLACK_BLOCKS - 1);
        let note = format!("{cut} more parts {MORE}");
        blocks.push(serde_json::json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": note }] }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_text_fits_says_so_and_keeps_the_mentions_it_cut() {
        let long = format!("ESCALATION level 1: {} — <@U0LEAD> <!subteam^S1> please ack", "x".repeat(5000));
        let cut = clip(&long, SLACK_SECTION);
        assert!(units(&cut) <= SLACK_SECTION, "{}", units(&cut));
        assert!(cut.contains(MORE), "{cut}");
        assert!(cut.ends_with("<@U0LEAD> <!subteam^S1>"), "{cut}");
        assert_eq!(clip("short", 10), "short");
    }

    #[test]
    fn a_cut_never_splits_a_tag_an_entity_or_a_character() {
        let s = format!("{}&amp;<@U1>{}", "a".repeat(95), "é😀".repeat(50));
        for max in 90..200 {
            let cut = clip_with(&s, max, "…");
            assert!(units(&cut) <= max, "{max}: {cut}");
            let head = cut.trim_end_matches(|c| c != '…').trim_end_matches('…');
            assert!(!head.ends_with("&am") && !head.ends_with("<@U"), "{max}: {cut}");
        }
    }

    #[test]
    fn a_slack_message_is_fitted_block_by_block() {
        let mut blocks = serde_json::json!([
            { "type": "header", "text": { "type": "plain_text", "text": "r".repeat(400) } },
            { "type": "section", "text": { "type": "mrkdwn", "text": "s".repeat(7000) } },
        ]);
        for _ in 0..60 {
            blocks.as_array_mut().unwrap().push(serde_json::json!({ "type": "divider" }));
        }
        let mut text = "t".repeat(50_000);
        fit_slack(&mut text, Some(&mut blocks));
        assert!(units(&text) <= SLACK_TEXT);
        let blocks = blocks.as_array().unwrap();
        assert_eq!(blocks.len(), SLACK_BLOCKS);
        assert!(units(blocks[0]["text"]["text"].as_str().unwrap()) <= SLACK_HEADER);
        assert!(units(blocks[1]["text"]["text"].as_str().unwrap()) <= SLACK_SECTION);
    }
}
