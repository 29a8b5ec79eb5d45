//! What `needs` and `offers` share: create, get, list, update and withdraw, written once
//! over either service's client ([`Filed`], implemented for both by one macro).

use super::args::{Paging, collect_pages, parse_trimmed};
use super::connect::request_id;
use super::error::CliError;
use super::render::View;
use super::{Ctx, Mask};
use crate::api;
use api::{CapabilityArea, SupportCategory};
use prost_types::FieldMask;
use tonic::Status;

/// Which need or offer a change is for, and at which version.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The id of the need or offer.
    pub id: String,
    /// The etag last read (default: read the need or offer now and use its etag).
    #[arg(long)]
    pub etag: Option<String>,
}

/// What a new need or offer is about: the fields `needs create` and `offers create` share.
#[derive(Debug, clap::Args)]
pub struct Subject {
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
}

/// The texts `needs update` and `offers update` may change.
#[derive(Debug, clap::Args)]
pub struct Texts {
    #[arg(long, value_parser = parse_trimmed)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

impl Texts {
    /// Puts the texts given into `title` and `description`, each named in `mask`.
    pub fn set(&self, mask: &mut Mask, title: &mut String, description: &mut String) {
        mask.set("title", self.title.clone(), title);
        mask.set("description", self.description.clone(), description);
    }
}

/// The filters `needs list` and `offers list` share, and paging.
#[derive(Debug, clap::Args)]
pub struct Listing {
    #[arg(long, value_enum, ignore_case = true)]
    pub capability: Option<CapabilityArea>,
    #[command(flatten)]
    pub paging: Paging,
}

impl Listing {
    /// (page size, capability) of one page's request.
    pub fn page(&self) -> (i32, i32) {
        (self.paging.page_size(), self.capability.map_or(0, i32::from))
    }
}

/// A need or an offer, as the shared commands see it: its message and its service's
/// calls.
pub(crate) trait Filed: View + Sized {
    /// One page's request of the resource's List call.
    type ListRequest;
    fn set_etag(&mut self, etag: String);
    fn etag(&self) -> &str;
    async fn create(ctx: &Ctx, record: Self) -> Result<Self, Status>;
    async fn get(ctx: &Ctx, id: String) -> Result<Self, Status>;
    async fn list_page(ctx: &Ctx, req: Self::ListRequest) -> Result<(Vec<Self>, String), Status>;
    async fn update(ctx: &Ctx, record: Self, mask: FieldMask) -> Result<Self, Status>;
    async fn withdraw(ctx: &Ctx, id: String, etag: String) -> Result<Self, Status>;
}

/// `create`: files `record` (with a new request id) and prints what the server stored.
pub(crate) async fn create<R: Filed>(ctx: &Ctx, record: R) -> Result<(), CliError> {
    ctx.one(&R::create(ctx, record).await?)
}

/// `get ID`: prints every field.
pub(crate) async fn show<R: Filed>(ctx: &Ctx, id: String) -> Result<(), CliError> {
    ctx.one(&R::get(ctx, id).await?)
}

/// `list`: follows the pages to the end (or `--limit`); `page` is the request for a page
/// token.
pub(crate) async fn list<R: Filed>(
    ctx: &Ctx,
    paging: &Paging,
    page: impl Fn(String) -> R::ListRequest,
) -> Result<(), CliError> {
    let items = collect_pages(paging, |token| R::list_page(ctx, page(token))).await?;
    ctx.list(&items)
}

/// `update ID`: sends the fields given (`record`, named by `mask`) at the etag given, or
/// at the current etag when none is.
pub(crate) async fn update<R: Filed>(
    ctx: &Ctx,
    target: &Target,
    (mut record, mask): (R, Mask),
) -> Result<(), CliError> {
    let mask = mask.into_field_mask()?;
    record.set_etag(etag_or_current::<R>(ctx, &target.id, target.etag.clone()).await?);
    ctx.one(&R::update(ctx, record, mask).await?)
}

/// `withdraw ID`: at the etag given, or at the current etag when none is.
pub(crate) async fn withdraw<R: Filed>(ctx: &Ctx, target: Target) -> Result<(), CliError> {
    let etag = etag_or_current::<R>(ctx, &target.id, target.etag).await?;
    ctx.one(&R::withdraw(ctx, target.id, etag).await?)
}

/// The etag a change sends: the one given (`--etag`), else the resource's current one.
async fn etag_or_current<R: Filed>(ctx: &Ctx, id: &str, given: Option<String>) -> Result<String, CliError> {
    super::etag_or_current(given, || async { Ok(R::get(ctx, id.to_string()).await?.etag().to_string()) }).await
}

/// [`Filed`] for a resource message `$t` of the service that `Clients::$client` reaches;
/// `$field` names the message in its requests and `$items` the list in a List response.
macro_rules! filed {
    ($t:ident, $client:ident, $field:ident, $items:ident,
     $create:ident($Create:ident), $get:ident($Get:ident), $list:ident($List:ident),
     $update:ident($Update:ident), $withdraw:ident($Withdraw:ident)) => {
        impl Filed for api::$t {
            type ListRequest = api::$List;
            fn set_etag(&mut self, etag: String) {
                self.etag = etag;
            }
            fn etag(&self) -> &str {
                &self.etag
            }
            async fn create(ctx: &Ctx, record: Self) -> Result<Self, Status> {
                let req = api::$Create { $field: Some(record), request_id: request_id() };
                Ok(ctx.clients.$client().$create(req).await?.into_inner())
            }
            async fn get(ctx: &Ctx, id: String) -> Result<Self, Status> {
                Ok(ctx.clients.$client().$get(api::$Get { id }).await?.into_inner())
            }
            async fn list_page(ctx: &Ctx, req: api::$List) -> Result<(Vec<Self>, String), Status> {
                let resp = ctx.clients.$client().$list(req).await?.into_inner();
                Ok((resp.$items, resp.next_page_token))
            }
            async fn update(ctx: &Ctx, record: Self, mask: FieldMask) -> Result<Self, Status> {
                let req = api::$Update { $field: Some(record), update_mask: Some(mask), request_id: request_id() };
                Ok(ctx.clients.$client().$update(req).await?.into_inner())
            }
            async fn withdraw(ctx: &Ctx, id: String, etag: String) -> Result<Self, Status> {
                let req = api::$Withdraw { id, etag, request_id: request_id() };
                Ok(ctx.clients.$client().$withdraw(req).await?.into_inner())
            }
        }
    };
}

filed!(
    Need,
    needs,
    need,
    needs,
    create_need(CreateNeedRequest),
    get_need(GetNeedRequest),
    list_needs(ListNeedsRequest),
    update_need(UpdateNeedRequest),
    withdraw_need(WithdrawNeedRequest)
);
filed!(
    Offer,
    offers,
    offer,
    offers,
    create_offer(CreateOfferRequest),
    get_offer(GetOfferRequest),
    list_offers(ListOffersRequest),
    update_offer(UpdateOfferRequest),
    withdraw_offer(WithdrawOfferRequest)
);
