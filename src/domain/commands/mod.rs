//! The workflow's commands as pure functions (API.md: ApproveMatch, RejectMatch,
//! RespondToArrangement, TransitionArrangement, RecordOutcome, and what an update of a
//! need or offer does to the proposals resting on it): from the records a command reads,
//! the request and the clock, to the records it changes ([`Changes`]) or a [`Refusal`].
//! No I/O, no store keys, no protobuf: the service loads the records
//! (`service/workflow.rs`), runs the command under the writer gate and stores its
//! changes, with their events, in one landing.
//!
//! Who may ask (roles, parties) and whether the caller's etag is current are checked
//! before a command runs (`access.rs`, the service); everything else a command decides
//! is here, each rule once.

use super::events::EventKind;
use super::records::*;
use super::refusal::{Reason, Refusal};
use super::types::*;
use super::workflow::*;
use std::collections::BTreeMap;

mod arrangements;
mod filing;
pub use arrangements::*;
pub use filing::*;

/// What a match or an arrangement rests on: its need, every offer it draws on (delivery
/// and funding), and the seats each of those offers already gives the recipient (its
/// per-recipient cap, `max_per_recipient`).
#[derive(Clone, Debug, PartialEq)]
pub struct Seating {
    pub need: Need,
    pub offers: BTreeMap<Id, Offer>,
    pub recipient: Alpha3,
    /// Offer → seats it gives [`Seating::recipient`] in live arrangements.
    pub held: BTreeMap<Id, u32>,
}

impl Seating {
    fn offer(&self, id: Id) -> Result<&Offer, Refusal> {
        self.offers.get(&id).ok_or_else(|| Refusal::Inconsistent(format!("{} was not read", id.render(Kind::Offer))))
    }

    fn offer_mut(&mut self, id: Id) -> Result<&mut Offer, Refusal> {
        self.offers
            .get_mut(&id)
            .ok_or_else(|| Refusal::Inconsistent(format!("{} was not read", id.render(Kind::Offer))))
    }

    /// The need and the offers, touched at `now`, as changed records; `with_held` adds
    /// the per-recipient counters.
    fn into_changes(self, now: UnixMicros, with_held: bool, changes: &mut Changes) {
        let need = Need { meta: self.need.meta.touched(now), ..self.need };
        changes.records.push(Changed::Need(need));
        for (_, offer) in self.offers {
            changes.records.push(Changed::Offer(Offer { meta: offer.meta.touched(now), ..offer }));
        }
        if with_held {
            changes.held.extend(self.held.into_iter().map(|(offer, seats)| (offer, self.recipient, seats)));
        }
    }
}

/// One record a command changed, in the order its events are recorded.
#[derive(Clone, Debug, PartialEq)]
pub enum Changed {
    /// NEED_UPDATED.
    Need(Need),
    /// OFFER_UPDATED.
    Offer(Offer),
    /// A new PROPOSED match (MATCH_PROPOSED), stored with its indexes.
    NewMatch(Match),
    /// A match in a new state, with its event.
    Match(Match, EventKind),
    /// An arrangement, with its event (ARRANGEMENT_CHANGED or OUTCOME_RECORDED).
    Arrangement(Arrangement, EventKind),
}

/// Everything a command decided to change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub records: Vec<Changed>,
    /// (offer, recipient, seats the offer now gives that recipient).
    pub held: Vec<(Id, Alpha3, u32)>,
    /// (need, offer) pairs the engine must not propose again (a refusal).
    pub refused: Vec<(Id, Id)>,
    /// (need, offer) pairs it may propose again (one of them changed).
    pub forgotten: Vec<(Id, Id)>,
}

/// The match turned STALE at `now` (MATCH_STALE).
fn stale(m: Match, now: UnixMicros) -> Changed {
    Changed::Match(Match { meta: m.meta.touched(now), state: MatchState::Stale, ..m }, EventKind::MatchStale)
}

/// What ApproveMatch decided.
#[derive(Debug)]
pub enum Approval {
    /// The match is APPROVED with one PENDING_CONSENT arrangement per allocation.
    Approved { changes: Changes, approved: Box<Match>, arrangements: Vec<Arrangement> },
    /// Refused because what the match rests on changed: nothing of the approval is kept,
    /// the match turns STALE (`changes`, stored although the request is refused).
    Stale { changes: Changes, refusal: Refusal },
}

/// ApproveMatch (API.md): every allocation must still fit — the need open for the
/// match's seats and women's seats, each offer not withdrawn, with the seats open and
/// within its per-recipient cap, and a start day left in the window of the offer, its
/// funder and the need's deadline. Then all of them are reserved at once and each
/// allocation becomes an arrangement awaiting every party's consent; `new_id` numbers
/// them. If any no longer fits, the match turns STALE instead ([`Approval::Stale`]).
pub fn approve(
    m: Match,
    mut seating: Seating,
    new_id: impl FnMut() -> Id,
    now: UnixMicros,
    actor: &str,
    comment: &str,
) -> Result<Approval, Refusal> {
    match reserve(&m, &mut seating, new_id, now, actor, comment) {
        Ok(arrangements) => {
            let approved = Match {
                meta: m.meta.touched(now),
                state: MatchState::Approved,
                decided_by: actor.to_string(),
                decision_comment: comment.to_string(),
                decide_time: Some(now),
                arrangements: arrangements.iter().map(|a| a.meta.id).collect(),
                ..m
            };
            let mut changes = Changes::default();
            changes.records.push(Changed::Match(approved.clone(), EventKind::MatchApproved));
            for a in &arrangements {
                changes.records.push(Changed::Arrangement(a.clone(), EventKind::ArrangementChanged));
            }
            seating.into_changes(now, true, &mut changes);
            Ok(Approval::Approved { changes, approved: Box::new(approved), arrangements })
        }
        Err(refusal) if refusal.is_precondition() => {
            Ok(Approval::Stale { changes: Changes { records: vec![stale(m, now)], ..Changes::default() }, refusal })
        }
        Err(other) => Err(other),
    }
}

/// The checks and reservations of [`approve`], on `seating`; the new arrangements.
fn reserve(
    m: &Match,
    seating: &mut Seating,
    mut new_id: impl FnMut() -> Id,
    now: UnixMicros,
    actor: &str,
    comment: &str,
) -> Result<Vec<Arrangement>, Refusal> {
    let today = day_of_micros(now);
    let need = &seating.need;
    if need.withdrawn {
        return Err(Refusal::precondition(Reason::Withdrawn, "the need was withdrawn"));
    }
    let open_women = need.spec.women_quantity.saturating_sub(need.seats.consumed_women());
    if need.open_seats() < m.terms.quantity || open_women < m.terms.women_quantity {
        return Err(Refusal::precondition(Reason::CapacityExhausted, "the need no longer has these seats open"));
    }
    let (needed_by, category, capability) = (need.spec.needed_by, need.spec.category, need.spec.capability);
    let mut arrangements = Vec::with_capacity(m.terms.allocations.len());
    for a in &m.terms.allocations {
        let offer = seating.offer(a.offer)?;
        let Some(terms) = offer.spec.terms.delivery().cloned() else {
            return Err(Refusal::Inconsistent("an allocation names a funding offer as delivery".into()));
        };
        take_seats(seating, a.offer, a.quantity)?;
        let offer = seating.offer(a.offer)?;
        let duration = i64::from(terms.duration_days);
        let (from, until) = (day_of_micros(offer.spec.available_from), day_of_micros(offer.spec.available_until));
        let window = start_window(today, from, until, day_of_micros(needed_by), duration);
        let Some((mut first, mut last)) = window else {
            return Err(Refusal::precondition(
                Reason::Expired,
                format!("{} can no longer be delivered in time", a.offer.render(Kind::Offer)),
            ));
        };
        let delivering = offer.spec.providers.clone();
        if let Some(fid) = a.funding_offer {
            take_seats(seating, fid, a.quantity)?;
            let funder = seating.offer(fid)?;
            first = first.max(day_of_micros(funder.spec.available_from));
            last = last.min(day_of_micros(funder.spec.available_until) - duration);
            if first > last {
                return Err(Refusal::precondition(
                    Reason::Expired,
                    format!("{} can no longer fund a start day", fid.render(Kind::Offer)),
                ));
            }
        }
        let mut arr = Arrangement {
            meta: Meta::new(new_id(), now),
            match_id: m.meta.id,
            need: m.terms.need,
            recipient: m.terms.recipient,
            allocation: a.clone(),
            category,
            capability,
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
            actor: actor.into(),
            time: now,
            note: comment.into(),
        });
        arrangements.push(arr);
    }
    seating.need.seats.reserved += m.terms.quantity;
    seating.need.seats.reserved_women += m.terms.women_quantity;
    Ok(arrangements)
}

/// Takes `quantity` open seats of offer `id` for the seating's recipient: the offer is not
/// withdrawn, has the seats open, and stays within its per-recipient cap.
fn take_seats(seating: &mut Seating, id: Id, quantity: u32) -> Result<(), Refusal> {
    let recipient = seating.recipient;
    let held = seating.held.get(&id).copied().unwrap_or(0);
    let offer = seating.offer_mut(id)?;
    if offer.withdrawn {
        return Err(Refusal::precondition(Reason::Withdrawn, format!("{} was withdrawn", id.render(Kind::Offer))));
    }
    if offer.open_seats() < quantity {
        return Err(Refusal::precondition(
            Reason::CapacityExhausted,
            format!("{} has only {} seats open", id.render(Kind::Offer), offer.open_seats()),
        ));
    }
    if offer.spec.max_per_recipient > 0 && held + quantity > offer.spec.max_per_recipient {
        return Err(Refusal::precondition(
            Reason::CapacityExhausted,
            format!("{} gives {recipient} at most {} seats", id.render(Kind::Offer), offer.spec.max_per_recipient),
        ));
    }
    offer.seats.reserved += quantity;
    seating.held.insert(id, held + quantity);
    Ok(())
}

/// Moves an arrangement's seats out of "reserved" on its need and offers: to "delivered"
/// when it completed, or back to open (and off the recipient's cap) when it was declined
/// or cancelled.
pub(super) fn settle(a: &Arrangement, mut seating: Seating, delivered: bool, now: UnixMicros, changes: &mut Changes) {
    let (q, w) = (a.allocation.quantity, a.allocation.women_quantity);
    shift_seats(&mut seating.need.seats, q, w, true, delivered);
    for offer in seating.offers.values_mut() {
        shift_seats(&mut offer.seats, q, 0, true, delivered);
    }
    if !delivered {
        for held in seating.held.values_mut() {
            *held = held.saturating_sub(q);
        }
    }
    seating.into_changes(now, !delivered, changes);
}

/// RejectMatch (API.md): the match is REJECTED, and the engine does not propose any of
/// its (need, offer) pairs again until one of them changes.
pub fn reject(m: Match, now: UnixMicros, actor: &str, reason: &str) -> (Match, Changes) {
    let mut changes = Changes::default();
    changes.refused.extend(m.offers().into_iter().map(|offer| (m.terms.need, offer)));
    let m = Match {
        meta: m.meta.touched(now),
        state: MatchState::Rejected,
        decided_by: actor.to_string(),
        decision_comment: reason.to_string(),
        decide_time: Some(now),
        ..m
    };
    changes.records.push(Changed::Match(m.clone(), EventKind::MatchRejected));
    (m, changes)
}

/// ProposeMatches (API.md): a new proposal supersedes the PROPOSED matches it covers
/// (`old`, those `covered` picks), which turn STALE; the new ones are stored PROPOSED.
pub fn propose(old: Vec<Match>, covered: impl Fn(&Match) -> bool, new: &[Match], now: UnixMicros) -> Changes {
    let mut changes = Changes::default();
    changes
        .records
        .extend(old.into_iter().filter(|m| m.state == MatchState::Proposed && covered(m)).map(|m| stale(m, now)));
    changes.records.extend(new.iter().cloned().map(Changed::NewMatch));
    changes
}

/// Update{Need,Offer} (API.md): the PROPOSED matches resting on the changed resource turn
/// STALE, and the refusals it was part of are forgotten (`refused_with`: the other side of
/// each refused pair).
pub fn resource_updated(kind: Kind, id: Id, matches: Vec<Match>, refused_with: Vec<Id>, now: UnixMicros) -> Changes {
    let mut changes = Changes::default();
    changes.records.extend(matches.into_iter().filter(|m| m.state == MatchState::Proposed).map(|m| stale(m, now)));
    changes.forgotten =
        refused_with.into_iter().map(|other| if kind == Kind::Need { (id, other) } else { (other, id) }).collect();
    changes
}

#[cfg(test)]
pub(crate) mod tests;
