//! The `lcm` command: `lcm serve` runs the service; the other subcommands are clients
//! and benchmark drivers.

use clap::{Parser, Subcommand};
use lcm::config::ServeArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "lcm", version, about = "Light coordination mechanism for peacekeeping training and capacity building")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC service.
    Serve(ServeArgs),
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lcm: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    lcm::telemetry::init(args.log_format);
    let opened = lcm::server::open(&args)?;
    let listener = lcm::server::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, data_dir = %args.data_dir.display(), "serving");
    lcm::server::serve(opened.ctx, listener, lcm::server::shutdown_signal()).await?;
    Ok(())
}
