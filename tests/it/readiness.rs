//! Readiness (issue 17): GetReadinessReport lists the needs with open seats whose date is
//! within their horizon (90 days for RAPID_DEPLOYMENT, 45 otherwise) or past, against
//! figures computed here from ListNeeds and ExplainNeed.

use crate::harness::*;
use lcm::api;
use tonic::Code;

async fn readiness(s: &TestServer, token: &str) -> Result<Vec<api::ReadinessRow>, tonic::Status> {
    let mut client = api::report_service_client::ReportServiceClient::new(s.channel().await);
    Ok(client.get_readiness_report(authed(token, api::GetReadinessReportRequest {})).await?.into_inner().rows)
}

async fn create_need(s: &TestServer, token: &str, need: api::Need) -> String {
    let req = api::CreateNeedRequest { need: Some(need), request_id: String::new() };
    s.needs().await.create_need(authed(token, req)).await.unwrap().into_inner().id
}

fn today() -> i64 {
    ts_days(0).seconds.div_euclid(86_400)
}

#[tokio::test]
async fn readiness_rows_follow_horizons_seats_and_callers() {
    let s = TestServer::start().await;
    let (uga, rwa, gbr) = (s.state("UGA").await, s.state("RWA").await, s.state("GBR").await);
    let at = |days: i64, level: api::ReadinessLevel, requester: &str| api::Need {
        needed_by: Some(ts_days(days)),
        pledge_level: level as i32,
        quantity: 4,
        women_quantity: 0,
        ..need(requester)
    };
    use api::ReadinessLevel::{Level2, RapidDeployment};
    let rdl_60 = create_need(&s, &uga, at(60, RapidDeployment, "UGA")).await; // at risk (90)
    let l2_60 = create_need(&s, &uga, at(60, Level2, "UGA")).await; // not at risk (45)
    let l2_30 = create_need(&s, &rwa, at(30, Level2, "RWA")).await; // at risk
    let reserved = create_need(&s, &uga, at(40, Level2, "UGA")).await; // seats reserved below
    let withdrawn = create_need(&s, &rwa, at(20, Level2, "RWA")).await;
    s.needs()
        .await
        .withdraw_need(authed(&rwa, api::WithdrawNeedRequest { id: withdrawn.clone(), ..Default::default() }))
        .await
        .unwrap();
    // GBR trains 4 UGA engineers, starting in 2 days, 5 days long: `reserved` is matched.
    let offer = api::Offer {
        capacity: 4,
        eligible_recipients: vec!["UGA".into()],
        available_from: Some(ts_days(2)),
        duration_days: 5,
        ..delivery_offer("GBR")
    };
    let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
    s.offers().await.create_offer(authed(&gbr, req)).await.unwrap();

    let before: Vec<String> = readiness(&s, &s.admin).await.unwrap().into_iter().map(|r| r.need_id).collect();
    assert_eq!(before, [l2_30.clone(), reserved.clone(), rdl_60.clone()], "sorted by days left");

    // Reserve the seats of `reserved` (the engine gives the offer to the earliest date).
    let proposed = s.matching().await.propose_matches(authed(&s.admin, api::ProposeMatchesRequest::default())).await;
    let m = proposed.unwrap().into_inner().matches.into_iter().find(|m| m.need_id == reserved).unwrap();
    let req = api::ApproveMatchRequest { id: m.id.clone(), ..Default::default() };
    s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap();

    // Expected rows from what the Secretariat lists and explains.
    let req = api::ListNeedsRequest { page_size: 500, ..Default::default() };
    let needs = s.needs().await.list_needs(authed(&s.admin, req)).await.unwrap().into_inner().needs;
    let mut want = Vec::new();
    for n in &needs {
        let open = n.quantity - n.reserved_quantity - n.delivered_quantity;
        let days_left = n.needed_by.as_ref().unwrap().seconds.div_euclid(86_400) - today();
        let horizon = if n.pledge_level == RapidDeployment as i32 { 90 } else { 45 };
        if n.state != api::NeedState::Open as i32 || open == 0 || days_left > horizon {
            continue;
        }
        let req = api::ExplainNeedRequest { need_id: n.id.clone() };
        let explained = s.matching().await.explain_need(authed(&s.admin, req)).await.unwrap().into_inner();
        let compatible = explained.candidates.iter().filter(|c| c.compatible).count() as u32;
        let status = if days_left < 0 { api::ReadinessStatus::Overdue } else { api::ReadinessStatus::AtRisk };
        want.push((n.id.clone(), n.requester.clone(), days_left, open, compatible, status as i32));
    }
    want.sort_by_key(|w| (w.5 != api::ReadinessStatus::Overdue as i32, w.2, w.0.clone()));
    let rows = readiness(&s, &s.admin).await.unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.need_id.clone(), r.requester.clone(), r.days_left, r.open, r.compatible_offers, r.status))
        .collect();
    assert_eq!(got, want);
    let ids: Vec<&str> = rows.iter().map(|r| r.need_id.as_str()).collect();
    assert_eq!(ids, [l2_30.as_str(), rdl_60.as_str()], "a need with its seats reserved is not at risk");
    assert!(!ids.contains(&l2_60.as_str()) && !ids.contains(&withdrawn.as_str()));
    let rdl = rows.iter().find(|r| r.need_id == rdl_60).unwrap();
    assert_eq!(rdl.pledge_level, RapidDeployment as i32);
    assert_eq!(rdl.days_left, 60);

    // A state reads its own needs' rows; a centre none.
    let own: Vec<String> = readiness(&s, &uga).await.unwrap().into_iter().map(|r| r.need_id).collect();
    assert_eq!(own, [rdl_60]);
    assert!(readiness(&s, &gbr).await.unwrap().is_empty());
}

#[tokio::test]
async fn risk_horizon_days_changes_the_horizons() {
    let s = TestServer::start_with(|a| a.risk_horizon_days = lcm::reports::RiskHorizons::parse("10,70").unwrap()).await;
    let uga = s.state("UGA").await;
    let level2 = create_need(&s, &uga, api::Need { needed_by: Some(ts_days(60)), ..need("UGA") }).await;
    let rdl = api::Need {
        needed_by: Some(ts_days(30)),
        pledge_level: api::ReadinessLevel::RapidDeployment as i32,
        ..need("UGA")
    };
    create_need(&s, &uga, rdl).await;
    let ids: Vec<String> = readiness(&s, &s.admin).await.unwrap().into_iter().map(|r| r.need_id).collect();
    assert_eq!(ids, [level2]);
    assert!(lcm::reports::RiskHorizons::parse("90").is_err());
    let centre_token = {
        let c = api::TrainingCentre {
            name: "C".into(),
            host_state: "KEN".into(),
            languages: vec!["en".into()],
            ..Default::default()
        };
        let req = api::CreateTrainingCentreRequest { training_centre: Some(c), request_id: String::new() };
        let id = s.centres().await.create_training_centre(authed(&s.admin, req)).await.unwrap().into_inner().id;
        s.principal(api::PrincipalKind::TrainingCentre, "", &id).await
    };
    assert_code(readiness(&s, &centre_token).await, Code::PermissionDenied);
}
