//! The web pages over HTTP: golive serve's real routes on 127.0.0.1 over a real SQLite file,
//! commands sent through the signed Slack route or typed in the console, and the pages read
//! as a browser or `curl` would: status codes, the 401 without the token that says nothing,
//! what the pages show, the exports, the live stream, and the links posts carry.

use crate::harness;
use crate::harness::Ctx;
use std::time::Duration;

use crate::harness::http::{get, Answer};
use crate::harness::slack::WEB_TOKEN;
use crate::harness::{minutes, PRE_DEPLOYMENT_SIGNOFFS, PRE_DEPLOYMENT_TICKS, STAGING_SIGNOFFS, STAGING_TICKS};
use golive::domain::{Actor, Channel, Deployment, Platform};
use golive::engine::Input;
use golive::render::report;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GET with the token as a bearer token.
async fn bearer(addr: &str, path: &str) -> Answer {
    get_with(addr, path, &[("Authorization", format!("Bearer {WEB_TOKEN}"))]).await
}

async fn get_with(addr: &str, path: &str, headers: &[(&str, String)]) -> Answer {
    harness::http::try_request(addr, "GET", path, headers, b"").await.expect("golive answers")
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Starts a deployment of `release` in console channel `channel` as dana.
async fn start(w: &Ctx, channel: &str, release: &str) {
    let channel = Channel { platform: Platform::Console, id: channel.into() };
    let outcome = w
        .engine
        .submit(Input::text(&channel, &Actor::new(Platform::Console, "dana"), &format!("start {release}")))
        .await
        .unwrap();
    assert!(!outcome.refused, "{:?}", outcome.reply);
}

/// `config` with `from` replaced by `to`, which must be there.
fn edit(config: String, from: &str, to: &str) -> String {
    assert!(config.contains(from), "the example config has no `{from}`");
    config.replacen(from, to, 1)
}

/// The example config with `[server] public_url` set (with a trailing slash, which is dropped).
fn public_url(config: String) -> String {
    let listen = "listen = \"127.0.0.1:3000\"";
    assert!(config.contains(listen));
    config.replace(listen, &format!("{listen}\npublic_url = \"https://golive.example.com/\""))
}

async fn abort(w: &Ctx, channel: &str) {
    let channel = Channel { platform: Platform::Console, id: channel.into() };
    let outcome = w
        .engine
        .submit(Input::text(&channel, &Actor::new(Platform::Console, "dana"), "abort called off"))
        .await
        .unwrap();
    assert!(!outcome.refused, "{:?}", outcome.reply);
}

#[tokio::test]
async fn without_the_token_every_page_and_stream_is_401_and_says_nothing() {
    let w = Ctx::on_slack().await;
    assert_eq!(w.slack().slash("U0DANA", "start v9.9.9-secret-release").await.status, 200);
    let refused = get(&w.addr, "/").await;
    for path in [
        "/",
        "/deployments/1",
        "/deployments/1.md",
        "/deployments/1.json",
        "/deployments/1.csv",
        "/deployments/1/events",
        "/deployments/999",
        "/deployments/999/events",
        "/?status=active",
    ] {
        for (how, answer) in [
            ("no token", get(&w.addr, path).await),
            (
                "a wrong bearer token",
                get_with(&w.addr, path, &[("Authorization", "Bearer e2e-web-tokeN".into())]).await,
            ),
            (
                "a wrong query token",
                get(&w.addr, &format!("{path}{}token=e2e-web-toke", if path.contains('?') { '&' } else { '?' })).await,
            ),
            ("a longer token", get_with(&w.addr, path, &[("Authorization", format!("Bearer {WEB_TOKEN}x"))]).await),
        ] {
            assert_eq!(answer.status, 401, "{path} with {how}: {answer:?}");
            assert_eq!(answer.body, refused.body, "{path} with {how}: a refusal must not differ by what exists");
            assert!(!answer.body.contains("v9.9.9"), "{path} with {how}: {}", answer.body);
            assert_eq!(header(&answer, "www-authenticate"), Some("Bearer"));
        }
    }
    // Health and readiness stay open; they tell nothing about deployments.
    assert_eq!(get(&w.addr, "/healthz").await.status, 200);

    // With the token, as a bearer token or in the query.
    let page = bearer(&w.addr, "/").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("v9.9.9-secret-release"));
    let page = get(&w.addr, &format!("/deployments/1?token={WEB_TOKEN}")).await;
    assert_eq!(page.status, 200);
    // Links on a page opened with ?token= carry it, so the reader can follow them.
    assert!(page.body.contains(&format!("/deployments/1.md?token={WEB_TOKEN}")), "{}", page.body);
    assert_eq!(header(&page, "referrer-policy"), Some("no-referrer"), "the token must not leak to other sites");
    let policy = header(&page, "content-security-policy").unwrap_or_default();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'sha256-"), "{policy}");
    // The channel heard the start the pages above show only with the token.
    w.slack().reads_started("v9.9.9-secret-release").await;
    w.finish().await;
}

#[tokio::test]
async fn open_pages_need_no_token_and_disabled_pages_are_not_served() {
    let open = Ctx::on_slack_with(|c| edit(c, "open = false", "open = true")).await;
    assert_eq!(open.slack().slash("U0DANA", "start v1.0.0").await.status, 200);
    let list = get(&open.addr, "/").await;
    assert_eq!(list.status, 200, "{list:?}");
    assert!(list.body.contains("v1.0.0"));

    let off =
        Ctx::on_slack_with(|c| edit(c, "enabled = true\n# false: every", "enabled = false\n# false: every")).await;
    assert_eq!(bearer(&off.addr, "/").await.status, 404);
    assert_eq!(bearer(&off.addr, "/deployments/1").await.status, 404);
    assert_eq!(get(&off.addr, "/healthz").await.status, 200);
    // The open golive's channel heard the start.
    open.slack().reads_started("v1.0.0").await;
    open.finish().await;
    off.finish().await;
}

#[tokio::test]
async fn the_list_shows_deployments_newest_first_filtered_by_status_and_channel_and_paged() {
    let w = Ctx::on_slack().await;
    for n in 0..27 {
        start(&w, "train", &format!("r{n:02}")).await;
        if n < 26 {
            abort(&w, "train").await;
        }
    }
    start(&w, "other", "elsewhere-1").await;

    let first = bearer(&w.addr, "/").await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("28 deployments"), "{}", first.body);
    let newest = first.body.find("elsewhere-1").expect("the newest is listed");
    let next = first.body.find(">r26<").expect("r26 is listed");
    assert!(newest < next, "newest first");
    assert!(!first.body.contains(">r02<"), "25 to a page: the oldest are on page 2");
    assert!(first.body.contains("Page 1 of 2"));
    for column in ["Release", "Plan", "Channel", "Lead", "Status", "Progress", "Started", "Duration"] {
        assert!(first.body.contains(&format!(">{column}</th>")), "column {column}");
    }

    let second = bearer(&w.addr, "/?page=2").await;
    assert!(second.body.contains(">r00<") && second.body.contains(">r02<"), "{}", second.body);
    assert!(!second.body.contains(">r26<"));

    let active = bearer(&w.addr, "/?status=active").await;
    assert!(active.body.contains("2 matching deployments"), "{}", active.body);
    assert!(active.body.contains(">r26<") && active.body.contains("elsewhere-1") && !active.body.contains(">r25<"));

    let channel = bearer(&w.addr, "/?channel=console%3Aother").await;
    assert!(channel.body.contains("1 matching deployment,"), "{}", channel.body);
    assert!(channel.body.contains("elsewhere-1") && !channel.body.contains(">r26<"));

    let bad = bearer(&w.addr, "/?status=finished").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("There is no status `finished`; the statuses are active, rolling_back, completed"),
        "{}",
        bad.body
    );
    assert_eq!(bearer(&w.addr, "/?page=0").await.status, 400);
    w.finish().await;
}

#[tokio::test]
async fn the_deployment_page_shows_chart_checklist_sign_offs_and_events_with_user_text_escaped() {
    let w = Ctx::on_slack().await;
    w.through_pre_deployment().await;
    w.ok("dana", "note <script>alert('x')</script> & done").await;
    let id = w.store.deployments(None, 1).await.unwrap()[0].id;

    let page = bearer(&w.addr, &format!("/deployments/{id}")).await;
    assert_eq!(page.status, 200, "{page:?}");
    let body = &page.body;
    assert!(header(&page, "content-type").unwrap_or_default().starts_with("text/html"));
    assert!(body.contains("<svg class=\"timeline\""), "the chart is drawn on the server");
    assert!(body.contains("The timeline in text"), "the chart has a text equivalent");
    assert!(body.contains("Pre-deployment checks") || body.contains("pre-deployment"), "{body}");
    // The checklist: who ticked what.
    let row = body.find("<code>db-backup</code>").expect("the checklist lists db-backup");
    assert!(body[row..].split("</tr>").next().unwrap().contains("olga"), "db-backup was ticked by olga");
    // The sign-off sheet, with role names from the config.
    assert!(body.contains("Sign-off sheet"));
    let security = body.find("(security)").expect("the security role is on the sheet");
    assert!(body[security..].split("</tr>").next().unwrap().contains("sam"));
    // Every event, user text escaped.
    assert!(body.contains("note: &lt;script&gt;alert('x')&lt;/script&gt; &amp; done"), "{body}");
    assert!(!body.contains("<script>alert"), "user text must never become markup");
    assert!(body.contains("data-stream=\"/deployments/1/events?after="), "the page knows its stream");

    assert_eq!(bearer(&w.addr, "/deployments/999").await.status, 404);
    assert_eq!(bearer(&w.addr, "/deployments/abc").await.status, 404);
    assert_eq!(bearer(&w.addr, "/deployments/1.exe").await.status, 404);
    w.finish().await;
}

/// The part of `body` from `from` up to (not including) the first `to` after it.
fn between<'a>(body: &'a str, from: &str, to: &str) -> &'a str {
    let start = body.find(from).unwrap_or_else(|| panic!("no `{from}` in {body}"));
    let rest = &body[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

#[tokio::test]
async fn the_page_shows_the_checklist_by_phase_and_section_the_blockers_and_the_open_escalation() {
    let w = Ctx::on_slack().await;
    w.through_pre_deployment().await;
    w.ok("dana", "phase start staging").await;
    w.advance(minutes(5)); // 09:12
    w.ok("olga", "check staging-deploy").await;
    w.ok("olga", "blocker DB replica lag at 40s").await;
    w.ok("olga", "blocker waiting on the <CDN> purge").await;
    w.advance(minutes(10)); // 09:22
    w.ok("bruno", "unblock 1").await;
    w.ok("olga", "escalate error rate at 0.4%").await;

    let page = bearer(&w.addr, "/deployments/1").await;
    assert_eq!(page.status, 200);
    let body = &page.body;

    // By phase: pre-deployment has no sections; staging's items sit under theirs, in plan order,
    // each section saying how far it is.
    let pre = between(body, "1. Pre-deployment verification", "<h3>");
    assert!(pre.contains("<code>rollback-plan</code>") && !pre.contains("Section:"), "{pre}");
    let staging = between(body, "2. Staging deployment", "<h3>");
    let order = [
        "Section: Deploy",
        "<code>staging-deploy</code>",
        "<code>staging-migrate</code>",
        "Section: Verify",
        "<code>e2e</code>",
        "<code>bundle-size</code>",
    ]
    .map(|part| staging.find(part).unwrap_or_else(|| panic!("no `{part}` in {staging}")));
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {staging}");
    assert!(staging.contains("(1 of 2 done)") && staging.contains("(0 of 4 done)"), "{staging}");
    // Who ticked what and when.
    let ticked = between(staging, "<code>staging-deploy</code>", "</tr>");
    assert!(
        ticked.contains("✓ done") && ticked.contains("olga") && ticked.contains("2026-06-02 09:12 UTC"),
        "{ticked}"
    );
    assert!(between(staging, "<code>staging-migrate</code>", "</tr>").contains("open"));

    // Blockers: the open one first, the cleared one with who cleared it and when; text escaped.
    let blockers = between(body, "id=\"blockers\"", "<h2");
    assert!(blockers.contains("1 open; ") && blockers.contains("1 cleared."), "{blockers}");
    let (open, cleared) = (blockers.find("id=\"blocker-2\"").unwrap(), blockers.find("id=\"blocker-1\"").unwrap());
    assert!(open < cleared, "open blockers come first: {blockers}");
    let open = between(blockers, "id=\"blocker-2\"", "</tr>");
    assert!(
        open.contains("waiting on the &lt;CDN&gt; purge") && open.contains(">open<") && open.contains("olga"),
        "{open}"
    );
    let cleared = between(blockers, "id=\"blocker-1\"", "</tr>");
    assert!(cleared.contains("DB replica lag at 40s") && cleared.contains("cleared by bruno at"), "{cleared}");
    assert!(cleared.contains("2026-06-02 09:22 UTC"), "{cleared}");

    // The open escalation, waiting for its acknowledgement.
    let escalation = between(body, "Open escalation: level 1", "</section>");
    assert!(escalation.contains("error rate at 0.4%") && escalation.contains("raised by olga"), "{escalation}");
    assert!(
        escalation.contains("Waiting for acknowledgement since") && escalation.contains("09:22 UTC"),
        "{escalation}"
    );

    // A deployment with no blockers says so.
    start(&w, "quiet", "v0.0.1").await;
    let quiet = bearer(&w.addr, "/deployments/2").await;
    assert!(quiet.body.contains("No blockers raised."), "{}", quiet.body);
    assert!(!quiet.body.contains("Open escalation"));
    w.finish().await;
}

#[tokio::test]
async fn the_chart_plans_phases_from_the_go_live_time_against_their_actual_spans_with_holds_and_marks() {
    let w = Ctx::on_slack().await;
    // Without a go-live time: the plan's durations back to back from the start (09:07).
    start(&w, "plain", "v1.0.0").await;
    let plain = bearer(&w.addr, "/deployments/1").await.body;
    assert!(plain.contains("Phases are planned back to back from the start"), "{plain}");
    let plain_text = between(&plain, "The timeline in text", "</details>");
    for planned in ["09:07–11:07 (2h)", "11:07–14:07 (3h)", "14:07–17:07 (3h)", "17:07–19:07 (2h)"] {
        assert!(plain_text.contains(planned), "{planned} in {plain_text}");
    }

    // With T-0 at 16:00: each phase from its `at`.
    let ctx = &w;
    ctx.ok("dana", "start v2.4.0 at=2026-06-02T16:00").await;
    ctx.ok("dana", "phase start pre-deployment").await;
    ctx.tick_and_sign(PRE_DEPLOYMENT_TICKS, PRE_DEPLOYMENT_SIGNOFFS).await;
    // 11:17: 2h 10m of 2h (its overdue escalation would come after a 15m grace).
    ctx.advance(minutes(130));
    ctx.ok("dana", "phase done").await;
    ctx.ok("dana", "phase start staging").await;
    ctx.tick_and_sign(STAGING_TICKS, STAGING_SIGNOFFS).await;
    ctx.advance(minutes(60)); // 12:17
    ctx.ok("dana", "phase done").await;
    ctx.ok("dana", "go").await;
    ctx.ok("dana", "phase start production").await;
    ctx.ok("olga", "traffic 50").await;
    ctx.ok("bruno", "check latency").await;
    ctx.advance(minutes(10)); // 12:27: the 30m hold is not over
    ctx.ok("dana", "traffic 70 force dashboards green early").await;
    ctx.ok("olga", "escalate error rate at 0.4%").await;
    ctx.advance(minutes(5)); // 12:32
    ctx.ok("olga", "rollback level=quick error rate at 2%").await;
    let id = 2;

    let page = bearer(&w.addr, &format!("/deployments/{id}")).await.body;
    assert!(page.contains("Phases are planned from the go-live time T-0 = 2026-06-02 16:00 UTC"), "{page}");
    let text = between(&page, "The timeline in text", "</details>");
    let row = |phase: &str| between(text, phase, "</tr>").to_string();
    assert!(row("Pre-deployment verification").contains("09:00–11:00 (2h, from T-7h)"), "{text}");
    assert!(row("Pre-deployment verification").contains("09:07–11:17"), "{text}");
    assert!(row("Pre-deployment verification").contains("2h 10m — longer than planned"), "{text}");
    assert!(row("Staging deployment").contains("11:00–14:00 (3h, from T-5h)"), "{text}");
    assert!(row("Production deployment").contains("16:00–19:00 (3h, from T-0)"), "{text}");
    assert!(row("Staging deployment").contains("11:17–12:17"), "{text}");
    assert!(row("Production deployment").contains("12:17–now"), "the phase still runs: {text}");
    assert!(row("Post-deployment validation").contains("19:00–21:00 (2h, from T+3h)"), "{text}");
    assert!(row("Post-deployment validation").contains("not started"), "{text}");
    for mark in [
        "2026-06-02 16:00 UTC</time> — go-live time (T-0)",
        "2026-06-02 12:17 UTC</time> — go given by dana",
        "2026-06-02 12:17 UTC</time> — traffic 50%, held 30m (until 12:47)",
        "2026-06-02 12:27 UTC</time> — traffic 70%, held 30m (until 12:57), forced: dashboards green early",
        "2026-06-02 12:27 UTC</time> — escalated to level 1: error rate at 0.4%",
        "2026-06-02 12:32 UTC</time> — rollback (quick) by olga: error rate at 2%",
    ] {
        assert!(text.contains(mark), "no `{mark}` in {text}");
    }

    // The SVG draws the same: planned and actual bars, the T-0 line, the holds, the forced step
    // and the marks.
    let svg = between(&page, "<svg class=\"timeline\"", "</svg>");
    assert!(svg.contains("<title>pre-deployment planned 09:00–11:00</title>"), "{svg}");
    assert!(svg.contains("<title>production planned 16:00–19:00</title>"), "{svg}");
    assert!(svg.contains("class=\"actual late\""), "pre-deployment ran long: {svg}");
    assert!(svg.contains("<title>go-live time (T-0) 16:00</title>"), "{svg}");
    assert_eq!(svg.matches("class=\"hold\"").count(), 2, "{svg}");
    assert!(svg.contains("class=\"traffic forced\""), "{svg}");
    for class in ["mark go", "mark escalation", "mark rollback"] {
        assert!(svg.contains(&format!("<g class=\"{class}\">")), "no {class} in {svg}");
    }
    assert!(svg.contains("role=\"img\"") && page.contains("aria-labelledby=\"chart-caption\""));
    w.finish().await;
}

#[tokio::test]
async fn exports_are_golive_shows_reports() {
    let w = Ctx::on_slack().await;
    w.through_pre_deployment().await;
    let row = w.store.deployment_row(1).await.unwrap();
    let events = w.store.events(1).await.unwrap();
    let state = Deployment::from_events(&events).unwrap();

    let md = bearer(&w.addr, "/deployments/1.md").await;
    assert_eq!(md.status, 200);
    assert_eq!(header(&md, "content-type"), Some("text/markdown; charset=utf-8"));
    let roles = w.engine.config().roles.0.iter().map(|(id, r)| (id.clone(), r.name.clone())).collect();
    assert_eq!(md.body, report::markdown(&row, &state, &events, &roles));
    assert!(md.body.contains("Technical Lead"), "role names, as `golive show` gives them: {}", md.body);
    let json = bearer(&w.addr, "/deployments/1.json").await;
    assert_eq!(header(&json, "content-type"), Some("application/json"));
    assert_eq!(json.body, report::json(&row, &events));
    assert_eq!(json.json()["deployment"]["release"], "v2.4.0");
    let csv = bearer(&w.addr, "/deployments/1.csv").await;
    assert_eq!(header(&csv, "content-disposition"), Some("attachment; filename=\"deployment-1.csv\""));
    assert_eq!(csv.body, report::csv(&events));
    assert_eq!(bearer(&w.addr, "/deployments/2.csv").await.status, 404);
    w.finish().await;
}

#[tokio::test]
async fn pages_never_show_secrets_or_slack_response_urls() {
    let w = Ctx::on_slack_with(public_url).await;
    for text in ["start v5.0.0", "note looking good", "phase start pre-deployment", "status"] {
        assert_eq!(w.slack().slash("U0DANA", text).await.status, 200);
    }
    let slack = w.slack();
    slack.reads_started("v5.0.0").await;
    slack.reads_all(&["Note from u0dana: looking good", "Phase 1/4 pre-deployment (", "STATUS v5.0.0"]).await;
    for path in ["/", "/deployments/1", "/deployments/1.md", "/deployments/1.json", "/deployments/1.csv"] {
        // With a bearer token the page has no reason to repeat it (with `?token=`, its links
        // carry it on).
        let answer = bearer(&w.addr, path).await;
        assert_eq!(answer.status, 200, "{path}");
        for secret in [
            "hooks.slack.com",
            "response_url",
            "e2e-test-signing-secret",
            "xoxb-e2e",
            "trigger_id",
            "1000.0.abc",
            WEB_TOKEN,
        ] {
            assert!(!answer.body.contains(secret), "{path} shows `{secret}`");
        }
    }
    w.finish().await;
}

#[tokio::test]
async fn status_posts_link_to_the_page_when_public_url_is_set() {
    let w = Ctx::on_slack_with(public_url).await;
    assert_eq!(w.slack().slash("U0DANA", "start v6.0.0").await.status, 200);
    assert_eq!(w.slack().slash("U0DANA", "status").await.status, 200);
    let status = w.slack().arrives("the status post", |c| c.body.to_string().contains("Deploy v6.0.0")).await;
    assert!(
        status.body.to_string().contains("<https://golive.example.com/deployments/1|live page>"),
        "{}",
        status.body
    );

    let plain = Ctx::on_slack().await;
    assert_eq!(plain.slack().slash("U0DANA", "start v6.0.0").await.status, 200);
    assert_eq!(plain.slack().slash("U0DANA", "status").await.status, 200);
    let status = plain.slack().arrives("the status post", |c| c.body.to_string().contains("Deploy v6.0.0")).await;
    assert!(!status.body.to_string().contains("live page"), "no public_url, no link");
    // Each channel heard its start before the status post (read above).
    plain.slack().reads_started("v6.0.0").await;
    plain.finish().await;
    w.slack().reads_started("v6.0.0").await;
    w.finish().await;
}

/// An open SSE connection: what it has received so far.
struct Stream {
    socket: tokio::net::TcpStream,
    seen: String,
}

impl Stream {
    async fn open(addr: &str, path: &str, last_event_id: Option<i64>) -> Stream {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let resume = last_event_id.map(|id| format!("Last-Event-ID: {id}\r\n")).unwrap_or_default();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {WEB_TOKEN}\r\nAccept: text/event-stream\r\n{resume}\r\n"
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        Stream { socket, seen: String::new() }
    }

    /// Reads until `what` has arrived (golive's clock stands still; this waits on the wire).
    async fn until(&mut self, what: &str) -> &str {
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !self.seen.contains(what) {
            let n = tokio::time::timeout_at(deadline, self.socket.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("never got `{what}`; got {}", self.seen))
                .unwrap();
            assert!(n > 0, "the stream ended; got {}", self.seen);
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        &self.seen
    }

    /// Reads until golive closes the connection.
    async fn ends(&mut self) {
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let n = tokio::time::timeout_at(deadline, self.socket.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("the stream did not end; got {}", self.seen))
                .unwrap_or(0);
            if n == 0 {
                return;
            }
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
}

#[tokio::test]
async fn the_stream_sends_each_new_event_as_it_is_recorded_and_resumes_after_the_last_one_seen() {
    let w = Ctx::on_slack().await;
    assert_eq!(w.slack().slash("U0DANA", "start v7.0.0").await.status, 200);
    let mut stream = Stream::open(&w.addr, "/deployments/1/events", None).await;
    let head = stream.until("\r\n\r\n").await.to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: text/event-stream"), "{head}");

    assert_eq!(w.slack().slash("U0DANA", "note first through slack").await.status, 200);
    let seen = stream.until("first through slack").await;
    assert!(seen.contains("event: event"), "{seen}");
    assert!(seen.contains("id: 2"), "the event's sequence number is its id: {seen}");
    assert!(!seen.contains("started v7.0.0"), "a fresh stream starts after what exists");
    assert_eq!(w.slack().slash("U0DANA", "note second").await.status, 200);
    stream.until("note: second").await;

    // A browser reconnecting with Last-Event-ID gets what it missed, and only that.
    let mut resumed = Stream::open(&w.addr, "/deployments/1/events", Some(2)).await;
    let seen = resumed.until("note: second").await;
    assert!(!seen.contains("first through slack"), "{seen}");

    // `?after=` (what the page sends) works the same way.
    let mut after = Stream::open(&w.addr, "/deployments/1/events?after=1", None).await;
    after.until("first through slack").await;
    // The channel heard what the stream sent.
    w.slack().reads_started("v7.0.0").await;
    w.slack().reads_all(&["Note from u0dana: first through slack", "Note from u0dana: second"]).await;
    w.finish().await;
}

#[tokio::test]
async fn live_streams_are_capped_and_all_end_when_golive_shuts_down() {
    let mut w = Ctx::on_slack_with(|c| edit(c, "max_streams = 256", "max_streams = 2")).await;
    assert_eq!(w.slack().slash("U0DANA", "start v8.0.0").await.status, 200);
    let mut first = Stream::open(&w.addr, "/deployments/1/events", None).await;
    assert!(first.until("\r\n\r\n").await.starts_with("HTTP/1.1 200"));
    let mut second = Stream::open(&w.addr, "/deployments/1/events", None).await;
    assert!(second.until("\r\n\r\n").await.starts_with("HTTP/1.1 200"));

    // A third is turned away, saying when to try again and nothing about the deployment.
    let busy = bearer(&w.addr, "/deployments/1/events").await;
    assert_eq!(busy.status, 503, "{busy:?}");
    assert_eq!(header(&busy, "retry-after"), Some("30"));
    assert!(busy.body.contains("too many live pages are open") && !busy.body.contains("v8.0.0"), "{}", busy.body);
    // The pages themselves are still served.
    assert_eq!(bearer(&w.addr, "/deployments/1").await.status, 200);

    // A browser that goes away gives its place back.
    drop(first);
    let open = || async {
        let mut stream = Stream::open(&w.addr, "/deployments/1/events", None).await;
        stream.until("\r\n\r\n").await.starts_with("HTTP/1.1 200").then_some(stream)
    };
    let mut third = w.until_async("a stream's place given back after its browser went away", open, String::new).await;
    assert_eq!(w.slack().slash("U0DANA", "note still streaming").await.status, 200);
    second.until("note: still streaming").await;
    third.until("note: still streaming").await;

    // Shutting down ends every stream at once: a graceful shutdown does not wait on open pages.
    w.shut_down();
    for stream in [&mut second, &mut third] {
        stream.ends().await;
        assert!(stream.seen.ends_with("0\r\n\r\n"), "the response ends properly: {}", stream.seen);
    }
    // The channel heard what the streams sent, before golive shut down.
    w.slack().reads_started("v8.0.0").await;
    w.slack().reads("Note from u0dana: still streaming").await;
    w.finish().await;
}

#[test]
fn the_web_keys_and_public_url_are_checked_like_every_other_key() {
    use golive::config::{Config, EXAMPLE};
    let example = Config::example();
    assert!(example.web.enabled && !example.web.open, "pages on, behind the token, by default");
    assert_eq!(example.server.public_url, None);
    let config = Config::parse(&public_url(EXAMPLE.to_string()), "web.toml").unwrap();
    assert_eq!(config.server.public_url.as_deref(), Some("https://golive.example.com"));
    let bad = EXAMPLE.replace("# public_url = \"https://golive.example.com\"", "public_url = \"golive.example.com\"");
    assert_ne!(bad, EXAMPLE);
    let error = Config::parse(&bad, "web.toml").unwrap_err().to_string();
    assert!(error.contains("server.public_url") && error.contains("is not an http(s) address"), "{error}");
    let unknown = Config::parse(&edit(EXAMPLE.to_string(), "open = false", "open = false\ntoken = \"x\""), "web.toml")
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("unknown field `token`"), "{unknown}");
    assert_eq!(example.web.max_streams, 256);
    let none = Config::parse(&edit(EXAMPLE.to_string(), "max_streams = 256", "max_streams = 0"), "web.toml")
        .unwrap_err()
        .to_string();
    assert!(none.contains("web.max_streams") && none.contains("must be at least 1"), "{none}");
}

#[test]
fn golive_web_will_not_show_pages_to_the_network_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let golive = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_golive"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("GOLIVE_CONFIG")
            .env_remove("GOLIVE_WEB_TOKEN")
            .output()
            .unwrap()
    };
    let missing = golive(&["web", "--db", "nothing.db"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no database at nothing.db"));
    assert_eq!(golive(&["migrate", "--db", "pages.db"]).status.code(), Some(0));
    let exposed = golive(&["web", "--db", "pages.db", "--listen", "0.0.0.0:0"]);
    assert_eq!(exposed.status.code(), Some(2));
    let said = String::from_utf8_lossy(&exposed.stderr);
    assert!(said.contains("would show every deployment to anyone") && said.contains("GOLIVE_WEB_TOKEN"), "{said}");
}

// The same stories on PostgreSQL (`harness::postgres`; skipped without a server).
crate::on_postgres!(
    without_the_token_every_page_and_stream_is_401_and_says_nothing,
    open_pages_need_no_token_and_disabled_pages_are_not_served,
    the_list_shows_deployments_newest_first_filtered_by_status_and_channel_and_paged,
    the_deployment_page_shows_chart_checklist_sign_offs_and_events_with_user_text_escaped,
    the_page_shows_the_checklist_by_phase_and_section_the_blockers_and_the_open_escalation,
    the_chart_plans_phases_from_the_go_live_time_against_their_actual_spans_with_holds_and_marks,
    exports_are_golive_shows_reports,
    pages_never_show_secrets_or_slack_response_urls,
    status_posts_link_to_the_page_when_public_url_is_set,
    the_stream_sends_each_new_event_as_it_is_recorded_and_resumes_after_the_last_one_seen,
    live_streams_are_capped_and_all_end_when_golive_shuts_down,
);
