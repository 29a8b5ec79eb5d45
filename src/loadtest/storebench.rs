//! Store-side benchmarks (issue 8), behind the hidden `lcm bench-store` command:
//!
//! - `fill` grows a data directory through the service's own write path (the same
//!   records, indexes and creation events as CreateNeed/CreateOffer, committed in batches
//!   under the writer gate), so memory, recovery and scaling runs need not wait for
//!   millions of gRPC calls;
//! - `open` is the baseline: a bare `sled::open` of the same store with the same cache,
//!   optionally reading every entry, reporting its time and resident memory;
//! - `recovery` times, side by side and alternating, a bare open in a fresh process and an
//!   `lcm serve` start on the same data directory until its health check answers SERVING.

use super::approve;
use super::fixtures::{need, now_unix, states};
use crate::clock::now_micros;
use crate::config::ServeArgs;
use crate::convert::{self, Clock};
use crate::store::WriteSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What `lcm bench-store` does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchStoreCommand {
    /// Add needs and offers to the store in DATA_DIR (created if missing); one JSON line.
    Fill {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 0)]
        needs: usize,
        #[arg(long, default_value_t = 0)]
        offers: usize,
        /// Records per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Fill with `lcm bench-match`'s synthetic scenario of this seed (clusters of
        /// compatible needs and offers, eligibility lists, modes and windows, training
        /// centres) instead of uniform records, so proposals through the API solve a
        /// realistic problem.
        #[arg(long)]
        synthetic_seed: Option<u64>,
        /// With --synthetic-seed: the share of DELIVERY offers that require funding.
        #[arg(long, default_value_t = 0.0)]
        funded_share: f64,
    },
    /// Bare `sled::open` of DATA_DIR's store (the baseline); one JSON line with the time and RSS.
    Open {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 128)]
        cache_mb: u64,
        /// Read every entry of every tree before measuring memory.
        #[arg(long)]
        read_all: bool,
    },
    /// Alternately time a bare open and an `lcm serve` start (until SERVING); one JSON line.
    Recovery {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        #[arg(long, default_value_t = 128)]
        cache_mb: u64,
    },
}

/// Runs one `bench-store` command; its JSON line or an error.
pub fn execute(command: &BenchStoreCommand) -> Result<String, String> {
    match command {
        BenchStoreCommand::Fill { data_dir, needs, offers, batch, synthetic_seed: None, .. } => {
            fill(data_dir, *needs, *offers, *batch)
        }
        BenchStoreCommand::Fill { data_dir, needs, offers, batch, synthetic_seed: Some(seed), funded_share } => {
            fill_synthetic(data_dir, *needs, *offers, *batch, *seed, *funded_share)
        }
        BenchStoreCommand::Open { data_dir, cache_mb, read_all } => open(data_dir, *cache_mb, *read_all),
        BenchStoreCommand::Recovery { data_dir, rounds, cache_mb } => recovery(data_dir, *rounds, *cache_mb),
    }
}

fn fill(data_dir: &Path, needs: usize, offers: usize, batch: usize) -> Result<String, String> {
    let args = ServeArgs::for_data_dir(data_dir.to_path_buf());
    let opened = crate::server::open(&args).map_err(|e| e.to_string())?;
    let store = &opened.ctx.store;
    let states = states();
    let now_s = now_unix();
    let clock = Clock { now: now_micros() };
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let batch = batch.max(1);
    let mut done = 0;
    while done < needs + offers {
        let end = (done + batch).min(needs + offers);
        let mut w = store.writer().map_err(|e| e.to_string())?;
        let mut ws = WriteSet::default();
        let now = now_micros();
        for i in done..end {
            if i < needs {
                let body = need(&states[i % states.len()], now_s);
                let spec = convert::need_spec(&body, "need", clock, true).map_err(|e| e.to_string())?;
                w.create_need(&mut ws, now, "bench-fill", spec, |_| ());
            } else {
                let body = approve::offer(i - needs, &states, now_s);
                let spec = convert::offer_spec(&body, "offer", clock, &|_| false).map_err(|e| e.to_string())?;
                w.create_offer(&mut ws, now, "bench-fill", spec, |_| ());
            }
        }
        let _committed = w.commit(ws).map_err(|e| e.to_string())?; // made durable by the flush below
        done = end;
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            eprintln!(
                "fill: {done}/{} records, {:.0}/s",
                needs + offers,
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    store.flush().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        r#"{{"needs":{needs},"offers":{offers},"seconds":{seconds:.2},"records_per_s":{:.0},"last_event":{},"store_bytes":{}}}"#,
        (needs + offers) as f64 / seconds.max(1e-9),
        store.durable_sequence(),
        dir_bytes(&crate::server::store_path(data_dir)),
    ))
}

/// `bench-match`'s synthetic scenario, stored through the service's write path: its
/// training centres first, then its needs and offers (FUNDING offers included), in
/// batches. Days of the scenario are placed relative to today.
fn fill_synthetic(
    data_dir: &Path,
    needs: usize,
    offers: usize,
    batch: usize,
    seed: u64,
    funded_share: f64,
) -> Result<String, String> {
    use crate::domain::{Kind, Meta, TrainingCentre};
    use crate::matching::bench::{BenchArgs, generate};
    use crate::matching::input::{NeedInput, OfferInput};
    let input = generate(&BenchArgs { needs, offers, seed, funded_share: funded_share.clamp(0.0, 1.0), changes: 0 });
    let args = ServeArgs::for_data_dir(data_dir.to_path_buf());
    let opened = crate::server::open(&args).map_err(|e| e.to_string())?;
    let store = &opened.ctx.store;
    let now_s = now_unix();
    let clock = Clock { now: now_micros() };
    let day = |d: i64| prost_types::Timestamp { seconds: now_s + (d - input.today) * 86_400, nanos: 0 };
    let started = Instant::now();
    // The centres the scenario's AT_TRAINING_CENTRE offers name.
    let mut centres: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    {
        let mut w = store.writer().map_err(|e| e.to_string())?;
        let mut ws = WriteSet::default();
        let now = now_micros();
        for o in &input.offers {
            let Some(c) = o.delivery.as_ref().and_then(|d| d.training_centre.as_ref()) else { continue };
            if centres.contains_key(&c.id) {
                continue;
            }
            let id = w.allocate_id(Kind::Centre);
            let spec = crate::domain::CentreSpec {
                name: format!("Synthetic training centre {}", c.id),
                host_state: c.host_state,
                languages: o.delivery.as_ref().map(|d| d.languages.to_vec()).unwrap_or_default(),
                capabilities: Vec::new(),
                un_recognized: true,
            };
            let centre = TrainingCentre { meta: Meta::new(id, now), spec };
            ws.put_record(&centre);
            ws.event(
                crate::domain::EventKind::CentreRegistered,
                now,
                "bench-fill",
                crate::domain::EventResource::Centre(centre),
            );
            centres.insert(c.id.clone(), id.render(Kind::Centre));
        }
        let _committed = w.commit(ws).map_err(|e| e.to_string())?; // made durable by the flush below
    }
    let need_body = |n: &NeedInput| crate::api::Need {
        requester: n.requester.to_string(),
        category: convert::category_to(n.category),
        capability: convert::capability_to(n.capability),
        title: format!("Synthetic need {}", n.id),
        description: "Filled by lcm bench-store fill --synthetic-seed".into(),
        quantity: n.quantity,
        women_quantity: n.women_quantity,
        languages: n.languages.iter().map(|l| l.to_string()).collect(),
        needed_by: Some(day(n.needed_by)),
        priority: convert::priority_to(n.priority),
        pledge_level: crate::api::ReadinessLevel::Level2 as i32,
        accepted_modes: n.accepted_modes.iter().map(|m| convert::mode_to(*m)).collect(),
        ..Default::default()
    };
    let offer_body = |o: &OfferInput| {
        let terms = o.delivery_terms();
        crate::api::Offer {
            providers: o.providers.iter().map(|p| p.to_string()).collect(),
            role: convert::role_to(o.role),
            category: convert::category_to(o.category),
            capability: convert::capability_to(o.capability),
            title: format!("Synthetic offer {}", o.id),
            description: "Filled by lcm bench-store fill --synthetic-seed".into(),
            capacity: o.capacity,
            available_from: Some(day(o.available_from)),
            available_until: Some(day(o.available_until)),
            eligible_recipients: o.eligible_recipients.iter().map(|s| s.to_string()).collect(),
            excluded_recipients: o.excluded_recipients.iter().map(|s| s.to_string()).collect(),
            max_per_recipient: o.max_per_recipient,
            languages: terms.map(|t| t.languages.iter().map(|l| l.to_string()).collect()).unwrap_or_default(),
            mode: terms.map_or(0, |t| convert::mode_to(t.mode)),
            training_centre_id: terms
                .and_then(|t| t.training_centre.as_ref())
                .and_then(|c| centres.get(&c.id).cloned())
                .unwrap_or_default(),
            duration_days: terms.map_or(0, |t| u32::try_from(t.duration_days).unwrap_or(u32::MAX)),
            women_only: terms.is_some_and(|t| t.women_only),
            requires_funding: terms.is_some_and(|t| t.requires_funding),
            ..Default::default()
        }
    };
    let total = input.needs.len() + input.offers.len();
    let mut done = 0;
    let mut last_progress = Instant::now();
    while done < total {
        let end = (done + batch.max(1)).min(total);
        let mut w = store.writer().map_err(|e| e.to_string())?;
        let mut ws = WriteSet::default();
        let now = now_micros();
        for i in done..end {
            if let Some(n) = input.needs.get(i) {
                let spec =
                    convert::need_spec(&need_body(n), "need", clock, true).map_err(|e| format!("{}: {e}", n.id))?;
                w.create_need(&mut ws, now, "bench-fill", spec, |_| ());
            } else {
                let o = &input.offers[i - input.needs.len()];
                let spec = convert::offer_spec(&offer_body(o), "offer", clock, &|_| true)
                    .map_err(|e| format!("{}: {e}", o.id))?;
                w.create_offer(&mut ws, now, "bench-fill", spec, |_| ());
            }
        }
        let _committed = w.commit(ws).map_err(|e| e.to_string())?; // made durable by the flush below
        done = end;
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            eprintln!("fill: {done}/{total} records, {:.0}/s", done as f64 / started.elapsed().as_secs_f64());
        }
    }
    store.flush().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        r#"{{"scenario":"synthetic","seed":{seed},"needs":{},"offers":{},"centres":{},"seconds":{seconds:.2},"last_event":{},"store_bytes":{}}}"#,
        input.needs.len(),
        input.offers.len(),
        centres.len(),
        store.durable_sequence(),
        dir_bytes(&crate::server::store_path(data_dir)),
    ))
}

fn open(data_dir: &Path, cache_mb: u64, read_all: bool) -> Result<String, String> {
    let path = crate::server::store_path(data_dir);
    if !path.exists() {
        return Err(format!("no store under {}", data_dir.display()));
    }
    let started = Instant::now();
    let (entries, (open_us, rss)) = crate::store::open_bare(&path, cache_mb.saturating_mul(1 << 20), read_all, || {
        (started.elapsed().as_micros(), rss_bytes("self"))
    })
    .map_err(|e| e.to_string())?;
    Ok(format!(
        r#"{{"open_us":{open_us},"read_all":{read_all},"entries":{entries},"rss_bytes":{},"cache_mb":{cache_mb}}}"#,
        rss.unwrap_or(0)
    ))
}

/// Resident memory of process `pid` ("self" for this one) from /proc, in bytes.
pub fn rss_bytes(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn recovery(data_dir: &Path, rounds: usize, cache_mb: u64) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = data_dir.display().to_string();
    let cache = cache_mb.to_string();
    let (mut bare, mut bare_process, mut serve) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        let started = Instant::now();
        let out = Command::new(&exe)
            .args(["bench-store", "open", "--data-dir", &dir, "--cache-mb", &cache])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("bare open failed: {}", out.status));
        }
        bare_process.push(started.elapsed().as_secs_f64() * 1000.0);
        let line = String::from_utf8_lossy(&out.stdout);
        let open_us: f64 = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v["open_us"].as_f64())
            .ok_or_else(|| format!("bare open printed no open_us: {line}"))?;
        bare.push(open_us / 1000.0);

        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        let mut child = Command::new(&exe)
            .args(["serve", "--listen", &addr, "--console-listen", "off", "--data-dir", &dir, "--cache-mb", &cache])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        // A runtime per round: dropping it closes the health check's connection, which a
        // graceful stop would otherwise wait for.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let ready = runtime.block_on(wait_serving(&addr, Duration::from_secs(120)));
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        drop(runtime);
        // SIGTERM: a graceful stop, so every round starts from a cleanly closed store.
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
        ready?;
        serve.push(elapsed);
        eprintln!("recovery round {}: bare open {:.0} ms, serve ready {elapsed:.0} ms", round + 1, bare[round]);
    }
    let (b, p, s) = (median(&bare), median(&bare_process), median(&serve));
    Ok(format!(
        r#"{{"rounds":{},"bare_open_ms":{bare:.1?},"bare_process_ms":{bare_process:.1?},"serve_ready_ms":{serve:.1?},"bare_open_median_ms":{b:.1},"bare_process_median_ms":{p:.1},"serve_ready_median_ms":{s:.1},"ratio_to_bare_open":{:.2}}}"#,
        serve.len(),
        s / b.max(1e-9)
    ))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// Polls the health service at `addr` until it answers SERVING.
async fn wait_serving(addr: &str, limit: Duration) -> Result<(), String> {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    let deadline = Instant::now() + limit;
    let endpoint = format!("http://{addr}");
    while Instant::now() < deadline {
        if let Ok(channel) =
            tonic::transport::Endpoint::from_shared(endpoint.clone()).map_err(|e| e.to_string())?.connect().await
        {
            let mut health = HealthClient::new(channel);
            if let Ok(r) = health.check(HealthCheckRequest { service: String::new() }).await
                && r.into_inner().status == ServingStatus::Serving as i32
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Err(format!("{addr} was not SERVING within {limit:?}"))
}
