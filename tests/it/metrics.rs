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
pub(crate) async fn scrape(addr: SocketAddr) -> (String, String, String) {
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
    for i in 0..3 {
        // The last one is due in 10 days: at risk (the horizon of its pledge level is 45).
        let n = if i == 2 { api::Need { needed_by: Some(ts_days(10)), ..need("UGA") } } else { need("UGA") };
        let n = needs
            .create_need(authed(&uga, api::CreateNeedRequest { need: Some(n), request_id: new_request_id() }))
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
    // Needs at risk: the readiness report's rows.
    let mut reports = api::report_service_client::ReportServiceClient::new(s.channel().await);
    let rows = reports
        .get_readiness_report(authed(&s.admin, api::GetReadinessReportRequest {}))
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(m["lcm_needs_at_risk"], rows.len() as f64);
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

/// `lcm serve` with `flags` and JSON logs: its gRPC address, its admin token, and a
/// channel of its log lines. The process is killed when the returned guard drops.
struct Logged {
    child: std::process::Child,
    addr: SocketAddr,
    admin: String,
    lines: std::sync::mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_logged(flags: &[&str]) -> Logged {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lcm"))
        .args(["serve", "--log-format", "json", "--listen", "127.0.0.1:0", "--console-listen", "off", "--data-dir"])
        .arg(&data)
        .args(flags)
        .env("LCM_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let serving = loop {
        let line = lines.recv_timeout(std::time::Duration::from_secs(60)).expect("no serving line");
        if line.contains("\"message\":\"serving\"") {
            break line;
        }
    };
    let v: serde_json::Value = serde_json::from_str(&serving).unwrap();
    let addr = v["fields"]["addr"].as_str().unwrap().parse().unwrap();
    let admin = std::fs::read_to_string(data.join("admin.token")).unwrap().trim().to_string();
    Logged { child, addr, admin, lines, _dir: dir }
}

impl Logged {
    /// The first log line with `message` whose span's method is `method`.
    fn line(&self, message: &str, method: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else { break };
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if v["fields"]["message"] == message && v["span"]["method"] == method {
                return v;
            }
        }
        panic!("no {message:?} line for {method}");
    }

    async fn create_need(&self) -> (String, String) {
        let channel =
            tonic::transport::Channel::from_shared(format!("http://{}", self.addr)).unwrap().connect().await.unwrap();
        let rid = new_request_id();
        let created = api::need_service_client::NeedServiceClient::new(channel)
            .create_need(authed(
                &self.admin,
                api::CreateNeedRequest { need: Some(need("UGA")), request_id: rid.clone() },
            ))
            .await
            .unwrap()
            .into_inner();
        (created.id, rid)
    }
}

#[tokio::test]
async fn an_access_log_line_names_the_method_the_principal_and_the_request_id() {
    let server = serve_logged(&["--access-log"]);
    let (_, rid) = server.create_need().await;
    let line = server.line("answered", "/lcm.v1.NeedService/CreateNeed");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["code"], "OK");
    assert_eq!(line["span"]["request_id"], rid.as_str());
    assert!(line["span"]["principal"].as_str().unwrap().starts_with("principal-"), "{line}");
    assert!(line["fields"]["latency_us"].as_u64().is_some(), "{line}");
}

#[tokio::test]
async fn a_slow_request_is_logged_with_its_slowest_phase() {
    // Every request is "slow" at a threshold of 0 ms.
    let server = serve_logged(&["--slow-request-ms", "0"]);
    let (_, rid) = server.create_need().await;
    let line = server.line("slow request", "/lcm.v1.NeedService/CreateNeed");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["span"]["request_id"], rid.as_str());
    let fields = &line["fields"];
    let phase = fields["slowest_phase"].as_str().unwrap();
    assert!(["auth", "gate_wait", "durable_wait", "handler"].contains(&phase), "{line}");
    let total = fields["latency_us"].as_u64().unwrap();
    let parts: u64 =
        ["auth_us", "gate_wait_us", "durable_wait_us", "handler_us"].iter().map(|k| fields[*k].as_u64().unwrap()).sum();
    assert!(parts <= total + 1, "{line}");
    // A durable write waits for its landing and sync: that phase was timed.
    assert!(fields["durable_wait_us"].as_u64().unwrap() > 0, "{line}");
}

#[tokio::test]
async fn store_landings_syncs_and_idempotency_entries_are_reported() {
    let s = server_with_metrics().await;
    let uga = s.state("UGA").await; // one commit, without a request_id
    let mut needs = s.needs().await;
    for i in 0..6 {
        let request_id = if i < 4 { new_request_id() } else { String::new() };
        needs.create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id })).await.unwrap();
    }
    // The first scrape: the idempotency entries are counted now.
    let (_, _, body) = scrape(s.metrics_addr.unwrap()).await;
    let m = samples(&body);
    // Every commit since the server started was landed once: CreatePrincipal and six
    // CreateNeed. Each was answered only once synced, so at least one sync ran.
    assert_eq!(m["lcm_store_landing_commits_sum"], 7.0, "{body}");
    let landings = m["lcm_store_landing_commits_count"];
    assert!((1.0..=7.0).contains(&landings), "{landings} landings");
    assert_eq!(m["lcm_store_landing_duration_seconds_count"], landings);
    assert!(m["lcm_store_landing_operations_sum"] >= 7.0 * 2.0, "a record and its event per commit at least");
    assert!(m["lcm_store_landing_bytes_sum"] > 0.0);
    assert!(m["lcm_store_flush_duration_seconds_count"] >= 1.0);
    assert!(m["lcm_store_sync_duration_seconds_count"] >= 1.0);
    // Answered means landed: nothing is left in the overlay.
    assert_eq!(m["lcm_store_overlay_entries"], 0.0);
    // Four of the writes carried a request_id, so four first responses are kept.
    assert_eq!(m["lcm_idempotency_entries"], 4.0);
}
