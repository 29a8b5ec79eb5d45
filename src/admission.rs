//! Admission control: at most `max_in_flight` requests are worked on at once, server-wide.
//! One more is answered RESOURCE_EXHAUSTED at once (reason `OVERLOADED`) instead of
//! queueing without bound, so clients back off and latency stays bounded. Health and
//! reflection are always admitted. A WatchEvents call counts only until its stream is
//! open: following the log is bounded by the stream's own buffer.

use crate::error::AppError;
use crate::middleware::{Answer, Inner, Middleware, Wrapped};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Layer;

/// Paths admitted whatever the load.
const ALWAYS_ADMITTED: [&str; 3] = ["/grpc.health.v1.", "/grpc.reflection.v1.", "/grpc.reflection.v1alpha."];

#[derive(Clone)]
pub struct AdmissionLayer {
    permits: Arc<Semaphore>,
    max_in_flight: usize,
}

impl AdmissionLayer {
    pub fn new(max_in_flight: usize) -> AdmissionLayer {
        let max_in_flight = max_in_flight.max(1);
        AdmissionLayer { permits: Arc::new(Semaphore::new(max_in_flight)), max_in_flight }
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Wrapped<AdmissionLayer, S>;
    fn layer(&self, inner: S) -> Self::Service {
        Wrapped::new(self.clone(), inner)
    }
}

impl Middleware for AdmissionLayer {
    fn handle<S: Inner<B>, B: Send + 'static>(&self, mut inner: S, req: http::Request<B>) -> Answer<S::Error> {
        let path = req.uri().path();
        let permit: Option<OwnedSemaphorePermit> = if ALWAYS_ADMITTED.iter().any(|p| path.starts_with(p)) {
            None
        } else {
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tracing::warn!(method = %path, max_in_flight = self.max_in_flight, "overloaded: request refused");
                    let status = tonic::Status::from(AppError::Overloaded(format!(
                        "the server is working on {} requests; retry with backoff",
                        self.max_in_flight
                    )));
                    let mut refused = status.into_http();
                    refused.extensions_mut().insert(crate::telemetry::AdmissionRefused);
                    return Box::pin(async move { Ok(refused) });
                }
            }
        };
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            drop(permit);
            // tonic answers a request message over the decoding limit with OUT_OF_RANGE;
            // the contract says RESOURCE_EXHAUSTED for a message too large to read. No
            // handler of ours answers OUT_OF_RANGE, so every such answer is this one.
            if response.headers().get("grpc-status").is_some_and(|v| v == "11") {
                response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("8"));
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::HttpResponse;
    use std::convert::Infallible;
    use std::task::{Context, Poll};
    use tokio::sync::oneshot;
    use tower::Service;

    /// An inner service whose calls finish only when told to.
    #[derive(Clone)]
    struct Gate(Arc<std::sync::Mutex<Vec<oneshot::Sender<()>>>>);

    impl Service<http::Request<()>> for Gate {
        type Response = HttpResponse;
        type Error = Infallible;
        type Future = Answer<Infallible>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            let (tx, rx) = oneshot::channel();
            self.0.lock().unwrap().push(tx);
            Box::pin(async move {
                let _ = rx.await;
                Ok(http::Response::new(tonic::body::Body::empty()))
            })
        }
    }

    fn grpc_status(r: &http::Response<tonic::body::Body>) -> Option<String> {
        r.headers().get("grpc-status").map(|v| v.to_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn refuses_at_once_beyond_the_limit_and_admits_again_when_work_ends() {
        let gate = Gate(Arc::default());
        let mut svc = AdmissionLayer::new(2).layer(gate.clone());
        let req = |path: &str| http::Request::builder().uri(path).body(()).unwrap();
        let first = tokio::spawn(svc.call(req("/lcm.v1.NeedService/GetNeed")));
        let second = tokio::spawn(svc.call(req("/lcm.v1.NeedService/GetNeed")));
        tokio::task::yield_now().await;
        // Third: refused without waiting, RESOURCE_EXHAUSTED (8).
        let third =
            tokio::time::timeout(std::time::Duration::from_secs(1), svc.call(req("/lcm.v1.NeedService/GetNeed")))
                .await
                .expect("answered at once")
                .unwrap();
        assert_eq!(grpc_status(&third).as_deref(), Some("8"));
        assert!(third.extensions().get::<crate::telemetry::AdmissionRefused>().is_some(), "marked for the metrics");
        // Health is admitted anyway.
        let health = tokio::spawn(svc.call(req("/grpc.health.v1.Health/Check")));
        while gate.0.lock().unwrap().len() < 3 {
            tokio::task::yield_now().await;
        }
        for tx in gate.0.lock().unwrap().drain(..) {
            let _ = tx.send(());
        }
        for h in [first, second, health] {
            assert_eq!(grpc_status(&h.await.unwrap().unwrap()), None);
        }
        // Permits came back.
        let again = tokio::spawn(svc.call(req("/lcm.v1.NeedService/GetNeed")));
        while gate.0.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        for tx in gate.0.lock().unwrap().drain(..) {
            let _ = tx.send(());
        }
        assert_eq!(grpc_status(&again.await.unwrap().unwrap()), None);
    }
}
