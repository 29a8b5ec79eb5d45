//! `lcm-echo`: the baseline server of `lcm loadtest --workload echo`, a minimal tonic
//! unary service (`lcm.echo.v1.EchoService/Echo`) that answers from memory with a reply
//! of `--reply-bytes` bytes; no auth, no store. Same tonic and build profile as `lcm`.
#![forbid(unsafe_code)]

use clap::Parser;
use lcm::loadtest::echo::{DEFAULT_REPLY_BYTES, Echo, serve};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: a gRPC server allocates and frees many small
/// buffers per request, and glibc's malloc was ~15% of the server's time under write load
/// (docs/PERFORMANCE.md). The echo baseline uses it too, so the comparison stays fair.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "lcm-echo", version, about = "Baseline gRPC echo server for lcm loadtest")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50052")]
    listen: std::net::SocketAddr,
    /// Encoded size of every reply, in bytes (default: a typical GetNeed answer).
    #[arg(long, default_value_t = DEFAULT_REPLY_BYTES)]
    reply_bytes: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lcm-echo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lcm-echo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let listener = lcm::server::bind(args.listen).await?;
    let echo = Echo::new(args.reply_bytes);
    eprintln!("lcm-echo: listening on {} ({}-byte replies)", listener.local_addr()?, echo.reply_len());
    serve(echo, listener, lcm::server::shutdown_signal()).await?;
    Ok(())
}
