//! gRPC handlers, one file per service, kept thin: authorize, convert, decide, commit.
//!
//! This module holds what every handler shares: the caller, the idempotent write path
//! (replay check, writer gate, one commit, durable wait) and opaque, tamper-evident page
//! tokens.

/// `expr?` for a write's own checks, between [`WriteCall::new`] and
/// [`WriteCall::commit`]: an error is answered through [`WriteCall::refused`], so a retry
/// (or a request id reused with another request) is answered before anything else is
/// checked, as API.md orders it, while a request that passes its checks pays no lookup of
/// its request id until the one under the writer gate.
macro_rules! checked {
    ($call:expr, $store:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(tonic::Response::new($call.refused($store, e).await?)),
        }
    };
}

pub mod admin;
pub mod arrangements;
pub mod centres;
pub mod events;
pub mod match_view;
pub mod matching;
pub mod needs;
pub mod offers;
pub mod reports;
pub mod workflow;

use crate::auth::Authenticator;
use crate::convert::{Violations, limits};
use crate::domain::*;
use crate::error::{AppError, AppResult, Reason};
use crate::store::{IdempotencyEntry, Store, Ticket, WriteSet, Writer};
use crate::telemetry::{Phase, timed};
use base64::Engine;
use hmac::{Hmac, Mac};
use prost::Message;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The lcm API: this one value implements all eight gRPC services (each in its file of
/// `service/`), holding what every handler needs.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub auth: Arc<Authenticator>,
    /// Set to true when the server starts shutting down; open streams end then.
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// Recent events as messages, shared by WatchEvents streams.
    pub messages: Arc<events::EventMessages>,
    /// Requests worked on at once (admission control, `--max-in-flight`).
    pub max_in_flight: usize,
    /// The gender report's target shares (`--women-target-share`, `--targets-file`).
    pub gender_targets: Arc<crate::reports::GenderTargets>,
    /// This server's Prometheus metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// How requests are logged (`--access-log`, `--slow-request-ms`).
    pub request_log: crate::telemetry::RequestLog,
    /// The readiness report's horizons (`--risk-horizon-days`).
    pub risk_horizons: crate::reports::RiskHorizons,
    /// The clock of the NEED_AT_RISK task (a test moves it; see [`reports::at_risk`]).
    pub clock: reports::at_risk::Clock,
    /// The matching engine's input and warm state, kept from the commits.
    pub match_view: Arc<match_view::MatchView>,
}

impl Services {
    pub fn new(store: Store, auth: Arc<Authenticator>) -> Services {
        let metrics = Arc::new(crate::metrics::Metrics::new());
        store.observe(metrics.store_observer());
        let match_view = match_view::MatchView::start(&store);
        Services {
            match_view,
            store,
            auth,
            shutdown: Arc::new(tokio::sync::watch::channel(false).0),
            messages: Arc::default(),
            max_in_flight: 1024,
            gender_targets: Arc::new(crate::reports::GenderTargets::default()),
            metrics,
            request_log: crate::telemetry::RequestLog::default(),
            risk_horizons: crate::reports::RiskHorizons::default(),
            clock: reports::at_risk::Clock::default(),
        }
    }

    pub fn with_gender_targets(self, targets: crate::reports::GenderTargets) -> Services {
        Services { gender_targets: Arc::new(targets), ..self }
    }
}

pub fn now_micros() -> UnixMicros {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// The authenticated caller that the auth layer put into the request.
pub fn caller<T>(req: &tonic::Request<T>) -> AppResult<Caller> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| AppError::Unauthenticated("missing authorization metadata".into()))
}

pub fn require_secretariat(caller: &Caller) -> AppResult<()> {
    if caller.is_secretariat() {
        Ok(())
    } else {
        Err(AppError::PermissionDenied("only the Secretariat may call this method".into()))
    }
}

/// PERMISSION_DENIED with `why` for a training centre (a kind the method never allows).
pub fn deny_centres(caller: &Caller, why: &str) -> AppResult<()> {
    if matches!(caller.role, Role::TrainingCentre(_)) { Err(AppError::PermissionDenied(why.into())) } else { Ok(()) }
}

/// A validated `request_id` (empty means none).
fn request_id(raw: &str) -> AppResult<Option<String>> {
    if raw.is_empty() {
        return Ok(None);
    }
    match uuid::Uuid::parse_str(raw) {
        Ok(u) if raw.len() <= limits::MAX_REQUEST_ID_CHARS => Ok(Some(u.hyphenated().to_string())),
        _ => Err(AppError::invalid("request_id", "must be a UUID")),
    }
}

/// One idempotent state change: who, which method, the request's fingerprint.
pub struct WriteCall {
    caller: Caller,
    method: &'static str,
    request_id: Option<String>,
    fingerprint: [u8; 32],
    /// See [`WriteCall::long_running`].
    long: bool,
}

impl WriteCall {
    /// Validates the request id; call after the permission checks that need no store.
    pub fn new<M: Message>(
        caller: &Caller,
        method: &'static str,
        raw_request_id: &str,
        request: &M,
    ) -> AppResult<WriteCall> {
        let request_id = request_id(raw_request_id)?;
        if let Some(rid) = &request_id {
            tracing::Span::current().record("request_id", rid.as_str());
        }
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(request.encode_to_vec());
        Ok(WriteCall { caller: caller.clone(), method, request_id, fingerprint: h.finalize().into(), long: false })
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Answers a request that its own checks refused: with the first response if this
    /// request id was already carried out with the same request (a retry must get the
    /// first answer even though, say, the clock has since passed its date or the centre
    /// it named is gone), else with `error`.
    ///
    /// Every check made before [`WriteCall::commit`] comes here on failure (the
    /// `checked!` macro): a retry of a request that passed its checks passes them again and
    /// `commit` answers it from the stored response before deciding anything, but a retry
    /// whose checks now fail (the clock passed its date) and a reused id with a different,
    /// invalid request must still get the replay's answer first.
    pub async fn refused<R: Message + Default>(&self, store: &Store, error: AppError) -> AppResult<R> {
        let Some(response) = self.stored_response(store)? else { return Err(error) };
        // The entry is visible, so its commit went through the writer gate; taking the
        // gate now yields a ticket that covers it. The first caller is answered after the
        // flush, and a retry must not be answered sooner (a crash in between would lose a
        // write that the retry acknowledged).
        let ticket = store.writer_async().await?.last_commit();
        store.durable(ticket).await?;
        Ok(response)
    }

    /// Answers a request that changes nothing (a dry run): a request id already used with
    /// another request is refused and one already answered for this request (by an older
    /// build, which remembered dry runs) gets that answer; otherwise `compute` answers and
    /// nothing is remembered, so a retry computes again. Remembering a dry run's answer
    /// would store the whole proposal (45 MB at 100 000 needs) for the retention period.
    pub async fn read_only<R: Message + Default, F: std::future::Future<Output = AppResult<R>>>(
        &self,
        store: &Store,
        compute: impl FnOnce() -> F,
    ) -> AppResult<R> {
        match self.stored_response(store)? {
            Some(response) => Ok(response),
            None => compute().await,
        }
    }

    fn stored_response<R: Message + Default>(&self, store: &Store) -> AppResult<Option<R>> {
        let Some(rid) = &self.request_id else { return Ok(None) };
        match store.idempotency(&self.caller.principal_id, rid)? {
            None => Ok(None),
            Some(e) if e.method == self.method && e.fingerprint == self.fingerprint => R::decode(e.response.as_slice())
                .map(Some)
                .map_err(|err| AppError::Internal(format!("stored response does not decode: {err}"))),
            Some(_) => Err(AppError::InvalidWithReason {
                reason: Reason::RequestIdReused,
                field: "request_id",
                message: "request_id was already used with a different request".into(),
            }),
        }
    }

    /// Runs `decide` under the writer gate and commits what it wrote with the events and
    /// the idempotency entry, then waits until it is durable. `stored` turns the response
    /// into what a replay returns. A retry of a request already carried out is answered
    /// here, under the gate, with the stored response (see [`WriteCall::refused`] for
    /// retries that the handler's own checks refuse).
    pub async fn commit<R, F>(self, store: &Store, decide: F, stored: impl FnOnce(&R) -> R) -> AppResult<R>
    where
        R: Message + Default,
        F: FnOnce(&mut Writer<'_>, &mut WriteSet, UnixMicros) -> AppResult<R>,
    {
        let arriving = store.arriving();
        let mut writer = timed(Phase::GateWait, store.writer_async()).await?;
        let long = self.long;
        let section = move || -> AppResult<(Ticket, AppResult<R>)> {
            // Checked again under the gate: a concurrent twin may have just committed.
            // Its answer goes out once the twin's commit is durable, like the twin's own.
            if let Some(r) = self.stored_response(store)? {
                return Ok((writer.last_commit(), Ok(r)));
            }
            let now = now_micros();
            let mut ws = WriteSet::default();
            match decide(&mut writer, &mut ws, now) {
                Ok(response) => {
                    if let Some(rid) = &self.request_id {
                        let entry = IdempotencyEntry {
                            method: self.method.to_string(),
                            fingerprint: self.fingerprint,
                            response: stored(&response).encode_to_vec(),
                            time: now,
                        };
                        ws.idempotency(&self.caller.principal_id, rid, &entry);
                    }
                    Ok((writer.commit(ws)?.0, Ok(response)))
                }
                // A refusal that still changes something: committed without an idempotency
                // entry (a retry is decided again, against the changed state).
                Err(refusal) if ws.commits_on_refusal() => Ok((writer.commit(ws)?.0, Err(refusal))),
                Err(refusal) => Err(refusal),
            }
        };
        let (ticket, answer) = if long { off_the_reactor(section)? } else { section()? };
        drop(arriving);
        timed(Phase::DurableWait, store.durable(ticket)).await?;
        answer
    }

    /// Marks a write whose decision is long (a ProposeMatches solve): its section under
    /// the gate runs where it does not hold up the runtime's other tasks.
    pub fn long_running(self) -> WriteCall {
        WriteCall { long: true, ..self }
    }
}

/// Runs `f`, a long synchronous section, so that it does not stall the other tasks of a
/// multi-threaded runtime's worker (`block_in_place` hands the worker's queue to another
/// thread first). On a current-thread runtime (some tests) it just runs `f`.
/// Runs `work` on a thread of its own, of lower CPU priority ([`SOLVE_NICE`]), and pulls
/// the [`matching::Stop`] it is handed as soon
/// as the request is dropped: the client cancelled, or its deadline passed (tonic drops
/// the handler at the `grpc-timeout`). So a long solve holds no thread once its caller has
/// gone; it ends within one step of its solve ([`matching::Stop`]).
pub async fn stoppable<T: Send + 'static>(
    work: impl FnOnce(&crate::matching::Stop) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    struct PullOnDrop(crate::matching::Stop);
    impl Drop for PullOnDrop {
        fn drop(&mut self) {
            self.0.stop();
        }
    }
    let stop = crate::matching::Stop::new();
    let _pull = PullOnDrop(stop.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("lcm-solve".into())
        .spawn(move || {
            yield_cpu_to_requests();
            let _ = tx.send(work(&stop));
        })
        .map_err(|e| AppError::Internal(format!("a solve's thread cannot start: {e}")))?;
    rx.await.map_err(|_| AppError::Internal("a solve's thread ended without an answer".into()))?
}

/// The nice value of a solve's thread: above request handling's 0, so that on a busy
/// machine the cores serve requests first and the solve takes what is left (a proposal
/// beside a stream of writes takes longer; the writes are not delayed by it).
const SOLVE_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority to [`SOLVE_NICE`] (Linux: `setpriority` on a
/// thread id applies to that thread alone). Not possible elsewhere, and harmless if refused.
fn yield_cpu_to_requests() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), SOLVE_NICE) {
        tracing::debug!(error = %e, "the solve's thread keeps its priority");
    }
}

pub fn off_the_reactor<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// API.md's update rules, shared by needs and offers: identity fields never change
/// (INVALID_ARGUMENT); while seats are held, `quantity_field` may not drop below them and
/// the other matching fields are frozen (FAILED_PRECONDITION). Each list names a field and
/// whether the update changes it.
pub fn check_update(
    identity: &[(&str, bool)],
    seats: &Seats,
    quantity_field: &str,
    new_quantity: u32,
    frozen: &[(&str, bool)],
) -> AppResult<()> {
    let mut v = Violations::default();
    for (field, changed) in identity {
        if *changed {
            v.add(*field, "never changes");
        }
    }
    v.finish(())?;
    if !seats.any() {
        return Ok(());
    }
    if new_quantity < seats.consumed() {
        return Err(AppError::precondition(
            Reason::BelowReserved,
            format!("{quantity_field} may not drop below the {} seats reserved or delivered", seats.consumed()),
        ));
    }
    let changed: Vec<&str> = frozen.iter().filter(|(_, ch)| *ch).map(|(f, _)| *f).collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(AppError::precondition(
            Reason::FrozenWhileReserved,
            format!("{} cannot change while seats are reserved or delivered", changed.join(", ")),
        ))
    }
}

/// Checks an etag if one was sent (empty means "whatever the current version is").
pub fn check_etag(sent: &str, meta: &Meta) -> AppResult<()> {
    let current = meta.etag();
    if sent.is_empty() || sent == current {
        Ok(())
    } else {
        Err(AppError::EtagMismatch { sent: sent.to_string(), current })
    }
}

pub fn parse_id(kind: Kind, text: &str) -> AppResult<Id> {
    Id::parse(kind, text).ok_or_else(|| AppError::NotFound(format!("{} {text:?}", kind.prefix())))
}

pub fn not_found(kind: Kind, id: Id) -> AppError {
    AppError::NotFound(id.render(kind))
}

/// Opaque page tokens: the last position, authenticated with HMAC-SHA256 over the
/// position and the query's scope (method, filters, caller), so a token is refused when
/// forged or replayed on another query.
pub struct Pager {
    pub size: usize,
    pub after: Option<u64>,
    scope: Vec<u8>,
}

type HmacSha256 = Hmac<Sha256>;

impl Pager {
    pub fn new(store: &Store, page_size: i32, token: &str, scope: &str, caller: &Caller) -> AppResult<Pager> {
        let mut v = Violations::default();
        if page_size < 0 {
            v.add("page_size", "must not be negative");
        }
        let size = match page_size {
            0 => limits::DEFAULT_PAGE_SIZE,
            n => n.clamp(1, limits::MAX_PAGE_SIZE),
        } as usize;
        let mut scope_bytes = scope.as_bytes().to_vec();
        scope_bytes.push(0);
        scope_bytes.extend_from_slice(caller.principal_id.as_bytes());
        let mut pager = Pager { size, after: None, scope: scope_bytes };
        if !token.is_empty() {
            match pager.decode(store, token) {
                Some(after) => pager.after = Some(after),
                None => v.add("page_token", "is not a page token of this query"),
            }
        }
        v.finish(pager)
    }

    fn mac(&self, store: &Store, position: u64) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(store.page_token_key()).ok()?;
        mac.update(&self.scope);
        mac.update(&position.to_be_bytes());
        Some(mac)
    }

    fn decode(&self, store: &Store, token: &str) -> Option<u64> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() != 8 + 32 {
            return None;
        }
        let position = u64::from_be_bytes(raw[..8].try_into().ok()?);
        self.mac(store, position)?.verify_slice(&raw[8..]).ok()?;
        Some(position)
    }

    pub fn token(&self, store: &Store, position: u64) -> String {
        let Some(mac) = self.mac(store, position) else { return String::new() };
        let mut raw = position.to_be_bytes().to_vec();
        raw.extend_from_slice(&mac.finalize().into_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn after_id(&self) -> Option<Id> {
        self.after.map(Id)
    }

    /// Takes one page of the items that pass `keep` from an ordered iterator; the token
    /// is empty when nothing that passes follows.
    pub fn page<T>(
        &self,
        store: &Store,
        items: impl Iterator<Item = crate::store::StoreResult<T>>,
        position: impl Fn(&T) -> u64,
        keep: impl Fn(&T) -> bool,
    ) -> AppResult<(Vec<T>, String)> {
        let mut out = Vec::with_capacity(self.size.min(64));
        for item in items {
            let item = item?;
            if !keep(&item) {
                continue;
            }
            if out.len() == self.size {
                let next = out.last().map(&position).map(|p| self.token(store, p)).unwrap_or_default();
                return Ok((out, next));
            }
            out.push(item);
        }
        Ok((out, String::new()))
    }
}
