//! The Slack side of a story: a fake Slack Web API taking what the channel would see, and
//! requests signed exactly as Slack signs them: slash commands, button presses and dialog
//! submissions, built from what Slack documents.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use golive::chat::slack::verify::SigningSecret;
use golive::chat::slack::SlackApi;
use golive::clock::{Clock, ManualClock};
use golive::config::Config;
use golive::delivery::Transport;
use golive::runtime::Adapters;
use golive::store::Store;
use serde_json::{json, Value};

use super::fake_slack::{Call, FakeSlack};
use super::http::{post, Answer};

pub const SECRET: &str = "e2e-test-signing-secret";
/// The web pages' token (`GOLIVE_WEB_TOKEN`) of a served golive.
pub const WEB_TOKEN: &str = "e2e-web-token";

/// golive's Slack adapter, talking to `fake` and checking requests signed with [`SECRET`].
pub(super) fn plug(adapters: &mut Adapters, fake: &FakeSlack) {
    let api = Arc::new(SlackApi::new(&fake.url, "xoxb-e2e").unwrap());
    adapters.apis.push(api.clone() as Arc<dyn Transport>);
    adapters.slack_api = Some(api);
    adapters.slack_secret = Some(SigningSecret::new(SECRET));
}

/// One more `golive serve` beside the story's, as another process on the same database would
/// be: over `store`, on the story's clock, posting to Slack at `api_url` as `token` and taking
/// requests signed with `secret`. Returns its address; it stops when `shutdown` ends.
pub async fn serve_beside(
    clock: &ManualClock,
    config: Arc<Config>,
    store: Store,
    (api_url, token, secret): (&str, &str, &str),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> String {
    let api = Arc::new(SlackApi::new(api_url, token).unwrap());
    let adapters = Adapters {
        apis: vec![api.clone() as Arc<dyn Transport>],
        slack_secret: Some(SigningSecret::new(secret)),
        slack_api: Some(api),
        ..Adapters::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let clock: golive::clock::SharedClock = Arc::new(clock.clone());
    tokio::spawn(golive::runtime::serve(config, store, clock, adapters, listener, shutdown));
    addr
}

pub struct SlackSide {
    pub fake: FakeSlack,
    pub secret: SigningSecret,
    addr: String,
    clock: ManualClock,
    triggers: AtomicU32,
}

impl SlackSide {
    pub(super) fn new(fake: FakeSlack, addr: &str, clock: &ManualClock) -> SlackSide {
        SlackSide {
            fake,
            secret: SigningSecret::new(SECRET),
            addr: addr.into(),
            clock: clock.clone(),
            triggers: 0.into(),
        }
    }

    pub fn now(&self) -> String {
        self.clock.now().timestamp().to_string()
    }

    /// Sends `body` to `path` signed as Slack signs it, with `extra` headers.
    pub async fn signed(&self, path: &str, content_type: &str, body: &str, extra: &[(&str, String)]) -> Answer {
        let ts = self.now();
        let mut headers = vec![
            ("X-Slack-Request-Timestamp", ts.clone()),
            ("X-Slack-Signature", self.secret.sign(&ts, body.as_bytes())),
        ];
        headers.extend(extra.iter().cloned());
        post(&self.addr, path, content_type, &headers, body.as_bytes()).await
    }

    pub fn form(&self, user: &str, text: &str, trigger: &str) -> String {
        serde_urlencoded::to_string([
            ("token", "legacy-unused"),
            ("team_id", "T0TEAM"),
            ("channel_id", "C0DEPLOY"),
            ("channel_name", "deploys"),
            ("user_id", user),
            ("user_name", &user.to_lowercase()),
            ("command", "/deploy"),
            ("text", text),
            ("response_url", "https://hooks.slack.com/commands/T0TEAM/1/abc"),
            ("trigger_id", trigger),
        ])
        .unwrap()
    }

    /// `/deploy TEXT` typed by `user` in #deploys.
    pub async fn slash(&self, user: &str, text: &str) -> Answer {
        let n = self.triggers.fetch_add(1, Ordering::SeqCst);
        let body = self.form(user, text, &format!("1000.{n}.abc"));
        self.signed("/slack/commands", "application/x-www-form-urlencoded", &body, &[]).await
    }

    /// `user` presses the button `action_id` with `value`, as Slack sends a `block_actions`
    /// payload: a form with one field, `payload`, holding the JSON.
    pub async fn press(&self, user: &str, action_id: &str, value: &str) -> Answer {
        let n = self.triggers.fetch_add(1, Ordering::SeqCst);
        let payload = json!({
            "type": "block_actions",
            "user": { "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T0TEAM" },
            "api_app_id": "A0GOLIVE",
            "token": "legacy-unused",
            "container": { "type": "message", "message_ts": "1780000000.000001", "channel_id": "C0DEPLOY", "is_ephemeral": false },
            "trigger_id": format!("3000.{n}.press"),
            "team": { "id": "T0TEAM", "domain": "example" },
            "channel": { "id": "C0DEPLOY", "name": "deploys" },
            "response_url": self.fake.response_url(&format!("press-{n}")),
            "actions": [{
                "action_id": action_id, "block_id": "actions", "value": value, "type": "button",
                "text": { "type": "plain_text", "text": "button" }, "action_ts": "1780000000.1"
            }],
        });
        self.interaction(&payload).await
    }

    /// `user` submits the dialog golive opened with `views.open` (the one in `opened`), with
    /// these input values: `(block_id, value)`, a select's value given as its option value.
    pub async fn submit(&self, user: &str, opened: &Call, values: &[(&str, &str)]) -> Answer {
        let view = &opened.body["view"];
        let mut state = serde_json::Map::new();
        for (block, value) in values {
            let input = match *block {
                "level" => {
                    json!({ "type": "radio_buttons", "selected_option": { "value": value, "text": { "type": "plain_text", "text": value } } })
                }
                _ => json!({ "type": "plain_text_input", "value": value }),
            };
            state.insert(block.to_string(), json!({ *block: input }));
        }
        let payload = json!({
            "type": "view_submission",
            "team": { "id": "T0TEAM", "domain": "example" },
            "user": { "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T0TEAM" },
            "api_app_id": "A0GOLIVE",
            "token": "legacy-unused",
            "trigger_id": "4000.1.submit",
            "view": {
                "id": format!("V-{}", opened.body["trigger_id"].as_str().unwrap_or_default()),
                "type": "modal",
                "team_id": "T0TEAM",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "blocks": view["blocks"],
                "state": { "values": state },
                "hash": "h",
            },
        });
        self.interaction(&payload).await
    }

    pub async fn interaction(&self, payload: &Value) -> Answer {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        self.signed("/slack/interactions", "application/x-www-form-urlencoded", &body, &[]).await
    }

    /// Waits until the fake Slack has accepted `n` calls, and reads them all.
    pub async fn posts(&self, n: usize) -> Vec<Call> {
        let find = || (self.fake.peek_delivered().len() >= n).then_some(());
        self.until(&format!("{n} posts"), find).await;
        self.fake.delivered()
    }

    /// Waits until the fake Slack has accepted a call that `matches`, and reads that one.
    pub async fn arrives(&self, what: &str, matches: impl Fn(&Call) -> bool) -> Call {
        let find = || self.fake.peek_delivered().into_iter().find(|c| matches(c));
        let call = self.until(what, find).await;
        self.fake.read(std::slice::from_ref(&call));
        call
    }

    /// Takes the next post golive made that the story has not read (waiting for it), and checks
    /// that a person sees `fragment` in it.
    pub async fn reads(&self, fragment: &str) -> Call {
        super::read_next(&*self.fake, &self.clock, "Slack", fragment).await
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
    /// its person (cast names, as in tests/common), and its end.
    pub async fn reads_phase(&self, phase: &str, ticks: &[(&str, &str)], signoffs: &[(&str, &str)]) {
        let name = |who: &str| slack_user(who).to_lowercase();
        for fragment in super::phase_walk(phase, ticks, signoffs, name) {
            self.reads(&fragment).await;
        }
    }

    /// Reads the next `fragments.len()` posts, one saying each fragment in any order: posts golive
    /// makes at the same moment from work running side by side (two checks, say).
    pub async fn reads_any_order(&self, fragments: &[&str]) {
        let n = fragments.len();
        let find = || {
            let unread = self.fake.unread_posts();
            (unread.len() >= n).then(|| unread[..n].to_vec())
        };
        let posts = self.until(&format!("{n} posts saying {fragments:?}"), find).await;
        self.fake.read(&posts);
        let mut seen: Vec<String> = posts.iter().map(Call::seen).collect();
        for fragment in fragments {
            let Some(at) = seen.iter().position(|s| s.contains(fragment)) else {
                panic!("none of the next posts on Slack says `{fragment}`: {seen:#?}");
            };
            seen.remove(at);
        }
    }

    /// Reads what walking `release` through pre-deployment and staging with the cast's ticks and
    /// sign-offs (tests/common) showed the channel: the start, both phases, the lead's go.
    pub async fn reads_through_staging(&self, release: &str) {
        use crate::common::*;
        self.reads_started(release).await;
        self.reads_phase("pre-deployment", PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS).await;
        self.reads_phase("staging", STAGING_TICKS, STAGING_SIGNOFFS).await;
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

    async fn until<T>(&self, what: &str, find: impl Fn() -> Option<T>) -> T {
        let seen = || format!("{:#?}", self.fake.peek_delivered());
        let find = || std::future::ready(find());
        super::until(&self.clock, vec![self.fake.arrivals()], super::STEP, &format!("{what} on Slack"), find, seen)
            .await
    }
}

/// The Slack user of a member of the example config's cast (tests/common).
pub fn slack_user(console_name: &str) -> &'static str {
    match console_name {
        "alice" => "U0TECHLEAD",
        "priya" => "U0PRODUCT",
        "sam" => "U0SECURITY",
        "olga" => "U0OPS",
        "bruno" => "U0BACKEND",
        "fei" => "U0FRONTEND",
        "maya" => "U0MANAGER",
        "sol" => "U0STAKEHOLDER",
        "dana" => "U0DANA",
        "rhea" => "U0RHEA",
        other => panic!("`{other}` has no Slack user in the example config"),
    }
}

pub fn fixture(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/slack").join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("note: {} is absent (a fresh clone has no ../shared); skipping this check", path.display());
            None
        }
    }
}
