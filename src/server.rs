//! Wiring: opens the store, bootstraps the first Secretariat principal, builds the tonic
//! router (auth layer, services, health, reflection) and serves on a pre-bound listener
//! until shutdown, then flushes the store.

use crate::admission::AdmissionLayer;
use crate::api;
use crate::auth::{AuthLayer, Authenticator};
use crate::coalesce::Coalescing;
use crate::config::ServeArgs;
use crate::domain::{Principal, Role};
use crate::service::{Services, admin};
use crate::store::{Durability, LandingFaults, Store, StoreConfig, WriteSet};
use crate::telemetry::RequestLayer;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;

/// Largest request message the server reads (bigger ones are RESOURCE_EXHAUSTED).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// How long a stopping server waits for in-flight requests and open connections.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("{0}")]
    Config(String),
}

/// The store and the bootstrap token, ready to serve.
pub struct Opened {
    pub ctx: Services,
    /// Set when this start created the first Secretariat principal.
    pub bootstrap_token: Option<String>,
    pub admin_token_path: PathBuf,
}

/// Where the store lives inside a data directory.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// The transport `args` ask for: `Some` TLS configuration, or `None` for plaintext.
///
/// Checked before anything is opened. Refuses a certificate without its key (or the other
/// way round), unreadable PEM files, and plaintext on an address that is not loopback
/// unless `--allow-insecure` is given: bearer tokens must not cross a network in clear.
pub fn transport(args: &ServeArgs) -> Result<Option<tonic::transport::ServerTlsConfig>, ServeError> {
    let read = |path: &Path| std::fs::read(path).map_err(|source| ServeError::Io { path: path.to_path_buf(), source });
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let identity = tonic::transport::Identity::from_pem(read(cert)?, read(key)?);
            Ok(Some(tonic::transport::ServerTlsConfig::new().identity(identity)))
        }
        (Some(_), None) => Err(ServeError::Config(
            "--tls-cert (LCM_TLS_CERT) is given without --tls-key (LCM_TLS_KEY): give both or neither".into(),
        )),
        (None, Some(_)) => Err(ServeError::Config(
            "--tls-key (LCM_TLS_KEY) is given without --tls-cert (LCM_TLS_CERT): give both or neither".into(),
        )),
        (None, None)
            if let Some(console) = args.console_listen.0
                && !console.ip().is_loopback()
                && !args.allow_insecure =>
        {
            Err(ServeError::Config(format!(
                "refusing to serve the console on {console} without TLS: session cookies would cross the network \
                 in clear. Give --tls-cert and --tls-key, use a loopback --console-listen, pass --console-listen off, \
                 or, only behind a TLS-terminating proxy, pass --allow-insecure"
            )))
        }
        (None, None) if args.listen.ip().is_loopback() || args.allow_insecure => Ok(None),
        (None, None) => Err(ServeError::Config(format!(
            "refusing to listen on {} without TLS: bearer tokens would cross the network in clear. \
             Give --tls-cert FILE and --tls-key FILE (LCM_TLS_CERT, LCM_TLS_KEY), listen on a loopback \
             address, or, only behind a TLS-terminating proxy, pass --allow-insecure",
            args.listen
        ))),
    }
}

pub fn open(args: &ServeArgs) -> Result<Opened, ServeError> {
    let created = !args.data_dir.exists();
    std::fs::create_dir_all(&args.data_dir).map_err(|source| ServeError::Io { path: args.data_dir.clone(), source })?;
    let config = StoreConfig {
        cache_bytes: args.cache_mb.saturating_mul(1 << 20),
        durability: match (args.unsafe_no_flush, args.no_group_commit) {
            (true, _) => Durability::UnsafeNoFlush,
            (false, true) => Durability::FlushEachWrite,
            (false, false) => Durability::FlushBeforeAck,
        },
        faults: LandingFaults {
            abort_mid_landing: args.test_abort_mid_landing,
            fail_landing: args.test_fail_landing,
            abort_at: args.test_abort_at_landing_point,
        },
        fail_sync: args.test_fail_sync,
        sync_delay: args.test_sync_delay_ms.map(std::time::Duration::from_millis),
        request_id_retention: args
            .test_request_id_retention_ms
            .map_or(args.request_id_retention, std::time::Duration::from_millis),
    };
    let store = Store::open(&store_path(&args.data_dir), &config)?;
    let auth = Authenticator::new(store.clone());
    let admin_token_path = args.data_dir.join("admin.token");
    let bootstrap_token = bootstrap(&store, &admin_token_path)?;
    // The data directory's entries (`store/`, `admin.token`), and the data directory in
    // its parent if it is new, survive a power cut from here on.
    sync_dir(&args.data_dir)?;
    if created && let Some(parent) = args.data_dir.parent() {
        sync_dir(if parent.as_os_str().is_empty() { Path::new(".") } else { parent })?;
    }
    let ctx = Services {
        max_in_flight: args.max_in_flight as usize,
        request_log: args.request_log(),
        risk_horizons: args.risk_horizon_days,
        reveal_delay: args.test_reveal_delay_ms.map(std::time::Duration::from_millis),
        ..Services::new(store, auth)
    }
    .with_gender_targets(args.gender_targets());
    Ok(Opened { ctx, bootstrap_token, admin_token_path })
}

/// On an empty store, creates the first Secretariat principal and writes its token to
/// `<data-dir>/admin.token` (mode 0600). Logs the path, never the token.
fn bootstrap(store: &Store, token_path: &Path) -> Result<Option<String>, ServeError> {
    if store.scan::<Principal>(None).next().is_some() {
        return Ok(None);
    }
    let mut w = store.writer()?;
    let mut ws = WriteSet::default();
    let now = crate::clock::now_micros();
    let (principal, token) =
        admin::create_principal(&mut w, &mut ws, now, "system", Role::Secretariat, "Secretariat (bootstrap)");
    write_secret(token_path, &token)?;
    let _ticket = w.commit(ws)?;
    store.flush()?;
    tracing::info!(principal_id = %crate::auth::caller_of(&principal).principal_id, path = %token_path.display(), "created the first Secretariat principal; its token is in the file");
    Ok(Some(token))
}

/// fsyncs the directory `path`, so that its entries survive a power cut.
fn sync_dir(path: &Path) -> Result<(), ServeError> {
    std::fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|source| ServeError::Io { path: path.to_path_buf(), source })
}

fn write_secret(path: &Path, secret: &str) -> Result<(), ServeError> {
    use std::io::Write;
    let io = |source| ServeError::Io { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io)?;
    f.write_all(secret.as_bytes()).map_err(io)?;
    f.write_all(b"\n").map_err(io)?;
    f.sync_all().map_err(io)
}

/// Serves `ctx` on `listener` until `shutdown` resolves; in-flight requests finish, then
/// the store is flushed.
pub async fn serve(
    ctx: Services,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    serve_tls(ctx, listener, None, shutdown).await
}

/// [`serve`], over TLS when `tls` is given (see [`transport`]).
pub async fn serve_tls(
    ctx: Services,
    listener: TcpListener,
    tls: Option<tonic::transport::ServerTlsConfig>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    serve_with_console(ctx, listener, tls, None, shutdown).await
}

/// The web console's listener and settings, for [`serve_with_console`].
pub struct ConsoleSetup {
    pub listener: crate::console::listener::ConsoleListener,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Idle time after which a session ends (`--console-session-hours`).
    pub session_idle: std::time::Duration,
    /// Cookies carry `Secure` (set when the server runs with TLS).
    pub secure: bool,
}

impl ConsoleSetup {
    /// The console `args` ask for, bound (`None` for `--console-listen off`).
    pub async fn bind(args: &ServeArgs, tls: bool) -> Result<Option<ConsoleSetup>, ServeError> {
        let Some(addr) = args.console_listen.0 else { return Ok(None) };
        let acceptor = match (tls, &args.tls_cert, &args.tls_key) {
            (true, Some(cert), Some(key)) => {
                let read = |path: &Path| {
                    std::fs::read(path).map_err(|source| ServeError::Io { path: path.to_path_buf(), source })
                };
                Some(crate::console::listener::tls_acceptor(&read(cert)?, &read(key)?).map_err(ServeError::Config)?)
            }
            _ => None,
        };
        let tcp = bind(addr).await?;
        let addr =
            tcp.local_addr().map_err(|source| ServeError::Io { path: PathBuf::from(addr.to_string()), source })?;
        let listener = crate::console::listener::ConsoleListener::new(tcp, acceptor)
            .map_err(|source| ServeError::Io { path: PathBuf::from(addr.to_string()), source })?;
        Ok(Some(ConsoleSetup {
            listener,
            addr,
            session_idle: std::time::Duration::from_secs(args.console_session_hours.saturating_mul(3600)),
            secure: tls,
        }))
    }
}

/// [`serve_tls`], and the web console on its own listener when `console` is given. The
/// console calls the same `Services` in-process and stops with the server.
pub async fn serve_with_console(
    ctx: Services,
    listener: TcpListener,
    tls: Option<tonic::transport::ServerTlsConfig>,
    console: Option<ConsoleSetup>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let health_reporter = tonic_health::server::HealthReporter::new();
    let health_service = tonic_health::pb::health_server::HealthServer::new(
        tonic_health::server::HealthService::from_health_reporter(health_reporter.clone()),
    );
    health_reporter.set_serving::<api::need_service_server::NeedServiceServer<Services>>().await;
    health_reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
    // Fail-stop: once the store has failed, health says NOT_SERVING until a restart.
    let mut failure = ctx.store.failure();
    let reporter = health_reporter.clone();
    let health_watch = tokio::spawn(async move {
        if failure.wait_for(Option::is_some).await.is_ok() {
            let health_reporter = reporter;
            health_reporter.set_not_serving::<api::need_service_server::NeedServiceServer<Services>>().await;
            health_reporter.set_service_status("", tonic_health::ServingStatus::NotServing).await;
        }
    });
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(api::GOOGLE_RPC_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(api::GOOGLE_RPC_DESCRIPTOR_SET)
        .build_v1alpha()?;
    macro_rules! svc {
        ($server:path) => {
            <$server>::new(ctx.clone()).max_decoding_message_size(MAX_REQUEST_BYTES)
        };
    }
    let console_task = console.map(|setup| {
        let state = crate::console::Console::new(
            ctx.clone(),
            setup.session_idle,
            setup.secure,
            tonic_health::server::HealthService::from_health_reporter(health_reporter.clone()),
        );
        let mut stopped = ctx.shutdown.subscribe();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.wait_for(|stopping| *stopping).await;
            };
            if let Err(e) = crate::console::serve(state, setup.listener, stop).await {
                tracing::error!(error = %e, "the web console stopped");
            }
        })
    });
    let at_risk = crate::service::reports::at_risk::spawn(&ctx);
    let store = ctx.store.clone();
    let stopping = ctx.shutdown.clone();
    let mut stopped = ctx.shutdown.subscribe();
    let shutdown = async move {
        shutdown.await;
        // Streams (WatchEvents) end now, so the server does not wait on them.
        stopping.send_replace(true);
    };
    // A client that never reads the GOAWAY keeps its connection open; after the grace
    // period the server stops waiting for it.
    let grace_over = async move {
        let _ = stopped.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    let serving = builder
        .layer(RequestLayer::new(ctx.metrics.clone(), ctx.request_log))
        .layer(AdmissionLayer::new(ctx.max_in_flight))
        .layer(AuthLayer::new(ctx.auth.clone()))
        .layer(crate::settle::SettleLayer::new(store.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(svc!(api::need_service_server::NeedServiceServer<Services>))
        .add_service(svc!(api::offer_service_server::OfferServiceServer<Services>))
        .add_service(svc!(api::training_centre_service_server::TrainingCentreServiceServer<Services>))
        .add_service(svc!(api::matching_service_server::MatchingServiceServer<Services>))
        .add_service(svc!(api::arrangement_service_server::ArrangementServiceServer<Services>))
        .add_service(svc!(api::report_service_server::ReportServiceServer<Services>))
        .add_service(svc!(api::event_service_server::EventServiceServer<Services>))
        .add_service(svc!(api::admin_service_server::AdminServiceServer<Services>))
        .serve_with_incoming_shutdown(accepted(listener), shutdown);
    tokio::select! {
        served = serving => served?,
        () = grace_over => tracing::warn!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            "connections still open after the shutdown grace period; closing them"
        ),
    }
    if let Some(task) = console_task {
        task.abort();
    }
    health_watch.abort();
    // Ends once it sees the shutdown; awaited so it no longer holds the store.
    let _ = at_risk.await;
    store.flush()?;
    tracing::info!("server stopped; store flushed");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// The accepted connections of `listener`, with Nagle's algorithm off: a small response
/// (a unary answer, an event) goes out at once instead of waiting up to the peer's delayed
/// ACK (~40 ms); tonic sets this only on listeners it binds itself. Answers that finish
/// together are gathered into one write instead ([`Coalescing`]).
fn accepted(listener: TcpListener) -> impl tokio_stream::Stream<Item = std::io::Result<Coalescing<TcpStream>>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        let conn = conn?;
        if let Err(e) = conn.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot turn Nagle's algorithm off");
        }
        Ok(Coalescing::new(conn))
    })
}

/// Binds `--metrics-listen` if given (plain HTTP: loopback only unless
/// `--allow-insecure`) and serves `/metrics` there until the server shuts down.
pub async fn start_metrics(
    args: &ServeArgs,
    ctx: &Services,
) -> Result<Option<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)>, ServeError> {
    let Some(addr) = args.metrics_listen else { return Ok(None) };
    if !addr.ip().is_loopback() && !args.allow_insecure {
        return Err(ServeError::Config(format!(
            "refusing to serve metrics on {addr} in plain HTTP: use a loopback address or pass --allow-insecure"
        )));
    }
    let listener = bind(addr).await?;
    let bound =
        listener.local_addr().map_err(|source| ServeError::Io { path: PathBuf::from(addr.to_string()), source })?;
    Ok(Some((bound, tokio::spawn(crate::metrics_http::serve(ctx.clone(), listener)))))
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| ServeError::Io { path: PathBuf::from(addr.to_string()), source })
}
