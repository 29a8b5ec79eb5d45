//! The `watch` workload: `--subscribers` WatchEvents streams (NEED_CREATED only) start at
//! the head of the log; once all are open, a writer creates needs at `--write-rps` for the
//! duration. The lag of a delivery is the time from the write's acknowledgement (its
//! CreateNeed answer) to the receipt of its event by one subscriber, matched by resource
//! id after the run (so a receipt that beats its acknowledgement counts as 0 µs).
//! `requests` counts matched deliveries; `errors` counts failed writes, broken streams and
//! deliveries still missing a grace period after the last write.

use super::driver::{REQUEST_TIMEOUT, Tally, spawn_progress};
use super::fixtures::{create_need_request, head_sequence, now_unix, states};
use super::stats::{Report, micros};
use super::{LoadtestArgs, finish};
use crate::api;
use crate::cli::{CliError, Clients};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

/// Writes in flight at most.
const MAX_WRITES_IN_FLIGHT: usize = 512;
/// How long subscribers may take to catch up after the last write.
const GRACE: Duration = Duration::from_secs(5);

/// What one subscriber saw: (resource id, receipt time) and whether its stream broke.
type Seen = (Vec<(String, Instant)>, u64);

/// Runs the workload; see the module docs.
pub(crate) async fn run(clients: &[Clients], args: &LoadtestArgs, duration: Duration) -> Result<Report, CliError> {
    let name = args.workload.name();
    let progress = !args.quiet;
    let Some(first) = clients.first() else {
        return Err(CliError::Usage("no connections".into()));
    };
    if args.write_rps == 0 {
        return Err(CliError::Usage("--write-rps must be at least 1".into()));
    }
    let head = head_sequence(first).await.map_err(|s| CliError::Status(s).context("setup: finding the log's head"))?;
    let subscribers = args.subscribers.max(1);
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<(), tonic::Status>>(subscribers);
    let mut subs = tokio::task::JoinSet::new();
    for k in 0..subscribers {
        let mut events = clients[k % clients.len()].events();
        let (ready, delivered, mut stop) = (ready_tx.clone(), delivered.clone(), stop_rx.clone());
        subs.spawn(async move {
            let req = api::WatchEventsRequest { after_sequence: head, kinds: vec![api::EventKind::NeedCreated as i32] };
            let mut stream = match events.watch_events(req).await {
                Ok(r) => r.into_inner(),
                Err(status) => {
                    let _ = ready.send(Err(status)).await;
                    return (Vec::new(), 1);
                }
            };
            let _ = ready.send(Ok(())).await;
            let mut seen = Vec::new();
            loop {
                tokio::select! {
                    message = stream.message() => match message {
                        Ok(Some(event)) => {
                            seen.push((event.resource_id, Instant::now()));
                            delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(None) | Err(_) => return (seen, 1),
                    },
                    _ = stop.changed() => return (seen, 0),
                }
            }
        });
    }
    drop(ready_tx);
    let mut stream_errors = 0u64;
    for _ in 0..subscribers {
        match tokio::time::timeout(REQUEST_TIMEOUT, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(status))) => {
                eprintln!("[{name}] a subscriber could not start: {:?}: {}", status.code(), status.message());
                stream_errors += 1;
            }
            Ok(None) | Err(_) => {
                return Err(CliError::Usage("the subscribers did not start within 30 s".into()));
            }
        }
    }
    if progress {
        eprintln!("[setup] {subscribers} subscribers following from sequence {head}");
    }

    // The writer: one CreateNeed per tick, each in its own task.
    let tally = Arc::new(Tally::default());
    let acks: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(MAX_WRITES_IN_FLIGHT));
    let ticker = spawn_progress(format!("{name} writes"), tally.clone(), progress);
    let period = Duration::from_secs_f64(1.0 / args.write_rps as f64);
    let mut ticks = tokio::time::interval(period);
    let states = states();
    let now = now_unix();
    let start = Instant::now();
    let deadline = start + duration;
    let mut n = 0usize;
    while ticks.tick().await < deadline {
        let Ok(permit) = permits.clone().acquire_owned().await else { break };
        n += 1;
        let mut needs = first.needs();
        let req = create_need_request(&states[n % states.len()], now);
        let (tally, acks) = (tally.clone(), acks.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(REQUEST_TIMEOUT, needs.create_need(req)).await {
                Ok(Ok(r)) => {
                    let at = Instant::now();
                    if let Ok(mut acks) = acks.lock() {
                        acks.insert(r.into_inner().id, at);
                    }
                    tally.ok.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(status)) => tally.error(&status),
                Err(_) => tally.error(&tonic::Status::deadline_exceeded("no answer within 30 s")),
            }
            drop(permit);
        });
    }
    // Wait for the writes in flight, then for the deliveries.
    let _all = tokio::time::timeout(REQUEST_TIMEOUT, permits.acquire_many(MAX_WRITES_IN_FLIGHT as u32)).await;
    let writing = start.elapsed();
    ticker.abort();
    let acked = tally.ok.load(Ordering::Relaxed);
    let expected = acked * subscribers as u64;
    let grace_end = Instant::now() + GRACE;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < grace_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);

    let acks = match acks.lock() {
        Ok(a) => a.clone(),
        Err(_) => HashMap::new(),
    };
    let mut lags = Vec::with_capacity(expected as usize);
    while let Some(joined) = subs.join_next().await {
        let (seen, broken): Seen = joined.unwrap_or((Vec::new(), 1));
        stream_errors += broken;
        lags.extend(
            seen.iter().filter_map(|(id, at)| acks.get(id).map(|ack| micros(at.saturating_duration_since(*ack)))),
        );
    }
    let missed = expected.saturating_sub(lags.len() as u64);
    if progress || missed > 0 || stream_errors > 0 {
        eprintln!(
            "[{name}] {acked} writes acknowledged in {:.1}s ({:.0}/s), {} deliveries matched, {missed} missed, {stream_errors} streams broken",
            writing.as_secs_f64(),
            acked as f64 / writing.as_secs_f64().max(1e-9),
            lags.len()
        );
    }
    let out = super::driver::Outcome {
        latencies_us: lags,
        errors: tally.errors.load(Ordering::Relaxed) + stream_errors + missed,
        elapsed: writing,
    };
    Ok(finish(name, subscribers, out, &tally))
}
