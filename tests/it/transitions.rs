//! Every arrangement transition of API.md, from every status, by every kind of caller:
//! the allowed ones succeed and move the seats, the others are refused and change nothing.

use crate::harness::*;
use lcm::api;
use lcm::api::ArrangementStatus as S;
use tonic::Code;

const STATUSES: [S; 7] =
    [S::PendingConsent, S::Agreed, S::Scheduled, S::InDelivery, S::Completed, S::Declined, S::Cancelled];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Actor {
    Secretariat,
    /// The requesting state (a party, not delivering).
    Recipient,
    /// The providing state (a delivering party).
    Provider,
    HostingCentre,
    OtherCentre,
    /// A state that is not a party.
    Outsider,
}

const ACTORS: [Actor; 6] =
    [Actor::Secretariat, Actor::Recipient, Actor::Provider, Actor::HostingCentre, Actor::OtherCentre, Actor::Outsider];

#[derive(Clone, Copy, PartialEq)]
enum Mover {
    Secretariat,
    /// Hosting centre, a delivering party, or the Secretariat.
    DeliveryTeam,
}

/// API.md's transition table, written once: the statuses a move to `to` may start from and who may make it.
fn rule(to: S) -> Option<(&'static [S], Mover)> {
    match to {
        S::Scheduled => Some((&[S::Agreed], Mover::Secretariat)),
        S::InDelivery => Some((&[S::Scheduled], Mover::DeliveryTeam)),
        S::Completed => Some((&[S::InDelivery], Mover::DeliveryTeam)),
        S::Cancelled => Some((&[S::PendingConsent, S::Agreed, S::Scheduled, S::InDelivery], Mover::Secretariat)),
        // AGREED and DECLINED are reached by consent; PENDING_CONSENT only by approval.
        _ => None,
    }
}

/// The answer API.md's error order gives: kind never allowed, then what the caller may
/// read, then the state machine.
fn expected(actor: Actor, from: S, to: S) -> Code {
    let rule = rule(to);
    if matches!(rule, Some((_, Mover::Secretariat))) && actor != Actor::Secretariat {
        return Code::PermissionDenied;
    }
    if matches!(actor, Actor::OtherCentre | Actor::Outsider) {
        return Code::NotFound;
    }
    let Some((froms, mover)) = rule else { return Code::FailedPrecondition };
    if mover == Mover::DeliveryTeam && actor == Actor::Recipient {
        return Code::PermissionDenied;
    }
    if !froms.contains(&from) {
        return Code::FailedPrecondition;
    }
    Code::Ok
}

struct World {
    s: TestServer,
    uga: String,
    ken: String,
    fra: String,
    centre: String,
    other_centre: String,
    offer_id: String,
}

impl World {
    fn token(&self, actor: Actor) -> &str {
        match actor {
            Actor::Secretariat => &self.s.admin,
            Actor::Recipient => &self.uga,
            Actor::Provider => &self.ken,
            Actor::HostingCentre => &self.centre,
            Actor::OtherCentre => &self.other_centre,
            Actor::Outsider => &self.fra,
        }
    }
}

async fn create_centre(s: &TestServer, name: &str) -> String {
    s.centres()
        .await
        .create_training_centre(authed(
            &s.admin,
            api::CreateTrainingCentreRequest {
                training_centre: Some(api::TrainingCentre {
                    name: name.into(),
                    host_state: "KEN".into(),
                    languages: vec!["en".into()],
                    capabilities: vec![api::CapabilityArea::Engineering as i32],
                    un_recognized: true,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .id
}

/// One KEN offer hosted at a centre and `needs` one-seat UGA needs.
async fn world(needs: usize) -> World {
    let s = TestServer::start().await;
    let centre_id = create_centre(&s, "IPSTC").await;
    let other_id = create_centre(&s, "Another centre").await;
    let (uga, ken, fra) = (s.state("UGA").await, s.state("KEN").await, s.state("FRA").await);
    let centre = s.principal(api::PrincipalKind::TrainingCentre, "", &centre_id).await;
    let other_centre = s.principal(api::PrincipalKind::TrainingCentre, "", &other_id).await;
    let offer = api::Offer {
        capacity: needs as u32,
        mode: api::DeliveryMode::AtTrainingCentre as i32,
        training_centre_id: centre_id.clone(),
        ..delivery_offer("KEN")
    };
    let offer_id = s
        .offers()
        .await
        .create_offer(authed(&ken, api::CreateOfferRequest { offer: Some(offer), request_id: String::new() }))
        .await
        .unwrap()
        .into_inner()
        .id;
    let mut needs_client = s.needs().await;
    for i in 0..needs {
        let n = api::Need { title: format!("HEE operators {i}"), quantity: 1, women_quantity: 0, ..need("UGA") };
        needs_client
            .create_need(authed(&uga, api::CreateNeedRequest { need: Some(n), request_id: String::new() }))
            .await
            .unwrap();
    }
    World { s, uga, ken, fra, centre, other_centre, offer_id }
}

async fn get(w: &World, id: &str) -> api::Arrangement {
    w.s.arrangements()
        .await
        .get_arrangement(authed(&w.s.admin, api::GetArrangementRequest { id: id.into() }))
        .await
        .unwrap()
        .into_inner()
}

async fn transition(w: &World, actor: Actor, a: &api::Arrangement, to: S) -> Result<api::Arrangement, tonic::Status> {
    // Dates that fit: the offer is available from day 10 and its course lasts 28 days.
    let start = ts_days(20).seconds.div_euclid(86_400) * 86_400;
    let ts = |secs: i64| Some(prost_types::Timestamp { seconds: secs, nanos: 0 });
    let req = api::TransitionArrangementRequest {
        id: a.id.clone(),
        etag: a.etag.clone(),
        to: to as i32,
        note: format!("{actor:?}"),
        scheduled_start: ts(start),
        scheduled_end: ts(start + 28 * 86_400),
        request_id: new_request_id(),
    };
    w.s.arrangements().await.transition_arrangement(authed(w.token(actor), req)).await.map(|r| r.into_inner())
}

async fn respond(w: &World, token: &str, a: &api::Arrangement, accept: bool) -> api::Arrangement {
    let req = api::RespondToArrangementRequest { id: a.id.clone(), accept, ..Default::default() };
    w.s.arrangements().await.respond_to_arrangement(authed(token, req)).await.unwrap().into_inner()
}

/// Drives a fresh PENDING_CONSENT arrangement to `status` along the allowed path.
async fn drive(w: &World, mut a: api::Arrangement, status: S) -> api::Arrangement {
    let path: &[S] = match status {
        S::PendingConsent | S::Declined => &[],
        S::Agreed => &[S::Agreed],
        S::Scheduled => &[S::Agreed, S::Scheduled],
        S::InDelivery => &[S::Agreed, S::Scheduled, S::InDelivery],
        S::Completed => &[S::Agreed, S::Scheduled, S::InDelivery, S::Completed],
        S::Cancelled => &[S::Cancelled],
        S::Unspecified => unreachable!(),
    };
    if status == S::Declined {
        a = respond(w, &w.uga, &a, false).await;
    }
    for step in path {
        a = match step {
            S::Agreed => {
                respond(w, &w.uga, &a, true).await;
                respond(w, &w.ken, &a, true).await
            }
            S::Scheduled | S::Cancelled => transition(w, Actor::Secretariat, &a, *step).await.unwrap(),
            _ => transition(w, Actor::Provider, &a, *step).await.unwrap(),
        };
    }
    assert_eq!(a.status, status as i32, "driving {} to {status:?}", a.id);
    a
}

#[tokio::test]
async fn every_transition_by_every_caller_follows_the_api_table() {
    let pairs: Vec<(S, S)> = STATUSES.iter().flat_map(|&f| STATUSES.iter().map(move |&t| (f, t))).collect();
    let w = world(pairs.len()).await;
    // One proposal per need, each approved: one arrangement per (from, to) pair.
    let proposed =
        w.s.matching()
            .await
            .propose_matches(authed(&w.s.admin, api::ProposeMatchesRequest::default()))
            .await
            .unwrap()
            .into_inner();
    assert_eq!(proposed.matches.len(), pairs.len());
    let mut arrangements = Vec::new();
    for m in &proposed.matches {
        let req = api::ApproveMatchRequest { id: m.id.clone(), etag: m.etag.clone(), ..Default::default() };
        let r = w.s.matching().await.approve_match(authed(&w.s.admin, req)).await.unwrap().into_inner();
        assert_eq!(
            r.arrangements[0].training_centre_id,
            r.arrangements[0].allocation.as_ref().unwrap().training_centre_id
        );
        arrangements.push(r.arrangements[0].clone());
    }
    let mut mismatches = Vec::new();
    let mut cells = 0;
    let mut allowed_moves = 0;
    for (i, ((from, to), a)) in pairs.iter().zip(arrangements).enumerate() {
        let a = drive(&w, a, *from).await;
        // Refused callers first: each must change nothing.
        let allowed: Vec<Actor> = ACTORS.iter().copied().filter(|&c| expected(c, *from, *to) == Code::Ok).collect();
        for actor in ACTORS.iter().copied().filter(|c| !allowed.contains(c)) {
            cells += 1;
            let want = expected(actor, *from, *to);
            match transition(&w, actor, &a, *to).await {
                Ok(_) => mismatches.push(format!("{from:?} -> {to:?} by {actor:?}: OK, expected {want:?}")),
                Err(e) if e.code() != want => {
                    mismatches.push(format!("{from:?} -> {to:?} by {actor:?}: {:?}, expected {want:?}", e.code()))
                }
                Err(_) => {}
            }
        }
        assert_eq!(get(&w, &a.id).await.etag, a.etag, "a refused transition changed {}", a.id);
        // Then one of the allowed callers (rotating, so each kind is exercised) makes the move.
        if !allowed.is_empty() {
            cells += 1;
            allowed_moves += 1;
            let actor = allowed[i % allowed.len()];
            match transition(&w, actor, &a, *to).await {
                Ok(moved) => {
                    assert_eq!(moved.status, *to as i32);
                    let last = moved.history.last().unwrap();
                    assert_eq!((last.from_status, last.to_status), (*from as i32, *to as i32));
                    assert_eq!(last.note, format!("{actor:?}"));
                }
                Err(e) => mismatches.push(format!("{from:?} -> {to:?} by {actor:?}: {e:?}, expected OK")),
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from the table:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!(allowed_moves, 7, "AGREED->SCHEDULED, SCHEDULED->IN_DELIVERY, IN_DELIVERY->COMPLETED, 4 cancels");

    // Seats: every arrangement now holds one seat of the need and the offer, or none.
    let offer =
        w.s.offers()
            .await
            .get_offer(authed(&w.s.admin, api::GetOfferRequest { id: w.offer_id.clone() }))
            .await
            .unwrap()
            .into_inner();
    let listed = w
        .s
        .arrangements()
        .await
        .list_arrangements(authed(&w.s.admin, api::ListArrangementsRequest { page_size: 500, ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .arrangements;
    let count =
        |statuses: &[S]| listed.iter().filter(|a| statuses.iter().any(|s| *s as i32 == a.status)).count() as u32;
    assert_eq!(offer.reserved_quantity, count(&[S::PendingConsent, S::Agreed, S::Scheduled, S::InDelivery]));
    assert_eq!(offer.delivered_quantity, count(&[S::Completed]));
    let mut needs = w.s.needs().await;
    for a in &listed {
        let n =
            needs.get_need(authed(&w.uga, api::GetNeedRequest { id: a.need_id.clone() })).await.unwrap().into_inner();
        let live = [S::PendingConsent, S::Agreed, S::Scheduled, S::InDelivery].iter().any(|s| *s as i32 == a.status);
        let completed = a.status == S::Completed as i32;
        assert_eq!((n.reserved_quantity, n.delivered_quantity), (u32::from(live), u32::from(completed)), "{}", a.id);
        let fulfilled = live || completed;
        let state = if fulfilled { api::NeedState::Fulfilled } else { api::NeedState::Open };
        assert_eq!(n.state, state as i32, "{} of {}", n.id, a.id);
    }
}

#[tokio::test]
async fn a_stale_etag_or_an_unknown_status_is_refused() {
    let w = world(1).await;
    let m =
        w.s.matching()
            .await
            .propose_matches(authed(&w.s.admin, api::ProposeMatchesRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .matches
            .remove(0);
    let req = api::ApproveMatchRequest { id: m.id.clone(), etag: m.etag.clone(), ..Default::default() };
    let a =
        w.s.matching().await.approve_match(authed(&w.s.admin, req)).await.unwrap().into_inner().arrangements.remove(0);
    let agreed = drive(&w, a.clone(), S::Agreed).await;
    // `a` carries the etag of before the consents.
    let status = assert_code(transition(&w, Actor::Secretariat, &a, S::Scheduled).await, Code::Aborted);
    assert_eq!(reason(&status), "ETAG_MISMATCH");
    let status = assert_code(transition(&w, Actor::Secretariat, &agreed, S::Unspecified).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["to"]);
    // A centre that does not host it cannot even learn it exists.
    let other =
        w.s.arrangements()
            .await
            .get_arrangement(authed(&w.other_centre, api::GetArrangementRequest { id: a.id.clone() }))
            .await;
    assert_code(other, Code::NotFound);
    let hosted =
        w.s.arrangements()
            .await
            .get_arrangement(authed(&w.centre, api::GetArrangementRequest { id: a.id.clone() }))
            .await
            .unwrap()
            .into_inner();
    assert_eq!(hosted.status, S::Agreed as i32);
}
