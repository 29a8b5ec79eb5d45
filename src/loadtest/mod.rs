//! `lcm loadtest`: a closed-loop gRPC load generator for a running lcm server (or the
//! `lcm-echo` baseline) on loopback. `--concurrency` requests stay in flight over
//! `--connections` HTTP/2 connections for `--duration-s` seconds; a progress line goes to
//! stderr every second, then a summary (or with `--json` one JSON line) to stdout.
//! Workloads that read first create what they read; setup is not measured.

mod approve;
mod driver;
pub mod echo;
mod fixtures;
mod stats;
pub mod storebench;
mod watch;

pub use stats::{Report, percentile};

use crate::api;
use crate::cli::{CliError, ClientArgs, Clients, connect, request_id};
use driver::drive;
use rand::{Rng, SeedableRng};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// What the load generator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// GetNeed of random needs created during setup.
    GetNeed,
    /// CreateNeed: durable writes, each with a fresh request_id.
    CreateNeed,
    /// 90% GetNeed of setup needs, 10% CreateNeed.
    Mixed,
    /// ProposeMatches over non-conflicting needs and offers made in setup, then concurrent
    /// ApproveMatch of every proposal (only the approvals are measured).
    Approve,
    /// `--subscribers` WatchEvents streams while a writer creates needs at `--write-rps`:
    /// the delivery lag from each write's acknowledgement to its receipt.
    Watch,
    /// The lcm-echo baseline's unary Echo.
    Echo,
    /// ProposeMatches dry runs over every capability on the store as it is (no setup),
    /// back to back; each answer is received and dropped (the load a coordinator's
    /// proposal puts on the server, without a client rendering it beside it).
    DryRun,
    /// ProposeMatches over every capability, stored (not a dry run), back to back: each
    /// proposal supersedes the last and lands all its matches in one commit.
    Propose,
}

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::GetNeed => "get-need",
            Workload::CreateNeed => "create-need",
            Workload::Mixed => "mixed",
            Workload::Approve => "approve",
            Workload::Watch => "watch",
            Workload::Echo => "echo",
            Workload::DryRun => "dry-run",
            Workload::Propose => "propose",
        }
    }
}

/// `lcm loadtest` flags (the address, token and `--json` are the global client flags).
#[derive(Debug, Clone, clap::Args)]
pub struct LoadtestArgs {
    /// What to drive.
    #[arg(long, value_enum)]
    pub workload: Workload,
    /// Requests in flight at once (approve: concurrent approvals).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// How long the measured phase runs, in seconds (approve stops earlier when every
    /// proposal is decided).
    #[arg(long = "duration-s", default_value_t = 10.0)]
    pub duration_s: f64,
    /// Needs a reading workload reads: existing ones are reused, missing ones created
    /// before it starts (approve: needs created, each with its offer).
    #[arg(long, default_value_t = 1000)]
    pub setup_needs: usize,
    /// HTTP/2 connections the requests are spread over.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// watch: WatchEvents subscribers.
    #[arg(long, default_value_t = 100)]
    pub subscribers: usize,
    /// watch: needs created per second while the subscribers follow.
    #[arg(long, default_value_t = 1000)]
    pub write_rps: u64,
    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

impl LoadtestArgs {
    /// The defaults of the command line, for `workload`.
    pub fn new(workload: Workload) -> LoadtestArgs {
        LoadtestArgs {
            workload,
            concurrency: 64,
            duration_s: 10.0,
            setup_needs: 1000,
            connections: 4,
            subscribers: 100,
            write_rps: 1000,
            quiet: false,
        }
    }

    fn duration(&self) -> Result<Duration, CliError> {
        Duration::try_from_secs_f64(self.duration_s)
            .ok()
            .filter(|d| !d.is_zero() && d.as_secs() <= 24 * 3600)
            .ok_or_else(|| crate::cli::CliError::Usage("--duration-s must be > 0 and at most a day".into()))
    }
}

/// Runs the load test and prints its report: the exit code for `main`.
pub async fn execute(client: &ClientArgs, args: LoadtestArgs) -> ExitCode {
    match run(client, &args).await {
        Ok(report) => {
            if client.json {
                println!("{}", report.to_json_line());
            } else {
                println!("{}", report.to_text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lcm loadtest: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Connects, sets up, drives the workload and returns the report.
pub async fn run(client: &ClientArgs, args: &LoadtestArgs) -> Result<Report, CliError> {
    let duration = args.duration()?;
    if args.concurrency == 0 || args.connections == 0 {
        return Err(CliError::Usage("--concurrency and --connections must be at least 1".into()));
    }
    let token = client.resolve_token()?;
    let mut channels = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        // Each `connect` opens its own HTTP/2 connection.
        channels.push(connect(client).await?);
    }
    let clients: Vec<Clients> = channels.iter().map(|c| Clients::new(c.clone(), &token)).collect::<Result<_, _>>()?;
    let progress = !args.quiet;
    let name = args.workload.name();
    let c = args.concurrency;
    let report = match args.workload {
        Workload::Echo => {
            let (out, tally) = drive(name, c, duration, progress, |i| {
                let client =
                    echo::pb::echo_service_client::EchoServiceClient::new(channels[i % channels.len()].clone());
                let req = echo::pb::EchoRequest { id: format!("need-{i:010}") };
                move || {
                    let mut client = client.clone();
                    let req = req.clone();
                    Some(async move { client.echo(req).await.map(|_| ()) })
                }
            })
            .await;
            finish(name, c, out, &tally)
        }
        Workload::GetNeed | Workload::Mixed => {
            let ids = Arc::new(setup_needs(&clients, args, progress).await?);
            let write_share = if args.workload == Workload::Mixed { 0.1 } else { 0.0 };
            let (out, tally) = drive(name, c, duration, progress, |i| {
                let clients = clients[i % clients.len()].clone();
                let ids = ids.clone();
                let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
                let states = fixtures::states();
                let now = fixtures::now_unix();
                move || {
                    let mut needs = clients.needs();
                    if rng.gen_bool(write_share) {
                        let req = fixtures::create_need_request(&states[rng.gen_range(0..states.len())], now);
                        return Some(Box::pin(async move { needs.create_need(req).await.map(|_| ()) }) as BoxCall);
                    }
                    let id = ids.get(rng.gen_range(0..ids.len().max(1))).cloned().unwrap_or_default();
                    Some(Box::pin(async move { needs.get_need(api::GetNeedRequest { id }).await.map(|_| ()) }))
                }
            })
            .await;
            finish(name, c, out, &tally)
        }
        Workload::CreateNeed => {
            let (out, tally) = drive(name, c, duration, progress, |i| {
                let clients = clients[i % clients.len()].clone();
                let states = fixtures::states();
                let now = fixtures::now_unix();
                let mut n = i;
                move || {
                    let mut needs = clients.needs();
                    n += 1;
                    let req = fixtures::create_need_request(&states[n % states.len()], now);
                    Some(async move { needs.create_need(req).await.map(|_| ()) })
                }
            })
            .await;
            finish(name, c, out, &tally)
        }
        Workload::DryRun | Workload::Propose => {
            let dry_run = args.workload == Workload::DryRun;
            let (out, tally) = drive(name, c, duration, progress, |i| {
                let clients = clients[i % clients.len()].clone();
                move || {
                    let mut matching = clients.matching();
                    let request_id = if dry_run { String::new() } else { request_id() };
                    let req = api::ProposeMatchesRequest { dry_run, request_id, ..Default::default() };
                    Some(async move { matching.propose_matches(req).await.map(|_| ()) })
                }
            })
            .await;
            finish(name, c, out, &tally)
        }
        Workload::Approve => approve::run(&clients, args, duration).await?,
        Workload::Watch => watch::run(&clients, args, duration).await?,
    };
    Ok(report)
}

/// The need the reading workloads create (and `create-need` writes), requested by
/// `requester`, with `needed_by` 120 days from now.
pub fn sample_need(requester: &str) -> api::Need {
    fixtures::need(requester, fixtures::now_unix())
}

/// One boxed call, so a worker can choose between requests of different types.
type BoxCall = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), tonic::Status>> + Send>>;

/// Makes sure `--setup-needs` needs (at least one) exist: reuses the needs the caller can
/// already list (so runs on a big store do not grow it), and creates the missing ones,
/// spread over all states.
async fn setup_needs(clients: &[Clients], args: &LoadtestArgs, progress: bool) -> Result<Vec<String>, CliError> {
    let n = args.setup_needs.max(1);
    let started = std::time::Instant::now();
    let mut ids = Vec::with_capacity(n);
    let mut lister = clients.first().ok_or_else(|| CliError::Usage("no connections".into()))?.needs();
    let mut page_token = String::new();
    while ids.len() < n {
        let req = api::ListNeedsRequest { page_size: 500, page_token, ..Default::default() };
        let page =
            lister.list_needs(req).await.map_err(|s| CliError::Status(s).context("setup: listing needs"))?.into_inner();
        ids.extend(page.needs.into_iter().map(|need| need.id).take(n - ids.len()));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let reused = ids.len();
    let states = fixtures::states();
    let now = fixtures::now_unix();
    let created = fixtures::create_needs(clients, n - reused, 64, |i| fixtures::need(&states[i % states.len()], now))
        .await
        .map_err(|s| CliError::Status(s).context("setup: creating needs"))?;
    ids.extend(created);
    if progress {
        eprintln!(
            "[setup] {n} needs ({reused} already there, {} created) in {:.1}s",
            n - reused,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ids)
}

/// The report of a drive; prints the failures by gRPC code on stderr.
fn finish(name: &str, concurrency: usize, out: driver::Outcome, tally: &driver::Tally) -> Report {
    for line in tally.error_lines() {
        eprintln!("[{name}] errors: {line}");
    }
    Report::new(name, concurrency, out.errors, out.elapsed, out.latencies_us)
}
