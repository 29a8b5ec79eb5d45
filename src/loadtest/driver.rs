//! The closed-loop driver: `concurrency` workers, each with one request in flight at a
//! time, until the deadline passes or the work runs out; a progress line on stderr every
//! second; failures counted by gRPC code, with the first message of each code kept.

use super::stats::micros;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tonic::Status;

/// No single request may take longer than this; past it, it counts as an error.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Counts shared by the workers, the progress line and the final report.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) ok: AtomicU64,
    pub(crate) errors: AtomicU64,
    first_errors: Mutex<BTreeMap<String, (u64, String)>>,
}

impl Tally {
    /// Records one failure; keeps the first message of each gRPC code.
    pub(crate) fn error(&self, status: &Status) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = self.first_errors.lock() {
            let entry = map.entry(format!("{:?}", status.code())).or_insert_with(|| (0, status.message().to_string()));
            entry.0 += 1;
        }
    }

    /// One line per gRPC code seen: `Unimplemented ×12: first message`.
    pub(crate) fn error_lines(&self) -> Vec<String> {
        match self.first_errors.lock() {
            Ok(map) => map.iter().map(|(code, (n, msg))| format!("{code} ×{n}: {msg}")).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// What a drive measured.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) latencies_us: Vec<u64>,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
}

/// Prints `[label] 3s: N ok, R/s now, E errors` on stderr every second until aborted.
pub(crate) fn spawn_progress(label: String, tally: Arc<Tally>, enabled: bool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !enabled {
            return;
        }
        let start = Instant::now();
        let mut ticks = tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
        let mut last = 0;
        loop {
            let now = ticks.tick().await;
            let ok = tally.ok.load(Ordering::Relaxed);
            let errors = tally.errors.load(Ordering::Relaxed);
            eprintln!(
                "[{label}] {:>4.0}s: {ok} ok, {} /s now, {errors} errors",
                (now - start).as_secs_f64(),
                ok.saturating_sub(last)
            );
            last = ok;
        }
    })
}

/// Runs `concurrency` workers until `duration` has passed. `make(i)` gives worker `i` its
/// operation; the operation returns `None` when there is no more work for it.
pub(crate) async fn drive<M, F, Fut>(
    label: &str,
    concurrency: usize,
    duration: Duration,
    progress: bool,
    mut make: M,
) -> (Outcome, Arc<Tally>)
where
    M: FnMut(usize) -> F,
    F: FnMut() -> Option<Fut> + Send + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let deadline = start + duration;
    let ticker = spawn_progress(label.to_string(), tally.clone(), progress);
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..concurrency.max(1) {
        let mut op = make(i);
        let tally = tally.clone();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let Some(call) = op() else { break };
                let sent = Instant::now();
                match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
                    Ok(Ok(())) => {
                        latencies.push(micros(sent.elapsed()));
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Err(status)) => tally.error(&status),
                    Err(_) => tally.error(&Status::deadline_exceeded("no answer within 30 s")),
                }
            }
            latencies
        });
    }
    let mut latencies_us = Vec::new();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(mut l) => latencies_us.append(&mut l),
            Err(e) => tally.error(&Status::internal(format!("a worker failed: {e}"))),
        }
    }
    let elapsed = start.elapsed();
    ticker.abort();
    let errors = tally.errors.load(Ordering::Relaxed);
    (Outcome { latencies_us, errors, elapsed }, tally)
}
