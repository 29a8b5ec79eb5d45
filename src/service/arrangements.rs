//! `lcm.v1.ArrangementService`: consent of the parties, scheduling, delivery, outcomes.

use super::workflow::{seating_of, store_changes};
use super::*;
use crate::api as pb;
use crate::api::arrangement_service_server::ArrangementService;
use crate::convert;
use tonic::{Request, Response, Status};

fn readable(store: &Store, caller: &Caller, id: Id) -> AppResult<Arrangement> {
    store
        .get::<Arrangement>(id)?
        .filter(|a| caller.can_read_arrangement(a))
        .ok_or_else(|| not_found(Kind::Arrangement, id))
}

/// The write path of a change to one arrangement: under the writer gate, `change` decides
/// on arrangement `id` as the caller reads it (a domain command, or a refusal); what it
/// changed is stored with its events, and the arrangement it leaves is answered.
async fn change_arrangement(
    store: &Store,
    call: WriteCall,
    id: Id,
    change: impl FnOnce(Arrangement, UnixMicros) -> AppResult<(Arrangement, Changes)>,
) -> AppResult<pb::Arrangement> {
    let caller = call.caller().clone();
    call.commit(store, |_, ws, now| {
        let (a, changes) = change(readable(store, &caller, id)?, now)?;
        store_changes(ws, changes, now, &caller.principal_id);
        Ok(convert::arrangement_to_proto(&a))
    })
    .await
}

fn parse_status(raw: i32) -> AppResult<ArrangementStatus> {
    let mut v = Violations::default();
    let to = v.enum_value("to", raw, convert::status_from);
    match to {
        Some(to) if v.is_empty() => Ok(to),
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

#[tonic::async_trait]
impl ArrangementService for Services {
    async fn get_arrangement(
        &self,
        req: Request<pb::GetArrangementRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        let caller = caller(&req)?;
        let id = parse_id(Kind::Arrangement, &req.get_ref().id)?;
        Ok(Response::new(convert::arrangement_to_proto(&readable(&self.store, &caller, id)?)))
    }

    async fn list_arrangements(
        &self,
        req: Request<pb::ListArrangementsRequest>,
    ) -> Result<Response<pb::ListArrangementsResponse>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let mut v = Violations::default();
        let status = (req.status != 0).then(|| v.enum_value("status", req.status, convert::status_from)).flatten();
        let party = (!req.party.is_empty()).then(|| v.state("party", &req.party)).flatten();
        let centre = if req.training_centre_id.is_empty() {
            None
        } else {
            let c = Id::parse(Kind::Centre, &req.training_centre_id);
            if c.is_none() {
                v.add("training_centre_id", "is not a training centre id");
            }
            c
        };
        v.finish(())?;
        let scope = format!("ListArrangements|{}|{}|{}", req.status, req.party, req.training_centre_id);
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, &scope, &caller)?;
        let (items, next_page_token) = pager.page(
            &self.store,
            self.store.scan::<Arrangement>(pager.after_id()),
            |a| a.meta.id.0,
            |a| {
                caller.can_read_arrangement(a)
                    && status.is_none_or(|s| a.status == s)
                    && party.is_none_or(|p| a.is_party(p))
                    && centre.is_none_or(|c| a.allocation.training_centre == Some(c))
            },
        )?;
        Ok(Response::new(pb::ListArrangementsResponse {
            arrangements: items.iter().map(convert::arrangement_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn respond_to_arrangement(
        &self,
        req: Request<pb::RespondToArrangementRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        let caller = caller(&req)?;
        let state = caller.consenting_state()?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "RespondToArrangement", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("note", &req.note, 0, convert::limits::MAX_NOTE_CHARS, true);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Arrangement, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let out = change_arrangement(store, call, id, |a, now| {
            check_etag(&req.etag, &a.meta)?;
            let seating = seating_of(store, &a)?;
            Ok(commands::respond(a, seating, state, req.accept, &req.note, now, &actor)?)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn transition_arrangement(
        &self,
        req: Request<pb::TransitionArrangementRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let to = parse_status(req.to)?;
        let rule = transition_rule(to);
        if let Some((_, Mover::Secretariat)) = rule {
            caller.require_secretariat()?;
        }
        let call = WriteCall::new(&caller, "TransitionArrangement", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("note", &req.note, 0, convert::limits::MAX_NOTE_CHARS, true);
        let dates = if to == ArrangementStatus::Scheduled {
            (
                v.time("scheduled_start", req.scheduled_start.as_ref()),
                v.time("scheduled_end", req.scheduled_end.as_ref()),
            )
        } else {
            (None, None)
        };
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Arrangement, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let out = change_arrangement(store, call, id, |a, now| {
            let (_, mover) = commands::transition_mover(to)?;
            if mover == Mover::DeliveryTeam {
                caller.may_deliver(&a)?;
            }
            check_etag(&req.etag, &a.meta)?;
            let seating = seating_of(store, &a)?;
            Ok(commands::transition(a, seating, to, dates, &req.note, now, &actor)?)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn record_outcome(
        &self,
        req: Request<pb::RecordOutcomeRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "RecordOutcome", &req.request_id, &req)?;
        let o = checked!(
            call,
            &self.store,
            req.outcome.as_ref().ok_or_else(|| AppError::invalid("outcome", "is required"))
        );
        let outcome = checked!(call, &self.store, convert::outcome(o));
        let id = checked!(call, &self.store, parse_id(Kind::Arrangement, &req.id));
        let store = &self.store;
        let out = change_arrangement(store, call, id, |a, now| {
            caller.may_record_outcome(&a)?;
            check_etag(&req.etag, &a.meta)?;
            Ok(commands::record_outcome(a, outcome, now)?)
        })
        .await?;
        Ok(Response::new(out))
    }
}
