//! Size limits: every message golive sends Slack fits Slack's documented limits (the fake
//! Slack refuses what does not, as Slack does), long texts are cut visibly with a pointer to
//! the full text, a page keeps its pings however long its message, and a message Slack still
//! refuses for its layout goes out as plain text.

use crate::harness::fake_slack::{Call, Reply};
use crate::harness::Ctx;
use golive::render::limits::{MORE, SLACK_HEADER, SLACK_SECTION};

fn texts(call: &Call) -> Vec<String> {
    let blocks = call.body["blocks"].as_array().cloned().unwrap_or_default();
    blocks.iter().flat_map(|b| [b["text"]["text"].as_str().map(str::to_string)].into_iter().flatten()).collect()
}

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

#[tokio::test]
async fn long_names_notes_and_messages_are_cut_to_fit_and_nothing_is_given_up() {
    let w = Ctx::on_slack().await;
    let release = format!("v1-{}", "r".repeat(300));
    assert_eq!(w.slack().slash("U0DANA", &format!("start {release}")).await.status, 200);
    for n in 0..3 {
        w.slack().slash("U0OPS", &format!("note {n} {}", "long note ".repeat(390))).await;
    }
    // A page whose message alone is over a section's limit.
    w.slack().slash("U0OPS", &format!("escalate 1 {}", "db is slow ".repeat(360))).await;
    let page = w.slack().arrives("the page", |c| c.text().contains("ESCALATION")).await;
    let section = &texts(&page)[0];
    assert!(units(section) <= SLACK_SECTION, "{}", units(section));
    assert!(section.contains(MORE), "{section}");
    assert!(section.contains("<@U0TECHLEAD>"), "the page still pings level 1: {section}");

    w.slack().slash("U0DANA", "status").await;
    let status =
        w.slack().arrives("the status post", |c| c.text().starts_with("STATUS") && !c.body["blocks"].is_null()).await;
    let blocks = status.body["blocks"].as_array().unwrap();
    let header = blocks[0]["text"]["text"].as_str().unwrap();
    assert!(units(header) <= SLACK_HEADER && header.contains('…'), "{header}");
    let notes = texts(&status).into_iter().find(|t| t.contains("long note")).expect("the notes section");
    assert!(units(&notes) <= SLACK_SECTION && notes.contains(MORE), "{notes}");

    // Slack refused nothing, and nothing was recorded as undeliverable.
    assert!(
        w.slack().fake.calls().iter().all(|c| c.ok),
        "{:#?}",
        w.slack().fake.calls().iter().filter(|c| !c.ok).collect::<Vec<_>>()
    );
    let failed = w.store.outbox().await.unwrap().into_iter().filter(|r| r.state == "failed").count();
    assert_eq!(failed, 0);
    w.finish().await;
}

#[tokio::test]
async fn a_message_slack_refuses_for_its_blocks_goes_out_as_plain_text() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v2.0.0").await;
    w.slack().posts(1).await;
    w.slack().fake.script([Reply::SlackError("invalid_blocks")]);
    w.slack().slash("U0DANA", "status").await;
    let plain = w.slack().arrives("the status as text", |c| c.text().starts_with("STATUS v2.0.0")).await;
    assert!(plain.body["blocks"].is_null(), "sent without the blocks Slack refused: {}", plain.body);
    let refused = w.slack().fake.calls().into_iter().filter(|c| !c.ok).count();
    assert_eq!(refused, 1, "one refusal, then the text version");
    w.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    long_names_notes_and_messages_are_cut_to_fit_and_nothing_is_given_up,
    a_message_slack_refuses_for_its_blocks_goes_out_as_plain_text,
);
