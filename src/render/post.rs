//! Posts as the engine produces them (platform-neutral) and as each platform shows them. The
//! writer renders every post once, as it queues it in the outbox.

use crate::config::Config;
use crate::domain::{Channel, Deployment, EscalationLevel, Event, EventKind, Member, Platform};
use crate::store::Payload;

use super::{blocks, embeds, text, StatusView};

/// What to post to a channel. Neutral: each adapter renders it its own way.
#[derive(Debug, Clone)]
pub enum Message {
    /// A recorded event, with the deployment's state right after it.
    Event {
        deployment_id: i64,
        event: Box<Event>,
        state: Box<Deployment>,
    },
    Status(Box<StatusView>),
}

#[derive(Debug, Clone)]
pub struct Post {
    pub channel: Channel,
    pub message: Message,
}

/// Renders posts for their platform, with the mentions golive itself writes (any other markup
/// in a Slack post is escaped).
pub struct Renderer {
    escalation: Vec<EscalationLevel>,
    slack_mentions: blocks::Mentions,
}

impl Renderer {
    pub fn new(config: &Config) -> Renderer {
        let roles = config.roles.0.values().flat_map(|r| r.members.iter());
        let levels = config.escalation.iter().flat_map(|l| l.roster());
        let slack_mentions = roles.chain(levels).filter(|m| m.platform == Platform::Slack).map(text::mention).collect();
        Renderer { escalation: config.escalation.clone(), slack_mentions }
    }

    /// One post as its platform shows it; `None` when it has nothing to say.
    pub fn render(&self, post: &Post) -> Option<Payload> {
        let mut payload = self.render_unescaped(post)?;
        if post.channel.platform == Platform::Slack {
            payload.text = blocks::escape_except(&payload.text, &self.slack_mentions);
        }
        Some(payload)
    }

    /// A stakeholder digest line as its platform shows it: on Slack with all markup escaped,
    /// on Discord with nobody to ping (the default of every Discord post).
    pub fn digest(&self, channel: &Channel, text: String) -> Payload {
        let text = match channel.platform {
            Platform::Slack => blocks::escape_except(&text, &blocks::Mentions::new()),
            _ => text,
        };
        Payload { text, blocks: None, event: None }
    }

    fn render_unescaped(&self, post: &Post) -> Option<Payload> {
        match &post.message {
            Message::Event { event, state, deployment_id } => {
                let text = text::announce(event, state, &self.escalation)?;
                let page =
                    matches!(event.kind, EventKind::EscalationOpened { .. } | EventKind::EscalationRaised { .. });
                let blocks = match post.channel.platform {
                    Platform::Slack if page => {
                        serde_json::to_value(blocks::escalation_blocks(*deployment_id, &text, &self.slack_mentions))
                            .ok()
                    }
                    Platform::Discord => {
                        let mut body =
                            if page { embeds::escalation_message(*deployment_id) } else { serde_json::json!({}) };
                        // Only golive's own mentions ping: the people a page pages, and the
                        // owners a reminder, an overdue phase or a missed milestone names. A
                        // mention typed into a note or an escalation message pings nobody.
                        let discord = |members: &[Member]| -> blocks::Mentions {
                            members.iter().filter(|m| m.platform == Platform::Discord).map(text::mention).collect()
                        };
                        let paged = match &event.kind {
                            EventKind::EscalationOpened { level, .. } | EventKind::EscalationRaised { level, .. } => {
                                let on_call = self.escalation.get(usize::from(*level).saturating_sub(1));
                                discord(&on_call.map(|l| l.on_call(event.at).members).unwrap_or_default())
                            }
                            EventKind::Reminded { owners, .. }
                            | EventKind::PhaseOverdue { owners, .. }
                            | EventKind::MilestoneMissed { owners, .. } => discord(owners),
                            _ => blocks::Mentions::new(),
                        };
                        body["allowed_mentions"] = embeds::allowed_mentions(&text, &paged);
                        Some(body)
                    }
                    _ => None,
                };
                Some(Payload { text, blocks, event: None })
            }
            Message::Status(view) => {
                let blocks = match post.channel.platform {
                    Platform::Slack => serde_json::to_value(blocks::status_blocks(view)).ok(),
                    Platform::Discord => Some(embeds::status_message(view)),
                    _ => None,
                };
                Some(Payload { text: text::status(view), blocks, event: None })
            }
        }
    }
}
