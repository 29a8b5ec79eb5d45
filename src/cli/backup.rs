//! `lcm backup` (online, through `AdminService.ExportBackup`) and `lcm restore` (offline,
//! into a new data directory).
//!
//! A backup is written to `FILE.partial`, checked completely (length and SHA-256, see
//! `store::backup`), synced, and only then renamed to `FILE`, so `FILE` is either the
//! previous good backup or the new good one, never a torn file.

use super::error::{CliError, usage};
use super::{Clients, Ctx};
use crate::api;
use crate::store::backup::{self, BackupInfo};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where `lcm restore` reads and writes.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// The backup file written by `lcm backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The new data directory (must not exist or be empty); then `lcm serve --data-dir DIR`.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io { path: path.display().to_string(), source }
}

/// Streams a consistent snapshot of the server's store into `out`; returns what it holds.
pub async fn backup_to(clients: &Clients, out: &Path) -> Result<BackupInfo, CliError> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = fetch_into(clients, &partial).await.and_then(|()| {
        let bytes = std::fs::read(&partial).map_err(io_error(&partial))?;
        let info = backup::verify(&bytes).map_err(|e| {
            usage(format!("the server sent a bad backup ({e}); nothing was written to {}", out.display()))
        })?;
        std::fs::rename(&partial, out).map_err(io_error(out))?;
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable (best effort: not every platform can open a directory).
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(info)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

async fn fetch_into(clients: &Clients, path: &Path) -> Result<(), CliError> {
    let mut file = std::fs::File::create(path).map_err(io_error(path))?;
    let mut stream = clients.admin().export_backup(api::ExportBackupRequest {}).await?.into_inner();
    let mut written = 0u64;
    let mut expected = None;
    while let Some(message) = stream.message().await? {
        expected.get_or_insert(message.total_bytes);
        file.write_all(&message.chunk).map_err(io_error(path))?;
        written += message.chunk.len() as u64;
    }
    if let Some(expected) = expected.filter(|e| *e != written) {
        return Err(usage(format!("the backup stream ended after {written} of {expected} bytes; try again")));
    }
    file.sync_all().map_err(io_error(path))
}

/// `lcm backup --out FILE`.
pub async fn run_backup(out: PathBuf, ctx: &Ctx) -> Result<(), CliError> {
    let info = backup_to(&ctx.clients, &out).await?;
    report(ctx, "backup written", &out, &info)
}

/// `lcm restore --from FILE --data-dir DIR`: needs no server, and no server may run on DIR.
pub fn restore(args: &RestoreArgs) -> Result<BackupInfo, CliError> {
    let dir = &args.data_dir;
    if dir.exists() && std::fs::read_dir(dir).map_err(io_error(dir))?.next().is_some() {
        return Err(usage(format!(
            "{} is not empty: restore only into a new or empty directory (nothing was written)",
            dir.display()
        )));
    }
    let bytes = std::fs::read(&args.from).map_err(io_error(&args.from))?;
    backup::restore(&bytes, &crate::server::store_path(dir))
        .map_err(|e| usage(format!("cannot restore from {}: {e}", args.from.display())))
}

/// Runs `lcm restore` and prints what was restored: the exit code for `main`.
pub fn execute_restore(args: &RestoreArgs, json: bool) -> std::process::ExitCode {
    match restore(args) {
        Ok(info) => {
            let text = if json {
                summary_json("restored", &args.data_dir, &info).to_string()
            } else {
                format!(
                    "restored {} into {} ({} bytes, events up to {}, sha256 {}).\n\
                     The admin.token file is not in a backup: keep the bootstrap token yourself; it still works.\n\
                     Start the server with: lcm serve --data-dir {}",
                    args.from.display(),
                    args.data_dir.display(),
                    info.total_bytes,
                    info.last_event_sequence,
                    info.sha256,
                    args.data_dir.display()
                )
            };
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lcm: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

fn summary_json(what: &str, path: &Path, info: &BackupInfo) -> serde_json::Value {
    serde_json::json!({
        "result": what,
        "path": path.display().to_string(),
        "bytes": info.total_bytes,
        "last_event_sequence": info.last_event_sequence,
        "sha256": info.sha256,
        "created_unix_micros": info.created,
        "trees": info.trees.iter().map(|(n, c)| (n.clone(), serde_json::Value::from(*c))).collect::<serde_json::Map<_, _>>(),
    })
}

fn report(ctx: &Ctx, what: &str, path: &Path, info: &BackupInfo) -> Result<(), CliError> {
    if ctx.format == super::Format::Json {
        return ctx.line(&summary_json(what, path, info).to_string());
    }
    ctx.line(&format!(
        "{what}: {} ({} bytes, events up to {}, {} needs, {} offers, {} principals, sha256 {})",
        path.display(),
        info.total_bytes,
        info.last_event_sequence,
        info.count("needs"),
        info.count("offers"),
        info.count("principals"),
        info.sha256
    ))
}
