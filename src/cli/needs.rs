//! `lcm needs create|get|list|update|withdraw`.

use super::args::{Paging, collect_pages, parse_language, parse_state, parse_time, parse_trimmed};
use super::connect::request_id;
use super::error::CliError;
use super::{Ctx, Mask};
use crate::api;
use api::{CapabilityArea, DeliveryMode, NeedState, Priority, ReadinessLevel, SupportCategory};
use prost_types::Timestamp;

/// Needs: what a troop- or police-contributing country asks for.
#[derive(Debug, clap::Subcommand)]
pub enum NeedsCmd {
    /// File a new need (as its requester, or as the Secretariat for any state).
    Create(Box<NeedCreate>),
    /// Show every field of one need.
    #[command(visible_alias = "show")]
    Get {
        /// The need's id.
        id: String,
    },
    /// List needs, following pages to the end.
    List(NeedList),
    /// Change fields of a need; only the fields given are sent in `update_mask`.
    Update(Box<NeedUpdate>),
    /// Withdraw a need: it is matched no more.
    Withdraw {
        /// The need's id.
        id: String,
        /// The etag last read (default: read the need now and use its etag).
        #[arg(long)]
        etag: Option<String>,
    },
}

/// Fields of a new need.
#[derive(Debug, clap::Args)]
pub struct NeedCreate {
    /// Requesting member state (alpha-3, e.g. UGA).
    #[arg(long, value_parser = parse_state)]
    pub requester: String,
    #[arg(long, value_enum, ignore_case = true)]
    pub category: SupportCategory,
    #[arg(long, value_enum, ignore_case = true)]
    pub capability: CapabilityArea,
    /// A short title, 1..200 characters.
    #[arg(long, value_parser = parse_trimmed)]
    pub title: String,
    /// Free text, up to 4000 characters.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Seats or units, 1..100000.
    #[arg(long)]
    pub quantity: u32,
    /// Seats of `quantity` to be filled by women.
    #[arg(long, default_value_t = 0)]
    pub women_quantity: u32,
    /// Accepted languages, ISO 639-1, comma-separated (e.g. en,fr).
    #[arg(long, value_delimiter = ',', required = true, value_parser = parse_language)]
    pub languages: Vec<String>,
    /// Delivery must be complete by then: YYYY-MM-DD, RFC 3339 or +N days.
    #[arg(long, value_parser = parse_time)]
    pub needed_by: Timestamp,
    #[arg(long, value_enum, ignore_case = true)]
    pub priority: Priority,
    /// PCRS readiness level the need supports.
    #[arg(long, value_enum, ignore_case = true)]
    pub pledge_level: ReadinessLevel,
    /// Accepted delivery modes, comma-separated (default: any).
    #[arg(long, value_enum, ignore_case = true, value_delimiter = ',')]
    pub accepted_modes: Vec<DeliveryMode>,
    /// PCRS unit reference.
    #[arg(long, default_value = "")]
    pub pledge_ref: String,
    /// Mission acronym (e.g. UNMISS).
    #[arg(long, default_value = "")]
    pub mission: String,
}

/// Filters of `needs list`.
#[derive(Debug, clap::Args)]
pub struct NeedList {
    #[arg(long, value_parser = parse_state)]
    pub requester: Option<String>,
    #[arg(long, value_enum, ignore_case = true)]
    pub capability: Option<CapabilityArea>,
    #[arg(long, value_enum, ignore_case = true)]
    pub state: Option<NeedState>,
    #[command(flatten)]
    pub paging: Paging,
}

/// The fields `needs update` may change; each one given goes into `update_mask`.
#[derive(Debug, clap::Args)]
pub struct NeedUpdate {
    /// The need's id.
    pub id: String,
    /// The etag last read (default: read the need now and use its etag).
    #[arg(long)]
    pub etag: Option<String>,
    #[arg(long, value_parser = parse_trimmed)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub quantity: Option<u32>,
    #[arg(long)]
    pub women_quantity: Option<u32>,
    #[arg(long, value_delimiter = ',', value_parser = parse_language)]
    pub languages: Option<Vec<String>>,
    #[arg(long, value_parser = parse_time)]
    pub needed_by: Option<Timestamp>,
    #[arg(long, value_enum, ignore_case = true)]
    pub priority: Option<Priority>,
    #[arg(long, value_enum, ignore_case = true)]
    pub pledge_level: Option<ReadinessLevel>,
    /// Accepted delivery modes; give the flag with no value to accept any.
    #[arg(long, value_enum, ignore_case = true, value_delimiter = ',', num_args = 0..)]
    pub accepted_modes: Option<Vec<DeliveryMode>>,
    #[arg(long)]
    pub pledge_ref: Option<String>,
    #[arg(long)]
    pub mission: Option<String>,
}

impl NeedCreate {
    /// The need message this command sends.
    pub fn to_need(&self) -> api::Need {
        api::Need {
            requester: self.requester.clone(),
            category: self.category.into(),
            capability: self.capability.into(),
            title: self.title.clone(),
            description: self.description.clone(),
            quantity: self.quantity,
            women_quantity: self.women_quantity,
            languages: self.languages.clone(),
            needed_by: Some(self.needed_by),
            priority: self.priority.into(),
            pledge_ref: self.pledge_ref.clone(),
            pledge_level: self.pledge_level.into(),
            mission: self.mission.clone(),
            accepted_modes: self.accepted_modes.iter().map(|m| i32::from(*m)).collect(),
            ..api::Need::default()
        }
    }
}

impl NeedUpdate {
    /// The need carrying the given fields, and the mask naming exactly those fields.
    pub fn to_need_and_mask(&self, etag: String) -> (api::Need, Mask) {
        let mut need = api::Need { id: self.id.clone(), etag, ..api::Need::default() };
        let mut mask = Mask::default();
        mask.set("title", self.title.clone(), &mut need.title);
        mask.set("description", self.description.clone(), &mut need.description);
        mask.set("quantity", self.quantity, &mut need.quantity);
        mask.set("women_quantity", self.women_quantity, &mut need.women_quantity);
        mask.set("languages", self.languages.clone(), &mut need.languages);
        mask.set("needed_by", self.needed_by.map(Some), &mut need.needed_by);
        mask.set("priority", self.priority.map(i32::from), &mut need.priority);
        mask.set("pledge_level", self.pledge_level.map(i32::from), &mut need.pledge_level);
        let modes = self.accepted_modes.as_ref().map(|v| v.iter().map(|m| i32::from(*m)).collect());
        mask.set("accepted_modes", modes, &mut need.accepted_modes);
        mask.set("pledge_ref", self.pledge_ref.clone(), &mut need.pledge_ref);
        mask.set("mission", self.mission.clone(), &mut need.mission);
        (need, mask)
    }
}

/// Runs one `needs` command.
pub async fn run(cmd: NeedsCmd, ctx: &Ctx) -> Result<(), CliError> {
    let mut client = ctx.clients.needs();
    match cmd {
        NeedsCmd::Create(args) => {
            let req = api::CreateNeedRequest { need: Some(args.to_need()), request_id: request_id() };
            ctx.one(&client.create_need(req).await?.into_inner())
        }
        NeedsCmd::Get { id } => {
            let need = client.get_need(api::GetNeedRequest { id }).await?;
            ctx.one(&need.into_inner())
        }
        NeedsCmd::List(args) => {
            let needs = collect_pages(&args.paging, |page_token| {
                let mut client = client.clone();
                let req = api::ListNeedsRequest {
                    page_size: args.paging.page_size(),
                    page_token,
                    requester: args.requester.clone().unwrap_or_default(),
                    capability: args.capability.map_or(0, i32::from),
                    state: args.state.map_or(0, i32::from),
                };
                async move {
                    let resp = client.list_needs(req).await?.into_inner();
                    Ok((resp.needs, resp.next_page_token))
                }
            })
            .await?;
            ctx.list(&needs)
        }
        NeedsCmd::Update(args) => {
            let (mut need, mask) = args.to_need_and_mask(String::new());
            let update_mask = mask.into_field_mask()?;
            need.etag = super::etag_or_current(args.etag.clone(), || current_etag(ctx, &args.id)).await?;
            let req =
                api::UpdateNeedRequest { need: Some(need), update_mask: Some(update_mask), request_id: request_id() };
            ctx.one(&client.update_need(req).await?.into_inner())
        }
        NeedsCmd::Withdraw { id, etag } => {
            let etag = super::etag_or_current(etag, || current_etag(ctx, &id)).await?;
            let req = api::WithdrawNeedRequest { id, etag, request_id: request_id() };
            ctx.one(&client.withdraw_need(req).await?.into_inner())
        }
    }
}

async fn current_etag(ctx: &Ctx, id: &str) -> Result<String, CliError> {
    let req = api::GetNeedRequest { id: id.to_string() };
    Ok(ctx.clients.needs().get_need(req).await?.into_inner().etag)
}
