//! The scenario every cell runs against, and the fresh targets of the cells that write.

use super::*;
use crate::harness::*;
use std::collections::HashMap;
use tonic::Request;

pub(super) struct World {
    pub(super) s: TestServer,
    pub(super) tokens: HashMap<Who, String>,
    pub(super) hosting_centre: String,
    pub(super) other_centre: String,
    /// UGA's need whose match `matched` became `arrangement` (PENDING_CONSENT).
    pub(super) need: String,
    pub(super) matched: String,
    pub(super) arrangement: String,
    /// The offer each GetOffer row reads.
    pub(super) offers: HashMap<Row, String>,
    /// For rows that may write: one fresh target per caller, indexed like [`CALLERS`].
    pub(super) pools: HashMap<Row, Vec<String>>,
}

pub(super) fn state_of(who: Who) -> Option<&'static str> {
    match who {
        Who::Owner => Some(OWNER),
        Who::Party => Some(PARTY),
        Who::Funder => Some(FUNDER),
        Who::Other => Some(OTHER),
        _ => None,
    }
}

impl World {
    pub(super) fn token(&self, who: Who) -> &str {
        match who {
            Who::Secretariat => &self.s.admin,
            _ => &self.tokens[&who],
        }
    }

    pub(super) fn centre_of(&self, who: Who) -> Option<&str> {
        match who {
            Who::HostingCentre => Some(&self.hosting_centre),
            Who::OtherCentre => Some(&self.other_centre),
            _ => None,
        }
    }

    pub(super) fn request<T>(&self, who: Who, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        let value = match who {
            Who::NoToken => return r,
            Who::Garbage => "Bearer not a token at all!".to_string(),
            Who::WrongScheme => format!("Basic {}", self.s.admin),
            _ => format!("Bearer {}", self.token(who)),
        };
        r.metadata_mut().insert("authorization", value.parse().unwrap());
        r
    }

    pub(super) fn fresh(&self, row: Row, who: Who) -> String {
        let slot = CALLERS.iter().position(|c| *c == who).unwrap();
        self.pools[&row][slot].clone()
    }
}

pub(super) fn one_seat_need(capability: api::CapabilityArea, title: String) -> api::Need {
    api::Need { title, quantity: 1, women_quantity: 0, capability: capability as i32, ..need(OWNER) }
}

/// A GBR offer of MEDICAL seats: no UGA need ever matches it.
pub(super) fn medical_offer(title: &str) -> api::Offer {
    api::Offer {
        title: title.into(),
        capability: api::CapabilityArea::Medical as i32,
        duration_days: 5,
        ..delivery_offer(PARTY)
    }
}

pub(super) async fn create_centre(s: &TestServer, name: &str, host: &str) -> String {
    let centre = api::TrainingCentre {
        name: name.into(),
        host_state: host.into(),
        languages: vec!["en".into()],
        capabilities: vec![api::CapabilityArea::Engineering as i32],
        un_recognized: true,
        ..Default::default()
    };
    let req = api::CreateTrainingCentreRequest { training_centre: Some(centre), request_id: String::new() };
    s.centres().await.create_training_centre(authed(&s.admin, req)).await.unwrap().into_inner().id
}

async fn create_offer(s: &TestServer, token: &str, offer: api::Offer) -> String {
    let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
    s.offers().await.create_offer(authed(token, req)).await.unwrap().into_inner().id
}

async fn create_need(s: &TestServer, token: &str, need: api::Need) -> String {
    let req = api::CreateNeedRequest { need: Some(need), request_id: String::new() };
    s.needs().await.create_need(authed(token, req)).await.unwrap().into_inner().id
}

async fn create_principal(s: &TestServer, kind: api::PrincipalKind, state: &str, centre: &str) -> (String, String) {
    let req = api::CreatePrincipalRequest {
        kind: kind as i32,
        member_state: state.into(),
        training_centre_id: centre.into(),
        display_name: format!("matrix {state}{centre}"),
        request_id: String::new(),
    };
    let r = s.admin_client().await.create_principal(authed(&s.admin, req)).await.unwrap().into_inner();
    (r.principal.unwrap().id, r.token)
}

async fn approve(s: &TestServer, match_id: &str) -> String {
    let req = api::ApproveMatchRequest { id: match_id.into(), ..Default::default() };
    let r = s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap().into_inner();
    assert_eq!(r.arrangements.len(), 1);
    r.arrangements[0].id.clone()
}

async fn transition(s: &TestServer, token: &str, id: &str, to: api::ArrangementStatus) -> api::Arrangement {
    // The delivery offer is available from day 10, its course lasts 5 days, the needs are
    // needed by day 120.
    let start = ts_days(20).seconds.div_euclid(86_400) * 86_400;
    let ts = |seconds: i64| Some(prost_types::Timestamp { seconds, nanos: 0 });
    let req = api::TransitionArrangementRequest {
        id: id.into(),
        to: to as i32,
        scheduled_start: ts(start),
        scheduled_end: ts(start + 5 * 86_400),
        ..Default::default()
    };
    s.arrangements().await.transition_arrangement(authed(token, req)).await.unwrap().into_inner()
}

/// Builds the scenario; with `pools` each writing row gets one fresh target per caller.
pub(super) async fn world(pools: bool) -> World {
    use api::CapabilityArea::{CounterIed, Engineering};
    let s = TestServer::start().await;
    let hosting_centre = create_centre(&s, "IPSTC", HOST_STATE).await;
    let other_centre = create_centre(&s, "Another centre", "GHA").await;
    let mut tokens = HashMap::new();
    for (who, state) in [(Who::Owner, OWNER), (Who::Party, PARTY), (Who::Funder, FUNDER), (Who::Other, OTHER)] {
        tokens.insert(who, s.state(state).await);
    }
    let ken = s.state(HOST_STATE).await;
    tokens.insert(Who::HostingCentre, s.principal(api::PrincipalKind::TrainingCentre, "", &hosting_centre).await);
    tokens.insert(Who::OtherCentre, s.principal(api::PrincipalKind::TrainingCentre, "", &other_centre).await);
    let (revoked_id, revoked) = create_principal(&s, api::PrincipalKind::Secretariat, "", "").await;
    s.admin_client()
        .await
        .revoke_principal(authed(&s.admin, api::RevokePrincipalRequest { id: revoked_id }))
        .await
        .unwrap();
    tokens.insert(Who::Revoked, revoked);
    let (uga, gbr, nor) = (tokens[&Who::Owner].clone(), tokens[&Who::Party].clone(), tokens[&Who::Funder].clone());

    // Offers: GBR delivers ENGINEERING at the KEN centre to UGA only, paid by NOR.
    let only_owner = vec![OWNER.to_string()];
    let delivery = api::Offer {
        capacity: 500,
        mode: api::DeliveryMode::AtTrainingCentre as i32,
        training_centre_id: hosting_centre.clone(),
        eligible_recipients: only_owner.clone(),
        requires_funding: true,
        duration_days: 5,
        ..delivery_offer(PARTY)
    };
    let funding = api::Offer {
        providers: vec![FUNDER.into()],
        role: api::OfferRole::Funding as i32,
        capacity: 500,
        eligible_recipients: only_owner.clone(),
        languages: Vec::new(),
        mode: 0,
        duration_days: 0,
        ..delivery_offer(FUNDER)
    };
    // One COUNTER_IED seat, which UGA's arrangement will exhaust.
    let exhausted = api::Offer {
        capacity: 1,
        capability: CounterIed as i32,
        eligible_recipients: only_owner.clone(),
        duration_days: 5,
        ..delivery_offer(PARTY)
    };
    let mut offers = HashMap::new();
    offers.insert(Row::GetDeliveryOffer, create_offer(&s, &gbr, delivery).await);
    offers.insert(Row::GetFundingOffer, create_offer(&s, &nor, funding).await);
    offers.insert(Row::GetExhaustedOffer, create_offer(&s, &gbr, exhausted).await);
    offers.insert(Row::GetOpenOffer, create_offer(&s, &gbr, medical_offer("Open to all")).await);
    let excluding = api::Offer { excluded_recipients: vec![OTHER.into()], ..medical_offer("Not for FRA") };
    offers.insert(Row::GetOfferExcludingOther, create_offer(&s, &gbr, excluding).await);
    let withdrawn = create_offer(&s, &gbr, medical_offer("Withdrawn")).await;
    s.offers()
        .await
        .withdraw_offer(authed(&gbr, api::WithdrawOfferRequest { id: withdrawn.clone(), ..Default::default() }))
        .await
        .unwrap();
    offers.insert(Row::GetWithdrawnOffer, withdrawn);
    // A candidate of UGA's ENGINEERING needs that UGA may not read: ExplainNeed must only
    // count it for UGA.
    let not_for_owner = api::Offer { eligible_recipients: vec![HOST_STATE.into()], ..delivery_offer(PARTY) };
    offers.insert(Row::GetOfferNotForOwner, create_offer(&s, &gbr, not_for_owner).await);

    // Needs, one seat each: the first and the COUNTER_IED one become arrangements, then
    // one per caller for each row that needs a match or an arrangement of its own.
    const MATCH_ROWS: [Row; 2] = [Row::ApproveMatch, Row::RejectMatch];
    const PENDING_ROWS: [Row; 2] = [Row::RespondToArrangement, Row::CancelArrangement];
    let per_row = if pools { CALLERS.len() } else { 0 };
    let count = 1 + per_row * (MATCH_ROWS.len() + PENDING_ROWS.len() + 2);
    let mut needs = Vec::new();
    for i in 0..count {
        needs.push(create_need(&s, &uga, one_seat_need(Engineering, format!("Engineers {i}"))).await);
    }
    let counter_ied = create_need(&s, &uga, one_seat_need(CounterIed, "Searchers".into())).await;
    let proposed = s
        .matching()
        .await
        .propose_matches(authed(&s.admin, api::ProposeMatchesRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(proposed.len(), count + 1, "one match per need");
    let match_of = |need: &str| proposed.iter().find(|m| m.need_id == need).unwrap().id.clone();
    let matched = match_of(&needs[0]);
    let arrangement = approve(&s, &matched).await;
    approve(&s, &match_of(&counter_ied)).await;

    let mut pool_map: HashMap<Row, Vec<String>> = HashMap::new();
    let mut rest = needs[1..].iter();
    let mut take = |n: usize| rest.by_ref().take(n).map(|need| match_of(need)).collect::<Vec<_>>();
    for row in MATCH_ROWS {
        pool_map.insert(row, take(per_row));
    }
    for row in PENDING_ROWS {
        let mut ids = Vec::new();
        for m in take(per_row) {
            ids.push(approve(&s, &m).await);
        }
        pool_map.insert(row, ids);
    }
    // SCHEDULED for StartDelivery, IN_DELIVERY for RecordOutcome.
    for row in [Row::StartDelivery, Row::RecordOutcome] {
        let mut ids = Vec::new();
        for m in take(per_row) {
            let id = approve(&s, &m).await;
            for token in [&uga, &gbr, &nor, &ken] {
                let req = api::RespondToArrangementRequest { id: id.clone(), accept: true, ..Default::default() };
                s.arrangements().await.respond_to_arrangement(authed(token, req)).await.unwrap();
            }
            transition(&s, &s.admin, &id, api::ArrangementStatus::Scheduled).await;
            if row == Row::RecordOutcome {
                transition(&s, &s.admin, &id, api::ArrangementStatus::InDelivery).await;
            }
            ids.push(id);
        }
        pool_map.insert(row, ids);
    }
    // Needs and offers that no match refers to (so changing them stales nothing).
    for row in [Row::UpdateNeed, Row::WithdrawNeed] {
        let mut ids = Vec::new();
        for i in 0..per_row {
            ids.push(create_need(&s, &uga, one_seat_need(Engineering, format!("{row:?} {i}"))).await);
        }
        pool_map.insert(row, ids);
    }
    for row in [Row::UpdateOffer, Row::UpdateCoProvidedOffer, Row::WithdrawOffer] {
        let mut ids = Vec::new();
        for i in 0..per_row {
            let mut offer =
                api::Offer { eligible_recipients: only_owner.clone(), ..medical_offer(&format!("{row:?} {i}")) };
            if row == Row::UpdateCoProvidedOffer {
                offer.providers = vec![PARTY.into(), FUNDER.into()];
            }
            ids.push(create_offer(&s, &gbr, offer).await);
        }
        pool_map.insert(row, ids);
    }
    let mut principals = Vec::new();
    for _ in 0..per_row {
        principals.push(create_principal(&s, api::PrincipalKind::MemberState, OTHER, "").await.0);
    }
    pool_map.insert(Row::RevokePrincipal, principals);
    World {
        s,
        tokens,
        hosting_centre,
        other_centre,
        need: needs[0].clone(),
        matched,
        arrangement,
        offers,
        pools: pool_map,
    }
}
