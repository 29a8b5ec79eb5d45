//! The `/metrics` HTTP route: [`crate::metrics::Metrics`]' exposition, with the
//! mechanism's figures read from the service's store.

use crate::service::Services;
use std::net::SocketAddr;

/// The `/metrics` route, for the console's listener or a listener of its own.
pub fn router(ctx: Services) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let ctx = ctx.clone();
            async move {
                let body = tokio::task::spawn_blocking(move || {
                    ctx.metrics.render(&ctx.store, || {
                        crate::service::reports::mechanism_figures(&ctx.store, &ctx.risk_horizons)
                    })
                })
                .await
                .unwrap_or_default();
                ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
            }
        }),
    )
}

/// Serves [`router`] on `listener` until the server starts shutting down.
pub async fn serve(ctx: Services, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let mut stopping = ctx.shutdown.subscribe();
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(addr = ?addr, "serving metrics at /metrics");
    axum::serve(listener, router(ctx))
        .with_graceful_shutdown(async move {
            let _ = stopping.wait_for(|s| *s).await;
        })
        .await
}
