//! Reaching the server: the global client flags, the channel (plain or TLS), the
//! `authorization: Bearer` interceptor and typed clients of every service.

use super::error::{CliError, usage};
use crate::api::{
    admin_service_client::AdminServiceClient, arrangement_service_client::ArrangementServiceClient,
    event_service_client::EventServiceClient, matching_service_client::MatchingServiceClient,
    need_service_client::NeedServiceClient, offer_service_client::OfferServiceClient,
    report_service_client::ReportServiceClient, training_centre_service_client::TrainingCentreServiceClient,
};
use std::path::PathBuf;
use std::time::Duration;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// Where the server is and who is calling: flags shared by every client command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientArgs {
    /// Server address: `http://host:port`, `https://host:port` or just `host:port`.
    #[arg(
        long,
        env = "LCM_ADDR",
        default_value = "http://127.0.0.1:50051",
        global = true,
        help_heading = "Connection and output"
    )]
    pub addr: String,
    /// Bearer token of the calling principal. Tokens are URL-safe base64, so one in 64
    /// starts with `-`; it is taken as the value all the same.
    #[arg(
        long,
        env = "LCM_TOKEN",
        hide_env_values = true,
        global = true,
        allow_hyphen_values = true,
        help_heading = "Connection and output"
    )]
    pub token: Option<String>,
    /// Read the bearer token from this file (e.g. `lcm-data/admin.token`) when `--token`
    /// is not given.
    #[arg(long, env = "LCM_TOKEN_FILE", global = true, help_heading = "Connection and output")]
    pub token_file: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true, help_heading = "Connection and output")]
    pub json: bool,
    /// PEM file of the CA that signed the server's certificate; switches to TLS (https).
    #[arg(long, env = "LCM_CA_CERT", global = true, help_heading = "Connection and output")]
    pub ca_cert: Option<PathBuf>,
}

impl ClientArgs {
    /// The token to send: `--token`, else the contents of `--token-file`, else none.
    pub fn resolve_token(&self) -> Result<String, CliError> {
        if let Some(token) = &self.token {
            return Ok(token.trim().to_string());
        }
        match &self.token_file {
            Some(path) => std::fs::read_to_string(path)
                .map(|t| t.trim().to_string())
                .map_err(|source| CliError::Io { path: path.display().to_string(), source }),
            None => Ok(String::new()),
        }
    }

    /// The address as a URI: a missing scheme becomes `http://`, or `https://` with a CA.
    pub fn uri(&self) -> String {
        let addr = self.addr.trim();
        let tls = self.ca_cert.is_some();
        match addr.split_once("://") {
            None if tls => format!("https://{addr}"),
            None => format!("http://{addr}"),
            Some(("http", rest)) if tls => format!("https://{rest}"),
            Some(_) => addr.to_string(),
        }
    }
}

/// Opens a channel to the server named by `args` (TLS when `--ca-cert` is given).
pub async fn connect(args: &ClientArgs) -> Result<Channel, CliError> {
    let uri = args.uri();
    let mut endpoint = Endpoint::from_shared(uri.clone())
        .map_err(|e| usage(format!("bad --addr {:?}: {e}", args.addr)))?
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true);
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).map_err(|source| CliError::Io { path: path.display().to_string(), source })?;
        let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
        endpoint = endpoint.tls_config(tls).map_err(|source| CliError::Connect { addr: uri.clone(), source })?;
    }
    endpoint.connect().await.map_err(|source| CliError::Connect { addr: uri, source })
}

/// Adds `authorization: Bearer <token>` to every call (nothing when the token is empty).
#[derive(Clone, Debug)]
pub struct BearerAuth(Option<MetadataValue<Ascii>>);

impl BearerAuth {
    /// Fails when the token holds characters a header cannot carry.
    pub fn new(token: &str) -> Result<Self, CliError> {
        if token.is_empty() {
            return Ok(BearerAuth(None));
        }
        let mut value: MetadataValue<Ascii> = format!("Bearer {token}")
            .parse()
            .map_err(|_| usage("the token holds characters that cannot go in a header"))?;
        value.set_sensitive(true);
        Ok(BearerAuth(Some(value)))
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            req.metadata_mut().insert("authorization", value.clone());
        }
        Ok(req)
    }
}

/// A channel with the caller's token attached.
pub type Authed = InterceptedService<Channel, BearerAuth>;

/// Typed clients of every lcm service over one channel, all sending the same token.
#[derive(Clone, Debug)]
pub struct Clients {
    channel: Channel,
    auth: BearerAuth,
}

/// The largest answer the CLI accepts. tonic's default, 4 MiB, is less than a proposal
/// over 100 000 needs (45 MB) or a page of 500 events at their size limits (~7 MB); the
/// CLI is the operator's own tool, talking to a server it trusts with its token.
pub const MAX_RESPONSE_BYTES: usize = 1 << 30;

impl Clients {
    /// Clients over `channel` that authenticate with `token`.
    pub fn new(channel: Channel, token: &str) -> Result<Self, CliError> {
        Ok(Clients { channel, auth: BearerAuth::new(token)? })
    }

    fn authed(&self) -> Authed {
        InterceptedService::new(self.channel.clone(), self.auth.clone())
    }

    pub fn needs(&self) -> NeedServiceClient<Authed> {
        NeedServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn offers(&self) -> OfferServiceClient<Authed> {
        OfferServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn centres(&self) -> TrainingCentreServiceClient<Authed> {
        TrainingCentreServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn matching(&self) -> MatchingServiceClient<Authed> {
        MatchingServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn arrangements(&self) -> ArrangementServiceClient<Authed> {
        ArrangementServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn reports(&self) -> ReportServiceClient<Authed> {
        ReportServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn events(&self) -> EventServiceClient<Authed> {
        EventServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
    pub fn admin(&self) -> AdminServiceClient<Authed> {
        AdminServiceClient::new(self.authed()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
}

/// A fresh UUID v4 for the `request_id` of one state-changing call.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(addr: &str, tls: bool) -> ClientArgs {
        ClientArgs { addr: addr.into(), ca_cert: tls.then(|| PathBuf::from("ca.pem")), ..ClientArgs::default() }
    }

    #[test]
    fn address_without_scheme_gets_one() {
        assert_eq!(args("127.0.0.1:50051", false).uri(), "http://127.0.0.1:50051");
        assert_eq!(args("lcm.example:443", true).uri(), "https://lcm.example:443");
        assert_eq!(args("http://h:1", true).uri(), "https://h:1");
        assert_eq!(args("https://h:1", false).uri(), "https://h:1");
    }

    #[test]
    fn a_token_that_starts_with_a_hyphen_is_a_value() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            client: ClientArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from(["lcm", "--token", "-Xq_9", "--addr", "h:1"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.client.token.as_deref(), Some("-Xq_9"));
        assert_eq!(cli.client.addr, "h:1");
    }

    #[test]
    fn bearer_header_is_added_only_with_a_token() {
        let mut auth = BearerAuth::new("abc123").expect("valid token");
        let req = auth.call(tonic::Request::new(())).expect("intercepted");
        assert_eq!(req.metadata().get("authorization").and_then(|v| v.to_str().ok()), Some("Bearer abc123"));
        let mut none = BearerAuth::new("").expect("empty token");
        let req = none.call(tonic::Request::new(())).expect("intercepted");
        assert!(req.metadata().get("authorization").is_none());
        assert!(BearerAuth::new("bad\ntoken").is_err());
    }
}
