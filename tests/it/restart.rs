use crate::harness::*;
use lcm::api;

#[tokio::test]
async fn data_and_tokens_survive_a_restart() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let first = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
    let created = s.needs().await.create_need(authed(&uga, first.clone())).await.unwrap().into_inner();
    let admin = s.admin.clone();
    let s = s.restart().await;
    assert_eq!(s.admin, admin, "the bootstrap token is created once");
    let got = s
        .needs()
        .await
        .get_need(authed(&uga, api::GetNeedRequest { id: created.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, created);
    // The request ids a store holds are known again after the restart (they are kept in
    // memory, filled at open): a retry is answered with the first response, nothing new.
    let retried = s.needs().await.create_need(authed(&uga, first)).await.unwrap().into_inner();
    assert_eq!(retried, created, "a retry after the restart answers the first response");
    let more = s
        .needs()
        .await
        .create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() }))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(more.id, created.id, "ids are never reused");
    let events =
        s.events().await.list_events(authed(&s.admin, api::ListEventsRequest::default())).await.unwrap().into_inner();
    let seqs: Vec<u64> = events.events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "gapless across the restart");
    let created_events = events.events.iter().filter(|e| e.kind == api::EventKind::NeedCreated as i32).count();
    assert_eq!(created_events, 2, "the retry created nothing");
}
