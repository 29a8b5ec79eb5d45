//! Latency percentiles from exact, sorted samples, and the report a run prints.

use std::time::Duration;

/// The one-line result of a run; `--json` prints exactly these fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The workload's name, e.g. `get-need`.
    pub workload: String,
    /// Concurrent in-flight requests (for `watch`: subscribers).
    pub concurrency: usize,
    /// Successful requests (for `watch`: matched deliveries to subscribers).
    pub requests: u64,
    /// Failed requests (for `watch`: failed writes, broken streams and missed deliveries).
    pub errors: u64,
    /// Successful requests per second of the measured phase.
    pub throughput_rps: f64,
    /// Latency percentiles in microseconds (for `watch`: delivery lag).
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Report {
    /// A report from counts and latency samples (in microseconds, any order).
    pub fn new(workload: &str, concurrency: usize, errors: u64, elapsed: Duration, mut samples: Vec<u64>) -> Report {
        samples.sort_unstable();
        let requests = samples.len() as u64;
        let secs = elapsed.as_secs_f64();
        Report {
            workload: workload.to_string(),
            concurrency,
            requests,
            errors,
            throughput_rps: if secs > 0.0 { (requests as f64 / secs * 10.0).round() / 10.0 } else { 0.0 },
            p50_us: percentile(&samples, 50.0),
            p90_us: percentile(&samples, 90.0),
            p99_us: percentile(&samples, 99.0),
            max_us: samples.last().copied().unwrap_or(0),
        }
    }

    /// The one JSON line of `--json`.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A short human summary.
    pub fn to_text(&self) -> String {
        format!(
            "{}: concurrency {}, {} requests, {} errors, {:.1} req/s; latency p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
            self.workload,
            self.concurrency,
            self.requests,
            self.errors,
            self.throughput_rps,
            self.p50_us,
            self.p90_us,
            self.p99_us,
            self.max_us
        )
    }
}

/// The nearest-rank percentile `p` (0..=100) of sorted `samples`; 0 when there are none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds in `d`, saturating.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), 50);
        assert_eq!(percentile(&samples, 99.0), 99);
        assert_eq!(percentile(&samples, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[7], 0.0), 7);
    }

    #[test]
    fn report_counts_and_json_fields() {
        let r = Report::new("echo", 4, 1, Duration::from_secs(2), vec![30, 10, 20]);
        assert_eq!((r.requests, r.errors, r.p50_us, r.max_us), (3, 1, 20, 30));
        assert_eq!(r.throughput_rps, 1.5);
        let v: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap_or_default();
        for key in
            ["workload", "concurrency", "requests", "errors", "throughput_rps", "p50_us", "p90_us", "p99_us", "max_us"]
        {
            assert!(v.get(key).is_some(), "missing {key}");
        }
    }
}
