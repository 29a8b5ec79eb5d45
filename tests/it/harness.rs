//! A real server on loopback with a fresh store, and helpers to call it.

use lcm::api;
use lcm::config::ServeArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

pub struct TestServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when the server was started with `metrics_listen`.
    pub metrics_addr: Option<SocketAddr>,
    pub admin: String,
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_in(tempfile::tempdir().unwrap()).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> TestServer {
        Self::start_in_with(dir, |_| {}).await
    }

    /// A server on a fresh store whose `ServeArgs` `configure` adjusts first.
    pub async fn start_with(configure: impl FnOnce(&mut ServeArgs)) -> TestServer {
        Self::start_in_with(tempfile::tempdir().unwrap(), configure).await
    }

    pub async fn start_in_with(dir: tempfile::TempDir, configure: impl FnOnce(&mut ServeArgs)) -> TestServer {
        Self::start_full(dir, configure).await.0
    }

    /// A server on a fresh store, and a handle on that store (the same one the server
    /// writes), for checks such as `Store::content_digest`. Do not `restart` a server
    /// started this way while the handle lives: the store stays open (and locked).
    pub async fn start_with_store() -> (TestServer, lcm::store::Store) {
        Self::start_full(tempfile::tempdir().unwrap(), |_| {}).await
    }

    /// [`TestServer::start_with_store`] with `ServeArgs` that `configure` adjusts first.
    pub async fn start_with_store_and(configure: impl FnOnce(&mut ServeArgs)) -> (TestServer, lcm::store::Store) {
        Self::start_full(tempfile::tempdir().unwrap(), configure).await
    }

    async fn start_full(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> (TestServer, lcm::store::Store) {
        Self::start_adjusted(dir, configure, |ctx| ctx).await
    }

    /// A server on `dir` whose `Services` `adjust` changes before it serves (e.g. the clock of
    /// the NEED_AT_RISK task), with a handle on its store.
    pub async fn start_adjusted(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut ServeArgs),
        adjust: impl FnOnce(lcm::service::Services) -> lcm::service::Services,
    ) -> (TestServer, lcm::store::Store) {
        let mut args = ServeArgs::for_data_dir(dir.path().to_path_buf());
        configure(&mut args);
        // Checked as `lcm serve` checks them (TLS files, loopback without TLS).
        let tls = lcm::server::transport(&args).unwrap();
        let opened = lcm::server::open(&args).unwrap();
        let store = opened.ctx.store.clone();
        let admin = std::fs::read_to_string(&opened.admin_token_path).unwrap().trim().to_string();
        let listener = lcm::server::bind(args.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics_addr = lcm::server::start_metrics(&args, &opened.ctx).await.unwrap().map(|(a, _)| a);
        let (tx, rx) = oneshot::channel::<()>();
        let ctx = adjust(opened.ctx);
        let handle = tokio::spawn(async move {
            lcm::server::serve_tls(ctx, listener, tls, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        (TestServer { addr, metrics_addr, admin, dir, shutdown: Some(tx), handle: Some(handle) }, store)
    }

    /// Stops the server gracefully and starts a new one on the same store.
    pub async fn restart(mut self) -> TestServer {
        self.stop().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        TestServer::start_in(dir).await
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr)).unwrap().connect().await.unwrap()
    }

    pub async fn needs(&self) -> api::need_service_client::NeedServiceClient<Channel> {
        api::need_service_client::NeedServiceClient::new(self.channel().await)
    }
    pub async fn offers(&self) -> api::offer_service_client::OfferServiceClient<Channel> {
        api::offer_service_client::OfferServiceClient::new(self.channel().await)
    }
    pub async fn centres(&self) -> api::training_centre_service_client::TrainingCentreServiceClient<Channel> {
        api::training_centre_service_client::TrainingCentreServiceClient::new(self.channel().await)
    }
    pub async fn admin_client(&self) -> api::admin_service_client::AdminServiceClient<Channel> {
        api::admin_service_client::AdminServiceClient::new(self.channel().await)
    }
    pub async fn matching(&self) -> api::matching_service_client::MatchingServiceClient<Channel> {
        api::matching_service_client::MatchingServiceClient::new(self.channel().await)
    }
    pub async fn arrangements(&self) -> api::arrangement_service_client::ArrangementServiceClient<Channel> {
        api::arrangement_service_client::ArrangementServiceClient::new(self.channel().await)
    }

    /// Loads the demo scenario through the API, as the Secretariat.
    pub async fn import_demo(&self) -> lcm::cli::ImportReport {
        let scenario = lcm::scenario::Scenario::from_json(include_str!("../../fixtures/tpp-demo.json")).unwrap();
        let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        lcm::cli::import_scenario(self.channel().await, &self.admin, &scenario, t0).await.unwrap()
    }

    pub async fn events(&self) -> api::event_service_client::EventServiceClient<Channel> {
        api::event_service_client::EventServiceClient::new(self.channel().await)
    }

    /// Creates a principal and returns its token.
    pub async fn principal(&self, kind: api::PrincipalKind, member_state: &str, centre: &str) -> String {
        let r = self
            .admin_client()
            .await
            .create_principal(authed(
                &self.admin,
                api::CreatePrincipalRequest {
                    kind: kind as i32,
                    member_state: member_state.into(),
                    training_centre_id: centre.into(),
                    display_name: format!("{member_state}{centre} test"),
                    request_id: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        r.token
    }

    pub async fn state(&self, code: &str) -> String {
        self.principal(api::PrincipalKind::MemberState, code, "").await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn authed<T>(token: &str, msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// `days` from the moment the test process first asked: one anchor for the whole run,
/// so a request built twice (a retry with the same request id) is the same request even
/// when a second boundary passes between the two builds.
pub fn ts_days(days: i64) -> prost_types::Timestamp {
    static ANCHOR: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let now = *ANCHOR
        .get_or_init(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64);
    prost_types::Timestamp { seconds: now + days * 86_400, nanos: 0 }
}

pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn need(requester: &str) -> api::Need {
    api::Need {
        requester: requester.into(),
        category: api::SupportCategory::Training as i32,
        capability: api::CapabilityArea::Engineering as i32,
        title: "HEE operators".into(),
        description: "Operators for an engineering company".into(),
        quantity: 20,
        women_quantity: 4,
        languages: vec!["en".into()],
        needed_by: Some(ts_days(120)),
        priority: api::Priority::High as i32,
        pledge_level: api::ReadinessLevel::Level2 as i32,
        ..Default::default()
    }
}

pub fn delivery_offer(provider: &str) -> api::Offer {
    api::Offer {
        providers: vec![provider.into()],
        role: api::OfferRole::Delivery as i32,
        category: api::SupportCategory::Training as i32,
        capability: api::CapabilityArea::Engineering as i32,
        title: "HEE course".into(),
        description: String::new(),
        capacity: 24,
        available_from: Some(ts_days(10)),
        available_until: Some(ts_days(200)),
        languages: vec!["en".into()],
        mode: api::DeliveryMode::MobileTrainingTeam as i32,
        duration_days: 28,
        ..Default::default()
    }
}

/// The field paths of a status's BadRequest details.
pub fn violations(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

pub fn reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status.get_details_error_info().map(|i| i.reason).unwrap_or_default()
}

#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
        Err(s) => {
            assert_eq!(s.code(), code, "unexpected status: {s:?}");
            s
        }
    }
}

/// `program` (the `lcm` binary, or a wrapper that execs it with its arguments) set up as
/// `lcm serve` on `data_dir` with `flags`: loopback on a port of the system's choice,
/// the console off, JSON log lines on a piped stderr (its `serving` line names the
/// address), a small cache, and an environment cleared so that no `LCM_*` variable of the
/// caller changes the setup.
pub fn lcm_serve(
    mut program: std::process::Command,
    data_dir: &std::path::Path,
    flags: &[&str],
) -> std::process::Command {
    use std::process::Stdio;
    program
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--console-listen",
            "off",
            "--log-format",
            "json",
            "--cache-mb",
            "32",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(flags)
        .env_clear()
        .env("LCM_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    program
}
