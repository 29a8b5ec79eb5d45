//! Overload: beyond `--max-in-flight` requests are refused at once with RESOURCE_EXHAUSTED
//! (reason OVERLOADED) instead of queueing; health still answers; client deadlines hold.

use crate::harness::*;
use lcm::api;
use std::time::{Duration, Instant};
use tonic::Code;

#[tokio::test]
async fn requests_beyond_the_limit_are_refused_at_once() {
    let s = TestServer::start_with(|a| a.max_in_flight = 2).await;
    let uga = s.state("UGA").await;
    // 64 durable writes at once (each waits for a flush): at most 2 are worked on, the
    // others are refused without waiting.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(s.needs().await);
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(64));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let mut needs = clients[i % clients.len()].clone();
        let token = uga.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let started = Instant::now();
            let r = needs
                .create_need(authed(
                    &token,
                    api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() },
                ))
                .await;
            (r, started.elapsed())
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (Ok(_), _) => ok += 1,
            (Err(status), took) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert_eq!(reason(&status), "OVERLOADED");
                assert!(took < Duration::from_secs(2), "a refusal took {took:?}");
                refused += 1;
            }
        }
    }
    assert!(ok >= 2 && refused >= 1, "ok {ok}, refused {refused}");
    // Nothing refused was written: exactly the acknowledged needs exist.
    let listed = s
        .needs()
        .await
        .list_needs(authed(&uga, api::ListNeedsRequest { page_size: 500, ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .needs;
    assert_eq!(listed.len(), ok);
    // Health is always admitted.
    let mut health = tonic_health::pb::health_client::HealthClient::new(s.channel().await);
    health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap();
}

#[tokio::test]
async fn a_stream_ends_when_the_client_deadline_passes() {
    let s = TestServer::start().await;
    s.import_demo().await;
    // The deadline travels as `grpc-timeout`; the server ends the call when it passes
    // (tonic answers CANCELLED "Timeout expired"), with no client-side timer involved.
    let mut req = authed(&s.admin, api::WatchEventsRequest { after_sequence: 0, kinds: vec![] });
    req.metadata_mut().insert("grpc-timeout", "300m".parse().unwrap());
    let started = Instant::now();
    let mut stream = s.events().await.watch_events(req).await.unwrap().into_inner();
    let mut replayed = 0;
    let end = loop {
        match stream.message().await {
            Ok(Some(_)) => replayed += 1,
            Ok(None) => break None,
            Err(status) => break Some(status.code()),
        }
    };
    assert!(replayed > 0, "the stream replayed the demo's events first");
    assert!(matches!(end, Some(Code::DeadlineExceeded | Code::Cancelled)), "{end:?}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_message_too_large_to_read_is_resource_exhausted_and_changes_nothing() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let huge = api::Need { description: "x".repeat(2 << 20), ..need("UGA") };
    let status = assert_code(
        s.needs()
            .await
            .create_need(authed(&uga, api::CreateNeedRequest { need: Some(huge), request_id: String::new() }))
            .await,
        Code::ResourceExhausted,
    );
    assert!(status.message().contains("too large"), "{status:?}");
    let listed =
        s.needs().await.list_needs(authed(&uga, api::ListNeedsRequest::default())).await.unwrap().into_inner().needs;
    assert!(listed.is_empty());
}

/// A client that stops reading (here: its runtime no longer runs, so it never sees the
/// GOAWAY) cannot keep a stopping server alive: after the grace period the server closes
/// the connection, flushes and returns. Without the grace period `stop` never returns.
#[tokio::test]
async fn a_stalled_client_cannot_hold_a_stopping_server_open() {
    let mut s = TestServer::start().await;
    let addr = format!("http://{}", s.addr);
    let parked = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let channel = tonic::transport::Channel::from_shared(addr).unwrap().connect().await.unwrap();
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
            health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap();
            // Keep the connection alive after block_on returns; nothing polls it any more.
            std::mem::forget(channel);
        });
        rt
    })
    .await
    .unwrap();
    let started = Instant::now();
    let limit = lcm::server::SHUTDOWN_GRACE + Duration::from_secs(20);
    tokio::time::timeout(limit, s.stop()).await.expect("the server kept waiting for a stalled client");
    assert!(
        started.elapsed() >= lcm::server::SHUTDOWN_GRACE / 2,
        "the stalled connection did not hold the server: the test shows nothing"
    );
    parked.shutdown_background();
}

/// Answers leave at once: Nagle's algorithm is off on accepted connections, so a small
/// answer does not wait for the client's delayed ACK (~40 ms on Linux). Sequential
/// approvals (each answer is written as several HTTP/2 frames) showed it: about 44 ms
/// each with Nagle on. The store acknowledges without syncing (the test-only
/// `unsafe_no_flush`), so that what is timed is the network, not a disk that other tests
/// keep busy (a sync then took ~45 ms at the median).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_answers_do_not_wait_for_delayed_acks() {
    use lcm::cli::ClientArgs;
    use lcm::loadtest::{LoadtestArgs, Workload, run};
    let server = TestServer::start_with(|a| a.unsafe_no_flush = true).await;
    let client =
        ClientArgs { addr: format!("http://{}", server.addr), token: Some(server.admin.clone()), ..Default::default() };
    let args = LoadtestArgs {
        concurrency: 1,
        connections: 1,
        duration_s: 20.0,
        setup_needs: 30,
        quiet: true,
        ..LoadtestArgs::new(Workload::Approve)
    };
    let report = run(&client, &args).await.unwrap();
    assert_eq!((report.requests, report.errors), (30, 0), "{report:?}");
    assert!(report.p50_us < 20_000, "median approval {} us: answers wait for delayed ACKs", report.p50_us);
}

/// A server on a store of 30 000 needs and 30 000 offers (`lcm bench-store fill`), where a
/// solve takes long enough to be seen beside other calls.
async fn big_store(configure: impl FnOnce(&mut lcm::config::ServeArgs)) -> TestServer {
    use lcm::loadtest::storebench::{BenchStoreCommand, execute};
    let dir = tempfile::tempdir().unwrap();
    let fill = BenchStoreCommand::Fill {
        data_dir: dir.path().to_path_buf(),
        needs: 30_000,
        offers: 30_000,
        batch: 2000,
        synthetic_seed: None,
        funded_share: 0.0,
    };
    tokio::task::spawn_blocking(move || execute(&fill).unwrap()).await.unwrap();
    TestServer::start_in_with(dir, configure).await
}

/// A dry run over every capability named: a capability filter is solved cold each time (a
/// proposal over everything re-solves warm from the changes since the last one, too fast
/// to show anything here).
fn cold_dry_run() -> api::ProposeMatchesRequest {
    let every = (1..=16).filter(|&c| api::CapabilityArea::try_from(c).is_ok()).collect::<Vec<i32>>();
    api::ProposeMatchesRequest { dry_run: true, capabilities: every, ..Default::default() }
}

/// A long ProposeMatches solve does not stall the server: while it holds the writer gate,
/// writers queue without blocking runtime threads and reads are answered. (Before, two
/// queued writers blocked both runtime threads on the gate until the solve ended.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_answered_while_a_long_solve_holds_the_writer_gate() {
    let s = big_store(|_| {}).await;
    let admin = s.admin.clone();
    let mut matching = s.matching().await;
    let propose = tokio::spawn(async move {
        let req = api::ProposeMatchesRequest { dry_run: true, ..Default::default() };
        matching.propose_matches(authed(&admin, req)).await.unwrap();
        Instant::now()
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut writers = Vec::new();
    for _ in 0..2 {
        let (mut needs, admin) = (s.needs().await, s.admin.clone());
        writers.push(tokio::spawn(async move {
            let req = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
            needs.create_need(authed(&admin, req)).await.unwrap();
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let asked = Instant::now();
    let req = api::GetNeedRequest { id: "need-1".into() };
    s.needs().await.get_need(authed(&s.admin, req)).await.unwrap();
    let answered = Instant::now();
    let solved = propose.await.unwrap();
    for w in writers {
        w.await.unwrap();
    }
    eprintln!("read answered in {:?}; the solve ended {:?} after it was asked", answered - asked, solved - asked);
    assert!(
        solved > answered + Duration::from_millis(50),
        "the read was answered only as the solve ended: the runtime stalled behind the writer gate"
    );
    assert!(answered - asked < Duration::from_millis(500), "the read waited {:?}", answered - asked);
}

/// A dry run reads a consistent snapshot and solves off the writer gate (issue 18): a
/// write issued while a long dry-run solve runs is answered while the solve still runs.
/// (Before, every ProposeMatches held the gate for its whole solve, and the write waited
/// for the solve to end.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_not_held_up_by_a_long_dry_run() {
    let s = big_store(|_| {}).await;
    let dry = cold_dry_run;
    // How long a dry run takes here (mostly the solve), once the server has settled: the
    // first call after start also waits for the matching view's load.
    s.matching().await.propose_matches(authed(&s.admin, dry())).await.unwrap();
    let started = Instant::now();
    s.matching().await.propose_matches(authed(&s.admin, dry())).await.unwrap();
    let full = started.elapsed();
    assert!(full > Duration::from_millis(200), "the dry run is too short ({full:?}) to show anything");
    let (mut matching, admin) = (s.matching().await, s.admin.clone());
    let propose = tokio::spawn(async move {
        matching.propose_matches(authed(&admin, dry())).await.unwrap();
        Instant::now()
    });
    tokio::time::sleep(full / 3).await;
    let asked = Instant::now();
    let req = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
    s.needs().await.create_need(authed(&s.admin, req)).await.unwrap();
    let answered = Instant::now();
    let solved = propose.await.unwrap();
    eprintln!(
        "dry run {full:?}; the write took {:?}; the solve ended {:?} after it was asked",
        answered - asked,
        solved - asked
    );
    assert!(
        solved > answered + Duration::from_millis(50),
        "the write was answered only as the dry run ended: the solve held the writer gate"
    );
}

/// A client that gives up stops the solve (issue 18): a dry run whose deadline passes
/// mid-solve is refused at the deadline, and the server stops solving within a step of
/// its solve, long before the solve would have ended (it counts the stopped solve in
/// `lcm_engine_solves_stopped_total`); the next dry run is solved whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_gives_up_stops_the_solve() {
    let s = big_store(|a| a.metrics_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))).await;
    let stopped = || async {
        let body = crate::metrics::scrape(s.metrics_addr.unwrap()).await.2;
        let line = body.lines().find(|l| l.starts_with("lcm_engine_solves_stopped_total ")).unwrap().to_string();
        line.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap()
    };
    // How long a whole dry run takes here, once the server has settled: the shortest of
    // two (a machine that was busier during the first would otherwise leave the deadline
    // below too long for the solve it cuts).
    s.matching().await.propose_matches(authed(&s.admin, cold_dry_run())).await.unwrap();
    let mut full = Duration::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        s.matching().await.propose_matches(authed(&s.admin, cold_dry_run())).await.unwrap();
        full = full.min(started.elapsed());
    }
    assert!(full > Duration::from_millis(400), "the dry run is too short ({full:?}) to show anything");
    assert_eq!(stopped().await, 0.0);

    let mut req = authed(&s.admin, cold_dry_run());
    req.set_timeout(full / 5);
    let asked = Instant::now();
    let refused = s.matching().await.propose_matches(req).await.unwrap_err();
    assert!(
        matches!(refused.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{:?}: {}",
        refused.code(),
        refused.message()
    );
    // The server stops the solve soon after the deadline, not when the solve would end.
    let stopped_after = loop {
        if stopped().await == 1.0 {
            break asked.elapsed();
        }
        assert!(
            asked.elapsed() < full * 3 / 4,
            "the solve still ran {:?} after it was asked (whole: {full:?})",
            asked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    eprintln!(
        "whole dry run {full:?}; deadline {:?}; the solve was stopped {stopped_after:?} after it was asked",
        full / 5
    );
    let again = s.matching().await.propose_matches(authed(&s.admin, cold_dry_run())).await.unwrap().into_inner();
    assert!(!again.matches.is_empty());
    assert_eq!(stopped().await, 1.0);
}
