//! Centres, principals, events, matches and arrangements, to proto (and a centre from it).

use super::*;
use crate::api as pb;

pub fn centre_spec(p: &pb::TrainingCentre, prefix: &str) -> Result<CentreSpec, AppError> {
    let mut v = Violations::default();
    let f = |name: &str| format!("{prefix}.{name}");
    v.text(&f("name"), &p.name, 1, limits::MAX_TITLE_CHARS, false);
    let host_state = v.state(&f("host_state"), &p.host_state);
    let languages = v.languages(&f("languages"), &p.languages, 1);
    let capabilities = capabilities_from(&mut v, &f("capabilities"), &p.capabilities);
    match host_state {
        Some(host_state) if v.is_empty() => {
            Ok(CentreSpec { name: p.name.clone(), host_state, languages, capabilities, un_recognized: p.un_recognized })
        }
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

pub fn centre_to_proto(c: &TrainingCentre) -> pb::TrainingCentre {
    pb::TrainingCentre {
        id: c.meta.id.render(Kind::Centre),
        etag: c.meta.etag(),
        create_time: Some(timestamp(c.meta.create_time)),
        update_time: Some(timestamp(c.meta.update_time)),
        name: c.spec.name.clone(),
        host_state: c.spec.host_state.to_string(),
        languages: c.spec.languages.iter().map(|l| l.to_string()).collect(),
        capabilities: c.spec.capabilities.iter().map(|c| capability_to(*c)).collect(),
        un_recognized: c.spec.un_recognized,
    }
}

pub fn principal_to_proto(p: &Principal) -> pb::Principal {
    let (kind, member_state, centre) = match p.role {
        Role::Secretariat => (pb::PrincipalKind::Secretariat, String::new(), String::new()),
        Role::MemberState(s) => (pb::PrincipalKind::MemberState, s.to_string(), String::new()),
        Role::TrainingCentre(c) => (pb::PrincipalKind::TrainingCentre, String::new(), c.render(Kind::Centre)),
    };
    pb::Principal {
        id: p.meta.id.render(Kind::Principal),
        kind: kind as i32,
        member_state,
        training_centre_id: centre,
        display_name: p.display_name.clone(),
        revoked: p.revoked,
        create_time: Some(timestamp(p.meta.create_time)),
    }
}

pub fn event_to_proto(e: &Event) -> pb::Event {
    use pb::event::Resource as R;
    let resource = match &e.resource {
        EventResource::Need(n) => R::Need(need_to_proto(n)),
        EventResource::Offer(o) => R::Offer(offer_to_proto(o)),
        EventResource::Centre(c) => R::TrainingCentre(centre_to_proto(c)),
        EventResource::Principal(p) => R::Principal(principal_to_proto(p)),
        EventResource::Match(m) => R::Match(match_to_proto(m)),
        EventResource::Arrangement(a) => R::Arrangement(arrangement_to_proto(a)),
    };
    pb::Event {
        sequence: e.sequence,
        kind: event_kind_to(e.kind),
        time: Some(timestamp(e.time)),
        actor: e.actor.clone(),
        resource_id: e.resource.resource_id(),
        resource: Some(resource),
    }
}

fn states(list: &[Alpha3]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub fn allocation_to_proto(a: &Allocation) -> pb::Allocation {
    pb::Allocation {
        offer_id: a.offer.render(Kind::Offer),
        funding_offer_id: a.funding_offer.map(|f| f.render(Kind::Offer)).unwrap_or_default(),
        quantity: a.quantity,
        women_quantity: a.women_quantity,
        training_centre_id: a.training_centre.map(|c| c.render(Kind::Centre)).unwrap_or_default(),
    }
}

pub fn match_to_proto(m: &Match) -> pb::Match {
    pb::Match {
        id: m.meta.id.render(Kind::Match),
        etag: m.meta.etag(),
        create_time: Some(timestamp(m.meta.create_time)),
        update_time: Some(timestamp(m.meta.update_time)),
        need_id: m.terms.need.render(Kind::Need),
        allocations: m.terms.allocations.iter().map(allocation_to_proto).collect(),
        quantity: m.terms.quantity,
        women_quantity: m.terms.women_quantity,
        parties: states(&m.terms.parties),
        triangular: m.terms.triangular,
        score: m.terms.score,
        reasons: m.terms.reasons.clone(),
        state: match_state_to(m.state),
        decided_by: m.decided_by.clone(),
        decision_comment: m.decision_comment.clone(),
        decide_time: m.decide_time.map(timestamp),
        arrangement_ids: m.arrangements.iter().map(|a| a.render(Kind::Arrangement)).collect(),
    }
}

pub fn arrangement_to_proto(a: &Arrangement) -> pb::Arrangement {
    pb::Arrangement {
        id: a.meta.id.render(Kind::Arrangement),
        etag: a.meta.etag(),
        create_time: Some(timestamp(a.meta.create_time)),
        update_time: Some(timestamp(a.meta.update_time)),
        match_id: a.match_id.render(Kind::Match),
        need_id: a.need.render(Kind::Need),
        recipient: a.recipient.to_string(),
        allocation: Some(allocation_to_proto(&a.allocation)),
        parties: states(&a.allocation.parties),
        triangular: a.triangular(),
        capability: capability_to(a.capability),
        quantity: a.allocation.quantity,
        women_quantity: a.allocation.women_quantity,
        training_centre_id: a.allocation.training_centre.map(|c| c.render(Kind::Centre)).unwrap_or_default(),
        scheduled_start: a.scheduled_start.map(timestamp),
        scheduled_end: a.scheduled_end.map(timestamp),
        consents: a
            .consents
            .iter()
            .map(|c| pb::Consent {
                state: c.state.to_string(),
                decision: consent_to(c.decision),
                note: c.note.clone(),
                time: c.time.map(timestamp),
            })
            .collect(),
        outcome: a.outcome.as_ref().map(|o| pb::Outcome {
            trained: o.trained,
            women_trained: o.women_trained,
            trainers_qualified: o.trainers_qualified,
            certified: o.certified,
            deployed_missions: o.deployed_missions.clone(),
        }),
        history: a
            .history
            .iter()
            .map(|h| pb::HistoryEntry {
                from_status: h.from.map_or(0, status_to),
                to_status: status_to(h.to),
                actor: h.actor.clone(),
                time: Some(timestamp(h.time)),
                note: h.note.clone(),
            })
            .collect(),
        status: status_to(a.status),
    }
}

/// RecordOutcome's figures, checked and as the domain holds them: at most 20 deployed
/// missions of 1 to 40 characters; women trained and certified within trained, trainers
/// qualified within certified.
pub fn outcome(o: &pb::Outcome) -> Result<Outcome, AppError> {
    let mut v = Violations::default();
    if o.deployed_missions.len() > 20 {
        v.add("outcome.deployed_missions", "must list at most 20 missions");
    } else {
        for (i, m) in o.deployed_missions.iter().enumerate() {
            v.text(&format!("outcome.deployed_missions[{i}]"), m, 1, 40, false);
        }
    }
    if o.women_trained > o.trained {
        v.add("outcome.women_trained", "must not exceed trained");
    }
    if o.certified > o.trained {
        v.add("outcome.certified", "must not exceed trained");
    }
    if o.trainers_qualified > o.certified {
        v.add("outcome.trainers_qualified", "must not exceed certified");
    }
    v.finish(Outcome {
        trained: o.trained,
        women_trained: o.women_trained,
        certified: o.certified,
        deployed_missions: o.deployed_missions.clone(),
        trainers_qualified: o.trainers_qualified,
    })
}
