//! Incremental re-matching: an [`Engine`] keeps one flow model (with its solver state) per
//! unfunded connected component, so a single change (a new need, a withdrawn offer, a
//! capacity change, a priority change) re-solves only the component it touches, warm from
//! the previous optimum. A change that touches a funded component, joins two components or
//! reopens an exhausted offer falls back to a rebuild, in which every funded component
//! that does not contain the changed record keeps its previous grants (same data, same
//! optimum) and only the touched one is solved again; either way the result is the exact
//! optimum of the changed input.

use super::input::{MatchInput, NeedInput, OfferInput};
use super::network::FlowModel;
use super::prepare::Prepared;
use super::rules::{RuleContext, delivery_allowed};
use super::solution::MatchError;
use super::{Proposal, Solved, build, output, solve_prepared};
use crate::domain::Priority;
use std::collections::{BTreeSet, HashMap};

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
}

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
}

/// What a change needs after the input is updated.
enum Step {
    /// Re-solve these models warm (possibly none).
    Warm(Vec<usize>),
    /// Rebuild; funded components not containing this record id keep their grants.
    Cold(String),
}

impl Engine {
    /// Solves `input` cold.
    pub fn new(input: MatchInput) -> Result<Engine, MatchError> {
        let solved = solve_prepared(&Prepared::new(&input))?;
        let ctx = RuleContext::new(&input);
        let mut engine = Engine {
            input,
            solved,
            ctx,
            need_model: HashMap::new(),
            offer_model: HashMap::new(),
            model_objective: Vec::new(),
            last_was_warm: false,
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

    /// The full proposal of the current optimum (allocations, reasons, summary).
    pub fn proposal(&self) -> Proposal {
        output::assemble(&Prepared::new(&self.input), self.solved.grants(), 0)
    }

    /// Applies one change and re-solves; returns the new goal totals.
    pub fn apply(&mut self, change: Change) -> Result<[i64; 6], MatchError> {
        match self.apply_in_place(change)? {
            Step::Warm(models) => {
                for k in models {
                    if let Some(model) = self.solved.models.get_mut(k) {
                        model.solve()?;
                        self.model_objective[k] = model.objective();
                    }
                }
                self.last_was_warm = true;
            }
            Step::Cold(changed) => {
                let prepared = Prepared::new(&self.input);
                self.solved = build(&prepared).solve_reusing(&prepared, Some((&self.solved, &changed)))?;
                self.ctx = RuleContext::new(&self.input);
                self.index();
                self.last_was_warm = false;
            }
        }
        Ok(self.objective())
    }

    fn wanted(&self, c: crate::domain::CapabilityArea) -> bool {
        self.input.capabilities.is_empty() || self.input.capabilities.contains(&c)
    }

    /// Updates the input, and the model when it can absorb the change.
    fn apply_in_place(&mut self, change: Change) -> Result<Step, MatchError> {
        match change {
            Change::AddNeed(need) => self.add_need(need),
            Change::AddOffer(offer) => self.add_offer(offer),
            Change::WithdrawOffer(id) => {
                self.offer_mut(&id)?.withdrawn = true;
                Ok(self.offer_open_changed(&id, 0))
            }
            Change::SetCapacity { offer_id, capacity } => {
                let offer = self.offer_mut(&offer_id)?;
                let was_open = if offer.withdrawn { 0 } else { offer.open_seats() };
                offer.capacity = capacity;
                let open = if offer.withdrawn { 0 } else { offer.open_seats() };
                if was_open == 0 && open > 0 {
                    return Ok(Step::Cold(offer_id)); // an exhausted offer comes back: new pairs
                }
                Ok(self.offer_open_changed(&offer_id, open))
            }
            Change::SetPriority { need_id, priority } => {
                let Some(need) = self.input.needs.iter_mut().find(|n| n.id == need_id) else {
                    return Err(MatchError::UnknownRecord(need_id));
                };
                need.priority = priority;
                if self.solved.funded_ids.contains(&need_id) {
                    return Ok(Step::Cold(need_id));
                }
                match self.need_model.get(&need_id) {
                    Some(&k) => {
                        let model = &mut self.solved.models[k];
                        if let Some(n) = model.need_of(&need_id) {
                            model.set_need_priority(n, priority);
                        }
                        Ok(Step::Warm(vec![k]))
                    }
                    None => Ok(Step::Warm(Vec::new())),
                }
            }
        }
    }

    fn add_need(&mut self, need: NeedInput) -> Result<Step, MatchError> {
        if self.input.needs.iter().any(|n| n.id == need.id) {
            return Err(MatchError::UnknownRecord(format!("need {} already exists", need.id)));
        }
        let mut offers: Vec<&OfferInput> = self.input.offers.iter().collect();
        offers.sort_by(|a, b| a.id.cmp(&b.id));
        offers.dedup_by(|b, a| a.id == b.id);
        let mut pairs: Vec<OfferInput> = Vec::new();
        if self.wanted(need.capability) {
            for offer in offers {
                if self.wanted(offer.capability) && delivery_allowed(&self.ctx, &need, offer) {
                    if offer.requires_funding() || self.solved.funded_ids.contains(&offer.id) {
                        let id = need.id.clone();
                        self.input.needs.push(need);
                        return Ok(Step::Cold(id));
                    }
                    pairs.push(offer.clone());
                }
            }
        }
        let touched: BTreeSet<usize> = pairs.iter().filter_map(|o| self.offer_model.get(&o.id).copied()).collect();
        if touched.len() > 1 {
            let id = need.id.clone();
            self.input.needs.push(need);
            return Ok(Step::Cold(id)); // the need joins two components
        }
        if pairs.is_empty() {
            self.input.needs.push(need);
            return Ok(Step::Warm(Vec::new()));
        }
        let k = match touched.first() {
            Some(&k) => k,
            None => {
                let base_until = pairs.iter().map(|o| o.available_until).min().unwrap_or(0);
                self.solved.models.push(FlowModel::new(need.needed_by, base_until));
                self.model_objective.push([0; 6]);
                self.solved.models.len() - 1
            }
        };
        let model = &mut self.solved.models[k];
        let n = model.add_need(&need);
        for offer in &pairs {
            let o = model.add_offer(offer);
            model.add_pair(n, o, self.ctx.cap_left(offer, need.requester), need.open_seats());
            self.offer_model.insert(offer.id.clone(), k);
        }
        self.need_model.insert(need.id.clone(), k);
        self.input.needs.push(need);
        Ok(Step::Warm(vec![k]))
    }

    /// A new delivery offer that pairs only with needs of one unfunded component joins
    /// that component's model (warm); anything else (a funding offer, one that requires
    /// funding, pairs with a funded need, joins components or starts a new one) rebuilds.
    fn add_offer(&mut self, offer: OfferInput) -> Result<Step, MatchError> {
        if self.input.offers.iter().any(|o| o.id == offer.id) {
            return Err(MatchError::UnknownRecord(format!("offer {} already exists", offer.id)));
        }
        let id = offer.id.clone();
        let cold = |engine: &mut Engine, offer: OfferInput| {
            engine.input.offers.push(offer);
            Ok(Step::Cold(id.clone()))
        };
        if offer.role != crate::domain::OfferRole::Delivery || offer.requires_funding() {
            return cold(self, offer);
        }
        let mut pairs: Vec<NeedInput> = Vec::new();
        if self.wanted(offer.capability) {
            for need in &self.input.needs {
                if self.wanted(need.capability) && delivery_allowed(&self.ctx, need, &offer) {
                    if self.solved.funded_ids.contains(&need.id) {
                        return cold(self, offer);
                    }
                    pairs.push(need.clone());
                }
            }
        }
        pairs.sort_by(|a, b| a.id.cmp(&b.id));
        pairs.dedup_by(|b, a| a.id == b.id);
        if pairs.is_empty() {
            self.input.offers.push(offer);
            return Ok(Step::Warm(Vec::new()));
        }
        let touched: BTreeSet<usize> = pairs.iter().filter_map(|n| self.need_model.get(&n.id).copied()).collect();
        let (Some(&k), 1) = (touched.first(), touched.len()) else {
            return cold(self, offer); // a new component, or it joins two
        };
        let model = &mut self.solved.models[k];
        let o = model.add_offer(&offer);
        for need in &pairs {
            let n = model.add_need(need);
            model.add_pair(n, o, self.ctx.cap_left(&offer, need.requester), need.open_seats());
            self.need_model.insert(need.id.clone(), k);
        }
        self.offer_model.insert(id, k);
        self.input.offers.push(offer);
        Ok(Step::Warm(vec![k]))
    }

    fn offer_mut(&mut self, id: &str) -> Result<&mut OfferInput, MatchError> {
        self.input.offers.iter_mut().find(|o| o.id == id).ok_or_else(|| MatchError::UnknownRecord(id.to_string()))
    }

    fn offer_open_changed(&mut self, id: &str, open: u32) -> Step {
        if self.solved.funded_ids.contains(id) {
            return Step::Cold(id.to_string());
        }
        match self.offer_model.get(id) {
            Some(&k) => {
                let model = &mut self.solved.models[k];
                if let Some(o) = model.offer_of(id) {
                    model.set_offer_open(o, open);
                }
                Step::Warm(vec![k])
            }
            // Not in any flow model: it had no allowed pair and still has none (a reopened
            // offer went cold above; funders live only in funded components).
            None => Step::Warm(Vec::new()),
        }
    }
}
