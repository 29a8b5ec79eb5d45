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
