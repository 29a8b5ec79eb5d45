use crate::harness::*;
use lcm::api;
use std::time::Duration;
use tokio_stream::StreamExt;

#[tokio::test]
async fn every_change_appends_one_event_with_a_gapless_sequence() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await; // event 1: PRINCIPAL_CHANGED (bootstrap principal is event 0? no: it is event 1)
    let mut needs = s.needs().await;
    let n = needs
        .create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }))
        .await
        .unwrap()
        .into_inner();
    needs
        .withdraw_need(authed(
            &uga,
            api::WithdrawNeedRequest { id: n.id.clone(), etag: n.etag, request_id: String::new() },
        ))
        .await
        .unwrap();
    let mut events = s.events().await;
    let all =
        events.list_events(authed(&s.admin, api::ListEventsRequest::default())).await.unwrap().into_inner().events;
    let kinds: Vec<i32> = all.iter().map(|e| e.kind).collect();
    use api::EventKind as K;
    assert_eq!(
        kinds,
        [K::PrincipalChanged as i32, K::PrincipalChanged as i32, K::NeedCreated as i32, K::NeedWithdrawn as i32]
    );
    assert_eq!(all.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let last = &all[3];
    assert_eq!(last.resource_id, n.id);
    match &last.resource {
        Some(api::event::Resource::Need(need)) => assert_eq!(need.state, api::NeedState::Withdrawn as i32),
        other => panic!("unexpected resource {other:?}"),
    }
    // Kind filter and paging.
    let page = events
        .list_events(authed(
            &s.admin,
            api::ListEventsRequest {
                kinds: vec![K::NeedCreated as i32, K::NeedWithdrawn as i32],
                page_size: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].sequence, 3);
    let page2 = events
        .list_events(authed(
            &s.admin,
            api::ListEventsRequest {
                kinds: vec![K::NeedCreated as i32, K::NeedWithdrawn as i32],
                page_size: 1,
                page_token: page.next_page_token,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page2.events[0].sequence, 4);
    assert!(page2.next_page_token.is_empty());
}

/// A watcher that disconnects and resumes from its last sequence, while another client
/// keeps writing, sees every event exactly once and in order.
#[tokio::test]
async fn watch_resumes_across_reconnects_without_gaps_or_repeats() {
    let s = TestServer::start().await;
    let writer_token = s.admin.clone();
    let mut needs = s.needs().await;
    let writes = 120usize;
    let writer = tokio::spawn(async move {
        for i in 0..writes {
            let mut n = need("UGA");
            n.quantity = 1 + i as u32;
            n.women_quantity = 0;
            needs
                .create_need(authed(&writer_token, api::CreateNeedRequest { need: Some(n), request_id: String::new() }))
                .await
                .unwrap();
        }
    });
    let mut seen: Vec<u64> = Vec::new();
    let mut last = 0u64;
    let expected_total = writes as u64 + 1; // + the bootstrap principal
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while last < expected_total {
        assert!(tokio::time::Instant::now() < deadline, "watch did not catch up: {last}");
        let mut stream = s
            .events()
            .await
            .watch_events(authed(&s.admin, api::WatchEventsRequest { after_sequence: last, kinds: vec![] }))
            .await
            .unwrap()
            .into_inner();
        // Read a few events, then drop the stream (a disconnect) and resume.
        for _ in 0..17 {
            match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
                Ok(Some(Ok(e))) => {
                    seen.push(e.sequence);
                    last = e.sequence;
                    if last == expected_total {
                        break;
                    }
                }
                other => panic!("stream ended early: {other:?}"),
            }
        }
    }
    writer.await.unwrap();
    assert_eq!(seen, (1..=expected_total).collect::<Vec<_>>());
}

#[tokio::test]
async fn watchers_only_see_what_they_may_read() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let ben = s.state("BEN").await;
    let mut stream = s
        .events()
        .await
        .watch_events(authed(&ben, api::WatchEventsRequest { after_sequence: 0, kinds: vec![] }))
        .await
        .unwrap()
        .into_inner();
    let mut needs = s.needs().await;
    needs
        .create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }))
        .await
        .unwrap();
    let mine = needs
        .create_need(authed(&ben, api::CreateNeedRequest { need: Some(need("BEN")), request_id: String::new() }))
        .await
        .unwrap()
        .into_inner();
    let e = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(e.resource_id, mine.id, "BEN sees neither principals nor UGA's need");
}

#[tokio::test]
async fn revoking_a_token_ends_its_open_streams() {
    let s = TestServer::start().await;
    let mut admin = s.admin_client().await;
    let created = admin
        .create_principal(authed(
            &s.admin,
            api::CreatePrincipalRequest {
                kind: api::PrincipalKind::MemberState as i32,
                member_state: "UGA".into(),
                display_name: "x".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut stream = s
        .events()
        .await
        .watch_events(authed(&created.token, api::WatchEventsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    admin
        .revoke_principal(authed(&s.admin, api::RevokePrincipalRequest { id: created.principal.unwrap().id }))
        .await
        .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap();
    match end {
        Some(Err(status)) => assert_eq!(status.code(), tonic::Code::Unauthenticated),
        other => panic!("expected UNAUTHENTICATED, got {other:?}"),
    }
}

/// All match events of the log, in order, paging to the end.
async fn match_events(s: &TestServer) -> Vec<api::Event> {
    use api::EventKind as K;
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = api::ListEventsRequest {
            kinds: vec![
                K::MatchProposed as i32,
                K::MatchStale as i32,
                K::MatchApproved as i32,
                K::MatchRejected as i32,
            ],
            page_size: 500,
            page_token,
            ..Default::default()
        };
        let page = s.events().await.list_events(authed(&s.admin, req)).await.unwrap().into_inner();
        out.extend(page.events);
        if page.next_page_token.is_empty() {
            return out;
        }
        page_token = page.next_page_token;
    }
}

/// The log names a proposed or STALE match instead of copying it (store format 4). Read
/// back from the log after a restart, every match event still shows the match as it was
/// right after the event: a MATCH_PROPOSED event the match as the proposal answered it,
/// though it was approved, rejected or turned STALE since; the same events as before the
/// restart, when they came from memory.
#[tokio::test]
async fn match_events_read_from_the_log_show_each_match_as_it_was_after_the_event() {
    use api::EventKind as K;
    let s = TestServer::start().await;
    s.import_demo().await;
    let propose = || api::ProposeMatchesRequest { request_id: new_request_id(), ..Default::default() };
    let first = s.matching().await.propose_matches(authed(&s.admin, propose())).await.unwrap().into_inner();
    let (a, r) = (&first.matches[0], &first.matches[1]);
    let approve = api::ApproveMatchRequest { id: a.id.clone(), etag: a.etag.clone(), ..Default::default() };
    s.matching().await.approve_match(authed(&s.admin, approve)).await.unwrap();
    let reject = api::RejectMatchRequest { id: r.id.clone(), etag: r.etag.clone(), ..Default::default() };
    s.matching().await.reject_match(authed(&s.admin, reject)).await.unwrap();
    // The second proposal turns the first one's other matches STALE.
    s.matching().await.propose_matches(authed(&s.admin, propose())).await.unwrap();
    let from_memory = match_events(&s).await;
    let s = s.restart().await;
    let from_log = match_events(&s).await;
    assert_eq!(from_log, from_memory);
    let shown = |e: &api::Event| match &e.resource {
        Some(api::event::Resource::Match(m)) => m.clone(),
        other => panic!("event {} carries {other:?}", e.sequence),
    };
    let proposed: Vec<api::Match> =
        from_log.iter().filter(|e| e.kind == K::MatchProposed as i32).map(shown).take(first.matches.len()).collect();
    assert_eq!(proposed, first.matches);
    let stale: Vec<&api::Event> = from_log.iter().filter(|e| e.kind == K::MatchStale as i32).collect();
    assert_eq!(stale.len(), first.matches.len() - 2);
    for e in stale {
        let get = api::GetMatchRequest { id: e.resource_id.clone() };
        let now = s.matching().await.get_match(authed(&s.admin, get)).await.unwrap().into_inner();
        assert_eq!(shown(e), now);
        assert_eq!(shown(e).state, api::MatchState::Stale as i32);
    }
}
