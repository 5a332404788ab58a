//! The `/deploy` command as Discord registers it: one command whose subcommands and typed
//! options mirror the shared grammar (`interaction::Invocation::grammar_line` reads them back
//! into it). Phases, items, roles and plans are offered by autocomplete from the channel's
//! running deployment, so the list is that deployment's plan, not the config of the day.

use serde_json::{json, Value};

use crate::domain::RollbackLevel;

const SUB_COMMAND: u8 = 1;
const SUB_COMMAND_GROUP: u8 = 2;
const STRING: u8 = 3;
const INTEGER: u8 = 4;
const USER: u8 = 6;

fn text(name: &str, description: &str, required: bool) -> Value {
    json!({ "type": STRING, "name": name, "description": description, "required": required, "max_length": 1000 })
}

fn word(name: &str, description: &str, required: bool) -> Value {
    json!({ "type": STRING, "name": name, "description": description, "required": required, "autocomplete": true, "max_length": 100 })
}

fn sub(name: &str, description: &str, options: Vec<Value>) -> Value {
    json!({ "type": SUB_COMMAND, "name": name, "description": description, "options": options })
}

/// The body of a bulk overwrite: golive's one command, `/{name}`.
pub fn definition(name: &str, escalation_levels: usize) -> Value {
    let levels: Vec<Value> =
        RollbackLevel::ALL.iter().map(|l| json!({ "name": l.as_str(), "value": l.as_str() })).collect();
    let mut escalate = vec![text("message", "What is wrong", true)];
    if escalation_levels > 0 {
        escalate.push(json!({
            "type": INTEGER, "name": "level", "description": "Escalation level to start at (1 = the first)",
            "required": false, "min_value": 1, "max_value": escalation_levels,
        }));
    }
    let options = vec![
        sub(
            "start",
            "Open a deployment of RELEASE in this channel; you become its lead",
            vec![
                word("release", "The release, e.g. v2.4.0", true),
                word("plan", "The plan to follow", false),
                text("at", "Go-live time (T-0), e.g. 2026-12-01T07:00", false),
                text("override", "Inside a deploy freeze: why this cannot wait", false),
            ],
        ),
        sub(
            "lead",
            "Hand the lead over to someone of the plan's lead roles",
            vec![json!({ "type": USER, "name": "user", "description": "The new lead", "required": true })],
        ),
        json!({ "type": SUB_COMMAND_GROUP, "name": "phase", "description": "Start or complete a phase", "options": [
            sub("start", "Start a phase", vec![word("phase", "The phase", true)]),
            sub("done", "Complete the running phase", vec![]),
        ] }),
        sub(
            "check",
            "Tick checklist items of the running phase: one, several, or a whole section",
            vec![
                word("item", "The item", false),
                text("more", "More items to tick with it, separated by spaces", false),
                word("section", "Tick every open item of this section instead", false),
            ],
        ),
        sub("uncheck", "Untick a checklist item", vec![word("item", "The item", true)]),
        sub(
            "signoff",
            "Sign off the running phase for a role you hold",
            vec![word("role", "The role you sign for", true), text("note", "A note for the record", false)],
        ),
        sub("go", "The lead's go decision", vec![]),
        sub("nogo", "The lead's no-go decision", vec![text("reason", "Why not", true)]),
        sub(
            "traffic",
            "Record a traffic step",
            vec![
                json!({ "type": INTEGER, "name": "percent", "description": "Share of traffic on the new release", "required": true, "min_value": 1, "max_value": 100 }),
                text("force", "Lead only: why to move on before the step's hold or items allow it", false),
            ],
        ),
        sub(
            "rollback",
            "Roll the release back",
            vec![
                text("reason", "What went wrong", true),
                json!({ "type": STRING, "name": "level", "description": "How fast: immediate, quick or planned", "required": false, "choices": levels }),
            ],
        ),
        sub("escalate", "Page on-call (message `resolve` closes the escalation)", escalate),
        sub("ack", "Acknowledge the open escalation", vec![]),
        sub("oncall", "Who is on call now", vec![]),
        sub("note", "Add a note to the timeline", vec![text("text", "The note", true)]),
        sub(
            "blocker",
            "Record what stands in the way; status posts show it until it is cleared",
            vec![text("text", "What blocks", true)],
        ),
        sub(
            "unblock",
            "Clear a blocker",
            vec![
                json!({ "type": INTEGER, "name": "number", "description": "The blocker's number", "required": true, "min_value": 1 }),
            ],
        ),
        sub(
            "snooze",
            "Pause the scheduled status posts (at most 8h; pages go on)",
            vec![
                json!({ "type": STRING, "name": "duration", "description": "How long, e.g. 30m, 1h, 2h", "required": true, "max_length": 20 }),
                text("reason", "Why", false),
            ],
        ),
        sub("unsnooze", "Resume the scheduled status posts now", vec![]),
        sub("remind", "Mention the owners of the running phase's open items and missing sign-offs", vec![]),
        sub("complete", "Complete the deployment", vec![]),
        sub("abort", "Abort the deployment", vec![text("reason", "Why", true)]),
        sub("status", "Post the current status", vec![]),
        sub("history", "Recent deployments in this channel", vec![]),
        sub("help", "How to use golive", vec![word("topic", "A command", false)]),
    ];
    json!([{ "name": name, "type": 1, "description": "Coordinate a production deployment", "options": options }])
}
