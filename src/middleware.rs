//! The one shape of lcm's request layers (telemetry, admission, authentication, settling): each is a
//! [`Middleware`], which gets a request and the inner service, ready to be called, and
//! answers; [`Wrapped`] is the tower `Service` of every one of them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::Service;

/// What every gRPC service and layer answers.
pub type HttpResponse = http::Response<tonic::body::Body>;

/// A layer's answer: the inner service's, or its own.
pub type Answer<E> = Pin<Box<dyn Future<Output = Result<HttpResponse, E>> + Send>>;

/// The inner service a layer calls, for requests with bodies of type `B`.
pub trait Inner<B>:
    Service<http::Request<B>, Response = HttpResponse, Future: Send + 'static> + Send + 'static
{
}

impl<S, B> Inner<B> for S where
    S: Service<http::Request<B>, Response = HttpResponse, Future: Send + 'static> + Send + 'static
{
}

/// A request layer's work.
pub trait Middleware: Clone + Send + 'static {
    /// Answers `req`: by calling `inner` (made ready) or, refusing it, without.
    fn handle<S: Inner<B>, B: Send + 'static>(&self, inner: S, req: http::Request<B>) -> Answer<S::Error>;
}

/// The service `M`'s layer makes of the inner service `S`.
#[derive(Clone)]
pub struct Wrapped<M, S> {
    middleware: M,
    inner: S,
}

impl<M, S> Wrapped<M, S> {
    pub fn new(middleware: M, inner: S) -> Self {
        Wrapped { middleware, inner }
    }
}

impl<M, S, B> Service<http::Request<B>> for Wrapped<M, S>
where
    M: Middleware,
    S: Service<http::Request<B>, Response = HttpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = Answer<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // Take the service that was made ready and leave a fresh clone in its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.middleware.handle(inner, req)
    }
}
