//! `lcm.v1.OfferService`: seats given (DELIVERY) or paid for (FUNDING) by member states.

use super::filed::{self, Filed};
use super::*;
use crate::api as pb;
use crate::api::offer_service_server::OfferService;
use crate::convert::{self, Clock};
use tonic::{Request, Response, Status};

const OFFER_FIELDS: &[&str] = &[
    "providers",
    "role",
    "category",
    "capability",
    "title",
    "description",
    "capacity",
    "available_from",
    "available_until",
    "eligible_recipients",
    "excluded_recipients",
    "max_per_recipient",
    "languages",
    "mode",
    "training_centre_id",
    "duration_days",
    "women_only",
    "requires_funding",
];

impl Filed for Offer {
    type Proto = pb::Offer;
    const UPDATED: EventKind = EventKind::OfferUpdated;
    const WITHDRAWN: EventKind = EventKind::OfferWithdrawn;
    fn check_path(path: &str) -> Result<(), String> {
        if OFFER_FIELDS.contains(&path) {
            Ok(())
        } else {
            Err(format!("{path:?} is not a field of Offer that can be updated"))
        }
    }

    fn to_proto(&self) -> pb::Offer {
        convert::offer_to_proto(self)
    }

    fn into_event(self) -> EventResource {
        EventResource::Offer(self)
    }

    fn changeable(store: &Store, caller: &Caller, id: Id) -> AppResult<Offer> {
        writable_offer(store, caller, id)
    }

    fn updated(store: &Store, current: &Offer, merged: &pb::Offer, now: UnixMicros) -> AppResult<Offer> {
        let spec = convert::offer_spec(merged, "offer", Clock { now }, &centre_exists(store))?;
        Ok(commands::update_offer(current, spec, now)?)
    }

    fn copy_field(dst: &mut pb::Offer, src: &pb::Offer, path: &str) {
        copy_offer_field(dst, src, path);
    }
}

fn copy_offer_field(dst: &mut pb::Offer, src: &pb::Offer, path: &str) {
    match path {
        "providers" => dst.providers.clone_from(&src.providers),
        "role" => dst.role = src.role,
        "category" => dst.category = src.category,
        "capability" => dst.capability = src.capability,
        "title" => dst.title.clone_from(&src.title),
        "description" => dst.description.clone_from(&src.description),
        "capacity" => dst.capacity = src.capacity,
        "available_from" => dst.available_from = src.available_from,
        "available_until" => dst.available_until = src.available_until,
        "eligible_recipients" => dst.eligible_recipients.clone_from(&src.eligible_recipients),
        "excluded_recipients" => dst.excluded_recipients.clone_from(&src.excluded_recipients),
        "max_per_recipient" => dst.max_per_recipient = src.max_per_recipient,
        "languages" => dst.languages.clone_from(&src.languages),
        "mode" => dst.mode = src.mode,
        "training_centre_id" => dst.training_centre_id.clone_from(&src.training_centre_id),
        "duration_days" => dst.duration_days = src.duration_days,
        "women_only" => dst.women_only = src.women_only,
        "requires_funding" => dst.requires_funding = src.requires_funding,
        _ => {}
    }
}

/// Whether `caller` may read `offer` ([`Caller::may_read_offer`]), asking the store which
/// matches draw on it.
pub fn may_read_offer(store: &Store, caller: &Caller, offer: &Offer) -> crate::store::StoreResult<bool> {
    caller.may_read_offer(offer, |state| party_to_offer(store, offer.meta.id, state))
}

/// Whether `state` is a party to a match drawing on `offer`.
pub fn party_to_offer(store: &Store, offer: Id, state: Alpha3) -> crate::store::StoreResult<bool> {
    for match_id in store.matches_of_offer(offer)? {
        if store.get::<Match>(match_id)?.is_some_and(|m| m.terms.parties.contains(&state)) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn readable_offer(store: &Store, caller: &Caller, id: Id) -> AppResult<Offer> {
    match store.get::<Offer>(id)? {
        Some(offer) if may_read_offer(store, caller, &offer)? => Ok(offer),
        _ => Err(not_found(Kind::Offer, id)),
    }
}

/// An offer the caller may change: readable and, for a state, one it provides.
fn writable_offer(store: &Store, caller: &Caller, id: Id) -> AppResult<Offer> {
    let offer = readable_offer(store, caller, id)?;
    caller.may_change_offer(&offer)?;
    Ok(offer)
}

fn centre_exists(store: &Store) -> impl Fn(Id) -> bool + '_ {
    move |id| matches!(store.get::<TrainingCentre>(id), Ok(Some(_)))
}

#[tonic::async_trait]
impl OfferService for Services {
    async fn create_offer(&self, req: Request<pb::CreateOfferRequest>) -> Result<Response<pb::Offer>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let body = req.offer.clone().unwrap_or_default();
        caller.may_file_offer(&body.providers, true)?;
        let call = WriteCall::new(&caller, "CreateOffer", &req.request_id, &req)?;
        let spec = match req.offer {
            None => Err(AppError::invalid("offer", "is required")),
            Some(_) => convert::offer_spec(&body, "offer", Clock { now: now_micros() }, &centre_exists(&self.store)),
        };
        let spec = checked!(call, &self.store, spec);
        let actor = caller.principal_id.clone();
        let offer = call
            .commit(&self.store, |w, ws, now| Ok(w.create_offer(ws, now, &actor, spec, convert::offer_to_proto)))
            .await?;
        tracing::debug!(offer_id = %offer.id, "offer created");
        Ok(Response::new(offer))
    }

    async fn get_offer(&self, req: Request<pb::GetOfferRequest>) -> Result<Response<pb::Offer>, Status> {
        let caller = caller(&req)?;
        caller.may_file_offer(&[], false)?;
        let id = parse_id(Kind::Offer, &req.get_ref().id)?;
        Ok(Response::new(convert::offer_to_proto(&readable_offer(&self.store, &caller, id)?)))
    }

    async fn list_offers(
        &self,
        req: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        let caller = caller(&req)?;
        caller.may_file_offer(&[], false)?;
        let req = req.into_inner();
        let mut v = Violations::default();
        let provider = (!req.provider.is_empty()).then(|| v.state("provider", &req.provider)).flatten();
        let capability = (req.capability != 0)
            .then(|| v.enum_value("capability", req.capability, convert::capability_from))
            .flatten();
        let role = (req.role != 0).then(|| v.enum_value("role", req.role, convert::role_from)).flatten();
        let state = (req.state != 0).then(|| v.enum_value("state", req.state, convert::offer_state_from)).flatten();
        v.finish(())?;
        let scope = format!("ListOffers|{}|{}|{}|{}", req.provider, req.capability, req.role, req.state);
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, &scope, &caller)?;
        let store = &self.store;
        let items: Box<dyn Iterator<Item = crate::store::StoreResult<Offer>>> = match provider {
            Some(p) => Box::new(
                store.offers_of_provider(p, pager.after_id())?.filter_map(|id| store.get::<Offer>(id).transpose()),
            ),
            None => Box::new(store.scan::<Offer>(pager.after_id())),
        };
        // Filters first: the party check reads the store.
        let items = items
            .filter(|o| {
                o.as_ref().map_or(true, |o| {
                    capability.is_none_or(|c| o.spec.capability == c)
                        && role.is_none_or(|r| o.spec.terms.role() == r)
                        && state.is_none_or(|s| o.state() == s)
                })
            })
            .map(|o| o.and_then(|o| Ok((may_read_offer(store, &caller, &o)?, o))));
        let (offers, next_page_token) = pager.page(store, items, |(_, o)| o.meta.id.0, |(readable, _)| *readable)?;
        Ok(Response::new(pb::ListOffersResponse {
            offers: offers.iter().map(|(_, o)| convert::offer_to_proto(o)).collect(),
            next_page_token,
        }))
    }

    async fn update_offer(&self, req: Request<pb::UpdateOfferRequest>) -> Result<Response<pb::Offer>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let body = req.offer.clone().unwrap_or_default();
        caller.may_file_offer(&body.providers, false)?;
        let call = WriteCall::new(&caller, "UpdateOffer", &req.request_id, &req)?;
        let paths: Vec<String> = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        let (id, etag) = (body.id.clone(), body.etag.clone());
        filed::update::<Offer>(&self.store, call, body, &id, &etag, paths).await
    }

    async fn withdraw_offer(&self, req: Request<pb::WithdrawOfferRequest>) -> Result<Response<pb::Offer>, Status> {
        let caller = caller(&req)?;
        caller.may_file_offer(&[], false)?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "WithdrawOffer", &req.request_id, &req)?;
        filed::withdraw::<Offer>(&self.store, call, &req.id, &req.etag).await
    }
}
