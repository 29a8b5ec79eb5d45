//! `lcm.v1.NeedService`: needs filed by T/PCCs (or by the Secretariat for them).

use super::filed::{self, Filed};
use super::*;
use crate::api as pb;
use crate::api::need_service_server::NeedService;
use crate::convert::{self, Clock};
use tonic::{Request, Response, Status};

/// Fields an update may name (`requester`, `category`, `capability` only to their
/// current value: they never change; see `domain::commands::update_need`).
const NEED_FIELDS: &[&str] = &[
    "requester",
    "category",
    "capability",
    "title",
    "description",
    "quantity",
    "women_quantity",
    "languages",
    "needed_by",
    "priority",
    "pledge_ref",
    "pledge_level",
    "mission",
    "accepted_modes",
];

impl Filed for Need {
    type Proto = pb::Need;
    const UPDATED: EventKind = EventKind::NeedUpdated;
    const WITHDRAWN: EventKind = EventKind::NeedWithdrawn;
    fn check_path(path: &str) -> Result<(), String> {
        if NEED_FIELDS.contains(&path) {
            Ok(())
        } else {
            Err(format!("{path:?} is not a field of Need that can be updated"))
        }
    }

    fn to_proto(&self) -> pb::Need {
        convert::need_to_proto(self)
    }

    fn into_event(self) -> EventResource {
        EventResource::Need(self)
    }

    fn changeable(store: &Store, caller: &Caller, id: Id) -> AppResult<Need> {
        let need = readable_need(store, caller, id)?;
        caller.may_change_need(&need)?;
        Ok(need)
    }

    fn updated(_: &Store, current: &Need, merged: &pb::Need, now: UnixMicros) -> AppResult<Need> {
        let date_changed = merged.needed_by != convert::need_to_proto(current).needed_by;
        let spec = convert::need_spec(merged, "need", Clock { now }, date_changed)?;
        Ok(commands::update_need(current, spec, now)?)
    }

    fn copy_field(dst: &mut pb::Need, src: &pb::Need, path: &str) {
        copy_need_field(dst, src, path);
    }
}

fn copy_need_field(dst: &mut pb::Need, src: &pb::Need, path: &str) {
    match path {
        "requester" => dst.requester.clone_from(&src.requester),
        "category" => dst.category = src.category,
        "capability" => dst.capability = src.capability,
        "title" => dst.title.clone_from(&src.title),
        "description" => dst.description.clone_from(&src.description),
        "quantity" => dst.quantity = src.quantity,
        "women_quantity" => dst.women_quantity = src.women_quantity,
        "languages" => dst.languages.clone_from(&src.languages),
        "needed_by" => dst.needed_by = src.needed_by,
        "priority" => dst.priority = src.priority,
        "pledge_ref" => dst.pledge_ref.clone_from(&src.pledge_ref),
        "pledge_level" => dst.pledge_level = src.pledge_level,
        "mission" => dst.mission.clone_from(&src.mission),
        "accepted_modes" => dst.accepted_modes.clone_from(&src.accepted_modes),
        _ => {}
    }
}

/// Whether the body asks for CRITICAL priority (which only the Secretariat sets).
fn is_critical(need: &pb::Need) -> bool {
    need.priority == pb::Priority::Critical as i32
}

fn readable_need(store: &Store, caller: &Caller, id: Id) -> AppResult<Need> {
    store.get::<Need>(id)?.filter(|n| caller.can_read_need(n)).ok_or_else(|| not_found(Kind::Need, id))
}

#[tonic::async_trait]
impl NeedService for Services {
    async fn create_need(&self, req: Request<pb::CreateNeedRequest>) -> Result<Response<pb::Need>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let body = req.need.clone().unwrap_or_default();
        caller.may_file_need(&body.requester, true, is_critical(&body))?;
        let call = WriteCall::new(&caller, "CreateNeed", &req.request_id, &req)?;
        let spec = match req.need {
            None => Err(AppError::invalid("need", "is required")),
            Some(_) => convert::need_spec(&body, "need", Clock { now: now_micros() }, true),
        };
        let spec = checked!(call, &self.store, spec);
        let actor = caller.principal_id.clone();
        let need = call
            .commit(&self.store, |w, ws, now| Ok(w.create_need(ws, now, &actor, spec, convert::need_to_proto)))
            .await?;
        tracing::debug!(need_id = %need.id, requester = %need.requester, "need created");
        Ok(Response::new(need))
    }

    async fn get_need(&self, req: Request<pb::GetNeedRequest>) -> Result<Response<pb::Need>, Status> {
        let caller = caller(&req)?;
        caller.refuse_centres("training centres cannot call NeedService")?;
        let id = parse_id(Kind::Need, &req.get_ref().id)?;
        Ok(Response::new(convert::need_to_proto(&readable_need(&self.store, &caller, id)?)))
    }

    async fn list_needs(&self, req: Request<pb::ListNeedsRequest>) -> Result<Response<pb::ListNeedsResponse>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        caller.may_file_need(&req.requester, false, false)?;
        let mut v = Violations::default();
        let requester = (!req.requester.is_empty()).then(|| v.state("requester", &req.requester)).flatten();
        let capability = (req.capability != 0)
            .then(|| v.enum_value("capability", req.capability, convert::capability_from))
            .flatten();
        let state = (req.state != 0).then(|| v.enum_value("state", req.state, convert::need_state_from)).flatten();
        v.finish(())?;
        let scope = format!("ListNeeds|{}|{}|{}", req.requester, req.capability, req.state);
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, &scope, &caller)?;
        let by_state = requester.or(caller.state());
        let store = &self.store;
        let items: Box<dyn Iterator<Item = crate::store::StoreResult<Need>>> = match by_state {
            Some(s) => Box::new(
                store.needs_of_requester(s, pager.after_id())?.filter_map(|id| store.get::<Need>(id).transpose()),
            ),
            None => Box::new(store.scan::<Need>(pager.after_id())),
        };
        let (needs, next_page_token) = pager.page(
            store,
            items,
            |n| n.meta.id.0,
            |n| {
                caller.can_read_need(n)
                    && capability.is_none_or(|c| n.spec.capability == c)
                    && state.is_none_or(|s| n.state() == s)
            },
        )?;
        Ok(Response::new(pb::ListNeedsResponse {
            needs: needs.iter().map(convert::need_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_need(&self, req: Request<pb::UpdateNeedRequest>) -> Result<Response<pb::Need>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let body = req.need.clone().unwrap_or_default();
        let paths: Vec<String> = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        caller.may_file_need(&body.requester, false, paths.iter().any(|p| p == "priority") && is_critical(&body))?;
        let call = WriteCall::new(&caller, "UpdateNeed", &req.request_id, &req)?;
        let (id, etag) = (body.id.clone(), body.etag.clone());
        filed::update::<Need>(&self.store, call, body, &id, &etag, paths).await
    }

    async fn withdraw_need(&self, req: Request<pb::WithdrawNeedRequest>) -> Result<Response<pb::Need>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        caller.may_file_need("", false, false)?;
        let call = WriteCall::new(&caller, "WithdrawNeed", &req.request_id, &req)?;
        filed::withdraw::<Need>(&self.store, call, &req.id, &req.etag).await
    }
}
