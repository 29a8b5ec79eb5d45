//! Server configuration: command-line flags with `LCM_*` environment fallbacks.

use crate::domain::CapabilityArea;
use crate::telemetry::LogFormat;
use clap::Args;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// TEST ONLY: every sync of the store first sleeps this many milliseconds, so a test
    /// can read while a write is committed but not yet durable. Never use in production.
    #[arg(long, env = "LCM_TEST_SYNC_DELAY_MS", hide = true, value_name = "MS")]
    pub test_sync_delay_ms: Option<u64>,
    /// TEST ONLY: a stored ProposeMatches waits this many milliseconds between staging its
    /// matches and making them visible, so a test can look at the store meanwhile. Never
    /// use in production.
    #[arg(long, env = "LCM_TEST_REVEAL_DELAY_MS", hide = true, value_name = "MS")]
    pub test_reveal_delay_ms: Option<u64>,
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
    /// How long the first response to a request id is kept to answer retries: a number
    /// of days (`7d`) or hours (`36h`), at least 24 h. Older entries are pruned; a retry
    /// after that is treated as a new request.
    #[arg(long, env = "LCM_REQUEST_ID_RETENTION", value_name = "DURATION", default_value = "7d",
          value_parser = parse_retention)]
    pub request_id_retention: std::time::Duration,
    /// TEST ONLY: keep request ids this many milliseconds instead of
    /// --request-id-retention, below its 24 h minimum, so a test can see them pruned.
    /// Never use in production.
    #[arg(long, env = "LCM_TEST_REQUEST_ID_RETENTION_MS", hide = true, value_name = "MS")]
    pub test_request_id_retention_ms: Option<u64>,
    /// Target share of women in seats (0 to 1) that the gender report compares against.
    #[arg(long, env = "LCM_WOMEN_TARGET_SHARE", default_value_t = 0.15, value_parser = parse_share)]
    pub women_target_share: f64,
    /// A file of per-capability target shares that override --women-target-share:
    /// TOML lines such as `FORMED_POLICE_UNIT = 0.20`, or a JSON object. Read at startup;
    /// an unknown capability or a share outside 0..=1 refuses to start.
    #[arg(long, env = "LCM_TARGETS_FILE", value_name = "FILE", value_parser = parse_targets_file)]
    pub targets_file: Option<TargetOverrides>,
    /// Days ahead of its date that a need with open seats counts as at risk, for
    /// RAPID_DEPLOYMENT needs and for the others (the readiness report).
    #[arg(long, env = "LCM_RISK_HORIZON_DAYS", value_name = "RDL,OTHER", default_value = "90,45",
          value_parser = crate::reports::RiskHorizons::parse)]
    pub risk_horizon_days: crate::reports::RiskHorizons,
    /// PEM file of the server's certificate chain; with `--tls-key`, serves TLS only.
    #[arg(long, env = "LCM_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the private key of `--tls-cert`.
    #[arg(long, env = "LCM_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (plain HTTP; loopback unless
    /// --allow-insecure). Off when not given; the console's listener serves /metrics too.
    #[arg(long, env = "LCM_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Log one INFO line per answered request (method, principal, request id, status,
    /// latency). Without it, only failures are logged per request.
    #[arg(long, env = "LCM_ACCESS_LOG")]
    pub access_log: bool,
    /// Log a WARN naming the slowest phase (auth, gate wait, durable wait, handler) of a
    /// request slower than this many milliseconds.
    #[arg(long, env = "LCM_SLOW_REQUEST_MS", default_value_t = 1000)]
    pub slow_request_ms: u64,
    /// Serve without TLS on a non-loopback address (bearer tokens then cross the network in
    /// clear): only behind a TLS-terminating proxy on a trusted network.
    #[arg(long, env = "LCM_ALLOW_INSECURE")]
    pub allow_insecure: bool,
    /// Address of the web console (HTTP/1.1; HTTPS with the TLS flags), or `off`. The
    /// same loopback rule as `--listen` applies without TLS.
    #[arg(long, env = "LCM_CONSOLE_LISTEN", default_value = "127.0.0.1:8080", value_parser = parse_console_listen)]
    pub console_listen: ConsoleListen,
    /// Hours a console session may stay idle before it ends.
    #[arg(long, env = "LCM_CONSOLE_SESSION_HOURS", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub console_session_hours: u64,
}

/// Where the web console listens: `None` is `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleListen(pub Option<SocketAddr>);

fn parse_console_listen(text: &str) -> Result<ConsoleListen, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(ConsoleListen(None));
    }
    text.trim()
        .parse::<SocketAddr>()
        .map(|a| ConsoleListen(Some(a)))
        .map_err(|_| format!("{text:?} is neither an address such as 127.0.0.1:8080 nor `off`"))
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

/// Parses a retention such as `7d` or `36h` (at least
/// [`crate::store::MIN_REQUEST_ID_RETENTION`]).
pub fn parse_retention(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (number, unit_secs) = match t.char_indices().last() {
        Some((at, 'd' | 'D')) => (&t[..at], 24 * 3600),
        Some((at, 'h' | 'H')) => (&t[..at], 3600),
        _ => return Err(format!("{text:?} is not a duration such as 7d or 36h")),
    };
    let secs = number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .ok_or_else(|| format!("{text:?} is not a duration such as 7d or 36h"))?;
    let retention = std::time::Duration::from_secs(secs);
    if retention < crate::store::MIN_REQUEST_ID_RETENTION {
        return Err(format!(
            "{text:?} is shorter than 24h: a retry within 24 hours must be answered from the stored response"
        ));
    }
    Ok(retention)
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
            test_sync_delay_ms: None,
            test_reveal_delay_ms: None,
            test_fail_landing: None,
            test_abort_at_landing_point: None,
            request_id_retention: crate::store::DEFAULT_REQUEST_ID_RETENTION,
            test_request_id_retention_ms: None,
            women_target_share: 0.15,
            targets_file: None,
            risk_horizon_days: crate::reports::RiskHorizons::default(),
            tls_cert: None,
            tls_key: None,
            allow_insecure: false,
            metrics_listen: None,
            access_log: false,
            slow_request_ms: 1000,
            console_listen: ConsoleListen(None),
            console_session_hours: 8,
        }
    }

    /// How requests are logged.
    pub fn request_log(&self) -> crate::telemetry::RequestLog {
        crate::telemetry::RequestLog {
            access_log: self.access_log,
            slow: std::time::Duration::from_millis(self.slow_request_ms),
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

#[cfg(test)]
mod retention_tests {
    use super::parse_retention;
    use std::time::Duration;

    #[test]
    fn retention_accepts_days_and_hours_of_at_least_24h() {
        assert_eq!(parse_retention("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_retention("36h"), Ok(Duration::from_secs(36 * 3600)));
        assert_eq!(parse_retention("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_retention("1d"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn retention_below_24h_or_malformed_is_refused() {
        for bad in ["23h", "0d", "12h", "7", "7x", "d", "-1d", "99999999999999999999d"] {
            let e = parse_retention(bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(e.contains(bad), "{e}");
        }
        assert!(parse_retention("23h").err().unwrap_or_default().contains("shorter than 24h"));
    }
}
