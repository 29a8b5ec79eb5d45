//! A short run of each `lcm loadtest` workload against a real server (the echo workload
//! against an in-process lcm-echo): it must finish with requests and without errors.
//! Timings are not asserted; they belong to docs/PERFORMANCE.md.

use crate::harness::{TestServer, authed, new_request_id};
use lcm::api::{CreateNeedRequest, GetNeedRequest};
use lcm::cli::ClientArgs;
use lcm::loadtest::echo::DEFAULT_REPLY_BYTES;
use lcm::loadtest::{LoadtestArgs, Report, Workload, run, sample_need};

fn short(workload: Workload) -> LoadtestArgs {
    LoadtestArgs {
        concurrency: 8,
        duration_s: 1.0,
        setup_needs: 40,
        connections: 2,
        subscribers: 5,
        write_rps: 100,
        quiet: true,
        ..LoadtestArgs::new(workload)
    }
}

async fn against_lcm(args: LoadtestArgs) -> Report {
    let server = TestServer::start().await;
    let client =
        ClientArgs { addr: format!("http://{}", server.addr), token: Some(server.admin.clone()), ..Default::default() };
    run(&client, &args).await.unwrap()
}

#[track_caller]
fn assert_clean(report: &Report, name: &str) {
    assert_eq!(report.workload, name);
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.requests > 0, "{report:?}");
    assert!(report.p50_us <= report.p99_us && report.p99_us <= report.max_us, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_need_workload_runs_clean() {
    assert_clean(&against_lcm(short(Workload::GetNeed)).await, "get-need");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_need_workload_runs_clean() {
    assert_clean(&against_lcm(short(Workload::CreateNeed)).await, "create-need");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_workload_runs_clean() {
    assert_clean(&against_lcm(short(Workload::Mixed)).await, "mixed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_workload_approves_every_proposal() {
    let args = LoadtestArgs { duration_s: 10.0, ..short(Workload::Approve) };
    let report = against_lcm(args).await;
    assert_clean(&report, "approve");
    // One need per pair, each covered by its own offer: one proposal each.
    assert_eq!(report.requests, 40, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_workload_delivers_every_write_to_every_subscriber() {
    let report = against_lcm(short(Workload::Watch)).await;
    assert_clean(&report, "watch");
    assert_eq!(report.concurrency, 5);
}

/// The baseline's default reply is about the size of a real GetNeed answer.
#[tokio::test]
async fn echo_default_reply_is_the_size_of_a_get_need_answer() {
    let server = TestServer::start().await;
    let created = server
        .needs()
        .await
        .create_need(authed(
            &server.admin,
            CreateNeedRequest { need: Some(sample_need("UGA")), request_id: new_request_id() },
        ))
        .await
        .unwrap()
        .into_inner();
    let got = server.needs().await.get_need(authed(&server.admin, GetNeedRequest { id: created.id })).await.unwrap();
    let size = prost::Message::encoded_len(got.get_ref());
    eprintln!("GetNeed reply: {size} bytes; lcm-echo default: {DEFAULT_REPLY_BYTES}");
    assert!(size.abs_diff(DEFAULT_REPLY_BYTES) * 4 <= size, "GetNeed reply {size} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_workload_runs_clean_against_the_baseline() {
    let echo = lcm::loadtest::echo::Echo::new(lcm::loadtest::echo::DEFAULT_REPLY_BYTES);
    assert_eq!(echo.reply_len(), lcm::loadtest::echo::DEFAULT_REPLY_BYTES);
    let listener = lcm::server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lcm::loadtest::echo::serve(echo, listener, async {
        let _ = rx.await;
    }));
    let client = ClientArgs { addr: addr.to_string(), ..Default::default() };
    let report = run(&client, &short(Workload::Echo)).await.unwrap();
    assert_clean(&report, "echo");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}

/// `lcm bench-store fill` writes what CreateNeed and CreateOffer write: a server started on
/// the filled store serves every need and offer and their creation events; the bare open
/// and the recovery timing run on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_store_fill_makes_a_store_the_server_serves() {
    use lcm::api::{EventKind, ListEventsRequest, ListNeedsRequest, ListOffersRequest};
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    let bench_store = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lcm")).arg("bench-store").args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let filled = bench_store(&["fill", "--data-dir", &data_dir, "--needs", "250", "--offers", "120", "--batch", "64"]);
    assert_eq!((filled["needs"].as_u64(), filled["offers"].as_u64()), (Some(250), Some(120)), "{filled}");
    let opened = bench_store(&["open", "--data-dir", &data_dir, "--read-all"]);
    // Each record has its own entry (its index entry by state is kept in memory since
    // store format 7); their events share entries (format 8).
    assert!(opened["entries"].as_u64().unwrap() > 370, "{opened}");
    assert!(opened["rss_bytes"].as_u64().unwrap() > 0, "{opened}");
    let timed = bench_store(&["recovery", "--data-dir", &data_dir, "--rounds", "1"]);
    assert!(timed["serve_ready_median_ms"].as_f64().unwrap() > 0.0, "{timed}");

    let server = TestServer::start_in(dir).await;
    let token = server.admin.clone();
    let (mut needs, mut page) = (Vec::new(), String::new());
    loop {
        let req = ListNeedsRequest { page_size: 500, page_token: page, ..Default::default() };
        let r = server.needs().await.list_needs(authed(&token, req)).await.unwrap().into_inner();
        needs.extend(r.needs);
        if r.next_page_token.is_empty() {
            break;
        }
        page = r.next_page_token;
    }
    assert_eq!(needs.len(), 250);
    let sample = sample_need("FRA");
    assert!(needs.iter().all(|n| n.title == sample.title && n.quantity == sample.quantity));
    let req = ListOffersRequest { page_size: 500, ..Default::default() };
    let offers = server.offers().await.list_offers(authed(&token, req)).await.unwrap().into_inner();
    assert_eq!(offers.offers.len(), 120);
    let (mut created, mut page) = (0, String::new());
    loop {
        let kinds = vec![EventKind::NeedCreated as i32, EventKind::OfferCreated as i32];
        let req = ListEventsRequest { kinds, page_size: 500, page_token: page, ..Default::default() };
        let r = server.events().await.list_events(authed(&token, req)).await.unwrap().into_inner();
        created += r.events.len();
        if r.next_page_token.is_empty() {
            break;
        }
        page = r.next_page_token;
    }
    assert_eq!(created, 370);
    // The store goes on from the filled ids.
    let req = CreateNeedRequest { need: Some(sample), request_id: new_request_id() };
    let id = server.needs().await.create_need(authed(&token, req)).await.unwrap().into_inner().id;
    assert!(!needs.iter().any(|n| n.id == id));
}
