//! The store side of the workflow's commands (`domain/commands.rs`): under the writer
//! gate, [`seating`] reads what a command rests on, and [`store_changes`] writes what it
//! decided — records, indexes, seat counters, refusals and events — into the change's one
//! `WriteSet`.

use super::*;

/// What a match or an arrangement for `recipient` rests on: need `need`, the offers
/// `offers`, and the seats each of them gives the recipient.
pub fn seating(store: &Store, need: Id, offers: &[Id], recipient: Alpha3) -> AppResult<Seating> {
    let need = store.get::<Need>(need)?.ok_or_else(|| not_found(Kind::Need, need))?;
    let (mut read, mut held) = (std::collections::BTreeMap::new(), std::collections::BTreeMap::new());
    for &id in offers {
        read.insert(id, store.get::<Offer>(id)?.ok_or_else(|| not_found(Kind::Offer, id))?);
        held.insert(id, store.recipient_seats(id, recipient)?);
    }
    Ok(Seating { need, offers: read, recipient, held })
}

/// What an arrangement rests on: its need, its delivery and funding offers.
pub fn seating_of(store: &Store, a: &Arrangement) -> AppResult<Seating> {
    let offers: Vec<Id> = std::iter::once(a.allocation.offer).chain(a.allocation.funding_offer).collect();
    seating(store, a.need, &offers, a.recipient)
}

/// Writes `changes` into `ws`: each record with its indexes and its event (in the order
/// the command gave them), the seat counters, the refusals remembered and forgotten.
pub fn store_changes(ws: &mut WriteSet, changes: Changes, now: UnixMicros, actor: &str) {
    for changed in changes.records {
        match changed {
            Changed::Need(n) => {
                ws.put_record(&n);
                ws.event(EventKind::NeedUpdated, now, actor, EventResource::Need(n));
            }
            Changed::Offer(o) => {
                ws.put_record(&o);
                ws.event(EventKind::OfferUpdated, now, actor, EventResource::Offer(o));
            }
            Changed::NewMatch(m) => {
                ws.put_new_match(&m);
                ws.event(EventKind::MatchProposed, now, actor, EventResource::Match(m));
            }
            Changed::Match(m, kind) => {
                ws.put_match(&m);
                ws.event(kind, now, actor, EventResource::Match(m));
            }
            Changed::Arrangement(a, kind) => {
                ws.put_record(&a);
                ws.event(kind, now, actor, EventResource::Arrangement(a));
            }
        }
    }
    for (offer, state, seats) in changes.held {
        ws.set_recipient_seats(offer, state, seats);
    }
    for (need, offer) in changes.refused {
        ws.remember_refusal(need, offer);
    }
    for (need, offer) in changes.forgotten {
        ws.forget_refusal(need, offer);
    }
}

/// Update{Need,Offer}: the command's inputs read, run, and its changes written.
pub fn resource_updated(
    store: &Store,
    ws: &mut WriteSet,
    kind: Kind,
    id: Id,
    now: UnixMicros,
    actor: &str,
) -> AppResult<()> {
    let (match_ids, refused_with) = match kind {
        Kind::Need => (store.matches_of_need(id)?, store.refusals_of_need(id)?),
        _ => (store.matches_of_offer(id)?, store.refusals_of_offer(id)?),
    };
    let mut matches = Vec::with_capacity(match_ids.len());
    for mid in match_ids {
        matches.extend(store.get::<Match>(mid)?);
    }
    store_changes(ws, commands::resource_updated(kind, id, matches, refused_with, now), now, actor);
    Ok(())
}
