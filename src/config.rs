//! Server configuration: command-line flags with `LCM_*` environment fallbacks.

use crate::domain::CapabilityArea;
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
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
    /// TEST ONLY: abort in the N-th landing of two commits or more, right after its batch
    /// is applied in sled's memory (sled's own flusher may have written part of it). Exists
    /// so a test can show the next start holds each commit whole or not at all. Never use
    /// in production.
    #[arg(long, env = "LCM_TEST_ABORT_MID_LANDING", hide = true, value_name = "N")]
    pub test_abort_mid_landing: Option<u64>,
    /// TEST ONLY: the N-th sync of the store fails (as a failed fdatasync would), which
    /// fails the store. Never use in production.
    #[arg(long, env = "LCM_TEST_FAIL_SYNC", hide = true, value_name = "N")]
    pub test_fail_sync: Option<u64>,
    /// TEST ONLY: the N-th landing fails before its batch is applied, which fails the
    /// store. Never use in production.
    #[arg(long, env = "LCM_TEST_FAIL_LANDING", hide = true, value_name = "N")]
    pub test_fail_landing: Option<u64>,
    /// TEST ONLY: abort the process at POINT of the N-th landing: before-batch,
    /// after-batch (before sled's flush), after-flush (before the fdatasync) or
    /// after-sync (before writers are told). Never use in production.
    #[arg(long, env = "LCM_TEST_ABORT_AT_LANDING_POINT", hide = true, value_name = "POINT:N",
          value_parser = crate::store::LandingPoint::parse_at)]
    pub test_abort_at_landing_point: Option<(crate::store::LandingPoint, u64)>,
    /// Target share of women in seats (0 to 1) that the gender report compares against.
    #[arg(long, env = "LCM_WOMEN_TARGET_SHARE", default_value_t = 0.15, value_parser = parse_share)]
    pub women_target_share: f64,
    /// A file of per-capability target shares that override --women-target-share:
    /// TOML lines such as `FORMED_POLICE_UNIT = 0.20`, or a JSON object. Read at startup;
    /// an unknown capability or a share outside 0..=1 refuses to start.
    #[arg(long, env = "LCM_TARGETS_FILE", value_name = "FILE", value_parser = parse_targets_file)]
    pub targets_file: Option<TargetOverrides>,
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

/// Per-capability target shares read from `--targets-file`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetOverrides(pub BTreeMap<CapabilityArea, f64>);

fn parse_share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share between 0 and 1 (e.g. 0.15)")),
    }
}

fn parse_targets_file(path: &str) -> Result<TargetOverrides, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    crate::reports::parse_target_overrides(&text).map(TargetOverrides).map_err(|e| format!("{path}: {e}"))
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
            test_abort_mid_landing: None,
            test_fail_sync: None,
            test_fail_landing: None,
            test_abort_at_landing_point: None,
            women_target_share: 0.15,
            targets_file: None,
            tls_cert: None,
            tls_key: None,
            allow_insecure: false,
        }
    }

    /// The gender report's targets: the default share with the file's overrides.
    pub fn gender_targets(&self) -> crate::reports::GenderTargets {
        crate::reports::GenderTargets {
            default_share: self.women_target_share,
            per_capability: self.targets_file.clone().unwrap_or_default().0,
        }
    }
}
