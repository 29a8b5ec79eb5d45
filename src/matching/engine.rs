//! Incremental re-matching: an [`Engine`] keeps one flow model (with its solver state) per
//! unfunded connected component, so a single change (a new need, a withdrawn offer, a
//! capacity change, a priority change) re-solves only the component it touches, warm from
//! the previous optimum. A change that touches a funded component, joins two components or
//! reopens an exhausted offer falls back to a rebuild, in which every funded component
//! that does not contain the changed record keeps its previous grants (same data, same
//! optimum) and only the touched one is solved again; either way the result is the exact
//! optimum of the changed input.

use super::input::{BarredPair, RecipientConsumption};
use super::input::{MatchInput, NeedInput, OfferInput};
use super::network::FlowModel;
use super::output::ProposedMatch;
use super::prepare::Prepared;
use super::rules::{RuleContext, delivery_allowed};
use super::solution::SeatGrant;
use super::solution::{MatchError, Stop};
use super::{Proposal, Solved, build, output, solve_prepared};
use crate::domain::{Alpha3, Priority};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

mod in_place;

/// One change to the engine's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    AddNeed(NeedInput),
    /// A new offer (a what-if's hypothetical offer).
    AddOffer(OfferInput),
    WithdrawOffer(String),
    SetCapacity {
        offer_id: String,
        capacity: u32,
    },
    SetPriority {
        need_id: String,
        priority: Priority,
    },
    /// A need as it now is, new or changed (the service's view of a commit).
    PutNeed(NeedInput),
    /// An offer as it now is, new or changed.
    PutOffer(OfferInput),
    /// Seats of an offer now reserved or delivered for one recipient (its per-recipient cap).
    SetRecipientSeats {
        offer_id: String,
        recipient: Alpha3,
        seats: u32,
    },
    /// A remembered refusal now bars this pair (`barred`), or no longer does.
    SetBarred {
        need_id: String,
        offer_id: String,
        barred: bool,
    },
}

impl Change {
    /// The records whose data this change touches.
    fn ids(&self) -> Vec<String> {
        match self {
            Change::AddNeed(n) | Change::PutNeed(n) => vec![n.id.clone()],
            Change::AddOffer(o) | Change::PutOffer(o) => vec![o.id.clone()],
            Change::WithdrawOffer(id) => vec![id.clone()],
            Change::SetCapacity { offer_id, .. } | Change::SetRecipientSeats { offer_id, .. } => vec![offer_id.clone()],
            Change::SetPriority { need_id, .. } => vec![need_id.clone()],
            Change::SetBarred { need_id, offer_id, .. } => vec![need_id.clone(), offer_id.clone()],
        }
    }
}

/// Batches longer than this rebuild instead of fitting each change in warm.
const WARM_BATCH: usize = 64;

/// The input plus the solved state.
pub struct Engine {
    input: MatchInput,
    solved: Solved,
    ctx: RuleContext,
    need_model: HashMap<String, usize>,
    offer_model: HashMap<String, usize>,
    model_objective: Vec<[i128; 6]>,
    /// Whether the last `apply` was solved warm (false: it fell back to a cold build).
    pub last_was_warm: bool,
    /// The last proposal's matches by need, with the grants each was built from, reused
    /// by the next [`Engine::proposal_shared`] for needs whose grants and records did not
    /// change.
    last_output: BTreeMap<String, (Vec<SeatGrant>, Arc<ProposedMatch>)>,
    /// Records changed since `last_output` was built.
    touched: BTreeSet<String>,
    /// Flow models re-solved warm since `last_output` was built; `None`: rebuilt (every
    /// grant may have changed).
    resolved: Option<BTreeSet<usize>>,
    /// Where the first record of each id sits in the input (appended to as it grows).
    need_pos: HashMap<String, usize>,
    offer_pos: HashMap<String, usize>,
    /// How many needs and offers of the input the position maps cover.
    indexed: (usize, usize),
}

/// What a change needs after the input is updated.
enum Step {
    /// Re-solve these models warm (possibly none).
    Warm(Vec<usize>),
    /// Rebuild; funded components not containing the changed records keep their grants.
    Cold,
}

impl Engine {
    /// Solves `input` cold.
    pub fn new(input: MatchInput) -> Result<Engine, MatchError> {
        Engine::new_until(input, &Stop::never())
    }

    /// [`Engine::new`], giving up with [`MatchError::Stopped`] once `stop` is pulled.
    pub fn new_until(input: MatchInput, stop: &Stop) -> Result<Engine, MatchError> {
        let solved = solve_prepared(&Prepared::with_stop(&input, stop.clone())?)?;
        let ctx = RuleContext::new(&input);
        let mut engine = Engine {
            input,
            solved,
            ctx,
            need_model: HashMap::new(),
            offer_model: HashMap::new(),
            model_objective: Vec::new(),
            last_was_warm: false,
            last_output: BTreeMap::new(),
            touched: BTreeSet::new(),
            resolved: None,
            need_pos: HashMap::new(),
            offer_pos: HashMap::new(),
            indexed: (0, 0),
        };
        engine.index();
        Ok(engine)
    }

    fn index(&mut self) {
        self.need_model.clear();
        self.offer_model.clear();
        for (k, model) in self.solved.models.iter().enumerate() {
            self.need_model.extend(model.need_ids().map(|id| (id.to_string(), k)));
            self.offer_model.extend(model.offer_ids().map(|id| (id.to_string(), k)));
        }
        self.model_objective = self.solved.models.iter().map(FlowModel::objective).collect();
    }

    /// The current input.
    pub fn input(&self) -> &MatchInput {
        &self.input
    }

    /// The six goal totals of the current optimum.
    pub fn objective(&self) -> [i64; 6] {
        let mut total = self.solved.funded_objective.map(i128::from);
        for o in &self.model_objective {
            for (t, x) in total.iter_mut().zip(o) {
                *t += x;
            }
        }
        total.map(|t| t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    /// The full proposal of the current optimum (allocations, reasons, summary), built
    /// from scratch.
    pub fn proposal(&self) -> Proposal {
        output::assemble(&Prepared::new(&self.input), self.solved.grants(), 0)
    }

    /// The same proposal as [`Engine::proposal`] (its matches shared), rebuilding only the
    /// matches that may have changed since the last call: after warm re-solves, those of
    /// the needs in the re-solved models, of changed needs and of needs granted a changed
    /// offer; after a rebuild, those whose grants or records changed. After a small change
    /// it costs a walk over one component's grants, not a rebuild of every match.
    pub fn proposal_shared(&mut self) -> (Vec<Arc<ProposedMatch>>, output::Summary) {
        self.index_positions();
        let redo = self.resolved.take().map(|models| self.grants_to_redo(&models));
        match redo {
            Some(redo) => {
                for (need_id, list) in redo {
                    self.last_output.remove(&need_id);
                    if let Some(m) = self.build_one(&need_id, &list) {
                        self.last_output.insert(need_id, (list, m));
                    }
                }
            }
            None => self.rebuild_output(),
        }
        self.resolved = Some(BTreeSet::new());
        self.touched.clear();
        let matches: Vec<Arc<ProposedMatch>> = self.last_output.values().map(|(_, m)| m.clone()).collect();
        let summary = output::summarize_matches(&self.input, &matches, self.objective());
        (matches, summary)
    }

    /// Extends the position maps over records appended since the last call (records are
    /// only ever appended or replaced in place).
    fn index_positions(&mut self) {
        for (i, n) in self.input.needs.iter().enumerate().skip(self.indexed.0) {
            self.need_pos.entry(n.id.clone()).or_insert(i);
        }
        for (i, o) in self.input.offers.iter().enumerate().skip(self.indexed.1) {
            self.offer_pos.entry(o.id.clone()).or_insert(i);
        }
        self.indexed = (self.input.needs.len(), self.input.offers.len());
    }

    /// The first need with this id.
    fn need_at(&mut self, id: &str) -> Option<&mut NeedInput> {
        self.index_positions();
        let i = *self.need_pos.get(id)?;
        self.input.needs.get_mut(i)
    }

    /// The first offer with this id.
    fn offer_at(&mut self, id: &str) -> Option<&mut OfferInput> {
        self.index_positions();
        let i = *self.offer_pos.get(id)?;
        self.input.offers.get_mut(i)
    }

    /// The needs whose match may have changed after warm re-solves of `models`, each with
    /// its current grants (sorted).
    fn grants_to_redo(&self, models: &BTreeSet<usize>) -> BTreeMap<String, Vec<SeatGrant>> {
        let mut redo: BTreeMap<String, Vec<SeatGrant>> = BTreeMap::new();
        let mut from_models: BTreeSet<usize> = models.clone();
        let mut needs: BTreeSet<String> = BTreeSet::new();
        for k in models {
            if let Some(model) = self.solved.models.get(*k) {
                needs.extend(model.need_ids().map(str::to_string));
            }
        }
        if !self.touched.is_empty() {
            needs.extend(self.touched.iter().filter(|id| self.need_pos.contains_key(*id)).cloned());
            for (need, (grants, _)) in &self.last_output {
                let named = |g: &SeatGrant| {
                    self.touched.contains(&g.offer_id) || g.funder_id.as_ref().is_some_and(|f| self.touched.contains(f))
                };
                if grants.iter().any(named) {
                    needs.insert(need.clone());
                }
            }
        }
        from_models.extend(needs.iter().filter_map(|n| self.need_model.get(n).copied()));
        for k in from_models {
            if let Some(model) = self.solved.models.get(k) {
                for g in model.grants() {
                    if needs.contains(&g.need_id) {
                        redo.entry(g.need_id.clone()).or_default().push(g);
                    }
                }
            }
        }
        for g in &self.solved.funded_grants {
            if g.seats > 0 && needs.contains(&g.need_id) {
                redo.entry(g.need_id.clone()).or_default().push(g.clone());
            }
        }
        for need in needs {
            redo.entry(need).or_default();
        }
        for list in redo.values_mut() {
            list.retain(|g| g.seats > 0);
            list.sort();
        }
        redo
    }

    /// Rebuilds every match, reusing those whose grants and records did not change.
    fn rebuild_output(&mut self) {
        let mut grants = self.solved.grants();
        grants.sort();
        let mut by_need: BTreeMap<String, Vec<SeatGrant>> = BTreeMap::new();
        for g in grants.into_iter().filter(|g| g.seats > 0) {
            match by_need.get_mut(&g.need_id) {
                Some(list) => list.push(g),
                None => {
                    by_need.insert(g.need_id.clone(), vec![g]);
                }
            }
        }
        let mut previous = std::mem::take(&mut self.last_output);
        let mut out = BTreeMap::new();
        for (need_id, list) in by_need {
            let unchanged = |g: &SeatGrant| {
                !self.touched.contains(&g.offer_id) && g.funder_id.as_ref().is_none_or(|f| !self.touched.contains(f))
            };
            let built = match previous.remove(&need_id) {
                Some((old, m)) if old == list && !self.touched.contains(&need_id) && list.iter().all(unchanged) => {
                    Some(m)
                }
                _ => self.build_one(&need_id, &list),
            };
            if let Some(m) = built {
                out.insert(need_id, (list, m));
            }
        }
        self.last_output = out;
    }

    /// The match of one need from its grants (none when it has no grant or is unknown).
    fn build_one(&self, need_id: &str, grants: &[SeatGrant]) -> Option<Arc<ProposedMatch>> {
        if grants.is_empty() {
            return None;
        }
        let need = self.need_pos.get(need_id).and_then(|&i| self.input.needs.get(i))?;
        let mut offers: HashMap<&str, &OfferInput> = HashMap::new();
        for g in grants {
            for id in std::iter::once(&g.offer_id).chain(g.funder_id.as_ref()) {
                if let Some(o) = self.offer_pos.get(id).and_then(|&i| self.input.offers.get(i)) {
                    offers.insert(id.as_str(), o);
                }
            }
        }
        let refs: Vec<&SeatGrant> = grants.iter().collect();
        output::build_match(self.ctx.today, need, &refs, &offers).map(Arc::new)
    }

    /// Applies one change and re-solves; returns the new goal totals.
    pub fn apply(&mut self, change: Change) -> Result<[i64; 6], MatchError> {
        self.apply_all(vec![change])
    }

    /// Applies the changes in order and re-solves once: warm when every change fits the
    /// models in place, else one rebuild in which only the funded components holding a
    /// changed record are solved again. Returns the new goal totals.
    pub fn apply_all(&mut self, changes: Vec<Change>) -> Result<[i64; 6], MatchError> {
        self.apply_all_until(changes, &Stop::never())
    }

    /// [`Engine::apply_all`], giving up with [`MatchError::Stopped`] once `stop` is pulled:
    /// the engine is then half updated, fit only to be dropped.
    pub fn apply_all_until(&mut self, changes: Vec<Change>, stop: &Stop) -> Result<[i64; 6], MatchError> {
        let mut warm = BTreeSet::new();
        // A long batch (a busy spell of writes) rebuilds at once: fitting each change into
        // the models costs a pass over the other side's records, more than one rebuild.
        let mut cold: Option<BTreeSet<String>> = (changes.len() > WARM_BATCH).then(BTreeSet::new);
        for change in changes {
            let ids = change.ids();
            self.touched.extend(ids.iter().cloned());
            match &mut cold {
                Some(changed) => {
                    self.update_input(change);
                    changed.extend(ids);
                }
                None => match self.apply_in_place(change)? {
                    Step::Warm(models) => warm.extend(models),
                    Step::Cold => cold = Some(ids.into_iter().collect()),
                },
            }
        }
        match cold {
            None => {
                for &k in &warm {
                    if let Some(model) = self.solved.models.get_mut(k) {
                        model.solve(stop)?;
                        self.model_objective[k] = model.objective();
                    }
                }
                if let Some(resolved) = &mut self.resolved {
                    resolved.extend(warm);
                }
                self.last_was_warm = true;
            }
            Some(changed) => {
                self.ctx = RuleContext::new(&self.input);
                let prepared = Prepared::with_stop(&self.input, stop.clone())?;
                self.solved = build(&prepared).solve_reusing(&prepared, Some((&self.solved, &changed)))?;
                self.index();
                self.resolved = None;
                self.last_was_warm = false;
            }
        }
        Ok(self.objective())
    }

    /// Applies `change` to the input only (a rebuild follows).
    fn update_input(&mut self, change: Change) {
        match change {
            Change::AddNeed(n) => self.input.needs.push(n),
            Change::AddOffer(o) => self.input.offers.push(o),
            Change::PutNeed(n) => match self.need_at(&n.id) {
                Some(x) => *x = n,
                None => self.input.needs.push(n),
            },
            Change::PutOffer(o) => match self.offer_at(&o.id) {
                Some(x) => *x = o,
                None => self.input.offers.push(o),
            },
            Change::WithdrawOffer(id) => {
                self.input.offers.iter_mut().filter(|o| o.id == id).for_each(|o| o.withdrawn = true)
            }
            Change::SetCapacity { offer_id, capacity } => {
                self.input.offers.iter_mut().filter(|o| o.id == offer_id).for_each(|o| o.capacity = capacity);
            }
            Change::SetPriority { need_id, priority } => {
                self.input.needs.iter_mut().filter(|n| n.id == need_id).for_each(|n| n.priority = priority);
            }
            Change::SetRecipientSeats { offer_id, recipient, seats } => {
                let list = &mut self.input.recipient_consumption;
                list.retain(|c| c.offer_id != offer_id || c.recipient != recipient);
                list.push(RecipientConsumption { offer_id, recipient, seats });
            }
            Change::SetBarred { need_id, offer_id, barred } => {
                self.input.barred.retain(|b| b.need_id != need_id || b.offer_id != offer_id);
                if barred {
                    self.input.barred.push(BarredPair { need_id, offer_id });
                }
            }
        }
    }

    fn wanted(&self, c: crate::domain::CapabilityArea) -> bool {
        self.input.capabilities.is_empty() || self.input.capabilities.contains(&c)
    }
}
