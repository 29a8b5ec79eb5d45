//! The commands on what member states file and the Secretariat registers (API.md:
//! CreateNeed, CreateOffer, Update*, Withdraw*, CreateTrainingCentre,
//! UpdateTrainingCentre): the update rules, once for needs and offers; see the parent
//! module. Each spec comes validated from the conversion layer.

use crate::domain::records::*;
use crate::domain::refusal::{Reason, Refusal};

/// CreateNeed (API.md): need `id`, filed from `spec` at `now`: OPEN, no seats held.
pub fn file_need(id: Id, spec: NeedSpec, now: UnixMicros) -> Need {
    Need { meta: Meta::new(id, now), spec, withdrawn: false, seats: Seats::default() }
}

/// CreateOffer (API.md): offer `id`, made from `spec` at `now`: OPEN, no seats given.
pub fn file_offer(id: Id, spec: OfferSpec, now: UnixMicros) -> Offer {
    Offer { meta: Meta::new(id, now), spec, withdrawn: false, seats: Seats::default() }
}

/// A withdrawn need or offer never changes again (API.md: Withdraw*): an update of it
/// (`updating`) or a second withdrawal is refused WITHDRAWN.
pub fn check_open<R: Filing>(current: &R, updating: bool) -> Result<(), Refusal> {
    if !current.is_withdrawn() {
        return Ok(());
    }
    let refuse_withdrawn = |message| Refusal::precondition(Reason::Withdrawn, message);
    Err(match (R::KIND, updating) {
        (Kind::Offer, true) => refuse_withdrawn("a withdrawn offer cannot be updated"),
        (Kind::Offer, false) => refuse_withdrawn("the offer is already withdrawn"),
        (_, true) => refuse_withdrawn("a withdrawn need cannot be updated"),
        (_, false) => refuse_withdrawn("the need is already withdrawn"),
    })
}

/// WithdrawNeed, WithdrawOffer (API.md): `current`, withdrawn at `now`, once.
pub fn withdraw<R: Filing>(current: R, now: UnixMicros) -> Result<R, Refusal> {
    check_open(&current, false)?;
    Ok(current.withdrawn_at(now))
}

/// CreateTrainingCentre (API.md): centre `id`, registered from `spec` at `now`.
pub fn register_centre(id: Id, spec: CentreSpec, now: UnixMicros) -> TrainingCentre {
    TrainingCentre { meta: Meta::new(id, now), spec }
}

/// UpdateTrainingCentre (API.md): `current` with the validated fields `next` at `now`;
/// the host state never changes.
pub fn update_centre(current: &TrainingCentre, next: CentreSpec, now: UnixMicros) -> Result<TrainingCentre, Refusal> {
    if next.host_state != current.spec.host_state {
        return Err(Refusal::invalid("training_centre.host_state", "never changes"));
    }
    Ok(TrainingCentre { meta: current.meta.touched(now), spec: next })
}

/// UpdateNeed (API.md): `current` with the validated fields `next` at `now`, held to the
/// update rules ([`check_update`]): requester, category and capability never change;
/// while seats are held, quantity stays at or above them and the matching fields are
/// frozen. The service checks first that the need is open ([`check_open`]).
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
