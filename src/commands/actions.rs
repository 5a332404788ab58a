//! golive's buttons and the dialogs two of them open, defined once for every platform: what
//! each button is called and what it asks for as a command, the fields of a dialog and how a
//! submission becomes a command, and the apology every adapter gives when nothing could be
//! recorded. The renderers draw buttons and dialogs under the names written here and the
//! adapters read their wire formats (Slack's action ids and views, Discord's custom ids and
//! modals) back into these, so a button and its handler cannot drift apart. What pressing
//! and submitting do with the engine is `chat::press`; this module reaches no further than
//! the domain, so the renderers can draw from it.

use crate::domain::{Command, RollbackLevel};

/// How long the status post's "Snooze 1h" button snoozes the scheduled posts.
pub const SNOOZE_MINUTES: u32 = 60;

/// The ids of a dialog's inputs: why, and (rolling back) how fast.
pub const REASON: &str = "reason";
pub const LEVEL: &str = "level";

/// One of golive's buttons. Whatever carries it also carries the deployment it was drawn for,
/// so a button on an old post cannot act on a newer deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    SignOff(String),
    Ack,
    Go,
    NoGo,
    RollBack,
    /// Snooze the scheduled status posts for an hour.
    Snooze,
}

/// What pressing a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// This command, at once.
    Run(Command),
    /// The reason (and level) first: the dialog, when the person may do what it does.
    Ask(Dialog),
}

impl Button {
    /// The button's name on every platform (`golive.ack`); a sign-off's role travels beside it.
    pub fn name(&self) -> &'static str {
        match self {
            Button::SignOff(_) => "golive.signoff",
            Button::Ack => "golive.ack",
            Button::Go => "golive.go",
            Button::NoGo => Dialog::NoGo.name(),
            Button::RollBack => Dialog::RollBack.name(),
            Button::Snooze => "golive.snooze",
        }
    }

    /// The button named `name`; a sign-off needs its `role`. `None`: not one of golive's.
    pub fn from_name(name: &str, role: Option<&str>) -> Option<Button> {
        Some(match name {
            "golive.signoff" => Button::SignOff(role?.to_string()),
            "golive.ack" => Button::Ack,
            "golive.go" => Button::Go,
            "golive.snooze" => Button::Snooze,
            other => Dialog::from_name(other)?.into(),
        })
    }

    pub fn press(self) -> Press {
        Press::Run(match self {
            Button::SignOff(role) => Command::SignOff { role, note: None },
            Button::Ack => Command::Ack,
            Button::Go => Command::Go,
            Button::Snooze => Command::Snooze { minutes: SNOOZE_MINUTES, reason: None },
            Button::NoGo => return Press::Ask(Dialog::NoGo),
            Button::RollBack => return Press::Ask(Dialog::RollBack),
        })
    }

    /// The dialog the button opens, if it opens one.
    pub fn dialog(&self) -> Option<Dialog> {
        match self.clone().press() {
            Press::Ask(dialog) => Some(dialog),
            Press::Run(_) => None,
        }
    }
}

/// A dialog (Slack) or modal (Discord): asks why, and for a rollback how fast. It is named
/// like the button that opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    NoGo,
    RollBack,
}

/// What a submitted dialog lacks; nothing was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Reason,
    Level,
}

impl From<Dialog> for Button {
    fn from(dialog: Dialog) -> Button {
        match dialog {
            Dialog::NoGo => Button::NoGo,
            Dialog::RollBack => Button::RollBack,
        }
    }
}

impl Dialog {
    pub fn name(self) -> &'static str {
        match self {
            Dialog::NoGo => "golive.nogo",
            Dialog::RollBack => "golive.rollback",
        }
    }

    pub fn from_name(name: &str) -> Option<Dialog> {
        [Dialog::NoGo, Dialog::RollBack].into_iter().find(|d| d.name() == name)
    }

    /// The command the dialog would submit, to ask before opening it whether this person may
    /// (the form is spared them when they may not). The reason is not asked yet; a probe is
    /// never recorded with it.
    pub fn probe(self) -> Command {
        let reason = "(asked in the form)".to_string();
        match self {
            Dialog::NoGo => Command::NoGo { reason },
            Dialog::RollBack => Command::Rollback { reason, level: None },
        }
    }

    /// The command a submission asks for: the reason is required, and a rollback's level.
    pub fn submit(self, reason: Option<&str>, level: Option<&str>) -> Result<Command, Missing> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).ok_or(Missing::Reason)?.to_string();
        Ok(match self {
            Dialog::NoGo => Command::NoGo { reason },
            Dialog::RollBack => {
                let level = level.map(str::trim).and_then(RollbackLevel::parse).ok_or(Missing::Level)?;
                Command::Rollback { reason, level: Some(level) }
            }
        })
    }

    /// The command to type instead, where the dialog cannot be opened.
    pub fn typed(self) -> &'static str {
        match self {
            Dialog::NoGo => "`/deploy nogo REASON`",
            Dialog::RollBack => "`/deploy rollback [level=immediate|quick|planned] REASON`",
        }
    }
}

/// What the person is asked to do again once the database is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// A typed command or a slash command.
    Try,
    /// A button.
    Press,
    /// A dialog, still open.
    Submit,
}

/// The apology when golive could not record what was asked: nothing changed, ask again.
pub fn unrecorded(again: Again) -> String {
    let (what, verb) = match again {
        Again::Try => ("that", "try"),
        Again::Press => ("that", "press"),
        Again::Submit => ("this", "submit"),
    };
    format!("golive could not record {what} just now (its database is unavailable); nothing was changed — {verb} again in a moment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_button_is_read_back_from_its_name() {
        let buttons = [
            Button::SignOff("security".into()),
            Button::Ack,
            Button::Go,
            Button::NoGo,
            Button::RollBack,
            Button::Snooze,
        ];
        for button in buttons {
            let role = match &button {
                Button::SignOff(role) => Some(role.as_str()),
                _ => None,
            };
            assert_eq!(Button::from_name(button.name(), role), Some(button.clone()));
        }
        assert_eq!(Button::from_name("golive.signoff", None), None, "a sign-off names its role");
        assert_eq!(Button::from_name("other.app", None), None);
    }

    #[test]
    fn a_submission_needs_a_reason_and_a_rollback_a_level() {
        assert_eq!(Dialog::NoGo.submit(Some("  "), None), Err(Missing::Reason));
        assert_eq!(Dialog::NoGo.submit(Some(" flaky "), None), Ok(Command::NoGo { reason: "flaky".into() }));
        assert_eq!(Dialog::RollBack.submit(Some("down"), Some("soon")), Err(Missing::Level));
        assert_eq!(
            Dialog::RollBack.submit(Some("down"), Some(" quick ")),
            Ok(Command::Rollback { reason: "down".into(), level: Some(RollbackLevel::Quick) })
        );
    }

    #[test]
    fn the_apologies_say_nothing_changed() {
        assert_eq!(
            unrecorded(Again::Press),
            "golive could not record that just now (its database is unavailable); nothing was changed — press again in a moment"
        );
        assert!(unrecorded(Again::Submit).starts_with("golive could not record this just now"));
    }
}
