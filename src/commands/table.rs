//! The command table: every `/deploy` command once, with its arguments, usage, help line,
//! Discord description, README rows, how its text is read and how its arguments become a
//! [`Request`]. The grammar, `help`, Discord's command definition and option mapping, and the
//! README's command list are all derived from [`TABLE`]: a new command is one entry here
//! plus its decision and its rendering.

use crate::commands::spec::{is_word, Arg, Form, Kind, Reader, Refusal, Request, Row, Spec, Sub};
use crate::commands::syntax::{self as read, level_number, rollback_level};
use crate::domain::Command;

/// The command `given` names (or one of its aliases), in any case.
pub fn find(given: &str) -> Option<&'static Spec> {
    TABLE.iter().find(|s| s.is(given))
}

fn change(command: Command) -> Result<Request, Refusal> {
    Ok(Request::Change(command))
}

fn bad(given: &str, what: &'static str) -> Refusal {
    Refusal::BadValue { given: given.to_string(), what }
}

const fn arg(name: &'static str, kind: Kind, description: &'static str) -> Arg {
    Arg::new(name, kind, description)
}

const fn row(usage: &'static [&'static str], what: &'static str, who: &'static str) -> Row {
    Row { usage, what, who }
}

const ID: Kind = Kind::Id;
const TEXT: Kind = Kind::Text;
/// The rollback levels as Discord offers them; a unit test keeps them those of the domain.
pub const ROLLBACK_LEVELS: &[&str] = &["immediate", "quick", "planned"];

/// Every command, in the order `help` lists them.
pub static TABLE: &[Spec] = &[
    Spec {
        name: "help",
        aliases: &[],
        usage: "/deploy help [COMMAND]",
        help: "Show usage, for all commands or one.",
        discord: "How to use golive",
        form: Form::Options(&[arg("topic", ID, "A command")]),
        read: Reader::Custom(read::help),
        build: |a| Ok(Request::Help { topic: a.opt("topic") }),
        readme: &[row(&["/deploy help [COMMAND]"], "Usage, for all commands or one.", "anyone")],
    },
    Spec {
        name: "start",
        aliases: &[],
        usage: "/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]",
        help: "Open a deployment of RELEASE in this channel; you become its lead (members of the plan's lead roles). `at=2026-12-01T07:00` sets the go-live time (T-0) the plan's milestones count from. Inside a deploy freeze, say why with `override`.",
        discord: "Open a deployment of RELEASE in this channel; you become its lead",
        form: Form::Options(&[
            arg("release", ID, "The release, e.g. v2.4.0").needs("a release name"),
            arg("plan", ID, "The plan to follow"),
            arg("at", Kind::Word { max_length: 1000 }, "Go-live time (T-0), e.g. 2026-12-01T07:00"),
            arg("override", TEXT, "Inside a deploy freeze: why this cannot wait"),
        ]),
        read: Reader::Custom(read::start),
        build: |a| {
            let (plan, at, freeze_override) = (a.opt("plan"), a.opt("at"), a.opt("override"));
            change(Command::Start { release: a.need("release")?, plan, freeze_override, at })
        },
        readme: &[row(
            &["/deploy start RELEASE [plan=NAME] [at=TIME] [override WHY]"],
            "Opens a deployment of RELEASE in this channel (one open per channel). `at=2026-12-01T07:00` (in `[status] timezone`, or with an offset such as `+01:00`) sets the go-live time (T-0) that phases' `at` are planned against. Inside a deploy freeze it is refused unless `override` gives the reason, which is recorded and announced.",
            "members of the plan's `lead_roles` (default: of any role); becomes the lead",
        )],
    },
    Spec {
        name: "lead",
        aliases: &[],
        usage: "/deploy lead USER",
        help: "Hand the lead over to USER, a member of the plan's lead roles (the lead, or a lead role).",
        discord: "Hand the lead over to someone of the plan's lead roles",
        form: Form::Options(&[arg("user", Kind::User, "The new lead").needs("the person to hand the lead to")]),
        read: Reader::Positional,
        build: |a| change(Command::Lead { user: a.need("user")? }),
        readme: &[row(
            &["/deploy lead USER"],
            "Hands the lead over to USER (`@name` in the console, a mention in Slack and Discord). Recorded and announced; go / no-go, phases, `complete` and `abort` are the new lead's.",
            "lead, `lead_roles`; USER must be in `lead_roles`",
        )],
    },
    Spec {
        name: "status",
        aliases: &[],
        usage: "/deploy status",
        help: "Post the current status to the channel.",
        discord: "Post the current status",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| Ok(Request::Status),
        readme: &[row(&["/deploy status"], "Posts the current status (the same content as the scheduled post).", "anyone")],
    },
    Spec {
        name: "phase",
        aliases: &[],
        usage: "/deploy phase start PHASE | /deploy phase done",
        help: "Start the next phase; complete the running one (lead).",
        discord: "Start or complete a phase",
        form: Form::Group(&[
            Sub { name: "start", discord: "Start a phase", args: &[arg("phase", ID, "The phase").needs("the phase to start")] },
            Sub { name: "done", discord: "Complete the running phase", args: &[] },
        ]),
        read: Reader::Custom(read::phase),
        build: |a| match a.sub.as_deref() {
            Some(sub) if is_word(sub, "start") => change(Command::PhaseStart { phase: a.need("phase")? }),
            Some(sub) if is_word(sub, "done") => change(Command::PhaseDone),
            Some(other) => Err(Refusal::Unexpected(other.to_string())),
            None => Err(Refusal::Missing("`start PHASE` or `done`")),
        },
        readme: &[
            row(
                &["/deploy phase start PHASE"],
                "Starts the next phase. Phases run in plan order; the gated phase needs the go first.",
                "lead",
            ),
            row(
                &["/deploy phase done"],
                "Completes the running phase; refused while required items, sign-offs or the last traffic step are open, naming them.",
                "lead",
            ),
        ],
    },
    Spec {
        name: "check",
        aliases: &[],
        usage: "/deploy check ITEM [ITEM…] | /deploy check section=NAME",
        help: "Tick checklist items of the running phase (their role, or the lead): several at once, or a whole section; all or nothing.",
        discord: "Tick checklist items of the running phase: one, several, or a whole section",
        form: Form::Options(&[
            arg("item", ID, "The item").said("the item id"),
            arg("more", TEXT, "More items to tick with it, separated by spaces"),
            arg("section", Kind::Name, "Tick every open item of this section instead"),
        ]),
        read: Reader::Custom(read::check),
        build: |a| {
            if let Some(section) = a.opt("section") {
                return change(Command::CheckSection { section });
            }
            let more = a.get("more").unwrap_or_default().split_whitespace();
            let items: Vec<String> = a.get("item").into_iter().chain(more).map(str::to_string).collect();
            change(match <[String; 1]>::try_from(items) {
                Ok([item]) => Command::Check { item },
                Err(items) if items.is_empty() => return Err(a.need("item").unwrap_err()),
                Err(items) => Command::CheckMany { items },
            })
        },
        readme: &[
            row(
                &["/deploy check ITEM [ITEM…]", "/deploy uncheck ITEM"],
                "Ticks or unticks items of the running phase. Several items are ticked in the order given, each checked as if ticked alone, all or nothing. An item that comes `after` others is refused while they are open, naming them.",
                "members of the item's role, lead",
            ),
            row(
                &["/deploy check section=NAME"],
                "Ticks every open item of a section of the running phase, all or nothing.",
                "members of the items' roles, lead",
            ),
        ],
    },
    Spec {
        name: "uncheck",
        aliases: &[],
        usage: "/deploy uncheck ITEM",
        help: "Untick a checklist item of the running phase.",
        discord: "Untick a checklist item",
        form: Form::Options(&[arg("item", ID, "The item").needs("the item id")]),
        read: Reader::Positional,
        build: |a| change(Command::Uncheck { item: a.need("item")? }),
        // In the row of `check`.
        readme: &[],
    },
    Spec {
        name: "signoff",
        aliases: &["sign-off"],
        usage: "/deploy signoff ROLE [NOTE]",
        help: "Sign off the running phase as ROLE (members of ROLE only).",
        discord: "Sign off the running phase for a role you hold",
        form: Form::Options(&[
            arg("role", ID, "The role you sign for").needs("the role you sign off as"),
            arg("note", TEXT, "A note for the record"),
        ]),
        read: Reader::Positional,
        build: |a| change(Command::SignOff { role: a.need("role")?, note: a.opt("note") }),
        readme: &[row(&["/deploy signoff ROLE [NOTE]"], "Signs off the running phase as ROLE.", "members of ROLE only")],
    },
    Spec {
        name: "go",
        aliases: &[],
        usage: "/deploy go",
        help: "The lead's go decision for the gated phase.",
        discord: "The lead's go decision",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| change(Command::Go),
        readme: &[row(
            &["/deploy go", "/deploy nogo REASON"],
            "The go/no-go decision for the gated phase, once every phase before it is done. A no-go can be followed by a go. The record says who decided and in which capacity (the lead, or a `go_roles` role).",
            "lead, `go_roles`",
        )],
    },
    Spec {
        name: "nogo",
        aliases: &["no-go"],
        usage: "/deploy nogo REASON",
        help: "The lead's no-go decision, with the reason.",
        discord: "The lead's no-go decision",
        form: Form::Options(&[arg("reason", TEXT, "Why not").needs("the reason")]),
        read: Reader::Positional,
        build: |a| change(Command::NoGo { reason: a.need("reason")? }),
        // In the row of `go`.
        readme: &[],
    },
    Spec {
        name: "traffic",
        aliases: &[],
        usage: "/deploy traffic PERCENT [force REASON]",
        help: "Record the next traffic step of the running phase (e.g. 50, 70, 85, 100), once the current step's hold and items allow; the lead may `force` it.",
        discord: "Record a traffic step",
        form: Form::Options(&[
            arg("percent", Kind::Number { min: 1, max: Some(100) }, "Share of traffic on the new release")
                .needs("the percentage"),
            arg("force", TEXT, "Lead only: why to move on before the step's hold or items allow it"),
        ]),
        read: Reader::Custom(read::traffic),
        build: |a| {
            let token = a.need("percent")?;
            let percent = token
                .trim_end_matches('%')
                .parse::<u8>()
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| bad(&token, "a percentage from 1 to 100"))?;
            change(Command::Traffic { percent, force: a.opt("force") })
        },
        readme: &[
            row(
                &["/deploy traffic PERCENT"],
                "Records the next traffic step of the running phase. Steps go in plan order; the next is refused while the current step's `hold` runs (saying how long is left) or its `step` items are open (naming them).",
                "lead, holders of the phase's roles",
            ),
            row(
                &["/deploy traffic PERCENT force REASON"],
                "Moves on before the hold or the step's items allow it; recorded and announced as forced, with the reason.",
                "lead",
            ),
        ],
    },
    Spec {
        name: "rollback",
        aliases: &[],
        usage: "/deploy rollback [level=immediate|quick|planned] REASON",
        help: "Start rolling back (immediate unless a level is given): recorded, announced, and on-call is paged.",
        discord: "Roll the release back",
        form: Form::Options(&[
            arg("reason", TEXT, "What went wrong").needs("the reason"),
            arg("level", Kind::Choice(ROLLBACK_LEVELS), "How fast: immediate, quick or planned"),
        ]),
        read: Reader::Custom(read::rollback),
        build: |a| {
            let level = a.get("level").map(|l| rollback_level(l, l)).transpose()?;
            change(Command::Rollback { reason: a.need("reason")?, level })
        },
        readme: &[row(
            &["/deploy rollback [level=immediate|quick|planned] REASON"],
            "Starts rolling back: announced, recorded with its level, and escalation level 1 is paged. Without a level it is an immediate rollback (and recorded so); `rollback quick REASON` is the same as `level=quick`. Afterwards only notes, escalation, `complete` and `abort` work.",
            "the team (quick and planned: see rollback levels)",
        )],
    },
    Spec {
        name: "escalate",
        aliases: &[],
        usage: "/deploy escalate [level=N | N] MESSAGE | /deploy escalate resolve",
        help: "Page an escalation level (default 1), or close the open escalation.",
        discord: "Page on-call (message `resolve` closes the escalation)",
        form: Form::Options(&[
            arg("message", TEXT, "What is wrong").needs("a message"),
            arg("level", Kind::EscalationLevel, "Escalation level to start at (1 = the first)"),
        ]),
        read: Reader::Custom(read::escalate),
        build: |a| {
            let level = a.get("level").map(|l| level_number(l, l)).transpose()?;
            let message = a.need("message")?;
            change(match level {
                None if is_word(&message, "resolve") => Command::EscalateResolve,
                level => Command::Escalate { level, message },
            })
        },
        readme: &[
            row(
                &["/deploy escalate [level=N | N] MESSAGE"],
                "Pages escalation level N (default 1); a higher level raises an open escalation. Unacknowledged, it climbs by itself.",
                "the team",
            ),
            row(&["/deploy escalate resolve"], "Closes the open escalation.", "anyone paged so far, lead"),
        ],
    },
    Spec {
        name: "ack",
        aliases: &[],
        usage: "/deploy ack",
        help: "Acknowledge the open escalation.",
        discord: "Acknowledge the open escalation",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| change(Command::Ack),
        readme: &[row(&["/deploy ack"], "Acknowledges the open escalation.", "anyone paged so far, lead")],
    },
    Spec {
        name: "oncall",
        aliases: &[],
        usage: "/deploy oncall",
        help: "Who is on the escalation path now, per level.",
        discord: "Who is on call now",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| Ok(Request::Oncall),
        readme: &[row(
            &["/deploy oncall"],
            "Who is on call now for each level (rotation and overrides applied), and until when.",
            "anyone",
        )],
    },
    Spec {
        name: "note",
        aliases: &[],
        usage: "/deploy note TEXT",
        help: "Add a note to the timeline; the channel sees it.",
        discord: "Add a note to the timeline",
        form: Form::Options(&[arg("text", TEXT, "The note").needs("the text")]),
        read: Reader::Positional,
        build: |a| change(Command::Note { text: a.need("text")? }),
        readme: &[row(&["/deploy note TEXT"], "Adds a note to the timeline; the channel sees it.", "anyone")],
    },
    Spec {
        name: "complete",
        aliases: &[],
        usage: "/deploy complete",
        help: "End the deployment once every phase is done (lead).",
        discord: "Complete the deployment",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| change(Command::Complete),
        readme: &[row(
            &["/deploy complete"],
            "Ends the deployment once every phase is done (or after a rollback).",
            "lead",
        )],
    },
    Spec {
        name: "abort",
        aliases: &[],
        usage: "/deploy abort REASON",
        help: "End the deployment without finishing it (lead).",
        discord: "Abort the deployment",
        form: Form::Options(&[arg("reason", TEXT, "Why").needs("the reason")]),
        read: Reader::Positional,
        build: |a| change(Command::Abort { reason: a.need("reason")? }),
        readme: &[row(&["/deploy abort REASON"], "Ends the deployment without finishing it.", "lead")],
    },
    Spec {
        name: "history",
        aliases: &[],
        usage: "/deploy history",
        help: "Recent deployments in this channel.",
        discord: "Recent deployments in this channel",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| Ok(Request::History),
        readme: &[row(&["/deploy history"], "Recent deployments in this channel.", "anyone")],
    },
    Spec {
        name: "blocker",
        aliases: &[],
        usage: "/deploy blocker TEXT",
        help: "Record what stands in the way; every status post shows it until it is cleared.",
        discord: "Record what stands in the way; status posts show it until it is cleared",
        form: Form::Options(&[arg("text", TEXT, "What blocks").needs("what blocks")]),
        read: Reader::Positional,
        build: |a| change(Command::Blocker { text: a.need("text")? }),
        readme: &[row(
            &["/deploy blocker TEXT", "/deploy unblock N"],
            "Records what stands in the way, numbered #1, #2, …; every status post shows the open ones until `unblock N` clears one. Both are recorded and announced.",
            "the team",
        )],
    },
    Spec {
        name: "unblock",
        aliases: &[],
        usage: "/deploy unblock N",
        help: "Clear blocker number N.",
        discord: "Clear a blocker",
        form: Form::Options(&[
            arg("number", Kind::Number { min: 1, max: None }, "The blocker's number").needs("the blocker's number")
        ]),
        read: Reader::Positional,
        build: |a| {
            let token = a.need("number")?;
            let number = token
                .trim_start_matches('#')
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(&token, "a blocker's number"))?;
            change(Command::Unblock { number })
        },
        // In the row of `blocker`.
        readme: &[],
    },
    Spec {
        name: "snooze",
        aliases: &[],
        usage: "/deploy snooze DURATION [REASON]",
        help: "Pause this deployment's scheduled status posts for DURATION (e.g. 30m, 2h; at most 8h). Pages and announcements go on.",
        discord: "Pause the scheduled status posts (at most 8h; pages go on)",
        form: Form::Options(&[
            arg("duration", Kind::Word { max_length: 20 }, "How long, e.g. 30m, 1h, 2h").needs("how long, e.g. 30m or 2h"),
            arg("reason", TEXT, "Why"),
        ]),
        read: Reader::Positional,
        build: |a| {
            let token = a.need("duration")?;
            let minutes = humantime::parse_duration(&token)
                .ok()
                .filter(|d| !d.is_zero())
                .map(|d| u32::try_from(d.as_secs().div_ceil(60)).unwrap_or(u32::MAX))
                .ok_or_else(|| bad(&token, "a duration such as 30m, 1h or 2h"))?;
            change(Command::Snooze { minutes, reason: a.opt("reason") })
        },
        readme: &[row(
            &["/deploy snooze DURATION [REASON]", "/deploy unsnooze"],
            "Pauses this deployment's scheduled status posts for DURATION (`30m`, `2h`; at most 8h): recorded, announced and shown in `/deploy status`. Pages, climbs and announcements never pause. The snooze ends by itself; the first post after it is the next slot after it ended (slots inside it are skipped, not posted late).",
            "the team",
        )],
    },
    Spec {
        name: "unsnooze",
        aliases: &[],
        usage: "/deploy unsnooze",
        help: "Resume the scheduled status posts now.",
        discord: "Resume the scheduled status posts now",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| change(Command::Unsnooze),
        // In the row of `snooze`.
        readme: &[],
    },
    Spec {
        name: "remind",
        aliases: &[],
        usage: "/deploy remind",
        help: "Mention the owners of the running phase's open required items and the holders of its missing sign-offs, once.",
        discord: "Mention the owners of the running phase's open items and missing sign-offs",
        form: Form::Options(&[]),
        read: Reader::Positional,
        build: |_| change(Command::Remind),
        readme: &[row(
            &["/deploy remind"],
            "Mentions the owners of the running phase's open required items and the holders of its missing sign-offs, and nobody else, naming what each waits on. golive does the same by itself once per phase at the plan's or phase's `remind_after` (see below).",
            "the team",
        )],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RollbackLevel;

    #[test]
    fn discord_offers_the_domains_rollback_levels() {
        let domain: Vec<&str> = RollbackLevel::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(ROLLBACK_LEVELS, domain);
    }

    /// Discord refuses the whole command for one name or description out of its bounds, and
    /// the grammar needs a word for what is missing.
    #[test]
    fn every_entry_is_complete() {
        let names = |s: &Spec| -> Vec<&str> { s.args().map(|a| a.name).collect() };
        for spec in TABLE {
            assert!(spec.usage.starts_with(&format!("/deploy {}", spec.name)), "{}", spec.name);
            assert!(!spec.help.is_empty() && (1..=100).contains(&spec.discord.len()), "{}", spec.name);
            assert!(
                TABLE.iter().flat_map(|s| s.readme).any(|r| r
                    .usage
                    .iter()
                    .any(|u| u.starts_with(spec.usage.split(' ').take(2).collect::<Vec<_>>().join(" ").as_str()))),
                "{} has no README row",
                spec.name
            );
            for arg in spec.args() {
                assert!(arg.name.chars().all(|c| c.is_ascii_lowercase()), "{}: {}", spec.name, arg.name);
                assert!((1..=100).contains(&arg.description.len()), "{}: {}", spec.name, arg.name);
                assert!(
                    !arg.required || !arg.missing.is_empty(),
                    "{}: {} says nothing when missing",
                    spec.name,
                    arg.name
                );
            }
            if let Reader::Positional = spec.read {
                let args: Vec<_> = spec.args().collect();
                assert!(args.iter().rev().skip(1).all(|a| a.kind != Kind::Text), "{}: free text only last", spec.name);
            }
            let mut sorted = names(spec);
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), names(spec).len(), "{}: an argument named twice", spec.name);
        }
    }
}
