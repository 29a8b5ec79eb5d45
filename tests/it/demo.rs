//! The demo (`serve --demo`: import, then the demo history) shows every new report with
//! rows; the figures are those fixtures/README.md states.

use crate::harness::*;
use lcm::api;
use std::time::Duration;

#[tokio::test]
async fn the_demo_shows_capacity_and_readiness_rows_and_an_alert() {
    let s = TestServer::start().await;
    let demo = s.import_demo().await;
    let completed = lcm::cli::demo_history(s.channel().await, &s.admin, &demo).await.unwrap();
    assert_eq!(completed.len(), 1);
    let mut reports = api::report_service_client::ReportServiceClient::new(s.channel().await);
    let rows = reports
        .get_capacity_report(authed(&s.admin, api::GetCapacityReportRequest {}))
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(rows.len(), 15, "one row per requester");
    let figures: Vec<String> = rows
        .iter()
        .filter(|r| r.seats_delivered > 0 || r.national_centres > 0)
        .map(|r| {
            format!(
                "{} delivered={} in_country={} trainers={} centres={}/{}",
                r.requester,
                r.seats_delivered,
                r.in_country_seats,
                r.trainers_qualified,
                r.un_recognized_centres,
                r.national_centres
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            "BGD delivered=0 in_country=0 trainers=0 centres=1/1",
            "GHA delivered=0 in_country=0 trainers=0 centres=1/1",
            "SEN delivered=12 in_country=0 trainers=4 centres=0/0",
            "UGA delivered=0 in_country=0 trainers=0 centres=1/1",
            "VNM delivered=0 in_country=0 trainers=0 centres=1/1",
        ]
    );
    let rows = reports
        .get_readiness_report(authed(&s.admin, api::GetReadinessReportRequest {}))
        .await
        .unwrap()
        .into_inner()
        .rows;
    let by_ref: std::collections::HashMap<&String, &String> = demo.needs.iter().map(|(r, id)| (id, r)).collect();
    let readiness: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} days_left={} open={} compatible={} status={}",
                by_ref[&r.need_id], r.requester, r.days_left, r.open, r.compatible_offers, r.status
            )
        })
        .collect();
    assert_eq!(readiness, ["bgd-avn-nvg BGD days_left=60 open=12 compatible=0 status=1"], "status 1 = AT_RISK");
    // The alert follows the need's creation (the server's task records it).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let alerted = loop {
        let req = api::ListEventsRequest {
            kinds: vec![api::EventKind::NeedAtRisk as i32],
            page_size: 500,
            ..Default::default()
        };
        let alerts = s.events().await.list_events(authed(&s.admin, req)).await.unwrap().into_inner().events;
        if !alerts.is_empty() || tokio::time::Instant::now() > deadline {
            break alerts.iter().map(|e| by_ref[&e.resource_id].clone()).collect::<Vec<_>>();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(alerted, ["bgd-avn-nvg"]);
}
