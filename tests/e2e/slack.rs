//! Slack, inbound: golive serve's real routes on 127.0.0.1, requests signed exactly as Slack
//! signs them, a real SQLite file, a manual clock, and a fake Slack Web API receiving what the
//! channel would see.

use crate::harness::Ctx;
use std::time::Duration;

use crate::harness::http::post;
use crate::harness::slack::fixture;
use golive::chat::slack::verify::{SigningSecret, Unverified};
use golive::clock::Clock;
use golive::domain::EventKind;

#[test]
fn the_signing_example_from_slacks_documentation_verifies() {
    let Some(vector) = fixture("signing_vector.docs.json") else { return };
    let v: serde_json::Value = serde_json::from_str(&vector).unwrap();
    let secret = SigningSecret::new(v["signing_secret"].as_str().unwrap());
    let (ts, body) = (v["timestamp"].as_str().unwrap(), v["body"].as_str().unwrap());
    assert_eq!(secret.sign(ts, body.as_bytes()), v["expected_x_slack_signature"].as_str().unwrap());
    let sent = chrono::DateTime::from_timestamp(ts.parse().unwrap(), 0).unwrap();
    let signature = Some(v["expected_x_slack_signature"].as_str().unwrap());
    assert_eq!(secret.verify(signature, Some(ts), body.as_bytes(), sent + chrono::Duration::seconds(299)), Ok(()));
    assert_eq!(
        secret.verify(signature, Some(ts), body.as_bytes(), sent + chrono::Duration::seconds(301)),
        Err(Unverified::Stale(301))
    );
    let mut tampered = body.as_bytes().to_vec();
    tampered[0] ^= 1;
    assert_eq!(secret.verify(signature, Some(ts), &tampered, sent), Err(Unverified::Mismatch));
}

#[tokio::test]
async fn a_slash_command_opens_a_deployment_and_the_channel_is_told() {
    let w = Ctx::on_slack().await;
    let answer = w.slack().slash("U0DANA", "start v3.0.0").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, "", "a change is announced in the channel, not answered privately");
    let posts = w.slack().posts(1).await;
    assert_eq!(posts[0].method, "chat.postMessage");
    assert_eq!(posts[0].channel(), "C0DEPLOY");
    assert!(posts[0].text().contains("started deploying v3.0.0"), "{}", posts[0].text());
    let row = &w.store.deployments(None, 1).await.unwrap()[0];
    assert_eq!((row.lead.as_str(), row.lead_name.as_deref()), ("slack:U0DANA", Some("u0dana")));

    // A question gets a private answer; nothing is posted.
    let help = w.slack().slash("U0DANA", "help").await;
    assert_eq!(help.json()["response_type"], "ephemeral");
    assert!(help.json()["text"].as_str().unwrap().contains("/deploy start RELEASE"));
    // A typo is answered privately with what is allowed, and records nothing.
    let typo = w.slack().slash("U0DANA", "stauts").await;
    let typo = typo.json()["text"].as_str().unwrap().to_string();
    assert!(
        typo.starts_with("unknown command `stauts` (did you mean `status`?); commands: help, start, lead, status"),
        "{typo}"
    );
    // `/deploy status` posts the status to the channel.
    assert_eq!(w.slack().slash("U0TECHLEAD", "status").await.body, "");
    let posts = w.slack().posts(2).await;
    assert!(posts[1].text().starts_with("STATUS v3.0.0"), "{}", posts[1].text());
    assert_eq!(posts[1].body["blocks"][0]["type"], "header");
    w.finish().await;
}

#[tokio::test]
async fn unsigned_stale_or_forged_requests_get_401_and_change_nothing() {
    let w = Ctx::on_slack().await;
    let body = w.slack().form("U0DANA", "start v6.6.6", "1.1.a");
    let ts = w.slack().now();
    let good = w.slack().secret.sign(&ts, body.as_bytes());
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no headers", vec![]),
        ("no timestamp", vec![("X-Slack-Signature", good.clone())]),
        ("no signature", vec![("X-Slack-Request-Timestamp", ts.clone())]),
        (
            "wrong secret",
            vec![
                ("X-Slack-Request-Timestamp", ts.clone()),
                ("X-Slack-Signature", SigningSecret::new("not-the-secret").sign(&ts, body.as_bytes())),
            ],
        ),
        ("six minutes old", {
            let old = (w.clock.now().timestamp() - 360).to_string();
            vec![
                ("X-Slack-Signature", w.slack().secret.sign(&old, body.as_bytes())),
                ("X-Slack-Request-Timestamp", old),
            ]
        }),
        (
            "signature of another body",
            vec![
                ("X-Slack-Request-Timestamp", ts.clone()),
                ("X-Slack-Signature", w.slack().secret.sign(&ts, b"text=start+v1")),
            ],
        ),
    ];
    for (what, headers) in cases {
        for path in ["/slack/commands", "/slack/events"] {
            let answer = post(&w.addr, path, form, &headers, body.as_bytes()).await;
            assert_eq!(answer.status, 401, "{what} on {path}: {answer:?}");
        }
    }
    assert_eq!(w.deployments().await, 0);
    assert!(w.store.outbox().await.unwrap().is_empty());
    // The same request, properly signed, works.
    let headers = [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", good)];
    assert_eq!(post(&w.addr, "/slack/commands", form, &headers, body.as_bytes()).await.status, 200);
    assert_eq!(w.deployments().await, 1);
    // The signed request started the deployment, and the channel heard it.
    w.slack().reads_started("v6.6.6").await;
    w.finish().await;
}

#[tokio::test]
async fn a_retried_delivery_has_one_effect() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v3.0.0").await;
    let body = w.slack().form("U0DANA", "note database backup verified", "2000.1.retry");
    let first = w.slack().signed("/slack/commands", "application/x-www-form-urlencoded", &body, &[]).await;
    let again = w
        .slack()
        .signed("/slack/commands", "application/x-www-form-urlencoded", &body, &[("X-Slack-Retry-Num", "1".into())])
        .await;
    assert_eq!((first.status, again.status), (200, 200));
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    let notes =
        w.store.events(id).await.unwrap().iter().filter(|e| matches!(e.kind, EventKind::NoteAdded { .. })).count();
    assert_eq!(notes, 1);
    // The channel heard the note once.
    w.slack().reads_started("v3.0.0").await;
    w.slack().reads("Note from u0dana: database backup verified").await;
    w.finish().await;
}

#[tokio::test]
async fn signing_off_a_role_you_do_not_hold_is_refused_privately_and_recorded() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v3.0.0").await;
    w.slack().slash("U0DANA", "phase start pre-deployment").await;
    let refused = w.slack().slash("U0PRODUCT", "signoff security looks fine to me").await;
    assert_eq!(refused.status, 200);
    assert_eq!(refused.json()["response_type"], "ephemeral");
    let text = refused.json()["text"].as_str().unwrap().to_string();
    assert!(text.contains("security"), "{text}");
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    let events = w.store.events(id).await.unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::CommandRefused { command, .. } if command.contains("signoff security"))
            && e.actor.key() == "slack:U0PRODUCT"));
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::SignedOff { .. })));
    // The member signs, and the channel sees it.
    assert_eq!(w.slack().slash("U0SECURITY", "signoff security").await.body, "");
    let posts = w.slack().posts(3).await;
    assert!(posts[2].text().contains("security"), "{}", posts[2].text());
    w.finish().await;
}

#[tokio::test]
async fn malformed_requests_get_a_clear_400() {
    let w = Ctx::on_slack().await;
    let answer = w.slack().signed("/slack/commands", "application/x-www-form-urlencoded", "text=%ZZ&&&", &[]).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    let answer = w.slack().signed("/slack/events", "application/json", "{not json", &[]).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    let huge = "x".repeat(100 * 1024);
    let answer = w.slack().signed("/slack/commands", "application/x-www-form-urlencoded", &huge, &[]).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(w.deployments().await, 0);
    w.finish().await;
}

#[tokio::test]
async fn the_events_url_check_and_mentions_are_answered() {
    let w = Ctx::on_slack().await;
    let check = r#"{"token":"x","challenge":"c-123-golive","type":"url_verification"}"#;
    let answer = w.slack().signed("/slack/events", "application/json", check, &[]).await;
    assert_eq!((answer.status, answer.json()["challenge"].as_str()), (200, Some("c-123-golive")));
    if let Some(docs) = fixture("url_verification.docs.json") {
        let answer = w.slack().signed("/slack/events", "application/json", &docs, &[]).await;
        let expected: serde_json::Value = serde_json::from_str(&docs).unwrap();
        assert_eq!(answer.json()["challenge"], expected["challenge"]);
    }

    w.slack().slash("U0DANA", "start v3.0.0").await;
    let mention = serde_json::json!({
        "type": "event_callback", "event_id": "Ev0MENTION", "team_id": "T0TEAM",
        "event": { "type": "app_mention", "user": "U0OPS", "text": "<@U0GOLIVE> status", "channel": "C0DEPLOY", "ts": "1.2" }
    })
    .to_string();
    assert_eq!(w.slack().signed("/slack/events", "application/json", &mention, &[]).await.status, 200);
    // Slack delivers the same event again: one answer only.
    let retry = [("X-Slack-Retry-Num", "1".to_string()), ("X-Slack-Retry-Reason", "http_timeout".to_string())];
    assert_eq!(w.slack().signed("/slack/events", "application/json", &mention, &retry).await.status, 200);
    let posts = w.slack().posts(2).await;
    w.quiet().await;
    w.clock.advance(Duration::from_secs(5));
    w.quiet().await;
    let status: Vec<_> = w.slack().fake.delivered().into_iter().filter(|c| c.text().starts_with("STATUS")).collect();
    assert_eq!(status.len(), 1, "{posts:?}");
    w.finish().await;
}

#[tokio::test]
async fn every_slack_fixture_is_accepted_when_signed() {
    if fixture("slash_command.bolt-python.form.txt").is_none() {
        return;
    }
    let w = Ctx::on_slack().await;
    for (name, path, content_type) in [
        ("slash_command.bolt-python.form.txt", "/slack/commands", "application/x-www-form-urlencoded"),
        ("slash_command.docs-signing-vector.form.txt", "/slack/commands", "application/x-www-form-urlencoded"),
        ("url_verification.bolt-python.json", "/slack/events", "application/json"),
        ("app_mention.event_callback.bolt-python.json", "/slack/events", "application/json"),
    ] {
        let Some(body) = fixture(name) else {
            w.ignore_posts(); // ../shared/fixtures is incomplete: the check is skipped, noted above.
            return;
        };
        let answer = w.slack().signed(path, content_type, body.trim_end_matches('\n'), &[]).await;
        assert_eq!(answer.status, 200, "{name}: {answer:?}");
        if path == "/slack/commands" {
            // Another app's command reaching golive is answered, not failed.
            let text = answer.json()["text"].as_str().unwrap_or_default().to_string();
            assert!(text.starts_with("golive answers `/deploy`"), "{name}: {text}");
        }
    }
    // The mention fixture names no command golive knows: its author is told so, privately.
    let told = w.slack().reads("unknown command `Hi`").await;
    assert_eq!(told.method, "chat.postEphemeral");
    w.finish().await;
}

#[test]
fn the_app_manifest_points_slack_at_golives_routes_with_the_scopes_it_uses() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/slack/manifest.yml")).unwrap();
    for route in ["/slack/commands", "/slack/events", "/slack/interactions"] {
        assert!(manifest.contains(&format!("https://golive.example.com{route}\n")), "{route}");
    }
    let config = golive::config::Config::example();
    assert!(manifest.contains(&format!("- command: {}\n", config.slack.command)));
    for scope in ["commands", "chat:write", "app_mentions:read", "usergroups:read"] {
        assert!(manifest.contains(&format!("      - {scope}\n")), "{scope}");
    }
    assert!(manifest.contains("- app_mention\n"));
}

#[tokio::test]
async fn text_people_type_cannot_ping_the_channel_or_dress_up_links_in_golives_posts() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v3.0.0").await;
    let typed = "note <!channel> all good <https://evil.example|the dashboard> & done <!subteam^S0ALL> <@U0TECHLEAD>";
    w.slack().slash("U0OPS", typed).await;
    let posts = w.slack().posts(2).await;
    let note = posts[1].text();
    assert!(
        note.contains("&lt;\u{2060}!channel&gt; all good &lt;https://evil.example|the dashboard&gt; &amp; done"),
        "{note}"
    );
    assert!(!note.contains("<!channel>") && !note.contains("<https://"), "{note}");
    // Typed mentions ping nobody, whoever they name: a configured member neither.
    assert!(note.contains("&lt;\u{2060}!subteam^S0ALL&gt; &lt;\u{2060}@U0TECHLEAD&gt;"), "{note}");
    assert!(!note.contains("<@U0TECHLEAD>") && !note.contains("<!subteam"), "{note}");
    w.finish().await;
}

#[tokio::test]
async fn an_escalation_pings_only_the_level_it_pages_whoever_its_message_names() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v3.0.1").await;
    w.slack().slash("U0OPS", "escalate 1 db is slow, <@U0MANAGER> <!here> look").await;
    let page = w.slack().arrives("the page", |c| c.text().contains("db is slow")).await;
    let blocks = page.body["blocks"].to_string();
    for shown in [page.text(), blocks.as_str()] {
        assert!(shown.contains("<@U0TECHLEAD>"), "level 1 is paged: {shown}");
        assert!(!shown.contains("<@U0MANAGER>") && !shown.contains("<!here>"), "{shown}");
    }
    // Besides the page (read above), the channel heard the start.
    w.slack().reads_started("v3.0.1").await;
    w.finish().await;
}

#[tokio::test]
async fn a_replayed_command_without_a_trigger_id_has_one_effect() {
    let w = Ctx::on_slack().await;
    w.slack().slash("U0DANA", "start v3.0.0").await;
    let body = w.slack().form("U0DANA", "note replayed", "x");
    let body = body.replace("&trigger_id=x", "");
    assert!(!body.contains("trigger_id"), "{body}");
    for _ in 0..3 {
        let sent = w.slack().signed("/slack/commands", "application/x-www-form-urlencoded", &body, &[]).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
    }
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    let notes =
        w.store.events(id).await.unwrap().iter().filter(|e| matches!(e.kind, EventKind::NoteAdded { .. })).count();
    assert_eq!(notes, 1, "the replays were answered from the record of the first");
    // The channel heard the note once.
    w.slack().reads_started("v3.0.0").await;
    w.slack().reads("Note from u0dana: replayed").await;
    w.finish().await;
}

#[tokio::test]
async fn requests_from_another_workspace_get_401_and_change_nothing() {
    let w =
        Ctx::on_slack_with(|c| c.replacen("command = \"/deploy\"", "command = \"/deploy\"\nteam_id = \"T0TEAM\"", 1))
            .await;
    let form = "application/x-www-form-urlencoded";
    let foreign = w.slack().form("U0DANA", "start v9.9.9", "5000.1.x").replace("team_id=T0TEAM", "team_id=T0OTHER");
    assert_eq!(w.slack().signed("/slack/commands", form, &foreign, &[]).await.status, 401);
    let nameless = w.slack().form("U0DANA", "start v9.9.9", "5000.2.x").replace("team_id=T0TEAM&", "");
    assert_eq!(w.slack().signed("/slack/commands", form, &nameless, &[]).await.status, 401);
    assert_eq!(w.deployments().await, 0);

    assert_eq!(w.slack().slash("U0DANA", "start v3.0.0").await.status, 200);
    assert_eq!(w.deployments().await, 1);
    w.slack().slash("U0OPS", "escalate 1 db is slow").await;
    // A button press and a mention from another workspace are refused too.
    let mut press = serde_json::json!({
        "type": "block_actions",
        "user": { "id": "U0TECHLEAD", "username": "alice", "team_id": "T0OTHER" },
        "team": { "id": "T0OTHER", "domain": "elsewhere" },
        "trigger_id": "3000.9.press",
        "channel": { "id": "C0DEPLOY" },
        "response_url": w.slack().fake.response_url("press-x"),
        "actions": [{ "action_id": "golive.ack", "block_id": "actions", "value": "1", "type": "button" }],
    });
    assert_eq!(w.slack().interaction(&press).await.status, 401);
    let event = serde_json::json!({
        "type": "event_callback", "team_id": "T0OTHER", "event_id": "Ev9",
        "event": { "type": "app_mention", "user": "U0OPS", "text": "<@U0GOLIVE> status", "channel": "C0DEPLOY", "ts": "1.2" }
    });
    let events = w.slack().signed("/slack/events", "application/json", &event.to_string(), &[]).await;
    assert_eq!(events.status, 401);
    let acks = |events: Vec<golive::domain::Event>| {
        events.iter().filter(|e| matches!(e.kind, EventKind::EscalationAcknowledged { .. })).count()
    };
    assert_eq!(acks(w.store.events(1).await.unwrap()), 0, "the escalation is still open");
    // The same press from this workspace acknowledges it.
    press["team"]["id"] = "T0TEAM".into();
    press["user"]["team_id"] = "T0TEAM".into();
    assert_eq!(w.slack().interaction(&press).await.status, 200);
    assert_eq!(acks(w.store.events(1).await.unwrap()), 1, "acknowledged from the right workspace");
    // The channel heard the start, the page, and the acknowledgement from this workspace only.
    w.slack().reads_started("v3.0.0").await;
    w.slack().reads("ESCALATION level 1 (Team leads) from u0ops: db is slow").await;
    w.slack().reads("alice acknowledged the level 1 escalation").await;
    w.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_slash_command_opens_a_deployment_and_the_channel_is_told,
    unsigned_stale_or_forged_requests_get_401_and_change_nothing,
    a_retried_delivery_has_one_effect,
    signing_off_a_role_you_do_not_hold_is_refused_privately_and_recorded,
    malformed_requests_get_a_clear_400,
    the_events_url_check_and_mentions_are_answered,
    every_slack_fixture_is_accepted_when_signed,
    text_people_type_cannot_ping_the_channel_or_dress_up_links_in_golives_posts,
    an_escalation_pings_only_the_level_it_pages_whoever_its_message_names,
    a_replayed_command_without_a_trigger_id_has_one_effect,
    requests_from_another_workspace_get_401_and_change_nothing,
);
