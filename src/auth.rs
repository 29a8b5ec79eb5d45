//! Bearer-token authentication as a tower layer; it names the principal in the request's
//! span (see [`crate::telemetry::RequestLayer`]).
//! Callers of recently seen tokens are remembered until the next revocation.
//!
//! Tokens are 256-bit random values; only their SHA-256 hash is stored, looked up by hash
//! and compared in constant time. Health and reflection need no token. The layer puts the
//! [`Caller`] into the request's extensions; handlers take it from there.

use crate::domain::{Caller, Kind, Principal};
use crate::error::AppError;
use crate::middleware::{Answer, Inner, Middleware, Wrapped};
use crate::store::Store;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use tower::Layer;

/// Paths that need no token.
const OPEN_PREFIXES: [&str; 3] = ["/grpc.health.v1.", "/grpc.reflection.v1.", "/grpc.reflection.v1alpha."];

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh token (43 URL-safe base64 characters for 32 random bytes) and its hash.
pub fn new_token() -> (String, [u8; 32]) {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// Resolves bearer tokens to callers and tells open streams when a principal is revoked.
pub struct Authenticator {
    store: Store,
    revocations: watch::Sender<u64>,
    /// Callers of tokens seen since the last revocation, by token hash.
    known: RwLock<Known>,
}

#[derive(Default)]
struct Known {
    /// Bumped by every revocation: a lookup that started before one may not fill the cache.
    generation: u64,
    callers: HashMap<[u8; 32], Caller>,
}

/// Tokens remembered at most (the cache is cleared when full).
const KNOWN_TOKENS: usize = 4096;

impl Authenticator {
    pub fn new(store: Store) -> Arc<Authenticator> {
        Arc::new(Authenticator { store, revocations: watch::channel(0).0, known: RwLock::default() })
    }

    /// The caller behind an `authorization` header value.
    pub fn authenticate(&self, header: Option<&http::HeaderValue>) -> Result<Caller, AppError> {
        let header = header.ok_or_else(|| AppError::Unauthenticated("missing authorization metadata".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| AppError::Unauthenticated("authorization must be `Bearer <token>`".into()))?;
        let hash = hash_token(token);
        let generation = {
            let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(caller) = known.callers.get(&hash) {
                return Ok(caller.clone());
            }
            known.generation
        };
        let principal = self
            .store
            .principal_by_token_hash(&hash)?
            .filter(|p| bool::from(p.token_hash.ct_eq(&hash)))
            .ok_or_else(|| AppError::Unauthenticated("unknown token".into()))?;
        if principal.revoked {
            return Err(AppError::Unauthenticated("revoked token".into()));
        }
        let caller = caller_of(&principal);
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.generation == generation {
            if known.callers.len() >= KNOWN_TOKENS {
                known.callers.clear();
            }
            known.callers.insert(hash, caller.clone());
        }
        Ok(caller)
    }

    /// Whether the principal still exists and is not revoked.
    pub fn still_valid(&self, caller: &Caller) -> bool {
        crate::domain::Id::parse(Kind::Principal, &caller.principal_id)
            .and_then(|id| self.store.get::<Principal>(id).ok().flatten())
            .is_some_and(|p| !p.revoked)
    }

    /// Called once a revocation is committed: forgets every remembered token (no lookup
    /// begun before this call can remember one again), then ends the open streams.
    pub fn revoked(&self) {
        {
            let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
            known.generation += 1;
            known.callers.clear();
        }
        self.revocations.send_modify(|n| *n += 1);
    }

    pub fn revocations(&self) -> watch::Receiver<u64> {
        self.revocations.subscribe()
    }
}

pub fn caller_of(p: &Principal) -> Caller {
    Caller { principal_id: p.meta.id.render(Kind::Principal), role: p.role }
}

/// Authenticates every request but health and reflection, and traces each one.
#[derive(Clone)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    pub fn new(auth: Arc<Authenticator>) -> Self {
        AuthLayer { auth }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Wrapped<AuthLayer, S>;
    fn layer(&self, inner: S) -> Self::Service {
        Wrapped::new(self.clone(), inner)
    }
}

impl Middleware for AuthLayer {
    fn handle<S: Inner<B>, B: Send + 'static>(&self, mut inner: S, mut req: http::Request<B>) -> Answer<S::Error> {
        let started = Instant::now();
        let open = OPEN_PREFIXES.iter().any(|p| req.uri().path().starts_with(p));
        let caller = if open { Ok(None) } else { self.auth.authenticate(req.headers().get("authorization")).map(Some) };
        if let Ok(Some(c)) = &caller {
            // The request's span is the request layer's (crate::telemetry).
            tracing::Span::current().record("principal", c.principal_id.as_str());
        }
        crate::telemetry::record_phase(crate::telemetry::Phase::Auth, started.elapsed());
        Box::pin(async move {
            match caller {
                Ok(c) => {
                    if let Some(c) = c {
                        req.extensions_mut().insert(c);
                    }
                    inner.call(req).await
                }
                Err(e) => Ok(tonic::Status::from(e).into_http()),
            }
        })
    }
}
