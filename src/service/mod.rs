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
mod filed;
pub mod match_view;
pub mod matching;
pub mod needs;
pub mod offers;
mod propose;
mod remembered;
pub mod reports;
mod stored_proposal;
pub mod workflow;
mod write_call;

pub use write_call::{WriteCall, off_the_reactor, stoppable};

use crate::auth::Authenticator;
use crate::convert::{Violations, limits};
use crate::domain::*;
use crate::error::{AppError, AppResult, Reason};
use crate::store::{Store, WriteSet, Writer};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
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
    /// TEST ONLY (`--test-reveal-delay-ms`): how long a stored proposal waits between
    /// staging its matches and revealing them. `None` in production.
    pub reveal_delay: Option<std::time::Duration>,
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
            reveal_delay: None,
        }
    }

    pub fn with_gender_targets(self, targets: crate::reports::GenderTargets) -> Services {
        Services { gender_targets: Arc::new(targets), ..self }
    }
}

pub(crate) use crate::clock::now_micros;

/// The authenticated caller that the auth layer put into the request.
pub fn caller<T>(req: &tonic::Request<T>) -> AppResult<Caller> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| AppError::Unauthenticated("missing authorization metadata".into()))
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
