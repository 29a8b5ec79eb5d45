//! A stored ProposeMatches (issue 18): its matches are written unseen and made visible by
//! one commit, so writers go on meanwhile; a match resting on something that changed
//! between the solve and that commit is stored STALE.

use crate::harness::*;
use lcm::api;
use std::time::{Duration, Instant};

async fn propose(s: &TestServer, dry_run: bool) -> api::ProposeMatchesResponse {
    let req = api::ProposeMatchesRequest { dry_run, request_id: new_request_id(), ..Default::default() };
    s.matching().await.propose_matches(authed(&s.admin, req)).await.unwrap().into_inner()
}

async fn matches(s: &TestServer) -> Vec<api::Match> {
    let req = api::ListMatchesRequest { page_size: 500, ..Default::default() };
    s.matching().await.list_matches(authed(&s.admin, req)).await.unwrap().into_inner().matches
}

/// With the reveal held back 1.5 s (the test-only `--test-reveal-delay-ms`), a stored
/// proposal's matches are seen by nobody while staged (ListMatches, GetMatch), writes are
/// answered at once, and a need updated meanwhile gets its new match STALE: in the
/// answer, in the store, and in the log after its MATCH_PROPOSED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_proposal_is_unseen_until_revealed_and_stale_where_its_need_changed() {
    let s = TestServer::start_with(|a| a.test_reveal_delay_ms = Some(1_500)).await;
    s.import_demo().await;
    let before = matches(&s).await.len();
    let dry = propose(&s, true).await;
    assert!(dry.matches.len() >= 3, "the demo proposes {} matches", dry.matches.len());
    let changed_need = dry.matches[0].need_id.clone();

    let (mut matching, admin) = (s.matching().await, s.admin.clone());
    let asked = Instant::now();
    let req = api::ProposeMatchesRequest { request_id: new_request_id(), ..Default::default() };
    let retry = req.clone();
    let stored = tokio::spawn(async move {
        let answer = matching.propose_matches(authed(&admin, req)).await.unwrap().into_inner();
        (answer, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(matches(&s).await.len(), before, "a staged match was listed before its proposal was revealed");
    let next = format!("match-{}", before + 1);
    let hidden = s.matching().await.get_match(authed(&s.admin, api::GetMatchRequest { id: next.clone() })).await;
    assert_eq!(hidden.unwrap_err().code(), tonic::Code::NotFound, "{next} was readable while staged");
    // The writer gate is free while the proposal is staged: a write and an update go through.
    let write = Instant::now();
    let req = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
    s.needs().await.create_need(authed(&s.admin, req)).await.unwrap();
    let mut n = s
        .needs()
        .await
        .get_need(authed(&s.admin, api::GetNeedRequest { id: changed_need.clone() }))
        .await
        .unwrap()
        .into_inner();
    n.title = format!("{} (changed during the proposal)", n.title);
    let mask = prost_types::FieldMask { paths: vec!["title".into()] };
    let req = api::UpdateNeedRequest { need: Some(n), update_mask: Some(mask), request_id: new_request_id() };
    s.needs().await.update_need(authed(&s.admin, req)).await.unwrap();
    let wrote = write.elapsed();

    let (answer, revealed) = stored.await.unwrap();
    assert!(revealed - asked >= Duration::from_millis(1_500), "the reveal was not held back");
    assert!(wrote < Duration::from_millis(700), "two writes took {wrote:?} while a proposal was staged");
    assert_eq!(answer.matches.len(), dry.matches.len());
    let state = |m: &api::Match| api::MatchState::try_from(m.state).unwrap();
    for m in &answer.matches {
        let want = if m.need_id == changed_need { api::MatchState::Stale } else { api::MatchState::Proposed };
        assert_eq!(state(m), want, "{} of {} in the answer", m.id, m.need_id);
        let stored =
            s.matching().await.get_match(authed(&s.admin, api::GetMatchRequest { id: m.id.clone() })).await.unwrap();
        assert_eq!(state(&stored.into_inner()), want, "{} of {} in the store", m.id, m.need_id);
    }
    assert_eq!(matches(&s).await.len(), before + answer.matches.len());
    let stale = answer.matches.iter().find(|m| m.need_id == changed_need).unwrap();
    let req = api::ListEventsRequest { page_size: 1_000, ..Default::default() };
    let events = s.events().await.list_events(authed(&s.admin, req)).await.unwrap().into_inner().events;
    let kinds: Vec<api::EventKind> = events
        .iter()
        .filter(|e| e.resource_id == stale.id)
        .map(|e| api::EventKind::try_from(e.kind).unwrap())
        .collect();
    assert_eq!(kinds, [api::EventKind::MatchProposed, api::EventKind::MatchStale]);
    // A retry is answered with the first answer, the STALE match included.
    let replay = s.matching().await.propose_matches(authed(&s.admin, retry)).await.unwrap().into_inner();
    assert_eq!(replay, answer);
}

/// The PROPOSED matches a stored proposal supersedes are STALE once it is answered, and
/// a retry of it is answered from the first (no second staging).
#[tokio::test]
async fn a_stored_proposal_supersedes_the_last_one_and_a_retry_stores_nothing_more() {
    let s = TestServer::start().await;
    s.import_demo().await;
    let first = propose(&s, false).await;
    let req = api::ProposeMatchesRequest { request_id: new_request_id(), ..Default::default() };
    let second = s.matching().await.propose_matches(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    let all = matches(&s).await;
    let state_of = |id: &str| all.iter().find(|m| m.id == id).map(|m| m.state).unwrap();
    assert!(first.matches.iter().all(|m| state_of(&m.id) == api::MatchState::Stale as i32));
    assert!(second.matches.iter().all(|m| state_of(&m.id) == api::MatchState::Proposed as i32));
    let again = s.matching().await.propose_matches(authed(&s.admin, req)).await.unwrap().into_inner();
    let ids = |r: &api::ProposeMatchesResponse| r.matches.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&second));
    assert_eq!(matches(&s).await.len(), all.len(), "the retry stored matches");
}
