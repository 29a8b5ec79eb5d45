//! `lcm needs create|get|list|update|withdraw`.

use super::args::{parse_language, parse_state, parse_time};
use super::error::CliError;
use super::filed::{self, Listing, Subject, Target, Texts};
use super::{Ctx, Mask};
use crate::api;
use api::{DeliveryMode, NeedState, Priority, ReadinessLevel};
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
    Withdraw(Target),
}

/// Fields of a new need.
#[derive(Debug, clap::Args)]
pub struct NeedCreate {
    /// Requesting member state (alpha-3, e.g. UGA).
    #[arg(long, value_parser = parse_state)]
    pub requester: String,
    #[command(flatten)]
    pub subject: Subject,
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
    pub state: Option<NeedState>,
    #[command(flatten)]
    pub listing: Listing,
}

/// The fields `needs update` may change; each one given goes into `update_mask`.
#[derive(Debug, clap::Args)]
pub struct NeedUpdate {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub texts: Texts,
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
            category: self.subject.category.into(),
            capability: self.subject.capability.into(),
            title: self.subject.title.clone(),
            description: self.subject.description.clone(),
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

impl NeedList {
    /// The request for one page.
    fn request(&self, page_token: String) -> api::ListNeedsRequest {
        let (page_size, capability) = self.listing.page();
        api::ListNeedsRequest {
            page_size,
            page_token,
            requester: self.requester.clone().unwrap_or_default(),
            capability,
            state: self.state.map_or(0, i32::from),
        }
    }
}

impl NeedUpdate {
    /// The need carrying the given fields, and the mask naming exactly those fields.
    pub fn to_need_and_mask(&self, etag: String) -> (api::Need, Mask) {
        let mut need = api::Need { id: self.target.id.clone(), etag, ..api::Need::default() };
        let mut mask = Mask::default();
        self.texts.set(&mut mask, &mut need.title, &mut need.description);
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
    match cmd {
        NeedsCmd::Create(args) => filed::create(ctx, args.to_need()).await,
        NeedsCmd::Get { id } => filed::show::<api::Need>(ctx, id).await,
        NeedsCmd::List(args) => {
            filed::list::<api::Need>(ctx, &args.listing.paging, |page_token| args.request(page_token)).await
        }
        NeedsCmd::Update(args) => filed::update(ctx, &args.target, args.to_need_and_mask(String::new())).await,
        NeedsCmd::Withdraw(target) => filed::withdraw::<api::Need>(ctx, target).await,
    }
}
