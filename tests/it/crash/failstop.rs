//! Fail-stop (issue 14): with the hidden `--test-fail-sync N` or `--test-fail-landing N`
//! the server fails its Nth sync or landing. From then on every write must be refused
//! UNAVAILABLE with ErrorInfo reason `STORE_FAILED`, `grpc.health.v1` must report
//! NOT_SERVING, and a restart (without the switch) must hold a consistent prefix that
//! contains every acknowledged write (the checks of `check.rs`).

use super::ledger::{Ack, Acked};
use super::process::Server;
use super::storm::text;
use super::{Rig, check, connect};
use crate::harness::{authed, need, new_request_id, reason};
use lcm::api;
use lcm::api::need_service_client::NeedServiceClient;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

/// Concurrent writers, and how many writes each tries before the fault must have come.
const WRITERS: usize = 4;
const WRITES_EACH: usize = 150;
/// Writes tried after every writer saw the fault; each must be refused.
const LATER_WRITES: usize = 5;

fn big_need(requester: &str, i: usize) -> api::Need {
    let mut n = need(requester);
    n.title = text(&format!("fail-stop {i} {} ", new_request_id()), lcm::convert::limits::MAX_TITLE_CHARS, false);
    n.description = text("fail-stop ", lcm::convert::limits::MAX_DESCRIPTION_CHARS, true);
    n
}

/// Runs writers against a server started with `flags` until the fault; checks the
/// refusals, the health status and the store after a restart. Returns a summary line.
pub async fn fail_stop(flags: &[&'static str]) -> String {
    let mut rig = Rig::start(flags).await;
    let server = rig.server.take().expect("the rig starts a server");
    let channel = connect(&server).await.unwrap_or_else(|e| panic!("{e}"));
    let token = rig.tokens.states["UGA"].clone();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (channel, token) = (channel.clone(), token.clone());
        writers.spawn(async move {
            let mut client = NeedServiceClient::new(channel);
            let mut acks: Vec<Ack> = Vec::new();
            for i in 0..WRITES_EACH {
                let req = api::CreateNeedRequest {
                    need: Some(big_need("UGA", w * WRITES_EACH + i)),
                    request_id: new_request_id(),
                };
                match client.create_need(authed(&token, req)).await {
                    Ok(r) => acks.push(r.into_inner().ack(0, "CreateNeed")),
                    Err(s) => return (acks, Some(s)),
                }
            }
            (acks, None)
        });
    }
    let mut acked = Vec::new();
    let mut refusals = Vec::new();
    while let Some(done) = writers.join_next().await {
        let (acks, refusal) = done.unwrap_or_else(|e| panic!("a writer panicked: {e}"));
        acked.extend(acks);
        refusals.extend(refusal);
    }
    assert!(
        !refusals.is_empty(),
        "{flags:?}: {} writes acknowledged and none refused: the fault never came",
        acked.len()
    );
    for s in &refusals {
        assert_eq!(
            (s.code(), reason(s).as_str()),
            (Code::Unavailable, "STORE_FAILED"),
            "{flags:?}: a write the fault failed must be UNAVAILABLE / STORE_FAILED: {s:?}"
        );
    }
    let mut client = NeedServiceClient::new(channel.clone());
    for i in 0..LATER_WRITES {
        let req = api::CreateNeedRequest { need: Some(big_need("UGA", 100_000 + i)), request_id: new_request_id() };
        match client.create_need(authed(&token, req)).await {
            Ok(r) => panic!("{flags:?}: a write after the fault was acknowledged: {}", r.into_inner().id),
            Err(s) => assert_eq!(
                (s.code(), reason(&s).as_str()),
                (Code::Unavailable, "STORE_FAILED"),
                "{flags:?}: a write after the fault must be UNAVAILABLE / STORE_FAILED: {s:?}"
            ),
        }
    }
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let status = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await;
    assert_eq!(
        status.map(|r| r.into_inner().status).ok(),
        Some(ServingStatus::NotServing as i32),
        "{flags:?}: health must report NOT_SERVING after the fault"
    );
    server.kill();
    let restarted = Server::start(rig.dir.path(), &[]).await.unwrap_or_else(|e| panic!("{flags:?}: no restart: {e}"));
    let found =
        check::verify(&connect(&restarted).await.unwrap_or_else(|e| panic!("{e}")), &rig.tokens.admin, &acked, &[])
            .await;
    assert!(
        found.lost.is_empty() && found.broken.is_empty(),
        "{flags:?}: after the restart: lost {:?}, broken {:?}",
        found.lost,
        found.broken
    );
    format!(
        "{flags:?}: {} writes acknowledged before the fault, {} refused by it, {LATER_WRITES} later writes refused, \
         NOT_SERVING; after the restart all {} acknowledged are there, {} events, nothing broken",
        acked.len(),
        refusals.len(),
        acked.len(),
        found.events
    )
}
