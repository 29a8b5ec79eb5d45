//! Transport security: a TLS server with a certificate made at test time, clients that
//! trust its CA (tonic, the CLI library, the `lcm` binary), clients that do not, and the
//! refusal to serve plaintext on a non-loopback address.

use crate::harness::*;
use lcm::api;
use lcm::config::ServeArgs;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// A CA and a server certificate it signed for `localhost` and 127.0.0.1, as PEM files.
pub(crate) struct Pki {
    _dir: tempfile::TempDir,
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

pub(crate) fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "lcm test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let pki = Pki {
        ca: dir.path().join("ca.pem"),
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        _dir: dir,
    };
    std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

async fn tls_server(pki: &Pki) -> TestServer {
    let (cert, key) = (pki.cert.clone(), pki.key.clone());
    TestServer::start_with(move |a| {
        a.tls_cert = Some(cert);
        a.tls_key = Some(key);
    })
    .await
}

async fn tls_channel(addr: std::net::SocketAddr, ca: &std::path::Path) -> Result<Channel, tonic::transport::Error> {
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(std::fs::read(ca).unwrap()));
    Channel::from_shared(format!("https://{addr}")).unwrap().tls_config(tls)?.connect().await
}

async fn health(channel: Channel) -> Result<i32, tonic::Status> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    Ok(client.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await?.into_inner().status)
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_is_served_over_tls() {
    let pki = pki();
    let s = tls_server(&pki).await;
    let channel = tls_channel(s.addr, &pki.ca).await.unwrap();
    assert_eq!(
        health(channel.clone()).await.unwrap(),
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let mut needs = api::need_service_client::NeedServiceClient::new(channel.clone());
    let created = needs
        .create_need(authed(&s.admin, api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() }))
        .await
        .unwrap()
        .into_inner();
    let got =
        needs.get_need(authed(&s.admin, api::GetNeedRequest { id: created.id.clone() })).await.unwrap().into_inner();
    assert_eq!(got, created);
    // Authentication still applies over TLS.
    let status =
        assert_code(needs.get_need(api::GetNeedRequest { id: created.id }).await, tonic::Code::Unauthenticated);
    assert!(!status.message().is_empty());
}

#[tokio::test]
async fn plaintext_and_untrusting_clients_are_refused() {
    let pki = pki();
    let s = tls_server(&pki).await;
    // Plaintext HTTP/2 to a TLS port: either the connection or the call fails.
    let plain = match Channel::from_shared(format!("http://{}", s.addr)).unwrap().connect().await {
        Ok(channel) => health(channel).await.is_ok(),
        Err(_) => false,
    };
    assert!(!plain, "a plaintext client must not be served");
    // A TLS client that trusts another CA refuses the server's certificate.
    let other = pki_other();
    let trusted = match tls_channel(s.addr, &other.ca).await {
        Ok(channel) => health(channel).await.is_ok(),
        Err(_) => false,
    };
    assert!(!trusted, "a client that does not trust the server's CA must not connect");
    // The server is fine afterwards.
    let channel = tls_channel(s.addr, &pki.ca).await.unwrap();
    assert!(health(channel).await.is_ok());
}

fn pki_other() -> Pki {
    pki()
}

#[tokio::test]
async fn the_cli_library_connects_over_tls_with_its_ca() {
    let pki = pki();
    let s = tls_server(&pki).await;
    // No scheme: a CA switches the client to https.
    let args = lcm::cli::ClientArgs {
        addr: s.addr.to_string(),
        ca_cert: Some(pki.ca.clone()),
        token: Some(s.admin.clone()),
        ..Default::default()
    };
    assert!(args.uri().starts_with("https://"));
    let clients = lcm::cli::Clients::new(lcm::cli::connect(&args).await.unwrap(), &s.admin).unwrap();
    let principals =
        clients.admin().list_principals(api::ListPrincipalsRequest::default()).await.unwrap().into_inner().principals;
    assert_eq!(principals.len(), 1);
    // Without the CA the same address is tried in plaintext and fails.
    let plain = lcm::cli::ClientArgs { ca_cert: None, ..args };
    let refused = match lcm::cli::connect(&plain).await {
        Ok(channel) => lcm::cli::Clients::new(channel, &s.admin)
            .unwrap()
            .admin()
            .list_principals(api::ListPrincipalsRequest::default())
            .await
            .is_err(),
        Err(_) => true,
    };
    assert!(refused);
}

/// Runs the `lcm` binary off the runtime, so the in-process server keeps serving.
async fn lcm_binary(args: Vec<String>, env: Vec<(&'static str, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lcm"));
        for var in
            ["LCM_ADDR", "LCM_TOKEN", "LCM_TOKEN_FILE", "LCM_CA_CERT", "LCM_TLS_CERT", "LCM_TLS_KEY", "LCM_LISTEN"]
        {
            cmd.env_remove(var);
        }
        cmd.args(&args).envs(env).stdin(std::process::Stdio::null()).output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_cli_binary_uses_tls_with_ca_cert_or_lcm_ca_cert() {
    let pki = pki();
    let s = tls_server(&pki).await;
    let base = vec!["--addr".to_string(), s.addr.to_string(), "--token".into(), s.admin.clone(), "--json".into()];
    let with_flag = [
        base.clone(),
        vec!["--ca-cert".into(), pki.ca.display().to_string(), "admin".into(), "principals".into(), "list".into()],
    ]
    .concat();
    let out = lcm_binary(with_flag, vec![]).await;
    assert!(out.status.success(), "--ca-cert: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("principal-1"));
    let with_env = [base.clone(), vec!["admin".into(), "principals".into(), "list".into()]].concat();
    let out = lcm_binary(with_env.clone(), vec![("LCM_CA_CERT", pki.ca.display().to_string())]).await;
    assert!(out.status.success(), "LCM_CA_CERT: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("principal-1"));
    let out = lcm_binary(with_env, vec![]).await;
    assert!(!out.status.success(), "plaintext against a TLS server must fail");
}

#[test]
fn plaintext_on_a_non_loopback_address_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = ServeArgs::for_data_dir(dir.path().join("data"));
    assert!(lcm::server::transport(&args).unwrap().is_none(), "loopback without TLS is fine");
    args.listen = "0.0.0.0:50051".parse().unwrap();
    let e = lcm::server::transport(&args).unwrap_err().to_string();
    for part in ["0.0.0.0:50051", "--tls-cert", "--tls-key", "--allow-insecure", "in clear"] {
        assert!(e.contains(part), "{part:?} missing from: {e}");
    }
    args.listen = "[::]:50051".parse().unwrap();
    assert!(lcm::server::transport(&args).is_err());
    args.allow_insecure = true;
    assert!(lcm::server::transport(&args).unwrap().is_none());
    args.allow_insecure = false;
    args.tls_cert = Some(dir.path().join("cert.pem"));
    let e = lcm::server::transport(&args).unwrap_err().to_string();
    assert!(e.contains("--tls-key") && e.contains("both or neither"), "{e}");
    args.tls_cert = None;
    args.tls_key = Some(dir.path().join("key.pem"));
    let e = lcm::server::transport(&args).unwrap_err().to_string();
    assert!(e.contains("--tls-cert") && e.contains("both or neither"), "{e}");
}

#[tokio::test]
async fn lcm_serve_refuses_plaintext_on_0_0_0_0_before_opening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = ["serve", "--listen", "0.0.0.0:0", "--data-dir"].map(String::from).to_vec();
    let out = lcm_binary([args, vec![data.display().to_string()]].concat(), vec![]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0:0 without TLS"), "{stderr}");
    assert!(stderr.contains("--allow-insecure") && stderr.contains("--tls-cert"), "{stderr}");
    assert!(!data.exists(), "the store must not be opened");
}

/// Starts `lcm serve` with `args`, waits for its JSON "serving" log line, stops it.
fn serving_line(args: Vec<String>) -> String {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lcm"))
        .args(args)
        .args(["--console-listen", "off"])
        .env_remove("LCM_TLS_CERT")
        .env_remove("LCM_TLS_KEY")
        .env("LCM_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("\"message\":\"serving\"") || line.starts_with("lcm: ") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    line.unwrap_or_else(|_| panic!("no serving line"))
}

#[test]
fn allow_insecure_lets_plaintext_through_and_startup_logs_the_transport() {
    let dir = tempfile::tempdir().unwrap();
    let data = |name: &str| dir.path().join(name).display().to_string();
    let line = serving_line(
        ["serve", "--log-format", "json", "--listen", "0.0.0.0:0", "--allow-insecure", "--data-dir", &data("plain")]
            .map(String::from)
            .to_vec(),
    );
    assert!(line.contains("\"tls\":false") && line.contains("\"insecure_allowed\":true"), "{line}");
    let pki = pki();
    let line = serving_line(
        [
            "serve",
            "--log-format",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &pki.cert.display().to_string(),
            "--tls-key",
            &pki.key.display().to_string(),
            "--data-dir",
            &data("tls"),
        ]
        .map(String::from)
        .to_vec(),
    );
    assert!(line.contains("\"tls\":true"), "{line}");
}
