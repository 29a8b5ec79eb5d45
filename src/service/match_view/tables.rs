//! The match view's copy of the followed tables ([`Tables`]): read from the store at
//! start, kept current from the commits it is told of ([`apply`]). Needs are compact rows
//! that become the engine's input when read ([`NeedRow`]); offers are kept as the engine's
//! input itself, sharing their text ([`OfferEntry`]). [`need_input`] and [`offer_input`]
//! make the engine's input from records.

use super::{Load, State};
use crate::domain::*;
use crate::error::AppResult;
use crate::matching::{self, Change, Few, MatchInput, NeedInput, OfferInput};
use crate::store::{Followed, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(super) type OfferKind = (SupportCategory, CapabilityArea);

/// A need as the view keeps it: what the engine reads of it ([`NeedInput`]), less the
/// rendered id (its key is the [`Id`]), each list boxed to its length. The view holds every
/// need and offer (100 000 of each at the largest scale the memory goal measures), so its
/// rows are kept small and become the engine's input only when read.
pub(super) struct NeedRow {
    requester: Alpha3,
    category: SupportCategory,
    pub(super) capability: CapabilityArea,
    quantity: u32,
    women_quantity: u32,
    consumed: u32,
    consumed_women: u32,
    languages: Box<[Language]>,
    needed_by: Day,
    priority: Priority,
    accepted_modes: Box<[DeliveryMode]>,
    withdrawn: bool,
}

impl NeedRow {
    fn of(n: &Need) -> NeedRow {
        NeedRow {
            requester: n.spec.requester,
            category: n.spec.category,
            capability: n.spec.capability,
            quantity: n.spec.quantity,
            women_quantity: n.spec.women_quantity,
            consumed: n.seats.consumed(),
            consumed_women: n.seats.consumed_women(),
            languages: n.spec.languages.as_slice().into(),
            needed_by: day(n.spec.needed_by),
            priority: n.spec.priority,
            accepted_modes: n.spec.accepted_modes.as_slice().into(),
            withdrawn: n.withdrawn,
        }
    }

    pub(super) fn kind(&self) -> OfferKind {
        (self.category, self.capability)
    }

    pub(super) fn requester(&self) -> Alpha3 {
        self.requester
    }

    /// The engine's input for this need, whose id is `id`.
    pub(super) fn input(&self, id: Id) -> NeedInput {
        NeedInput {
            id: id.render(Kind::Need),
            requester: self.requester,
            category: self.category,
            capability: self.capability,
            quantity: self.quantity,
            women_quantity: self.women_quantity,
            consumed: self.consumed,
            consumed_women: self.consumed_women,
            languages: self.languages.to_vec(),
            needed_by: self.needed_by,
            priority: self.priority,
            accepted_modes: self.accepted_modes.to_vec(),
            withdrawn: self.withdrawn,
        }
    }
}

/// An offer as the view keeps it: the engine's input itself, kept in the map's nodes
/// (ExplainNeed weighs the thousands of offers of a kind in place, in id order), with the
/// centre it names. Its title and its centre's names are shared, not copied, by the
/// inputs made from it (the centre's with every offer at that centre).
pub(super) struct OfferEntry {
    pub(super) input: OfferInput,
    centre: Option<Id>,
}

/// The view's copy of the followed tables.
#[derive(Default)]
pub(super) struct Tables {
    pub(super) needs: BTreeMap<Id, NeedRow>,
    /// Offers by (category, capability), both roles: a need's candidates and the funders
    /// that could pay for them are its kind's entry.
    pub(super) offers: HashMap<OfferKind, BTreeMap<Id, OfferEntry>>,
    /// The kind of each offer.
    pub(super) offer_kind: HashMap<Id, OfferKind>,
    pub(super) centres: BTreeMap<Id, Arc<matching::CentreRef>>,
    pub(super) recipient_seats: BTreeMap<(Id, Alpha3), u32>,
    /// (need, offer) pairs a remembered refusal bars.
    pub(super) barred: BTreeSet<(Id, Id)>,
}

/// What changed since the warm engine last took the changes.
#[derive(Default, Clone)]
pub(super) struct Dirty {
    pub(super) needs: BTreeSet<Id>,
    pub(super) offers: BTreeSet<Id>,
    pub(super) recipient_seats: BTreeSet<(Id, Alpha3)>,
    pub(super) barred: BTreeSet<(Id, Id)>,
}

impl Dirty {
    pub(super) fn merge(&mut self, other: &Dirty) {
        self.needs.extend(other.needs.iter().copied());
        self.offers.extend(other.offers.iter().copied());
        self.recipient_seats.extend(other.recipient_seats.iter().copied());
        self.barred.extend(other.barred.iter().copied());
    }

    pub(super) fn len(&self) -> usize {
        self.needs.len() + self.offers.len() + self.recipient_seats.len() + self.barred.len()
    }
}

/// Applies one commit's changes to the tables and marks them dirty.
pub(super) fn apply(state: &mut State, changes: &[Followed]) {
    for c in changes {
        if let Followed::Unreadable { table, error } = c {
            // A value the store wrote but cannot be read back: the view cannot be trusted.
            tracing::error!(error = %error, table = *table, "the matching view cannot apply a commit");
            state.load = Load::Failed(error.clone());
            return;
        }
        apply_one(state, c);
    }
}

fn apply_one(state: &mut State, c: &Followed) {
    let (t, dirty) = (&mut state.tables, &mut state.dirty);
    match c {
        Followed::Need(id, need) => {
            match need {
                Some(need) => {
                    t.needs.insert(*id, NeedRow::of(need));
                }
                None => {
                    t.needs.remove(id);
                }
            }
            dirty.needs.insert(*id);
        }
        Followed::Offer(id, offer) => {
            t.remove_offer(*id);
            if let Some(offer) = offer {
                let entry = t.entry(offer);
                t.put_offer(*id, entry);
            }
            dirty.offers.insert(*id);
        }
        Followed::Centre(id, centre) => {
            match centre {
                Some(centre) => {
                    t.centres.insert(*id, centre_ref(centre));
                }
                None => {
                    t.centres.remove(id);
                }
            }
            // Offers at the centre name it in their reasons and parties.
            let at: Vec<Id> = t
                .offers
                .values()
                .flat_map(|kind| kind.iter().filter(|(_, o)| o.centre == Some(*id)).map(|(k, _)| *k))
                .collect();
            for o in at {
                t.refresh_centre(o);
                dirty.offers.insert(o);
            }
        }
        Followed::RecipientSeats { offer, state, seats } => {
            let key = (*offer, *state);
            match seats {
                Some(seats) => t.recipient_seats.insert(key, *seats),
                None => t.recipient_seats.remove(&key),
            };
            dirty.recipient_seats.insert(key);
        }
        Followed::Refusal { need, offer, remembered } => {
            let pair = (*need, *offer);
            if *remembered {
                t.barred.insert(pair);
            } else {
                t.barred.remove(&pair);
            }
            dirty.barred.insert(pair);
        }
        Followed::Unreadable { .. } => {}
    }
}

impl State {
    /// The dirty records as the engine's changes (each as it now is), clearing them.
    pub(super) fn take_changes(&mut self) -> Vec<Change> {
        let dirty = std::mem::take(&mut self.dirty);
        let t = &self.tables;
        let mut changes = Vec::new();
        changes.extend(dirty.needs.iter().filter_map(|&id| Some(Change::PutNeed(t.needs.get(&id)?.input(id)))));
        changes.extend(dirty.offers.iter().filter_map(|&id| t.offer(id)).map(|o| Change::PutOffer(o.input.clone())));
        changes.extend(dirty.recipient_seats.iter().map(|key| Change::SetRecipientSeats {
            offer_id: key.0.render(Kind::Offer),
            recipient: key.1,
            seats: t.recipient_seats.get(key).copied().unwrap_or(0),
        }));
        changes.extend(dirty.barred.iter().map(|pair| Change::SetBarred {
            need_id: pair.0.render(Kind::Need),
            offer_id: pair.1.render(Kind::Offer),
            barred: t.barred.contains(pair),
        }));
        changes
    }
}

impl Tables {
    fn offer(&self, id: Id) -> Option<&OfferEntry> {
        self.offers.get(self.offer_kind.get(&id)?)?.get(&id)
    }

    /// `offer`'s entry, at its centre as this view knows it.
    fn entry(&self, offer: &Offer) -> OfferEntry {
        let centre = offer.spec.terms.delivery().and_then(|d| d.training_centre);
        let input =
            offer_input(offer, offer.meta.id.render(Kind::Offer), centre.and_then(|c| self.centres.get(&c)).cloned());
        OfferEntry { input, centre }
    }

    fn put_offer(&mut self, id: Id, entry: OfferEntry) {
        let kind = (entry.input.category, entry.input.capability);
        self.offers.entry(kind).or_default().insert(id, entry);
        self.offer_kind.insert(id, kind);
    }

    fn remove_offer(&mut self, id: Id) {
        if let Some(kind) = self.offer_kind.remove(&id) {
            if let Some(offers) = self.offers.get_mut(&kind) {
                offers.remove(&id);
            }
        }
    }

    fn refresh_centre(&mut self, offer: Id) {
        let centre = self.offer(offer).and_then(|o| o.centre).and_then(|c| self.centres.get(&c)).cloned();
        let Some(kind) = self.offer_kind.get(&offer) else { return };
        let Some(entry) = self.offers.get_mut(kind).and_then(|o| o.get_mut(&offer)) else { return };
        if let Some(d) = entry.input.delivery.as_mut() {
            d.training_centre = centre;
        }
    }

    pub(super) fn input(&self, today: Day, capabilities: Vec<CapabilityArea>) -> MatchInput {
        let wanted = |c: CapabilityArea| capabilities.is_empty() || capabilities.contains(&c);
        MatchInput {
            today,
            needs: self.needs.iter().filter(|(_, n)| wanted(n.capability)).map(|(&id, n)| n.input(id)).collect(),
            offers: {
                let mut offers: Vec<(Id, &OfferEntry)> = self
                    .offers
                    .iter()
                    .filter(|(kind, _)| wanted(kind.1))
                    .flat_map(|(_, o)| o.iter().map(|(id, o)| (*id, o)))
                    .collect();
                offers.sort_by_key(|(id, _)| *id);
                offers.into_iter().map(|(_, o)| o.input.clone()).collect()
            },
            recipient_consumption: self
                .recipient_seats
                .iter()
                .map(|(&(offer, recipient), &seats)| matching::RecipientConsumption {
                    offer_id: offer.render(Kind::Offer),
                    recipient,
                    seats,
                })
                .collect(),
            barred: self
                .barred
                .iter()
                .map(|(n, o)| matching::BarredPair { need_id: n.render(Kind::Need), offer_id: o.render(Kind::Offer) })
                .collect(),
            capabilities,
        }
    }
}

/// Reads the followed tables from the store.
pub(super) fn read_tables(store: &Store) -> AppResult<Tables> {
    let mut t = Tables::default();
    for c in store.scan::<TrainingCentre>(None) {
        let c = c?;
        t.centres.insert(c.meta.id, centre_ref(&c));
    }
    // Collected, then built in bulk: a map built from sorted entries has full nodes, one
    // built by inserting them in order has nodes about half full.
    let mut needs = Vec::new();
    for n in store.scan::<Need>(None) {
        let n = n?;
        needs.push((n.meta.id, NeedRow::of(&n)));
    }
    t.needs = needs.into_iter().collect();
    let mut offers: HashMap<OfferKind, Vec<(Id, OfferEntry)>> = HashMap::new();
    for o in store.scan::<Offer>(None) {
        let o = o?;
        let entry = t.entry(&o);
        let kind = (entry.input.category, entry.input.capability);
        t.offer_kind.insert(o.meta.id, kind);
        offers.entry(kind).or_default().push((o.meta.id, entry));
    }
    t.offers = offers.into_iter().map(|(kind, o)| (kind, o.into_iter().collect())).collect();
    t.recipient_seats.extend(store.every_recipient_seats()?);
    t.barred.extend(store.refusals()?);
    Ok(t)
}

fn day(t: UnixMicros) -> Day {
    day_of_micros(t)
}

fn centre_ref(c: &TrainingCentre) -> Arc<matching::CentreRef> {
    Arc::new(matching::CentreRef {
        id: c.meta.id.render(Kind::Centre),
        name: c.spec.name.clone(),
        host_state: c.spec.host_state,
    })
}

/// A need as the engine sees it.
pub fn need_input(n: &Need) -> NeedInput {
    NeedRow::of(n).input(n.meta.id)
}

/// An offer as the engine sees it, under the id `id`, at `centre` (its delivery centre,
/// when registered).
pub fn offer_input(o: &Offer, id: String, centre: Option<Arc<matching::CentreRef>>) -> OfferInput {
    let delivery = o.spec.terms.delivery().map(|d| matching::DeliveryTerms {
        languages: Few::from_slice(&d.languages),
        mode: d.mode,
        training_centre: centre,
        duration_days: i64::from(d.duration_days),
        women_only: d.women_only,
        requires_funding: d.requires_funding,
    });
    OfferInput {
        id,
        title: o.spec.title.as_str().into(),
        providers: Few::from_slice(&o.spec.providers),
        role: o.spec.terms.role(),
        category: o.spec.category,
        capability: o.spec.capability,
        capacity: o.spec.capacity,
        consumed: o.seats.consumed(),
        available_from: day(o.spec.available_from),
        available_until: day(o.spec.available_until),
        eligible_recipients: Few::from_slice(&o.spec.eligible_recipients),
        excluded_recipients: Few::from_slice(&o.spec.excluded_recipients),
        max_per_recipient: o.spec.max_per_recipient,
        delivery,
        withdrawn: o.withdrawn,
    }
}
