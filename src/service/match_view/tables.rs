//! The match view's engine-shaped copy of the followed tables ([`Tables`]): read from
//! the store at start, kept current from the commits it is told of ([`apply`]), and the
//! engine input built from records ([`need_input`], [`offer_input`]).

use super::{Load, State};
use crate::domain::*;
use crate::error::AppResult;
use crate::matching::{self, Change, Few, MatchInput, NeedInput, OfferInput};
use crate::store::{Followed, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type OfferKind = (SupportCategory, CapabilityArea);

/// An offer with the centre it names (its [`matching::CentreRef`] follows the centre).
#[derive(Clone)]
pub(super) struct OfferEntry {
    pub(super) input: OfferInput,
    pub(super) centre: Option<Id>,
}

/// The engine-shaped copy of the followed tables.
#[derive(Default)]
pub(super) struct Tables {
    pub(super) needs: BTreeMap<Id, NeedInput>,
    /// Offers by (category, capability), both roles: a need's candidates and the funders
    /// that could pay for them are its kind's entry.
    pub(super) offers: HashMap<OfferKind, BTreeMap<Id, OfferEntry>>,
    /// The kind of each offer.
    pub(super) offer_kind: HashMap<Id, OfferKind>,
    pub(super) centres: BTreeMap<Id, matching::CentreRef>,
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
                    t.needs.insert(*id, need_input(need));
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
                t.put_offer(offer);
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
        changes.extend(dirty.needs.iter().filter_map(|id| t.needs.get(id)).cloned().map(Change::PutNeed));
        changes.extend(dirty.offers.iter().filter_map(|id| t.offer(*id)).map(|o| Change::PutOffer(o.input.clone())));
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

    fn put_offer(&mut self, offer: &Offer) {
        let id = offer.meta.id;
        let centre = offer.spec.terms.delivery().and_then(|d| d.training_centre);
        let input = offer_input(offer, id.render(Kind::Offer), centre.and_then(|c| self.centres.get(&c)).cloned());
        let kind = (input.category, input.capability);
        self.offers.entry(kind).or_default().insert(id, OfferEntry { input, centre });
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
            needs: self.needs.values().filter(|n| wanted(n.capability)).cloned().collect(),
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
    for n in store.scan::<Need>(None) {
        let n = n?;
        t.needs.insert(n.meta.id, need_input(&n));
    }
    for o in store.scan::<Offer>(None) {
        t.put_offer(&o?);
    }
    t.recipient_seats.extend(store.every_recipient_seats()?);
    t.barred.extend(store.refusals()?);
    Ok(t)
}

fn day(t: UnixMicros) -> Day {
    day_of_micros(t)
}

fn centre_ref(c: &TrainingCentre) -> matching::CentreRef {
    matching::CentreRef { id: c.meta.id.render(Kind::Centre), name: c.spec.name.clone(), host_state: c.spec.host_state }
}

/// A need as the engine sees it.
pub fn need_input(n: &Need) -> NeedInput {
    NeedInput {
        id: n.meta.id.render(Kind::Need),
        requester: n.spec.requester,
        category: n.spec.category,
        capability: n.spec.capability,
        quantity: n.spec.quantity,
        women_quantity: n.spec.women_quantity,
        consumed: n.seats.consumed(),
        consumed_women: n.seats.consumed_women(),
        languages: n.spec.languages.clone(),
        needed_by: day(n.spec.needed_by),
        priority: n.spec.priority,
        accepted_modes: n.spec.accepted_modes.clone(),
        withdrawn: n.withdrawn,
    }
}

/// An offer as the engine sees it, under the id `id`, at `centre` (its delivery centre,
/// when registered).
pub fn offer_input(o: &Offer, id: String, centre: Option<matching::CentreRef>) -> OfferInput {
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
        title: o.spec.title.clone(),
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
