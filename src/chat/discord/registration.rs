//! The `/deploy` command as Discord registers it, written from the command table: one command
//! whose subcommands (and the `phase` group) and typed options are the table's commands and
//! arguments (`interaction::Invocation::request` maps them back through the same table).
//! Phases, items, roles and plans are offered by autocomplete from the channel's running
//! deployment, so the list is that deployment's plan, not the config of the day.

use serde_json::{json, Map, Value};

use crate::commands::spec::{Arg, Form, Kind};
use crate::commands::table::TABLE;

const SUB_COMMAND: u8 = 1;
const SUB_COMMAND_GROUP: u8 = 2;
const STRING: u8 = 3;
const INTEGER: u8 = 4;
const USER: u8 = 6;

/// Longest text Discord accepts in a free-text option; ids are shorter.
const TEXT_MAX: u16 = 1000;
const ID_MAX: u16 = 100;

/// One option's definition; `None` for an escalation level when no levels are configured.
fn option(arg: &Arg, escalation_levels: usize) -> Option<Value> {
    let mut o = Map::new();
    let (kind, extra) = match arg.kind {
        Kind::Id | Kind::Name => (STRING, json!({ "autocomplete": true, "max_length": ID_MAX })),
        Kind::Word { max_length } => (STRING, json!({ "max_length": max_length })),
        Kind::Text => (STRING, json!({ "max_length": TEXT_MAX })),
        Kind::Number { min, max } => (INTEGER, json!({ "min_value": min, "max_value": max })),
        Kind::EscalationLevel if escalation_levels == 0 => return None,
        Kind::EscalationLevel => (INTEGER, json!({ "min_value": 1, "max_value": escalation_levels })),
        Kind::User => (USER, json!({})),
        Kind::Choice(choices) => {
            let choices: Vec<Value> = choices.iter().map(|c| json!({ "name": c, "value": c })).collect();
            (STRING, json!({ "choices": choices }))
        }
    };
    o.insert("type".into(), json!(kind));
    o.insert("name".into(), json!(arg.name));
    o.insert("description".into(), json!(arg.description));
    o.insert("required".into(), json!(arg.required));
    o.extend(
        extra.as_object().into_iter().flatten().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())),
    );
    Some(Value::Object(o))
}

fn sub(name: &str, description: &str, args: &[Arg], escalation_levels: usize) -> Value {
    let options: Vec<Value> = args.iter().filter_map(|a| option(a, escalation_levels)).collect();
    json!({ "type": SUB_COMMAND, "name": name, "description": description, "options": options })
}

/// The body of a bulk overwrite: golive's one command, `/{name}`.
pub fn definition(name: &str, escalation_levels: usize) -> Value {
    let options: Vec<Value> = TABLE
        .iter()
        .map(|spec| match spec.form {
            Form::Options(args) => sub(spec.name, spec.discord, args, escalation_levels),
            Form::Group(subs) => {
                let subs: Vec<Value> = subs.iter().map(|s| sub(s.name, s.discord, s.args, escalation_levels)).collect();
                json!({ "type": SUB_COMMAND_GROUP, "name": spec.name, "description": spec.discord, "options": subs })
            }
        })
        .collect();
    json!([{ "name": name, "type": 1, "description": "Coordinate a production deployment", "options": options }])
}
