//! The commands on arrangements (API.md: RespondToArrangement, TransitionArrangement,
//! RecordOutcome); see the parent module.

use super::{Changed, Changes, Seating, settle};
use crate::domain::events::EventKind;
use crate::domain::records::*;
use crate::domain::refusal::{Reason, Refusal};
use crate::domain::types::*;
use crate::domain::workflow::*;

/// TransitionArrangement (API.md): who may move an arrangement into `to` — a refusal for
/// the statuses reached only by consent.
pub fn transition_mover(to: ArrangementStatus) -> Result<(&'static [ArrangementStatus], Mover), Refusal> {
    transition_rule(to).ok_or_else(|| {
        Refusal::precondition(Reason::WrongState, format!("{to} is reached by consent, not by a transition"))
    })
}

/// RespondToArrangement (API.md): party `state` accepts or refuses. Only while consent is
/// pending, once per party. A refusal declines the arrangement, gives its seats back and
/// keeps the engine from proposing its (need, offer) pairs again; the last acceptance
/// makes it AGREED.
pub fn respond(
    mut a: Arrangement,
    seating: Seating,
    state: Alpha3,
    accept: bool,
    note: &str,
    now: UnixMicros,
    actor: &str,
) -> Result<(Arrangement, Changes), Refusal> {
    if a.status != ArrangementStatus::PendingConsent {
        return Err(Refusal::precondition(Reason::WrongState, "the arrangement is no longer waiting for consent"));
    }
    let id = a.meta.id;
    let Some(consent) = a.consents.iter_mut().find(|c| c.state == state) else {
        return Err(Refusal::NotFound(id.render(Kind::Arrangement)));
    };
    if consent.decision != ConsentDecision::Pending {
        return Err(Refusal::precondition(Reason::AlreadyAnswered, format!("{state} has already answered")));
    }
    consent.decision = if accept { ConsentDecision::Accepted } else { ConsentDecision::Refused };
    consent.note = note.to_string();
    consent.time = Some(now);
    a.meta = a.meta.touched(now);
    let mut changes = Changes::default();
    if !accept {
        a.move_to(ArrangementStatus::Declined, actor, now, note);
        settle(&a, seating, false, now, &mut changes);
        changes.refused.push((a.need, a.allocation.offer));
        changes.refused.extend(a.allocation.funding_offer.map(|f| (a.need, f)));
    } else if a.consents.iter().all(|c| c.decision == ConsentDecision::Accepted) {
        a.move_to(ArrangementStatus::Agreed, actor, now, note);
    }
    changes.records.push(Changed::Arrangement(a.clone(), EventKind::ArrangementChanged));
    Ok((a, changes))
}

/// TransitionArrangement (API.md), once the caller may move it ([`transition_mover`]):
/// from the one allowed status; SCHEDULED needs dates that fit ([`schedule`]);
/// COMPLETED moves its seats to delivered, CANCELLED gives them back.
pub fn transition(
    mut a: Arrangement,
    seating: Seating,
    to: ArrangementStatus,
    dates: (Option<UnixMicros>, Option<UnixMicros>),
    note: &str,
    now: UnixMicros,
    actor: &str,
) -> Result<(Arrangement, Changes), Refusal> {
    let (from, _) = transition_mover(to)?;
    if !from.contains(&a.status) {
        return Err(Refusal::precondition(Reason::WrongState, format!("cannot move from {} to {to}", a.status)));
    }
    let mut changes = Changes::default();
    match to {
        ArrangementStatus::Scheduled => {
            let (start, end) = schedule(&a, &seating, dates, now)?;
            a.scheduled_start = Some(start);
            a.scheduled_end = Some(end);
        }
        ArrangementStatus::Completed => settle(&a, seating, true, now, &mut changes),
        ArrangementStatus::Cancelled => settle(&a, seating, false, now, &mut changes),
        _ => {}
    }
    a.meta = a.meta.touched(now);
    a.move_to(to, actor, now, note);
    changes.records.push(Changed::Arrangement(a.clone(), EventKind::ArrangementChanged));
    Ok((a, changes))
}

/// The dates of a SCHEDULED arrangement: the start day lies in the window of the offer's
/// availability, the need's deadline and the funding offer's dates, and the end is the
/// start plus the course's duration.
fn schedule(
    a: &Arrangement,
    seating: &Seating,
    dates: (Option<UnixMicros>, Option<UnixMicros>),
    now: UnixMicros,
) -> Result<(UnixMicros, UnixMicros), Refusal> {
    let (Some(start), Some(end)) = dates else {
        return Err(Refusal::invalid("scheduled_start", "dates are required to schedule"));
    };
    let offer = seating.offer(a.allocation.offer)?;
    let duration = offer.spec.terms.delivery().map_or(1, |d| i64::from(d.duration_days));
    let s = day_of_micros(start);
    let mut window = start_window(
        day_of_micros(now),
        day_of_micros(offer.spec.available_from),
        day_of_micros(offer.spec.available_until),
        day_of_micros(seating.need.spec.needed_by),
        duration,
    );
    if let Some(f) = a.allocation.funding_offer {
        let funder = seating.offer(f)?;
        let (f_first, f_last) =
            (day_of_micros(funder.spec.available_from), day_of_micros(funder.spec.available_until) - duration);
        window = window.and_then(|(first, last)| {
            let (first, last) = (first.max(f_first), last.min(f_last));
            (first <= last).then_some((first, last))
        });
    }
    let mut bad: Vec<(String, String)> = Vec::new();
    match window {
        Some((first, last)) if first <= s && s <= last => {}
        Some((first, last)) => bad.push((
            "scheduled_start".into(),
            format!(
                "must lie between {} and {} (offer availability, need deadline and funding dates, for a {duration}-day course)",
                show_day(first),
                show_day(last)
            ),
        )),
        None => bad.push((
            "scheduled_start".into(),
            "no start day fits any more: offer availability, need deadline and funding dates leave no room for the course".into(),
        )),
    }
    if day_of_micros(end) != s + duration {
        bad.push(("scheduled_end".into(), format!("must be the start day + {duration} days")));
    }
    if bad.is_empty() { Ok((start, end)) } else { Err(Refusal::Invalid(bad)) }
}

/// RecordOutcome (API.md), once the caller may record it: no more trained than the
/// arrangement's seats, and only IN_DELIVERY or COMPLETED (OUTCOME_RECORDED).
pub fn record_outcome(
    mut a: Arrangement,
    outcome: Outcome,
    now: UnixMicros,
) -> Result<(Arrangement, Changes), Refusal> {
    if outcome.trained > a.allocation.quantity {
        return Err(Refusal::invalid(
            "outcome.trained",
            format!("must not exceed the arrangement's {} seats", a.allocation.quantity),
        ));
    }
    if !matches!(a.status, ArrangementStatus::InDelivery | ArrangementStatus::Completed) {
        return Err(Refusal::precondition(Reason::WrongState, "outcomes are recorded in IN_DELIVERY or COMPLETED"));
    }
    a.outcome = Some(outcome);
    a.meta = a.meta.touched(now);
    let changes =
        Changes { records: vec![Changed::Arrangement(a.clone(), EventKind::OutcomeRecorded)], ..Changes::default() };
    Ok((a, changes))
}
