//! The `golive` command line: parses arguments, loads config, and hands over to the library.
//! Errors end here as messages and exit codes (0 ok, 1 runtime failure, 2 bad usage or config).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use tracing::info;

use golive::chat::console::{self, demo};
use golive::chat::discord::{self, DiscordApi};
use golive::clock::SystemClock;
use golive::config::{Config, WebConfig};
use golive::domain::words::count;
use golive::domain::{Channel, Deployment, Platform, Status};
use golive::engine::Engine;
use golive::render::{self, report};
use golive::store::{AuditKey, Store, AUDIT_KEY_VAR};
use golive::{runtime, server, web};

const DEFAULT_CONFIG: &str = "golive.toml";

#[derive(Parser)]
#[command(
    name = "golive",
    version,
    about = "Coordinate production deployments from your team's chat channel.",
    long_about = "golive runs a deployment plan (phases, checklists, sign-offs, go/no-go, traffic steps, \
                  rollback, escalation) from chat, posts status every 30 minutes and records every event \
                  in a tamper-evident SQLite history.\n\nNew here? `golive demo` runs a whole deployment in seconds."
)]
struct Cli {
    /// Config file.
    #[arg(long, global = true, env = "GOLIVE_CONFIG", default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    /// Database file or sqlite:// URL; overrides `[database] url`.
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<String>,
    /// How logs are written to stderr: text for people, json (one object per line, with the
    /// span fields: route, channel, deployment) for log collectors. RUST_LOG sets the level.
    #[arg(long, global = true, env = "GOLIVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the bot: HTTP server (health and readiness) on `[server] listen`. Applies migrations first.
    Serve,
    /// Run a complete deployment of the built-in example plan on an accelerated clock.
    Demo {
        /// How many times faster than real time (0: no pauses at all).
        #[arg(long, default_value_t = 3600.0)]
        speed: f64,
    },
    /// Drive a deployment yourself by typing `/deploy …` commands, as a local user.
    Console {
        /// Who you are: matches `console:NAME` members in the config.
        #[arg(long, env = "USER", default_value = "console")]
        user: String,
        /// The console channel's name (one active deployment per channel).
        #[arg(long, default_value = "console")]
        channel: String,
    },
    /// Serve the read-only web pages of a database, without chat or timers: to look at the
    /// demo's history in a browser, or at a copy of production's. Anyone may read them on a
    /// loopback address; anywhere else they need GOLIVE_WEB_TOKEN.
    Web {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Validate the config and its plans, and print a summary.
    CheckConfig,
    /// Apply pending database migrations and exit.
    Migrate,
    /// List past and active deployments, newest first.
    History {
        /// Only deployments in this channel: its id (`C0DEPLOY`) or, as the list prints it,
        /// with its platform (`slack:C0DEPLOY`).
        #[arg(long)]
        channel: Option<String>,
        /// How many to list (at least 1).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The full timeline of one deployment.
    Show {
        /// Deployment id, as listed by `golive history`.
        id: i64,
        /// md: a report (sign-off sheet, checklist, timeline); json: the deployment and every
        /// event; csv: one line per event.
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
    },
    /// Check the recorded history.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Discord set-up.
    Discord {
        #[command(subcommand)]
        command: DiscordCmd,
    },
}

#[derive(Subcommand)]
enum DiscordCmd {
    /// Register (overwrite) the `/deploy` command with Discord: in `[discord] guild_id`'s
    /// server (shown at once), or globally. Needs GOLIVE_DISCORD_TOKEN and
    /// `[discord] application_id`. `golive serve` also does this at start unless
    /// `[discord] register_commands = false`.
    Register {
        /// Register in this server instead of `[discord] guild_id`'s.
        #[arg(long, conflicts_with = "global")]
        guild: Option<String>,
        /// Register globally even when `[discord] guild_id` is set.
        #[arg(long)]
        global: bool,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Re-check the hash chain over every recorded event; exit 1 naming the first bad one.
    Verify,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Md,
    Json,
    Csv,
}

/// A failure and the exit code it earns.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure { code: 1, error: e.into() }
    }
}

fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure { code: 2, error: error.into() }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("golive: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, error }) => {
            eprintln!("golive: {error:#}");
            ExitCode::from(code)
        }
    }
}

/// Logs go to stderr; `serve` tells what it does at info, the one-shot commands only warn.
fn init_logs(cli: &Cli) {
    let default_level = if matches!(cli.command, Cmd::Serve | Cmd::Web { .. }) { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("golive={default_level}")));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(false).with_span_list(true).init(),
    }
}

fn explicit_config(cli: &Cli) -> bool {
    cli.config != Path::new(DEFAULT_CONFIG) || std::env::var_os("GOLIVE_CONFIG").is_some()
}

fn load_config(path: &Path) -> Result<Config, Failure> {
    Config::load(path).map_err(usage)
}

/// A database URL as messages show it: without a password it may carry.
fn shown(url: &str) -> String {
    golive::store::redacted(url)
}

/// The database the command works on: `--db`, else the config's.
fn database_url(cli: &Cli) -> Result<String, Failure> {
    if let Some(db) = &cli.db {
        return Ok(db.clone());
    }
    if !explicit_config(cli) && !cli.config.exists() {
        return Err(usage(anyhow::anyhow!(
            "no {DEFAULT_CONFIG} here: pass --config PATH or --db PATH (the demo's history is in golive-demo.db)"
        )));
    }
    Ok(load_config(&cli.config)?.database.url)
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let mut out = std::io::stdout().lock();
    match &cli.command {
        Cmd::Serve => {
            let config = load_config(&cli.config)?;
            let adapters =
                runtime::Adapters::from_env(&config).map_err(|e| usage(anyhow::anyhow!("{}: {e}", config.source)))?;
            let url = cli.db.clone().unwrap_or(config.database.url.clone());
            let store = Store::open(&url).await.with_context(|| format!("opening {}", shown(&url)))?;
            let listener = tokio::net::TcpListener::bind(&config.server.listen)
                .await
                .with_context(|| format!("listening on {}", config.server.listen))?;
            info!(listen = %config.server.listen, database = %url, "golive serving");
            let clock: golive::clock::SharedClock = Arc::new(SystemClock);
            runtime::serve(Arc::new(config), store.clone(), clock, adapters, listener, server::shutdown_signal())
                .await?;
            store.close().await;
            info!("stopped");
        }
        Cmd::Demo { speed } => {
            let url = cli.db.clone().unwrap_or_else(|| "golive-demo.db".into());
            let store = Store::open(&url).await.with_context(|| format!("opening {}", shown(&url)))?;
            let origin = demo::default_origin(chrono::Utc::now());
            let summary = demo::run(store.clone(), origin, *speed, &mut std::io::stdout()).await?;
            let id = summary.deployment_id.map(|i| i.to_string()).unwrap_or_else(|| "?".into());
            writeln!(
                out,
                "\nDemo finished: deployment {id} completed, with {} and {} on the way. Its history is in {url}; the hash chain over all {} there verifies.",
                count(summary.status_posts, "scheduled status post"),
                count(summary.refusals, "refused command"),
                count(usize::try_from(summary.audit.events).unwrap_or_default(), "event")
            )?;
            writeln!(out, "Look at it:\n  golive history --db {url}\n  golive show {id} --db {url} --format md\n  golive audit verify --db {url}")?;
            writeln!(
                out,
                "Or in a browser (chart, checklist, sign-off sheet, every event):\n  golive web --db {url}\n  then open http://127.0.0.1:8080/deployments/{id}"
            )?;
            store.close().await;
        }
        Cmd::Console { user, channel } => {
            let config = if !explicit_config(&cli) && !cli.config.exists() {
                eprintln!("(no {DEFAULT_CONFIG} here: using the built-in example config; copy config.example.toml to change it)");
                Config::example()
            } else {
                load_config(&cli.config)?
            };
            let url = cli.db.clone().unwrap_or(config.database.url.clone());
            let store = Store::open(&url).await.with_context(|| format!("opening {}", shown(&url)))?;
            let engine = Engine::new(store.clone(), Arc::new(config), Arc::new(SystemClock));
            let channel = Channel { platform: Platform::Console, id: channel.clone() };
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            console::run(&engine, channel, user.clone(), stdin, &mut std::io::stdout()).await?;
            store.close().await;
        }
        Cmd::Web { listen } => {
            let url = database_url(&cli)?;
            let config = if explicit_config(&cli) || cli.config.exists() {
                load_config(&cli.config)?
            } else {
                Config::example()
            };
            let store = Store::open_existing(&url).await?;
            let listener =
                tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
            let local = listener.local_addr()?;
            let token = std::env::var(web::access::TOKEN_VAR).ok().filter(|t| !t.trim().is_empty());
            if token.is_none() && !local.ip().is_loopback() {
                return Err(usage(anyhow::anyhow!(
                    "on {local} the pages would show every deployment to anyone who can reach it: set {} or listen on 127.0.0.1",
                    web::access::TOKEN_VAR
                )));
            }
            let access =
                web::Access::new(&WebConfig { open: token.is_none(), ..WebConfig::default() }, token.as_deref());
            let clock: golive::clock::SharedClock = Arc::new(SystemClock);
            let config = Arc::new(config);
            let engine = Engine::new(store.clone(), config.clone(), clock.clone());
            let pages = web::Pages::new(store.clone(), config, clock, access, engine.commits());
            let shutdown = web::Pages::closing_with(Some(&pages), server::shutdown_signal());
            let ops = server::Ops { engine, workers: golive::liveness::Liveness::default() };
            let needs = if token.is_some() { " (with ?token=… or a Bearer token)" } else { "" };
            writeln!(out, "Serving the pages of {url} on http://{local}/{needs}; Ctrl-C stops.")?;
            drop(out);
            server::serve(listener, server::router(ops, None, None, Some(pages)), shutdown).await?;
            store.close().await;
            return Ok(0);
        }
        Cmd::CheckConfig => {
            let config = load_config(&cli.config)?;
            writeln!(out, "{}", render::config_summary::summary(&config))?;
        }
        Cmd::Migrate => {
            let url = database_url(&cli)?;
            let store = Store::open(&url).await.with_context(|| format!("migrating {}", shown(&url)))?;
            writeln!(out, "{url}: migrations applied")?;
            store.close().await;
        }
        Cmd::History { channel, limit, json } => {
            let url = database_url(&cli)?;
            let store = Store::open_existing(&url).await?;
            let rows = store.deployments(channel.as_deref(), *limit).await?;
            if *json {
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else if rows.is_empty() {
                match channel {
                    Some(channel) => {
                        let all = store.deployments(None, 1).await?;
                        let others =
                            if all.is_empty() { "none at all" } else { "others are; list them without --channel" };
                        writeln!(
                            out,
                            "no deployments recorded in channel {} in {url} ({others})",
                            render::clean(channel)
                        )?
                    }
                    None => writeln!(out, "no deployments recorded in {url}")?,
                }
            } else {
                writeln!(
                    out,
                    "{:>5}  {:<16} {:<14} {:<20} {:<14} {:>5}  {:<17} ENDED",
                    "ID", "RELEASE", "STATUS", "CHANNEL", "LEAD", "DONE", "STARTED"
                )?;
                for r in rows {
                    // The channel column already names the platform.
                    let lead = r
                        .lead_name
                        .clone()
                        .unwrap_or_else(|| r.lead.split_once(':').map_or(r.lead.clone(), |(_, id)| id.to_string()));
                    writeln!(
                        out,
                        "{:>5}  {:<16} {:<14} {:<20} {:<14} {:>4}%  {:<17} {}",
                        r.id,
                        render::clean(&r.release),
                        Status::stored_words(&r.status),
                        format!("{}:{}", r.platform, render::clean(&r.channel)),
                        render::clean(&lead),
                        r.progress,
                        short_time(&r.started_at),
                        r.ended_at.as_deref().map(short_time).unwrap_or_else(|| "—".into())
                    )?;
                }
            }
            store.close().await;
        }
        Cmd::Show { id, format } => {
            let url = database_url(&cli)?;
            let store = Store::open_existing(&url).await?;
            let row = store.deployment_row(*id).await?;
            let events = store.events(*id).await?;
            // Stdout writes at every newline; JSON is serialised in many small pieces.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut out);
            match format {
                Format::Md => {
                    let state = Deployment::from_events(&events).map_err(|e| {
                        anyhow::anyhow!("deployment {id}'s history does not fold: {e}; run `golive audit verify`")
                    })?;
                    // Role names come from the config where there is one; the record keeps ids.
                    let roles = Config::load(&cli.config)
                        .map(|c| c.roles.0.into_iter().map(|(id, r)| (id, r.name)).collect())
                        .unwrap_or_default();
                    out.write_all(report::markdown(&row, &state, &events, &roles).as_bytes())?;
                }
                Format::Json => report::write_json(&mut out, &row, &events)?,
                Format::Csv => out.write_all(report::csv(&events).as_bytes())?,
            }
            out.flush()?;
            store.close().await;
        }
        Cmd::Discord { command: DiscordCmd::Register { guild, global } } => {
            let config = load_config(&cli.config)?;
            let d = &config.discord;
            let api = DiscordApi::from_env(&d.api_url, &d.application_id).map_err(usage)?;
            let guild = if *global { None } else { guild.clone().or_else(|| d.guild_id.clone()) };
            let commands = discord::registration::definition(&d.command, config.escalation.len());
            let scope = guild.as_deref().map_or("globally".to_string(), |g| format!("in server {g}"));
            let n = api.register(&commands, guild.as_deref()).await.map_err(|e| match e {
                golive::delivery::SendError::Permanent { reason, hint: Some(hint), .. } => {
                    anyhow::anyhow!("Discord did not take the command: {reason} — {hint}")
                }
                other => anyhow::anyhow!("Discord did not take the command: {other}"),
            })?;
            writeln!(out, "registered /{} with Discord {scope} ({n} command)", d.command)?;
        }
        Cmd::Audit { command: AuditCmd::Verify } => {
            let url = database_url(&cli)?;
            let store = Store::open_existing(&url).await?;
            let verdict = store.verify().await?;
            store.close().await;
            match verdict {
                // With the key at hand, a chain without a keyed record proves nothing: it was
                // written before the key was set, or someone stripped the record and rewrote it.
                Ok(report) if report.keyed_from.is_none() && report.events > 0 && AuditKey::from_env().is_some() => {
                    writeln!(
                        out,
                        "NOT VERIFIED: {}; {AUDIT_KEY_VAR} is set, so a chain without its keyed record was written before the key was set or rewritten since",
                        report.keying()
                    )?;
                    return Ok(1);
                }
                Ok(report) => {
                    writeln!(
                        out,
                        "ok: {} over {}, hash chain intact (head {}), deployments table matches its events",
                        count(usize::try_from(report.events).unwrap_or_default(), "event"),
                        count(report.deployments, "deployment"),
                        &report.head[..12]
                    )?;
                    writeln!(out, "{}", report.keying())?;
                }
                Err(failure) => {
                    writeln!(out, "TAMPERED: {failure}")?;
                    return Ok(1);
                }
            }
        }
    }
    Ok(0)
}

fn short_time(s: &str) -> String {
    s.get(..16).unwrap_or(s).replace('T', " ")
}
