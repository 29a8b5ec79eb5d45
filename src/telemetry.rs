//! Structured logging with `tracing`: text for people, JSON for log pipelines. The level
//! comes from `LCM_LOG` (an `EnvFilter` directive, default `info`).
//!
//! [`RequestLayer`] observes every gRPC request: one span (method, principal, request id),
//! its metrics, its log line, and a warning that names the slow phase of a slow request.

use crate::metrics::Metrics;
use crate::middleware::{Answer, Inner, Middleware, Wrapped};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tower::Layer;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LCM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or journal gets plain text, and no request
    // pays for escape codes that nobody sees.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// How requests are logged (`--access-log`, `--slow-request-ms`).
#[derive(Clone, Copy, Debug)]
pub struct RequestLog {
    /// One INFO line per answered request (failures are logged at INFO regardless;
    /// successes otherwise only at DEBUG).
    pub access_log: bool,
    /// A request slower than this is logged as a WARN naming its slowest phase.
    pub slow: Duration,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog { access_log: false, slow: Duration::from_secs(1) }
    }
}

/// The phases of a request that are timed separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Resolving the bearer token.
    Auth,
    /// Waiting for the store's writer gate.
    GateWait,
    /// Waiting for the write to be landed and synced (group commit).
    DurableWait,
}

/// Time spent in each [`Phase`] by one request, in microseconds.
#[derive(Debug, Default)]
pub struct Phases {
    auth_us: AtomicU64,
    gate_wait_us: AtomicU64,
    durable_wait_us: AtomicU64,
}

impl Phases {
    fn slot(&self, phase: Phase) -> &AtomicU64 {
        match phase {
            Phase::Auth => &self.auth_us,
            Phase::GateWait => &self.gate_wait_us,
            Phase::DurableWait => &self.durable_wait_us,
        }
    }

    fn get(&self, phase: Phase) -> u64 {
        self.slot(phase).load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static PHASES: Arc<Phases>;
}

/// Adds `elapsed` to `phase` of the request this task is serving (nothing outside one).
pub fn record_phase(phase: Phase, elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let _ = PHASES.try_with(|p| p.slot(phase).fetch_add(micros, Ordering::Relaxed));
}

/// Awaits `future`, counting the wait as `phase` of the current request.
pub async fn timed<T>(phase: Phase, future: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = future.await;
    record_phase(phase, started.elapsed());
    out
}

/// Marks a response that admission control refused (see [`crate::admission`]).
#[derive(Clone, Copy, Debug)]
pub struct AdmissionRefused;

/// The outermost layer: one span per request (method; the auth layer adds the principal,
/// the write path the request id), the request's metrics, its log line and the slow-request
/// warning.
#[derive(Clone)]
pub struct RequestLayer {
    metrics: Arc<Metrics>,
    log: RequestLog,
}

impl RequestLayer {
    pub fn new(metrics: Arc<Metrics>, log: RequestLog) -> RequestLayer {
        RequestLayer { metrics, log }
    }
}

impl<S> Layer<S> for RequestLayer {
    type Service = Wrapped<RequestLayer, S>;
    fn layer(&self, inner: S) -> Self::Service {
        Wrapped::new(self.clone(), inner)
    }
}

/// Decrements the in-flight gauge however the request ends (answered, failed, or dropped
/// because the client went away).
struct InFlight(Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

impl Middleware for RequestLayer {
    fn handle<S: Inner<B>, B: Send + 'static>(&self, mut inner: S, req: http::Request<B>) -> Answer<S::Error> {
        let started = Instant::now();
        let path = req.uri().path().to_string();
        let span = tracing::info_span!(
            "request",
            method = %path,
            principal = tracing::field::Empty,
            request_id = tracing::field::Empty
        );
        let phases = Arc::new(Phases::default());
        let scoped = phases.clone();
        let metrics = self.metrics.clone();
        let log = self.log;
        metrics.in_flight.inc();
        let in_flight = InFlight(metrics.clone());
        let request = async move {
            let _in_flight = in_flight;
            let response = inner.call(req).await?;
            let elapsed = started.elapsed();
            // A unary answer's status is in its headers when it failed (trailers-only
            // response) and in its trailers when it succeeded; a stream that fails after
            // its headers counts as OK here.
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map_or(tonic::Code::Ok, tonic::Code::from_i32);
            if response.extensions().get::<AdmissionRefused>().is_some() {
                metrics.admission_refusals.inc();
            }
            metrics.observe_request(&path, code, elapsed);
            log_answer(log, code, elapsed, &phases);
            Ok(response)
        };
        Box::pin(PHASES.scope(scoped, request.instrument(span)))
    }
}

/// The request's log line: failures at INFO, successes at DEBUG (INFO with
/// `--access-log`), and a WARN naming the slowest phase when it took longer than
/// `log.slow`. Runs inside the request's span, so each line carries the method, the
/// principal and the request id.
fn log_answer(log: RequestLog, code: tonic::Code, elapsed: Duration, phases: &Phases) {
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let code_name = crate::error::code_name(code);
    if elapsed >= log.slow {
        let auth_us = phases.get(Phase::Auth);
        let gate_wait_us = phases.get(Phase::GateWait);
        let durable_wait_us = phases.get(Phase::DurableWait);
        let handler_us = latency_us.saturating_sub(auth_us + gate_wait_us + durable_wait_us);
        let slowest = [
            ("auth", auth_us),
            ("gate_wait", gate_wait_us),
            ("durable_wait", durable_wait_us),
            ("handler", handler_us),
        ]
        .into_iter()
        .max_by_key(|(_, us)| *us)
        .map_or("handler", |(name, _)| name);
        tracing::warn!(
            code = code_name,
            latency_us,
            auth_us,
            gate_wait_us,
            durable_wait_us,
            handler_us,
            slowest_phase = slowest,
            threshold_ms = log.slow.as_millis() as u64,
            "slow request"
        );
    } else if code != tonic::Code::Ok || log.access_log {
        tracing::info!(code = code_name, latency_us, "answered");
    } else {
        tracing::debug!(code = code_name, latency_us, "answered");
    }
}
