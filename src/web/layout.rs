//! The frame every page shares: the document head with the inline style sheet, the site
//! header, and the small live-update script. Both are inline (no CDN, no second request) and
//! allowed by hash in the Content-Security-Policy, so no other script or style can run.

use std::sync::LazyLock;

use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

use super::Links;

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/live.js");

/// The Content-Security-Policy of every page: nothing from elsewhere, and of inline code only
/// the style sheet and the script above.
pub static POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; connect-src 'self'; img-src 'self' data:; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        hash(STYLE),
        hash(SCRIPT)
    )
});

/// A whole page: `title` in the head, `body` in `<main>`.
pub fn page(title: &str, links: &Links, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · golive" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header.site {
                    a.brand href=(links.to("/")) { "golive" }
                    nav aria-label="Site" { a href=(links.to("/")) { "All deployments" } }
                }
                main #main { (body) }
                footer.site { "Read-only view of golive's recorded history. Times are UTC." }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}
