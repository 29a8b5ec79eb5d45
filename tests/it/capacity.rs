//! Lasting capacity (issue 17): trainers_qualified on outcomes, UpdateTrainingCentre, and
//! GetCapacityReport against figures computed here from List calls.

use crate::harness::*;
use lcm::api;
use std::collections::{BTreeMap, BTreeSet};
use tonic::Code;

type S = api::ArrangementStatus;
/// Per requester: seats delivered, in country, trainers qualified, national centres, UN
/// recognized ones, repeat capabilities.
type Rows = BTreeMap<String, (u64, u64, u64, u32, u32, Vec<i32>)>;
const DAY: i64 = 86_400;

async fn create_centre(s: &TestServer, name: &str, host: &str) -> api::TrainingCentre {
    let centre = api::TrainingCentre {
        name: name.into(),
        host_state: host.into(),
        languages: vec!["en".into()],
        capabilities: vec![api::CapabilityArea::Engineering as i32],
        ..Default::default()
    };
    let req = api::CreateTrainingCentreRequest { training_centre: Some(centre), request_id: String::new() };
    s.centres().await.create_training_centre(authed(&s.admin, req)).await.unwrap().into_inner()
}

async fn update_centre(
    s: &TestServer,
    token: &str,
    centre: api::TrainingCentre,
    paths: &[&str],
) -> Result<api::TrainingCentre, tonic::Status> {
    let req = api::UpdateTrainingCentreRequest {
        training_centre: Some(centre),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
        request_id: new_request_id(),
    };
    s.centres().await.update_training_centre(authed(token, req)).await.map(|r| r.into_inner())
}

async fn capacity(s: &TestServer, token: &str) -> Result<Vec<api::CapacityRow>, tonic::Status> {
    let mut client = api::report_service_client::ReportServiceClient::new(s.channel().await);
    Ok(client.get_capacity_report(authed(token, api::GetCapacityReportRequest {})).await?.into_inner().rows)
}

async fn create_need(s: &TestServer, token: &str, need: api::Need) -> String {
    let req = api::CreateNeedRequest { need: Some(need), request_id: String::new() };
    s.needs().await.create_need(authed(token, req)).await.unwrap().into_inner().id
}

async fn transition(s: &TestServer, id: &str, to: S, dates: Option<(i64, i64)>) {
    let ts = |secs: i64| Some(prost_types::Timestamp { seconds: secs, nanos: 0 });
    let req = api::TransitionArrangementRequest {
        id: id.into(),
        to: to as i32,
        scheduled_start: dates.and_then(|d| ts(d.0)),
        scheduled_end: dates.and_then(|d| ts(d.1)),
        ..Default::default()
    };
    s.arrangements().await.transition_arrangement(authed(&s.admin, req)).await.unwrap();
}

async fn record(s: &TestServer, id: &str, trained: u32, certified: u32, trainers: u32) -> Result<(), tonic::Status> {
    let outcome = api::Outcome { trained, certified, trainers_qualified: trainers, ..Default::default() };
    let req = api::RecordOutcomeRequest { id: id.into(), outcome: Some(outcome), ..Default::default() };
    s.arrangements().await.record_outcome(authed(&s.admin, req)).await.map(|_| ())
}

/// The rows API.md defines, computed from what the Secretariat lists.
async fn expected_rows(s: &TestServer) -> Rows {
    let t = &s.admin;
    let req = api::ListNeedsRequest { page_size: 500, ..Default::default() };
    let needs = s.needs().await.list_needs(authed(t, req)).await.unwrap().into_inner().needs;
    let req = api::ListOffersRequest { page_size: 500, ..Default::default() };
    let offers = s.offers().await.list_offers(authed(t, req)).await.unwrap().into_inner().offers;
    let req = api::ListArrangementsRequest { page_size: 500, ..Default::default() };
    let arrangements =
        s.arrangements().await.list_arrangements(authed(t, req)).await.unwrap().into_inner().arrangements;
    let req = api::ListTrainingCentresRequest { page_size: 500, ..Default::default() };
    let centres = s.centres().await.list_training_centres(authed(t, req)).await.unwrap().into_inner().training_centres;
    let mut rows = BTreeMap::new();
    for n in &needs {
        let live = n.state != api::NeedState::Withdrawn as i32;
        let row = rows.entry(n.requester.clone()).or_insert((0, 0, 0, 0, 0, Vec::new()));
        if live {
            row.0 += u64::from(n.delivered_quantity);
        }
    }
    for a in &arrangements {
        let row = rows.get_mut(&a.recipient).unwrap();
        row.2 += u64::from(a.outcome.as_ref().map_or(0, |o| o.trainers_qualified));
        if a.status != S::Completed as i32 {
            continue;
        }
        let offer = offers.iter().find(|o| o.id == a.allocation.as_ref().unwrap().offer_id).unwrap();
        let home = offer.mode == api::DeliveryMode::MobileTrainingTeam as i32
            || centres.iter().any(|c| c.id == a.training_centre_id && c.host_state == a.recipient);
        if home {
            row.1 += u64::from(a.quantity);
        }
    }
    for c in &centres {
        if let Some(row) = rows.get_mut(&c.host_state) {
            row.3 += 1;
            row.4 += u32::from(c.un_recognized);
        }
    }
    // Repeat capabilities: a later need of a capability whose earlier need had a completed
    // arrangement, and no trainer qualified in that capability.
    for (state, row) in rows.iter_mut() {
        let mut repeat = BTreeSet::new();
        for later in needs.iter().filter(|n| &n.requester == state) {
            let trainers: u32 = arrangements
                .iter()
                .filter(|a| &a.recipient == state && a.capability == later.capability)
                .map(|a| a.outcome.as_ref().map_or(0, |o| o.trainers_qualified))
                .sum();
            let earlier_done = arrangements.iter().any(|a| {
                a.need_id != later.id
                    && a.capability == later.capability
                    && &a.recipient == state
                    && a.history.iter().any(|h| {
                        h.to_status == S::Completed as i32
                            && h.time.as_ref().unwrap().seconds <= later.create_time.as_ref().unwrap().seconds
                    })
            });
            if trainers == 0 && earlier_done {
                repeat.insert(later.capability);
            }
        }
        row.5 = repeat.into_iter().collect();
    }
    rows
}

fn as_map(rows: &[api::CapacityRow]) -> Rows {
    rows.iter()
        .map(|r| {
            let share = if r.seats_delivered == 0 { 0.0 } else { r.in_country_seats as f64 / r.seats_delivered as f64 };
            assert!((r.in_country_share - share).abs() < 1e-12, "{r:?}");
            let row = (
                r.seats_delivered,
                r.in_country_seats,
                r.trainers_qualified,
                r.national_centres,
                r.un_recognized_centres,
                r.repeat_capabilities.clone(),
            );
            (r.requester.clone(), row)
        })
        .collect()
}

#[tokio::test]
async fn capacity_rows_follow_delivery_trainers_and_centres() {
    let s = TestServer::start().await;
    let (uga, gbr, ken, rwa) = (s.state("UGA").await, s.state("GBR").await, s.state("KEN").await, s.state("RWA").await);
    let national = create_centre(&s, "Uganda Rapid Deployment Capability Centre", "UGA").await;
    create_centre(&s, "Jinja engineering school", "UGA").await;
    let kenyan = create_centre(&s, "IPSTC", "KEN").await;

    // UGA needs 10 engineers: GBR trains 6 in Uganda (mobile team) and 4 at the Kenyan centre.
    let first = create_need(&s, &uga, api::Need { quantity: 10, women_quantity: 0, ..need("UGA") }).await;
    create_need(&s, &rwa, api::Need { quantity: 5, women_quantity: 0, ..need("RWA") }).await;
    for offer in [
        api::Offer { capacity: 6, eligible_recipients: vec!["UGA".into()], ..delivery_offer("GBR") },
        api::Offer {
            capacity: 4,
            eligible_recipients: vec!["UGA".into()],
            mode: api::DeliveryMode::AtTrainingCentre as i32,
            training_centre_id: kenyan.id.clone(),
            ..delivery_offer("GBR")
        },
    ] {
        let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
        s.offers().await.create_offer(authed(&gbr, req)).await.unwrap();
    }
    let mut matching = s.matching().await;
    let proposed = matching.propose_matches(authed(&s.admin, api::ProposeMatchesRequest::default()));
    let proposed = proposed.await.unwrap().into_inner().matches;
    let m = proposed.iter().find(|m| m.need_id == first).unwrap();
    let req = api::ApproveMatchRequest { id: m.id.clone(), ..Default::default() };
    let arrangements = s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap().into_inner().arrangements;
    assert_eq!(arrangements.len(), 2, "one arrangement per offer");
    let tokens: BTreeMap<&str, &String> = [("UGA", &uga), ("GBR", &gbr), ("KEN", &ken)].into_iter().collect();
    for a in &arrangements {
        for c in &a.consents {
            let req = api::RespondToArrangementRequest { id: a.id.clone(), accept: true, ..Default::default() };
            s.arrangements().await.respond_to_arrangement(authed(tokens[c.state.as_str()], req)).await.unwrap();
        }
        let start = (ts_days(10).seconds.div_euclid(DAY) + 1) * DAY;
        transition(&s, &a.id, S::Scheduled, Some((start, start + 28 * DAY))).await;
        transition(&s, &a.id, S::InDelivery, None).await;
        // trainers_qualified may not exceed certified.
        let refused = assert_code(record(&s, &a.id, a.quantity, 2, 3).await, Code::InvalidArgument);
        assert_eq!(violations(&refused), ["outcome.trainers_qualified"]);
        record(&s, &a.id, a.quantity, 2, 0).await.unwrap();
        transition(&s, &a.id, S::Completed, None).await;
    }
    // UGA asks again for the same capability: support came back without building capacity.
    create_need(&s, &uga, api::Need { quantity: 3, women_quantity: 0, ..need("UGA") }).await;
    // The Secretariat recognizes the national centre; the host state never changes.
    let refused = update_centre(&s, &s.admin, national.clone(), &["host_state"]).await;
    assert_eq!(violations(&assert_code(refused, Code::InvalidArgument)), ["update_mask.paths[0]"]);
    let denied =
        update_centre(&s, &uga, api::TrainingCentre { un_recognized: true, ..national.clone() }, &["un_recognized"]);
    assert_code(denied.await, Code::PermissionDenied);
    let recognized = api::TrainingCentre { un_recognized: true, host_state: "FRA".into(), ..national.clone() };
    let updated = update_centre(&s, &s.admin, recognized, &["un_recognized"]).await.unwrap();
    assert!(updated.un_recognized);
    assert_eq!(updated.host_state, "UGA");
    assert_ne!(updated.etag, national.etag);
    let stale = update_centre(&s, &s.admin, api::TrainingCentre { name: "X".into(), ..national.clone() }, &["name"]);
    assert_code(stale.await, Code::Aborted);
    let mut events_client = s.events().await;
    let events = events_client.list_events(authed(
        &s.admin,
        api::ListEventsRequest {
            kinds: vec![api::EventKind::CentreUpdated as i32],
            page_size: 50,
            ..Default::default()
        },
    ));
    let events = events.await.unwrap().into_inner().events;
    assert_eq!(events.iter().map(|e| e.resource_id.as_str()).collect::<Vec<_>>(), [national.id.as_str()]);

    let got = as_map(&capacity(&s, &s.admin).await.unwrap());
    let want = expected_rows(&s).await;
    assert_eq!(got, want);
    let engineering = vec![api::CapabilityArea::Engineering as i32];
    assert_eq!(got["UGA"], (10, 6, 0, 2, 1, engineering.clone()), "the figures the scenario was built for");
    assert_eq!(got["RWA"], (0, 0, 0, 0, 0, vec![]));
    assert!(!got.contains_key("KEN") && !got.contains_key("GBR"), "only requesters have rows");

    // A trainer qualified in ENGINEERING: the capability no longer counts as a repeat.
    let a = &arrangements[0];
    record(&s, &a.id, a.quantity, 2, 2).await.unwrap();
    let got = as_map(&capacity(&s, &s.admin).await.unwrap());
    assert_eq!(got, expected_rows(&s).await);
    assert_eq!(got["UGA"], (10, 6, 2, 2, 1, vec![]));

    // A state reads its own row only; a centre none.
    let own: Vec<String> = capacity(&s, &uga).await.unwrap().into_iter().map(|r| r.requester).collect();
    assert_eq!(own, ["UGA"]);
    assert!(capacity(&s, &gbr).await.unwrap().is_empty(), "GBR filed no need");
    let centre_token = s.principal(api::PrincipalKind::TrainingCentre, "", &kenyan.id).await;
    assert_code(capacity(&s, &centre_token).await, Code::PermissionDenied);
}
