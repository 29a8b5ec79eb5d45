//! Needs: proto → [`NeedSpec`] with validation, [`Need`] → proto.

use super::*;
use crate::api as pb;

/// proto Need → NeedSpec. `prefix` scopes field paths (`need`); `needed_by_must_be_future`
/// is set on create and when an update changes the date.
pub fn need_spec(
    p: &pb::Need,
    prefix: &str,
    clock: Clock,
    needed_by_must_be_future: bool,
) -> Result<NeedSpec, AppError> {
    let mut v = Violations::default();
    let f = |name: &str| format!("{prefix}.{name}");
    let requester = v.state(&f("requester"), &p.requester);
    let category = v.enum_value(&f("category"), p.category, category_from);
    let capability = v.enum_value(&f("capability"), p.capability, capability_from);
    v.text(&f("title"), &p.title, 1, limits::MAX_TITLE_CHARS, false);
    v.text(&f("description"), &p.description, 0, limits::MAX_DESCRIPTION_CHARS, true);
    let quantity = v.quantity(&f("quantity"), p.quantity, 1);
    if p.women_quantity > p.quantity {
        v.add(f("women_quantity"), "must not exceed quantity");
    } else if let Some(c) = category {
        if p.women_quantity > 0 && !c.has_women_seats() {
            v.add(
                f("women_quantity"),
                format!(
                    "must be 0 for {c} needs (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)"
                ),
            );
        }
    }
    let languages = v.languages(&f("languages"), &p.languages, 1);
    let needed_by = v.time(&f("needed_by"), p.needed_by.as_ref());
    if let Some(t) = needed_by {
        if needed_by_must_be_future && t <= clock.now {
            v.add(f("needed_by"), "must be in the future");
        }
        if t > clock.horizon() {
            v.add(f("needed_by"), "must be at most 10 years ahead");
        }
    }
    let priority = v.enum_value(&f("priority"), p.priority, priority_from);
    v.text(&f("pledge_ref"), &p.pledge_ref, 0, limits::MAX_SHORT_TEXT_CHARS, false);
    let pledge_level =
        if p.pledge_level == 0 { None } else { v.enum_value(&f("pledge_level"), p.pledge_level, level_from) };
    v.text(&f("mission"), &p.mission, 0, 40, false);
    let accepted_modes = modes_from(&mut v, &f("accepted_modes"), &p.accepted_modes);
    match (requester, category, capability, needed_by, priority) {
        (Some(requester), Some(category), Some(capability), Some(needed_by), Some(priority)) if v.is_empty() => {
            Ok(NeedSpec {
                requester,
                category,
                capability,
                title: p.title.clone(),
                description: p.description.clone(),
                quantity,
                women_quantity: p.women_quantity,
                languages,
                needed_by,
                priority,
                pledge_ref: p.pledge_ref.clone(),
                pledge_level,
                mission: p.mission.clone(),
                accepted_modes,
            })
        }
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

pub fn need_to_proto(n: &Need) -> pb::Need {
    let s = &n.spec;
    pb::Need {
        id: n.meta.id.render(Kind::Need),
        etag: n.meta.etag(),
        create_time: Some(timestamp(n.meta.create_time)),
        update_time: Some(timestamp(n.meta.update_time)),
        requester: s.requester.to_string(),
        category: category_to(s.category),
        capability: capability_to(s.capability),
        title: s.title.clone(),
        description: s.description.clone(),
        quantity: s.quantity,
        women_quantity: s.women_quantity,
        languages: s.languages.iter().map(|l| l.to_string()).collect(),
        needed_by: Some(timestamp(s.needed_by)),
        priority: priority_to(s.priority),
        pledge_ref: s.pledge_ref.clone(),
        pledge_level: s.pledge_level.map_or(0, level_to),
        mission: s.mission.clone(),
        accepted_modes: s.accepted_modes.iter().map(|m| mode_to(*m)).collect(),
        state: need_state_to(n.state()),
        reserved_quantity: n.seats.reserved,
        reserved_women_quantity: n.seats.reserved_women,
        delivered_quantity: n.seats.delivered,
    }
}
