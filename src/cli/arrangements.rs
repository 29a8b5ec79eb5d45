//! `lcm arrangements list|show|accept|decline|schedule|start|complete|cancel|outcome`.

use super::Ctx;
use super::args::{Paging, collect_pages, parse_state, parse_time, parse_trimmed};
use super::connect::request_id;
use super::error::{CliError, usage};
use crate::api::{self, ArrangementStatus};
use prost_types::Timestamp;

/// Deliveries that approved matches became: consent, schedule, delivery, outcome.
#[derive(Debug, clap::Subcommand)]
pub enum ArrangementsCmd {
    /// List arrangements the caller may read.
    List {
        #[arg(long, value_enum, ignore_case = true)]
        status: Option<ArrangementStatus>,
        /// Only arrangements this state is a party to.
        #[arg(long, value_parser = parse_state)]
        party: Option<String>,
        #[arg(long)]
        training_centre_id: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Show every field of one arrangement, with consents and history.
    #[command(visible_alias = "get")]
    Show {
        /// The arrangement's id.
        id: String,
    },
    /// Give the caller's state's consent.
    Accept(Step),
    /// Refuse the caller's state's consent; the arrangement is DECLINED.
    Decline(Step),
    /// Set the dates of an AGREED arrangement (Secretariat).
    Schedule {
        #[command(flatten)]
        step: Step,
        /// First day: YYYY-MM-DD, RFC 3339 or +N days.
        #[arg(long, value_parser = parse_time)]
        start: Timestamp,
        /// End (default: start + the delivery offer's duration_days).
        #[arg(long, value_parser = parse_time)]
        end: Option<Timestamp>,
    },
    /// Delivery begins: SCHEDULED → IN_DELIVERY.
    Start(Step),
    /// Delivery is done: IN_DELIVERY → COMPLETED.
    Complete(Step),
    /// Cancel a live arrangement (Secretariat); its seats are released.
    Cancel(Step),
    /// Record (replace) the outcome of an arrangement in delivery or completed.
    Outcome {
        #[command(flatten)]
        step: Step,
        #[arg(long)]
        trained: u32,
        #[arg(long, default_value_t = 0)]
        women_trained: u32,
        #[arg(long, default_value_t = 0)]
        certified: u32,
        /// Of the certified, how many now train others in this capability.
        #[arg(long, default_value_t = 0)]
        trainers_qualified: u32,
        /// Missions the trained personnel deployed to, comma-separated.
        #[arg(long, value_delimiter = ',', value_parser = parse_trimmed)]
        deployed_missions: Vec<String>,
    },
}

/// The arrangement a step acts on, the etag, and a note for its history.
#[derive(Debug, clap::Args)]
pub struct Step {
    /// The arrangement's id.
    pub id: String,
    /// The etag last read (default: read the arrangement now and use its etag).
    #[arg(long)]
    pub etag: Option<String>,
    /// A note recorded with the change.
    #[arg(long, default_value = "")]
    pub note: String,
}

/// Runs one `arrangements` command.
pub async fn run(cmd: ArrangementsCmd, ctx: &Ctx) -> Result<(), CliError> {
    let mut client = ctx.clients.arrangements();
    let changed = match cmd {
        ArrangementsCmd::List { status, party, training_centre_id, paging } => {
            let arrangements = collect_pages(&paging, |page_token| {
                let mut client = client.clone();
                let req = api::ListArrangementsRequest {
                    page_size: paging.page_size(),
                    page_token,
                    status: status.map_or(0, i32::from),
                    party: party.clone().unwrap_or_default(),
                    training_centre_id: training_centre_id.clone().unwrap_or_default(),
                };
                async move {
                    let resp = client.list_arrangements(req).await?.into_inner();
                    Ok((resp.arrangements, resp.next_page_token))
                }
            })
            .await?;
            return ctx.list(&arrangements);
        }
        ArrangementsCmd::Show { id } => get(ctx, &id).await?,
        ArrangementsCmd::Accept(step) => respond(ctx, step, true).await?,
        ArrangementsCmd::Decline(step) => respond(ctx, step, false).await?,
        ArrangementsCmd::Schedule { step, start, end } => {
            let current = get(ctx, &step.id).await?;
            let end = match end {
                Some(end) => end,
                None => start_plus_duration(ctx, &current, start).await?,
            };
            let etag = step.etag.clone().unwrap_or(current.etag);
            let req = transition(step, etag, ArrangementStatus::Scheduled, Some((start, end)));
            client.transition_arrangement(req).await?.into_inner()
        }
        ArrangementsCmd::Start(step) => move_to(ctx, step, ArrangementStatus::InDelivery).await?,
        ArrangementsCmd::Complete(step) => move_to(ctx, step, ArrangementStatus::Completed).await?,
        ArrangementsCmd::Cancel(step) => move_to(ctx, step, ArrangementStatus::Cancelled).await?,
        ArrangementsCmd::Outcome { step, trained, women_trained, certified, trainers_qualified, deployed_missions } => {
            let etag = etag_of(ctx, &step).await?;
            let req = api::RecordOutcomeRequest {
                id: step.id,
                etag,
                outcome: Some(api::Outcome {
                    trained,
                    women_trained,
                    certified,
                    deployed_missions,
                    trainers_qualified,
                }),
                request_id: request_id(),
            };
            client.record_outcome(req).await?.into_inner()
        }
    };
    ctx.one(&changed)
}

async fn get(ctx: &Ctx, id: &str) -> Result<api::Arrangement, CliError> {
    let req = api::GetArrangementRequest { id: id.to_string() };
    Ok(ctx.clients.arrangements().get_arrangement(req).await?.into_inner())
}

async fn etag_of(ctx: &Ctx, step: &Step) -> Result<String, CliError> {
    match &step.etag {
        Some(etag) => Ok(etag.clone()),
        None => Ok(get(ctx, &step.id).await?.etag),
    }
}

async fn respond(ctx: &Ctx, step: Step, accept: bool) -> Result<api::Arrangement, CliError> {
    let etag = etag_of(ctx, &step).await?;
    let req = api::RespondToArrangementRequest { id: step.id, etag, accept, note: step.note, request_id: request_id() };
    Ok(ctx.clients.arrangements().respond_to_arrangement(req).await?.into_inner())
}

async fn move_to(ctx: &Ctx, step: Step, to: ArrangementStatus) -> Result<api::Arrangement, CliError> {
    let etag = etag_of(ctx, &step).await?;
    let req = transition(step, etag, to, None);
    Ok(ctx.clients.arrangements().transition_arrangement(req).await?.into_inner())
}

fn transition(
    step: Step,
    etag: String,
    to: ArrangementStatus,
    dates: Option<(Timestamp, Timestamp)>,
) -> api::TransitionArrangementRequest {
    api::TransitionArrangementRequest {
        id: step.id,
        etag,
        to: to.into(),
        note: step.note,
        scheduled_start: dates.map(|(start, _)| start),
        scheduled_end: dates.map(|(_, end)| end),
        request_id: request_id(),
    }
}

/// The end the server expects: start + the delivery offer's `duration_days`.
async fn start_plus_duration(
    ctx: &Ctx,
    arrangement: &api::Arrangement,
    start: Timestamp,
) -> Result<Timestamp, CliError> {
    let offer_id = arrangement
        .allocation
        .as_ref()
        .map(|a| a.offer_id.clone())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| usage("the arrangement names no delivery offer: give --end"))?;
    let req = api::GetOfferRequest { id: offer_id };
    let offer = ctx.clients.offers().get_offer(req).await?.into_inner();
    Ok(Timestamp { seconds: start.seconds + i64::from(offer.duration_days) * 86_400, nanos: start.nanos })
}
