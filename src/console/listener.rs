//! The console's listener: plain TCP on loopback, or TLS with the server's own
//! certificate and key (`--tls-cert`, `--tls-key`). TLS handshakes run in their own tasks,
//! bounded in time, so a client that never finishes one holds up nobody else.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Conn for T {}

/// The client's address, as the console's handlers see it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, ConsoleListener>> for ClientAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, ConsoleListener>) -> ClientAddr {
        ClientAddr(*stream.remote_addr())
    }
}

pub struct ConsoleListener {
    local: SocketAddr,
    accepted: mpsc::Receiver<(Box<dyn Conn>, SocketAddr)>,
}

/// A TLS server configuration from PEM files (HTTP/1.1 over ALPN).
pub fn tls_acceptor(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("console TLS certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("console TLS key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("console TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("console TLS: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl ConsoleListener {
    /// Accepts on `tcp` (and shakes hands with `tls`) in a background task until the
    /// listener is dropped.
    pub fn new(tcp: TcpListener, tls: Option<TlsAcceptor>) -> io::Result<ConsoleListener> {
        let local = tcp.local_addr()?;
        let (tx, accepted) = mpsc::channel::<(Box<dyn Conn>, SocketAddr)>(64);
        tokio::spawn(async move {
            loop {
                let (stream, addr) = tokio::select! {
                    r = tcp.accept() => match r {
                        Ok(x) => x,
                        Err(e) => {
                            tracing::debug!(error = %e, "console accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    () = tx.closed() => return,
                };
                let _ = stream.set_nodelay(true);
                match &tls {
                    None => {
                        if tx.send((Box::new(stream), addr)).await.is_err() {
                            return;
                        }
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => {
                                    let _ = tx.send((Box::new(tls), addr)).await;
                                }
                                Ok(Err(e)) => {
                                    tracing::debug!(client = %addr, error = %e, "console TLS handshake failed")
                                }
                                Err(_) => tracing::debug!(client = %addr, "console TLS handshake timed out"),
                            }
                        });
                    }
                }
            }
        });
        Ok(ConsoleListener { local, accepted })
    }
}

impl axum::serve::Listener for ConsoleListener {
    type Io = Box<dyn Conn>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(conn) => conn,
            // The accept task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
