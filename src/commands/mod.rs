//! The language people speak to golive, whatever the platform: every `/deploy` command once
//! in one table (`table`, the shape of an entry in `spec`, the readers of commands with a
//! syntax of their own in `syntax`), the grammar, help text and README list derived from it
//! (`grammar`), and the buttons and dialogs golive puts on its posts with the commands they
//! stand for (`actions`). Pure: it knows the domain's commands and nothing of any platform, so
//! the engine parses with it, the renderers draw buttons from it, and the chat adapters
//! translate their wire formats into it.

pub mod actions;
pub mod grammar;
pub mod spec;
pub mod syntax;
pub mod table;
