//! Slack Block Kit rendering of the status model: the same facts as the plain-text post, laid
//! out as a header, phase progress, checklist, sign-offs with who and when, and escalation.
//! The plain text rides along as the notification and accessibility fallback.

use slack_morphism::prelude::*;

use super::{clean, human, text, StatusView};

/// Slack treats `&`, `<` and `>` as markup; user text must not open links or mentions.
pub fn escape(s: &str) -> String {
    clean(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn section(markdown: String) -> SlackBlock {
    SlackSectionBlock::new().with_text(md!(markdown)).into()
}

pub fn status_blocks(v: &StatusView) -> Vec<SlackBlock> {
    let mut blocks: Vec<SlackBlock> = Vec::new();
    let late = v.late_by.map(|l| format!(" (late by {})", human(l))).unwrap_or_default();
    let header: SlackBlockPlainTextOnly = pt!(format!("Deploy {} — {}%{late}", clean(&v.release), v.progress));
    blocks.push(SlackHeaderBlock::new(header).into());
    blocks.push(
        SlackContextBlock::new(vec![md!(format!(
            "{} · lead {} · {} of {} planned",
            escape(&v.plan),
            escape(&v.lead),
            human(v.elapsed),
            human(v.planned)
        ))])
        .into(),
    );
    match &v.phase {
        Some(p) => {
            let overdue = if p.overdue() { " *OVERDUE*" } else { "" };
            blocks.push(section(format!(
                "*Phase {}/{}: {}* (`{}`)\nrunning {} of {} planned{overdue}",
                p.number,
                v.phases_total,
                escape(&p.name),
                escape(&p.id),
                human(p.elapsed),
                human(p.planned)
            )));
            let mut checklist = format!("*Checklist* {}/{} done", p.items_done, p.items_total);
            for (id, text, role) in &p.open_required {
                checklist.push_str(&format!("\n☐ `{}` {} — _{}_", escape(id), escape(text), escape(role)));
            }
            blocks.push(section(checklist));
            if !p.signed.is_empty() || !p.missing_signoffs.is_empty() {
                let mut signoffs = String::from("*Sign-offs*");
                for (role, by, at) in &p.signed {
                    signoffs.push_str(&format!("\n✅ {} — {} at {} UTC", escape(role), escape(by), text::time(*at)));
                }
                for role in &p.missing_signoffs {
                    signoffs.push_str(&format!("\n⏳ {} — missing", escape(role)));
                }
                blocks.push(section(signoffs));
            }
        }
        None => {
            let next = v.next_phase.as_deref().map(|n| format!("; next is `{}`", escape(n))).unwrap_or_default();
            blocks.push(section(format!("*Phases* {}/{} done{next}", v.phases_done, v.phases_total)));
        }
    }
    let mut facts = Vec::new();
    if let Some(t) = v.traffic {
        facts.push(format!("*Traffic* {t}%"));
    }
    if let Some(d) = &v.decision {
        facts.push(escape(d));
    }
    if let Some(r) = &v.rollback {
        facts.push(format!("*ROLLING BACK:* {}", escape(r)));
    }
    if let Some(e) = &v.escalation {
        facts.push(format!("🚨 *Escalation* {}", escape(e)));
    }
    if !facts.is_empty() {
        blocks.push(section(facts.join("\n")));
    }
    if !v.notes.is_empty() {
        let notes: Vec<String> =
            v.notes.iter().map(|(by, text)| format!("📝 {}: {}", escape(by), escape(text))).collect();
        blocks.push(section(notes.join("\n")));
    }
    if let Some(next) = v.next_update {
        blocks.push(SlackContextBlock::new(vec![md!(format!("Next update {} UTC", text::time(next)))]).into());
    }
    blocks
}
