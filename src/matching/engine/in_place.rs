//! Changes the engine absorbs in place: a new need or offer, a withdrawn offer, a capacity
//! or priority change, each re-solving only the component it touches
//! ([`Engine::apply_in_place`]); what it cannot absorb it reports as a rebuild.

use super::*;

impl Engine {
    /// Updates the input, and the model when it can absorb the change.
    pub(super) fn apply_in_place(&mut self, change: Change) -> Result<Step, MatchError> {
        match change {
            Change::AddNeed(need) => self.add_need(need),
            Change::AddOffer(offer) => self.add_offer(offer),
            Change::WithdrawOffer(id) => {
                let offer = self.offer_mut(&id)?.clone();
                self.put_offer(OfferInput { withdrawn: true, ..offer })
            }
            Change::SetCapacity { offer_id, capacity } => {
                let offer = self.offer_mut(&offer_id)?.clone();
                self.put_offer(OfferInput { capacity, ..offer })
            }
            Change::PutOffer(offer) => self.put_offer(offer),
            Change::PutNeed(need) => {
                let Some(old) = self.need_at(&need.id) else {
                    return self.add_need(need);
                };
                if *old == need {
                    return Ok(Step::Warm(Vec::new()));
                }
                let priority = need.priority;
                let only_priority = NeedInput { priority, ..old.clone() } == need;
                let id = need.id.clone();
                *old = need;
                if only_priority { self.priority_changed(&id, priority) } else { Ok(Step::Cold) }
            }
            change @ (Change::SetRecipientSeats { .. } | Change::SetBarred { .. }) => {
                self.update_input(change);
                Ok(Step::Cold)
            }
            Change::SetPriority { need_id, priority } => {
                let Some(need) = self.need_at(&need_id) else {
                    return Err(MatchError::UnknownRecord(need_id));
                };
                need.priority = priority;
                self.priority_changed(&need_id, priority)
            }
        }
    }

    /// A need's priority changed (and nothing else of it): its flow model re-solves warm.
    fn priority_changed(&mut self, need_id: &str, priority: Priority) -> Result<Step, MatchError> {
        if self.solved.funded_ids.contains(need_id) {
            return Ok(Step::Cold);
        }
        match self.need_model.get(need_id) {
            Some(&k) => {
                let model = &mut self.solved.models[k];
                if let Some(n) = model.need_of(need_id) {
                    model.set_need_priority(n, priority);
                }
                Ok(Step::Warm(vec![k]))
            }
            None => Ok(Step::Warm(Vec::new())),
        }
    }

    fn add_need(&mut self, need: NeedInput) -> Result<Step, MatchError> {
        if self.need_at(&need.id).is_some() {
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
                        self.input.needs.push(need);
                        return Ok(Step::Cold);
                    }
                    pairs.push(offer.clone());
                }
            }
        }
        let touched: BTreeSet<usize> = pairs.iter().filter_map(|o| self.offer_model.get(&o.id).copied()).collect();
        if touched.len() > 1 {
            self.input.needs.push(need);
            return Ok(Step::Cold); // the need joins two components
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
        if self.offer_at(&offer.id).is_some() {
            return Err(MatchError::UnknownRecord(format!("offer {} already exists", offer.id)));
        }
        let id = offer.id.clone();
        let cold = |engine: &mut Engine, offer: OfferInput| {
            engine.input.offers.push(offer);
            Ok(Step::Cold)
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
        self.offer_at(id).ok_or_else(|| MatchError::UnknownRecord(id.to_string()))
    }

    /// An offer as it now is: a new one is added; one whose only change is its open seats
    /// (capacity, seats taken, withdrawal) re-solves its model warm, unless it comes back
    /// from no open seats (new pairs); any other change rebuilds.
    fn put_offer(&mut self, offer: OfferInput) -> Result<Step, MatchError> {
        let Some(old) = self.offer_at(&offer.id) else {
            return self.add_offer(offer);
        };
        if *old == offer {
            return Ok(Step::Warm(Vec::new()));
        }
        let open_of = |o: &OfferInput| if o.withdrawn { 0 } else { o.open_seats() };
        let (was_open, open) = (open_of(old), open_of(&offer));
        let same_but_seats = OfferInput {
            capacity: offer.capacity,
            consumed: offer.consumed,
            withdrawn: offer.withdrawn,
            ..old.clone()
        } == offer;
        let id = offer.id.clone();
        *old = offer;
        if !same_but_seats || (was_open == 0 && open > 0) {
            return Ok(Step::Cold); // new terms, or an exhausted offer comes back: new pairs
        }
        Ok(self.offer_open_changed(&id, open))
    }

    fn offer_open_changed(&mut self, id: &str, open: u32) -> Step {
        if self.solved.funded_ids.contains(id) {
            return Step::Cold;
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
