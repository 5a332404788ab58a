//! golive's Discord wiring, apart from what people do in the channel: every interaction in
//! Discord's own examples is read and answered, `golive discord register` puts the command in
//! the configured server, `golive serve` with only the HTTP endpoint needs the public key, and
//! an interaction from the gateway reads the same as one over HTTP.

use crate::harness;
use crate::harness::discord::{APP, CHANNEL, GUILD};
use crate::harness::Ctx;
use golive::commands::grammar::Request;
use golive::domain::Command;
use serde_json::{json, Value};

#[tokio::test]
async fn every_interaction_in_discords_own_examples_is_parsed_and_answered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/discord");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("note: {} is absent (a fresh clone has no ../shared); skipping the fixture check", dir.display());
        return;
    };
    let g = Ctx::on_discord().await;
    let mut seen = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let body = std::fs::read_to_string(&path).unwrap();
        let kind = serde_json::from_str::<Value>(&body).unwrap()["type"].as_u64().unwrap();
        let answer = g.discord().signed(&body).await;
        assert_eq!(answer.status, 200, "{}: {answer:?}", path.display());
        let json = answer.json();
        let expected = match kind {
            1 => 1,
            4 => 8,
            _ => 4,
        };
        assert_eq!(json["type"], expected, "{}: {json}", path.display());
        if expected == 4 {
            assert_eq!(json["data"]["flags"], 64, "{}: answered privately", path.display());
            assert!(!json["data"]["content"].as_str().unwrap().is_empty());
        }
        seen += 1;
    }
    assert!(seen >= 8, "read {seen} fixtures");
    assert_eq!(g.store.deployments(None, 10).await.unwrap().len(), 0, "none of them is a golive command");
    g.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golive_discord_register_puts_the_command_in_the_configured_server() {
    let fake = harness::fake_discord::FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = harness::discord::config_text(false).replacen("https://discord.com/api/v10/", &fake.url, 1).replacen(
        "application_id = \"0\"",
        &format!("application_id = \"{APP}\""),
        1,
    );
    std::fs::write(dir.path().join("golive.toml"), config).unwrap();
    let here = dir.path().to_path_buf();
    let run = move |args: &[&str], token: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_golive"));
        cmd.args(args).current_dir(&here).env_remove("GOLIVE_CONFIG").env_remove("GOLIVE_DISCORD_TOKEN");
        if let Some(t) = token {
            cmd.env("GOLIVE_DISCORD_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let out = tokio::task::spawn_blocking(move || {
        (
            run(&["discord", "register"], Some("cli-bot-token")),
            run(&["discord", "register", "--global"], Some("t")),
            run(&["discord", "register"], None),
        )
    })
    .await
    .unwrap();
    let (guild, global, no_token) = out;
    assert_eq!(guild.status.code(), Some(0), "{}", String::from_utf8_lossy(&guild.stderr));
    assert_eq!(
        String::from_utf8_lossy(&guild.stdout).trim(),
        format!("registered /deploy with Discord in server {GUILD} (1 command)")
    );
    assert_eq!(global.status.code(), Some(0), "{}", String::from_utf8_lossy(&global.stderr));
    let puts: Vec<String> = fake.calls().into_iter().filter(|c| c.method == "PUT").map(|c| c.path).collect();
    assert_eq!(
        puts,
        [
            format!("/api/v10/applications/{APP}/guilds/{GUILD}/commands"),
            format!("/api/v10/applications/{APP}/commands")
        ]
    );
    assert_eq!(fake.calls()[0].authorization.as_deref(), Some("Bot cli-bot-token"));
    assert_eq!(no_token.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("GOLIVE_DISCORD_TOKEN is not set"));
}

#[test]
fn serve_with_only_the_http_endpoint_needs_the_public_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("golive.toml"), harness::discord::config_text(false)).unwrap();
    let serve = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_golive"));
        cmd.args(["serve", "--db", "serve.db"])
            .current_dir(dir.path())
            .env_remove("GOLIVE_CONFIG")
            .env("GOLIVE_DISCORD_TOKEN", "t")
            .env_remove("GOLIVE_DISCORD_PUBLIC_KEY");
        if let Some(k) = key {
            cmd.env("GOLIVE_DISCORD_PUBLIC_KEY", k);
        }
        cmd.output().unwrap()
    };
    let missing = serve(None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("GOLIVE_DISCORD_PUBLIC_KEY is not set"));
    let garbled = serve(Some("not-a-key"));
    assert_eq!(garbled.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&garbled.stderr).contains("64 hex digits"),
        "{}",
        String::from_utf8_lossy(&garbled.stderr)
    );
}

/// The gateway hands golive serenity's typed interaction; golive turns it back into JSON and
/// answers it on the same path as the HTTP endpoint. That round trip must keep what golive
/// reads: the subcommand and options, the person and their roles, the channel.
#[tokio::test]
async fn an_interaction_from_the_gateway_reads_the_same_as_one_over_http() {
    let g = Ctx::on_discord().await;
    let data =
        harness::discord::command_data(&["signoff"], &[("role", json!("product")), ("note", json!("fine"))], None);
    let http = g.discord().interaction("priya", 2, data);
    let typed: serenity::all::Interaction = serde_json::from_value(http.clone()).expect("serenity reads the payload");
    let back = golive::chat::discord::gateway::as_posted(&typed).unwrap();
    let direct = golive::chat::discord::interaction::Interaction::parse(http.to_string().as_bytes()).unwrap();
    assert_eq!(back.invocation(), direct.invocation());
    assert_eq!(
        back.invocation().request(),
        Ok(Request::Change(Command::SignOff { role: "product".into(), note: Some("fine".into()) }))
    );
    assert_eq!(back.sender(), direct.sender());
    assert_eq!(back.sender().unwrap().roles, [format!("&{}", harness::discord::PRODUCT_ROLE)]);
    assert_eq!(back.channel(), Some(CHANNEL));
    assert_eq!((back.id.as_str(), back.token.as_str(), back.kind), (direct.id.as_str(), direct.token.as_str(), 2));

    // Answered through the REST API: the interaction's callback gets what the HTTP route
    // would have returned, and the deployment's record is the same.
    let config =
        std::sync::Arc::new(golive::config::Config::parse(&harness::discord::config_text(false), "g.toml").unwrap());
    let engine = golive::engine::Engine::new(g.store.clone(), config, std::sync::Arc::new(g.clock.clone()));
    let inbound = golive::chat::discord::inbound::DiscordInbound { engine, key: None, api: None };
    let api = golive::chat::discord::DiscordApi::new(&g.discord().fake.url, "gateway-token", APP).unwrap();
    let start = harness::discord::command_data(&["start"], &[("release", json!("v7.0.0"))], None);
    let typed: serenity::all::Interaction = serde_json::from_value(g.discord().interaction("dana", 2, start)).unwrap();
    golive::chat::discord::gateway::handle(&inbound, &api, &typed).await;
    let callback = g
        .discord()
        .fake
        .peek_calls()
        .into_iter()
        .find(|c| c.path.ends_with("/callback"))
        .expect("the interaction was answered");
    let token = match &typed {
        serenity::all::Interaction::Command(c) => c.token.clone(),
        other => panic!("not a command: {other:?}"),
    };
    assert!(callback.path.ends_with(&format!("/{token}/callback")), "{}", callback.path);
    assert_eq!(callback.body["type"], 4);
    assert!(callback.body["data"]["content"].as_str().unwrap().starts_with('✓'), "{}", callback.body);
    assert_eq!(g.store.deployments(None, 10).await.unwrap()[0].release, "v7.0.0");
    // The channel saw the start the gateway's interaction made.
    g.discord().reads_started("v7.0.0").await;
    g.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    every_interaction_in_discords_own_examples_is_parsed_and_answered,
    an_interaction_from_the_gateway_reads_the_same_as_one_over_http,
);
