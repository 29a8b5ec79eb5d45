//! The `approve` workload. Setup (not measured): `--setup-needs` needs, each with one
//! DELIVERY offer that only its requester is eligible for and that exactly covers it,
//! spread over (requester, capability, category) so that up to 193 × 15 × 6 = 17 370
//! pairs share nothing with each other; then one ProposeMatches over all capabilities.
//! The proposals of one run fit together by construction (the engine never allocates a
//! seat twice), so every ApproveMatch should succeed. Measured: `--concurrency`
//! concurrent ApproveMatch calls, each proposal once, until all are decided or the
//! duration ends. A failure of ProposeMatches (e.g. UNIMPLEMENTED) is reported as one
//! error with no requests.

use super::driver::drive;
use super::fixtures::{create_all, now_unix, states};
use super::stats::Report;
use super::{LoadtestArgs, finish};
use crate::api;
use crate::cli::{CliError, Clients, request_id};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Seats of each need and capacity of its offer.
const SEATS: u32 = 2;

fn ts_days(now: i64, days: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: now + days * 86_400, nanos: 0 }
}

/// The (requester, capability, category) of pair `i`: distinct for the first 17 370.
fn pair_key(i: usize, states: &[String]) -> (String, String, i32, i32) {
    let s = states.len().max(1);
    let requester = states.get(i % s).cloned().unwrap_or_default();
    let provider = states.get((i % s + 1) % s).cloned().unwrap_or_default();
    let capability = 1 + ((i / s) % 15) as i32;
    let category = 1 + ((i / (s * 15)) % 6) as i32;
    (requester, provider, capability, category)
}

/// Need `i` of the setup.
pub(crate) fn need(i: usize, states: &[String], now: i64) -> api::Need {
    let (requester, _, capability, category) = pair_key(i, states);
    api::Need {
        requester,
        category,
        capability,
        title: format!("Load test need {i}"),
        description: "Created by lcm loadtest --workload approve".into(),
        quantity: SEATS,
        women_quantity: 0,
        languages: vec!["en".into()],
        needed_by: Some(ts_days(now, 120)),
        priority: api::Priority::Routine as i32,
        pledge_level: api::ReadinessLevel::Level2 as i32,
        ..Default::default()
    }
}

/// Offer `i` of the setup: covers need `i` and only its requester may receive it.
pub(crate) fn offer(i: usize, states: &[String], now: i64) -> api::Offer {
    let (requester, provider, capability, category) = pair_key(i, states);
    api::Offer {
        providers: vec![provider],
        role: api::OfferRole::Delivery as i32,
        category,
        capability,
        title: format!("Load test offer {i}"),
        description: "Created by lcm loadtest --workload approve".into(),
        capacity: SEATS,
        available_from: Some(ts_days(now, 10)),
        available_until: Some(ts_days(now, 200)),
        eligible_recipients: vec![requester],
        languages: vec!["en".into()],
        mode: api::DeliveryMode::MobileTrainingTeam as i32,
        duration_days: 5,
        ..Default::default()
    }
}

/// Runs the workload; see the module docs.
pub(crate) async fn run(clients: &[Clients], args: &LoadtestArgs, duration: Duration) -> Result<Report, CliError> {
    let progress = !args.quiet;
    let name = args.workload.name();
    let n = args.setup_needs.max(1);
    let states = Arc::new(states());
    let now = now_unix();
    let started = Instant::now();
    let st = states.clone();
    create_all(clients, n, 64, move |c, i| {
        let mut needs = c.needs();
        let req = api::CreateNeedRequest { need: Some(need(i, &st, now)), request_id: request_id() };
        async move { needs.create_need(req).await.map(|r| r.into_inner().id) }
    })
    .await
    .map_err(|s| CliError::Status(s).context("setup: creating needs"))?;
    let st = states.clone();
    create_all(clients, n, 64, move |c, i| {
        let mut offers = c.offers();
        let req = api::CreateOfferRequest { offer: Some(offer(i, &st, now)), request_id: request_id() };
        async move { offers.create_offer(req).await.map(|r| r.into_inner().id) }
    })
    .await
    .map_err(|s| CliError::Status(s).context("setup: creating offers"))?;
    if progress {
        eprintln!("[setup] created {n} needs and {n} offers in {:.1}s", started.elapsed().as_secs_f64());
    }

    let Some(first) = clients.first() else {
        return Err(CliError::Usage("no connections".into()));
    };
    let started = Instant::now();
    let mut matching = first.matching().max_decoding_message_size(usize::MAX);
    let proposed =
        matching.propose_matches(api::ProposeMatchesRequest { request_id: request_id(), ..Default::default() }).await;
    let matches = match proposed {
        Ok(r) => r.into_inner().matches,
        Err(status) => {
            eprintln!("[{name}] ProposeMatches failed, nothing to approve: {:?}: {}", status.code(), status.message());
            return Ok(Report::new(name, args.concurrency, 1, Duration::ZERO, Vec::new()));
        }
    };
    let work: Arc<Vec<(String, String)>> = Arc::new(
        matches.into_iter().filter(|m| m.state == api::MatchState::Proposed as i32).map(|m| (m.id, m.etag)).collect(),
    );
    if progress {
        eprintln!("[setup] ProposeMatches: {} proposals in {:.2}s", work.len(), started.elapsed().as_secs_f64());
    }
    if work.is_empty() {
        eprintln!("[{name}] ProposeMatches proposed nothing: nothing to approve");
    }

    let next = Arc::new(AtomicUsize::new(0));
    let (out, tally) = drive(name, args.concurrency, duration, progress, |i| {
        let clients = clients[i % clients.len()].clone();
        let work = work.clone();
        let next = next.clone();
        move || {
            let (id, etag) = work.get(next.fetch_add(1, Ordering::Relaxed))?.clone();
            let mut matching = clients.matching();
            let req = api::ApproveMatchRequest { id, etag, request_id: request_id(), comment: "load test".into() };
            Some(async move { matching.approve_match(req).await.map(|_| ()) })
        }
    })
    .await;
    let left = work.len().saturating_sub(next.load(Ordering::Relaxed).min(work.len()));
    if left > 0 {
        eprintln!("[{name}] the duration ended with {left} proposals not yet approved");
    }
    Ok(finish(name, args.concurrency, out, &tally))
}
