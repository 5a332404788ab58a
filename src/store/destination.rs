//! Where an outbox row goes: the outbox's `platform` and `channel` columns, read as one of the
//! things golive sends to. Most rows are chat posts; an escalation's page goes to a paging
//! webhook and a plan's hooks run through the outbox too, so they keep their order and retry
//! like posts. The domain only knows chat channels; this routing belongs to delivery. The
//! column strings are the ones rows have always been written with (`golive` for a paging
//! webhook, `hook` for hook runs), so older rows read back the same.

use std::fmt;

use crate::domain::{Channel, Platform};

/// What a row is sent through: the `platform` column. One transport serves each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A chat platform's API.
    Chat(Platform),
    /// A paging webhook (PagerDuty's Events API).
    Pager,
    /// A plan's hooks: webhooks and commands, run in order.
    Hooks,
}

impl Route {
    /// Every route an outbox row can take (the metrics list each, pending or not).
    pub const ALL: [Route; 5] = [
        Route::Chat(Platform::Slack),
        Route::Chat(Platform::Discord),
        Route::Chat(Platform::Console),
        Route::Pager,
        Route::Hooks,
    ];

    /// The `platform` column's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Chat(platform) => platform.as_str(),
            Route::Pager => "golive",
            Route::Hooks => "hook",
        }
    }

    pub fn parse(s: &str) -> Option<Route> {
        match s {
            "golive" => Some(Route::Pager),
            "hook" => Some(Route::Hooks),
            other => Platform::parse_member_platform(other).map(Route::Chat),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One place a row goes: a route and an address on it (the `channel` column). Messages to the
/// same destination are sent one at a time, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A chat channel.
    Chat(Channel),
    /// A paging webhook, by the URL events are posted to.
    Pager { url: String },
    /// A deployment's hook runs, one lane per deployment (`deployment:{id}`).
    Hooks { lane: String },
}

impl Destination {
    /// The hook runs of deployment `id`, in the order they were queued.
    pub fn hooks(deployment: i64) -> Destination {
        Destination::Hooks { lane: format!("deployment:{deployment}") }
    }

    /// Reads the `platform` and `channel` columns back.
    pub fn from_columns(platform: &str, address: String) -> Option<Destination> {
        Some(match Route::parse(platform)? {
            Route::Chat(platform) => Destination::Chat(Channel { platform, id: address }),
            Route::Pager => Destination::Pager { url: address },
            Route::Hooks => Destination::Hooks { lane: address },
        })
    }

    pub fn route(&self) -> Route {
        match self {
            Destination::Chat(channel) => Route::Chat(channel.platform),
            Destination::Pager { .. } => Route::Pager,
            Destination::Hooks { .. } => Route::Hooks,
        }
    }

    /// The `channel` column: a chat channel's id, a webhook's URL, or a hook lane.
    pub fn address(&self) -> &str {
        match self {
            Destination::Chat(channel) => &channel.id,
            Destination::Pager { url } => url,
            Destination::Hooks { lane } => lane,
        }
    }
}

impl From<Channel> for Destination {
    fn from(channel: Channel) -> Destination {
        Destination::Chat(channel)
    }
}

/// `platform:address`, as logs name it and a give-up is recorded (the same as a `Channel`'s).
impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.route(), self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_reads_back_from_its_column_word() {
        for route in Route::ALL {
            assert_eq!(Route::parse(route.as_str()), Some(route));
        }
        assert_eq!(Route::ALL.map(Route::as_str), ["slack", "discord", "console", "golive", "hook"]);
    }

    #[test]
    fn destinations_keep_the_columns_they_were_written_with() {
        let slack = Destination::Chat(Channel { platform: Platform::Slack, id: "C1".into() });
        let pager = Destination::Pager { url: "https://events.example/v2/enqueue".into() };
        for d in [slack, pager, Destination::hooks(7)] {
            let back = Destination::from_columns(d.route().as_str(), d.address().to_string());
            assert_eq!(back.as_ref(), Some(&d));
        }
        assert_eq!(Destination::hooks(7).to_string(), "hook:deployment:7");
    }
}
