//! The match view's copy of the followed tables ([`Tables`]): read from the store at
//! start, kept current from the commits it is told of ([`apply`]), in rows that become the
//! engine's input when read ([`NeedRow`], [`OfferRow`]; [`need_input`] and [`offer_input`]
//! make it from records).

use super::{Load, State};
use crate::domain::*;
use crate::error::AppResult;
use crate::matching::{self, Change, Few, MatchInput, NeedInput, OfferInput};
use crate::store::{Followed, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// An offer as the view keeps it: what the engine reads of it ([`OfferInput`]), less the
/// rendered id, and with the id of its delivery centre rather than a copy of the centre's
/// names (resolved when read, so a renamed centre needs no rewrite of its offers).
pub(super) struct OfferRow {
    title: Box<str>,
    pub(super) providers: Few<Alpha3>,
    pub(super) role: OfferRole,
    category: SupportCategory,
    capability: CapabilityArea,
    capacity: u32,
    consumed: u32,
    available_from: Day,
    available_until: Day,
    pub(super) eligible_recipients: Few<Alpha3>,
    pub(super) excluded_recipients: Few<Alpha3>,
    max_per_recipient: u32,
    delivery: Option<DeliveryRow>,
    pub(super) withdrawn: bool,
}

/// An offer's delivery terms as the view keeps them.
struct DeliveryRow {
    languages: Few<Language>,
    mode: DeliveryMode,
    centre: Option<Id>,
    duration_days: u32,
    women_only: bool,
    requires_funding: bool,
}

impl OfferRow {
    fn of(o: &Offer) -> OfferRow {
        OfferRow {
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
            delivery: o.spec.terms.delivery().map(|d| DeliveryRow {
                languages: Few::from_slice(&d.languages),
                mode: d.mode,
                centre: d.training_centre,
                duration_days: d.duration_days,
                women_only: d.women_only,
                requires_funding: d.requires_funding,
            }),
            withdrawn: o.withdrawn,
        }
    }

    fn kind(&self) -> OfferKind {
        (self.category, self.capability)
    }

    /// The centre the offer delivers at, when it names one.
    fn centre(&self) -> Option<Id> {
        self.delivery.as_ref().and_then(|d| d.centre)
    }

    pub(super) fn open_seats(&self) -> u32 {
        self.capacity.saturating_sub(self.consumed)
    }

    /// The engine's input for this offer under the id `id`, at `centre` (its delivery
    /// centre, when registered).
    pub(super) fn input(&self, id: String, centre: Option<matching::CentreRef>) -> OfferInput {
        OfferInput {
            id,
            title: self.title.to_string(),
            providers: self.providers.clone(),
            role: self.role,
            category: self.category,
            capability: self.capability,
            capacity: self.capacity,
            consumed: self.consumed,
            available_from: self.available_from,
            available_until: self.available_until,
            eligible_recipients: self.eligible_recipients.clone(),
            excluded_recipients: self.excluded_recipients.clone(),
            max_per_recipient: self.max_per_recipient,
            delivery: self.delivery.as_ref().map(|d| matching::DeliveryTerms {
                languages: d.languages.clone(),
                mode: d.mode,
                training_centre: centre,
                duration_days: i64::from(d.duration_days),
                women_only: d.women_only,
                requires_funding: d.requires_funding,
            }),
            withdrawn: self.withdrawn,
        }
    }
}

/// The view's copy of the followed tables.
#[derive(Default)]
pub(super) struct Tables {
    pub(super) needs: BTreeMap<Id, Box<NeedRow>>,
    /// Offers by (category, capability), both roles: a need's candidates and the funders
    /// that could pay for them are its kind's entry.
    pub(super) offers: HashMap<OfferKind, BTreeMap<Id, Box<OfferRow>>>,
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
                    t.needs.insert(*id, Box::new(NeedRow::of(need)));
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
                t.put_offer(*id, OfferRow::of(offer));
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
            // Offers at the centre name it in their reasons and parties: the engine is told
            // them again (their rows hold the centre's id, read when they become input).
            let at = t.offers.values().flat_map(|kind| kind.iter().filter(|(_, o)| o.centre() == Some(*id)));
            dirty.offers.extend(at.map(|(k, _)| *k));
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
        changes.extend(dirty.offers.iter().filter_map(|&id| Some(Change::PutOffer(t.offer_input(id, t.offer(id)?)))));
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
    fn offer(&self, id: Id) -> Option<&OfferRow> {
        self.offers.get(self.offer_kind.get(&id)?)?.get(&id).map(|o| &**o)
    }

    /// The engine's input for the offer `id`, whose row is `o`.
    pub(super) fn offer_input(&self, id: Id, o: &OfferRow) -> OfferInput {
        o.input(id.render(Kind::Offer), o.centre().and_then(|c| self.centres.get(&c)).cloned())
    }

    fn put_offer(&mut self, id: Id, offer: OfferRow) {
        let kind = offer.kind();
        self.offers.entry(kind).or_default().insert(id, Box::new(offer));
        self.offer_kind.insert(id, kind);
    }

    fn remove_offer(&mut self, id: Id) {
        if let Some(kind) = self.offer_kind.remove(&id) {
            if let Some(offers) = self.offers.get_mut(&kind) {
                offers.remove(&id);
            }
        }
    }

    pub(super) fn input(&self, today: Day, capabilities: Vec<CapabilityArea>) -> MatchInput {
        let wanted = |c: CapabilityArea| capabilities.is_empty() || capabilities.contains(&c);
        MatchInput {
            today,
            needs: self.needs.iter().filter(|(_, n)| wanted(n.capability)).map(|(&id, n)| n.input(id)).collect(),
            offers: {
                let mut offers: Vec<(Id, &OfferRow)> = self
                    .offers
                    .iter()
                    .filter(|(kind, _)| wanted(kind.1))
                    .flat_map(|(_, o)| o.iter().map(|(id, o)| (*id, &**o)))
                    .collect();
                offers.sort_by_key(|(id, _)| *id);
                offers.into_iter().map(|(id, o)| self.offer_input(id, o)).collect()
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
        needs.push((n.meta.id, Box::new(NeedRow::of(&n))));
    }
    t.needs = needs.into_iter().collect();
    let mut offers: HashMap<OfferKind, Vec<(Id, Box<OfferRow>)>> = HashMap::new();
    for o in store.scan::<Offer>(None) {
        let o = o?;
        let row = OfferRow::of(&o);
        t.offer_kind.insert(o.meta.id, row.kind());
        offers.entry(row.kind()).or_default().push((o.meta.id, Box::new(row)));
    }
    t.offers = offers.into_iter().map(|(kind, o)| (kind, o.into_iter().collect())).collect();
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
    NeedRow::of(n).input(n.meta.id)
}

/// An offer as the engine sees it, under the id `id`, at `centre` (its delivery centre,
/// when registered).
pub fn offer_input(o: &Offer, id: String, centre: Option<matching::CentreRef>) -> OfferInput {
    OfferRow::of(o).input(id, centre)
}
