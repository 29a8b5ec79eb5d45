//! Server configuration: command-line flags with `LCM_*` environment fallbacks.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LCM_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the embedded store (created if missing).
    #[arg(long, env = "LCM_DATA_DIR", default_value = "./lcm-data")]
    pub data_dir: PathBuf,
    /// Size of the store's page cache, in MiB.
    #[arg(long, env = "LCM_CACHE_MB", default_value_t = 128)]
    pub cache_mb: u64,
    /// Requests worked on at once, server-wide; one more is refused at once with
    /// RESOURCE_EXHAUSTED (reason OVERLOADED) instead of queueing.
    #[arg(long, env = "LCM_MAX_IN_FLIGHT", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_in_flight: u32,
    /// Log format.
    #[arg(long, env = "LCM_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// On an empty store, load the demo scenario, create demo principals and print
    /// their tokens.
    #[arg(long)]
    pub demo: bool,
    /// TEST ONLY: acknowledge writes before they are on disk (and never flush). Exists
    /// so the crash harness can show it detects lost writes. Never use in production.
    #[arg(long, env = "LCM_UNSAFE_NO_FLUSH", hide = true)]
    pub unsafe_no_flush: bool,
    /// BENCHMARK ONLY: flush once per write under the writer gate instead of group commit
    /// (still durable before the answer; slower). Shows what group commit buys.
    #[arg(long, env = "LCM_NO_GROUP_COMMIT", hide = true)]
    pub no_group_commit: bool,
    /// PEM file of the server's certificate chain; with `--tls-key`, serves TLS only.
    #[arg(long, env = "LCM_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the private key of `--tls-cert`.
    #[arg(long, env = "LCM_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Serve without TLS on a non-loopback address (bearer tokens then cross the network in
    /// clear): only behind a TLS-terminating proxy on a trusted network.
    #[arg(long, env = "LCM_ALLOW_INSECURE")]
    pub allow_insecure: bool,
}

impl ServeArgs {
    /// Defaults for a server on `data_dir` (tests, embedding).
    pub fn for_data_dir(data_dir: PathBuf) -> ServeArgs {
        ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            cache_mb: 32,
            max_in_flight: 1024,
            log_format: LogFormat::Text,
            demo: false,
            unsafe_no_flush: false,
            no_group_commit: false,
            tls_cert: None,
            tls_key: None,
            allow_insecure: false,
        }
    }
}
