//! golive in a Discord server: interactions signed with Ed25519 as Discord signs them arrive
//! at the real `/discord/interactions` route on 127.0.0.1, and what the channel sees is read
//! off a fake Discord REST API. A whole deployment is driven by slash commands and buttons;
//! forged, altered and stale requests are refused; outsiders are refused on the record; Slack
//! and Discord deployments run side by side in one process.

use crate::harness;
use crate::harness::discord::{discord_user, APP, CHANNEL, GUILD};
use crate::harness::fake_discord::Reply;
use crate::harness::Ctx;
use crate::harness::{
    POST_DEPLOYMENT_SIGNOFFS, POST_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, PRODUCTION_TICKS,
    STAGING_TICKS,
};
use golive::domain::{Channel, EventKind, Platform, RollbackLevel};
use serde_json::{json, Value};

fn discord_channel() -> Channel {
    Channel { platform: Platform::Discord, id: CHANNEL.into() }
}

/// The custom id of the button labelled `label` on a message.
fn button(call: &harness::fake_discord::Call, label: &str) -> String {
    let rows = call.body["components"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        .find(|b| b["label"] == label)
        .and_then(|b| b["custom_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no `{label}` button on {:#}", call.body))
}

async fn ok(g: &Ctx, who: &str, path: &[&str], options: &[(&str, Value)]) {
    let told = g.discord().told(who, path, options).await;
    assert!(told.starts_with('✓'), "{who} /deploy {path:?} {options:?} was not accepted: {told}");
}

#[tokio::test]
async fn ping_gets_pong_and_unsigned_stale_or_altered_requests_get_401_and_change_nothing() {
    let g = Ctx::on_discord().await;
    let ping = g.discord().signed(r#"{"id":"1","type":1,"token":"t","version":1}"#).await;
    assert_eq!((ping.status, ping.json()), (200, json!({ "type": 1 })));

    let start = g.discord().interaction(
        "dana",
        2,
        harness::discord::command_data(&["start"], &[("release", json!("v9.9.9"))], None),
    );
    let body = start.to_string();
    // Signed with another application's key.
    let other = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let ts = g.discord().now();
    let forged = hex::encode(ed25519_dalek::Signer::sign(&other, format!("{ts}{body}").as_bytes()).to_bytes());
    let answer = harness::http::post(
        &g.addr,
        "/discord/interactions",
        "application/json",
        &[("X-Signature-Ed25519", forged), ("X-Signature-Timestamp", ts.clone())],
        body.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 401);
    // No signature at all.
    let bare = harness::http::post(&g.addr, "/discord/interactions", "application/json", &[], body.as_bytes()).await;
    assert_eq!(bare.status, 401);
    // A valid signature six minutes old: a replay.
    let stale = (g.discord().now().parse::<i64>().unwrap() - 6 * 60).to_string();
    assert_eq!(g.discord().signed_at(&body, &stale).await.status, 401);
    // Signed, then altered: the release is changed after signing.
    let signature_for = |b: &str| {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        hex::encode(ed25519_dalek::Signer::sign(&key, format!("{ts}{b}").as_bytes()).to_bytes())
    };
    let altered = harness::http::post(
        &g.addr,
        "/discord/interactions",
        "application/json",
        &[("X-Signature-Ed25519", signature_for(&body)), ("X-Signature-Timestamp", ts.clone())],
        body.replace("v9.9.9", "v6.6.6").as_bytes(),
    )
    .await;
    assert_eq!(altered.status, 401);
    assert_eq!(g.store.deployments(None, 10).await.unwrap().len(), 0, "nothing was recorded");

    // Signed but not JSON: 400, not a panic.
    assert_eq!(g.discord().signed("{not json").await.status, 400);
    g.finish().await;
}

#[tokio::test]
async fn a_whole_deployment_driven_from_discord_commands_and_buttons() {
    let g = Ctx::on_discord().await;
    // golive registered /deploy in the configured server when it started.
    let registered =
        g.discord().fake.calls().into_iter().find(|c| c.method == "PUT").expect("the command was registered");
    assert_eq!(registered.path, format!("/api/v10/applications/{APP}/guilds/{GUILD}/commands"));
    assert_eq!(registered.body[0]["name"], "deploy");
    let subs: Vec<&str> =
        registered.body[0]["options"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    for sub in ["start", "phase", "check", "signoff", "go", "nogo", "traffic", "rollback", "escalate", "ack", "status"]
    {
        assert!(subs.contains(&sub), "/deploy {sub} is registered: {subs:?}");
    }
    assert_eq!(registered.authorization.as_deref(), Some("Bot test-bot-token"));

    ok(&g, "dana", &["start"], &[("release", json!("v2.4.0"))]).await;
    let started = g.discord().arrives("the start announcement", |c| c.content().contains("v2.4.0")).await;
    assert!(started.is_post());
    assert_eq!(started.body["allowed_mentions"]["parse"], json!([]), "nobody is pinged by a plain announcement");
    ok(&g, "dana", &["phase", "start"], &[("phase", json!("pre-deployment"))]).await;
    for (who, item) in PRE_DEPLOYMENT_TICKS {
        ok(&g, who, &["check"], &[("item", json!(item))]).await;
    }

    // The status post: an embed with the open sign-offs as buttons.
    ok(&g, "dana", &["status"], &[]).await;
    let status =
        g.discord().arrives("the status post", |c| !c.body["embeds"].as_array().is_none_or(|e| e.is_empty())).await;
    let embed = &status.body["embeds"][0];
    assert!(embed["title"].as_str().unwrap().starts_with("Deploy v2.4.0"), "{embed}");
    assert!(status.seen().contains("Sign-offs"), "{}", status.seen());
    let sign_security = button(&status, "Sign off as security");
    let (sam, _) = discord_user("sam");
    assert_eq!(g.discord().press("sam", &sign_security).await["data"]["flags"], 64);
    // The sign-off lands: the same status message is edited in place, not posted again.
    let message_id = status.message_id.clone().unwrap();
    let edited = g
        .discord()
        .arrives("the status message edited", |c| {
            c.is_edit() && c.path.ends_with(&message_id) && c.seen().contains("✅ security")
        })
        .await;
    assert!(edited.seen().contains(&format!("<@{sam}>")) || edited.seen().contains("sam"), "{}", edited.seen());
    for (who, role) in PRE_DEPLOYMENT_SIGNOFFS.iter().filter(|(_, r)| *r != "security") {
        ok(&g, who, &["signoff"], &[("role", json!(role))]).await;
    }
    ok(&g, "dana", &["phase", "done"], &[]).await;

    ok(&g, "dana", &["phase", "start"], &[("phase", json!("staging"))]).await;
    for (who, item) in STAGING_TICKS {
        ok(&g, who, &["check"], &[("item", json!(item))]).await;
    }
    // priya holds product through the server role given to her, not by her user id.
    ok(&g, "priya", &["signoff"], &[("role", json!("product")), ("note", json!("accepted on staging"))]).await;
    ok(&g, "alice", &["signoff"], &[("role", json!("tech-lead"))]).await;
    ok(&g, "dana", &["phase", "done"], &[]).await;
    ok(&g, "dana", &["status"], &[]).await;
    let status = g
        .discord()
        .arrives("the status asking for go", |c| c.buttons().iter().any(|b| b.starts_with("golive.go:")))
        .await;
    let go = g.discord().press("dana", &button(&status, "Go")).await;
    assert!(go["data"]["content"].as_str().unwrap().starts_with('✓'), "{go}");

    ok(&g, "dana", &["phase", "start"], &[("phase", json!("production"))]).await;
    ok(&g, "olga", &["traffic"], &[("percent", json!(50))]).await;
    // Trouble at 50 %: on-call is paged by mention, and only they are pinged.
    ok(&g, "olga", &["escalate"], &[("message", json!("error rate at 0.4% @everyone"))]).await;
    let (olga, _) = discord_user("olga");
    let page = g.discord().arrives("the page", |c| c.content().contains("error rate at 0.4%")).await;
    assert!(page.content().contains(&format!("<@{olga}>")), "{}", page.content());
    assert_eq!(page.body["allowed_mentions"]["parse"], json!([]), "@everyone in the message pings nobody");
    assert_eq!(page.body["allowed_mentions"]["users"], json!([olga]));
    let ack = g.discord().press("olga", &button(&page, "Ack")).await;
    assert!(ack["data"]["content"].as_str().unwrap().starts_with('✓'), "{ack}");
    ok(&g, "olga", &["escalate"], &[("message", json!("resolve"))]).await;
    for (who, item) in PRODUCTION_TICKS {
        ok(&g, who, &["check"], &[("item", json!(item))]).await;
    }
    // Each step is watched for 30 minutes; the lead moves on at once, with the reason recorded.
    for percent in [70, 85, 100] {
        ok(&g, "dana", &["traffic"], &[("percent", json!(percent)), ("force", json!("all green, moving on"))]).await;
    }
    ok(&g, "olga", &["signoff"], &[("role", json!("ops"))]).await;
    ok(&g, "dana", &["phase", "done"], &[]).await;
    ok(&g, "dana", &["phase", "start"], &[("phase", json!("post-deployment"))]).await;
    for (who, item) in POST_DEPLOYMENT_TICKS {
        ok(&g, who, &["check"], &[("item", json!(item))]).await;
    }
    for (who, role) in POST_DEPLOYMENT_SIGNOFFS {
        ok(&g, who, &["signoff"], &[("role", json!(role))]).await;
    }
    ok(&g, "dana", &["phase", "done"], &[]).await;
    ok(&g, "dana", &["complete"], &[]).await;
    g.discord().arrives("the completion", |c| c.content().contains("v2.4.0 completed by dana")).await;
    // The status post on screen ends the story whole.
    let status = g.status_on_discord().await;
    assert!(status.seen().contains("Phases: 4/4 done"), "{}", status.seen());

    let rows = g.store.deployments(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].platform.as_str(), rows[0].channel.as_str(), rows[0].status.as_str()),
        ("discord", CHANNEL, "completed")
    );
    let (dana, _) = discord_user("dana");
    assert_eq!(rows[0].lead, format!("discord:{dana}"));
    assert!(g.store.verify().await.unwrap().is_ok());
    // Every post went to the deployment's channel, in order, and none failed: this reads
    // each post (the story's turns were read as they happened above) for where it went.
    assert!(g.discord().fake.calls().iter().all(|c| c.answered < 300));
    assert!(g.discord().fake.messages().iter().all(|c| c.path.contains(CHANNEL)));
    g.finish().await;
}

#[tokio::test]
async fn outsiders_are_refused_privately_and_the_refusal_is_recorded() {
    let g = Ctx::on_discord().await;
    ok(&g, "dana", &["start"], &[("release", json!("v3.0.0"))]).await;
    ok(&g, "dana", &["phase", "start"], &[("phase", json!("pre-deployment"))]).await;
    let refused = g.discord().told("stranger", &["signoff"], &[("role", json!("security"))]).await;
    assert!(refused.contains("security"), "{refused}");
    assert!(!refused.starts_with('✓'));
    // A member of the team is refused a role they do not hold.
    let refused = g.discord().told("bruno", &["signoff"], &[("role", json!("security"))]).await;
    assert!(refused.contains("security"), "{refused}");
    let events = g.store.events(1).await.unwrap();
    let refusals: Vec<_> =
        events.iter().filter(|e| matches!(e.kind, EventKind::CommandRefused { .. })).map(|e| e.actor.key()).collect();
    assert_eq!(
        refusals,
        [format!("discord:{}", discord_user("stranger").0), format!("discord:{}", discord_user("bruno").0)]
    );

    // A button cannot be used to act as someone else: the press is checked against who pressed.
    let refused = g.discord().press("stranger", "golive.signoff:1:security").await;
    assert!(!refused["data"]["content"].as_str().unwrap().starts_with('✓'), "{refused}");
    // A button drawn for another deployment does nothing here.
    let stale = g.discord().press("sam", "golive.signoff:7:security").await;
    assert!(stale["data"]["content"].as_str().unwrap().contains("deployment #7"), "{stale}");
    // Unknown subcommand words and free text with spaces where one word belongs are explained.
    let spaced = g.discord().told("sam", &["check"], &[("item", json!("two words"))]).await;
    assert!(spaced.contains("one word"), "{spaced}");
    assert!(g.store.events(1).await.unwrap().iter().all(|e| !matches!(e.kind, EventKind::SignedOff { .. })));
    // The channel saw the start and the phase; the refusals were told privately.
    g.discord().reads_started("v3.0.0").await;
    g.discord().reads("Phase 1/4 pre-deployment (").await;
    g.finish().await;
}

#[tokio::test]
async fn roll_back_opens_a_modal_whose_submission_records_the_reason_and_level() {
    let g = Ctx::on_discord().await;
    ok(&g, "dana", &["start"], &[("release", json!("v3.1.0"))]).await;
    ok(&g, "dana", &["status"], &[]).await;
    let status = g.discord().arrives("the status post", |c| !c.buttons().is_empty()).await;
    let roll_back = button(&status, "Roll back…");

    // An outsider gets no form, only the refusal.
    let refused = g.discord().press("stranger", &roll_back).await;
    assert_eq!(refused["type"], 4, "{refused}");
    assert!(refused["data"]["content"].as_str().unwrap().contains("deployment team"), "{refused}");

    let modal = g.discord().press("olga", &roll_back).await;
    assert_eq!(modal["type"], 9, "a modal: {modal}");
    let custom_id = modal["data"]["custom_id"].as_str().unwrap().to_string();
    let inputs: Vec<&str> = modal["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["components"][0]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["reason", "level"]);

    let vague = g.discord().submit("olga", &custom_id, &[("reason", "5xx spike"), ("level", "soonish")]).await;
    assert!(vague["data"]["content"].as_str().unwrap().contains("immediate, quick or planned"), "{vague}");
    let done = g.discord().submit("olga", &custom_id, &[("reason", "5xx spike at 70%"), ("level", "Quick")]).await;
    assert!(done["data"]["content"].as_str().unwrap().starts_with('✓'), "{done}");
    let rolled = g.store.events(1).await.unwrap();
    assert!(rolled.iter().any(|e| matches!(&e.kind, EventKind::RollbackStarted { reason, level: Some(l) }
        if reason == "5xx spike at 70%" && l.as_str() == "quick")));
    g.discord().arrives("the rollback announcement", |c| c.content().contains("5xx spike at 70%")).await;
    // The status post now shows the rollback; the channel saw the start and the page.
    let status = g.status_on_discord().await;
    assert!(status.seen().contains("ROLLING BACK"), "{}", status.seen());
    g.discord().reads_started("v3.1.0").await;
    g.discord().reads("ESCALATION level 1 (Team leads) from olga: rollback: 5xx spike at 70%").await;
    g.finish().await;
}

#[tokio::test]
async fn autocomplete_offers_the_running_deployments_phases_items_and_roles() {
    let g = Ctx::on_discord().await;
    // No deployment yet: the default plan's phases.
    let phases = g.discord().complete("dana", &["phase", "start"], "phase", "").await;
    assert_eq!(phases, ["pre-deployment", "staging", "production", "post-deployment"]);
    ok(&g, "dana", &["start"], &[("release", json!("v3.2.0"))]).await;
    ok(&g, "dana", &["phase", "start"], &[("phase", json!("pre-deployment"))]).await;
    let items = g.discord().complete("bruno", &["check"], "item", "mig").await;
    assert_eq!(items, ["migrations-tested"]);
    let roles = g.discord().complete("sam", &["signoff"], "role", "").await;
    assert_eq!(&roles[..2], ["tech-lead", "security"], "the running phase's sign-offs come first: {roles:?}");
    assert!(g.discord().complete("sam", &["phase", "start"], "phase", "stag").await == ["staging"]);
    // The channel saw the start and the phase.
    g.discord().reads_started("v3.2.0").await;
    g.discord().reads("Phase 1/4 pre-deployment (").await;
    g.finish().await;
}

#[tokio::test]
async fn slack_and_discord_deployments_run_side_by_side_with_separate_histories() {
    let g = Ctx::serve().discord().slack().start().await;
    ok(&g, "dana", &["start"], &[("release", json!("v5.0.0-discord"))]).await;
    assert_eq!(g.slack().slash("U0DANA", "start v5.0.0-slack").await.status, 200);
    assert_eq!(g.slack().slash("U0DANA", "note only in slack").await.status, 200);

    g.discord().arrives("the Discord start", |c| c.content().contains("v5.0.0-discord")).await;
    g.slack().arrives("the Slack note", |c| c.text().contains("only in slack")).await;
    let slack = &g.slack().fake;
    assert!(slack.delivered().iter().any(|c| c.text().contains("v5.0.0-slack")));
    assert!(slack.delivered().iter().all(|c| !c.text().contains("discord")), "{:?}", slack.delivered());
    assert!(
        g.discord().fake.messages().iter().all(|c| !c.content().contains("slack")),
        "{:?}",
        g.discord().fake.messages()
    );

    let rows = g.store.deployments(None, 10).await.unwrap();
    assert_eq!(rows.len(), 2);
    let by_platform = |p: &str| rows.iter().find(|r| r.platform == p).unwrap().id;
    let (discord_id, slack_id) = (by_platform("discord"), by_platform("slack"));
    let discord_events = g.store.events(discord_id).await.unwrap();
    let slack_events = g.store.events(slack_id).await.unwrap();
    assert!(discord_events.iter().all(|e| e.actor.platform != Platform::Slack));
    assert!(slack_events.iter().any(|e| matches!(&e.kind, EventKind::NoteAdded { text } if text == "only in slack")));
    assert!(discord_events.iter().all(|e| !matches!(e.kind, EventKind::NoteAdded { .. })));
    assert!(g.store.open_deployment(&discord_channel()).await.unwrap().is_some());
    g.finish().await;
}

#[tokio::test]
async fn discord_failures_are_retried_or_recorded_with_what_to_do() {
    let g = Ctx::on_discord().await;
    // Rate limited, then a server error: the announcement still arrives, once.
    g.discord()
        .fake
        .script([Reply::Status { code: 429, retry_after: Some(0.5) }, Reply::Status { code: 502, retry_after: None }]);
    ok(&g, "dana", &["start"], &[("release", json!("v4.0.0"))]).await;
    g.discord().arrives("the announcement after retries", |c| c.content().contains("v4.0.0")).await;
    let attempts: Vec<u16> = g.discord().fake.calls().iter().filter(|c| c.is_post()).map(|c| c.answered).collect();
    assert_eq!(attempts, [429, 502, 200]);

    // The bot lost access to the channel: given up, and the timeline says what to fix.
    g.discord().fake.script([Reply::JsonError { status: 403, code: 50001 }]);
    ok(&g, "dana", &["note"], &[("text", json!("a note nobody will see"))]).await;
    let recorded = || {
        let store = g.store.clone();
        async move {
            let events = store.events(1).await.unwrap();
            events.into_iter().find_map(|e| match e.kind {
                EventKind::DeliveryFailed { error, .. } => Some(error),
                _ => None,
            })
        }
    };
    let error = g.until_async("the failed delivery recorded", recorded, || "no DeliveryFailed event".into()).await;
    assert!(error.contains("Send Messages"), "{error}");
    g.finish().await;
}

#[tokio::test]
async fn an_interaction_delivered_twice_has_one_effect() {
    let g = Ctx::on_discord().await;
    ok(&g, "dana", &["start"], &[("release", json!("v6.0.0"))]).await;
    let note = g.discord().interaction(
        "olga",
        2,
        harness::discord::command_data(&["note"], &[("text", json!("once only"))], None),
    );
    let first = g.discord().signed(&note.to_string()).await;
    let again = g.discord().signed(&note.to_string()).await;
    assert_eq!(first.json(), again.json(), "the repeat gets the first answer");
    let notes = g.store.events(1).await.unwrap();
    assert_eq!(notes.iter().filter(|e| matches!(e.kind, EventKind::NoteAdded { .. })).count(), 1);
    // The channel saw the start and the note once.
    g.discord().reads_started("v6.0.0").await;
    g.discord().reads("Note from olga: once only").await;
    g.finish().await;
}

#[tokio::test]
async fn free_text_is_never_read_as_a_setting_and_typed_mentions_ping_nobody() {
    let g = Ctx::on_discord().await;
    ok(&g, "dana", &["start"], &[("release", json!("v6.1.0"))]).await;
    // A message that starts with a number is a message, not a level.
    let (alice, _) = discord_user("alice");
    ok(&g, "olga", &["escalate"], &[("message", json!(format!("3 pods down, <@{alice}> look")))]).await;
    let events = g.store.events(1).await.unwrap();
    assert!(
        events.iter().any(|e| matches!(&e.kind, EventKind::EscalationOpened { level: 1, message, .. }
        if message.starts_with("3 pods down"))),
        "{events:?}"
    );
    let page = g.discord().arrives("the page", |c| c.content().contains("3 pods down")).await;
    // Only the people paged at level 1 (olga on this server) may be pinged; alice, named in
    // the typed message, is not.
    assert_eq!(page.body["allowed_mentions"]["users"], json!([discord_user("olga").0]), "{}", page.body);
    ok(&g, "olga", &["escalate"], &[("message", json!("resolve"))]).await;
    // A reason that looks like a setting is kept as typed.
    ok(&g, "olga", &["rollback"], &[("reason", json!("level=planned was the plan, but 5xx"))]).await;
    let events = g.store.events(1).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::RollbackStarted { reason, level: Some(RollbackLevel::Immediate) }
        if reason == "level=planned was the plan, but 5xx")),
        "{events:?}"
    );
    // Anyone's note with mentions in it pings nobody.
    let typed = format!("<@{alice}> <@&{}> @everyone wake up", harness::discord::PRODUCT_ROLE);
    ok(&g, "stranger", &["note"], &[("text", json!(typed))]).await;
    let note = g.discord().arrives("the note", |c| c.content().contains("wake up")).await;
    assert_eq!(note.body["allowed_mentions"], json!({ "parse": [], "users": [], "roles": [] }));
    // And the typed mentions are not written as mentions at all.
    assert!(!note.content().contains(&format!("<@{alice}>")), "{}", note.content());
    assert!(!page.content().contains(&format!("<@{alice}>")), "{}", page.content());
    // The channel saw the start, the page resolved, the rollback and its page.
    let discord = g.discord();
    discord.reads_started("v6.1.0").await;
    discord.reads("olga resolved the escalation.").await;
    discord.reads("ROLLBACK (immediate, 0–5 min) started by olga: level=planned was the plan, but 5xx").await;
    discord.reads("ESCALATION level 1 (Team leads) from olga: rollback: level=planned was the plan").await;
    g.finish().await;
}

#[tokio::test]
async fn a_status_post_stays_within_discords_embed_limit_however_long_the_texts() {
    let g = Ctx::on_discord().await;
    ok(&g, "dana", &["start"], &[("release", json!("v6.2.0"))]).await;
    for n in 0..6 {
        ok(&g, "olga", &["note"], &[("text", json!(format!("{n} {}", "long note ".repeat(90))))]).await;
    }
    ok(&g, "olga", &["escalate"], &[("message", json!("x".repeat(990)))]).await;
    ok(&g, "olga", &["rollback"], &[("reason", json!("y".repeat(990)))]).await;
    ok(&g, "dana", &["status"], &[]).await;
    let status =
        g.discord().arrives("the status post", |c| c.body["embeds"].as_array().is_some_and(|e| !e.is_empty())).await;
    let embed = &status.body["embeds"][0];
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let total = len(&embed["title"])
        + len(&embed["description"])
        + len(&embed["footer"]["text"])
        + embed["fields"].as_array().unwrap().iter().map(|f| len(&f["name"]) + len(&f["value"])).sum::<usize>();
    assert!(total <= 6000, "{total} characters");
    assert!(embed["fields"].as_array().unwrap().iter().all(|f| len(&f["value"]) <= 1024));
    // The long texts the status shortened were posted whole as they happened.
    let discord = g.discord();
    discord.reads_started("v6.2.0").await;
    for n in 0..6 {
        discord.reads(&format!("Note from olga: {n} {}", "long note ".repeat(90).trim_end())).await;
    }
    discord.reads(&format!("ESCALATION level 1 (Team leads) from olga: {}", "x".repeat(990))).await;
    discord.reads(&format!("ROLLBACK (immediate, 0–5 min) started by olga: {}", "y".repeat(990))).await;
    g.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_cannot_come_within_discords_deadline_is_deferred_then_filled_in() {
    let g = Ctx::on_discord().await;
    ok(&g, "dana", &["start"], &[("release", json!("v6.3.0"))]).await;
    // Another writer holds the database (another process, a long transaction): the note
    // waits for it, longer than Discord waits for an answer.
    let held = g.store.begin().await.unwrap();
    let note =
        g.discord().interaction("olga", 2, harness::discord::command_data(&["note"], &[("text", json!("slow"))], None));
    let token = note["token"].as_str().unwrap().to_string();
    let asked = std::time::Instant::now();
    let answer = g.discord().signed(&note.to_string()).await;
    assert!(asked.elapsed() < std::time::Duration::from_secs(3), "answered within Discord's 3 s");
    assert_eq!(answer.json(), json!({ "type": 5, "data": { "flags": 64 } }), "a deferred, private answer");
    drop(held);
    let original = || g.discord().fake.peek_calls().into_iter().find(|c| c.path.ends_with("/messages/@original"));
    g.until("the deferred answer filled in", original, || format!("{:#?}", g.discord().fake.peek_calls())).await;
    let edit = g
        .discord()
        .fake
        .peek_calls()
        .into_iter()
        .find(|c| c.path.ends_with("/messages/@original"))
        .expect("the answer came");
    g.discord().fake.read(std::slice::from_ref(&edit));
    assert_eq!(edit.path, format!("/api/v10/webhooks/{APP}/{token}/messages/@original"));
    assert!(edit.body["content"].as_str().unwrap().starts_with('✓'), "{}", edit.body);
    let notes = g.store.events(1).await.unwrap();
    assert_eq!(notes.iter().filter(|e| matches!(e.kind, EventKind::NoteAdded { .. })).count(), 1);
    // The channel saw the start and the note, once the database let it through.
    g.discord().reads_started("v6.3.0").await;
    g.discord().reads("Note from olga: slow").await;
    g.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    ping_gets_pong_and_unsigned_stale_or_altered_requests_get_401_and_change_nothing,
    a_whole_deployment_driven_from_discord_commands_and_buttons,
    outsiders_are_refused_privately_and_the_refusal_is_recorded,
    roll_back_opens_a_modal_whose_submission_records_the_reason_and_level,
    autocomplete_offers_the_running_deployments_phases_items_and_roles,
    slack_and_discord_deployments_run_side_by_side_with_separate_histories,
    discord_failures_are_retried_or_recorded_with_what_to_do,
    an_interaction_delivered_twice_has_one_effect,
    free_text_is_never_read_as_a_setting_and_typed_mentions_ping_nobody,
    a_status_post_stays_within_discords_embed_limit_however_long_the_texts,
    an_answer_that_cannot_come_within_discords_deadline_is_deferred_then_filled_in,
);
