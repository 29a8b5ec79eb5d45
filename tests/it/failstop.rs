//! Fail-stop and landing faults of the store (issue 14), over a real socket: the hidden
//! `--test-fail-landing N`, `--test-fail-sync N` and `--test-abort-at-landing-point
//! POINT:N` switches of `lcm serve`.

use crate::harness::*;
use lcm::api;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

fn create(n: api::Need) -> api::CreateNeedRequest {
    api::CreateNeedRequest { need: Some(n), request_id: String::new() }
}

async fn health(channel: Channel) -> i32 {
    let mut h = HealthClient::new(channel);
    h.check(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner().status
}

/// Creates needs one at a time until one fails; returns the ids acknowledged and the
/// failure.
async fn create_until_refused(
    needs: &mut api::need_service_client::NeedServiceClient<Channel>,
    token: &str,
) -> (Vec<String>, tonic::Status) {
    let mut acked = Vec::new();
    for _ in 0..20 {
        match needs.create_need(authed(token, create(need("UGA")))).await {
            Ok(r) => acked.push(r.into_inner().id),
            Err(status) => return (acked, status),
        }
    }
    panic!("no write failed: {acked:?}");
}

/// Every need listed by the Secretariat, by id.
async fn listed(needs: &mut api::need_service_client::NeedServiceClient<Channel>, token: &str) -> Vec<String> {
    let r = needs
        .list_needs(authed(token, api::ListNeedsRequest { page_size: 500, ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    r.needs.into_iter().map(|n| n.id).collect()
}

/// Checks the store fail-stopped: writes and reads refused with STORE_FAILED, health
/// NOT_SERVING.
async fn assert_failed(s: &TestServer, token: &str, failed: &tonic::Status, probe_id: &str) {
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    assert_eq!(reason(failed), "STORE_FAILED", "{failed:?}");
    let mut needs = s.needs().await;
    let again = assert_code(needs.create_need(authed(token, create(need("UGA")))).await, Code::Unavailable);
    assert_eq!(reason(&again), "STORE_FAILED");
    let read = assert_code(
        needs.get_need(authed(token, api::GetNeedRequest { id: probe_id.into() })).await,
        Code::Unavailable,
    );
    assert_eq!(reason(&read), "STORE_FAILED");
    assert_not_serving(s.channel().await).await;
}

/// Health turns NOT_SERVING: a task of the server follows the store's failure, so the
/// refused writer may hear first; it must follow within a second.
async fn assert_not_serving(channel: Channel) {
    let mut status = health(channel.clone()).await;
    for _ in 0..20 {
        if status == ServingStatus::NotServing as i32 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = health(channel.clone()).await;
    }
    assert_eq!(status, ServingStatus::NotServing as i32, "health still answers {status} a second after the failure");
}

/// A failed landing fails the store, and leaves nothing of the failed write readable,
/// then or after a restart (finding 5).
#[tokio::test]
async fn a_failed_landing_stops_the_store_and_leaves_nothing_visible() {
    let s = TestServer::start_with(|a| a.test_fail_landing = Some(5)).await;
    let uga = s.state("UGA").await;
    let mut needs = s.needs().await;
    assert_eq!(health(s.channel().await).await, ServingStatus::Serving as i32);
    let (acked, failed) = create_until_refused(&mut needs, &uga).await;
    assert!(!acked.is_empty(), "the fault comes after a few writes");
    // The refused need would have had the next id.
    let last: u64 = acked.last().unwrap().trim_start_matches("need-").parse().unwrap();
    let phantom = format!("need-{}", last + 1);
    assert_failed(&s, &s.admin, &failed, &phantom).await;
    let mut s = s;
    let data = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = TestServer::start_in(data).await;
    let mut needs = s.needs().await;
    assert_eq!(listed(&mut needs, &s.admin).await, acked, "every acknowledged need, and no other");
    assert_code(needs.get_need(authed(&s.admin, api::GetNeedRequest { id: phantom })).await, Code::NotFound);
    assert_eq!(health(s.channel().await).await, ServingStatus::Serving as i32);
}

/// A failed sync fails the store: every later write is refused, never acknowledged on
/// top of possibly lost data (finding 3); a restart recovers the acknowledged writes.
#[tokio::test]
async fn a_failed_sync_stops_the_store() {
    let s = TestServer::start_with(|a| {
        a.test_fail_sync = Some(6);
        a.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await;
    let before = crate::metrics::scrape(s.metrics_addr.unwrap()).await.2;
    assert!(before.contains("\nlcm_store_failed 0\n"), "{before}");
    let uga = s.state("UGA").await;
    let mut needs = s.needs().await;
    let (acked, failed) = create_until_refused(&mut needs, &uga).await;
    assert!(!acked.is_empty(), "the fault comes after a few writes");
    assert_failed(&s, &s.admin, &failed, &acked[0]).await;
    // Operators see it too.
    let after = crate::metrics::scrape(s.metrics_addr.unwrap()).await.2;
    assert!(after.contains("\nlcm_store_failed 1\n"), "{after}");
    let mut s = s;
    let data = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = TestServer::start_in(data).await;
    let mut needs = s.needs().await;
    let after = listed(&mut needs, &s.admin).await;
    // The refused write may have reached the disk before the sync failed: its writer was
    // told UNAVAILABLE (outcome unknown); everything acknowledged is there.
    assert!(after.starts_with(&acked) && after.len() <= acked.len() + 1, "{acked:?} then {after:?}");
}

/// `lcm serve` as a child process; killed on drop.
struct Child_ {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Child_ {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(data_dir: &Path, flags: &[&str]) -> Child_ {
    spawn_with(Command::new(env!("CARGO_BIN_EXE_lcm")), data_dir, flags)
}

/// `lcm serve` whose files may not grow past `kib` KiB: a write past it fails with EFBIG,
/// as one on a full disk fails with ENOSPC (bash's `ulimit -f`; SIGXFSZ ignored, so the
/// write returns the error instead of killing the process).
fn spawn_file_size_limited(data_dir: &Path, kib: u64) -> Child_ {
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"")).arg(env!("CARGO_BIN_EXE_lcm"));
    spawn_with(bash, data_dir, &[])
}

fn spawn_with(command: Command, data_dir: &Path, flags: &[&str]) -> Child_ {
    let mut child = lcm_serve(command, data_dir, flags).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            let fields = v.get("fields").unwrap_or(&v);
            if fields.get("message").and_then(|m| m.as_str()) == Some("serving")
                && let Some(addr) = fields.get("addr").and_then(|a| a.as_str()).and_then(|a| a.parse().ok())
            {
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("lcm serve did not start");
    Child_ { child, addr }
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap()
}

/// A write the file system refuses (the disk full) fails the store like a failed sync:
/// the write is refused STORE_FAILED, so is everything after it, health NOT_SERVING; a
/// restart with room again recovers every acknowledged write, each whole.
#[tokio::test]
async fn a_full_disk_stops_the_store_and_a_restart_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_file_size_limited(dir.path(), 3 * 1024);
    let admin = std::fs::read_to_string(dir.path().join("admin.token")).unwrap().trim().to_string();
    let mut needs = api::need_service_client::NeedServiceClient::new(channel(server.addr).await);
    // Needs at their size limit (4 000 four-byte characters of description): the log
    // reaches 3 MiB within a few hundred writes.
    let big = || api::Need { description: "\u{1F54A}".repeat(4000), title: "\u{1F30D}".repeat(200), ..need("UGA") };
    let mut acked = Vec::new();
    let mut failed = None;
    for _ in 0..2000 {
        match needs.create_need(authed(&admin, create(big()))).await {
            Ok(r) => acked.push(r.into_inner().id),
            Err(status) => {
                failed = Some(status);
                break;
            }
        }
    }
    let failed = failed.unwrap_or_else(|| panic!("no write failed after {} needs", acked.len()));
    assert!(!acked.is_empty(), "{failed:?}");
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    assert_eq!(reason(&failed), "STORE_FAILED", "{failed:?}");
    let again = assert_code(needs.create_need(authed(&admin, create(need("UGA")))).await, Code::Unavailable);
    assert_eq!(reason(&again), "STORE_FAILED");
    let read = assert_code(
        needs.get_need(authed(&admin, api::GetNeedRequest { id: acked[0].clone() })).await,
        Code::Unavailable,
    );
    assert_eq!(reason(&read), "STORE_FAILED");
    assert_not_serving(channel(server.addr).await).await;
    drop(server);
    // Room again: everything acknowledged is there, with its creation event.
    let server = spawn(dir.path(), &[]);
    let mut needs = api::need_service_client::NeedServiceClient::new(channel(server.addr).await);
    let mut after = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = needs
            .list_needs(authed(&admin, api::ListNeedsRequest { page_size: 100, page_token, ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        after.extend(page.needs.into_iter().map(|n| n.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert!(
        after.starts_with(&acked) && after.len() <= acked.len() + 1,
        "{} acknowledged, {} after",
        acked.len(),
        after.len()
    );
    let fresh = needs.create_need(authed(&admin, create(need("UGA")))).await;
    assert!(fresh.is_ok(), "the restarted store takes writes again: {fresh:?}");
}

/// Aborts `lcm serve` at `point` of its 4th landing (the bootstrap and a principal come
/// first) while needs are created one at a time, restarts it, and checks every
/// acknowledged need is there and the interrupted one is whole or absent, as `point`
/// says it must be.
async fn abort_at(point: &str, interrupted_must_exist: Option<bool>) {
    let dir = tempfile::tempdir().unwrap();
    let flag = format!("{point}:4");
    let server = spawn(dir.path(), &["--test-abort-at-landing-point", &flag]);
    let admin = std::fs::read_to_string(dir.path().join("admin.token")).unwrap().trim().to_string();
    let mut adminc = api::admin_service_client::AdminServiceClient::new(channel(server.addr).await);
    let uga = adminc
        .create_principal(authed(
            &admin,
            api::CreatePrincipalRequest {
                kind: api::PrincipalKind::MemberState as i32,
                member_state: "UGA".into(),
                display_name: "UGA".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .token;
    let mut needs = api::need_service_client::NeedServiceClient::new(channel(server.addr).await);
    let (acked, failed) = create_until_refused(&mut needs, &uga).await;
    // The connection broke: the process aborted (it exits by itself).
    let mut server = server;
    let mut exited = false;
    for _ in 0..100 {
        if matches!(server.child.try_wait(), Ok(Some(_))) {
            exited = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited, "{point}: the server did not abort; the write failed with {failed:?}");
    drop(server);
    let server = spawn(dir.path(), &[]);
    let mut needs = api::need_service_client::NeedServiceClient::new(channel(server.addr).await);
    let after = listed(&mut needs, &admin).await;
    assert!(after.starts_with(&acked) && after.len() <= acked.len() + 1, "{point}: {acked:?} then {after:?}");
    if let Some(exists) = interrupted_must_exist {
        assert_eq!(after.len() == acked.len() + 1, exists, "{point}: {acked:?} then {after:?}");
    }
    // Whole: an interrupted need that is there has its creation event too.
    let mut events = api::event_service_client::EventServiceClient::new(channel(server.addr).await);
    let logged = events
        .list_events(authed(&admin, api::ListEventsRequest { page_size: 500, ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    let created: Vec<String> = logged
        .events
        .iter()
        .filter(|e| e.kind == api::EventKind::NeedCreated as i32)
        .map(|e| e.resource_id.clone())
        .collect();
    assert_eq!(created, after, "{point}: every need has its event and no event lacks its need");
}

#[tokio::test]
async fn an_abort_before_the_batch_loses_only_the_unacknowledged_write() {
    abort_at("before-batch", Some(false)).await;
}

#[tokio::test]
async fn an_abort_after_the_batch_keeps_each_commit_whole() {
    abort_at("after-batch", None).await;
}

#[tokio::test]
async fn an_abort_after_the_flush_keeps_each_commit_whole() {
    abort_at("after-flush", None).await;
}

#[tokio::test]
async fn an_abort_after_the_sync_keeps_the_synced_write() {
    abort_at("after-sync", Some(true)).await;
}

/// Nothing shown before it is safe (finding 4): while a new need is committed but its
/// sync is held back (`--test-sync-delay-ms`), a Get or List that would show it answers
/// only once it is durable — never before its writer is acknowledged.
#[tokio::test]
async fn reads_never_show_a_write_before_it_is_durable() {
    let s = TestServer::start_with(|a| a.test_sync_delay_ms = Some(600)).await;
    let uga = s.state("UGA").await;
    let mut needs = s.needs().await;
    let first = needs.create_need(authed(&uga, create(need("UGA")))).await.unwrap().into_inner();
    let id = format!("need-{}", first.id.trim_start_matches("need-").parse::<u64>().unwrap() + 1);
    let mut writer = s.needs().await;
    let token = uga.clone();
    // Its sync cannot end before `durable_at`: it starts after the commit, then sleeps.
    let durable_at = std::time::Instant::now() + Duration::from_millis(600);
    let write = tokio::spawn(async move { writer.create_need(authed(&token, create(need("UGA")))).await.unwrap() });
    // The write is committed (visible in memory) well before its sync ends.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut reader = s.needs().await;
    let got = reader.get_need(authed(&uga, api::GetNeedRequest { id: id.clone() })).await;
    let got_at = std::time::Instant::now();
    let list = listed(&mut reader, &s.admin).await;
    let listed_at = std::time::Instant::now();
    write.await.unwrap();
    if got.is_ok() {
        assert!(got_at >= durable_at, "GetNeed showed {id} {:?} before it could be durable", durable_at - got_at);
    }
    if list.contains(&id) {
        assert!(listed_at >= durable_at, "ListNeeds showed {id} before it could be durable");
    }
    assert!(got.is_ok() || list.contains(&id), "the reads came after the commit: they wait and show it");
}
