//! Ticking the running phase's checklist: one item, several at once, or a whole section,
//! each tick checked against the item's owner and the items it comes `after`.

use std::collections::BTreeSet;

use super::{join, Decider};
use crate::domain::event::EventKind;
use crate::domain::refusal::Refusal;
use crate::domain::words::{did_you_mean, find, shown};

impl Decider<'_> {
    pub(super) fn check(&self, item: &str, tick: bool) -> Result<Vec<EventKind>, Refusal> {
        self.tick(item, tick, &BTreeSet::new()).map(|e| vec![e])
    }

    /// One tick or untick, with `also` ticked before it in the same command.
    fn tick(&self, item: &str, tick: bool, also: &BTreeSet<&str>) -> Result<EventKind, Refusal> {
        let i = self.running()?;
        let phase = &self.d.plan.phases[i];
        let ids = || phase.items.iter().map(|i| i.id.as_str());
        let Some(found) = find(item, ids()).and_then(|id| phase.item(id)) else {
            // Someone typing a section's name means the section.
            let hint = match find(item, phase.sections()) {
                Some(section) => format!(" (`{section}` is a section: `/deploy check section={section}`)"),
                None => did_you_mean(item, ids()),
            };
            return Err(Refusal::UnknownItem {
                given: shown(item),
                hint,
                phase: phase.id.clone(),
                allowed: join(ids()),
            });
        };
        let item = found.id.as_str();
        self.require_item_owner(item, &found.role, tick)?;
        let checked = &self.d.phases[i].checked;
        match (tick, checked.get(item)) {
            (true, Some(stamp)) => {
                Err(Refusal::AlreadyChecked { item: item.to_string(), by: stamp.by.display().to_string() })
            }
            (true, None) => {
                let open: Vec<&str> = found
                    .after
                    .iter()
                    .map(String::as_str)
                    .filter(|a| !checked.contains_key(*a) && !also.contains(a))
                    .collect();
                if !open.is_empty() {
                    let them = if open.len() == 1 { "it" } else { "them" };
                    return Err(Refusal::AfterOpen { item: item.to_string(), open: join(open), them });
                }
                Ok(EventKind::ItemChecked { phase: phase.id.clone(), item: item.to_string() })
            }
            (false, None) => Err(Refusal::NotChecked { item: item.to_string() }),
            (false, Some(_)) => Ok(EventKind::ItemUnchecked { phase: phase.id.clone(), item: item.to_string() }),
        }
    }

    /// Ticks each item as if it were ticked alone, in the order given (so an item may come
    /// `after` one earlier in the list); one refusal refuses them all.
    pub(super) fn check_many(&self, items: &[String]) -> Result<Vec<EventKind>, Refusal> {
        let mut ticked: BTreeSet<&str> = BTreeSet::new();
        let mut events = Vec::new();
        for item in items {
            let event = self.tick(item, true, &ticked).map_err(|why| match why {
                // Nothing is running: say so once, not about the first item.
                Refusal::NoPhaseRunning { .. } | Refusal::NoPhaseRunningBeforeGo { .. } | Refusal::AllPhasesDone => why,
                why => Refusal::InBatch { item: shown(item), why: Box::new(why) },
            })?;
            if let EventKind::ItemChecked { item, .. } = &event {
                let i = self.running()?;
                let id = self.d.plan.phases[i].item(item).map(|it| it.id.as_str()).unwrap_or_default();
                if !ticked.insert(id) {
                    return Err(Refusal::InBatch {
                        item: item.clone(),
                        why: Box::new(Refusal::AlreadyChecked { item: item.clone(), by: "this same command".into() }),
                    });
                }
            }
            events.push(event);
        }
        Ok(events)
    }

    /// Ticks every open item of a section.
    pub(super) fn check_section(&self, section: &str) -> Result<Vec<EventKind>, Refusal> {
        let i = self.running()?;
        let phase = &self.d.plan.phases[i];
        let sections = phase.sections();
        let Some(name) = find(section, sections.iter().copied()) else {
            return Err(Refusal::UnknownSection {
                given: shown(section),
                hint: did_you_mean(section, sections.iter().copied()),
                phase: phase.id.clone(),
                allowed: join(sections.iter().copied()),
            });
        };
        // Plan order, so items that come `after` others in the section follow them.
        let open: Vec<String> = phase
            .items
            .iter()
            .filter(|it| it.section.as_deref() == Some(name) && !self.d.phases[i].checked.contains_key(&it.id))
            .map(|it| it.id.clone())
            .collect();
        if open.is_empty() {
            return Err(Refusal::SectionDone { section: name.to_string() });
        }
        self.check_many(&open)
    }
}
