//! Deconfliction: the same support reaching one recipient from several sources at
//! overlapping times, and duplicate open needs.
//!
//! A source is one DELIVERY offer as seen by one recipient: the offer itself when it is
//! OPEN and names the recipient in `eligible_recipients` (window: its availability), and
//! the live or completed arrangements drawn from it for that recipient (window: the
//! scheduled days, or else the offer's availability). Windows count whole days, inclusive.

use super::{Snapshot, iso_date, live_or_completed};
use crate::domain::*;
use std::collections::BTreeMap;

/// How far apart (in days) the deadlines of two open needs may be for them to count as
/// duplicates.
pub const DUPLICATE_NEED_DAYS: Day = 90;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum FindingKind {
    /// Two or more sources with overlapping windows.
    OverlappingSources,
    /// Two or more open needs of the same kind due within [`DUPLICATE_NEED_DAYS`].
    DuplicateNeeds,
}

/// One finding; the days are inclusive (the service turns them into the start of the
/// first and the end of the last day).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Finding {
    pub kind: FindingKind,
    pub recipient: Alpha3,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    pub resource_ids: Vec<String>,
    pub first_day: Day,
    pub last_day: Day,
    pub summary: String,
}

type Key = (Alpha3, SupportCategory, CapabilityArea);

#[derive(Default)]
struct Source {
    /// The offer itself is a source: OPEN, naming the recipient.
    open_offer: bool,
    arrangements: Vec<(Id, ArrangementStatus)>,
    /// Inclusive day ranges, merged.
    windows: Vec<(Day, Day)>,
}

impl Source {
    fn add_window(&mut self, window: (Day, Day)) {
        if window.0 <= window.1 {
            self.windows.push(window);
        }
    }

    /// Sorts and merges the windows so that they are disjoint.
    fn merge_windows(&mut self) {
        self.windows.sort();
        let mut merged: Vec<(Day, Day)> = Vec::with_capacity(self.windows.len());
        for &(s, e) in &self.windows {
            match merged.last_mut() {
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.windows = merged;
    }

    /// The first and last day both sources cover, if any.
    fn overlap(&self, other: &Source) -> Option<(Day, Day)> {
        let mut span: Option<(Day, Day)> = None;
        for &(s1, e1) in &self.windows {
            for &(s2, e2) in &other.windows {
                let (s, e) = (s1.max(s2), e1.min(e2));
                if s <= e {
                    span = Some(span.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
                }
            }
        }
        span
    }

    fn describe(&self, offer: Id, recipient: Alpha3) -> String {
        let mut parts = Vec::new();
        if self.open_offer {
            parts.push(format!("still open to {recipient}"));
        }
        for (id, status) in &self.arrangements {
            parts.push(format!("{} {status}", id.render(Kind::Arrangement)));
        }
        let days: Vec<String> =
            self.windows.iter().map(|(s, e)| format!("{} to {}", iso_date(*s), iso_date(*e))).collect();
        format!("{} ({}; {})", offer.render(Kind::Offer), parts.join(", "), days.join(", "))
    }
}

fn availability(offer: &Offer) -> (Day, Day) {
    (day_of_micros(offer.spec.available_from), day_of_micros(offer.spec.available_until))
}

/// Every finding, sorted by recipient, category, capability, then kind.
pub fn deconfliction_findings(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = overlapping_sources(snapshot);
    findings.extend(duplicate_needs(snapshot));
    findings.sort_by(|a, b| {
        (a.recipient, a.category, a.capability, a.kind).cmp(&(b.recipient, b.category, b.capability, b.kind))
    });
    findings
}

fn overlapping_sources(snapshot: &Snapshot) -> Vec<Finding> {
    let offers: BTreeMap<Id, &Offer> = snapshot.offers.iter().map(|o| (o.meta.id, o)).collect();
    let mut sources: BTreeMap<Key, BTreeMap<Id, Source>> = BTreeMap::new();
    for offer in &snapshot.offers {
        if offer.state() != OfferState::Open || offer.spec.terms.delivery().is_none() {
            continue;
        }
        for &recipient in &offer.spec.eligible_recipients {
            // A state excluded from, or providing, the offer cannot receive from it.
            if !offer.spec.admits(recipient) || offer.spec.providers.contains(&recipient) {
                continue;
            }
            let key = (recipient, offer.spec.category, offer.spec.capability);
            let source = sources.entry(key).or_default().entry(offer.meta.id).or_default();
            source.open_offer = true;
            source.add_window(availability(offer));
        }
    }
    for a in snapshot.arrangements.iter().filter(|a| live_or_completed(a.status)) {
        let key = (a.recipient, a.category, a.capability);
        let source = sources.entry(key).or_default().entry(a.allocation.offer).or_default();
        source.arrangements.push((a.meta.id, a.status));
        let window = match (a.scheduled_start, a.scheduled_end) {
            (Some(s), Some(e)) => Some((day_of_micros(s), day_of_micros(e))),
            _ => offers.get(&a.allocation.offer).map(|o| availability(o)),
        };
        if let Some(w) = window {
            source.add_window(w);
        }
    }
    let mut findings = Vec::new();
    for ((recipient, category, capability), mut by_offer) in sources {
        if by_offer.len() < 2 {
            continue;
        }
        for source in by_offer.values_mut() {
            source.merge_windows();
            source.arrangements.sort_by_key(|(id, _)| *id);
        }
        let list: Vec<(&Id, &Source)> = by_offer.iter().collect();
        let mut involved = vec![false; list.len()];
        let mut span: Option<(Day, Day)> = None;
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                if let Some((s, e)) = list[i].1.overlap(list[j].1) {
                    involved[i] = true;
                    involved[j] = true;
                    span = Some(span.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
                }
            }
        }
        let Some((first_day, last_day)) = span else { continue };
        let chosen: Vec<(Id, &Source)> =
            list.iter().zip(&involved).filter(|(_, inv)| **inv).map(|((id, s), _)| (**id, *s)).collect();
        let mut resource_ids = Vec::new();
        for (offer, source) in &chosen {
            resource_ids.push(offer.render(Kind::Offer));
            resource_ids.extend(source.arrangements.iter().map(|(id, _)| id.render(Kind::Arrangement)));
        }
        let described: Vec<String> = chosen.iter().map(|(offer, s)| s.describe(*offer, recipient)).collect();
        let summary = format!(
            "{recipient} may receive {category} in {capability} from {} sources at overlapping times between {} and {}: \
             {}. Agree with the providers which one delivers, or stagger the dates, before approving more.",
            chosen.len(),
            iso_date(first_day),
            iso_date(last_day),
            described.join("; ")
        );
        findings.push(Finding {
            kind: FindingKind::OverlappingSources,
            recipient,
            category,
            capability,
            resource_ids,
            first_day,
            last_day,
            summary,
        });
    }
    findings
}

fn duplicate_needs(snapshot: &Snapshot) -> Vec<Finding> {
    let mut groups: BTreeMap<Key, Vec<(Day, Id)>> = BTreeMap::new();
    for n in snapshot.needs.iter().filter(|n| n.state() == NeedState::Open) {
        let key = (n.spec.requester, n.spec.category, n.spec.capability);
        groups.entry(key).or_default().push((day_of_micros(n.spec.needed_by), n.meta.id));
    }
    let mut findings = Vec::new();
    for ((requester, category, capability), mut needs) in groups {
        needs.sort();
        // A need is a duplicate when its deadline lies within the limit of a neighbour's.
        let close = |i: usize, j: usize| needs[j].0 - needs[i].0 <= DUPLICATE_NEED_DAYS;
        let dupes: Vec<(Day, Id)> = (0..needs.len())
            .filter(|&i| (i > 0 && close(i - 1, i)) || (i + 1 < needs.len() && close(i, i + 1)))
            .map(|i| needs[i])
            .collect();
        let (Some(first), Some(last)) = (dupes.iter().map(|d| d.0).min(), dupes.iter().map(|d| d.0).max()) else {
            continue;
        };
        let mut ids: Vec<Id> = dupes.iter().map(|d| d.1).collect();
        ids.sort();
        let resource_ids: Vec<String> = ids.iter().map(|id| id.render(Kind::Need)).collect();
        let summary = format!(
            "{requester} has {} open {category} needs in {capability} due between {} and {} ({}): merge them into one \
             or withdraw the duplicates, so offers are not split between them.",
            resource_ids.len(),
            iso_date(first),
            iso_date(last),
            resource_ids.join(", ")
        );
        findings.push(Finding {
            kind: FindingKind::DuplicateNeeds,
            recipient: requester,
            category,
            capability,
            resource_ids,
            first_day: first,
            last_day: last,
            summary,
        });
    }
    findings
}
