//! Offers: proto → [`OfferSpec`] with validation, [`Offer`] → proto.

use super::*;
use crate::api as pb;

/// proto Offer → OfferSpec. `centre_exists` answers whether a training centre id is
/// registered, so a dangling reference is reported with the other violations.
pub fn offer_spec(
    p: &pb::Offer,
    prefix: &str,
    clock: Clock,
    centre_exists: &dyn Fn(Id) -> bool,
) -> Result<OfferSpec, AppError> {
    let mut v = Violations::default();
    let f = |name: &str| format!("{prefix}.{name}");
    let providers = v.states(&f("providers"), &p.providers, 1, limits::MAX_PROVIDERS);
    let role = v.enum_value(&f("role"), p.role, role_from);
    let category = v.enum_value(&f("category"), p.category, category_from);
    let capability = v.enum_value(&f("capability"), p.capability, capability_from);
    v.text(&f("title"), &p.title, 1, limits::MAX_TITLE_CHARS, false);
    v.text(&f("description"), &p.description, 0, limits::MAX_DESCRIPTION_CHARS, true);
    let capacity = v.quantity(&f("capacity"), p.capacity, 1);
    let from = v.time(&f("available_from"), p.available_from.as_ref());
    let until = v.time(&f("available_until"), p.available_until.as_ref());
    if let (Some(a), Some(b)) = (from, until) {
        if a > b {
            v.add(f("available_until"), "must not be before available_from");
        }
        if b > clock.horizon() {
            v.add(f("available_until"), "must be at most 10 years ahead");
        }
    }
    let eligible = v.states(&f("eligible_recipients"), &p.eligible_recipients, 0, limits::MAX_RECIPIENT_LIST);
    let excluded = v.states(&f("excluded_recipients"), &p.excluded_recipients, 0, limits::MAX_RECIPIENT_LIST);
    if p.max_per_recipient > limits::MAX_QUANTITY {
        v.add(f("max_per_recipient"), format!("must be at most {}", limits::MAX_QUANTITY));
    }
    let terms = match role {
        Some(OfferRole::Delivery) => {
            let languages = v.languages(&f("languages"), &p.languages, 1);
            let mode = v.enum_value(&f("mode"), p.mode, mode_from);
            let centre = if p.training_centre_id.is_empty() {
                if mode == Some(DeliveryMode::AtTrainingCentre) {
                    v.add(f("training_centre_id"), "is required when mode is AT_TRAINING_CENTRE");
                }
                None
            } else if mode != Some(DeliveryMode::AtTrainingCentre) {
                v.add(f("training_centre_id"), "must be empty unless mode is AT_TRAINING_CENTRE");
                None
            } else {
                match Id::parse(Kind::Centre, &p.training_centre_id).filter(|id| centre_exists(*id)) {
                    Some(id) => Some(id),
                    None => {
                        v.add(
                            f("training_centre_id"),
                            format!("no training centre {:?} is registered", p.training_centre_id),
                        );
                        None
                    }
                }
            };
            if p.duration_days < 1 || p.duration_days > limits::MAX_DURATION_DAYS {
                v.add(f("duration_days"), format!("must be between 1 and {}", limits::MAX_DURATION_DAYS));
            }
            if p.women_only {
                if let Some(c) = category.filter(|c| !c.has_women_seats()) {
                    v.add(f("women_only"), format!("must be false for {c} offers (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)"));
                }
            }
            mode.map(|mode| {
                OfferTerms::Delivery(DeliveryTerms {
                    languages,
                    mode,
                    training_centre: centre,
                    duration_days: p.duration_days,
                    women_only: p.women_only,
                    requires_funding: p.requires_funding,
                })
            })
        }
        Some(OfferRole::Funding) => {
            let unset = [
                ("languages", !p.languages.is_empty()),
                ("mode", p.mode != 0),
                ("training_centre_id", !p.training_centre_id.is_empty()),
                ("duration_days", p.duration_days != 0),
                ("women_only", p.women_only),
                ("requires_funding", p.requires_funding),
            ];
            for (name, set) in unset {
                if set {
                    v.add(f(name), "must be unset on a FUNDING offer");
                }
            }
            Some(OfferTerms::Funding)
        }
        None => None,
    };
    match (terms, category, capability, from, until) {
        (Some(terms), Some(category), Some(capability), Some(available_from), Some(available_until))
            if v.is_empty() =>
        {
            Ok(OfferSpec {
                providers,
                terms,
                category,
                capability,
                title: p.title.clone(),
                description: p.description.clone(),
                capacity,
                available_from,
                available_until,
                eligible_recipients: eligible,
                excluded_recipients: excluded,
                max_per_recipient: p.max_per_recipient,
            })
        }
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

pub fn offer_to_proto(o: &Offer) -> pb::Offer {
    let s = &o.spec;
    let d = s.terms.delivery();
    pb::Offer {
        id: o.meta.id.render(Kind::Offer),
        etag: o.meta.etag(),
        create_time: Some(timestamp(o.meta.create_time)),
        update_time: Some(timestamp(o.meta.update_time)),
        providers: s.providers.iter().map(|p| p.to_string()).collect(),
        role: role_to(s.terms.role()),
        category: category_to(s.category),
        capability: capability_to(s.capability),
        title: s.title.clone(),
        description: s.description.clone(),
        capacity: s.capacity,
        available_from: Some(timestamp(s.available_from)),
        available_until: Some(timestamp(s.available_until)),
        eligible_recipients: s.eligible_recipients.iter().map(|p| p.to_string()).collect(),
        excluded_recipients: s.excluded_recipients.iter().map(|p| p.to_string()).collect(),
        max_per_recipient: s.max_per_recipient,
        languages: d.map(|d| d.languages.iter().map(|l| l.to_string()).collect()).unwrap_or_default(),
        mode: d.map_or(0, |d| mode_to(d.mode)),
        training_centre_id: d.and_then(|d| d.training_centre).map(|c| c.render(Kind::Centre)).unwrap_or_default(),
        duration_days: d.map_or(0, |d| d.duration_days),
        women_only: d.is_some_and(|d| d.women_only),
        requires_funding: d.is_some_and(|d| d.requires_funding),
        state: offer_state_to(o.state()),
        reserved_quantity: o.seats.reserved,
        delivered_quantity: o.seats.delivered,
    }
}
