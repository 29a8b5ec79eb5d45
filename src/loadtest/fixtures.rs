//! What the workloads create: valid needs and offers, created concurrently during setup,
//! and the head of the event log.

use crate::api;
use crate::api::event_service_client::EventServiceClient;
use crate::cli::{Authed, Clients, request_id};
use crate::domain::types::Alpha3;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tonic::Status;

/// Seconds since the Unix epoch now.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn ts_days(now: i64, days: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: now + days * 86_400, nanos: 0 }
}

/// The member-state codes, in the shipped order.
pub(crate) fn states() -> Vec<String> {
    Alpha3::all().map(|a| a.as_str().to_string()).collect()
}

/// A typical valid need (the shape of the getting-started example), requested by `requester`.
pub(crate) fn need(requester: &str, now: i64) -> api::Need {
    api::Need {
        requester: requester.into(),
        category: api::SupportCategory::Training as i32,
        capability: api::CapabilityArea::Engineering as i32,
        title: "Heavy engineering equipment operators".into(),
        description: "Operators for a horizontal engineering company deploying within the year".into(),
        quantity: 20,
        women_quantity: 4,
        languages: vec!["en".into(), "fr".into()],
        needed_by: Some(ts_days(now, 120)),
        priority: api::Priority::High as i32,
        pledge_level: api::ReadinessLevel::Level2 as i32,
        ..Default::default()
    }
}

/// One `CreateNeed` request with a fresh `request_id`.
pub(crate) fn create_need_request(requester: &str, now: i64) -> api::CreateNeedRequest {
    api::CreateNeedRequest { need: Some(need(requester, now)), request_id: request_id() }
}

/// Creates `n` needs with `concurrency` calls in flight; returns their ids in order.
pub(crate) async fn create_needs(
    clients: &[Clients],
    n: usize,
    concurrency: usize,
    mut make: impl FnMut(usize) -> api::Need,
) -> Result<Vec<String>, Status> {
    let needs: Arc<Vec<api::Need>> = Arc::new((0..n).map(&mut make).collect());
    let mut created = create_all(clients, needs.len(), concurrency, move |c, i| {
        let need = needs[i].clone();
        let mut client = c.needs();
        async move {
            let req = api::CreateNeedRequest { need: Some(need), request_id: request_id() };
            client.create_need(req).await.map(|r| r.into_inner().id)
        }
    })
    .await?;
    created.sort_by_key(|(i, _)| *i);
    Ok(created.into_iter().map(|(_, id)| id).collect())
}

/// Runs `call(clients, i)` for every `i < n` with `concurrency` in flight, spread over the
/// clients; returns `(i, result)` pairs in completion order, or the first failure.
pub(crate) async fn create_all<C, Fut>(
    clients: &[Clients],
    n: usize,
    concurrency: usize,
    call: C,
) -> Result<Vec<(usize, String)>, Status>
where
    C: Fn(&Clients, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, Status>> + Send,
{
    if clients.is_empty() {
        return Err(Status::invalid_argument("no connections"));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let call = Arc::new(call);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..concurrency.clamp(1, n.max(1)) {
        let client = clients[w % clients.len()].clone();
        let next = next.clone();
        let call = call.clone();
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok(done);
                }
                done.push((i, call(&client, i).await?));
            }
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(joined) = tasks.join_next().await {
        let part: Result<Vec<(usize, String)>, Status> =
            joined.map_err(|e| Status::internal(format!("a setup task failed: {e}")))?;
        all.extend(part?);
    }
    Ok(all)
}

/// The sequence of the last event in the log (0 when empty), found with `ListEvents`
/// (page size 1) by exponential then binary search, so watchers can start at the head
/// without replaying the whole log.
pub(crate) async fn head_sequence(clients: &Clients) -> Result<u64, Status> {
    let events = &mut clients.events();
    if !exists(events, 1).await? {
        return Ok(0);
    }
    let mut lo = 1u64; // exists
    let mut hi = 2u64;
    while exists(events, hi).await? {
        lo = hi;
        hi = hi.saturating_mul(2);
        if hi == u64::MAX {
            return Err(Status::internal("the event log has no end"));
        }
    }
    // lo exists, hi does not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if exists(events, mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Whether the event with sequence `seq` (≥ 1) exists: one follows `seq - 1`, as the log
/// is gapless from 1.
async fn exists(events: &mut EventServiceClient<Authed>, seq: u64) -> Result<bool, Status> {
    let req = api::ListEventsRequest { after_sequence: seq - 1, page_size: 1, ..Default::default() };
    Ok(!events.list_events(req).await?.into_inner().events.is_empty())
}
