//! Who may do what, as a table: every command, and every button, tried by every kind of
//! person — the lead, each sign-off role, on-call, and an outsider — in a state where the
//! command would otherwise be accepted. The table is the promise; each row runs on a fresh
//! deployment. A refusal changes nothing but the record of the refusal itself.

use crate::harness::{Ctx, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, STAGING_SIGNOFFS, STAGING_TICKS};
use golive::domain::EventKind;
use serde_json::json;

/// The people: `dana` starts the deployment and so leads it; `alice` is tech-lead and on
/// escalation level 1, `olga` is ops and on level 1, `maya` is on level 2 only, `stranger`
/// holds nothing.
const PEOPLE: [&str; 9] = ["dana", "alice", "priya", "sam", "olga", "bruno", "fei", "maya", "stranger"];
const EVERYONE: &[&str] = &PEOPLE;
/// The lead, everyone holding a role the plan uses, and everyone on the escalation path.
const TEAM: &[&str] = &["dana", "alice", "priya", "sam", "olga", "bruno", "fei", "maya"];
const LEAD: &[&str] = &["dana"];
/// Paged at escalation level 1 (or the lead).
const LEVEL_1: &[&str] = &["dana", "alice", "olga"];

/// Brings a fresh deployment to a state: the lines typed, by whom.
#[derive(Clone, Copy)]
enum State {
    Nothing,
    Started,
    PreRunning,
    TestsTicked,
    PreComplete,
    AtGoGate,
    ProductionRunning,
    Escalated,
    RollingBack,
}

async fn reach(ctx: &Ctx, state: State) {
    if matches!(state, State::Nothing) {
        return;
    }
    ctx.ok("dana", "start v2.4.0").await;
    match state {
        State::Nothing | State::Started => {}
        State::PreRunning => {
            ctx.ok("dana", "phase start pre-deployment").await;
        }
        State::TestsTicked => {
            ctx.ok("dana", "phase start pre-deployment").await;
            ctx.ok("bruno", "check tests").await;
        }
        State::PreComplete => {
            ctx.ok("dana", "phase start pre-deployment").await;
            for (who, item) in PRE_DEPLOYMENT_TICKS {
                ctx.ok(who, &format!("check {item}")).await;
            }
            for (who, role) in PRE_DEPLOYMENT_SIGNOFFS {
                ctx.ok(who, &format!("signoff {role}")).await;
            }
        }
        State::AtGoGate | State::ProductionRunning => {
            ctx.ok("dana", "phase start pre-deployment").await;
            for (who, item) in PRE_DEPLOYMENT_TICKS {
                ctx.ok(who, &format!("check {item}")).await;
            }
            for (who, role) in PRE_DEPLOYMENT_SIGNOFFS {
                ctx.ok(who, &format!("signoff {role}")).await;
            }
            ctx.ok("dana", "phase done").await;
            ctx.ok("dana", "phase start staging").await;
            for (who, item) in STAGING_TICKS {
                ctx.ok(who, &format!("check {item}")).await;
            }
            for (who, role) in STAGING_SIGNOFFS {
                ctx.ok(who, &format!("signoff {role}")).await;
            }
            ctx.ok("dana", "phase done").await;
            if matches!(state, State::ProductionRunning) {
                ctx.ok("dana", "go").await;
                ctx.ok("dana", "phase start production").await;
            }
        }
        State::Escalated => {
            ctx.ok("olga", "escalate error rate at 0.4%").await;
        }
        State::RollingBack => {
            ctx.ok("dana", "rollback error rate at 0.4%").await;
        }
    }
}

/// Each command, the state it is tried in, and who may do it.
const MATRIX: &[(&str, State, &[&str])] = &[
    // Only the plan's lead roles (release-manager) may start, and so lead.
    ("start v9.0.0", State::Nothing, LEAD),
    ("phase start pre-deployment", State::Started, LEAD),
    ("check tests", State::PreRunning, &["dana", "bruno"]),
    ("uncheck tests", State::TestsTicked, &["dana", "bruno"]),
    ("signoff security", State::PreRunning, &["sam"]),
    ("signoff tech-lead", State::PreRunning, &["alice"]),
    ("phase done", State::PreComplete, LEAD),
    ("go", State::AtGoGate, LEAD),
    ("nogo staging is not convincing", State::AtGoGate, LEAD),
    // Production's items and sign-offs belong to ops, backend and (the optional maintenance
    // notice) product.
    ("traffic 50", State::ProductionRunning, &["dana", "olga", "bruno", "priya"]),
    ("rollback error rate at 0.4%", State::Started, TEAM),
    ("escalate error rate at 0.4%", State::Started, TEAM),
    ("ack", State::Escalated, LEVEL_1),
    ("escalate resolve", State::Escalated, LEVEL_1),
    ("note checked the dashboards", State::Started, EVERYONE),
    ("complete", State::RollingBack, LEAD),
    ("abort not today", State::Started, LEAD),
];

async fn refusals(ctx: &Ctx) -> Vec<String> {
    match ctx.store.events(1).await {
        Ok(events) => events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::CommandRefused { .. }))
            .map(|e| e.actor.key())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn every_command_against_every_kind_of_person() {
    let mut wrong = Vec::new();
    for (command, state, allowed) in MATRIX {
        for person in PEOPLE {
            let ctx = Ctx::new().await;
            reach(&ctx, *state).await;
            let before = ctx.store.events(1).await.map(|e| e.len()).unwrap_or(0);
            let refused_before = refusals(&ctx).await.len();
            let outcome = ctx.say(person, command).await;
            let after = ctx.store.events(1).await.map(|e| e.len()).unwrap_or(0);
            let expected = allowed.contains(&person);
            if outcome.refused == expected {
                wrong.push(format!(
                    "{person}: `{command}` was {} ({})",
                    if outcome.refused { "refused" } else { "allowed" },
                    outcome.reply.unwrap_or_default()
                ));
                continue;
            }
            if outcome.refused && matches!(state, State::Nothing) {
                // Nothing is open to record it on: the reply is all there is.
                if after != before {
                    wrong.push(format!("{person}: the refusal of `{command}` recorded something"));
                }
            } else if outcome.refused {
                // Refused for who they are: recorded as one refusal by them, nothing else.
                let recorded = refusals(&ctx).await;
                if after != before + 1 || recorded.len() != refused_before + 1 {
                    wrong.push(format!("{person}: the refusal of `{command}` was not recorded once"));
                } else if recorded.last() != Some(&format!("console:{person}")) {
                    wrong.push(format!("{person}: the refusal of `{command}` names {:?}", recorded.last()));
                }
            } else if after <= before && !command.starts_with("start") {
                wrong.push(format!("{person}: `{command}` was accepted but recorded nothing"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} cells differ from the table:\n{}", wrong.len(), wrong.join("\n"));
}

/// The buttons on Discord, checked against who pressed, whatever the button says.
#[tokio::test]
async fn every_button_against_every_kind_of_person() {
    // On the test server alice holds tech-lead but is not on call, so level 1 there is
    // dana (the lead) and olga.
    let buttons: &[(&str, &[&str])] = &[
        ("golive.signoff:1:security", &["sam"]),
        ("golive.signoff:1:tech-lead", &["alice"]),
        ("golive.ack:1", &["dana", "olga"]),
        ("golive.go:1", LEAD),
        ("golive.nogo:1", LEAD),
        ("golive.rollback:1", TEAM),
    ];
    let mut wrong = Vec::new();
    for (button, allowed) in buttons {
        for person in PEOPLE {
            let g = Ctx::on_discord().await;
            // The table is about the answers to the presses, not about the channel.
            g.ignore_posts();
            let told = g.discord().told("dana", &["start"], &[("release", json!("v2.4.0"))]).await;
            assert!(told.starts_with('✓'), "{told}");
            match *button {
                "golive.ack:1" => {
                    g.discord().told("olga", &["escalate"], &[("message", json!("error rate"))]).await;
                }
                "golive.go:1" | "golive.nogo:1" => {
                    // The go decision is open once everything before the gate is done; the
                    // lead can decide it early only after phases are done, so walk there.
                    for line in go_gate_lines() {
                        let told = g.discord().told(line.0, line.1, &line.2).await;
                        assert!(told.starts_with('✓'), "{line:?}: {told}");
                    }
                }
                _ => {
                    g.discord().told("dana", &["phase", "start"], &[("phase", json!("pre-deployment"))]).await;
                }
            }
            let answer = g.discord().press(person, button).await;
            let accepted = match answer["type"].as_u64() {
                // A modal opens only for someone who may go on.
                Some(9) => true,
                _ => answer["data"]["content"].as_str().unwrap_or_default().starts_with('✓'),
            };
            if accepted != allowed.contains(&person) {
                wrong.push(format!("{person} pressing {button}: {answer}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} cells differ from the table:\n{}", wrong.len(), wrong.join("\n"));
}

type Line = (&'static str, &'static [&'static str], Vec<(&'static str, serde_json::Value)>);

/// The Discord lines that bring a deployment to the go gate.
fn go_gate_lines() -> Vec<Line> {
    let mut lines: Vec<Line> = vec![("dana", &["phase", "start"], vec![("phase", json!("pre-deployment"))])];
    lines.extend(PRE_DEPLOYMENT_TICKS.iter().map(|(w, i)| (*w, &["check"][..], vec![("item", json!(i))])));
    lines.extend(PRE_DEPLOYMENT_SIGNOFFS.iter().map(|(w, r)| (*w, &["signoff"][..], vec![("role", json!(r))])));
    lines.push(("dana", &["phase", "done"], vec![]));
    lines.push(("dana", &["phase", "start"], vec![("phase", json!("staging"))]));
    lines.extend(STAGING_TICKS.iter().map(|(w, i)| (*w, &["check"][..], vec![("item", json!(i))])));
    lines.extend(STAGING_SIGNOFFS.iter().map(|(w, r)| (*w, &["signoff"][..], vec![("role", json!(r))])));
    lines.push(("dana", &["phase", "done"], vec![]));
    lines
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(every_command_against_every_kind_of_person, every_button_against_every_kind_of_person,);
