//! `lcm.v1.ArrangementService`: consent of the parties, scheduling, delivery, outcomes.

use super::workflow::WorkflowChange;
use super::*;
use crate::api as pb;
use crate::api::arrangement_service_server::ArrangementService;
use crate::convert;
use crate::matching::show_day;
use tonic::{Request, Response, Status};

fn readable(store: &Store, caller: &Caller, id: Id) -> AppResult<Arrangement> {
    store
        .get::<Arrangement>(id)?
        .filter(|a| caller.can_read_arrangement(a))
        .ok_or_else(|| not_found(Kind::Arrangement, id))
}

/// The write path of a change to one arrangement: under the writer gate, `change` decides
/// on arrangement `id` as the caller reads it (or refuses); the arrangement it leaves is
/// stored with an event of the kind it names, and answered.
async fn change_arrangement(
    store: &Store,
    call: WriteCall,
    id: Id,
    change: impl FnOnce(&mut Arrangement, &mut WorkflowChange<'_>, UnixMicros) -> AppResult<EventKind>,
) -> AppResult<pb::Arrangement> {
    let caller = call.caller().clone();
    call.commit(
        store,
        |_, ws, now| {
            let mut a = readable(store, &caller, id)?;
            let mut tx = WorkflowChange::new(store, ws, now, &caller.principal_id);
            let kind = change(&mut a, &mut tx, now)?;
            tx.put_arrangement(&a, kind);
            Ok(convert::arrangement_to_proto(&a))
        },
        Clone::clone,
    )
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
        let Some(state) = caller.state() else {
            return Err(AppError::PermissionDenied("only a party state gives or refuses its consent".into()).into());
        };
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "RespondToArrangement", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("note", &req.note, 0, convert::limits::MAX_NOTE_CHARS, true);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Arrangement, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let out = change_arrangement(store, call, id, |a, tx, now| {
            check_etag(&req.etag, &a.meta)?;
            if a.status != ArrangementStatus::PendingConsent {
                return Err(AppError::precondition(
                    Reason::WrongState,
                    "the arrangement is no longer waiting for consent",
                ));
            }
            let Some(consent) = a.consents.iter_mut().find(|c| c.state == state) else {
                return Err(not_found(Kind::Arrangement, id));
            };
            if consent.decision != ConsentDecision::Pending {
                return Err(AppError::precondition(Reason::AlreadyAnswered, format!("{state} has already answered")));
            }
            consent.decision = if req.accept { ConsentDecision::Accepted } else { ConsentDecision::Refused };
            consent.note.clone_from(&req.note);
            consent.time = Some(now);
            a.meta = a.meta.touched(now);
            if !req.accept {
                a.move_to(ArrangementStatus::Declined, &actor, now, &req.note);
                tx.settle_seats(a, false)?;
                tx.remember_refusal(a.need, a.allocation.offer);
                if let Some(f) = a.allocation.funding_offer {
                    tx.remember_refusal(a.need, f);
                }
            } else if a.consents.iter().all(|c| c.decision == ConsentDecision::Accepted) {
                a.move_to(ArrangementStatus::Agreed, &actor, now, &req.note);
            }
            Ok(EventKind::ArrangementChanged)
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
            require_secretariat(&caller)?;
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
        let out = change_arrangement(store, call, id, |a, tx, now| {
            let Some((from, mover)) = rule else {
                return Err(AppError::precondition(
                    Reason::WrongState,
                    format!("{to} is reached by consent, not by a transition"),
                ));
            };
            if mover == Mover::DeliveryTeam && !caller.is_delivery_team(a) {
                return Err(AppError::PermissionDenied(
                    "only the hosting centre, a delivering party or the Secretariat may do this".into(),
                ));
            }
            check_etag(&req.etag, &a.meta)?;
            if !from.contains(&a.status) {
                return Err(AppError::precondition(
                    Reason::WrongState,
                    format!("cannot move from {} to {to}", a.status),
                ));
            }
            match to {
                ArrangementStatus::Scheduled => {
                    let (start, end) = schedule(tx, a, dates, now)?;
                    a.scheduled_start = Some(start);
                    a.scheduled_end = Some(end);
                }
                ArrangementStatus::Completed => tx.settle_seats(a, true)?,
                ArrangementStatus::Cancelled => tx.settle_seats(a, false)?,
                _ => {}
            }
            a.meta = a.meta.touched(now);
            a.move_to(to, &actor, now, &req.note);
            Ok(EventKind::ArrangementChanged)
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
        let o =
            checked!(call, &self.store, req.outcome.clone().ok_or_else(|| AppError::invalid("outcome", "is required")));
        checked!(call, &self.store, convert::check_outcome(&o));
        let id = checked!(call, &self.store, parse_id(Kind::Arrangement, &req.id));
        let store = &self.store;
        let out = change_arrangement(store, call, id, |a, _, now| {
            if !caller.is_delivery_team(a) {
                return Err(AppError::PermissionDenied(
                    "only the hosting centre, a delivering party or the Secretariat record outcomes".into(),
                ));
            }
            check_etag(&req.etag, &a.meta)?;
            if o.trained > a.allocation.quantity {
                return Err(AppError::invalid(
                    "outcome.trained",
                    format!("must not exceed the arrangement's {} seats", a.allocation.quantity),
                ));
            }
            if !matches!(a.status, ArrangementStatus::InDelivery | ArrangementStatus::Completed) {
                return Err(AppError::precondition(
                    Reason::WrongState,
                    "outcomes are recorded in IN_DELIVERY or COMPLETED",
                ));
            }
            a.outcome = Some(Outcome {
                trained: o.trained,
                women_trained: o.women_trained,
                certified: o.certified,
                deployed_missions: o.deployed_missions.clone(),
                trainers_qualified: o.trainers_qualified,
            });
            a.meta = a.meta.touched(now);
            Ok(EventKind::OutcomeRecorded)
        })
        .await?;
        Ok(Response::new(out))
    }
}

/// Checks the requested dates: the start day satisfies the delivery window (and the
/// funding offer's dates), and the end is start + duration.
fn schedule(
    tx: &mut WorkflowChange<'_>,
    a: &Arrangement,
    dates: (Option<UnixMicros>, Option<UnixMicros>),
    now: UnixMicros,
) -> AppResult<(UnixMicros, UnixMicros)> {
    let (Some(start), Some(end)) = dates else {
        return Err(AppError::invalid("scheduled_start", "dates are required to schedule"));
    };
    let offer = tx.offer(a.allocation.offer)?;
    let need = tx.need(a.need)?;
    let duration = offer.spec.terms.delivery().map_or(1, |d| i64::from(d.duration_days));
    let s = day_of_micros(start);
    let mut window = start_window(
        day_of_micros(now),
        day_of_micros(offer.spec.available_from),
        day_of_micros(offer.spec.available_until),
        day_of_micros(need.spec.needed_by),
        duration,
    );
    if let Some(f) = a.allocation.funding_offer {
        let funder = tx.offer(f)?;
        let (f_first, f_last) =
            (day_of_micros(funder.spec.available_from), day_of_micros(funder.spec.available_until) - duration);
        window = window.and_then(|(first, last)| {
            let (first, last) = (first.max(f_first), last.min(f_last));
            (first <= last).then_some((first, last))
        });
    }
    let mut v = Violations::default();
    match window {
        Some((first, last)) if first <= s && s <= last => {}
        Some((first, last)) => v.add(
            "scheduled_start",
            format!(
                "must lie between {} and {} (offer availability, need deadline and funding dates, for a {duration}-day course)",
                show_day(first),
                show_day(last)
            ),
        ),
        None => v.add(
            "scheduled_start",
            "no start day fits any more: offer availability, need deadline and funding dates leave no room for the course",
        ),
    }
    if day_of_micros(end) != s + duration {
        v.add("scheduled_end", format!("must be the start day + {duration} days"));
    }
    v.finish((start, end))
}
