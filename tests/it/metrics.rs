//! `/metrics`: requests counted by method and status code, the mechanism's figures, event
//! watchers and engine solves, scraped over a real socket from a real server.

use crate::harness::*;
use lcm::api;
use std::collections::HashMap;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::StreamExt;
use tonic::Code;

async fn server_with_metrics() -> TestServer {
    TestServer::start_with(|a| a.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)))).await
}

/// GET /metrics over plain HTTP/1.1: the status line, the content type and the body.
async fn scrape(addr: SocketAddr) -> (String, String, String) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: lcm\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_string();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

/// Every sample of the exposition: `name{labels}` → value.
fn samples(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

fn requests(samples: &HashMap<String, f64>, service: &str, method: &str, code: &str) -> f64 {
    let key = format!("lcm_grpc_requests_total{{code=\"{code}\",method=\"{method}\",service=\"lcm.v1.{service}\"}}");
    samples.get(&key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn requests_are_counted_by_method_and_status_code() {
    let s = server_with_metrics().await;
    let addr = s.metrics_addr.unwrap();
    let uga = s.state("UGA").await;
    let mut needs = s.needs().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let n = needs
            .create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() }))
            .await
            .unwrap()
            .into_inner();
        ids.push(n.id);
    }
    for id in &ids[..2] {
        needs.get_need(authed(&uga, api::GetNeedRequest { id: id.clone() })).await.unwrap();
    }
    assert_code(needs.get_need(authed(&uga, api::GetNeedRequest { id: "need-999".into() })).await, Code::NotFound);
    let bad = api::Need { quantity: 0, ..need("UGA") };
    assert_code(
        needs.create_need(authed(&uga, api::CreateNeedRequest { need: Some(bad), request_id: String::new() })).await,
        Code::InvalidArgument,
    );
    assert_code(
        needs.get_need(tonic::Request::new(api::GetNeedRequest { id: ids[0].clone() })).await,
        Code::Unauthenticated,
    );

    let (status, content_type, body) = scrape(addr).await;
    assert!(status.contains("200"), "{status}");
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let m = samples(&body);
    assert_eq!(requests(&m, "NeedService", "CreateNeed", "OK"), 3.0);
    assert_eq!(requests(&m, "NeedService", "CreateNeed", "INVALID_ARGUMENT"), 1.0);
    assert_eq!(requests(&m, "NeedService", "GetNeed", "OK"), 2.0);
    assert_eq!(requests(&m, "NeedService", "GetNeed", "NOT_FOUND"), 1.0);
    assert_eq!(requests(&m, "NeedService", "GetNeed", "UNAUTHENTICATED"), 1.0);
    // CreatePrincipal (s.state) went through the same layer.
    assert_eq!(requests(&m, "AdminService", "CreatePrincipal", "OK"), 1.0);
    let latency_count = m["lcm_grpc_request_duration_seconds_count{method=\"GetNeed\",service=\"lcm.v1.NeedService\"}"];
    assert_eq!(latency_count, 4.0);
    assert_eq!(m["lcm_grpc_requests_in_flight"], 0.0);
    // The mechanism's figures: three needs of 20 seats, none reserved.
    assert_eq!(m["lcm_seats_demanded"], 60.0);
    assert_eq!(m["lcm_seats_open"], 60.0);
    assert_eq!(m["lcm_consents_pending"], 0.0);
}

#[tokio::test]
async fn a_path_the_server_does_not_serve_gets_no_label_of_its_own() {
    let s = server_with_metrics().await;
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // An HTTP/2 request for an unknown method would need a client; a gRPC client for a
    // made-up service does the same through the generic path.
    let channel = s.channel().await;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/lcm.v1.NoSuchService/Nothing");
    let codec = tonic_prost::ProstCodec::<api::GetNeedRequest, api::Need>::default();
    let answer = grpc.unary(authed(&s.admin, api::GetNeedRequest::default()), path, codec).await;
    assert_code(answer, Code::Unimplemented);
    conn.shutdown().await.ok();
    let body = scrape(s.metrics_addr.unwrap()).await.2;
    assert!(!body.contains("NoSuchService"), "{body}");
    assert!(body.contains("lcm_grpc_requests_total{code=\"UNIMPLEMENTED\",method=\"unknown\",service=\"unknown\"} 1"));
}

#[tokio::test]
async fn watchers_events_and_solves_are_counted() {
    let s = server_with_metrics().await;
    let addr = s.metrics_addr.unwrap();
    let uga = s.state("UGA").await;
    s.needs()
        .await
        .create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }))
        .await
        .unwrap();
    let mut stream = s
        .events()
        .await
        .watch_events(authed(&s.admin, api::WatchEventsRequest { after_sequence: 0, kinds: vec![] }))
        .await
        .unwrap()
        .into_inner();
    // PRINCIPAL_CHANGED (bootstrap), PRINCIPAL_CHANGED (UGA), NEED_CREATED.
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    s.matching()
        .await
        .propose_matches(authed(&s.admin, api::ProposeMatchesRequest { dry_run: true, ..Default::default() }))
        .await
        .unwrap();
    let m = samples(&scrape(addr).await.2);
    assert_eq!(m["lcm_event_watchers"], 1.0);
    assert!(m["lcm_events_delivered_total"] >= 3.0, "{}", m["lcm_events_delivered_total"]);
    assert_eq!(m["lcm_engine_solve_duration_seconds_count"], 1.0);
    drop(stream);
    // The stream's task ends when it notices the client left.
    let mut watchers = 1.0;
    for _ in 0..100 {
        watchers = samples(&scrape(addr).await.2)["lcm_event_watchers"];
        if watchers == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(watchers, 0.0);
}
