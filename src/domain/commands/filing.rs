//! The commands on what member states file (API.md: UpdateNeed, UpdateOffer): the update
//! rules, once for both; see the parent module.

use crate::domain::records::*;
use crate::domain::refusal::{Reason, Refusal};

/// UpdateNeed (API.md): `current` with the validated fields `next` at `now`, held to the
/// update rules ([`check_update`]): requester, category and capability never change;
/// while seats are held, quantity stays at or above them and the matching fields are
/// frozen.
pub fn update_need(current: &Need, next: NeedSpec, now: UnixMicros) -> Result<Need, Refusal> {
    let c = &current.spec;
    check_update(
        &[
            ("need.requester", next.requester != c.requester),
            ("need.category", next.category != c.category),
            ("need.capability", next.capability != c.capability),
        ],
        &current.seats,
        "quantity",
        next.quantity,
        &[
            ("women_quantity", next.women_quantity != c.women_quantity),
            ("languages", next.languages != c.languages),
            ("needed_by", next.needed_by != c.needed_by),
            ("priority", next.priority != c.priority),
            ("accepted_modes", next.accepted_modes != c.accepted_modes),
        ],
    )?;
    Ok(Need { meta: current.meta.touched(now), spec: next, ..current.clone() })
}

/// UpdateOffer (API.md): as [`update_need`]; providers, role, category and capability
/// never change; while seats are held, capacity stays at or above them and the dates,
/// recipient rules and delivery terms are frozen.
pub fn update_offer(current: &Offer, next: OfferSpec, now: UnixMicros) -> Result<Offer, Refusal> {
    let c = &current.spec;
    check_update(
        &[
            ("offer.providers", next.providers != c.providers),
            ("offer.role", next.terms.role() != c.terms.role()),
            ("offer.category", next.category != c.category),
            ("offer.capability", next.capability != c.capability),
        ],
        &current.seats,
        "capacity",
        next.capacity,
        &[
            ("available_from", next.available_from != c.available_from),
            ("available_until", next.available_until != c.available_until),
            ("eligible_recipients", next.eligible_recipients != c.eligible_recipients),
            ("excluded_recipients", next.excluded_recipients != c.excluded_recipients),
            ("max_per_recipient", next.max_per_recipient != c.max_per_recipient),
            ("delivery terms", next.terms != c.terms),
        ],
    )?;
    Ok(Offer { meta: current.meta.touched(now), spec: next, ..current.clone() })
}

/// API.md's update rules, shared by needs and offers: identity fields never change
/// (INVALID_ARGUMENT, one violation per field); while seats are held, `quantity_field` may
/// not drop below them and the other matching fields are frozen (FAILED_PRECONDITION).
/// Each list names a field and whether the update changes it.
fn check_update(
    identity: &[(&str, bool)],
    seats: &Seats,
    quantity_field: &str,
    new_quantity: u32,
    frozen: &[(&str, bool)],
) -> Result<(), Refusal> {
    let mut bad: Vec<(String, String)> = Vec::new();
    for (field, changed) in identity {
        if *changed {
            bad.push((field.to_string(), "never changes".into()));
        }
    }
    if !bad.is_empty() {
        return Err(Refusal::Invalid(bad));
    }
    if !seats.any() {
        return Ok(());
    }
    if new_quantity < seats.consumed() {
        return Err(Refusal::precondition(
            Reason::BelowReserved,
            format!("{quantity_field} may not drop below the {} seats reserved or delivered", seats.consumed()),
        ));
    }
    let changed: Vec<&str> = frozen.iter().filter(|(_, ch)| *ch).map(|(f, _)| *f).collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(Refusal::precondition(
            Reason::FrozenWhileReserved,
            format!("{} cannot change while seats are reserved or delivered", changed.join(", ")),
        ))
    }
}
