//! `lcm offers create|get|list|update|withdraw`.

use super::args::{parse_language, parse_state, parse_time};
use super::error::CliError;
use super::filed::{self, Listing, Subject, Target, Texts};
use super::{Ctx, Mask};
use crate::api;
use api::{DeliveryMode, OfferRole, OfferState};
use prost_types::Timestamp;

/// Offers: seats or units a member state gives, or seats it pays for.
#[derive(Debug, clap::Subcommand)]
pub enum OffersCmd {
    /// Make a new offer (as one of its providers, or as the Secretariat).
    Create(Box<OfferCreate>),
    /// Show every field of one offer.
    #[command(visible_alias = "show")]
    Get {
        /// The offer's id.
        id: String,
    },
    /// List offers, following pages to the end.
    List(OfferList),
    /// Change fields of an offer; only the fields given are sent in `update_mask`.
    Update(Box<OfferUpdate>),
    /// Withdraw an offer: it is matched no more.
    Withdraw(Target),
}

/// Fields of a new offer. A FUNDING offer leaves the DELIVERY-only flags out.
#[derive(Debug, clap::Args)]
pub struct OfferCreate {
    /// Providing member states, comma-separated; the first is the lead.
    #[arg(long, value_delimiter = ',', required = true, value_parser = parse_state)]
    pub providers: Vec<String>,
    #[arg(long, value_enum, ignore_case = true)]
    pub role: OfferRole,
    #[command(flatten)]
    pub subject: Subject,
    /// Seats or units given, or seats funded (1..100000).
    #[arg(long)]
    pub capacity: u32,
    /// YYYY-MM-DD, RFC 3339 or +N days.
    #[arg(long, value_parser = parse_time)]
    pub available_from: Timestamp,
    /// YYYY-MM-DD, RFC 3339 or +N days.
    #[arg(long, value_parser = parse_time)]
    pub available_until: Timestamp,
    /// States that may receive (default: any), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_state)]
    pub eligible_recipients: Vec<String>,
    /// States that may not receive, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_state)]
    pub excluded_recipients: Vec<String>,
    /// Most seats one recipient may get (0 = no cap).
    #[arg(long, default_value_t = 0)]
    pub max_per_recipient: u32,
    /// DELIVERY: languages taught, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_language)]
    pub languages: Vec<String>,
    /// DELIVERY: how it is delivered.
    #[arg(long, value_enum, ignore_case = true)]
    pub mode: Option<DeliveryMode>,
    /// DELIVERY: the hosting centre (required iff --mode AT_TRAINING_CENTRE).
    #[arg(long, default_value = "")]
    pub training_centre_id: String,
    /// DELIVERY: course length in days.
    #[arg(long, default_value_t = 0)]
    pub duration_days: u32,
    /// DELIVERY: seats for women only.
    #[arg(long)]
    pub women_only: bool,
    /// DELIVERY: seats are given only when a FUNDING offer pays for them.
    #[arg(long)]
    pub requires_funding: bool,
}

/// Filters of `offers list`.
#[derive(Debug, clap::Args)]
pub struct OfferList {
    #[arg(long, value_parser = parse_state)]
    pub provider: Option<String>,
    #[arg(long, value_enum, ignore_case = true)]
    pub role: Option<OfferRole>,
    #[arg(long, value_enum, ignore_case = true)]
    pub state: Option<OfferState>,
    #[command(flatten)]
    pub listing: Listing,
}

/// The fields `offers update` may change; each one given goes into `update_mask`.
#[derive(Debug, clap::Args)]
pub struct OfferUpdate {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub texts: Texts,
    #[arg(long)]
    pub capacity: Option<u32>,
    #[arg(long, value_parser = parse_time)]
    pub available_from: Option<Timestamp>,
    #[arg(long, value_parser = parse_time)]
    pub available_until: Option<Timestamp>,
    /// Give the flag with no value to open the offer to any state.
    #[arg(long, value_delimiter = ',', num_args = 0.., value_parser = parse_state)]
    pub eligible_recipients: Option<Vec<String>>,
    /// Give the flag with no value to exclude nobody.
    #[arg(long, value_delimiter = ',', num_args = 0.., value_parser = parse_state)]
    pub excluded_recipients: Option<Vec<String>>,
    #[arg(long)]
    pub max_per_recipient: Option<u32>,
    #[arg(long, value_delimiter = ',', value_parser = parse_language)]
    pub languages: Option<Vec<String>>,
    #[arg(long, value_enum, ignore_case = true)]
    pub mode: Option<DeliveryMode>,
    #[arg(long)]
    pub training_centre_id: Option<String>,
    #[arg(long)]
    pub duration_days: Option<u32>,
    /// true or false.
    #[arg(long)]
    pub women_only: Option<bool>,
    /// true or false.
    #[arg(long)]
    pub requires_funding: Option<bool>,
}

impl OfferCreate {
    /// The offer message this command sends.
    pub fn to_offer(&self) -> api::Offer {
        api::Offer {
            providers: self.providers.clone(),
            role: self.role.into(),
            category: self.subject.category.into(),
            capability: self.subject.capability.into(),
            title: self.subject.title.clone(),
            description: self.subject.description.clone(),
            capacity: self.capacity,
            available_from: Some(self.available_from),
            available_until: Some(self.available_until),
            eligible_recipients: self.eligible_recipients.clone(),
            excluded_recipients: self.excluded_recipients.clone(),
            max_per_recipient: self.max_per_recipient,
            languages: self.languages.clone(),
            mode: self.mode.map_or(0, i32::from),
            training_centre_id: self.training_centre_id.clone(),
            duration_days: self.duration_days,
            women_only: self.women_only,
            requires_funding: self.requires_funding,
            ..api::Offer::default()
        }
    }
}

impl OfferList {
    /// The request for one page.
    fn request(&self, page_token: String) -> api::ListOffersRequest {
        let (page_size, capability) = self.listing.page();
        api::ListOffersRequest {
            page_size,
            page_token,
            provider: self.provider.clone().unwrap_or_default(),
            capability,
            role: self.role.map_or(0, i32::from),
            state: self.state.map_or(0, i32::from),
        }
    }
}

impl OfferUpdate {
    /// The offer carrying the given fields, and the mask naming exactly those fields.
    pub fn to_offer_and_mask(&self, etag: String) -> (api::Offer, Mask) {
        let mut offer = api::Offer { id: self.target.id.clone(), etag, ..api::Offer::default() };
        let o = &mut offer;
        let mut mask = Mask::default();
        self.texts.set(&mut mask, &mut o.title, &mut o.description);
        mask.set("capacity", self.capacity, &mut o.capacity);
        mask.set("available_from", self.available_from.map(Some), &mut o.available_from);
        mask.set("available_until", self.available_until.map(Some), &mut o.available_until);
        let eligible = self.eligible_recipients.clone();
        mask.set("eligible_recipients", eligible, &mut o.eligible_recipients);
        let excluded = self.excluded_recipients.clone();
        mask.set("excluded_recipients", excluded, &mut o.excluded_recipients);
        mask.set("max_per_recipient", self.max_per_recipient, &mut o.max_per_recipient);
        mask.set("languages", self.languages.clone(), &mut o.languages);
        mask.set("mode", self.mode.map(i32::from), &mut o.mode);
        let centre = self.training_centre_id.clone();
        mask.set("training_centre_id", centre, &mut o.training_centre_id);
        mask.set("duration_days", self.duration_days, &mut o.duration_days);
        mask.set("women_only", self.women_only, &mut o.women_only);
        mask.set("requires_funding", self.requires_funding, &mut o.requires_funding);
        (offer, mask)
    }
}

/// Runs one `offers` command.
pub async fn run(cmd: OffersCmd, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        OffersCmd::Create(args) => filed::create(ctx, args.to_offer()).await,
        OffersCmd::Get { id } => filed::show::<api::Offer>(ctx, id).await,
        OffersCmd::List(args) => {
            filed::list::<api::Offer>(ctx, &args.listing.paging, |page_token| args.request(page_token)).await
        }
        OffersCmd::Update(args) => filed::update(ctx, &args.target, args.to_offer_and_mask(String::new())).await,
        OffersCmd::Withdraw(target) => filed::withdraw::<api::Offer>(ctx, target).await,
    }
}
