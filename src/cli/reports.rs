//! `lcm report gaps|deconfliction|gender|capacity|readiness`: tables, `--json`, or `--csv` for spreadsheets.

use super::Ctx;
use super::error::CliError;
use super::render::{Format, View, print_list, to_json};
use crate::api::{self, GapGrouping};

/// Reports for coordinators.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Print CSV (a header row, then one row per line) for spreadsheets.
    #[arg(long, global = true)]
    pub csv: bool,
    #[command(subcommand)]
    pub which: ReportCmd,
}

/// Which report.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCmd {
    /// Seats needed, reserved, delivered and open, per capability or per requester.
    Gaps {
        /// Group rows by CAPABILITY or REQUESTER.
        #[arg(long = "by", value_enum, ignore_case = true, default_value = "CAPABILITY")]
        group_by: GapGrouping,
    },
    /// The same support coming from several sources at overlapping times.
    Deconfliction,
    /// Women's seats per requester and overall, against the target share.
    Gender,
    /// Lasting capacity per requester: in-country delivery, trainers qualified, national
    /// centres, and capabilities where support came back without building capacity.
    Capacity,
    /// Needs with open seats whose date is near (at risk) or past (overdue).
    Readiness,
}

/// Runs one `report` command.
pub async fn run(args: ReportArgs, ctx: &Ctx) -> Result<(), CliError> {
    let format = match (ctx.format, args.csv) {
        (Format::Json, _) => Format::Json,
        (_, true) => Format::Csv,
        (format, false) => format,
    };
    let mut client = ctx.clients.reports();
    match args.which {
        ReportCmd::Gaps { group_by } => {
            let req = api::GetGapReportRequest { group_by: group_by.into() };
            let resp = client.get_gap_report(req).await?.into_inner();
            emit(ctx, format, &resp, &resp.rows)
        }
        ReportCmd::Deconfliction => {
            let req = api::GetDeconflictionReportRequest {};
            let resp = client.get_deconfliction_report(req).await?.into_inner();
            emit(ctx, format, &resp, &resp.findings)
        }
        ReportCmd::Gender => {
            let req = api::GetGenderReportRequest {};
            let resp = client.get_gender_report(req).await?.into_inner();
            let mut rows = resp.rows.clone();
            if let Some(overall) = &resp.overall {
                rows.push(api::GenderRow { requester: "overall".to_string(), ..overall.clone() });
            }
            emit(ctx, format, &resp, &rows)
        }
        ReportCmd::Capacity => {
            let resp = client.get_capacity_report(api::GetCapacityReportRequest {}).await?.into_inner();
            emit(ctx, format, &resp, &resp.rows)
        }
        ReportCmd::Readiness => {
            let resp = client.get_readiness_report(api::GetReadinessReportRequest {}).await?.into_inner();
            emit(ctx, format, &resp, &resp.rows)
        }
    }
}

/// The whole response as JSON, or its rows as a table or CSV.
fn emit<R: View, Row: View>(ctx: &Ctx, format: Format, resp: &R, rows: &[Row]) -> Result<(), CliError> {
    if format == Format::Json {
        return ctx.line(&super::render::pretty(&to_json(resp)?));
    }
    let mut out = std::io::stdout().lock();
    print_list(&mut out, rows, format)
}
