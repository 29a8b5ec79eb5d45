//! The `lcm` command: `lcm serve` runs the service; the client subcommands talk to a
//! running server (`LCM_ADDR`, `LCM_TOKEN`); `solve-dimacs` and `bench-match` drive the
//! matching engine's benchmarks.

use clap::{Parser, Subcommand};
use lcm::config::ServeArgs;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: a gRPC server allocates and frees many small
/// buffers per request, and glibc's malloc was ~15% of the server's time under write load
/// (docs/PERFORMANCE.md). The echo baseline uses it too, so the comparison stays fair.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lcm",
    version,
    about = "Light coordination mechanism for peacekeeping training and capacity building"
)]
struct Cli {
    #[command(flatten)]
    client: lcm::cli::ClientArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC service.
    Serve(Box<ServeArgs>),
    /// Solve a min-cost-flow instance in DIMACS format; print one JSON line.
    SolveDimacs {
        file: std::path::PathBuf,
        /// Write the flows here (one `f FROM TO FLOW` line per arc, then `s COST`).
        #[arg(long)]
        solution: Option<std::path::PathBuf>,
    },
    /// Generate a synthetic matching scenario, solve it, print one JSON line.
    BenchMatch {
        #[arg(long)]
        needs: usize,
        #[arg(long)]
        offers: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of DELIVERY offers that require funding.
        #[arg(long, default_value_t = 0.0)]
        funded_share: f64,
        /// Single changes re-solved warm after the cold solve.
        #[arg(long, default_value_t = 0)]
        changes: usize,
    },
    /// Rebuild a store from a backup file into a new data directory (offline: no server).
    Restore(lcm::cli::RestoreArgs),
    /// Drive a running server (or lcm-echo) with load; print throughput and latency.
    Loadtest(lcm::loadtest::LoadtestArgs),
    /// Store benchmarks: fill a data directory, bare-open it, time recovery (issue 8).
    #[command(subcommand, hide = true)]
    BenchStore(lcm::loadtest::storebench::BenchStoreCommand),
    #[command(flatten)]
    Client(lcm::cli::ClientCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lcm: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `--ca-cert`/`LCM_CA_CERT` also tells `serve --demo` which CA to trust over TLS.
    let demo_ca = cli.client.ca_cert.clone();
    let args = match cli.command {
        Command::Client(command) => return runtime.block_on(lcm::cli::execute(&cli.client, command)),
        Command::SolveDimacs { file, solution } => {
            return print_line(lcm::matching::flow::dimacs::solve_dimacs_command(&file, solution.as_deref()));
        }
        Command::BenchMatch { needs, offers, seed, funded_share, changes } => {
            let args = lcm::matching::bench::BenchArgs { needs, offers, seed, funded_share, changes };
            return print_line(lcm::matching::bench::run_bench(&args));
        }
        Command::Loadtest(args) => return runtime.block_on(lcm::loadtest::execute(&cli.client, args)),
        Command::BenchStore(command) => return print_line(lcm::loadtest::storebench::execute(&command)),
        Command::Restore(args) => return lcm::cli::execute_restore(&args, cli.client.json),
        Command::Serve(args) => *args,
    };
    match runtime.block_on(serve(args, demo_ca)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lcm: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a benchmark's JSON line, or its error.
fn print_line(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lcm: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs, demo_ca: Option<std::path::PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    lcm::telemetry::init(args.log_format);
    // Before the store is opened: a refused transport leaves nothing behind.
    let tls = lcm::server::transport(&args)?;
    let tls_on = tls.is_some();
    let opened = lcm::server::open(&args)?;
    let listener = lcm::server::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let console = lcm::server::ConsoleSetup::bind(&args, tls_on).await?;
    let console_url = console.as_ref().map(|c| format!("{}://{}/", if c.secure { "https" } else { "http" }, c.addr));
    tracing::info!(addr = %addr, data_dir = %args.data_dir.display(), tls = tls_on, insecure_allowed = args.allow_insecure, console = console_url.as_deref().unwrap_or("off"), "serving");
    if let Some((metrics_addr, _)) = lcm::server::start_metrics(&args, &opened.ctx).await? {
        tracing::info!(url = %format!("http://{metrics_addr}/metrics"), "metrics");
    }
    let server = tokio::spawn(lcm::server::serve_with_console(
        opened.ctx,
        listener,
        tls,
        console,
        lcm::server::shutdown_signal(),
    ));
    if args.demo {
        match &opened.bootstrap_token {
            Some(token) => {
                let ca_cert = if tls_on { demo_ca.or_else(|| args.tls_cert.clone()) } else { None };
                load_demo(addr, ca_cert, token, &opened.admin_token_path).await?;
                if let Some(url) = &console_url {
                    println!("Web console: {url}  (sign in with one of the tokens above)");
                }
            }
            None => tracing::warn!(
                data_dir = %args.data_dir.display(),
                "--demo ignored: the store is not empty (remove the data directory to start the demo afresh)"
            ),
        }
    }
    if !args.demo
        && let Some(url) = &console_url
    {
        // The banner line for the console: where to point a browser.
        println!("Web console: {url}");
    }
    server.await??;
    Ok(())
}

/// Loads the demo scenario through the server's own API, creates the demo principals and
/// prints their tokens with first commands to try.
///
/// Over TLS the demo connects to `localhost` and trusts `--ca-cert`/`LCM_CA_CERT`, else the
/// server's own certificate (enough for a self-signed one).
async fn load_demo(
    addr: std::net::SocketAddr,
    ca_cert: Option<std::path::PathBuf>,
    secretariat_token: &str,
    admin_token_path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = match ca_cert {
        Some(ca) => lcm::cli::ClientArgs {
            addr: format!("https://localhost:{}", addr.port()),
            ca_cert: Some(ca),
            ..Default::default()
        },
        None => lcm::cli::ClientArgs { addr: format!("http://{addr}"), ..Default::default() },
    };
    let channel = lcm::cli::connect(&client).await?;
    let scenario = lcm::scenario::Scenario::from_json(include_str!("../fixtures/tpp-demo.json"))?;
    let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let report = lcm::cli::import_scenario(channel.clone(), secretariat_token, &scenario, t0).await?;
    lcm::cli::demo_history(channel.clone(), secretariat_token, &report).await?;
    let mut principals = vec![lcm::cli::DemoPrincipal {
        id: "principal-1".into(),
        display_name: "Secretariat (bootstrap)".into(),
        kind: lcm::api::PrincipalKind::Secretariat,
        member_state: String::new(),
        training_centre_id: String::new(),
        token: secretariat_token.to_string(),
    }];
    principals.extend(lcm::cli::create_demo_principals(channel, secretariat_token, &report).await?);
    // The demo's banner is the one thing `serve` prints to stdout, on purpose.
    print!("{}", lcm::cli::demo_banner(&addr.to_string(), admin_token_path, &report, &principals));
    Ok(())
}
