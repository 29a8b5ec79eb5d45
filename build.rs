//! Compiles proto/lcm/v1/*.proto with protox (pure Rust, no system protoc) and writes the
//! file descriptor set that server reflection serves.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files = ["proto/lcm/v1/resources.proto", "proto/lcm/v1/services.proto"];
    let fds = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("lcm_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(fds)?;
    // google.rpc's error-detail messages (ErrorInfo, BadRequest, ...), served by
    // reflection only so that generic clients decode the details of an error (the Rust
    // types come from tonic-types).
    let details = protox::compile(["google/rpc/error_details.proto"], ["proto"])?;
    std::fs::write(out.join("google_rpc_descriptor.bin"), prost::Message::encode_to_vec(&details))?;
    // The load-test baseline's echo service: compiled apart, so lcm's reflection does not serve it.
    let echo = protox::compile(["proto/lcm/echo/v1/echo.proto"], ["proto"])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(echo)?;
    Ok(())
}
