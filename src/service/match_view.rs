//! The matching engine's input, kept in memory from the store's commits instead of
//! scanned per call (issue 18), and the warm engine that solves it.
//!
//! [`MatchView`] follows the tables matching reads (needs, offers, centres, seats taken
//! per recipient, refusals) through [`Store::follow`]: each commit's changes are applied
//! under the writer gate, so the view is always exactly some commit's state, and ExplainNeed
//! reads only the need, the offers of its kind and their context (O(candidates)). Changes
//! since the last proposal are kept as dirty ids; a proposal hands them to the warm
//! [`matching::Engine`] as one batch (`apply_all`), which re-solves only what they touch and
//! rebuilds only the matches whose grants or records changed.
//!
//! Loading: the view registers as a follower first, then reads the store (without the
//! gate) and replays what it was told meanwhile; every change is a whole value, so the
//! replay after the read leaves exactly the latest commit's state.

use crate::domain::*;
use crate::error::{AppError, AppResult};
use crate::matching::rules::RuleContext;
use crate::matching::{self, Change, Engine, MatchInput, NeedInput, OfferInput, ProposedMatch};
use crate::store::{CommitFollower, Followed, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

type OfferKind = (SupportCategory, CapabilityArea);

/// An offer with the centre it names (its [`matching::CentreRef`] follows the centre).
#[derive(Clone)]
struct OfferEntry {
    input: OfferInput,
    centre: Option<Id>,
}

/// The engine-shaped copy of the followed tables.
#[derive(Default)]
struct Tables {
    needs: BTreeMap<Id, NeedInput>,
    /// Offers by (category, capability), both roles: a need's candidates and the funders
    /// that could pay for them are its kind's entry.
    offers: HashMap<OfferKind, BTreeMap<Id, OfferEntry>>,
    /// The kind of each offer.
    offer_kind: HashMap<Id, OfferKind>,
    centres: BTreeMap<Id, matching::CentreRef>,
    recipient_seats: BTreeMap<(Id, Alpha3), u32>,
    /// (need, offer) pairs a remembered refusal bars.
    barred: BTreeSet<(Id, Id)>,
}

/// What changed since the warm engine last took the changes.
#[derive(Default)]
struct Dirty {
    needs: BTreeSet<Id>,
    offers: BTreeSet<Id>,
    recipient_seats: BTreeSet<(Id, Alpha3)>,
    barred: BTreeSet<(Id, Id)>,
}

enum Load {
    /// Reading the store; the changes told meanwhile wait here.
    Loading(Vec<Vec<Followed>>),
    Ready,
    Failed(String),
}

struct State {
    load: Load,
    tables: Tables,
    dirty: Dirty,
    /// The last commit that changed a followed table (0: none since the view started).
    changed_at: u64,
}

/// The warm engine and what its input is as of.
struct Warm {
    engine: Engine,
    today: Day,
}

/// A proposal of the warm engine.
pub struct WarmProposal {
    /// The last commit (of a followed table) the proposal reflects: compare with
    /// [`MatchView::changed_at`] under the writer gate to know nothing changed since.
    pub changed_at: u64,
    pub matches: Vec<Arc<ProposedMatch>>,
    pub summary: matching::Summary,
}

/// See the module documentation.
pub struct MatchView {
    state: RwLock<State>,
    loaded: (Mutex<()>, Condvar),
    /// One proposal at a time works on the warm engine.
    warm: Mutex<Option<Warm>>,
    /// The messages of the last warm proposal's matches, by need: a match the engine shares
    /// again (the same allocation) is not converted again.
    messages: Mutex<HashMap<String, (Arc<ProposedMatch>, crate::api::Match)>>,
}

impl MatchView {
    /// Starts following `store` and loads the view on a thread of its own. If it cannot
    /// (a failed store, no thread), the view answers every call with that error.
    pub fn start(store: &Store) -> Arc<MatchView> {
        let view = Arc::new(MatchView {
            state: RwLock::new(State {
                load: Load::Loading(Vec::new()),
                tables: Tables::default(),
                dirty: Dirty::default(),
                changed_at: 0,
            }),
            loaded: (Mutex::new(()), Condvar::new()),
            warm: Mutex::new(None),
            messages: Mutex::new(HashMap::new()),
        });
        let started = store.follow(view.clone()).map_err(|e| e.to_string()).and_then(|_| {
            let (v, s) = (view.clone(), store.clone());
            std::thread::Builder::new()
                .name("lcm-match-view".into())
                .spawn(move || v.load(&s))
                .map(drop)
                .map_err(|e| format!("cannot start the matching view's loader: {e}"))
        });
        if let Err(e) = started {
            tracing::error!(error = %e, "the matching view cannot start");
            view.write().load = Load::Failed(e);
        }
        view
    }

    fn load(&self, store: &Store) {
        let started = std::time::Instant::now();
        let read = read_tables(store);
        let mut state = self.write();
        let told = match std::mem::replace(&mut state.load, Load::Ready) {
            Load::Loading(told) => told,
            other => {
                state.load = other;
                return;
            }
        };
        match read {
            Ok(tables) => {
                state.tables = tables;
                for changes in told {
                    apply(&mut state, &changes);
                }
                state.dirty = Dirty::default();
                tracing::info!(
                    needs = state.tables.needs.len(),
                    offers = state.tables.offer_kind.len(),
                    took_ms = started.elapsed().as_millis() as u64,
                    "matching view loaded"
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "the matching view could not read the store");
                state.load = Load::Failed(e.to_string());
            }
        }
        drop(state);
        let _guard = self.loaded.0.lock();
        self.loaded.1.notify_all();
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The view once loaded (waits for the loader).
    fn ready(&self) -> AppResult<std::sync::RwLockReadGuard<'_, State>> {
        let mut guard = self.loaded.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            {
                let state = self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner);
                match &state.load {
                    Load::Ready => return Ok(state),
                    Load::Failed(e) => {
                        return Err(AppError::Internal(format!("the matching view failed to load: {e}")));
                    }
                    Load::Loading(_) => {}
                }
            }
            guard = self
                .loaded
                .1
                .wait_timeout(guard, std::time::Duration::from_millis(100))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// The last commit that changed a followed table.
    pub fn changed_at(&self) -> u64 {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).changed_at
    }

    /// The engine's whole input for `today`, limited to `capabilities` (empty: all), with
    /// the last commit it reflects.
    pub fn input(&self, today: Day, capabilities: &[CapabilityArea]) -> AppResult<(u64, MatchInput)> {
        let state = self.ready()?;
        Ok((state.changed_at, state.tables.input(today, capabilities.to_vec())))
    }

    /// A registered centre as the engine names it.
    pub fn centre(&self, id: Id) -> AppResult<Option<matching::CentreRef>> {
        Ok(self.ready()?.tables.centres.get(&id).cloned())
    }

    /// The offers ExplainNeed weighs for `need` (its kind's, both roles), for a caller's
    /// readability check; `None`: no such need.
    pub fn candidate_ids(&self, need: Id) -> AppResult<Option<Vec<Id>>> {
        let state = self.ready()?;
        let t = &state.tables;
        let Some(n) = t.needs.get(&need) else { return Ok(None) };
        Ok(Some(t.offers.get(&(n.category, n.capability)).map(|o| o.keys().copied().collect()).unwrap_or_default()))
    }

    /// ExplainNeed for `need` on `today`: every candidate DELIVERY offer with its blockers,
    /// from the need, the offers of its kind and their context only (seats given to its
    /// requester, its refusals). With `readable` (the offers the caller may read; `None`:
    /// all), an unreadable FUNDING offer is left out (it can never pay for the caller: it
    /// is not OPEN or the caller is not eligible, so no verdict changes, only its name
    /// stays hidden) and unreadable candidates are only counted (the second figure).
    /// `None`: no such need.
    pub fn explain(
        &self,
        need: Id,
        today: Day,
        readable: Option<&BTreeSet<Id>>,
    ) -> AppResult<Option<(Vec<matching::Candidate>, u32)>> {
        let state = self.ready()?;
        let t = &state.tables;
        let Some(n) = t.needs.get(&need) else { return Ok(None) };
        let empty = BTreeMap::new();
        let offers = t.offers.get(&(n.category, n.capability)).unwrap_or(&empty);
        let may_read = |id: &Id| readable.is_none_or(|r| r.contains(id));
        let consumption: Vec<matching::RecipientConsumption> = offers
            .keys()
            .filter_map(|&o| {
                t.recipient_seats.get(&(o, n.requester)).map(|&seats| matching::RecipientConsumption {
                    offer_id: o.render(Kind::Offer),
                    recipient: n.requester,
                    seats,
                })
            })
            .collect();
        let barred: Vec<matching::BarredPair> = t
            .barred
            .range((need, Id(0))..=(need, Id(u64::MAX)))
            .map(|(n, o)| matching::BarredPair { need_id: n.render(Kind::Need), offer_id: o.render(Kind::Offer) })
            .collect();
        let ctx = RuleContext::from_parts(today, &barred, &consumption);
        let weighed =
            offers.iter().filter(|(id, o)| o.input.role != OfferRole::Funding || may_read(id)).map(|(_, o)| &o.input);
        let mut candidates = matching::explain_candidates(&ctx, n, weighed);
        let before = candidates.len();
        candidates.retain(|c| Id::parse(Kind::Offer, &c.offer_id).is_some_and(|id| may_read(&id)));
        let unreadable = u32::try_from(before - candidates.len()).unwrap_or(u32::MAX);
        Ok(Some((candidates, unreadable)))
    }

    /// The optimal proposal over every capability for `today`, from the warm engine: the
    /// changes since the last proposal go in as one batch (a new day, or an engine that
    /// failed, starts it again cold).
    pub fn propose(&self, today: Day, stop: &matching::Stop) -> AppResult<WarmProposal> {
        let mut warm = self.warm.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let started = std::time::Instant::now();
        let outcome = self.bring_up_to_date(&mut warm, today, stop);
        let changed_at = match outcome {
            Ok(at) => at,
            Err(e) => {
                *warm = None;
                return Err(e);
            }
        };
        let Some(w) = warm.as_mut() else { return Err(AppError::Internal("the warm engine is missing".into())) };
        let (matches, mut summary) = w.engine.proposal_shared();
        summary.solve_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Ok(WarmProposal { changed_at, matches, summary })
    }

    /// `matches` (of a warm proposal) as messages: each one `render` made for the same
    /// shared match last time is reused, the others are rendered.
    pub fn messages(
        &self,
        matches: &[Arc<ProposedMatch>],
        render: impl Fn(&ProposedMatch) -> AppResult<crate::api::Match>,
    ) -> AppResult<Vec<crate::api::Match>> {
        let mut cache = self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = HashMap::with_capacity(matches.len());
        let mut out = Vec::with_capacity(matches.len());
        for m in matches {
            let message = match cache.remove(&m.need_id) {
                Some((old, message)) if Arc::ptr_eq(&old, m) => message,
                _ => render(m)?,
            };
            out.push(message.clone());
            next.insert(m.need_id.clone(), (m.clone(), message));
        }
        *cache = next;
        Ok(out)
    }

    /// Gives the warm engine the changes since it last took them (or builds it); returns
    /// the commit its input now reflects.
    fn bring_up_to_date(
        &self,
        warm: &mut MutexGuard<'_, Option<Warm>>,
        today: Day,
        stop: &matching::Stop,
    ) -> AppResult<u64> {
        drop(self.ready()?);
        let mut state = self.write();
        let changed_at = state.changed_at;
        match warm.as_mut() {
            Some(w) if w.today == today => {
                let changes = state.take_changes();
                drop(state);
                if !changes.is_empty() {
                    w.engine.apply_all_until(changes, stop)?;
                }
            }
            _ => {
                state.dirty = Dirty::default();
                let input = state.tables.input(today, Vec::new());
                drop(state);
                **warm = Some(Warm { engine: Engine::new_until(input, stop)?, today });
            }
        }
        Ok(changed_at)
    }
}

impl CommitFollower for MatchView {
    fn committed(&self, commit: u64, changes: Vec<Followed>) {
        let mut state = self.write();
        state.changed_at = commit;
        match &mut state.load {
            Load::Loading(told) => told.push(changes),
            Load::Ready => apply(&mut state, &changes),
            Load::Failed(_) => {}
        }
    }
}

/// Applies one commit's changes to the tables and marks them dirty.
fn apply(state: &mut State, changes: &[Followed]) {
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
    fn take_changes(&mut self) -> Vec<Change> {
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

    fn input(&self, today: Day, capabilities: Vec<CapabilityArea>) -> MatchInput {
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
fn read_tables(store: &Store) -> AppResult<Tables> {
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
        languages: d.languages.clone(),
        mode: d.mode,
        training_centre: centre,
        duration_days: i64::from(d.duration_days),
        women_only: d.women_only,
        requires_funding: d.requires_funding,
    });
    OfferInput {
        id,
        title: o.spec.title.clone(),
        providers: o.spec.providers.clone(),
        role: o.spec.terms.role(),
        category: o.spec.category,
        capability: o.spec.capability,
        capacity: o.spec.capacity,
        consumed: o.seats.consumed(),
        available_from: day(o.spec.available_from),
        available_until: day(o.spec.available_until),
        eligible_recipients: o.spec.eligible_recipients.clone(),
        excluded_recipients: o.spec.excluded_recipients.clone(),
        max_per_recipient: o.spec.max_per_recipient,
        delivery,
        withdrawn: o.withdrawn,
    }
}
