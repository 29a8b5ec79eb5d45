//! The command-line client of the `lcm` binary: every client subcommand, the scenario
//! importer, and the demo principals of `lcm serve --demo`.
//!
//! Commands talk to a running server through the public gRPC API only (`LCM_ADDR`,
//! `LCM_TOKEN`), exactly as any other client would; nothing here touches the store.
//! Output is a table (or every field, for one resource) by default and JSON with
//! `--json`; failures go to stderr with the gRPC code, the ErrorInfo reason and every
//! field violation, and the process exits non-zero.

mod args;
mod arrangements;
mod backup;
mod centres;
mod connect;
mod demo;
mod enums;
mod error;
mod events;
mod filed;
mod import;
mod matching;
mod needs;
mod offers;
mod render;
mod reports;
mod views;

#[cfg(test)]
mod tests;

pub use backup::{RestoreArgs, backup_to, execute_restore, restore};
pub use connect::{Authed, BearerAuth, ClientArgs, Clients, connect, request_id};
pub use demo::{DEMO_COMPLETED_NEED, demo_history};
pub use enums::ApiEnum;
pub use error::{CliError, describe_status};
pub use import::{DemoPrincipal, ImportReport, create_demo_principals, demo_banner, import_scenario};
pub use render::{Format, View, to_json};

use crate::scenario::Scenario;
use render::{print_list, print_one};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The client subcommands, flattened into the top-level `lcm` command.
#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Needs of troop- and police-contributing countries.
    #[command(subcommand)]
    Needs(needs::NeedsCmd),
    /// Offers of seats, units or funding.
    #[command(subcommand)]
    Offers(offers::OffersCmd),
    /// Partner training centres.
    #[command(subcommand)]
    Centres(centres::CentresCmd),
    /// The audit trail: list it, or watch it live.
    #[command(subcommand)]
    Events(events::EventsCmd),
    /// Administration: principals and their tokens.
    #[command(subcommand)]
    Admin(centres::AdminCmd),
    /// Load a scenario file (centres, needs, offers) through the API, as the Secretariat.
    Import {
        /// The scenario JSON file, e.g. fixtures/tpp-demo.json.
        file: PathBuf,
    },
    /// Proposals of the matching engine and decisions on them.
    #[command(subcommand)]
    Match(matching::MatchCmd),
    /// Why a need gets (or does not get) seats from each candidate offer.
    Explain {
        /// The need's id.
        need_id: String,
    },
    /// Arrangements: consent, schedule, delivery and outcome.
    #[command(subcommand)]
    Arrangements(arrangements::ArrangementsCmd),
    /// Gap, deconfliction and gender reports.
    Report(reports::ReportArgs),
    /// Write a consistent snapshot of the running server's store to a file (Secretariat).
    Backup {
        /// The backup file (replaced only once the new backup is complete and checked).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Runs one client command and reports a failure on stderr: the exit code for `main`.
pub async fn execute(args: &ClientArgs, command: ClientCommand) -> ExitCode {
    match run(args, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lcm: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs one client command against the server named by `args`.
pub async fn run(args: &ClientArgs, command: ClientCommand) -> Result<(), CliError> {
    let token = args.resolve_token()?;
    // Read a scenario before connecting, so a bad file fails without a server.
    let scenario = match &command {
        ClientCommand::Import { file } => Some(read_scenario(file)?),
        _ => None,
    };
    let channel = connect(args).await?;
    let ctx = Ctx {
        clients: Clients::new(channel.clone(), &token)?,
        format: if args.json { Format::Json } else { Format::Table },
    };
    match command {
        ClientCommand::Needs(cmd) => needs::run(cmd, &ctx).await,
        ClientCommand::Offers(cmd) => offers::run(cmd, &ctx).await,
        ClientCommand::Centres(cmd) => centres::run_centres(cmd, &ctx).await,
        ClientCommand::Events(cmd) => events::run(cmd, &ctx).await,
        ClientCommand::Admin(cmd) => centres::run_admin(cmd, &ctx).await,
        ClientCommand::Import { .. } => {
            let Some(scenario) = scenario else {
                return Err(error::usage("no scenario"));
            };
            let t0 = args::now_unix_seconds();
            let report = import_scenario(channel, &token, &scenario, t0).await?;
            print_import_report(&ctx, &report)
        }
        ClientCommand::Match(cmd) => matching::run(cmd, &ctx).await,
        ClientCommand::Explain { need_id } => matching::explain(need_id, &ctx).await,
        ClientCommand::Arrangements(cmd) => arrangements::run(cmd, &ctx).await,
        ClientCommand::Report(cmd) => reports::run(cmd, &ctx).await,
        ClientCommand::Backup { out } => backup::run_backup(out, &ctx).await,
    }
}

/// Reads and checks a scenario file.
pub fn read_scenario(path: &std::path::Path) -> Result<Scenario, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.display().to_string(), source })?;
    Scenario::from_json(&text).map_err(|e| error::usage(format!("{}: {e}", path.display())))
}

fn print_import_report(ctx: &Ctx, report: &ImportReport) -> Result<(), CliError> {
    let t0 = prost_types::Timestamp { seconds: report.t0_unix_seconds, nanos: 0 };
    if ctx.format == Format::Json {
        let mut json = serde_json::to_value(report).map_err(std::io::Error::other)?;
        json["t0"] = serde_json::Value::String(t0.to_string());
        return ctx.line(&render::pretty(&json));
    }
    ctx.line(&format!(
        "Imported {} training centres, {} needs and {} offers (T0 = {t0}).\n",
        report.training_centres.len(),
        report.needs.len(),
        report.offers.len()
    ))?;
    let rows: Vec<serde_json::Value> =
        [("centre", &report.training_centres), ("need", &report.needs), ("offer", &report.offers)]
            .into_iter()
            .flat_map(|(kind, map)| {
                map.iter().map(move |(r, id)| serde_json::json!({"kind": kind, "ref": r, "id": id}))
            })
            .collect();
    let columns = [
        render::Column("KIND", "kind", render::Cell::Plain),
        render::Column("REF", "ref", render::Cell::Plain),
        render::Column("ID", "id", render::Cell::Plain),
    ];
    render::write_table(&mut std::io::stdout().lock(), &columns, &rows)
}

/// What every command needs: the clients and the output format.
pub(crate) struct Ctx {
    pub(crate) clients: Clients,
    pub(crate) format: Format,
}

impl Ctx {
    /// Prints one message (every field, or JSON).
    pub(crate) fn one<M: View>(&self, message: &M) -> Result<(), CliError> {
        print_one(&mut std::io::stdout().lock(), message, self.format)
    }

    /// Prints a list of messages (a table, or a JSON array).
    pub(crate) fn list<M: View>(&self, items: &[M]) -> Result<(), CliError> {
        print_list(&mut std::io::stdout().lock(), items, self.format)
    }

    /// Prints one line of text.
    pub(crate) fn line(&self, text: &str) -> Result<(), CliError> {
        writeln!(std::io::stdout().lock(), "{text}")?;
        Ok(())
    }
}

/// The etag an update or withdrawal sends: the one given (`--etag`), else the resource's
/// current one, read with `current`.
pub(crate) async fn etag_or_current<F>(given: Option<String>, current: impl FnOnce() -> F) -> Result<String, CliError>
where
    F: std::future::Future<Output = Result<String, CliError>>,
{
    match given {
        Some(etag) => Ok(etag),
        None => current().await,
    }
}

/// The `update_mask` of an update: exactly the fields given on the command line.
#[derive(Debug, Default)]
pub struct Mask(Vec<&'static str>);

impl Mask {
    /// When `value` is given, stores it in `slot` and adds `path` to the mask.
    pub fn set<T>(&mut self, path: &'static str, value: Option<T>, slot: &mut T) {
        if let Some(value) = value {
            *slot = value;
            self.0.push(path);
        }
    }

    /// The mask's paths, in the order given.
    pub fn paths(&self) -> &[&'static str] {
        &self.0
    }

    /// The protobuf mask; an empty one is a usage error (the server would refuse it).
    pub fn into_field_mask(self) -> Result<prost_types::FieldMask, CliError> {
        if self.0.is_empty() {
            return Err(error::usage("nothing to update: give at least one field to change (see --help)"));
        }
        Ok(prost_types::FieldMask { paths: self.0.into_iter().map(String::from).collect() })
    }
}
