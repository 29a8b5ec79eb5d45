//! Reads answered only once what they show is durable ([`SettleLayer`]).

use crate::middleware::{Answer, Inner, Middleware, Wrapped};
use crate::store::Store;

/// Nothing shown before it is safe: a read (`Get*`, `List*`, `Explain*`) is answered only
/// once every change it may have read is durable ([`Store::settled`]): reads see commits
/// as soon as they are made (the overlay), and without this a client could read a
/// resource that a crash then takes back, and whose id goes to another resource after the
/// restart. When nothing is pending it costs one atomic load; under writes a read waits at
/// most for the group sync in progress. If the store fails meanwhile, the read is
/// refused (UNAVAILABLE, `STORE_FAILED`) instead.
#[derive(Clone)]
pub struct SettleLayer(Store);

impl SettleLayer {
    pub fn new(store: Store) -> SettleLayer {
        SettleLayer(store)
    }
}

impl<S> tower::Layer<S> for SettleLayer {
    type Service = Wrapped<SettleLayer, S>;
    fn layer(&self, inner: S) -> Self::Service {
        Wrapped::new(self.clone(), inner)
    }
}

/// Whether `path` (`/package.Service/Method`) names a method that only reads.
fn reads_only(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    path.starts_with("/lcm.") && ["Get", "List", "Explain"].iter().any(|p| method.starts_with(p))
}

impl Middleware for SettleLayer {
    fn handle<S: Inner<B>, B: Send + 'static>(&self, mut inner: S, req: http::Request<B>) -> Answer<S::Error> {
        let read = reads_only(req.uri().path());
        let store = self.0.clone();
        Box::pin(async move {
            let response = inner.call(req).await?;
            if read && let Err(e) = store.settled().await {
                return Ok(tonic::Status::from(e).into_http());
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_are_told_from_writes_by_their_method() {
        for read in
            ["/lcm.v1.NeedService/GetNeed", "/lcm.v1.NeedService/ListNeeds", "/lcm.v1.MatchingService/ExplainNeed"]
        {
            assert!(super::reads_only(read), "{read}");
        }
        for other in
            ["/lcm.v1.NeedService/CreateNeed", "/grpc.health.v1.Health/Check", "/lcm.v1.AdminService/ListX/Create"]
        {
            assert!(!super::reads_only(other), "{other}");
        }
    }
}
