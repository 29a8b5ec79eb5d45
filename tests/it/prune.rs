//! Idempotency entries are pruned after the retention (`--request-id-retention`, here
//! shortened with the hidden `--test-request-id-retention-ms`): the table stops growing
//! under a steady stream of writes, a retry inside the retention is answered from the
//! stored response, and a request id pruned is forgotten.

use crate::harness::*;
use lcm::api;
use std::time::{Duration, Instant};

const RETENTION_MS: u64 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_pruned_after_the_retention_so_the_table_stops_growing() {
    let (server, store) =
        TestServer::start_with_store_and(|a| a.test_request_id_retention_ms = Some(RETENTION_MS)).await;
    let uga = server.state("UGA").await;
    let mut needs = server.needs().await;
    let create = |rid: &str| authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: rid.into() });

    // A retry inside the retention gets the first response, and creates nothing.
    let first_rid = new_request_id();
    let first = needs.create_need(create(&first_rid)).await.unwrap().into_inner();
    let retry = needs.create_need(create(&first_rid)).await.unwrap().into_inner();
    assert_eq!(first, retry, "a retry inside the retention is answered from the stored response");

    // A steady stream of writes with request ids, well past the retention.
    let started = Instant::now();
    let writes = 300;
    let mut samples = Vec::new();
    for i in 0..writes {
        needs.create_need(create(&new_request_id())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        if i % 20 == 19 {
            samples.push((started.elapsed(), store.idempotency_entries()));
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed > Duration::from_millis(4 * RETENTION_MS), "the stream lasted {elapsed:?}");
    // A write takes at least 5 ms, so at most RETENTION_MS / 5 entries are young; each
    // commit prunes up to 64 expired ones, so no backlog of expired entries builds up.
    let bound = (RETENTION_MS / 5) as usize + 64;
    let late: Vec<_> = samples.iter().filter(|(t, _)| *t > Duration::from_millis(2 * RETENTION_MS)).collect();
    assert!(!late.is_empty());
    for (t, count) in &late {
        assert!(*count <= bound, "{count} idempotency entries after {t:?} (bound {bound}); samples {samples:?}");
    }
    println!("idempotency entries over {writes} writes in {elapsed:?} (retention {RETENTION_MS} ms): {samples:?}");

    // The first request id expired long ago and was pruned: a retry is a new request.
    let again = needs.create_need(create(&first_rid)).await.unwrap().into_inner();
    assert_ne!(again.id, first.id, "a request id pruned after the retention is forgotten");
}
