//! The matching workflow over a real socket: proposals on the demo scenario, approval,
//! consent, scheduling, delivery, outcomes, refusals and all-or-nothing approval.

use crate::harness::*;
use lcm::api;
use tonic::Code;

async fn propose(s: &TestServer, dry_run: bool) -> api::ProposeMatchesResponse {
    s.matching()
        .await
        .propose_matches(authed(
            &s.admin,
            api::ProposeMatchesRequest {
                capabilities: vec![],
                dry_run,
                request_id: new_request_id(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

fn match_for<'a>(r: &'a api::ProposeMatchesResponse, need_id: &str) -> &'a api::Match {
    r.matches.iter().find(|m| m.need_id == need_id).unwrap_or_else(|| panic!("no match for {need_id}"))
}

async fn need(s: &TestServer, id: &str) -> api::Need {
    s.needs().await.get_need(authed(&s.admin, api::GetNeedRequest { id: id.into() })).await.unwrap().into_inner()
}

async fn offer(s: &TestServer, id: &str) -> api::Offer {
    s.offers().await.get_offer(authed(&s.admin, api::GetOfferRequest { id: id.into() })).await.unwrap().into_inner()
}

async fn approve(s: &TestServer, m: &api::Match, request_id: &str) -> Result<api::ApproveMatchResponse, tonic::Status> {
    s.matching()
        .await
        .approve_match(authed(
            &s.admin,
            api::ApproveMatchRequest {
                id: m.id.clone(),
                etag: m.etag.clone(),
                request_id: request_id.into(),
                comment: "ok".into(),
            },
        ))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn demo_proposals_reach_the_fixture_optimum() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let dry = propose(&s, true).await;
    let sum = dry.summary.clone().unwrap();
    assert_eq!(sum.needs_considered, 35);
    assert_eq!(sum.seats_demanded, 646);
    assert_eq!(sum.seats_matched, 490);
    assert_eq!(sum.women_seats_matched, 103);
    assert_eq!(sum.critical_seats_unmatched, 18);
    assert_eq!(&sum.objective[..4], &[100, 343, 47, 103]);
    assert_eq!(dry.matches.len(), 28);
    let listed = s
        .matching()
        .await
        .list_matches(authed(&s.admin, api::ListMatchesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.matches.is_empty(), "a dry run stores nothing");
    let r = propose(&s, false).await;
    assert_eq!(r.summary.as_ref().unwrap().objective, sum.objective, "the same store gives the same proposals");
    let ner = match_for(&r, &demo.needs["ner-cied"]);
    let usa = &demo.offers["usa-cied-mtt"];
    let irl = &demo.offers["irl-cied-mtt"];
    let mut split: Vec<(String, u32)> = ner.allocations.iter().map(|a| (a.offer_id.clone(), a.quantity)).collect();
    split.sort();
    let mut want = vec![(usa.clone(), 16), (irl.clone(), 8)];
    want.sort();
    assert_eq!(split, want);
    assert!(!ner.triangular);
    let sen = match_for(&r, &demo.needs["sen-hee-fr"]);
    assert!(sen.triangular);
    assert_eq!(sen.parties, ["JPN", "MAR", "SEN"]);
    assert_eq!(sen.allocations[0].funding_offer_id, demo.offers["jpn-tpp-eng-fund"]);
    // A second run makes the first run's proposals STALE.
    let again = propose(&s, false).await;
    let first = s
        .matching()
        .await
        .get_match(authed(&s.admin, api::GetMatchRequest { id: ner.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.state, api::MatchState::Stale as i32);
    assert_eq!(again.matches.len(), 28);
}

#[tokio::test]
async fn a_triangular_match_goes_from_approval_to_a_recorded_outcome() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let (sen, mar, jpn, uga) = (s.state("SEN").await, s.state("MAR").await, s.state("JPN").await, s.state("UGA").await);
    let r = propose(&s, false).await;
    let m = match_for(&r, &demo.needs["sen-hee-fr"]).clone();
    // A party reads the match; a state that is not a party does not.
    let mut matching = s.matching().await;
    matching.get_match(authed(&mar, api::GetMatchRequest { id: m.id.clone() })).await.unwrap();
    assert_code(matching.get_match(authed(&uga, api::GetMatchRequest { id: m.id.clone() })).await, Code::NotFound);
    assert_code(
        matching.approve_match(authed(&sen, api::ApproveMatchRequest { id: m.id.clone(), ..Default::default() })).await,
        Code::PermissionDenied,
    );
    let approved = approve(&s, &m, "").await.unwrap();
    assert_eq!(approved.r#match.unwrap().state, api::MatchState::Approved as i32);
    assert_eq!(approved.arrangements.len(), 1);
    let mut a = approved.arrangements[0].clone();
    assert_eq!(a.status, api::ArrangementStatus::PendingConsent as i32);
    assert!(a.triangular);
    assert_eq!(a.consents.iter().map(|c| c.state.as_str()).collect::<Vec<_>>(), ["JPN", "MAR", "SEN"]);
    let need_id = demo.needs["sen-hee-fr"].clone();
    assert_eq!(need(&s, &need_id).await.reserved_quantity, 12);
    assert_eq!(need(&s, &need_id).await.state, api::NeedState::Fulfilled as i32);
    assert_eq!(offer(&s, &demo.offers["jpn-tpp-eng-fund"]).await.reserved_quantity, 12);
    // Consent: the Secretariat cannot answer for a state; each party answers once.
    let mut arrs = s.arrangements().await;
    let respond = |token: &str, a: &api::Arrangement, accept: bool| {
        authed(
            token,
            api::RespondToArrangementRequest {
                id: a.id.clone(),
                etag: String::new(),
                accept,
                note: "agreed".into(),
                request_id: String::new(),
            },
        )
    };
    assert_code(arrs.respond_to_arrangement(respond(&s.admin, &a, true)).await, Code::PermissionDenied);
    assert_code(arrs.respond_to_arrangement(respond(&uga, &a, true)).await, Code::NotFound);
    for t in [&sen, &mar] {
        a = arrs.respond_to_arrangement(respond(t, &a, true)).await.unwrap().into_inner();
        assert_eq!(a.status, api::ArrangementStatus::PendingConsent as i32);
    }
    let status = assert_code(arrs.respond_to_arrangement(respond(&sen, &a, false)).await, Code::FailedPrecondition);
    assert_eq!(reason(&status), "ALREADY_ANSWERED");
    a = arrs.respond_to_arrangement(respond(&jpn, &a, true)).await.unwrap().into_inner();
    assert_eq!(a.status, api::ArrangementStatus::Agreed as i32);
    // Scheduling: Secretariat only, dates inside the window, end = start + duration.
    let o = offer(&s, &demo.offers["mar-hee-tot-fr"]).await;
    let start = o.available_from.unwrap().seconds.div_euclid(86_400) * 86_400 + 86_400;
    let ts = |secs: i64| Some(prost_types::Timestamp { seconds: secs, nanos: 0 });
    let end = start + i64::from(o.duration_days) * 86_400;
    let transition = |token: &str, a: &api::Arrangement, to: api::ArrangementStatus, start: i64, end: i64| {
        authed(
            token,
            api::TransitionArrangementRequest {
                id: a.id.clone(),
                etag: a.etag.clone(),
                to: to as i32,
                note: String::new(),
                scheduled_start: ts(start),
                scheduled_end: ts(end),
                request_id: String::new(),
            },
        )
    };
    use api::ArrangementStatus as S;
    assert_code(
        arrs.transition_arrangement(transition(&mar, &a, S::Scheduled, start, end)).await,
        Code::PermissionDenied,
    );
    let status = assert_code(
        arrs.transition_arrangement(transition(&s.admin, &a, S::Scheduled, start, end + 86_400)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violations(&status), ["scheduled_end"]);
    assert_code(
        arrs.transition_arrangement(transition(&s.admin, &a, S::Completed, 0, 0)).await,
        Code::FailedPrecondition,
    );
    a = arrs.transition_arrangement(transition(&s.admin, &a, S::Scheduled, start, end)).await.unwrap().into_inner();
    assert_eq!(a.status, S::Scheduled as i32);
    // Delivery: the delivering party starts it; the recipient may not.
    assert_code(arrs.transition_arrangement(transition(&sen, &a, S::InDelivery, 0, 0)).await, Code::PermissionDenied);
    a = arrs.transition_arrangement(transition(&mar, &a, S::InDelivery, 0, 0)).await.unwrap().into_inner();
    let outcome = |a: &api::Arrangement, trained: u32, women: u32| {
        authed(
            &mar,
            api::RecordOutcomeRequest {
                id: a.id.clone(),
                etag: String::new(),
                outcome: Some(api::Outcome {
                    trained,
                    women_trained: women,
                    certified: trained,
                    deployed_missions: vec!["MINUSCA".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        )
    };
    let status = assert_code(arrs.record_outcome(outcome(&a, 10, 11)).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["outcome.women_trained"]);
    assert_code(arrs.record_outcome(outcome(&a, 13, 1)).await, Code::InvalidArgument);
    a = arrs.record_outcome(outcome(&a, 12, 2)).await.unwrap().into_inner();
    a = arrs.transition_arrangement(transition(&mar, &a, S::Completed, 0, 0)).await.unwrap().into_inner();
    assert_eq!(a.status, S::Completed as i32);
    assert_eq!(a.outcome.as_ref().unwrap().trained, 12);
    let history: Vec<i32> = a.history.iter().map(|h| h.to_status).collect();
    assert_eq!(
        history,
        [S::PendingConsent as i32, S::Agreed as i32, S::Scheduled as i32, S::InDelivery as i32, S::Completed as i32]
    );
    let n = need(&s, &need_id).await;
    assert_eq!((n.reserved_quantity, n.delivered_quantity), (0, 12));
    assert_eq!(n.state, api::NeedState::Fulfilled as i32);
    // Final: no way out of COMPLETED.
    assert_code(
        arrs.transition_arrangement(transition(&s.admin, &a, S::Cancelled, 0, 0)).await,
        Code::FailedPrecondition,
    );
}

#[tokio::test]
async fn refused_consent_releases_the_seats_and_is_remembered() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let gha = s.state("GHA").await;
    let r = propose(&s, false).await;
    let need_id = demo.needs["gha-epm"].clone();
    let m = match_for(&r, &need_id).clone();
    let a = approve(&s, &m, "").await.unwrap().arrangements.remove(0);
    assert_eq!(need(&s, &need_id).await.reserved_quantity, 8);
    let declined = s
        .arrangements()
        .await
        .respond_to_arrangement(authed(
            &gha,
            api::RespondToArrangementRequest {
                id: a.id.clone(),
                accept: false,
                note: "not now".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(declined.status, api::ArrangementStatus::Declined as i32);
    let n = need(&s, &need_id).await;
    assert_eq!((n.reserved_quantity, n.state), (0, api::NeedState::Open as i32));
    assert_eq!(offer(&s, &demo.offers["bra-epm-ipstc"]).await.reserved_quantity, 0);
    // The engine no longer proposes that need with those offers.
    let again = propose(&s, true).await;
    assert!(again.matches.iter().all(|m| m.need_id != need_id));
    let explained = s
        .matching()
        .await
        .explain_need(authed(&s.admin, api::ExplainNeedRequest { need_id: need_id.clone() }))
        .await
        .unwrap()
        .into_inner();
    let bra = explained.candidates.iter().find(|c| c.offer_id == demo.offers["bra-epm-ipstc"]).unwrap();
    assert!(!bra.compatible);
}

#[tokio::test]
async fn approval_is_all_or_nothing_and_retries_reserve_once() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let r = propose(&s, false).await;
    // Retried with the same request id after a lost response: same arrangements, one reservation.
    let uga = match_for(&r, &demo.needs["uga-hee-2027"]).clone();
    let rid = new_request_id();
    let first = approve(&s, &uga, &rid).await.unwrap();
    let second = approve(&s, &uga, &rid).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(need(&s, &demo.needs["uga-hee-2027"]).await.reserved_quantity, 20);
    // Approving again (new request id): the old etag is stale, and without an etag the
    // match is no longer PROPOSED.
    assert_code(approve(&s, &uga, &new_request_id()).await, Code::Aborted);
    let no_etag = api::Match { etag: String::new(), ..uga.clone() };
    let status = assert_code(approve(&s, &no_etag, &new_request_id()).await, Code::FailedPrecondition);
    assert_eq!(reason(&status), "WRONG_STATE");
    // An offer withdrawn after the proposal: nothing is reserved and the match turns STALE.
    let ner = match_for(&r, &demo.needs["ner-cied"]).clone();
    let irl = offer(&s, &demo.offers["irl-cied-mtt"]).await;
    s.offers()
        .await
        .withdraw_offer(authed(
            &s.admin,
            api::WithdrawOfferRequest { id: irl.id.clone(), etag: irl.etag, request_id: String::new() },
        ))
        .await
        .unwrap();
    let status = assert_code(approve(&s, &ner, "").await, Code::FailedPrecondition);
    assert_eq!(reason(&status), "WITHDRAWN");
    assert_eq!(need(&s, &demo.needs["ner-cied"]).await.reserved_quantity, 0);
    assert_eq!(
        offer(&s, &demo.offers["usa-cied-mtt"]).await.reserved_quantity,
        0,
        "the other allocation reserved nothing"
    );
    let after =
        s.matching().await.get_match(authed(&s.admin, api::GetMatchRequest { id: ner.id })).await.unwrap().into_inner();
    assert_eq!(after.state, api::MatchState::Stale as i32);
    // Updating a need makes its PROPOSED matches STALE.
    let sen = match_for(&r, &demo.needs["sen-qrf"]).clone();
    let mut n = need(&s, &demo.needs["sen-qrf"]).await;
    n.title = "Quick reaction force, updated".into();
    s.needs()
        .await
        .update_need(authed(
            &s.admin,
            api::UpdateNeedRequest {
                need: Some(n),
                update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
    let stale =
        s.matching().await.get_match(authed(&s.admin, api::GetMatchRequest { id: sen.id })).await.unwrap().into_inner();
    assert_eq!(stale.state, api::MatchState::Stale as i32);
}

#[tokio::test]
async fn rejected_matches_are_not_proposed_again_until_an_update() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let r = propose(&s, false).await;
    let need_id = demo.needs["vnm-french"].clone();
    let m = match_for(&r, &need_id).clone();
    let rejected = s
        .matching()
        .await
        .reject_match(authed(
            &s.admin,
            api::RejectMatchRequest {
                id: m.id,
                etag: m.etag,
                reason: "duplicate of a bilateral course".into(),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rejected.state, api::MatchState::Rejected as i32);
    assert!(propose(&s, true).await.matches.iter().all(|m| m.need_id != need_id));
    let mut n = need(&s, &need_id).await;
    n.description = "Updated".into();
    s.needs()
        .await
        .update_need(authed(
            &s.admin,
            api::UpdateNeedRequest {
                need: Some(n),
                update_mask: Some(prost_types::FieldMask { paths: vec!["description".into()] }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
    assert!(propose(&s, true).await.matches.iter().any(|m| m.need_id == need_id));
}

#[tokio::test]
async fn reserved_seats_freeze_matching_fields_and_floor_quantities() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let r = propose(&s, false).await;
    let m = match_for(&r, &demo.needs["vnm-french"]).clone();
    approve(&s, &m, "").await.unwrap();
    let o = offer(&s, &demo.offers["fra-french-vnpkc"]).await;
    assert!(o.reserved_quantity >= 15);
    let update = |o: api::Offer, path: &str| {
        authed(
            &s.admin,
            api::UpdateOfferRequest {
                offer: Some(o),
                update_mask: Some(prost_types::FieldMask { paths: vec![path.into()] }),
                request_id: String::new(),
            },
        )
    };
    let mut offers = s.offers().await;
    let below = api::Offer { capacity: o.reserved_quantity - 1, ..o.clone() };
    let status = assert_code(offers.update_offer(update(below, "capacity")).await, Code::FailedPrecondition);
    assert_eq!(reason(&status), "BELOW_RESERVED");
    let langs = api::Offer { languages: vec!["en".into()], ..o.clone() };
    let status = assert_code(offers.update_offer(update(langs, "languages")).await, Code::FailedPrecondition);
    assert_eq!(reason(&status), "FROZEN_WHILE_RESERVED");
    // Raising the capacity and changing the title remain allowed.
    let more = api::Offer { capacity: o.capacity + 5, title: "More seats".into(), ..o };
    let updated = offers.update_offer(update(more.clone(), "capacity")).await.unwrap().into_inner();
    assert_eq!(updated.capacity, more.capacity);
}

/// What a proposal and ExplainNeed answer, for comparing two ways of solving the same
/// store: the summary without its timing, and every need's explanation.
async fn answers(s: &TestServer, dry_run_capabilities: Vec<i32>) -> (api::MatchSummary, Vec<api::ExplainNeedResponse>) {
    let r = s
        .matching()
        .await
        .propose_matches(authed(
            &s.admin,
            api::ProposeMatchesRequest { dry_run: true, capabilities: dry_run_capabilities, ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner();
    let summary = api::MatchSummary { solve_micros: 0, ..r.summary.unwrap() };
    let list = api::ListNeedsRequest { page_size: 1000, ..Default::default() };
    let needs = s.needs().await.list_needs(authed(&s.admin, list)).await.unwrap().into_inner().needs;
    let mut explained = Vec::new();
    for n in needs {
        let req = api::ExplainNeedRequest { need_id: n.id };
        explained.push(s.matching().await.explain_need(authed(&s.admin, req)).await.unwrap().into_inner());
    }
    (summary, explained)
}

/// The warm proposal (from the changes since the last) and a cold solve of every
/// capability agree.
async fn check(s: &TestServer, what: &str) {
    let (warm, _) = answers(s, Vec::new()).await;
    let (cold, _) = answers(s, (1..=15).collect()).await;
    assert_eq!(warm, cold, "after {what}");
}

/// The matching view kept from the commits (issue 18) answers exactly as the store read
/// afresh: after each kind of change (an approval's seats and per-recipient counts, a
/// refusal, a priority change, a withdrawal, a new need and offer, a renamed centre, whose
/// new name the reasons give at once) the
/// warm proposal equals a cold solve of every capability, and after a restart (a view
/// loaded from disk) the proposal and every explanation are the same.

#[tokio::test]
async fn the_matching_view_kept_from_commits_answers_as_the_store_read_afresh() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    check(&s, "nothing").await;
    let r = propose(&s, false).await;
    let m = match_for(&r, &demo.needs["vnm-french"]).clone();
    approve(&s, &m, "").await.unwrap();
    check(&s, "an approval").await;
    let r = propose(&s, false).await;
    let other = r.matches.iter().find(|x| x.need_id != m.need_id).unwrap().clone();
    let req = api::RejectMatchRequest {
        id: other.id,
        etag: other.etag,
        reason: "bilateral".into(),
        request_id: String::new(),
    };
    s.matching().await.reject_match(authed(&s.admin, req)).await.unwrap();
    check(&s, "a refusal").await;
    let mut n = need(&s, &demo.needs["ben-hee-fr"]).await;
    n.priority = api::Priority::Critical as i32;
    let mask = prost_types::FieldMask { paths: vec!["priority".into()] };
    let req = api::UpdateNeedRequest { need: Some(n), update_mask: Some(mask), request_id: String::new() };
    s.needs().await.update_need(authed(&s.admin, req)).await.unwrap();
    check(&s, "a priority change").await;
    let o = offer(&s, &demo.offers["usa-cied-mtt"]).await;
    let req = api::WithdrawOfferRequest { id: o.id, etag: o.etag, request_id: String::new() };
    s.offers().await.withdraw_offer(authed(&s.admin, req)).await.unwrap();
    check(&s, "a withdrawal").await;
    let req = api::CreateNeedRequest { need: Some(crate::harness::need("UGA")), request_id: String::new() };
    s.needs().await.create_need(authed(&s.admin, req)).await.unwrap();
    let req = api::CreateOfferRequest { offer: Some(delivery_offer("JPN")), request_id: String::new() };
    s.offers().await.create_offer(authed(&s.admin, req)).await.unwrap();
    check(&s, "a new need and offer").await;
    // A centre where a proposal trains someone: its new name is in the reasons at once.
    let r = propose(&s, true).await;
    let at_centre = r.matches.iter().flat_map(|m| &m.allocations).find(|a| !a.training_centre_id.is_empty());
    let req = api::GetTrainingCentreRequest { id: at_centre.unwrap().training_centre_id.clone() };
    let centre = s.centres().await.get_training_centre(authed(&s.admin, req)).await.unwrap().into_inner();
    let req = api::UpdateTrainingCentreRequest {
        training_centre: Some(api::TrainingCentre { name: "Renamed centre".into(), ..centre }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["name".into()] }),
        request_id: String::new(),
    };
    s.centres().await.update_training_centre(authed(&s.admin, req)).await.unwrap();
    let r = propose(&s, true).await;
    assert!(r.matches.iter().flat_map(|m| &m.reasons).any(|r| r.contains(" at Renamed centre (")), "{r:?}");
    check(&s, "a renamed centre").await;
    let before = answers(&s, Vec::new()).await;
    let s = s.restart().await;
    assert_eq!(answers(&s, Vec::new()).await, before, "a view loaded afresh answers otherwise");
}

/// A dry run changes nothing and remembers nothing (its answer is a whole proposal, 45 MB
/// at 100 000 needs): with a request id it leaves no idempotency entry and a retry is
/// answered again; an id a write used first is still refused for a dry run.
#[tokio::test]
async fn a_dry_run_with_a_request_id_stores_nothing() {
    let (s, store) = TestServer::start_with_store().await;
    s.import_demo().await;
    let before = store.idempotency_entries();
    let digest = store.content_digest().unwrap();
    let dry = |request_id: &str| api::ProposeMatchesRequest {
        dry_run: true,
        request_id: request_id.to_string(),
        ..Default::default()
    };
    let rid = new_request_id();
    let first = s.matching().await.propose_matches(authed(&s.admin, dry(&rid))).await.unwrap().into_inner();
    let again = s.matching().await.propose_matches(authed(&s.admin, dry(&rid))).await.unwrap().into_inner();
    assert_eq!(first.matches.len(), again.matches.len());
    assert_eq!(store.idempotency_entries(), before);
    assert_eq!(store.content_digest().unwrap(), digest);
    let used = new_request_id();
    let req = api::CreateNeedRequest { need: Some(crate::harness::need("UGA")), request_id: used.clone() };
    s.needs().await.create_need(authed(&s.admin, req)).await.unwrap();
    let refused = s.matching().await.propose_matches(authed(&s.admin, dry(&used))).await;
    assert_eq!(reason(&assert_code(refused, Code::InvalidArgument)), "REQUEST_ID_REUSED");
}

/// ListMatches by need (from the need's index) pages through exactly the matches of that
/// need that a full listing shows, in id order, whatever their state.
#[tokio::test]
async fn matches_listed_by_need_are_those_of_the_full_list() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    propose(&s, false).await;
    propose(&s, false).await; // the first proposals turn STALE
    let list = |need_id: &str, page_size: i32, page_token: String| api::ListMatchesRequest {
        need_id: need_id.to_string(),
        page_size,
        page_token,
        ..Default::default()
    };
    let all = s.matching().await.list_matches(authed(&s.admin, list("", 1000, String::new()))).await.unwrap();
    let all = all.into_inner().matches;
    for need_id in [&demo.needs["vnm-french"], &demo.needs["ben-hee-fr"]] {
        let (mut paged, mut token) = (Vec::new(), String::new());
        loop {
            let page = s.matching().await.list_matches(authed(&s.admin, list(need_id, 1, token))).await.unwrap();
            let page = page.into_inner();
            paged.extend(page.matches.into_iter().map(|m| m.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let expected: Vec<String> = all.iter().filter(|m| &m.need_id == need_id).map(|m| m.id.clone()).collect();
        assert_eq!(expected.len(), 2, "{need_id}: a PROPOSED and a STALE match");
        assert_eq!(paged, expected, "{need_id}");
    }
}

/// A stored proposal's request id keeps only its matches' ids (at 100 000 needs the answer
/// is about 45 MB, and the matches are in the store for good), and a replay still answers
/// the first response exactly, though its matches were approved and rejected since.
#[tokio::test]
async fn a_replayed_proposal_answers_its_first_response_from_the_stored_matches() {
    use prost::Message;
    let (s, store) = TestServer::start_with_store().await;
    s.import_demo().await;
    let req = api::ProposeMatchesRequest { request_id: new_request_id(), ..Default::default() };
    let first = s.matching().await.propose_matches(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    assert!(first.matches.len() >= 2, "{} matches", first.matches.len());
    approve(&s, &first.matches[0], &new_request_id()).await.unwrap();
    let m = &first.matches[1];
    let reject = api::RejectMatchRequest {
        id: m.id.clone(),
        etag: m.etag.clone(),
        reason: "not now".into(),
        request_id: new_request_id(),
    };
    s.matching().await.reject_match(authed(&s.admin, reject)).await.unwrap();
    let again = s.matching().await.propose_matches(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    assert_eq!(again, first);
    let kept =
        store.idempotency("principal-1", &req.request_id.parse().unwrap()).unwrap().expect("the proposal's entry");
    assert!(
        kept.response.len() * 10 < first.encoded_len(),
        "the entry keeps {} bytes of a {}-byte answer",
        kept.response.len(),
        first.encoded_len()
    );
}
