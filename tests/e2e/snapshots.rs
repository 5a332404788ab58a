//! Inline snapshots of what people read, rendered from the one status model: one rich status
//! post as the console text, Slack's blocks and Discord's embed (every field a release manager
//! reads: phase and T-time, progress, ETA, done and open items with owners, sign-offs, traffic
//! step and hold, blockers, escalation, notes, next steps, next update), a refusal, and the
//! Markdown report. A change to what people read shows up here as a diff to review
//! (`cargo insta review`, or INSTA_UPDATE=always and read the `.pending-snap`).

use std::collections::BTreeMap;

use crate::harness::{minutes, Ctx, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, STAGING_SIGNOFFS, STAGING_TICKS};
use golive::config::Config;
use golive::domain::Deployment;
use golive::engine::Message;
use golive::render::{blocks, embeds, report, text, StatusView};

async fn rich_status() -> StatusView {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0 at=2026-06-02T12:00").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.tick_and_sign(PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS).await;
    ctx.ok("dana", "phase done").await;
    ctx.ok("dana", "phase start staging").await;
    ctx.tick_and_sign(STAGING_TICKS, STAGING_SIGNOFFS).await;
    ctx.ok("dana", "phase done").await;
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
    for (who, item) in [("olga", "prod-deploy"), ("bruno", "prod-migrate"), ("olga", "health"), ("olga", "error-rate")]
    {
        ctx.advance(minutes(1));
        ctx.ok(who, &format!("check {item}")).await;
    }
    ctx.ok("olga", "traffic 50").await;
    ctx.advance(minutes(12));
    ctx.ok("olga", "blocker CDN purge still running").await;
    ctx.ok("bruno", "note p99 at 420 ms on the new version").await;
    ctx.ok("olga", "escalate error budget burning at 2x").await;
    ctx.advance(minutes(2));
    let outcome = ctx.say("dana", "status").await;
    let Message::Status(view) = &outcome.posts[0].message else { panic!("expected a status post") };
    (**view).clone()
}

#[tokio::test]
async fn the_status_post_as_console_text() {
    insta::assert_snapshot!(text::status(&rich_status().await), @r#"
    STATUS v2.4.0 — Standard production release · lead dana · 61% done · active
    Phase 3/4 production (Production deployment): running 18m of 3h planned
    Checklist: 4/7 done · open required: latency (Backend Team: @bruno) · old-version-warm (Operations Team: @olga)
    Done: prod-migrate ✓ bruno, health ✓ olga, error-rate ✓ olga (+1 earlier)
    Sign-offs: missing: ops (Operations Team: @olga)
    traffic 50% (step 1 of 4) · GO by dana
    T-2h 35m (go-live 2026-06-02 12:00 UTC) · next: phase post-deployment at T+3h (15:00 UTC)
    watching 50% — 16 min to go
    Escalation level 1 (Team leads): error budget burning at 2x — waiting for acknowledgement for 2m
    BLOCKER #1: CDN purge still running (olga)
    Note from bruno: p99 at 420 ms on the new version
    Next: tick latency, old-version-warm · sign-offs from ops · traffic 70% in 16 min
    Running 18m of 10h planned · ETA 17:00 UTC · next update 09:30 UTC
    "#);
}

#[tokio::test]
async fn the_status_post_as_slack_blocks() {
    let blocks = serde_json::to_value(blocks::status_blocks(&rich_status().await)).unwrap();
    insta::assert_json_snapshot!(blocks, @r#"
    [
      {
        "text": {
          "text": "Deploy v2.4.0 — 61%",
          "type": "plain_text"
        },
        "type": "header"
      },
      {
        "elements": [
          {
            "text": "Standard production release · lead dana · 18m of 10h planned",
            "type": "mrkdwn"
          }
        ],
        "type": "context"
      },
      {
        "text": {
          "text": "*Phase 3/4: Production deployment* (`production`)\nrunning 18m of 3h planned",
          "type": "mrkdwn"
        },
        "type": "section"
      },
      {
        "text": {
          "text": "*Checklist* 4/7 done\n*Done:* prod-migrate ✓ bruno, health ✓ olga, error-rate ✓ olga (+1 earlier)\n☐ `latency` API response times under 500 ms — _Backend Team: @bruno_\n☐ `old-version-warm` Previous version kept warm for quick rollback — _Operations Team: @olga_",
          "type": "mrkdwn"
        },
        "type": "section"
      },
      {
        "text": {
          "text": "*Sign-offs*\n⏳ ops — missing: _Operations Team: @olga_",
          "type": "mrkdwn"
        },
        "type": "section"
      },
      {
        "text": {
          "text": "*Traffic* 50% (step 1 of 4)\nGO by dana\n⏱ T-2h 35m (go-live 2026-06-02 12:00 UTC) · next: phase post-deployment at T+3h (15:00 UTC)\n⏱ watching 50% — 16 min to go\n🚨 *Escalation* level 1 (Team leads): error budget burning at 2x — waiting for acknowledgement for 2m\n⛔ *Blocker #1* CDN purge still running — olga",
          "type": "mrkdwn"
        },
        "type": "section"
      },
      {
        "text": {
          "text": "📝 bruno: p99 at 420 ms on the new version",
          "type": "mrkdwn"
        },
        "type": "section"
      },
      {
        "text": {
          "text": "*Next*\n• tick latency, old-version-warm\n• sign-offs from ops\n• traffic 70% in 16 min",
          "type": "mrkdwn"
        },
        "type": "section"
      },
      {
        "elements": [
          {
            "text": "As of 09:25 UTC · ETA 17:00 UTC · next update 09:30 UTC",
            "type": "mrkdwn"
          }
        ],
        "type": "context"
      },
      {
        "elements": [
          {
            "action_id": "golive.ack",
            "style": "primary",
            "text": {
              "text": "Ack",
              "type": "plain_text"
            },
            "type": "button",
            "value": "1"
          },
          {
            "action_id": "golive.signoff.ops",
            "text": {
              "text": "Sign off as ops",
              "type": "plain_text"
            },
            "type": "button",
            "value": "1:ops"
          },
          {
            "action_id": "golive.snooze",
            "text": {
              "text": "Snooze 1h",
              "type": "plain_text"
            },
            "type": "button",
            "value": "1"
          },
          {
            "action_id": "golive.rollback",
            "style": "danger",
            "text": {
              "text": "Roll back…",
              "type": "plain_text"
            },
            "type": "button",
            "value": "1"
          }
        ],
        "type": "actions"
      }
    ]
    "#);
}

#[tokio::test]
async fn the_status_post_as_a_discord_embed() {
    insta::assert_json_snapshot!(embeds::status_message(&rich_status().await), @r##"
    {
      "components": [
        {
          "components": [
            {
              "custom_id": "golive.ack:1",
              "label": "Ack",
              "style": 1,
              "type": 2
            },
            {
              "custom_id": "golive.signoff:1:ops",
              "label": "Sign off as ops",
              "style": 2,
              "type": 2
            },
            {
              "custom_id": "golive.snooze:1",
              "label": "Snooze 1h",
              "style": 2,
              "type": 2
            },
            {
              "custom_id": "golive.rollback:1",
              "label": "Roll back…",
              "style": 4,
              "type": 2
            }
          ],
          "type": 1
        }
      ],
      "embeds": [
        {
          "color": 16096779,
          "description": "Standard production release · lead dana · 18m of 10h planned",
          "fields": [
            {
              "inline": false,
              "name": "Phase 3/4: Production deployment",
              "value": "`production` running 18m of 3h planned"
            },
            {
              "inline": false,
              "name": "Checklist",
              "value": "4/7 done\nDone: prod-migrate ✓ bruno, health ✓ olga, error-rate ✓ olga \\(+1 earlier\\)\n☐ `latency` API response times under 500 ms — *Backend Team:* <@bruno>\n☐ `old-version-warm` Previous version kept warm for quick rollback — *Operations Team:* <@olga>"
            },
            {
              "inline": false,
              "name": "Sign-offs",
              "value": "⏳ ops — missing: *Operations Team:* <@olga>"
            },
            {
              "inline": false,
              "name": "Traffic",
              "value": "50% (step 1 of 4)"
            },
            {
              "inline": false,
              "name": "Decision",
              "value": "GO by dana"
            },
            {
              "inline": false,
              "name": "⏱ Time",
              "value": "T-2h 35m \\(go-live 2026-06-02 12:00 UTC\\) · next: phase post-deployment at T+3h \\(15:00 UTC\\)\nwatching 50% — 16 min to go"
            },
            {
              "inline": false,
              "name": "🚨 Escalation",
              "value": "level 1 \\(Team leads\\): error budget burning at 2x — waiting for acknowledgement for 2m"
            },
            {
              "inline": false,
              "name": "⛔ Blockers",
              "value": "#1 CDN purge still running — olga"
            },
            {
              "inline": false,
              "name": "Notes",
              "value": "📝 bruno: p99 at 420 ms on the new version"
            },
            {
              "inline": false,
              "name": "Next",
              "value": "• tick latency, old-version-warm\n• sign-offs from ops\n• traffic 70% in 16 min"
            }
          ],
          "footer": {
            "text": "As of 09:25 UTC · ETA 17:00 UTC · next update 09:30 UTC"
          },
          "title": "Deploy v2.4.0 — 61%"
        }
      ]
    }
    "##);
}

#[tokio::test]
async fn a_refusal_says_who_may_instead() {
    let ctx = Ctx::new().await;
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    insta::assert_snapshot!(ctx.refused("bruno", "signoff security lgtm").await, @"only members of `security` (Security Review) may sign off as `security`; you are not one");
}

#[tokio::test]
async fn the_report_of_an_aborted_deployment() {
    let ctx = Ctx::new().await; // 09:07
    ctx.ok("dana", "start v2.4.0").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.advance(minutes(5));
    ctx.ok("bruno", "check tests").await;
    ctx.ok("olga", "note the backup job is still running").await;
    ctx.advance(minutes(10));
    ctx.ok("dana", "abort the backup needs another hour").await;
    let row = ctx.store.deployments(None, 1).await.unwrap().remove(0);
    let events = ctx.store.events(row.id).await.unwrap();
    let state = Deployment::from_events(&events).unwrap();
    let roles: BTreeMap<String, String> =
        Config::example().roles.0.into_iter().map(|(id, role)| (id, role.name)).collect();
    insta::assert_snapshot!(report::markdown(&row, &state, &events, &roles), @r#"
    # Deployment 1: v2.4.0

    | | |
    |---|---|
    | Plan | Standard production release (`standard`) |
    | Channel | console:ops |
    | Lead | dana |
    | Outcome | aborted |
    | Started | 2026-06-02 09:07 UTC |
    | Ended | 2026-06-02 09:22 UTC |
    | Duration | 15m of 10h planned |
    | Progress | 2% |

    ## Sign-off sheet

    | Phase | Role | Signed by | When | Note |
    |---|---|---|---|---|
    | pre-deployment | Technical Lead (`tech-lead`) | — | — | |
    | pre-deployment | Security Review (`security`) | — | — | |
    | staging | Technical Lead (`tech-lead`) | — | — | |
    | staging | Product Manager (`product`) | — | — | |
    | production | Operations Team (`ops`) | — | — | |
    | post-deployment | Technical Lead (`tech-lead`) | — | — | |
    | post-deployment | Product Manager (`product`) | — | — | |
    | post-deployment | Security Review (`security`) | — | — | |
    | post-deployment | Operations Team (`ops`) | — | — | |

    ## Checklist

    ### 1. pre-deployment — Pre-deployment verification (stopped after 15m of 2h planned: the deployment was aborted)

    | Item | What | Owner | Required | Checked by | When |
    |---|---|---|---|---|---|
    | tests | Full test suite green on the release branch | Backend Team (`backend`) | yes | bruno | 2026-06-02 09:12 UTC |
    | security-scan | Dependency and vulnerability scan reviewed | Security Review (`security`) | yes | — | — |
    | migrations-tested | Database migrations rehearsed on a copy of production | Backend Team (`backend`) | yes | — | — |
    | db-backup | Production database backed up, timestamp noted | Operations Team (`ops`) | yes | — | — |
    | secrets | Production secrets and API keys in place | Operations Team (`ops`) | yes | — | — |
    | certificates | TLS certificates valid for every domain | Operations Team (`ops`) | no | — | — |
    | rollback-plan | Rollback steps written and owner named | Technical Lead (`tech-lead`) | yes | — | — |

    ### 2. staging — Staging deployment (never started, 3h planned)

    | Section | Item | What | Owner | Required | Checked by | When |
    |---|---|---|---|---|---|---|
    | Deploy | staging-deploy | Release deployed to staging | Operations Team (`ops`) | yes | — | — |
    | Deploy | staging-migrate | Migrations applied on staging | Backend Team (`backend`) | yes | — | — |
    | Verify | e2e | End-to-end user flows pass on staging | Frontend Team (`frontend`) | yes | — | — |
    | Verify | load-test | Load test at expected peak passes | Backend Team (`backend`) | yes | — | — |
    | Verify | acceptance | Product acceptance of the release on staging | Product Manager (`product`) | yes | — | — |
    | Verify | bundle-size | Frontend bundle size within budget | Frontend Team (`frontend`) | no | — | — |

    ### 3. production — Production deployment (never started, 3h planned)

    | Item | What | Owner | Required | Checked by | When |
    |---|---|---|---|---|---|
    | maintenance-notice | Users told about the maintenance window | Product Manager (`product`) | no | — | — |
    | prod-deploy | New version deployed beside the old one | Operations Team (`ops`) | yes | — | — |
    | prod-migrate | Production migrations applied | Backend Team (`backend`) | yes | — | — |
    | health | Health endpoint returns 200 | Operations Team (`ops`) | yes | — | — |
    | error-rate | Error rate under 0.1 % at each traffic step | Operations Team (`ops`) | yes | — | — |
    | latency | API response times under 500 ms | Backend Team (`backend`) | yes | — | — |
    | old-version-warm | Previous version kept warm for quick rollback | Operations Team (`ops`) | yes | — | — |

    ### 4. post-deployment — Post-deployment validation (never started, 2h planned)

    | Item | What | Owner | Required | Checked by | When |
    |---|---|---|---|---|---|
    | user-flows | Sign-up, login and checkout work in production | Frontend Team (`frontend`) | yes | — | — |
    | monitoring | Dashboards and alerts show the new version | Operations Team (`ops`) | yes | — | — |
    | error-tracking | No new error classes in error tracking | Backend Team (`backend`) | yes | — | — |
    | announce | Stakeholders and support told the release is live | Product Manager (`product`) | yes | — | — |
    | runbook | Runbook and release notes updated | Technical Lead (`tech-lead`) | no | — | — |

    ## Deployment sign-off

    - [ ] Technical Lead (`tech-lead`): not signed
    - [ ] Product Manager (`product`): not signed
    - [ ] Security Review (`security`): not signed
    - [ ] Operations Team (`ops`): not signed

    **Deployment Status:** ❌ Aborted

    ## Notes

    - 2026-06-02 09:12 UTC — olga: the backup job is still running

    ## Timeline

    | # | Time | Who | What |
    |---|---|---|---|
    | 1 | 2026-06-02 09:07 UTC | dana | started v2.4.0 with plan standard in console:ops |
    | 2 | 2026-06-02 09:07 UTC | dana | started phase pre-deployment |
    | 3 | 2026-06-02 09:12 UTC | bruno | checked tests (pre-deployment) |
    | 4 | 2026-06-02 09:12 UTC | olga | note: the backup job is still running |
    | 5 | 2026-06-02 09:22 UTC | dana | aborted: the backup needs another hour |
    "#);
}
