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
use crate::matching::{self, Engine, MatchInput, ProposedMatch};
use crate::store::{CommitFollower, Followed, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

mod since;
mod tables;

use since::Recording;
pub use since::Since;
use tables::{Dirty, Tables, apply, read_tables};
pub use tables::{need_input, offer_input};

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
    /// Each commit's changes, while a stored proposal is under way ([`MatchView::record`]).
    recording: Option<Recording>,
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
    /// Stored proposals take turns ([`MatchView::take_turn`]).
    turn: Arc<tokio::sync::Mutex<()>>,
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
                recording: None,
            }),
            loaded: (Mutex::new(()), Condvar::new()),
            warm: Mutex::new(None),
            messages: Mutex::new(HashMap::new()),
            turn: Arc::default(),
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

    /// The turn of one stored proposal: held from its solve until its matches are visible
    /// (or given up), so proposals stage, supersede and reveal one at a time.
    pub async fn take_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }

    /// Records each commit's changes until the returned guard drops, for
    /// [`MatchView::changed_since`]. One recording at a time (stored proposals take turns).
    pub fn record(self: &Arc<Self>) -> Recorder {
        self.write().recording = Some(Recording::default());
        Recorder(self.clone())
    }

    /// What commits after `at` changed, if a recording that began before `at` kept it
    /// (`None`: no recording, or too much changed to keep).
    pub fn changed_since(&self, at: u64) -> Option<Since> {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).recording.as_ref()?.since(at)
    }

    /// The engine's whole input for `today`, limited to `capabilities` (empty: all), with
    /// the last commit it reflects.
    pub fn input(&self, today: Day, capabilities: &[CapabilityArea]) -> AppResult<(u64, MatchInput)> {
        let state = self.ready()?;
        Ok((state.changed_at, state.tables.input(today, capabilities.to_vec())))
    }

    /// A registered centre as the engine names it.
    pub fn centre(&self, id: Id) -> AppResult<Option<Arc<matching::CentreRef>>> {
        Ok(self.ready()?.tables.centres.get(&id).cloned())
    }

    /// The offers ExplainNeed weighs for `need` (its kind's, both roles), split by the
    /// read rule `may_read` judged on this view's copy of each: those it admits, and the
    /// others (which a state may still read as a party to one of their matches; the store
    /// knows). Judging on the copy reads nothing from the store, and judges the very
    /// offers the explanation is made of. `None`: no such need.
    pub fn candidates_by_readability(
        &self,
        need: Id,
        may_read: impl Fn(&OfferFace<'_>) -> bool,
    ) -> AppResult<Option<(BTreeSet<Id>, Vec<Id>)>> {
        let state = self.ready()?;
        let t = &state.tables;
        let Some(n) = t.needs.get(&need) else { return Ok(None) };
        let (mut readable, mut others) = (BTreeSet::new(), Vec::new());
        for (&id, o) in t.offers.get(&n.kind()).into_iter().flatten() {
            let o = &o.input;
            let face = OfferFace {
                providers: &o.providers,
                open: OfferState::of(o.withdrawn, o.open_seats()) == OfferState::Open,
                eligible: &o.eligible_recipients,
                excluded: &o.excluded_recipients,
            };
            if may_read(&face) {
                readable.insert(id);
            } else {
                others.push(id);
            }
        }
        Ok(Some((readable, others)))
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
        let Some(row) = t.needs.get(&need) else { return Ok(None) };
        let (n, requester) = (row.input(need), row.requester());
        let empty = BTreeMap::new();
        let offers = t.offers.get(&row.kind()).unwrap_or(&empty);
        let may_read = |id: &Id| readable.is_none_or(|r| r.contains(id));
        let consumption: Vec<matching::RecipientConsumption> = offers
            .keys()
            .filter_map(|&o| {
                t.recipient_seats.get(&(o, requester)).map(|&seats| matching::RecipientConsumption {
                    offer_id: o.render(Kind::Offer),
                    recipient: requester,
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
        let mut candidates = matching::explain_candidates(&ctx, &n, weighed);
        let before = candidates.len();
        if let Some(readable) = readable {
            candidates.retain(|c| Id::parse(Kind::Offer, &c.offer_id).is_some_and(|id| readable.contains(&id)));
        }
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
            let message = match cache.remove(&m.need) {
                Some((old, message)) if Arc::ptr_eq(&old, m) => message,
                _ => render(m)?,
            };
            out.push(message.clone());
            next.insert(m.need.clone(), (m.clone(), message));
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

/// Ends the recording [`MatchView::record`] began when dropped.
pub struct Recorder(Arc<MatchView>);

impl Drop for Recorder {
    fn drop(&mut self) {
        self.0.write().recording = None;
    }
}

impl CommitFollower for MatchView {
    fn committed(&self, commit: u64, changes: Vec<Followed>) {
        let mut state = self.write();
        state.changed_at = commit;
        let recording = state.recording.is_some();
        match &mut state.load {
            Load::Loading(told) => told.push(changes),
            Load::Ready if recording => {
                // This commit's changes alone, for the recording, then added to the rest.
                let before = std::mem::take(&mut state.dirty);
                apply(&mut state, &changes);
                let this = std::mem::replace(&mut state.dirty, before);
                state.dirty.merge(&this);
                if let Some(r) = state.recording.as_mut() {
                    r.push(commit, &this);
                }
            }
            Load::Ready => apply(&mut state, &changes),
            Load::Failed(_) => {}
        }
    }
}
