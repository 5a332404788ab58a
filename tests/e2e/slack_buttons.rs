//! Slack, interactive: buttons on the status post and the dialogs they open, through golive
//! serve's real routes with requests signed as Slack signs them, a real SQLite file, a manual
//! clock, and a fake Slack Web API that receives the posts, the in-place updates of the
//! status message, the ephemeral answers and the dialogs.

use crate::harness;
use crate::harness::fake_slack::{Call, Reply};
use crate::harness::slack::{fixture, slack_user};
use crate::harness::Ctx;
use crate::harness::{
    POST_DEPLOYMENT_SIGNOFFS, POST_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, PRODUCTION_TICKS,
    STAGING_SIGNOFFS, STAGING_TICKS,
};
use golive::domain::{EventKind, RollbackLevel};

/// The labels of the buttons on a message, in order.
fn buttons(call: &Call) -> Vec<String> {
    let blocks = call.body["blocks"].as_array().cloned().unwrap_or_default();
    blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| e["text"]["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The action id and value of the button labelled `label`.
fn button(call: &Call, label: &str) -> (String, String) {
    let blocks = call.body["blocks"].as_array().cloned().unwrap_or_default();
    let element = blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["text"]["text"] == label)
        .unwrap_or_else(|| panic!("no `{label}` button in {:#}", call.body["blocks"]));
    (element["action_id"].as_str().unwrap().to_string(), element["value"].as_str().unwrap().to_string())
}

fn blocks_text(call: &Call) -> String {
    call.body["blocks"].to_string()
}

async fn kinds(w: &Ctx) -> Vec<EventKind> {
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    w.store.events(id).await.unwrap().into_iter().map(|e| e.kind).collect()
}

/// Slash commands that must be accepted (a change answers with an empty 200).
async fn ok(w: &Ctx, user: &str, text: &str) {
    let answer = w.slack().slash(user, text).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, ""), "`{user}: /deploy {text}`");
}

/// Each `(person, what)` of the example cast (tests/common) typed as `/deploy VERB what` by
/// that person's Slack user.
async fn each(w: &Ctx, verb: &str, cast: &[(&str, &str)]) {
    for (who, what) in cast {
        ok(w, slack_user(who), &format!("{verb} {what}")).await;
    }
}

/// `/deploy status`, and the status post as Slack received it.
async fn status_post(w: &Ctx) -> Call {
    ok(w, "U0DANA", "status").await;
    w.slack().arrives("the status post", |c| c.method == "chat.postMessage" && c.text().starts_with("STATUS")).await
}

/// The lead opens v4.0.0, starts pre-deployment and posts the status: the post with buttons.
async fn started_with_status(w: &Ctx) -> Call {
    ok(w, "U0DANA", "start v4.0.0").await;
    ok(w, "U0DANA", "phase start pre-deployment").await;
    status_post(w).await
}

/// Presses that must be accepted: Slack's answer is an empty 200 and nobody is told off.
async fn press(w: &Ctx, user: &str, status: &Call, label: &str) {
    let (action, value) = button(status, label);
    let before = w.slack().fake.accepted("response_url").len();
    assert_eq!(w.slack().press(user, &action, &value).await.status, 200);
    w.settle().await;
    let refusals = w.slack().fake.accepted("response_url");
    assert_eq!(refusals.len(), before, "{user} pressing {label} was refused: {:?}", refusals.last());
}

/// Waits for the edit of the status message `posted` that shows `what` (checked by `shows`).
async fn status_when(w: &Ctx, posted: &Call, what: &str, shows: impl Fn(&Call) -> bool) -> Call {
    let ts = posted.ts.clone().expect("the status post was accepted");
    w.slack().arrives(what, |c| c.method == "chat.update" && c.body["ts"] == ts.as_str() && shows(c)).await
}

/// The status message shows all of `needles`.
fn showing<'a>(needles: &'a [&'a str]) -> impl Fn(&Call) -> bool + 'a {
    move |c| needles.iter().all(|n| blocks_text(c).contains(n))
}

#[tokio::test]
async fn a_whole_deployment_runs_on_slash_commands_and_buttons_and_the_status_post_keeps_up() {
    let w = Ctx::on_slack().await;
    let status = started_with_status(&w).await;
    assert_eq!(
        buttons(&status),
        ["Sign off as tech-lead", "Sign off as security", "Snooze 1h", "Roll back…"],
        "the status post offers what can be done now"
    );
    let posts_before = w.slack().fake.accepted("chat.postMessage").len();

    // Ticks land in the status message itself instead of adding lines to the channel.
    each(&w, "check", PRE_DEPLOYMENT_TICKS).await;
    // The ticks edit the status post (same channel, same ts) rather than adding messages.
    let updated = status_when(&w, &status, "the ticks", showing(&["Checklist* 6/7"])).await;
    assert_eq!(updated.channel(), "C0DEPLOY");
    assert_eq!(w.slack().fake.accepted("chat.postMessage").len(), posts_before, "ticks posted nothing new");

    // Sign-offs from the buttons: the member's press lands; the status message shows who.
    press(&w, "U0SECURITY", &updated, "Sign off as security").await;
    press(&w, "U0TECHLEAD", &updated, "Sign off as tech-lead").await;
    let now = status_when(&w, &status, "both sign-offs", showing(&["✅ security — u0security", "✅ tech-lead"])).await;
    assert!(!buttons(&now).iter().any(|b| b.starts_with("Sign off")), "{:?}", buttons(&now));
    ok(&w, "U0DANA", "phase done").await;

    ok(&w, "U0DANA", "phase start staging").await;
    each(&w, "check", STAGING_TICKS).await;
    let now = status_when(&w, &status, "staging's ticks", showing(&["Phase 2/4", "Checklist* 5/6"])).await;
    press(&w, "U0PRODUCT", &now, "Sign off as product").await;
    press(&w, "U0TECHLEAD", &now, "Sign off as tech-lead").await;
    ok(&w, "U0DANA", "phase done").await;

    // The go gate: the lead decides from the button.
    let now =
        status_when(&w, &status, "the go gate", |c| buttons(c) == ["Go", "No-go…", "Snooze 1h", "Roll back…"]).await;
    press(&w, "U0DANA", &now, "Go").await;

    ok(&w, "U0DANA", "phase start production").await;
    each(&w, "check", PRODUCTION_TICKS).await;
    ok(&w, "U0OPS", "traffic 50").await;
    // Each step is watched for 30 minutes; the lead moves on earlier, the reason on record.
    for step in [70, 85, 100] {
        ok(&w, "U0DANA", &format!("traffic {step} force dashboards flat")).await;
    }
    let now =
        status_when(&w, &status, "production's ticks", showing(&["Phase 3/4", "Checklist* 6/7", "Traffic* 100%"]))
            .await;
    press(&w, "U0OPS", &now, "Sign off as ops").await;
    ok(&w, "U0DANA", "phase done").await;

    ok(&w, "U0DANA", "phase start post-deployment").await;
    each(&w, "check", POST_DEPLOYMENT_TICKS).await;
    let now = status_when(&w, &status, "post-deployment's ticks", showing(&["Phase 4/4", "Checklist* 4/5"])).await;
    for (who, role) in POST_DEPLOYMENT_SIGNOFFS {
        press(&w, slack_user(who), &now, &format!("Sign off as {role}")).await;
    }
    ok(&w, "U0DANA", "phase done").await;
    ok(&w, "U0DANA", "complete").await;

    w.slack().arrives("the completion", |c| c.text().contains("v4.0.0 completed by u0dana")).await;
    // The ended deployment's status message offers nothing more to press.
    status_when(&w, &status, "the end", |c| buttons(c).is_empty() && blocks_text(c).contains("100%")).await;
    let signed = kinds(&w).await.iter().filter(|k| matches!(k, EventKind::SignedOff { .. })).count();
    assert_eq!(signed, 2 + 2 + 1 + 4, "every sign-off came from a button");
    assert!(kinds(&w).await.contains(&EventKind::GoDecided { role: None }));
    assert!(w.store.verify().await.unwrap().is_ok());
    // The status message as it stands, and what the channel heard besides: the phases' ends
    // and starts, the go, the traffic steps and the completion (ticks and sign-offs landed in
    // the status message, read above).
    let end = w.status_on_slack().await;
    assert!(end.text().contains("100%"), "{}", end.text());
    let slack = w.slack();
    slack.reads_all(&["Phase 1/4 pre-deployment is done", "Phase 2/4 staging (", "Phase 2/4 staging is done"]).await;
    slack
        .reads_all(&[
            "GO: u0dana (as lead)",
            "Phase 3/4 production (",
            "Traffic on the new version: 50% (set by u0ops)",
        ])
        .await;
    for step in ["70%", "85%", "100%"] {
        slack
            .reads(&format!(
                "Traffic on the new version: {step} (FORCED by u0dana before the step allowed it: dashboards flat)"
            ))
            .await;
    }
    slack
        .reads_all(&[
            "Phase 3/4 production is done",
            "Phase 4/4 post-deployment (",
            "Phase 4/4 post-deployment is done",
        ])
        .await;
    w.finish().await;
}

#[tokio::test]
async fn a_sign_off_button_pressed_by_someone_outside_the_role_is_refused_to_them_alone_and_recorded() {
    let w = Ctx::on_slack().await;
    let status = started_with_status(&w).await;
    let (action, value) = button(&status, "Sign off as security");
    assert_eq!(w.slack().press("U0PRODUCT", &action, &value).await.status, 200);
    let refusal = w.slack().arrives("the refusal", |c| c.method == "response_url").await;
    assert_eq!(refusal.body["response_type"], "ephemeral");
    assert_eq!(refusal.body["replace_original"], false);
    assert!(refusal.text().contains("only members of `security`"), "{}", refusal.text());
    let kinds = kinds(&w).await;
    assert!(kinds
        .iter()
        .any(|k| matches!(k, EventKind::CommandRefused { command, .. } if command == "signoff security")));
    assert!(!kinds.iter().any(|k| matches!(k, EventKind::SignedOff { .. })));
    // The channel heard the start and the phase; the refusal went to the presser alone.
    w.slack().reads_started("v4.0.0").await;
    w.slack().reads("Phase 1/4 pre-deployment (").await;
    w.finish().await;
}

#[tokio::test]
async fn rolling_back_from_the_button_asks_for_the_reason_and_the_level_and_records_both() {
    let w = Ctx::on_slack().await;
    let status = started_with_status(&w).await;
    let (action, value) = button(&status, "Roll back…");

    // Someone outside the deployment team gets no dialog, and the attempt is on the record.
    assert_eq!(w.slack().press("U0NOBODY", &action, &value).await.status, 200);
    let refusal = w.slack().arrives("the refusal", |c| c.method == "response_url").await;
    assert!(refusal.text().contains("only the deployment team"), "{}", refusal.text());
    assert!(w.slack().fake.accepted("views.open").is_empty());

    // A team member gets the dialog, opened with the trigger id of the press.
    assert_eq!(w.slack().press("U0OPS", &action, &value).await.status, 200);
    let opened = w.slack().fake.accepted("views.open");
    assert_eq!(opened.len(), 1, "views.open is called within the request, not queued");
    let opened = &opened[0];
    assert!(opened.body["trigger_id"].as_str().unwrap().ends_with(".press"));
    assert_eq!(opened.body["view"]["callback_id"], "golive.rollback");
    let levels: Vec<&str> = opened.body["view"]["blocks"][2]["element"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["immediate", "quick", "planned"]);

    // Incomplete answers keep the dialog open with the reason, and change nothing.
    let empty = w.slack().submit("U0OPS", opened, &[("reason", "  "), ("level", "quick")]).await;
    assert_eq!(empty.json()["response_action"], "errors");
    assert!(empty.json()["errors"]["reason"].is_string());
    let no_level = w.slack().submit("U0OPS", opened, &[("reason", "5xx spike at 70%")]).await;
    assert!(no_level.json()["errors"]["level"].as_str().unwrap().contains("immediate, quick or planned"));
    assert!(!kinds(&w).await.iter().any(|k| matches!(k, EventKind::RollbackStarted { .. })));

    // The full answer closes the dialog; a second submission of the same view does nothing.
    let done = w.slack().submit("U0OPS", opened, &[("reason", "5xx spike at 70%"), ("level", "quick")]).await;
    assert_eq!((done.status, done.body.as_str()), (200, ""));
    let again = w.slack().submit("U0OPS", opened, &[("reason", "5xx spike at 70%"), ("level", "quick")]).await;
    assert_eq!((again.status, again.body.as_str()), (200, ""));
    let rollbacks: Vec<EventKind> =
        kinds(&w).await.into_iter().filter(|k| matches!(k, EventKind::RollbackStarted { .. })).collect();
    assert_eq!(
        rollbacks,
        [EventKind::RollbackStarted { reason: "5xx spike at 70%".into(), level: Some(RollbackLevel::Quick) }]
    );
    let told = w.slack().arrives("the rollback announcement", |c| c.text().starts_with("ROLLBACK")).await;
    assert!(told.text().contains("(quick, 5–15 min)"), "{}", told.text());

    // On-call is paged with a real mention and an Ack button, and the ack lands.
    let page = w.slack().arrives("the page", |c| c.text().contains("<@U0TECHLEAD>")).await;
    let (ack, id) = button(&page, "Ack");
    assert_eq!(w.slack().press("U0TECHLEAD", &ack, &id).await.status, 200);
    w.slack().arrives("the acknowledgement", |c| c.text().contains("acknowledged")).await;
    assert!(kinds(&w).await.iter().any(|k| matches!(k, EventKind::EscalationAcknowledged { level: 1 })));
    // The status message now shows the rollback; the channel heard the start and the phase.
    let status = w.status_on_slack().await;
    assert!(status.text().contains("ROLLING BACK: (quick, 5–15 min) 5xx spike at 70% by u0ops"), "{}", status.text());
    w.slack().reads_started("v4.0.0").await;
    w.slack().reads("Phase 1/4 pre-deployment (").await;
    w.finish().await;
}

#[tokio::test]
async fn the_no_go_dialog_records_the_leads_reason() {
    let w = Ctx::on_slack().await;
    ok(&w, "U0DANA", "start v4.0.0").await;
    for (phase, ticks, signoffs) in [
        ("pre-deployment", PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS),
        ("staging", STAGING_TICKS, STAGING_SIGNOFFS),
    ] {
        ok(&w, "U0DANA", &format!("phase start {phase}")).await;
        each(&w, "check", ticks).await;
        each(&w, "signoff", signoffs).await;
        ok(&w, "U0DANA", "phase done").await;
    }
    let status = status_post(&w).await;
    let (action, value) = button(&status, "No-go…");
    // Only the lead decides: nobody else gets the dialog.
    w.slack().press("U0OPS", &action, &value).await;
    let refusal = w.slack().arrives("the refusal", |c| c.method == "response_url").await;
    assert!(refusal.text().contains("lead"), "{}", refusal.text());
    w.slack().press("U0DANA", &action, &value).await;
    let opened = w.slack().fake.accepted("views.open");
    assert_eq!(opened[0].body["view"]["callback_id"], "golive.nogo");
    let done = w.slack().submit("U0DANA", &opened[0], &[("reason", "error budget spent this week")]).await;
    assert_eq!(done.body, "");
    assert!(kinds(&w)
        .await
        .contains(&EventKind::NoGoDecided { reason: "error budget spent this week".into(), role: None }));
    // The status message shows the no-go; the channel heard the walk and the decision.
    let status = w.status_on_slack().await;
    assert!(status.text().contains("NO-GO by u0dana: error budget spent this week"), "{}", status.text());
    w.slack().reads_through_staging("v4.0.0").await;
    w.slack().reads("NO-GO from u0dana (as lead): error budget spent this week").await;
    w.finish().await;
}

#[tokio::test]
async fn a_button_on_an_earlier_deployments_post_does_not_act_on_the_next_one() {
    let w = Ctx::on_slack().await;
    let old = started_with_status(&w).await;
    ok(&w, "U0DANA", "abort wrong branch").await;
    ok(&w, "U0DANA", "start v4.0.1").await;
    ok(&w, "U0DANA", "phase start pre-deployment").await;
    let (action, value) = button(&old, "Sign off as security");
    w.slack().press("U0SECURITY", &action, &value).await;
    let refusal = w.slack().arrives("the refusal", |c| c.method == "response_url").await;
    assert!(refusal.text().contains("belongs to deployment #1"), "{}", refusal.text());
    assert!(!kinds(&w).await.iter().any(|k| matches!(k, EventKind::SignedOff { .. })));
    // The old status message says aborted; the channel heard both deployments.
    let old_status = w.status_on_slack().await;
    assert!(old_status.text().contains("· aborted"), "{}", old_status.text());
    let slack = w.slack();
    slack.reads_started("v4.0.0").await;
    slack.reads_all(&["Phase 1/4 pre-deployment (", "v4.0.0 ABORTED by u0dana: wrong branch"]).await;
    slack.reads_started("v4.0.1").await;
    slack.reads("Phase 1/4 pre-deployment (").await;
    w.finish().await;
}

#[tokio::test]
async fn a_slack_user_group_stands_for_a_roles_members() {
    let w = Ctx::on_slack_with(|c| {
        c.replacen(
            "members = [\"slack:U0SECURITY\", \"console:sam\"]",
            "members = [\"slack:U0SECURITY\", \"slack:S0SECTEAM\", \"console:sam\"]",
            1,
        )
    })
    .await;
    w.slack().fake.group("S0SECTEAM", &["U0ALEX", "U0KIM"]);
    ok(&w, "U0DANA", "start v4.0.0").await;
    ok(&w, "U0DANA", "phase start pre-deployment").await;
    let outsider = w.slack().slash("U0EVE", "signoff security").await;
    assert!(outsider.json()["text"].as_str().unwrap().contains("only members of `security`"));
    ok(&w, "U0ALEX", "signoff security").await;
    let signed = kinds(&w).await.into_iter().find(|k| matches!(k, EventKind::SignedOff { .. }));
    assert_eq!(
        signed,
        Some(EventKind::SignedOff { phase: "pre-deployment".into(), role: "security".into(), note: None })
    );
    // The members were read once and kept, not fetched on every request.
    let lists = w.slack().fake.peek_calls().iter().filter(|c| c.method == "usergroups.users.list").count();
    assert_eq!(lists, 1);
    // The channel heard the group's member sign off.
    w.slack().reads_started("v4.0.0").await;
    w.slack().reads("Phase 1/4 pre-deployment (").await;
    w.slack().reads("u0alex signed off pre-deployment as security ").await;
    w.finish().await;
}

#[tokio::test]
async fn rate_limits_and_server_errors_delay_updates_but_lose_nothing() {
    let w = Ctx::on_slack().await;
    let status = started_with_status(&w).await;
    w.slack()
        .fake
        .script([Reply::Status { code: 429, retry_after: Some(3) }, Reply::Status { code: 500, retry_after: None }]);
    ok(&w, "U0BACKEND", "check tests").await;
    ok(&w, "U0OPS", "check db-backup").await;
    ok(&w, "U0DANA", "note backups verified by hand").await;
    w.slack().arrives("the note", |c| c.text().contains("backups verified by hand")).await;
    status_when(&w, &status, "both ticks", showing(&["Checklist* 2/7"])).await;
    let failed: Vec<u16> = w.slack().fake.calls().iter().filter(|c| !c.ok).map(|c| c.answered).collect();
    assert_eq!(failed, [429, 500]);
    // Everything was delivered in the end, except updates a newer update made pointless. (Slack
    // may have taken the last update a moment before golive records that it did.)
    let settled = |states: &[String]| states.iter().all(|s| s == "sent" || s == "superseded");
    let outbox = || async { Some(w.store.outbox().await.unwrap().into_iter().map(|r| r.state).collect::<Vec<_>>()) };
    let states =
        w.until_async("the outbox settled", || async { outbox().await.filter(|s| settled(s)) }, String::new).await;
    assert!(states.iter().all(|s| s == "sent" || s == "superseded"), "{states:?}");
    assert!(states.iter().any(|s| s == "superseded"), "two ticks in a row cost one update: {states:?}");
    w.finish().await;
}

#[tokio::test]
async fn mentions_answer_questions_privately_with_an_ephemeral_message() {
    let w = Ctx::on_slack().await;
    let mention = serde_json::json!({
        "type": "event_callback", "event_id": "Ev0HELP", "team_id": "T0TEAM",
        "event": { "type": "app_mention", "user": "U0OPS", "text": "<@U0GOLIVE> help", "channel": "C0DEPLOY", "ts": "1.2" }
    })
    .to_string();
    assert_eq!(w.slack().signed("/slack/events", "application/json", &mention, &[]).await.status, 200);
    let answer = w.slack().arrives("the help", |c| c.method == "chat.postEphemeral").await;
    assert_eq!((answer.channel(), answer.body["user"].as_str()), ("C0DEPLOY", Some("U0OPS")));
    assert!(answer.text().contains("/deploy start RELEASE"));
    assert!(w.slack().fake.accepted("chat.postMessage").is_empty(), "help is not posted for everyone");
    w.finish().await;
}

#[tokio::test]
async fn slacks_own_interaction_payloads_are_accepted() {
    let w = Ctx::on_slack().await;
    for name in ["block_actions.bolt-python.form.txt", "view_submission.bolt-python.form.txt"] {
        let Some(body) = fixture(name) else { continue };
        let answer = w
            .slack()
            .signed("/slack/interactions", "application/x-www-form-urlencoded", body.trim_end_matches('\n'), &[])
            .await;
        // Not golive's buttons or dialogs: answered, and nothing happens.
        assert_eq!((answer.status, answer.body.as_str()), (200, ""), "{name}");
    }
    let malformed =
        w.slack().signed("/slack/interactions", "application/x-www-form-urlencoded", "payload=%7Bnot", &[]).await;
    assert_eq!(malformed.status, 400);
    let unsigned = harness::http::post(
        &w.addr,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &[],
        b"payload=%7B%7D",
    )
    .await;
    assert_eq!(unsigned.status, 401);
    w.settle().await;
    assert!(w.slack().fake.calls().is_empty());
    assert_eq!(w.deployments().await, 0);
    w.finish().await;
}

#[tokio::test]
async fn a_refused_dialog_submission_does_not_use_up_the_dialog() {
    let w = Ctx::on_slack().await;
    ok(&w, "U0DANA", "start v4.0.0").await;
    let status = status_post(&w).await;
    let (action, value) = button(&status, "Roll back…");
    w.slack().press("U0OPS", &action, &value).await;
    let opened = &w.slack().fake.accepted("views.open")[0];
    // The view keeps its id while it is open. Here someone outside the team submits it first
    // (the simplest way to make a submission fail); the refusal shows in the dialog…
    let refused = w.slack().submit("U0NOBODY", opened, &[("reason", "5xx spike"), ("level", "immediate")]).await;
    assert!(refused.json()["errors"]["reason"].as_str().unwrap().contains("only the deployment team"));
    // …and does not use the view up: a submission that may succeed still does.
    let done = w.slack().submit("U0OPS", opened, &[("reason", "5xx spike"), ("level", "immediate")]).await;
    assert_eq!((done.status, done.body.as_str()), (200, ""));
    assert!(kinds(&w).await.iter().any(|k| matches!(k, EventKind::RollbackStarted { .. })));
    // The status message shows the rollback; the channel heard it and the page.
    let status = w.status_on_slack().await;
    assert!(status.text().contains("ROLLING BACK"), "{}", status.text());
    w.slack().reads_started("v4.0.0").await;
    w.slack().reads("ROLLBACK (immediate, 0–5 min) started by u0ops: 5xx spike").await;
    w.slack().reads("ESCALATION level 1 (Team leads) from u0ops: rollback: 5xx spike").await;
    w.finish().await;
}

#[tokio::test]
async fn a_status_message_someone_deleted_is_posted_anew_and_kept_up_from_then_on() {
    let w = Ctx::on_slack().await;
    let first = started_with_status(&w).await;
    w.slack().fake.script([Reply::SlackError("message_not_found")]);
    ok(&w, "U0BACKEND", "check tests").await;
    let again = w
        .slack()
        .arrives("the status posted anew", |c| {
            c.method == "chat.postMessage" && c.text().starts_with("STATUS") && c.ts != first.ts
        })
        .await;
    assert!(blocks_text(&again).contains("Checklist* 1/7"), "{}", blocks_text(&again));
    ok(&w, "U0OPS", "check db-backup").await;
    status_when(&w, &again, "the next tick on the new message", showing(&["Checklist* 2/7"])).await;
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;
    let failures = w.store.events(id).await.unwrap().iter().filter(|e| e.kind.name() == "delivery_failed").count();
    assert_eq!(failures, 0, "a deleted status message is not a delivery failure");
    // The channel heard the start and the phase; the ticks landed in the status message.
    w.slack().reads_started("v4.0.0").await;
    w.slack().reads("Phase 1/4 pre-deployment (").await;
    w.finish().await;
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    a_whole_deployment_runs_on_slash_commands_and_buttons_and_the_status_post_keeps_up,
    a_sign_off_button_pressed_by_someone_outside_the_role_is_refused_to_them_alone_and_recorded,
    rolling_back_from_the_button_asks_for_the_reason_and_the_level_and_records_both,
    the_no_go_dialog_records_the_leads_reason,
    a_button_on_an_earlier_deployments_post_does_not_act_on_the_next_one,
    a_slack_user_group_stands_for_a_roles_members,
    rate_limits_and_server_errors_delay_updates_but_lose_nothing,
    mentions_answer_questions_privately_with_an_ephemeral_message,
    slacks_own_interaction_payloads_are_accepted,
    a_refused_dialog_submission_does_not_use_up_the_dialog,
    a_status_message_someone_deleted_is_posted_anew_and_kept_up_from_then_on,
);
