//! Who acts and where: the chat platforms people talk to golive on, and the person (or golive
//! itself) behind each event. Plans name their members by the same platform and id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where people talk to golive: the chat platforms. Where golive's own messages go (a paging
/// webhook, hook runs) is the outbox's concern (`store::Destination`), not the domain's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Slack,
    Discord,
    Console,
    /// golive itself, as the author of what it does on its own (scheduled posts, automatic
    /// actions, escalations): `golive:golive` on the record. It has no channels.
    Golive,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Slack => "slack",
            Platform::Discord => "discord",
            Platform::Console => "console",
            Platform::Golive => "golive",
        }
    }

    /// Platforms a role member can be written with (golive itself holds no roles).
    pub fn parse_member_platform(s: &str) -> Option<Platform> {
        match s {
            "slack" => Some(Platform::Slack),
            "discord" => Some(Platform::Discord),
            "console" => Some(Platform::Console),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        match s {
            "golive" => Some(Platform::Golive),
            other => Platform::parse_member_platform(other),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did something: a platform user, or golive itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub platform: Platform,
    pub id: String,
    /// Display name where the platform gives one (Slack's user_name); for reading only,
    /// never for permission checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Platform groups the person belongs to (Slack user group ids), looked up by the adapter
    /// at request time so a group can stand for a role's members. Never stored: the record
    /// names the person.
    #[serde(skip)]
    pub groups: Vec<String>,
}

impl Actor {
    pub fn new(platform: Platform, id: impl Into<String>) -> Actor {
        Actor { platform, id: id.into(), name: None, groups: Vec::new() }
    }

    /// The person as the record names them, without the groups looked up for this request.
    pub fn recorded(&self) -> Actor {
        Actor { groups: Vec::new(), ..self.clone() }
    }

    pub fn golive() -> Actor {
        Actor::new(Platform::Golive, "golive")
    }

    /// `platform:id`, the form members are written in, used as the stored actor.
    pub fn key(&self) -> String {
        format!("{}:{}", self.platform, self.id)
    }

    pub fn display(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    pub fn same_person(&self, other: &Actor) -> bool {
        self.platform == other.platform && self.id == other.id
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display())
    }
}
