//! Prometheus metrics: what an operator's Prometheus scrapes at `/metrics`.
//!
//! One [`Metrics`] per server, with its own registry (tests run many servers in one
//! process; their counts must not mix). Who records what:
//! - the request layer ([`crate::telemetry::RequestLayer`]): requests by method and status
//!   code, their latency, requests in flight, admission refusals;
//! - the handlers: engine solves, event watchers and events delivered;
//! - the store, as a [`StoreObserver`]: every landing (commits, operations, bytes, time),
//!   sled's flush after it and every sync (time); its health (`lcm_store_failed`) and
//!   overlay depth, read at scrape time; its idempotency entries, counted at most once per
//!   [`FIGURES_TTL`];
//! - the mechanism's own figures (open seats, critical open seats, overdue seats, pending
//!   consents, needs at risk) are computed from one store snapshot when scraped, at most once per
//!   [`FIGURES_TTL`], so a scrape storm cannot turn into a scan storm.
//!
//! Names follow Prometheus' conventions: `lcm_` prefix, base units (`_seconds`, `_bytes`),
//! `_total` on counters. Label values are bounded: a method label is one of the methods the
//! server serves (anything else is `unknown`), a code label one of the 17 gRPC codes.

use crate::reports::MechanismFigures;
use crate::store::{Store, StoreObserver};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long computed mechanism figures are reused by later scrapes.
pub const FIGURES_TTL: Duration = Duration::from_secs(5);

/// Latency buckets (seconds) for requests: 100 µs to 10 s.
const LATENCY_BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Buckets (seconds) for engine solves: 1 ms to 2 min.
const SOLVE_BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0];

/// Buckets (seconds) for store landings and syncs: 50 µs to 5 s.
const STORE_BUCKETS: [f64; 14] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

/// What the store reports of its landings and syncs.
#[derive(Clone)]
pub struct StoreMetrics {
    /// `lcm_store_landing_commits`: commits per landing (group commit's group size).
    landing_commits: Histogram,
    /// `lcm_store_landing_operations`: table writes per landing.
    landing_ops: Histogram,
    /// `lcm_store_landing_bytes`: bytes of keys and values per landing.
    landing_bytes: Histogram,
    /// `lcm_store_landing_duration_seconds`: sled's `apply_batch` of one landing.
    landing_duration: Histogram,
    /// `lcm_store_flush_duration_seconds`: sled's flush of one landing (its log written).
    flush_duration: Histogram,
    /// `lcm_store_sync_duration_seconds`: blob and directory fsyncs, fdatasync.
    sync_duration: Histogram,
}

impl StoreObserver for StoreMetrics {
    fn landed(&self, commits: usize, ops: usize, bytes: usize, took: Duration) {
        self.landing_commits.observe(commits as f64);
        self.landing_ops.observe(ops as f64);
        self.landing_bytes.observe(bytes as f64);
        self.landing_duration.observe(took.as_secs_f64());
    }

    fn flushed(&self, took: Duration) {
        self.flush_duration.observe(took.as_secs_f64());
    }

    fn synced(&self, took: Duration) {
        self.sync_duration.observe(took.as_secs_f64());
    }
}

pub struct Metrics {
    registry: Registry,
    known_methods: HashSet<String>,
    /// `lcm_grpc_requests_total{service, method, code}`
    pub grpc_requests: IntCounterVec,
    /// `lcm_grpc_request_duration_seconds{service, method}`: until the response headers.
    pub grpc_duration: HistogramVec,
    /// `lcm_grpc_requests_in_flight`
    pub in_flight: IntGauge,
    /// `lcm_admission_refusals_total`: requests refused at once because too many were in
    /// flight (they are also counted in `lcm_grpc_requests_total` as RESOURCE_EXHAUSTED).
    pub admission_refusals: IntCounter,
    /// `lcm_event_watchers`: WatchEvents streams open now.
    pub watchers: IntGauge,
    /// `lcm_events_delivered_total`: events sent on WatchEvents streams.
    pub events_delivered: IntCounter,
    /// `lcm_engine_solve_duration_seconds`: one observation per ProposeMatches solve.
    pub solve_duration: Histogram,
    /// `lcm_engine_seats_matched_total`: seats the engine allocated, over all solves.
    pub seats_matched: IntCounter,
    /// `lcm_engine_solves_stopped_total`: solves given up because their caller went away.
    pub solves_stopped: IntCounter,
    /// `lcm_store_failed`: 1 once a landing, flush or sync has failed (every write is then
    /// refused until a restart), else 0. Read at scrape time.
    pub store_failed: IntGauge,
    figures: MechanismGauges,
    /// Landings and syncs, observed by the store ([`Metrics::store_observer`]).
    store: StoreMetrics,
    /// `lcm_store_overlay_entries`: committed changes not yet landed. Read at scrape time.
    overlay: IntGauge,
    /// `lcm_idempotency_entries`: stored first responses (pruned after
    /// `--request-id-retention`). Counted with the figures.
    idempotency_entries: IntGauge,
    last_figures: Mutex<Option<Instant>>,
}

/// The mechanism's own figures, as gauges.
struct MechanismGauges {
    seats_demanded: IntGauge,
    seats_open: IntGauge,
    seats_open_critical: IntGauge,
    seats_overdue: IntGauge,
    consents_pending: IntGauge,
    needs_at_risk: IntGauge,
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    // Names are constants of this file and unique: a failure is a programming error caught
    // by the unit test below, never by a client.
    if let Err(e) = registry.register(Box::new(c.clone())) {
        tracing::error!(error = %e, "metric not registered");
    }
    c
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    register(registry, IntCounter::with_opts(Opts::new(name, help)).unwrap_or_else(|_| unreachable!()))
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    register(registry, IntGauge::with_opts(Opts::new(name, help)).unwrap_or_else(|_| unreachable!()))
}

fn histogram(registry: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    register(registry, Histogram::with_opts(opts).unwrap_or_else(|_| unreachable!()))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let grpc_requests = register(
            &r,
            IntCounterVec::new(
                Opts::new("lcm_grpc_requests_total", "gRPC requests answered, by method and status code"),
                &["service", "method", "code"],
            )
            .unwrap_or_else(|_| unreachable!()),
        );
        let grpc_duration = register(
            &r,
            HistogramVec::new(
                HistogramOpts::new(
                    "lcm_grpc_request_duration_seconds",
                    "Time from a request's arrival to its response headers",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["service", "method"],
            )
            .unwrap_or_else(|_| unreachable!()),
        );
        Metrics {
            known_methods: known_methods(),
            grpc_requests,
            grpc_duration,
            in_flight: gauge(&r, "lcm_grpc_requests_in_flight", "gRPC requests being worked on"),
            admission_refusals: counter(
                &r,
                "lcm_admission_refusals_total",
                "Requests refused at once because --max-in-flight requests were being worked on",
            ),
            watchers: gauge(&r, "lcm_event_watchers", "WatchEvents streams open"),
            events_delivered: counter(&r, "lcm_events_delivered_total", "Events sent on WatchEvents streams"),
            solve_duration: histogram(
                &r,
                "lcm_engine_solve_duration_seconds",
                "Matching engine solves (ProposeMatches), by duration",
                &SOLVE_BUCKETS,
            ),
            seats_matched: counter(&r, "lcm_engine_seats_matched_total", "Seats allocated by engine solves"),
            solves_stopped: counter(
                &r,
                "lcm_engine_solves_stopped_total",
                "Engine solves stopped because their caller cancelled or its deadline passed",
            ),
            store_failed: gauge(
                &r,
                "lcm_store_failed",
                "1 once a store landing, flush or sync has failed (writes are refused until a restart)",
            ),
            figures: MechanismGauges {
                seats_demanded: gauge(&r, "lcm_seats_demanded", "Seats requested by needs that are not withdrawn"),
                seats_open: gauge(&r, "lcm_seats_open", "Open seats: requested, neither reserved nor delivered"),
                seats_open_critical: gauge(&r, "lcm_seats_open_critical", "Open seats of CRITICAL needs"),
                seats_overdue: gauge(&r, "lcm_seats_overdue", "Open seats of needs whose date has passed"),
                consents_pending: gauge(
                    &r,
                    "lcm_consents_pending",
                    "PENDING consents on arrangements in PENDING_CONSENT",
                ),
                needs_at_risk: gauge(
                    &r,
                    "lcm_needs_at_risk",
                    "Needs at risk or overdue: OPEN with open seats, dated within their risk horizon or past",
                ),
            },
            store: StoreMetrics {
                landing_commits: histogram(
                    &r,
                    "lcm_store_landing_commits",
                    "Commits per store landing (the group of group commit)",
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0],
                ),
                landing_ops: histogram(
                    &r,
                    "lcm_store_landing_operations",
                    "Table writes (inserts and removals) per store landing",
                    &[1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0],
                ),
                landing_bytes: histogram(
                    &r,
                    "lcm_store_landing_bytes",
                    "Bytes of keys and values per store landing",
                    &[256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0],
                ),
                landing_duration: histogram(
                    &r,
                    "lcm_store_landing_duration_seconds",
                    "Time to apply one landing to sled (one atomic batch)",
                    &STORE_BUCKETS,
                ),
                flush_duration: histogram(
                    &r,
                    "lcm_store_flush_duration_seconds",
                    "Time of sled's flush after one landing: its log written (pwrite, sync_file_range)",
                    &STORE_BUCKETS,
                ),
                sync_duration: histogram(
                    &r,
                    "lcm_store_sync_duration_seconds",
                    "Time of one store sync: blob file and directory fsyncs, the log's fdatasync",
                    &STORE_BUCKETS,
                ),
            },
            overlay: gauge(&r, "lcm_store_overlay_entries", "Committed changes readers see that are not landed yet"),
            idempotency_entries: gauge(
                &r,
                "lcm_idempotency_entries",
                "Stored first responses for request_id retries (pruned after --request-id-retention)",
            ),
            last_figures: Mutex::new(None),
            registry: r,
        }
    }

    /// The observer to hand to the store ([`crate::store::Store::observe`]).
    pub fn store_observer(&self) -> Arc<dyn StoreObserver> {
        Arc::new(self.store.clone())
    }

    /// The `service` and `method` labels of a request path: `/lcm.v1.NeedService/GetNeed`
    /// gives `("lcm.v1.NeedService", "GetNeed")`; a path the server does not serve gives
    /// `("unknown", "unknown")`, so a hostile client cannot grow the label set.
    pub fn labels_of<'a>(&self, path: &'a str) -> (&'a str, &'a str) {
        match path.strip_prefix('/').and_then(|p| p.split_once('/')) {
            Some((service, method)) if self.known_methods.contains(path) => (service, method),
            _ => ("unknown", "unknown"),
        }
    }

    /// Records one answered request.
    pub fn observe_request(&self, path: &str, code: tonic::Code, elapsed: Duration) {
        let (service, method) = self.labels_of(path);
        self.grpc_requests.with_label_values(&[service, method, crate::error::code_name(code)]).inc();
        self.grpc_duration.with_label_values(&[service, method]).observe(elapsed.as_secs_f64());
    }

    /// The exposition in Prometheus' text format (0.0.4), with the mechanism's figures
    /// (computed by `figures`) and the store's refreshed if they are older than
    /// [`FIGURES_TTL`]. Reads the store: call it off the async workers.
    pub fn render<E: std::fmt::Display>(
        &self,
        store: &Store,
        figures: impl FnOnce() -> Result<MechanismFigures, E>,
    ) -> String {
        let stale = {
            let mut last = self.last_figures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let stale = last.is_none_or(|t| t.elapsed() >= FIGURES_TTL);
            if stale {
                *last = Some(Instant::now());
            }
            stale
        };
        if stale {
            match figures() {
                Ok(f) => self.set_figures(f),
                Err(e) => tracing::warn!(error = %e, "metrics: the mechanism's figures could not be computed"),
            }
            self.idempotency_entries.set(i64::try_from(store.idempotency_entries()).unwrap_or(i64::MAX));
        }
        self.overlay.set(store.overlay_len() as i64);
        self.store_failed.set(i64::from(store.failure().borrow().is_some()));
        self.encode()
    }

    fn set_figures(&self, f: MechanismFigures) {
        let g = &self.figures;
        g.seats_demanded.set(f.seats_demanded as i64);
        g.seats_open.set(f.seats_open as i64);
        g.seats_open_critical.set(f.seats_open_critical as i64);
        g.seats_overdue.set(f.seats_overdue as i64);
        g.consents_pending.set(f.consents_pending as i64);
        g.needs_at_risk.set(f.needs_at_risk as i64);
    }

    fn encode(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "metrics: exposition could not be encoded");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Every method path the server serves: ours (from the compiled descriptor set), health
/// and reflection.
fn known_methods() -> HashSet<String> {
    let mut paths = HashSet::new();
    if let Ok(pool) = prost_reflect::DescriptorPool::decode(crate::api::FILE_DESCRIPTOR_SET) {
        for service in pool.services() {
            for method in service.methods() {
                paths.insert(format!("/{}/{}", service.full_name(), method.name()));
            }
        }
    }
    for path in [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ] {
        paths.insert(path.to_string());
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registers_and_the_exposition_names_them() {
        let m = Metrics::new();
        m.observe_request("/lcm.v1.NeedService/GetNeed", tonic::Code::NotFound, Duration::from_millis(2));
        let text = m.encode();
        for name in [
            "lcm_grpc_requests_total{code=\"NOT_FOUND\",method=\"GetNeed\",service=\"lcm.v1.NeedService\"} 1",
            "lcm_grpc_request_duration_seconds_bucket",
            "lcm_grpc_requests_in_flight 0",
            "lcm_admission_refusals_total 0",
            "lcm_store_failed 0",
            "lcm_seats_open 0",
            "lcm_consents_pending 0",
            "lcm_needs_at_risk 0",
            "lcm_engine_solve_duration_seconds_count 0",
            "lcm_store_landing_commits_count 0",
            "lcm_store_flush_duration_seconds_count 0",
            "lcm_store_sync_duration_seconds_count 0",
            "lcm_store_overlay_entries 0",
            "lcm_idempotency_entries 0",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }

    #[test]
    fn unknown_paths_share_one_label() {
        let m = Metrics::new();
        assert_eq!(m.labels_of("/lcm.v1.NeedService/GetNeed"), ("lcm.v1.NeedService", "GetNeed"));
        assert_eq!(m.labels_of("/lcm.v1.NeedService/NoSuchMethod"), ("unknown", "unknown"));
        assert_eq!(m.labels_of("/x"), ("unknown", "unknown"));
        assert_eq!(m.labels_of("/grpc.health.v1.Health/Check"), ("grpc.health.v1.Health", "Check"));
    }
}
