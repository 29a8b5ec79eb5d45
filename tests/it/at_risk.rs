//! NEED_AT_RISK (issue 17): recorded by the server (actor `system`) each time a need enters
//! the at-risk set of the readiness report — after the writes that touch the need, at
//! start, and at each UTC midnight of an injected clock that the tests move, so the
//! passage of days needs no sleeping.

use crate::harness::*;
use lcm::api;
use lcm::service::reports::at_risk::Clock;
use std::time::Duration;

/// A server whose NEED_AT_RISK task goes by `clock`.
struct ClockedServer {
    s: TestServer,
    clock: Clock,
}

/// A server on `dir` whose NEED_AT_RISK task goes by `clock`.
async fn start(dir: tempfile::TempDir, clock: Clock) -> ClockedServer {
    let for_ctx = clock.clone();
    let (s, _) = TestServer::start_adjusted(dir, |_| {}, |ctx| lcm::service::Services { clock: for_ctx, ..ctx }).await;
    ClockedServer { s, clock }
}

impl ClockedServer {
    /// Moves the clock and waits until the task has checked every need on the new day.
    async fn advance(&self, days: i64) {
        self.clock.advance_days(days);
        let today = self.clock.today();
        tokio::time::timeout(Duration::from_secs(20), self.clock.checked(today)).await.expect("the daily check ran");
    }

    /// Stops it and starts a server on the same store with `clock`.
    async fn restart(mut self, clock: Clock) -> ClockedServer {
        self.s.stop().await;
        let dir = std::mem::replace(&mut self.s.dir, tempfile::tempdir().unwrap());
        start(dir, clock).await
    }
}

async fn alerts(s: &TestServer, token: &str) -> Vec<api::Event> {
    let req =
        api::ListEventsRequest { kinds: vec![api::EventKind::NeedAtRisk as i32], page_size: 500, ..Default::default() };
    s.events().await.list_events(authed(token, req)).await.unwrap().into_inner().events
}

/// The ids of the needs of the NEED_AT_RISK events that `token` watches (stored ones,
/// then live ones for a second).
async fn watched(s: &TestServer, token: &str) -> Vec<String> {
    let req = api::WatchEventsRequest { after_sequence: 0, kinds: vec![api::EventKind::NeedAtRisk as i32] };
    let mut stream = s.events().await.watch_events(authed(token, req)).await.unwrap().into_inner();
    let mut ids = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(1), stream.message()).await.map(Result::unwrap) {
        assert_eq!(e.kind, api::EventKind::NeedAtRisk as i32);
        ids.push(e.resource_id);
    }
    ids
}

/// The NEED_AT_RISK events of `need`, waiting (a while) until there are at least `n`.
async fn alerts_of(s: &TestServer, need: &str, n: usize) -> Vec<api::Event> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got: Vec<_> = alerts(s, &s.admin).await.into_iter().filter(|e| e.resource_id == need).collect();
        if got.len() >= n || tokio::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn create_need(s: &TestServer, token: &str, need: api::Need) -> api::Need {
    let req = api::CreateNeedRequest { need: Some(need), request_id: String::new() };
    s.needs().await.create_need(authed(token, req)).await.unwrap().into_inner()
}

fn level2(days: i64, quantity: u32) -> api::Need {
    api::Need { needed_by: Some(ts_days(days)), quantity, women_quantity: 0, ..need("UGA") }
}

#[tokio::test]
async fn a_need_entering_the_set_by_the_passage_of_time_is_alerted_once_per_entry() {
    let c = start(tempfile::tempdir().unwrap(), Clock::manual()).await;
    let s = &c.s;
    let (uga, rwa) = (s.state("UGA").await, s.state("RWA").await);
    // 50 days ahead: outside the 45-day horizon of a LEVEL_2 need.
    let n = create_need(s, &uga, level2(50, 4)).await;
    c.advance(1).await; // 49 days left
    assert!(alerts_of(s, &n.id, 0).await.is_empty());
    c.advance(5).await; // 44 days left: it enters the set
    let first = alerts_of(s, &n.id, 1).await;
    assert_eq!(first.len(), 1);
    let e = &first[0];
    assert_eq!((e.kind, e.actor.as_str()), (api::EventKind::NeedAtRisk as i32, "system"));
    let Some(api::event::Resource::Need(carried)) = &e.resource else { panic!("carries the need: {e:?}") };
    assert_eq!(carried.id, n.id);
    // Whoever may read the need watches it; another state does not.
    assert_eq!(watched(s, &uga).await, vec![n.id.clone()]);
    assert!(watched(s, &rwa).await.is_empty());
    // Still in the set on the following days: no second alert.
    c.advance(1).await;
    c.advance(3).await;
    assert_eq!(alerts_of(s, &n.id, 0).await.len(), 1, "one alert per entry");

    // It leaves the set (its date moves 200 days ahead) ...
    let moved = api::Need { needed_by: Some(ts_days(200)), ..carried.clone() };
    let req = api::UpdateNeedRequest {
        need: Some(api::Need { etag: n.etag.clone(), ..moved }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["needed_by".into()] }),
        request_id: String::new(),
    };
    let updated = s.needs().await.update_need(authed(&uga, req)).await;
    let updated = updated.unwrap().into_inner();
    c.advance(1).await; // 200 - 11 days left
    assert_eq!(alerts_of(s, &n.id, 0).await.len(), 1);
    // ... and re-enters it 150 days later (39 days left): a second alert.
    c.advance(150).await;
    let second = alerts_of(s, &n.id, 0).await;
    assert_eq!(second.len(), 2);
    let Some(api::event::Resource::Need(carried)) = &second[1].resource else { panic!() };
    assert_eq!(carried.needed_by, updated.needed_by);

    // A restart (same day) replays the log: no new alert, on start or later.
    let offset_days = 1 + 5 + 1 + 3 + 1 + 150;
    let clock = Clock::manual();
    clock.advance_days(offset_days);
    let c = c.restart(clock).await;
    tokio::time::timeout(Duration::from_secs(20), c.clock.checked(c.clock.today())).await.unwrap();
    c.advance(1).await;
    assert_eq!(alerts_of(&c.s, &n.id, 0).await.len(), 2, "a restart does not alert again");
}

#[tokio::test]
async fn writes_alert_and_a_need_with_seats_reserved_is_not_at_risk() {
    let c = start(tempfile::tempdir().unwrap(), Clock::manual()).await;
    let s = &c.s;
    let (uga, gbr) = (s.state("UGA").await, s.state("GBR").await);
    // Created inside the horizon: the write itself alerts.
    let near = api::Need { capability: api::CapabilityArea::Medical as i32, ..level2(30, 4) };
    let near = create_need(s, &uga, near).await;
    assert_eq!(alerts_of(s, &near.id, 1).await.len(), 1);

    // 60 days ahead, its 4 seats reserved by an approved match.
    let covered = create_need(s, &uga, level2(60, 4)).await;
    let offer = api::Offer {
        capacity: 4,
        eligible_recipients: vec!["UGA".into()],
        available_from: Some(ts_days(2)),
        duration_days: 5,
        ..delivery_offer("GBR")
    };
    let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
    s.offers().await.create_offer(authed(&gbr, req)).await.unwrap();
    let req = api::ProposeMatchesRequest::default();
    let proposed = s.matching().await.propose_matches(authed(&s.admin, req)).await.unwrap().into_inner();
    let m = proposed.matches.into_iter().find(|m| m.need_id == covered.id).expect("the offer goes to `covered`");
    assert_eq!(m.quantity, 4);
    let req = api::ApproveMatchRequest { id: m.id.clone(), etag: m.etag.clone(), ..Default::default() };
    let approved = s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap().into_inner();

    // 30 days later it is 30 days away, but nothing is open: not at risk.
    c.advance(30).await;
    assert!(alerts_of(s, &covered.id, 0).await.is_empty(), "reserved seats are not at risk");
    let req = api::GetReadinessReportRequest {};
    let mut reports = api::report_service_client::ReportServiceClient::new(s.channel().await);
    let rows = reports.get_readiness_report(authed(&s.admin, req)).await.unwrap().into_inner().rows;
    assert!(rows.iter().all(|r| r.need_id != covered.id));

    // The Secretariat cancels the arrangement: the seats are open again, the need enters
    // the set, and the cancellation's write alerts.
    let arr = &approved.arrangements[0];
    let req = api::TransitionArrangementRequest {
        id: arr.id.clone(),
        etag: arr.etag.clone(),
        to: api::ArrangementStatus::Cancelled as i32,
        ..Default::default()
    };
    s.arrangements().await.transition_arrangement(authed(&s.admin, req)).await.unwrap();
    let got = alerts_of(s, &covered.id, 1).await;
    assert_eq!(got.len(), 1);
    let Some(api::event::Resource::Need(carried)) = &got[0].resource else { panic!() };
    assert_eq!(carried.reserved_quantity, 0);
    // And `near` was alerted only once throughout.
    assert_eq!(alerts_of(s, &near.id, 0).await.len(), 1);
}
