//! `lcm.v1.MatchingService`: proposals of the matching engine, approval (which reserves
//! every allocation in one transaction with the new arrangements), rejection (which the
//! engine remembers) and ExplainNeed.

use super::propose::*;
use super::workflow::{seating, store_changes};
use super::*;
use crate::api as pb;
use crate::api::matching_service_server::MatchingService;
use crate::convert;
use tonic::{Request, Response, Status};

fn readable_match(store: &Store, caller: &Caller, id: Id) -> AppResult<Match> {
    store.get::<Match>(id)?.filter(|m| caller.can_read_match(m)).ok_or_else(|| not_found(Kind::Match, id))
}

/// A match the caller may decide on: readable, the etag current, still PROPOSED.
fn proposed_match(store: &Store, caller: &Caller, id: Id, etag: &str) -> AppResult<Match> {
    let m = readable_match(store, caller, id)?;
    check_etag(etag, &m.meta)?;
    if m.state != MatchState::Proposed {
        return Err(AppError::precondition(Reason::WrongState, format!("the match is {}, not PROPOSED", m.state)));
    }
    Ok(m)
}

/// The candidate offers of `need` that `caller` may read (`None`: all of them, for the
/// Secretariat), as GetOffer would answer. The read rule is judged on the matching view's
/// copy of each offer; only those it refuses are looked up in the store, for a match the
/// caller is a party to.
fn readable_offers(
    store: &Store,
    view: &super::match_view::MatchView,
    caller: &Caller,
    need: Id,
) -> AppResult<Option<std::collections::BTreeSet<Id>>> {
    if caller.is_secretariat() {
        return Ok(None);
    }
    let split = view.candidates_by_readability(need, |face| caller.can_read_offer_face(face))?;
    let Some((mut readable, others)) = split else { return Ok(Some(Default::default())) };
    if let Some(state) = caller.state() {
        for id in others {
            if super::offers::party_to_offer(store, id, state)? {
                readable.insert(id);
            }
        }
    }
    Ok(Some(readable))
}

fn no_centres(caller: &Caller) -> AppResult<()> {
    Ok(caller.refuse_centres("training centres cannot call MatchingService")?)
}

#[tonic::async_trait]
impl MatchingService for Services {
    async fn propose_matches(
        &self,
        req: Request<pb::ProposeMatchesRequest>,
    ) -> Result<Response<pb::ProposeMatchesResponse>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "ProposeMatches", &req.request_id, &req)?.long_running();
        let mut v = Violations::default();
        let capabilities = convert::capabilities_from(&mut v, "capabilities", &req.capabilities);
        let hypothetical = hypothetical_specs(&self.store, &mut v, &req.hypothetical_offers, req.dry_run);
        checked!(call, &self.store, v.finish(()));
        let actor = caller.principal_id.clone();
        let (store, view) = (&self.store, &*self.match_view);
        let (shared_view, shared_metrics) = (self.match_view.clone(), self.metrics.clone());
        if req.dry_run {
            // A dry run changes nothing and stores nothing: it solves from the matching view
            // without the writer gate, so a long solve holds up no writer; a client that
            // gives up stops it.
            let response = call
                .read_only(store, || {
                    stoppable(move |stop| {
                        dry_run_proposal(&shared_view, &shared_metrics, &capabilities, hypothetical, stop)
                    })
                })
                .await?;
            return Ok(Response::new(response));
        }
        // Solved off the gate too (a client that gives up stops it), staged unseen in
        // bounded batches and made visible by one commit (stored_proposal.rs), so no
        // writer waits for the solve or for a landing of the whole proposal.
        if let Some(answer) = call.replay(store).await? {
            return Ok(Response::new(answer));
        }
        let turn = self.match_view.take_turn().await;
        let recording = self.match_view.record();
        let now = now_micros();
        let filter = capabilities.clone();
        let solved =
            stoppable(move |stop| solve(&shared_view, &shared_metrics, &filter, Vec::new(), now, stop)).await?;
        // Carried through even if the client goes away meanwhile (nothing in staging
        // stops), so that what it staged is whole before the turn passes on (the next
        // proposal then removes it, unrevealed); on a thread of its own, at the solves'
        // lower priority.
        let (shared_store, staging_actor) = (store.clone(), actor.clone());
        let (turn, staged) = stoppable(move |_| {
            let staged = stored_proposal::stage(&shared_store, solved, &capabilities, &staging_actor);
            Ok((turn, staged))
        })
        .await?;
        let staged = staged?;
        if let Some(delay) = self.reveal_delay {
            tokio::time::sleep(delay).await;
        }
        let response = call.commit(store, |_, ws, now| stored_proposal::reveal(view, ws, staged, &actor, now)).await?;
        drop(recording);
        drop(turn);
        Ok(Response::new(response))
    }

    async fn get_match(&self, req: Request<pb::GetMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let caller = caller(&req)?;
        no_centres(&caller)?;
        let id = parse_id(Kind::Match, &req.get_ref().id)?;
        Ok(Response::new(convert::match_to_proto(&readable_match(&self.store, &caller, id)?)))
    }

    async fn list_matches(
        &self,
        req: Request<pb::ListMatchesRequest>,
    ) -> Result<Response<pb::ListMatchesResponse>, Status> {
        let caller = caller(&req)?;
        no_centres(&caller)?;
        let req = req.into_inner();
        let mut v = Violations::default();
        let state = (req.state != 0).then(|| v.enum_value("state", req.state, convert::match_state_from)).flatten();
        let need = if req.need_id.is_empty() {
            None
        } else {
            match Id::parse(Kind::Need, &req.need_id) {
                Some(id) => Some(id),
                None => {
                    v.add("need_id", "is not a need id");
                    None
                }
            }
        };
        v.finish(())?;
        let scope = format!("ListMatches|{}|{}", req.state, req.need_id);
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, &scope, &caller)?;
        let store = &self.store;
        // One need's matches come from its index (need id ++ match id, in match id order),
        // not from a scan of every match.
        let matches: Box<dyn Iterator<Item = crate::store::StoreResult<Match>>> = match need {
            Some(n) => {
                let after = pager.after_id().map_or(0, |a| a.0);
                let ids = store.matches_of_need(n)?;
                Box::new(ids.into_iter().filter(move |m| m.0 > after).filter_map(|m| store.get::<Match>(m).transpose()))
            }
            None => Box::new(store.scan::<Match>(pager.after_id())),
        };
        let (matches, next_page_token) = pager.page(
            &self.store,
            matches,
            |m| m.meta.id.0,
            |m| {
                caller.can_read_match(m) && state.is_none_or(|s| m.state == s) && need.is_none_or(|n| m.terms.need == n)
            },
        )?;
        Ok(Response::new(pb::ListMatchesResponse {
            matches: matches.iter().map(convert::match_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn approve_match(
        &self,
        req: Request<pb::ApproveMatchRequest>,
    ) -> Result<Response<pb::ApproveMatchResponse>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "ApproveMatch", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("comment", &req.comment, 0, convert::limits::MAX_NOTE_CHARS, true);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Match, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let response = call
            .commit(store, |w, ws, now| {
                let m = proposed_match(store, &caller, id, &req.etag)?;
                let seating = seating(store, m.terms.need, &m.offers(), m.terms.recipient)?;
                let new_id = || w.allocate_id(Kind::Arrangement);
                match commands::approve(m, seating, new_id, now, &actor, &req.comment)? {
                    Approval::Approved { changes, approved, arrangements } => {
                        store_changes(ws, changes, now, &actor);
                        Ok(pb::ApproveMatchResponse {
                            r#match: Some(convert::match_to_proto(&approved)),
                            arrangements: arrangements.iter().map(convert::arrangement_to_proto).collect(),
                        })
                    }
                    // The match turned STALE: stored with the refusal, in one landing.
                    Approval::Stale { changes, refusal } => {
                        store_changes(ws, changes, now, &actor);
                        ws.commit_even_if_refused();
                        Err(refusal.into())
                    }
                }
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn reject_match(&self, req: Request<pb::RejectMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "RejectMatch", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("reason", &req.reason, 0, convert::limits::MAX_NOTE_CHARS, true);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Match, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let m = call
            .commit(store, |_, ws, now| {
                let m = proposed_match(store, &caller, id, &req.etag)?;
                let (m, changes) = commands::reject(m, now, &actor, &req.reason);
                store_changes(ws, changes, now, &actor);
                Ok(convert::match_to_proto(&m))
            })
            .await?;
        Ok(Response::new(m))
    }

    async fn explain_need(
        &self,
        req: Request<pb::ExplainNeedRequest>,
    ) -> Result<Response<pb::ExplainNeedResponse>, Status> {
        let caller = caller(&req)?;
        no_centres(&caller)?;
        let id = parse_id(Kind::Need, &req.get_ref().need_id)?;
        let need =
            self.store.get::<Need>(id)?.filter(|n| caller.can_read_need(n)).ok_or_else(|| not_found(Kind::Need, id))?;
        let (view, store) = (&self.match_view, &self.store);
        // A state learns nothing of offers it may not read (see MatchView::explain).
        let explained = off_the_reactor(|| {
            let readable = readable_offers(store, view, &caller, need.meta.id)?;
            view.explain(need.meta.id, day(now_micros()), readable.as_ref())
        })?;
        let Some((explained, unreadable_offers)) = explained else { return Err(not_found(Kind::Need, id).into()) };
        let candidates = explained
            .into_iter()
            .map(|c| pb::Candidate {
                offer_id: c.offer_id,
                compatible: c.compatible,
                blockers: c.blockers,
                remaining_capacity: c.remaining_capacity,
            })
            .collect();
        Ok(Response::new(pb::ExplainNeedResponse { candidates, unreadable_offers }))
    }
}
