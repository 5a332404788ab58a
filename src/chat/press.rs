//! Pressing one of golive's buttons and submitting one of its dialogs, the same on every
//! platform: a button is a command like any other and goes through the engine with the
//! deployment it was drawn for; a button that needs a reason first asks the engine whether the
//! person may do what the dialog would do (the permission probe), so nobody fills in a form
//! that ends in a refusal; a submission is decided again anyway, and may be corrected and sent
//! again after a refusal. The adapters read their wire formats into `commands::actions` and answer
//! in theirs from what comes back here.

use crate::commands::actions::{Button, Dialog, Press};
use crate::domain::{Actor, Channel, Command};
use crate::engine::{Answer, Engine, EngineError, Input, Origin};
use crate::store::Loaded;

/// What came of pressing a button.
#[derive(Debug)]
pub enum Pressed {
    /// The button's command was decided: the answer, and the command in a word or two.
    Decided { answer: Answer, what: String },
    /// The person may do what the dialog does: open it, for this deployment.
    Ask { dialog: Dialog, deployment: Box<Loaded> },
    /// They may not: the refusal, for them alone.
    Refused(String),
}

/// Presses `button` for `actor` in `channel`; `origin` names the deployment it was drawn for
/// and this press (a platform delivering it again is answered from the record).
pub async fn press(
    engine: &Engine,
    channel: &Channel,
    actor: &Actor,
    button: Button,
    origin: Origin,
) -> Result<Pressed, EngineError> {
    match button.press() {
        Press::Run(command) => {
            let what = command.describe();
            let answer = engine.submit(Input::command(channel, actor, command, origin)).await?;
            Ok(Pressed::Decided { answer, what })
        }
        Press::Ask(dialog) => {
            let probe =
                Input::Probe { channel: channel.clone(), actor: actor.clone(), command: dialog.probe(), origin };
            Ok(match engine.submit(probe).await?.into_probe() {
                Ok(deployment) => Pressed::Ask { dialog, deployment },
                Err(refused) => Pressed::Refused(refused.reply.unwrap_or_default()),
            })
        }
    }
}

/// Submits what a dialog asked for (see `Dialog::submit`) on `deployment`, the one it was
/// opened for; `key` names this submission.
pub async fn submit(
    engine: &Engine,
    channel: &Channel,
    actor: &Actor,
    command: Command,
    deployment: i64,
    key: Option<String>,
) -> Result<Answer, EngineError> {
    // Refused submissions may be corrected and sent again.
    let origin = Origin { key, deployment: Some(deployment), retry_refused: true };
    engine.submit(Input::command(channel, actor, command, origin)).await
}
