//! One state change of the matching workflow, under the writer gate: reads records,
//! changes them in memory (so a need touched twice in one change is written once), and
//! writes everything — records, indexes, seat counters, refusals, events — into the
//! change's single `WriteSet`.

use super::*;
use std::collections::BTreeMap;

/// One change of the workflow being decided: the records it read and changed so far, and
/// the `WriteSet` it fills. Nothing is stored until the caller commits the set.
pub struct WorkflowChange<'a> {
    store: &'a Store,
    ws: &'a mut WriteSet,
    pub now: UnixMicros,
    actor: &'a str,
    needs: BTreeMap<Id, Need>,
    offers: BTreeMap<Id, Offer>,
    recipient_seats: BTreeMap<(Id, Alpha3), u32>,
    matches: BTreeMap<Id, Match>,
}

impl<'a> WorkflowChange<'a> {
    pub fn new(store: &'a Store, ws: &'a mut WriteSet, now: UnixMicros, actor: &'a str) -> WorkflowChange<'a> {
        WorkflowChange {
            store,
            ws,
            now,
            actor,
            needs: BTreeMap::new(),
            offers: BTreeMap::new(),
            recipient_seats: BTreeMap::new(),
            matches: BTreeMap::new(),
        }
    }

    pub fn need(&mut self, id: Id) -> AppResult<Need> {
        if let Some(n) = self.needs.get(&id) {
            return Ok(n.clone());
        }
        self.store.get::<Need>(id)?.ok_or_else(|| not_found(Kind::Need, id))
    }

    pub fn offer(&mut self, id: Id) -> AppResult<Offer> {
        if let Some(o) = self.offers.get(&id) {
            return Ok(o.clone());
        }
        self.store.get::<Offer>(id)?.ok_or_else(|| not_found(Kind::Offer, id))
    }

    fn recipient_seats(&mut self, offer: Id, state: Alpha3) -> AppResult<u32> {
        if let Some(n) = self.recipient_seats.get(&(offer, state)) {
            return Ok(*n);
        }
        Ok(self.store.recipient_seats(offer, state)?)
    }

    fn event(&mut self, kind: EventKind, resource: EventResource) {
        self.ws.event(kind, self.now, self.actor, resource);
    }

    /// Stores a freshly proposed match with its indexes.
    pub fn put_new_match(&mut self, m: &Match) {
        self.ws.put_new_match(m);
        self.record_match(m, EventKind::MatchProposed);
    }

    /// Stores a match in its new state with its event.
    pub fn put_match(&mut self, m: &Match, kind: EventKind) {
        self.ws.put_match(m);
        self.record_match(m, kind);
    }

    /// Keeps the match as this change leaves it, with its event.
    fn record_match(&mut self, m: &Match, kind: EventKind) {
        self.matches.insert(m.meta.id, m.clone());
        self.event(kind, EventResource::Match(m.clone()));
    }

    fn stale(&mut self, m: Match) {
        let m = Match { meta: m.meta.touched(self.now), state: MatchState::Stale, ..m };
        self.put_match(&m, EventKind::MatchStale);
    }

    /// Marks STALE every PROPOSED match that `pick` selects.
    pub fn stale_proposals(&mut self, pick: impl Fn(&Match) -> bool) -> AppResult<()> {
        for id in self.store.proposed_matches()? {
            if let Some(m) = self.store.get::<Match>(id)? {
                if m.state == MatchState::Proposed && pick(&m) {
                    self.stale(m);
                }
            }
        }
        Ok(())
    }

    /// After an update of a need or offer: its PROPOSED matches turn STALE and the
    /// refusals it was part of are forgotten.
    pub fn resource_updated(&mut self, kind: Kind, id: Id) -> AppResult<()> {
        let (matches, refusals) = match kind {
            Kind::Need => (self.store.matches_of_need(id)?, self.store.refusals_of_need(id)?),
            _ => (self.store.matches_of_offer(id)?, self.store.refusals_of_offer(id)?),
        };
        for mid in matches {
            if let Some(m) = self.store.get::<Match>(mid)? {
                if m.state == MatchState::Proposed {
                    self.stale(m);
                }
            }
        }
        for other in refusals {
            match kind {
                Kind::Need => self.ws.forget_refusal(id, other),
                _ => self.ws.forget_refusal(other, id),
            }
        }
        Ok(())
    }

    pub fn remember_refusal(&mut self, need: Id, offer: Id) {
        self.ws.remember_refusal(need, offer);
    }

    /// ApproveMatch (API.md): approves `m` ([`WorkflowChange::approve`]); an approval refused because
    /// what the match rests on changed (a party withdrew, seats were taken, the window
    /// passed) leaves nothing of the approval and marks the match STALE instead, and that
    /// change is committed with the refusal (one landing).
    pub fn approve_or_stale(
        &mut self,
        w: &mut Writer<'_>,
        m: Match,
        comment: &str,
    ) -> AppResult<(Match, Vec<Arrangement>)> {
        match self.approve(w, m.clone(), comment) {
            Err(refusal @ AppError::FailedPrecondition { .. }) => {
                self.discard();
                self.stale(m);
                self.ws.commit_even_if_refused();
                Err(refusal)
            }
            other => other,
        }
    }

    /// Forgets everything this change wrote so far.
    fn discard(&mut self) {
        *self.ws = WriteSet::default();
        self.needs.clear();
        self.offers.clear();
        self.recipient_seats.clear();
        self.matches.clear();
    }

    /// Checks that every allocation of `m` still fits, reserves all of them, creates one
    /// arrangement per allocation and marks the match APPROVED. All or nothing: any
    /// failure returns before the caller commits.
    fn approve(&mut self, w: &mut Writer<'_>, m: Match, comment: &str) -> AppResult<(Match, Vec<Arrangement>)> {
        let today = day_of_micros(self.now);
        let mut need = self.need(m.need)?;
        if need.withdrawn {
            return Err(AppError::precondition(Reason::Withdrawn, "the need was withdrawn"));
        }
        let open_women = need.spec.women_quantity.saturating_sub(need.seats.consumed_women());
        if need.open_seats() < m.quantity || open_women < m.women_quantity {
            return Err(AppError::precondition(Reason::CapacityExhausted, "the need no longer has these seats open"));
        }
        let mut arrangements = Vec::with_capacity(m.allocations.len());
        for a in &m.allocations {
            let mut offer = self.offer(a.offer)?;
            let Some(terms) = offer.spec.terms.delivery().cloned() else {
                return Err(AppError::Internal("an allocation names a funding offer as delivery".into()));
            };
            self.take_seats(&mut offer, m.recipient, a.quantity)?;
            let duration = i64::from(terms.duration_days);
            let (from, until) = (day_of_micros(offer.spec.available_from), day_of_micros(offer.spec.available_until));
            let window = start_window(today, from, until, day_of_micros(need.spec.needed_by), duration);
            let Some((mut first, mut last)) = window else {
                return Err(AppError::precondition(
                    Reason::Expired,
                    format!("{} can no longer be delivered in time", a.offer.render(Kind::Offer)),
                ));
            };
            if let Some(fid) = a.funding_offer {
                let mut funder = self.offer(fid)?;
                self.take_seats(&mut funder, m.recipient, a.quantity)?;
                first = first.max(day_of_micros(funder.spec.available_from));
                last = last.min(day_of_micros(funder.spec.available_until) - duration);
                if first > last {
                    return Err(AppError::precondition(
                        Reason::Expired,
                        format!("{} can no longer fund a start day", fid.render(Kind::Offer)),
                    ));
                }
                self.offers.insert(fid, funder);
            }
            let delivering = offer.spec.providers.clone();
            self.offers.insert(a.offer, offer);
            let id = w.allocate_id(Kind::Arrangement);
            let mut arr = Arrangement {
                meta: Meta::new(id, self.now),
                match_id: m.meta.id,
                need: m.need,
                recipient: m.recipient,
                allocation: a.clone(),
                category: need.spec.category,
                capability: need.spec.capability,
                delivering,
                scheduled_start: None,
                scheduled_end: None,
                consents: a
                    .parties
                    .iter()
                    .map(|s| Consent { state: *s, decision: ConsentDecision::Pending, note: String::new(), time: None })
                    .collect(),
                outcome: None,
                history: Vec::new(),
                status: ArrangementStatus::PendingConsent,
            };
            arr.history.push(HistoryEntry {
                from: None,
                to: ArrangementStatus::PendingConsent,
                actor: self.actor.into(),
                time: self.now,
                note: comment.into(),
            });
            arrangements.push(arr);
        }
        need.seats.reserved += m.quantity;
        need.seats.reserved_women += m.women_quantity;
        self.needs.insert(m.need, need);
        let approved = Match {
            meta: m.meta.touched(self.now),
            state: MatchState::Approved,
            decided_by: self.actor.to_string(),
            decision_comment: comment.to_string(),
            decide_time: Some(self.now),
            arrangements: arrangements.iter().map(|a| a.meta.id).collect(),
            ..m
        };
        self.put_match(&approved, EventKind::MatchApproved);
        for arr in &arrangements {
            self.put_arrangement(arr, EventKind::ArrangementChanged);
        }
        self.finish();
        Ok((approved, arrangements))
    }

    /// Takes `quantity` open seats of `offer` for `recipient`, within its per-recipient cap.
    fn take_seats(&mut self, offer: &mut Offer, recipient: Alpha3, quantity: u32) -> AppResult<()> {
        let id = offer.meta.id;
        if offer.withdrawn {
            return Err(AppError::precondition(Reason::Withdrawn, format!("{} was withdrawn", id.render(Kind::Offer))));
        }
        if offer.open_seats() < quantity {
            return Err(AppError::precondition(
                Reason::CapacityExhausted,
                format!("{} has only {} seats open", id.render(Kind::Offer), offer.open_seats()),
            ));
        }
        let held = self.recipient_seats(id, recipient)?;
        if offer.spec.max_per_recipient > 0 && held + quantity > offer.spec.max_per_recipient {
            return Err(AppError::precondition(
                Reason::CapacityExhausted,
                format!("{} gives {recipient} at most {} seats", id.render(Kind::Offer), offer.spec.max_per_recipient),
            ));
        }
        offer.seats.reserved += quantity;
        self.recipient_seats.insert((id, recipient), held + quantity);
        Ok(())
    }

    /// Stores an arrangement with its event (`kind`: ARRANGEMENT_CHANGED, or
    /// OUTCOME_RECORDED for an outcome).
    pub fn put_arrangement(&mut self, a: &Arrangement, kind: EventKind) {
        self.ws.put_record(a);
        self.event(kind, EventResource::Arrangement(a.clone()));
    }

    /// Moves an arrangement's seats out of "reserved": to "delivered" when it completed,
    /// or back to open when it was declined or cancelled.
    pub fn settle_seats(&mut self, a: &Arrangement, delivered: bool) -> AppResult<()> {
        let (q, w) = (a.allocation.quantity, a.allocation.women_quantity);
        let mut need = self.need(a.need)?;
        shift_seats(&mut need.seats, q, w, true, delivered);
        self.needs.insert(a.need, need);
        for offer_id in std::iter::once(a.allocation.offer).chain(a.allocation.funding_offer) {
            let mut offer = self.offer(offer_id)?;
            shift_seats(&mut offer.seats, q, 0, true, delivered);
            self.offers.insert(offer_id, offer);
            if !delivered {
                let held = self.recipient_seats(offer_id, a.recipient)?;
                self.recipient_seats.insert((offer_id, a.recipient), held.saturating_sub(q));
            }
        }
        self.finish();
        Ok(())
    }

    /// Writes the needs, offers and seat counters changed so far, with their events.
    fn finish(&mut self) {
        for (_, need) in std::mem::take(&mut self.needs) {
            let need = Need { meta: need.meta.touched(self.now), ..need };
            self.ws.put_record(&need);
            self.event(EventKind::NeedUpdated, EventResource::Need(need));
        }
        for (_, offer) in std::mem::take(&mut self.offers) {
            let offer = Offer { meta: offer.meta.touched(self.now), ..offer };
            self.ws.put_record(&offer);
            self.event(EventKind::OfferUpdated, EventResource::Offer(offer));
        }
        for ((offer, state), seats) in std::mem::take(&mut self.recipient_seats) {
            self.ws.set_recipient_seats(offer, state, seats);
        }
    }
}
