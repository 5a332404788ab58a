//! The Discord side of a story: a fake Discord REST API taking what the channel would see, and
//! interactions signed with Ed25519 exactly as Discord signs them: slash commands with
//! subcommands and options, button presses, modal submits and autocomplete. Slack can be
//! switched on beside it (`Ctx::serve().discord().slack()`), to run both platforms in one process.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ed25519_dalek::{Signer, SigningKey};
use golive::chat::discord::verify::PublicKey;
use golive::chat::discord::DiscordApi;
use golive::clock::{Clock, ManualClock};
use golive::config::EXAMPLE;
use golive::delivery::Transport;
use golive::runtime::Adapters;
use serde_json::{json, Value};

use super::fake_discord::{Call, FakeDiscord};
use super::http::{post, Answer};

pub const CHANNEL: &str = "500000000000000001";
pub const GUILD: &str = "400000000000000001";
pub const APP: &str = "700000000000000001";
/// The guild role that stands for the product role in the test config.
pub const PRODUCT_ROLE: &str = "300000000000000001";

/// The Discord user of a member of the test cast (tests/common), and their guild roles.
pub fn discord_user(console_name: &str) -> (&'static str, &'static [&'static str]) {
    match console_name {
        "alice" => ("100000000000000001", &[]),
        "olga" => ("100000000000000002", &[]),
        "priya" => ("100000000000000003", &[PRODUCT_ROLE]),
        "sam" => ("100000000000000004", &[]),
        "bruno" => ("100000000000000005", &[]),
        "fei" => ("100000000000000006", &[]),
        "maya" => ("100000000000000007", &[]),
        "dana" => ("100000000000000009", &[]),
        "stranger" => ("100000000000000099", &[]),
        other => panic!("`{other}` has no Discord user in the test cast"),
    }
}

/// The example config with Discord members for the cast: a guild role holds product.
pub fn config_text(slack: bool) -> String {
    let mut c = EXAMPLE.replacen("[discord]\nenabled = false", "[discord]\nenabled = true", 1).replacen(
        "gateway = true",
        &format!("gateway = false\nguild_id = \"{GUILD}\""),
        1,
    );
    if slack {
        c = c.replacen("[slack]\nenabled = false", "[slack]\nenabled = true", 1);
    }
    for (console, discord) in [
        ("console:priya", "discord:&300000000000000001"),
        ("console:sam", "discord:100000000000000004"),
        ("console:bruno", "discord:100000000000000005"),
        ("console:fei", "discord:100000000000000006"),
        ("console:maya", "discord:100000000000000007"),
    ] {
        c = c.replace(&format!("\"{console}\"]"), &format!("\"{console}\", \"{discord}\"]"));
    }
    c.replacen(
        "members = [\"slack:U0TECHLEAD\", \"console:alice\", \"console:olga\"]",
        "members = [\"slack:U0TECHLEAD\", \"console:alice\", \"console:olga\", \"discord:100000000000000002\"]",
        1,
    )
}

/// The config pointed at `fake`, with the test application's id.
pub(super) fn point_at(text: &str, fake: &FakeDiscord) -> String {
    text.replacen("https://discord.com/api/v10/", &fake.url, 1).replacen(
        "application_id = \"0\"",
        &format!("application_id = \"{APP}\""),
        1,
    )
}

/// golive's Discord adapter, talking to `fake` and checking interactions signed with [`key`].
pub(super) fn plug(adapters: &mut Adapters, fake: &FakeDiscord) {
    let public = PublicKey::from_hex(&hex::encode(key().verifying_key().to_bytes())).unwrap();
    let discord = Arc::new(DiscordApi::new(&fake.url, "test-bot-token", APP).unwrap());
    adapters.apis.push(discord.clone() as Arc<dyn Transport>);
    adapters.discord_api = Some(discord);
    adapters.discord_key = Some(public);
}

/// The application's signing key.
fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub struct DiscordSide {
    pub fake: FakeDiscord,
    addr: String,
    clock: ManualClock,
    key: SigningKey,
    ids: AtomicU64,
}

impl DiscordSide {
    pub(super) fn new(fake: FakeDiscord, addr: &str, clock: &ManualClock) -> DiscordSide {
        DiscordSide { fake, addr: addr.into(), clock: clock.clone(), key: key(), ids: 1000.into() }
    }

    pub fn now(&self) -> String {
        self.clock.now().timestamp().to_string()
    }
    /// Sends `body` to `/discord/interactions` signed with the application's key at `timestamp`.
    pub async fn signed_at(&self, body: &str, timestamp: &str) -> Answer {
        let signature = hex::encode(self.key.sign(format!("{timestamp}{body}").as_bytes()).to_bytes());
        let headers = [("X-Signature-Ed25519", signature), ("X-Signature-Timestamp", timestamp.to_string())];
        post(&self.addr, "/discord/interactions", "application/json", &headers, body.as_bytes()).await
    }

    pub async fn signed(&self, body: &str) -> Answer {
        self.signed_at(body, &self.now()).await
    }

    fn next_id(&self) -> String {
        format!("{}", 600000000000000000 + self.ids.fetch_add(1, Ordering::SeqCst))
    }

    /// An interaction of `kind` from `who` (a cast name) in the test channel.
    pub fn interaction(&self, who: &str, kind: u8, data: Value) -> Value {
        let (id, roles) = discord_user(who);
        json!({
            "id": self.next_id(), "application_id": APP, "type": kind, "token": format!("token-{}", self.next_id()),
            "version": 1, "guild_id": GUILD, "channel_id": CHANNEL, "channel": { "id": CHANNEL, "type": 0 },
            "member": { "user": { "id": id, "username": who, "global_name": null, "discriminator": "0",
                                  "avatar": null, "public_flags": 0 },
                        "roles": roles, "nick": null, "permissions": "2147483647", "deaf": false, "mute": false,
                        "joined_at": "2025-01-06T09:00:00.000000+00:00", "pending": false, "flags": 0,
                        "avatar": null, "premium_since": null },
            "data": data, "locale": "en-US", "guild_locale": "en-US", "app_permissions": "442368", "entitlements": [],
            "authorizing_integration_owners": { "0": GUILD }, "context": 0, "attachment_size_limit": 26214400,
        })
    }

    /// `/deploy SUB… option:value…` typed by `who`: `path` is the subcommand (and group),
    /// `options` the typed options (numbers given as JSON numbers).
    pub async fn deploy(&self, who: &str, path: &[&str], options: &[(&str, Value)]) -> Answer {
        let data = command_data(path, options, None);
        self.signed(&self.interaction(who, 2, data).to_string()).await
    }

    /// What `who` is privately told after `/deploy …`.
    pub async fn told(&self, who: &str, path: &[&str], options: &[(&str, Value)]) -> String {
        let answer = self.deploy(who, path, options).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let json = answer.json();
        assert_eq!(json["type"], 4, "{json}");
        assert_eq!(json["data"]["flags"], 64, "answers are private: {json}");
        json["data"]["content"].as_str().unwrap_or_default().to_string()
    }

    /// `who` presses the button `custom_id`.
    pub async fn press(&self, who: &str, custom_id: &str) -> Value {
        let data = json!({ "custom_id": custom_id, "component_type": 2 });
        let mut i = self.interaction(who, 3, data);
        i["message"] = json!({ "id": "900000000000000001", "channel_id": CHANNEL });
        let answer = self.signed(&i.to_string()).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.json()
    }

    /// `who` submits the modal `custom_id` with these input values.
    pub async fn submit(&self, who: &str, custom_id: &str, values: &[(&str, &str)]) -> Value {
        let rows: Vec<Value> = values
            .iter()
            .map(|(id, v)| json!({ "type": 1, "components": [{ "type": 4, "custom_id": id, "value": v }] }))
            .collect();
        let answer = self
            .signed(&self.interaction(who, 5, json!({ "custom_id": custom_id, "components": rows })).to_string())
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.json()
    }

    /// Autocomplete choices while `who` types `typed` into `focused`.
    pub async fn complete(&self, who: &str, path: &[&str], focused: &str, typed: &str) -> Vec<String> {
        let data = command_data(path, &[(focused, json!(typed))], Some(focused));
        let answer = self.signed(&self.interaction(who, 4, data).to_string()).await;
        let json = answer.json();
        assert_eq!(json["type"], 8, "{json}");
        json["data"]["choices"].as_array().unwrap().iter().map(|c| c["value"].as_str().unwrap().to_string()).collect()
    }

    /// Takes the next post or edit golive made that the story has not read (waiting for it),
    /// and checks that a person sees `fragment` in it.
    pub async fn reads(&self, fragment: &str) -> Call {
        super::read_next(&*self.fake, &self.clock, "Discord", fragment).await
    }

    /// Reads the next posts, one saying each of `fragments`, in this order.
    pub async fn reads_all(&self, fragments: &[&str]) {
        for fragment in fragments {
            self.reads(fragment).await;
        }
    }

    /// Reads the announcement that `release` started.
    pub async fn reads_started(&self, release: &str) -> Call {
        self.reads(&format!("started deploying {release} ")).await
    }

    /// Reads what a phase walked through in order shows: its start, each tick and sign-off by
    /// its person, and its end.
    pub async fn reads_phase(&self, phase: &str, ticks: &[(&str, &str)], signoffs: &[(&str, &str)]) {
        for fragment in super::phase_walk(phase, ticks, signoffs, str::to_string) {
            self.reads(&fragment).await;
        }
    }

    /// From now on, posts that `matches` are not this story's to read: `what` names them and
    /// `why` says where they are read instead.
    pub fn skips(&self, what: &str, why: &str, matches: impl Fn(&Call) -> bool + Send + Sync + 'static) {
        self.fake.skip(what, why, matches);
    }

    /// From now on, the status post and its edits are not this story's to read (`why`).
    pub fn skips_status(&self, why: &str) {
        self.skips("the status post and its edits", why, Call::is_status);
    }

    /// Waits until Discord has accepted a post or edit that `matches`, and reads that one.
    pub async fn arrives(&self, what: &str, matches: impl Fn(&Call) -> bool) -> Call {
        let find = || std::future::ready(self.fake.peek_messages().into_iter().find(|c| matches(c)));
        let seen = || format!("{:#?}", self.fake.peek_messages());
        let what = format!("{what} on Discord");
        let call = super::until(&self.clock, vec![self.fake.arrivals()], super::STEP, &what, find, seen).await;
        self.fake.read(std::slice::from_ref(&call));
        call
    }
}

/// The `data` of a `/deploy` interaction: subcommand group and subcommand nested as Discord
/// nests them, with the options innermost.
pub fn command_data(path: &[&str], options: &[(&str, Value)], focused: Option<&str>) -> Value {
    let mut inner: Vec<Value> = options
        .iter()
        .map(|(name, value)| {
            let kind = if value.is_number() { 4 } else { 3 };
            let mut o = json!({ "name": name, "type": kind, "value": value });
            if focused == Some(*name) {
                o["focused"] = json!(true);
            }
            o
        })
        .collect();
    for (depth, name) in path.iter().enumerate().rev() {
        let kind = if depth + 1 == path.len() { 1 } else { 2 };
        inner = vec![json!({ "name": name, "type": kind, "options": inner })];
    }
    json!({ "id": "800000000000000000", "name": "deploy", "type": 1, "options": inner })
}
