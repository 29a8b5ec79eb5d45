//! Matches and arrangements: from a proposal to delivered training.
//!
//! The state machines live here as plain functions over records, so the rules (who may
//! move an arrangement where, how seats follow its status) are stated once.

use super::records::*;
use super::types::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum MatchState {
    Proposed,
    Approved,
    Rejected,
    Stale,
}

impl std::fmt::Display for MatchState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MatchState::Proposed => "PROPOSED",
            MatchState::Approved => "APPROVED",
            MatchState::Rejected => "REJECTED",
            MatchState::Stale => "STALE",
        })
    }
}

/// Seats of one delivery offer for one need, paid by at most one funding offer. `I` names
/// offers and centres: a stored record's [`Id`], or the matching engine's own string id
/// (`matching::Allocation`, where an offer may be hypothetical).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Allocation<I = Id> {
    pub offer: I,
    /// The funding offer paying for these seats; `None` when the offer needs no funding.
    pub funding_offer: Option<I>,
    pub quantity: u32,
    pub women_quantity: u32,
    /// The delivery offer's centre, if any.
    pub training_centre: Option<I>,
    /// Distinct states of the arrangement it becomes, sorted: the recipient, the delivery
    /// providers, the funding providers, the centre's host.
    pub parties: Vec<Alpha3>,
}

impl<I> Allocation<I> {
    /// Three or more parties: a triangular partnership.
    pub fn triangular(&self) -> bool {
        self.parties.len() >= 3
    }
}

/// What the matching engine decides for one need: the allocations, their parties, the
/// score and the reasons. The engine answers it with its own ids
/// (`matching::ProposedMatch`); a stored [`Match`] holds it with record ids, unchanged by
/// what is decided later.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct MatchTerms<I = Id> {
    pub need: I,
    /// The need's requester, the recipient of every allocation.
    pub recipient: Alpha3,
    /// The need's capability.
    pub capability: CapabilityArea,
    /// Sorted by (offer, funding offer); at most one per pair.
    pub allocations: Vec<Allocation<I>>,
    pub quantity: u32,
    pub women_quantity: u32,
    /// Union of the allocations' parties, sorted.
    pub parties: Vec<Alpha3>,
    /// Some allocation is triangular.
    pub triangular: bool,
    /// Share of the need's open seats this match fills, in (0, 1].
    pub score: f64,
    /// Plain sentences: why these offers.
    pub reasons: Vec<String>,
}

#[cfg(test)]
impl MatchTerms {
    /// For tests: NPL's need 1 gets 6 seats (2 for women) of offer 2, paid by `funding_offer`,
    /// the arrangement's parties `parties` (ISO codes).
    pub(crate) fn example(funding_offer: Option<Id>, parties: &[&str]) -> MatchTerms {
        let parties: Vec<Alpha3> =
            parties.iter().map(|c| c.parse().unwrap_or_else(|e: String| panic!("{e}"))).collect();
        let allocation = Allocation {
            offer: Id(2),
            funding_offer,
            quantity: 6,
            women_quantity: 2,
            training_centre: None,
            parties: parties.clone(),
        };
        MatchTerms {
            need: Id(1),
            recipient: "NPL".parse().unwrap_or_else(|e: String| panic!("{e}")),
            capability: CapabilityArea::Engineering,
            triangular: allocation.triangular(),
            allocations: vec![allocation],
            quantity: 6,
            women_quantity: 2,
            parties,
            score: 1.0,
            reasons: Vec::new(),
        }
    }
}

impl<I> MatchTerms<I> {
    /// The same terms with every id named by `name` (told whether it names a need, an
    /// offer or a centre); the first id it refuses is the error.
    pub fn try_map_ids<J, E>(&self, mut name: impl FnMut(Kind, &I) -> Result<J, E>) -> Result<MatchTerms<J>, E> {
        let mut allocations = Vec::with_capacity(self.allocations.len());
        for a in &self.allocations {
            allocations.push(Allocation {
                offer: name(Kind::Offer, &a.offer)?,
                funding_offer: a.funding_offer.as_ref().map(|f| name(Kind::Offer, f)).transpose()?,
                quantity: a.quantity,
                women_quantity: a.women_quantity,
                training_centre: a.training_centre.as_ref().map(|c| name(Kind::Centre, c)).transpose()?,
                parties: a.parties.clone(),
            });
        }
        Ok(MatchTerms {
            need: name(Kind::Need, &self.need)?,
            recipient: self.recipient,
            capability: self.capability,
            allocations,
            quantity: self.quantity,
            women_quantity: self.women_quantity,
            parties: self.parties.clone(),
            triangular: self.triangular,
            score: self.score,
            reasons: self.reasons.clone(),
        })
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Match {
    pub meta: Meta,
    /// As proposed; never changed after.
    pub terms: MatchTerms,
    pub state: MatchState,
    pub decided_by: String,
    pub decision_comment: String,
    pub decide_time: Option<UnixMicros>,
    pub arrangements: Vec<Id>,
}

impl Match {
    /// A match as ProposeMatches makes it: PROPOSED, nothing decided, no arrangement.
    pub fn proposed(meta: Meta, terms: MatchTerms) -> Match {
        Match {
            meta,
            terms,
            state: MatchState::Proposed,
            decided_by: String::new(),
            decision_comment: String::new(),
            decide_time: None,
            arrangements: Vec::new(),
        }
    }

    /// The match as ProposeMatches stored it. Only its version, state, decision and
    /// arrangements change later (`domain::commands` approve, reject, stale); they are set
    /// back here. A replay of the proposal's request id renders its matches so.
    pub fn as_proposed(&self) -> Match {
        Match::proposed(Meta::new(self.meta.id, self.meta.create_time), self.terms.clone())
    }

    /// Every offer the match draws on, delivery and funding.
    pub fn offers(&self) -> Vec<Id> {
        let mut ids: Vec<Id> =
            self.terms.allocations.iter().flat_map(|a| std::iter::once(a.offer).chain(a.funding_offer)).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ArrangementStatus {
    PendingConsent,
    Agreed,
    Scheduled,
    InDelivery,
    Completed,
    Declined,
    Cancelled,
}

impl std::fmt::Display for ArrangementStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArrangementStatus::PendingConsent => "PENDING_CONSENT",
            ArrangementStatus::Agreed => "AGREED",
            ArrangementStatus::Scheduled => "SCHEDULED",
            ArrangementStatus::InDelivery => "IN_DELIVERY",
            ArrangementStatus::Completed => "COMPLETED",
            ArrangementStatus::Declined => "DECLINED",
            ArrangementStatus::Cancelled => "CANCELLED",
        })
    }
}

impl ArrangementStatus {
    pub fn is_final(self) -> bool {
        matches!(self, ArrangementStatus::Completed | ArrangementStatus::Declined | ArrangementStatus::Cancelled)
    }

    /// Whether the arrangement holds its seats as reserved.
    pub fn reserves(self) -> bool {
        matches!(
            self,
            ArrangementStatus::PendingConsent
                | ArrangementStatus::Agreed
                | ArrangementStatus::Scheduled
                | ArrangementStatus::InDelivery
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ConsentDecision {
    Pending,
    Accepted,
    Refused,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Consent {
    pub state: Alpha3,
    pub decision: ConsentDecision,
    pub note: String,
    pub time: Option<UnixMicros>,
}

#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub trained: u32,
    pub women_trained: u32,
    pub certified: u32,
    pub deployed_missions: Vec<String>,
    /// Of the certified, how many now train others in this capability (≤ certified).
    pub trainers_qualified: u32,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub from: Option<ArrangementStatus>,
    pub to: ArrangementStatus,
    pub actor: String,
    pub time: UnixMicros,
    pub note: String,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Arrangement {
    pub meta: Meta,
    pub match_id: Id,
    pub need: Id,
    pub recipient: Alpha3,
    pub allocation: Allocation,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    /// The delivery offer's providers: the states that deliver.
    pub delivering: Vec<Alpha3>,
    pub scheduled_start: Option<UnixMicros>,
    pub scheduled_end: Option<UnixMicros>,
    pub consents: Vec<Consent>,
    pub outcome: Option<Outcome>,
    pub history: Vec<HistoryEntry>,
    pub status: ArrangementStatus,
}

impl Arrangement {
    pub fn triangular(&self) -> bool {
        self.allocation.parties.len() >= 3
    }

    pub fn is_party(&self, state: Alpha3) -> bool {
        self.allocation.parties.contains(&state)
    }

    /// Moves to `to`, recording who and why.
    pub fn move_to(&mut self, to: ArrangementStatus, actor: &str, time: UnixMicros, note: &str) {
        self.history.push(HistoryEntry { from: Some(self.status), to, actor: actor.into(), time, note: note.into() });
        self.status = to;
    }
}

/// Who may ask for a transition to a status, per API.md.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mover {
    Secretariat,
    /// The hosting centre, a delivering party, or the Secretariat.
    DeliveryTeam,
}

/// The one allowed way into `to`: the status it comes from and who may move it. `None`
/// for statuses reached only by consent (AGREED, DECLINED) or never by request.
pub fn transition_rule(to: ArrangementStatus) -> Option<(&'static [ArrangementStatus], Mover)> {
    use ArrangementStatus::*;
    match to {
        Scheduled => Some((&[Agreed], Mover::Secretariat)),
        InDelivery => Some((&[Scheduled], Mover::DeliveryTeam)),
        Completed => Some((&[InDelivery], Mover::DeliveryTeam)),
        Cancelled => Some((&[PendingConsent, Agreed, Scheduled, InDelivery], Mover::Secretariat)),
        PendingConsent | Agreed | Declined => None,
    }
}

/// Moves an arrangement's seats on a seat counter: out of "reserved" if `from_reserved`,
/// into "delivered" if `to_delivered` (both: a completed delivery; only the first: seats
/// given back).
pub fn shift_seats(seats: &mut Seats, quantity: u32, women: u32, from_reserved: bool, to_delivered: bool) {
    if from_reserved {
        seats.reserved = seats.reserved.saturating_sub(quantity);
        seats.reserved_women = seats.reserved_women.saturating_sub(women);
    }
    if to_delivered {
        seats.delivered = seats.delivered.saturating_add(quantity);
        seats.delivered_women = seats.delivered_women.saturating_add(women);
    }
}

/// The days on which a delivery may start: max(today, from) ..= min(until, deadline) − duration.
pub fn start_window(today: Day, from: Day, until: Day, deadline: Day, duration_days: i64) -> Option<(Day, Day)> {
    let first = today.max(from);
    let last = until.min(deadline) - duration_days;
    (first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_api_table() {
        use ArrangementStatus::*;
        assert_eq!(transition_rule(Scheduled), Some((&[Agreed][..], Mover::Secretariat)));
        assert_eq!(transition_rule(Completed).map(|r| r.1), Some(Mover::DeliveryTeam));
        assert!(transition_rule(Agreed).is_none());
        let (from, _) = transition_rule(Cancelled).unwrap();
        assert!(from.iter().all(|s| !s.is_final()));
    }

    #[test]
    fn start_window_needs_room_for_the_course() {
        assert_eq!(start_window(10, 5, 100, 60, 28), Some((10, 32)));
        assert_eq!(start_window(45, 45, 200, 60, 28), None);
    }
}
